"""Typed rows -> processed tables (checked, deduplicated) + quarantine + run report, for every source."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from datalake.datasets.spec import DatasetSpec
from datalake.jobs import write_processed, write_quarantine
from datalake.runs import RunReport
from datalake.storage.base import ObjectStore
from datalake.transforms import quality
from datalake.transforms.documents import read_documents

Progress = Callable[[str], None]
#: Values (one row per flattened raw value) -> typed rows of one dataset.
RowBuilder = Callable[[DataFrame], DataFrame]


def finish_dataset(
    typed: DataFrame,
    spec: DatasetSpec,
    store: ObjectStore,
    report: RunReport,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Check, deduplicate and write typed rows of one dataset; returns (rows out, quarantined).

    ``typed`` has the spec's columns, its partition columns and ``raw_record``, and may have
    ``problem`` (a reason found while parsing). Rows with a problem or breaking a rule, and
    superseded revisions, go to quarantine with their reason; the rest replace the
    partitions they touch.
    """
    if "problem" not in typed.columns:
        typed = typed.withColumn("problem", F.lit(None).cast("string"))
    typed = typed.cache()
    parse_failed = typed.filter(F.col("problem").isNotNull()).withColumnRenamed("problem", quality.REASON)
    valid, bad = quality.split_valid(typed.filter(F.col("problem").isNull()).drop("problem"), spec)
    latest, superseded = quality.latest_per_key(
        valid, list(spec.primary_key), "extracted_at", tiebreak=("raw_record",)
    )
    quarantined = parse_failed.unionByName(bad).unionByName(superseded)
    keys = write_processed(latest.drop("raw_record"), spec, store, progress)
    rows_out, rows_quarantined = latest.count(), quarantined.count()
    quarantine_key = write_quarantine(quarantined, spec.name, store, report.run_id)
    report.keys_written += keys + ([quarantine_key] if quarantine_key else [])
    if rows_quarantined:
        reasons = quarantined.groupBy(quality.REASON).count().collect()
        report.details.setdefault("quarantine_reasons", {}).update(
            {f"{spec.name}: {row[quality.REASON]}": row["count"] for row in reasons}
        )
    report.details[f"{spec.name}_rows_out"] = rows_out
    typed.unpersist()
    return rows_out, rows_quarantined


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
) -> RunReport:
    """Process every raw file under ``raw_prefix``: flatten, build each dataset's rows, finish them.

    ``rows_in`` counts flattened values (one per file that could not be read at all); each
    lands in a processed table or in quarantine, so ``rows_in == rows_out + rows_quarantined``.
    Unreadable files are quarantined under ``quarantine/<problem_source>/``. ``full`` asks for
    every raw file, ignoring the incremental ledger (every run reads them all until it lands).
    """
    with report.timed("read"):
        values = flatten(read_documents(spark, store.uri(raw_prefix), pattern)).cache()
        report.rows_in = values.count()
        report.details["files"] = values.select("path").distinct().count()
    with report.timed("transform+write"):
        out = quarantined = 0
        for build, spec in builders:
            written, bad = finish_dataset(build(values), spec, store, report, progress)
            out, quarantined = out + written, quarantined + bad
        stray = unreadable(values).select(
            F.col("problem").alias(quality.REASON), F.col("path"), F.col("raw_record")
        )
        stray_count = stray.count()
        if stray_count:
            key = write_quarantine(stray, problem_source, store, report.run_id)
            report.keys_written.append(key or "")
            report.details.setdefault("quarantine_reasons", {}).update(
                {
                    f"{problem_source}: {row[quality.REASON]}": row["count"]
                    for row in stray.groupBy(quality.REASON).count().collect()
                }
            )
        report.rows_out, report.rows_quarantined = out, quarantined + stray_count
    values.unpersist()
    return report
