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

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (DEMAND_HOURLY,)}


def get_dataset(name: str) -> DatasetSpec:
    """The spec of a dataset; a clear error lists the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(
            f"unknown dataset {name!r} (known: {', '.join(sorted(DATASETS))})"
        ) from None


__all__ = ["DATASETS", "ColumnSpec", "DatasetSpec", "QualityRule", "get_dataset"]
