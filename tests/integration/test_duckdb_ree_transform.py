"""The DuckDB REData transform writes what the Spark job writes, and counts what it counts."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmarks.duckdb_ree import transform_ree_duckdb
from datalake.catalog.local import LocalCatalog
from datalake.catalog.processed import current_partitions, data_files
from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.datasets.spec import DatasetSpec
from datalake.pipelines.ingest import ingest_ree
from datalake.pipelines.lake import transform
from datalake.settings import Settings
from datalake.sources import ree
from datalake.storage.local import LocalObjectStore

START, END = dt.date(2024, 10, 25), dt.date(2024, 11, 3)  # spans the autumn clock change
UNREADABLE = "unreadable REData document"


def add_faults(store: LocalObjectStore) -> None:
    """Bad entries, a newer revision of one day in a second file, and a daily-grain document."""
    key = ree.raw_key("demand", dt.date(2024, 10, 28), "national", prefix=ree.SAMPLE_RAW_PREFIX)
    doc = store.get_json(key)
    values = doc["included"][0]["attributes"]["values"]
    values[0]["value"] = -50.0  # out of range
    values[1]["value"] = None  # missing
    values[2]["datetime"] = values[2]["datetime"][:-6]  # no UTC offset
    values[3]["value"] = "12"  # not a number
    store.put_json(key, doc)

    key = ree.raw_key("demand", dt.date(2024, 10, 30), "peninsular", prefix=ree.SAMPLE_RAW_PREFIX)
    doc = store.get_json(key)
    for entry in doc["included"][0]["attributes"]["values"]:
        entry["value"] += 1.0
    revision = key.replace("/day=30/", "/day=30/revision/")
    store.put_json(revision, doc)
    later = store.path(key).stat().st_mtime + 60
    os.utime(store.path(revision), (later, later))

    key = ree.raw_key("generation", dt.date(2024, 10, 26), "national", prefix=ree.SAMPLE_RAW_PREFIX)
    doc = store.get_json(key)
    for series in doc["included"]:
        series["attributes"]["values"] = series["attributes"]["values"][:1]
    store.put_json(key.replace("/day=26/", "/day=26/daily/"), doc)


def add_unreadable_files(store: LocalObjectStore) -> None:
    """Files that yield no values: not JSON, not an envelope, empty, and one with no REData name."""
    day = dt.date(2024, 11, 4)
    store.put_bytes(ree.raw_key("demand", day, "national", prefix=ree.SAMPLE_RAW_PREFIX), b"{oops")
    store.put_json(ree.raw_key("demand", day, "peninsular", prefix=ree.SAMPLE_RAW_PREFIX), {"included": "x"})
    store.put_json(ree.raw_key("generation", day, "national", prefix=ree.SAMPLE_RAW_PREFIX), {"included": []})
    store.put_bytes(f"{ree.SAMPLE_RAW_PREFIX}/misc/notes.json", b"{}")


def read_table(root: Path, spec: DatasetSpec) -> tuple[list[str], pa.Schema, pd.DataFrame]:
    """(partition files, their schema, all rows sorted by key) of one dataset's folder."""
    files = sorted(root.glob("**/*.parquet"))
    tables = [pq.read_table(f) for f in files]
    assert len({t.schema for t in tables}) == 1
    frame = pa.concat_tables(tables).to_pandas()
    frame = frame.sort_values(list(spec.primary_key)).reset_index(drop=True)
    return [str(f.relative_to(root)) for f in files], tables[0].schema, frame


def read_published(store: LocalObjectStore, spec: DatasetSpec) -> tuple[list[str], pa.Schema, pd.DataFrame]:
    """(partition paths, file schema, rows sorted by key) of what the Spark job published: the files
    of the folders the catalog points at (Spark names its files, and may write several a partition)."""
    current = current_partitions(LocalCatalog(store), store, spec, Settings(_env_file=None))
    files = [store.path(key) for partition in current for key in data_files(store, partition)]
    tables = [pq.read_table(f) for f in files]
    assert len({t.schema.remove_metadata() for t in tables}) == 1
    frame = pa.concat_tables([t.replace_schema_metadata() for t in tables]).to_pandas()
    frame = frame.sort_values(list(spec.primary_key)).reset_index(drop=True)
    return sorted(p.path for p in current), tables[0].schema, frame


