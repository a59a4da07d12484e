"""EIA runs on the SAMPLE generator, offline: the resumable backfill, the daily Lambda fed its real
EventBridge event, and ``datalake ingest eia`` with its summary."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from datalake.cli import app
from datalake.errors import ConfigurationError
from datalake.runs import RUNS_PREFIX
from datalake.settings import get_settings
from datalake.sources import eia
from datalake.sources.eia_sample import (
    SAMPLE_API_KEY,
    SAMPLE_BASE_URL,
    SampleTransport,
    prices,
    sample_client,
)
from datalake.sources.http_retry import RetryPolicy
from datalake.storage.local import LocalObjectStore

SERIES = eia.parse_series("petroleum/pri/spt:RWTC,petroleum/pri/spt:RBRTE,natural-gas/pri/fut:RNGWHHD")
NOW = dt.datetime(2024, 12, 2, 14, tzinfo=dt.UTC)


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalObjectStore:
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    return LocalObjectStore(tmp_path / "lake")


class FailingYears(SampleTransport):
    """The SAMPLE API, answering 500 to requests that start on one of ``years``' first day."""

    def __init__(self, years: set[int]) -> None:
        super().__init__()
        self.years = years

    def _answer(self, request: httpx.Request) -> httpx.Response:
        start = request.url.params.get("start", "")
        if any(start == f"{year}-01-01" for year in self.years):
            self.requests.append(request)
            return httpx.Response(500, json={"error": "Something unexpected happened.", "code": 500})
        return super()._answer(request)


def client_on(transport: SampleTransport) -> eia.EiaClient:
    return eia.EiaClient(
        SAMPLE_API_KEY,
        SAMPLE_BASE_URL,
        http=httpx.Client(transport=transport),
        retry=RetryPolicy(max_retries=0),
        sleep=lambda _s: None,
    )


def test_the_backfill_resumes_after_a_failed_year_and_skips_the_years_done(lake: LocalObjectStore) -> None:
    start, end = dt.date(2023, 6, 1), dt.date(2024, 3, 31)
    failing = FailingYears({2024})
    with client_on(failing) as api:
        first = eia.backfill(api, lake, SERIES, start, end, NOW, prefix=eia.SAMPLE_RAW_PREFIX)
    assert (first.chunks, first.chunks_fetched, len(first.failed)) == (4, 2, 2)
    assert all("server error (HTTP 500" in f["reason"] for f in first.failed)
    table = prices()
    in_2023 = sum(
        1 for s in ("RWTC", "RBRTE", "RNGWHHD") for d in table[s] if start <= d <= dt.date(2023, 12, 31)
    )
    assert first.rows_received == first.rows_written == in_2023
    assert json.loads(lake.get_bytes(eia.checkpoint_key("sample")))["done"] == [
        "natural-gas/pri/fut|RNGWHHD|2023-06-01|2023-12-31",
        "petroleum/pri/spt|RBRTE,RWTC|2023-06-01|2023-12-31",
    ]
    transport = SampleTransport()
    with client_on(transport) as api:
        again = eia.backfill(api, lake, SERIES, start, end, NOW, prefix=eia.SAMPLE_RAW_PREFIX)
    # Only 2024 is asked for again; 2023 comes from the checkpoint.
    assert (again.chunks_skipped, again.chunks_fetched, again.failed) == (2, 2, [])
    assert {r.url.params["start"] for r in transport.requests} == {"2024-01-01"}
    days_2024 = {d for s in table.values() for d in s if dt.date(2024, 1, 1) <= d <= end}
    assert again.days_written == 2 * len(days_2024)  # a file a day and route


def test_a_backfill_without_start_begins_at_each_routes_first_day(lake: LocalObjectStore) -> None:
    transport = SampleTransport()
    with client_on(transport) as api:
        summary = eia.backfill(
            api, lake, SERIES, None, dt.date(1986, 1, 10), NOW, prefix=eia.SAMPLE_RAW_PREFIX
        )
    metadata = [r.url.path for r in transport.requests if not r.url.path.endswith("/data/")]
    assert metadata == ["/v2/petroleum/pri/spt/", "/v2/natural-gas/pri/fut/"]
    # Henry Hub's route starts in 1997: nothing to ask of it; WTI starts 2 January 1986, Brent later.
    assert (
        summary.start == "1986-01-02"
        and summary.chunks == 1
        and summary.series == ["RWTC", "RBRTE", "RNGWHHD"]
    )
    assert summary.latest == {
        "RWTC": {
            "date": "1986-01-10",
            "price": prices()["RWTC"][dt.date(1986, 1, 10)],
            "unit": "USD/bbl",
            "name": "WTI",
        }
    }


