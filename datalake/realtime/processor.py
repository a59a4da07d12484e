"""The stream processor: raw micro-batches to the lake, transactions to the portfolios.

:func:`process_batch` is the core the Kinesis Lambda and the local consumer
(:func:`consume`, ``datalake stream run``) both call. Per batch of one shard it

1. writes the records' bytes, exactly as on the stream, to
   ``raw/realtime/<stream>/year=YYYY/month=MM/day=DD/<shard_id>-<first_seq>-<last_seq>.jsonl``
   (the day is the UTC arrival date of the batch's first record);
2. sends records that can never be processed (not an event) to the dead letters with the reason;
3. applies the transactions in stream order, each exactly once (the store's idempotent ``apply``);
4. writes one outcome line per transaction beside the raw files, under
   ``raw/realtime/outcomes/...`` with the same file name.

Every step can run again over the same records with the same effect (same keys, duplicates
recognised by the store), so delivery at least once gives each transaction one effect. A
transient failure (the lake or the database unavailable) stops the batch: the records from the
first one not done on are returned in :attr:`BatchOutcome.failed_sequence_numbers` (the Lambda's
``batchItemFailures``; Kinesis retries from the lowest), never skipped, so one user's
transactions keep their order.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from datalake.errors import ObjectNotFoundError
from datalake.realtime.events import (
    STREAMS,
    TRANSACTIONS_STREAM,
    StreamEvent,
    TransactionEvent,
    decode_event,
)
from datalake.realtime.ports import (
    ApplyResult,
    DeadLetter,
    DeadLetters,
    PortfolioStore,
    StoredRecord,
    Stream,
)
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key

logger = logging.getLogger(__name__)

RAW_PREFIX = "raw/realtime"
OUTCOMES = "outcomes"
#: The local consumer's name (its checkpoints); the Lambda's position is the mapping's.
CONSUMER = "stream_processor"


@dataclass
class BatchOutcome:
    """What :func:`process_batch` did with one batch."""

    records: int = 0
    applied: int = 0
    rejected: int = 0
    duplicate: int = 0
    poison: int = 0
    prices: int = 0
    #: Records to deliver again (transient failures), in sequence order; empty when all were done.
    failed_sequence_numbers: list[str] = field(default_factory=list)
    raw_keys: list[str] = field(default_factory=list)
    outcome_keys: list[str] = field(default_factory=list)
    results: list[ApplyResult] = field(default_factory=list)
    #: Why the batch stopped early (the transient error), for logs.
    error: str | None = None

    def add(self, other: BatchOutcome) -> None:
        """Add another batch's counts and keys to these (for a run's summary)."""
        for name in ("records", "applied", "rejected", "duplicate", "poison", "prices"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failed_sequence_numbers += other.failed_sequence_numbers
        self.raw_keys += other.raw_keys
        self.outcome_keys += other.outcome_keys
        self.results += other.results
        self.error = other.error or self.error


def batch_key(kind: str, records: Sequence[StoredRecord]) -> str:
    """The lake key of a batch's raw (``kind`` = stream name) or outcomes file."""
    first, last = records[0], records[-1]
    day = first.arrived_at.astimezone(dt.UTC)
    return join_key(
        RAW_PREFIX,
        kind,
        f"year={day:%Y}/month={day:%m}/day={day:%d}",
        f"{first.shard_id}-{first.sequence_number}-{last.sequence_number}.jsonl",
    )


