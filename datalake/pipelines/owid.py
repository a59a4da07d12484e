"""Raw OWID files -> world_energy, world_energy_indicators, world_energy_codebook (+ quarantine, report).

Every OWID drop is a snapshot of the whole dataset (or of its codebook), and the tables are a
function of every drop landed: a (country, year) row, or a codebook entry, comes from the newest
drop holding it (by landing day, then, between drops of one day, the one whose data reaches the
later year). So a newer vintage replaces each row it has, and a row it lacks (a region OWID
dropped, a partial drop) stays as the older drop gave it: an upsert, never a replace of the whole
table; ``landed_on`` says which drop each row comes from. Revisions of one row never mix values of
two vintages.

As for the energy company and TMDB (:mod:`datalake.pipelines.kept_rows`), a run parses only the
raw partitions changed since its last success, keeps their parsed rows in the job's state
folder, and computes the tables from the rows of every partition, just parsed or kept: the tables
of a full run, row for row; only the tables whose rows differ are rewritten.

Counts (``rows_in == rows_out + rows_quarantined`` over the rows this run parsed): a row is a data
row of the energy file, a row of the codebook, or a file that could not be read at all. It is in
the tables (``rows_out``) or quarantined under ``quarantine/owid/`` with its reason (a bad year, no
country, a cell count other than the header's, a repeat of a line of the same file, a codebook
unit that contradicts the column's name, superseded by a newer drop, an unreadable file). Values
are checked one by one: a value that is not a number or breaks its column's range is null in
``world_energy`` and goes to ``quarantine/owid/world_energy_values/`` with its reason, and
``details["values"]`` counts them (``in == out + quarantined``) apart from the rows.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pyspark.sql import Column, DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from datalake.datasets.owid import (
    BY_NAME,
    QUARANTINE_FOLDERS,
    WORLD_ENERGY,
    WORLD_ENERGY_CODEBOOK,
    WORLD_ENERGY_INDICATORS,
)
from datalake.jobs import write_quarantine
from datalake.pipelines.kept_rows import (
    NEW,
    count_verdict,
    drop_unreferenced_state,
    keep_parsed,
    kept_parsed,
    plan_kept_run,
    publish_tables,
    spill,
)
from datalake.pipelines.ledger import RunPlan
from datalake.pipelines.processing import (
    RAW_PARTITION,
    Progress,
    quarantine_counted,
    spark_uri,
    with_raw_partition,
)
from datalake.runs import RunReport
from datalake.storage.base import ObjectStore
from datalake.transforms import owid as transforms
from datalake.transforms import quality
from datalake.transforms.documents import read_binary_documents
from datalake.transforms.expressions import sql_column, sql_count, sql_name

#: The parsed rows as kept between runs.
KEPT = T.StructType([*transforms.PARSED.fields, T.StructField("landed_on", T.DateType())])
QUARANTINE = QUARANTINE_FOLDERS
#: ``world_energy`` as judged row by row: its range rules on values are checked value by value
#: (:func:`datalake.transforms.owid.value_problem`), which leaves a bad value null, not the row out.
ROW_RULES = replace(
    WORLD_ENERGY,
    quality_rules=tuple(r for r in WORLD_ENERGY.quality_rules if r.column not in transforms.MINIMUM),
)
_ROW_QUARANTINE = ("path", "line_number", "raw_record", "landed_on", quality.REASON)
#: At most this many rejected files are named in a run report (the count is always there).
REPORTED_FILES = 200
#: The figures a run's summary quotes, per place: (indicator, label).
HEADLINE = (("primary_energy_consumption", "primary energy"), ("renewables_share_energy", "renewables"))
HEADLINE_PLACES = ("World", "Spain")


def _parse(spark: SparkSession, store: ObjectStore, raw_prefix: str, plan: RunPlan) -> DataFrame:
    """The :data:`KEPT` rows (plus ``_raw_partition``) of the files in the changed raw partitions."""
    keys = [key for name in sorted(plan.changed) for key in plan.partitions[name].keys]
    if not keys:
        empty = spark.createDataFrame([], KEPT)
        return empty.withColumn(RAW_PARTITION, F.lit(None).cast("string"))
    files = read_binary_documents(spark, [spark_uri(store, key) for key in keys])
    return with_raw_partition(transforms.files_to_rows(files).select(*KEPT.fieldNames()), raw_prefix)


def _report_files(parsed: DataFrame, report: RunReport) -> dict[str, int]:
    """Every file read is accepted (its rows typed) or rejected (one row, its reason), with header facts.

    Also sets ``report.rows_in`` and returns the unreadable rows per reason, from the same pass
    (a Spark job each would cost more than the counting: small runs are made of such jobs).
    """
    files = parsed.groupBy("path").agg(
        F.first("kind", ignorenulls=True).alias("kind"),
        F.first(F.when(F.col("kind").isNull(), F.col(transforms.PROBLEM)), ignorenulls=True).alias("why"),
        F.first("ignored_columns", ignorenulls=True).alias("ignored"),
        F.first("renamed_columns", ignorenulls=True).alias("renamed"),
        F.count(F.lit(1)).alias("rows"),
        F.count(F.when(F.col("kind").isNull(), 1)).alias("unreadable"),
    )
    rows = sorted(files.collect(), key=lambda row: row["path"])  # one row per file read
    report.rows_in = sum(r["rows"] for r in rows)
    # An unreadable file is one row (files_to_rows), so its rows share its reason.
    unreadable: dict[str, int] = {}
    for r in rows:
        if r["unreadable"]:
            unreadable[r["why"]] = unreadable.get(r["why"], 0) + r["unreadable"]
    rejected = [{"path": r["path"], "reason": r["why"]} for r in rows if r["kind"] is None]
    report.details["files"] = len(rows)
    report.details["files_accepted"] = len(rows) - len(rejected)
    report.details["files_rejected_count"] = len(rejected)
    report.details["files_rejected"] = rejected[:REPORTED_FILES]
    report.details["columns_ignored"] = {r["path"]: r["ignored"].split(",") for r in rows if r["ignored"]}
    report.details["columns_renamed"] = {r["path"]: r["renamed"].split(",") for r in rows if r["renamed"]}
    return unreadable


def _present() -> Column:
    """How many of a ``world_energy`` row's indicator values are there (not null)."""
    return sql_column(sql_count([f"{sql_name(i.column)} IS NOT NULL" for i in BY_NAME.values()]))


