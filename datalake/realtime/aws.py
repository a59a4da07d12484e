"""The AWS adapters of the real-time ports: Kinesis, DynamoDB, SNS and SQS.

Every client comes from :func:`datalake.aws.client`, so ``AWS_ENDPOINT_URL`` (the moto server in
the tests) reaches them all, and each adapter takes the optional ``boto3_session`` like the rest
of the lake.

One DynamoDB table (``PORTFOLIOS_TABLE``) holds, under a string partition key ``pk`` and sort
key ``sk``:

======================================  ============================================================
item                                    keys
======================================  ============================================================
a user's balance in one currency        ``pk=user#<user_id>``, ``sk=balance#<currency>``
a transaction's outcome (once per id)   ``pk=user#<user_id>``, ``sk=tx#<event_id>``
a local consumer's stream checkpoint    ``pk=checkpoint#<stream>#<shard_id>``, ``sk=consumer#<name>``
a notification's dedupe record          ``pk=notification#<dedupe_key>``, ``sk=notification``
======================================  ============================================================

Balance items alone carry ``balance_currency``, the partition key of the sparse
``by_currency`` index the trade advisor's :meth:`DynamoPortfolioStore.holders` queries.

Why the checkpoints live in the portfolios table: on AWS the Lambda event source mapping keeps
the stream position itself, so :meth:`KinesisStream.checkpoint` only serves consumers run
outside Lambda (``datalake stream run`` with ``LAKE_RUNTIME=aws``, the crash test). A second
table would be one more resource, grant and alarm for a handful of items; a checkpoint item
never has ``balance_currency``, so it never shows in the index.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from datalake import aws
from datalake.realtime.events import STREAMS, TransactionEvent
from datalake.realtime.ports import (
    ApplyResult,
    DeadLetter,
    Notification,
    Portfolio,
    StoredRecord,
    StreamRecord,
)
from datalake.settings import Settings, get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent

#: Kinesis PutRecords: at most 500 records and 5 MiB per call (AWS Kinesis API reference).
PUT_RECORDS_MAX_RECORDS = 500
PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024
#: Kinesis GetRecords returns at most 10,000 records per call.
GET_RECORDS_MAX_LIMIT = 10_000
#: DynamoDB BatchGetItem reads at most 100 keys per call.
BATCH_GET_MAX_KEYS = 100
#: SQS SendMessageBatch: at most 10 messages, 256 KiB per message and per batch.
SQS_BATCH_MAX_MESSAGES = 10
SQS_MAX_MESSAGE_BYTES = 256 * 1024
#: SNS: at most 10 message attributes per published message.
SNS_MAX_MESSAGE_ATTRIBUTES = 10
#: The currencies a portfolio can hold (events.Currency).
CURRENCIES: tuple[str, ...] = ("USD", "COP")
#: The sparse index of balance items by currency.
BY_CURRENCY_INDEX = "by_currency"
#: How long a notification's dedupe record is kept (DynamoDB TTL attribute ``expires_at``).
NOTIFICATION_DEDUPE_TTL = dt.timedelta(days=7)
#: Kinesis shard iterators expire after 5 minutes; a cached one is reused for less than that.
_ITERATOR_REUSE_S = 240.0
#: Kinesis sequence numbers are decimal strings of up to 128 digits; padded, they sort as text.
_SEQUENCE_WIDTH = 128


def stream_name(stream: str, settings: Settings | None = None) -> str:
    """The Kinesis stream of a logical stream: ``<realtime_stream_prefix>-<stream>``."""
    settings = settings or get_settings()
    return f"{settings.realtime_stream_prefix}-{stream}"


def portfolio_table_definition(table_name: str) -> dict[str, Any]:
    """The ``CreateTable`` arguments of the portfolios table (the template declares the same).

    Parameters
    ----------
    table_name
        The table's name.

    Returns
    -------
    dict
        Keyword arguments for ``dynamodb.create_table`` (on-demand billing, the sparse
        ``by_currency`` index).
    """
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "balance_currency", "AttributeType": "S"},
            {"AttributeName": "user_id", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": BY_CURRENCY_INDEX,
                "KeySchema": [
                    {"AttributeName": "balance_currency", "KeyType": "HASH"},
                    {"AttributeName": "user_id", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


class KinesisError(RuntimeError):
    """Kinesis kept refusing some records after every retry."""


class KinesisStream:
    """The :class:`~datalake.realtime.ports.Stream` port on Kinesis Data Streams.

    Parameters
    ----------
    settings
        Lake settings (stream prefix, portfolios table for the checkpoints, endpoint).
    boto3_session
        Session for the clients; a new one in the configured region when omitted.
    max_attempts
        PutRecords calls per chunk before giving up on the entries Kinesis keeps failing.
    sleep
        Waits between retries (tests pass a no-op).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        boto3_session: boto3.session.Session | None = None,
        *,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or get_settings()
        self.kinesis = aws.client("kinesis", boto3_session, self.settings)
        self.dynamodb = aws.client("dynamodb", boto3_session, self.settings)
        self.table = self.settings.portfolios_table
        self.max_attempts = max_attempts
        self.sleep = sleep
        # (stream, shard, consumer) -> (sequence the last read ended at, its next iterator, when).
        self._iterators: dict[tuple[str, str, str], tuple[str | None, str, float]] = {}

    # -- writing ------------------------------------------------------------------------------

    def put(self, stream: str, records: Sequence[StreamRecord]) -> list[str]:
        """Append records; returns their sequence numbers in the order given.

        PutRecords is not atomic: a call can accept some entries and refuse others
        (``ProvisionedThroughputExceededException``, ``InternalFailure``). Only the refused
        entries are sent again, with exponential backoff.

        Raises
        ------
        KinesisError
            When some entries are still refused after ``max_attempts`` calls (the ones accepted
            stay on the stream; the caller's retry gets the same event ids, applied once).
        """
        name = stream_name(stream, self.settings)
        sequences: list[str | None] = [None] * len(records)
        for chunk in _put_chunks(records):
            pending = chunk
            for attempt in range(self.max_attempts):
                response = self.kinesis.put_records(
                    StreamName=name,
                    Records=[
                        {"Data": records[i].data, "PartitionKey": records[i].partition_key} for i in pending
                    ],
                )
                # Result entries are in request order; failed ones carry ErrorCode instead.
                refused = []
                for index, entry in zip(pending, response["Records"], strict=True):
                    if entry.get("ErrorCode"):
                        refused.append(index)
                    else:
                        sequences[index] = entry["SequenceNumber"]
                pending = refused
                if not pending:
                    break
                self.sleep(min(0.05 * 2**attempt, 2.0))
            if pending:
                raise KinesisError(
                    f"{name}: {len(pending)} record(s) refused after {self.max_attempts} calls"
                )
        return [s for s in sequences if s is not None]

    # -- reading ------------------------------------------------------------------------------

    def shards(self, stream: str) -> list[str]:
        """The stream's shard ids (ListShards, every page)."""
        name = stream_name(stream, self.settings)
        shard_ids: list[str] = []
        kwargs: dict[str, Any] = {"StreamName": name}
        while True:
            page = self.kinesis.list_shards(**kwargs)
            shard_ids += [shard["ShardId"] for shard in page["Shards"]]
            if not page.get("NextToken"):
                return shard_ids
            kwargs = {"NextToken": page["NextToken"]}

    def read(self, stream: str, shard_id: str, consumer: str, limit: int) -> list[StoredRecord]:
        """Up to ``limit`` records after the consumer's checkpoint (from the oldest without one).

        GetRecords can answer empty while records lie further on (a shard's empty stretches),
        so it follows ``NextShardIterator`` a few times while Kinesis reports being behind.
        GetShardIterator is limited to 5 calls per second per shard, so when the checkpoint is
        where the previous read ended, that read's ``NextShardIterator`` is used instead of a new
        one (iterators expire after 5 minutes: an expired one is replaced).
        """
        name = stream_name(stream, self.settings)
        checkpoint = self._checkpoint(stream, shard_id, consumer)
        cached = self._iterators.get((stream, shard_id, consumer))
        iterator = None
        if cached and cached[0] == checkpoint and time.monotonic() - cached[2] < _ITERATOR_REUSE_S:
            iterator = cached[1]
        limit = max(1, min(limit, GET_RECORDS_MAX_LIMIT))
        try:
            response, iterator = self._get_records(name, shard_id, checkpoint, iterator, limit)
        except ClientError as error:
            if _code(error) != "ExpiredIteratorException":
                raise
            response, iterator = self._get_records(name, shard_id, checkpoint, None, limit)
        records = [
            StoredRecord(
                stream=stream,
                shard_id=shard_id,
                sequence_number=r["SequenceNumber"],
                partition_key=r["PartitionKey"],
                data=bytes(r["Data"]),
                arrived_at=_utc(r["ApproximateArrivalTimestamp"]),
            )
            for r in response["Records"]
        ]
        ended = records[-1].sequence_number if records else checkpoint
        if iterator:
            self._iterators[(stream, shard_id, consumer)] = (ended, iterator, time.monotonic())
        else:
            self._iterators.pop((stream, shard_id, consumer), None)
        return records

    def _get_records(
        self, name: str, shard_id: str, checkpoint: str | None, iterator: str | None, limit: int
    ) -> tuple[dict[str, Any], str | None]:
        """One read from ``iterator`` (a new one at the checkpoint when None), and the next iterator."""
        if iterator is None:
            position: dict[str, str] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": checkpoint}
                if checkpoint
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id, **position)[
                "ShardIterator"
            ]
        for _ in range(5):
            response = self.kinesis.get_records(ShardIterator=iterator, Limit=limit)
            iterator = response.get("NextShardIterator")
            if response["Records"] or not response.get("MillisBehindLatest") or not iterator:
                break  # records, caught up, or a closed shard read to its end
        return response, iterator

    def checkpoint(self, stream: str, shard_id: str, consumer: str, sequence_number: str) -> None:
        """Record the consumer's position; it only moves forward (an older one changes nothing)."""
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item={
                    **_checkpoint_key(stream, shard_id, consumer),
                    "sequence_number": {"S": sequence_number},
                    "sequence_sort": {"S": sequence_number.zfill(_SEQUENCE_WIDTH)},
                    "updated_at": {"S": _now_iso()},
                },
                ConditionExpression="attribute_not_exists(pk) OR sequence_sort <= :new",
                ExpressionAttributeValues={":new": {"S": sequence_number.zfill(_SEQUENCE_WIDTH)}},
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise

    def _checkpoint(self, stream: str, shard_id: str, consumer: str) -> str | None:
        item = self.dynamodb.get_item(
            TableName=self.table, Key=_checkpoint_key(stream, shard_id, consumer), ConsistentRead=True
        ).get("Item")
        return item["sequence_number"]["S"] if item else None


