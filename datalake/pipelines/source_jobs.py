"""Run a registered source's processing: its own process function, or the standard pipeline."""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession

from datalake.pipelines.processing import Progress, process_documents
from datalake.runs import RunReport
from datalake.sources.registry import SourceSpec
from datalake.storage.base import ObjectStore


def process_source(
    source: SourceSpec,
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    progress: Progress | None = None,
    *,
    full: bool = False,
    **options: Any,
) -> RunReport:
    """Process the raw files of ``source`` under ``raw_prefix`` into its processed tables.

    Parameters
    ----------
    source
        The registered source (:func:`datalake.sources.registry.get_source`).
    spark, store
        The session and the lake's object store.
    raw_prefix
        One of the source's raw prefixes, or a folder below one.
    report
        The run report to fill.
    progress
        Called with a line per table written.
    full
        Reprocess everything, ignoring what earlier runs already processed.
    **options
        The source's own keywords (:attr:`SourceSpec.options`, :attr:`SourceSpec.settings_options`).

    Returns
    -------
    RunReport
        ``report``, filled.
    """
    try:
        return _process(source, spark, store, raw_prefix, report, progress, full=full, **options)
    finally:
        # A run's cached frames must not outlive it: a session that runs job after job (tests, a
        # notebook) would keep them all, and the columnar cache of a small frame holds far more
        # heap than Spark's storage memory counts, so it is never evicted and the JVM runs out.
        spark.catalog.clearCache()


def _process(
    source: SourceSpec,
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    progress: Progress | None,
    *,
    full: bool,
    **options: Any,
) -> RunReport:
    if source.process is not None:
        return source.process(spark, store, raw_prefix, report, progress, full=full, **options)
    assert source.unreadable is not None  # SourceSpec refuses the standard pipeline without it
    return process_documents(
        spark,
        store,
        raw_prefix,
        report,
        pattern=source.file_pattern,
        flatten=source.flatten.resolve(),
        builders=[(builder.build.resolve(), builder.dataset) for builder in source.builders],
        unreadable=source.unreadable.resolve(),
        problem_source=source.problem_source,
        progress=progress,
        full=full,
        value_day=source.value_day.resolve() if source.value_day else None,
        owner=source.ownership(raw_prefix),
        record=source.record.resolve() if source.record else None,
    )
