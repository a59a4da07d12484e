"""Ingest runs behind the CLI and the extractor Lambdas: each leaves a run report."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from datalake import runtime
from datalake.errors import IncompleteRunError
from datalake.runs import RunReport, record_run
from datalake.settings import Settings, get_settings
from datalake.sources import entsoe, ree

if TYPE_CHECKING:
    import boto3
    import httpx

Progress = Callable[[str], None]


def _client(
    sample: bool, given: ree.ReeClient | None, settings: Settings
) -> AbstractContextManager[ree.ReeClient]:
    """The caller's client (left open), or a new one closed after the run."""
    from datalake.sources.ree_sample import sample_client

    if given is not None:
        return nullcontext(given)
    return sample_client() if sample else ree.ReeClient(settings.ree_base_url)


def _fill(report: RunReport, summary: ree.IngestSummary) -> None:
    # Units are (dataset, region, day): out = written, fetched again unchanged or already there;
    # failures keep reasons.
    report.rows_in = summary.requested
    report.rows_out = summary.written + summary.unchanged + summary.skipped
    report.rows_quarantined = len(summary.failed) + summary.not_attempted
    report.keys_written = summary.keys
    report.details.update(
        written=summary.written,
        unchanged=summary.unchanged,
        skipped=summary.skipped,
        failed=summary.failed,
        not_attempted=summary.not_attempted,
        time_truncs=summary.time_truncs,
        stopped=summary.stopped,
    )


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
    """Backfill REData days into raw (resumable: days already there are skipped unless ``refresh``).

    ``sample`` uses the labelled generator through the same client, offline, under
    ``raw/ree_sample``.
    """
    settings = settings or get_settings()
    store = runtime.object_store("lake", settings)
    prefix = ree.SAMPLE_RAW_PREFIX if sample else ree.RAW_PREFIX
    job = "ingest_ree_sample" if sample else "ingest_ree"
    with (
        _client(sample, client, settings) as http_client,
        record_run(job, store, start=start.isoformat(), end=end.isoformat(), sample=sample) as report,
    ):
        summary = ree.IngestSummary(datasets=[], start=start.isoformat(), end=end.isoformat())
        for dataset in datasets:
            summary.merge(
                ree.backfill(http_client, store, dataset, start, end, refresh, progress, prefix=prefix)
            )
        _fill(report, summary)
    return report


