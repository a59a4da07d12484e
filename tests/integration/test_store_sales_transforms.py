"""The store_sales transforms on Spark (local[1]), on a few parsed rows: typing, day of week, checks, reasons.

Fast (one Spark session, no lake): the whole source on real files is test_store_sales_processed.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from spark_fixtures import local_spark

from datalake.datasets.store_sales import STORE_SALES_DAILY
from datalake.transforms import quality
from datalake.transforms import store_sales as transforms

LANDED = dt.date(2024, 8, 1)


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = local_spark("tests", "local[1]")
    yield session
    session.stop()


def parsed(spark: SparkSession, rows: list[dict[str, str | None]]):
    """:data:`~datalake.transforms.store_sales.PARSED` sales rows (plus ``landed_on``) from cells by field."""
    records = [
        {
            **dict.fromkeys(transforms.PARSED.fieldNames()),
            "path": "raw/store_sales/sales/year=2024/month=08/day=01/s.csv",
            "kind": "sales",
            "line_number": number,
            "raw_record": ",".join(v or "" for v in cells.values()),
            **cells,
        }
        for number, cells in enumerate(rows, start=2)
    ]
    frame = spark.createDataFrame(records, transforms.PARSED)
    return frame.withColumn("landed_on", F.lit(LANDED))


def sales(store: str, date: str, sales: str = "10", open_: str = "1", holiday: str = "0") -> dict[str, str]:
    return {
        "store": store,
        "date": date,
        "sales": sales,
        "customers": "2",
        "open": open_,
        "promo": "1",
        "state_holiday": holiday,
        "school_holiday": "0",
    }


def test_sales_rows_are_typed_and_checked_with_one_reason_each(spark) -> None:
    rows = [
        sales("1", "45504"),  # Excel serial: 2024-07-31, a Wednesday
        sales("1", "2024-07-28", sales="0", open_="0", holiday="0.0"),  # ISO; a Sunday, closed; 0 as a number
        sales("2", "2024-02-30"),  # no such day
        sales("3", "45504", sales="-5"),
        sales("4", "45504", holiday="z"),
        sales("5", "45504", sales="100", open_="0"),
        sales("6", "45504", open_="yes"),
        sales("7", "45504", sales="12.5"),
        sales("1", "2024-07-31", sales="11"),  # the first row's store and day again, as ISO text
        sales("99", "45504"),  # no such store
    ]
    typed, checks = transforms.sales_rows(parsed(spark, rows))
    typed = transforms.with_file_duplicates(typed, ["store_id", "date"], transforms.DUPLICATE_IN_FILE)
    known = spark.createDataFrame([(s,) for s in range(1, 8)], "store_id int")
    typed = transforms.with_known_store(typed, known)
    verdict = quality.judge(
        typed,
        STORE_SALES_DAILY,
        ["store_id", "date"],
        "landed_on",
        checks=transforms.sales_checks(checks),
        tiebreak=("path", "line_number"),
        problem=transforms.PROBLEM,
    )
    got = {r["line_number"]: r.asDict() for r in verdict.collect()}
    assert len(got) == len(rows)  # every row kept or quarantined, none lost
    reasons = {line: row["reason"] for line, row in got.items()}
    assert reasons == {
        2: None,
        3: None,
        4: transforms.NOT_A_DATE,
        5: "sales outside [0, None]",
        6: "state_holiday not in ['0', 'a', 'b', 'c']",
        7: transforms.SALES_ON_CLOSED_DAY,
        8: transforms.NOT_A_FLAG.format(column="open"),
        9: transforms.NOT_A_NUMBER.format(column="sales"),
        10: transforms.DUPLICATE_IN_FILE,
        11: transforms.UNKNOWN_STORE,
    }
    first, closed = got[2], got[3]
    assert (first["date"], first["day_of_week"], first["sales"], first["open"], first["closed"]) == (
        dt.date(2024, 7, 31),
        3,
        10,
        True,
        False,
    )
    assert (closed["date"], closed["day_of_week"], closed["closed"], closed["state_holiday"]) == (
        dt.date(2024, 7, 28),
        7,  # ISO Sunday (the shared file's DayOfWeek says 0)
        True,
        "0",
    )
    table = transforms.store_sales_daily(verdict.filter(F.col("reason").isNull()))
    assert table.columns == [*STORE_SALES_DAILY.column_names, "year"]
    assert sorted(r["year"] for r in table.collect()) == [2024, 2024]
