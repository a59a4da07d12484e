"""Raw weather files -> weather_hourly, weather_national_hourly, weather_daily (+ quarantine, report).

The tables are a function of every raw file landed (forecast issues, archive days, the observation
file): as for OWID (:mod:`datalake.pipelines.kept_rows`), a run parses only the raw partitions
changed since its last success, keeps their parsed rows in the job's state folder, and computes
the tables from the rows of every partition, just parsed or kept: the tables of a full run, row for
row; only the partitions whose rows differ are rewritten.

One row per (hour, location, kind, issue, source) is kept: the newest extraction (an archive day
fetched again, the same file landed again). Counts, over the rows this run parsed:
``rows_in == rows_out + rows_quarantined``; a row is an hour of an Open-Meteo document, a data line
of the observation file, or a file that could not be read. Quarantined under
``quarantine/weather_hourly/`` with its reason: a rejected line of the file (its line number and
text), an hour whose stamp cannot be read, a value outside its physical range, a superseded
extraction; files that cannot be read go to ``quarantine/weather_unreadable/``. The file's repeated
hours (identical measurements, see ../shared/data/SOURCES.md) are merged when it is read and
counted in ``details["file_duplicates_merged"]`` by ``datalake ingest weather-csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from datalake.datasets.weather import WEATHER_DAILY, WEATHER_HOURLY, WEATHER_NATIONAL_HOURLY
from datalake.pipelines.kept_rows import (
    NEW,
    drop_unreferenced_state,
    keep_parsed,
    kept_parsed,
    parse_changed,
    plan_kept_run,
    publish_tables,
)
from datalake.pipelines.processing import RAW_PARTITION, Progress, quarantine_counted
from datalake.runs import RunReport
from datalake.storage.base import ObjectStore
from datalake.transforms import quality
from datalake.transforms import weather as transforms
from datalake.weather.locations import configured_locations

#: What makes one row of ``weather_hourly`` (``issued_at`` empty on observations).
ROW_KEY = ["ts_utc", "location", "kind", "issued_at", "source"]
UNREADABLE = "weather_unreadable"
_QUARANTINE = ("path", "line", "raw_record", quality.REASON)


def describe(report: RunReport) -> str:
    """One line saying what a run did."""
    d = report.details
    return (
        f"weather: {report.rows_in:,} row(s) parsed from {d.get('files', 0):,} file(s); weather_hourly "
        f"{d.get('weather_hourly_rows', 0):,} rows ({d.get('locations', 0)} locations, "
        f"{d.get('forecast_issues', 0):,} forecast issue(s)), weather_national_hourly "
        f"{d.get('weather_national_hourly_rows', 0):,} rows, weather_daily "
        f"{d.get('weather_daily_rows', 0):,} days; {report.rows_quarantined:,} row(s) quarantined"
    )


def process_raw_weather(
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    progress: Progress | None = None,
    *,
    full: bool = False,
    weather_locations: str | None = None,
) -> RunReport:
    """Build the weather tables from the raw files under ``raw_prefix`` changed since the last success.

    The ``process`` of the ``weather`` source (:class:`~datalake.sources.registry.SourceSpec`).

    Parameters
    ----------
    spark
        Glue's session, or ``local[*]`` here: its executors parse the files and compute each
        partition with the pandas functions of :mod:`datalake.weather.frames`.
    store
        Where raw, the kept rows (``_state/``), the tables and the quarantine are.
    raw_prefix
        ``raw/weather``, or one of its folders.
    report
        Filled with the counts and the tables' figures; its ``job`` names the ledger.
    progress
        Told the plan, each table published and, at the end, :func:`describe`'s line.
    full
        Parse every file again: the tables, the kept rows and the ledger are rebuilt from raw.
    weather_locations
        The ``WEATHER_LOCATIONS`` setting: the cities kept and their weights in the national series.

    Returns
    -------
    RunReport
        ``report`` (the module's docstring says what it counts).
    """
    locations = configured_locations(weather_locations)
    planned = plan_kept_run(store, report, raw_prefix, progress, full=full)
    if planned is None:
        return report
    ledger, plan = planned
    with report.timed("read"):
        parse = partial(transforms.files_to_rows, locations=locations)
        parsed = parse_changed(spark, store, raw_prefix, plan, parse, transforms.PARSED).cache()
        readable = F.col("ts_utc").isNotNull() | F.col("line").isNotNull()
        # One job for the rows, the files and the unreadable rows' reasons (each job has a fixed cost).
        per_file = (
            parsed.groupBy(
                "path",
                (~readable).alias("_unreadable"),
                F.when(~readable, F.col(transforms.PROBLEM)).alias("_why"),
            )
            .count()
            .collect()
        )
        report.rows_in = sum(row["count"] for row in per_file)
        report.details["files"] = len({row["path"] for row in per_file})
        unreadable_counts: dict[str | None, int] = {}
        for row in per_file:
            if row["_unreadable"]:
                unreadable_counts[row["_why"]] = unreadable_counts.get(row["_why"], 0) + row["count"]
        state = keep_parsed(
            store, parsed.filter(readable & F.col(transforms.PROBLEM).isNull()), report, raw_prefix, plan
        )
        kept = kept_parsed(spark, store, ledger, plan, transforms.PARSED)
        rows = parsed.filter(readable).drop(RAW_PARTITION).withColumn(NEW, F.lit(True))
        if kept is not None:
            rows = rows.unionByName(kept.withColumn(NEW, F.lit(False)))
    with report.timed("transform+write"):
        verdict = quality.judge(
            rows,
            WEATHER_HOURLY,
            ROW_KEY,
            "extracted_at",
            tiebreak=("path", "line"),
            problem=transforms.PROBLEM,
        ).cache()
        latest = verdict.filter(F.col(quality.REASON).isNull())
        hourly = transforms.weather_hourly(latest).cache()
        national = transforms.national_rows(hourly, locations)
        daily = transforms.daily_rows(hourly)
        # The three tables are compared with what is published by one job, not one per table.
        published = publish_tables(
            spark,
            store,
            [(WEATHER_HOURLY, hourly), (WEATHER_NATIONAL_HOURLY, national), (WEATHER_DAILY, daily)],
            progress,
        )
        for table in published:
            report.keys_written += table.keys
        facts = hourly.agg(
            F.countDistinct("location").alias("locations"),
            F.countDistinct(F.when(F.col("kind") == "forecast", F.col("issued_at"))).alias("issues"),
        ).first()
        report.details.update(
            weather_hourly_rows=published[0].rows,
            locations=facts["locations"],
            forecast_issues=facts["issues"],
            weather_national_hourly_rows=published[1].rows,
            weather_daily_rows=published[2].rows,
        )
        # This run's rows in the table (reason null) and quarantined (by reason), by one job.
        verdicts = {
            row[quality.REASON]: row["count"]
            for row in verdict.filter(F.col(NEW)).groupBy(quality.REASON).count().collect()
        }
        report.rows_out = verdicts.pop(None, 0)
        bad = verdict.filter(F.col(NEW) & F.col(quality.REASON).isNotNull()).select(*_QUARANTINE)
        quarantine_counted(bad, WEATHER_HOURLY.name, store, report, WEATHER_HOURLY.name, counts=verdicts)
        unreadable = parsed.filter(~readable).withColumnRenamed(transforms.PROBLEM, quality.REASON)
        quarantine_counted(
            unreadable.select(*_QUARANTINE), UNREADABLE, store, report, "unreadable", counts=unreadable_counts
        )
        verdict.unpersist()
        hourly.unpersist()
    parsed.unpersist()
    # Only now, with every table published: a run that died before this leaves the ledger as it was.
    ledger.commit(store, plan, state)
    drop_unreferenced_state(store, report.job, raw_prefix, ledger)
    if progress:
        progress(describe(report))
    return report


def summary_lines(report: RunReport) -> Sequence[str]:
    """The observation file's landing, for people: counts with their reasons."""
    d = report.details
    lines = [
        f"weather-csv {d.get('file')}: {report.rows_in:,} data line(s): {report.rows_out:,} hour(s) accepted "
        f"for {d.get('locations', 0)} location(s) ({d.get('first_hour')} .. {d.get('last_hour')}), "
        f"{report.rows_quarantined:,} rejected, {d.get('file_duplicates_merged', 0):,} repeated hour(s) "
        "merged",
        f"  landed at {d.get('key')}; the rejected lines go to quarantine/weather_hourly/ with their reasons "
        "when `datalake transform weather` runs",
    ]
    lines += [f"  rejected: {reason}: {count:,}" for reason, count in sorted(d.get("rejected", {}).items())]
    lines += [
        f"  blanked (impossible values): {column}: {n:,}"
        for column, n in sorted(d.get("values_blanked", {}).items())
    ]
    return lines
