"""Ingest and POST /transactions: 202 with the event id, a 422 naming the field, retries get the same id."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from api_fixtures import fake_services
from fastapi.testclient import TestClient

from api.main import create_app
from datalake.errors import DataValidationError
from datalake.realtime.events import decode_event
from datalake.realtime.ingest import ingest_transaction, ingest_transactions
from datalake.realtime.local import LocalStream
from datalake.realtime.ports import StreamRecord
from datalake.settings import Settings

BODY: dict[str, Any] = {
    "user_id": "user-7",
    "type": "sell",
    "amount": "12.34",
    "currency": "COP",
    "client_time": "2026-12-06T05:00:00-05:00",
    "idempotency_key": "retry-me",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, lake_root=tmp_path / "lake")


@pytest.fixture
def stream(settings: Settings) -> LocalStream:
    return LocalStream(settings=settings)


@pytest.fixture
def client(settings: Settings, tmp_path: Path, stream: LocalStream) -> TestClient:
    services = fake_services(settings, tmp_path, load_champion=lambda _dest: None)  # type: ignore[arg-type,return-value]
    services.extra["realtime_stream"] = stream
    return TestClient(create_app(settings, services))


def on_stream(stream: LocalStream) -> list[Any]:
    return [decode_event(r.data) for r in stream.read("transactions", "shard-000", "test", 100)]


def test_ingest_puts_the_validated_event_keyed_by_user(stream: LocalStream) -> None:
    event = ingest_transaction(BODY, stream=stream)
    assert event.event_id.startswith("tx-") and str(event.amount) == "12.34"
    assert event.client_time.utcoffset() is not None and event.client_time.hour == 10  # stored in UTC
    records = stream.read("transactions", "shard-000", "test", 10)
    assert [r.partition_key for r in records] == ["user-7"]
    assert decode_event(records[0].data) == event


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"type": "hold"}, "type"),
        ({"currency": "EUR"}, "currency"),
        ({"client_time": "2026-12-06T10:00:00"}, "client_time"),
        ({"user_id": "a b"}, "user_id"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"ammount": "1"}, "ammount"),
    ],
)
def test_a_bad_body_names_the_field_and_puts_nothing(
    stream: LocalStream, change: dict[str, str], field: str
) -> None:
    with pytest.raises(DataValidationError) as raised:
        ingest_transaction({**BODY, **change}, stream=stream)
    assert raised.value.field == field
    assert on_stream(stream) == []


def test_one_bad_body_in_a_batch_puts_none(stream: LocalStream) -> None:
    with pytest.raises(DataValidationError) as raised:
        ingest_transactions([BODY, {**BODY, "amount": "x"}], stream=stream)
    assert raised.value.field == "1.amount"
    assert on_stream(stream) == []


def test_post_transactions_answers_202_with_the_event_id(client: TestClient, stream: LocalStream) -> None:
    first = client.post("/transactions", json=BODY)
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "accepted"
    # The app retries (same idempotency key): accepted again, the same id; applied once downstream.
    again = client.post("/transactions", json=BODY)
    assert again.status_code == 202 and again.json()["event_id"] == first.json()["event_id"]
    other = client.post("/transactions", json={**BODY, "idempotency_key": "another"})
    assert other.json()["event_id"] != first.json()["event_id"]
    assert [e.event_id for e in on_stream(stream)] == [
        first.json()["event_id"],
        first.json()["event_id"],
        other.json()["event_id"],
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "amount": "0"}, "amount"),
        ({**BODY, "type": "borrow"}, "type"),
        ({k: v for k, v in BODY.items() if k != "user_id"}, "user_id"),
        ({**BODY, "colour": "red"}, "colour"),
    ],
)
def test_post_transactions_with_a_bad_body_is_a_422_naming_the_field(
    client: TestClient, stream: LocalStream, body: dict[str, Any], field: str
) -> None:
    response = client.post("/transactions", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert on_stream(stream) == []


def test_post_transactions_with_broken_json_is_a_json_error(client: TestClient) -> None:
    response = client.post(
        "/transactions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert "detail" in json.loads(response.text)


class BrokenStream(LocalStream):
    def put(self, stream: str, records: Sequence[StreamRecord]) -> list[str]:
        raise OSError(28, "No space left on device")


def test_a_stream_that_fails_is_a_503_to_retry(settings: Settings, tmp_path: Path) -> None:
    services = fake_services(settings, tmp_path, load_champion=lambda _dest: None)  # type: ignore[arg-type,return-value]
    services.extra["realtime_stream"] = BrokenStream(settings=settings)
    response = TestClient(create_app(settings, services)).post("/transactions", json=BODY)
    assert response.status_code == 503
    assert "retry" in response.json()["detail"] and response.headers["Retry-After"]
