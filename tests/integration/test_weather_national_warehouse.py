"""``weather_national_hourly`` in the warehouse (issue 23): its key holds ``issued_at``, empty on
observed hours, so the table's key is UNIQUE NULLS NOT DISTINCT (a spec's nullable key column), and
a real sync on the embedded PostgreSQL lands the observed hour and every forecast issue of it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pandas as pd
import psycopg
import pytest
from processed_fixtures import publish_frames

from datalake.datasets.weather import WEATHER_NATIONAL_HOURLY
from datalake.errors import SchemaConflictError
from datalake.pipelines.lake import sync_dataset
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore
from datalake.warehouse.ddl import create_table_sql, ensure_table
from datalake.warehouse.sync import upsert_frame

pytest_plugins = ["warehouse_fixtures"]

OCTOBER = "year=2025/month=10"
NOVEMBER = "year=2025/month=11"
ISSUE_1 = pd.Timestamp("2025-10-24T10:00Z")
ISSUE_2 = pd.Timestamp("2025-10-25T10:00Z")


def national_rows(
    start: str, hours: int, kind: str, issued_at: pd.Timestamp | None, temp: float
) -> pd.DataFrame:
    """``hours`` national rows of one kind (and issue) from ``start``, at temperature ``temp`` °C."""
    ts = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    return pd.DataFrame(
        {
            "ts_utc": ts,
            "kind": kind,
            "issued_at": pd.Series([issued_at] * hours, dtype="datetime64[ns, UTC]"),
            "temperature_c": temp + pd.Series(range(hours), dtype="float64") / 10,
            "apparent_temperature_c": temp - 1.0,
            "relative_humidity_pct": 60.0,
            "wind_speed_kmh": 10.0,
            "cloud_cover_pct": 20.0,
            "shortwave_radiation_wm2": 0.0,
            "locations_reporting": 5,
        }
    )


def october() -> pd.DataFrame:
    """Hours 12:00-17:00 of 25 October observed, and forecast by two issues (the same hours)."""
    return pd.concat(
        [
            national_rows("2025-10-25T12:00Z", 6, "observed", None, 15.0),
            national_rows("2025-10-25T12:00Z", 6, "forecast", ISSUE_1, 14.0),
            national_rows("2025-10-25T12:00Z", 6, "forecast", ISSUE_2, 14.5),
        ],
        ignore_index=True,
    )


@pytest.fixture
def lake(warehouse_lake: Callable[..., LocalObjectStore]) -> LocalObjectStore:
    """A local lake on the session's PostgreSQL, with no weather_national_hourly table yet."""
    return warehouse_lake("weather_national_hourly")


def stored(settings: Settings) -> dict[tuple[Any, ...], tuple[float, str]]:
    """(ts_utc, kind, issued_at) -> (temperature_c, xmin): xmin changes only when a row is rewritten."""
    with psycopg.connect(settings.database_url or "") as conn:
        rows = conn.execute(
            "SELECT ts_utc, kind, issued_at, temperature_c, xmin::text FROM weather_national_hourly"
        ).fetchall()
    return {(ts, kind, issued): (temp, xmin) for ts, kind, issued, temp, xmin in rows}


def test_ddl_declares_a_nulls_not_distinct_key_for_a_nullable_key_column() -> None:
    ddl = create_table_sql(WEATHER_NATIONAL_HOURLY).as_string()
    assert WEATHER_NATIONAL_HOURLY.nullable_key_columns == ("issued_at",)
    assert (
        'CONSTRAINT "weather_national_hourly_key" UNIQUE NULLS NOT DISTINCT ("ts_utc", "kind", "issued_at")'
        in ddl
    )
    assert "PRIMARY KEY" not in ddl and '"issued_at" timestamptz,' in ddl  # nullable


def test_observed_and_two_issues_of_the_same_hours_land_and_a_resync_changes_nothing(
    lake: LocalObjectStore, pg_settings: Settings
) -> None:
    publish_frames(lake, WEATHER_NATIONAL_HOURLY, {OCTOBER: october()})
    first = sync_dataset("weather_national_hourly")
    assert (first.details["inserted"], first.details["deleted"]) == (18, 0)
    rows = stored(pg_settings)
    assert len(rows) == 18
    by_kind = pd.Series([(k[1], k[2]) for k in rows]).value_counts()
    assert by_kind[("observed", None)] == 6
    assert by_kind[("forecast", ISSUE_1.to_pydatetime())] == 6
    assert by_kind[("forecast", ISSUE_2.to_pydatetime())] == 6

    # The same partition forced through again: every row compared, none rewritten or deleted (with
    # "=" on issued_at the observed rows would not match their staged copies and be deleted).
    again = sync_dataset("weather_national_hourly", force=True)
    counts = {k: again.details[k] for k in ("inserted", "updated", "deleted", "unchanged")}
    assert counts == {"inserted": 0, "updated": 0, "deleted": 0, "unchanged": 18}
    assert stored(pg_settings) == rows


