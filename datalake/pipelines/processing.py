"""Typed rows -> processed tables (checked, deduplicated) + quarantine + run report, for every source.

Incremental runs of the document sources (REE, ENTSO-E). Raw is partitioned by the day the
data is about; the processed tables by the Madrid month or year of ``local_date``, so one
processed partition holds rows of many raw days, and a Madrid day can take rows from the raw
day before or after it (UTC offsets, 23- and 25-hour days, the same hour in two files or two
formats, deduplicated by ``extracted_at``). A run therefore recomputes whole Madrid days:

- the days to recompute are those within ``reach_days`` of a raw partition that is new,
  changed or gone since the last successful run (:mod:`datalake.pipelines.ledger`);
- every raw partition that can hold a value of those days (within ``reach_days`` of one) is
  read, so each recomputed day sees every copy of every key a full run would see, and the
  newest extraction wins as it would there;
- the processed partitions those days fall in are rewritten with the recomputed rows of those
  days plus their current rows of every other day (carried over unchanged), and a partition
  left with no rows is removed; a day whose raw partitions are all gone loses its rows.

Shared tables: sources share processed tables (REE and ENTSO-E both write ``demand_hourly``;
raw/ree and raw/ree_sample both feed REE's). A run owns only the rows whose owner column holds
its raw prefix's values (:class:`~datalake.sources.registry.RowOwnership`, from the source's
``owned_values``): it replaces its own rows of the recomputed days and keeps every other row of
the partitions it rewrites, unchanged, so a run of one source never deletes another's rows, and
the tables equal full runs of every source in any order. A row a run builds with a value it does
not own is quarantined (its owner's runs would not see it), in full runs too.

The carried rows are what the previous runs published, and by the same argument those equal a
full run over raw as it was; their raw has not changed since (the ledger says so), so the
result is row for row what a full run over today's raw gives. A value whose Madrid day is more
than ``reach_days`` from its raw partition's day (or in a file outside ``year=/month=/day=``)
could not be recomputed this way: it is quarantined, in full runs too, so both agree.

Quarantine: an incremental run quarantines the bad rows of the days it recomputed (and of the
unreadable files it read), which are exactly the full run's quarantined rows for those days;
the same bad row is quarantined again by each run that recomputes its day, so quarantine files
summed over incremental runs count a row once per run that saw it, and the latest run that
recomputed a day holds the full run's answer for it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from datalake.datasets.spec import DatasetSpec
from datalake.jobs import delete_processed_partitions, read_processed, write_processed, write_quarantine
from datalake.pipelines.ledger import Ledger, RunPlan, list_raw_partitions, plan_run
from datalake.runs import RunReport
from datalake.sources.registry import RowOwnership
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key, parse_partition
from datalake.transforms import quality
from datalake.transforms.documents import local_date, read_documents

Progress = Callable[[str], None]
#: Values (one row per flattened raw value) -> typed rows of one dataset.
RowBuilder = Callable[[DataFrame], DataFrame]
#: Raw day D holds values of Madrid day D (REE's raw writer refuses others; ENTSO-E lands a file
#: per Madrid day); one day either side also covers a source that files by the UTC day.
READ_REACH_DAYS = 1
_PROBLEM = "problem"
#: The column naming each row's raw partition (:func:`with_raw_partition`).
RAW_PARTITION = quality.RAW_PARTITION
_DOCUMENTS = T.StructType(
    [
        T.StructField("path", T.StringType()),
        T.StructField("content", T.StringType()),
        T.StructField("extracted_at", T.TimestampType()),
    ]
)


@dataclass(frozen=True)
class Recompute:
    """The Madrid days a run rebuilds from raw, and the rows it owns (None: every row).

    It replaces its own rows of those days; every other row of the partitions it rewrites is
    carried over.
    """

    spark: SparkSession
    days: frozenset[dt.date]
    owner: RowOwnership | None = None


def read_current(spark: SparkSession, store: ObjectStore, spec: DatasetSpec) -> DataFrame | None:
    """The rows the processed table of ``spec`` holds now (data and partition columns), or None.

    The one place the jobs read processed data back (the energy company's merge, the carry-over):
    the published folders the catalog points at (:func:`datalake.jobs.read_processed`).
    """
    current = read_processed(spark, spec, store)
    if current is None:
        return None
    return current.select(
        *spec.column_names, *(F.col(p.name).cast(p.type).alias(p.name) for p in spec.partition_by)
    )


def spark_uri(store: ObjectStore, key: str) -> str:
    """The URI of a key or prefix as Spark's readers and writers take it.

    ``store.uri`` of a key quotes ``=`` (``year%3D2024``), which Hadoop paths take literally;
    the store's root URI with the key appended as it is names the right object.
    """
    return f"{store.uri().rstrip('/')}/{join_key(key)}"


def partition_of(spec: DatasetSpec, day: dt.date) -> tuple[tuple[str, int], ...]:
    """The processed partition of ``spec`` that a day's rows fall in: ``(("year", 2024), ...)``.

    The day is the value of the spec's ``partition_source`` column (``local_date``, the Madrid day,
    for the energy time series).
    """
    if spec.partition_source is None or not {p.name for p in spec.partition_by} <= {"year", "month", "day"}:
        raise ValueError(
            f"{spec.name}: incremental runs need partitions of year/month/day from a date column "
            f"(partition_source is {spec.partition_source!r})"
        )
    fields = {"year": day.year, "month": day.month, "day": day.day}
    return tuple((p.name, fields[p.name]) for p in spec.partition_by)


def owned(owner: RowOwnership | None) -> F.Column:
    """True on the rows ``owner`` owns (every row when None); never null."""
    if owner is None:
        return F.lit(True)
    return F.coalesce(F.col(owner.column).isin(list(owner.values)), F.lit(False))


def ownership_check(owner: RowOwnership) -> quality.ParseCheck:
    """The quarantine check of a row built with an owner value its raw prefix does not own."""
    message = F.format_string(
        f"{owner.column} %s is not what {owner.raw_prefix} holds ({', '.join(owner.values)})",
        F.col(owner.column),
    )
    return owner.column, F.col(owner.column).isNotNull() & ~owned(owner), message


def _publish(
    rows: DataFrame, spec: DatasetSpec, store: ObjectStore, recompute: Recompute, progress: Progress | None
) -> tuple[list[str], int, int]:
    """Rewrite the partitions of the recomputed days: their new rows plus every current row the run
    does not replace (its own rows of other days; every row it does not own).

    Returns (keys written, own rows carried over, rows of other owners kept). Partitions left with
    no row are removed.
    """
    names = [p.name for p in spec.partition_by]
    touched = sorted({partition_of(spec, day) for day in recompute.days})
    frame = rows.select(*spec.column_names, *names)
    carried_count = kept_count = 0
    current = read_current(recompute.spark, store, spec)
    if current is not None and touched:
        spark = recompute.spark
        partitions = spark.createDataFrame([tuple(v for _n, v in t) for t in touched], names)
        day_column = spec.partition_source or "local_date"
        days = spark.createDataFrame([(d, True) for d in sorted(recompute.days)], [day_column, "_recomputed"])
        mine = owned(recompute.owner)
        carried = (
            current.join(F.broadcast(partitions), names, "left_semi")
            .join(F.broadcast(days), day_column, "left")
            .filter(~(mine & F.col("_recomputed").isNotNull()))
            .withColumn("_mine", mine)
        )
        carried = carried.select(*spec.column_names, *names, "_mine").cache()
        counts = {row["_mine"]: row["count"] for row in carried.groupBy("_mine").count().collect()}
        carried_count, kept_count = counts.get(True, 0), counts.get(False, 0)
        frame = frame.unionByName(carried.drop("_mine"))
    try:
        keys = write_processed(frame, spec, store, progress)
    finally:
        if current is not None and touched:
            carried.unpersist()
    # The partitions that still hold rows are those the run wrote files in.
    present = {tuple((name, int(parse_partition(key)[name])) for name in names) for key in keys}
    emptied = [dict(t) for t in touched if t not in present]
    for path in delete_processed_partitions(spec, store, emptied):
        if progress:
            progress(f"{spec.name}/{path}: removed (no rows left)")
    return keys, carried_count, kept_count


def quarantine_counted(
    frame: DataFrame,
    folder: str,
    store: ObjectStore,
    report: RunReport,
    label: str = "",
    *,
    counts: Mapping[str, int] | None = None,
) -> int:
    """Write rows to ``quarantine/<folder>/``; count them and their reasons (``label: reason``).

    ``counts`` (rows per reason), when the caller already has them from an aggregate of its own,
    spares the pass that counts ``frame``: each Spark job has a fixed cost that dominates small runs.
    Returns the rows quarantined (also added to ``report.rows_quarantined``).
    """
    if counts is None:
        rows_by_reason = frame.groupBy(quality.REASON).count().collect()
        counts = {row[quality.REASON]: int(row["count"]) for row in rows_by_reason}
    # In Spark's order of the reasons (nulls first; UTF-8 byte order is code point order).
    ordered = sorted(counts.items(), key=lambda item: (item[0] is not None, item[0] or ""))
    counts = {reason: n for reason, n in ordered if n}
    rows = sum(counts.values())
    key = write_quarantine(frame, folder, store, report.run_id, rows)
    if key is None:
        return 0
    report.keys_written.append(key)
    report.rows_quarantined += rows
    reasons = report.details.setdefault("quarantine_reasons", {})
    for reason, count in counts.items():
        reasons[f"{label}: {reason}" if label else reason] = count
    return rows


def finish_dataset(
    typed: DataFrame,
    spec: DatasetSpec,
    store: ObjectStore,
    report: RunReport,
    progress: Progress | None = None,
    recompute: Recompute | None = None,
    record: quality.RawRecord | None = None,
) -> tuple[int, int]:
    """Check, deduplicate and write typed rows of one dataset; returns (rows out, quarantined).

    ``typed`` has the spec's columns, its partition columns and ``raw_record`` (or, given
    ``record``, its pieces), and may have ``problem`` (a reason found while parsing). Rows with a
    problem or breaking a rule, and superseded revisions, go to quarantine with their reason; the
    rest replace the partitions they touch, or, given ``recompute``, the partitions of its days
    (carrying their other days' current rows over, see the module's docstring). Given ``recompute.owner``,
    rows with an owner value it does not own are quarantined, and rows of other owners are kept.
    """
    if "problem" not in typed.columns:
        typed = typed.withColumn("problem", F.lit(None).cast("string"))
    owner = recompute.owner if recompute is not None else None
    checks = [ownership_check(owner)] if owner is not None else []
    # One cached copy of the rows with their verdicts: the write and the quarantine both read it.
    judged = quality.judge(
        typed,
        spec,
        list(spec.primary_key),
        "extracted_at",
        checks=checks,
        tiebreak=("raw_record",) if record is None else record.pieces,
        problem="problem",
    )
    # The kept rows need no raw text (at most their tiebreak): the cached copy holds it only for
    # the rows going to quarantine, which keeps a ten-year backfill's copy in memory.
    text = quality.raw_text(record)
    dropped = {"raw_record", quality.REASON, *(record.pieces if record is not None else ())}
    judged = judged.select(
        *(c for c in judged.columns if c not in dropped),
        F.when(F.col(quality.REASON).isNotNull(), text).alias("raw_record"),
        quality.REASON,
    ).persist(StorageLevel.MEMORY_AND_DISK)
    latest = judged.filter(F.col(quality.REASON).isNull()).drop(quality.REASON, "raw_record")
    quarantined = judged.filter(F.col(quality.REASON).isNotNull())
    try:
        if recompute is None:
            keys, carried, kept = write_processed(latest, spec, store, progress), 0, 0
        else:
            keys, carried, kept = _publish(latest, spec, store, recompute, progress)
        counted = judged.groupBy(quality.REASON).count().collect()
        verdicts = {row[quality.REASON]: row["count"] for row in counted}
        rows_out = verdicts.pop(None, 0)
        rows_quarantined = sum(verdicts.values())
        quarantine_key = write_quarantine(quarantined, spec.name, store, report.run_id, rows_quarantined)
    finally:
        judged.unpersist()
    report.keys_written += keys + ([quarantine_key] if quarantine_key else [])
    if rows_quarantined:
        report.details.setdefault("quarantine_reasons", {}).update(
            {f"{spec.name}: {reason}": count for reason, count in verdicts.items()}
        )
    report.details[f"{spec.name}_rows_out"] = rows_out
    if recompute is not None:
        report.details[f"{spec.name}_rows_carried_over"] = carried
    if owner is not None:
        report.details[f"{spec.name}_rows_of_other_owners_kept"] = kept
    return rows_out, rows_quarantined


def with_raw_partition(frame: DataFrame, raw_prefix: str) -> DataFrame:
    """Add ``_raw_partition``: the ledger's name of each row's raw partition (from ``path``).

    Spark's ``path`` is a URI (a space is ``%20``): the folder is decoded by Spark, per row, with
    no collect and no literal per folder (ten years of daily folders made a map of thousands of
    literals that every plan carried). ``+`` is kept: in a URI path it is a plus, not a space.
    """
    folder = F.regexp_extract("path", rf"/{re.escape(join_key(raw_prefix))}/(?:(.*)/)?[^/]*$", 1)
    return frame.withColumn(RAW_PARTITION, F.url_decode(F.regexp_replace(folder, r"\+", "%2B")))


def _around(days: set[dt.date], reach: int) -> set[dt.date]:
    return {day + dt.timedelta(days=n) for day in days for n in range(-reach, reach + 1)}


def _scoped(
    values: DataFrame,
    raw_prefix: str,
    plan: RunPlan,
    days: set[dt.date],
    reach: int,
    on: F.Column,
) -> DataFrame:
    """The values the run recomputes: those of its days, and the day-less ones of changed partitions.

    A value more than ``reach`` days from its raw partition's day, or in a folder that is not
    a day, gets a ``problem`` (quarantined): no run could rebuild its day from the right files.
    """
    ymd = [F.regexp_extract("path", r"/year=(\d{4})/month=(\d{2})/day=(\d{2})/", i) for i in (1, 2, 3)]
    raw_day = F.when(ymd[0] != "", F.make_date(*(part.cast("int") for part in ymd)))
    home = F.when(F.abs(F.datediff(on, raw_day)) <= reach, on)
    undated = "raw file is not under year=/month=/day=/ (the day its data is about)"
    misfiled = F.when(raw_day.isNull(), F.lit(undated)).otherwise(
        F.format_string(
            f"the value's day %s is more than {reach} day(s) from its raw partition's day %s",
            on.cast("string"),
            raw_day.cast("string"),
        )
    )
    values = with_raw_partition(values.withColumn("_home", home), raw_prefix).withColumn(
        _PROBLEM,
        F.when(F.col(_PROBLEM).isNull() & on.isNotNull() & F.col("_home").isNull(), misfiled).otherwise(
            F.col(_PROBLEM)
        ),
    )
    if plan.mode == "incremental":
        changed = sorted(plan.changed)
        values = values.filter(
            F.col("_home").isin(sorted(days)) | (F.col("_home").isNull() & F.col(RAW_PARTITION).isin(changed))
        )
    return values.drop(RAW_PARTITION, "_home")


def process_documents(
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    *,
    pattern: str,
    flatten: Callable[[DataFrame], DataFrame],
    builders: list[tuple[RowBuilder, DatasetSpec]],
    unreadable: RowBuilder,
    problem_source: str,
    progress: Progress | None = None,
    full: bool = False,
    reach_days: int = READ_REACH_DAYS,
    value_day: Callable[[DataFrame], F.Column] | None = None,
    owner: RowOwnership | None = None,
    record: quality.RawRecord | None = None,
) -> RunReport:
    """Process the raw files under ``raw_prefix`` that changed since the last successful run.

    Parameters
    ----------
    spark, store
        The session and the lake's object store.
    raw_prefix
        ``raw/ree_sample``, ``raw/entsoe``, ...
    report
        The run report to fill; ``report.job`` names the ledger.
    pattern
        The raw files' names (``*.json``).
    flatten
        Documents (``path``, ``content``, ``extracted_at``) -> one row per value, with ``path``,
        ``ts_utc`` and ``problem``.
    builders
        Per processed dataset, values -> its typed rows.
    unreadable
        Values -> the rows of files that belong to no dataset, for quarantine.
    problem_source
        Unreadable files are quarantined under ``quarantine/<problem_source>/``.
    progress
        Called with a line per partition written.
    full
        Ignore the ledger: read every raw file, recompute every day, write the ledger again.
    reach_days
        How far (in days) from its raw partition's day a value's day may fall.
    value_day
        Flattened values -> the day each is about (a date column), which the run recomputes by
        and the datasets' ``partition_source`` holds; None: the Madrid day of ``ts_utc``.
    owner
        The rows of the processed tables this raw prefix's runs own (the tables are shared with
        other prefixes or sources); None: every row.
    record
        How the builders' and unreadable rows carry ``raw_record`` as pieces (written as text for
        quarantined rows only); None: they carry the text.

    Returns
    -------
    RunReport
        ``report``, filled: ``rows_in`` counts the flattened values of the recomputed days (one
        per file that could not be read at all), each in a processed table or in quarantine, so
        ``rows_in == rows_out + rows_quarantined``; ``details`` says the mode and the raw
        partitions changed, deleted, read and skipped.
    """
    ledger = Ledger.load(store, report.job, raw_prefix)
    plan = plan_run(ledger, list_raw_partitions(store, raw_prefix, pattern), full=full)
    days = _around(plan.affected_days, reach_days)
    near = _around(days, reach_days)
    read = sorted(
        name
        for name, partition in plan.partitions.items()
        if name in plan.changed or (partition.day is not None and partition.day in near)
    )
    report.details.update(plan.details(read), days_recomputed=len(days))
    if progress:
        progress(
            f"{plan.mode} run ({plan.reason}): {len(plan.changed)} raw partition(s) changed, "
            f"{len(plan.deleted)} gone, {len(read)} read, {len(days)} day(s) recomputed"
        )
    if not read and not days:
        if plan.mode == "full":
            ledger.commit(store, plan)
        return report
    with report.timed("read"):
        if plan.mode == "full":
            documents = read_documents(spark, store.uri(raw_prefix), pattern)
        elif read:
            keys = [key for name in read for key in plan.partitions[name].keys]
            documents = read_documents(spark, [spark_uri(store, key) for key in keys], pattern)
        else:  # only deletions: the days lose their rows, nothing is left to read
            documents = spark.createDataFrame([], _DOCUMENTS)
        flattened = flatten(documents)
        on = value_day(flattened) if value_day is not None else local_date()
        values = _scoped(flattened, raw_prefix, plan, days, reach_days, on).cache()
        counted = values.agg(F.count(F.lit(1)).alias("rows"), F.countDistinct("path").alias("files")).first()
        report.rows_in, report.details["files"] = counted["rows"], counted["files"]
    recompute = Recompute(spark, frozenset(days), owner)
    with report.timed("transform+write"):
        out = quarantined = 0
        for build, spec in builders:
            written, bad = finish_dataset(build(values), spec, store, report, progress, recompute, record)
            out, quarantined = out + written, quarantined + bad
        stray = unreadable(values).select(
            F.col("problem").alias(quality.REASON),
            F.col("path"),
            quality.raw_text(record).alias("raw_record"),
        )
        quarantine_counted(stray, problem_source, store, report, problem_source)
        report.rows_out = out
        report.rows_quarantined += quarantined
    values.unpersist()
    # Only now, with every table published: a run that died before this leaves the ledger as it was.
    ledger.commit(store, plan)
    return report
