"""The API on the real (embedded) PostgreSQL: forecasts from the warehouse and the registry's champion,
logged to ``predictions`` and read back with their errors; health; one pool per Lambda container."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import psycopg
import pytest
import torch
from fastapi.testclient import TestClient
from forecast_fixtures import TINY, demand_rows, synthetic_series

from api.lambda_handler import build_handler
from api.main import create_app
from api.services import Services
from datalake import runtime
from datalake.datasets import DEMAND_HOURLY
from datalake.forecasting.forecaster import TransformerForecaster
from datalake.models import ModelRegistry
from datalake.settings import Settings
from datalake.warehouse.sync import upsert_frame

pytest_plugins = ["warehouse_fixtures"]
REPO = Path(__file__).resolve().parents[2]


def promote_new_champion(settings: Settings, directory: Path, seed: int) -> str:
    torch.manual_seed(seed)
    TransformerForecaster(TINY).save(directory)
    registry = ModelRegistry(runtime.object_store("artifacts", settings))
    version = registry.register(directory, {"mae_mw": 1.0})
    registry.promote(version, "test")
    return version


@pytest.fixture
def series() -> pd.Series:
    return synthetic_series(days=30)


@pytest.fixture
def lake(
    pg_settings: Settings, pg_conn: psycopg.Connection[Any], series: pd.Series, tmp_path: Path
) -> Settings:
    """demand_hourly with 30 days of SAMPLE rows, no predictions yet, and a champion in the registry."""
    for table in ("demand_hourly", "predictions", "forecast_requests"):
        pg_conn.execute(f"DROP TABLE IF EXISTS {table}")
    upsert_frame(pg_conn, DEMAND_HOURLY, demand_rows(series, "sample"))
    settings = pg_settings.model_copy(update={"api_refresh_s": 0.0})
    promote_new_champion(settings, tmp_path / "champion", seed=1)
    return settings


@pytest.fixture
def services(lake: Settings) -> Iterator[Services]:
    built = Services.from_settings(lake)
    yield built
    built.close()


@pytest.fixture
def client(lake: Settings, services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(lake, services)) as test_client:
        yield test_client


def test_forecast_is_served_logged_and_scored_once_actuals_arrive(
    client: TestClient, services: Services, pg_conn: psycopg.Connection[Any], series: pd.Series
) -> None:
    answer = client.get("/forecast", params={"days": 1}).json()
    assert services.predictions.flush() and services.predictions.written == 1
    assert pd.Timestamp(answer["data_cutoff"]) == series.index[-1]
    assert answer["model_version"].startswith("v") and len(answer["points"]) == 24
    rows = pg_conn.execute(
        "SELECT model_version, horizon_h, ts_utc, p50_mw, served_by FROM predictions ORDER BY ts_utc"
    ).fetchall()
    assert len(rows) == 24 and rows[0][1] == 1 and rows[-1][1] == 24
    assert rows[0][2] == dt.datetime.fromisoformat(answer["points"][0]["ts_utc"])
    assert rows[0][3] == answer["points"][0]["p50_mw"] and rows[0][4] == "in_process"
    requests = pg_conn.execute(
        "SELECT model_version, data_cutoff, horizon_hours, served_by, request_source FROM forecast_requests"
    ).fetchall()
    assert requests == [(answer["model_version"], series.index[-1].to_pydatetime(), 24, "in_process", "http")]

    # The same forecast served again: one more request row, no new prediction rows.
    client.get("/forecast", params={"days": 1})
    listed = client.get("/historical-predictions").json()
    assert listed["total"] == 24 and listed["summary"]["with_actual"] == 0
    assert pg_conn.execute("SELECT count(*) FROM forecast_requests").fetchone() == (2,)
    assert all(item["actual_mw"] is None and item["error_mw"] is None for item in listed["items"])
    assert all(item["times_served"] == 2 for item in listed["items"])

    # Actuals arrive for the first three forecast hours: sample and ree, and ree must win.
    hours = pd.DatetimeIndex([pd.Timestamp(p["ts_utc"]) for p in answer["points"][:3]], name="ts_utc")
    upsert_frame(pg_conn, DEMAND_HOURLY, demand_rows(pd.Series([30_000.0] * 3, index=hours), "ree"))
    upsert_frame(pg_conn, DEMAND_HOURLY, demand_rows(pd.Series([99_000.0] * 3, index=hours), "sample"))
    scored = client.get("/historical-predictions", params={"has_actual": True}).json()
    assert scored["total"] == 3 and scored["summary"]["with_actual"] == 3
    first = scored["items"][0]
    p50 = answer["points"][0]["p50_mw"]
    assert first["actual_mw"] == 30_000.0
    assert first["error_mw"] == round(p50 - 30_000.0, 1)
    assert first["ape_pct"] == round(abs(p50 - 30_000.0) / 30_000.0 * 100, 2)
    expected_mae = sum(abs(p["p50_mw"] - 30_000.0) for p in answer["points"][:3]) / 3
    assert scored["summary"]["mae_mw"] == pytest.approx(expected_mae, abs=0.06)
    pending = client.get("/historical-predictions", params={"has_actual": False}).json()
    assert pending["total"] == 21


def test_historical_predictions_filter_by_model_and_madrid_day_and_paginate(
    client: TestClient, series: pd.Series
) -> None:
    version = client.get("/forecast", params={"days": 2}).json()["model_version"]
    client.get("/forecast", params={"days": 1})  # its hours are the first 24 of the 48 already kept
    page = client.get("/historical-predictions", params={"limit": 20}).json()
    assert page["total"] == 48 and len(page["items"]) == 20 and page["next_offset"] == 20
    assert [page["items"][0]["times_served"], page["items"][0]["horizon_h"]] == [2, 1]
    tail = client.get("/historical-predictions", params={"limit": 1, "offset": 47}).json()["items"][0]
    assert tail["horizon_h"] == 48 and tail["times_served"] == 1
    last = client.get("/historical-predictions", params={"limit": 20, "offset": 40}).json()
    assert len(last["items"]) == 8 and last["next_offset"] is None
    assert client.get("/historical-predictions", params={"model": version}).json()["total"] == 48
    assert client.get("/historical-predictions", params={"model": "v-other"}).json()["total"] == 0
    # The first forecast hour is the one after the cut-off; count the hours on its Madrid day.
    first_hour = series.index[-1] + pd.Timedelta(hours=1)
    day = first_hour.tz_convert("Europe/Madrid").date()
    hours = pd.date_range(first_hour, periods=48, freq="h").tz_convert("Europe/Madrid")
    same_day = int((hours.date == day).sum())
    one_day = client.get(
        "/historical-predictions", params={"date_from": day.isoformat(), "date_to": day.isoformat()}
    ).json()
    assert one_day["total"] == same_day
    assert all(item["ts_local"].startswith(day.isoformat()) for item in one_day["items"])


def test_a_new_hour_moves_the_cutoff_and_an_unchanged_one_is_not_read_again(
    client: TestClient, services: Services, pg_conn: psycopg.Connection[Any], series: pd.Series
) -> None:
    first = client.get("/forecast").json()
    again = client.get("/forecast").json()
    assert again["data_cutoff"] == first["data_cutoff"]
    assert services.forecasts.stats["history_reads"] == 1 and services.forecasts.stats["computed"] == 1
    newer = series.index[-1] + pd.Timedelta(hours=1)
    upsert_frame(
        pg_conn, DEMAND_HOURLY, demand_rows(pd.Series([27_000.0], index=pd.DatetimeIndex([newer])), "sample")
    )
    moved = client.get("/forecast").json()
    assert pd.Timestamp(moved["data_cutoff"]) == newer
    assert services.forecasts.stats["history_reads"] == 2


def test_promoting_a_new_champion_is_picked_up_without_a_restart(
    client: TestClient, lake: Settings, tmp_path: Path
) -> None:
    before = client.get("/forecast").json()["model_version"]
    after_version = promote_new_champion(lake, tmp_path / "challenger", seed=2)
    after = client.get("/forecast").json()
    assert before != after_version and after["model_version"] == after_version


def test_health_is_ready_with_database_and_champion(client: TestClient) -> None:
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and ready.json() == {"status": "ok"}
    details = client.get("/health/details").json()
    checks = details["readiness"]["checks"]
    assert checks["database"]["ok"] and checks["database"]["demand_hourly"] is True
    assert checks["model"]["ok"] and checks["model"]["context_hours"] == TINY.context_hours
    # No crawl ran in this lake: reported, not blocking.
    assert checks["catalog"]["ok"] is False and details["readiness"]["ready"] is True


def test_without_demand_table_forecast_is_503_and_not_ready(
    client: TestClient, pg_conn: psycopg.Connection[Any]
) -> None:
    pg_conn.execute("DROP TABLE demand_hourly")
    response = client.get("/forecast")
    assert response.status_code == 503 and "demand_hourly" in response.json()["detail"]
    assert client.get("/historical-predictions").json()["total"] == 0


def test_one_pool_per_lambda_container(lake: Settings, services: Services) -> None:
    handler = build_handler(lake, create_app(lake, services))
    event = json.loads((REPO / "tests" / "events" / "apigw_rest_v1_get_forecast.json").read_text())
    context = SimpleNamespace(aws_request_id="a1", function_name="datalake-api")
    pools = []
    for _ in range(3):
        response = handler(json.loads(json.dumps(event)), context)
        assert response["statusCode"] == 200
        pools.append(services.database.pool())
    assert services.database.pools_opened == 1 and pools[0] is pools[1] is pools[2]
    with services.database.connection() as conn:
        sources = conn.execute("SELECT request_source, count(*) FROM forecast_requests GROUP BY 1").fetchall()
    # Written before each invocation returned: a frozen container runs no writer thread.
    assert sources == [("apigateway", 3)]


def test_queued_forecasts_are_written_in_one_go_and_a_failed_write_is_counted(
    services: Services, pg_conn: psycopg.Connection[Any]
) -> None:
    store = services.predictions
    store.flush_interval_s = 0.3
    hours = pd.date_range("2024-02-01", periods=3, freq="h", tz="UTC")
    answer = {
        "model_version": "v-batch",
        "data_cutoff": (hours[0] - pd.Timedelta(hours=1)).isoformat(),
        "origin": hours[0].isoformat(),
        "points": [
            {"ts_utc": h.isoformat(), "ts_local": h.isoformat(), "p10_mw": 1.0, "p50_mw": 2.0, "p90_mw": 3.0}
            for h in hours
        ],
    }
    for _ in range(5):
        assert store.enqueue(answer, served_by="in_process", request_source="http")
    assert store.flush() and store.written == 5 and store.dropped == 0
    assert pg_conn.execute("SELECT count(*) FROM forecast_requests").fetchone() == (5,)
    assert pg_conn.execute("SELECT count(*), min(horizon_h), max(horizon_h) FROM predictions").fetchone() == (
        3,
        1,
        3,
    )
    broken = {**answer, "data_cutoff": "not a time"}
    assert store.enqueue(broken, served_by="in_process", request_source="http")
    assert store.flush() and store.dropped == 1
    # The writer survived: the next record is written.
    assert store.enqueue(answer, served_by="in_process", request_source="http")
    assert store.flush() and store.written == 6
