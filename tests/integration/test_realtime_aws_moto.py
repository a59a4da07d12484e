"""The AWS adapters of the real-time ports (datalake.realtime.aws) against the moto server over HTTP.

Kinesis, DynamoDB, SNS and SQS data planes, each through the same boto3 clients a deployment
uses (``AWS_ENDPOINT_URL`` pointing at moto). What moto does not enforce is listed in
:data:`MOTO_GAPS` and checked in ``test_moto_gaps_are_what_we_say``, so a pass here is never
mistaken for AWS's own behaviour there (the adapters guard those limits themselves, tested with
fakes where moto cannot fail).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from datalake import aws
from datalake.realtime.aws import (
    DynamoPortfolioStore,
    KinesisError,
    KinesisStream,
    SnsNotifier,
    SqsDeadLetters,
    portfolio_table_definition,
    read_dead_letter,
    stream_name,
)
from datalake.realtime.events import (
    PRICES_STREAM,
    TRANSACTIONS_STREAM,
    TransactionEvent,
    TransactionRequest,
    decode_event,
    encode_event,
)
from datalake.realtime.ports import DeadLetter, Notification, StoredRecord, StreamRecord
from datalake.settings import Settings

TABLE = "datalake-dev-portfolios"
T0 = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)

#: What the moto server (5.2.6) accepts that AWS refuses or does differently; each is checked below.
MOTO_GAPS = {
    "kinesis-throughput": "no per-shard write limit (1 MiB/s, 1,000 records/s): PutRecords never fails an "
    "entry with ProvisionedThroughputExceededException, so partial failures are tested with a fake",
    "kinesis-sequence-numbers": "sequence numbers count from 1 per shard (AWS: 56-digit numbers, unique "
    "across the stream), so only (shard, sequence number) identifies a record here",
    "kinesis-record-size": "PutRecord takes a record over 1 MiB",
    "kinesis-get-records-limit": "GetRecords takes Limit over 10,000, and neither GetRecords (5/s per shard) "
    "nor GetShardIterator (5/s per shard) is rate limited",
    "kinesis-encryption": "StartStreamEncryption is recorded, nothing is encrypted or checked against KMS",
    "dynamodb-consistency": "a global secondary index is read-after-write consistent (AWS: eventually)",
    "dynamodb-transaction-cost": "every TransactWriteItems deep-copies the whole table first (a rollback "
    "copy), so its time grows with the table: the crash test here is kept to hundreds of transactions",
    "dynamodb-conflicts": "no TransactionConflict cancellation between concurrent transactions",
    "sns-attribute-count": "Publish takes more than 10 message attributes",
    "sqs-message-size": "SendMessageBatch takes a message over 256 KiB",
    "lambda": "no event source mapping runs a function: the Lambda side is tested by calling the handlers",
}


@dataclass
class RealtimeAws:
    settings: Settings
    topic_arn: str
    queue_url: str
    notifications_queue_url: str

    def client(self, service: str) -> Any:
        return aws.client(service, settings=self.settings)


@pytest.fixture
def rt(moto_settings: Settings) -> Iterator[RealtimeAws]:
    """Both streams (transactions on 2 shards), the portfolios table, the topic and the DLQ."""
    kinesis = aws.client("kinesis", settings=moto_settings)
    kinesis.create_stream(StreamName=stream_name(TRANSACTIONS_STREAM, moto_settings), ShardCount=2)
    kinesis.create_stream(StreamName=stream_name(PRICES_STREAM, moto_settings), ShardCount=1)
    aws.client("dynamodb", settings=moto_settings).create_table(**portfolio_table_definition(TABLE))
    sns = aws.client("sns", settings=moto_settings)
    sqs = aws.client("sqs", settings=moto_settings)
    topic_arn = sns.create_topic(Name="datalake-dev-notifications")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="datalake-dev-realtime-dlq")["QueueUrl"]
    notifications = sqs.create_queue(QueueName="notifications-probe")["QueueUrl"]
    yield RealtimeAws(moto_settings, topic_arn, queue_url, notifications)


def _event(user: str, kind: str, amount: str, key: str, currency: str = "USD") -> TransactionEvent:
    request = TransactionRequest(
        user_id=user,
        type=kind,
        amount=Decimal(amount),
        currency=currency,
        client_time=T0,
        idempotency_key=key,
    )
    return TransactionEvent.from_request(request, received_at=T0)


def _record(event: TransactionEvent) -> StreamRecord:
    return StreamRecord(partition_key=event.user_id, data=encode_event(event))


def _drain(queue_url: str, rt: RealtimeAws) -> list[dict[str, Any]]:
    sqs = rt.client("sqs")
    messages: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        batch = got.get("Messages", [])
        if not batch:
            return messages
        messages += batch
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )


# -- Kinesis ------------------------------------------------------------------------------------


def test_put_then_read_in_order_per_user_and_checkpoints_only_move_forward(rt: RealtimeAws) -> None:
    stream = KinesisStream(settings=rt.settings)
    events = [_event(f"u{i % 7}", "buy", f"{i + 1}.00", f"k{i}") for i in range(40)]
    sequences = stream.put(TRANSACTIONS_STREAM, [_record(e) for e in events])
    assert len(sequences) == 40
    shards = stream.shards(TRANSACTIONS_STREAM)
    assert len(shards) == 2

    read: list[StoredRecord] = []
    for shard in shards:
        first = stream.read(TRANSACTIONS_STREAM, shard, "c1", limit=5)
        assert len(first) <= 5
        stream.checkpoint(TRANSACTIONS_STREAM, shard, "c1", first[-1].sequence_number)
        rest = stream.read(TRANSACTIONS_STREAM, shard, "c1", limit=1000)
        # After the checkpoint: nothing of the first batch again.
        assert not {r.sequence_number for r in first} & {r.sequence_number for r in rest}
        # A checkpoint never moves back: the older one is ignored.
        stream.checkpoint(TRANSACTIONS_STREAM, shard, "c1", rest[-1].sequence_number)
        stream.checkpoint(TRANSACTIONS_STREAM, shard, "c1", first[0].sequence_number)
        assert stream.read(TRANSACTIONS_STREAM, shard, "c1", limit=1000) == []
        # Another consumer has its own position (from the oldest).
        assert len(stream.read(TRANSACTIONS_STREAM, shard, "c2", limit=1000)) == len(first) + len(rest)
        read += first + rest

    assert sorted(r.sequence_number for r in read) == sorted(sequences)
    assert len({(r.shard_id, r.sequence_number) for r in read}) == 40
    assert {r.stream for r in read} == {TRANSACTIONS_STREAM}
    assert all(r.arrived_at.tzinfo is not None for r in read)
    # One user's records are on one shard, in the order put.
    by_user: dict[str, list[tuple[str, str]]] = {}
    for record in read:
        event = decode_event(record.data)
        by_user.setdefault(record.partition_key, []).append((record.shard_id, event.idempotency_key))
    for user, seen in by_user.items():
        assert len({shard for shard, _ in seen}) == 1, user
        put_order = [e.idempotency_key for e in events if e.user_id == user]
        assert [key for _, key in seen] == put_order


class _FlakyKinesis:
    """The real (moto) client, except that PutRecords refuses chosen entries on its first calls."""

    def __init__(self, real: Any, refuse_first: int) -> None:
        self.real = real
        self.refuse_first = refuse_first
        self.calls: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(len(Records))
        if self.refuse_first <= 0:
            return self.real.put_records(StreamName=StreamName, Records=Records)
        self.refuse_first -= 1
        # Every third entry is refused as throttled; the others go through for real.
        passed = [r for i, r in enumerate(Records) if i % 3 != 0]
        accepted = iter(
            self.real.put_records(StreamName=StreamName, Records=passed)["Records"] if passed else []
        )
        throttled = {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"}
        entries = [throttled if i % 3 == 0 else next(accepted) for i in range(len(Records))]
        return {"FailedRecordCount": sum(1 for e in entries if "ErrorCode" in e), "Records": entries}


def test_put_retries_only_the_refused_entries_and_returns_sequences_in_order(rt: RealtimeAws) -> None:
    stream = KinesisStream(settings=rt.settings, sleep=lambda _s: None)
    flaky = _FlakyKinesis(stream.kinesis, refuse_first=2)
    stream.kinesis = flaky
    events = [_event("u1", "buy", "1.00", f"k{i}") for i in range(1200)]
    sequences = stream.put(TRANSACTIONS_STREAM, [_record(e) for e in events])
    # Chunks of 500, 500, 200; the first chunk's refused third (167) twice, then once more.
    assert flaky.calls[:3] == [500, 167, 56]
    assert sum(flaky.calls) == 1200 + 167 + 56
    # Each record exactly once on the stream, and the sequence returned for each is its own.
    stored = {
        r.sequence_number: decode_event(r.data).idempotency_key
        for r in _read_all(stream, TRANSACTIONS_STREAM)
    }
    assert len(stored) == 1200
    assert [stored[s] for s in sequences] == [e.idempotency_key for e in events]


def test_put_gives_up_naming_the_stream_when_entries_keep_failing(rt: RealtimeAws) -> None:
    stream = KinesisStream(settings=rt.settings, sleep=lambda _s: None, max_attempts=3)
    stream.kinesis = _FlakyKinesis(stream.kinesis, refuse_first=99)
    with pytest.raises(KinesisError, match="datalake-dev-transactions: 1 record"):
        stream.put(TRANSACTIONS_STREAM, [_record(_event("u1", "buy", "1.00", "k"))])


class _CountingKinesis:
    """The real (moto) client, counting GetShardIterator calls; can expire the next iterator used."""

    def __init__(self, real: Any) -> None:
        self.real, self.iterator_calls, self.expire_next = real, 0, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def get_shard_iterator(self, **kwargs: Any) -> Any:
        self.iterator_calls += 1
        return self.real.get_shard_iterator(**kwargs)

    def get_records(self, **kwargs: Any) -> Any:
        if self.expire_next:
            self.expire_next = False
            from botocore.exceptions import ClientError

            error = {"Error": {"Code": "ExpiredIteratorException", "Message": "Iterator expired"}}
            raise ClientError(error, "GetRecords")
        return self.real.get_records(**kwargs)


def test_a_consumer_that_keeps_up_reuses_its_shard_iterator(rt: RealtimeAws) -> None:
    """GetShardIterator is limited to 5 calls/s per shard (moto does not limit it): a consumer that
    checkpoints each batch whole continues from the last read's NextShardIterator."""
    stream = KinesisStream(settings=rt.settings)
    counting = _CountingKinesis(stream.kinesis)
    stream.kinesis = counting
    stream.put(PRICES_STREAM, [StreamRecord("p", f"{i}".encode()) for i in range(50)])
    [shard] = stream.shards(PRICES_STREAM)
    seen: list[bytes] = []
    while batch := stream.read(PRICES_STREAM, shard, "c", limit=7):
        seen += [r.data for r in batch]
        stream.checkpoint(PRICES_STREAM, shard, "c", batch[-1].sequence_number)
    assert seen == [f"{i}".encode() for i in range(50)]
    assert counting.iterator_calls == 1  # 8 reads, one iterator
    # A checkpoint short of the last read (a failed record): a new iterator at the checkpoint.
    stream.put(PRICES_STREAM, [StreamRecord("p", b"a"), StreamRecord("p", b"b")])
    first = stream.read(PRICES_STREAM, shard, "c", limit=10)
    assert [r.data for r in first] == [b"a", b"b"]
    stream.checkpoint(PRICES_STREAM, shard, "c", first[0].sequence_number)
    assert [r.data for r in stream.read(PRICES_STREAM, shard, "c", limit=10)] == [b"b"]
    assert counting.iterator_calls == 2
    # An expired iterator is replaced, nothing skipped or repeated.
    stream.put(PRICES_STREAM, [StreamRecord("p", b"c")])
    stream.checkpoint(PRICES_STREAM, shard, "c", first[1].sequence_number)
    counting.expire_next = True
    assert [r.data for r in stream.read(PRICES_STREAM, shard, "c", limit=10)] == [b"c"]
    assert counting.iterator_calls == 3


