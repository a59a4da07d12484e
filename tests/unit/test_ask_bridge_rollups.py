"""The bridge rollups derive from the semantic layer, pass the guard, and answer only what they
can answer exactly (datalake.datasets.rollups, datalake.ask.kinds.bridge_totals_sql)."""

from __future__ import annotations

import datetime as dt

import pytest

from datalake.ask.declared import read_request
from datalake.ask.guard import guard_sql
from datalake.ask.kinds import kind_of, source_pick
from datalake.ask.routing import route
from datalake.datasets import ASK_ROLLUPS, BRIDGE_TOTALS
from datalake.datasets.movies import MOVIE_SEMANTICS

AS_OF = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)


def test_each_bridge_dimension_gets_a_rollup_with_a_count_and_sum_per_summed_measure() -> None:
    by_table = {t.table: t for t in BRIDGE_TOTALS}
    assert set(by_table) == {"movies_by_genre", "movies_by_company"}
    columns = [c.name for c in by_table["movies_by_genre"].spec.columns]
    assert columns[:3] == ["source", "genre_name", "row_count"]
    for measure in MOVIE_SEMANTICS.measures:
        assert (f"{measure.key}_count" in columns) is (measure.ratio_of is None)
    assert by_table["movies_by_genre"].spec.primary_key == ("source", "genre_name")
    assert all(t.spec in ASK_ROLLUPS for t in BRIDGE_TOTALS)
    assert "t.vote_count > 0" in by_table["movies_by_genre"].select_sql()  # the rating's `when`


def test_the_guard_lets_the_reader_read_the_rollups() -> None:
    guarded = guard_sql("SELECT genre_name, row_count FROM movies_by_genre", "postgres", max_limit=10)
    assert "movies_by_genre" in guarded


def _built(question: str) -> tuple[str | None, str]:
    routed = route(question)
    assert routed is not None, question
    request = read_request(routed.text, routed.table, routed.language, AS_OF, [])
    kind = kind_of(request)
    assert kind is not None, question
    rolled = kind.rolled_up(request, 100)
    return (rolled.sql if rolled else None), kind.build(request, 100).sql


@pytest.mark.parametrize(
    ("question", "rolled"),
    [
        ("Top 5 genres by popularity", True),
        ("¿Películas por género?", True),
        ("¿Rating promedio por género?", True),
        ("popularidad media por género en 2010", False),  # a period: the rollup holds every year
        ("presupuesto total por género", False),  # a sum: kept exact by the tables' own SUM
        ("¿Cuántas películas de comedia hay?", False),  # not a grouping
    ],
)
def test_only_groupings_the_rollup_holds_exactly_read_it(question: str, rolled: bool) -> None:
    from_rollup, from_tables = _built(question)
    assert (from_rollup is not None) is rolled
    assert "_by_" not in from_tables
    if from_rollup is not None:
        assert "FROM movies_by_" in from_rollup and "JOIN" not in from_rollup


def test_the_source_pick_probes_the_preferred_sources_in_order() -> None:
    assert MOVIE_SEMANTICS.source is not None
    pick = source_pick("movies", MOVIE_SEMANTICS.source)
    assert pick.index("'tmdb'") < pick.index("'kaggle'") < pick.index("'sample'")
    assert pick.startswith("COALESCE(") and "GROUP BY s.source" in pick  # any other source last
