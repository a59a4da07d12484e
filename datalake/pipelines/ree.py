"""Raw REData documents -> ``demand_hourly`` and ``generation`` (+ quarantine, run report)."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.jobs import write_quarantine
from datalake.pipelines.demand import Progress, finish_dataset
from datalake.runs import RunReport
from datalake.storage.base import ObjectStore
from datalake.transforms import quality, ree


def process_raw_ree(
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    progress: Progress | None = None,
) -> RunReport:
    """Process every REData document under ``raw_prefix`` (``raw/ree`` or ``raw/ree_sample``).

    ``rows_in`` counts value entries (plus one per unreadable file); each lands in
    ``demand_hourly``, ``generation`` or quarantine.
    """
    with report.timed("read"):
        values = ree.documents_to_rows(ree.read_documents(spark, store.uri(raw_prefix))).cache()
        report.rows_in = values.count()
        report.details["files"] = values.select("path").distinct().count()
    with report.timed("transform+write"):
        out = quarantined = 0
        for rows, spec in (
            (ree.demand_rows(values), DEMAND_HOURLY),
            (ree.generation_rows(values), GENERATION),
        ):
            written, bad = finish_dataset(rows, spec, store, report, progress)
            out, quarantined = out + written, quarantined + bad
        stray = ree.unreadable_rows(values).select(
            F.col(ree.PROBLEM).alias(quality.REASON), F.col("path"), F.col("raw_record")
        )
        stray_count = stray.count()
        if stray_count:
            key = write_quarantine(stray, DEMAND_HOURLY, store, f"{report.run_id}-unreadable")
            report.keys_written.append(key or "")
        report.rows_out, report.rows_quarantined = out, quarantined + stray_count
    values.unpersist()
    return report
