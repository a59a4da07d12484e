"""The warehouse mirrors the lake (issue 16): a partition's sync replaces exactly its rows, atomically."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import psycopg
import pytest
from processed_fixtures import demand_hours, publish_frames

from datalake.datasets import DEMAND_HOURLY
from datalake.datasets.energy_company import PROVEEDORES
from datalake.errors import DataValidationError
from datalake.pipelines.lake import sync_dataset
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

pytest_plugins = ["warehouse_fixtures"]

MARCH = "year=2024/month=3"
APRIL = "year=2024/month=4"


def publish(lake: LocalObjectStore, partition: str, rows: pd.DataFrame) -> None:
    """A job's run that rewrites one partition of demand_hourly (the catalog then points at it)."""
    publish_frames(lake, DEMAND_HOURLY, {partition: rows})


@pytest.fixture
def lake(warehouse_lake: Callable[..., LocalObjectStore]) -> LocalObjectStore:
    """A local lake on the session's PostgreSQL, with no warehouse tables of the datasets used here."""
    return warehouse_lake("demand_hourly", "energy_proveedores")


def stored(settings: Settings) -> dict[dt.datetime, tuple[float, str]]:
    """ts_utc -> (demand_mw, xmin): xmin changes only when a row is rewritten."""
    with psycopg.connect(settings.database_url or "") as conn:
        rows = conn.execute("SELECT ts_utc, demand_mw, xmin::text FROM demand_hourly").fetchall()
    return {ts: (demand, xmin) for ts, demand, xmin in rows}


def test_partition_sync_deletes_updates_and_inserts_and_leaves_unchanged_rows_unwritten(
    lake: LocalObjectStore, pg_settings: Settings
) -> None:
    # March: 24 hours of the 10th. April's file starts at 2024-03-31T22:00Z, which is already
    # April 1st in Madrid: a UTC-month scope would wrongly delete it with March.
    publish(lake, MARCH, demand_hours("2024-03-10T00:00Z", 24))
    publish(lake, APRIL, demand_hours("2024-03-31T22:00Z", 6, 30_000.0))
    first = sync_dataset("demand_hourly")
    assert (first.details["inserted"], first.details["deleted"]) == (30, 0)
    before = stored(pg_settings)

    march = demand_hours("2024-03-10T00:00Z", 24)
    march.loc[[3, 4], "demand_mw"] = 26_000.0  # updated
    march = march.drop(index=[10, 11, 12])  # newly quarantined: must leave the warehouse
    march = pd.concat([march, demand_hours("2024-03-11T00:00Z", 2)], ignore_index=True)  # inserted
    publish(lake, MARCH, march)
    second = sync_dataset("demand_hourly")

    counts = {k: second.details[k] for k in ("inserted", "updated", "deleted", "unchanged")}
    assert counts == {"inserted": 2, "updated": 2, "deleted": 3, "unchanged": 19}
    assert (second.details["partitions_synced"], second.details["partitions_skipped"]) == (1, 1)
    after = stored(pg_settings)
    assert set(after) == {t.to_pydatetime() for t in march["ts_utc"]} | {
        ts for ts in before if ts >= dt.datetime(2024, 3, 31, 22, tzinfo=dt.UTC)
    }
    changed = {ts for ts in before.keys() & after.keys() if before[ts] != after[ts]}
    assert sorted(changed) == sorted(t.to_pydatetime() for t in march.loc[[3, 4], "ts_utc"])
    # April (not in the sync, and Madrid-month April although UTC March) is untouched.
    april = {ts: v for ts, v in before.items() if ts >= dt.datetime(2024, 3, 31, 22, tzinfo=dt.UTC)}
    assert len(april) == 6 and all(after[ts] == v for ts, v in april.items())

    again = sync_dataset("demand_hourly")  # the ledger still skips unchanged partitions
    assert (again.details["partitions_synced"], again.details["partitions_skipped"]) == (0, 2)
    assert stored(pg_settings) == after


def analyzed(settings: Settings) -> tuple[dt.datetime | None, float]:
    """(the last manual ANALYZE of demand_hourly, the planner's row estimate)."""
    with psycopg.connect(settings.database_url or "") as conn:
        row = conn.execute(
            "SELECT s.last_analyze, c.reltuples FROM pg_stat_user_tables s"
            " JOIN pg_class c ON c.oid = s.relid WHERE s.relname = 'demand_hourly'"
        ).fetchone()
    assert row is not None
    return row[0], float(row[1])


def test_a_sync_that_changes_rows_refreshes_the_planners_statistics(
    lake: LocalObjectStore, pg_settings: Settings
) -> None:
    publish(lake, MARCH, demand_hours("2024-03-10T00:00Z", 48))
    sync_dataset("demand_hourly")
    when, rows = analyzed(pg_settings)
    assert when is not None and rows == 48  # not autovacuum's guess, nor "never analyzed" (-1)
    assert sync_dataset("demand_hourly").details["partitions_synced"] == 0
    assert analyzed(pg_settings)[0] == when  # nothing loaded: no ANALYZE


def test_a_partition_whose_rows_were_all_quarantined_is_emptied_in_the_warehouse(
    lake: LocalObjectStore, pg_settings: Settings
) -> None:
    publish(lake, MARCH, demand_hours("2024-03-10T00:00Z", 24))
    publish(lake, APRIL, demand_hours("2024-04-10T00:00Z", 24))
    sync_dataset("demand_hourly")
    publish(lake, MARCH, demand_hours("2024-03-10T00:00Z", 0))  # the job's empty partition

    report = sync_dataset("demand_hourly")

    assert (report.details["deleted"], report.details["inserted"]) == (24, 0)
    assert {ts.month for ts in stored(pg_settings)} == {4}


