"""Weather covariates for the forecaster: the national temperature as it was known at each origin.

The forecaster reads the population-weighted national temperature
(:func:`datalake.weather.frames.national_hourly`) for the hours each token predicts, and
derives from it:

- heating degrees ``max(0, comfort_low - T)`` and cooling degrees ``max(0, T - comfort_high)``
  against a comfort band (16-21 °C by default: inside it, demand barely moves with temperature);
- the temperature's mean, min and max over the Europe/Madrid day of each hour;
- the change of the heating degrees, cooling degrees and day mean from the same hour a week
  before (the network predicts the change from a week ago, so the weather's change is what
  explains it).

What is "known at an origin" ``t`` (:class:`WeatherHistory`):

- hours before ``t``: the observation;
- hours from ``t`` on, in live use (``mode="issued"``): the newest stored forecast issued at
  or before ``t``, never an observation;
- in a backtest (``mode="observed"``): the observation itself (a perfect forecast, the
  optimistic bound), or the observation plus a synthetic forecast error
  (:class:`ForecastError`), seeded per origin so every run gives the same numbers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from datalake.errors import DataValidationError

if TYPE_CHECKING:
    from datalake.settings import Settings
    from datalake.weather.locations import WeatherLocation

HOUR = pd.Timedelta(hours=1)
#: Derived features per hour, in this order (see the module docstring).
WEATHER_FEATURES: tuple[str, ...] = (
    "temperature",
    "heating_degrees",
    "cooling_degrees",
    "day_mean",
    "day_min",
    "day_max",
    "heating_vs_week_ago",
    "cooling_vs_week_ago",
    "day_mean_vs_week_ago",
)
N_WEATHER = len(WEATHER_FEATURES)
WEEK_H = 168
#: Hours read before the first hour that needs features: a week for the week-ago change, and a
#: day so that the day of that week-ago hour is whole.
LEAD_HOURS = WEEK_H + 48
#: Hours read after the last one: its local day must be whole for the day's statistics.
TRAIL_HOURS = 26
#: The longest gap in the observations filled by interpolation; a longer one is an error.
MAX_GAP_HOURS = 6
ErrorSetting = Literal["none", "realistic"]
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True)
class ForecastError:
    """A temperature forecast's error, added to observations to stand in for a forecast.

    ``error(h) = sigma(h) * z(h)`` for horizon ``h`` hours after the origin, with
    ``sigma(h) = sigma_at_30h_c * sqrt(h / 30)`` (0.27 °C at 1 h, 1.34 °C at 24 h, 1.5 °C at
    30 h, 1.64 °C at 36 h, 1.9 °C at 48 h) and ``z`` a stationary AR(1) series of unit
    variance with ``hourly_correlation`` between neighbouring hours, so an error persists for
    hours as a real forecast's does (a warm bias over an afternoon, not hourly static).
    Weather services quote about 1.5 °C mean absolute error for a day-ahead temperature at
    one station; a population-weighted mean of five cities is easier to forecast, so this is
    on the pessimistic side.
    """

    sigma_at_30h_c: float = 1.5
    hourly_correlation: float = 0.95
    seed: int = 0

    def sigma(self, horizons: np.ndarray) -> np.ndarray:
        """Standard deviation (°C) of the error at horizons ``h >= 1`` (hours)."""
        return self.sigma_at_30h_c * np.sqrt(np.maximum(horizons, 0) / 30.0)

    def draw(self, rng: np.random.Generator, rows: int, hours: int) -> np.ndarray:
        """``(rows, hours)`` errors for horizons 1..hours, one independent forecast per row."""
        rho = self.hourly_correlation
        shocks = rng.standard_normal((rows, hours))
        # Start in the stationary state: the first value has unit variance like every other.
        shocks[:, 0] /= np.sqrt(1 - rho**2)
        unit = lfilter([np.sqrt(1 - rho**2)], [1.0, -rho], shocks, axis=1)
        return unit * self.sigma(np.arange(1, hours + 1))[None, :]

    def for_origin(self, origin: pd.Timestamp, hours: int) -> np.ndarray:
        """``(hours,)`` errors of the forecast issued at ``origin``: the same every run (seeded by it)."""
        stamp = int(pd.Timestamp(origin).tz_convert("UTC").timestamp() // 3600)
        return self.draw(np.random.default_rng([self.seed, stamp]), 1, hours)[0]


def temperature_features(
    temperature_c: np.ndarray, day_ids: np.ndarray, comfort_c: tuple[float, float]
) -> np.ndarray:
    """``(N, L, N_WEATHER)`` float32 features of ``(N, L)`` hourly temperatures (°C).

    ``day_ids`` ``(N, L)`` numbers each hour's local day, non-decreasing along a row. The day
    statistics use the hours of that day inside the row, so a row must hold the whole days
    it is read for; the week-ago changes are 0 for the first week of a row. Features are
    scaled to about unit size (degrees / 5, temperatures as (T - 15) / 10).
    """
    rows, length = temperature_c.shape
    low, high = comfort_c
    heating = np.maximum(0.0, low - temperature_c)
    cooling = np.maximum(0.0, temperature_c - high)
    # Runs of one day within one row: reduceat over the flattened rows.
    flat = temperature_c.ravel()
    groups = (day_ids - day_ids[:, :1] + (np.arange(rows) * (length + 1))[:, None]).ravel()
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    sizes = np.diff(np.r_[starts, len(flat)])
    day_mean = np.repeat(np.add.reduceat(flat, starts) / sizes, sizes).reshape(rows, length)
    day_min = np.repeat(np.minimum.reduceat(flat, starts), sizes).reshape(rows, length)
    day_max = np.repeat(np.maximum.reduceat(flat, starts), sizes).reshape(rows, length)

    def week_change(values: np.ndarray) -> np.ndarray:
        out = np.zeros_like(values)
        out[:, WEEK_H:] = values[:, WEEK_H:] - values[:, :-WEEK_H]
        return out

    features = np.stack(
        [
            (temperature_c - 15.0) / 10.0,
            heating / 5.0,
            cooling / 5.0,
            (day_mean - 15.0) / 10.0,
            (day_min - 15.0) / 10.0,
            (day_max - 15.0) / 10.0,
            week_change(heating) / 5.0,
            week_change(cooling) / 5.0,
            week_change(day_mean) / 5.0,
        ],
        axis=-1,
    )
    return features.astype(np.float32)


def local_day_ids(hours_utc: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """Days since 1970-01-01 of each UTC hour's local date (an int per hour)."""
    local = hours_utc.tz_convert(timezone).tz_localize(None).normalize()
    return ((local - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1)).to_numpy(dtype=np.int64)


