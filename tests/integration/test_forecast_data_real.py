"""Forecast data loading and the baseline backtest on the shared ENTSO-E/Kaggle files, 2015-2017.

Skipped when ../shared/data/spain_demand is not there (the project never copies it in). The
reference figures are from SOURCES.md, computed there over every hour of each year.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from datalake.errors import DataValidationError
from datalake.forecasting.backtest import format_backtest, run_backtest
from datalake.forecasting.data import DemandSeries, load_series

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "spain_demand"
TOTAL_LOAD_FILES = [
    DATA / "entsoe" / f"Total Load - Day Ahead _ Actual_{year}.csv" for year in (2015, 2016, 2017)
]
KAGGLE_FILE = DATA / "energy_dataset_2015_2017.csv"

pytestmark = pytest.mark.skipif(
    not all(path.is_file() for path in [*TOTAL_LOAD_FILES, KAGGLE_FILE]),
    reason=f"shared ENTSO-E/Kaggle files not found under {DATA} (they are never copied into the repo)",
)

HOURS_2015_2017 = 26_304
MISSING_ACTUAL_HOURS = 34
#: SOURCES.md, 2017: next-hour y(t-1)+y(t-168)-y(t-169), seasonal naive 168 h (one decimal
#: given), the grid operator's day-ahead forecast.
REFERENCE_2017 = {"weekly_delta": 0.83, "seasonal_naive_168": 5.0, "tso_day_ahead": 1.08}
#: Computed here (not in SOURCES.md) for 2017-07-01 .. 2017-12-31: a regression check.
H2_2017_MAPE_PCT = {
    "next_hour": {
        "seasonal_naive_24": 6.71,
        "seasonal_naive_168": 5.21,
        "weekly_delta": 0.84,
        "tso_day_ahead": 1.11,
    },
    "day_ahead": {"seasonal_naive_24": 8.78, "seasonal_naive_168": 5.21, "tso_day_ahead": 1.11},
}


@pytest.fixture(scope="module")
def exports() -> DemandSeries:
    return load_series(TOTAL_LOAD_FILES)


@pytest.fixture(scope="module")
def year_2017(exports: DemandSeries) -> dict:
    report = run_backtest(exports, None, dt.date(2017, 1, 1), dt.date(2017, 12, 31))
    print(format_backtest(report))
    return report


def test_exports_load_as_one_regular_series(exports: DemandSeries) -> None:
    assert exports.hours == HOURS_2015_2017 and exports.missing_hours == MISSING_ACTUAL_HOURS
    assert exports.start == pd.Timestamp("2014-12-31 23:00", tz="UTC")
    assert exports.end == pd.Timestamp("2017-12-31 22:00", tz="UTC")
    assert exports.tso_forecast_mw is not None and exports.tso_forecast_mw.notna().all()
    assert "ENTSO-E Total Load export" in exports.description and not exports.is_sample


def test_kaggle_file_and_exports_give_identical_series(exports: DemandSeries) -> None:
    kaggle = load_series(KAGGLE_FILE)
    pd.testing.assert_series_equal(kaggle.demand_mw, exports.demand_mw)
    assert kaggle.tso_forecast_mw is not None and exports.tso_forecast_mw is not None
    pd.testing.assert_series_equal(kaggle.tso_forecast_mw, exports.tso_forecast_mw)
    # Both at once: every hour is in both files, the later (Kaggle) rows win, same values.
    both = load_series([*TOTAL_LOAD_FILES, KAGGLE_FILE])
    pd.testing.assert_series_equal(both.demand_mw, exports.demand_mw)
    assert any(f"{HOURS_2015_2017} hour(s) present in several files" in note for note in both.notes)


def test_2017_baselines_match_the_reference_figures(year_2017: dict) -> None:
    window = year_2017["window"]
    assert window["hours"] == 8760 and window["hours_without_actual"] == 2
    next_hour = year_2017["tasks"]["next_hour"]["methods"]
    day_ahead = year_2017["tasks"]["day_ahead"]["methods"]
    assert round(next_hour["weekly_delta"]["mape_pct"], 2) == REFERENCE_2017["weekly_delta"]
    for methods in (next_hour, day_ahead):
        assert round(methods["seasonal_naive_168"]["mape_pct"], 1) == REFERENCE_2017["seasonal_naive_168"]
        assert round(methods["tso_day_ahead"]["mape_pct"], 2) == REFERENCE_2017["tso_day_ahead"]
    # Every method is scored on the same hours: all 8,758 with an actual less the few whose
    # baseline needs a missing value.
    assert {m["n"] for m in next_hour.values()} == {year_2017["tasks"]["next_hour"]["hours_scored"]}
    assert 8_740 <= year_2017["tasks"]["next_hour"]["hours_scored"] <= 8_758
    assert next_hour["tso_day_ahead"]["n_available"] == 8_758
    assert all(m["coverage_p10_p90_pct"] is None for m in next_hour.values())


def test_2017_second_half(exports: DemandSeries) -> None:
    report = run_backtest(exports, None, dt.date(2017, 7, 1), dt.date(2017, 12, 31))
    print(format_backtest(report))
    mape = {
        task: {name: round(m["mape_pct"], 2) for name, m in body["methods"].items()}
        for task, body in report["tasks"].items()
    }
    assert mape == H2_2017_MAPE_PCT


def test_the_first_days_lack_history(exports: DemandSeries) -> None:
    with pytest.raises(DataValidationError, match="start on 2015-01-09 or later") as caught:
        run_backtest(exports, None, dt.date(2015, 1, 1), dt.date(2015, 1, 31))
    assert caught.value.field == "start"
    run_backtest(exports, None, dt.date(2015, 1, 9), dt.date(2015, 1, 31))
