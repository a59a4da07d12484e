"""Ingest runs behind the CLI and the extractor Lambdas: each leaves a run report."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence

from datalake import runtime
from datalake.runs import RunReport, record_run
from datalake.settings import Settings, get_settings
from datalake.sources import entsoe, ree

Progress = Callable[[str], None]


def ingest_ree(
    start: dt.date,
    end: dt.date,
    datasets: Sequence[str] = tuple(ree.REE_DATASETS),
    *,
    sample: bool = False,
    refresh: bool = False,
    client: ree.ReeClient | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Backfill REData days into raw; ``sample`` uses the labelled generator, offline.

    Counts are (dataset, region, day) units: in = requested, out = written or already
    there, quarantined = failed (each with its reason in the report) or not attempted.
    """
    from datalake.sources.ree_sample import sample_client

    settings = settings or get_settings()
    store = runtime.object_store("lake", settings)
    prefix = ree.SAMPLE_RAW_PREFIX if sample else ree.RAW_PREFIX
    job = "ingest_ree_sample" if sample else "ingest_ree"
    client = client or (sample_client() if sample else ree.ReeClient())
    with record_run(job, store, start=start.isoformat(), end=end.isoformat(), sample=sample) as report:
        summary: ree.IngestSummary | None = None
        for dataset in datasets:
            part = ree.backfill(client, store, dataset, start, end, refresh, progress, prefix=prefix)
            if summary is None:
                summary = part
            else:
                summary.merge(part)
        assert summary is not None
        report.rows_in = summary.requested
        report.rows_out = summary.written + summary.skipped
        report.rows_quarantined = len(summary.failed) + summary.not_attempted
        report.keys_written = summary.keys
        report.details.update(
            written=summary.written,
            skipped=summary.skipped,
            failed=summary.failed,
            not_attempted=summary.not_attempted,
            time_truncs=summary.time_truncs,
            stopped=summary.stopped,
        )
    return report


def ingest_entsoe(
    paths: Sequence[str | os.PathLike[str]],
    *,
    allow_swapped: bool = False,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Land ENTSO-E exports or the Kaggle energy file in raw, one CSV per local day."""
    settings = settings or get_settings()
    store = runtime.object_store("lake", settings)
    with record_run("ingest_entsoe", store, files=[str(p) for p in paths]) as report:
        summary = entsoe.ingest_files(store, paths, allow_swapped=allow_swapped, progress=progress)
        summary.fill_report(report)
    return report
