"""EIA ingest runs behind ``datalake ingest eia`` and the eia_daily Lambda.

Each run leaves a run report (``_runs/ingest_eia[_sample]/``, ``_runs/ingest_eia_daily[_sample]/``):
in = rows the API sent, out = rows landed in raw (new extractions) or already there unchanged, so a
run that balances lost no price; failed requests are listed with their reasons in ``details``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datalake import runtime
from datalake.errors import IncompleteRunError
from datalake.runs import RunReport, record_run
from datalake.settings import Settings, get_settings
from datalake.sources import eia
from datalake.storage.base import ObjectStore

if TYPE_CHECKING:
    import boto3

Progress = Callable[[str], None]


def _client(
    sample: bool,
    given: eia.EiaClient | None,
    settings: Settings,
    boto3_session: boto3.session.Session | None,
) -> AbstractContextManager[eia.EiaClient]:
    """The caller's client (left open), the SAMPLE one, or one of the real API (closed after the run)."""
    if given is not None:
        return nullcontext(given)
    if sample:
        from datalake.sources.eia_sample import sample_client

        return sample_client()
    return eia.client_from_settings(settings, boto3_session)


@dataclass
class _Run:
    """What a run works with: its report, client, lake, series and raw prefix."""

    report: RunReport
    api: eia.EiaClient
    store: ObjectStore
    series: tuple[eia.EiaSeries, ...]
    prefix: str

    def finish(self, summary: eia.IngestSummary) -> eia.IngestSummary:
        """Fill the report: in = rows the API sent, out = rows landed or already there unchanged."""
        self.report.rows_in = summary.rows_received
        self.report.rows_out = summary.rows_written + summary.rows_unchanged
        self.report.keys_written = summary.keys
        self.report.details.update({k: v for k, v in summary.to_dict().items() if k != "keys"})
        return summary


@contextmanager
def _run(
    job: str,
    sample: bool,
    client: eia.EiaClient | None,
    settings: Settings | None,
    boto3_session: boto3.session.Session | None,
    **details: Any,
) -> Iterator[_Run]:
    """A recorded run (``_runs/<job>[_sample]/``) with its client, closed after it."""
    settings = settings or get_settings()
    series = eia.parse_series(settings.eia_series)
    store = runtime.object_store("lake", settings, boto3_session)
    with (
        record_run(f"{job}_sample" if sample else job, store, **details) as report,
        _client(sample, client, settings, boto3_session) as api,
    ):
        prefix = eia.SAMPLE_RAW_PREFIX if sample else eia.RAW_PREFIX
        yield _Run(report, api, store, series, prefix)


def ingest_eia(
    start: dt.date | None,
    end: dt.date | None = None,
    *,
    sample: bool = False,
    refresh: bool = False,
    now: dt.datetime | None = None,
    client: eia.EiaClient | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    boto3_session: boto3.session.Session | None = None,
) -> tuple[RunReport, eia.IngestSummary]:
    """Backfill the configured EIA series into raw, a calendar year per request; resumable.

    Parameters
    ----------
    start
        First day; None starts each route at its first available day (the route's ``startPeriod``).
    end
        Last day (included); ``now``'s UTC day when None.
    sample
        The labelled SAMPLE generator through the same client, offline, under ``raw/eia_sample``.
    refresh
        Fetch again the years the checkpoint (``_checkpoints/eia_backfill/``) records as done.
    now
        The run's time (names the extraction); the clock when None.
    client, settings, progress, boto3_session
        A client to use (left open), the lake settings, a line per request, the AWS session.

    Returns
    -------
    (RunReport, IngestSummary)
        The ``ingest_eia[_sample]`` run report and what the run did.
    """
    settings = settings or get_settings()
    now = now or dt.datetime.now(dt.UTC)
    end = end or now.astimezone(dt.UTC).date()
    first = start.isoformat() if start else "first available day"
    with _run("ingest_eia", sample, client, settings, boto3_session, start=first, end=end.isoformat()) as run:
        summary = eia.backfill(
            run.api,
            run.store,
            run.series,
            start,
            end,
            now,
            prefix=run.prefix,
            refresh=refresh,
            lookback_days=settings.eia_daily_lookback_days,
            progress=progress,
        )
        run.finish(summary)
    return run.report, summary


def ingest_eia_daily(
    now: dt.datetime,
    *,
    sample: bool = False,
    client: eia.EiaClient | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    boto3_session: boto3.session.Session | None = None,
) -> tuple[RunReport, eia.IngestSummary]:
    """Fetch again the last ``EIA_DAILY_LOOKBACK_DAYS`` days of every series (what the eia_daily Lambda runs).

    Days whose prices changed land as a new extraction; the processed table takes the newest.
    """
    settings = settings or get_settings()
    with _run("ingest_eia_daily", sample, client, settings, boto3_session, now=now.isoformat()) as run:
        summary = run.finish(
            eia.daily(
                run.api,
                run.store,
                run.series,
                now,
                lookback_days=settings.eia_daily_lookback_days,
                prefix=run.prefix,
                progress=progress,
            )
        )
    return run.report, summary


def raise_for_failed_ranges(summary: eia.IngestSummary) -> None:
    """Fail a daily EIA run that left request ranges undone (the days it wrote stay).

    Raises
    ------
    IncompleteRunError
        Naming how many ranges failed or were not attempted, and the first reasons.
    """
    if summary.failed or summary.not_attempted:
        raise IncompleteRunError(
            f"{len(summary.failed)} request range(s) failed, {summary.not_attempted} not attempted: "
            f"{[f['reason'] for f in summary.failed[:3]]}"
        )


def eia_daily_step(
    now: dt.datetime, *, sample: bool, settings: Settings, progress: Progress | None = None
) -> RunReport:
    """What the eia_daily Lambda does on its schedule, for ``datalake run daily``.

    Raises
    ------
    IncompleteRunError
        When a request range failed, as the Lambda's invocation does.
    """
    report, summary = ingest_eia_daily(now, sample=sample, settings=settings, progress=progress)
    raise_for_failed_ranges(summary)
    return report


def summary_lines(summary: eia.IngestSummary) -> list[str]:
    """What a run did, for people: counts with thousands separators, each series' newest price and unit."""
    s = summary
    requests = (
        f"{s.chunks:,} date range(s): {s.chunks_fetched:,} fetched, {s.chunks_skipped:,} already done, "
        f"{len(s.failed):,} failed, {s.not_attempted:,} not attempted"
    )
    lines = [
        f"eia {s.start}..{s.end}: {len(s.series)} series; {requests}; "
        f"{s.requests:,} HTTP request(s), {s.pages:,} page(s)",
        f"  {s.rows_received:,} prices received: {s.rows_written:,} landed in {s.days_written:,} new day "
        f"file(s), {s.rows_unchanged:,} unchanged in {s.days_unchanged:,} day(s)",
    ]
    for series_id, latest in sorted(s.latest.items()):
        price = f"{latest['price']:,.2f} {latest['unit'] or ''}".rstrip()
        lines.append(f"  {latest['name']} ({series_id}): {price} on {latest['date']}")
    lines += [f"  warning: {w}" for w in s.warnings]
    if s.stopped:
        lines.append(f"  {s.stopped}")
    return lines
