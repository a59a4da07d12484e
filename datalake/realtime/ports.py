"""The three real-time ports. Each has a local adapter and an AWS adapter.

- :class:`Stream`: Kinesis Data Streams on AWS; locally an append-only, fsync'd log per stream
  under the lake root (``<lake_root>/_streams/<stream>/``) with per-consumer checkpoints.
- :class:`PortfolioStore`: DynamoDB with condition expressions on AWS; locally the embedded
  PostgreSQL with conditional updates in one transaction.
- :class:`Notifier`: SNS on AWS (message attributes per user); locally a notifications table
  plus an optional webhook.

Delivery is at least once everywhere (a consumer that dies before its checkpoint sees the
records again), so exactly-once effects come from the store: :meth:`PortfolioStore.apply` is
idempotent per ``event_id``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol

from datalake.realtime.events import TransactionEvent


@dataclass(frozen=True)
class StreamRecord:
    """One record to put: the partition key keeps one user's records in order (same shard)."""

    partition_key: str
    data: bytes


@dataclass(frozen=True)
class StoredRecord:
    """One record read back from a stream."""

    stream: str
    shard_id: str
    #: Increasing within a shard; a string because Kinesis sequence numbers exceed 64 bits.
    sequence_number: str
    partition_key: str
    data: bytes
    arrived_at: dt.datetime


class Stream(Protocol):
    """An ordered, durable log per shard with per-consumer checkpoints."""

    def put(self, stream: str, records: Sequence[StreamRecord]) -> list[str]:
        """Append records durably (fsync'd / acknowledged); returns their sequence numbers."""
        ...

    def shards(self, stream: str) -> list[str]:
        """The stream's shard ids."""
        ...

    def read(self, stream: str, shard_id: str, consumer: str, limit: int) -> list[StoredRecord]:
        """Up to ``limit`` records after the consumer's checkpoint, in sequence order."""
        ...

    def checkpoint(self, stream: str, shard_id: str, consumer: str, sequence_number: str) -> None:
        """Record that ``consumer`` has processed everything up to ``sequence_number``."""
        ...


ApplyStatus = Literal["applied", "duplicate", "rejected"]


@dataclass(frozen=True)
class ApplyResult:
    """What :meth:`PortfolioStore.apply` did with one transaction."""

    event_id: str
    status: ApplyStatus
    #: Why a transaction was rejected (e.g. ``insufficient_balance``); None otherwise.
    reason: str | None = None
    #: The user's balance in the transaction's currency after this call.
    balance: Decimal | None = None


@dataclass(frozen=True)
class Portfolio:
    """One user's balances per currency."""

    user_id: str
    balances: dict[str, Decimal] = field(default_factory=dict)
    updated_at: dt.datetime | None = None


class PortfolioStore(Protocol):
    """Users' balances, changed only through idempotent, conditional :meth:`apply`."""

    def apply(self, event: TransactionEvent) -> ApplyResult:
        """Apply one transaction exactly once.

        A ``sell`` larger than the balance is recorded as ``rejected`` with its reason and
        changes no balance; an ``event_id`` already recorded (applied or rejected) returns
        ``duplicate`` and changes nothing.
        """
        ...

    def get(self, user_id: str) -> Portfolio | None:
        """One user's portfolio, or None when the user has none."""
        ...

    def holders(self, currency: str) -> list[Portfolio]:
        """Every portfolio with a positive balance in ``currency`` (the trade advisor's audience)."""
        ...


@dataclass(frozen=True)
class Notification:
    """A personal message to one user, deduplicated by ``dedupe_key``."""

    user_id: str
    subject: str
    message: str
    dedupe_key: str
    attributes: dict[str, str] = field(default_factory=dict)


class Notifier(Protocol):
    """Publishes personal notifications (SNS with mobile push behind it, or a local table)."""

    def publish(self, notification: Notification) -> str:
        """Publish once per ``dedupe_key``; returns the message id."""
        ...


@dataclass(frozen=True)
class DeadLetter:
    """A record no retry can fix, kept whole with the reason it was set aside."""

    record: StoredRecord
    reason: str


class DeadLetters(Protocol):
    """Where poison records go (SQS on AWS; locally a table in the embedded PostgreSQL)."""

    def send(self, letters: Sequence[DeadLetter]) -> None:
        """Keep each letter durably, with its record's bytes and its reason."""
        ...
