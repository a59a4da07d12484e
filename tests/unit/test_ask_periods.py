"""Time expressions resolved against the time of asking, in Europe/Madrid, as half-open periods."""

from __future__ import annotations

import datetime as dt

import pytest

from datalake.ask.periods import MADRID, Period
from datalake.ask.text import fold, tokens
from datalake.ask.timeexpr import extract_times

AS_OF = dt.datetime(2024, 4, 17, 14, 30, tzinfo=MADRID)  # a Wednesday


def spans(question: str, language: str = "es", as_of: dt.datetime = AS_OF) -> list[tuple[str, str]]:
    found = extract_times(" ".join(tokens(fold(question))), as_of, language)
    return [(p.start.isoformat(), p.end.isoformat()) for p in found.periods]


def local(y: int, m: int, d: int, h: int = 0) -> str:
    return dt.datetime(y, m, d, h, tzinfo=MADRID).isoformat()


@pytest.mark.parametrize(
    ("question", "language", "expected"),
    [
        ("demanda de hoy", "es", [(local(2024, 4, 17), local(2024, 4, 18))]),
        ("ayer", "es", [(local(2024, 4, 16), local(2024, 4, 17))]),
        ("anteayer", "es", [(local(2024, 4, 15), local(2024, 4, 16))]),
        ("hace 3 días", "es", [(local(2024, 4, 14), local(2024, 4, 15))]),
        ("la semana pasada", "es", [(local(2024, 4, 8), local(2024, 4, 15))]),
        ("last week", "en", [(local(2024, 4, 8), local(2024, 4, 15))]),
        ("el mes pasado", "es", [(local(2024, 3, 1), local(2024, 4, 1))]),
        ("este mes", "es", [(local(2024, 4, 1), local(2024, 5, 1))]),
        ("el mismo mes del año pasado", "es", [(local(2023, 4, 1), local(2023, 5, 1))]),
        ("el 15 de abril de 2021", "es", [(local(2021, 4, 15), local(2021, 4, 16))]),
        ("en septiembre de 2017", "es", [(local(2017, 9, 1), local(2017, 10, 1))]),
        ("in 2016", "en", [(local(2016, 1, 1), local(2017, 1, 1))]),
        ("15/04/2021", "es", [(local(2021, 4, 15), local(2021, 4, 16))]),
        ("2021-04-15", "en", [(local(2021, 4, 15), local(2021, 4, 16))]),
        # no year: the most recent past one
        ("entre el 20 y el 25 de octubre", "es", [(local(2023, 10, 20), local(2023, 10, 26))]),
        ("el 15 de mayo", "es", [(local(2023, 5, 15), local(2023, 5, 16))]),
        ("del 28 de diciembre al 3 de enero", "es", [(local(2023, 12, 28), local(2024, 1, 4))]),
        ("from March 1 to March 15, 2024", "en", [(local(2024, 3, 1), local(2024, 3, 16))]),
        ("de enero a marzo de 2024", "es", [(local(2024, 1, 1), local(2024, 4, 1))]),
        ("q1 2024", "en", [(local(2024, 1, 1), local(2024, 4, 1))]),
        ("el lunes pasado", "es", [(local(2024, 4, 15), local(2024, 4, 16))]),
        ("los últimos 7 días", "es", [(local(2024, 4, 10), local(2024, 4, 17))]),
        (
            "enero y febrero de 2024",
            "es",
            [(local(2024, 1, 1), local(2024, 2, 1)), (local(2024, 2, 1), local(2024, 3, 1))],
        ),
    ],
)
def test_time_expressions(question: str, language: str, expected: list[tuple[str, str]]) -> None:
    assert spans(question, language) == expected


def test_clock_times_and_their_ambiguity() -> None:
    found = extract_times(" ".join(tokens(fold("yesterday at noon"))), AS_OF, "en")
    assert found.clock is not None and found.clock.hour == 12
    assert extract_times("ayer a las 3 de la tarde", AS_OF, "es").clock.hour == 15  # type: ignore[union-attr]
    assert extract_times("at 3 pm", AS_OF, "en").clock.hour == 15  # type: ignore[union-attr]
    assert extract_times("at 3", AS_OF, "en").clock.ambiguous  # type: ignore[union-attr]
    assert not extract_times("a las 3", AS_OF, "es").clock.ambiguous  # type: ignore[union-attr]
    # "mañana" as "morning" is not tomorrow
    morning = extract_times("ayer a las 9 de la manana", AS_OF, "es")
    assert morning.clock.hour == 9 and len(morning.periods) == 1  # type: ignore[union-attr]


def test_months_are_half_open_and_keep_their_last_day() -> None:
    february = Period.month(2024, 2)
    assert february.end == Period.day(dt.date(2024, 3, 1)).start
    assert february.hours == 29 * 24
    assert Period.day(dt.date(2024, 3, 31)).hours == 23  # spring change
    assert Period.day(dt.date(2023, 10, 29)).hours == 25  # autumn change
    assert Period.month(2023, 10).hours == 31 * 24 + 1


def test_clip_cuts_a_running_period_at_the_last_complete_hour() -> None:
    today = Period.day(dt.date(2024, 4, 17)).clip(AS_OF)
    assert today.end.hour == 14 and today.clipped_from is not None
    assert "hasta las 14:00" in today.label("es")
    assert Period.day(dt.date(2024, 4, 16)).clip(AS_OF).clipped_from is None


def test_labels_name_the_exact_period_in_both_languages() -> None:
    assert Period.month(2024, 3).label("es") == "en marzo de 2024"
    assert Period.month(2024, 3).label("en") == "in March 2024"
    assert Period.week(dt.date(2024, 4, 8)).label("es") == "la semana del 8 al 14 de abril de 2024"
    yesterday = Period.day(dt.date(2024, 4, 16), "ayer", "yesterday")
    assert yesterday.label("es") == "ayer (martes 16 de abril de 2024)"
    assert yesterday.label("en") == "yesterday (Tuesday 16 April 2024)"
