"""`datalake generate owid` and `datalake generate store-sales` write what the generator functions write."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from typer.testing import CliRunner

from datalake.cli import app
from datalake.sources.owid_sample import generate_owid_drops
from datalake.sources.store_sales_sample import generate_store_sales_drops


def test_generate_owid_writes_the_same_files_as_the_function(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["generate", "owid", "--out", str(tmp_path / "cli"), "--last-year", "2010"]
    )
    assert result.exit_code == 0, result.output
    expected = generate_owid_drops(tmp_path / "direct", last_year=2010)
    for path in expected:
        assert (tmp_path / "cli" / path.name).read_bytes() == path.read_bytes()
    assert "owid-energy-data-SAMPLE.csv: 176 rows" in result.output.replace("\n", "")  # 16 places x 11 years


def test_generate_store_sales_writes_the_same_files_as_the_function(tmp_path: Path) -> None:
    arguments = ["--stores", "3", "--start", "2023-01-01", "--end", "2023-12-31", "--dirty-rows", "2"]
    result = CliRunner().invoke(app, ["generate", "store-sales", "--out", str(tmp_path / "cli"), *arguments])
    assert result.exit_code == 0, result.output
    expected = generate_store_sales_drops(
        tmp_path / "direct", 3, dt.date(2023, 1, 1), dt.date(2023, 12, 31), dirty_rows=2
    )
    for path in expected:
        assert (tmp_path / "cli" / path.name).read_bytes() == path.read_bytes()
    assert "train-SAMPLE.csv: 1,095 rows" in result.output.replace("\n", "")  # 3 stores x 365 days
