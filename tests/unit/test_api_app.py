"""The API through FastAPI's TestClient, with /ask, the model and the warehouse replaced by fakes."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from api_fixtures import FakeAsk, FakePredictions, fake_services
from fastapi.testclient import TestClient
from PIL import Image

from api.main import create_app
from api.services import charts
from datalake.errors import ObjectNotFoundError, QueryError
from datalake.settings import Settings


def make_settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, lake_root=tmp_path / "lake", db_connect_timeout_s=1, **values)


@pytest.fixture
def ask() -> FakeAsk:
    return FakeAsk()


@pytest.fixture
def client(tmp_path: Path, ask: FakeAsk) -> Iterator[TestClient]:
    settings = make_settings(tmp_path)
    app = create_app(settings, fake_services(settings, tmp_path, ask=ask))
    with TestClient(app) as test_client:
        yield test_client


# -- /ask ----------------------------------------------------------------------------------------


def test_post_ask_in_spanish_returns_answer_sql_columns_rows_and_engine(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "¿Cuál fue la demanda máxima ayer?"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "question",
        "language",
        "answer",
        "interpretation",
        "sql",
        "columns",
        "rows",
        "engine",
    }
    assert body["language"] == "es" and body["columns"] == ["max_demand_mw"] and body["rows"] == [[31245.0]]
    assert body["sql"].startswith("SELECT") and body["engine"] == "postgres"


def test_get_ask_in_english_passes_as_of_and_serialises_times(client: TestClient, ask: FakeAsk) -> None:
    response = client.get(
        "/ask", params={"q": "What was the demand yesterday?", "as_of": "2024-06-10T12:00:00+02:00"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["language"] == "en"
    assert body["rows"][0] == ["2024-06-09T22:00:00+00:00", 25000.0]
    question, as_of = ask.calls[-1]
    assert question == "What was the demand yesterday?"
    assert as_of == dt.datetime(2024, 6, 10, 10, tzinfo=dt.UTC)


def test_as_of_without_offset_is_madrid_time(client: TestClient, ask: FakeAsk) -> None:
    response = client.post("/ask", json={"question": "demanda de ayer", "as_of": "2024-01-15T09:00:00"})
    assert response.status_code == 200
    as_of = ask.calls[-1][1]
    assert as_of is not None and as_of.utcoffset() == dt.timedelta(hours=1)  # CET in January


def test_refusal_is_422_with_reason_and_suggestions_in_the_question_language(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "¿Quién ganó el mundial de 2010?"})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("No puedo responder")
    assert 2 <= len(body["suggestions"]) <= 3 and body["language"] == "es"
    english = client.get("/ask", params={"q": "Who won the 2010 world cup?"}).json()
    assert english["language"] == "en" and english["suggestions"][0].startswith("What")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": "x" * 501}, "question"),
        ({}, "question"),
        ({"question": "demanda", "sql": "DROP TABLE demand_hourly"}, "sql"),
        ({"question": "demanda", "as_of": "yesterday"}, "as_of"),
    ],
)
def test_bad_ask_bodies_are_422_naming_the_field(client: TestClient, payload: dict, field: str) -> None:
    response = client.post("/ask", json=payload)
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_malformed_json_is_a_json_422(client: TestClient) -> None:
    response = client.post("/ask", content=b'{"question": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"


def test_an_unexpected_error_is_a_500_json_without_internals(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "boom"})
    assert response.status_code == 500
    body = response.json()
    assert body["detail"] == "internal error" and len(body["reference"]) == 12
    assert "hunter2" not in response.text and "RuntimeError" not in response.text


def test_a_query_error_hides_the_sql(tmp_path: Path) -> None:
    def failing(question: str, as_of: Any = None) -> Any:
        raise QueryError("relation secret_table does not exist", "SELECT * FROM secret_table", "postgres")

    settings = make_settings(tmp_path)
    with TestClient(create_app(settings, fake_services(settings, tmp_path, ask=failing))) as client:
        response = client.get("/ask", params={"q": "demanda"})
    assert response.status_code == 500
    assert (
        "secret_table" not in response.text and response.json()["detail"] == "the query failed in the engine"
    )


def test_unknown_paths_and_methods_answer_json(client: TestClient) -> None:
    missing = client.get("/nope")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}
    wrong = client.delete("/ask")
    assert wrong.status_code == 405 and wrong.json()["detail"] == "Method Not Allowed"


# -- body size -----------------------------------------------------------------------------------


def test_large_body_is_413_before_the_app_reads_it(client: TestClient, ask: FakeAsk) -> None:
    big = json.dumps({"question": "demanda " * 5000}).encode()
    response = client.post("/ask", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["field"] == "body"
    assert ask.calls == []


def test_large_chunked_body_without_length_is_413(client: TestClient, ask: FakeAsk) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(40):
            yield b"demanda " * 100
        yield b'"}'

    response = client.post("/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert ask.calls == []


# -- API key and rate limit ---------------------------------------------------------------------------


def test_api_key_is_required_when_configured_and_compared_exactly(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_key="s3cret-key")
    with TestClient(create_app(settings, fake_services(settings, tmp_path))) as client:
        assert client.get("/ask", params={"q": "demanda"}).status_code == 401
        wrong = client.get("/ask", params={"q": "demanda"}, headers={"X-API-Key": "s3cret-kez"})
        assert wrong.status_code == 401 and wrong.json() == {"detail": "missing or invalid API key"}
        right = client.get("/ask", params={"q": "demanda"}, headers={"X-API-Key": "s3cret-key"})
        assert right.status_code == 200
        # Probes and docs stay open.
        assert client.get("/health/live").status_code == 200
        assert client.get("/openapi.json").status_code == 200
        spec = client.get("/openapi.json").json()
        assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"


def test_rate_limit_answers_429_with_retry_after_per_client(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_rate_limit_per_minute=2)
    with TestClient(create_app(settings, fake_services(settings, tmp_path))) as client:
        statuses = [client.get("/ask", params={"q": "demanda"}).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = client.get("/ask", params={"q": "demanda"})
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 30
        assert "rate limit" in limited.json()["detail"]
        assert client.get("/health/live").status_code == 200  # probes are not limited


# -- /forecast ------------------------------------------------------------------------------------


def test_forecast_days_returns_hourly_quantiles_model_version_and_cutoff(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    predictions = FakePredictions()
    services = fake_services(settings, tmp_path, predictions=predictions)
    with TestClient(create_app(settings, services)) as client:
        response = client.get("/forecast", params={"days": 2})
        assert response.status_code == 200
        body = response.json()
        assert body["model_version"] == "v-test-1" and body["horizon_hours"] == 48
        assert len(body["points"]) == 48 and body["served_by"] == "in_process"
        cutoff = dt.datetime.fromisoformat(body["data_cutoff"])
        first = dt.datetime.fromisoformat(body["points"][0]["ts_utc"])
        assert first - cutoff == dt.timedelta(hours=1)
        assert set(body["points"][0]) == {"ts_utc", "ts_local", "p10_mw", "p50_mw", "p90_mw"}
        next_hour = client.get("/forecast", params={"hours": 1}).json()
        assert len(next_hour["points"]) == 1
    # Every served forecast is logged, with where it came from.
    assert [len(entry["answer"]["points"]) for entry in predictions.logged] == [48, 1]
    assert (
        predictions.logged[0]["served_by"] == "in_process"
        and predictions.logged[0]["request_source"] == "http"
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"days": 15}, "days"),
        ({"days": 0}, "days"),
        ({"hours": 337}, "hours"),
        ({"days": 1, "hours": 2}, "hours"),
    ],
)
def test_forecast_horizon_out_of_range_is_422(tmp_path: Path, params: dict, field: str) -> None:
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings, fake_services(settings, tmp_path))) as client:
        response = client.get("/forecast", params=params)
    assert response.status_code == 422 and response.json()["field"] == field


def test_forecast_caches_model_history_and_answer(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_refresh_s=60)
    services = fake_services(settings, tmp_path)
    with TestClient(create_app(settings, services)) as client:
        first = client.get("/forecast", params={"days": 1}).json()
        second = client.get("/forecast", params={"days": 1}).json()
        client.get("/forecast", params={"days": 3})
    assert first == second
    assert services.forecasts.stats == {
        "model_loads": 1,
        "history_reads": 1,
        "computed": 2,
        "endpoint_calls": 0,
    }


def test_forecast_reloads_the_model_when_the_champion_pointer_moves(tmp_path: Path) -> None:
    from api_fixtures import tiny_model

    now = [0.0]
    pointer = ["v1"]
    models = {"v1": tiny_model(tmp_path / "m1", "v1"), "v2": tiny_model(tmp_path / "m2", "v2")}
    loads: list[str] = []

    def load(_dest: Path) -> Any:
        loads.append(pointer[0])
        return models[pointer[0]]

    settings = make_settings(tmp_path, api_refresh_s=30)
    services = fake_services(
        settings, tmp_path, load_champion=load, champion_version=lambda: pointer[0], clock=lambda: now[0]
    )
    with TestClient(create_app(settings, services)) as client:
        assert client.get("/forecast").json()["model_version"] == "v1"
        pointer[0] = "v2"
        now[0] = 10.0  # not yet due: the pointer is not read
        assert client.get("/forecast").json()["model_version"] == "v1"
        now[0] = 31.0
        assert client.get("/forecast").json()["model_version"] == "v2"
        now[0] = 62.0  # due again, pointer unchanged: no reload
        assert client.get("/forecast").json()["model_version"] == "v2"
    assert loads == ["v1", "v2"]


def test_no_champion_is_503_json_with_retry_after(tmp_path: Path) -> None:
    def missing(_dest: Path) -> Any:
        raise ObjectNotFoundError("no demand_forecaster champion yet: run `datalake forecast train` first")

    settings = make_settings(tmp_path)
    with TestClient(create_app(settings, fake_services(settings, tmp_path, load_champion=missing))) as client:
        response = client.get("/forecast")
    assert response.status_code == 503
    assert "champion" in response.json()["detail"] and response.headers["Retry-After"] == "30"


def test_too_little_history_is_a_503_not_the_callers_fault(tmp_path: Path) -> None:
    from api_fixtures import synthetic_history

    short = synthetic_history(days=30).iloc[-48:]
    settings = make_settings(tmp_path)
    services = fake_services(settings, tmp_path, load_history=lambda hours: short)
    with TestClient(create_app(settings, services)) as client:
        response = client.get("/forecast")
    assert response.status_code == 503
    assert "needs the 216 hours" in response.json()["detail"]


# -- /ask-visual ----------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(data)).size


@pytest.mark.parametrize(
    "question",
    [
        "Demanda horaria de ayer",
        "Top technologies by generation last month",
        "¿Cuál fue la demanda máxima ayer?",
    ],
)
def test_ask_visual_returns_a_png(client: TestClient, question: str) -> None:
    response = client.post("/ask-visual", json={"question": question})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert png_size(response.content) == (900, 480)


def test_ask_visual_json_gives_kind_and_labels_in_the_question_language(client: TestClient) -> None:
    line = client.post("/ask-visual", params={"format": "json"}, json={"question": "demanda de ayer"}).json()
    assert line["kind"] == "line" and line["language"] == "es"
    assert line["title"].startswith("Demanda horaria") and line["x_label"] == "Hora" and line["unit"] == "MW"
    assert len(line["x"]) == 24 and line["series"][0]["values"][0] == 25000.0
    bars = client.post(
        "/ask-visual", params={"format": "json"}, json={"question": "Top technologies by generation"}
    ).json()
    assert bars["kind"] == "bar" and bars["x"] == ["Eólica", "Nuclear", "Solar fotovoltaica"]
    assert bars["title"] == "Generation by technology" and bars["y_label"] == "Energy"
    value = client.post("/ask-visual", params={"format": "json"}, json={"question": "demanda máxima"}).json()
    assert value["kind"] == "value" and value["series"][0]["values"] == [31245.0]


def test_ask_visual_refusal_and_bad_format_are_json(client: TestClient) -> None:
    refused = client.post("/ask-visual", json={"question": "¿Quién ganó el mundial?"})
    assert refused.status_code == 422 and refused.json()["suggestions"]
    bad = client.post("/ask-visual", params={"format": "gif"}, json={"question": "demanda"})
    assert bad.status_code == 422 and bad.json()["field"] == "format"


def test_numbers_are_written_the_way_each_language_writes_them() -> None:
    assert charts.format_number(31245.5, "es", 1) == "31.245,5"
    assert charts.format_number(31245.5, "en", 1) == "31,245.5"


def test_bar_chart_pixels_differ_from_line_chart(client: TestClient) -> None:
    line = client.post("/ask-visual", json={"question": "demanda de ayer"}).content
    bars = client.post("/ask-visual", json={"question": "generación por tecnología"}).content
    assert line != bars

    # A line chart is mostly white; bars fill a good share of the plot with colour.
    def coloured_share(data: bytes) -> float:
        pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=int)
        return float(((pixels.max(axis=2) - pixels.min(axis=2)) > 60).mean())

    assert coloured_share(bars) > 3 * coloured_share(line)


# -- /historical-predictions (validation only; the data path is an integration test) ----------------


def test_historical_predictions_validates_its_filters(client: TestClient) -> None:
    ok = client.get("/historical-predictions", params={"limit": 10})
    assert ok.status_code == 200
    assert ok.json() == {
        "items": [],
        "total": 0,
        "limit": 10,
        "offset": 0,
        "next_offset": None,
        "summary": {"with_actual": 0, "mae_mw": None, "mape_pct": None, "band_coverage": None},
    }
    backwards = client.get(
        "/historical-predictions", params={"date_from": "2024-06-10", "date_to": "2024-06-01"}
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "date_to"
    assert client.get("/historical-predictions", params={"limit": 501}).status_code == 422


def test_ask_text_is_an_alias_of_ask(client: TestClient) -> None:
    body = {"question": "¿Cuál fue la demanda máxima ayer?", "as_of": "2024-06-10T12:00:00+02:00"}
    alias, original = client.post("/ask-text", json=body), client.post("/ask", json=body)
    assert alias.status_code == original.status_code == 200
    assert alias.json() == original.json()
    assert client.post("/ask-text", json={"question": ""}).status_code == 422


# -- /health --------------------------------------------------------------------------------------


def test_health_reports_liveness_and_readiness_separately(client: TestClient) -> None:
    report = client.get("/health/details").json()
    assert report["liveness"]["alive"] is True
    checks = report["readiness"]["checks"]
    assert set(checks) == {"database", "model", "catalog", "movie_success", "store_sales"}
    # The store-sales champion is reported (present with its version, or absent), never an error.
    assert checks["store_sales"]["ok"] is True and checks["store_sales"]["champion"] in ("present", "absent")
    # No movie-success model trained in this lake: reported, with how to train one.
    assert checks["movie_success"]["ok"] is False
    assert "datalake train movie-success" in checks["movie_success"]["error"]
    assert checks["database"]["ok"] is False and "PostgreSQL" in checks["database"]["error"]
    assert checks["model"]["ok"] is True and checks["model"]["version"] == "v-test-1"
    assert checks["catalog"]["ok"] is True and "demand_hourly" in checks["catalog"]["tables"]
    assert report["readiness"]["ready"] is False and report["status"] == "degraded"
    ready = client.get("/health/ready")
    assert ready.status_code == 503 and ready.json() == {"status": "unavailable"}
    assert client.get("/health/live").json() == {"status": "ok"}


# -- OpenAPI --------------------------------------------------------------------------------------


def test_every_operation_documents_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert {path for path, _, _ in operations} >= {
        "/ask",
        "/ask-visual",
        "/forecast",
        "/historical-predictions",
        "/health",
        "/health/live",
        "/health/ready",
        "/health/details",
    }
    for path, method, op in operations:
        ok = op["responses"].get("200", op["responses"].get("202"))["content"]  # 202: POST /transactions
        assert any("example" in media or "examples" in media for media in ok.values()), (path, method)
        for parameter in op.get("parameters", []):
            if parameter["in"] == "query":
                assert parameter.get("examples"), (path, method, parameter["name"])
        if "requestBody" in op:
            # JSON, or a CSV upload (/predict/sales/csv: multipart or text/csv), each with an example.
            for kind, media in op["requestBody"]["content"].items():
                assert media.get("examples") or media.get("example"), (path, method, kind)
    assert spec["paths"]["/ask"]["post"]["responses"]["422"]["content"]["application/json"]["example"][
        "suggestions"
    ]
    assert "image/png" in spec["paths"]["/ask-visual"]["post"]["responses"]["200"]["content"]


def test_docs_page_loads_the_schema(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "'/openapi.json'" in page.text