def _read_all(stream: KinesisStream, name: str) -> list[StoredRecord]:
    out: list[StoredRecord] = []
    for shard in stream.shards(name):
        out += stream.read(name, shard, "probe", limit=10_000)
    return out


# -- DynamoDB ----------------------------------------------------------------------------------


def test_apply_buys_sells_rejects_once_and_ignores_duplicates(rt: RealtimeAws) -> None:
    store = DynamoPortfolioStore(settings=rt.settings, now=lambda: T0)
    assert store.get("ana") is None
    buy = _event("ana", "buy", "100.50", "k1")
    assert store.apply(buy).status == "applied"
    assert store.apply(buy).status == "duplicate"
    sell = _event("ana", "sell", "40.25", "k2")
    result = store.apply(sell)
    assert (result.status, result.balance) == ("applied", Decimal("60.25"))
    too_much = _event("ana", "sell", "60.26", "k3")
    rejected = store.apply(too_much)
    assert (rejected.status, rejected.reason, rejected.balance) == (
        "rejected",
        "insufficient_balance",
        Decimal("60.25"),
    )
    # Rejected once: the same id again is a duplicate, even after the balance would allow it.
    store.apply(_event("ana", "buy", "10", "k4"))
    assert store.apply(too_much).status == "duplicate"
    recorded = store.transaction("ana", too_much.event_id)
    assert recorded is not None
    assert (recorded["status"], recorded["reason"], recorded["balance_after"]) == (
        "rejected",
        "insufficient_balance",
        Decimal("60.25"),
    )
    assert store.transaction("ana", sell.event_id)["balance_after"] == Decimal("60.25")
    # A sale from a currency never bought is rejected too; nothing goes negative.
    assert store.apply(_event("ana", "sell", "1", "k5", currency="COP")).reason == "insufficient_balance"
    portfolio = store.get("ana")
    assert portfolio is not None
    assert portfolio.balances == {"USD": Decimal("70.25")}
    assert portfolio.updated_at == T0


