"""Phrasings the declared parser reads: headlines without the article ("hottest day in Valencia"),
and a threshold said after its measure ("superó la temperatura media los 25 grados")."""

from __future__ import annotations

import datetime as dt

import pytest

from datalake.ask.declared import Request, _thresholds, read_request, read_text, tables
from datalake.ask.routing import route

pytestmark = pytest.mark.unit

AS_OF = dt.datetime(2017, 3, 15, 10, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def _request(question: str) -> Request:
    routed = route(question)
    assert routed is not None, question
    return read_request(routed.text, routed.table, routed.language, AS_OF, [])


@pytest.mark.parametrize(
    ("question", "single"),
    [
        ("hottest day in Valencia in 2016", True),
        ("coldest day in Bilbao last year", True),
        ("the hottest day in Valencia in 2016", True),  # with the article, as before
        ("hottest days in Valencia in 2016", False),  # plural: a ranking
        ("¿cuál fue el día más caluroso del año pasado en Sevilla?", True),
    ],
)
def test_a_singular_row_after_a_superlative_is_one_row(question: str, single: bool) -> None:
    request = _request(question)
    assert request.table.semantics.subject == "weather"
    assert request.single is single


@pytest.mark.parametrize(
    ("question", "op", "value"),
    [
        ("¿cuántos días superó la temperatura media los 25 grados en Sevilla en 2016?", ">", 25.0),
        ("días en que la temperatura superó los 25 grados en Sevilla en 2016", ">", 25.0),
        ("days when the humidity was below 40 in Madrid in 2016", "<", 40.0),
    ],
)
def test_a_threshold_said_after_its_measure_binds_to_it(question: str, op: str, value: float) -> None:
    [threshold] = _request(question).thresholds
    assert (threshold.op, threshold.value) == (op, value)
    assert threshold.measure is not None


def test_words_between_comparator_and_number_that_name_no_measure_make_no_threshold() -> None:
    weather = _request("hottest day in Valencia in 2016").table
    # "en 2015" is a period: its words are not a measure's, so 2015 is no threshold.
    found, _ = _thresholds(read_text("cuántos días superó la temperatura media en 2015"), weather)
    assert found == []
    found, _ = _thresholds(read_text("cuántos días superó la temperatura media los 25 grados"), weather)
    assert [(t.op, t.value) for t in found] == [(">", 25.0)]


def _period_on(question: str, table_name: str, language: str) -> tuple[dt.date, dt.date, bool]:
    """The period a question asks of one declared table: first day, day after, whether it was cut."""
    [table] = [t for t in tables() if t.name == table_name]
    period = read_request(read_text(question), table, language, AS_OF).period
    assert period is not None, question
    return period.start.date(), period.end.date(), period.clipped_from is not None


@pytest.mark.parametrize(
    ("question", "table", "language", "first"),
    [
        ("precio medio mensual del gas natural este año", "energy_prices_daily", "es", dt.date(2017, 1, 1)),
        ("average WTI price this month", "energy_prices_daily", "en", dt.date(2017, 3, 1)),
        ("total de compras de energía este año", "energy_transacciones", "es", dt.date(2017, 1, 1)),
        ("transactions this week", "portfolio_events", "en", dt.date(2017, 3, 13)),
    ],
)
def test_a_running_period_of_observations_is_what_has_happened_so_far(
    question: str, table: str, language: str, first: dt.date
) -> None:
    # Asked on 15 March 2017: no price or transaction is dated later, so the period ends that day.
    assert _period_on(question, table, language) == (first, dt.date(2017, 3, 16), True)


def test_a_named_year_and_rows_that_run_ahead_keep_the_whole_period() -> None:
    year = (dt.date(2017, 1, 1), dt.date(2018, 1, 1), False)
    # "en 2017" is the calendar year as written, even while it runs.
    assert _period_on("precio medio del WTI en 2017", "energy_prices_daily", "es") == year
    # Films are announced ahead of their release: "this year" holds the year's later releases too.
    assert _period_on("how many movies came out this year?", "movies", "en") == year
    # Weather has forecasts ahead of the question: its week is the whole week.
    week = (dt.date(2017, 3, 13), dt.date(2017, 3, 20), False)
    assert _period_on("temperatura media en Madrid esta semana", "weather_daily", "es") == week
    # A period that ended before the question is left as it was.
    last_month = (dt.date(2017, 2, 1), dt.date(2017, 3, 1), False)
    assert _period_on("average WTI price last month", "energy_prices_daily", "en") == last_month