def ingest_ree_daily(
    now: dt.datetime,
    *,
    sample: bool = False,
    client: ree.ReeClient | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Fetch again every local day the last 48 hours touch (late revisions), for every dataset."""
    settings = settings or get_settings()
    store = runtime.object_store("lake", settings)
    prefix = ree.SAMPLE_RAW_PREFIX if sample else ree.RAW_PREFIX
    job = "ingest_ree_daily_sample" if sample else "ingest_ree_daily"
    with (
        _client(sample, client, settings) as http_client,
        record_run(job, store, now=now.isoformat()) as report,
    ):
        _fill(report, ree.daily(http_client, store, now, progress=progress, prefix=prefix))
    return report


def raise_for_failed_days(report: RunReport) -> None:
    """Fail a daily REE run that left days undone (its written days stay).

    Raises
    ------
    IncompleteRunError
        Naming how many days failed and the first few with their reasons.
    """
    failed = report.details.get("failed") or []
    if failed:
        raise IncompleteRunError(f"{len(failed)} day(s) failed: {failed[:3]}")


def ree_daily_step(
    now: dt.datetime, *, sample: bool, settings: Settings, progress: Progress | None = None
) -> RunReport:
    """What the ree_daily Lambda does on its schedule, for ``datalake run daily``.

    Raises
    ------
    IncompleteRunError
        When a day failed, as the Lambda's invocation does.
    """
    report = ingest_ree_daily(now, sample=sample, settings=settings, progress=progress)
    raise_for_failed_days(report)
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


def land_energy_drops(
    drops: Sequence[tuple[str, dt.datetime]] | None = None,
    *,
    settings: Settings | None = None,
    progress: Progress | None = None,
    boto3_session: boto3.session.Session | None = None,
) -> RunReport:
    """Land the drops of the landing bucket in raw, or reject them with a reason.

    The energy company's CSV extracts, OWID's energy data and codebook and Rossmann's store sales
    and stores (CSV or XLSX) share the landing: each drop goes where its header says
    (``datalake.sources.energy_landing``).

    Parameters
    ----------
    drops
        ``(landing key, landed at)`` pairs, as the S3 event gives them. None processes every
        object in the landing bucket (``landing/`` locally; hidden names and links included, so
        each is landed or refused), each landed at its modification time, which is what the S3
        events would have carried.
    settings
        Lake settings; the process-wide ones when None.
    progress
        Called with one line per drop.
    boto3_session
        Session for S3 on the aws runtime.

    Returns
    -------
    RunReport
        ``ingest_energy_company``: in = drops, out = accepted (``details["accepted"]`` per entity),
        quarantined = rejected (``details["rejected"]`` per reason, ``details["rejections"]``).
    """
    from datalake.sources.energy_landing import land_drops, landing_keys

    settings = settings or get_settings()
    landing = runtime.object_store("landing", settings, boto3_session)
    lake = runtime.object_store("lake", settings, boto3_session)
    with record_run("ingest_energy_company", lake) as report:
        if drops is None:
            drops = [(key, landing.describe(key).last_modified) for key in landing_keys(landing)]
        land_drops(
            landing,
            lake,
            drops,
            report,
            progress,
            max_line_bytes=settings.csv_max_line_bytes,
            max_bytes=settings.landing_max_bytes,
        )
    return report


def land_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Drop local files in the landing zone (``landing/<file name>``) and land them, now.

    What an upload to the landing bucket does on AWS (the ingest_csv Lambda lands it on the
    S3 event; landing it here too writes the same keys). Each file goes where its header says
    (:func:`land_energy_drops`): the energy company's entities, OWID's data and codebook, or
    Rossmann's sales and stores.
    """
    from datalake.sources.drop_names import safe_name

    settings = settings or get_settings()
    landing = runtime.object_store("landing", settings)
    now = dt.datetime.now(dt.UTC)
    drops = []
    for path in map(Path, paths):
        key = safe_name(path.name)
        with path.open("rb") as stream:
            landing.put_stream(key, stream)
        drops.append((key, now))
    return land_energy_drops(drops, settings=settings, progress=progress)


def ingest_owid(
    urls: Sequence[str] | None = None,
    *,
    settings: Settings | None = None,
    client: httpx.Client | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Fetch OWID's published files (``OWID_ENERGY_URL``, ``OWID_CODEBOOK_URL``) and land them.

    Each is dropped in the landing zone as ``owid/<file name>`` and landed like any drop, so a
    fetched file and a dropped one take the same checks to ``raw/owid/``.

    Raises
    ------
    SourceError
        A URL that cannot be fetched (unreachable, an HTTP error, too large), naming it; nothing
        of that run is landed.
    """
    import httpx

    from datalake.sources.owid import fetch_owid

    settings = settings or get_settings()
    landing = runtime.object_store("landing", settings)
    urls = list(urls) if urls else [settings.owid_energy_url, settings.owid_codebook_url]
    own = client is None
    http = client or httpx.Client(timeout=settings.owid_timeout_s, follow_redirects=True)
    try:
        fetched = fetch_owid(landing, urls, client=http, max_bytes=settings.landing_max_bytes)
    finally:
        if own:
            http.close()
    now = dt.datetime.now(dt.UTC)
    for item in fetched:
        if progress:
            progress(f"{item.url}: {item.size_bytes / 1e6:,.1f} MB fetched into landing/{item.landing_key}")
    return land_energy_drops(
        [(item.landing_key, now) for item in fetched], settings=settings, progress=progress
    )


def ingest_tmdb_csv(
    paths: Sequence[str | os.PathLike[str]],
    *,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Land Kaggle TMDB 5000 files (movies, credits) unchanged in ``raw/tmdb/kaggle/`` (each checked first).

    A file that is not one fails the run naming the missing column; nothing of it lands.
    """
    from datalake.sources.tmdb_kaggle import land_kaggle_file

    settings = settings or get_settings()
    store = runtime.object_store("lake", settings)
    with record_run("ingest_tmdb_csv", store, files=[str(p) for p in paths]) as report:
        for path in paths:
            landed = land_kaggle_file(store, path)
            report.keys_written.append(landed.key)
            report.details.setdefault("kinds", {})[landed.key] = landed.kind
            report.details.setdefault("bytes_landed", 0)
            report.details["bytes_landed"] += landed.size_bytes
            if progress:
                progress(
                    f"{landed.path} ({landed.kind} file): landed at {landed.key} "
                    f"({landed.size_bytes / 1e6:,.1f} MB)"
                )
    return report
