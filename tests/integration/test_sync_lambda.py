"""The sync_warehouse Lambda, fed the real S3 event shape, against the embedded PostgreSQL."""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest

from datalake.datasets import DEMAND_HOURLY
from datalake.settings import Settings, get_settings
from datalake.storage.local import LocalObjectStore

pytest_plugins = ["warehouse_fixtures"]


def demand_rows(month: int, demand_mw: float) -> pd.DataFrame:
    hours = pd.date_range(f"2024-{month:02d}-05T00:00Z", periods=24, freq="h")
    return pd.DataFrame(
        {
            "ts_utc": hours,
            "local_date": hours.tz_convert("Europe/Madrid").date,
            "region": "national",
            "demand_mw": demand_mw,
            "source": "sample",
            "tso_forecast_mw": None,
            "extracted_at": pd.Timestamp("2024-04-02T06:00Z"),
        }
    ).astype({"tso_forecast_mw": "float64"})


@pytest.fixture
def lake(pg_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> LocalObjectStore:
    monkeypatch.setenv("LAKE_ROOT", str(pg_settings.lake_root))
    monkeypatch.setenv("DATABASE_URL", pg_settings.database_url or "")
    get_settings.cache_clear()
    with psycopg.connect(pg_settings.database_url or "", autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS public.demand_hourly")
    store = LocalObjectStore(pg_settings.lake_root)
    for month, demand_mw in ((3, 25_000.0), (4, 26_000.0)):
        table = pd.DataFrame(demand_rows(month, demand_mw))
        store.write_parquet(f"processed/demand_hourly/year=2024/month={month}/part-00000.parquet", table)
    return store


def warehouse_rows(settings: Settings) -> list[tuple]:
    with psycopg.connect(settings.database_url or "") as conn:
        return conn.execute(
            "SELECT ts_utc, demand_mw, xmin::text FROM demand_hourly ORDER BY ts_utc"
        ).fetchall()


def test_event_syncs_only_the_touched_partition_and_reruns_change_nothing(
    lake, pg_settings, load_lambda, event_json
) -> None:
    handler = load_lambda("sync_warehouse")
    event = event_json("s3_processed_object_created.json")

    first = handler.lambda_handler(event, None)
    assert first["keys"] == 2
    [run] = first["runs"]  # the quarantine object is not a dataset partition
    assert (run["job"], run["inserted"], run["partitions_synced"]) == ("sync_demand_hourly", 24, 1)
    rows = warehouse_rows(pg_settings)
    assert len(rows) == 24 and {r[1] for r in rows} == {25_000.0}  # only month=3 was in the event

    second = handler.lambda_handler(event, None)
    assert second["runs"][0]["partitions_skipped"] == 1
    assert warehouse_rows(pg_settings) == rows  # same rows, same xmin: nothing rewritten


def test_cli_sync_loads_whatever_is_not_yet_synced(lake, pg_settings) -> None:
    from datalake.pipelines.lake import sync_dataset

    first = sync_dataset("demand_hourly")
    assert (first.details["inserted"], first.details["partitions_synced"]) == (48, 2)
    assert first.balanced
    unchanged = sync_dataset("demand_hourly")
    assert (unchanged.details["partitions_synced"], unchanged.details["partitions_skipped"]) == (0, 2)

    lake.write_parquet(
        "processed/demand_hourly/year=2024/month=4/part-00000.parquet", demand_rows(4, 26_500.0)
    )
    changed = sync_dataset("demand_hourly")
    assert (changed.details["updated"], changed.details["partitions_synced"]) == (24, 1)
    assert len(warehouse_rows(pg_settings)) == 48
    assert DEMAND_HOURLY.warehouse_table == "demand_hourly"
