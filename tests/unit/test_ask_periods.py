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


@pytest.mark.parametrize(
    ("question", "language", "expected"),
    [
        # meteorological seasons: the last one that ended, "this" one, or the one of a year
        ("el verano pasado", "es", [(local(2023, 6, 1), local(2023, 9, 1))]),
        ("last summer", "en", [(local(2023, 6, 1), local(2023, 9, 1))]),
        ("el invierno pasado", "es", [(local(2023, 12, 1), local(2024, 3, 1))]),
        ("este verano", "es", [(local(2024, 6, 1), local(2024, 9, 1))]),
        ("en primavera", "es", [(local(2024, 3, 1), local(2024, 6, 1))]),
        ("in winter 2023", "en", [(local(2022, 12, 1), local(2023, 3, 1))]),
        ("el otoño de 2023", "es", [(local(2023, 9, 1), local(2023, 12, 1))]),
        ("the fall of 2023", "en", [(local(2023, 9, 1), local(2023, 12, 1))]),
        # fixed-date holidays: the most recent one, or the one of a year
        ("en Navidad", "es", [(local(2023, 12, 25), local(2023, 12, 26))]),
        ("on Christmas Day", "en", [(local(2023, 12, 25), local(2023, 12, 26))]),
        ("en Nochebuena de 2022", "es", [(local(2022, 12, 24), local(2022, 12, 25))]),
        ("New Year's Eve", "en", [(local(2023, 12, 31), local(2024, 1, 1))]),
        ("el día de Reyes", "es", [(local(2024, 1, 6), local(2024, 1, 7))]),
        # the days that "esta mañana" and "anoche" name
        ("esta mañana", "es", [(local(2024, 4, 17), local(2024, 4, 18))]),
        ("anoche", "es", [(local(2024, 4, 16), local(2024, 4, 17))]),
        ("el finde pasado", "es", [(local(2024, 4, 13), local(2024, 4, 15))]),
        ("el pasado fin de semana", "es", [(local(2024, 4, 13), local(2024, 4, 15))]),
    ],
)
def test_seasons_holidays_and_named_parts_of_the_day(
    question: str, language: str, expected: list[tuple[str, str]]
) -> None:
    assert spans(question, language) == expected


def test_december_winter_is_the_one_that_just_started() -> None:
    december = dt.datetime(2024, 12, 20, 12, tzinfo=MADRID)
    assert spans("este invierno", "es", december) == [(local(2024, 12, 1), local(2025, 3, 1))]
    assert spans("last winter", "en", december) == [(local(2023, 12, 1), local(2024, 3, 1))]
    assert spans("en Navidad", "es", december) == [(local(2023, 12, 25), local(2023, 12, 26))]
    christmas = dt.datetime(2024, 12, 25, 12, tzinfo=MADRID)
    assert spans("la Navidad pasada", "es", christmas) == [(local(2023, 12, 25), local(2023, 12, 26))]


@pytest.mark.parametrize(
    ("question", "start", "end", "label"),
    [
        (
            "demanda esta mañana",
            local(2024, 4, 17, 6),
            local(2024, 4, 17, 12),
            "esta mañana (entre las 06:00",
        ),
        ("demand this morning", local(2024, 4, 17, 6), local(2024, 4, 17, 12), "this morning (from 06:00"),
        ("demanda anoche", local(2024, 4, 16, 20), local(2024, 4, 17), "anoche (entre las 20:00"),
        ("demand last night", local(2024, 4, 16, 20), local(2024, 4, 17), "last night (from 20:00"),
        ("demanda ayer por la tarde", local(2024, 4, 16, 12), local(2024, 4, 16, 20), "ayer por la tarde"),
        ("demand yesterday afternoon", local(2024, 4, 16, 12), local(2024, 4, 16, 18), "yesterday in the"),
        # an English "at 9" is a.m. or p.m. as the part of the day says
        ("demand yesterday morning at 9", local(2024, 4, 16, 9), local(2024, 4, 16, 10), "yesterday (Tue"),
        ("demand yesterday evening at 9", local(2024, 4, 16, 21), local(2024, 4, 16, 22), "yesterday (Tue"),
        ("demanda el lunes de madrugada", local(2024, 4, 15), local(2024, 4, 15, 6), "entre las 00:00"),
        # the spring change: the small hours of 31 March 2024 have five hours
        ("demanda de madrugada el 31 de marzo de 2024", local(2024, 3, 31), local(2024, 3, 31, 6), "entre"),
        # a bare "de ... a ..." clock range, its minutes written
        (
            "demanda de 10:00 a 14:00 de ayer",
            local(2024, 4, 16, 10),
            local(2024, 4, 16, 14),
            "ayer (entre las 10:00",
        ),
        (
            "demanda del 5 de marzo de 2024 de 18:00 a 21:00",
            local(2024, 3, 5, 18),
            local(2024, 3, 5, 21),
            "entre",
        ),
    ],
)
def test_parts_of_the_day_are_hours_of_one_day_named_in_the_label(
    question: str, start: str, end: str, label: str
) -> None:
    from datalake.ask import parse

    period = parse(question, AS_OF).period
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)
    assert period.label("en" if "demand " in question else "es").startswith(label)


