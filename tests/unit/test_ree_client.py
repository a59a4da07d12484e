"""The REData client against a real loopback HTTP server (recorded-shape fixtures), the raw writer,
backfill/daily, and the sample generator."""

from __future__ import annotations

import copy
import datetime as dt
import email.utils
import json
import os
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from datalake.errors import DataValidationError, SourceError
from datalake.sources.http_retry import retry_after_s
from datalake.sources.ree import (
    RAW_PREFIX,
    SAMPLE_RAW_PREFIX,
    ReeClient,
    backfill,
    daily,
    describe_error_body,
    overlapping_local_days,
    parse_values,
    plan_chunks,
    raw_key,
    write_raw,
)
from datalake.sources.ree_sample import SAMPLE_BASE_URL, SampleTransport, sample_client, sample_document
from datalake.storage.local import LocalObjectStore

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
REE_API = SHARED_DATA / "ree_api"
MADRID = ZoneInfo("Europe/Madrid")
UTC = dt.UTC

SYMFONY_500 = b"""<!DOCTYPE html>
<html>
<head>
    <meta charset="UTF-8" />
    <title>An Error Occurred: Internal Server Error</title>
    <style>body { background-color: #fff; color: #222; }</style>
</head>
<body>
    <h1>Oops! An Error Occurred</h1>
    <h2>The server returned a "500 Internal Server Error".</h2>
    <p>Something is broken. Please let us know what you were doing when this error occurred.</p>
</body>
</html>"""


def recorded(name: str) -> dict[str, Any]:
    path = REE_API / name
    if not path.exists():
        pytest.skip(f"recorded REData shape {path} is not on this machine (../shared/data is optional)")
    return json.loads(path.read_text(encoding="utf-8"))


def hourly_doc(day: dt.date, drop_hours: tuple[int, ...] = ()) -> dict[str, Any]:
    """The recorded demand envelope with one value per local hour of ``day`` (its own offsets)."""
    doc = recorded("demanda_tiempo_real_2022-09-12_trimmed.json")
    series = copy.deepcopy(doc["included"][0])
    start = dt.datetime(day.year, day.month, day.day, tzinfo=MADRID).astimezone(UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), MADRID).astimezone(UTC)
    values, instant, n = [], start, 0
    while instant < end:
        if n not in drop_hours:
            local = instant.astimezone(MADRID).isoformat(timespec="milliseconds")
            values.append({"value": 25_000 + n, "percentage": 1, "datetime": local})
        instant += dt.timedelta(hours=1)
        n += 1
    series["attributes"]["values"] = values
    return {"data": doc["data"], "included": [series]}


# -- a scripted HTTP server on loopback -------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def json_reply(doc: Any, status: int = 200, **headers: str) -> Reply:
    body = json.dumps(doc, ensure_ascii=False).encode()
    return Reply(status, body, {"Content-Type": "application/json", **headers})


