"""The warehouse's per-value totals of the movies grouped through a bridge table (``movies_by_genre``,
``movies_by_company``; datalake.datasets.rollups) on the real embedded PostgreSQL: the sync keeps
them equal to the join they roll up after each load of either table, and /ask answers the plain
groupings from them with exactly the answers the tables give."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import psycopg
import pytest
from psycopg import sql

from datalake.ask import WarehouseExecutor, ask
from datalake.ask.evaluation import load_warehouse
from datalake.datasets import BRIDGE_TOTALS, DATASETS
from datalake.settings import Settings
from datalake.warehouse.sync import upsert_frame

pytest_plugins = ["warehouse_fixtures"]
pytestmark = pytest.mark.integration

Conn = psycopg.Connection[Any]
EXTRACTED = pd.Timestamp("2025-01-02", tz="UTC")
AS_OF = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)


def movie(movie_id: int, source: str = "tmdb", **values: Any) -> dict[str, Any]:
    """One movies row: a released 2010 film unless ``values`` say otherwise."""
    return {
        "movie_id": movie_id,
        "title": f"Film {movie_id}",
        "original_title": f"Film {movie_id}",
        "original_language": "en",
        "release_date": dt.date(2010, 5, 1),
        "release_year": 2010,
        "runtime_min": 100 + movie_id,
        "budget_usd": 1_000_000 * movie_id,
        "revenue_usd": 3_000_000 * movie_id,
        "popularity": 1.5 * movie_id,
        "vote_average": 5.0 + movie_id / 10,
        "vote_count": 50 * movie_id,
        "status": "Released",
        "collection_id": None,
        "overview": None,
        "source": source,
        "extracted_at": EXTRACTED,
    } | values


def frames() -> dict[str, pd.DataFrame]:
    """Two sources (the preferred one is read), a movie in a genre twice under two genre ids, a
    NULL popularity, a rating with no votes (not a rating), a NULL genre name, a movie with none."""
    movies = pd.DataFrame(
        [
            movie(1),
            movie(2, popularity=None),
            movie(3, vote_count=0),
            movie(4),
            movie(5, budget_usd=None),
            movie(6),  # no genre
            movie(1, "kaggle", popularity=99.0),
            movie(7, "kaggle"),
        ]
    )
    genre_rows = [
        (1, 28, "Action", "tmdb"),
        (1, 18, "Drama", "tmdb"),
        (1, 10028, "Action", "tmdb"),  # the same name under another id: counted once
        (2, 28, "Action", "tmdb"),
        (3, 18, "Drama", "tmdb"),
        (3, 35, "Comedy", "tmdb"),
        (4, 35, "Comedy", "tmdb"),
        (5, 99, None, "tmdb"),
        (5, 18, "Drama", "tmdb"),
        (1, 28, "Action", "kaggle"),
        (7, 35, "Comedy", "kaggle"),
    ]
    genres = pd.DataFrame(genre_rows, columns=["movie_id", "genre_id", "genre_name", "source"])
    companies = pd.DataFrame(
        [
            (1, 1, "Pixar", "tmdb"),
            (2, 1, "Pixar", "tmdb"),
            (4, 2, "Ghibli", "tmdb"),
            (7, 1, "Pixar", "kaggle"),
        ],
        columns=["movie_id", "company_id", "company_name", "source"],
    )
    return {"movies": movies, "movie_genres": genres, "movie_companies": companies}


def rollup_rows(conn: Conn, schema: str, table: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        sql.SQL("SELECT * FROM {} ORDER BY 1, 2").format(sql.Identifier(schema, table))
    ).fetchall()


def recomputed(conn: Conn, schema: str, table: str) -> list[tuple[Any, ...]]:
    """The rollup's rows recomputed now from the tables, by its own declared SELECT."""
    totals = next(t for t in BRIDGE_TOTALS if t.table == table)
    query = sql.SQL(totals.select_sql()).format(  # type: ignore[arg-type]
        main=sql.Identifier(schema, "movies"), bridge=sql.Identifier(schema, totals.dimension.table or "")
    )
    return sorted(conn.execute(query).fetchall(), key=lambda row: (row[0], row[1]))