def test_a_rewritten_partition_replaces_its_rows_and_leaves_the_others(
    lake: LocalObjectStore, pg_settings: Settings
) -> None:
    november = national_rows("2025-11-01T00:00Z", 3, "observed", None, 9.0)
    publish_frames(lake, WEATHER_NATIONAL_HOURLY, {OCTOBER: october(), NOVEMBER: november})
    sync_dataset("weather_national_hourly")
    before = stored(pg_settings)

    rewritten = october()
    hour = pd.Timestamp("2025-10-25T13:00Z")
    observed_hour = (rewritten["kind"] == "observed") & (rewritten["ts_utc"] == hour)
    rewritten.loc[observed_hour, "temperature_c"] = 30.0  # the observation corrected: updated
    rewritten = rewritten[
        ~((rewritten["kind"] == "observed") & (rewritten["ts_utc"] > hour + pd.Timedelta("3h")))
    ]
    rewritten = rewritten[rewritten["issued_at"] != ISSUE_1]  # the first issue withdrawn: deleted
    publish_frames(lake, WEATHER_NATIONAL_HOURLY, {OCTOBER: rewritten})
    second = sync_dataset("weather_national_hourly")

    counts = {k: second.details[k] for k in ("inserted", "updated", "deleted", "unchanged")}
    assert counts == {"inserted": 0, "updated": 1, "deleted": 6 + 1, "unchanged": 10}
    after = stored(pg_settings)
    assert len(after) == 11 + 3
    assert after[(hour.to_pydatetime(), "observed", None)][0] == 30.0
    assert not [k for k in after if k[2] == ISSUE_1.to_pydatetime()]
    # November's observed hours (another partition) were not touched.
    november_keys = [k for k in before if k[0] >= pd.Timestamp("2025-11-01T00:00Z").to_pydatetime()]
    assert len(november_keys) == 3 and all(after[k] == before[k] for k in november_keys)


def test_a_second_observed_row_of_an_hour_is_one_key(
    pg_conn: psycopg.Connection[Any], pg_schema: str
) -> None:
    # Two loads of the same observed hour (issued_at empty in both) update one row, never add a second.
    spec = dataclasses.replace(WEATHER_NATIONAL_HOURLY, warehouse_table="national_key_check")
    upsert_frame(
        pg_conn, spec, national_rows("2025-10-25T12:00Z", 1, "observed", None, 15.0), schema=pg_schema
    )
    result = upsert_frame(
        pg_conn, spec, national_rows("2025-10-25T12:00Z", 1, "observed", None, 16.0), schema=pg_schema
    )
    assert (result.inserted, result.updated) == (0, 1)
    count = pg_conn.execute(f'SELECT count(*) FROM "{pg_schema}".national_key_check').fetchone()[0]
    assert count == 1
    # The database itself refuses a second empty-issue row of the hour (not only the upsert's merge).
    with pytest.raises(psycopg.errors.UniqueViolation):
        pg_conn.execute(
            f'INSERT INTO "{pg_schema}".national_key_check (ts_utc, kind, issued_at, locations_reporting)'
            " VALUES ('2025-10-25T12:00Z', 'observed', NULL, 5)"
        )


def test_a_table_keyed_by_a_primary_key_is_a_schema_conflict(
    pg_conn: psycopg.Connection[Any], pg_schema: str
) -> None:
    # A table created before with a primary key (no NULLs possible) is not silently reused.
    spec = dataclasses.replace(WEATHER_NATIONAL_HOURLY, warehouse_table="national_pk_check")
    pg_conn.execute(
        f'CREATE TABLE "{pg_schema}".national_pk_check (ts_utc timestamptz, kind text, issued_at timestamptz,'
        " PRIMARY KEY (ts_utc, kind, issued_at))"
    )
    with pytest.raises(SchemaConflictError, match=r"key is \(none\) in the warehouse"):
        ensure_table(pg_conn, spec, pg_schema)