def test_a_balance_that_moves_between_read_and_write_is_read_again(rt: RealtimeAws) -> None:
    """Two writers on one user: the conditional update refuses the stale one, which retries."""
    store = DynamoPortfolioStore(settings=rt.settings)
    other = DynamoPortfolioStore(settings=rt.settings)
    store.apply(_event("bo", "buy", "10", "seed"))
    real_get = store.client.get_item
    interleaved = []

    def get_then_someone_else_writes(**kwargs: Any) -> Any:
        item = real_get(**kwargs)
        if not interleaved:  # once: after our read, another processor sells 7
            interleaved.append(other.apply(_event("bo", "sell", "7", "other")))
        return item

    store.client.get_item = get_then_someone_else_writes  # type: ignore[method-assign]
    result = store.apply(_event("bo", "sell", "5", "mine"))
    # Read 10, the other sale left 3: the second round sees 3 and rejects 5.
    assert interleaved[0].status == "applied"
    assert (result.status, result.reason, result.balance) == (
        "rejected",
        "insufficient_balance",
        Decimal("3"),
    )
    assert store.get("bo").balances == {"USD": Decimal("3")}


def test_holders_are_the_positive_balances_of_a_currency(rt: RealtimeAws) -> None:
    store = DynamoPortfolioStore(settings=rt.settings)
    store.apply(_event("a", "buy", "5", "1"))
    store.apply(_event("b", "buy", "5", "1"))
    store.apply(_event("b", "buy", "9000", "2", currency="COP"))
    store.apply(_event("c", "buy", "5", "1"))
    store.apply(_event("c", "sell", "5", "2"))  # back to zero: not a holder
    store.apply(_event("d", "buy", "1", "1", currency="COP"))
    # Checkpoint items live in the same table; they never show up as holders.
    KinesisStream(settings=rt.settings).checkpoint(TRANSACTIONS_STREAM, "shardId-0", "x", "1")
    holders = store.holders("USD")
    assert [p.user_id for p in holders] == ["a", "b"]
    assert holders[1].balances == {"COP": Decimal("9000"), "USD": Decimal("5")}
    assert [p.user_id for p in store.holders("COP")] == ["b", "d"]


