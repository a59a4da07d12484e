"""The registry of dataset specs: the one place each dataset is described."""

from __future__ import annotations

from datalake.datasets.energy_company import CLIENTES, PROVEEDORES, TRANSACCIONES
from datalake.datasets.movies import MOVIE_TABLES
from datalake.datasets.owid import OWID_TABLES
from datalake.datasets.prices import ENERGY_PRICES_DAILY
from datalake.datasets.realtime import PORTFOLIO_EVENTS
from datalake.datasets.rollups import BridgeTotals, declared_bridge_totals
from datalake.datasets.spec import ColumnSpec, DatasetSpec, QualityRule
from datalake.datasets.store_sales import STORE_SALES_TABLES
from datalake.datasets.weather import WEATHER_TABLES
from datalake.errors import UnknownDatasetError

# Spain's peak demand is about 45 GW; anything above 60 GW is a unit or parsing error.
MAX_PLAUSIBLE_DEMAND_MW = 60_000.0

#: Per hour, the first of these sources with a value wins (/ask, the forecaster, the daily rollup);
#: ``sample`` is generated data, used only where a region has no real row at all.
DEMAND_SOURCE_PREFERENCE: tuple[str, ...] = ("ree", "entsoe", "sample")
SAMPLE_SOURCE = "sample"

DEMAND_HOURLY = DatasetSpec(
    name="demand_hourly",
    description="Hourly electricity demand in Spain, one row per hour, region and source.",
    columns=(
        ColumnSpec("ts_utc", "timestamp", False, "Start of the hour, UTC"),
        ColumnSpec("local_date", "date", False, "Date of the hour in Europe/Madrid"),
        ColumnSpec("region", "string", False, "national or peninsular"),
        ColumnSpec("demand_mw", "double", False, "Mean demand over the hour, MW"),
        ColumnSpec("source", "string", False, "ree, entsoe, or sample (generated)"),
        ColumnSpec("tso_forecast_mw", "double", True, "Grid operator's day-ahead forecast, MW"),
        ColumnSpec("extracted_at", "timestamp", False, "When the raw record was fetched, UTC"),
    ),
    primary_key=("ts_utc", "region", "source"),
    time_column="ts_utc",
    partition_by=(ColumnSpec("year", "int", False), ColumnSpec("month", "int", False)),
    partition_source="local_date",  # the Madrid month, not the UTC one
    warehouse_table="demand_hourly",
    # /ask's "are there real rows for this region?" probe (see datalake.ask.sqlbuild).
    indexes=(("region", "source"),),
    quality_rules=(
        QualityRule("demand_mw", "range", 0.0, MAX_PLAUSIBLE_DEMAND_MW),
        QualityRule("tso_forecast_mw", "range", 0.0, MAX_PLAUSIBLE_DEMAND_MW),
        QualityRule("region", "allowed_values", allowed=("national", "peninsular")),
        QualityRule("source", "allowed_values", allowed=("ree", "entsoe", "sample")),
    ),
    source="ree",
    askable=True,
)

# Hourly output of one technology is below 30 GWh and a day's below 0.7 TWh in Spain; pumped
# storage consumption shows as negative generation.
MAX_PLAUSIBLE_GENERATION_MWH = 2_000_000.0

GENERATION = DatasetSpec(
    name="generation",
    description="Electricity generation in Spain by technology, hourly where REE gives it, else daily.",
    columns=(
        ColumnSpec("ts_utc", "timestamp", False, "Start of the period, UTC"),
        ColumnSpec("local_date", "date", False, "Date of the period in Europe/Madrid"),
        ColumnSpec("time_grain", "string", False, "hour or day"),
        ColumnSpec("region", "string", False, "national or peninsular"),
        ColumnSpec("technology", "string", False, "REE technology name (Eólica, Nuclear, ...)"),
        ColumnSpec("technology_group", "string", True, "Renovable, No-Renovable, or total"),
        ColumnSpec("energy_mwh", "double", False, "Energy generated over the period, MWh"),
        ColumnSpec("share", "double", True, "Share of the period's total generation, 0..1"),
        ColumnSpec("source", "string", False, "ree, entsoe, or sample (generated)"),
        ColumnSpec("extracted_at", "timestamp", False, "When the raw record was fetched, UTC"),
    ),
    primary_key=("ts_utc", "time_grain", "region", "technology", "source"),
    time_column="ts_utc",
    partition_by=(ColumnSpec("year", "int", False),),
    partition_source="local_date",
    warehouse_table="generation",
    indexes=(("region", "source"),),
    quality_rules=(
        QualityRule("energy_mwh", "range", -MAX_PLAUSIBLE_GENERATION_MWH, MAX_PLAUSIBLE_GENERATION_MWH),
        QualityRule("share", "range", -1.0, 1.0),
        QualityRule("time_grain", "allowed_values", allowed=("hour", "day")),
        QualityRule("region", "allowed_values", allowed=("national", "peninsular")),
        QualityRule("source", "allowed_values", allowed=("ree", "entsoe", "sample")),
    ),
    source="ree",
    askable=True,
)

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DEMAND_HOURLY,
        GENERATION,
        CLIENTES,
        PROVEEDORES,
        TRANSACCIONES,
        *MOVIE_TABLES,
        ENERGY_PRICES_DAILY,
        *OWID_TABLES,
        *STORE_SALES_TABLES,
        PORTFOLIO_EVENTS,
        *WEATHER_TABLES,
    )
}

