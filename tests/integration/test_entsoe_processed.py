"""The shared 2015-2017 ENTSO-E exports and Kaggle file through the Spark job into processed tables.

Skipped when ../shared/data/spain_demand is not there (the project never copies it in).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from processed_fixtures import published
from test_entsoe_real_data import (
    ALL_FILES,
    AUTUMN_DAYS,
    DATA,
    HOURS_2015_2017,
    MISSING_ACTUAL_HOURS,
    REFERENCE_TSO_MAPE_PCT,
    SPRING_DAYS,
)

from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.pipelines.ingest import ingest_entsoe
from datalake.pipelines.lake import transform
from datalake.runs import RunReport
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore
from datalake.transforms.entsoe import TECHNOLOGIES

pytestmark = pytest.mark.skipif(
    not all(path.is_file() for path in ALL_FILES),
    reason=f"shared ENTSO-E/Kaggle files not found under {DATA} (they are never copied into the repo)",
)

SUPERSEDED = "superseded by a newer revision (by extracted_at) of the same ts_utc, region, source"
#: The Kaggle header's generation columns; 'hydro pumped storage aggregated' is empty in every row.
KAGGLE_TECHNOLOGIES = len(TECHNOLOGIES) - 1


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalObjectStore, RunReport]:
    root = tmp_path_factory.mktemp("entsoe") / "lake"
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=root, spark_master="local[2]")
    ingest_entsoe(ALL_FILES, settings=settings)
    return LocalObjectStore(root), transform("entsoe", settings=settings)


def quarantined(store: LocalObjectStore, dataset: str) -> pd.DataFrame:
    # One run: one folder of Parquet files written by the executors.
    return store.read_parquet(f"quarantine/{dataset}")


@pytest.mark.slow
def test_every_value_is_processed_or_quarantined_with_a_reason(lake) -> None:
    _store, report = lake
    assert report.status == "succeeded" and report.balanced
    demand_in = 2 * HOURS_2015_2017  # both sources land every hour of the three years
    generation_in = KAGGLE_TECHNOLOGIES * HOURS_2015_2017
    assert report.rows_in == demand_in + generation_in
    reasons = report.details["quarantine_reasons"]
    # Each hour both sources hold once: one copy kept, the other superseded.
    kept = HOURS_2015_2017 - MISSING_ACTUAL_HOURS
    assert report.details["demand_hourly_rows_out"] == kept
    assert reasons[f"demand_hourly: {SUPERSEDED}"] == kept
    assert reasons["demand_hourly: actual load missing (N/A)"] == MISSING_ACTUAL_HOURS
    assert reasons["demand_hourly: actual load missing (empty)"] == MISSING_ACTUAL_HOURS
    generation_missing = sum(n for reason, n in reasons.items() if reason.startswith("generation:"))
    assert report.details["generation_rows_out"] == generation_in - generation_missing
    assert all(r.endswith(" missing") for r in reasons if r.startswith("generation:"))


@pytest.mark.slow
def test_demand_hourly_has_one_row_per_hour_with_the_tso_forecast(lake) -> None:
    store, _ = lake
    demand = published(store, DEMAND_HOURLY)
    assert len(demand) == demand["ts_utc"].nunique() == HOURS_2015_2017 - MISSING_ACTUAL_HOURS
    assert set(demand["source"]) == {"entsoe"} and set(demand["region"]) == {"national"}
    assert demand["tso_forecast_mw"].notna().all()
    per_day = demand.groupby("local_date").size()
    complete_change_days = [d for d in SPRING_DAYS | AUTUMN_DAYS if per_day[d] in (23, 25)]
    assert len(complete_change_days) >= 5  # a change day may miss an actual; most do not
    assert all(per_day[d] == 23 for d in SPRING_DAYS & set(complete_change_days))
    assert all(per_day[d] == 25 for d in AUTUMN_DAYS & set(complete_change_days))
    year = pd.to_datetime(demand["local_date"]).dt.year
    ape = (demand["tso_forecast_mw"] - demand["demand_mw"]).abs() / demand["demand_mw"]
    mape_pct = {y: round(100 * v, 2) for y, v in ape.groupby(year).mean().items()}
    assert mape_pct == REFERENCE_TSO_MAPE_PCT


@pytest.mark.slow
def test_the_two_sources_agree_on_every_hour_one_of_them_was_superseded_for(lake) -> None:
    store, _ = lake
    demand = published(store, DEMAND_HOURLY).set_index("ts_utc")
    lost = quarantined(store, "demand_hourly")
    lost = lost[lost["reason"] == SUPERSEDED]
    records = pd.DataFrame([json.loads(r) for r in lost["raw_record"]])
    records["ts_utc"] = pd.to_datetime(records["ts_utc"], utc=True)
    records["demand_mw"] = records["demand_mw"].astype(float)
    assert set(records["source_file"]) <= {path.name for path in ALL_FILES}
    winner = demand.loc[records["ts_utc"], "demand_mw"].to_numpy()
    assert len(records) == HOURS_2015_2017 - MISSING_ACTUAL_HOURS
    assert float(abs(records["demand_mw"].to_numpy() - winner).max()) == 0.0


@pytest.mark.slow
def test_generation_by_technology_adds_up_per_hour(lake) -> None:
    store, _ = lake
    generation = published(store, GENERATION)
    assert set(generation["time_grain"]) == {"hour"}
    assert set(generation["technology"]) == {name for name, _ in TECHNOLOGIES.values()} - {
        "Hydro Pumped Storage"
    }
    pumping = generation[generation["technology"] == "Hydro Pumped Storage consumption"]
    assert (pumping["energy_mwh"] <= 0).all() and pumping["share"].isna().all()
    shares = generation.groupby("ts_utc")["share"].sum()
    complete = generation.groupby("ts_utc").size() == KAGGLE_TECHNOLOGIES
    assert ((shares[complete] - 1).abs() < 1e-9).all()
    renewable = generation[generation["technology_group"] == "Renovable"]
    share_2016 = renewable[renewable["local_date"].map(lambda d: d.year) == 2016]["energy_mwh"].sum() / (
        generation[(generation["energy_mwh"] > 0) & (generation["local_date"].map(lambda d: d.year) == 2016)][
            "energy_mwh"
        ].sum()
    )
    # Red Eléctrica reported about 39 % renewable generation in Spain in 2016.
    assert 0.35 < share_2016 < 0.45
    assert generation["local_date"].min() == dt.date(2015, 1, 1)
