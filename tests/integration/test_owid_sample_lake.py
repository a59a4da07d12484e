"""The SAMPLE OWID drops through the real landing and the owid job (Spark local[1]).

Both files are accepted, every row and value lands in the tables, nothing is quarantined.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from processed_fixtures import published

from datalake.datasets.owid import WORLD_ENERGY, WORLD_ENERGY_CODEBOOK, WORLD_ENERGY_INDICATORS
from datalake.pipelines.ingest import land_energy_drops
from datalake.pipelines.lake import transform
from datalake.settings import Settings
from datalake.sources.owid_sample import AGGREGATES, PROFILES, generate_owid_drops
from datalake.storage.local import LocalObjectStore


@pytest.mark.slow  # a Spark job on the shared machine
def test_sample_owid_drops_land_and_transform_without_quarantine(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None, lake_runtime="local", lake_root=tmp_path / "lake", spark_master="local[1]"
    )
    landing = settings.lake_root / "landing"
    paths = generate_owid_drops(landing)
    at = dt.datetime(2024, 6, 3, 9, tzinfo=dt.UTC)

    landed = land_energy_drops([(p.name, at) for p in paths], settings=settings)
    assert landed.details["accepted"] == {"owid_energy": 1, "owid_codebook": 1}
    assert landed.rows_quarantined == 0

    run = transform("owid", settings=settings)
    rows = sum(1 for _ in paths[0].open()) - 1
    codebook = sum(1 for _ in paths[1].open()) - 1
    d = run.details
    assert (d["files"], d["files_accepted"], d["files_rejected_count"]) == (2, 2, 0)
    assert (run.rows_in, run.rows_out, run.rows_quarantined) == (rows + codebook, rows + codebook, 0)
    assert d["values"]["quarantined"] == 0 and not d["columns_ignored"] and not d["columns_renamed"]
    assert d["codebook_columns_not_read"] == []  # every column of the codebook is one the lake reads
    assert (d["world_energy_rows"], d["places"], d["aggregates"]) == (rows, len(PROFILES), len(AGGREGATES))
    assert d["years"] == [2000, 2023]
    assert not [k for k in run.keys_written if k.startswith("quarantine/")]

    store = LocalObjectStore(settings.lake_root)
    world = published(store, WORLD_ENERGY)
    flagged = world.groupby("country")["is_aggregate"].first()
    assert sorted(flagged[flagged].index) == sorted(AGGREGATES)
    spain = world[(world["country"] == "Spain") & (world["year"] == 2022)].iloc[0]
    assert 1_200 < spain["primary_energy_consumption_twh"] < 1_700
    assert len(published(store, WORLD_ENERGY_INDICATORS)) == d["world_energy_indicators_rows"] > 0
    book = published(store, WORLD_ENERGY_CODEBOOK)
    assert book["source"].str.startswith("SAMPLE").all()