# -- SNS and SQS --------------------------------------------------------------------------------


def _subscribe_probe(rt: RealtimeAws, user: str) -> None:
    sqs = rt.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=rt.notifications_queue_url, AttributeNames=["QueueArn"])
    rt.client("sns").subscribe(
        TopicArn=rt.topic_arn,
        Protocol="sqs",
        Endpoint=arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"user_id": [user]})},
    )


def test_notifications_carry_the_user_attribute_and_are_published_once(rt: RealtimeAws) -> None:
    _subscribe_probe(rt, "ana")  # a filter policy per user, as a mobile endpoint's subscription has
    notifier = SnsNotifier(settings=rt.settings, topic_arn=rt.topic_arn, now=lambda: T0)
    note = Notification("ana", "USD/COP up", "Consider selling 10 USD", "ana:px-1", {"signal": "sell"})
    first = notifier.publish(note)
    assert notifier.publish(note) == first  # deduplicated: same id, nothing published
    notifier.publish(Notification("bo", "USD/COP up", "for bo", "bo:px-1"))
    messages = _drain(rt.notifications_queue_url, rt)
    assert [m["Body"] for m in messages] == ["Consider selling 10 USD"]
    attributes = {k: v["StringValue"] for k, v in messages[0]["MessageAttributes"].items()}
    assert attributes == {"user_id": "ana", "signal": "sell"}
    with pytest.raises(ValueError, match="attributes: 11"):
        notifier.publish(Notification("ana", "s", "m", "k2", {f"a{i}": "v" for i in range(10)}))


