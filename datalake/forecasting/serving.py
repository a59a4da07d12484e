"""One forecast request in, hourly p10/p50/p90 points out: shared by the SageMaker handler and the API.

A request carries either a history (hourly demand from a start time) or just a horizon; in
the second case the caller supplies the newest history from the warehouse.

A weather model (trained with temperature covariates) forecasts with the stored weather
forecast issued at or before the origin (``weather_national_hourly``, ``kind='forecast'``),
never with an observation of a later hour. When that weather is missing it hands over to its
fallback, the newest registered model without weather, and the answer says so
(``covariates``).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from datalake.errors import DataValidationError, ObjectNotFoundError

#: Fourteen days: the API's longest horizon, and far enough for patch-by-patch roll-out.
MAX_HORIZON_HOURS = 14 * 24
MADRID = "Europe/Madrid"
VERSION_FILE = "version.json"
#: ``covariates`` of an answer: which model answered.
WEATHER = "weather"
CALENDAR_ONLY = "calendar only"
#: The lake table a live weather model reads.
WEATHER_TABLE = "weather_national_hourly"

if TYPE_CHECKING:
    # torch is imported only where a model is loaded: the API on Lambda parses requests and calls the
    # SageMaker endpoint through this module, and its layer ships no torch.
    from datalake.forecasting.forecaster import TransformerForecaster
    from datalake.forecasting.weather import WeatherHistory
    from datalake.settings import Settings


@dataclass(frozen=True)
class ForecastRequest:
    """What to forecast: ``horizon_hours`` after the end of ``history`` (None: the newest data)."""

    horizon_hours: int
    history: pd.Series | None = None


@dataclass
class ServedModel:
    """A loaded forecaster and the version it is served as."""

    forecaster: TransformerForecaster
    version: str
    #: The model without weather that answers when a weather model's weather is missing.
    fallback: ServedModel | None = None

    @property
    def context_hours(self) -> int:
        return self.forecaster.config.context_hours

    @property
    def history_hours(self) -> int:
        """Hours of demand before the origin a forecast reads (ForecastConfig.history_hours)."""
        return self.forecaster.config.history_hours

    @property
    def needs_weather(self) -> bool:
        """Whether it forecasts with weather covariates."""
        return bool(self.forecaster.needs_weather)

    def describe(self) -> dict[str, Any]:
        """Which model serves: version, covariates and the fallback's version (for /health)."""
        return {
            "version": self.version,
            "covariates": WEATHER if self.needs_weather else CALENDAR_ONLY,
            "fallback_version": self.fallback.version if self.fallback else None,
        }


def load_served_model(model_dir: Path | str) -> ServedModel:
    """Load a model directory; its version is ``version.json``'s, else a digest of the weights."""
    from datalake.forecasting.forecaster import WEIGHTS_FILE, TransformerForecaster

    model_dir = Path(model_dir)
    forecaster = TransformerForecaster.load(model_dir)
    record = model_dir / VERSION_FILE
    if record.is_file():
        version = json.loads(record.read_text())["version"]
    else:
        version = "sha256:" + hashlib.sha256((model_dir / WEIGHTS_FILE).read_bytes()).hexdigest()[:12]
    return ServedModel(forecaster, version)


def parse_request(payload: Any) -> ForecastRequest:
    """Validate a JSON request; errors name the field and the reason.

    Accepted shapes::

        {"horizon_hours": 24}
        {"days": 2}
        {"horizon_hours": 24, "history": {"start": "2017-06-01T00:00:00+02:00",
                                          "demand_mw": [28000.5, 27500.0, null, ...]}}

    ``start`` is the first hour's start, with a UTC offset; ``null`` marks a missing hour.
    """
    if not isinstance(payload, dict):
        raise DataValidationError("body", f"expected a JSON object, got {type(payload).__name__}")
    unknown = sorted(set(payload) - {"horizon_hours", "days", "history"})
    if unknown:
        raise DataValidationError(unknown[0], "unknown field; expected horizon_hours or days, and history")
    if "horizon_hours" in payload and "days" in payload:
        raise DataValidationError("days", "give horizon_hours or days, not both")
    if "days" in payload:
        horizon = _positive_int(payload["days"], "days") * 24
    else:
        horizon = _positive_int(payload.get("horizon_hours", 24), "horizon_hours")
    if horizon > MAX_HORIZON_HOURS:
        raise DataValidationError(
            "horizon_hours", f"{horizon} h is beyond the longest horizon, {MAX_HORIZON_HOURS} h (14 days)"
        )
    history = payload.get("history")
    return ForecastRequest(horizon, None if history is None else _history(history))


def _positive_int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value < 1:
        raise DataValidationError(field, f"must be a whole number of at least 1, got {value!r}")
    return int(value)


def _history(history: Any) -> pd.Series:
    if not isinstance(history, dict):
        raise DataValidationError("history", "expected an object with start and demand_mw")
    for field in ("start", "demand_mw"):
        if field not in history:
            raise DataValidationError(f"history.{field}", "missing")
    try:
        start = pd.Timestamp(history["start"])
    except (TypeError, ValueError) as error:
        raise DataValidationError("history.start", f"not an ISO 8601 time: {error}") from None
    if start.tzinfo is None:
        raise DataValidationError("history.start", "needs a UTC offset (e.g. +01:00 or Z)")
    if start != start.floor("h"):
        raise DataValidationError("history.start", "must be the start of an hour")
    values = history["demand_mw"]
    if not isinstance(values, list) or not values:
        raise DataValidationError("history.demand_mw", "expected a non-empty list of MW values")
    numbers = []
    for position, value in enumerate(values):
        if value is None:
            numbers.append(math.nan)
        elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise DataValidationError(f"history.demand_mw[{position}]", f"not a number: {value!r}")
        elif value <= 0:
            raise DataValidationError(f"history.demand_mw[{position}]", f"not positive: {value}")
        else:
            numbers.append(float(value))
    index = pd.date_range(start.tz_convert("UTC"), periods=len(numbers), freq="h", name="ts_utc")
    return pd.Series(numbers, index=index, name="demand_mw")


