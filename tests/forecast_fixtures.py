"""A tiny forecaster config and a synthetic hourly series, shared by the forecaster and serving tests,
with a synthetic temperature that drives part of the demand, for the weather models."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from datalake.forecasting.config import ForecastConfig

if TYPE_CHECKING:
    from datalake.forecasting.forecaster import TrainingSummary, TransformerForecaster
    from datalake.forecasting.weather import WeatherHistory

#: Small enough to train in seconds on one core; still a full week of anchor history.
TINY = ForecastConfig(
    context_patches=9, d_model=16, n_heads=2, n_layers=1, max_epochs=3, samples_per_epoch=256, batch_size=64
)
FIRST_HOUR = pd.Timestamp("2024-01-01 00:00", tz="UTC")
#: The synthetic series trains up to this instant and validates from it ...
VALIDATION_START = pd.Timestamp("2024-03-15", tz="UTC")
#: ... to this one.
VALIDATION_END = pd.Timestamp("2024-04-30", tz="UTC")


def synthetic_series(days: int = 120, seed: int = 3) -> pd.Series:
    index = pd.date_range(FIRST_HOUR, periods=24 * days, freq="h", name="ts_utc")
    local = index.tz_convert("Europe/Madrid")
    rng = np.random.default_rng(seed)
    daily = 3000 * np.sin(2 * np.pi * (local.hour - 8) / 24)
    weekly = np.where(local.weekday >= 5, -4000.0, 0.0)
    return pd.Series(28_000 + daily + weekly + rng.normal(0, 200, len(index)), index=index, name="demand_mw")


def demand_rows(series: pd.Series, source: str) -> pd.DataFrame:
    """``demand_hourly`` rows (national) from an hourly series, as the warehouse stores them."""
    return pd.DataFrame(
        {
            "ts_utc": series.index,
            "local_date": series.index.tz_convert("Europe/Madrid").date,
            "region": "national",
            "demand_mw": series.to_numpy(),
            "source": source,
            "tso_forecast_mw": None,
            "extracted_at": pd.Timestamp("2024-05-01", tz="UTC"),
        }
    )


def fit_on_synthetic(
    forecaster: TransformerForecaster, series: pd.Series, weather: WeatherHistory | None = None
) -> TrainingSummary:
    """Fit quietly: train from the series' first hour to :data:`VALIDATION_START`, validate to
    :data:`VALIDATION_END`."""
    return forecaster.fit(
        series,
        (series.index[0], VALIDATION_START),
        (VALIDATION_START, VALIDATION_END),
        show_bar=False,
        weather=weather,
    )


def synthetic_temperature(days: int = 160, seed: int = 5) -> pd.Series:
    """A seasonal, daily temperature cycle (°C) from 30 days before the demand series."""
    index = pd.date_range(FIRST_HOUR - pd.Timedelta(days=30), periods=24 * days, freq="h", name="ts_utc")
    rng = np.random.default_rng(seed)
    hours = np.arange(len(index))
    values = 12 + 8 * np.sin(2 * np.pi * hours / (24 * 90)) + 5 * np.sin(2 * np.pi * (hours % 24 - 9) / 24)
    return pd.Series(values + rng.normal(0, 0.5, len(index)), index=index)


def weather_dependent_series(temperature: pd.Series) -> pd.Series:
    """The synthetic demand plus a heating load below 16 °C: something weather explains."""
    base = synthetic_series()
    heating = np.maximum(0.0, 16.0 - temperature.reindex(base.index).to_numpy())
    return base + 400.0 * heating


def live_weather(temperature: pd.Series, issues: list[pd.Timestamp], shift_c: float = 2.0) -> pd.DataFrame:
    """weather_national_hourly rows: every hour observed, and forecasts (observed + shift) per issue."""
    observed = pd.DataFrame(
        {"ts_utc": temperature.index, "kind": "observed", "issued_at": pd.NaT, "temperature_c": temperature}
    )
    forecasts = [
        pd.DataFrame(
            {
                "ts_utc": temperature.index[temperature.index >= issue],
                "kind": "forecast",
                "issued_at": issue,
                "temperature_c": temperature[temperature.index >= issue] + shift_c,
            }
        )
        for issue in issues
    ]
    return pd.concat([observed, *forecasts], ignore_index=True)


def synthetic_weather_model(
    config: ForecastConfig,
) -> tuple[TransformerForecaster, pd.Series, WeatherHistory]:
    """A weather model of ``config`` fitted on :func:`weather_dependent_series`.

    Returns
    -------
    tuple
        The fitted forecaster, the demand series and the weather history it was fitted with.
    """
    # Imported here: most users of these fixtures never train and need not load torch.
    import torch

    from datalake.forecasting.forecaster import TransformerForecaster
    from datalake.forecasting.weather import WeatherHistory

    torch.set_num_threads(1)
    temperature = synthetic_temperature()
    series = weather_dependent_series(temperature)
    forecaster = TransformerForecaster(config)
    weather = WeatherHistory(temperature, description="synthetic")
    fit_on_synthetic(forecaster, series, weather)
    return forecaster, series, weather