def _values(out: int, bad: DataFrame, store: ObjectStore, report: RunReport) -> None:
    """Count this run's values (``out`` in the table, the bad ones quarantined) and write the bad ones."""
    kinds = bad.groupBy(F.regexp_replace(quality.REASON, r" '.*'$", "").alias("kind")).count().collect()
    quarantined = sum(row["count"] for row in kinds)
    key = write_quarantine(bad, QUARANTINE["values"], store, report.run_id, quarantined)
    if key:
        report.keys_written.append(key)
    report.details["values"] = {"in": out + quarantined, "out": out, "quarantined": quarantined}
    report.details["value_quarantine_reasons"] = {
        row["kind"]: row["count"] for row in sorted(kinds, key=lambda r: r["kind"])
    }


def headline_columns() -> list[Column]:
    """Aggregates of ``world_energy``, one per place of :data:`HEADLINE_PLACES` (``_headline<i>``):
    the place's newest year with primary energy and its figures (null when it has none).

    Aggregates, not a query of their own, so the table's other facts come from the same pass.
    """
    primary = BY_NAME["primary_energy_consumption"].column
    figures = F.struct("year", *(BY_NAME[name].column for name, _label in HEADLINE))
    return [
        # (country, year) is the table's key: one row per place and year, so one newest.
        F.max_by(
            figures, F.when((F.col("country") == place) & F.col(primary).isNotNull(), F.col("year"))
        ).alias(f"_headline{i}")
        for i, place in enumerate(HEADLINE_PLACES)
    ]


