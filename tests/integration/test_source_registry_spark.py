"""A source added by one registry entry runs through ``datalake transform`` and the generic Glue
job script on local Spark, with no other edit (docs/adding-a-source.md's promise)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from tiny_source import READINGS, land_readings, registered
from typer.testing import CliRunner

from datalake.catalog.local import LocalCatalog
from datalake.catalog.processed import read_current
from datalake.cli import app
from datalake.runs import RUNS_PREFIX
from datalake.settings import get_settings
from datalake.storage.local import LocalObjectStore

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_a_registered_source_runs_through_the_cli_and_the_glue_script(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lake_root = tmp_path / "lake"
    monkeypatch.setenv("LAKE_ROOT", str(lake_root))
    monkeypatch.setenv("SPARK_MASTER", "local[1]")
    store = LocalObjectStore(lake_root)
    land_readings(store)
    with registered(monkeypatch):
        result = CliRunner().invoke(app, ["transform", "tiny"])
        assert result.exit_code == 0, result.output + repr(result.exception)
        assert "tiny_to_processed: succeeded, 4 in, 2 out, 2 quarantined" in result.output, result.output

        # What readers see: the published run folder the catalog points at.
        table = read_current(store, LocalCatalog(store), READINGS, get_settings()).sort_values("day")
        assert list(zip(table["station"], table["reading"], strict=True)) == [("MAD", 12.5), ("MAD", 13.0)]
        assert store.list_keys("quarantine/tiny_readings") and store.list_keys("quarantine/tiny_unreadable")

        # The one Glue job script, as the job's DefaultArguments call it (--source tiny).
        monkeypatch.syspath_prepend(str(ROOT / "glue_jobs"))
        import to_processed

        assert to_processed.main(["job", "--source", "tiny", "--full", "true"]) == 0
    reports = sorted((lake_root / RUNS_PREFIX / "tiny_to_processed").glob("*.json"))
    assert len(reports) == 2, reports
    again = json.loads(reports[-1].read_text())
    assert (again["status"], again["rows_in"], again["rows_out"], again["rows_quarantined"]) == (
        "succeeded",
        4,
        2,
        2,
    )
    assert again["details"]["quarantine_reasons"] == {
        "tiny_readings: reading outside [0, 100]": 1,
        "tiny_unreadable: not a JSON list of readings": 1,
    }
    assert sys.modules["to_processed"].__file__ == str(ROOT / "glue_jobs" / "to_processed.py")
