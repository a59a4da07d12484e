"""TMDB extraction runs: the checkpointed bulk backfill and the daily change feed.

Backfill: the daily ID export gives the ids (sorted, stored once in the lake beside the
checkpoint, so later chunks never download the export again); each chunk fetches its movies'
details, writes one raw file, then moves the checkpoint past it. A run that dies mid-chunk wrote
nothing for that chunk and left the checkpoint before it, so the next run fetches it again: no
gap, and (same extraction day, same key) no duplicate. ``limit`` caps how many ids one run takes.

Daily: ``/movie/changes`` for the window since the last successful run (kept in the lake), at
most TMDB's 14 days, paged through; the changed ids' details are fetched again, a 404 becomes a
tombstone. The state moves only when every chunk is written.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from datalake.errors import DataValidationError
from datalake.sources.tmdb import MAX_CHANGES_WINDOW_DAYS, TmdbClient
from datalake.sources.tmdb_raw import DEFAULT_TOP_CAST, fetch_envelopes, raw_key, write_chunk
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key

BACKFILL_CHECKPOINT_PREFIX = "_checkpoints/tmdb_backfill"
DAILY_CHECKPOINT_PREFIX = "_checkpoints/tmdb_daily"
DEFAULT_CHUNK_SIZE = 500
#: How long a backfill holds its export after its last step (one Lambda invocation, 15 min, and some):
#: a new run of the same export is refused meanwhile, so two chains never race one checkpoint.
LEASE = dt.timedelta(minutes=20)
#: TMDB writes the day's export from about 07:00 UTC and it is complete by 08:00 UTC.
EXPORT_READY_UTC = dt.time(8, 0)

Progress = Callable[[str], None]
Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def latest_export_date(now: dt.datetime) -> dt.date:
    """The newest export that is complete at ``now`` (today's after 08:00 UTC, else yesterday's)."""
    utc = now.astimezone(dt.UTC)
    return utc.date() if utc.time() >= EXPORT_READY_UTC else utc.date() - dt.timedelta(days=1)


# -- backfill ---------------------------------------------------------------------------------


@dataclass
class BackfillCheckpoint:
    """Where a backfill of one export stands; ``next_index`` is the first id not yet written."""

    source: str
    export_date: str
    total_ids: int
    next_index: int = 0
    chunks_written: int = 0
    movies_written: int = 0
    gone: int = 0
    updated_at: str | None = None
    #: Set while a run (or a chain of Lambda invocations) works on the export; None when released.
    held_until: str | None = None

    @property
    def done(self) -> bool:
        return self.next_index >= self.total_ids

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "done": self.done}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> BackfillCheckpoint:
        return cls(**{k: doc[k] for k in cls.__dataclass_fields__ if k in doc})


def checkpoint_key(source: str, export_date: dt.date) -> str:
    """The checkpoint of a backfill of one export (``_checkpoints/tmdb_backfill/<source>/...json``)."""
    return join_key(BACKFILL_CHECKPOINT_PREFIX, source, f"export-{export_date.isoformat()}.json")


def ids_key(source: str, export_date: dt.date) -> str:
    """The export's ids as the backfill stored them (sorted, gzip JSON list)."""
    return join_key(BACKFILL_CHECKPOINT_PREFIX, source, f"export-{export_date.isoformat()}.ids.json.gz")


def load_checkpoint(store: ObjectStore, source: str, export_date: dt.date) -> BackfillCheckpoint | None:
    """The saved checkpoint, or None before the first chunk."""
    key = checkpoint_key(source, export_date)
    # Listed before read: a GET of a missing key would need bucket-wide s3:ListBucket to say 404.
    return BackfillCheckpoint.from_dict(store.get_json(key)) if store.exists(key) else None


def _save(store: ObjectStore, checkpoint: BackfillCheckpoint, now: dt.datetime) -> None:
    checkpoint.updated_at = now.isoformat(timespec="seconds")
    store.put_json(
        checkpoint_key(checkpoint.source, dt.date.fromisoformat(checkpoint.export_date)), checkpoint.to_dict()
    )


