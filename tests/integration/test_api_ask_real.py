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
from datalake.datasets import DEMAND_HOURLY, GENERATION
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
    # A whole day's mean: the API's pooled reader reads the warehouse's daily rollup.
    assert "FROM demand_daily" in body["sql"], body["sql"]
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


@pytest.fixture
def generation(pg_conn: psycopg.Connection[Any]) -> None:
    """Two hours of 29 January 2024: wind, nuclear and solar (REE's names)."""
    pg_conn.execute("DROP TABLE IF EXISTS generation")
    hours = pd.date_range("2024-01-29 12:00", periods=2, freq="h", tz="Europe/Madrid").tz_convert("UTC")
    mix = {"Eólica": 600.0, "Nuclear": 300.0, "Solar fotovoltaica": 100.0}
    frame = pd.DataFrame(
        [(ts, name, value) for ts in hours for name, value in mix.items()],
        columns=["ts_utc", "technology", "energy_mwh"],
    ).assign(
        local_date=lambda f: f["ts_utc"].dt.tz_convert("Europe/Madrid").dt.date,
        time_grain="hour",
        region="national",
        technology_group="Renovable",
        share=None,
        source="ree",
        extracted_at=pd.Timestamp("2024-02-01", tz="UTC"),
    )
    upsert_frame(pg_conn, GENERATION, frame)


@pytest.mark.usefixtures("generation")
def test_ask_visual_draws_a_ranking_as_horizontal_bars_in_the_question_language(client: TestClient) -> None:
    spanish = client.post(
        "/ask-visual",
        params={"format": "json"},
        json={"question": "¿Qué tecnologías generaron más ayer?", "as_of": AS_OF},
    ).json()
    assert spanish["kind"] == "bar" and spanish["orientation"] == "horizontal"
    assert spanish["x"] == ["Eólica", "Nuclear", "Solar fotovoltaica"]
    assert spanish["series"][0]["values"] == [1200.0, 600.0, 200.0]
    assert (
        spanish["title"].startswith("Generación por tecnología ayer") and spanish["x_label"] == "Tecnología"
    )
    assert spanish["unit"] == "MWh" and spanish["answer"].startswith(
        "Generación por tecnología en España ayer"
    )
    english = client.post(
        "/ask-visual",
        params={"format": "json"},
        json={"question": "share of each technology yesterday", "as_of": AS_OF},
    ).json()
    assert english["x"] == ["Wind", "Nuclear", "Solar photovoltaic"] and english["unit"] == "%"
    assert english["series"][0]["values"] == pytest.approx([60.0, 30.0, 10.0])  # percent, not fractions
    assert english["title"].startswith("Share of generation by technology yesterday")
    png = client.post("/ask-visual", json={"question": "share of each technology yesterday", "as_of": AS_OF})
    assert png.status_code == 200 and Image.open(io.BytesIO(png.content)).format == "PNG"
