"""The real-time Lambda handlers (lambdas/tx_ingestor, lambdas/stream_processor) on the moto server.

Each handler is called with a recorded event (tests/events/) as Lambda would call it, on the aws
runtime with ``AWS_ENDPOINT_URL`` pointing at moto: the ingestor puts on Kinesis, the processor
writes S3, DynamoDB and SQS. moto runs no event source mapping, so the mapping's side
(bisecting, retries, the on-failure destination) is checked on the template instead
(tests/unit/test_realtime_template.py).
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("datalake.realtime.processor", reason="the processor core (rt-local) is not merged yet")

from datalake import aws
from datalake.realtime.aws import (
    DynamoPortfolioStore,
    KinesisStream,
    kinesis_event_records,
    portfolio_table_definition,
    read_dead_letter,
    stream_name,
)
from datalake.realtime.events import TRANSACTIONS_STREAM, decode_event, transaction_event_id
from datalake.settings import Settings, get_settings

TABLE = "rt-test-portfolios"
LAKE = "rt-test-lake"


@pytest.fixture
def aws_env(moto_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment a deployed function gets (the template's variables), on moto."""
    kinesis = aws.client("kinesis", settings=moto_settings)
    kinesis.create_stream(StreamName="rt-test-transactions", ShardCount=1)
    aws.client("dynamodb", settings=moto_settings).create_table(**portfolio_table_definition(TABLE))
    aws.client("s3", settings=moto_settings).create_bucket(
        Bucket=LAKE, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    queue = aws.client("sqs", settings=moto_settings).create_queue(QueueName="rt-test-dlq")["QueueUrl"]
    env = {
        "LAKE_RUNTIME": "aws",
        "AWS_ENDPOINT_URL": str(moto_settings.aws_endpoint_url),
        "AWS_REGION": "eu-west-1",
        "REALTIME_STREAM_PREFIX": "rt-test",
        "PORTFOLIOS_TABLE": TABLE,
        "LAKE_BUCKET": LAKE,
        "DEAD_LETTER_QUEUE_URL": queue,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return env


def _body(response: dict[str, Any]) -> dict[str, Any]:
    assert response["headers"]["content-type"] == "application/json"
    return json.loads(response["body"])


def test_ingestor_accepts_a_transaction_onto_kinesis(
    aws_env: dict[str, str], load_lambda: Callable[[str], ModuleType], event_json: Callable[[str], dict]
) -> None:
    handler = load_lambda("tx_ingestor")
    event = event_json("apigw_http_v2_post_transactions.json")
    posted = json.loads(event["body"])
    first = handler.lambda_handler(event, None)
    assert first["statusCode"] == 202
    expected_id = transaction_event_id(posted["user_id"], posted["idempotency_key"])
    assert _body(first) == {"event_id": expected_id, "status": "accepted"}
    # A retried post (same idempotency key, here base64-encoded by API Gateway): the same id.
    retried = copy.deepcopy(event)
    retried["body"], retried["isBase64Encoded"] = base64.b64encode(event["body"].encode()).decode(), True
    assert _body(handler.lambda_handler(retried, None))["event_id"] == expected_id

    settings = get_settings()
    assert stream_name(TRANSACTIONS_STREAM, settings) == "rt-test-transactions"
    stream = KinesisStream(settings=settings)
    [shard] = stream.shards(TRANSACTIONS_STREAM)
    records = stream.read(TRANSACTIONS_STREAM, shard, "probe", limit=10)
    assert [r.partition_key for r in records] == ["user-0042", "user-0042"]
    events = [decode_event(r.data) for r in records]
    assert {e.event_id for e in events} == {expected_id}
    assert events[0].amount == Decimal(posted["amount"])


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("not json", 400, "body"),
        ('{"user_id": "u1"}', 422, "type"),
        ('{"user_id": "u1", "type": "buy", "amount": "-5", "currency": "USD", '
         '"client_time": "2026-12-06T10:00:00Z", "idempotency_key": "k"}', 422, "amount"),
        ('{"user_id": "u1", "type": "buy", "amount": "5", "currency": "EUR", '
         '"client_time": "2026-12-06T10:00:00Z", "idempotency_key": "k"}', 422, "currency"),
        ('{"user_id": "u1", "type": "buy", "amount": "5", "currency": "USD", '
         '"client_time": "2026-12-06T10:00:00", "idempotency_key": "k"}', 422, "client_time"),
        ('{"user_id": "u1", "type": "buy", "ammount": "5", "amount": "5", "currency": "USD", '
         '"client_time": "2026-12-06T10:00:00Z", "idempotency_key": "k"}', 422, "ammount"),
        ("[1, 2]", 422, "body"),
    ],
)  # fmt: skip
def test_ingestor_names_the_wrong_field_and_puts_nothing(
    aws_env: dict[str, str],
    load_lambda: Callable[[str], ModuleType],
    event_json: Callable[[str], dict],
    body: str,
    status: int,
    field: str,
) -> None:
    event = event_json("apigw_http_v2_post_transactions.json")
    event["body"] = body
    response = load_lambda("tx_ingestor").lambda_handler(event, None)
    assert (response["statusCode"], _body(response)["field"]) == (status, field)
    stream = KinesisStream(settings=get_settings())
    assert stream.read(TRANSACTIONS_STREAM, stream.shards(TRANSACTIONS_STREAM)[0], "probe", 10) == []