def normalised(reasons: dict[str, int]) -> dict[str, int]:
    """Quarantine reasons, with the engine-specific text of unreadable-document errors cut off."""
    out: dict[str, int] = {}
    for reason, count in reasons.items():
        key = reason[: reason.index(UNREADABLE) + len(UNREADABLE)] if UNREADABLE in reason else reason
        out[key] = out.get(key, 0) + count
    return out


@pytest.mark.slow
def test_duckdb_transform_matches_spark(lake_settings: Settings, tmp_path: Path) -> None:
    ingest_ree(START, END, sample=True, settings=lake_settings)
    store = LocalObjectStore(lake_settings.lake_root)
    add_faults(store)
    add_unreadable_files(store)

    began = time.perf_counter()
    spark = transform("ree", ree.SAMPLE_RAW_PREFIX, lake_settings).to_dict()
    spark_s = time.perf_counter() - began
    began = time.perf_counter()
    duck = transform_ree_duckdb(store.path(ree.SAMPLE_RAW_PREFIX), tmp_path / "duck")
    duck_s = time.perf_counter() - began
    print(f"\nSpark {spark_s:.2f} s, DuckDB {duck_s:.2f} s")

    assert spark["balanced"] and spark["rows_quarantined"] > 0
    assert duck["rows_in"] == duck["rows_out"] + duck["rows_quarantined"]
    for count in ("rows_in", "rows_out", "rows_quarantined"):
        assert duck[count] == spark[count], count
    assert duck["files"] == spark["details"]["files"]
    for spec in (DEMAND_HOURLY, GENERATION):
        assert duck[f"{spec.name}_rows_out"] == spark["details"][f"{spec.name}_rows_out"]
    assert normalised(duck["quarantine_reasons"]) == normalised(spark["details"]["quarantine_reasons"])
    reasons = duck["quarantine_reasons"]
    assert reasons["demand_hourly: demand_mw outside [0.0, 60000.0]"] == 1
    assert reasons["demand_hourly: value is missing"] == 1
    assert reasons["demand_hourly: value '12' is not a number"] == 1
    assert sum(n for r, n in reasons.items() if "has no UTC offset" in r) == 1
    assert sum(n for r, n in reasons.items() if r.startswith("demand_hourly: superseded")) == 24

    frames = {}
    for spec in (DEMAND_HOURLY, GENERATION):
        spark_partitions, spark_schema, spark_rows = read_published(store, spec)
        duck_files, duck_schema, frames[spec.name] = read_table(tmp_path / "duck" / spec.name, spec)
        assert sorted({f.rsplit("/", 1)[0] for f in duck_files}) == spark_partitions
        assert duck_schema.remove_metadata() == spark_schema.remove_metadata() == spec.arrow_schema()
        pd.testing.assert_frame_equal(frames[spec.name], spark_rows, check_exact=True)

    demand, generation = frames["demand_hourly"], frames["generation"]
    revised = demand[(demand["region"] == "peninsular") & (demand["local_date"] == dt.date(2024, 10, 30))]
    assert len(revised) == 24 and revised["extracted_at"].nunique() == 1
    daily = generation[generation["time_grain"] == "day"]
    assert len(daily) == generation["technology"].nunique()  # the national document has every series
    assert set(daily["local_date"]) == {dt.date(2024, 10, 26)}


@pytest.mark.slow
def test_unreadable_and_stray_files_are_quarantined(lake_settings: Settings, tmp_path: Path) -> None:
    # What each kind of unreadable file counts as (the test above runs Spark on the same files).
    ingest_ree(START, START, sample=True, settings=lake_settings)
    store = LocalObjectStore(lake_settings.lake_root)
    clean = transform_ree_duckdb(store.path(ree.SAMPLE_RAW_PREFIX), tmp_path / "clean")
    add_unreadable_files(store)

    duck = transform_ree_duckdb(store.path(ree.SAMPLE_RAW_PREFIX), tmp_path / "duck")

    assert duck["files"] == clean["files"] + 4
    assert (duck["rows_in"], duck["rows_out"]) == (clean["rows_in"] + 4, clean["rows_out"])
    assert duck["rows_quarantined"] == 4
    assert normalised(duck["quarantine_reasons"]) == {
        f"demand_hourly: {UNREADABLE}": 2,
        "generation: document holds no values": 1,
        "ree_unreadable: file name is not ree-<dataset>-<geo>-<date>.json": 1,
    }
