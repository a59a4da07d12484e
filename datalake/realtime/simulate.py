"""Simulated trading over the whole real-time path, and its check against a replay.

:func:`simulate_trading` posts transactions for ``users`` users at ``rate`` per second through
the same ingest function as ``POST /transactions`` (with repeated idempotency keys, as retrying
apps send them), while the stream processor consumes the stream. :func:`verify` then replays
the accepted transactions in stream order per user, with the same rules (each id once, a sell
beyond the balance rejected), and compares the result with the stored portfolios and with the
outcomes the processor wrote to the lake.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from datalake.realtime.events import TRANSACTIONS_STREAM, TransactionEvent
from datalake.realtime.ingest import ingest_transactions
from datalake.realtime.ports import DeadLetters, PortfolioStore, Stream
from datalake.realtime.processor import (
    OUTCOMES,
    RAW_PREFIX,
    BatchOutcome,
    ConsumeSummary,
    consume,
    fast_decode,
)
from datalake.storage.base import ObjectStore

#: Producer ticks per second: each tick posts what the rate allows since the start, in one put.
TICKS_PER_S = 20
#: Most records per put (Kinesis PutRecords takes up to 500).
MAX_PUT = 500


# -- replay and verification --------------------------------------------------------------------


def replay(
    events: Iterable[TransactionEvent],
) -> tuple[dict[tuple[str, str], Decimal], dict[str, str]]:
    """Apply transactions in the order given, in memory, by the store's rules.

    Returns
    -------
    tuple
        Balances by ``(user_id, currency)`` and the status of each event id
        (``applied`` or ``rejected``; a repeated id keeps its first status).
    """
    balances: dict[tuple[str, str], Decimal] = {}
    statuses: dict[str, str] = {}
    for event in events:
        if event.event_id in statuses:
            continue
        pair = (event.user_id, event.currency)
        balance = balances.get(pair, Decimal(0))
        if event.type == "buy":
            balances[pair] = balance + event.amount
            statuses[event.event_id] = "applied"
        elif balance >= event.amount:
            balances[pair] = balance - event.amount
            statuses[event.event_id] = "applied"
        else:
            balances.setdefault(pair, balance)
            statuses[event.event_id] = "rejected"
    return balances, statuses


def lake_outcomes(
    lake: ObjectStore, event_ids: set[str] | None = None
) -> dict[str, list[tuple[str, str, str]]]:
    """Every outcome line the processor wrote: ``{event_id: [(file key, status, reason), ...]}``."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for key in lake.list_keys(f"{RAW_PREFIX}/{OUTCOMES}"):
        lines = [line for line in lake.get_bytes(key).splitlines() if line.strip()]
        # One parse per file (as a JSON array): the per-call overhead dominates for short lines.
        for row in json.loads(b"[" + b",".join(lines) + b"]"):
            if event_ids is None or row["event_id"] in event_ids:
                found.setdefault(row["event_id"], []).append((key, row["status"], row["reason"] or ""))
    return found


