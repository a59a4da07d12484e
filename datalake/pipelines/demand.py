"""Raw demand -> ``demand_hourly`` (typed, checked, deduplicated) + quarantine + run report."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession

from datalake.datasets import DEMAND_HOURLY
from datalake.jobs import write_processed, write_quarantine
from datalake.runs import RunReport
from datalake.storage.base import ObjectStore
from datalake.transforms import demand, quality

RawTransform = Callable[[DataFrame], DataFrame]


def process_raw_demand(
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    transform: RawTransform = demand.from_sample_csv,
    progress: Callable[[str], None] | None = None,
) -> RunReport:
    """Process every raw CSV under ``raw_prefix`` into ``demand_hourly``.

    Counts go into ``report``: rows read, rows written, rows quarantined (bad values and
    superseded revisions, each with its reason), and the keys written.
    """
    with report.timed("read"):
        raw = spark.read.option("header", True).csv(store.uri(raw_prefix))
        report.rows_in = raw.count()
    with report.timed("transform"):
        typed = transform(raw)
        valid, bad = quality.split_valid(typed, DEMAND_HOURLY)
        latest, superseded = quality.latest_per_key(valid, list(DEMAND_HOURLY.primary_key), "extracted_at")
        quarantined = bad.unionByName(superseded)
    with report.timed("write"):
        report.keys_written = write_processed(latest.drop("raw_record"), DEMAND_HOURLY, store, progress)
        report.rows_out = latest.count()
        report.rows_quarantined = quarantined.count()
        quarantine_key = write_quarantine(quarantined, DEMAND_HOURLY, store, report.run_id)
        if quarantine_key:
            report.keys_written.append(quarantine_key)
            reasons = quarantined.groupBy("reason").count().collect()
            report.details["quarantine_reasons"] = {row["reason"]: row["count"] for row in reasons}
    return report