def test_a_claim_without_a_message_is_published_on_the_next_attempt(rt: RealtimeAws) -> None:
    notifier = SnsNotifier(settings=rt.settings, topic_arn=rt.topic_arn)
    _subscribe_probe(rt, "ana")
    real_publish = notifier.sns.publish

    def dies(**_kwargs: Any) -> Any:
        raise ConnectionError("process killed after the claim")

    notifier.sns.publish = dies  # type: ignore[method-assign]
    note = Notification("ana", "s", "hello", "ana:px-2")
    with pytest.raises(ConnectionError):
        notifier.publish(note)
    notifier.sns.publish = real_publish  # type: ignore[method-assign]
    message_id = notifier.publish(note)
    assert notifier.publish(note) == message_id
    assert [m["Body"] for m in _drain(rt.notifications_queue_url, rt)] == ["hello"]


def test_dead_letters_keep_the_record_bytes_and_the_reason(rt: RealtimeAws) -> None:
    letters = [
        DeadLetter(
            StoredRecord(
                TRANSACTIONS_STREAM,
                "shardId-000000000001",
                str(10**40 + i),
                f"u{i}",
                bytes([i, 0xFF]) + b"{",
                T0,
            ),
            f"not JSON: {i}",
        )
        for i in range(23)
    ]
    SqsDeadLetters(settings=rt.settings, queue_url=rt.queue_url).send(letters)
    messages = _drain(rt.queue_url, rt)
    assert len(messages) == 23
    back = sorted((read_dead_letter(m["Body"]) for m in messages), key=lambda d: d.record.sequence_number)
    assert back == letters
    assert {m["MessageAttributes"]["reason"]["StringValue"] for m in messages} == {d.reason for d in letters}


def test_dead_letters_refuse_what_sqs_would_and_need_a_queue(rt: RealtimeAws) -> None:
    big = DeadLetter(StoredRecord(TRANSACTIONS_STREAM, "s", "1", "u", b"x" * 200_000, T0), "too big")
    with pytest.raises(ValueError, match="over SQS's 256 KiB"):
        SqsDeadLetters(settings=rt.settings, queue_url=rt.queue_url).send([big])
    with pytest.raises(ValueError, match="dead_letter_queue_url"):
        SqsDeadLetters(settings=rt.settings).send([big])
    assert _drain(rt.queue_url, rt) == []


# -- the crash test, smaller, on moto ------------------------------------------------------------


def _simulated(count: int, users: int, seed: int) -> list[TransactionEvent]:
    """Buys and sells (some beyond the balance), with resubmitted idempotency keys."""
    rng = random.Random(seed)
    events: list[TransactionEvent] = []
    for i in range(count):
        if events and rng.random() < 0.05:
            events.append(rng.choice(events))  # the app retried: same key, same event id
            continue
        user = f"user-{rng.randrange(users):03d}"
        kind = "buy" if rng.random() < 0.55 else "sell"
        amount = Decimal(rng.randrange(1, 50_000)) / 100
        events.append(_event(user, kind, str(amount), f"key-{i}", currency=rng.choice(["USD", "COP"])))
    return events


