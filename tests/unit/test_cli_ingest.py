from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from datalake.cli import app
from datalake.runs import list_runs
from datalake.settings import get_settings
from datalake.storage.local import LocalObjectStore


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalObjectStore:
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    return LocalObjectStore(tmp_path / "lake")


def test_ingest_ree_sample_is_offline_idempotent_and_reported(lake: LocalObjectStore) -> None:
    runner = CliRunner()
    args = ["ingest", "ree", "--sample", "--start", "2024-10-26", "--end", "2024-10-27"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    keys = lake.list_keys("raw/ree_sample")
    # 2 days x (demand national+peninsular, generation national+peninsular)
    assert len(keys) == 8
    assert not lake.list_keys("raw/ree/demand")  # sample data never lands as real data
    second = runner.invoke(app, args)
    assert second.exit_code == 0
    assert lake.list_keys("raw/ree_sample") == keys
    newest, oldest = list_runs(lake, "ingest_ree_sample")
    assert (oldest.rows_in, oldest.details["written"], oldest.details["skipped"]) == (8, 8, 0)
    assert (newest.rows_in, newest.details["written"], newest.details["skipped"]) == (8, 0, 8)
    assert newest.balanced and newest.status == "succeeded"


def test_ingest_entsoe_rejects_an_unknown_file_with_its_name(lake: LocalObjectStore, tmp_path: Path) -> None:
    bogus = tmp_path / "prices.csv"
    bogus.write_text("date,price\n2024-01-01,50\n")
    result = CliRunner().invoke(app, ["ingest", "entsoe-csv", str(bogus)])
    assert result.exit_code != 0
    assert "prices.csv" in str(result.exception)
    assert lake.list_keys("raw") == []