@dataclass
class VerifyReport:
    """The replay against the stores: the counts the simulator prints and the first differences."""

    accepted: int
    applied: int
    rejected: int
    lost: int
    duplicated: int
    #: Balances (user, currency) or statuses that differ from the replay.
    mismatched: int
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing applied twice, every balance and status as replayed."""
        return self.lost == 0 and self.duplicated == 0 and self.mismatched == 0

    def line(self) -> str:
        """``accepted A, applied P, rejected R, lost L, duplicated D`` (numbers with separators)."""
        return (
            f"accepted {self.accepted:,}, applied {self.applied:,}, rejected {self.rejected:,}, "
            f"lost {self.lost:,}, duplicated {self.duplicated:,}"
        )


def verify(
    events: Sequence[TransactionEvent], *, portfolios: PortfolioStore, lake: ObjectStore
) -> VerifyReport:
    """Compare a replay of ``events`` (accepted, in stream order per user) with what was stored.

    - ``lost``: an accepted transaction the processor never recorded (no outcome in the lake,
      or, where the store can say, not in the store);
    - ``duplicated``: a transaction that took effect more than once (two first-time outcomes,
      applied or rejected, in different batch files);
    - ``mismatched``: a balance, or a transaction's status, that differs from the replay.
    """
    expected_balances, expected_status = replay(events)
    ids = set(expected_status)
    outcomes = lake_outcomes(lake, ids)
    recorded_fn = getattr(portfolios, "recorded", None)
    recorded: dict[str, tuple[str, str | None]] | None = recorded_fn(sorted(ids)) if recorded_fn else None
    lost = duplicated = mismatched = applied = rejected = 0
    examples: list[str] = []

    def note(text: str) -> None:
        if len(examples) < 10:
            examples.append(text)

    for event_id, expected in expected_status.items():
        lines = outcomes.get(event_id, [])
        first_time = {(key, status) for key, status, _ in lines if status in ("applied", "rejected")}
        if not lines or (recorded is not None and event_id not in recorded):
            lost += 1
            note(f"{event_id}: lost")
            continue
        if len({key for key, _ in first_time}) > 1:
            duplicated += 1
            note(f"{event_id}: took effect in {len(first_time)} batches")
        statuses = {status for _, status in first_time} or {
            reason.removeprefix("already_") for _, status, reason in lines if status == "duplicate"
        }
        if recorded is not None:
            statuses.add(recorded[event_id][0])
        if statuses != {expected}:
            mismatched += 1
            note(f"{event_id}: status {sorted(statuses)}, replay {expected}")
        applied += expected == "applied" and statuses == {"applied"}
        rejected += expected == "rejected" and statuses == {"rejected"}
    users = sorted({user for user, _ in expected_balances})
    many = getattr(portfolios, "portfolios", None)
    stored = many(users) if many else {u: p for u in users if (p := portfolios.get(u)) is not None}
    for (user, currency), balance in sorted(expected_balances.items()):
        portfolio = stored.get(user)
        actual = portfolio.balances.get(currency, Decimal(0)) if portfolio else Decimal(0)
        if actual != balance:
            mismatched += 1
            note(f"{user} {currency}: stored {actual}, replay {balance}")
    return VerifyReport(len(ids), applied, rejected, lost, duplicated, mismatched, examples)


def stream_events(stream: Any, event_ids: set[str] | None = None) -> list[TransactionEvent]:
    """The transactions on a :class:`~datalake.realtime.local.LocalStream`, in stream order per shard."""
    events = []
    for shard in stream.shards(TRANSACTIONS_STREAM):
        for record in stream.scan(TRANSACTIONS_STREAM, shard):
            try:
                event = fast_decode(record.data, TRANSACTIONS_STREAM)
            except ValueError:
                continue  # poison: not a transaction
            if isinstance(event, TransactionEvent) and (event_ids is None or event.event_id in event_ids):
                events.append(event)
    return events


# -- the simulation -----------------------------------------------------------------------------


def transaction_bodies(
    count: int,
    users: Sequence[str],
    rng: random.Random,
    *,
    run: str,
    start: int = 0,
    repeat_share: float = 0.02,
) -> list[dict[str, Any]]:
    """``count`` posted bodies: buys and sells in USD and COP; a share repeat an earlier key.

    A repeated body is an app retrying its post: same user, idempotency key and content.
    """
    now = dt.datetime.now(dt.UTC).isoformat()
    bodies: list[dict[str, Any]] = []
    for index in range(start, start + count):
        if bodies and rng.random() < repeat_share:
            bodies.append(dict(rng.choice(bodies)))
            continue
        currency = "USD" if rng.random() < 0.7 else "COP"
        cents = rng.randint(100, 50_000) if currency == "USD" else rng.randint(100_000, 200_000_000)
        bodies.append(
            {
                "user_id": rng.choice(users),
                # More buys than sells, so most sells are covered and some are not.
                "type": "buy" if rng.random() < 0.6 else "sell",
                "amount": f"{Decimal(cents) / 100:.2f}",
                "currency": currency,
                "client_time": now,
                "idempotency_key": f"{run}-{index}",
            }
        )
    return bodies


@dataclass
class SimulationReport:
    """What a simulation did: posts, the processor's totals, throughput, latency, the check."""

    run: str
    posts: int
    accepted: list[TransactionEvent]
    seconds: float
    consumed: ConsumeSummary
    latencies_s: list[float]
    report: VerifyReport | None = None

    @property
    def throughput_per_s(self) -> float:
        """Posted transactions per second, from the first post until the processor caught up."""
        return self.posts / self.seconds if self.seconds else 0.0

    def latency_percentile_ms(self, share: float) -> float:
        """A percentile (``share`` in 0-1) of ingest -> portfolio update, in milliseconds."""
        if not self.latencies_s:
            return float("nan")
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def parse_rate(text: str) -> float:
    """``200/s`` or ``200`` -> 200.0 transactions per second.

    Raises
    ------
    ValueError
        Not a positive number of transactions per second.
    """
    value = text.strip().lower().removesuffix("/s").strip()
    try:
        rate = float(value)
    except ValueError:
        raise ValueError(f"rate: {text!r} is not a number per second, e.g. 200/s") from None
    if not rate > 0:
        raise ValueError(f"rate: {text!r} must be more than 0 per second")
    return rate


