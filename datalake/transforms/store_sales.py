"""Rossmann store-sales files -> typed ``store_sales_daily`` and ``stores`` rows, in Spark.

- :func:`files_to_rows`: raw files -> one row per data row, every cell as text (:data:`PARSED`).
  Reading the files is the only Python step (``mapInPandas``): Spark reads neither XLSX nor a
  CSV whose columns are found by header name, per file, and the landing already checks every
  drop with :func:`datalake.sources.store_sales.parse_file`, so the job reads each file the same way.
- :func:`sales_rows` / :func:`store_rows`: parsed rows -> typed rows and their parse checks
  (Spark functions only); :func:`with_file_duplicates`, :func:`with_known_store` and
  :func:`sales_checks` add the checks that need other rows.
- :func:`store_sales_daily` / :func:`stores`: the tables' columns of the rows kept.

Dates come as Excel serial numbers (XLSX: ``45504`` is 2024-07-31) or ISO text (CSV); the given
``DayOfWeek`` is not read: ``day_of_week`` is recomputed from the date (ISO, Monday 1).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from datalake.datasets.store_sales import (
    SALES,
    SALES_HEADER,
    STORE_SALES_DAILY,
    STORES,
    STORES_HEADER,
    STORES_TABLE,
)
from datalake.sources.energy_company import Rejected
from datalake.sources.store_sales import parse_file
from datalake.transforms.documents import conform
from datalake.transforms.expressions import text_or_null
from datalake.transforms.quality import ParseCheck

PROBLEM = "problem"
#: Every field either kind of file fills (the sales' and the stores' share ``store``).
FIELDS = tuple(dict.fromkeys([*SALES_HEADER.values(), *STORES_HEADER.values()]))
#: What :func:`files_to_rows` gives: where each row came from, its problem, every cell as text.
PARSED = T.StructType(
    [
        T.StructField("path", T.StringType()),
        T.StructField("kind", T.StringType()),
        T.StructField("line_number", T.LongType()),
        T.StructField("raw_record", T.StringType()),
        T.StructField(PROBLEM, T.StringType()),
        # The file's ignored columns, on each of its rows (the run report lists them per file).
        T.StructField("ignored_columns", T.StringType()),
        *(T.StructField(name, T.StringType()) for name in FIELDS),
    ]
)
#: A whole number as a CSV or a workbook writes it (``12``, ``12.0``).
_WHOLE = r"^[+-]?\d+(\.0+)?$"
_ISO_DATE = r"^(\d{4})-(\d{2})-(\d{2})$"
#: Excel's day 0 (its serials count from 1899-12-30, past the 1900 leap-year bug).
EXCEL_EPOCH = "1899-12-30"
_TRUE, _FALSE = ("1", "1.0", "true"), ("0", "0.0", "false")

#: The reasons a row is quarantined with (besides the spec's rules and the superseded revision).
NOT_A_NUMBER = "{column}: not a whole number"
NOT_A_DATE = "date: not a date (an Excel serial or YYYY-MM-DD)"
NOT_A_FLAG = "{column}: not a 0/1 flag"
SALES_ON_CLOSED_DAY = "sales > 0 on a closed day (open = 0)"
DUPLICATE_IN_FILE = "duplicate store_id and date in the same file"
DUPLICATE_STORE_IN_FILE = "duplicate store_id in the same file"
UNKNOWN_STORE = "unknown store_id (not in stores)"


def _unreadable(path: str, data: bytes, problem: str) -> dict[str, object]:
    return {"path": path, "line_number": 0, "raw_record": data[:2000].decode("latin-1"), PROBLEM: problem}


def _file_rows(path: str, data: bytes) -> list[dict[str, object]]:
    """The :data:`PARSED` rows of one file (one row with the problem when it cannot be read)."""
    try:
        parsed = parse_file(data)
    except Rejected as rejection:
        return [_unreadable(path, data, f"unreadable file: {rejection.reason}: {rejection.detail}")]
    facts = {
        "path": path,
        "kind": parsed.header.kind,
        "ignored_columns": ",".join(parsed.header.unknown) or None,
    }
    return [
        {
            **facts,
            "line_number": row.line_number,
            "raw_record": row.raw_record,
            PROBLEM: row.problem,
            **row.cells,
        }
        for row in parsed.rows
    ]


def _parse_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    for batch in batches:
        for path, content in zip(batch["path"], batch["content"], strict=True):
            yield conform(pd.DataFrame.from_records(_file_rows(path, bytes(content))), PARSED)


def files_to_rows(files: DataFrame) -> DataFrame:
    """Raw files (``path``, ``content`` bytes) -> :data:`PARSED` rows plus ``landed_on``.

    ``landed_on`` is the file's ``year=/month=/day=`` (its landing day); a file outside one gets
    that ``problem``, as does every row of a file that cannot be read (one row, line 0, no kind).
    """
    rows = files.select("path", "content").mapInPandas(_parse_batches, PARSED)
    ymd = [F.regexp_extract("path", r"/year=(\d{4})/month=(\d{2})/day=(\d{2})/", i) for i in (1, 2, 3)]
    landed_on = F.when(ymd[0] != "", F.make_date(*(part.cast("int") for part in ymd)))
    undated = F.lit("raw file is not under year=/month=/day=/ (the landing date)")
    return rows.withColumn("landed_on", landed_on).withColumn(
        PROBLEM, F.when(F.col(PROBLEM).isNull() & landed_on.isNull(), undated).otherwise(F.col(PROBLEM))
    )


# -- typing -----------------------------------------------------------------------------------------


def whole_number(text: Column) -> Column:
    """A whole number's text (``12``, ``12.0``) as a long; null when absent or not one."""
    return F.when(text.rlike(_WHOLE), text.cast("double").cast("long"))


