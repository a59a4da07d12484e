"""The weather model on a short real slice: ENTSO-E demand and the shared weather file, autumn 2016.

Skipped when ../shared/data is not there (the project never copies it in). A tiny model
trains for two epochs (seconds); the checks are on the plumbing the real files go through
(national series, covariates, the two backtests, the CLI's JSON), not on accuracy.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from forecast_fixtures import TINY
from typer.testing import CliRunner

from datalake.cli import app
from datalake.forecasting.backtest import run_backtest
from datalake.forecasting.data import load_series
from datalake.forecasting.forecaster import TransformerForecaster
from datalake.forecasting.weather import ForecastError, read_weather_file

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DEMAND_2016 = SHARED / "spain_demand" / "entsoe" / "Total Load - Day Ahead _ Actual_2016.csv"
WEATHER_FILE = SHARED / "spain_weather" / "weather_features_2015_2017.csv.gz"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (DEMAND_2016.is_file() and WEATHER_FILE.is_file()),
        reason=f"shared demand/weather files not found under {SHARED} (never copied into the repo)",
    ),
]

WEATHER_TINY = dataclasses.replace(TINY, calendar="regional", weather=True, max_epochs=2)


def test_weather_model_on_real_autumn_2016_backtests_both_ways(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    series = load_series(DEMAND_2016)
    weather = read_weather_file(WEATHER_FILE)
    # The national series: every hour of 2015-2017, five cities reporting, plausible values.
    assert len(weather.observed_c) == 26_304 and weather.observed_c.notna().all()
    assert 0 < weather.observed_c["2016-08"].mean() - weather.observed_c["2016-01"].mean() < 25
    demand = series.demand_mw["2016-08-01":"2016-12-31"]
    forecaster = TransformerForecaster(WEATHER_TINY)
    forecaster.fit(
        demand,
        (demand.index[0], pd.Timestamp("2016-11-01", tz="UTC")),
        (pd.Timestamp("2016-11-01", tz="UTC"), pd.Timestamp("2016-12-01", tz="UTC")),
        show_bar=False,
        weather=weather,
    )
    assert forecaster.normalisation["weather"]["source"].startswith("weather_features_2015_2017")
    start, end = pd.Timestamp("2016-12-05").date(), pd.Timestamp("2016-12-11").date()
    observed = run_backtest(series, forecaster.with_weather(weather), start, end, "weather")
    noisy = run_backtest(
        series, forecaster.with_weather(weather.with_error(ForecastError())), start, end, "weather"
    )
    for report in (observed, noisy):
        scores = report["tasks"]["day_ahead"]["methods"]["weather"]
        assert np.isfinite(scores["mape_pct"]) and scores["n"] == 7 * 24
    # The error model moves the day-ahead forecast, and far less the next hour's (0.27 °C at 1 h).
    day_ahead = [r["tasks"]["day_ahead"]["methods"]["weather"]["mae_mw"] for r in (observed, noisy)]
    next_hour = [r["tasks"]["next_hour"]["methods"]["weather"]["mae_mw"] for r in (observed, noisy)]
    assert day_ahead[0] != day_ahead[1]
    assert abs(next_hour[0] - next_hour[1]) < abs(day_ahead[0] - day_ahead[1]) + 1.0

    model_dir = forecaster.save(tmp_path / "weather-model")
    runner = CliRunner()
    base = ["forecast", "backtest", "--start", "2016-12-05", "--end", "2016-12-11"]
    base += ["--input", str(DEMAND_2016), "--model", str(model_dir), "--json"]
    missing = runner.invoke(app, base)
    assert missing.exit_code == 2 and "--weather" in missing.output
    result = runner.invoke(app, [*base, "--weather", str(WEATHER_FILE), "--weather-error", "realistic"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    methods = report["tasks"]["day_ahead"]["methods"]
    assert methods["weather-model"]["mape_pct"] == pytest.approx(
        noisy["tasks"]["day_ahead"]["methods"]["weather"]["mape_pct"]
    )
    assert report["weather"]["error"] == "realistic" and "tso_day_ahead" in methods
