"""/ask over ``weather_daily`` answered from its ``ask=`` declaration alone (no parser code).

Hand-written days whose answers are known by hand: "¿qué temperatura hizo ayer en Madrid?" and its
English twin read the station's day, never a generated SAMPLE day beside it; then the held-out set
(tests/ask/heldout_weather.yaml, written before the declaration was asked anything, gold from pandas
over the shared 2015-2017 observations) is scored against its floor.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from ask_fixtures import DuckExecutor

from datalake.ask import eval_frames
from datalake.ask.errors import AskRefusal
from datalake.ask.evaluation import evaluate, load_questions
from datalake.ask.service import ask
from datalake.datasets.weather import WEATHER_DAILY
from datalake.settings import Settings

pytestmark = pytest.mark.unit

SETTINGS = Settings(_env_file=None)
ASK_TESTS = Path(__file__).resolve().parents[1] / "ask"
HELDOUT = ASK_TESTS / "heldout_weather.yaml"
#: First measured 18/23 with the declaration as written, 20/23 once "highest/lowest temperature"
#: named the day's highest and lowest readings; the three left need parser rules ("hottest day"
#: without an article is one day; "superó los 25 grados" is a threshold).
HELDOUT_FLOOR = 20
#: Wednesday 15 March 2017, 10:00 in Madrid: "ayer" is 14 March.
AS_OF = dt.datetime(2017, 3, 15, 10)
needs_file = pytest.mark.skipif(
    not eval_frames.WEATHER_OBSERVATIONS_CSV.is_file(),
    reason=f"the shared observations are not at {eval_frames.WEATHER_OBSERVATIONS_CSV}",
)


def weather_frame() -> pd.DataFrame:
    #: (day, city, mean, min, max, source): Madrid's 14 March twice, the station's and a generated one.
    days = [
        ("2017-03-13", "Madrid", 11.0, 5.0, 17.0, "openweathermap-kaggle"),
        ("2017-03-14", "Madrid", 13.5, 6.5, 20.5, "openweathermap-kaggle"),
        ("2017-03-14", "Seville", 17.0, 10.0, 24.0, "openweathermap-kaggle"),
        ("2017-03-14", "Madrid", 99.0, 98.0, 100.0, "sample"),
    ]
    frame = pd.DataFrame(
        [
            (dt.date.fromisoformat(day), city, mean, low, high, 60.0, 10.0, 20.0, 24, source)
            for day, city, mean, low, high, source in days
        ],
        columns=WEATHER_DAILY.column_names,
    )
    return frame.astype({"hours_observed": "int32"})


@pytest.fixture(scope="module")
def weather() -> DuckExecutor:
    return DuckExecutor({"weather_daily": weather_frame()})


def answer(question: str, executor: DuckExecutor) -> Any:
    return ask(question, AS_OF, settings=SETTINGS, executor=executor)


def value(result: Any) -> float:
    return result.rows[0][result.columns.index(result.interpretation["value_column"])]


def test_yesterdays_temperature_in_madrid_in_both_languages(weather: DuckExecutor) -> None:
    for question in (
        "¿qué temperatura hizo ayer en Madrid?",
        "What was the temperature in Madrid yesterday?",
    ):
        result = answer(question, weather)
        assert result.interpretation["dataset"] == "weather_daily", question
        assert value(result) == 13.5, question  # the station's day, not the SAMPLE's 99
        assert "°C" in result.answer, result.answer
    assert "Madrid" in answer("¿qué temperatura hizo ayer en Madrid?", weather).answer


def test_the_days_highest_reading_and_another_city(weather: DuckExecutor) -> None:
    assert value(answer("¿cuál fue la temperatura máxima ayer en Sevilla?", weather)) == 24.0
    assert value(answer("lowest temperature in Madrid yesterday", weather)) == 6.5


def test_deleting_weather_is_refused(weather: DuckExecutor) -> None:
    with pytest.raises(AskRefusal) as caught:
        answer("borra los datos del tiempo de Madrid", weather)
    assert caught.value.kind == "unsafe"


# -- the held-out set ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def builder() -> Iterator[ModuleType]:
    sys.path.insert(0, str(ASK_TESTS))
    try:
        import build_heldout_weather

        yield build_heldout_weather
    finally:
        sys.path.remove(str(ASK_TESTS))


@needs_file
def test_the_builder_writes_the_committed_set_bilingual_with_refusals(builder: ModuleType) -> None:
    questions = load_questions(HELDOUT)
    assert builder.build() == questions  # regenerate with tests/ask/build_heldout_weather.py
    assert {q["id"].split("-")[2] for q in questions} == {"es", "en"} and len(questions) >= 20
    assert sum(1 for q in questions if q["gold"].get("refuse")) >= 3


@needs_file
def test_the_heldout_set_is_answered_beside_other_tables() -> None:
    questions = load_questions(HELDOUT)
    frames = eval_frames.weather_frames() | eval_frames.energy_frames() | eval_frames.price_frames()
    executor = DuckExecutor(frames)
    report = evaluate(
        questions, lambda question, as_of: ask(question, as_of, settings=SETTINGS, executor=executor)
    )
    print(report.format())
    passed = {outcome.id for outcome in report.outcomes if outcome.passed}
    assert {"hw-val-es-1", "hw-val-en-1"} <= passed, report.format()  # the two questions
    assert len(passed) >= HELDOUT_FLOOR, report.format()
