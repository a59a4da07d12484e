"""Rossmann store-sales drops without Spark: reading by header (CSV, XLSX), the landing and its refusals."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from store_sales_fixtures import (
    SALES_HEADER,
    STORE_XLSX,
    sales_csv,
    sales_xlsx,
    serial_date,
    shared_bytes,
    shared_sales,
    shared_stores,
    to_csv,
)
from typer.testing import CliRunner

from datalake.cli import app
from datalake.datasets.store_sales import SALES_HEADER as SALES_FIELDS
from datalake.datasets.store_sales import STORE_SALES_DAILY, STORES_HEADER, STORES_TABLE
from datalake.pipelines.ingest import land_energy_drops
from datalake.settings import Settings, get_settings
from datalake.sources.energy_company import Rejected
from datalake.sources.store_sales import is_store_sales_header, parse_file, read_header
from datalake.sources.xlsx import write_xlsx
from datalake.storage.local import LocalObjectStore

LANDED = dt.datetime(2024, 8, 1, 6, 30, tzinfo=dt.UTC)
DAY = "year=2024/month=08/day=01"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


# -- reading by header -------------------------------------------------------------------------------


def test_headers_are_read_by_name_in_any_order_and_case() -> None:
    header = read_header(
        [
            "\ufeffdate",
            " STORE ",
            "Sales",
            "Customers",
            "Open",
            "Promo",
            "StateHoliday",
            "SchoolHoliday",
            "Weather",
        ]
    )
    assert header.kind == "sales"
    assert header.fields[:3] == ("date", "store", "sales")
    assert header.fields[-1] is None and header.unknown == ("weather",)
    stores = read_header(list(reversed(shared_stores([1])[0])))
    assert stores.kind == "stores" and set(stores.fields) == set(STORES_HEADER.values())
    # The given DayOfWeek may be absent: the lake recomputes it from the date.
    assert "day_of_week_given" not in read_header([c for c in SALES_HEADER if c != "DayOfWeek"]).fields


@pytest.mark.parametrize(
    ("cells", "reason", "detail"),
    [
        (["country", "year", "iso_code"], "missing_header", "neither Rossmann's sales"),
        # Kaggle's test file: Store and Date, no Sales.
        (
            ["Id", "Store", "DayOfWeek", "Date", "Open", "Promo", "StateHoliday", "SchoolHoliday"],
            "missing_header",
            "a sales file without column(s) sales, customers",
        ),
        ([*SALES_HEADER, "sales"], "wrong_header", "named twice: sales"),
        (
            ["Store", "StoreType", "Assortment"],
            "missing_header",
            "a stores file without column(s) competitiondistance",
        ),
    ],
)
def test_headers_that_cannot_be_read_are_refused_with_their_reason(cells, reason, detail) -> None:
    with pytest.raises(Rejected) as refused:
        read_header(cells)
    assert refused.value.reason == reason and detail in refused.value.detail


def test_the_shared_sales_rows_read_the_same_from_a_workbook_and_a_csv() -> None:
    rows = shared_sales(range(1, 11), days=3)
    assert len(rows) == 30  # ten stores, three days
    from_xlsx = parse_file(sales_xlsx(rows))
    from_csv = parse_file(sales_csv(rows))
    assert (from_xlsx.format, from_csv.format) == ("xlsx", "csv")
    assert [r.problem for r in from_xlsx.rows + from_csv.rows] == [None] * 60
    fields = list(SALES_FIELDS.values())
    for row, xlsx, text in zip(rows, from_xlsx.rows, from_csv.rows, strict=True):
        expected = dict(zip(fields, row, strict=True))
        assert xlsx.cells == expected
        assert text.cells == {**expected, "date": serial_date(row[2]).isoformat()}
    # SOURCES.md's check figure: store 1 on 2024-07-31 (Kaggle's 2015-07-31) sold 5,263 to 555 customers.
    first = from_csv.rows[0].cells
    figures = (first["store"], first["date"], first["sales"], first["customers"])
    assert figures == ("1", "2024-07-31", "5263", "555")


def test_the_shared_store_files_read_the_same_as_csv_and_xlsx() -> None:
    csv_file = parse_file(shared_bytes(STORE_XLSX.with_name("store.csv")))
    xlsx_file = parse_file(shared_bytes(STORE_XLSX))
    assert csv_file.header.kind == xlsx_file.header.kind == "stores"
    assert len(csv_file.rows) == len(xlsx_file.rows) == 1115
    # A workbook leaves trailing empty cells out; the CSV writes them "": both read as absent.
    for text, book in zip(csv_file.rows, xlsx_file.rows, strict=True):
        assert text.cells == book.cells, (text.line_number, text.cells, book.cells)
    two = csv_file.rows[1].cells
    assert two["promo_interval"] == "Jan,Apr,Jul,Oct"  # a quoted comma stays in its cell
    assert "promo2_since_week" not in csv_file.rows[0].cells  # store 1 takes no part in Promo2


def test_a_row_with_another_cell_count_than_the_header_carries_its_problem() -> None:
    data = to_csv([SALES_HEADER, ["1", "3", "2024-07-31", "5263", "555", "1", "1", "0", "1"], ["1", "3"]])
    good, short = parse_file(data).rows
    assert good.problem is None and short.problem == "line 3: 2 field(s), the header has 9"
    assert short.cells == {} and short.raw_record == "1,3"


# -- the landing -----------------------------------------------------------------------------------------


def land(settings: Settings, files: dict[str, bytes]):
    landing = LocalObjectStore(settings.lake_root / "landing")
    for name, data in files.items():
        landing.put_bytes(name, data)
    return land_energy_drops([(name, LANDED) for name in files], settings=settings)


def test_store_sales_drops_land_unchanged_by_kind_and_format(lake_settings: Settings) -> None:
    rows = shared_sales(range(1, 4), days=2)
    files = {
        "rossmann-sales.xlsx": sales_xlsx(rows),
        "sales export.csv": sales_csv(rows),
        "store.csv": shared_bytes(STORE_XLSX.with_name("store.csv")),
        "rossmann-store.xlsx": shared_bytes(STORE_XLSX),
    }
    report = land(lake_settings, files)
    assert (report.rows_in, report.rows_out, report.rows_quarantined) == (4, 4, 0)
    assert report.details["accepted"] == {"store_sales_sales": 2, "store_sales_stores": 2}
    lake = LocalObjectStore(lake_settings.lake_root)
    expected = {
        f"raw/store_sales/sales/{DAY}/rossmann-sales.{digest(files['rossmann-sales.xlsx'])}.xlsx",
        f"raw/store_sales/sales/{DAY}/sales export.{digest(files['sales export.csv'])}.csv",
        f"raw/store_sales/stores/{DAY}/store.{digest(files['store.csv'])}.csv",
        f"raw/store_sales/stores/{DAY}/rossmann-store.{digest(files['rossmann-store.xlsx'])}.xlsx",
    }
    assert set(lake.list_keys("raw")) == expected
    for key in expected:  # unchanged: the same bytes as the drop
        name = key.rsplit("/", 1)[1]
        original = next(data for n, data in files.items() if digest(data) in name)
        assert lake.get_bytes(key) == original
    # Landing the same drops again writes the same keys and nothing else.
    again = land(lake_settings, files)
    assert set(again.keys_written) == expected and set(lake.list_keys("raw")) == expected


def test_bad_store_sales_drops_are_rejected_with_their_reason(lake_settings: Settings) -> None:
    kaggle_test = to_csv(
        [
            ["Id", "Store", "DayOfWeek", "Date", "Open", "Promo", "StateHoliday", "SchoolHoliday"],
            ["1", "1", "4", "2015-09-17", "1", "1", "0", "0"],
        ]
    )
    files = {
        "test.csv": kaggle_test,
        "header-only.xlsx": write_xlsx([SALES_HEADER]),
        "header-only.csv": to_csv([SALES_HEADER]),
    }
    report = land(lake_settings, files)
    assert (report.rows_in, report.rows_out, report.rows_quarantined) == (3, 0, 3)
    assert report.details["rejected"] == {"missing_header": 1, "empty": 2}
    lake = LocalObjectStore(lake_settings.lake_root)
    rejected = lake.list_keys("rejected/store_sales")
    assert len([k for k in rejected if k.endswith(".reason.json")]) == 3
    [record] = [
        k for k in rejected if k.startswith(f"rejected/store_sales/{DAY}/test.") and k.endswith(".json")
    ]
    assert lake.get_json(record)["reason"] == "missing_header"
    assert lake.list_keys("raw") == []


def test_other_workbooks_and_extracts_still_go_where_they_went(lake_settings: Settings) -> None:
    owid = write_xlsx([["country", "year", "iso_code", "population"], ["Spain", 2019, "ESP", 47_000_000]])
    report = land(lake_settings, {"energy.xlsx": owid})
    assert report.details["accepted"] == {"owid_energy": 1}
    assert not is_store_sales_header(["country", "year", "iso_code"])
    assert not is_store_sales_header(["id_cliente", "nombre", "fecha_alta"])


def test_the_cli_lands_a_store_sales_drop(lake_settings: Settings, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKE_ROOT", str(lake_settings.lake_root))
    get_settings.cache_clear()
    (tmp_path / "sales.xlsx").write_bytes(sales_xlsx(shared_sales([1], days=1)))
    result = CliRunner().invoke(app, ["ingest", "landing", str(tmp_path / "sales.xlsx")])
    assert result.exit_code == 0, result.output
    assert "1 file(s): 1 accepted (store_sales_sales 1)" in result.output
    [key] = LocalObjectStore(lake_settings.lake_root).list_keys("raw")
    assert key.startswith("raw/store_sales/sales/year=") and key.endswith(".xlsx")


def test_the_tables_keep_the_contract_column_names() -> None:
    # The sales features and model (issue 20, branch sales-model) read these names.
    assert STORE_SALES_DAILY.column_names[:2] == ["store_id", "date"]
    contract = {"sales", "customers", "open", "promo", "state_holiday", "school_holiday"}
    assert contract | {"day_of_week", "closed"} <= set(STORE_SALES_DAILY.column_names)
    types = {c.name: c.type for c in STORE_SALES_DAILY.columns}
    assert (types["date"], types["open"], types["state_holiday"]) == ("date", "boolean", "string")
    assert STORES_TABLE.column_names[:-1] == [
        "store_id",
        "store_type",
        "assortment",
        "competition_distance_m",
        "competition_open_since_month",
        "competition_open_since_year",
        "promo2",
        "promo2_since_week",
        "promo2_since_year",
        "promo_interval",
    ]
    assert STORE_SALES_DAILY.warehouse_table and STORES_TABLE.warehouse_table