def test_the_sync_keeps_each_bridge_rollup_equal_to_its_join(pg_conn: Conn, pg_schema: str) -> None:
    load_warehouse(pg_conn, frames(), pg_schema)
    genres = {row[:2]: row[2:] for row in rollup_rows(pg_conn, pg_schema, "movies_by_genre")}
    # tmdb Action: movies 1 (once, though under two ids) and 2; 2 has no popularity.
    names = [c.name for c in next(t for t in BRIDGE_TOTALS if t.table == "movies_by_genre").spec.columns]
    action = dict(zip(names, ("tmdb", "Action", *genres[("tmdb", "Action")]), strict=True))
    assert action["row_count"] == 2 and action["popularity_count"] == 1 and action["popularity_sum"] == 1.5
    # Movie 3 has no votes: its rating is not a rating (the measure's `when`).
    drama = dict(zip(names, ("tmdb", "Drama", *genres[("tmdb", "Drama")]), strict=True))
    assert drama["row_count"] == 3 and drama["rating_count"] == 2 and drama["budget_count"] == 2
    assert ("tmdb", None) not in genres and ("kaggle", "Comedy") in genres
    for table in ("movies_by_genre", "movies_by_company"):
        assert rollup_rows(pg_conn, pg_schema, table) == recomputed(pg_conn, pg_schema, table)

    # A later load of either table recomputes it: movie 4 leaves Comedy for Drama, movie 2 gains votes.
    changed = frames()["movie_genres"]
    changed.loc[(changed.movie_id == 4) & (changed.source == "tmdb"), ["genre_id", "genre_name"]] = (
        18,
        "Drama",
    )
    pg_conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(pg_schema, "movie_genres")))
    upsert_frame(pg_conn, DATASETS["movie_genres"], changed, schema=pg_schema)
    upsert_frame(pg_conn, DATASETS["movies"], pd.DataFrame([movie(2, popularity=7.0)]), schema=pg_schema)
    for table in ("movies_by_genre", "movies_by_company"):
        assert rollup_rows(pg_conn, pg_schema, table) == recomputed(pg_conn, pg_schema, table)
    counts = {row[:2]: row[2] for row in rollup_rows(pg_conn, pg_schema, "movies_by_genre")}
    assert counts[("tmdb", "Drama")] == 4 and counts[("tmdb", "Comedy")] == 1


QUESTIONS = {
    # question -> whether the rollup answers it (else the tables: a period, a threshold, a sum)
    "Top 5 genres by popularity": True,
    "¿Películas por género?": True,
    "¿Qué géneros están disponibles?": True,
    "¿Rating promedio por género?": True,
    "average budget by genre": True,
    "average runtime by company": True,
    "¿Películas por productora?": True,
    "popularidad media por género en 2010": False,
    "presupuesto total por género": False,
}


def test_ask_reads_the_rollup_for_plain_groupings_with_the_tables_answers(
    pg_settings: Settings, pg_conn: Conn, pg_schema: str, role_name: str
) -> None:
    load_warehouse(pg_conn, frames(), pg_schema)
    settings = pg_settings.model_copy(update={"reader_role": role_name})
    with_rollups = WarehouseExecutor(settings, schema=pg_schema, ensure_role=True)
    tables_only = WarehouseExecutor(settings, schema=pg_schema, ensure_role=True)
    tables_only.declared_rollups = False
    for question, rolled in QUESTIONS.items():
        answer = ask(question, AS_OF, settings=settings, executor=with_rollups)
        assert ("_by_" in answer.sql) is rolled, (question, answer.sql)
        assert answer.rows, question
        from_tables = ask(question, AS_OF, settings=settings, executor=tables_only)
        assert "_by_" not in from_tables.sql
        assert answer.columns == from_tables.columns, question
        assert len(answer.rows) == len(from_tables.rows), question
        for row, table_row in zip(answer.rows, from_tables.rows, strict=True):
            for value, table_value in zip(row, table_row, strict=True):
                if isinstance(value, float):
                    assert value == pytest.approx(table_value, rel=1e-12), question
                else:
                    assert value == table_value, question
        assert answer.answer == from_tables.answer, question

    # A warehouse without the rollup yet (not synced since it came) answers from the tables.
    pg_conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(pg_schema, "movies_by_genre")))
    answer = ask("Top 5 genres by popularity", AS_OF, settings=settings, executor=with_rollups)
    assert "movies_by_genre" not in answer.sql
    assert [row[0] for row in answer.rows] == ["Comedy", "Drama", "Action"]
