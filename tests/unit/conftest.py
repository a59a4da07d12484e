"""Unit fixtures: a tiny forecaster trained once per module on a synthetic series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from forecast_fixtures import TINY, synthetic_series

from datalake.forecasting.forecaster import TransformerForecaster


@pytest.fixture(scope="module")
def trained() -> TransformerForecaster:
    torch.set_num_threads(1)
    series = synthetic_series()
    forecaster = TransformerForecaster(TINY)
    summary = forecaster.fit(
        series,
        (series.index[0], pd.Timestamp("2024-03-15", tz="UTC")),
        (pd.Timestamp("2024-03-15", tz="UTC"), pd.Timestamp("2024-04-30", tz="UTC")),
        show_bar=False,
    )
    assert summary.epochs == 3 and np.isfinite(summary.best_validation_loss)
    return forecaster
