"""Raw TMDB files -> the processed movie tables (+ quarantine, run report): the ``tmdb`` source's job.

The raw zone holds drops keyed by the day they were extracted or landed
(``raw/tmdb/movie/year=/month=/day=/*.jsonl``, ``raw/tmdb/kaggle/year=/month=/day=/*.csv``), and
a movie's newest extraction wins whatever day it landed: an extract of 2026-12-04 replaces the
same movie's backfill of 2026-11-01, a tombstone removes it, and a backfill chunk landed again
late must not bring back what a newer extract replaced. The tables are therefore a function of
every file ever landed, as the energy company's are, and the job works the same way
(:mod:`datalake.pipelines.kept_rows`): it parses only the raw partitions the ledger says changed,
keeps their parsed records (the valid ones, without their raw text) in a hidden state folder,
and computes the tables from every partition's records, just parsed or kept, which are the
records a full run parses: the same tables, row for row. The standard pipeline
(:func:`datalake.pipelines.processing.process_documents`) does not fit: it recomputes the
*days* its values are about and carries other days' rows over, so an older extraction of the
same movie in an unread partition would survive beside the newer one, and a tombstone could not
reach it. Re-reading every raw file each run would be correct too, but parses every extract of
a growing backfill again each day.

Counts (``rows_in == rows_out + rows_quarantined`` over the records this run parsed): each
record (an envelope line, a Kaggle movies or credits row, or a file that could not be read at
all) is either the newest of its movie and source (``rows_out``; ``details["tombstones_applied"]``
counts the ``gone`` ones, which remove their movie, and ``details["credits_records"]`` the Kaggle
credits, which fill ``movie_people``; ``details["credits_without_movie"]`` those whose movie the
tables do not hold), or quarantined under ``quarantine/tmdb/`` with its
reason: its problem, or ``superseded`` by a newer extraction. Records kept from earlier runs are
counted apart (``details["records_carried_over"]``). Every file read ends accepted (its records
in the tables or in quarantine) or rejected (``details["files_rejected"]``, with the reason).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from datalake.datasets.movies import MOVIE_TABLES
from datalake.pipelines.kept_rows import (
    NEW,
    drop_unreferenced_state,
    keep_parsed,
    kept_parsed,
    plan_kept_run,
    publish_tables,
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
from datalake.sources.tmdb_kaggle import (
    CREDITS_FILE,
    KAGGLE_COLUMNS,
    KAGGLE_CREDITS_COLUMNS,
    RAW_PREFIX,
    kaggle_file_kind,
)
from datalake.storage.base import ObjectStore
from datalake.transforms import quality
from datalake.transforms import tmdb as transforms
from datalake.transforms.documents import read_documents

#: Where every bad or superseded record goes: ``quarantine/tmdb/``.
QUARANTINE = "tmdb"
QUARANTINE_COLUMNS = (
    "path",
    "line_number",
    "movie_id",
    "source",
    "extracted_at",
    "raw_record",
    quality.REASON,
)
#: At most this many rejected files are named in a run report (the count is always there).
REPORTED_FILES = 200
_NOT_TMDB = "not a TMDB raw file: expected movie/year=/month=/day=/*.jsonl or kaggle/year=/month=/day=/*.csv"


def _kind(key: str) -> str | None:
    """``jsonl`` (an API extract), ``kaggle`` (the Kaggle file) or None (no TMDB raw file)."""
    relative = key[len(RAW_PREFIX) + 1 :] if key.startswith(f"{RAW_PREFIX}/") else ""
    if relative.startswith(f"{transforms.MOVIE_FOLDER}/") and key.endswith(".jsonl"):
        return "jsonl"
    if relative.startswith(f"{transforms.KAGGLE_FOLDER}/") and key.lower().endswith(".csv"):
        return "kaggle"
    return None


def _rejected(spark: SparkSession, store: ObjectStore, rejected: list[tuple[str, str]]) -> DataFrame:
    """``[(key, reason)]`` -> one :data:`~datalake.transforms.tmdb.RECORDS` row per file."""
    files = spark.createDataFrame([(spark_uri(store, k), r) for k, r in rejected], "path string, why string")
    return transforms.rejected_files(files, F.col("why"))


def _kaggle(spark: SparkSession, store: ObjectStore, key: str) -> DataFrame | str:
    """The records of one landed Kaggle file (movies or credits, by its header), or why it cannot be read.

    Each file is read on its own: Spark's CSV reader takes the first file's header for all.
    """
    rows = (
        spark.read.option("header", True)
        .option("multiLine", True)  # an overview may hold line breaks inside its quotes
        .option("escape", '"')  # the JSON-in-text columns double their quotes ("")
        .option("mode", "PERMISSIVE")
        .csv(spark_uri(store, key))
    )
    if kaggle_file_kind(rows.columns) == CREDITS_FILE:
        return transforms.kaggle_credit_records(
            rows.select(
                *KAGGLE_CREDITS_COLUMNS,
                F.col("_metadata.file_path").alias("path"),
                F.col("_metadata.file_modification_time").alias("extracted_at"),
            )
        )
    missing = [c for c in KAGGLE_COLUMNS if c not in rows.columns]
    if missing:
        return f"not the Kaggle TMDB 5000 format: no column {missing[0]!r}"
    return transforms.kaggle_records(
        rows.select(
            *KAGGLE_COLUMNS,
            F.col("_metadata.file_path").alias("path"),
            F.col("_metadata.file_modification_time").alias("extracted_at"),
        )
    )


def parse_changed(spark: SparkSession, store: ObjectStore, raw_prefix: str, plan: RunPlan) -> DataFrame:
    """The records of the raw partitions ``plan`` changed (``RECORDS`` plus ``_raw_partition``)."""
    keys = [key for name in sorted(plan.changed) for key in plan.partitions[name].keys]
    # Spark's readers yield nothing for an empty file: the listing's sizes tell them (one listing).
    empty = {info.key for info in store.list_objects(raw_prefix) if info.size == 0}
    rejected = [(k, _NOT_TMDB) for k in keys if _kind(k) is None]
    rejected += [(k, "empty file") for k in keys if _kind(k) is not None and k in empty]
    keys = [k for k in keys if _kind(k) is not None and k not in empty]
    jsonl = [k for k in keys if _kind(k) == "jsonl"]
    parts: list[DataFrame] = []
    if jsonl:
        documents = read_documents(spark, [spark_uri(store, k) for k in jsonl], "*.jsonl")
        parts.append(transforms.envelope_records(documents))
    for key in (k for k in keys if _kind(k) == "kaggle"):
        records = _kaggle(spark, store, key)
        if isinstance(records, str):
            rejected.append((key, records))
        else:
            parts.append(records)
    if rejected:
        parts.append(_rejected(spark, store, rejected))
    if not parts:
        empty = spark.createDataFrame([], transforms.RECORDS)
        return empty.withColumn(RAW_PARTITION, F.lit(None).cast("string"))
    records = parts[0]
    for part in parts[1:]:
        records = records.unionByName(part)
    return with_raw_partition(records.select(*transforms.RECORDS.fieldNames()), raw_prefix)


def _report_files(parsed: DataFrame, report: RunReport) -> None:
    """Every file read is accepted or rejected (a record with no raw text: the file as a whole).

    Also sets ``report.rows_in``, from the same pass (each Spark job has a fixed cost).
    """
    files = parsed.groupBy("path").agg(
        F.max(F.col("raw_record").isNull() & F.col("problem").isNotNull()).alias("_rejected"),
        F.first(F.when(F.col("raw_record").isNull(), F.col("problem")), ignorenulls=True).alias("_why"),
        F.count(F.lit(1)).alias("_records"),
    )
    rows = files.collect()  # one row per file read
    report.rows_in = sum(row["_records"] for row in rows)
    rejected = sorted((row["path"], row["_why"]) for row in rows if row["_rejected"])
    report.details["files"] = len(rows)
    report.details["files_accepted"] = len(rows) - len(rejected)
    report.details["files_rejected_count"] = len(rejected)
    report.details["files_rejected"] = [{"path": p, "reason": r} for p, r in rejected[:REPORTED_FILES]]


def process_raw_tmdb(
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    progress: Progress | None = None,
    *,
    full: bool = False,
) -> RunReport:
    """Build the movie tables from the TMDB files under ``raw_prefix`` changed since the last run.

    Parameters
    ----------
    spark
        The session (Glue's, or local ``local[*]``).
    store
        The lake's object store.
    raw_prefix
        ``raw/tmdb`` (or a folder below it).
    report
        The run report to fill (``report.job`` names the ledger and the state folder).
    progress
        Called with a line per table written and a summary.
    full
        Ignore the ledger: parse every file again, rebuild the tables, the kept records and the ledger.

    Returns
    -------
    RunReport
        ``report``, filled (see the module's docstring for the counts).
    """
    planned = plan_kept_run(store, report, raw_prefix, progress, full=full)
    if planned is None:
        return report
    ledger, plan = planned
    with report.timed("read"):
        parsed = parse_changed(spark, store, raw_prefix, plan).cache()
        _report_files(parsed, report)
        # Only valid records can win later; their raw text stays in raw (and in this run's quarantine).
        keepable = parsed.filter(F.col(transforms.PROBLEM).isNull()).withColumn(
            "raw_record", F.lit(None).cast("string")
        )
        state = keep_parsed(store, keepable, report, raw_prefix, plan)
        kept = kept_parsed(spark, store, ledger, plan, transforms.RECORDS)
        records = parsed.drop(RAW_PARTITION).withColumn(NEW, F.lit(True))
        if kept is not None:
            records = records.unionByName(kept.withColumn(NEW, F.lit(False)))
    with report.timed("transform+write"):
        valid = records.filter(F.col(transforms.PROBLEM).isNull())
        latest, superseded = transforms.latest_records(valid)
        latest = latest.cache()
        # Every table compared with what is published by one job, not one per table.
        tables = [(spec, transforms.BUILDERS[spec.name](latest)) for spec in MOVIE_TABLES]
        for spec, table in zip(MOVIE_TABLES, publish_tables(spark, store, tables, progress), strict=True):
            report.keys_written += table.keys
            report.details[f"{spec.name}_rows"] = table.rows
        problems = parsed.filter(F.col(transforms.PROBLEM).isNotNull()).withColumnRenamed(
            transforms.PROBLEM, quality.REASON
        )
        superseded = superseded.filter(F.col(NEW)).withColumn(
            quality.REASON,
            F.lit("superseded by a newer extraction (extracted_at) of the same movie and source"),
        )
        quarantined = problems.select(*QUARANTINE_COLUMNS).unionByName(superseded.select(*QUARANTINE_COLUMNS))
        # One job counts both: the newest records by (new or kept) x (ok, gone, credits), whose
        # reason is null, and the quarantined ones by reason (never null).
        tally = (
            latest.select(NEW, "status", F.lit(None).cast("string").alias(quality.REASON))
            .unionByName(
                quarantined.select(
                    F.lit(None).cast("boolean").alias(NEW),
                    F.lit(None).cast("string").alias("status"),
                    quality.REASON,
                )
            )
            .groupBy(NEW, "status", quality.REASON)
            .count()
            .collect()
        )
        outcome = {(r[NEW], r["status"]): r["count"] for r in tally if r[quality.REASON] is None}
        reasons = {r[quality.REASON]: r["count"] for r in tally if r[quality.REASON] is not None}
        quarantine_counted(quarantined, QUARANTINE, store, report, counts=reasons)
        new_ok, new_gone = outcome.get((True, "ok"), 0), outcome.get((True, "gone"), 0)
        new_credits = outcome.get((True, transforms.CREDITS_STATUS), 0)
        report.rows_out = new_ok + new_gone + new_credits
        report.details.update(
            tombstones_applied=new_gone,
            credits_records=new_credits,
            records_carried_over=sum(n for (new, _), n in outcome.items() if not new),
        )
        if new_credits or outcome.get((False, transforms.CREDITS_STATUS), 0):
            # Credits of a movie the tables do not hold are kept (the movie may land later) but unused.
            report.details["credits_without_movie"] = transforms.credits_without_movie(latest).count()
    parsed.unpersist()
    latest.unpersist()
    # Only now, with every table published: a run that died before this leaves the ledger as it was.
    ledger.commit(store, plan, state)
    drop_unreferenced_state(store, report.job, raw_prefix, ledger)
    if progress:
        progress(
            f"tmdb: {report.rows_in:,} record(s) read from {report.details['files']:,} file(s) "
            f"({report.details['files_rejected_count']:,} rejected); {new_ok:,} movie version(s) in, "
            f"{new_gone:,} tombstone(s) applied, {new_credits:,} movie credits in "
            f"({report.details.get('credits_without_movie', 0):,} of movies not in the tables, left out), "
            f"{report.rows_quarantined:,} quarantined; "
            f"movies now {report.details['movies_rows']:,} row(s)"
        )
    return report