def kinesis_event_records(event: KinesisStreamEvent | dict[str, Any]) -> list[StoredRecord]:
    """The records of a Kinesis event source mapping's event, as the processor takes them.

    Parameters
    ----------
    event
        The Lambda event (``{"Records": [{"kinesis": {...}, "eventID": ..., "eventSourceARN": ...}]}``),
        raw or as powertools' ``KinesisStreamEvent``.

    Returns
    -------
    list of StoredRecord
        In the event's order (one shard's, in sequence order); ``stream`` is the logical stream
        (``transactions``, ``prices``) the ARN's stream name ends with, ``shard_id`` the part of
        ``eventID`` before the colon.

    Raises
    ------
    ValueError
        For a stream that is not one of :data:`~datalake.realtime.events.STREAMS`.
    """
    from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent

    if isinstance(event, dict):
        event = KinesisStreamEvent(event)
    records = []
    for record in event.records:
        arn_stream = record.event_source_arn.rsplit("/", 1)[-1]
        logical = next((s for s in STREAMS if arn_stream == s or arn_stream.endswith(f"-{s}")), None)
        if logical is None:
            raise ValueError(f"eventSourceARN: stream {arn_stream!r} is none of {', '.join(STREAMS)}")
        kinesis = record.kinesis
        records.append(
            StoredRecord(
                stream=logical,
                shard_id=record.event_id.split(":", 1)[0],
                sequence_number=kinesis.sequence_number,
                partition_key=kinesis.partition_key,
                data=kinesis.data_as_bytes(),
                arrived_at=dt.datetime.fromtimestamp(kinesis.approximate_arrival_timestamp, dt.UTC),
            )
        )
    return records


