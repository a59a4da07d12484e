"""The USD/COP price collector against a real loopback HTTP server answering like datos.gov.co.

The server serves the recorded shape (../shared/data/fx/datos_gov_co_trm_example.json) and honours
``$order=vigenciadesde DESC`` and ``$limit``; scripted answers play its failures (503, 429, the
error envelope). The stream is an in-memory fake of the Stream port; the state lives in a real local
lake, and the stale-price alert goes to a real loopback webhook.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator, Sequence
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from loopback import loopback_server
from tmdb_fixtures import Answer, LoopbackTmdb, serve

from datalake import runtime
from datalake.alerts import post_alert
from datalake.realtime.events import PRICES_STREAM, PriceEvent, decode_event
from datalake.realtime.ports import StoredRecord, StreamRecord
from datalake.settings import Settings, get_settings
from datalake.sources.http_retry import RetryPolicy
from datalake.sources.trm import (
    DATOS_GOV_CO,
    CollectorState,
    DatosGovCoTrm,
    PriceProviderError,
    collect_price,
    newest_quote,
    parse_trm_row,
    state_key,
)
from datalake.storage.local import LocalObjectStore

pytestmark = pytest.mark.unit

FX = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fx"
RESOURCE = "/resource/32sa-8pi3.json"
#: 10:01 in Bogotá on Tuesday 17 March 2020, the day the example's newest rate is valid.
DURING = dt.datetime(2020, 3, 17, 15, 1, tzinfo=dt.UTC)
STALE_AFTER = dt.timedelta(hours=12)


def recorded_rows() -> list[dict[str, str]]:
    path = FX / "datos_gov_co_trm_example.json"
    if not path.exists():
        pytest.skip(f"recorded TRM shape {path} is not on this machine (../shared/data is optional)")
    return json.loads(path.read_text())


class ListStream:
    """The Stream port kept in a list (one shard): what was put, in order."""

    def __init__(self) -> None:
        self.records: list[StoredRecord] = []

    def put(self, stream: str, records: Sequence[StreamRecord]) -> list[str]:
        numbers = []
        for record in records:
            number = str(len(self.records) + 1).zfill(20)
            now = dt.datetime.now(dt.UTC)
            self.records.append(
                StoredRecord(stream, "shard-0", number, record.partition_key, record.data, now)
            )
            numbers.append(number)
        return numbers

    def shards(self, stream: str) -> list[str]:
        return ["shard-0"]

    def read(self, stream: str, shard_id: str, consumer: str, limit: int) -> list[StoredRecord]:
        return [r for r in self.records if r.stream == stream][:limit]

    def checkpoint(self, stream: str, shard_id: str, consumer: str, sequence_number: str) -> None:
        return None

    def events(self) -> list[PriceEvent]:
        decoded = [decode_event(r.data) for r in self.records if r.stream == PRICES_STREAM]
        assert all(isinstance(e, PriceEvent) for e in decoded)
        return decoded  # type: ignore[return-value]


class Socrata:
    """The rows the loopback datos.gov.co holds; answers ``$order``/``$limit`` like the API."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self.rows = rows

    def answer(self, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Answer:
        if path != RESOURCE:
            return Answer.json(404, {"code": "not_found", "error": True, "message": "Cannot find view"})
        rows = list(self.rows)
        if query.get("$order") == ["vigenciadesde DESC"]:
            rows.sort(key=lambda r: r["vigenciadesde"], reverse=True)
        limit = int(query.get("$limit", ["1000"])[0])
        return Answer.json(200, rows[:limit], **{"X-Socrata-RequestId": "abc123"})


@pytest.fixture
def socrata() -> Iterator[tuple[LoopbackTmdb, Socrata]]:
    holder = Socrata(recorded_rows())
    with serve(holder.answer) as server:
        yield server, holder


@pytest.fixture
def lake(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "lake")


def client(server: LoopbackTmdb, sleeps: list[float] | None = None, retries: int = 3) -> DatosGovCoTrm:
    waits = sleeps if sleeps is not None else []
    return DatosGovCoTrm(
        server.url + RESOURCE,
        app_token="tok-123",
        policy=RetryPolicy(max_retries=retries, backoff_s=0.5, max_backoff_s=2.0),
        sleep=waits.append,
    )


def poll(
    server: LoopbackTmdb, stream: ListStream, lake: LocalObjectStore, now: dt.datetime = DURING, **kw: Any
):
    with client(server, kw.pop("sleeps", None), kw.pop("retries", 3)) as provider:
        return collect_price(now, provider=provider, stream=stream, lake=lake, stale_after=STALE_AFTER, **kw)


# -- the answer's rows --------------------------------------------------------------------------------


def test_the_recorded_answer_gives_its_newest_rate_as_an_exact_decimal() -> None:
    quote = newest_quote(recorded_rows())
    assert quote.rate_cop_per_usd == Decimal("4099.9300")
    assert (quote.valid_from, quote.valid_until) == (dt.date(2020, 3, 17), dt.date(2020, 3, 17))
    weekend = parse_trm_row(recorded_rows()[1])  # the Saturday-Monday row
    assert (weekend.valid_from, weekend.valid_until) == (dt.date(2020, 3, 14), dt.date(2020, 3, 16))
    # Its validity ends at midnight in Bogotá (UTC-5) after its last day.
    assert weekend.validity_end() == dt.datetime(2020, 3, 17, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"valor": "abc", "vigenciadesde": "2020-03-17T00:00:00.000"}, "valor"),
        ({"valor": "-1", "vigenciadesde": "2020-03-17T00:00:00.000"}, "valor"),
        ({"valor": "4000", "unidad": "USD", "vigenciadesde": "2020-03-17T00:00:00.000"}, "unidad"),
        ({"valor": "4000", "vigenciadesde": "17/03/2020"}, "vigenciadesde"),
        (
            {"valor": "4000", "vigenciadesde": "2020-03-17T00:00:00.000", "vigenciahasta": "2020-03-16"},
            "before",
        ),
    ],
)
def test_a_bad_row_is_refused_naming_the_field(row: dict[str, str], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        parse_trm_row(row)


def test_an_error_envelope_or_an_empty_answer_is_not_a_rate() -> None:
    with pytest.raises(ValueError, match=r"query\.compiler\.malformed: bad"):
        newest_quote({"code": "query.compiler.malformed", "error": True, "message": "bad"})
    with pytest.raises(ValueError, match="no rows"):
        newest_quote([])


# -- change detection ---------------------------------------------------------------------------------


def test_a_price_event_is_put_only_when_the_rate_or_its_validity_changed(
    socrata: tuple[LoopbackTmdb, Socrata], lake: LocalObjectStore
) -> None:
    server, holder = socrata
    stream = ListStream()
    first = poll(server, stream, lake)
    assert first.outcome == "put" and first.attempts == 1 and not first.retries
    [event] = stream.events()
    assert (event.rate_cop_per_usd, event.valid_from, event.provider) == (
        Decimal("4099.93"),
        dt.date(2020, 3, 17),
        DATOS_GOV_CO,
    )
    assert event.event_id == PriceEvent.make_id(DATOS_GOV_CO, dt.date(2020, 3, 17), Decimal("4099.9300"))
    assert stream.records[0].partition_key == "USD/COP"
    # The request asked for the newest row only, with the app token in its header.
    seen = server.seen[-1]
    assert seen.query == {"$order": ["vigenciadesde DESC"], "$limit": ["1"]}
    assert seen.headers["x-app-token"] == "tok-123"

    # Polled again every minute: the same rate puts nothing.
    for minute in range(1, 4):
        again = poll(server, stream, lake, DURING + dt.timedelta(minutes=minute))
        assert again.outcome == "unchanged" and again.event_id == event.event_id
    assert len(stream.records) == 1

    # The next business day's rate is published: one new event.
    holder.rows = [*holder.rows, {"valor": "4153.91", "unidad": "COP",
                                  "vigenciadesde": "2020-03-18T00:00:00.000",
                                  "vigenciahasta": "2020-03-18T00:00:00.000"}]  # fmt: skip
    assert poll(server, stream, lake).outcome == "put"
    # The same rate on a new validity day is a change too.
    holder.rows = [*holder.rows, {"valor": "4153.91", "unidad": "COP",
                                  "vigenciadesde": "2020-03-19T00:00:00.000",
                                  "vigenciahasta": "2020-03-19T00:00:00.000"}]  # fmt: skip
    assert poll(server, stream, lake).outcome == "put"
    assert [(e.rate_cop_per_usd, e.valid_from.day) for e in stream.events()] == [
        (Decimal("4099.93"), 17),
        (Decimal("4153.91"), 18),
        (Decimal("4153.91"), 19),
    ]


def test_the_last_state_survives_a_restart_in_the_lake(
    socrata: tuple[LoopbackTmdb, Socrata], tmp_path: Path
) -> None:
    server, _holder = socrata
    stream = ListStream()
    poll(server, stream, LocalObjectStore(tmp_path / "lake"))
    # A new process: a new store object over the same lake remembers the rate it put.
    reopened = LocalObjectStore(tmp_path / "lake")
    assert CollectorState.load(reopened, DATOS_GOV_CO).rate_cop_per_usd == "4099.9300"
    assert reopened.exists(state_key(DATOS_GOV_CO))
    assert poll(server, stream, reopened).outcome == "unchanged"
    assert len(stream.records) == 1
    # An empty lake (state lost) puts again the same event id: the consumers drop it as a duplicate.
    fresh_stream = ListStream()
    poll(server, fresh_stream, LocalObjectStore(tmp_path / "other"))
    assert fresh_stream.events()[0].event_id == stream.events()[0].event_id


# -- retries and provider errors ----------------------------------------------------------------------


def test_throttling_and_server_errors_are_retried_and_reported(
    socrata: tuple[LoopbackTmdb, Socrata], lake: LocalObjectStore
) -> None:
    server, _holder = socrata
    server.play_first(
        RESOURCE,
        Answer.json(503, {"code": "internal", "error": True, "message": "down"}),
        Answer(429, b"", {"Retry-After": "1"}),
    )
    sleeps: list[float] = []
    summary = poll(server, ListStream(), lake, sleeps=sleeps)
    assert summary.outcome == "put"
    assert summary.attempts == 3
    assert summary.retries == ["attempt 1: HTTP 503", "attempt 2: HTTP 429"]
    assert sleeps[1] == 1.0  # the Retry-After, not a backoff
    assert len(server.paths(RESOURCE)) == 3


def test_a_provider_that_keeps_failing_is_reported_and_nothing_is_put(
    socrata: tuple[LoopbackTmdb, Socrata], lake: LocalObjectStore
) -> None:
    server, _holder = socrata
    server.play_first(RESOURCE, *[Answer(502, b"<html>Bad Gateway</html>")] * 3)
    stream = ListStream()
    summary = poll(server, stream, lake, retries=2)
    assert summary.outcome == "provider_error" and summary.attempts == 3
    assert summary.retries == ["attempt 1: HTTP 502", "attempt 2: HTTP 502"]
    assert "HTTP 502" in (summary.error or "") and "gave up after 3 attempts" in (summary.error or "")
    assert stream.records == [] and not lake.exists(state_key(DATOS_GOV_CO))


def test_a_refusal_is_not_retried_and_names_socratas_words(
    socrata: tuple[LoopbackTmdb, Socrata], lake: LocalObjectStore
) -> None:
    server, _holder = socrata
    server.play_first(
        RESOURCE,
        Answer.json(
            400, {"code": "query.compiler.malformed", "error": True, "message": "Could not parse SoQL"}
        ),
    )
    summary = poll(server, ListStream(), lake)
    assert summary.outcome == "provider_error" and summary.attempts == 1 and summary.retries == []
    assert "query.compiler.malformed" in (summary.error or "")


def test_a_200_that_is_not_rows_is_a_provider_error(
    socrata: tuple[LoopbackTmdb, Socrata], lake: LocalObjectStore
) -> None:
    server, _holder = socrata
    server.play_first(RESOURCE, Answer.json(200, {"code": "not_found", "error": True, "message": "gone"}))
    summary = poll(server, ListStream(), lake)
    assert summary.outcome == "provider_error"
    assert "not a TRM row" in (summary.error or "") and "not_found: gone" in (summary.error or "")


def test_a_dead_provider_is_a_transport_error_retried_then_reported(lake: LocalObjectStore) -> None:
    # A port nobody listens on: connection refused, every time.
    with serve(lambda *_a: Answer(200, b"[]")) as server:
        url = server.url
    provider = DatosGovCoTrm(
        url + RESOURCE, policy=RetryPolicy(max_retries=1, backoff_s=0.0), sleep=lambda s: None
    )
    with pytest.raises(PriceProviderError, match="did not answer: ConnectError") as error:
        provider.latest()
    assert error.value.attempts == 2 and error.value.retried == ("attempt 1: ConnectError",)


# -- staleness ----------------------------------------------------------------------------------------


class Webhook:
    """A loopback incoming webhook: the JSON bodies it got."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()


@pytest.fixture
def webhook() -> Iterator[tuple[str, Webhook]]:
    got = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with got.lock:
                got.bodies.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: Any) -> None:
            return None

    with loopback_server(Handler) as url:
        yield url + "/services/T000/B000/secret-token", got


def test_a_stale_rate_raises_one_alert_through_the_webhook(
    socrata: tuple[LoopbackTmdb, Socrata], lake: LocalObjectStore, webhook: tuple[str, Webhook]
) -> None:
    server, _holder = socrata
    url, hook = webhook

    def alert(subject: str, text: str):
        return post_alert(url, f"{subject}: {text}")

    stream = ListStream()
    # The newest rate's validity ends at 05:00 UTC on 18 March; 12 h later it is not yet stale.
    fresh = poll(server, stream, lake, dt.datetime(2020, 3, 18, 16, 59, tzinfo=dt.UTC), alert=alert)
    assert fresh.stale is False and fresh.alert is None and hook.bodies == []
    late = dt.datetime(2020, 3, 18, 17, 1, tzinfo=dt.UTC)
    stale = poll(server, stream, lake, late, alert=alert)
    assert stale.stale is True and stale.stale_hours == pytest.approx(12.02, abs=0.01)
    assert stale.alert is not None and stale.alert["delivered"] is True
    assert "secret-token" not in stale.alert["target"]
    [body] = hook.bodies
    assert "stale" in body["text"] and "4099.9300" in body["text"] and "2020-03-17" in body["text"]
    # Still stale a minute later: no second alert for the same rate.
    again = poll(server, stream, lake, late + dt.timedelta(minutes=1), alert=alert)
    assert again.stale is True and again.alert is None and len(hook.bodies) == 1
    assert len(stream.records) == 1  # staleness never puts an event


def test_an_alert_that_was_not_delivered_is_tried_again(
    socrata: tuple[LoopbackTmdb, Socrata], lake: LocalObjectStore
) -> None:
    server, _holder = socrata
    with serve(lambda *_a: Answer(200, b"")) as dead:
        dead_url = dead.url  # closed when the block ends: nothing listens there
    late = dt.datetime(2020, 3, 20, tzinfo=dt.UTC)
    first = poll(server, ListStream(), lake, late, alert=lambda s, t: post_alert(dead_url, t, timeout_s=1))
    assert first.alert is not None and first.alert["delivered"] is False
    second = poll(server, ListStream(), lake, late, alert=lambda s, t: post_alert(dead_url, t, timeout_s=1))
    assert second.alert is not None  # tried again, not silenced


# -- the Lambda -----------------------------------------------------------------------------------------


def test_the_lambda_polls_on_its_schedule_into_the_local_stream_and_fails_on_a_provider_error(
    socrata: tuple[LoopbackTmdb, Socrata],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    load_lambda,
    event_json,
) -> None:
    server, _holder = socrata
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("LAKE_RUNTIME", "local")
    monkeypatch.setenv("TRM_URL", server.url + RESOURCE)
    monkeypatch.setenv("TRM_MAX_RETRIES", "0")
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()
    handler = load_lambda("price_collector")
    event = event_json("eventbridge_scheduled_price_collector.json")
    try:
        result = handler.lambda_handler(event, None)
        assert result["outcome"] == "put" and result["polled_at"] == "2020-03-17T15:01:00+00:00"
        assert result["stale"] is False
        assert handler.lambda_handler(event, None)["outcome"] == "unchanged"
        server.play_first(RESOURCE, Answer(503, b"busy"))
        with pytest.raises(PriceProviderError, match="HTTP 503"):
            handler.lambda_handler(event, None)
        # The runtime's stream (the local fsync'd log under the lake root) holds the one event.
        stream = runtime.stream(get_settings())
        [shard] = stream.shards(PRICES_STREAM)
        [record] = stream.read(PRICES_STREAM, shard, "test", 10)
        event_read = decode_event(record.data)
        assert isinstance(event_read, PriceEvent) and event_read.event_id == result["event_id"]
        assert record.sequence_number == result["sequence_number"]
    finally:
        get_settings.cache_clear()


def test_the_settings_name_the_provider_and_the_staleness() -> None:
    settings = Settings(_env_file=None)
    assert settings.trm_url == "https://www.datos.gov.co/resource/32sa-8pi3.json"
    assert settings.price_provider == DATOS_GOV_CO and settings.trm_stale_after_hours == 12.0


def test_on_aws_the_alert_goes_to_the_alerts_topic() -> None:
    from datalake.alerts import publish_alert_sns

    class Sns:
        def __init__(self, fail: bool = False) -> None:
            self.published: list[dict[str, str]] = []
            self.fail = fail

        def publish(self, **kwargs: str) -> dict[str, str]:
            if self.fail:
                raise RuntimeError("AuthorizationError: not allowed")
            self.published.append(kwargs)
            return {"MessageId": "m-1"}

    topic = "arn:aws:sns:eu-west-1:123456789012:datalake-dev-alerts"
    sns = Sns()
    delivery = publish_alert_sns(topic, "USD/COP price is stale " + "x" * 200, "text", sns=sns)
    assert delivery.delivered and delivery.target == "sns:datalake-dev-alerts"
    assert sns.published[0]["TopicArn"] == topic and len(sns.published[0]["Subject"]) == 100
    refused = publish_alert_sns(topic, "s", "t", sns=Sns(fail=True))
    assert not refused.delivered and "not allowed" in (refused.error or "")
