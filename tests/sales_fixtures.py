"""Synthetic store sales in the processed tables' columns, and the shared Rossmann files' loader.

The synthetic stores have a weekly pattern, a promo lift, Sundays closed and noise, so a model
can learn something and a wrong feature shows. Nothing of ../shared/data is copied into the repo.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from datalake.sales.data import SALES_COLUMNS, STORE_COLUMNS, read_rossmann_files

ROSSMANN = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "retail_rossmann"


def synthetic_sales(
    stores: int = 4, days: int = 400, seed: int = 0, start: str = "2023-01-01"
) -> pd.DataFrame:
    """``store_sales_daily`` rows for ``stores`` stores over ``days`` days."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    frames = []
    for store in range(1, stores + 1):
        level = 4000 + 1500 * store
        weekday = dates.dayofweek.to_numpy()
        promo = (weekday < 5) & ((np.arange(days) // 7) % 2 == 0)
        is_open = weekday != 6
        # School holidays lift sales: a pattern the store x weekday x promo mean does not hold.
        school = rng.random(days) < 0.2
        lift = (1 + 0.1 * (weekday == 0)) * (1 + 0.25 * promo) * (1 + 0.3 * school)
        sales = level * lift * rng.normal(1, 0.05, days)
        sales = np.where(is_open, np.round(sales), 0.0)
        frames.append(
            pd.DataFrame(
                {
                    "store_id": store,
                    "date": dates,
                    "sales": sales,
                    "customers": np.round(sales / 9),
                    "open": is_open,
                    "promo": promo,
                    "state_holiday": "0",
                    "school_holiday": school,
                    "day_of_week": weekday + 1,
                    "closed": ~is_open,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[SALES_COLUMNS]


def synthetic_stores(stores: int = 4) -> pd.DataFrame:
    """A ``stores`` row per store: every other one runs Promo2 from 2023 week 10 (Jan/Apr/Jul/Oct)."""
    rows = []
    for store in range(1, stores + 1):
        promo2 = store % 2 == 0
        rows.append(
            {
                "store_id": store,
                "store_type": "abcd"[store % 4],
                "assortment": "abc"[store % 3],
                "competition_distance_m": 500.0 * store,
                "competition_open_since_month": 6,
                "competition_open_since_year": 2014,
                "promo2": promo2,
                "promo2_since_week": 10 if promo2 else None,
                "promo2_since_year": 2014 if promo2 else None,
                "promo_interval": "Jan,Apr,Jul,Oct" if promo2 else None,
            }
        )
    frame = pd.DataFrame(rows)[STORE_COLUMNS]
    for column in ("competition_open_since_month", "competition_open_since_year"):
        frame[column] = frame[column].astype("Int64")
    for column in ("promo2_since_week", "promo2_since_year"):
        frame[column] = frame[column].astype("Int64")
    return frame


def rossmann_tables(stores: list[int] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shared Rossmann files as the processed tables (skips when ../shared/data is absent)."""
    if not (ROSSMANN / "rossmann-sales.xlsx").exists():
        pytest.skip(f"the Rossmann files in {ROSSMANN} are not on this machine (../shared/data is optional)")
    sales, store_table = read_rossmann_files(ROSSMANN)
    if stores is not None:
        sales = sales[sales["store_id"].isin(stores)].reset_index(drop=True)
        store_table = store_table[store_table["store_id"].isin(stores)].reset_index(drop=True)
    return sales, store_table
