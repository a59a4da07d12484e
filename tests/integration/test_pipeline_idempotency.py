"""Backfill, transform and sync three times: same processed bytes, same warehouse rows, no duplicates."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from processed_fixtures import published_digests

from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.pipelines.ingest import ingest_ree
from datalake.pipelines.lake import sync_all, transform
from datalake.settings import Settings
from datalake.sources.ree import SAMPLE_RAW_PREFIX
from datalake.storage.local import LocalObjectStore

pytest_plugins = ["warehouse_fixtures"]

# Around the autumn change (a 25-hour day), across a month boundary (two demand partitions).
START, END = dt.date(2024, 10, 26), dt.date(2024, 11, 1)
#: The datasets the REData pipeline fills (the energy company's have their own test).
REE_DATASETS = (DEMAND_HOURLY, GENERATION)


def snapshot(settings: Settings) -> tuple[dict[str, list[str]], dict[str, list[tuple]]]:
    """(sha256 of every current processed file per partition, every warehouse row with its row
    version, per table)."""
    store = LocalObjectStore(settings.lake_root)
    files = published_digests(store)
    rows = {}
    with psycopg.connect(settings.database_url or "") as conn:
        for spec in REE_DATASETS:
            key = ", ".join(spec.primary_key)
            # xmin changes whenever a row is rewritten, even with the same values.
            rows[spec.name] = conn.execute(
                f"SELECT *, xmin::text FROM {spec.warehouse_table} ORDER BY {key}"
            ).fetchall()
            duplicates = conn.execute(
                f"SELECT count(*) FROM (SELECT {key} FROM {spec.warehouse_table} "
                f"GROUP BY {key} HAVING count(*) > 1) AS d"
            ).fetchone()
            assert duplicates == (0,), f"{spec.name} has duplicate keys"
    return files, rows


@pytest.mark.slow
def test_three_runs_change_nothing_after_the_first(pg_settings: Settings) -> None:
    with psycopg.connect(pg_settings.database_url or "", autocommit=True) as conn:
        for spec in REE_DATASETS:
            conn.execute(f"DROP TABLE IF EXISTS {spec.warehouse_table}")
    runs = []
    # The second run is incremental (nothing changed: nothing read), the third reprocesses all.
    for full in (False, False, True):
        ingest = ingest_ree(START, END, sample=True, settings=pg_settings)
        job = transform("ree", SAMPLE_RAW_PREFIX, pg_settings, full=full)
        syncs = {r.job: r for r in sync_all(pg_settings)}
        runs.append((ingest, job, syncs, snapshot(pg_settings)))

    (first_ingest, first_transform, first_syncs, first_state), *later = runs
    days = (END - START).days + 1
    assert first_ingest.details["written"] == days * 2 * 2  # datasets x regions
    assert first_transform.balanced and first_transform.rows_quarantined == 0
    assert sum(r.details["inserted"] for r in first_syncs.values()) == first_transform.rows_out
    files, rows = first_state
    assert len(files) == 3  # demand 2024-10, 2024-11; generation 2024
    demand = rows["demand_hourly"]
    assert len(demand) == days * 24 * 2 + 2  # the autumn day's extra hour, in both regions
    (_, incremental, _, _), (_, full, _, _) = later
    assert (incremental.details["mode"], incremental.rows_in, incremental.rows_out) == ("incremental", 0, 0)
    assert (full.details["mode"], full.rows_in, full.rows_out) == (
        "full",
        first_transform.rows_in,
        first_transform.rows_out,
    )
    for ingest, _job, syncs, state in later:
        assert (ingest.details["written"], ingest.details["skipped"]) == (0, days * 4)
        assert state == first_state  # same bytes, same rows, and not one row rewritten
        assert all(r.details["partitions_synced"] == 0 for r in syncs.values())
