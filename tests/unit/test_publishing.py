"""Publishing a run on the local lake: the catalog switch, the marker, retention, and what DuckDB reads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from processed_fixtures import demand_hours, publish_frames

from datalake.catalog.local import LocalCatalog
from datalake.catalog.processed import current_partitions, run_id_of
from datalake.datasets import DEMAND_HOURLY
from datalake.errors import QueryError
from datalake.publishing import (
    UNREFERENCED_MARKER,
    prune_runs,
    published_marker_key,
    run_prefix,
)
from datalake.query.duckdb_engine import DuckDBEngine
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

MARCH, APRIL = "year=2024/month=3", "year=2024/month=4"
T0 = dt.datetime(2024, 4, 2, 6, tzinfo=dt.UTC)


def demand(month: int, hours: int, demand_mw: float = 25_000.0) -> pd.DataFrame:
    """``hours`` hours from the 10th of ``month`` 2024."""
    return demand_hours(f"2024-{month:02d}-10T00:00Z", hours, demand_mw)


@pytest.fixture
def lake(tmp_path: Path) -> tuple[LocalObjectStore, LocalCatalog, Settings]:
    store = LocalObjectStore(tmp_path / "lake")
    return store, LocalCatalog(store), Settings(_env_file=None, lake_root=tmp_path / "lake")


def runs_on_disk(store: LocalObjectStore) -> set[str]:
    root = store.path(run_prefix(DEMAND_HOURLY, "x")).parent
    return {p.name for p in root.iterdir()} if root.is_dir() else set()


def test_a_publish_switches_only_the_partitions_the_run_wrote_and_announces_them(lake) -> None:
    store, catalog, settings = lake
    first = publish_frames(store, DEMAND_HOURLY, {MARCH: demand(3, 24), APRIL: demand(4, 24)})
    second = publish_frames(store, DEMAND_HOURLY, {APRIL: demand(4, 12)})

    where = {
        p.path: run_id_of(p.location) for p in current_partitions(catalog, store, DEMAND_HOURLY, settings)
    }
    assert where == {MARCH: first, APRIL: second}
    assert store.get_json(published_marker_key(DEMAND_HOURLY, second))["partitions"] == [APRIL]
    # Nothing of a run is visible to a plain listing of the table: the runs are hidden folders.
    assert store.list_keys(DEMAND_HOURLY.location) == []


def test_a_superseded_run_survives_within_retention_and_is_removed_after_it(lake) -> None:
    store, catalog, settings = lake
    old = publish_frames(store, DEMAND_HOURLY, {MARCH: demand(3, 24)})
    new = publish_frames(store, DEMAND_HOURLY, {MARCH: demand(3, 12)})

    # The publish of ``new`` found ``old`` unreferenced and started its clock (at real time now);
    # pruning on an injected clock shows the period is counted from then.
    marker = store.get_json(f"{run_prefix(DEMAND_HOURLY, old)}/{UNREFERENCED_MARKER}")
    since = dt.datetime.fromisoformat(marker["unreferenced_since"])
    assert prune_runs(DEMAND_HOURLY, store, catalog, settings, lambda: since + dt.timedelta(hours=23)) == []
    assert runs_on_disk(store) == {old, new}

    assert prune_runs(DEMAND_HOURLY, store, catalog, settings, lambda: since + dt.timedelta(hours=24)) == [
        old
    ]
    assert runs_on_disk(store) == {new}
    assert len(store.list_keys(run_prefix(DEMAND_HOURLY, new))) == 1  # the current run is never pruned


def test_the_clock_starts_when_a_run_stops_being_referenced_not_when_it_was_written(lake) -> None:
    store, catalog, settings = lake
    old = publish_frames(store, DEMAND_HOURLY, {MARCH: demand(3, 24)})
    # Three days later (by the injected clock) nothing references it any more...
    publish_frames(store, DEMAND_HOURLY, {MARCH: demand(3, 12)})
    store.delete([f"{run_prefix(DEMAND_HOURLY, old)}/{UNREFERENCED_MARKER}"])  # as if first seen now
    later = T0 + dt.timedelta(days=3)
    assert prune_runs(DEMAND_HOURLY, store, catalog, settings, lambda: later) == []
    # ...so a query that started on it just before still has the whole period.
    assert old in runs_on_disk(store)
    assert prune_runs(DEMAND_HOURLY, store, catalog, settings, lambda: later + dt.timedelta(hours=25)) == [
        old
    ]


def test_a_run_that_died_before_publishing_is_never_read_and_is_removed_after_retention(lake) -> None:
    store, catalog, settings = lake
    published = publish_frames(store, DEMAND_HOURLY, {MARCH: demand(3, 24)})
    dead = run_prefix(DEMAND_HOURLY, "20240402T070000Z-deadbeef")
    store.write_parquet(f"{dead}/{MARCH}/part-00000.parquet", demand(3, 5, 99_999.0))
    store.put_bytes(f"{dead}/_temporary/0/task/part-00001.parquet", b"half")

    engine = DuckDBEngine(catalog, settings.processed_database)
    assert engine.query("SELECT count(*) AS n, max(demand_mw) AS top FROM demand_hourly").iloc[
        0
    ].tolist() == [
        24,
        25_000.0,
    ]
    assert prune_runs(DEMAND_HOURLY, store, catalog, settings, lambda: T0) == []  # clock started
    assert prune_runs(DEMAND_HOURLY, store, catalog, settings, lambda: T0 + dt.timedelta(hours=24)) == [
        dead.rsplit("/", 1)[1]
    ]
    assert runs_on_disk(store) == {published}


def test_a_long_lived_duckdb_engine_reads_each_new_publish(lake) -> None:
    store, catalog, settings = lake
    engine = DuckDBEngine(catalog, settings.processed_database)
    publish_frames(store, DEMAND_HOURLY, {MARCH: demand(3, 24)})
    assert engine.query("SELECT count(*) AS n FROM demand_hourly").iloc[0, 0] == 24
    publish_frames(store, DEMAND_HOURLY, {MARCH: demand(3, 12), APRIL: demand(4, 5)})
    counts = engine.query("SELECT month, count(*) AS n FROM demand_hourly GROUP BY 1 ORDER BY 1")
    assert counts.to_dict("list") == {"month": [3, 4], "n": [12, 5]}


def test_the_locked_ask_connection_may_read_the_current_run_folders_and_nothing_else(lake) -> None:
    store, catalog, settings = lake
    old = publish_frames(store, DEMAND_HOURLY, {MARCH: demand(3, 24)})
    publish_frames(store, DEMAND_HOURLY, {MARCH: demand(3, 12)})
    engine = DuckDBEngine(catalog, settings.processed_database, readable={"demand_hourly": ["demand_mw"]})
    assert engine.query("SELECT count(*) AS n FROM demand_hourly").iloc[0, 0] == 12
    superseded = store.path(f"{run_prefix(DEMAND_HOURLY, old)}/{MARCH}")
    with pytest.raises(QueryError, match=r"(?i)permission|not allowed|disabled"):
        engine.query(f"SELECT count(*) FROM read_parquet('{superseded}/*.parquet')")
    # The current folder is allowed (the views read it): a direct read of it works.
    [current] = current_partitions(catalog, store, DEMAND_HOURLY, settings)
    folder = store.path(current.prefix)
    assert engine.query(f"SELECT count(*) AS n FROM read_parquet('{folder}/*.parquet')").iloc[0, 0] == 12


def test_duckdb_reads_nothing_of_a_table_published_with_no_rows(lake) -> None:
    store, catalog, settings = lake
    publish_frames(store, DEMAND_HOURLY, {})
    engine = DuckDBEngine(catalog, settings.processed_database)
    assert engine.query("SELECT count(*) AS n FROM demand_hourly").iloc[0, 0] == 0