def test_a_partition_file_holding_another_partitions_rows_is_refused_and_nothing_changes(
    lake: LocalObjectStore, pg_settings: Settings
) -> None:
    publish(lake, MARCH, demand_hours("2024-03-10T00:00Z", 24))
    sync_dataset("demand_hourly")
    before = stored(pg_settings)
    # Its last hour is April 1st in Madrid: a replace scoped to March would never delete it later.
    publish(lake, MARCH, demand_hours("2024-03-31T20:00Z", 3))

    with pytest.raises(DataValidationError, match=r"local_date.*outside"):
        sync_dataset("demand_hourly")

    assert stored(pg_settings) == before


def test_readers_see_the_old_partition_until_the_sync_commits_then_the_new(
    lake: LocalObjectStore, pg_settings: Settings
) -> None:
    publish(lake, MARCH, demand_hours("2024-03-10T00:00Z", 48))
    sync_dataset("demand_hourly")
    old_state = (48, 48 * 25_000.0)
    # New March: 20 rows deleted, 10 inserted, 5 updated; no prefix of that work has the old
    # or the new count and sum, so a reader seeing a half-replaced partition would notice.
    march = demand_hours("2024-03-10T00:00Z", 48).iloc[20:].reset_index(drop=True)
    march.loc[:4, "demand_mw"] = 27_000.0
    march = pd.concat([march, demand_hours("2024-03-20T00:00Z", 10)], ignore_index=True)
    publish(lake, MARCH, march)
    new_state = (38, float(march["demand_mw"].sum()))
    url = pg_settings.database_url or ""
    with psycopg.connect(url, autocommit=True) as conn:
        # Holds the sync's transaction open after its last write (the delete), before its commit.
        conn.execute(
            "CREATE FUNCTION public.hold_sync() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_sleep(1.5); RETURN NULL; END $$"
        )
        conn.execute(
            "CREATE TRIGGER hold_sync AFTER DELETE ON public.demand_hourly "
            "FOR EACH STATEMENT EXECUTE FUNCTION public.hold_sync()"
        )
    seen: list[tuple[int, float]] = []
    seen_while_held: list[tuple[int, float]] = []
    done = threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            with psycopg.connect(url, autocommit=True) as reader:
                while not done.is_set():
                    held = reader.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
                    ).fetchone()
                    count, total = reader.execute(
                        "SELECT count(*), sum(demand_mw) FROM demand_hourly"
                    ).fetchone()
                    seen.append((count, float(total)))
                    if held and held[0]:
                        seen_while_held.append((count, float(total)))
                    time.sleep(0.01)
        except BaseException as error:  # surfaced in the test thread below
            errors.append(error)

    reader_thread = threading.Thread(target=read)
    reader_thread.start()
    try:
        report = sync_dataset("demand_hourly")
    finally:
        time.sleep(0.1)
        done.set()
        reader_thread.join(10)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TRIGGER hold_sync ON public.demand_hourly")
            conn.execute("DROP FUNCTION public.hold_sync()")
    assert not errors
    counts = (report.details["inserted"], report.details["updated"], report.details["deleted"])
    assert counts == (10, 5, 20)
    assert set(seen) <= {old_state, new_state}, f"a reader saw a half-replaced partition: {set(seen)}"
    assert seen_while_held and set(seen_while_held) == {old_state}  # writes done, not committed
    assert seen[-1] == new_state


def test_an_unpartitioned_energy_table_is_replaced_whole_in_one_sync(
    lake: LocalObjectStore, pg_settings: Settings
) -> None:
    suppliers = pd.DataFrame(
        {
            "nombre_proveedor": ["ALFA", "BETA", "GAMMA"],
            "tipo_energia": ["SOLAR", "EÓLICA", "NUCLEAR"],
            "fecha_registro": [dt.date(2023, 1, 2)] * 3,
            "fecha_carga": [dt.date(2024, 5, 1)] * 3,
        }
    )
    publish_frames(lake, PROVEEDORES, {"": suppliers})
    sync_dataset("energy_proveedores")
    url = pg_settings.database_url or ""
    with psycopg.connect(url) as conn:
        alfa_before = conn.execute(
            "SELECT xmin::text FROM energy_proveedores WHERE nombre_proveedor = 'ALFA'"
        ).fetchone()
    changed = pd.concat(
        [suppliers.drop(index=[2]), suppliers.iloc[[1]].assign(nombre_proveedor="DELTA")],
        ignore_index=True,
    )
    changed.loc[1, "tipo_energia"] = "SOLAR"
    publish_frames(lake, PROVEEDORES, {"": changed})

    report = sync_dataset("energy_proveedores")

    counts = {k: report.details[k] for k in ("inserted", "updated", "deleted", "unchanged")}
    assert counts == {"inserted": 1, "updated": 1, "deleted": 1, "unchanged": 1}
    with psycopg.connect(url) as conn:
        rows: list[Any] = conn.execute(
            "SELECT nombre_proveedor, tipo_energia FROM energy_proveedores ORDER BY 1"
        ).fetchall()
        alfa_after = conn.execute(
            "SELECT xmin::text FROM energy_proveedores WHERE nombre_proveedor = 'ALFA'"
        ).fetchone()
    assert rows == [("ALFA", "SOLAR"), ("BETA", "SOLAR"), ("DELTA", "EÓLICA")]
    assert alfa_after == alfa_before