def replay(events: list[TransactionEvent]) -> tuple[dict[tuple[str, str], Decimal], dict[str, str]]:
    """The portfolios the accepted transactions must give: each id once, no sale beyond the balance."""
    balances: dict[tuple[str, str], Decimal] = {}
    outcome: dict[str, str] = {}
    for event in events:
        if event.event_id in outcome:
            continue
        key = (event.user_id, event.currency)
        held = balances.get(key, Decimal(0))
        if event.type == "sell" and held < event.amount:
            outcome[event.event_id] = "rejected"
            continue
        balances[key] = held + event.amount if event.type == "buy" else held - event.amount
        outcome[event.event_id] = "applied"
    return balances, outcome


class Crash(Exception):
    """The processor was killed."""


def _apply_batch(store: DynamoPortfolioStore, records: list[StoredRecord], budget: list[int]) -> None:
    """Apply a batch record by record; dies when the crash budget runs out (mid-batch)."""
    for record in records:
        if budget[0] == 0:
            raise Crash
        budget[0] -= 1
        event = decode_event(record.data)
        assert isinstance(event, TransactionEvent)
        store.apply(event)


@pytest.mark.slow
def test_crash_and_restart_between_and_within_batches_loses_and_duplicates_nothing(rt: RealtimeAws) -> None:
    """600 transactions; the consumer is killed at random points (mid-batch, and after a batch
    but before its checkpoint) and restarted from the checkpoints, on new clients each time.

    Smaller than the local crash test because moto deep-copies the whole table on every
    TransactWriteItems (``MOTO_GAPS["dynamodb-transaction-cost"]``): the time grows with the
    square of the count (2,000 took about 9 minutes on this machine).
    """
    events = _simulated(600, users=30, seed=21)
    KinesisStream(settings=rt.settings).put(TRANSACTIONS_STREAM, [_record(e) for e in events])
    rng = random.Random(7)
    crashes = restarts = 0
    while True:
        stream = KinesisStream(settings=rt.settings)  # a restarted process: fresh clients
        store = DynamoPortfolioStore(settings=rt.settings)
        budget = [rng.randrange(30, 150)]
        progressed = False
        try:
            for shard in stream.shards(TRANSACTIONS_STREAM):
                while records := stream.read(TRANSACTIONS_STREAM, shard, "processor", limit=50):
                    _apply_batch(store, records, budget)
                    if rng.random() < 0.1:  # killed after applying, before the checkpoint
                        raise Crash
                    stream.checkpoint(TRANSACTIONS_STREAM, shard, "processor", records[-1].sequence_number)
                    progressed = True
        except Crash:
            crashes += 1
            restarts += 1
            continue
        if not progressed:
            break
    assert crashes >= 5  # the run was really interrupted, many times

    expected, outcomes = replay(events)
    store = DynamoPortfolioStore(settings=rt.settings)
    stored: dict[tuple[str, str], Decimal] = {}
    for user in sorted({e.user_id for e in events}):
        portfolio = store.get(user)
        for currency, balance in (portfolio.balances if portfolio else {}).items():
            stored[(user, currency)] = balance
    lost = {k for k in expected if stored.get(k, Decimal(0)) < expected[k]}
    duplicated = {k for k in stored if stored[k] > expected.get(k, Decimal(0))}
    assert (lost, duplicated) == (set(), set())
    assert stored == {k: v for k, v in expected.items() if k in stored}
    assert all(v >= 0 for v in stored.values())
    # Every distinct transaction is recorded once with the replay's outcome.
    for event_id, status in list(outcomes.items())[::25]:
        user = next(e.user_id for e in events if e.event_id == event_id)
        assert store.transaction(user, event_id)["status"] == status


# -- moto's gaps ---------------------------------------------------------------------------------