def headline(facts: Row) -> dict[str, dict[str, Any]]:
    """Per place of :data:`HEADLINE_PLACES` with primary energy: its newest year and figures, from
    the aggregates of :func:`headline_columns`."""
    picked = {place: facts[f"_headline{i}"] for i, place in enumerate(HEADLINE_PLACES)}
    return {place: {"country": place, **row.asDict()} for place, row in picked.items() if row is not None}


def describe(report: RunReport) -> str:
    """One line saying what a run did, figures formatted with their units."""
    d = report.details
    values = d.get("values", {})
    line = (
        f"owid: {report.rows_in:,} row(s) read from {d.get('files', 0):,} file(s) "
        f"({d.get('files_rejected_count', 0):,} rejected); "
        f"world_energy {d.get('world_energy_rows', 0):,} rows "
        f"({d.get('places', 0):,} countries and regions, {d.get('aggregates', 0):,} of them aggregates"
        + (f", {d['years'][0]}-{d['years'][1]}" if d.get("years") else "")
        + f"), world_energy_indicators {d.get('world_energy_indicators_rows', 0):,} values, "
        f"codebook {d.get('world_energy_codebook_rows', 0):,} entries; {report.rows_quarantined:,} row(s) "
        f"and {values.get('quarantined', 0):,} value(s) quarantined"
    )
    for place, figures in sorted(d.get("headline", {}).items(), key=lambda item: item[0] != "World"):
        parts = []
        for name, label in HEADLINE:
            indicator = BY_NAME[name]
            value = figures.get(indicator.column)
            if value is not None:
                unit = indicator.unit.short
                parts.append(
                    f"{label} {value:,.1f} {unit}"
                    if unit != "%"
                    else f"{label} {value:.1f} % of primary energy"
                )
        line += f". {place} {figures['year']}: " + ", ".join(parts)
    return line


def _table_facts(world: DataFrame, report: RunReport) -> None:
    facts = world.agg(
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct("country").alias("places"),
        F.countDistinct(F.when(F.col("is_aggregate"), F.col("country"))).alias("aggregates"),
        F.min("year").alias("first"),
        F.max("year").alias("last"),
        *headline_columns(),
    ).first()
    report.details.update(
        world_energy_rows=facts["rows"],
        places=facts["places"],
        aggregates=facts["aggregates"],
        years=[facts["first"], facts["last"]] if facts["rows"] else None,
        headline=headline(facts),
    )


