"""Raw ENTSO-E day files -> ``demand_hourly`` and ``generation`` (+ quarantine, run report)."""

from __future__ import annotations

from pyspark.sql import SparkSession

from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.pipelines.processing import Progress, process_documents
from datalake.runs import RunReport
from datalake.storage.base import ObjectStore
from datalake.transforms import entsoe


def process_raw_entsoe(
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    progress: Progress | None = None,
    *,
    full: bool = False,
) -> RunReport:
    """Process the ENTSO-E day files under ``raw_prefix`` (both formats live under ``raw/entsoe``).

    Only the days whose raw changed since the last successful run, or every one when ``full``
    (see :func:`~datalake.pipelines.processing.process_documents`).

    The Transparency exports and the Kaggle file repeat the same hours with the same
    primary key; the newest extraction wins and the other copy is quarantined as superseded.
    """
    return process_documents(
        spark,
        store,
        raw_prefix,
        report,
        pattern="*.csv",
        flatten=entsoe.files_to_rows,
        builders=[(entsoe.demand_rows, DEMAND_HOURLY), (entsoe.generation_rows, GENERATION)],
        unreadable=entsoe.unreadable_rows,
        problem_source="entsoe_unreadable",
        progress=progress,
        full=full,
    )