class WeatherHistory:
    """The national hourly temperature, and what of it was known at a forecast origin.

    Parameters
    ----------
    observed_c
        Observed national temperature (°C) on a tz-aware hourly index; gaps of up to
        :data:`MAX_GAP_HOURS` hours are interpolated.
    forecasts
        Stored forecasts: ``issued_at``, ``ts_utc``, ``temperature_c`` (the national series of
        each issue). Needed for ``mode="issued"``.
    mode
        ``observed`` (backtests: hours from the origin on take the observation, plus
        ``error`` when given) or ``issued`` (live: they take the newest forecast issued at or
        before the origin; an observation of such an hour is never read).
    error
        The synthetic forecast error of ``mode="observed"``; None is a perfect forecast.
    description
        Where the weather came from, for reports.
    """

    def __init__(
        self,
        observed_c: pd.Series,
        forecasts: pd.DataFrame | None = None,
        mode: Literal["observed", "issued"] = "observed",
        error: ForecastError | None = None,
        description: str = "weather",
    ) -> None:
        if mode not in ("observed", "issued"):
            raise DataValidationError("mode", f"must be 'observed' or 'issued', got {mode!r}")
        if mode == "issued" and error is not None:
            raise DataValidationError("error", "a synthetic error goes with observed weather only")
        if not isinstance(observed_c.index, pd.DatetimeIndex) or observed_c.index.tz is None:
            raise DataValidationError("ts_utc", "the weather needs a tz-aware hourly index")
        observed_c = observed_c.dropna().sort_index()
        if observed_c.empty:
            raise DataValidationError("temperature_c", "the weather has no observed temperature")
        index = observed_c.index.tz_convert("UTC")
        full = pd.date_range(index[0], index[-1], freq="h", name="ts_utc")
        regular = pd.Series(observed_c.to_numpy(dtype="float64"), index=index).reindex(full)
        self.observed_c = regular.interpolate(limit=MAX_GAP_HOURS, limit_area="inside")
        self.forecasts = None if forecasts is None else _forecast_rows(forecasts)
        self.mode = mode
        self.error = error
        self.description = description

    def with_error(self, error: ForecastError | None) -> WeatherHistory:
        """The same observations with another synthetic forecast error (``mode="observed"``)."""
        copy = WeatherHistory.__new__(WeatherHistory)
        copy.__dict__.update(self.__dict__, error=error, mode="observed")
        return copy

    @property
    def start(self) -> pd.Timestamp:
        return self.observed_c.index[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.observed_c.index[-1]

    def observed_on(self, hours: pd.DatetimeIndex) -> np.ndarray:
        """Observed temperatures of ``hours`` (NaN outside the record or in a long gap)."""
        return self.observed_c.reindex(hours).to_numpy(dtype="float64")

    def known_at(self, origin: pd.Timestamp, hours: pd.DatetimeIndex) -> np.ndarray:
        """The temperature of ``hours`` as known at ``origin``: observed before it, forecast from it on.

        Raises
        ------
        DataValidationError
            When an hour has no value: no observation before the origin, or no forecast
            (issued at or before the origin) of a later hour.
        """
        origin = pd.Timestamp(origin).tz_convert("UTC")
        future = np.asarray(hours >= origin)
        values = np.full(len(hours), np.nan)
        values[~future] = self.observed_on(hours[~future])
        if self.mode == "issued":
            # A past hour not observed yet (the archive lags by days) takes its forecast, as
            # known then; an hour from the origin on takes only a forecast, never an observation.
            unknown = np.isnan(values)
            if unknown.any():
                values[unknown] = self._issued(origin, hours[unknown])
        elif future.any():
            values[future] = self.observed_on(hours[future])
            if self.error is not None:
                horizon = ((hours[future] - origin) // HOUR).to_numpy() + 1
                values[future] += self.error.for_origin(origin, int(horizon.max()))[horizon - 1]
        if np.isnan(values).any():
            first = hours[np.isnan(values)][0]
            kind = "forecast issued by then" if first >= origin else "observation"
            raise DataValidationError(
                "weather",
                f"no {kind} of the temperature at {first.isoformat()} (origin {origin.isoformat()})",
            )
        return values

    def _issued(self, origin: pd.Timestamp, hours: pd.DatetimeIndex) -> np.ndarray:
        if self.forecasts is None:
            return np.full(len(hours), np.nan)
        issued = self.forecasts[self.forecasts["issued_at"] <= origin]
        # Per hour, the newest issue that forecast it.
        newest = issued.sort_values("issued_at", kind="stable").drop_duplicates("ts_utc", keep="last")
        return newest.set_index("ts_utc")["temperature_c"].reindex(hours).to_numpy(dtype="float64")


def _forecast_rows(forecasts: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("issued_at", "ts_utc", "temperature_c") if c not in forecasts.columns]
    if missing:
        raise DataValidationError("forecasts", f"missing column(s) {missing}")
    rows = forecasts[["issued_at", "ts_utc", "temperature_c"]].copy()
    for column in ("issued_at", "ts_utc"):
        rows[column] = pd.to_datetime(rows[column], utc=True)
    if rows["issued_at"].isna().any():
        raise DataValidationError("issued_at", "a forecast row has no issue time")
    return rows.dropna(subset=["temperature_c"]).reset_index(drop=True)


def from_national(
    national: pd.DataFrame, mode: Literal["observed", "issued"] = "observed", description: str = "weather"
) -> WeatherHistory:
    """A :class:`WeatherHistory` from ``weather_national_hourly`` rows (columns as NATIONAL_COLUMNS).

    ``kind='observed'`` rows give the observations; ``kind='forecast'`` rows, with their
    ``issued_at``, the stored forecasts.
    """
    missing = [c for c in ("ts_utc", "kind", "temperature_c") if c not in national.columns]
    if missing:
        raise DataValidationError("weather", f"missing column(s) {missing} of weather_national_hourly")
    stamps = pd.to_datetime(national["ts_utc"], utc=True)
    observed = national["kind"] == "observed"
    values = national.loc[observed, "temperature_c"].to_numpy(dtype="float64")
    series = pd.Series(values, index=stamps[observed])
    series = series[~series.index.duplicated(keep="last")]
    if series.empty:
        raise DataValidationError("weather", "no observed temperature in the weather rows")
    forecast_rows = national.loc[national["kind"] == "forecast"]
    forecasts = forecast_rows.assign(ts_utc=stamps[forecast_rows.index]) if len(forecast_rows) else None
    return WeatherHistory(series, forecasts, mode=mode, description=description)


def read_weather_file(path: Path, locations: Sequence[WeatherLocation] | None = None) -> WeatherHistory:
    """The shared observation file (Kaggle format) as a national :class:`WeatherHistory`.

    Parameters
    ----------
    path
        ``weather_features_2015_2017.csv.gz`` or a file in its format.
    locations
        The cities and weights; the ``WEATHER_LOCATIONS`` setting's by default.
    """
    from datalake.settings import get_settings
    from datalake.weather.frames import national_hourly, read_observations_csv
    from datalake.weather.locations import configured_locations

    if not Path(path).is_file():
        raise DataValidationError("weather", f"{path} is not a file")
    locations = locations or configured_locations(get_settings().weather_locations)
    read = read_observations_csv(Path(path), locations=locations)
    national = national_hourly(read.frame, locations)
    description = (
        f"{Path(path).name}: {len(national):,} national hours from {len(locations)} cities "
        f"({read.duplicates_merged:,} repeated rows merged, {len(read.rejected):,} rejected)"
    )
    return from_national(national, description=description)


def read_weather_table(table: str, settings: Settings | None = None) -> WeatherHistory:
    """``weather_national_hourly`` (or ``database.table``) from the lake, through the query port."""
    from datalake import runtime

    if not _IDENTIFIER.match(table):
        raise DataValidationError("weather_table", f"{table!r} is not a table name (name or database.name)")
    engine = runtime.query_engine(settings)
    frame = engine.query(f"SELECT ts_utc, kind, issued_at, temperature_c FROM {table}")
    if frame.empty:
        raise DataValidationError("weather_table", f"{table} has no rows")
    return from_national(frame, mode="issued", description=f"lake table {table}")


def weather_error(setting: ErrorSetting, seed: int = 0) -> ForecastError | None:
    """The error model of ``--weather-error``: ``none`` (observed weather) or ``realistic``."""
    if setting == "none":
        return None
    if setting == "realistic":
        return ForecastError(seed=seed)
    raise DataValidationError("weather_error", f"must be 'none' or 'realistic', got {setting!r}")
