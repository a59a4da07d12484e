"""/ask and /ask-visual with the real semantic parser (``datalake.ask.ask``) on the embedded warehouse."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pandas as pd
import psycopg
import pytest
from fastapi.testclient import TestClient
from forecast_fixtures import synthetic_series
from PIL import Image

from api.main import create_app
from api.services import Services
from datalake.datasets import DEMAND_HOURLY
from datalake.settings import Settings
from datalake.warehouse.sync import upsert_frame

pytest_plugins = ["warehouse_fixtures"]
AS_OF = "2024-01-30T12:00:00+01:00"  # "yesterday" is Monday 29 January 2024 in Madrid


@pytest.fixture
def series(pg_conn: psycopg.Connection[Any]) -> pd.Series:
    series = synthetic_series(days=30)
    pg_conn.execute("DROP TABLE IF EXISTS demand_hourly")
    frame = pd.DataFrame(
        {
            "ts_utc": series.index,
            "local_date": series.index.tz_convert("Europe/Madrid").date,
            "region": "national",
            "demand_mw": series.round(1).to_numpy(),
            "source": "ree",
            "tso_forecast_mw": None,
            "extracted_at": pd.Timestamp("2024-02-01", tz="UTC"),
        }
    )
    upsert_frame(pg_conn, DEMAND_HOURLY, frame)
    return series.round(1)


@pytest.fixture
def client(pg_settings: Settings, series: pd.Series) -> Iterator[TestClient]:
    services = Services.from_settings(pg_settings)
    assert services.ask is None  # the real datalake.ask.ask, imported on first use
    with TestClient(create_app(pg_settings, services)) as test_client:
        yield test_client


def numbers(rows: list[list[Any]]) -> list[float]:
    return [float(v) for row in rows for v in row if isinstance(v, int | float) and not isinstance(v, bool)]


def test_spanish_question_is_answered_with_the_warehouse_numbers(
    client: TestClient, series: pd.Series
) -> None:
    response = client.post(
        "/ask", json={"question": "¿Cuál fue la demanda máxima de electricidad ayer?", "as_of": AS_OF}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["language"] == "es" and body["sql"] and body["columns"]
    local = series.tz_convert("Europe/Madrid")
    expected = float(local[local.index.date == pd.Timestamp("2024-01-29").date()].max())
    assert any(abs(value - expected) < 1.0 for value in numbers(body["rows"])), (expected, body["rows"])


def test_english_question_by_get(client: TestClient, series: pd.Series) -> None:
    response = client.get("/ask", params={"q": "What was the average demand yesterday?", "as_of": AS_OF})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["language"] == "en"
    local = series.tz_convert("Europe/Madrid")
    expected = float(local[local.index.date == pd.Timestamp("2024-01-29").date()].mean())
    assert any(abs(value - expected) < 1.0 for value in numbers(body["rows"])), (expected, body["rows"])


def test_out_of_scope_question_is_refused_with_suggestions(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "¿Quién ganó el mundial de fútbol de 2010?"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"] and 2 <= len(body["suggestions"]) <= 3 and body["language"] == "es"


def test_ask_visual_draws_the_real_answer(client: TestClient) -> None:
    response = client.post("/ask-visual", json={"question": "Demanda horaria de ayer", "as_of": AS_OF})
    assert response.status_code == 200, response.text
    assert Image.open(io.BytesIO(response.content)).format == "PNG"
    data = client.post(
        "/ask-visual", params={"format": "json"}, json={"question": "Demanda horaria de ayer", "as_of": AS_OF}
    ).json()
    assert data["kind"] == "line" and data["language"] == "es" and len(data["x"]) in (23, 24, 25)


def test_questions_run_as_the_reader_through_one_pool(pg_settings: Settings, series: pd.Series) -> None:
    services = Services.from_settings(pg_settings)
    with TestClient(create_app(pg_settings, services)) as client:
        for question in ("¿Cuál fue la demanda media ayer?", "What was the peak demand yesterday?"):
            response = client.post("/ask", json={"question": question, "as_of": AS_OF})
            assert response.status_code == 200, response.text
            assert response.json()["engine"] == "warehouse"
        reader = services.ask_executor.database
        assert reader.pools_opened == 1
        with reader.connection() as conn:
            assert conn.execute("SELECT current_user").fetchone() == (pg_settings.reader_role,)
            with pytest.raises(psycopg.Error):
                conn.execute("DELETE FROM demand_hourly")