def test_moto_gaps_are_what_we_say(rt: RealtimeAws) -> None:
    """Each listed gap, observed; if moto starts enforcing one, this fails and the list is updated."""
    kinesis = rt.client("kinesis")
    name = stream_name(PRICES_STREAM, rt.settings)
    burst = kinesis.put_records(StreamName=name, Records=[{"Data": b"x" * 2000, "PartitionKey": "p"}] * 500)
    assert burst["Records"][0]["SequenceNumber"] == "1"  # a per-shard counter
    assert burst["FailedRecordCount"] == 0  # 1 MB in one call to one shard: AWS would throttle some
    kinesis.put_record(StreamName=name, Data=b"x" * (1024 * 1024 + 1), PartitionKey="p")
    [shard] = [s["ShardId"] for s in kinesis.list_shards(StreamName=name)["Shards"]]
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=20_000)
    kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/does-not-exist")
    sns = rt.client("sns")
    sns.publish(
        TopicArn=rt.topic_arn,
        Message="m",
        MessageAttributes={f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)},
    )
    sent = rt.client("sqs").send_message_batch(
        QueueUrl=rt.queue_url, Entries=[{"Id": "1", "MessageBody": "x" * 300_000}]
    )
    assert not sent.get("Failed")
    assert set(MOTO_GAPS) >= {"kinesis-throughput", "sns-attribute-count", "sqs-message-size"}


class Killed(BaseException):
    """The processor process was killed (not an error process_batch handles: it propagates)."""


class _DyingStore:
    """The DynamoDB store, killed after a number of applies (mid-batch)."""

    def __init__(self, store: DynamoPortfolioStore, applies_left: int) -> None:
        self.store, self.applies_left = store, applies_left

    def apply(self, event: TransactionEvent) -> Any:
        if self.applies_left == 0:
            raise Killed
        self.applies_left -= 1
        return self.store.apply(event)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


@pytest.mark.slow
def test_the_processor_core_killed_mid_batch_on_the_aws_adapters_loses_and_duplicates_nothing(
    rt: RealtimeAws,
) -> None:
    """The same path as the stream_processor Lambda (process_batch), with the checkpointing
    consumer of ``datalake stream run``, on Kinesis, S3, DynamoDB and SQS: killed mid-batch and
    restarted until caught up; poison records end in the dead-letter queue with their reason."""
    processor = pytest.importorskip(
        "datalake.realtime.processor", reason="the processor core is not merged yet"
    )
    from datalake.storage.s3 import S3ObjectStore

    aws.client("s3", settings=rt.settings).create_bucket(
        Bucket="rt-lake", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    events = _simulated(400, users=20, seed=5)
    records = [_record(e) for e in events]
    poison = [
        StreamRecord("user-000", b"\xff not json"),
        StreamRecord("user-001", b'{"kind": "transaction"}'),
    ]
    records[100:100] = poison[:1]
    records[250:250] = poison[1:]
    KinesisStream(settings=rt.settings).put(TRANSACTIONS_STREAM, records)
    rng = random.Random(11)
    kills = 0
    while True:
        stream = KinesisStream(settings=rt.settings)
        store = _DyingStore(DynamoPortfolioStore(settings=rt.settings), rng.randrange(20, 120))
        try:
            summary = processor.consume(
                stream,
                lake=S3ObjectStore("rt-lake", settings=rt.settings),
                portfolios=store,
                dead_letters=SqsDeadLetters(settings=rt.settings, queue_url=rt.queue_url),
                streams=[TRANSACTIONS_STREAM],
                batch_size=60,
                retry_s=0.0,
            )
        except Killed:
            kills += 1
            continue
        if summary.batches == 0:
            break
    assert kills >= 3

    expected, _outcomes = replay(events)
    store = DynamoPortfolioStore(settings=rt.settings)
    stored = {
        (user, currency): balance
        for user in sorted({e.user_id for e in events})
        for currency, balance in ((store.get(user).balances if store.get(user) else {}).items())
    }
    assert stored == {k: v for k, v in expected.items() if k in stored}
    assert {k for k, v in expected.items() if v != 0} <= set(stored)
    letters = [read_dead_letter(m["Body"]) for m in _drain(rt.queue_url, rt)]
    # At least once: a kill between sending a letter and the checkpoint sends it again (a standard
    # queue has no deduplication), so each poison record is there, perhaps more than once.
    assert {letter.record.data for letter in letters} == {p.data for p in poison}
    assert all(letter.reason for letter in letters)
