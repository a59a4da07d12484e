"""The trade_advisor Lambda on the AWS runtime against the moto server: S3 lake, DynamoDB, SNS.

The endpoint is the one thing moto cannot host: a fake ``sagemaker-runtime`` client runs the real
inference handlers (``sagemaker/fx_signal_inference.py``) on a trained model directory, as the
serving container would. Needs the AWS adapters (``datalake.realtime.aws``, another branch of
issue 21); skips, saying so, without them.
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import json
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("datalake.realtime.aws", reason="the AWS real-time adapters are not in this checkout")

from botocore.exceptions import ClientError

from datalake import aws, runtime
from datalake.fxsignal.model import fit_signal_model
from datalake.fxsignal.series import sample_series
from datalake.fxsignal.serving import EndpointSignal
from datalake.realtime.advisor import LIMITER_KEY, advisor_dependencies
from datalake.realtime.aws import DynamoPortfolioStore, portfolio_table_definition, stream_name
from datalake.realtime.events import (
    PRICES_STREAM,
    PriceEvent,
    TransactionEvent,
    TransactionRequest,
    encode_event,
)
from datalake.settings import Settings

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)


def _module(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ServingContainer:
    """``invoke_endpoint`` answered by the inference handlers, errors mapped as SageMaker maps them."""

    def __init__(self, model_dir: Path) -> None:
        self.handlers = _module(REPO / "sagemaker" / "fx_signal_inference.py", "fx_serving_container")
        self.model = self.handlers.model_fn(str(model_dir))
        self.calls = 0

    def invoke_endpoint(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        try:
            rates = self.handlers.input_fn(request["Body"], request["ContentType"])
            body, _ = self.handlers.output_fn(self.handlers.predict_fn(rates, self.model), request["Accept"])
        except self.handlers.InferenceError as error:
            raise ClientError(
                {
                    "Error": {"Code": "ModelError", "Message": error.message},
                    "OriginalStatusCode": error.status_code,
                    "OriginalMessage": error.message,
                },
                "InvokeEndpoint",
            ) from None
        return {"Body": BytesIO(body.encode())}


def price_event(day: dt.date, rate: float) -> PriceEvent:
    value = Decimal(f"{rate:.2f}")
    return PriceEvent(
        event_id=PriceEvent.make_id("trm", day, value),
        rate_cop_per_usd=value,
        valid_from=day,
        provider="trm",
        observed_at=NOW,
    )


def kinesis_event(events: list[PriceEvent], settings: Settings) -> dict[str, Any]:
    arn = f"arn:aws:kinesis:eu-west-1:123456789012:stream/{stream_name(PRICES_STREAM, settings)}"
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "USD/COP",
                    "sequenceNumber": f"{n:056d}",
                    "data": base64.b64encode(encode_event(event)).decode(),
                    "approximateArrivalTimestamp": NOW.timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{n:056d}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/trade-advisor",
                "awsRegion": "eu-west-1",
                "eventSourceARN": arn,
            }
            for n, event in enumerate(events, start=1)
        ]
    }


def deposit(user: str, amount: str, currency: str) -> TransactionEvent:
    request = TransactionRequest(
        user_id=user,
        type="buy",
        amount=Decimal(amount),
        currency=currency,  # type: ignore[arg-type]
        client_time=NOW,
        idempotency_key=f"{user}-{currency}",
    )
    return TransactionEvent.from_request(request, NOW)


def test_the_lambda_notifies_through_sns_once_from_the_lake_history(
    moto_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = moto_settings.model_copy(
        update={"portfolios_table": "datalake-dev-portfolios", "signal_endpoint": "datalake-dev-fx-signal"}
    )
    aws.client("s3", settings=settings).create_bucket(
        Bucket=settings.lake_bucket, CreateBucketConfiguration={"LocationConstraint": settings.aws_region}
    )
    aws.client("dynamodb", settings=settings).create_table(
        **portfolio_table_definition(settings.portfolios_table)
    )
    sns, sqs = aws.client("sns", settings=settings), aws.client("sqs", settings=settings)
    topic = sns.create_topic(Name="datalake-dev-notifications")["TopicArn"]
    settings = settings.model_copy(update={"notifications_topic_arn": topic})
    probe = sqs.create_queue(QueueName="probe")["QueueUrl"]
    probe_arn = sqs.get_queue_attributes(QueueUrl=probe, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=probe_arn, Attributes={"RawMessageDelivery": "true"}
    )

    store = DynamoPortfolioStore(settings=settings)
    store.apply(deposit("ana", "1000000.00", "COP"))
    store.apply(deposit("ben", "500.00", "USD"))
    # Persistent moves, so the model has opinions (day 397 of this series: sell); its data ends 27
    # business days earlier, and the lake's raw prices (as the stream processor wrote them) fill the gap.
    rates = sample_series(400, seed=3, momentum=0.5)
    container = ServingContainer(fit_signal_model(rates.iloc[:370]).save(tmp_path / "model"))
    prices = [price_event(day.date(), rate) for day, rate in rates.iloc[370:397].items()]
    lake = runtime.object_store("lake", settings)
    for age, event in enumerate(prices[-2::-1], start=1):
        arrival = NOW.date() - dt.timedelta(days=age)
        lake.put_bytes(
            f"raw/realtime/prices/year={arrival:%Y}/month={arrival:%m}/day={arrival:%d}/{event.event_id}.jsonl",
            encode_event(event) + b"\n",
        )

    handler = _module(REPO / "lambdas" / "trade_advisor" / "handler.py", "lambda_trade_advisor_moto")
    monkeypatch.setattr(
        handler,
        "advisor_dependencies",
        lambda: {
            **advisor_dependencies(settings),
            "signals": EndpointSignal("datalake-dev-fx-signal", container),
        },
    )
    event = kinesis_event(prices[-1:], settings)
    assert handler.lambda_handler(event, None) == {"batchItemFailures": []}
    assert handler.lambda_handler(event, None) == {"batchItemFailures": []}  # redelivered
    got = sqs.receive_message(QueueUrl=probe, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    messages = got.get("Messages", [])
    assert len(messages) == 1 and "500.00 USD" in messages[0]["Body"]  # sell -> the dollar holder, once
    attributes = {k: v["StringValue"] for k, v in messages[0]["MessageAttributes"].items()}
    assert attributes["user_id"] == "ben" and attributes["signal"] == "sell"
    assert attributes["price_event_id"] == prices[-1].event_id and container.calls == 2
    assert set(json.loads(lake.get_bytes(LIMITER_KEY))) == {"ben"}

    # Without the lake's prices the endpoint answers 400: no advice, nothing retried, nobody notified.
    blind = kinesis_event([price_event(dt.date(2031, 1, 2), 4100.0)], settings)
    assert handler.lambda_handler(blind, None) == {"batchItemFailures": []}
    assert not sqs.receive_message(QueueUrl=probe, MaxNumberOfMessages=10).get("Messages")