def test_a_bare_range_without_minutes_is_days_not_hours() -> None:
    from datalake.ask import parse

    period = parse("demanda del 3 a 5 de marzo de 2024", AS_OF).period
    assert (period.start.isoformat(), period.end.isoformat()) == (local(2024, 3, 3), local(2024, 3, 6))


@pytest.mark.parametrize(
    "question",
    [
        "demanda en las navidades de 2023",
        "demand during the Christmas holidays",
        "demanda en Semana Santa",
        "demand at Easter 2024",
        "demanda a principios de marzo",
        "demanda media por la mañana en marzo",  # a part of the day needs one day
        "demanda por la mañana y por la tarde ayer",
    ],
)
def test_periods_it_does_not_read_are_refused_not_dropped(question: str) -> None:
    from datalake.ask import AskRefusal, parse

    with pytest.raises(AskRefusal) as caught:
        parse(question, AS_OF)
    assert caught.value.kind == "ambiguous"


def test_a_period_inside_the_other_narrows_it_unless_they_are_joined_or_compared() -> None:
    from datalake.ask import parse

    eve = parse("Christmas Eve demand last year", AS_OF)
    assert eve.aggregate == "total" and eve.period.start.isoformat() == local(2023, 12, 24)
    assert parse("demand in 2023 and in March 2023", AS_OF).aggregate == "compare"
    assert parse("demanda de marzo frente a 2024", AS_OF).aggregate == "compare"


@pytest.mark.parametrize(
    ("question", "language", "expected"),
    [
        ("demanda media del primer semestre de 2024", "es", [(local(2024, 1, 1), local(2024, 7, 1))]),
        ("average demand in the second half of 2023", "en", [(local(2023, 7, 1), local(2024, 1, 1))]),
        ("la primera mitad del año pasado", "es", [(local(2023, 1, 1), local(2023, 7, 1))]),
        ("la segunda quincena de febrero de 2024", "es", [(local(2024, 2, 16), local(2024, 3, 1))]),
        ("the first fortnight of January 2024", "en", [(local(2024, 1, 1), local(2024, 1, 16))]),
        ("the second half of March 2024", "en", [(local(2024, 3, 16), local(2024, 4, 1))]),
        ("la primera semana de marzo de 2024", "es", [(local(2024, 3, 1), local(2024, 3, 8))]),
        ("la tercera semana de marzo", "es", [(local(2024, 3, 15), local(2024, 3, 22))]),
        ("the last week of February 2024", "en", [(local(2024, 2, 23), local(2024, 3, 1))]),
        ("la última semana de diciembre de 2023", "es", [(local(2023, 12, 25), local(2024, 1, 1))]),
        # "Last week" alone is still the week before this one.
        ("demand last week", "en", [(local(2024, 4, 8), local(2024, 4, 15))]),
        ("la última semana", "es", [(local(2024, 4, 8), local(2024, 4, 15))]),
    ],
)
def test_halves_fortnights_and_weeks_of_a_month(
    question: str, language: str, expected: list[tuple[str, str]]
) -> None:
    assert spans(question, language) == expected


@pytest.mark.parametrize(
    "question",
    [
        "demanda de la última quincena",  # a fortnight of what?
        "demand in the first half",
        "demanda del primer semestre",
        "the first week of 2024",  # weeks are cut from a month, not a year
        "la primera quincena de 2023",
    ],
)
def test_a_part_without_a_year_or_month_to_cut_is_refused(question: str) -> None:
    from datalake.ask import AskRefusal, parse

    with pytest.raises(AskRefusal) as caught:
        parse(question, AS_OF)
    assert caught.value.kind == "ambiguous"
