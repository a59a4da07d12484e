"""publish_tables (datalake.pipelines.kept_rows) on Spark (local[1]): several tables compared with
what is published by one job, only the partitions that changed rewritten, and each table's rows said.

A partitioned table (weather_daily, by year) and an unpartitioned one (movie_genres) go through a
first publish (new tables), an unchanged rerun, and a rerun where one partition changes and one
goes; the results must be those of one publish_changed per table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from processed_fixtures import published
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from spark_fixtures import local_spark

from datalake.datasets.movies import MOVIE_GENRES, MOVIE_KEYWORDS
from datalake.datasets.weather import WEATHER_DAILY
from datalake.errors import DataValidationError
from datalake.jobs import read_processed
from datalake.pipelines.kept_rows import Published, publish_changed, publish_tables
from datalake.storage.local import LocalObjectStore


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = local_spark("tests-publish-tables", "local[1]")
    yield session
    session.stop()


def daily(spark: SparkSession, days: dict[str, float]) -> DataFrame:
    """weather_daily rows of Madrid, one per day (``{"2024-01-02": mean temperature}``), with ``year``."""
    schema = ", ".join(f"{c.name} {c.type}" for c in WEATHER_DAILY.columns) + ", year int"
    rows = [
        (
            dt.date.fromisoformat(day),
            "Madrid",
            mean,
            mean - 4,
            mean + 4,
            60.0,
            10.0,
            50.0,
            24,
            "sample",
            int(day[:4]),
        )
        for day, mean in sorted(days.items())
    ]
    return spark.createDataFrame(rows, schema)


def genres(spark: SparkSession, names: dict[int, str]) -> DataFrame:
    schema = ", ".join(f"{c.name} {c.type}" for c in MOVIE_GENRES.columns)
    return spark.createDataFrame(
        [(550, genre, name, "tmdb") for genre, name in sorted(names.items())], schema
    )


def jobs_run(spark: SparkSession) -> int:
    """Spark jobs started so far in this session (ids grow by one per job)."""
    ids = spark.sparkContext.statusTracker().getJobIdsForGroup(None)
    return max(ids) + 1 if ids else 0


def temperatures(store: LocalObjectStore) -> dict[str, float]:
    rows = published(store, WEATHER_DAILY)
    return {str(r.local_date)[:10]: float(r.temperature_mean_c) for r in rows.itertuples()}


def genre_names(store: LocalObjectStore) -> dict[int, str]:
    return {int(r.genre_id): r.genre_name for r in published(store, MOVIE_GENRES).itertuples()}


def test_tables_are_compared_together_and_only_changes_are_published(spark, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    first_days = {"2023-12-31": 8.5, "2024-01-01": 9.0, "2024-01-02": 7.5}
    first = [
        (WEATHER_DAILY, daily(spark, first_days)),
        (MOVIE_GENRES, genres(spark, {18: "Drama", 35: "Comedy"})),
    ]
    lines: list[str] = []
    new = publish_tables(spark, store, first, lines.append)
    # New tables: written as they are, their rows counted by the write.
    assert [table.rows for table in new] == [3, 2]
    assert all(table.keys for table in new)
    assert temperatures(store) == first_days and genre_names(store) == {18: "Drama", 35: "Comedy"}

    # Unchanged: nothing written, the rows still said; one job compares both tables, fewer than
    # one publish_changed per table makes.
    before = jobs_run(spark)
    again = publish_tables(spark, store, first, None)
    together = jobs_run(spark) - before
    assert again == [Published([], 3), Published([], 2)]
    before = jobs_run(spark)
    assert [publish_changed(spark, store, spec, frame, None) for spec, frame in first] == [[], []]
    assert together < jobs_run(spark) - before

    # 2023 goes, one day of 2024 changes, a genre is renamed: only year=2024 is rewritten.
    second_days = {"2024-01-01": 9.0, "2024-01-02": 6.0}
    second = [
        (WEATHER_DAILY, daily(spark, second_days)),
        (MOVIE_GENRES, genres(spark, {18: "Drama", 35: "Comedia"})),
    ]
    lines.clear()
    changed = publish_tables(spark, store, second, lines.append)
    assert [table.rows for table in changed] == [2, 2]
    assert changed[0].keys and all("/year=2024/" in key for key in changed[0].keys)
    assert changed[1].keys
    assert "weather_daily/year=2023: removed (no rows left)" in lines
    assert temperatures(store) == second_days and genre_names(store) == {18: "Drama", 35: "Comedia"}


def test_a_new_table_with_no_row_is_not_published(spark, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    schema = ", ".join(f"{c.name} {c.type}" for c in MOVIE_KEYWORDS.columns)
    empty = spark.createDataFrame([], schema)
    assert publish_tables(spark, store, [(MOVIE_KEYWORDS, empty)], None) == [Published([], 0)]
    assert read_processed(spark, MOVIE_KEYWORDS, store) is None
    # Told it has no row, it spares even the count.
    before = jobs_run(spark)
    assert publish_changed(spark, store, MOVIE_KEYWORDS, empty, None, rows=0) == []
    assert jobs_run(spark) == before


def test_a_new_table_counted_by_the_caller_is_written_without_a_count_and_still_refuses_nulls(
    spark, tmp_path: Path
) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    days = {"2023-12-31": 8.5, "2024-01-01": 9.0, "2024-01-02": 7.5}
    lines: list[str] = []
    before = jobs_run(spark)
    [table] = publish_tables(
        spark,
        store,
        [(WEATHER_DAILY, daily(spark, days))],
        lines.append,
        partition_rows=[{(2023,): 1, (2024,): 2}],
    )
    counted_by_caller = jobs_run(spark) - before
    assert table.rows == 3 and temperatures(store) == days
    assert "weather_daily/year=2024: 2 rows" in lines
    # The same table counted by the write takes more jobs (its count and check are a job of their own).
    other = LocalObjectStore(tmp_path / "other")
    before = jobs_run(spark)
    publish_tables(spark, other, [(WEATHER_DAILY, daily(spark, days))], None)
    assert counted_by_caller < jobs_run(spark) - before

    # A null in a required column ends the write: nothing is published, and the error names it.
    required = next(c.name for c in WEATHER_DAILY.columns if not c.nullable and c.name != "local_date")
    broken = daily(spark, {"2025-03-01": 10.0}).withColumn(required, F.lit(None).cast("string"))
    with pytest.raises(DataValidationError) as refused:
        publish_tables(spark, store, [(WEATHER_DAILY, broken)], None, partition_rows=[{(2025,): 1}])
    assert refused.value.field == required and "required column of weather_daily" in str(refused.value)
    assert temperatures(store) == days  # year=2025 was never published
