"""Sources sharing processed tables on local[1]: a run of one never deletes another's rows.

REE (SAMPLE documents, raw/ree_sample, ``source`` = 'sample') and ENTSO-E (Kaggle-format day
files, raw/entsoe, ``source`` = 'entsoe') both write ``demand_hourly`` (partitioned by the Madrid
month) and ``generation`` (by year), for the same Madrid days around the October DST change. Full
and incremental runs of either leave the other's rows as they were; the tables equal, row for
row, fresh lakes after full runs of both sources in either order; the warehouse mirrors them.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from pyspark.sql import SparkSession
from spark_fixtures import local_spark
from test_incremental_runs import assert_same_tables, backfill, tables

from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.pipelines.lake import sync_processed_keys
from datalake.pipelines.source_jobs import process_source
from datalake.publishing import is_publish_marker
from datalake.runs import RunReport, record_run
from datalake.settings import Settings, get_settings
from datalake.sources import entsoe, ree
from datalake.sources.registry import SourceSpec, get_source
from datalake.storage.local import LocalObjectStore
from datalake.storage.paths import date_partition_key

pytestmark = pytest.mark.slow
pytest_plugins = ["warehouse_fixtures"]

REE, ENTSOE = get_source("ree"), get_source("entsoe")
ENTSOE_RAW = ENTSOE.raw_prefix
SHARED = (DEMAND_HOURLY, GENERATION)
#: A few of the Kaggle file's columns: demand, its forecast and three technologies.
KAGGLE_HEADER = (
    "time,generation nuclear,generation solar,generation wind onshore,total load forecast,total load actual"
)


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = local_spark("tests-shared-tables", "local[1]")
    yield session
    session.stop()


def kaggle_export(folder: Path, days: list[dt.date], demand_bump_mw: float = 0.0) -> Path:
    """A Kaggle-format export of every Madrid hour of ``days`` (23, 24 or 25 of them), with offsets."""
    lines = [KAGGLE_HEADER]
    for day in days:
        start = pd.Timestamp(day, tz=entsoe.MADRID)
        end = pd.Timestamp(day + dt.timedelta(days=1), tz=entsoe.MADRID)
        for i, hour in enumerate(pd.date_range(start, end, freq="h", inclusive="left")):
            demand = 25_000.0 + 300 * i + demand_bump_mw
            lines.append(f"{hour},{7000 + i}.0,{100 * i}.0,{4000 + 50 * i}.0,{demand + 250}.0,{demand}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"energy_dataset_{days[0]}_{len(days)}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def land_entsoe(store: LocalObjectStore, folder: Path, days: list[dt.date], **kwargs) -> None:
    summary = entsoe.ingest_files(store, [kaggle_export(folder, days, **kwargs)])
    assert len(summary.keys_written) == len(days)


def entsoe_day_key(day: dt.date) -> str:
    return date_partition_key(
        entsoe.RAW_PREFIX[entsoe.KAGGLE], day, f"{entsoe.FILE_STEM[entsoe.KAGGLE]}-{day}.csv"
    )


def run(spark: SparkSession, store: LocalObjectStore, source: SourceSpec, *, full: bool = False) -> RunReport:
    prefix = ree.SAMPLE_RAW_PREFIX if source is REE else ENTSOE_RAW
    with record_run(source.run_name, store) as report:
        process_source(source, spark, store, prefix, report, full=full)
    assert report.balanced
    return report


def markers(store: LocalObjectStore) -> list[str]:
    """Every publish marker (processed/_published/...), as the S3 events of the publishes name them."""
    return [k for k in store.list_keys("processed", include_hidden=True) if is_publish_marker(k)]


def rows_of(store: LocalObjectStore, source: str) -> dict[str, pd.DataFrame]:
    """Each shared table's rows of one ``source`` value, sorted by primary key."""
    out = {}
    for spec in SHARED:
        rows = tables(store, (spec,))[spec.name][1]
        out[spec.name] = rows[rows["source"] == source].reset_index(drop=True)
    return out


