"""The demo's quick forecaster: a few epochs on a short series, a week forecast, or a stated skip."""

from __future__ import annotations

from pathlib import Path

import pytest
from forecast_fixtures import synthetic_series

from datalake.forecasting.data import DemandSeries
from datalake.models import model_registry
from datalake.pipelines.demo import DEMO_FORECAST_EPOCHS, DEMO_FORECAST_MIN_DAYS, quick_forecast
from datalake.settings import Settings

pytestmark = pytest.mark.integration


def settings_in(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None, lake_runtime="local", lake_root=tmp_path / "lake", mlflow_track_training=False
    )


def series_of(days: int) -> DemandSeries:
    return DemandSeries(synthetic_series(days=days), None, "SAMPLE synthetic demand")


def test_a_short_series_is_skipped_with_the_days_it_needs(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    result = quick_forecast(series_of(30), settings)
    assert result["days"] is None
    assert result["skipped"].startswith("skipped: 30 days of SAMPLE demand")
    assert f"needs {DEMO_FORECAST_MIN_DAYS}" in result["skipped"]
    assert model_registry(settings).champion() is None  # nothing trained, nothing registered


def test_a_quick_training_promotes_a_first_champion_and_forecasts_the_next_week(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    series = series_of(DEMO_FORECAST_MIN_DAYS + 4)
    result = quick_forecast(series, settings)
    assert result["skipped"] is None
    week = result["days"]
    # Seven local days after the series' last hour, each with an ordered band in MW.
    assert len(week) in (7, 8)  # a week of hours spans 8 local days unless it starts at midnight
    assert (week["lowest p10 MW"] <= week["mean p50 MW"]).all()
    assert (week["mean p50 MW"] <= week["highest p90 MW"]).all()
    assert week["mean p50 MW"].between(15_000, 45_000).all()  # the synthetic demand is ~28 GW
    champion = model_registry(settings).champion()
    assert champion is not None and champion["version"] in result["line"]
    trained_epochs = int(result["line"].split(" epochs")[0].rsplit(" ", 1)[-1])
    assert 1 <= trained_epochs <= DEMO_FORECAST_EPOCHS  # the stated budget, early stopping aside
    assert "day-ahead MAPE" in result["line"] and "MW" in result["line"]