def _put_chunks(records: Sequence[StreamRecord]) -> Iterator[list[int]]:
    """Indexes of ``records`` in PutRecords-sized chunks (500 records, 5 MiB with the keys)."""
    chunk: list[int] = []
    size = 0
    for index, record in enumerate(records):
        record_size = len(record.data) + len(record.partition_key.encode())
        if chunk and (len(chunk) == PUT_RECORDS_MAX_RECORDS or size + record_size > PUT_RECORDS_MAX_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(index)
        size += record_size
    if chunk:
        yield chunk


def _checkpoint_key(stream: str, shard_id: str, consumer: str) -> dict[str, Any]:
    return {"pk": {"S": f"checkpoint#{stream}#{shard_id}"}, "sk": {"S": f"consumer#{consumer}"}}


class DynamoPortfolioStore:
    """The :class:`~datalake.realtime.ports.PortfolioStore` port on DynamoDB.

    :meth:`apply` writes, in one ``TransactWriteItems``, the transaction's item (condition
    ``attribute_not_exists(event_id)``: each id once) and the new balance (condition: the balance
    is still the one read, and for a sale at least the amount, so it never goes below zero).
    The transaction's cancellation reasons tell what happened: the transaction item's condition
    failed -> ``duplicate``; the balance's -> it changed in between, read again and retry.
    A sale beyond the balance is recorded once as ``rejected`` (``insufficient_balance``) with
    the same id condition and a check that the balance did not change.

    Parameters
    ----------
    settings
        Lake settings (``PORTFOLIOS_TABLE``, endpoint).
    boto3_session
        Session for the client; a new one in the configured region when omitted.
    now
        The clock of ``processed_at`` and ``updated_at`` (UTC).
    max_attempts
        Read-and-write rounds before giving up when the balance keeps changing underneath.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        boto3_session: boto3.session.Session | None = None,
        *,
        now: Callable[[], dt.datetime] | None = None,
        max_attempts: int = 8,
    ) -> None:
        self.settings = settings or get_settings()
        self.client = aws.client("dynamodb", boto3_session, self.settings)
        self.table = self.settings.portfolios_table
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.max_attempts = max_attempts

    def apply(self, event: TransactionEvent) -> ApplyResult:
        """Apply one transaction exactly once (see the class).

        Raises
        ------
        RuntimeError
            When the balance changed underneath on every attempt (a transient failure: the
            stream processor reports the record and it is retried).
        """
        balance_key = _balance_key(event.user_id, event.currency)
        for _ in range(self.max_attempts):
            item = self.client.get_item(TableName=self.table, Key=balance_key, ConsistentRead=True).get(
                "Item"
            )
            previous = Decimal(item["balance"]["N"]) if item else None
            held = previous or Decimal(0)
            now = _iso(self.now())
            if event.type == "sell" and held < event.amount:
                outcome = self._write(
                    event,
                    "rejected",
                    "insufficient_balance",
                    held,
                    now,
                    self._unchanged(balance_key, previous),
                )
                if outcome is not None:
                    return ApplyResult(
                        event.event_id,
                        outcome,
                        "insufficient_balance" if outcome == "rejected" else None,
                        held,
                    )
                continue
            after = held + event.amount if event.type == "buy" else held - event.amount
            outcome = self._write(
                event, "applied", None, after, now, self._update(balance_key, event, previous, after, now)
            )
            if outcome == "applied":
                return ApplyResult(event.event_id, "applied", None, after)
            if outcome == "duplicate":
                return ApplyResult(event.event_id, "duplicate", None, held)
        raise RuntimeError(f"{event.event_id}: the balance of {event.user_id} kept changing; retry later")

    def _write(
        self,
        event: TransactionEvent,
        status: str,
        reason: str | None,
        balance_after: Decimal,
        now: str,
        balance_action: dict[str, Any],
    ) -> str | None:
        """One TransactWriteItems; the status, ``duplicate``, or None when the balance changed."""
        transaction = {
            "pk": {"S": f"user#{event.user_id}"},
            "sk": {"S": f"tx#{event.event_id}"},
            "event_id": {"S": event.event_id},
            "user_id": {"S": event.user_id},
            "currency": {"S": event.currency},
            "type": {"S": event.type},
            "amount": {"N": str(event.amount)},
            "status": {"S": status},
            "balance_after": {"N": str(balance_after)},
            "processed_at": {"S": now},
            "received_at": {"S": _iso(event.received_at)},
            **({"reason": {"S": reason}} if reason else {}),
        }
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": transaction,
                            "ConditionExpression": "attribute_not_exists(event_id)",
                        }
                    },
                    balance_action,
                ]
            )
        except ClientError as error:
            if _code(error) != "TransactionCanceledException":
                raise
            codes = _cancellation_codes(error)
            if codes and codes[0] == "ConditionalCheckFailed":
                return "duplicate"
            if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
                return None  # the balance moved (or another writer held it): read again
            raise
        return status

    def _update(
        self,
        key: dict[str, Any],
        event: TransactionEvent,
        previous: Decimal | None,
        after: Decimal,
        now: str,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {
            ":after": {"N": str(after)},
            ":user": {"S": event.user_id},
            ":currency": {"S": event.currency},
            ":now": {"S": now},
        }
        if previous is None:
            condition = "attribute_not_exists(balance)"
        else:
            condition = "balance = :previous"
            values[":previous"] = {"N": str(previous)}
        if event.type == "sell":
            # Never below zero, whatever was read: DynamoDB checks it on the stored value.
            condition += " AND balance >= :amount"
            values[":amount"] = {"N": str(event.amount)}
        return {
            "Update": {
                "TableName": self.table,
                "Key": key,
                "UpdateExpression": (
                    "SET balance = :after, user_id = :user, balance_currency = :currency, updated_at = :now"
                ),
                "ConditionExpression": condition,
                "ExpressionAttributeValues": values,
            }
        }

    def _unchanged(self, key: dict[str, Any], previous: Decimal | None) -> dict[str, Any]:
        if previous is None:
            return {
                "ConditionCheck": {
                    "TableName": self.table,
                    "Key": key,
                    "ConditionExpression": "attribute_not_exists(balance)",
                }
            }
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": key,
                "ConditionExpression": "balance = :previous",
                "ExpressionAttributeValues": {":previous": {"N": str(previous)}},
            }
        }

    def transaction(self, user_id: str, event_id: str) -> dict[str, Any] | None:
        """The recorded outcome of one transaction (status, reason, balance_after...), or None."""
        item = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": f"user#{user_id}"}, "sk": {"S": f"tx#{event_id}"}},
            ConsistentRead=True,
        ).get("Item")
        return {name: _plain(value) for name, value in item.items()} if item else None

    def get(self, user_id: str) -> Portfolio | None:
        """One user's balances (a consistent query of its ``balance#`` items)."""
        items = list(
            _pages(
                self.client.query,
                TableName=self.table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :balance)",
                ExpressionAttributeValues={":pk": {"S": f"user#{user_id}"}, ":balance": {"S": "balance#"}},
                ConsistentRead=True,
            )
        )
        return _portfolio(user_id, items) if items else None

    def holders(self, currency: str) -> list[Portfolio]:
        """Every portfolio holding a positive ``currency`` balance, ordered by user id.

        The sparse ``by_currency`` index names the holders (eventually consistent, as a global
        secondary index is); their balances are then read whole with BatchGetItem.
        """
        user_ids = [
            item["user_id"]["S"]
            for item in _pages(
                self.client.query,
                TableName=self.table,
                IndexName=BY_CURRENCY_INDEX,
                KeyConditionExpression="balance_currency = :currency",
                FilterExpression="balance > :zero",
                ExpressionAttributeValues={":currency": {"S": currency}, ":zero": {"N": "0"}},
            )
        ]
        keys = [_balance_key(user, held) for user in user_ids for held in CURRENCIES]
        by_user: dict[str, list[dict[str, Any]]] = {user: [] for user in user_ids}
        for start in range(0, len(keys), BATCH_GET_MAX_KEYS):
            request: dict[str, Any] = {self.table: {"Keys": keys[start : start + BATCH_GET_MAX_KEYS]}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.table, []):
                    by_user[item["user_id"]["S"]].append(item)
                request = response.get("UnprocessedKeys") or {}
        return [_portfolio(user, items) for user, items in sorted(by_user.items()) if items]