def release(store: ObjectStore, source: str, export_date: dt.date) -> None:
    """Let a new run take the export (a run that ends without handing over to a continuation)."""
    checkpoint = load_checkpoint(store, source, export_date)
    if checkpoint is not None and checkpoint.held_until is not None:
        checkpoint.held_until = None
        store.put_json(checkpoint_key(source, export_date), checkpoint.to_dict())


def _hold(store: ObjectStore, checkpoint: BackfillCheckpoint, now: dt.datetime) -> None:
    checkpoint.held_until = (now + LEASE).isoformat(timespec="seconds")
    _save(store, checkpoint, now)


def _load_ids(store: ObjectStore, source: str, export_date: dt.date) -> list[int]:
    return [int(i) for i in json.loads(gzip.decompress(store.get_bytes(ids_key(source, export_date))))]


def start_or_resume(
    client: TmdbClient,
    store: ObjectStore,
    export_date: dt.date,
    now: dt.datetime,
    progress: Progress | None = None,
) -> tuple[BackfillCheckpoint, list[int]]:
    """The checkpoint and ids of a backfill of ``export_date``: resumed, or started from the export."""
    source = client.source_label
    checkpoint = load_checkpoint(store, source, export_date)
    if checkpoint is not None:
        _say(
            progress,
            f"tmdb backfill {export_date}: resuming at {checkpoint.next_index:,}/{checkpoint.total_ids:,}",
        )
        return checkpoint, _load_ids(store, source, export_date)
    ids = client.export_movie_ids(export_date)
    if not ids:
        raise DataValidationError("export", f"the TMDB export of {export_date} holds no movie ids")
    # Fixed ``mtime`` keeps the bytes deterministic for the same export.
    store.put_bytes(ids_key(source, export_date), gzip.compress(json.dumps(ids).encode(), mtime=0))
    checkpoint = BackfillCheckpoint(source=source, export_date=export_date.isoformat(), total_ids=len(ids))
    _save(store, checkpoint, now)
    _say(progress, f"tmdb backfill {export_date}: export holds {len(ids):,} movie ids")
    return checkpoint, ids


