"""Demand questions about the future through ``ask()``: answered by a real (tiny) champion forecaster."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_fixtures import synthetic_history, tiny_model
from typer.testing import CliRunner

from datalake.ask import ask
from datalake.ask.evaluation import scratch_lake
from datalake.ask.executors import SqlExecutor
from datalake.ask.future import forecast_period
from datalake.ask.parser import parse
from datalake.errors import DataValidationError, ForecastUnavailableError, ObjectNotFoundError
from datalake.forecasting import serving

pytestmark = pytest.mark.unit

MADRID = dt.timezone(dt.timedelta(hours=1))  # January and February: UTC+1
#: The synthetic history ends on 2024-01-30 at 23:00 UTC, so the forecast starts at 2024-01-31 00:00 UTC;
#: this is Wednesday 31 January, 02:30 in Madrid, with the forecast already running.
AS_OF = dt.datetime(2024, 1, 31, 2, 30, tzinfo=MADRID)
VERSION = "v-tiny-1"


@pytest.fixture(scope="module")
def forecaster(tmp_path_factory: pytest.TempPathFactory) -> Any:
    model = tiny_model(tmp_path_factory.mktemp("champion"), VERSION)
    history = synthetic_history()
    calls: list[int] = []

    def forecast(hours: int) -> dict[str, Any]:
        calls.append(hours)
        return serving.forecast(model, history, hours)

    forecast.calls = calls  # type: ignore[attr-defined]
    return forecast


@pytest.fixture(scope="module")
def lake() -> Iterator[SqlExecutor]:
    with scratch_lake() as executor:
        yield executor


class NoSql:
    """An executor that fails the test if anything runs: the forecaster answers without SQL."""

    name, dialect = "lake", "duckdb"

    def run(self, sql: str) -> tuple[list[str], list[list[Any]]]:
        raise AssertionError(f"no SQL should run for a forecast, ran {sql}")


def assert_band(result: Any) -> list[list[Any]]:
    low, mid, high = (result.columns.index(c) for c in ("p10_mw", "p50_mw", "p90_mw"))
    assert result.rows
    for row in result.rows:
        assert row[low] <= row[mid] <= row[high], row
    return result.rows


@pytest.mark.parametrize(
    ("question", "language", "hours", "first_local"),
    [
        ("¿Cuál será la demanda mañana?", "es", 24, "2024-02-01T00:00:00+01:00"),
        ("previsión de demanda para el jueves", "es", 24, "2024-02-01T00:00:00+01:00"),
        ("qué demanda habrá el fin de semana que viene", "es", 48, "2024-02-03T00:00:00+01:00"),
        ("demand tomorrow", "en", 24, "2024-02-01T00:00:00+01:00"),
        ("forecast for next week", "en", 168, "2024-02-05T00:00:00+01:00"),
        ("how much electricity will Spain need tomorrow", "en", 24, "2024-02-01T00:00:00+01:00"),
    ],
)
def test_future_demand_is_the_models_p50_with_its_band(
    forecaster: Any, question: str, language: str, hours: int, first_local: str
) -> None:
    result = ask(question, AS_OF, executor=NoSql(), forecaster=forecaster)
    assert result.language == language and result.engine == "forecaster" and result.sql == ""
    interpretation = result.interpretation
    assert interpretation["method"] == "forecaster" and interpretation["model_version"] == VERSION
    assert interpretation["unit"] == "MW" and interpretation["period"]["start"] == first_local
    rows = assert_band(result)
    assert len(rows) == hours
    assert rows[0][0] == dt.datetime.fromisoformat(first_local).astimezone(dt.UTC)
    assert VERSION in result.answer and " MW" in result.answer and "p10-p90" in result.answer
    assert ("hora de Madrid" if language == "es" else "Madrid time") in result.answer
    assert result.chart["kind"] == "line" and result.chart["band"] == ["p10_mw", "p90_mw"]


@pytest.mark.parametrize(
    ("question", "as_of", "first", "days"),
    [
        ("demanda el jueves que viene", dt.datetime(2024, 4, 17, 12), dt.date(2024, 4, 18), 1),
        ("demand next thursday", dt.datetime(2024, 4, 18, 12), dt.date(2024, 4, 25), 1),
        ("previsión para el lunes", dt.datetime(2024, 4, 17, 12), dt.date(2024, 4, 22), 1),
        ("demanda el próximo lunes", dt.datetime(2024, 4, 17, 12), dt.date(2024, 4, 22), 1),
        ("demanda el fin de semana que viene", dt.datetime(2024, 4, 17, 12), dt.date(2024, 4, 20), 2),
        ("demand next weekend", dt.datetime(2024, 4, 20, 12), dt.date(2024, 4, 27), 2),  # on a Saturday
        ("demanda el jueves", dt.datetime(2024, 4, 17, 12), dt.date(2024, 4, 11), 1),  # bare: the last one
    ],
)
def test_coming_days_and_weekends_resolve_ahead(
    question: str, as_of: dt.datetime, first: dt.date, days: int
) -> None:
    madrid = dt.timezone(dt.timedelta(hours=2))
    period = parse(question, as_of.replace(tzinfo=madrid)).period
    assert period.start.date() == first
    assert (period.clipped_from or period.end).date() == first + dt.timedelta(days=days)


def test_peak_and_one_hour_say_the_hour_and_its_band(forecaster: Any) -> None:
    peak = ask("expected peak demand tomorrow", AS_OF, executor=NoSql(), forecaster=forecaster)
    rows = assert_band(peak)
    top = max(rows, key=lambda row: row[2])
    assert f"{top[2]:,.0f} MW (p50)" in peak.answer and f"{top[0].astimezone(MADRID):%H}:00" in peak.answer
    hour = ask("¿Qué demanda se espera mañana a las 20:00?", AS_OF, executor=NoSql(), forecaster=forecaster)
    (row,) = assert_band(hour)
    assert row[0] == dt.datetime(2024, 2, 1, 19, tzinfo=dt.UTC)  # 20:00 in Madrid
    assert "(p50)" in hour.answer and "20:00" in hour.answer and hour.chart["kind"] == "none"


def test_a_running_period_is_forecast_for_its_rest_when_asked_in_the_future_tense(forecaster: Any) -> None:
    as_of = dt.datetime(2024, 1, 31, 14, 30, tzinfo=MADRID)
    result = ask("previsión de demanda para hoy", as_of, executor=NoSql(), forecaster=forecaster)
    rows = assert_band(result)
    assert rows[0][0] == dt.datetime(2024, 1, 31, 13, tzinfo=dt.UTC) and len(rows) == 10  # 14:00 to 24:00
    assert "el resto de hoy" in result.answer
    english = ask("what will demand be today?", as_of, executor=NoSql(), forecaster=forecaster)
    assert "the rest of today" in english.answer and len(english.rows) == 10


@pytest.mark.parametrize(
    "question",
    [
        "demanda ayer",
        "demanda hoy",  # the actuals so far, as before
        "¿Cuál es la previsión de demanda del operador para mañana?",  # the operator's column
        "REE forecast for tomorrow at 8 pm",
        "What was the TSO's forecast demand yesterday at noon?",
        "¿Cuál fue la demanda prevista ayer?",
    ],
)
def test_the_past_and_the_operators_forecast_keep_their_lake_answer(
    forecaster: Any, lake: SqlExecutor, question: str
) -> None:
    as_of = dt.datetime(2024, 4, 17, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert forecast_period(question, parse(question, as_of), as_of) is None
    with_model = ask(question, as_of, executor=lake, forecaster=forecaster)
    without = ask(question, as_of, executor=lake)
    # Rows compared approximately: the engine may add floats in another order from run to run.
    assert with_model.model_dump(exclude={"rows"}) == without.model_dump(exclude={"rows"})
    assert len(with_model.rows) == len(without.rows)
    for got, want in zip(with_model.rows, without.rows, strict=True):
        assert [c if isinstance(c, str) else pytest.approx(c) for c in got] == want
    assert with_model.interpretation["method"] == "parser"


def test_without_a_forecaster_future_demand_reads_the_operators_column(lake: SqlExecutor) -> None:
    as_of = dt.datetime(2024, 4, 17, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    result = ask("demanda mañana", as_of, executor=lake)
    assert result.interpretation["measure"] == "forecast" and result.interpretation["method"] == "parser"
    assert result.rows[0][0] == pytest.approx(677016.3)  # the evaluation set's gold (fc-es-4)


def test_no_champion_is_a_clear_unavailable_error_not_a_refusal() -> None:
    def missing(_hours: int) -> dict[str, Any]:
        raise ObjectNotFoundError("no demand_forecaster champion yet: run `datalake forecast train` first")

    with pytest.raises(ForecastUnavailableError, match="champion") as raised:
        ask("¿Cuál será la demanda mañana?", AS_OF, executor=NoSql(), forecaster=missing)
    assert raised.value.hint == "train and promote a model first"


def test_hours_outside_the_forecast_say_why(forecaster: Any) -> None:
    with pytest.raises(DataValidationError, match="14 days") as beyond:
        ask("demand next month", AS_OF, executor=NoSql(), forecaster=forecaster)
    assert beyond.value.field == "question"
    earlier = dt.datetime(2024, 1, 20, 12, tzinfo=MADRID)  # before the data the model starts from
    with pytest.raises(DataValidationError, match="newest data") as before:
        ask("demand tomorrow", earlier, executor=NoSql(), forecaster=forecaster)
    assert before.value.field == "as_of"
    stale = dt.datetime(2024, 2, 8, 12, tzinfo=MADRID)  # the window ends on 13 February: data too old
    with pytest.raises(ForecastUnavailableError, match="newest demand"):
        ask("demand next week", stale, executor=NoSql(), forecaster=forecaster)


def test_cli_without_a_champion_stops_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datalake.cli import app
    from datalake.settings import get_settings

    monkeypatch.setenv("LAKE_RUNTIME", "local")
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("ASK_ENGINE", "lake")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["ask", "question", "demand tomorrow"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code != 0
    assert isinstance(result.exception, ForecastUnavailableError), result.output
    assert "champion" in str(result.exception)
