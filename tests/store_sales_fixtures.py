"""Rossmann drops for the tests, all derived here from the shared files in ../shared/data/retail_rossmann/.

Nothing of the shared data is copied into the repo: the tests read the rows they need (the sales
workbook is read row by row and only as far as the newest days asked for, so a test does not pay
for parsing all 91,262 rows) and build the drops' shapes from them (a workbook with numbers
stored as numbers, a CSV with ISO dates).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pytest

from datalake.settings import Settings
from datalake.sources.xlsx import read_xlsx_rows, write_xlsx

ROSSMANN = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "retail_rossmann"
SALES_XLSX = ROSSMANN / "rossmann-sales.xlsx"
STORE_CSV = ROSSMANN / "store.csv"
STORE_XLSX = ROSSMANN / "rossmann-store.xlsx"
EXCEL_EPOCH = dt.date(1899, 12, 30)
SALES_HEADER = [
    "Store",
    "DayOfWeek",
    "Date",
    "Sales",
    "Customers",
    "Open",
    "Promo",
    "StateHoliday",
    "SchoolHoliday",
]


def shared_bytes(path: Path) -> bytes:
    """A shared Rossmann file (the test skips, saying which, when ../shared/data is not beside the repo)."""
    if not path.is_file():
        pytest.skip(f"the Rossmann file {path} is not on this machine (../shared/data is optional)")
    return path.read_bytes()


def serial_date(serial: str) -> dt.date:
    """An Excel serial (as the workbook stores the Date column) as a date."""
    return EXCEL_EPOCH + dt.timedelta(days=int(float(serial)))


@lru_cache(maxsize=4)
def _newest_sales(days: int) -> tuple[tuple[str, ...], ...]:
    data = shared_bytes(SALES_XLSX)
    rows: list[tuple[str, ...]] = []
    dates: set[str] = set()
    for number, cells in read_xlsx_rows(data, max_unpacked_bytes=1 << 30):
        if number == 1:
            assert cells == SALES_HEADER, cells
            continue
        # The workbook lists days newest first, every store of a day together.
        if cells[2] not in dates and len(dates) == days:
            break
        dates.add(cells[2])
        rows.append(tuple(cell or "" for cell in cells))
    return tuple(rows)


def shared_sales(stores: Iterable[int], days: int) -> list[list[str]]:
    """The shared workbook's rows (cells as text, dates as serials) of ``stores`` on its newest ``days``."""
    wanted = {str(s) for s in stores}
    return [list(row) for row in _newest_sales(days) if row[0] in wanted]


def shared_stores(stores: Iterable[int] | None = None) -> list[list[str]]:
    """store.csv's header and its rows (of ``stores``, or all)."""
    header, *rows = list(csv.reader(io.StringIO(shared_bytes(STORE_CSV).decode("utf-8"), newline="")))
    wanted = None if stores is None else {str(s) for s in stores}
    return [header, *(row for row in rows if wanted is None or row[0] in wanted)]


def _number(text: str) -> object:
    try:
        return int(text)
    except ValueError:
        return text


def sales_xlsx(rows: Iterable[list[str]]) -> bytes:
    """Sales rows as a workbook shaped like the shared one: numbers stored as numbers."""
    return write_xlsx([SALES_HEADER, *([_number(c) for c in row] for row in rows)])


def to_csv(rows: Iterable[list[str]], bom: bool = False) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def sales_csv(rows: Iterable[list[str]]) -> bytes:
    """Sales rows as a CSV with ISO dates (``2024-07-31``), as a CSV export writes them."""
    iso = [[*row[:2], serial_date(row[2]).isoformat(), *row[3:]] for row in rows]
    return to_csv([SALES_HEADER, *iso])


def land_shared_drops(settings: Settings, stores: list[int], days: int) -> Settings:
    """Land the shared stores' newest ``days`` days (a workbook) and their store.csv in a local lake.

    Returns ``settings`` (a local lake whose root the drops land under).
    """
    from datalake.pipelines.ingest import land_energy_drops
    from datalake.storage.local import LocalObjectStore

    landing = LocalObjectStore(settings.lake_root / "landing")
    landing.put_bytes("rossmann-sales.xlsx", sales_xlsx(shared_sales(stores, days)))
    landing.put_bytes("store.csv", to_csv(shared_stores(stores)))
    at = dt.datetime(2024, 8, 1, 9, tzinfo=dt.UTC)
    land_energy_drops([("rossmann-sales.xlsx", at), ("store.csv", at)], settings=settings)
    return settings