def forecast(
    model: ServedModel,
    history: pd.Series,
    horizon_hours: int,
    weather: WeatherHistory | None = None,
) -> dict[str, Any]:
    """Hourly p10/p50/p90 for ``horizon_hours`` after the newest hour of ``history`` that has a value.

    A weather model reads ``weather`` as known at the origin (stored forecasts issued by
    then for the hours from the origin on); without it, or when it lacks an hour, the
    model's fallback answers instead, and ``covariates`` says which (``weather_note`` why).

    Raises
    ------
    DataValidationError
        When the history is shorter than the model's context, or mostly missing; or when a
        weather model has no weather and no fallback.
    """
    note = None
    if model.needs_weather:
        if weather is None:
            note = "no weather given"
        else:
            try:
                return _forecast(model, history, horizon_hours, weather)
            except DataValidationError as error:
                if error.field != "weather":
                    raise
                note = error.reason
        if model.fallback is None:
            raise DataValidationError(
                "weather", f"the weather model cannot forecast ({note}) and has no fallback"
            )
        answer = _forecast(model.fallback, history, horizon_hours, None)
        answer["weather_note"] = f"weather model {model.version} not used: {note}"
        return answer
    return _forecast(model, history, horizon_hours, None)


def _forecast(
    model: ServedModel, history: pd.Series, horizon_hours: int, weather: WeatherHistory | None
) -> dict[str, Any]:
    known = history.dropna()
    if known.empty:
        raise DataValidationError("history.demand_mw", "no hour has a value")
    cutoff = known.index[-1]
    origin = cutoff + pd.Timedelta(hours=1)
    # The context must be there; a calendar-anchor model also reads two weeks before it, when given.
    read = history[(history.index >= origin - pd.Timedelta(hours=model.history_hours))]
    read = read[read.index < origin]
    context = read[read.index >= origin - pd.Timedelta(hours=model.context_hours)]
    if len(context) < model.context_hours:
        raise DataValidationError(
            "history.demand_mw",
            f"needs the {model.context_hours} hours before the forecast; got {len(context)}",
        )
    missing = int(context.isna().sum())
    # Gaps are filled with the last value; past a quarter of the window the forecast is not trusted.
    if missing > model.context_hours // 4:
        raise DataValidationError(
            "history.demand_mw", f"{missing} of the last {model.context_hours} hours are missing"
        )
    if weather is not None and weather.mode != "issued":
        raise DataValidationError(
            "weather", "live forecasts read stored forecasts (mode 'issued'), not observations"
        )
    quantiles = model.forecaster.forecast(read, [origin], horizon_hours, weather=weather)[0]
    hours = pd.date_range(origin, periods=horizon_hours, freq="h")
    points = [
        {
            "ts_utc": hour.isoformat(),
            "ts_local": hour.tz_convert(MADRID).isoformat(),
            "p10_mw": round(float(low), 1),
            "p50_mw": round(float(mid), 1),
            "p90_mw": round(float(high), 1),
        }
        for hour, (low, mid, high) in zip(hours, np.asarray(quantiles), strict=True)
    ]
    return {
        "model_version": model.version,
        "data_cutoff": cutoff.isoformat(),
        "origin": origin.isoformat(),
        "horizon_hours": horizon_hours,
        "missing_hours_filled": missing,
        "covariates": WEATHER if weather is not None else CALENDAR_ONLY,
        "points": points,
    }


def load_champion(destination: Path, settings: Settings | None = None) -> ServedModel:
    """The registry's champion, copied to ``destination`` and loaded.

    Raises
    ------
    ObjectNotFoundError
        When no model has been promoted yet.
    """
    from datalake.models import model_registry

    registry = model_registry(settings)
    record = registry.champion()
    if record is None:
        raise ObjectNotFoundError(f"no {registry.name} champion yet: run `datalake forecast train` first")
    served = load_served_model(registry.fetch(record["version"], Path(destination) / "champion"))
    if served.needs_weather:
        # The newest model without weather stands by for hours whose weather is missing.
        plain = [r for r in registry.versions() if not (r.get("metrics") or {}).get("weather")]
        if plain:
            version = plain[-1]["version"]
            served.fallback = load_served_model(registry.fetch(version, Path(destination) / "fallback"))
    return served


def live_weather(settings: Settings | None = None) -> WeatherHistory | None:
    """The lake's ``weather_national_hourly`` for live forecasts, or None when it cannot be read.

    None is not an error: a weather model then answers through its fallback.
    """
    from datalake.errors import LakeError
    from datalake.forecasting.weather import read_weather_table

    try:
        return read_weather_table(WEATHER_TABLE, settings)
    except (LakeError, ValueError) as error:
        import logging

        logging.getLogger(__name__).warning("no weather for the forecast: %s", error)
        return None
