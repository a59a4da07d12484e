"""OWID drops for the tests, all derived here from the shared 2020 file and the current codebook.

Nothing of ../shared/data/owid is copied into the repo: the tests read it, take the rows they need
and build the other shapes from them (the current column set with a BOM, an XLSX workbook).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

import pytest

from datalake.datasets.owid import RENAMED_COLUMNS
from datalake.sources.xlsx import write_xlsx

OWID = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "owid"
DATA_2020 = OWID / "owid-energy-data_2020-12.csv"
CODEBOOK = OWID / "owid-energy-codebook.csv"
BOM = "\ufeff"


def shared_bytes(path: Path) -> bytes:
    """A shared OWID file (the test skips, saying which, when ../shared/data is not beside the repo)."""
    if not path.is_file():
        pytest.skip(f"the OWID file {path} is not on this machine (../shared/data is optional)")
    return path.read_bytes()


def table(data: bytes) -> list[list[str]]:
    """A CSV's rows (the header first), its BOM dropped."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def to_csv(rows: Iterable[list[str]], bom: bool = False) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return ((BOM if bom else "") + buffer.getvalue()).encode("utf-8")


def subset_2020(countries: Iterable[str], years: Iterable[int]) -> bytes:
    """The shared 2020 file's header (BOM kept) and its rows of ``countries`` in ``years``, as they are."""
    data = shared_bytes(DATA_2020)
    wanted_countries, wanted_years = set(countries), {str(y) for y in years}
    lines = data.decode("utf-8").splitlines(keepends=True)
    kept = [
        line
        for line in lines[1:]
        if (cells := next(csv.reader([line])))[1] in wanted_countries and cells[2] in wanted_years
    ]
    return (lines[0] + "".join(kept)).encode("utf-8")


def current_columns() -> list[str]:
    """The current file's columns, in its order: the codebook's ``column`` list (SOURCES.md)."""
    return [row[0] for row in table(shared_bytes(CODEBOOK))[1:]]


def current_shape(data_2020: bytes, bom: bool = True) -> bytes:
    """A 2020-shaped CSV in the current shape: renamed, in the current order, new columns empty, a BOM."""
    header, *rows = table(data_2020)
    renamed = [RENAMED_COLUMNS.get(name, name) for name in header]
    order = current_columns()
    position = {name: renamed.index(name) for name in order if name in renamed}
    reshaped = [[row[position[name]] if name in position else "" for name in order] for row in rows]
    return to_csv([order, *reshaped], bom=bom)


def as_xlsx(data: bytes) -> bytes:
    """A CSV as a workbook, numbers stored as numbers (as OWID's XLSX stores them)."""

    def cell(text: str) -> object:
        if text.lstrip("-").isdigit():
            return int(text)  # a year
        try:
            number = float(text)
        except ValueError:
            return text
        return text if number != number or number in (float("inf"), float("-inf")) else number

    header, *rows = table(data)
    return write_xlsx([header, *([cell(text) for text in row] for row in rows)])


def with_cell(data: bytes, country: str, year: int, column: str, value: str) -> bytes:
    """``data`` with one cell replaced (the row of ``country`` and ``year``, the column by name)."""
    header, *rows = table(data)
    at = header.index(column)
    for row in rows:
        if row[header.index("country")] == country and row[header.index("year")] == str(year):
            row[at] = value
    return to_csv([header, *rows], bom=data.startswith(BOM.encode()))