# What the API served. The same model on the same data gives the same forecast, so the hourly
# values are kept once per (model, data cut-off, hour) and every response is one row of
# forecast_requests: a busy API writes a small row per request, not a row per forecast hour.
PREDICTIONS = DatasetSpec(
    name="predictions",
    description="Hourly demand forecasts the API served, once per model, data cut-off and hour.",
    columns=(
        ColumnSpec("model_version", "string", False, "Version of the model that made it"),
        ColumnSpec("data_cutoff", "timestamp", False, "Newest hour of demand the forecast saw, UTC"),
        ColumnSpec("ts_utc", "timestamp", False, "Start of the forecast hour, UTC"),
        ColumnSpec("origin", "timestamp", False, "First forecast hour, UTC"),
        ColumnSpec("horizon_h", "int", False, "Hours after the data cut-off (1 = the next hour)"),
        ColumnSpec("p10_mw", "double", False, "10th percentile of demand, MW"),
        ColumnSpec("p50_mw", "double", False, "Median demand, MW"),
        ColumnSpec("p90_mw", "double", False, "90th percentile of demand, MW"),
        ColumnSpec("served_by", "string", False, "in_process, or endpoint:<SageMaker endpoint>"),
        ColumnSpec(
            "first_served_at", "timestamp", False, "When the API first served this hour's forecast, UTC"
        ),
    ),
    primary_key=("model_version", "data_cutoff", "ts_utc"),
    time_column="ts_utc",
    warehouse_table="predictions",
    quality_rules=(
        QualityRule("p50_mw", "range", 0.0, MAX_PLAUSIBLE_DEMAND_MW),
        QualityRule("horizon_h", "range", 1, 14 * 24),
    ),
    source="api",
)

FORECAST_REQUESTS = DatasetSpec(
    name="forecast_requests",
    description="Every forecast the API served: one row per response; its hours are in predictions.",
    columns=(
        ColumnSpec("request_id", "string", False, "Unique id of the response"),
        ColumnSpec("served_at", "timestamp", False, "When the API served it, UTC"),
        ColumnSpec("model_version", "string", False, "Version of the model"),
        ColumnSpec("data_cutoff", "timestamp", False, "Newest hour of demand the forecast saw, UTC"),
        ColumnSpec("horizon_hours", "int", False, "Hours forecast (1 to 336)"),
        ColumnSpec("served_by", "string", False, "in_process, or endpoint:<SageMaker endpoint>"),
        ColumnSpec("request_source", "string", False, "How the request came in: http or apigateway"),
    ),
    primary_key=("request_id",),
    time_column="served_at",
    warehouse_table="forecast_requests",
    source="api",
)

MOVIE_PREDICTIONS = DatasetSpec(
    name="movie_predictions",
    description="Every movie-success prediction the API served: one row per film per response.",
    columns=(
        ColumnSpec("request_id", "string", False, "Unique id of the response"),
        ColumnSpec("position", "int", False, "The film's place in the request (0 for a single film)"),
        ColumnSpec("served_at", "timestamp", False, "When the API served it, UTC"),
        ColumnSpec("model_version", "string", False, "Version of the movie_success model"),
        ColumnSpec("title", "string", False, "Title as the request gave it"),
        ColumnSpec("release_date", "date", False, "Release date as the request gave it"),
        ColumnSpec("release_year", "int", False, "Year of release_date (matches the movies table)"),
        ColumnSpec("success_probability", "double", False, "Predicted probability of success, 0..1"),
        ColumnSpec("success", "boolean", False, "success_probability >= threshold"),
        ColumnSpec("threshold", "double", False, "The model's decision threshold"),
        ColumnSpec("request_source", "string", False, "How the request came in: http or apigateway"),
    ),
    primary_key=("request_id", "position"),
    time_column="served_at",
    warehouse_table="movie_predictions",
    source="api",
)