def _balance_key(user_id: str, currency: str) -> dict[str, Any]:
    return {"pk": {"S": f"user#{user_id}"}, "sk": {"S": f"balance#{currency}"}}


def _portfolio(user_id: str, items: list[dict[str, Any]]) -> Portfolio:
    balances = {item["sk"]["S"].removeprefix("balance#"): Decimal(item["balance"]["N"]) for item in items}
    stamps = [item["updated_at"]["S"] for item in items if "updated_at" in item]
    updated = dt.datetime.fromisoformat(max(stamps)) if stamps else None
    return Portfolio(user_id=user_id, balances=dict(sorted(balances.items())), updated_at=updated)


def _pages(call: Callable[..., dict[str, Any]], **kwargs: Any) -> Iterator[dict[str, Any]]:
    while True:
        page = call(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _plain(value: dict[str, Any]) -> Any:
    (kind, raw), *_ = value.items()
    return Decimal(raw) if kind == "N" else raw


class SnsNotifier:
    """The :class:`~datalake.realtime.ports.Notifier` port on SNS.

    Each message carries the user as the ``user_id`` message attribute (String), beside the
    notification's own attributes, so a subscription's filter policy routes one user's messages
    to that user's mobile endpoint. Deduplication: a conditional put of a
    ``notification#<dedupe_key>`` item (with a TTL) in the portfolios table claims the key before
    publishing, and the message id is stored after it; a second publish with the same key returns
    that id without publishing. A process that dies between the claim and the publish leaves a
    claim without a message id, which the next attempt publishes (at least once, never silently
    dropped). On a FIFO topic SNS's own deduplication id is set too.

    Parameters
    ----------
    settings
        Lake settings (``NOTIFICATIONS_TOPIC_ARN``, ``PORTFOLIOS_TABLE``, endpoint).
    boto3_session
        Session for the clients; a new one in the configured region when omitted.
    topic_arn
        The topic; ``NOTIFICATIONS_TOPIC_ARN`` when omitted.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        boto3_session: boto3.session.Session | None = None,
        *,
        topic_arn: str | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.sns = aws.client("sns", boto3_session, self.settings)
        self.dynamodb = aws.client("dynamodb", boto3_session, self.settings)
        self.table = self.settings.portfolios_table
        self.topic_arn = topic_arn or self.settings.notifications_topic_arn
        self.now = now or (lambda: dt.datetime.now(dt.UTC))

    def publish(self, notification: Notification) -> str:
        """Publish once per ``dedupe_key``; returns the SNS message id.

        Raises
        ------
        ValueError
            With more than 10 message attributes (SNS's limit), or no topic configured.
        """
        if not self.topic_arn:
            raise ValueError("notifications_topic_arn: no SNS topic configured (NOTIFICATIONS_TOPIC_ARN)")
        attributes = {"user_id": notification.user_id, **notification.attributes}
        if len(attributes) > SNS_MAX_MESSAGE_ATTRIBUTES:
            raise ValueError(f"attributes: {len(attributes)} message attributes, SNS takes at most 10")
        key = {"pk": {"S": f"notification#{notification.dedupe_key}"}, "sk": {"S": "notification"}}
        now = self.now()
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item={
                    **key,
                    "user_id": {"S": notification.user_id},
                    "claimed_at": {"S": _iso(now)},
                    "expires_at": {"N": str(int((now + NOTIFICATION_DEDUPE_TTL).timestamp()))},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise
            claimed = self.dynamodb.get_item(TableName=self.table, Key=key, ConsistentRead=True).get(
                "Item", {}
            )
            if "message_id" in claimed:
                return str(claimed["message_id"]["S"])
        extra: dict[str, Any] = {}
        if self.topic_arn.endswith(".fifo"):
            extra = {
                "MessageGroupId": notification.user_id,
                "MessageDeduplicationId": notification.dedupe_key[:128],
            }
        message_id = self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=notification.subject[:100],
            Message=notification.message,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            },
            **extra,
        )["MessageId"]
        self.dynamodb.update_item(
            TableName=self.table,
            Key=key,
            UpdateExpression="SET message_id = :id, published_at = :now",
            ExpressionAttributeValues={":id": {"S": message_id}, ":now": {"S": _iso(self.now())}},
        )
        return str(message_id)


class DeadLetterError(RuntimeError):
    """SQS kept refusing some dead letters (the records stay reported as failed)."""


def dead_letter_body(letter: DeadLetter) -> str:
    """The SQS message of one dead letter: the record whole (bytes in base64) and the reason."""
    record = letter.record
    return json.dumps(
        {
            "reason": letter.reason,
            "stream": record.stream,
            "shard_id": record.shard_id,
            "sequence_number": record.sequence_number,
            "partition_key": record.partition_key,
            "arrived_at": _iso(record.arrived_at),
            "data_base64": base64.b64encode(record.data).decode("ascii"),
        },
        separators=(",", ":"),
    )


def read_dead_letter(body: str) -> DeadLetter:
    """A dead letter back from its SQS message body (:func:`dead_letter_body`)."""
    payload = json.loads(body)
    record = StoredRecord(
        stream=payload["stream"],
        shard_id=payload["shard_id"],
        sequence_number=payload["sequence_number"],
        partition_key=payload["partition_key"],
        data=base64.b64decode(payload["data_base64"]),
        arrived_at=dt.datetime.fromisoformat(payload["arrived_at"]),
    )
    return DeadLetter(record=record, reason=payload["reason"])


class SqsDeadLetters:
    """The :class:`~datalake.realtime.ports.DeadLetters` port on SQS (SendMessageBatch).

    Parameters
    ----------
    settings
        Lake settings (``DEAD_LETTER_QUEUE_URL``, endpoint).
    boto3_session
        Session for the client; a new one in the configured region when omitted.
    queue_url
        The queue; ``DEAD_LETTER_QUEUE_URL`` when omitted.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        boto3_session: boto3.session.Session | None = None,
        *,
        queue_url: str | None = None,
        max_attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or get_settings()
        self.sqs = aws.client("sqs", boto3_session, self.settings)
        self.queue_url = queue_url or self.settings.dead_letter_queue_url
        self.max_attempts = max_attempts
        self.sleep = sleep

    def send(self, letters: Sequence[DeadLetter]) -> None:
        """Send each letter (10 per SendMessageBatch), retrying the entries SQS failed.

        Raises
        ------
        ValueError
            For a letter over SQS's 256 KiB, or no queue configured (nothing is sent then).
        DeadLetterError
            When some entries still fail after the retries (the caller reports the records as
            failed, so they come back rather than vanish).
        """
        if not letters:
            return
        if not self.queue_url:
            raise ValueError("dead_letter_queue_url: no SQS queue configured (DEAD_LETTER_QUEUE_URL)")
        bodies = [dead_letter_body(letter) for letter in letters]
        for body, letter in zip(bodies, letters, strict=True):
            # Leave room for the message attributes, which count towards the size too.
            if len(body.encode()) > SQS_MAX_MESSAGE_BYTES - 4096:
                raise ValueError(
                    f"record {letter.record.sequence_number}: its dead letter takes {len(body)} bytes, "
                    "over SQS's 256 KiB"
                )
        for chunk in _sqs_chunks([len(body.encode()) for body in bodies]):
            pending = {str(i): i for i in chunk}
            for attempt in range(self.max_attempts):
                response = self.sqs.send_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {
                            "Id": entry_id,
                            "MessageBody": bodies[i],
                            "MessageAttributes": {
                                "reason": {"DataType": "String", "StringValue": letters[i].reason[:256]},
                                "stream": {"DataType": "String", "StringValue": letters[i].record.stream},
                            },
                        }
                        for entry_id, i in pending.items()
                    ],
                )
                failed = response.get("Failed", [])
                if any(f.get("SenderFault") for f in failed):
                    raise DeadLetterError(f"SQS refused dead letters: {failed}")
                pending = {f["Id"]: pending[f["Id"]] for f in failed}
                if not pending:
                    break
                self.sleep(min(0.05 * 2**attempt, 1.0))
            if pending:
                raise DeadLetterError(
                    f"{len(pending)} dead letter(s) not sent after {self.max_attempts} calls"
                )


