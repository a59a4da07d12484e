"""The question set on the fixed dataset, through the lake engine (DuckDB): accuracy >= 95 %."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import pytest

from datalake.ask import AskResult, ask
from datalake.ask.evaluation import (
    GENERALISATION_PATH,
    HELDOUT_ELECTRICITY_PATH,
    QUESTIONS_PATH,
    check,
    evaluate,
    load_questions,
    sample_frames,
    scratch_lake,
)
from datalake.ask.executors import SqlExecutor
from datalake.ask.periods import MADRID
from datalake.settings import Settings

SETTINGS = Settings(_env_file=None, lake_runtime="local")  # type: ignore[call-arg]
AS_OF = dt.datetime(2024, 4, 17, 14, 30, tzinfo=MADRID)


@pytest.fixture(scope="module")
def lake() -> Iterator[SqlExecutor]:
    with scratch_lake() as executor:
        yield executor


def test_the_question_set_is_large_bilingual_and_has_gold() -> None:
    questions = load_questions()
    assert len(questions) >= 80
    assert len({q["id"] for q in questions}) == len(questions)
    english = [q for q in questions if "-en-" in q["id"]]
    assert len(english) >= 20 and len(questions) - len(english) >= 40
    assert all(q["gold"] for q in questions)
    assert sum(bool(q["gold"].get("refuse")) for q in questions) >= 10


def test_gold_values_match_the_pandas_reference() -> None:
    """The YAML is what the independent reference computes today (regenerate it if this fails)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ask"))
    try:
        from build_questions import build
    finally:
        sys.path.pop(0)
    assert build() == load_questions(QUESTIONS_PATH)


def test_accuracy_on_the_lake_is_at_least_95_percent(lake: SqlExecutor) -> None:
    report = evaluate(load_questions(), partial(ask, settings=SETTINGS, executor=lake))
    assert report.accuracy >= 0.95, report.format()
    assert set(report.by_category()) >= {
        "instant",
        "total",
        "average",
        "extreme",
        "top_k",
        "compare",
        "trend",
    }


def test_a_wrong_gold_fails(lake: SqlExecutor) -> None:
    question = dict(load_questions()[0])
    question["gold"] = dict(question["gold"], values=[1.0])
    report = evaluate([question], partial(ask, settings=SETTINGS, executor=lake))
    assert report.accuracy == 0.0 and "value" in report.outcomes[0].detail


def test_sample_rows_never_mix_with_real_ones(lake: SqlExecutor) -> None:
    frames = sample_frames()
    assert (frames["demand_hourly"]["source"] == "sample").any()
    december = ask("demanda en diciembre de 2022", AS_OF, settings=SETTINGS, executor=lake)
    assert december.rows == [[None, 0]] and "No hay datos" in december.answer


def test_the_result_is_json_and_speaks_the_questions_language(lake: SqlExecutor) -> None:
    result = ask("¿Cuál fue el pico de demanda la semana pasada?", AS_OF, settings=SETTINGS, executor=lake)
    assert isinstance(result, AskResult)
    payload = json.loads(result.model_dump_json())
    assert payload["language"] == "es" and payload["engine"] == "lake"
    assert payload["columns"] == ["ts_utc", "demand_mw"] and len(payload["rows"]) == 1
    assert "MW" in result.answer and "semana del 8 al 14 de abril de 2024" in result.answer
    assert result.interpretation["period"]["start"] == "2024-04-08T00:00:00+02:00"
    english = ask("daily demand last week", AS_OF, settings=SETTINGS, executor=lake)
    assert english.chart["kind"] == "line" and english.chart["x"] == "local_date"
    assert english.chart["x_label"] == "Day" and "GWh" in english.answer and len(english.rows) == 7


CLUSTERS = {"weekday", "periods", "two_measures", "forecast_error", "percent_change", "trend", "peak"}


def test_the_generalisation_set_covers_each_cluster_in_both_languages_with_reference_gold() -> None:
    """Fixed questions of the kinds a held-out set found missing; their gold is the reference's."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ask"))
    try:
        from build_generalisation import build
    finally:
        sys.path.pop(0)
    questions = load_questions(GENERALISATION_PATH)
    assert build() == questions  # regenerate with tests/ask/build_generalisation.py if this fails
    assert {q["category"] for q in questions} == CLUSTERS
    for cluster in CLUSTERS:
        ids = [q["id"] for q in questions if q["category"] == cluster]
        assert any("-es-" in i for i in ids) and any("-en-" in i for i in ids), cluster
    assert len({q["id"] for q in questions}) == len(questions) >= 35
    assert all(q["gold"]["values"] and None not in q["gold"]["values"] for q in questions)


HELDOUT_KINDS = {
    "instant", "totals", "peak", "trend", "compare", "forecast", "forecast_error", "weekday", "technology",
    "refusal",
}  # fmt: skip


def test_the_heldout_electricity_set_is_bilingual_with_reference_gold() -> None:
    """The held-out set (scored on demand, not by default) is what the pandas reference writes."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ask"))
    try:
        from build_heldout_electricity import build
    finally:
        sys.path.pop(0)
    questions = load_questions(HELDOUT_ELECTRICITY_PATH)
    assert build() == questions  # regenerate with tests/ask/build_heldout_electricity.py if this fails
    assert {q["category"] for q in questions} == HELDOUT_KINDS
    for kind in HELDOUT_KINDS:
        ids = [q["id"] for q in questions if q["category"] == kind]
        assert any("-es-" in i for i in ids) and any("-en-" in i for i in ids), kind
    assert len({q["id"] for q in questions}) == len(questions) >= 70
    answered = [q["gold"] for q in questions if not q["gold"].get("refuse")]
    assert all(g.get("values") or g.get("times") or g.get("technologies") for g in answered)
    assert all(None not in g.get("values", []) for g in answered)


