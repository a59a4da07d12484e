"""Raw Rossmann drops -> store_sales_daily and stores (+ quarantine with reasons, run report).

Each drop holds some stores' days (a sales file) or some stores' attributes (a store file); the
tables are a function of every drop landed: a (store, day) row, or a store, comes from the newest
drop holding it (by landing day, then the file's path and line). So a newer drop corrects the
rows it has and leaves the others as older drops gave them: an upsert, never a replace of the
whole table; ``landed_on`` says which drop each row comes from.

As for OWID (:mod:`datalake.pipelines.owid`, :mod:`datalake.pipelines.kept_rows`), a run parses
only the raw partitions changed since its last success, keeps their parsed rows in the job's
state folder, and computes the tables from the rows of every partition, just parsed or kept: the
tables of a full run, row for row; only the partitions whose rows differ are rewritten.

Counts (``rows_in == rows_out + rows_quarantined`` over the rows this run parsed): a row is a data
row of a sales or store file, or a file that could not be read at all (one row). It is in a
table (``rows_out``) or quarantined under ``quarantine/store_sales/<table|unreadable>/`` with its
reason: a value that does not parse (date, number, flag), a rule of the table's spec (negative
sales, an unknown state-holiday code, ...), sales on a closed day, a repeat of a store and day of
the same file, a store the ``stores`` table lacks, a row superseded by a newer drop, an unreadable
file. Every file read is accepted or rejected in ``details`` (``files_accepted`` +
``files_rejected_count`` == ``files``).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from datalake.datasets.store_sales import (
    QUARANTINE_FOLDERS,
    SALES,
    STORE_SALES_DAILY,
    STORES,
    STORES_TABLE,
)
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
from datalake.pipelines.ledger import Ledger, RunPlan
from datalake.pipelines.processing import (
    RAW_PARTITION,
    Progress,
    quarantine_counted,
    spark_uri,
    with_raw_partition,
)
from datalake.runs import RunReport
from datalake.storage.base import ObjectStore
from datalake.transforms import quality
from datalake.transforms import store_sales as transforms
from datalake.transforms.documents import read_binary_documents

#: The parsed rows as kept between runs.
KEPT = T.StructType([*transforms.PARSED.fields, T.StructField("landed_on", T.DateType())])
QUARANTINE = QUARANTINE_FOLDERS
_ROW_QUARANTINE = ("path", "line_number", "raw_record", "landed_on", quality.REASON)
#: At most this many rejected files are named in a run report (the count is always there).
REPORTED_FILES = 200
#: Between rows of the same key and landing day: the first file (by path), then its first line.
TIEBREAK = ("path", "line_number")


def _parse(spark: SparkSession, store: ObjectStore, raw_prefix: str, plan: RunPlan) -> DataFrame:
    """The :data:`KEPT` rows (plus ``_raw_partition``) of the files in the changed raw partitions."""
    keys = [key for name in sorted(plan.changed) for key in plan.partitions[name].keys]
    if not keys:
        empty = spark.createDataFrame([], KEPT)
        return empty.withColumn(RAW_PARTITION, F.lit(None).cast("string"))
    files = read_binary_documents(spark, [spark_uri(store, key) for key in keys])
    return with_raw_partition(transforms.files_to_rows(files).select(*KEPT.fieldNames()), raw_prefix)


def _report_files(parsed: DataFrame, report: RunReport) -> dict[str, int]:
    """Every file read is accepted (its rows typed) or rejected (one row, its reason).

    Also sets ``report.rows_in`` and returns the unreadable rows per reason, from the same pass
    (a Spark job each would cost more than the counting: small runs are made of such jobs).
    """
    files = parsed.groupBy("path").agg(
        F.first("kind", ignorenulls=True).alias("kind"),
        F.first(F.when(F.col("kind").isNull(), F.col(transforms.PROBLEM)), ignorenulls=True).alias("why"),
        F.first("ignored_columns", ignorenulls=True).alias("ignored"),
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
    report.details["file_rows"] = {r["path"]: r["rows"] for r in rows if r["kind"] is not None}
    report.details["columns_ignored"] = {r["path"]: r["ignored"].split(",") for r in rows if r["ignored"]}
    return unreadable


def _sales_facts(table: DataFrame, report: RunReport) -> None:
    facts = table.agg(
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct("store_id").alias("stores"),
        F.sum(F.col("closed").cast("int")).alias("closed"),
        F.min("date").alias("first"),
        F.max("date").alias("last"),
    ).first()
    report.details.update(
        store_sales_daily_rows=facts["rows"],
        sales_stores=facts["stores"],
        closed_days=facts["closed"] or 0,
        dates=[str(facts["first"]), str(facts["last"])] if facts["rows"] else None,
    )


def describe(report: RunReport) -> str:
    """One line saying what a run did."""
    d = report.details
    dates = d.get("dates")
    return (
        f"store_sales: {report.rows_in:,} row(s) read from {d.get('files', 0):,} file(s) "
        f"({d.get('files_rejected_count', 0):,} rejected); store_sales_daily "
        f"{d.get('store_sales_daily_rows', 0):,} rows ({d.get('sales_stores', 0):,} stores"
        + (f", {dates[0]}..{dates[1]}" if dates else "")
        + f", {d.get('closed_days', 0):,} closed days), stores {d.get('stores_rows', 0):,} rows; "
        f"{report.rows_quarantined:,} row(s) quarantined"
    )


def process_raw_store_sales(
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    progress: Progress | None = None,
    *,
    full: bool = False,
    features: bool = False,
) -> RunReport:
    """Build store_sales_daily and stores from the drops under ``raw_prefix`` changed since the last run.

    The ``process`` of the ``store_sales`` source (:class:`~datalake.sources.registry.SourceSpec`).

    Parameters
    ----------
    spark
        Glue's session, or ``local[*]`` here: its executors parse the files (``mapInPandas``).
    store
        Where raw, the kept rows (``_state/``), the tables and the quarantine are.
    raw_prefix
        ``raw/store_sales``, or one of its folders (``raw/store_sales/sales``).
    report
        Filled with the counts, the files read and rejected, the plan and the tables' figures;
        its ``job`` names the ledger.
    progress
        Told the plan, each table published and, at the end, :func:`describe`'s line.
    full
        Parse every drop again: the tables, the kept rows and the ledger are rebuilt from raw.
    features
        End by writing the features dataset of the published tables (``--features true``: the Glue
        job on AWS, whose training step reads it); a run that changed nothing writes it too, so a
        dataset missing for tables published earlier appears (an existing version is left as it is).

    Returns
    -------
    RunReport
        ``report`` (the module's docstring says what it counts).
    """
    planned = plan_kept_run(store, report, raw_prefix, progress, full=full)
    if planned is not None:
        _process_changed(spark, store, raw_prefix, report, progress, *planned)
    if features:
        _write_features(spark, store, report, progress)
    return report


def _write_features(
    spark: SparkSession, store: ObjectStore, report: RunReport, progress: Progress | None
) -> None:
    """The features dataset of the published tables (:mod:`datalake.pipelines.sales_features`)."""
    from datalake.pipelines.sales_features import write_sales_features
    from datalake.sales.split import SplitTooShortError
    from datalake.settings import get_settings

    with report.timed("features"):
        try:
            manifest = write_sales_features(spark, store, get_settings(), progress=progress)
        except (SplitTooShortError, FileNotFoundError) as error:  # nothing to train on yet
            report.details["features"] = {"skipped": str(error)}
            if progress:
                progress(f"features: skipped ({error})")
            return
    report.details["features"] = {
        name: manifest[name] for name in ("version", "rows", "rows_train", "rows_test", "written")
    }


def _process_changed(
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    progress: Progress | None,
    ledger: Ledger,
    plan: RunPlan,
) -> None:
    """The run proper, over the raw partitions ``plan`` says changed (see :func:`process_raw_store_sales`)."""
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
        # Stores first: every sales row is checked against the stores the table holds.
        typed_stores, store_checks = transforms.store_rows(rows, carry=(NEW,))
        typed_stores = transforms.with_file_duplicates(
            typed_stores, ["store_id"], transforms.DUPLICATE_STORE_IN_FILE
        )
        store_verdict = quality.judge(
            typed_stores,
            STORES_TABLE,
            ["store_id"],
            "landed_on",
            checks=store_checks,
            tiebreak=TIEBREAK,
            problem=transforms.PROBLEM,
        ).cache()
        stores = count_verdict(store_verdict, ["store_id"], report, STORES_TABLE.name)
        stores_out, stores_quarantined = stores.rows_out, stores.quarantined
        stores_table = transforms.stores(store_verdict.filter(F.col(quality.REASON).isNull())).cache()

        typed, checks = transforms.sales_rows(rows, carry=(NEW,))
        typed = transforms.with_file_duplicates(typed, ["store_id", "date"], transforms.DUPLICATE_IN_FILE)
        typed = transforms.with_known_store(typed, stores_table)
        keys = list(STORE_SALES_DAILY.primary_key)
        verdict = quality.judge(
            typed,
            STORE_SALES_DAILY,
            keys,
            "landed_on",
            checks=transforms.sales_checks(checks),
            tiebreak=TIEBREAK,
            problem=transforms.PROBLEM,
        )
        # Written once and scanned several times (counts, table, quarantine).
        verdict = spill(spark, store, verdict, report, raw_prefix, STORE_SALES_DAILY.name)
        sales = count_verdict(verdict, keys, report, STORE_SALES_DAILY.name)
        sales_out, sales_quarantined = sales.rows_out, sales.quarantined
        table = transforms.store_sales_daily(verdict.filter(F.col(quality.REASON).isNull()))
        # Both tables are compared with what is published by one job, not one per table.
        stores_published, sales_published = publish_tables(
            spark, store, [(STORES_TABLE, stores_table), (STORE_SALES_DAILY, table)], progress
        )
        report.keys_written += stores_published.keys + sales_published.keys
        report.details["stores_rows"] = stores_published.rows
        _sales_facts(table, report)
        quarantine_counted(
            store_verdict.filter(F.col(NEW) & F.col(quality.REASON).isNotNull()).select(*_ROW_QUARANTINE),
            QUARANTINE[STORES],
            store,
            report,
            STORES_TABLE.name,
            counts=stores_quarantined,
        )
        quarantine_counted(
            verdict.filter(F.col(NEW) & F.col(quality.REASON).isNotNull()).select(
                *_ROW_QUARANTINE, "store_id", "date"
            ),
            QUARANTINE[SALES],
            store,
            report,
            STORE_SALES_DAILY.name,
            counts=sales_quarantined,
        )
        store_verdict.unpersist()
        stores_table.unpersist()

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
        report.rows_out = sales_out + stores_out
    parsed.unpersist()
    # Only now, with every table published: a run that died before this leaves the ledger as it was.
    ledger.commit(store, plan, state)
    drop_unreferenced_state(store, report.job, raw_prefix, ledger)
    if progress:
        progress(describe(report))