def test_ingestor_answers_503_when_kinesis_refuses(
    aws_env: dict[str, str],
    load_lambda: Callable[[str], ModuleType],
    event_json: Callable[[str], dict],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REALTIME_STREAM_PREFIX", "no-such")  # the stream does not exist
    get_settings.cache_clear()
    response = load_lambda("tx_ingestor").lambda_handler(
        event_json("apigw_http_v2_post_transactions.json"), None
    )
    assert response["statusCode"] == 503
    assert response["headers"]["retry-after"] == "1"


def test_kinesis_event_records_read_the_mapping_event(event_json: Callable[[str], dict]) -> None:
    event = event_json("kinesis_transactions.json")
    records = kinesis_event_records(event)
    assert [r.sequence_number for r in records] == [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    assert {(r.stream, r.shard_id, r.partition_key) for r in records} == {
        (TRANSACTIONS_STREAM, "shardId-000000000001", "user-0042")
    }
    assert records[0].arrived_at.isoformat() == "2026-12-06T15:00:01.100000+00:00"
    assert records[3].data.startswith(b'{"kind": "transaction"') and records[0].data == base64.b64decode(
        event["Records"][0]["kinesis"]["data"]
    )
    other = copy.deepcopy(event)
    other["Records"][0]["eventSourceARN"] = "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks"
    with pytest.raises(ValueError, match="eventSourceARN"):
        kinesis_event_records(other)


def test_processor_applies_records_once_sets_poison_aside_and_reports_no_failure(
    aws_env: dict[str, str], load_lambda: Callable[[str], ModuleType], event_json: Callable[[str], dict]
) -> None:
    event = event_json("kinesis_transactions.json")
    handler = load_lambda("stream_processor")
    assert handler.lambda_handler(event, None) == {"batchItemFailures": []}
    settings = get_settings()
    store = DynamoPortfolioStore(settings=settings)
    # buy 150, sell 200 (rejected), the buy again (duplicate), poison, sell 50.25.
    assert store.get("user-0042").balances == {"USD": Decimal("99.75")}
    statuses = {}
    for record in kinesis_event_records(event):
        try:
            parsed = decode_event(record.data)
        except ValueError:
            continue
        statuses[parsed.type, str(parsed.amount)] = store.transaction("user-0042", parsed.event_id)["status"]
    assert statuses == {
        ("buy", "150.00"): "applied",
        ("sell", "200.00"): "rejected",
        ("sell", "50.25"): "applied",
    }

    sqs = aws.client("sqs", settings=settings)
    messages = sqs.receive_message(QueueUrl=aws_env["DEAD_LETTER_QUEUE_URL"], MaxNumberOfMessages=10)[
        "Messages"
    ]
    [letter] = [read_dead_letter(m["Body"]) for m in messages]
    assert letter.record.sequence_number == event["Records"][3]["kinesis"]["sequenceNumber"]
    assert letter.record.data == base64.b64decode(event["Records"][3]["kinesis"]["data"])
    assert letter.reason

    s3 = aws.client("s3", settings=settings)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=LAKE)["Contents"])
    first, last = (event["Records"][i]["kinesis"]["sequenceNumber"] for i in (0, -1))
    name = f"year=2026/month=12/day=06/shardId-000000000001-{first}-{last}.jsonl"
    assert f"raw/realtime/transactions/{name}" in keys and f"raw/realtime/outcomes/{name}" in keys
    raw = s3.get_object(Bucket=LAKE, Key=f"raw/realtime/transactions/{name}")["Body"].read()
    # Every record as on the stream, but the poison one (kept in the dead-letter queue instead).
    stream_bytes = [base64.b64decode(r["kinesis"]["data"]) for r in event["Records"]]
    assert raw.splitlines() == stream_bytes[:3] + stream_bytes[4:]

    # The mapping retries a batch: nothing applies twice, the same keys are rewritten.
    assert handler.lambda_handler(event, None) == {"batchItemFailures": []}
    assert store.get("user-0042").balances == {"USD": Decimal("99.75")}
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=LAKE)["Contents"]) == keys


def test_processor_reports_the_records_from_a_transient_failure_on(
    aws_env: dict[str, str],
    load_lambda: Callable[[str], ModuleType],
    event_json: Callable[[str], dict],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORTFOLIOS_TABLE", "missing-table")  # DynamoDB answers ResourceNotFound
    get_settings.cache_clear()
    event = event_json("kinesis_transactions.json")
    response = load_lambda("stream_processor").lambda_handler(event, None)
    failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
    # Nothing could be applied: every record from the first on is delivered again.
    assert failed and failed[0] == event["Records"][0]["kinesis"]["sequenceNumber"]
    assert set(failed) <= {r["kinesis"]["sequenceNumber"] for r in event["Records"]}