@dataclass
class BackfillSummary:
    """What one backfill run did; ``attempted`` ids = ``written`` lines (ok + gone) when it ends cleanly."""

    source: str
    export_date: str
    total_ids: int
    start_index: int
    next_index: int
    attempted: int = 0
    written: int = 0
    gone: int = 0
    keys: list[str] = field(default_factory=list)
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def backfill(
    client: TmdbClient,
    store: ObjectStore,
    export_date: dt.date,
    *,
    limit: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    top_cast: int = DEFAULT_TOP_CAST,
    clock: Clock = _utc_now,
    keep_going: Callable[[], bool] | None = None,
    progress: Progress | None = None,
    continuation: bool = False,
    hand_over: bool = False,
) -> BackfillSummary:
    """Write checkpointed chunks of the export's movies until done, ``limit`` ids, or ``keep_going`` is False.

    Parameters
    ----------
    client, store
        Where to read from and write to.
    export_date
        The ID export to work through (its checkpoint is its own).
    limit
        Most ids this run takes (None: all that are left).
    chunk_size
        Ids per raw file (and per checkpoint step).
    top_cast
        Cast members kept per movie.
    clock
        The extraction time of each chunk (its date keys the raw file).
    keep_going
        Asked before every chunk after the first (a Lambda checks its remaining time).
    progress
        Called with one line per chunk.
    continuation
        This run continues a chain that holds the export (the Lambda's own re-invocation); any
        other run is refused while the export is held.
    hand_over
        Keep holding the export at the end (the caller queues a continuation); otherwise, and
        always on an error, the hold is released.

    Returns
    -------
    BackfillSummary
        Where the run started and stopped, lines written, keys, and whether the export is done.

    Raises
    ------
    DataValidationError
        (field ``export_date``) when another run holds the export.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    checkpoint, ids = start_or_resume(client, store, export_date, clock(), progress)
    now = clock()
    if not continuation and checkpoint.held_until and dt.datetime.fromisoformat(checkpoint.held_until) > now:
        raise DataValidationError(
            "export_date",
            f"a backfill of the {export_date} export is running (held until {checkpoint.held_until}, "
            f"at {checkpoint.next_index:,}/{checkpoint.total_ids:,}); it goes on by itself",
        )
    _hold(store, checkpoint, now)
    try:
        summary = _work(
            client,
            store,
            checkpoint,
            ids,
            export_date,
            limit,
            chunk_size,
            top_cast,
            clock,
            keep_going,
            progress,
        )
    except BaseException:
        release(store, checkpoint.source, export_date)
        raise
    if not hand_over or summary.done:
        release(store, checkpoint.source, export_date)
    return summary


def _work(
    client: TmdbClient,
    store: ObjectStore,
    checkpoint: BackfillCheckpoint,
    ids: list[int],
    export_date: dt.date,
    limit: int | None,
    chunk_size: int,
    top_cast: int,
    clock: Clock,
    keep_going: Callable[[], bool] | None,
    progress: Progress | None,
) -> BackfillSummary:
    summary = BackfillSummary(
        checkpoint.source,
        checkpoint.export_date,
        checkpoint.total_ids,
        checkpoint.next_index,
        checkpoint.next_index,
    )
    while not checkpoint.done and (limit is None or summary.attempted < limit):
        if summary.attempted and keep_going is not None and not keep_going():
            break
        size = chunk_size if limit is None else min(chunk_size, limit - summary.attempted)
        chunk = ids[checkpoint.next_index : checkpoint.next_index + size]
        now = clock()
        key, lines, gone = _land_chunk(
            client, store, "backfill", chunk, checkpoint.chunks_written, now, top_cast
        )
        # Only after the file is there: a crash before this line re-does the chunk into the same key.
        checkpoint.next_index += len(chunk)
        checkpoint.chunks_written += 1
        checkpoint.movies_written += len(lines)
        checkpoint.gone += gone
        _hold(store, checkpoint, clock())
        summary.attempted += len(chunk)
        summary.written += len(lines)
        summary.gone += gone
        summary.keys.append(key)
        _say(
            progress,
            f"tmdb backfill {export_date}: {checkpoint.next_index:,}/{checkpoint.total_ids:,} ids "
            f"({gone} gone) -> {key}",
        )
    summary.next_index, summary.done = checkpoint.next_index, checkpoint.done
    return summary


# -- daily ------------------------------------------------------------------------------------


def daily_state_key(source: str) -> str:
    """Where the daily run keeps the end of its last successful window."""
    return join_key(DAILY_CHECKPOINT_PREFIX, source, "state.json")


def changes_window(last_end: dt.date | None, today: dt.date) -> tuple[dt.date, dt.date, int]:
    """(start, end, days missed): since the last successful run's end, at most 14 days back.

    The first run takes yesterday and today. ``days missed`` counts the days older than the
    14-day maximum that no run covered (a backfill brings them back).
    """
    start = last_end if last_end is not None else today - dt.timedelta(days=1)
    start = min(start, today)
    earliest = today - dt.timedelta(days=MAX_CHANGES_WINDOW_DAYS)
    missed = max(0, (earliest - start).days)
    return max(start, earliest), today, missed


def daily_pending_key(source: str) -> str:
    """Where a daily run that ran out of time keeps its window's ids and how far it got."""
    return join_key(DAILY_CHECKPOINT_PREFIX, source, "pending.json")