def flag(text: Column) -> Column:
    """A 0/1 (or true/false) flag's text as a boolean; null when absent or not one."""
    lowered = F.lower(text)
    return F.when(lowered.isin(*_TRUE), True).when(lowered.isin(*_FALSE), False)


def parse_date(text: Column) -> Column:
    """An Excel serial (XLSX) or ``YYYY-MM-DD`` (CSV) as a date; null when it is neither."""
    serial = F.date_add(F.lit(EXCEL_EPOCH).cast("date"), text.cast("double").cast("int"))
    # make_date, not to_date: an impossible day (2024-02-30) is null, where to_date's parser
    # may raise Spark's legacy-parser upgrade error instead.
    parts = [F.regexp_extract(text, _ISO_DATE, i).cast("int") for i in (1, 2, 3)]
    return F.when(text.rlike(_WHOLE) & (text.cast("double").between(1, 2_958_465)), serial).when(
        text.rlike(_ISO_DATE), F.make_date(*parts)
    )


def iso_day_of_week(date: Column) -> Column:
    """Monday 1 .. Sunday 7 (Spark's ``dayofweek`` counts from Sunday 1)."""
    return (F.dayofweek(date) + 5) % 7 + 1


def holiday_code(text: Column) -> Column:
    """A state-holiday code as text: a workbook's number 0 (``0``, ``0.0``) is ``'0'``, letters lower case."""
    return F.when(text.rlike(r"^0(\.0+)?$"), F.lit("0")).otherwise(F.lower(text))


def _failed(text: Column, typed: Column) -> Column:
    """Given (text present) but not typed: never null, as a parse check must be."""
    return F.coalesce(text.isNotNull() & typed.isNull(), F.lit(False))


def sales_rows(rows: DataFrame, carry: Sequence[str] = ()) -> tuple[DataFrame, list[ParseCheck]]:
    """Typed ``store_sales_daily`` rows of the parsed sales rows, and their parse checks.

    Columns: the ``carry`` columns, ``path``, ``line_number``, ``raw_record``, ``landed_on``,
    ``problem``, the table's columns, its partition ``year`` and each cell's text (``_t_<column>``).
    """
    sales = rows.filter(F.col("kind") == SALES)
    numbers = {"store_id": "store", "sales": "sales", "customers": "customers"}
    flags = ("open", "promo", "school_holiday")
    texts = sales.select(
        *carry,
        "path",
        "line_number",
        "raw_record",
        "landed_on",
        PROBLEM,
        *(text_or_null(field).alias(f"_t_{name}") for name, field in numbers.items()),
        *(text_or_null(name).alias(f"_t_{name}") for name in flags),
        text_or_null("date").alias("_t_date"),
        text_or_null("state_holiday").alias("_t_state_holiday"),
    )
    date = parse_date(F.col("_t_date"))
    typed = texts.select(
        "*",
        whole_number(F.col("_t_store_id")).cast("int").alias("store_id"),
        date.alias("date"),
        iso_day_of_week(date).alias("day_of_week"),
        whole_number(F.col("_t_sales")).alias("sales"),
        whole_number(F.col("_t_customers")).alias("customers"),
        *(flag(F.col(f"_t_{name}")).alias(name) for name in flags),
        holiday_code(F.col("_t_state_holiday")).alias("state_holiday"),
        F.year(date).alias("year"),
    ).withColumn("closed", ~F.col("open"))
    date_failed = _failed(F.col("_t_date"), F.col("date"))
    open_failed = _failed(F.col("_t_open"), F.col("open"))
    checks: list[ParseCheck] = [
        ("date", date_failed, F.lit(NOT_A_DATE)),
        # Derived columns: their "is null" would only repeat their source's reason (no message).
        ("day_of_week", date_failed, F.lit(None).cast("string")),
        ("closed", open_failed, F.lit(None).cast("string")),
        *(
            (name, _failed(F.col(f"_t_{name}"), F.col(name)), F.lit(NOT_A_NUMBER.format(column=name)))
            for name in numbers
        ),
        *(
            (name, _failed(F.col(f"_t_{name}"), F.col(name)), F.lit(NOT_A_FLAG.format(column=name)))
            for name in flags
        ),
    ]
    # The ``_t_`` texts stay: the checks read them (the tables select their own columns).
    return typed, checks


