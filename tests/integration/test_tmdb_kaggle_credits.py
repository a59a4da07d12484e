"""The Kaggle credits file on Spark (local[1]): landed after the movies, it fills ``movie_people``.

Two runs of ``datalake transform tmdb``: a subset of the real movies file landed on one day, then
a synthetic credits file (real ids; :func:`movie_fixtures.credits_for`) landed the next day, with
credits of two movies the file does not have and one row whose ``cast`` is not JSON. The second
run is incremental: the movies it joins the credits to are the kept records of the first. Its
``movie_people`` rows must be the pandas reader's (:func:`read_kaggle_credits`), row for row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from movie_fixtures import write_kaggle_credits
from processed_fixtures import published
from pyspark.sql import SparkSession
from spark_fixtures import local_spark

from datalake.datasets.movies import MOVIE_PEOPLE, MOVIES
from datalake.movies.tables import read_kaggle_credits
from datalake.pipelines.lake import transform
from datalake.settings import Settings
from datalake.sources.tmdb_kaggle import land_kaggle_file
from datalake.storage.local import LocalObjectStore

# The shared data beside the checkout (../shared/data): a missing file fails, it is never skipped.
KAGGLE_FILE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tmdb" / "tmdb_5000_movies.csv"


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = local_spark("tests-tmdb-credits", "local[1]")
    yield session
    session.stop()


def people_key(frame: pd.DataFrame) -> set[tuple]:
    return {
        (
            int(r.movie_id),
            int(r.person_id),
            r.person_name,
            r.role,
            None if pd.isna(r.cast_order) else int(r.cast_order),
        )
        for r in frame.itertuples()
    }


@pytest.mark.slow  # two Spark runs over a 40-movie landing (about a minute)
def test_credits_landed_after_the_movies_fill_movie_people_as_the_pandas_reader_does(
    spark: SparkSession, tmp_path: Path
) -> None:
    root = tmp_path / "lake"
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=root, spark_master="local[1]")
    store = LocalObjectStore(root)
    scratch = tmp_path / "files"
    scratch.mkdir()
    movies = pd.read_csv(KAGGLE_FILE).sort_values("id").iloc[::120].head(40)
    movies_csv = scratch / "tmdb_5000_movies.csv"
    movies.to_csv(movies_csv, index=False)
    ids = [int(i) for i in movies["id"]]
    day = dt.datetime(2026, 12, 4, 6, tzinfo=dt.UTC)
    land_kaggle_file(store, movies_csv, day)
    first = transform("tmdb", settings=settings)
    assert first.balanced and first.details["movies_rows"] == 40
    assert published(store, MOVIE_PEOPLE).empty

    good = write_kaggle_credits([*ids[:30], 1, 2], scratch / "good.csv")
    credits_csv = scratch / "tmdb_5000_credits.csv"
    bad_row = f'{ids[30]},Broken,"[{{""id"": 1, ""name"": ""x""",[]\n'
    credits_csv.write_text(good.read_text() + bad_row)
    land_kaggle_file(store, credits_csv, day + dt.timedelta(days=1))
    second = transform("tmdb", settings=settings)
    assert second.status == "succeeded" and second.balanced
    assert second.details["mode"] == "incremental"
    # 33 credits rows read: 32 in (30 used, 2 of movies not in the tables), 1 quarantined.
    assert (second.rows_in, second.rows_out, second.rows_quarantined) == (33, 32, 1)
    assert second.details["credits_records"] == 32 and second.details["credits_without_movie"] == 2
    assert second.details["movies_rows"] == 40  # a credits record is never a movie

    people = published(store, MOVIE_PEOPLE)
    assert set(people["source"]) == {"kaggle"}
    expected = read_kaggle_credits(good, pd.Series(ids))
    assert people_key(people) == people_key(expected)
    assert len(people) == len(expected) and set(people["movie_id"]) == set(ids[:30])
    assert set(published(store, MOVIES)["movie_id"]) == set(ids)

    [quarantine] = [k for k in second.keys_written if k.startswith("quarantine/tmdb/")]
    reasons = store.read_parquet(quarantine)["reason"].tolist()
    assert reasons == ["cast: not a JSON list of people"]
