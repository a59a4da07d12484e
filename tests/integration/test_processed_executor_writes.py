"""The executors write processed tables: nothing is collected, files are sorted and sized.

The session's driver may receive at most 1 MiB of task results (``spark.driver.maxResultSize``),
far less than the table, so collecting it (``toPandas``, as the jobs once did) fails, while
``write_processed`` succeeds: only counts and keys reach the driver.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import pyarrow.parquet as pq
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from spark_fixtures import local_spark

from datalake.catalog.local import LocalCatalog
from datalake.catalog.processed import current_partitions, data_files
from datalake.datasets import DEMAND_HOURLY
from datalake.errors import DataValidationError
from datalake.jobs import read_processed, write_processed
from datalake.query.duckdb_engine import DuckDBEngine
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

pytestmark = pytest.mark.slow

ROWS = 240_000
ROWS_PER_FILE = 40_000
#: The table's order within each file: partition, time, then the rest of the key.
ORDER = ["ts_utc", "region", "source"]


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    # A session left by an earlier test would be reused with its own conf: stop it first.
    active = SparkSession.getActiveSession() or SparkSession._instantiatedSession
    if active is not None:
        active.stop()
    builder = SparkSession.builder.config("spark.driver.maxResultSize", "1m")
    session = local_spark("tests-executor-writes", "local[2]", builder=builder)
    assert session.sparkContext.getConf().get("spark.driver.maxResultSize") == "1m"
    yield session
    session.stop()


def demand_rows(spark: SparkSession) -> DataFrame:
    """ROWS rows over January and part of February, in random order; four per timestamp."""
    ts = F.timestamp_seconds(F.lit(1_704_067_200) + (F.col("id") / 4).cast("long") * 60)
    local_date = F.to_date(F.from_utc_timestamp(ts, "Europe/Madrid"))
    return (
        spark.range(ROWS)
        .select(
            ts.alias("ts_utc"),
            local_date.alias("local_date"),
            F.when(F.col("id") % 2 == 0, "national").otherwise("peninsular").alias("region"),
            (F.col("id") % 40_000 + 0.5).alias("demand_mw"),
            F.when((F.col("id") / 2).cast("long") % 2 == 0, "ree").otherwise("entsoe").alias("source"),
            F.lit(None).cast("double").alias("tso_forecast_mw"),
            F.current_timestamp().alias("extracted_at"),
            F.year(local_date).alias("year"),
            F.month(local_date).alias("month"),
        )
        .orderBy(F.rand(7))
    )


@pytest.fixture(scope="module")
def written(
    spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
) -> tuple[LocalObjectStore, Settings]:
    root = tmp_path_factory.mktemp("executor-writes") / "lake"
    store = LocalObjectStore(root)
    settings = Settings(_env_file=None, lake_root=root, processed_rows_per_file=ROWS_PER_FILE)
    frame = demand_rows(spark)
    with pytest.raises(Exception, match="maxResultSize"):
        frame.toPandas()  # what the jobs did: the driver would hold the table
    keys = write_processed(frame, DEMAND_HOURLY, store, settings=settings)
    assert keys and all("/_runs/" in key for key in keys)
    return store, settings


def test_a_table_larger_than_the_drivers_result_limit_is_written_by_the_executors(written) -> None:
    store, settings = written
    engine = DuckDBEngine(LocalCatalog(store), settings.processed_database)
    counts = engine.query("SELECT month, count(*) AS n FROM demand_hourly GROUP BY 1 ORDER BY 1")
    assert counts["n"].sum() == ROWS and list(counts["month"]) == [1, 2]


def test_files_are_sorted_by_time_and_key_and_sized_per_the_setting(written) -> None:
    store, settings = written
    partitions = current_partitions(LocalCatalog(store), store, DEMAND_HOURLY, settings)
    assert [p.path for p in partitions] == ["year=2024/month=1", "year=2024/month=2"]
    total_files = 0
    for partition in partitions:
        tables = [pq.read_table(store.path(key)) for key in data_files(store, partition)]
        rows = sum(t.num_rows for t in tables)
        # Each file a contiguous range of about ROWS_PER_FILE rows (ranges come from a sample:
        # twice that at most), so a partition has about rows / ROWS_PER_FILE files.
        assert len(tables) <= math.ceil(rows / ROWS_PER_FILE) + 2
        assert all(0 < t.num_rows <= 2 * ROWS_PER_FILE for t in tables)
        ranges = []
        for table in tables:
            keys = list(zip(*(table.column(c).to_pylist() for c in ORDER), strict=True))
            assert keys == sorted(keys), "a file is not sorted by time and key"
            ranges.append((keys[0], keys[-1]))
        ranges.sort()
        assert all(a[1] < b[0] for a, b in itertools.pairwise(ranges)), "two files' ranges overlap"
        total_files += len(tables)
    # One range per ROWS_PER_FILE rows, cut once more where a range spans two partitions.
    assert total_files <= math.ceil(ROWS / ROWS_PER_FILE) + len(partitions) - 1


def test_written_files_keep_the_types_the_spec_declares(written) -> None:
    store, settings = written
    [partition, *_] = current_partitions(LocalCatalog(store), store, DEMAND_HOURLY, settings)
    schema = pq.read_schema(store.path(data_files(store, partition)[0]))
    expected = DEMAND_HOURLY.arrow_schema()
    # timestamp[us, UTC], date32..., and the required columns declared required.
    assert schema.remove_metadata() == expected


def test_a_null_in_a_required_column_fails_the_write_before_any_file(spark, tmp_path) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    settings = Settings(_env_file=None, lake_root=tmp_path / "lake")
    frame = demand_rows(spark).limit(10).withColumn("region", F.lit(None).cast("string"))
    with pytest.raises(DataValidationError, match=r"region: 10 null value\(s\)"):
        write_processed(frame, DEMAND_HOURLY, store, settings=settings)
    assert store.list_keys("processed", include_hidden=True) == []


def test_read_processed_reads_the_published_rows_with_their_partition_columns(spark, written) -> None:
    store, settings = written
    frame = read_processed(spark, DEMAND_HOURLY, store, settings=settings)
    assert frame is not None
    counts = {(r["year"], r["month"]): r["count"] for r in frame.groupBy("year", "month").count().collect()}
    assert counts[(2024, 1)] + counts[(2024, 2)] == ROWS and set(counts) == {(2024, 1), (2024, 2)}
    assert dict(frame.dtypes)["month"] == "int" and dict(frame.dtypes)["ts_utc"] == "timestamp"


def test_files_hold_whole_days_cut_from_the_day_counts(written) -> None:
    # The rows were counted per partition and day before the write, so the files' ranges are cut
    # on the driver at day boundaries (a sample of the rows would cut them anywhere in a day).
    store, settings = written
    days_in: dict[object, set[str]] = {}
    for partition in current_partitions(LocalCatalog(store), store, DEMAND_HOURLY, settings):
        for key in data_files(store, partition):
            for ts in pq.read_table(store.path(key), columns=["ts_utc"]).column("ts_utc").to_pylist():
                days_in.setdefault((partition.path, ts.date()), set()).add(key)
    assert len(days_in) > 40
    assert all(len(files) == 1 for files in days_in.values()), "a day is split between files"


def test_a_day_holding_more_rows_than_a_file_is_cut_from_a_sample(spark, tmp_path) -> None:
    root = tmp_path / "lake"
    store = LocalObjectStore(root)
    settings = Settings(_env_file=None, lake_root=root, processed_rows_per_file=5_000)
    one_day = (
        demand_rows(spark)
        .limit(20_000)
        .withColumn(
            "ts_utc", F.timestamp_seconds(F.lit(1_704_067_200) + F.monotonically_increasing_id() % 80_000)
        )
    )
    one_day = one_day.withColumns({"local_date": F.lit("2024-01-01").cast("date"), "year": F.lit(2024)})
    one_day = one_day.withColumn("month", F.lit(1)).dropDuplicates(["ts_utc", "region", "source"])
    rows = one_day.count()
    write_processed(one_day, DEMAND_HOURLY, store, settings=settings)
    [partition] = current_partitions(LocalCatalog(store), store, DEMAND_HOURLY, settings)
    tables = [pq.read_table(store.path(key)) for key in data_files(store, partition)]
    assert sum(t.num_rows for t in tables) == rows
    assert len(tables) > 1 and all(t.num_rows <= 2 * 5_000 for t in tables)
    ranges = sorted(
        (min(t.column("ts_utc").to_pylist()), max(t.column("ts_utc").to_pylist())) for t in tables
    )
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ranges)), "two files' ranges overlap"
