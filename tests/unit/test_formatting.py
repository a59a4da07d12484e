"""Numbers for people in the CLI's tables and /ask's sentences: one formatter."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from datalake.formatting import format_cell, format_number

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("value", "column", "shown"),
    [
        (224959.40000000002, "avg_kwh", "224,959.40"),  # float noise gone, two decimals at most
        (156293558.98999998, "total_cop", "156,293,558.99"),
        (np.int64(4815), "n", "4,815"),
        (3.0, "ratio", "3"),
        (0.000123, "share", "0.0001"),
        (2024, "year", "2024"),  # integer labels keep their digits
        (np.int64(1115), "store_id", "1115"),
        (np.int32(10), "month", "10"),
        (None, "x", ""),
        (float("nan"), "x", ""),
        (pd.NA, "x", ""),
        (pd.NaT, "x", ""),
        (True, "open", "True"),
        (pd.Timestamp("2024-10-21 10:00"), "ts", "2024-10-21 10:00"),
        (dt.date(2024, 1, 1), "date", "2024-01-01"),
        ("ACME S.A.S.", "name", "ACME S.A.S."),
    ],
)
def test_cells_read_as_people_write_them(value: object, column: str, shown: str) -> None:
    assert format_cell(value, column) == shown


def test_spanish_swaps_the_separators() -> None:
    assert format_number(31245.5, "es", 1) == "31.245,5"
    assert format_number(31245.5, "en", 1) == "31,245.5"


def test_the_cli_table_shows_formatted_numbers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datalake import cli

    monkeypatch.setattr(cli.console, "width", 120)
    frame = pd.DataFrame({"year": [2024], "total_cop": [156293558.98999998], "rows": [4815]})
    cli.print_frame(frame, title="t")
    out = capsys.readouterr().out
    assert "156,293,558.99" in out and "4,815" in out and "2024" in out
    assert "156293558.98999998" not in out and "2,024" not in out


def test_progress_lines_name_their_source_line_only_when_verbose(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from datalake import cli

    monkeypatch.setattr(cli.console, "width", 120)
    monkeypatch.setattr(cli.console._log_render, "show_path", False)
    for flags, shows_path in (([], False), (["--verbose"], True), ([], False)):
        CliRunner().invoke(cli.app, [*flags, "ingest", "--help"])
        cli.console.log("a progress line")
        out = capsys.readouterr().out
        assert "a progress line" in out
        assert ("test_formatting.py:" in out) is shows_path, out
