"""The store_sales source on Spark (local[1]): real Rossmann rows, landing -> raw -> processed -> PostgreSQL.

One lake serves the module, built by ``datalake ingest landing`` and ``datalake transform store_sales``:

1. day 1: the shared workbook's rows of stores 1-10 on its newest 14 days, as a workbook, with six
   bad rows added (negative sales, a date that is not one, an unknown state-holiday code, sales on
   a closed day, a store and day repeated in the file, a store the stores file lacks); store.csv's
   stores 1-20 plus one with an unknown store type; and a broken workbook put straight into raw
   (a file the job cannot read). Full run, then a sync of both tables.
2. day 2: a CSV correcting store 1's newest day and store 14's closed day. Incremental run, sync.
3. nothing new: nothing to do.

The expected rows come from the shared files, read here with the stdlib XLSX reader and csv.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pandas as pd
import psycopg
import pytest
from processed_fixtures import published
from store_sales_fixtures import sales_csv, sales_xlsx, serial_date, shared_sales, shared_stores, to_csv

from datalake.datasets.store_sales import STORE_SALES_DAILY, STORE_SALES_TABLES, STORES_TABLE
from datalake.pipelines.ingest import land_energy_drops
from datalake.pipelines.lake import sync_dataset, transform
from datalake.runs import RunReport
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore
from datalake.transforms import store_sales as transforms

pytest_plugins = ["warehouse_fixtures"]

DAY1 = dt.datetime(2024, 8, 1, 9, tzinfo=dt.UTC)
DAY2 = dt.datetime(2024, 8, 2, 9, tzinfo=dt.UTC)
STORES = range(1, 11)
DAYS = 14
#: The bad rows of day 1: store -> (its row, the reason it must be quarantined with).
NEWEST = "45504"  # 2024-07-31 as the workbook's serial


def bad_sales_rows() -> dict[int, tuple[list[str], str]]:
    return {
        11: (["11", "3", NEWEST, "-5", "1", "1", "0", "0", "0"], "sales outside [0, None]"),
        12: (["12", "3", "31/07/2024", "10", "1", "1", "0", "0", "0"], transforms.NOT_A_DATE),
        13: (["13", "3", NEWEST, "10", "1", "1", "0", "z", "0"], "state_holiday not in ['0', 'a', 'b', 'c']"),
        14: (["14", "3", NEWEST, "100", "4", "0", "0", "0", "0"], transforms.SALES_ON_CLOSED_DAY),
        5000: (["5000", "3", NEWEST, "10", "1", "1", "0", "0", "0"], transforms.UNKNOWN_STORE),
    }


def day1_sales() -> list[list[str]]:
    rows = shared_sales(STORES, DAYS)
    repeat = [*rows[0][:3], str(int(rows[0][3]) + 1), *rows[0][4:]]  # store 1's newest day again
    return [*rows, *(row for row, _reason in bad_sales_rows().values()), repeat]


def day1_stores() -> bytes:
    header, *rows = shared_stores(range(1, 21))
    return to_csv([header, *rows, ["21", "x", "a", "100", "", "", "0", "", "", ""]])


def day2_sales() -> list[list[str]]:
    store1 = shared_sales([1], 1)[0]
    return [
        [*store1[:3], str(int(store1[3]) + 100), *store1[4:]],
        ["14", "3", NEWEST, "0", "0", "0", "0", "0", "0"],
    ]


def land(settings: Settings, files: dict[str, bytes], at: dt.datetime) -> RunReport:
    landing = LocalObjectStore(settings.lake_root / "landing")
    for name, data in files.items():
        landing.put_bytes(name, data)
    return land_energy_drops([(name, at) for name in files], settings=settings)


def warehouse(url: str, table: str) -> pd.DataFrame:
    with psycopg.connect(url) as conn:
        cursor = conn.execute(f"SELECT * FROM {table}")
        return pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])


@pytest.fixture(scope="module")
def lake(tmp_path_factory, embedded_pg) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("store_sales") / "lake"
    settings = Settings(
        _env_file=None,
        lake_runtime="local",
        lake_root=root,
        spark_master="local[1]",
        database_url=embedded_pg.url,
    )
    with psycopg.connect(embedded_pg.url, autocommit=True) as conn:  # a fresh mirror of these tables
        for spec in STORE_SALES_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {spec.warehouse_table} CASCADE")
    landed = land(
        settings, {"rossmann-sales.xlsx": sales_xlsx(day1_sales()), "store.csv": day1_stores()}, DAY1
    )
    # A file that reached raw without the landing's checks (copied by hand): the job must reject it.
    LocalObjectStore(root).put_bytes(
        "raw/store_sales/sales/year=2024/month=08/day=01/broken.xlsx", b"PK\x03\x04 not a workbook"
    )
    started = dt.datetime.now(dt.UTC)
    first = transform("store_sales", settings=settings)
    first_seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    synced_first = {spec.name: sync_dataset(spec.name, settings) for spec in STORE_SALES_TABLES}
    landed_again = land(settings, {"correction.csv": sales_csv(day2_sales())}, DAY2)
    second = transform("store_sales", settings=settings)
    synced_second = {spec.name: sync_dataset(spec.name, settings) for spec in STORE_SALES_TABLES}
    third = transform("store_sales", settings=settings)
    yield {
        "settings": settings,
        "landed": (landed, landed_again),
        "runs": (first, second, third),
        "first_seconds": first_seconds,
        "synced": (synced_first, synced_second),
        "url": embedded_pg.url,
    }


def current(settings: Settings, spec) -> pd.DataFrame:
    return published(LocalObjectStore(settings.lake_root), spec)


@pytest.mark.slow
def test_every_file_ends_accepted_or_rejected_and_every_run_balances(lake) -> None:
    day1, day2 = lake["landed"]
    assert day1.details["accepted"] == {"store_sales_sales": 1, "store_sales_stores": 1}
    assert day2.details["accepted"] == {"store_sales_sales": 1}
    first, second, third = lake["runs"]
    assert all(r.status == "succeeded" and r.balanced for r in (first, second, third))
    sales_rows, store_rows = len(day1_sales()), 21
    assert first.rows_in == sales_rows + store_rows + 1  # + the unreadable file's one row
    assert (first.rows_out, first.rows_quarantined) == (len(STORES) * DAYS + 20, 8)
    assert (
        first.details["files"],
        first.details["files_accepted"],
        first.details["files_rejected_count"],
    ) == (
        3,
        2,
        1,
    )
    [broken] = first.details["files_rejected"]
    assert broken["path"].endswith("broken.xlsx") and broken["reason"].startswith(
        "unreadable file: bad_workbook"
    )
    assert (second.details["mode"], second.rows_in, second.rows_out, second.rows_quarantined) == (
        "incremental",
        2,
        2,
        0,
    )
    # Store 1's newest day of day 1 is replaced by day 2's correction.
    assert second.details["store_sales_daily_rows_superseded_carried"] == 1
    assert third.rows_in == 0 and third.details["raw_partitions_changed_count"] == 0
    print(f"first run (landing excluded): {lake['first_seconds']:.1f} s, report {first.timings_s}")


@pytest.mark.slow
def test_bad_rows_are_quarantined_with_their_reasons(lake) -> None:
    first = lake["runs"][0]
    expected = {f"store_sales_daily: {reason}": 1 for _row, reason in bad_sales_rows().values()}
    expected[f"store_sales_daily: {transforms.DUPLICATE_IN_FILE}"] = 1
    expected["stores: store_type not in ['a', 'b', 'c', 'd']"] = 1
    [unreadable] = [r for r in first.details["quarantine_reasons"] if r.startswith("unreadable: ")]
    expected[unreadable] = 1
    assert first.details["quarantine_reasons"] == expected
    store = LocalObjectStore(lake["settings"].lake_root)
    [key] = [k for k in first.keys_written if k.startswith("quarantine/store_sales/store_sales_daily/")]
    bad = store.read_parquet(key)
    by_reason = dict(zip(bad["reason"], bad["raw_record"], strict=True))
    assert by_reason[transforms.UNKNOWN_STORE].startswith("5000,")
    assert by_reason[transforms.NOT_A_DATE].startswith("12,3,31/07/2024")
    # The repeat is the later line; the first line of store 1's newest day is the one kept.
    assert by_reason[transforms.DUPLICATE_IN_FILE].split(",")[3] == str(int(shared_sales([1], 1)[0][3]) + 1)


@pytest.mark.slow
def test_store_sales_daily_holds_the_shared_rows_typed_with_the_day_of_week_recomputed(lake) -> None:
    table = current(lake["settings"], STORE_SALES_DAILY)
    assert not table.duplicated(["store_id", "date"]).any()
    rows = {(int(r[0]), serial_date(r[2])): r for r in shared_sales(STORES, DAYS)}
    corrected = day2_sales()
    rows[(1, serial_date(corrected[0][2]))] = corrected[0]
    rows[(14, serial_date(NEWEST))] = corrected[1]
    assert len(table) == len(rows) == len(STORES) * DAYS + 1
    given_days_differ = 0
    for record in table.to_dict("records"):
        day = pd.Timestamp(record["date"]).date()
        row = rows[(record["store_id"], day)]
        assert record["sales"] == int(row[3]) and record["customers"] == int(row[4])
        assert (record["open"], record["promo"], record["school_holiday"]) == (
            row[5] == "1",
            row[6] == "1",
            row[8] == "1",
        )
        assert record["closed"] == (row[5] == "0") and record["state_holiday"] == row[7]
        assert record["day_of_week"] == day.isoweekday()
        given_days_differ += int(row[1]) != day.isoweekday()
    # SOURCES.md: the given DayOfWeek follows another convention (its Sundays say 0); the table's is ISO.
    assert given_days_differ > 0
    assert table["closed"].sum() == sum(r[5] == "0" for r in rows.values()) > 0  # closed days kept


@pytest.mark.slow
def test_stores_hold_the_attributes_with_units_in_names(lake) -> None:
    stores = current(lake["settings"], STORES_TABLE).set_index("store_id")
    assert sorted(stores.index) == list(range(1, 21))
    one, two = stores.loc[1], stores.loc[2]
    assert (one["store_type"], one["assortment"], one["competition_distance_m"]) == ("c", "a", 1270)
    assert not one["promo2"] and pd.isna(one["promo2_since_week"]) and pd.isna(one["promo_interval"])
    assert (two["promo2"], two["promo2_since_week"], two["promo2_since_year"]) == (True, 13, 2010)
    assert two["promo_interval"] == "Jan,Apr,Jul,Oct"


@pytest.mark.slow
def test_the_warehouse_mirrors_both_tables(lake) -> None:
    settings, url = lake["settings"], lake["url"]
    for spec in STORE_SALES_TABLES:
        processed = current(settings, spec)
        mirrored = warehouse(url, spec.warehouse_table)
        assert len(mirrored) == len(processed), spec.name
    sales = warehouse(url, STORE_SALES_DAILY.warehouse_table)
    store1 = shared_sales([1], 1)[0]
    newest = sales[(sales["store_id"] == 1) & (sales["date"] == serial_date(store1[2]))]
    assert newest["sales"].tolist() == [int(store1[3]) + 100]  # day 2's correction reached it