def simulate_trading(
    *,
    users: int,
    rate: float,
    seconds: float,
    stream: Stream,
    lake: ObjectStore,
    portfolios: PortfolioStore,
    dead_letters: DeadLetters,
    check: bool = False,
    seed: int | None = None,
    batch_size: int = 500,
    repeat_share: float = 0.02,
    progress: Callable[[str], None] | None = None,
) -> SimulationReport:
    """Post transactions at ``rate``/s for ``seconds`` while the processor consumes them.

    The producer posts each tick's transactions in one ingest call (as an API Gateway in front of
    many apps would, batched the way Kinesis ``PutRecords`` takes them); the processor runs in a
    thread, following the stream, and catches up after the last post. ``check`` runs
    :func:`verify` on the accepted transactions in the order they were put (one producer, so per
    user that is the stream order).
    """
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:8]
    user_ids = [f"sim-{run}-{i:05d}" for i in range(users)]
    received: dict[str, float] = {}
    latencies: list[float] = []
    accepted: list[TransactionEvent] = []

    def on_batch(_: str, outcome: BatchOutcome) -> None:
        done = time.time()
        for result in outcome.results:
            posted = received.pop(result.event_id, None)
            if posted is not None:
                latencies.append(done - posted)

    producing = threading.Event()
    producing.set()
    summaries: list[ConsumeSummary] = []

    def consumer() -> None:
        summaries.append(
            consume(
                stream,
                lake=lake,
                portfolios=portfolios,
                dead_letters=dead_letters,
                batch_size=batch_size,
                follow=True,
                stop=lambda: not producing.is_set(),
                poll_s=0.02,
                on_batch=on_batch,
            )
        )

    # Connect (and start the embedded server) before the clock starts, not in the first batch.
    portfolios.get(user_ids[0])
    thread = threading.Thread(target=consumer, name="stream-processor", daemon=True)
    started = time.perf_counter()
    thread.start()
    posts = 0
    total = int(rate * seconds)
    try:
        while posts < total:
            elapsed = time.perf_counter() - started
            due = min(total, int(rate * elapsed) + 1, posts + MAX_PUT)
            if due > posts:
                bodies = transaction_bodies(
                    due - posts, user_ids, rng, run=run, start=posts, repeat_share=repeat_share
                )
                events = ingest_transactions(bodies, stream=stream)
                for event in events:
                    # From the moment ingest received it (before validation and the fsync'd put).
                    received.setdefault(event.event_id, event.received_at.timestamp())
                accepted += events
                posts = due
            next_tick = started + (posts / rate)
            time.sleep(max(0.0, min(1 / TICKS_PER_S, next_tick - time.perf_counter())))
    finally:
        producing.clear()
        thread.join()
    # Catch up on what the follower left after the last post.
    summary = summaries[0] if summaries else ConsumeSummary()
    rest = consume(
        stream,
        lake=lake,
        portfolios=portfolios,
        dead_letters=dead_letters,
        batch_size=batch_size,
        on_batch=on_batch,
    )
    for name, outcome in rest.by_stream.items():
        summary.by_stream.setdefault(name, BatchOutcome()).add(outcome)
    summary.batches += rest.batches
    summary.retries += rest.retries
    elapsed = time.perf_counter() - started
    summary.seconds = elapsed
    if progress is not None:
        progress(f"posted {posts:,} transactions in {elapsed:,.1f} s; the processor caught up")
    result = SimulationReport(run, posts, accepted, elapsed, summary, latencies)
    if check:
        result.report = verify(accepted, portfolios=portfolios, lake=lake)
    return result
