"""The two processed tables the sales model reads, and a loader for the shared Rossmann files.

``store_sales_daily`` and ``stores`` are written by the ``sales_etl`` source's Glue job. Until that
source is registered, :func:`read_rossmann_files` reads the shared XLSX/CSV drops straight into the
same columns, so features, training and tests develop against the real data.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

#: ``store_sales_daily`` columns, as the sales_etl Glue job writes them.
SALES_COLUMNS = [
    "store_id",
    "date",
    "sales",
    "customers",
    "open",
    "promo",
    "state_holiday",
    "school_holiday",
    "day_of_week",
    "closed",
]
#: ``stores`` columns.
STORE_COLUMNS = [
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
#: Excel's day zero for serial dates (1900 date system, with its leap-year bug folded in).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
#: Workbooks of a few MB; the limit only refuses zip bombs.
_MAX_UNPACKED_BYTES = 512 * 1024 * 1024


def _xlsx_frame(path: Path) -> pd.DataFrame:
    """The first sheet of ``path`` as text columns named by its header row."""
    from datalake.sources.xlsx import read_xlsx_rows

    rows = [
        cells for _number, cells in read_xlsx_rows(path.read_bytes(), max_unpacked_bytes=_MAX_UNPACKED_BYTES)
    ]
    header, body = rows[0], rows[1:]
    width = len(header)
    return pd.DataFrame([(cells + [None] * width)[:width] for cells in body], columns=header)


def _excel_or_iso_dates(values: pd.Series) -> pd.Series:
    """Excel serial numbers or ISO text -> dates (the XLSX stores serials, a CSV export ISO dates)."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        return (pd.Timestamp(_EXCEL_EPOCH) + pd.to_timedelta(numeric, unit="D")).dt.normalize()
    return pd.to_datetime(values).dt.normalize()


def sales_from_rossmann(raw: pd.DataFrame) -> pd.DataFrame:
    """Kaggle-named sales columns (Store, Date, Sales, ...) -> ``store_sales_daily`` columns.

    The day of week is recomputed from the date (Monday=1 .. Sunday=7): the shared subset's dates are
    shifted by +9 years and its ``DayOfWeek`` does not follow them.
    """
    frame = pd.DataFrame(
        {
            "store_id": pd.to_numeric(raw["Store"]).astype("int64"),
            "date": _excel_or_iso_dates(raw["Date"]),
            "sales": pd.to_numeric(raw["Sales"]).astype("float64"),
            "customers": pd.to_numeric(raw["Customers"]).astype("float64"),
            "open": pd.to_numeric(raw["Open"]).astype("int64") == 1,
            "promo": pd.to_numeric(raw["Promo"]).astype("int64") == 1,
            "state_holiday": raw["StateHoliday"].astype(str).str.strip().replace({"0.0": "0"}),
            "school_holiday": pd.to_numeric(raw["SchoolHoliday"]).astype("int64") == 1,
        }
    )
    frame["day_of_week"] = frame["date"].dt.dayofweek + 1
    frame["closed"] = ~frame["open"]
    return frame.sort_values(["store_id", "date"], ignore_index=True)[SALES_COLUMNS]


def typed_sales(processed: pd.DataFrame) -> pd.DataFrame:
    """``store_sales_daily`` rows as read from Parquet -> the types the features take (dates, float sales).

    The local path (a pyarrow read) and the Spark job (one store's rows at a time) both call it, so
    the features see the same dtypes either way.
    """
    return processed.assign(
        date=pd.to_datetime(processed["date"]), sales=processed["sales"].astype("float64")
    )


def _nullable_int(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.replace("", None), errors="coerce").astype("Int64")


def stores_from_rossmann(raw: pd.DataFrame) -> pd.DataFrame:
    """Kaggle-named store columns (Store, StoreType, ...) -> ``stores`` columns."""
    interval = raw["PromoInterval"].fillna("").astype(str).str.strip()
    return pd.DataFrame(
        {
            "store_id": pd.to_numeric(raw["Store"]).astype("int64"),
            "store_type": raw["StoreType"].astype(str),
            "assortment": raw["Assortment"].astype(str),
            "competition_distance_m": pd.to_numeric(raw["CompetitionDistance"], errors="coerce"),
            "competition_open_since_month": _nullable_int(raw["CompetitionOpenSinceMonth"]),
            "competition_open_since_year": _nullable_int(raw["CompetitionOpenSinceYear"]),
            "promo2": pd.to_numeric(raw["Promo2"]).astype("int64") == 1,
            "promo2_since_week": _nullable_int(raw["Promo2SinceWeek"]),
            "promo2_since_year": _nullable_int(raw["Promo2SinceYear"]),
            "promo_interval": interval.where(interval != "", None),
        }
    ).sort_values("store_id", ignore_index=True)[STORE_COLUMNS]


def read_rossmann_files(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shared Rossmann drops (``rossmann-sales.xlsx`` + ``store.csv``/``rossmann-store.xlsx``).

    A stand-in for the processed tables of the ``sales_etl`` source: same columns, same types.

    Returns
    -------
    tuple of DataFrame
        ``(store_sales_daily, stores)``; stores limited to those with sales.
    """
    sales_xlsx, sales_csv = folder / "rossmann-sales.xlsx", folder / "train.csv"
    raw_sales = _xlsx_frame(sales_xlsx) if sales_xlsx.exists() else pd.read_csv(sales_csv, dtype=str)
    store_csv = folder / "store.csv"
    raw_stores = (
        pd.read_csv(store_csv, dtype=str, keep_default_na=False)
        if store_csv.exists()
        else _xlsx_frame(folder / "rossmann-store.xlsx")
    )
    sales = sales_from_rossmann(raw_sales)
    stores = stores_from_rossmann(raw_stores)
    return sales, stores[stores["store_id"].isin(sales["store_id"].unique())].reset_index(drop=True)
