"""Raw files as the stream processor writes them (issue 21): transaction and outcome JSON Lines batches."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from datalake.realtime.events import TRANSACTIONS_STREAM, TransactionEvent, TransactionRequest, encode_event
from datalake.realtime.ports import ApplyResult, DeadLetter, Portfolio, StoredRecord
from datalake.realtime.processor import process_batch
from datalake.storage.base import ObjectStore


def transaction(
    user: str, kind: str, amount: str, currency: str, key: str, at: dt.datetime
) -> TransactionEvent:
    request = TransactionRequest(
        user_id=user,
        type=kind,  # type: ignore[arg-type]
        amount=Decimal(amount),
        currency=currency,  # type: ignore[arg-type]
        client_time=at - dt.timedelta(seconds=3),
        idempotency_key=key,
    )
    return TransactionEvent.from_request(request, at)


def outcome(
    event: TransactionEvent, status: str, balance: str, at: dt.datetime, reason: str | None = None
) -> bytes:
    doc: dict[str, Any] = {
        "event_id": event.event_id,
        "user_id": event.user_id,
        "currency": event.currency,
        "type": event.type,
        "amount": str(event.amount),
        "status": status,
        "reason": reason,
        "balance_after": balance,
        "processed_at": at.isoformat().replace("+00:00", "Z"),
    }
    return json.dumps(doc).encode()


def batch_key(stream: str, day: dt.datetime, name: str) -> str:
    return f"raw/realtime/{stream}/year={day:%Y}/month={day:%m}/day={day:%d}/{name}.jsonl"


def lines(*records: bytes) -> bytes:
    return b"\n".join(records) + b"\n"


def land_batch(
    store: ObjectStore, at: dt.datetime, name: str = "shardId-000000000000-1-3"
) -> list[TransactionEvent]:
    """A batch of three transactions (a buy, a sell within the balance, a sell beyond it) and their
    outcomes; returns the transactions."""
    buy = transaction("user-1", "buy", "250.00", "USD", f"{name}-1", at)
    sell = transaction("user-1", "sell", "50.00", "USD", f"{name}-2", at + dt.timedelta(seconds=1))
    beyond = transaction("user-1", "sell", "900.00", "USD", f"{name}-3", at + dt.timedelta(seconds=2))
    store.put_bytes(
        batch_key("transactions", at, name), lines(*(encode_event(e) for e in (buy, sell, beyond)))
    )
    store.put_bytes(
        batch_key("outcomes", at, name),
        lines(
            outcome(buy, "applied", "250.00", at),
            outcome(sell, "applied", "200.00", at),
            outcome(beyond, "rejected", "200.00", at, "insufficient_balance"),
        ),
    )
    return [buy, sell, beyond]


class MemoryPortfolios:
    """The portfolio store's rules in memory: each event id once, a sell beyond the balance rejected."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.balances: dict[tuple[str, str], Decimal] = {}
        self.seen: dict[str, str] = {}
        #: Times each event id took effect (a test's "applied twice" check).
        self.effects: dict[str, int] = {}
        #: An event id whose apply fails as a database outage would (a transient error).
        self.fail_on = fail_on

    def apply(self, event: TransactionEvent) -> ApplyResult:
        if event.event_id == self.fail_on:
            raise ConnectionError("the database went away")
        pair = (event.user_id, event.currency)
        balance = self.balances.get(pair, Decimal(0))
        if event.event_id in self.seen:
            return ApplyResult(event.event_id, "duplicate", f"already_{self.seen[event.event_id]}", balance)
        if event.type == "sell" and balance < event.amount:
            self.seen[event.event_id] = "rejected"
            return ApplyResult(event.event_id, "rejected", "insufficient_balance", balance)
        balance += event.amount if event.type == "buy" else -event.amount
        self.balances[pair] = balance
        self.seen[event.event_id] = "applied"
        self.effects[event.event_id] = self.effects.get(event.event_id, 0) + 1
        return ApplyResult(event.event_id, "applied", None, balance)

    def get(self, user_id: str) -> Portfolio | None:
        found = {c: b for (u, c), b in self.balances.items() if u == user_id}
        return Portfolio(user_id, found) if found else None

    def holders(self, currency: str) -> list[Portfolio]:
        return []


class MemoryDeadLetters:
    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    def send(self, letters: Sequence[DeadLetter]) -> None:
        self.letters += letters


def process_with_the_stream_processor(
    store: ObjectStore, events: Sequence[TransactionEvent], arrived: dt.datetime, deliveries: int = 2
) -> MemoryDeadLetters:
    """The real stream processor (``process_batch``) over one batch of ``events`` on shard 0, delivered
    ``deliveries`` times (at least once: a redelivered batch rewrites the same keys)."""
    records = [
        StoredRecord(
            TRANSACTIONS_STREAM, "shardId-000000000000", str(900 + n), e.user_id, encode_event(e), arrived
        )
        for n, e in enumerate(events)
    ]
    portfolios, letters = MemoryPortfolios(), MemoryDeadLetters()
    for _ in range(deliveries):
        process_batch(records, lake=store, portfolios=portfolios, dead_letters=letters, now=lambda: arrived)
    return letters
