"""Raw files as the stream processor writes them (issue 21): transaction and outcome JSON Lines batches."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from datalake.realtime.events import TransactionEvent, TransactionRequest, encode_event
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
