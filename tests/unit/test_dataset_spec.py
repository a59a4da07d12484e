from __future__ import annotations

import pandas as pd
import pytest

from datalake.datasets import DATASETS, DEMAND_HOURLY, get_dataset
from datalake.datasets.spec import ColumnSpec, DatasetSpec, QualityRule


def test_registry_and_unknown_dataset() -> None:
    assert get_dataset("demand_hourly") is DEMAND_HOURLY
    with pytest.raises(KeyError, match="known: demand_hourly"):
        get_dataset("nope")


UNITLESS = ("share", "popularity", "vote_average", "population", "value")
UNIT_SUFFIXES = (
    *("_mw", "_mwh", "_eur_mwh", "_pct", "_kwh", "_cop", "_twh", "_intl_usd_2011"),
    *("_gco2e_per_kwh", "_kwh_per_intl_usd", "_mtco2e"),
    *("_c", "_kmh", "_wm2"),  # weather: °C, km/h, W/m²
)


@pytest.mark.parametrize("spec", list(DATASETS.values()), ids=list(DATASETS))
def test_specs_are_consistent(spec: DatasetSpec) -> None:
    data, keys = spec.catalog_columns()
    assert [c.name for c in data] == spec.column_names
    assert set(spec.primary_key) <= set(spec.column_names)
    assert spec.arrow_schema(with_partitions=True).names == spec.column_names + [k.name for k in keys]
    # Units are explicit in numeric column names; a ratio or a score has none (TMDB's popularity
    # index and its 0-10 mean rating), a count of people is one (OWID's population), and a long
    # form's value has its unit in its own column (world_energy_indicators.unit). A table whose rows
    # are in different units (EIA's prices: USD/bbl for crude oil, USD/MMBtu for gas) says each
    # row's in a non-null ``unit`` column.
    row_unit = "unit" in spec.column_names and not spec.column("unit").nullable
    for column in spec.columns:
        if column.type == "double":
            assert (
                column.name in UNITLESS
                or column.name.endswith(UNIT_SUFFIXES)
                or (row_unit and column.name == "price")
            ), column.name


def test_spec_rejects_unknown_key_column() -> None:
    with pytest.raises(ValueError, match="'nope' is not a column"):
        DatasetSpec("x", "", (ColumnSpec("a", "string"),), primary_key=("nope",))


def test_split_valid_keeps_every_row_with_reasons() -> None:
    frame = pd.DataFrame(
        {
            "ts_utc": pd.to_datetime(["2024-01-01T00:00Z"] * 4),
            "local_date": [pd.Timestamp("2024-01-01").date()] * 4,
            "region": ["national", "peninsular", "mars", None],
            "demand_mw": [30_000.0, -1.0, 25_000.0, 70_000.0],
            "source": ["sample"] * 4,
            "tso_forecast_mw": [None, None, None, None],
            "extracted_at": pd.to_datetime(["2024-01-02T00:00Z"] * 4),
        }
    )
    valid, quarantined = DEMAND_HOURLY.split_valid(frame)
    assert len(valid) + len(quarantined) == len(frame)
    assert valid["region"].tolist() == ["national"]
    reasons = quarantined.set_index("demand_mw")["reason"].to_dict()
    assert reasons[-1.0] == "demand_mw outside [0.0, 60000.0]"
    assert reasons[25_000.0] == "region not in ['national', 'peninsular']"
    assert reasons[70_000.0] == "region is null; demand_mw outside [0.0, 60000.0]"
    assert [r.kind for r in DEMAND_HOURLY.effective_rules()][:6] == ["not_null"] * 6


def test_rule_reasons_name_the_field() -> None:
    assert QualityRule("x_mw", "not_null").reason == "x_mw is null"
    assert "x_mw" in QualityRule("x_mw", "range", 0, 1).reason
