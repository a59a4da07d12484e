"""/ask, /ask-text and /ask-visual on the declared datasets: the real /ask core through the app, the
Kaggle TMDB 5000 movies in a real DuckDB, charts a client can draw, refusals as JSON 422s."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_fixtures import fake_services
from ask_fixtures import DuckExecutor
from fastapi.testclient import TestClient
from PIL import Image

from api.main import create_app
from datalake.ask.eval_frames import KAGGLE_MOVIES_CSV, energy_frames, movie_frames
from datalake.settings import Settings

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    if not KAGGLE_MOVIES_CSV.is_file():
        pytest.fail(f"the Kaggle TMDB file is missing: {KAGGLE_MOVIES_CSV}")
    root: Path = tmp_path_factory.mktemp("datasets")
    settings = Settings(_env_file=None, lake_root=root / "lake", db_connect_timeout_s=1)  # type: ignore[call-arg]
    services = fake_services(settings, root)
    services.ask, services.ask_executor = None, DuckExecutor({**movie_frames(), **energy_frames()})
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_ranking_of_groups_is_drawn_as_bars(client: TestClient) -> None:
    body = {"question": "Top 5 géneros por popularidad"}
    answer = client.post("/ask", json=body)
    assert answer.status_code == 200, answer.text
    payload = answer.json()
    assert payload["interpretation"]["dataset"] == "movies" and payload["interpretation"]["kind"] == "group"
    assert len(payload["rows"]) == 5 and payload["language"] == "es"
    chart = client.post("/ask-visual", params={"format": "json"}, json=body).json()
    assert chart["kind"] == "bar" and chart["x"] == [row[0] for row in payload["rows"]]
    assert chart["series"][0]["values"] == pytest.approx([row[1] for row in payload["rows"]])
    png = client.post("/ask-visual", json=body)
    assert png.headers["content-type"] == "image/png" and Image.open(io.BytesIO(png.content)).size[0] > 400


def test_a_distribution_over_time_and_the_alias(client: TestClient) -> None:
    body = {"question": "Distribution of movies by year"}
    chart = client.post("/ask-visual", params={"format": "json"}, json=body).json()
    years = chart["x"]
    assert chart["kind"] == "bar" and years == sorted(years) and len(years) > 80
    text = client.post("/ask-text", json={"question": "compras vs ventas en marzo de 2024"})
    assert text.status_code == 200 and [row[0] for row in text.json()["rows"]] == ["COMPRA", "VENTA"]


def test_refusals_are_json_422s_that_name_the_reason(client: TestClient) -> None:
    personal = client.post("/ask", json={"question": "top clients by spend"})
    assert personal.status_code == 422 and "personal" in personal.text
    ambiguous = client.get("/ask", params={"q": "¿Qué tipos de energía hay?"})
    assert ambiguous.status_code == 422 and "electricidad" in ambiguous.text
    assert ambiguous.headers["content-type"].startswith("application/json")
