"""Phrasings the declared parser reads: headlines without the article ("hottest day in Valencia"),
and a threshold said after its measure ("superó la temperatura media los 25 grados")."""

from __future__ import annotations

import datetime as dt

import pytest

from datalake.ask.declared import Request, _thresholds, read_request, read_text
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
