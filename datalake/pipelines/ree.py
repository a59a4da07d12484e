"""Raw REData documents -> ``demand_hourly`` and ``generation`` (+ quarantine, run report)."""

from __future__ import annotations

from pyspark.sql import SparkSession

from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.pipelines.processing import Progress, process_documents
from datalake.runs import RunReport
from datalake.storage.base import ObjectStore
from datalake.transforms import ree


def process_raw_ree(
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    progress: Progress | None = None,
    *,
    full: bool = False,
) -> RunReport:
    """Process the REData documents under ``raw_prefix`` (``raw/ree`` or ``raw/ree_sample``).

    Only the days whose raw changed since the last successful run, or every one when ``full``
    (see :func:`~datalake.pipelines.processing.process_documents`).
    """
    return process_documents(
        spark,
        store,
        raw_prefix,
        report,
        pattern="*.json",
        flatten=ree.documents_to_rows,
        builders=[(ree.demand_rows, DEMAND_HOURLY), (ree.generation_rows, GENERATION)],
        unreadable=ree.unreadable_rows,
        problem_source="ree_unreadable",
        progress=progress,
        full=full,
    )