SALES_PREDICTIONS = DatasetSpec(
    name="sales_predictions",
    description="Every store-sales prediction the API served: one row per store and day per response.",
    columns=(
        ColumnSpec("request_id", "string", False, "Unique id of the response"),
        ColumnSpec("position", "int", False, "The row's place in the request (0 for a single row)"),
        ColumnSpec("served_at", "timestamp", False, "When the API served it, UTC"),
        ColumnSpec("model_version", "string", False, "Version of the store_sales model"),
        ColumnSpec("model_alias", "string", False, "The registry alias that served it (champion)"),
        ColumnSpec("store_id", "int", False, "Rossmann store number"),
        ColumnSpec("date", "date", False, "Day predicted"),
        ColumnSpec("promo", "boolean", False, "A store promotion runs that day"),
        ColumnSpec("state_holiday", "string", False, "0 none, a public holiday, b Easter, c Christmas"),
        ColumnSpec("school_holiday", "boolean", False, "Public schools are closed that day"),
        ColumnSpec("predicted_sales", "double", False, "Predicted turnover of the day, EUR (0 when closed)"),
        ColumnSpec("closed", "boolean", False, "The request said the store is closed that day"),
        ColumnSpec("request_source", "string", False, "How the request came in: http or apigateway"),
    ),
    primary_key=("request_id", "position"),
    time_column="served_at",
    warehouse_table="sales_predictions",
    source="api",
)

DEMAND_DAILY = DatasetSpec(
    name="demand_daily",
    description=(
        "demand_hourly summed per Europe/Madrid day and region, each hour from its preferred source "
        "(ree, else entsoe); generated sample rows apart. Kept by the warehouse sync in the same "
        "transaction as demand_hourly, so /ask reads days, not hours, for questions about days and longer."
    ),
    columns=(
        ColumnSpec("local_date", "date", False, "Day in Europe/Madrid"),
        ColumnSpec("region", "string", False, "national or peninsular"),
        ColumnSpec("sample", "boolean", False, "The day's generated (sample) rows; false: the real sources'"),
        ColumnSpec("demand_mwh", "double", True, "Sum of the day's hourly demand, MWh (null: no hour)"),
        ColumnSpec("demand_hours", "int", False, "Hours with a demand value"),
        ColumnSpec("tso_forecast_mwh", "double", True, "Sum of the day's hourly operator forecast, MWh"),
        ColumnSpec("tso_forecast_hours", "int", False, "Hours with an operator forecast"),
    ),
    primary_key=("local_date", "region", "sample"),
    warehouse_table="demand_daily",
    # /ask's "are there real rows for this region?" probe.
    indexes=(("region", "sample"),),
    source="warehouse",
)

#: Per-value totals of each table grouped through a bridge dimension (``movies_by_genre``),
#: derived from the semantic layer (datalake.datasets.rollups); the sync keeps them.
BRIDGE_TOTALS: tuple[BridgeTotals, ...] = declared_bridge_totals(tuple(DATASETS.values()))

#: Warehouse tables /ask's own SQL reads besides the askable datasets: rollups the sync derives.
#: The guard's allow-list and the reader role's grants include them; the lake and the
#: text-to-SQL prompt do not (the lake has no such table).
ASK_ROLLUPS: tuple[DatasetSpec, ...] = (DEMAND_DAILY, *(r.spec for r in BRIDGE_TOTALS))

#: Tables only the serving database has (the API writes them, or the sync derives them); no
#: processed files, no crawler.
WAREHOUSE_DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (PREDICTIONS, FORECAST_REQUESTS, MOVIE_PREDICTIONS, SALES_PREDICTIONS, *ASK_ROLLUPS)
}


for _spec in (*DATASETS.values(), *WAREHOUSE_DATASETS.values()):
    _spec.check_semantics()


def ask_datasets() -> tuple[DatasetSpec, ...]:
    """The datasets /ask may read, in registry order (the semantic layer widens this deliberately).

    The SQL guard's allow-list, the warehouse reader role's grants and the lake's locked-down
    DuckDB views all derive from this one list, minus each spec's personal columns (the guard
    and the grants add :data:`ASK_ROLLUPS`).
    """
    return tuple(spec for spec in (*DATASETS.values(), *WAREHOUSE_DATASETS.values()) if spec.askable)


def all_table_names() -> frozenset[str]:
    """Every name a dataset is known by (dataset, catalog and warehouse table), lower case."""
    specs = (*DATASETS.values(), *WAREHOUSE_DATASETS.values())
    names = {n for spec in specs for n in (spec.name, spec.table_name, spec.warehouse_table) if n}
    return frozenset(n.lower() for n in names)


def get_dataset(name: str) -> DatasetSpec:
    """The spec of a dataset; a clear error lists the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(
            f"unknown dataset {name!r} (known: {', '.join(sorted(DATASETS))})"
        ) from None


def dataset_at(location: str) -> DatasetSpec | None:
    """The processed dataset whose table lives at ``location`` (a key prefix), or None."""
    return next((spec for spec in DATASETS.values() if spec.location == location.strip("/")), None)


__all__ = [
    "ASK_ROLLUPS",
    "BRIDGE_TOTALS",
    "DATASETS",
    "DEMAND_DAILY",
    "DEMAND_HOURLY",
    "DEMAND_SOURCE_PREFERENCE",
    "FORECAST_REQUESTS",
    "GENERATION",
    "PREDICTIONS",
    "SAMPLE_SOURCE",
    "WAREHOUSE_DATASETS",
    "ColumnSpec",
    "DatasetSpec",
    "QualityRule",
    "all_table_names",
    "ask_datasets",
    "dataset_at",
    "get_dataset",
]