def result(columns: list[str], rows: list[list], value_column: str = "value") -> SimpleNamespace:
    return SimpleNamespace(
        interpretation={"value_column": value_column}, columns=columns, rows=rows, chart={}, answer=""
    )


def test_the_checker_takes_values_side_by_side_and_names_in_either_language() -> None:
    wide = result(["day", "demand_mw", "forecast_mw"], [["2024-04-16", 28161.34, 28151.97]], "demand_mw")
    assert check(wide, {"values": [28161.34, 28151.97]}) == (True, "")
    assert not check(wide, {"values": [28151.97, 28161.34]})[0]  # in the order asked
    busiest = result(["weekday", "value"], [["Miércoles", 29615.59]])
    assert check(busiest, {"values": [29615.59], "labels": [["wednesday", "miércoles"]]}) == (True, "")
    assert check(result(["weekday", "value"], [["miercoles", 29615.59]]), {"labels": [["miércoles"]]})[0]
    passed, detail = check(busiest, {"values": [29615.59], "labels": [["tuesday", "martes"]]})
    assert not passed and "martes" in detail


def test_the_clusters_the_parser_reads_stay_read(lake: SqlExecutor) -> None:
    """Every kind of the generalisation set is answered now: none of its questions may slip."""
    report = evaluate(load_questions(GENERALISATION_PATH), partial(ask, settings=SETTINGS, executor=lake))
    assert report.accuracy == 1.0, report.format()
    assert set(report.by_category()) == CLUSTERS


def test_the_heldout_electricity_set_reaches_the_target(lake: SqlExecutor) -> None:
    """Written without reading the parser (90.8 % on its first run): at least 97 % now."""
    report = evaluate(
        load_questions(HELDOUT_ELECTRICITY_PATH), partial(ask, settings=SETTINGS, executor=lake)
    )
    assert report.accuracy >= 0.97, report.format()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # one weekday every week, not one date
        ("¿cuál fue la demanda media de los sábados de marzo de 2024?", ("days", "saturday")),
        ("average demand on Sundays in March 2024", ("days", "sunday")),
        # each weekday, not a range of two dates
        ("demanda media de lunes a domingo en marzo de 2024", ("group", "weekday")),
        # the error's words name the forecast they score
        ("forecast error (MAE) last month", ("aggregate", "error")),
    ],
)
def test_kinds_of_day_and_error_words_the_heldout_set_found(question: str, expected: tuple[str, str]) -> None:
    from datalake.ask.parser import parse

    intent = parse(question, AS_OF)
    assert getattr(intent, expected[0]) == expected[1]
    assert intent.period.start.month == 3 and intent.period.start.year == 2024


def test_a_weekday_every_week_counts_only_its_hours(lake: SqlExecutor) -> None:
    result = ask(
        "¿cuál fue la demanda media de los sábados de marzo de 2024?", AS_OF, settings=SETTINGS, executor=lake
    )
    assert "ISODOW" in result.sql.upper() and "(6)" in result.sql.replace(" ", "")
    assert "solo los sábados" in result.answer


def test_the_new_kinds_chart_what_they_answer(lake: SqlExecutor) -> None:
    from api.services import charts

    def drawn(question: str) -> dict:
        result = ask(question, AS_OF, settings=SETTINGS, executor=lake)
        assert charts.render_png(result)[:4] == b"\x89PNG"
        return charts.chart_data(result)

    by_day = drawn("demanda media por día de la semana en enero de 2024")
    assert by_day["kind"] == "bar" and by_day["x"][0] == "lunes" and by_day["x_label"] == "Día de la semana"
    pair = drawn("nuclear vs wind generation in 2023")
    assert pair["kind"] == "value" and [s["name"] for s in pair["series"]] == ["nuclear_mwh", "wind_mwh"]
    assert "vs wind" in pair["title"]
    # Percentages already in percent are not scaled again (shares, as fractions, are).
    mape = drawn("¿Cuál fue el MAPE de la previsión de demanda del operador en marzo de 2024?")
    assert mape["unit"] == "%" and 0 < mape["series"][0]["values"][0] < 5
    change = drawn("¿En qué porcentaje cambió la demanda media de enero a febrero de 2024?")
    assert [s["name"] for s in change["series"]] == ["change_pct"]
    assert -10 < change["series"][0]["values"][0] < 0
