"""/ask and /ask-visual for demand questions about the future: the real parser and the API's forecaster
(the in-process ForecastService over a tiny model), the lake replaced by an executor that must not run."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_fixtures import fake_services
from fastapi.testclient import TestClient
from PIL import Image

from api.main import create_app
from api.services import Services
from datalake.errors import ObjectNotFoundError
from datalake.settings import Settings

pytestmark = pytest.mark.unit

AS_OF = "2024-01-31T02:30:00+01:00"  # the tiny model's history ends at 2024-01-30 23:00 UTC


class NoSql:
    name, dialect = "lake", "duckdb"

    def run(self, sql: str) -> tuple[list[str], list[list[Any]]]:
        raise AssertionError(f"no SQL should run for a forecast, ran {sql}")


def real_ask_services(tmp_path: Path, **fakes: Any) -> tuple[Settings, Services]:
    settings = Settings(_env_file=None, lake_root=tmp_path / "lake", db_connect_timeout_s=1)  # type: ignore[call-arg]
    services = fake_services(settings, tmp_path, **fakes)
    services.ask, services.ask_executor = None, NoSql()  # datalake.ask.ask with the process's forecaster
    return settings, services


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings, services = real_ask_services(tmp_path)
    with TestClient(create_app(settings, services)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("question", "hours"), [("¿Cuál será la demanda mañana?", 24), ("forecast for next week", 168)]
)
def test_ask_answers_future_demand_from_the_champion(client: TestClient, question: str, hours: int) -> None:
    response = client.post("/ask", json={"question": question, "as_of": AS_OF})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["interpretation"]["method"] == "forecaster"
    assert body["interpretation"]["model_version"] == "v-test-1" and "v-test-1" in body["answer"]
    assert body["columns"] == ["ts_utc", "p10_mw", "p50_mw", "p90_mw"] and len(body["rows"]) == hours
    assert all(low <= mid <= high for _, low, mid, high in body["rows"])
    assert " MW" in body["answer"] and body["engine"] == "forecaster"


def test_the_same_forecast_as_the_forecast_endpoint(client: TestClient) -> None:
    asked = client.get("/ask", params={"q": "demand tomorrow", "as_of": AS_OF}).json()
    served = client.get("/forecast", params={"days": 14}).json()
    assert asked["interpretation"]["model_version"] == served["model_version"]
    by_hour = {dt.datetime.fromisoformat(p["ts_utc"]): p["p50_mw"] for p in served["points"]}
    assert len(asked["rows"]) == 24
    assert all(by_hour[dt.datetime.fromisoformat(ts)] == mid for ts, _, mid, _ in asked["rows"])


def test_ask_visual_draws_the_band_around_the_p50_line(client: TestClient) -> None:
    body = {"question": "previsión de demanda para el jueves", "as_of": AS_OF}
    data = client.post("/ask-visual", params={"format": "json"}, json=body)
    assert data.status_code == 200, data.text
    chart = data.json()
    assert chart["kind"] == "line" and chart["unit"] == "MW" and len(chart["x"]) == 24
    (p50,) = chart["series"]
    band = chart["band"]
    assert band["name"] == "p10-p90" and len(band["low"]) == len(band["high"]) == 24
    assert all(lo <= mid <= hi for lo, mid, hi in zip(band["low"], p50["values"], band["high"], strict=True))
    png = client.post("/ask-visual", json=body)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size[0] > 0


def test_no_champion_is_a_503_that_says_why(tmp_path: Path) -> None:
    def missing(_dest: Path) -> Any:
        raise ObjectNotFoundError("no demand_forecaster champion yet: run `datalake forecast train` first")

    settings, services = real_ask_services(tmp_path, load_champion=missing)
    with TestClient(create_app(settings, services)) as client:
        for path in ("/ask", "/ask-visual"):
            response = client.post(path, json={"question": "demand tomorrow", "as_of": AS_OF})
            assert response.status_code == 503, response.text
            assert "champion" in response.json()["detail"] and response.headers["Retry-After"] == "30"


def test_a_period_beyond_the_models_reach_is_the_callers_422(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "demanda el mes que viene", "as_of": AS_OF})
    assert response.status_code == 422 and response.json()["field"] == "question"
    assert "14" in response.json()["detail"]