@dataclass
class DailySummary:
    """What one daily run did; ``attempted`` ids = ``written`` lines; ``left`` ids wait for the next run."""

    source: str
    start: str
    end: str
    days_missed: int
    changed: int = 0
    attempted: int = 0
    written: int = 0
    gone: int = 0
    left: int = 0
    resumed: bool = False
    keys: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def daily(
    client: TmdbClient,
    store: ObjectStore,
    now: dt.datetime,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    top_cast: int = DEFAULT_TOP_CAST,
    keep_going: Callable[[], bool] | None = None,
    progress: Progress | None = None,
) -> DailySummary:
    """Fetch again the details of every movie changed since the last successful run.

    The window's ids are kept in the lake (``pending.json``) with how far the run got, so a run
    that stops (``keep_going`` said so) is resumed by the next one, window and chunk numbers
    unchanged, before any new window is read; the state moves only when the window is done.

    Parameters
    ----------
    client, store
        Where to read from and write to.
    now
        The run's time (the schedule's, so a retried invocation asks for the same window); its
        UTC date is the window's end and the files' extraction date.
    chunk_size
        Ids per raw file.
    top_cast
        Cast members kept per movie.
    keep_going
        Asked before every chunk after the first (a Lambda checks its remaining time).
    progress
        Called with one line per page and per chunk.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    source = client.source_label
    pending_key = daily_pending_key(source)
    pending = store.get_json(pending_key) if store.exists(pending_key) else {}
    if pending and not pending.get("done"):
        summary = DailySummary(source, pending["start"], pending["end"], pending["days_missed"], resumed=True)
        _say(progress, f"tmdb changes {summary.start}..{summary.end}: resuming at {pending['next_index']:,}")
    else:
        state_key = daily_state_key(source)
        state = store.get_json(state_key) if store.exists(state_key) else {}
        last_end = dt.date.fromisoformat(state["last_success_end"]) if state.get("last_success_end") else None
        start, end, missed = changes_window(last_end, now.astimezone(dt.UTC).date())
        summary = DailySummary(source, start.isoformat(), end.isoformat(), missed)
        if missed:
            _say(
                progress,
                f"tmdb changes: {missed} day(s) before {start} are past TMDB's 14-day window; backfill them",
            )
        ids = client.changed_movie_ids(start, end, progress)
        pending = {**asdict(summary), "ids": ids, "next_index": 0, "chunks_written": 0, "done": False}
        del pending["keys"]
        store.put_json(pending_key, pending)
    ids = [int(i) for i in pending["ids"]]
    summary.changed = len(ids)
    while pending["next_index"] < len(ids):
        if summary.attempted and keep_going is not None and not keep_going():
            break
        chunk = ids[pending["next_index"] : pending["next_index"] + chunk_size]
        key, lines, gone = _land_chunk(
            client, store, "daily", chunk, pending["chunks_written"], now, top_cast
        )
        pending["next_index"] += len(chunk)
        pending["chunks_written"] += 1
        store.put_json(pending_key, pending)
        summary.attempted += len(chunk)
        summary.written += len(lines)
        summary.gone += gone
        summary.keys.append(key)
        _say(
            progress,
            f"tmdb changes {summary.start}..{summary.end}: {pending['next_index']:,}/{len(ids):,} ids "
            f"({gone} gone) -> {key}",
        )
    summary.left = len(ids) - pending["next_index"]
    if summary.left == 0:
        store.put_json(
            daily_state_key(source),
            {"last_success_end": summary.end, "last_run_at": now.isoformat(timespec="seconds")},
        )
        store.put_json(pending_key, {**pending, "done": True})
    return summary


def _land_chunk(
    client: TmdbClient,
    store: ObjectStore,
    run_kind: str,
    chunk: list[int],
    chunk_n: int,
    now: dt.datetime,
    top_cast: int,
) -> tuple[str, list[dict[str, Any]], int]:
    """Fetch one chunk's movies and write them under ``now``'s UTC date; returns (key, lines, gone)."""
    lines, gone = fetch_envelopes(client, chunk, now, top_cast)
    key = raw_key(run_kind, now.astimezone(dt.UTC).date(), chunk[0], chunk_n)
    write_chunk(store, key, lines)
    return key, lines, gone


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)