def assert_rows_unchanged(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> None:
    for name, rows in before.items():
        assert len(rows) > 0
        pd.testing.assert_frame_equal(after[name], rows, check_exact=True, obj=name)


def fresh_lake(store: LocalObjectStore, root: Path, spark: SparkSession, order: tuple[SourceSpec, ...]):
    """A new lake with the same raw files (modification times kept), each source run in full in ``order``."""
    for prefix in (ree.SAMPLE_RAW_PREFIX, ENTSOE_RAW):
        shutil.copytree(store.path(prefix), root / prefix, copy_function=shutil.copy2)
    fresh = LocalObjectStore(root)
    for source in order:
        assert run(spark, fresh, source).details["mode"] == "full"
    return fresh


def warehouse_rows(settings: Settings, spec) -> pd.DataFrame:
    """The warehouse table's rows, typed as the processed files' are, sorted by primary key."""
    columns = ", ".join(spec.column_names)
    with psycopg.connect(settings.database_url or "") as conn:
        cursor = conn.execute(f"SELECT {columns} FROM {spec.warehouse_table}")  # names from the spec
        rows = pd.DataFrame(cursor.fetchall(), columns=spec.column_names)
    return rows.sort_values(list(spec.primary_key)).reset_index(drop=True)


def assert_warehouse_mirrors(settings: Settings, store: LocalObjectStore) -> None:
    for spec in SHARED:
        lake = tables(store, (spec,))[spec.name][1]
        served = warehouse_rows(settings, spec)
        assert set(served["source"]) == set(lake["source"]) == {"entsoe", "sample"}
        for column in ("ts_utc", "extracted_at"):
            served[column] = pd.to_datetime(served[column], utc=True).astype(lake[column].dtype)
        for column in lake.columns[lake.dtypes == "float64"]:
            served[column] = served[column].astype("float64")
        pd.testing.assert_frame_equal(served, lake, check_exact=True, obj=spec.name)


@pytest.fixture
def lake_settings(pg_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The session's PostgreSQL with none of the shared tables, and a lake of the test's own."""
    monkeypatch.setenv("LAKE_ROOT", str(pg_settings.lake_root))
    monkeypatch.setenv("DATABASE_URL", pg_settings.database_url or "")
    get_settings.cache_clear()
    with psycopg.connect(pg_settings.database_url or "", autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS public.demand_hourly, public.generation")
    yield pg_settings
    get_settings.cache_clear()


def test_runs_of_one_source_keep_the_other_sources_rows_and_equal_full_runs_in_either_order(
    spark, tmp_path, lake_settings: Settings
) -> None:
    pg_settings = lake_settings
    store = LocalObjectStore(pg_settings.lake_root)
    october = [dt.date(2024, 10, d) for d in (26, 27, 28)]  # 10-27: the 25-hour day
    land_entsoe(store, tmp_path / "exports", october)
    backfill(store, october[0], october[-1])

    assert run(spark, store, ENTSOE).details["mode"] == "full"
    ours = rows_of(store, "entsoe")
    assert len(ours["demand_hourly"]) == 24 + 25 + 24 and len(ours["generation"]) == 3 * 73
    sync_processed_keys(markers(store), pg_settings)

    # REE's first run is a full one over a lake that already holds ENTSO-E's rows of the same days.
    first = run(spark, store, REE)
    assert first.details["mode"] == "full"
    assert first.details["demand_hourly_rows_of_other_owners_kept"] == len(ours["demand_hourly"])
    assert first.details["generation_rows_of_other_owners_kept"] == len(ours["generation"])
    assert_rows_unchanged(ours, rows_of(store, "entsoe"))
    assert len(rows_of(store, "sample")["demand_hourly"]) == 2 * (24 + 25 + 24)  # both regions
    sync_processed_keys(markers(store), pg_settings)
    assert_warehouse_mirrors(pg_settings, store)

    # An incremental REE run after a revision of the DST day and a new day.
    revised = ree.raw_key("demand", october[1], "national", prefix=ree.SAMPLE_RAW_PREFIX)
    doc = store.get_json(revised)
    doc["included"][0]["attributes"]["values"][3]["value"] += 111.0
    store.put_json(revised, doc)
    backfill(store, dt.date(2024, 10, 30), dt.date(2024, 10, 30))
    again = run(spark, store, REE)
    assert again.details["mode"] == "incremental" and again.details["raw_partitions_changed_count"] == 3
    assert_rows_unchanged(ours, rows_of(store, "entsoe"))
    sync_processed_keys(markers(store), pg_settings)
    assert_warehouse_mirrors(pg_settings, store)

    entsoe_first = fresh_lake(store, tmp_path / "entsoe_first", spark, (ENTSOE, REE))
    ree_first = fresh_lake(store, tmp_path / "ree_first", spark, (REE, ENTSOE))
    assert_same_tables(store, entsoe_first, SHARED)
    assert_same_tables(store, ree_first, SHARED)

    # ENTSO-E changes: 10-28 revised (demand up 500 MW), 10-29 new, 10-26 gone, and a row of
    # 10-27 that claims to be REE's (a run owns only its own `source` values: it is quarantined).
    land_entsoe(store, tmp_path / "revised", [october[2], dt.date(2024, 10, 29)], demand_bump_mw=500.0)
    store.delete([entsoe_day_key(october[0])])
    stray = entsoe_day_key(october[1])
    store.put_bytes(stray, store.get_bytes(stray).replace(b",national,entsoe,", b",national,ree,", 1))
    report = run(spark, store, ENTSOE)
    details = report.details
    assert details["mode"] == "incremental" and details["raw_partitions_deleted_count"] == 1
    assert details["demand_hourly_rows_of_other_owners_kept"] == len(
        rows_of(store, "sample")["demand_hourly"]
    )
    owned = "source ree is not what raw/entsoe holds (entsoe)"
    assert details["quarantine_reasons"][f"demand_hourly: {owned}"] == 1
    assert details["quarantine_reasons"][f"generation: {owned}"] == 3
    demand = rows_of(store, "entsoe")["demand_hourly"]
    assert october[0] not in set(demand["local_date"]) and dt.date(2024, 10, 29) in set(demand["local_date"])
    assert len(demand[demand["local_date"] == october[1]]) == 25 - 1  # the stray row went to quarantine
    assert (demand[demand["local_date"] == october[2]]["demand_mw"] >= 25_500.0).all()
    sample = rows_of(store, "sample")["demand_hourly"]
    assert len(sample[sample["local_date"] == october[0]]) == 2 * 24  # REE keeps the day ENTSO-E lost

    after_entsoe_change = fresh_lake(store, tmp_path / "after_entsoe_change", spark, (REE, ENTSOE))
    assert_same_tables(store, after_entsoe_change, SHARED)
    sync_processed_keys(markers(store), pg_settings)
    assert_warehouse_mirrors(pg_settings, store)

    # Idempotent: nothing changed, nothing is read or written.
    idle = run(spark, store, ENTSOE)
    assert idle.rows_in == 0 and idle.keys_written == []
    assert run(spark, store, ENTSOE, full=True).details["mode"] == "full"
    assert_same_tables(store, after_entsoe_change, SHARED)