def store_rows(rows: DataFrame, carry: Sequence[str] = ()) -> tuple[DataFrame, list[ParseCheck]]:
    """Typed ``stores`` rows of the parsed store rows, and their parse checks.

    Columns: the ``carry`` columns, ``path``, ``line_number``, ``raw_record``, ``landed_on``,
    ``problem``, the table's columns and each cell's text (``_t_<column>``).
    """
    stores = rows.filter(F.col("kind") == STORES)
    numbers = {
        "store_id": "store",
        "competition_distance_m": "competition_distance",
        "competition_open_since_month": "competition_open_since_month",
        "competition_open_since_year": "competition_open_since_year",
        "promo2_since_week": "promo2_since_week",
        "promo2_since_year": "promo2_since_year",
    }
    texts = stores.select(
        *carry,
        "path",
        "line_number",
        "raw_record",
        "landed_on",
        PROBLEM,
        *(text_or_null(field).alias(f"_t_{name}") for name, field in numbers.items()),
        text_or_null("promo2").alias("_t_promo2"),
        F.lower(text_or_null("store_type")).alias("store_type"),
        F.lower(text_or_null("assortment")).alias("assortment"),
        text_or_null("promo_interval").alias("promo_interval"),
    )
    typed = texts.select(
        "*",
        *(whole_number(F.col(f"_t_{name}")).cast("int").alias(name) for name in numbers),
        flag(F.col("_t_promo2")).alias("promo2"),
    )
    checks: list[ParseCheck] = [
        *(
            (name, _failed(F.col(f"_t_{name}"), F.col(name)), F.lit(NOT_A_NUMBER.format(column=name)))
            for name in numbers
        ),
        ("promo2", _failed(F.col("_t_promo2"), F.col("promo2")), F.lit(NOT_A_FLAG.format(column="promo2"))),
    ]
    # The ``_t_`` texts stay: the checks read them (the tables select their own columns).
    return typed, checks


# -- checks across rows -----------------------------------------------------------------------------


def with_file_duplicates(typed: DataFrame, keys: Sequence[str], message: str) -> DataFrame:
    """``problem`` on a row that repeats the ``keys`` of an earlier line of its file (the first one stays)."""
    first = F.min("line_number").over(Window.partitionBy("path", *keys))
    present = F.lit(True)
    for key in keys:
        present = present & F.col(key).isNotNull()
    repeated = present & (F.col("line_number") > first)
    return typed.withColumn(PROBLEM, F.coalesce(F.col(PROBLEM), F.when(repeated, F.lit(message))))


def with_known_store(sales: DataFrame, store_ids: DataFrame) -> DataFrame:
    """Add ``_known_store``: the row's ``store_id`` is in ``store_ids`` (one column, ``store_id``)."""
    known = store_ids.select("store_id").distinct().withColumn("_known_store", F.lit(True))
    return sales.join(F.broadcast(known), "store_id", "left").withColumn(
        "_known_store", F.coalesce(F.col("_known_store"), F.lit(False))
    )


def sales_checks(parse_checks: Sequence[ParseCheck]) -> list[ParseCheck]:
    """The parse checks plus the checks across columns and tables (on :func:`with_known_store` rows).

    Sales on a closed day contradict the flag (the model would learn them as open-day sales);
    a store the ``stores`` table lacks has no attributes to predict from.
    """
    closed_sales = F.coalesce(F.col("closed") & (F.col("sales") > 0), F.lit(False))
    unknown = F.col("store_id").isNotNull() & ~F.col("_known_store")
    return [
        *parse_checks,
        ("sales", closed_sales, F.lit(SALES_ON_CLOSED_DAY)),
        ("store_id", unknown, F.lit(UNKNOWN_STORE)),
    ]


def store_sales_daily(rows: DataFrame) -> DataFrame:
    """The ``store_sales_daily`` columns (and its ``year`` partition) of typed rows."""
    return rows.select(*STORE_SALES_DAILY.column_names, "year")


def stores(rows: DataFrame) -> DataFrame:
    """The ``stores`` columns of typed rows."""
    return rows.select(*STORES_TABLE.column_names)
