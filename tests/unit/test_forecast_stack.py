"""The gradient-boosted residual stack of the weather model: causal features, a fit that learns
a residual, and a weather model that trains, saves, loads and forecasts with it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from forecast_fixtures import TINY, live_weather, synthetic_temperature, synthetic_weather_model

from datalake.forecasting.backtest import check_no_lookahead
from datalake.forecasting.boosted import ResidualStack, companion_features, stack_features
from datalake.forecasting.features import calendar_for
from datalake.forecasting.forecaster import STACK_FILE, TransformerForecaster
from datalake.forecasting.weather import N_WEATHER, ForecastError, WeatherHistory, from_national

pytestmark = pytest.mark.unit

STACKED_TINY = dataclasses.replace(
    TINY, calendar="regional", weather=True, local_week_anchor=True, residual_stack=True
)


def test_features_read_only_hours_before_the_origin_and_a_week_before_the_target() -> None:
    hours = pd.date_range("2024-01-01", periods=24 * 40, freq="h", tz="UTC")
    rng = np.random.default_rng(0)
    values = 30000 + 2000 * rng.random(len(hours))
    calendar = calendar_for(hours, "Europe/Madrid", "ES", "regional")
    origins = np.array([24 * 20 + 5, 24 * 30])
    horizons = np.arange(1, 49)
    weather = rng.random((2, 48, N_WEATHER))
    features, reference = companion_features(values, calendar, None, origins, horizons, weather)
    assert features.shape[:2] == (2, 48)
    # The reference is the same hour a week before the target.
    assert reference[0, 10] == values[origins[0] + 10 - 168]
    # Changing every value from the first origin on changes no feature of that origin.
    changed = values.copy()
    changed[origins[0] :] *= 1.5
    again, _ = companion_features(changed, calendar, None, origins[:1], horizons, weather[:1])
    assert np.array_equal(features[:1], again)
    # The second origin, later, does see the change: the features are not constant.
    later, _ = companion_features(changed, calendar, None, origins[1:], horizons, weather[1:])
    assert not np.allclose(features[1:], later)
    # The stack's input adds the transformer's median relative to the reference.
    p50 = reference * 1.02
    stacked, _ = stack_features(values, calendar, None, origins, horizons, weather, p50)
    assert stacked.shape[-1] == features.shape[-1] + 2
    assert np.allclose(stacked[..., -2], 0.02, atol=1e-6)


def test_the_stack_learns_a_residual_and_corrects_only_the_horizons_it_covers() -> None:
    rng = np.random.default_rng(1)
    rows, features_n = 3000, 4
    features = rng.normal(size=(rows, 1, features_n)).astype(np.float32)
    reference = np.full((rows, 1), 30000.0)
    p50 = reference * 1.0
    # The transformer is wrong by 3 % whenever the first feature is positive (plus noise).
    actual = p50 * (1 + 0.03 * (features[..., 0] > 0) + rng.normal(0, 0.002, (rows, 1)))
    stack = ResidualStack().fit("next_hour", features, reference, actual, p50)
    assert stack.ahead is None and stack.notes["next_hour"]["rows"] == rows
    correction = stack.correct(features, reference, np.array([1]))
    before = np.mean(np.abs(p50 - actual) / actual)
    after = np.mean(np.abs(p50 + correction - actual) / actual)
    assert after < before / 3
    # Horizons the fitted parts do not cover get no correction.
    wide = np.repeat(features, 3, axis=1)
    both = stack.correct(wide, np.repeat(reference, 3, axis=1), np.array([1, 2, 3]))
    assert np.array_equal(both[:, 0], correction[:, 0]) and not both[:, 1:].any()
    with pytest.raises(ValueError, match="part"):
        stack.fit("tomorrow", features, reference, actual, p50)


def test_a_stack_needs_a_weather_model() -> None:
    with pytest.raises(ValueError, match="residual_stack"):
        dataclasses.replace(TINY, residual_stack=True)


@pytest.fixture(scope="module")
def stacked_model() -> tuple[TransformerForecaster, pd.Series, WeatherHistory]:
    return synthetic_weather_model(STACKED_TINY)


def test_a_stacked_weather_model_trains_saves_loads_and_corrects(stacked_model, tmp_path: Path) -> None:
    forecaster, series, weather = stacked_model
    assert forecaster.stack is not None
    assert forecaster.stack.next_hour is not None and forecaster.stack.ahead is not None
    origins = pd.date_range("2024-04-10 11:00", periods=4, freq="13h", tz="UTC")
    stacked = forecaster.forecast(series, origins, 60, weather=weather)
    loaded = TransformerForecaster.load(forecaster.save(tmp_path / "stacked"))
    assert (tmp_path / "stacked" / STACK_FILE).is_file()
    assert np.array_equal(loaded.forecast(series, origins, 60, weather=weather), stacked)
    # The correction moves the first step (horizons 1-48) and the band moves with the median.
    loaded.stack = None
    alone = loaded.forecast(series, origins, 60, weather=weather)
    moved = stacked[:, :48, 1] - alone[:, :48, 1]
    assert np.abs(moved).max() > 0
    assert np.allclose(stacked[:, :48, 0] - alone[:, :48, 0], moved)
    assert np.array_equal(stacked[:, 48:], alone[:, 48:])
    # It reads only the past, and the weather the transformer reads (a noisy one moves it too).
    check_no_lookahead(forecaster.with_weather(weather), series, origins[:2], 36)
    noisy = forecaster.forecast(
        series, origins, 36, weather=weather.with_error(ForecastError(sigma_at_30h_c=5.0))
    )
    assert not np.allclose(noisy[:, 12:36, 1], stacked[:, 12:36, 1])


def test_a_stacked_model_live_reads_the_stored_forecast_not_later_observations(stacked_model) -> None:
    forecaster, series, _ = stacked_model
    temperature = synthetic_temperature()
    origin = pd.Timestamp("2024-04-20 11:00", tz="UTC")
    rows = live_weather(temperature, [origin - pd.Timedelta(hours=11)])
    clean = forecaster.forecast(series, [origin], 36, weather=from_national(rows, mode="issued"))
    assert np.isfinite(clean).all()
    tampered = rows.copy()
    after = (tampered["kind"] == "observed") & (tampered["ts_utc"] >= origin)
    tampered.loc[after, "temperature_c"] -= 15.0
    again = forecaster.forecast(series, [origin], 36, weather=from_national(tampered, mode="issued"))
    assert np.array_equal(clean, again)
