"""A tiny forecaster config and a synthetic hourly series, shared by the forecaster and serving tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from datalake.forecasting.config import ForecastConfig

#: Small enough to train in seconds on one core; still a full week of anchor history.
TINY = ForecastConfig(
    context_patches=9, d_model=16, n_heads=2, n_layers=1, max_epochs=3, samples_per_epoch=256, batch_size=64
)
FIRST_HOUR = pd.Timestamp("2024-01-01 00:00", tz="UTC")


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
