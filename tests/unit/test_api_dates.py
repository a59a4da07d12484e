"""Extreme dates through the real app and the real /ask core: a 422 that names the field, never a 5xx."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_fixtures import fake_services
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.main import create_app
from datalake.ask import ask
from datalake.ask.evaluation import load_lake, sample_frames, scratch_lake
from datalake.cli import app as cli_app
from datalake.settings import Settings, get_settings

OUT_OF_RANGE_AS_OF = [
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01",
    "1899-12-31T23:59:59",
    "2201-01-01T00:00:00",
    "9999-12-30T12:00:00",
    "9999-12-31T23:59:59",
    "9999-12-31T23:59:59.999999-12:00",
]
IN_RANGE_AS_OF = ["1900-01-01T00:00:00", "2200-12-31T23:59:59-12:00", "2200-12-31T23:00:00+14:00"]
# Not dates, or numbers pydantic reads as Unix time (seconds, or milliseconds when large).
ODD_AS_OF = ["1e308", "nan", "99999999999999", "-62135596800", "2024-02-30", "0"]
QUESTIONS = [
    "demanda de mañana",
    "¿Cuál fue la demanda total ayer?",
    "demand last week",
    "demanda dentro de 300 años",
    "demanda en el año 9999",
    "demanda el 31/12/9999",
    "demand on 9999-12-31",
    "demand on 0001-01-01",
    "demanda el 1 de enero del año 1",
    "demanda hace 3000 años",
    "demanda dentro de 99999999999 días",
    "demand next year",
    "generación por tecnología el próximo mes",
]


@pytest.fixture(scope="module")
def real_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app with the real /ask core on a local lake (DuckDB) holding the evaluation data."""
    root: Path = tmp_path_factory.mktemp("dates")
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=root / "lake", db_connect_timeout_s=1)
    with scratch_lake() as executor:
        real_ask = functools.partial(ask, settings=settings, executor=executor)
        services = fake_services(settings, root, ask=real_ask)
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as client:
            yield client


def _calls(client: TestClient, question: str, as_of: str | None) -> Iterator[tuple[str, Any]]:
    body: dict[str, Any] = {"question": question} | ({"as_of": as_of} if as_of else {})
    params = {"q": question} | ({"as_of": as_of} if as_of else {})
    yield "POST /ask", client.post("/ask", json=body)
    yield "GET /ask", client.get("/ask", params=params)
    yield "POST /ask-visual", client.post("/ask-visual", json=body)
    yield "POST /ask-visual?format=json", client.post("/ask-visual", params={"format": "json"}, json=body)


def test_finding_6_extreme_as_of_and_time_expressions_are_422_never_5xx(real_client: TestClient) -> None:
    server_errors: list[str] = []
    for as_of, question in itertools.product(
        [None, *OUT_OF_RANGE_AS_OF, *IN_RANGE_AS_OF, *ODD_AS_OF], QUESTIONS
    ):
        for label, response in _calls(real_client, question, as_of):
            if response.status_code >= 500:
                server_errors.append(f"{response.status_code} {label} as_of={as_of} {question!r}")
                continue
            assert response.headers["content-type"].startswith(("application/json", "image/png")), label
            if as_of in OUT_OF_RANGE_AS_OF:
                body = response.json()
                assert response.status_code == 422, (label, as_of, question, body)
                assert body["field"] == "as_of", (label, as_of, body)
                assert "1900" in response.text and "2200" in response.text, body
    assert server_errors == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "0001-01-01"}, "date_from"),
        ({"date_to": "9999-12-31"}, "date_to"),
        ({"date_from": "1899-12-31", "date_to": "2024-01-01"}, "date_from"),
        ({"date_to": "2201-01-01"}, "date_to"),
    ],
)
def test_finding_6_historical_prediction_dates_are_bounded(
    real_client: TestClient, params: dict[str, str], field: str
) -> None:
    response = real_client.get("/historical-predictions", params=params)
    assert response.status_code == 422 and response.json()["field"] == field
    assert "1900" in response.text and "2200" in response.text


def test_finding_6_a_date_arithmetic_error_while_answering_is_a_json_422(tmp_path: Path) -> None:
    """Defence in depth: whatever the bound misses, an overflowing date is the caller's 422."""

    def overflowing(question: str, as_of: dt.datetime | None = None) -> Any:
        moment = as_of or dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        if "siglos" in question:
            return moment + dt.timedelta(days=10**7)  # OverflowError: date value out of range
        return dt.date(moment.year, 2, 30)  # ValueError: day is out of range for month

    settings = Settings(_env_file=None, lake_root=tmp_path / "lake", db_connect_timeout_s=1)
    services = fake_services(settings, tmp_path, ask=overflowing)
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as client:
        for question in ("demanda dentro de 3000 siglos", "demanda el 30 de febrero"):
            response = client.post("/ask", json={"question": question, "as_of": "2200-12-31T12:00:00"})
            assert response.status_code == 422, response.text
            body = response.json()
            assert body["field"] == "question" and "out of range" in body["detail"], body


def test_finding_6_cli_as_of_out_of_range_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "lake"
    load_lake(Settings(_env_file=None, lake_runtime="local", lake_root=root), sample_frames())  # type: ignore[call-arg]
    monkeypatch.setenv("LAKE_ROOT", str(root))
    monkeypatch.setenv("ASK_ENGINE", "lake")
    get_settings.cache_clear()
    runner = CliRunner()
    for as_of in ("9999-12-30T12:00", "0001-01-01"):
        result = runner.invoke(cli_app, ["ask", "question", "demanda de mañana", "--as-of", as_of])
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "--as-of" in result.output and "1900" in result.output and "2200" in result.output
    deep = runner.invoke(cli_app, ["ask", "question", "demanda el 31/12/9999", "--as-of", "2024-04-17T14:30"])
    assert deep.exit_code in (1, 2) and isinstance(deep.exception, SystemExit | None), deep.exception
    assert "Traceback" not in deep.output


def test_finding_6_any_route_turns_date_errors_into_422_and_other_errors_into_500(tmp_path: Path) -> None:
    calls: list[int] = []

    def history(hours: int) -> Any:
        calls.append(hours)
        if len(calls) == 1:
            return dt.date(dt.MAXYEAR, 12, 31) + dt.timedelta(days=1)  # OverflowError
        if len(calls) == 2:
            return dt.date(dt.MAXYEAR + 1, 1, 1)  # ValueError: year 10000 is out of range
        raise ValueError("not a date problem")

    settings = Settings(_env_file=None, lake_root=tmp_path / "lake", db_connect_timeout_s=1)
    services = fake_services(settings, tmp_path, load_history=history)
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as client:
        for _ in range(2):
            response = client.get("/forecast")
            assert response.status_code == 422, response.text
            assert "out of range" in response.json()["detail"]
        other = client.get("/forecast")
    assert other.status_code == 500 and other.json()["detail"] == "internal error"
    assert "not a date problem" not in other.text
