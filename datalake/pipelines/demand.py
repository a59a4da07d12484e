"""Raw demand -> ``demand_hourly`` (typed, checked, deduplicated) + quarantine + run report."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from datalake.datasets import DEMAND_HOURLY
from datalake.datasets.spec import DatasetSpec
from datalake.jobs import write_processed, write_quarantine
from datalake.runs import RunReport
from datalake.storage.base import ObjectStore
from datalake.transforms import demand, quality

RawTransform = Callable[[DataFrame], DataFrame]
Progress = Callable[[str], None]


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
    latest, superseded = quality.latest_per_key(valid, list(spec.primary_key), "extracted_at")
    quarantined = parse_failed.unionByName(bad).unionByName(superseded)
    keys = write_processed(latest.drop("raw_record"), spec, store, progress)
    rows_out, rows_quarantined = latest.count(), quarantined.count()
    quarantine_key = write_quarantine(quarantined, spec, store, report.run_id)
    report.keys_written += keys + ([quarantine_key] if quarantine_key else [])
    if rows_quarantined:
        reasons = quarantined.groupBy(quality.REASON).count().collect()
        report.details.setdefault("quarantine_reasons", {}).update(
            {f"{spec.name}: {row[quality.REASON]}": row["count"] for row in reasons}
        )
    report.details[f"{spec.name}_rows_out"] = rows_out
    typed.unpersist()
    return rows_out, rows_quarantined


def process_raw_demand(
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    transform: RawTransform = demand.from_sample_csv,
    progress: Progress | None = None,
) -> RunReport:
    """Process every raw CSV under ``raw_prefix`` into ``demand_hourly``.

    Counts go into ``report``: rows read, rows written, rows quarantined (bad values and
    superseded revisions, each with its reason), and the keys written.
    """
    with report.timed("read"):
        raw = spark.read.option("header", True).csv(store.uri(raw_prefix))
        report.rows_in = raw.count()
    with report.timed("transform+write"):
        report.rows_out, report.rows_quarantined = finish_dataset(
            transform(raw), DEMAND_HOURLY, store, report, progress
        )
    return report
