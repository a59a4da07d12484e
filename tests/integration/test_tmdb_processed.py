"""The tmdb source on Spark (local[1]): API envelopes and the Kaggle file -> the movie tables.

One session and one lake serve the module, built by three runs of ``datalake transform tmdb``:

1. full: a backfill file of envelopes (an older extraction of 550 with budget 0, a movie later
   tombstoned, a SAMPLE movie with budget and revenue 0, and four bad lines) and the real Kaggle
   file landed by ``land_kaggle_file``;
2. incremental: a daily file (a newer 550, the tombstone of 553, an extraction of 554 older than
   the one kept) plus an empty file and a stray file: the kept records of run 1 meet the new ones;
3. incremental with nothing new: nothing to do.

The Kaggle tables are checked against counts computed here with Python's csv module, and the
tables are synced into the embedded PostgreSQL and queried with DuckDB.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
from processed_fixtures import published
from pyspark.sql import SparkSession
from spark_fixtures import local_spark

from datalake import runtime
from datalake.datasets.movies import (
    MOVIE_COMPANIES,
    MOVIE_GENRES,
    MOVIE_KEYWORDS,
    MOVIE_PEOPLE,
    MOVIE_TABLES,
    MOVIES,
)
from datalake.pipelines.kept_rows import publish_changed
from datalake.pipelines.lake import sync_dataset, transform
from datalake.runs import RunReport
from datalake.settings import Settings
from datalake.sources.tmdb_kaggle import land_kaggle_file
from datalake.storage.local import LocalObjectStore
from datalake.transforms.tmdb import envelope_records

pytest_plugins = ["warehouse_fixtures"]

SHARED = Path("/work/shared/data")
DETAILS_SHAPE = SHARED / "tmdb_api/movie_details_550_append_credits_keywords_shape.json"
KAGGLE_FILE = SHARED / "tmdb/tmdb_5000_movies.csv"
pytestmark = pytest.mark.skipif(
    not (DETAILS_SHAPE.is_file() and KAGGLE_FILE.is_file()),
    reason=f"the TMDB fixtures are not in {SHARED} (tmdb_api/ details shape, tmdb/ Kaggle file)",
)
DAY1 = "raw/tmdb/movie/year=2026/month=11/day=01/details-backfill-550-0.jsonl"
DAY2 = "raw/tmdb/movie/year=2026/month=12/day=04/details-daily-550-0.jsonl"
EMPTY = "raw/tmdb/movie/year=2026/month=12/day=04/details-daily-999-0.jsonl"
STRAY = "raw/tmdb/movie/year=2026/month=12/day=04/checkpoint.json"
BAD_LINES = {
    3: "not a JSON object (unparsable line)",
    4: "release_date: not a date '2015-02-30'",
    5: "runtime_min outside [0, 10000]",
}


def envelope(
    movie_id: int, extracted_at: str, details: dict | None, status: str = "ok", source: str = "tmdb"
) -> str:
    return json.dumps(
        {
            "movie_id": movie_id,
            "extracted_at": extracted_at,
            "source": source,
            "status": status,
            "details": details,
        }
    )


def details(**changes: Any) -> dict:
    """The recorded shape of GET /movie/550?append_to_response=credits,keywords, with ``changes``."""
    return {**json.loads(DETAILS_SHAPE.read_text()), **changes}


def day1_lines() -> list[str]:
    at = "2026-11-01T06:00:00+00:00"
    return [
        envelope(550, at, details(vote_count=100, budget=0)),
        envelope(553, at, details(id=553, title="Gone Later")),
        "{not json",
        envelope(551, at, details(id=551, title="Impossible Day", release_date="2015-02-30")),
        envelope(552, at, details(id=552, title="Backwards", runtime=-5)),
        json.dumps({"extracted_at": at, "status": "ok"}),
        envelope(
            554,
            at,
            details(
                id=554,
                title="Sample Movie",
                budget=0,
                revenue=0,
                belongs_to_collection={"id": 10, "name": "C"},
            ),
            source="sample",
        ),
    ]


def day2_lines() -> list[str]:
    at = "2026-12-04T06:00:00+00:00"
    return [
        envelope(550, at, details()),
        envelope(553, at, None, status="gone"),
        # A backfill chunk landed late: older than the 554 already kept, so it must not win.
        envelope(554, "2026-10-01T06:00:00+00:00", details(id=554, title="Stale"), source="sample"),
    ]


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = local_spark("tests-tmdb", "local[1]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory) -> tuple[Settings, list[RunReport]]:
    root = tmp_path_factory.mktemp("tmdb") / "lake"
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=root, spark_master="local[1]")
    store = LocalObjectStore(root)
    store.put_bytes(DAY1, ("\n".join(day1_lines()) + "\n").encode())
    land_kaggle_file(store, KAGGLE_FILE)
    first = transform("tmdb", settings=settings)
    store.put_bytes(DAY2, "\n".join(day2_lines()).encode())
    store.put_bytes(EMPTY, b"")
    store.put_bytes(STRAY, b'{"next_id": 551}')
    second = transform("tmdb", settings=settings)
    third = transform("tmdb", settings=settings)
    return settings, [first, second, third]


def table(settings: Settings, spec) -> pd.DataFrame:
    return published(LocalObjectStore(settings.lake_root), spec)


def kaggle_rows() -> list[dict[str, str]]:
    with KAGGLE_FILE.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_runs_balance_and_say_what_they_did(lake) -> None:
    _settings, (first, second, third) = lake
    kaggle = len(kaggle_rows())
    assert all(r.status == "succeeded" and r.balanced for r in (first, second, third))
    assert first.details["mode"] == "full" and second.details["mode"] == "incremental"
    # Run 1: 7 lines + every Kaggle row; 4 bad lines quarantined, 550, 553, 554 and the Kaggle movies in.
    assert (first.rows_in, first.rows_out, first.rows_quarantined) == (7 + kaggle, 3 + kaggle, 4)
    assert first.details["files_accepted"] == 2 and first.details["files_rejected_count"] == 0
    # Run 2: 3 lines + 2 rejected files; the newer 550 and the tombstone win, the stale 554 does not.
    assert (second.rows_in, second.rows_out, second.rows_quarantined) == (5, 2, 3)
    assert second.details["tombstones_applied"] == 1
    assert second.details["records_carried_over"] == 1 + kaggle  # 554 and the Kaggle movies, kept
    rejected = {Path(f["path"]).name: f["reason"] for f in second.details["files_rejected"]}
    assert rejected["details-daily-999-0.jsonl"] == "empty file"
    assert rejected["checkpoint.json"].startswith("not a TMDB raw file")
    assert second.details["files_accepted"] == 1
    assert third.rows_in == 0 and third.details["raw_partitions_changed_count"] == 0


@pytest.mark.slow
def test_quarantine_keeps_each_bad_record_with_its_reason(lake) -> None:
    settings, (first, second, _third) = lake
    store = LocalObjectStore(settings.lake_root)
    [key] = [k for k in first.keys_written if k.startswith("quarantine/tmdb/")]
    bad = store.read_parquet(key)
    reasons = dict(zip(bad["line_number"].astype(int), bad["reason"], strict=True))
    for line, reason in BAD_LINES.items():
        assert reasons[line] == reason
    assert reasons[6].startswith("no movie_id")
    [key] = [k for k in second.keys_written if k.startswith("quarantine/tmdb/")]
    stale = store.read_parquet(key).query("line_number == '3'")
    assert stale["reason"].tolist() == [
        "superseded by a newer extraction (extracted_at) of the same movie and source"
    ]


@pytest.mark.slow
def test_the_newest_extraction_wins_and_a_tombstone_removes_the_movie(lake) -> None:
    settings, _reports = lake
    movies = table(settings, MOVIES).query("source != 'kaggle'").set_index("movie_id")
    assert sorted(movies.index) == [550, 554]
    fight_club = movies.loc[550]
    assert (fight_club["vote_count"], fight_club["budget_usd"], fight_club["revenue_usd"]) == (
        27917,
        63000000,
        100853753,
    )
    assert str(fight_club["extracted_at"]).startswith("2026-12-04 06:00:00")
    assert (fight_club["runtime_min"], fight_club["release_year"]) == (139, 1999)
    sample = movies.loc[554]
    # Budget and revenue 0 are unknown, stored as NULL; the stale extraction did not win.
    assert pd.isna(sample["budget_usd"]) and pd.isna(sample["revenue_usd"])
    assert (sample["title"], sample["collection_id"], sample["source"]) == ("Sample Movie", 10, "sample")
    for spec in MOVIE_TABLES:
        rows = table(settings, spec)
        assert rows.query("movie_id == 553 and source == 'tmdb'").empty, spec.name


def test_a_table_whose_last_rows_are_tombstoned_is_published_empty(spark, tmp_path: Path) -> None:
    # The movie tables are unpartitioned: with no partition to unpublish, the rows of the only
    # movie that had people must still leave the table when that movie is tombstoned.
    store = LocalObjectStore(tmp_path / "lake")
    schema = ", ".join(f"{column.name} {column.type}" for column in MOVIE_PEOPLE.columns)
    director = spark.createDataFrame([(600, 7, "Ana Ruiz", "director", None, "tmdb")], schema)
    assert publish_changed(spark, store, MOVIE_PEOPLE, director, None)
    assert table_rows(store, MOVIE_PEOPLE) == [(600, "Ana Ruiz")]
    lines: list[str] = []
    assert publish_changed(spark, store, MOVIE_PEOPLE, director.limit(0), lines.append)
    assert table_rows(store, MOVIE_PEOPLE) == []
    assert "movie_people: 0 rows" in " ".join(lines)
    # Still a table, with its columns: readers get no rows, not an error.
    assert list(published(store, MOVIE_PEOPLE).columns) == MOVIE_PEOPLE.column_names
    # Nothing left to remove: a second empty run publishes nothing new.
    assert publish_changed(spark, store, MOVIE_PEOPLE, director.limit(0), None) == []


def test_a_number_sent_as_something_else_is_quoted_as_sent(spark) -> None:
    at = "2026-12-04T06:00:00+00:00"
    lines = [
        envelope(560, at, details(id=560, budget="lots")),
        envelope(561, at, details(id=561, runtime={"hours": 2}, vote_count=None)),
        json.dumps({"movie_id": "abc", "extracted_at": at, "source": "tmdb", "status": "ok"}),
        envelope(562, at, details(id=562, popularity="12.5")),
        envelope(563, at, details(id=563, popularity=12.5)),
    ]
    documents = spark.createDataFrame([("raw/tmdb/x.jsonl", "\n".join(lines))], "path string, content string")
    problems = {
        row.line_number: row.problem
        for row in envelope_records(documents).select("line_number", "problem").collect()
    }
    assert problems[1] == "details.budget: not a number 'lots'"
    assert problems[2] == """details.runtime: not a number '{"hours":2}'"""  # null is no number: unknown
    # JSON with a wrong type is not "not a JSON object": the reason names the field.
    assert problems[3].startswith("movie_id: not a number 'abc'")
    # TMDB sends numbers as numbers: one sent as text is refused too, quoted as sent.
    assert problems[4] == "details.popularity: not a number '12.5'"
    assert problems[5] is None


def table_rows(store: LocalObjectStore, spec) -> list[tuple]:
    rows = published(store, spec)
    return [(int(r.movie_id), r.person_name) for r in rows.itertuples()]


@pytest.mark.slow
def test_bridge_tables_follow_the_winning_extraction(lake) -> None:
    settings, _reports = lake
    tmdb = {
        spec.name: table(settings, spec).query("movie_id == 550 and source == 'tmdb'")
        for spec in MOVIE_TABLES
    }
    assert tmdb["movie_genres"][["genre_id", "genre_name"]].values.tolist() == [[18, "Drama"]]
    assert sorted(tmdb["movie_keywords"]["keyword_id"]) == [818, 851, 3927]
    assert sorted(tmdb["movie_companies"]["company_id"]) == [508, 711, 4700]
    people = tmdb["movie_people"].sort_values(["role", "cast_order"])
    assert people[["person_name", "role"]].values.tolist() == [
        ["Edward Norton", "cast"],
        ["Brad Pitt", "cast"],
        ["David Fincher", "director"],
    ]
    assert people["cast_order"].tolist()[:2] == [0, 1]


@pytest.mark.slow
def test_kaggle_tables_match_counts_computed_from_the_csv(lake) -> None:
    settings, _reports = lake
    rows = kaggle_rows()

    def pairs(column: str) -> int:
        return sum(len({entry["id"] for entry in json.loads(row[column] or "[]")}) for row in rows)

    movies = table(settings, MOVIES).query("source == 'kaggle'")
    assert len(movies) == len(rows) == movies["movie_id"].nunique()
    assert movies["budget_usd"].notna().sum() == sum(1 for row in rows if int(row["budget"]) > 0)
    assert movies["revenue_usd"].notna().sum() == sum(1 for row in rows if int(row["revenue"]) > 0)
    assert (movies["budget_usd"] == 0).sum() == 0
    for spec, column in (
        (MOVIE_GENRES, "genres"),
        (MOVIE_KEYWORDS, "keywords"),
        (MOVIE_COMPANIES, "production_companies"),
    ):
        assert len(table(settings, spec).query("source == 'kaggle'")) == pairs(column), spec.name
    assert table(settings, MOVIE_PEOPLE).query("source == 'kaggle'").empty  # no credits in the file


def top_grossing_2012() -> list[tuple[str, int]]:
    rows = [r for r in kaggle_rows() if r["release_date"].startswith("2012-") and int(r["revenue"]) > 0]
    rows.sort(key=lambda r: -int(r["revenue"]))
    return [(r["title"], int(r["revenue"])) for r in rows[:5]]


@pytest.mark.slow
def test_duckdb_answers_the_top_grossing_movies_of_2012(lake) -> None:
    settings, _reports = lake
    engine = runtime.query_engine(settings)
    answer = engine.query(
        "SELECT title, revenue_usd FROM movies WHERE release_year = 2012 AND source = 'kaggle' "
        "ORDER BY revenue_usd DESC LIMIT 5"
    )
    assert [(t, int(r)) for t, r in answer.itertuples(index=False)] == top_grossing_2012()


@pytest.mark.slow
def test_the_movie_tables_sync_into_postgresql_with_their_indexes(lake, tmp_path, embedded_pg) -> None:
    settings, _reports = lake
    shutil.copytree(settings.lake_root, tmp_path / "lake")
    settings = settings.model_copy(update={"lake_root": tmp_path / "lake", "database_url": embedded_pg.url})
    with psycopg.connect(embedded_pg.url, autocommit=True) as conn:  # a fresh mirror of these tables
        for spec in MOVIE_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {spec.warehouse_table} CASCADE")
    for spec in MOVIE_TABLES:
        first = sync_dataset(spec.name, settings)
        again = sync_dataset(spec.name, settings, force=True)
        expected = len(table(settings, spec))
        assert first.details["inserted"] == expected and again.details["unchanged"] == expected, spec.name
    with psycopg.connect(embedded_pg.url) as conn:
        # PostgreSQL sorts NULL (unknown revenue) first in a descending order unless told otherwise.
        top = conn.execute(
            "SELECT title, revenue_usd FROM movies WHERE release_year = 2012 AND source = 'kaggle' "
            "ORDER BY revenue_usd DESC NULLS LAST LIMIT 5"
        ).fetchall()
        by_director = conn.execute(
            "SELECT m.title FROM movie_people p JOIN movies m USING (movie_id, source) "
            "WHERE p.person_name = 'David Fincher' AND p.role = 'director' ORDER BY m.title"
        ).fetchall()
        indexes = {
            row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename LIKE 'movie%'")
        }
    assert top == top_grossing_2012()
    # 550 from the API and the SAMPLE movie built from the same recorded credits; Kaggle has none.
    assert by_director == [("Fight Club",), ("Sample Movie",)]
    assert {
        "movies_release_year_revenue_usd_idx",
        "movie_people_person_name_role_idx",
        "movie_genres_genre_name_idx",
        "movie_keywords_keyword_name_idx",
    } <= indexes
