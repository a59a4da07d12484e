"""The registry of dataset specs: the one place each dataset is described."""

from __future__ import annotations

from datalake.datasets.spec import ColumnSpec, DatasetSpec, QualityRule
from datalake.errors import UnknownDatasetError

# Spain's peak demand is about 45 GW; anything above 60 GW is a unit or parsing error.
MAX_PLAUSIBLE_DEMAND_MW = 60_000.0

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
    warehouse_table="demand_hourly",
    quality_rules=(
        QualityRule("demand_mw", "range", 0.0, MAX_PLAUSIBLE_DEMAND_MW),
        QualityRule("tso_forecast_mw", "range", 0.0, MAX_PLAUSIBLE_DEMAND_MW),
        QualityRule("region", "allowed_values", allowed=("national", "peninsular")),
        QualityRule("source", "allowed_values", allowed=("ree", "entsoe", "sample")),
    ),
    source="ree",
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
    warehouse_table="generation",
    quality_rules=(
        QualityRule("energy_mwh", "range", -MAX_PLAUSIBLE_GENERATION_MWH, MAX_PLAUSIBLE_GENERATION_MWH),
        QualityRule("share", "range", -1.0, 1.0),
        QualityRule("time_grain", "allowed_values", allowed=("hour", "day")),
        QualityRule("region", "allowed_values", allowed=("national", "peninsular")),
        QualityRule("source", "allowed_values", allowed=("ree", "entsoe", "sample")),
    ),
    source="ree",
)

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (DEMAND_HOURLY, GENERATION)}


def get_dataset(name: str) -> DatasetSpec:
    """The spec of a dataset; a clear error lists the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(
            f"unknown dataset {name!r} (known: {', '.join(sorted(DATASETS))})"
        ) from None


__all__ = [
    "DATASETS",
    "DEMAND_HOURLY",
    "GENERATION",
    "ColumnSpec",
    "DatasetSpec",
    "QualityRule",
    "get_dataset",
]
