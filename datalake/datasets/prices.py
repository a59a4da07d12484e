"""Energy prices: the daily spot prices of the EIA source (WTI, Brent, Henry Hub by default)."""

from __future__ import annotations

from datalake.datasets.spec import ColumnSpec, DatasetSpec, QualityRule

#: WTI settled at -36.98 USD/bbl on 2020-04-20 and Brent peaked near 144 in 2008; Henry Hub's
#: record is about 24 USD/MMBtu. A price outside this range is a unit or parsing error.
MIN_PLAUSIBLE_PRICE = -100.0
MAX_PLAUSIBLE_PRICE = 500.0

ENERGY_PRICES_DAILY = DatasetSpec(
    name="energy_prices_daily",
    description="Daily energy spot prices (EIA): one row per day, series and source; "
    "revisions replace, the newest extraction of a day's price wins.",
    columns=(
        ColumnSpec("date", "date", False, "Trading day the price is for (EIA's period; no time zone)"),
        ColumnSpec("series_id", "string", False, "EIA series id (RWTC, RBRTE, RNGWHHD)"),
        ColumnSpec("series_name", "string", False, "Short name of the series (WTI, Brent, Henry Hub)"),
        ColumnSpec("product", "string", True, "What is priced (crude oil, natural gas)"),
        ColumnSpec("area", "string", True, "Where it is priced (Cushing, OK; Europe; Henry Hub, LA)"),
        ColumnSpec("price", "double", False, "Spot price, in the row's unit"),
        ColumnSpec("unit", "string", False, "Unit of price: USD/bbl (crude oil) or USD/MMBtu (natural gas)"),
        ColumnSpec("source", "string", False, "eia, or sample (generated)"),
        ColumnSpec("extracted_at", "timestamp", False, "When the price was fetched from the API, UTC"),
    ),
    primary_key=("date", "series_id", "source"),
    time_column="date",
    partition_by=(ColumnSpec("year", "int", False),),
    partition_source="date",
    warehouse_table="energy_prices_daily",
    indexes=(("series_id", "source"),),
    quality_rules=(
        QualityRule("price", "range", MIN_PLAUSIBLE_PRICE, MAX_PLAUSIBLE_PRICE),
        QualityRule("source", "allowed_values", allowed=("eia", "sample")),
    ),
    source="eia",
    askable=True,
)