def process_raw_owid(
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    progress: Progress | None = None,
    *,
    full: bool = False,
) -> RunReport:
    """Build the OWID tables from the drops under ``raw_prefix`` changed since the last successful run.

    The ``process`` of the ``owid`` source (:class:`~datalake.sources.registry.SourceSpec`).

    Parameters
    ----------
    spark
        Glue's session, or ``local[*]`` here: its executors parse the files (``mapInPandas``).
    store
        Where raw, the kept rows (``_state/``), the tables and the quarantine are.
    raw_prefix
        ``raw/owid``, or one of its folders (``raw/owid/energy``).
    report
        Filled with the counts, the files read and rejected, the plan and the tables' figures;
        its ``job`` names the ledger.
    progress
        Told the plan, each table published and, at the end, :func:`describe`'s line.
    full
        Parse every drop again: the tables, the kept rows and the ledger are rebuilt from raw.

    Returns
    -------
    RunReport
        ``report`` (the module's docstring says what it counts).
    """
    planned = plan_kept_run(store, report, raw_prefix, progress, full=full)
    if planned is None:
        return report
    ledger, plan = planned
    with report.timed("read"):
        parsed = _parse(spark, store, raw_prefix, plan).cache()
        unreadable_counts = _report_files(parsed, report)
        # The rows of readable files are kept; an unreadable file is quarantined once, by this run.
        state = keep_parsed(store, parsed.filter(F.col("kind").isNotNull()), report, raw_prefix, plan)
        kept = kept_parsed(spark, store, ledger, plan, KEPT)
        rows = parsed.drop(RAW_PARTITION).withColumn(NEW, F.lit(True))
        if kept is not None:
            rows = rows.unionByName(kept.withColumn(NEW, F.lit(False)))
    with report.timed("transform+write"):
        typed, checks = transforms.energy_rows(rows, carry=(NEW,))
        typed = transforms.with_vintage(transforms.with_file_duplicates(typed))
        keys = list(WORLD_ENERGY.primary_key)
        verdict = quality.judge(
            typed,
            ROW_RULES,
            keys,
            "landed_on",
            checks=checks,
            tiebreak=("_older_vintage", "path", "line_number"),
            problem=transforms.PROBLEM,
        )
        # Written once and scanned several times (counts, tables, quarantines, values).
        verdict = spill(spark, store, verdict, report, raw_prefix, WORLD_ENERGY.name)
        energy = count_verdict(verdict, keys, report, WORLD_ENERGY.name, _present())
        latest = verdict.filter(F.col(quality.REASON).isNull())
        world = transforms.world_energy(latest)
        indicators = transforms.indicator_rows(world)

        book, book_checks = transforms.codebook_rows(rows, carry=(NEW,))
        book_verdict = quality.judge(
            book,
            WORLD_ENERGY_CODEBOOK,
            ["indicator"],
            "landed_on",
            checks=book_checks,
            tiebreak=("path", "line_number"),
            problem=transforms.PROBLEM,
        ).cache()
        book_outcome = count_verdict(book_verdict, ["indicator"], report, WORLD_ENERGY_CODEBOOK.name)
        codebook = transforms.codebook_table(book_verdict.filter(F.col(quality.REASON).isNull()))
        # The three tables are compared with what is published by one job, not one per table.
        published = publish_tables(
            spark,
            store,
            [(WORLD_ENERGY, world), (WORLD_ENERGY_INDICATORS, indicators), (WORLD_ENERGY_CODEBOOK, codebook)],
            progress,
        )
        for table in published:
            report.keys_written += table.keys
        _table_facts(world, report)
        report.details["world_energy_indicators_rows"] = published[1].rows
        report.details["world_energy_codebook_rows"] = published[2].rows
        unread = codebook.filter(F.col("column_name").isNull()).select("indicator").collect()
        report.details["codebook_columns_not_read"] = sorted(r["indicator"] for r in unread)

        new_out = latest.filter(F.col(NEW))
        # The bad values of the rows in the table (a quarantined row keeps its values in raw_record):
        # only the few rows energy_rows counted some in are looked at again.
        flagged = new_out.filter(F.col("bad_values") > 0).select("path", "line_number")
        bad = transforms.bad_values(
            rows.filter(F.col(NEW)).join(flagged, ["path", "line_number"], "left_semi")
        )
        _values(energy.values_out, bad, store, report)
        bad_rows = verdict.filter(F.col(NEW) & F.col(quality.REASON).isNotNull())
        quarantine_counted(
            bad_rows.select(*_ROW_QUARANTINE, "country", F.col("raw_year").alias("year")),
            QUARANTINE["energy"],
            store,
            report,
            WORLD_ENERGY.name,
            counts=energy.quarantined,
        )
        quarantine_counted(
            book_verdict.filter(F.col(NEW) & F.col(quality.REASON).isNotNull()).select(*_ROW_QUARANTINE),
            QUARANTINE["codebook"],
            store,
            report,
            WORLD_ENERGY_CODEBOOK.name,
            counts=book_outcome.quarantined,
        )
        book_verdict.unpersist()

        unreadable = parsed.filter(F.col("kind").isNull()).withColumnRenamed(
            transforms.PROBLEM, quality.REASON
        )
        quarantine_counted(
            unreadable.select(*_ROW_QUARANTINE),
            QUARANTINE["unreadable"],
            store,
            report,
            "unreadable",
            counts=unreadable_counts,
        )
        report.rows_out = energy.rows_out + book_outcome.rows_out
    parsed.unpersist()
    # Only now, with every table published: a run that died before this leaves the ledger as it was.
    ledger.commit(store, plan, state)
    drop_unreferenced_state(store, report.job, raw_prefix, ledger)
    if progress:
        progress(describe(report))
    return report
