"""The real-time events: what a user's app posts, what goes on the stream, and how it is checked.

A transaction moves one currency balance of one user: ``buy`` credits ``amount`` of
``currency`` to the user's portfolio and ``sell`` debits it (a sale larger than the balance is
rejected, never applied). The event id is derived from the user and the idempotency key, so a
retried post gets the same id and the stream processor applies it once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Streams by name: the same names are the Kinesis stream suffixes and the local log folders.
TRANSACTIONS_STREAM = "transactions"
PRICES_STREAM = "prices"
STREAMS: tuple[str, ...] = (TRANSACTIONS_STREAM, PRICES_STREAM)

Currency = Literal["USD", "COP"]
TransactionType = Literal["buy", "sell"]
#: Amounts are exact decimals with at most 2 places (cents); larger than zero, bounded.
Amount = Annotated[Decimal, Field(gt=0, le=Decimal("1e12"), max_digits=16, decimal_places=2)]


class TransactionRequest(BaseModel):
    """The body a user's app posts to ``POST /transactions``.

    Unknown fields are refused so a typo (``ammount``) is an error that names it, not a
    silently ignored value.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    user_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    type: TransactionType
    amount: Amount
    currency: Currency
    client_time: dt.datetime = Field(description="When the user acted, with a UTC offset.")
    idempotency_key: str = Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")

    @field_validator("client_time")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("needs a UTC offset, e.g. 2026-12-06T10:00:00Z")
        return value.astimezone(dt.UTC)


def transaction_event_id(user_id: str, idempotency_key: str) -> str:
    """The same id for every retry of one user's idempotency key."""
    digest = hashlib.sha256(f"{user_id}\x00{idempotency_key}".encode()).hexdigest()
    return f"tx-{digest[:32]}"


class TransactionEvent(TransactionRequest):
    """A validated transaction on the ``transactions`` stream."""

    kind: Literal["transaction"] = "transaction"
    event_id: str
    received_at: dt.datetime

    @classmethod
    def from_request(cls, request: TransactionRequest, received_at: dt.datetime) -> TransactionEvent:
        return cls(
            **request.model_dump(),
            event_id=transaction_event_id(request.user_id, request.idempotency_key),
            received_at=received_at.astimezone(dt.UTC),
        )


class PriceEvent(BaseModel):
    """One USD/COP rate on the ``prices`` stream (the official TRM or another provider)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["price"] = "price"
    event_id: str
    pair: Literal["USD/COP"] = "USD/COP"
    rate_cop_per_usd: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=4)]
    valid_from: dt.date = Field(description="The first day the rate applies (TRM: vigenciadesde).")
    valid_until: dt.date | None = None
    provider: str
    observed_at: dt.datetime

    @staticmethod
    def make_id(provider: str, valid_from: dt.date, rate: Decimal) -> str:
        """Same rate and validity from the same provider -> same id (a re-poll is a duplicate)."""
        digest = hashlib.sha256(f"{provider}\x00{valid_from.isoformat()}\x00{rate}".encode()).hexdigest()
        return f"px-{digest[:32]}"


StreamEvent = TransactionEvent | PriceEvent


def encode_event(event: StreamEvent) -> bytes:
    """The bytes put on a stream: compact JSON, decimals as strings (exact), times in ISO 8601."""
    return event.model_dump_json().encode()


def decode_event(data: bytes) -> StreamEvent:
    """Parse stream bytes back; raises ``ValueError`` naming the problem for a poison record."""
    try:
        payload: Any = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise ValueError("not a JSON object")
    kind = payload.get("kind")
    if kind == "transaction":
        return TransactionEvent.model_validate(payload)
    if kind == "price":
        return PriceEvent.model_validate(payload)
    raise ValueError(f"kind: unknown event kind {kind!r}")