def iso_utc(moment: dt.datetime) -> str:
    """``2026-12-06T10:00:00.123456Z``: ISO 8601 in UTC."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def outcome_line(
    event: TransactionEvent, result: ApplyResult, processed_at: dt.datetime | str
) -> dict[str, Any]:
    """One line of an outcomes file (decimals as strings, the time in ISO 8601 UTC)."""
    return {
        "event_id": event.event_id,
        "user_id": event.user_id,
        "currency": event.currency,
        "type": event.type,
        "amount": str(event.amount),
        "status": result.status,
        "reason": result.reason,
        "balance_after": None if result.balance is None else str(result.balance),
        "processed_at": processed_at if isinstance(processed_at, str) else iso_utc(processed_at),
    }


def _apply_all(
    portfolios: PortfolioStore, events: Sequence[TransactionEvent]
) -> tuple[list[ApplyResult], Exception | None]:
    """Apply in order: the results of the events done, and the error that stopped the rest.

    A store with ``apply_many`` (PostgreSQL) applies the batch in one DB transaction: all of it
    or, on an error, none. Otherwise each ``apply`` stands alone and the events before a
    failure stay done.
    """
    apply_many = getattr(portfolios, "apply_many", None)
    if apply_many is not None:
        try:
            return list(apply_many(events)), None
        except Exception as error:
            return [], error
    results: list[ApplyResult] = []
    for event in events:
        try:
            results.append(portfolios.apply(event))
        except Exception as error:
            return results, error
    return results, None


def process_batch(
    records: Sequence[StoredRecord],
    *,
    lake: ObjectStore,
    portfolios: PortfolioStore,
    dead_letters: DeadLetters,
    now: Callable[[], dt.datetime] | None = None,
) -> BatchOutcome:
    """Process one batch of stream records (see the module's description).

    Parameters
    ----------
    records
        Records of one shard in sequence order (a Kinesis Lambda batch, a local read). Records of
        several shards are processed shard by shard.
    lake
        The lake bucket (raw and outcome files).
    portfolios
        Where transactions are applied (exactly once per ``event_id``).
    dead_letters
        Where records that can never succeed go, with their reason.
    now
        The clock of ``processed_at`` (UTC); ``datetime.now`` by default.

    Returns
    -------
    BatchOutcome
        Counts, keys written and the sequence numbers to deliver again.
    """
    outcome = BatchOutcome()
    by_shard: dict[tuple[str, str], list[StoredRecord]] = {}
    for record in records:
        by_shard.setdefault((record.stream, record.shard_id), []).append(record)
    for shard_records in by_shard.values():
        outcome.add(_process_shard_batch(shard_records, lake, portfolios, dead_letters, now))
    return outcome


def _process_shard_batch(
    records: list[StoredRecord],
    lake: ObjectStore,
    portfolios: PortfolioStore,
    dead_letters: DeadLetters,
    now: Callable[[], dt.datetime] | None,
) -> BatchOutcome:
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    outcome = BatchOutcome(records=len(records))
    stream = records[0].stream
    events: list[tuple[StoredRecord, Any]] = []
    letters: list[DeadLetter] = []
    for record in records:
        try:
            event = fast_decode(record.data, stream)
        except ValueError as error:
            letters.append(DeadLetter(record, _reason(error)))
            continue
        if stream in STREAMS and event.kind != _expected_kind(stream):
            letters.append(DeadLetter(record, f"kind: a {event.kind} event on the {stream} stream"))
            continue
        events.append((record, event))

    def fail_from(index: int, error: BaseException) -> BatchOutcome:
        # Everything from the first record not done on is delivered again, in order.
        outcome.failed_sequence_numbers = [r.sequence_number for r in records[index:]]
        outcome.error = f"{type(error).__name__}: {error}"
        logger.warning(
            "%s/%s: %d record(s) to retry from %s: %s",
            stream,
            records[0].shard_id,
            len(records) - index,
            records[index].sequence_number,
            outcome.error,
        )
        return outcome

    # 1. Raw: the valid events' bytes (poison bytes are kept whole in the dead letters instead).
    try:
        if events:
            key = batch_key(stream, records)
            lake.put_bytes(
                key, b"\n".join(_one_line(r.data) for r, _ in events) + b"\n", "application/x-ndjson"
            )
            outcome.raw_keys.append(key)
        # 2. Dead letters before any effect: a poison record never blocks the shard.
        if letters:
            dead_letters.send(letters)
            outcome.poison = len(letters)
    except Exception as error:  # the lake or the queue is unavailable: nothing done, all again
        return fail_from(0, error)

    transactions = [(r, e) for r, e in events if isinstance(e, TransactionEvent)]
    outcome.prices = len(events) - len(transactions)
    if not transactions:
        return outcome
    # 3. Apply, in stream order.
    results, failure = _apply_all(portfolios, [e for _, e in transactions])
    processed_at = clock()
    outcome.results = results
    for result in results:
        if result.status == "applied":
            outcome.applied += 1
        elif result.status == "rejected":
            outcome.rejected += 1
        else:
            outcome.duplicate += 1
    # 4. Outcomes beside the raw file (the same name); a retry rewrites the same key.
    if results:
        stamp = iso_utc(processed_at)  # once per batch
        lines = [
            json.dumps(outcome_line(event, result, stamp))
            for (_, event), result in zip(transactions, results, strict=False)
        ]
        try:
            key = batch_key(OUTCOMES, records)
            if any(result.status == "duplicate" for result in results):
                lines = _keep_first_outcomes(lake, key, lines)
            lake.put_bytes(key, ("\n".join(lines) + "\n").encode(), "application/x-ndjson")
            outcome.outcome_keys.append(key)
        except Exception as error:
            # Applied already: a retry finds them duplicate and writes the outcomes again.
            return fail_from(records.index(transactions[0][0]), error)
    if failure is not None:
        return fail_from(records.index(transactions[len(results)][0]), failure)
    return outcome


def fast_decode(data: bytes, stream: str) -> StreamEvent:
    """:func:`~datalake.realtime.events.decode_event`, parsing the stream's own kind in one step.

    Pydantic validates JSON bytes directly about twice as fast as ``json.loads`` then a model;
    anything that does not parse that way goes through ``decode_event`` for the same result and
    the same error (the poison record's reason).
    """
    if stream == TRANSACTIONS_STREAM:
        try:
            return TransactionEvent.model_validate_json(data)
        except ValueError:
            pass
    return decode_event(data)


def _keep_first_outcomes(lake: ObjectStore, key: str, lines: list[str]) -> list[str]:
    """``lines`` where the same batch's earlier file said what took effect, its line instead.

    The same key means the same records (one shard, the same first and last sequence numbers),
    so line ``i`` of both files is the same transaction. When a processor dies after applying a
    batch and writing its outcomes but before its checkpoint, the batch comes again and the
    store answers ``duplicate``: the file keeps the ``applied``/``rejected`` lines of the first
    delivery rather than losing them.
    """
    try:
        earlier = lake.get_bytes(key).splitlines()
    except ObjectNotFoundError:
        return lines
    if len(earlier) != len(lines):
        return lines
    kept = []
    for new, old in zip(lines, earlier, strict=True):
        first = json.loads(old)
        again = json.loads(new)
        took_effect = first.get("status") in ("applied", "rejected")
        if again["status"] == "duplicate" and took_effect and first.get("event_id") == again["event_id"]:
            kept.append(old.decode())
        else:
            kept.append(new)
    return kept


def _one_line(data: bytes) -> bytes:
    """The record's bytes as they are, unless they hold a line break (JSON from another producer,
    pretty-printed): then the same JSON re-written on one line, so the file stays JSON Lines."""
    if b"\n" not in data and b"\r" not in data:
        return data
    return json.dumps(json.loads(data), ensure_ascii=False, separators=(",", ":")).encode()


def _expected_kind(stream: str) -> str:
    return "transaction" if stream == TRANSACTIONS_STREAM else "price"


def _reason(error: ValueError) -> str:
    """A one-line reason naming the field (pydantic's first error) or the decoding problem."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        details = errors()
        if details:
            first = details[0]
            where = ".".join(str(part) for part in first.get("loc", ())) or "record"
            return f"{where}: {first.get('msg', 'invalid')}"
    return " ".join(str(error).split())[:500]


# -- the local consumer -------------------------------------------------------------------------


@dataclass
class ConsumeSummary:
    """What :func:`consume` did: totals per stream and the batches it processed."""

    by_stream: dict[str, BatchOutcome] = field(default_factory=dict)
    batches: int = 0
    retries: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> BatchOutcome:
        """Every stream's counts added up."""
        total = BatchOutcome()
        for outcome in self.by_stream.values():
            total.add(outcome)
        return total


def consume(
    stream: Stream,
    *,
    lake: ObjectStore,
    portfolios: PortfolioStore,
    dead_letters: DeadLetters,
    streams: Sequence[str] = STREAMS,
    consumer: str = CONSUMER,
    batch_size: int = 500,
    follow: bool = False,
    stop: Callable[[], bool] | None = None,
    poll_s: float = 0.05,
    retry_s: float = 1.0,
    on_batch: Callable[[str, BatchOutcome], None] | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> ConsumeSummary:
    """Process every shard of ``streams`` from the consumer's checkpoints, batch by batch.

    After each batch the checkpoint moves to the last record done (before the first failed
    one); failed records are read again after ``retry_s``. Without ``follow`` it returns once a
    pass over every shard finds nothing new; with it, it polls until ``stop()`` is true.

    Parameters
    ----------
    stream
        The stream port (a :class:`~datalake.realtime.local.LocalStream`).
    lake, portfolios, dead_letters, now
        As for :func:`process_batch`.
    streams
        Which streams to consume.
    consumer
        Whose checkpoints to read and move.
    batch_size
        Records per batch.
    follow
        Keep polling for new records instead of returning when caught up.
    stop
        Checked between batches: true ends the run (after the batch in hand is checkpointed).
    poll_s, retry_s
        Wait when caught up (with ``follow``) and before re-reading failed records.
    on_batch
        Called with each batch's stream and outcome (progress).
    """
    started = time.perf_counter()
    summary = ConsumeSummary(by_stream={name: BatchOutcome() for name in streams})
    while True:
        busy = False
        for name in streams:
            for shard in stream.shards(name):
                if stop is not None and stop():
                    summary.seconds = time.perf_counter() - started
                    return summary
                records = stream.read(name, shard, consumer, batch_size)
                if not records:
                    continue
                busy = True
                outcome = process_batch(
                    records, lake=lake, portfolios=portfolios, dead_letters=dead_letters, now=now
                )
                failed = set(outcome.failed_sequence_numbers)
                # Checkpoint only up to the first failure, in read order (sequence numbers are
                # decimal strings of any length: compared as text, "10" would come before "9").
                first_failed = next((i for i, r in enumerate(records) if r.sequence_number in failed), None)
                done = records if first_failed is None else records[:first_failed]
                if done:
                    stream.checkpoint(name, shard, consumer, done[-1].sequence_number)
                if on_batch is not None:
                    on_batch(name, outcome)
                outcome.failed_sequence_numbers = []  # counted in retries, not in the totals
                outcome.results = []  # the summary keeps counts, not every result
                summary.by_stream[name].add(outcome)
                summary.batches += 1
                if failed:
                    summary.retries += 1
                    time.sleep(retry_s)
        if not busy:
            if not follow:
                summary.seconds = time.perf_counter() - started
                return summary
            time.sleep(poll_s)
