"""The movie classifier end to end on real parts: processed tables published through the catalog,
training through the model registry (champion/challenger), /predict logged to the embedded
PostgreSQL, and /historical-predictions?model=movie-success judged against the movies table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from movie_fixtures import synthetic_tables
from processed_fixtures import publish_frames

from api.main import create_app
from api.services import Services
from datalake import runtime
from datalake.catalog.local import LocalCatalog
from datalake.datasets.spec import ColumnSpec, DatasetSpec
from datalake.models import model_registry
from datalake.movies import MODEL_NAME
from datalake.movies.evaluation import YearSplit
from datalake.movies.tables import MOVIE_COLUMNS, TABLE_NAMES, MovieTables, read_lake_tables
from datalake.movies.training import train_movie_success
from datalake.settings import Settings

pytest_plugins = ["warehouse_fixtures"]
SPLIT = YearSplit(2006, 2010)

# The contract's columns (the tmdb source's own specs live in datalake/datasets/movies.py).
_TYPES = {
    "movie_id": "bigint", "release_date": "date", "release_year": "int", "runtime_min": "double",
    "budget_usd": "double", "revenue_usd": "double", "popularity": "double", "vote_average": "double",
    "vote_count": "bigint", "collection_id": "bigint", "extracted_at": "timestamp", "genre_id": "bigint",
    "keyword_id": "bigint", "company_id": "bigint", "person_id": "bigint", "cast_order": "int",
}  # fmt: skip
_COLUMNS = {
    "movies": MOVIE_COLUMNS,
    "genres": ("movie_id", "genre_id", "genre_name"),
    "keywords": ("movie_id", "keyword_id", "keyword_name"),
    "companies": ("movie_id", "company_id", "company_name"),
    "people": ("movie_id", "person_id", "person_name", "role", "cast_order"),
}


def contract_specs() -> dict[str, DatasetSpec]:
    return {
        TABLE_NAMES[frame]: DatasetSpec(
            name=TABLE_NAMES[frame],
            description=f"test copy of {TABLE_NAMES[frame]}",
            columns=tuple(ColumnSpec(c, _TYPES.get(c, "string")) for c in columns),
            primary_key=columns[:2] if frame != "movies" else ("movie_id",),
            source="tmdb",
        )
        for frame, columns in _COLUMNS.items()
    }


def publish(settings: Settings, tables: MovieTables, specs: dict[str, DatasetSpec]) -> None:
    store = runtime.object_store("lake", settings)
    for frame, data in tables.frames().items():
        data = data.copy()
        if frame == "movies":
            data["release_date"] = data["release_date"].dt.date
        publish_frames(store, specs[TABLE_NAMES[frame]], {"": data}, settings=settings)


@pytest.fixture
def settings(pg_settings: Settings, pg_conn: psycopg.Connection[Any]) -> Iterator[Settings]:
    # The warehouse is shared by the session's tests: leave no hand-made movies table behind.
    for table in ("movie_predictions", "movies"):
        pg_conn.execute(f"DROP TABLE IF EXISTS {table}")
    yield pg_settings.model_copy(update={"api_refresh_s": 0.0})
    for table in ("movie_predictions", "movies"):
        pg_conn.execute(f"DROP TABLE IF EXISTS {table}")


@pytest.mark.slow
def test_trains_from_published_tables_and_keeps_the_better_model(settings: Settings) -> None:
    specs = contract_specs()
    tables = synthetic_tables()
    publish(settings, tables, specs)
    store = runtime.object_store("lake", settings)
    read = read_lake_tables(store, LocalCatalog(store), settings, specs)
    assert len(read.movies) == len(tables.movies) and len(read.people) == len(tables.people)
    first = train_movie_success(read, "processed movies tables", SPLIT, settings)["details"]
    assert first["promoted"] and first["evaluation"]["test"]["model"]["roc_auc"] > 0.75
    # The same data again: the challenger ties the champion, and a tie keeps the champion.
    second = train_movie_success(read, "processed movies tables", SPLIT, settings)["details"]
    assert second["champion_scores"]["roc_auc"] == second["evaluation"]["test"]["model"]["roc_auc"]
    assert not second["promoted"]
    registry = model_registry(settings, name=MODEL_NAME)
    assert registry.champion()["version"] == first["version"]
    assert len(registry.versions()) == 2


@pytest.mark.slow
def test_predictions_are_logged_and_listed_with_their_outcome(
    settings: Settings, pg_conn: psycopg.Connection[Any]
) -> None:
    train_movie_success(synthetic_tables(), "synthetic", SPLIT, settings)
    # The lake's movies table (as the warehouse sync builds it) knows how two films did.
    pg_conn.execute(
        "CREATE TABLE movies (movie_id bigint, title text, release_year int, budget_usd float8,"
        " revenue_usd float8, vote_average float8, vote_count bigint)"
    )
    pg_conn.execute(
        "INSERT INTO movies VALUES (1, 'Hit Film', 2027, 1e7, 5e7, 7.5, 900),"
        " (2, 'Flop Film', 2027, 1e7, 5e6, 5.0, 900)"
    )
    film = {"budget_usd": 2e7, "runtime_min": 100, "genres": ["Drama"], "release_date": "2027-05-01"}
    with TestClient(create_app(settings, Services.from_settings(settings))) as client:
        answer = client.post(
            "/predict",
            json=[
                {**film, "title": "hit film"},
                {**film, "title": "Flop Film"},
                {**film, "title": "Unknown Yet"},
            ],
        )
        assert answer.status_code == 200, answer.text
        predicted = {p["title"]: p["success"] for p in answer.json()["predictions"]}
        page = client.get("/historical-predictions", params={"model": "movie-success"})
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 3
    rows = {row["title"]: row for row in body["items"]}
    assert rows["hit film"]["actual_success"] is True
    assert rows["Flop Film"]["actual_success"] is False
    assert rows["Unknown Yet"]["actual_success"] is None and rows["Unknown Yet"]["correct"] is None
    assert rows["hit film"]["correct"] == predicted["hit film"]
    assert rows["Flop Film"]["correct"] == (not predicted["Flop Film"])
    assert body["summary"]["with_outcome"] == 2
    logged = pg_conn.execute("SELECT count(*) FROM movie_predictions").fetchone()
    assert logged == (3,)
