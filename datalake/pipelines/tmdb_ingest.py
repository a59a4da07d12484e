"""TMDB ingest runs behind ``datalake ingest tmdb`` / ``tmdb-changes`` and the two TMDB Lambdas.

Each run leaves a run report (``_runs/ingest_tmdb_backfill[_sample]/``,
``_runs/ingest_tmdb_daily[_sample]/``): in = ids attempted, out = envelope lines written (ok and
gone), so a run that balances lost no movie.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datalake import runtime
from datalake.errors import DataValidationError, IncompleteRunError
from datalake.runs import RunReport, record_run
from datalake.settings import Settings, get_settings
from datalake.sources import tmdb_extract
from datalake.sources.tmdb import TmdbClient, client_from_settings

if TYPE_CHECKING:
    import boto3

Progress = Callable[[str], None]


def _client(
    sample: bool,
    given: TmdbClient | None,
    settings: Settings,
    boto3_session: boto3.session.Session | None,
) -> AbstractContextManager[TmdbClient]:
    """The caller's client (left open), the SAMPLE one, or one of the real API (closed after the run)."""
    if given is not None:
        return nullcontext(given)
    if sample:
        from datalake.sources.tmdb_sample import sample_client

        return sample_client()
    return client_from_settings(settings, boto3_session)


def ingest_tmdb_backfill(
    export_date: dt.date | None = None,
    *,
    limit: int | None = None,
    sample: bool = False,
    client: TmdbClient | None = None,
    settings: Settings | None = None,
    keep_going: Callable[[], bool] | None = None,
    progress: Progress | None = None,
    boto3_session: boto3.session.Session | None = None,
    continuation: bool = False,
    hand_over: bool = False,
) -> tuple[RunReport, tmdb_extract.BackfillSummary]:
    """Work through a TMDB ID export in checkpointed chunks (resumable; ``limit`` caps this run's ids).

    Parameters
    ----------
    export_date
        The export to backfill; the newest complete one when None.
    limit
        Most ids this run takes (None: until done or ``keep_going`` says stop).
    sample
        The labelled SAMPLE TMDB, offline, through the same client (lines say ``source: sample``).
    client
        A client to use (left open); made from the settings when None.
    settings
        Lake settings; the process-wide ones when None.
    keep_going
        Asked before each chunk after the first.
    progress
        Called with one line per chunk.
    boto3_session
        For the lake bucket and the TMDB secret on the aws runtime.
    continuation, hand_over
        The Lambda's chain: a continuation may work on the export its chain holds; ``hand_over``
        keeps holding it at the end for the continuation queued next
        (:func:`datalake.sources.tmdb_extract.backfill`).

    Returns
    -------
    (RunReport, BackfillSummary)
        The run's report (written to ``_runs/``) and where the backfill stands.
    """
    settings = settings or get_settings()
    store = runtime.object_store("lake", settings, boto3_session)
    export_date = export_date or tmdb_extract.latest_export_date(dt.datetime.now(dt.UTC))
    job = "ingest_tmdb_backfill_sample" if sample else "ingest_tmdb_backfill"
    with (
        record_run(job, store, export_date=export_date.isoformat(), limit=limit, sample=sample) as report,
        _client(sample, client, settings, boto3_session) as http_client,
    ):
        summary = tmdb_extract.backfill(
            http_client,
            store,
            export_date,
            limit=limit,
            chunk_size=settings.tmdb_chunk_size,
            top_cast=settings.tmdb_top_cast,
            keep_going=keep_going,
            progress=progress,
            continuation=continuation,
            hand_over=hand_over,
        )
        report.rows_in, report.rows_out = summary.attempted, summary.written
        report.keys_written = summary.keys
        report.details.update(
            total_ids=summary.total_ids,
            start_index=summary.start_index,
            next_index=summary.next_index,
            gone=summary.gone,
            done=summary.done,
            requests=http_client.requests_sent,
        )
    return report, summary


def ingest_tmdb_daily(
    now: dt.datetime,
    *,
    sample: bool = False,
    client: TmdbClient | None = None,
    settings: Settings | None = None,
    keep_going: Callable[[], bool] | None = None,
    progress: Progress | None = None,
    boto3_session: boto3.session.Session | None = None,
) -> tuple[RunReport, tmdb_extract.DailySummary]:
    """Fetch again the movies TMDB's change feed lists since the last successful run (at most 14 days).

    A run that ``keep_going`` stops leaves the rest of its window for the next run (``left``).
    """
    settings = settings or get_settings()
    store = runtime.object_store("lake", settings, boto3_session)
    job = "ingest_tmdb_daily_sample" if sample else "ingest_tmdb_daily"
    with (
        record_run(job, store, now=now.isoformat(), sample=sample) as report,
        _client(sample, client, settings, boto3_session) as http_client,
    ):
        summary = tmdb_extract.daily(
            http_client,
            store,
            now,
            chunk_size=settings.tmdb_chunk_size,
            top_cast=settings.tmdb_top_cast,
            keep_going=keep_going,
            progress=progress,
        )
        report.rows_in, report.rows_out = summary.attempted, summary.written
        report.keys_written = summary.keys
        report.details.update(
            start=summary.start,
            end=summary.end,
            changed=summary.changed,
            left=summary.left,
            resumed=summary.resumed,
            days_missed=summary.days_missed,
            gone=summary.gone,
            requests=http_client.requests_sent,
        )
    return report, summary