def test_a_fatal_error_stops_the_run_at_once(lake: LocalObjectStore) -> None:
    transport = SampleTransport()
    api = eia.EiaClient("not-the-key", SAMPLE_BASE_URL, http=httpx.Client(transport=transport))
    with pytest.raises(eia.EiaError) as caught:
        eia.daily(api, lake, SERIES, NOW, prefix=eia.SAMPLE_RAW_PREFIX)
    assert caught.value.cause == "api_key_invalid" and len(transport.requests) == 1


def test_the_daily_lambda_fetches_the_last_14_days_and_lands_only_what_changed(
    lake: LocalObjectStore, load_lambda, event_json, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EIA_SAMPLE", "true")
    get_settings.cache_clear()
    handler, event = load_lambda("eia_daily"), event_json("eventbridge_scheduled_eia_daily.json")
    first = handler.lambda_handler(event, None)
    # 2026-09-30T14:00Z: 16 to 30 September, 11 New York business days, 3 series on 2 routes.
    days = {k.split("/")[-2] for k in lake.list_keys("raw/eia_sample")}
    assert first["status"] == "succeeded" and first["rows_in"] == first["rows_out"] == 33
    assert first["files_written"] == 22 and len(days) == 11  # a file a business day and route
    assert first["details"]["start"] == "2026-09-16" and first["details"]["end"] == "2026-09-30"
    again = handler.lambda_handler(event, None)
    assert again["files_written"] == 0 and again["details"]["rows_unchanged"] == 33
    assert len(lake.list_keys("raw/eia_sample")) == 22
    runs = lake.list_keys(f"{RUNS_PREFIX}/ingest_eia_daily_sample")
    assert len(runs) == 2


def test_the_daily_lambda_without_a_key_fails_naming_the_setting(
    lake: LocalObjectStore, load_lambda, event_json, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EIA_SAMPLE", "false")
    monkeypatch.delenv("EIA_API_KEY", raising=False)
    get_settings.cache_clear()
    handler, event = load_lambda("eia_daily"), event_json("eventbridge_scheduled_eia_daily.json")
    with pytest.raises(ConfigurationError, match="EIA API key: not configured") as caught:
        handler.lambda_handler(event, None)
    assert "EIA_SECRET_ARN" in str(caught.value.hint)


def test_ingest_eia_prints_a_summary_with_figures_and_units_and_resumes(lake: LocalObjectStore) -> None:
    runner = CliRunner()
    arguments = ["ingest", "eia", "--start", "2022-01-01", "--end", "2023-12-31", "--sample"]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output + repr(result.exception)
    output = " ".join(result.output.split())
    table = prices()
    received = sum(1 for s in table.values() for d in s if dt.date(2022, 1, 1) <= d <= dt.date(2023, 12, 31))
    assert f"{received:,} prices received: {received:,} landed" in output and received > 1_000
    wti = table["RWTC"][max(d for d in table["RWTC"] if d <= dt.date(2023, 12, 31))]
    assert f"WTI (RWTC): {wti:,.2f} USD/bbl on 2023-12-29" in output
    assert "Henry Hub (RNGWHHD):" in output and "USD/MMBtu on 2023-12-29" in output
    again = " ".join(runner.invoke(app, arguments).output.split())
    assert "4 date range(s): 0 fetched, 4 already done" in again and "0 HTTP request(s)" in again


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--start", "2024-13-01"], "expected YYYY-MM-DD"),
        (["--start", "2024-02-01", "--end", "2024-01-01"], "before"),
    ],
)
def test_ingest_eia_refuses_bad_dates(lake: LocalObjectStore, arguments: list[str], words: str) -> None:
    result = CliRunner().invoke(app, ["ingest", "eia", "--sample", *arguments])
    assert result.exit_code == 2 and words in " ".join(result.output.split())


def test_the_sample_is_labelled_everywhere(lake: LocalObjectStore) -> None:
    transport = SampleTransport()
    with eia.EiaClient(SAMPLE_API_KEY, SAMPLE_BASE_URL, http=httpx.Client(transport=transport)) as api:
        fetch = api.fetch("petroleum/pri/spt", ["RWTC"], dt.date(2024, 1, 2), dt.date(2024, 1, 2))
    assert fetch.sample and fetch.envelope["response"]["description"].startswith("SAMPLE")
    assert all(r["series-description"].startswith("SAMPLE ") for r in fetch.rows)
    landed = eia.write_fetch(lake, fetch, NOW, prefix=eia.SAMPLE_RAW_PREFIX)
    doc = lake.get_json(landed.keys[0])
    assert doc["sample"] is True and doc["datalake"]["source"] == "sample"
    with sample_client() as api:
        assert (
            api.fetch("petroleum/pri/spt", ["RWTC"], dt.date(2024, 1, 2), dt.date(2024, 1, 2)).rows
            == fetch.rows
        )