def _sqs_chunks(sizes: Sequence[int]) -> Iterator[list[int]]:
    """Indexes in SendMessageBatch-sized chunks: 10 messages, 256 KiB of bodies (attributes are small)."""
    chunk: list[int] = []
    total = 0
    for index, size in enumerate(sizes):
        if chunk and (len(chunk) == SQS_BATCH_MAX_MESSAGES or total + size > SQS_MAX_MESSAGE_BYTES - 4096):
            yield chunk
            chunk, total = [], 0
        chunk.append(index)
        total += size
    if chunk:
        yield chunk


def _cancellation_codes(error: ClientError) -> list[str]:
    """The per-item codes of a cancelled transaction (``None`` where an item passed).

    botocore puts them in ``CancellationReasons``; without it (an older endpoint), they are
    parsed from the message: ``... [ConditionalCheckFailed, None]``.
    """
    reasons = error.response.get("CancellationReasons")
    if reasons:
        return [str(r.get("Code", "None")) for r in reasons]
    message = error.response.get("Error", {}).get("Message", "")
    if "[" in message and message.endswith("]"):
        return [part.strip() for part in message[message.rindex("[") + 1 : -1].split(",")]
    return []


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _iso(value: dt.datetime) -> str:
    return _utc(value).isoformat()


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