def raise_for_ids_left(summary: tmdb_extract.DailySummary) -> None:
    """Fail a daily TMDB run that ran out of time: the next run resumes its window (``pending.json``).

    Raises
    ------
    IncompleteRunError
        Naming how many of the window's changed ids are left.
    """
    if summary.left:
        raise IncompleteRunError(
            f"{summary.left} of {summary.changed} changed ids left; the next invocation resumes"
        )


def tmdb_daily_step(
    now: dt.datetime, *, sample: bool, settings: Settings, progress: Progress | None = None
) -> RunReport:
    """What the tmdb_daily Lambda does on its schedule, for ``datalake run daily`` (no time limit here).

    Raises
    ------
    IncompleteRunError
        When ids were left, as the Lambda's invocation does.
    """
    report, summary = ingest_tmdb_daily(now, sample=sample, settings=settings, progress=progress)
    raise_for_ids_left(summary)
    return report


def invoke_async(
    function_name: str,
    event: dict[str, Any],
    *,
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
) -> int:
    """Queue ``event`` for ``function_name`` (an asynchronous invoke); returns Lambda's status (202)."""
    from datalake import aws

    client = aws.client("lambda", boto3_session, settings or get_settings())
    answer = client.invoke(
        FunctionName=function_name, InvocationType="Event", Payload=json.dumps(event).encode()
    )
    return int(answer["StatusCode"])


#: A chain of self-invocations longer than this stops with an error (a loop, not a backfill:
#: a million ids in chunks of 500 take about 2,000 chunks, several per invocation).
MAX_INVOCATIONS = 5_000
#: Seconds kept free at the end of an invocation besides twice the longest chunk so far.
SAFETY_MARGIN_S = 30.0


@dataclass(frozen=True)
class BackfillEvent:
    """The backfill Lambda's event: an on-demand request or its own continuation.

    ``{"export_date": "2026-12-04", "limit": 1000, "invocation": 1}``; every field is optional
    (the newest export, no limit, the first invocation).
    """

    export_date: dt.date | None = None
    limit: int | None = None
    invocation: int = 1

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> BackfillEvent:
        """Read and check an event; errors name the field."""
        if not isinstance(event, Mapping):
            raise DataValidationError("event", "must be a JSON object")
        export_date = None
        if event.get("export_date") is not None:
            try:
                export_date = dt.date.fromisoformat(str(event["export_date"]))
            except ValueError:
                raise DataValidationError(
                    "export_date", f"{event['export_date']!r} is not YYYY-MM-DD"
                ) from None
        return cls(export_date, _whole(event, "limit", 0), _whole(event, "invocation", 1) or 1)

    def next(self, export_date: dt.date, attempted: int) -> dict[str, Any]:
        """The event that continues this one after ``attempted`` ids."""
        limit = None if self.limit is None else self.limit - attempted
        return {"export_date": export_date.isoformat(), "limit": limit, "invocation": self.invocation + 1}


def _whole(event: Mapping[str, Any], name: str, minimum: int) -> int | None:
    value = event.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DataValidationError(name, f"{value!r} is not a whole number >= {minimum}")
    return value


def time_keeper(
    remaining_ms: Callable[[], int], clock: Callable[[], float] = time.monotonic
) -> Callable[[], bool]:
    """A ``keep_going`` that says stop when less than twice the longest chunk (plus a margin) is left."""
    last = [clock()]
    longest = [0.0]

    def keep_going() -> bool:
        now = clock()
        longest[0] = max(longest[0], now - last[0])
        last[0] = now
        return remaining_ms() / 1000 > 2 * longest[0] + SAFETY_MARGIN_S

    return keep_going


def run_backfill_invocation(
    event: Mapping[str, Any],
    *,
    function_name: str | None,
    remaining_ms: Callable[[], int] | None,
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
) -> dict[str, Any]:
    """One invocation of the backfill Lambda: chunks while time is left, then re-invoke itself if not done.

    Parameters
    ----------
    event
        A :class:`BackfillEvent` as JSON.
    function_name
        The function to re-invoke (its own name); None never re-invokes (a local run).
    remaining_ms
        The invocation's remaining time (``context.get_remaining_time_in_millis``); None runs one chunk.

    Returns
    -------
    dict
        The run's counts, ``done`` and ``next_event`` (the event queued, or None).
    """
    settings = settings or get_settings()
    request = BackfillEvent.parse(event)
    if request.invocation > MAX_INVOCATIONS:
        raise DataValidationError("invocation", f"{request.invocation} is past the {MAX_INVOCATIONS} limit")
    keep_going = time_keeper(remaining_ms) if remaining_ms is not None else (lambda: False)
    report, summary = ingest_tmdb_backfill(
        request.export_date,
        limit=request.limit,
        sample=settings.tmdb_sample,
        settings=settings,
        keep_going=keep_going,
        boto3_session=boto3_session,
        continuation=request.invocation > 1,
        hand_over=function_name is not None,
    )
    export_date = dt.date.fromisoformat(summary.export_date)
    next_event = request.next(export_date, summary.attempted)
    more = not summary.done and (next_event["limit"] is None or next_event["limit"] > 0)
    store = runtime.object_store("lake", settings, boto3_session)
    try:
        if more and function_name:
            invoke_async(function_name, next_event, settings=settings, boto3_session=boto3_session)
        else:
            tmdb_extract.release(store, summary.source, export_date)
    except BaseException:
        tmdb_extract.release(store, summary.source, export_date)  # no continuation: a new run may start
        raise
    return {
        "run_id": report.run_id,
        **{k: v for k, v in summary.to_dict().items() if k != "keys"},
        "files_written": len(summary.keys),
        "next_event": next_event if more and function_name else None,
    }
