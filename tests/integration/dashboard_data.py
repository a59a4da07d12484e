"""Small warehouse frames for the dashboard tests (and docs/dashboards.md's screenshot).

- prices: the EIA SAMPLE generator's values (``datalake.sources.eia_sample.prices``) for
  2018-2020, named as the lake names the series (``KNOWN_SERIES``), plus a few ``eia`` rows on
  days the sample also has (the panels must prefer them);
- electricity: the SAMPLE demand and generation frames of benchmarks/api.py, plus two days of
  ``ree`` demand for the national region (the source-preference rule must hide its SAMPLE rows);
- OWID: four countries of ../shared/data/owid/owid-energy-data_2020-12.csv, columns renamed
  to world_energy's (only once the OWID spec is on this branch).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg

from benchmarks.api import sample_demand, sample_generation
from datalake.datasets import DATASETS, DEMAND_HOURLY, GENERATION
from datalake.datasets.prices import ENERGY_PRICES_DAILY
from datalake.sources.eia import KNOWN_SERIES
from datalake.sources.eia_sample import prices as sample_prices
from datalake.warehouse import upsert_frame

#: The fixed time range every panel is expanded for.
TIME_FROM = dt.datetime(2019, 6, 1, tzinfo=dt.UTC)
TIME_TO = dt.datetime(2020, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
PRICE_DAYS = (dt.date(2018, 1, 1), dt.date(2020, 12, 31))
ELECTRICITY_FIRST_DAY, ELECTRICITY_DAYS = dt.date(2020, 12, 1), 14
#: Days the national region has real (ree) demand: the panel shows only these hours there.
REE_DAYS = (dt.date(2020, 12, 10), dt.date(2020, 12, 11))
#: An EIA WTI price that the dashboard must show instead of the sample's for that day (a dollar
#: above it: different enough to tell apart, close enough not to draw a spike in the docs' picture).
EIA_WTI_DAY = dt.date(2020, 12, 1)
EIA_WTI_PRICE = round(sample_prices()["RWTC"][EIA_WTI_DAY] + 1.0, 2)
OWID_CSV = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "owid" / "owid-energy-data_2020-12.csv"
)
OWID_COUNTRIES = ("Spain", "World", "France", "Germany")
EXTRACTED_AT = pd.Timestamp("2026-01-01", tz="UTC")
#: Whether the OWID tables can be loaded: the spec is on this branch and the shared file is here.
OWID_LOADED = "world_energy" in DATASETS and OWID_CSV.exists()


def price_frame() -> pd.DataFrame:
    """energy_prices_daily rows: SAMPLE prices for :data:`PRICE_DAYS`, and one real WTI row."""
    first, last = PRICE_DAYS
    rows = []
    for series_id, by_day in sample_prices().items():
        known = KNOWN_SERIES[series_id]
        for day, price in by_day.items():
            if first <= day <= last:
                rows.append(
                    {
                        "date": day,
                        "series_id": series_id,
                        "series_name": known.name,
                        "product": known.product,
                        "area": known.area,
                        "price": price,
                        "unit": known.unit,
                        "source": "sample",
                    }
                )
    frame = pd.DataFrame(rows)
    real = frame[(frame["series_id"] == "RWTC") & (frame["date"] == EIA_WTI_DAY)].assign(
        source="eia", price=EIA_WTI_PRICE
    )
    return pd.concat([frame, real], ignore_index=True).assign(extracted_at=EXTRACTED_AT)


def demand_frame() -> pd.DataFrame:
    """demand_hourly: SAMPLE hours of both regions and ree hours of the national one on :data:`REE_DAYS`."""
    sample = sample_demand(ELECTRICITY_FIRST_DAY, ELECTRICITY_DAYS)
    national = sample[(sample["region"] == "national") & sample["local_date"].isin(REE_DAYS)]
    # A real value that differs from the sample's, so a test can tell which one a panel shows.
    ree = national.assign(source="ree", demand_mw=national["demand_mw"] + 1000.0)
    return pd.concat([sample, ree], ignore_index=True)


def generation_frame() -> pd.DataFrame:
    """generation: the SAMPLE daily mix of benchmarks/api.py."""
    return sample_generation(ELECTRICITY_FIRST_DAY, ELECTRICITY_DAYS)


def owid_frame() -> pd.DataFrame:
    """world_energy rows of :data:`OWID_COUNTRIES` from the 2020 file, in the spec's columns."""
    from datalake.datasets.owid import BY_NAME, RENAMED_COLUMNS, WORLD_ENERGY

    raw = pd.read_csv(OWID_CSV, encoding="utf-8-sig")
    raw = raw[raw["country"].isin(OWID_COUNTRIES)].rename(columns=RENAMED_COLUMNS)
    columns = {name: raw[name] for name in ("country", "iso_code", "year")}
    # The 2020 file lacks some current indicators: null, as the OWID job fills them.
    columns |= {i.column: raw[name] if name in raw else float("nan") for name, i in BY_NAME.items()}
    frame = pd.DataFrame(columns).assign(
        is_aggregate=raw["country"].eq("World"), landed_on=dt.date(2020, 12, 1)
    )
    return frame[[c.name for c in WORLD_ENERGY.columns]]


def load_dashboard_tables(conn: psycopg.Connection[Any], schema: str) -> None:
    """Create and fill the dashboard's tables in ``schema`` (world_energy when :data:`OWID_LOADED`)."""
    upsert_frame(conn, ENERGY_PRICES_DAILY, price_frame(), schema=schema)
    upsert_frame(conn, DEMAND_HOURLY, demand_frame(), schema=schema)
    upsert_frame(conn, GENERATION, generation_frame(), schema=schema)
    if OWID_LOADED:
        upsert_frame(conn, DATASETS["world_energy"], owid_frame(), schema=schema)
