"""Headlines drop the article: a singular row right after a superlative still asks for one row."""

from __future__ import annotations

import datetime as dt

import pytest

from datalake.ask.declared import Request, read_request
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
