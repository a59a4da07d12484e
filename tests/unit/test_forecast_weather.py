"""The forecaster's weather covariates: holidays, derived features, the forecast-error model,
no look-ahead into observed weather, the fallback without weather, and the promotion rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from forecast_fixtures import (
    TINY,
    fit_on_synthetic,
    live_weather,
    synthetic_series,
    synthetic_temperature,
    synthetic_weather_model,
    weather_dependent_series,
)

from datalake.errors import DataValidationError
from datalake.forecasting import serving
from datalake.forecasting.backtest import check_no_lookahead
from datalake.forecasting.data import DemandSeries
from datalake.forecasting.features import (
    N_CALENDAR,
    N_REGIONAL_EXTRA,
    calendar_for,
    is_bridge,
    regional_days,
)
from datalake.forecasting.forecaster import TransformerForecaster
from datalake.forecasting.pipeline import Split, train_forecaster
from datalake.forecasting.weather import (
    N_WEATHER,
    ForecastError,
    WeatherHistory,
    from_national,
    local_day_ids,
    temperature_features,
)
from datalake.models import ModelRegistry
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

pytestmark = pytest.mark.unit

WEATHER_TINY = dataclasses.replace(TINY, calendar="regional", weather=True, local_week_anchor=True)


@pytest.fixture(scope="module")
def weather_model() -> tuple[TransformerForecaster, pd.Series, WeatherHistory]:
    return synthetic_weather_model(WEATHER_TINY)


# -- the holiday calendar -----------------------------------------------------------------------


def test_regional_calendar_has_the_movable_feasts_and_bridge_days() -> None:
    days = regional_days("ES", 2016, 2017)
    assert days[dt.date(2017, 4, 14)][0] == pytest.approx(1.0)  # Good Friday: national
    # Maundy Thursday: every region but Catalonia (and Valencia in 2017 has it); most people.
    assert 0.6 < days[dt.date(2017, 4, 13)][0] < 1.0
    # Easter Monday: Catalonia, Valencia, the Basque Country, Navarre, ...: about a third.
    assert 0.2 < days[dt.date(2017, 4, 17)][0] < 0.5
    # Corpus Christi (Thursday 26 May 2016): Castilla-La Mancha only.
    assert 0.0 < days[dt.date(2016, 5, 26)][0] < 0.1
    # Monday 14 August 2017 before Assumption (Tuesday) and Friday 13 October after National Day.
    assert days[dt.date(2017, 8, 14)][1] == pytest.approx(1.0)
    assert days[dt.date(2017, 10, 13)][1] == pytest.approx(1.0)
    # A plain Wednesday is neither.
    assert dt.date(2017, 3, 8) not in days


def test_a_bridge_is_a_working_day_between_two_days_off() -> None:
    off = frozenset({dt.date(2017, 8, 15), dt.date(2017, 12, 6), dt.date(2017, 12, 8)})
    assert is_bridge(dt.date(2017, 8, 14), off)  # Monday before a Tuesday holiday
    assert is_bridge(dt.date(2017, 12, 7), off)  # Thursday between two holidays
    assert not is_bridge(dt.date(2017, 8, 16), off)  # Wednesday after it: Thursday is a work day
    assert not is_bridge(dt.date(2017, 8, 13), off)  # a Sunday is already off


def test_regional_calendar_adds_its_columns_after_the_national_ones() -> None:
    hours = pd.date_range("2016-12-23 23:00", periods=72, freq="h", tz="UTC")
    national = calendar_for(hours, "Europe/Madrid", "ES", "national")
    regional = calendar_for(hours, "Europe/Madrid", "ES", "regional")
    assert national.shape == (72, N_CALENDAR)
    assert regional.shape == (72, N_CALENDAR + N_REGIONAL_EXTRA)
    assert np.array_equal(regional[:, :N_CALENDAR], national)
    local = hours.tz_convert("Europe/Madrid")
    christmas = regional[:, N_CALENDAR + 2]
    assert christmas[local.day == 23].sum() == 0 and (christmas[local.day == 24] == 1).all()
    # 25 December 2016 is a Sunday: a fixed special day all the same.
    assert (regional[local.day == 25, N_CALENDAR + 5] == 1).all()
    assert (regional[local.day == 24, N_CALENDAR + 5] == 0).all()
    # A week after a holiday, the "holiday a week before" column says so (the anchor's day).
    later = pd.date_range("2017-08-21 22:00", periods=26, freq="h", tz="UTC")  # 22 August, local
    after = calendar_for(later, "Europe/Madrid", "ES", "regional")
    assert (after[:24, N_CALENDAR + 3] == 1).all() and (after[:24, N_CALENDAR] == 0).all()
    assert (after[24:, N_CALENDAR + 3] == 0).all()
    with pytest.raises(ValueError, match="calendar"):
        calendar_for(hours, "Europe/Madrid", "ES", "provincial")


# -- derived features -------------------------------------------------------------------------------


def test_degrees_and_day_statistics_follow_the_local_day() -> None:
    # 26 March 2017 has 23 hours in Madrid: the day statistics must take exactly those.
    hours = pd.date_range("2017-03-24 23:00", "2017-04-03 22:00", freq="h", tz="UTC")
    temperature = np.linspace(5.0, 30.0, len(hours))
    days = local_day_ids(hours, "Europe/Madrid")
    features = temperature_features(temperature[None], days[None], (16.0, 21.0))[0]
    assert features.shape == (len(hours), N_WEATHER)
    heating, cooling = features[:, 1] * 5, features[:, 2] * 5
    assert np.allclose(heating, np.maximum(0, 16 - temperature), atol=1e-4)
    assert np.allclose(cooling, np.maximum(0, temperature - 21), atol=1e-4)
    comfortable = (temperature >= 16) & (temperature <= 21)
    assert (heating[comfortable] == 0).all() and (cooling[comfortable] == 0).all()
    spring_day = hours.tz_convert("Europe/Madrid").date == dt.date(2017, 3, 26)
    assert spring_day.sum() == 23
    assert np.allclose(features[spring_day, 3] * 10 + 15, temperature[spring_day].mean(), atol=1e-3)
    assert np.allclose(features[spring_day, 4] * 10 + 15, temperature[spring_day].min(), atol=1e-3)
    assert np.allclose(features[spring_day, 5] * 10 + 15, temperature[spring_day].max(), atol=1e-3)
    # The week-ago change: 0 for the first week, then the difference of the day means.
    assert (features[:168, 8] == 0).all()
    assert np.allclose(features[200, 8] * 5, (features[200, 3] - features[200 - 168, 3]) * 10, atol=1e-3)


# -- the forecast-error model -----------------------------------------------------------------------


def test_forecast_error_grows_with_the_horizon_persists_and_is_seeded() -> None:
    error = ForecastError()
    assert error.sigma(np.array([30]))[0] == pytest.approx(1.5)
    assert 1.3 < error.sigma(np.array([24]))[0] < error.sigma(np.array([36]))[0] < 1.7
    draws = error.draw(np.random.default_rng(0), 20_000, 48)
    spread = draws.std(axis=0)
    assert spread[29] == pytest.approx(1.5, rel=0.05)
    assert spread[0] < 0.4 and spread[47] > 1.8
    unit = draws / error.sigma(np.arange(1, 49))
    assert np.corrcoef(unit[:, 20], unit[:, 21])[0, 1] == pytest.approx(0.95, abs=0.02)
    assert abs(draws.mean()) < 0.05
    origin = pd.Timestamp("2017-07-01 10:00", tz="UTC")
    assert np.array_equal(error.for_origin(origin, 36), error.for_origin(origin, 36))
    assert not np.array_equal(
        error.for_origin(origin, 36), error.for_origin(origin + pd.Timedelta(hours=1), 36)
    )


def test_observed_weather_with_error_changes_only_the_hours_from_the_origin() -> None:
    temperature = synthetic_temperature()
    weather = WeatherHistory(temperature, error=ForecastError())
    origin = pd.Timestamp("2024-02-01 11:00", tz="UTC")
    hours = pd.date_range(origin - pd.Timedelta(hours=48), periods=96, freq="h")
    known = weather.known_at(origin, hours)
    observed = temperature.reindex(hours).to_numpy()
    assert np.array_equal(known[:48], observed[:48])
    assert np.abs(known[48:] - observed[48:]).max() > 0.1


# -- no look-ahead ------------------------------------------------------------------------------------


def test_live_weather_never_reads_an_observation_after_the_origin() -> None:
    temperature = synthetic_temperature()
    origin = pd.Timestamp("2024-02-10 12:00", tz="UTC")
    rows = live_weather(temperature, [origin - pd.Timedelta(hours=12), origin + pd.Timedelta(hours=1)])
    weather = from_national(rows, mode="issued")
    hours = pd.date_range(origin - pd.Timedelta(hours=5), periods=30, freq="h")
    known = weather.known_at(origin, hours)
    # Before the origin: the observation. From it on: the issue of 12 h before (+2 °C), not the
    # later issue, not the observation.
    assert np.allclose(known[:5], temperature.reindex(hours[:5]))
    assert np.allclose(known[5:], temperature.reindex(hours[5:]) + 2.0)
    tampered = rows.copy()
    future_obs = (tampered["kind"] == "observed") & (tampered["ts_utc"] >= origin)
    tampered.loc[future_obs, "temperature_c"] += 50.0
    later_issue = tampered["issued_at"] > origin
    tampered.loc[later_issue, "temperature_c"] -= 50.0
    assert np.array_equal(from_national(tampered, mode="issued").known_at(origin, hours), known)
    # No forecast issued by then for a later hour: refused, never filled with the observation.
    with pytest.raises(DataValidationError, match="no forecast issued by then"):
        from_national(rows[rows["kind"] == "observed"], mode="issued").known_at(origin, hours)


def test_weather_model_forecast_ignores_observations_after_the_origin(weather_model) -> None:
    forecaster, series, _ = weather_model
    temperature = synthetic_temperature()
    origin = pd.Timestamp("2024-04-20 11:00", tz="UTC")
    rows = live_weather(temperature, [origin - pd.Timedelta(hours=11)])
    clean = forecaster.forecast(series, [origin], 36, weather=from_national(rows, mode="issued"))
    tampered = rows.copy()
    after = (tampered["kind"] == "observed") & (tampered["ts_utc"] >= origin)
    tampered.loc[after, "temperature_c"] -= 15.0
    again = forecaster.forecast(series, [origin], 36, weather=from_national(tampered, mode="issued"))
    assert np.array_equal(clean, again)
    # The stored forecast is what it reads: a colder forecast raises the heating-driven demand.
    colder = rows.copy()
    colder.loc[colder["kind"] == "forecast", "temperature_c"] -= 8.0
    moved = forecaster.forecast(series, [origin], 36, weather=from_national(colder, mode="issued"))
    assert not np.allclose(moved, clean)
    # Demand at or after the origin is never read either.
    check_no_lookahead(forecaster.with_weather(from_national(rows, mode="issued")), series, [origin], 36)


def test_weather_model_needs_weather_and_refuses_it_short() -> None:
    temperature = synthetic_temperature()
    series = weather_dependent_series(temperature)
    forecaster = TransformerForecaster(WEATHER_TINY)
    origin = pd.Timestamp("2024-04-20 11:00", tz="UTC")
    with pytest.raises(DataValidationError, match="needs the weather"):
        forecaster.forecast(series, [origin], 24)
    # A record that stops before the origin lacks past hours: refused.
    short = WeatherHistory(temperature[temperature.index < origin - pd.Timedelta(hours=10)])
    with pytest.raises(DataValidationError, match="no observed temperature"):
        forecaster.forecast(series, [origin], 24, weather=short)
    # One that stops after it: the unobserved future hours take the day before (a backtest's end).
    ending = WeatherHistory(temperature[temperature.index < origin + pd.Timedelta(hours=10)])
    assert np.isfinite(forecaster.forecast(series, [origin], 24, weather=ending)).all()


# -- serving and promotion ------------------------------------------------------------------------------


def test_serving_falls_back_to_the_model_without_weather(weather_model, trained) -> None:
    forecaster, series, _ = weather_model
    history = series[series.index < pd.Timestamp("2024-04-20 11:00", tz="UTC")]
    plain = serving.ServedModel(trained, "v-plain")
    served = serving.ServedModel(forecaster, "v-weather", fallback=plain)
    assert served.describe() == {
        "version": "v-weather",
        "covariates": "weather",
        "fallback_version": "v-plain",
    }
    answer = serving.forecast(served, history, 24)
    assert answer["model_version"] == "v-plain" and answer["covariates"] == "calendar only"
    assert "no weather given" in answer["weather_note"]
    # Observations are not a forecast: a live answer never uses them for the hours ahead.
    observed = WeatherHistory(synthetic_temperature())
    assert serving.forecast(served, history, 24, observed)["model_version"] == "v-plain"
    origin = history.index[-1] + pd.Timedelta(hours=1)
    issued = from_national(live_weather(synthetic_temperature(), [origin - pd.Timedelta(hours=3)]), "issued")
    answer = serving.forecast(served, history, 24, issued)
    assert answer["model_version"] == "v-weather" and answer["covariates"] == "weather"
    with pytest.raises(DataValidationError, match="no fallback"):
        serving.forecast(serving.ServedModel(forecaster, "v-weather"), history, 24)


def test_weather_challenger_is_judged_and_the_plain_model_stays_as_fallback(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    temperature = synthetic_temperature()
    values = weather_dependent_series(temperature).rename("demand_mw").rename_axis("ts_utc")
    series = DemandSeries(demand_mw=values, tso_forecast_mw=None, description="synthetic")
    split = Split(dt.date(2024, 3, 15), dt.date(2024, 4, 10), dt.date(2024, 4, 25))
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=tmp_path / "lake")
    first = train_forecaster(series, TINY, split, settings=settings, show_bar=False)["details"]
    weather = WeatherHistory(temperature, description="synthetic")
    second = train_forecaster(series, WEATHER_TINY, split, settings=settings, show_bar=False, weather=weather)
    details = second["details"]
    assert first["promoted"] and details["champion_before"] == first["version"]
    assert details["champion_scores"] is not None and details["weather"] == "synthetic"
    registry = ModelRegistry(LocalObjectStore(tmp_path / "lake" / "_artifacts"))
    assert registry.get(details["version"])["metrics"]["weather"] is True
    assert registry.get(first["version"])["metrics"]["weather"] is False
    if details["promoted"]:
        served = serving.load_champion(tmp_path / "served", settings)
        assert served.needs_weather and served.fallback is not None
        assert served.fallback.version == first["version"]


def test_api_says_which_model_serves_and_falls_back_without_weather(tmp_path: Path) -> None:
    from api_fixtures import fake_services, synthetic_history
    from fastapi.testclient import TestClient

    from api.main import create_app

    TransformerForecaster(WEATHER_TINY).save(tmp_path / "weather")
    TransformerForecaster(TINY).save(tmp_path / "plain")
    champion = serving.load_served_model(tmp_path / "weather")
    champion.version, champion.fallback = "v-weather", serving.load_served_model(tmp_path / "plain")
    champion.fallback.version = "v-plain"
    history = synthetic_history()
    origin = history.index[-1] + pd.Timedelta(hours=1)
    stored = [None]
    settings = Settings(_env_file=None, lake_root=tmp_path / "lake", db_connect_timeout_s=1)
    services = fake_services(
        settings,
        tmp_path,
        load_champion=lambda _dest: champion,
        load_history=lambda hours: history.iloc[-hours:],
        load_weather=lambda: stored[0],
    )
    with TestClient(create_app(settings, services)) as client:
        answer = client.get("/forecast", params={"hours": 24}).json()
        assert answer["model_version"] == "v-plain" and answer["covariates"] == "calendar only"
        assert "no weather given" in answer["weather_note"]
        model = client.get("/health/details").json()["readiness"]["checks"]["model"]
        assert model["version"] == "v-weather" and model["covariates"] == "weather"
        assert model["fallback_version"] == "v-plain"
        assert model["last_answer"]["version"] == "v-plain"
        # With the stored forecast issued before the origin, the weather model answers.
        stored[0] = from_national(
            live_weather(synthetic_temperature(), [origin - pd.Timedelta(hours=6)]), mode="issued"
        )
        answer = client.get("/forecast", params={"hours": 12}).json()
        assert answer["model_version"] == "v-weather" and answer["covariates"] == "weather"


def test_plots_draw_the_temperature_and_the_error_profile(weather_model, tmp_path: Path) -> None:
    from datalake.forecasting.plot import plot_error_profile, plot_forecast

    forecaster, series, weather = weather_model
    served = serving.ServedModel(forecaster, "v-weather")
    history = series[series.index < pd.Timestamp("2024-04-20 11:00", tz="UTC")]
    origin = history.index[-1] + pd.Timedelta(hours=1)
    issued = from_national(live_weather(synthetic_temperature(), [origin - pd.Timedelta(hours=2)]), "issued")
    answer = serving.forecast(served, history, 48, issued)
    path = plot_forecast(history, answer, tmp_path / "f.png", 3, weather.observed_c, "temperature")
    assert path.stat().st_size > 10_000
    errors = pd.DataFrame(
        {"local_hour": np.arange(48) % 24, "month": np.repeat([1, 2], 24), "model": np.linspace(1, 2, 48)}
    )
    assert plot_error_profile(errors, tmp_path / "e.png").stat().st_size > 10_000


def test_local_week_anchor_takes_the_same_local_hour_across_a_clock_change() -> None:
    from datalake.forecasting.model import anchors

    # 26 March 2017: clocks go forward; a week later 10:00 local is 167 UTC hours after.
    hours = pd.date_range("2017-03-20 00:00", periods=24 * 12, freq="h", tz="UTC")
    config = dataclasses.replace(TINY, local_week_anchor=True)
    from datalake.forecasting.forecaster import _Windows

    windows = _Windows(pd.Series(np.arange(len(hours), dtype=float), index=hours), config, extra_hours=48)
    local = hours.tz_convert("Europe/Madrid")
    after = np.flatnonzero((local.day == 28) & (local.hour == 10))[0]
    before = np.flatnonzero((local.day == 21) & (local.hour == 10))[0]
    assert windows.week_lags[after] == after - before == 167
    assert windows.week_lags[np.flatnonzero((local.day == 24) & (local.hour == 10))[0]] == 168
    values = np.arange(24 * 9 + 48, dtype=np.float64)[None]
    lags = np.full((1, values.shape[1]), 168)
    lags[0, 9 * 24 - 1 + 5] = 167
    local_anchor, _ = anchors(values, 24, 48, 9, lags)
    utc_anchor, _ = anchors(values, 24, 48, 9)
    assert local_anchor[0, 8, 4] == utc_anchor[0, 8, 4] + 1  # one hour later a week before
    assert np.array_equal(np.delete(local_anchor[0, 8], 4), np.delete(utc_anchor[0, 8], 4))


def _local_index(local: pd.DatetimeIndex, day: str, hour: int) -> int:
    return int(np.flatnonzero((local.strftime("%Y-%m-%d") == day) & (local.hour == hour))[0])


def test_calendar_anchor_reads_a_sunday_for_a_holiday_and_two_weeks_back_after_one() -> None:
    from datalake.forecasting.features import calendar_anchor_mix

    hours = pd.date_range("2017-03-01", "2017-05-20", freq="h", tz="UTC")
    local = hours.tz_convert("Europe/Madrid")
    lags, weights = calendar_anchor_mix(hours, "Europe/Madrid", "ES")

    def read(day: str, hour: int = 10) -> tuple[list[str], list[float]]:
        at = _local_index(local, day, hour)
        return [str(local[at - lag])[:16] for lag in lags[at]], weights[at].astype(float).round(2).tolist()

    # Good Friday (everyone off): the Sunday before; the week-before day is left out.
    assert read("2017-04-14") == (["2017-04-07 10:00", "2017-03-31 10:00", "2017-04-09 10:00"], [0, 0, 1])
    # Maundy Thursday: 84 % of the population off (all but Catalonia), so 84 % Sunday.
    assert read("2017-04-13")[1] == [0.16, 0, 0.84]
    # A week after Good Friday and after 1 May: two weeks back instead.
    assert read("2017-04-21") == (["2017-04-14 10:00", "2017-04-07 10:00", "2017-04-16 10:00"], [0, 1, 0])
    assert read("2017-05-08")[1] == [0, 1, 0]
    # Across the spring clock change the same LOCAL hour is read; an ordinary day is a week back.
    assert read("2017-03-27") == (["2017-03-20 10:00", "2017-03-13 10:00", "2017-03-19 10:00"], [1, 0, 0])
    assert np.allclose(weights.sum(axis=1), 1)


def test_calendar_anchor_moves_the_anchor_of_a_holiday_and_keeps_other_days() -> None:
    from datalake.forecasting.model import anchors

    config = dataclasses.replace(TINY, calendar="regional", local_week_anchor=True, calendar_anchor=True)
    from datalake.forecasting.forecaster import _Windows

    # Demand 100 on working days, 60 on Sundays, 65 on Good Friday, with an hour-of-day shape.
    hours = pd.date_range("2017-03-28 00:00", periods=24 * 40, freq="h", tz="UTC")
    local = hours.tz_convert("Europe/Madrid")
    demand = np.where(local.weekday == 6, 60.0, 100.0) + local.hour.to_numpy()
    demand[np.asarray(local.strftime("%Y-%m-%d") == "2017-04-14")] -= 35  # Good Friday
    windows = _Windows(pd.Series(demand, index=hours), config, extra_hours=48)
    start = _local_index(local, "2017-03-29", 0)
    values = demand[start : start + 24 * 14 + 48][None]
    mix = windows.anchor_mix_at(np.array([start]), values.shape[1])
    lags = windows.week_lags_at(np.array([start]), values.shape[1])
    mixed, _ = anchors(values[:, : 24 * 14], 24, 48, 14, lags, mix)
    weekly, _ = anchors(values[:, : 24 * 14], 24, 48, 14, lags)
    # The last token's patch ends at 23:00 on 11 April; it predicts 12-13 April (Wednesday,
    # Maundy Thursday). Wednesday reads a Wednesday; Thursday reads 84 % of a Sunday.
    assert np.array_equal(mixed[0, -1, :24], weekly[0, -1, :24])
    thursday = mixed[0, -1, 24:48] - np.arange(24)
    share = regional_days("ES", 2017, 2017)[dt.date(2017, 4, 13)][0]
    assert 0.83 < share < 0.85
    assert np.allclose(thursday, (1 - share) * 100 + share * 60)
    assert np.allclose(weekly[0, -1, 24:48] - np.arange(24), 100)
    # From a window starting on Maundy Thursday, the token predicting the Friday after Good
    # Friday would read two weeks back, before the window: it keeps the week-before anchor.
    later = _local_index(local, "2017-04-13", 0)
    values = demand[later : later + 24 * 14][None]
    mix = windows.anchor_mix_at(np.array([later]), 24 * 16)
    lags = windows.week_lags_at(np.array([later]), 24 * 16)
    assert mix is not None and mix[1][0, 24 * 8 + 10, 1] == 1  # 21 April reads two weeks back
    mixed, _ = anchors(values, 24, 48, 14, lags, mix)
    weekly, _ = anchors(values, 24, 48, 14, lags)
    assert np.array_equal(mixed[0, 7], weekly[0, 7])
    # Given the two weeks before the window, it reads them: 7 April, an ordinary Friday.
    before = demand[later - 24 * 14 : later][None]
    mixed, _ = anchors(values, 24, 48, 14, lags, mix, before)
    assert np.allclose(mixed[0, 7, :24], 100 + np.arange(24)) and not np.allclose(mixed[0, 7], weekly[0, 7])
    with pytest.raises(ValueError, match="anchor mix"):
        from datalake.forecasting.model import token_features

        token_features(
            values[:, : 24 * 14], windows.calendar_at(np.array([start]), 24 * 16), config, None, lags
        )
    with pytest.raises(ValueError, match="calendar_anchor"):
        dataclasses.replace(TINY, calendar_anchor=True)


def test_a_calendar_anchor_model_is_served_the_two_weeks_before_its_context() -> None:
    config = dataclasses.replace(TINY, calendar="regional", local_week_anchor=True, calendar_anchor=True)
    assert config.history_hours == config.context_hours + 24 * 14
    assert TINY.history_hours == TINY.context_hours
    # Up to 11:00 on Friday 21 April 2017, the Friday after Good Friday: its anchor reads 7 April.
    hours = pd.date_range("2017-03-01", "2017-04-21 09:00", freq="h", tz="UTC")
    local = hours.tz_convert("Europe/Madrid")
    demand = np.where(local.weekday == 6, 18_000.0, 30_000.0) + 100 * local.hour.to_numpy()
    demand[np.asarray(local.strftime("%Y-%m-%d") == "2017-04-14")] -= 10_000  # Good Friday
    history = pd.Series(demand, index=hours)
    torch.manual_seed(0)
    served = serving.ServedModel(TransformerForecaster(config), "v-calendar")
    answer = serving.forecast(served, history, 24)
    context_only = serving.forecast(served, history[-config.context_hours :], 24)
    with_weeks = np.array([point["p50_mw"] for point in answer["points"]])
    week_only = np.array([point["p50_mw"] for point in context_only["points"]])
    # The rest of Friday reads alike (the weekly delta's level cancels Good Friday's dip) ...
    assert np.allclose(with_weeks[:12], week_only[:12], rtol=0.02)
    # ... but Saturday's level, from 11:00 on Friday against Good Friday, is too high
    # without the two weeks before the context: it still answers, from the week before.
    assert (week_only[12:] > with_weeks[12:] + 5_000).all()


def test_weather_table_is_read_through_the_query_port(lake_settings: Settings) -> None:
    from datalake.catalog.crawler import LocalCrawler
    from datalake.catalog.local import LocalCatalog
    from datalake.forecasting.weather import read_weather_table
    from datalake.weather.frames import NATIONAL_COLUMNS

    temperature = synthetic_temperature(days=20)
    origin = temperature.index[200]
    rows = live_weather(temperature, [origin - pd.Timedelta(hours=6)])
    for column in NATIONAL_COLUMNS:
        if column not in rows:
            rows[column] = 5 if column == "locations_reporting" else np.nan
    rows["issued_at"] = pd.to_datetime(rows["issued_at"], utc=True)
    store = LocalObjectStore(lake_settings.lake_root)
    partition = {"part-0.parquet": rows.loc[:, list(NATIONAL_COLUMNS)]}
    store.replace_partition("processed/weather_national_hourly", "year=2023/month=12", partition)
    LocalCrawler(store, LocalCatalog(store)).crawl("processed", lake_settings.processed_database)
    weather = read_weather_table("weather_national_hourly", lake_settings)
    assert weather.mode == "issued" and len(weather.observed_c) == len(temperature)
    hours = pd.date_range(origin, periods=5, freq="h")
    assert np.allclose(weather.known_at(origin, hours), temperature.reindex(hours) + 2.0)
    with pytest.raises(DataValidationError) as caught:
        read_weather_table("weather_national_hourly; DROP", lake_settings)
    assert caught.value.field == "weather_table"


def test_an_ensemble_trains_each_member_and_forecasts_their_mean(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    series = synthetic_series()
    config = dataclasses.replace(TINY, members=2, max_epochs=1)
    forecaster = TransformerForecaster(config)
    summary = fit_on_synthetic(forecaster, series)
    assert summary.epochs == 2 and [entry["member"] for entry in summary.history] == [0, 1]
    origins = pd.date_range("2024-04-10 11:00", periods=3, freq="13h", tz="UTC")
    members = forecaster.model.members
    assert not torch.equal(members[0].head.weight, members[1].head.weight)  # trained apart
    loaded = TransformerForecaster.load(forecaster.save(tmp_path / "ensemble"))
    assert np.array_equal(loaded.forecast(series, origins, 30), forecaster.forecast(series, origins, 30))
    with pytest.raises(ValueError, match="members"):
        dataclasses.replace(TINY, members=0)


def test_a_backtest_near_the_end_of_the_record_persists_only_unobserved_future_hours() -> None:
    from datalake.forecasting.forecaster import _persist_past_the_record

    hours = pd.date_range("2017-12-29 00:00", periods=72, freq="h", tz="UTC")
    temperature = np.arange(72, dtype=float)
    temperature[60:] = np.nan  # the record ends at hour 59
    future = np.arange(72) >= 50
    _persist_past_the_record(temperature, future, hours, hours[59])
    assert np.array_equal(temperature[60:], np.arange(36, 48, dtype=float))  # the day before
    past_gap = np.arange(72, dtype=float)
    past_gap[40:45] = np.nan  # before the origin: stays missing (an error downstream)
    _persist_past_the_record(past_gap, future, hours, hours[71])
    assert np.isnan(past_gap[40:45]).all()