class ScriptedServer:
    """Answers GETs from a queue of replies, in order; records each request's path and query."""

    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(self.path)
                reply = outer.script.popleft() if outer.script else Reply(418, b"script exhausted")
                time.sleep(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def queries(self) -> list[dict[str, str]]:
        return [{k: v[0] for k, v in parse_qs(urlsplit(p).query).items()} for p in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def client_for(url: str, sleeps: list[float], **options: Any) -> ReeClient:
    options = {"timeout_s": 2, "max_retries": 3, "rng": random.Random(1), **options}
    return ReeClient(url, sleep=sleeps.append, **options)


# -- chunking ---------------------------------------------------------------------------------


def test_plan_chunks_keeps_hourly_requests_in_a_month_and_daily_in_a_year() -> None:
    d = dt.date
    assert plan_chunks(d(2024, 1, 15), d(2024, 3, 10), "hour") == [
        (d(2024, 1, 15), d(2024, 1, 31)),
        (d(2024, 2, 1), d(2024, 2, 29)),
        (d(2024, 3, 1), d(2024, 3, 10)),
    ]
    assert plan_chunks(d(2023, 11, 1), d(2025, 2, 1), "day") == [
        (d(2023, 11, 1), d(2023, 12, 31)),
        (d(2024, 1, 1), d(2024, 12, 31)),
        (d(2025, 1, 1), d(2025, 2, 1)),
    ]
    assert plan_chunks(d(2024, 12, 31), d(2024, 12, 31), "hour") == [(d(2024, 12, 31), d(2024, 12, 31))]
    with pytest.raises(ValueError, match="before start"):
        plan_chunks(d(2024, 2, 1), d(2024, 1, 1), "hour")


def test_iter_range_sends_one_request_per_chunk_with_exact_boundaries(
    server: ScriptedServer, sleeps: list[float]
) -> None:
    doc = recorded("demanda_tiempo_real_2022-09-12_trimmed.json")
    server.script.extend(json_reply(doc) for _ in range(3))
    with client_for(server.url, sleeps) as client:
        got = list(client.iter_range("demand", dt.date(2024, 1, 15), dt.date(2024, 3, 10), geo="peninsular"))
    assert [chunk for chunk, _ in got] == plan_chunks(dt.date(2024, 1, 15), dt.date(2024, 3, 10), "hour")
    assert all(body == doc for _, body in got)  # handed back unchanged
    assert {urlsplit(p).path for p in server.requests} == {"/es/datos/demanda/evolucion"}
    assert [(q["start_date"], q["end_date"]) for q in server.queries()] == [
        ("2024-01-15T00:00", "2024-01-31T23:59"),
        ("2024-02-01T00:00", "2024-02-29T23:59"),
        ("2024-03-01T00:00", "2024-03-10T23:59"),
    ]
    first = server.queries()[0]
    assert (first["time_trunc"], first["geo_trunc"], first["geo_limit"], first["geo_ids"]) == (
        "hour",
        "electric_system",
        "peninsular",
        "8741",
    )
    assert sleeps == []


def test_national_scope_sends_no_geo_parameters(server: ScriptedServer, sleeps: list[float]) -> None:
    server.script.append(json_reply(recorded("generacion_ccaa7_year_trimmed.json")))
    with client_for(server.url, sleeps, lang="en") as client:
        client.fetch_chunk("generation", dt.date(2024, 5, 1), dt.date(2024, 5, 1), time_trunc="day")
    assert urlsplit(server.requests[0]).path == "/en/datos/generacion/estructura-generacion"
    assert server.queries()[0] == {
        "start_date": "2024-05-01T00:00",
        "end_date": "2024-05-01T23:59",
        "time_trunc": "day",
    }


# -- retries ----------------------------------------------------------------------------------


def test_429_waits_what_retry_after_asks_in_seconds_and_as_http_date(
    server: ScriptedServer, sleeps: list[float]
) -> None:
    envelope = {"errors": [{"status": "429", "title": "Too Many Requests", "detail": "slow down"}]}
    later = email.utils.format_datetime(dt.datetime.now(UTC) + dt.timedelta(seconds=20), usegmt=True)
    doc = recorded("demanda_tiempo_real_2022-09-12_trimmed.json")
    server.script.extend(
        [
            json_reply(envelope, 429, **{"Retry-After": "7"}),
            json_reply(envelope, 429, **{"Retry-After": later}),
            json_reply(doc),
        ]
    )
    with client_for(server.url, sleeps) as client:
        assert client.fetch_chunk("demand", dt.date(2024, 1, 1), dt.date(2024, 1, 1)) == doc
    assert len(server.requests) == 3
    assert sleeps[0] == 7.0
    assert 17.0 < sleeps[1] <= 20.0


def test_retry_after_beyond_the_limit_fails_without_waiting(
    server: ScriptedServer, sleeps: list[float]
) -> None:
    server.script.append(Reply(429, b"", {"Retry-After": "3600"}))
    with (
        client_for(server.url, sleeps, max_retry_after_s=120) as client,
        pytest.raises(SourceError) as caught,
    ):
        client.fetch_chunk("demand", dt.date(2024, 1, 1), dt.date(2024, 1, 1))
    assert caught.value.status == 429 and "3600 s" in str(caught.value)
    assert sleeps == [] and len(server.requests) == 1


def test_retry_after_parsing() -> None:
    now = dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert retry_after_s("12", now) == 12.0
    assert retry_after_s("Wed, 01 May 2024 12:00:30 GMT", now) == 30.0
    assert retry_after_s("Wed, 01 May 2024 11:00:00 GMT", now) == 0.0  # a date in the past: go now
    assert retry_after_s("soon", now) is None and retry_after_s(None, now) is None


def test_html_500_is_retried_then_reported_as_one_line(server: ScriptedServer, sleeps: list[float]) -> None:
    html_reply = Reply(500, SYMFONY_500, {"Content-Type": "text/html; charset=UTF-8"})
    server.script.extend([html_reply] * 3)
    with (
        client_for(server.url, sleeps, max_retries=2, backoff_s=1.0) as client,
        pytest.raises(SourceError) as caught,
    ):
        client.fetch_chunk("demand", dt.date(2024, 1, 1), dt.date(2024, 1, 1))
    error = caught.value
    assert error.status == 500 and error.retryable and error.attempts == 3
    assert error.detail == "HTML page: An Error Occurred: Internal Server Error"
    assert "<" not in str(error) and "Something is broken" not in str(error)
    assert "gave up after 3 attempts" in str(error)
    assert len(server.requests) == 3
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 1.0 and 0 <= sleeps[1] <= 2.0


def test_html_page_without_title_reports_its_first_text_line() -> None:
    page = (
        "<html><head><style>p {}</style></head>"
        "<body>\n<h1> Service   Unavailable </h1><p>later</p></body></html>"
    )
    assert describe_error_body(page, "text/html") == "HTML page: Service Unavailable"
    assert describe_error_body("\n\n  upstream reset\nsecond line", "text/plain") == "upstream reset"


def test_backoff_is_exponential_with_full_jitter_and_capped(sleeps: list[float]) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503, text="busy"))
    client = ReeClient(
        "https://ree.test",
        http=httpx.Client(transport=transport),
        max_retries=6,
        backoff_s=1.0,
        max_backoff_s=4.0,
        sleep=sleeps.append,
        rng=random.Random(3),
    )
    with pytest.raises(SourceError, match="gave up after 7 attempts"):
        client.fetch_chunk("demand", dt.date(2024, 1, 1), dt.date(2024, 1, 1))
    ceilings = [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert len(sleeps) == 6
    assert all(0 <= s <= c for s, c in zip(sleeps, ceilings, strict=True))
    assert len(set(sleeps)) == 6 and sleeps != ceilings  # jittered, not the bare ceilings


def test_400_error_envelope_is_not_retried_and_names_status_url_and_detail(
    server: ScriptedServer, sleeps: list[float]
) -> None:
    envelope = recorded("error_400_example.json")
    server.script.append(json_reply(envelope, 400))
    with client_for(server.url, sleeps) as client, pytest.raises(SourceError) as caught:
        client.fetch_chunk("demand", dt.date(2024, 1, 1), dt.date(2024, 1, 1), geo="peninsular")
    error = caught.value
    assert error.status == 400 and not error.retryable
    assert "Los datos solicitados no están disponibles" in error.detail
    assert error.detail.startswith("Error Interno:")
    assert "400" in str(error) and "/es/datos/demanda/evolucion?start_date=2024-01-01T00%3A00" in str(error)
    assert error.url.startswith(server.url)
    assert sleeps == [] and len(server.requests) == 1


def test_error_envelope_inside_a_200_is_an_error(server: ScriptedServer, sleeps: list[float]) -> None:
    server.script.append(json_reply({"errors": [{"code": 7, "title": "Sin datos", "detail": "vacío"}]}))
    with client_for(server.url, sleeps) as client, pytest.raises(SourceError, match="Sin datos: vacío"):
        client.fetch_chunk("demand", dt.date(2024, 1, 1), dt.date(2024, 1, 1))


def test_timeout_is_retried_then_succeeds(server: ScriptedServer, sleeps: list[float]) -> None:
    doc = recorded("demanda_tiempo_real_2022-09-12_trimmed.json")
    server.script.extend([Reply(200, b"{}", delay_s=1.0), json_reply(doc)])
    with client_for(server.url, sleeps, timeout_s=0.2) as client:
        assert client.fetch_chunk("demand", dt.date(2024, 1, 1), dt.date(2024, 1, 1)) == doc
    assert len(sleeps) == 1 and len(server.requests) == 2


def test_timeout_every_time_is_raised_after_the_retries(server: ScriptedServer, sleeps: list[float]) -> None:
    server.script.extend([Reply(200, b"{}", delay_s=1.0)] * 3)
    started = time.perf_counter()
    with (
        client_for(server.url, sleeps, timeout_s=0.2, max_retries=2) as client,
        pytest.raises(SourceError) as caught,
    ):
        client.fetch_chunk("demand", dt.date(2024, 1, 1), dt.date(2024, 1, 1))
    assert caught.value.status is None and caught.value.retryable
    assert "Timeout" in str(caught.value) and caught.value.attempts == 3
    assert len(sleeps) == 2 and len(server.requests) == 3
    assert time.perf_counter() - started < 3.0  # each attempt gave up at the timeout, not the server's pace


def test_connection_refused_is_retried_then_raised(sleeps: list[float]) -> None:
    probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    closed_url = f"http://127.0.0.1:{probe.server_address[1]}"
    probe.server_close()
    with (
        client_for(closed_url, sleeps, max_retries=2) as client,
        pytest.raises(SourceError, match="ConnectError"),
    ):
        client.fetch_chunk("demand", dt.date(2024, 1, 1), dt.date(2024, 1, 1))
    assert len(sleeps) == 2


def test_generation_falls_back_to_daily_when_hourly_is_refused(
    server: ScriptedServer, sleeps: list[float]
) -> None:
    doc = recorded("generacion_ccaa7_year_trimmed.json")
    server.script.extend([json_reply(recorded("error_400_example.json"), 400), json_reply(doc)])
    with client_for(server.url, sleeps) as client:
        got, grain = client.fetch_day("generation", dt.date(2024, 5, 1))
    assert (got, grain) == (doc, "day")
    assert [q["time_trunc"] for q in server.queries()] == ["hour", "day"]


def test_an_outage_never_degrades_the_grain(server: ScriptedServer, sleeps: list[float]) -> None:
    server.script.extend([Reply(503, b"down")] * 2)
    with client_for(server.url, sleeps, max_retries=1) as client, pytest.raises(SourceError) as caught:
        client.fetch_day("generation", dt.date(2024, 5, 1))
    assert caught.value.status == 503
    assert [q["time_trunc"] for q in server.queries()] == ["hour", "hour"]


# -- parsing ----------------------------------------------------------------------------------


def test_ragged_series_are_parsed_without_inventing_values() -> None:
    rows = parse_values(recorded("generacion_ccaa7_year_trimmed.json"))
    per_series = Counter(r["series_title"] for r in rows)
    assert per_series == {"Hidráulica": 2, "Carbón": 3, "Generación total": 2}
    years = {(r["series_title"], r["datetime"].year) for r in rows}
    assert ("Carbón", 2016) in years and ("Hidráulica", 2016) not in years
    coal_2016 = next(r for r in rows if r["series_title"] == "Carbón" and r["datetime"].year == 2016)
    assert coal_2016["value"] == -2005.081  # kept as sent; cleaning is the transform's job
    first = rows[0]
    assert first["datetime"].utcoffset() == dt.timedelta(hours=1)
    assert first["ts_utc"] == dt.datetime(2013, 12, 31, 23, tzinfo=UTC)
    assert (first["series_id"], first["series_group_id"], first["series_kind"]) == ("10330", "1", "Renovable")
    assert {r["source"] for r in rows} == {"ree"} and {r["problem"] for r in rows} == {None}


def test_missing_hours_stay_missing_and_unreadable_entries_are_kept_with_a_reason() -> None:
    doc = hourly_doc(dt.date(2024, 5, 2), drop_hours=(3, 4))
    values = doc["included"][0]["attributes"]["values"]
    values[0]["value"] = None
    values[1]["datetime"] = "yesterday"
    rows = parse_values(doc)
    assert len(rows) == 22
    assert rows[0]["value"] is None and rows[0]["problem"] == "value is missing"
    assert rows[1]["ts_utc"] is None and "not ISO 8601" in rows[1]["problem"]
    hours = {r["datetime"].hour for r in rows if r["datetime"] is not None}
    assert 3 not in hours and 4 not in hours


@pytest.mark.parametrize(
    ("day", "hours", "first_utc"),
    [
        (dt.date(2024, 3, 31), 23, dt.datetime(2024, 3, 30, 23, tzinfo=UTC)),
        (dt.date(2024, 10, 27), 25, dt.datetime(2024, 10, 26, 22, tzinfo=UTC)),
    ],
)
def test_dst_days_have_23_or_25_hours_at_distinct_utc_instants(
    server: ScriptedServer, sleeps: list[float], day: dt.date, hours: int, first_utc: dt.datetime
) -> None:
    server.script.append(json_reply(hourly_doc(day)))
    with client_for(server.url, sleeps) as client:
        rows = parse_values(client.fetch_chunk("demand", day, day))
    expected = [first_utc + dt.timedelta(hours=n) for n in range(hours)]
    assert [r["ts_utc"] for r in rows] == expected
    assert len({r["ts_utc"] for r in rows}) == hours
    offsets = Counter(r["datetime"].strftime("%H:%M%z") for r in rows)
    if hours == 25:
        assert offsets["02:00+0200"] == 1 and offsets["02:00+0100"] == 1
    else:
        assert not any(label.startswith("02:") for label in offsets)


# -- raw zone ---------------------------------------------------------------------------------


def test_write_raw_keys_by_local_day_and_refuses_what_would_mislead(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    day = dt.date(2024, 10, 27)
    doc = hourly_doc(day)
    key, written = write_raw(store, "demand", day, doc, "national")
    assert key == "raw/ree/demand/year=2024/month=10/day=27/ree-demand-national-2024-10-27.json"
    assert written and store.get_json(key) == doc
    # The same response fetched again is not rewritten: its time stays, so no transform redoes it.
    os.utime(tmp_path / key, (0, 0))
    assert write_raw(store, "demand", day, copy.deepcopy(doc), "national") == (key, False)
    assert store.last_modified(key).year == 1970
    revised = copy.deepcopy(doc)
    revised["included"][0]["attributes"]["values"][0]["value"] += 1.0
    assert write_raw(store, "demand", day, revised, "national") == (key, True)
    assert store.get_json(key) == revised
    with pytest.raises(DataValidationError, match="2024-10-27"):
        write_raw(store, "demand", dt.date(2024, 10, 28), doc, "national")
    empty = {"data": doc["data"], "included": []}
    with pytest.raises(DataValidationError, match="no values"):
        write_raw(store, "demand", day, empty, "peninsular")
    sample = sample_document("demand", day, day)
    with pytest.raises(DataValidationError, match="sample data never goes under raw/ree"):
        write_raw(store, "demand", day, sample, "national")
    assert store.list_keys(RAW_PREFIX) == [key]


def sample_setup(tmp_path: Path, sleeps: list[float]) -> tuple[ReeClient, SampleTransport, LocalObjectStore]:
    transport = SampleTransport(seed=11)
    client = ReeClient(SAMPLE_BASE_URL, http=httpx.Client(transport=transport), sleep=sleeps.append)
    return client, transport, LocalObjectStore(tmp_path)


def test_backfill_skips_days_in_raw_unless_refresh_and_never_duplicates(
    tmp_path: Path, sleeps: list[float]
) -> None:
    client, transport, store = sample_setup(tmp_path, sleeps)
    start, end = dt.date(2024, 3, 30), dt.date(2024, 4, 1)
    lines: list[str] = []
    first = backfill(client, store, "demand", start, end, progress=lines.append, prefix=SAMPLE_RAW_PREFIX)
    assert (first.requested, first.written, first.skipped, first.failed) == (6, 6, 0, [])
    assert first.time_truncs == {"hour": 6} and len(lines) == 6
    keys = store.list_keys(SAMPLE_RAW_PREFIX)
    assert sorted(first.keys) == keys
    assert raw_key("demand", dt.date(2024, 3, 31), "peninsular", prefix=SAMPLE_RAW_PREFIX) in keys
    dst_doc = store.get_json(raw_key("demand", dt.date(2024, 3, 31), "national", prefix=SAMPLE_RAW_PREFIX))
    assert dst_doc == sample_document("demand", dt.date(2024, 3, 31), dt.date(2024, 3, 31), seed=11)
    assert len(dst_doc["included"][0]["attributes"]["values"]) == 23

    again = backfill(client, store, "demand", start, end, prefix=SAMPLE_RAW_PREFIX)
    assert (again.requested, again.written, again.skipped) == (6, 0, 6)
    assert len(transport.requests) == 6  # nothing fetched for days already in raw

    refreshed = backfill(client, store, "demand", start, end, refresh=True, prefix=SAMPLE_RAW_PREFIX)
    # Fetched again and found as stored: not rewritten (no key for the trigger), not duplicated.
    assert (refreshed.written, refreshed.unchanged, refreshed.skipped) == (0, 6, 0)
    assert len(transport.requests) == 12
    assert refreshed.keys == [] and store.list_keys(SAMPLE_RAW_PREFIX) == keys


def test_backfill_reports_failures_with_reasons_and_carries_on(tmp_path: Path, sleeps: list[float]) -> None:
    refused_day = "2024-05-02"

    def answer(request: httpx.Request) -> httpx.Response:
        day = dt.date.fromisoformat(request.url.params["start_date"][:10])
        if day.isoformat() == refused_day:
            return httpx.Response(
                400, json={"errors": [{"status": "400", "title": "Bad", "detail": "no hay"}]}
            )
        return httpx.Response(200, json=hourly_doc(day))

    recorded("demanda_tiempo_real_2022-09-12_trimmed.json")  # skip early when the shapes are absent
    client = ReeClient(
        "https://ree.test", http=httpx.Client(transport=httpx.MockTransport(answer)), sleep=sleeps.append
    )
    store = LocalObjectStore(tmp_path)
    summary = backfill(client, store, "demand", dt.date(2024, 5, 1), dt.date(2024, 5, 3), geos=("national",))
    assert (summary.requested, summary.written, len(summary.failed)) == (3, 2, 1)
    failure = summary.failed[0]
    assert (failure["day"], failure["geo"], failure["dataset"]) == (refused_day, "national", "demand")
    assert "400" in failure["reason"] and "no hay" in failure["reason"]
    assert summary.to_dict()["failed_count"] == 1
    assert len(store.list_keys(RAW_PREFIX)) == 2


def test_backfill_stops_when_the_api_is_down(tmp_path: Path, sleeps: list[float]) -> None:
    calls: list[httpx.Request] = []

    def down(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, text="maintenance")

    client = ReeClient(
        "https://ree.test",
        http=httpx.Client(transport=httpx.MockTransport(down)),
        max_retries=0,
        sleep=sleeps.append,
    )
    summary = backfill(
        client, LocalObjectStore(tmp_path), "demand", dt.date(2024, 5, 1), dt.date(2024, 5, 10)
    )
    assert summary.requested == 20 and len(summary.failed) == 3 and summary.not_attempted == 17
    assert (
        summary.requested == summary.written + summary.skipped + len(summary.failed) + summary.not_attempted
    )
    assert len(calls) == 3 and "stopped after 3 failures" in summary.stopped


def test_daily_refetches_the_local_days_the_last_48_hours_touch(tmp_path: Path, sleeps: list[float]) -> None:
    client, transport, store = sample_setup(tmp_path, sleeps)
    now = dt.datetime(2024, 3, 31, 10, 0, tzinfo=MADRID)  # 48 h back is 2024-03-29 09:00 local
    summary = daily(client, store, now, prefix=SAMPLE_RAW_PREFIX)
    days = {"2024-03-29", "2024-03-30", "2024-03-31"}
    assert {r.url.params["start_date"][:10] for r in transport.requests} == days
    assert (summary.start, summary.end) == ("2024-03-29", "2024-03-31")
    assert summary.datasets == ["demand", "generation"]
    assert (summary.requested, summary.written, summary.failed) == (12, 12, [])
    keys = store.list_keys(SAMPLE_RAW_PREFIX)
    fetched = len(transport.requests)
    rerun = daily(client, store, now, prefix=SAMPLE_RAW_PREFIX)
    # Fetched again, found as stored: nothing rewritten, nothing duplicated, no key for a trigger.
    assert len(transport.requests) == 2 * fetched
    assert (rerun.requested, rerun.written, rerun.unchanged, rerun.keys) == (12, 0, 12, [])
    assert store.list_keys(SAMPLE_RAW_PREFIX) == keys
    assert (
        rerun.requested
        == rerun.written + rerun.unchanged + rerun.skipped + len(rerun.failed) + rerun.not_attempted
    )


def test_window_days_are_madrid_days() -> None:
    at_midnight = dt.datetime(2024, 5, 2, 0, 0, tzinfo=MADRID)
    assert overlapping_local_days(at_midnight - dt.timedelta(hours=48), at_midnight) == [
        dt.date(2024, 4, 30),
        dt.date(2024, 5, 1),
    ]
    late_utc = dt.datetime(2024, 5, 1, 23, 30, tzinfo=UTC)  # already 2 May in Madrid
    assert overlapping_local_days(late_utc - dt.timedelta(hours=1), late_utc) == [dt.date(2024, 5, 2)]
    with pytest.raises(ValueError, match="timezone-aware"):
        overlapping_local_days(dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 2))


# -- the sample generator ---------------------------------------------------------------------


def test_every_sample_document_is_labelled_sample(sleeps: list[float]) -> None:
    client = sample_client(sleep=sleeps.append)
    for dataset in ("demand", "generation"):
        for geo in ("national", "peninsular"):
            doc = client.fetch_chunk(dataset, dt.date(2024, 5, 1), dt.date(2024, 5, 1), geo=geo)
            assert doc["data"]["attributes"]["title"].startswith("SAMPLE ")
            assert "SAMPLE" in doc["data"]["attributes"]["description"]
            assert doc["data"]["meta"]["sample"] is True and doc["data"]["meta"]["source_label"] == "sample"
            assert all(s["attributes"]["description"] == "SAMPLE" for s in doc["included"])
            assert {r["source"] for r in parse_values(doc)} == {"sample"}
    transport = SampleTransport()
    response = httpx.Client(transport=transport).get(
        f"{SAMPLE_BASE_URL}/es/datos/demanda/evolucion",
        params={"start_date": "2024-05-01T00:00", "end_date": "2024-05-01T23:59", "time_trunc": "hour"},
    )
    assert response.headers["X-Sample-Data"] == "true"


def test_sample_dst_days_have_23_and_25_hours() -> None:
    for day, hours in ((dt.date(2024, 3, 31), 23), (dt.date(2024, 10, 27), 25)):
        for dataset in ("demand", "generation"):
            rows = parse_values(sample_document(dataset, day, day, geo="peninsular"))
            per_series = Counter(r["series_title"] for r in rows)
            assert set(per_series.values()) == {hours}
            demand_instants = {
                r["ts_utc"] for r in rows if r["series_title"] in ("Demanda", "Generación total")
            }
            assert len(demand_instants) == hours
    spring = sample_document("demand", dt.date(2024, 3, 31), dt.date(2024, 3, 31))
    stamps = [v["datetime"] for v in spring["included"][0]["attributes"]["values"]]
    assert stamps[1] == "2024-03-31T01:00:00.000+01:00" and stamps[2] == "2024-03-31T03:00:00.000+02:00"


def daily_national_mwh(first: dt.date, last: dt.date, seed: int = 7) -> dict[dt.date, float]:
    doc = sample_document("demand", first, last, time_trunc="day", seed=seed)
    return {r["datetime"].date(): r["value"] for r in parse_values(doc)}


def test_sample_holidays_are_lower_than_the_neighbouring_weekdays() -> None:
    for holiday in (dt.date(2024, 5, 1), dt.date(2024, 8, 15), dt.date(2024, 12, 25)):
        days = daily_national_mwh(holiday - dt.timedelta(days=1), holiday + dt.timedelta(days=1))
        before, on, after = days.values()
        assert on < 0.92 * before and on < 0.92 * after, holiday


def test_sample_has_daily_weekly_and_yearly_shapes() -> None:
    hours = parse_values(sample_document("demand", dt.date(2024, 5, 8), dt.date(2024, 5, 8)))
    by_hour = {r["datetime"].hour: r["value"] for r in hours}
    assert by_hour[20] > 1.2 * by_hour[4]  # evening peak over the night trough
    week = daily_national_mwh(dt.date(2024, 5, 6), dt.date(2024, 5, 12))  # Monday .. Sunday
    assert week[dt.date(2024, 5, 12)] < 0.9 * week[dt.date(2024, 5, 8)]  # Sunday below Wednesday
    january = daily_national_mwh(dt.date(2024, 1, 15), dt.date(2024, 1, 19))
    april = daily_national_mwh(dt.date(2024, 4, 15), dt.date(2024, 4, 19))
    assert sum(january.values()) > 1.03 * sum(april.values())  # winter heating peak


def test_sample_is_deterministic_per_seed_and_independent_of_chunking() -> None:
    first, last = dt.date(2024, 2, 27), dt.date(2024, 3, 1)
    assert sample_document("generation", first, last, seed=3) == sample_document(
        "generation", first, last, seed=3
    )
    assert sample_document("demand", first, last, seed=3) != sample_document("demand", first, last, seed=4)
    whole = sample_document("demand", first, last, seed=3)["included"][0]["attributes"]["values"]
    pieces = [
        v
        for n in range(4)
        for v in sample_document(
            "demand", first + dt.timedelta(days=n), first + dt.timedelta(days=n), seed=3
        )["included"][0]["attributes"]["values"]
    ]
    assert whole == pieces


def test_sample_generation_is_plausible_and_meets_demand() -> None:
    day = dt.date(2024, 6, 20)
    generation = parse_values(sample_document("generation", day, day, geo="peninsular"))
    demand = {
        r["ts_utc"]: r["value"] for r in parse_values(sample_document("demand", day, day, geo="peninsular"))
    }
    by_title: dict[str, dict[dt.datetime, float]] = {}
    for r in generation:
        by_title.setdefault(r["series_title"], {})[r["ts_utc"]] = r["value"]
    solar = {r["datetime"].hour: r["value"] for r in generation if r["series_title"] == "Solar fotovoltaica"}
    assert all(solar[h] == 0 for h in (0, 1, 2, 3, 4, 5, 23)) and solar[14] > 5_000
    assert "Motores diésel" not in by_title  # island units are not in the peninsular system
    total = by_title.pop("Generación total")
    for instant, total_mwh in total.items():
        parts = sum(series[instant] for series in by_title.values())
        assert parts == pytest.approx(total_mwh, abs=0.01 * len(by_title))
        assert 1.0 < total_mwh / demand[instant] < 1.15
    assert sum(by_title["Nuclear"].values()) > 0.1 * sum(total.values())
    national = {r["series_title"] for r in parse_values(sample_document("generation", day, day))}
    assert {"Motores diésel", "Eólica", "Ciclo combinado", "Cogeneración", "Carbón"} <= national


def test_sample_transport_answers_bad_requests_like_the_api(sleeps: list[float]) -> None:
    client = sample_client(sleep=sleeps.append)
    with pytest.raises(SourceError) as too_long:
        client.fetch_chunk("demand", dt.date(2024, 1, 1), dt.date(2024, 2, 15))
    assert too_long.value.status == 400 and "range too long" in too_long.value.detail
    partial = {"start_date": "2024-01-01T00:00", "end_date": "2024-01-01T23:59", "time_trunc": "hour"}
    with pytest.raises(SourceError, match="go together"):
        client.get_json("demanda/evolucion", {**partial, "geo_limit": "peninsular"})
    assert sleeps == []  # refusals are not retried
