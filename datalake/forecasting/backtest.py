"""Rolling-origin backtest of hourly demand forecasts against honest baselines.

Origin semantics: an origin ``t`` (a UTC hour start) means every hour that starts before
``t`` is known. Horizon ``h = 1`` is the hour starting at ``t``; horizon ``h`` starts at
``t + (h - 1) h``.

Two tasks, over the Europe/Madrid days ``start .. end``:

- ``next_hour``: every hour of the window is an origin, forecast at h = 1;
- ``day_ahead``: for each day D, the origin is 12:00 Madrid on D - 1 and every hour of D is
  forecast (horizons 13..36, 13..35 on the spring change day, 13..37 on the autumn one).

Every method, the model and the baselines alike, is a :class:`Forecaster` called once per
task with all origins; all are scored on the same hours (those where the actual is present
and every method has a finite forecast).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from datalake.errors import DataValidationError, LakeError
from datalake.forecasting.data import DemandSeries

MADRID = "Europe/Madrid"
HOUR = pd.Timedelta(hours=1)
WEEK_H = 168
#: History the baselines need before the earliest origin: y(t - 169 h) for the weekly delta.
MIN_HISTORY_H = WEEK_H + 1
#: Local time of the day-ahead origin on the day before the target day.
DAY_AHEAD_ORIGIN_HOUR = 12
#: Origins per task on which each method is checked for look-ahead (see check_no_lookahead).
DEFAULT_LEAK_CHECKS = 2

Origins = Sequence[pd.Timestamp] | pd.DatetimeIndex


class LookaheadError(LakeError):
    """A forecaster's output changed when data at or after its origin changed: it peeks."""


@runtime_checkable
class Forecaster(Protocol):
    """Anything that forecasts hourly demand from a history and a batch of origins."""

    def forecast(self, history: pd.Series, origins: Origins, horizon_h: int) -> np.ndarray:
        """Quantile forecasts for every origin and horizon.

        Parameters
        ----------
        history
            The full demand series (regular hourly UTC index ``ts_utc``, NaN where missing).
            For an origin ``t`` only values of hours starting before ``t`` may be used.
        origins
            UTC hour starts.
        horizon_h
            Horizons 1..horizon_h; horizon h is the hour starting at ``t + (h - 1) h``.

        Returns
        -------
        numpy.ndarray
            Shape ``(len(origins), horizon_h, 3)``: p10, p50, p90 in MW; NaN where the
            method cannot forecast. A point forecaster puts its forecast in all three.
        """
        ...


# -- baselines -------------------------------------------------------------------------------------


class SeasonalNaive:
    """y(target - s * ceil(h / s)): the latest known value at the same phase of the period s."""

    def __init__(self, period_h: int) -> None:
        if period_h < 1:
            raise DataValidationError("period_h", f"must be at least 1, got {period_h}")
        self.period_h = period_h
        self.name = f"seasonal_naive_{period_h}"
        self.note = f"y(target - {period_h} h * ceil(h / {period_h})): latest known value at the same phase"

    def forecast(self, history: pd.Series, origins: Origins, horizon_h: int) -> np.ndarray:
        values, origin_pos = _positions(history, origins)
        h = np.arange(1, horizon_h + 1)
        target = origin_pos[:, None] + h[None, :] - 1
        lag = self.period_h * np.ceil(h / self.period_h).astype(np.int64)
        return _as_point(_take(values, target - lag[None, :]))


class WeeklyDelta:
    """Next hour only: y(t - 1 h) + y(t - 168 h) - y(t - 169 h), last hour plus last week's change."""

    name = "weekly_delta"
    note = "y(t-1h) + y(t-168h) - y(t-169h); next hour only"

    def forecast(self, history: pd.Series, origins: Origins, horizon_h: int) -> np.ndarray:
        values, origin_pos = _positions(history, origins)
        out = np.full((len(origin_pos), horizon_h), np.nan)
        out[:, 0] = (
            _take(values, origin_pos - 1)
            + _take(values, origin_pos - WEEK_H)
            - _take(values, origin_pos - WEEK_H - 1)
        )
        return _as_point(out)


class TsoDayAhead:
    """The grid operator's day-ahead forecast of each target hour, whatever the origin.

    It is published the day before, so at a next-hour origin it is the same day-ahead number,
    not an hourly update. It reads no demand history.
    """

    name = "tso_day_ahead"
    note = "grid operator's day-ahead forecast (published D-1); the same number in both tasks"

    def __init__(self, tso_forecast_mw: pd.Series) -> None:
        self.tso_forecast_mw = tso_forecast_mw

    def forecast(self, history: pd.Series, origins: Origins, horizon_h: int) -> np.ndarray:
        values, origin_pos = _positions(self.tso_forecast_mw, origins)
        target = origin_pos[:, None] + np.arange(horizon_h)[None, :]
        return _as_point(_take(values, target))


def baselines(series: DemandSeries) -> list[SeasonalNaive | WeeklyDelta | TsoDayAhead]:
    """The baselines for a series: seasonal naive 24 h and 168 h, weekly delta, and TSO when present."""
    methods: list[SeasonalNaive | WeeklyDelta | TsoDayAhead] = [
        SeasonalNaive(24),
        SeasonalNaive(WEEK_H),
        WeeklyDelta(),
    ]
    if series.tso_forecast_mw is not None:
        methods.append(TsoDayAhead(series.tso_forecast_mw))
    return methods


def _positions(series: pd.Series, origins: Origins) -> tuple[np.ndarray, np.ndarray]:
    """(values, origin positions on the series' regular hourly index; may fall outside it)."""
    index = series.index
    stamps = _utc_origins(origins)
    # Timedelta arithmetic, not asi8: the index and the origins may differ in unit (ns vs us).
    offsets = (stamps - index[0]) // HOUR
    return series.to_numpy(dtype="float64"), np.asarray(offsets, dtype=np.int64)


def _take(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """values[positions], NaN where a position falls outside the series."""
    inside = (positions >= 0) & (positions < len(values))
    out = np.full(positions.shape, np.nan)
    out[inside] = values[positions[inside]]
    return out


def _as_point(point: np.ndarray) -> np.ndarray:
    return np.repeat(point[..., None], 3, axis=-1)


def _utc_origins(origins: Origins) -> pd.DatetimeIndex:
    stamps = pd.DatetimeIndex(origins)
    if stamps.tz is None:
        raise DataValidationError("origins", "origins must be tz-aware")
    stamps = stamps.tz_convert("UTC")
    if (stamps != stamps.floor("h")).any():
        raise DataValidationError("origins", "origins must be hour starts")
    return stamps


# -- tasks -----------------------------------------------------------------------------------------------


def _local_midnight(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize(MADRID).tz_convert("UTC")


def next_hour_origins(start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    """Every UTC hour start from ``start`` 00:00 to ``end + 1 day`` 00:00 Madrid (excluded)."""
    first = _local_midnight(start)
    stop = _local_midnight(end + dt.timedelta(days=1))
    return pd.date_range(first, stop, freq="h", inclusive="left", name="origin")


def day_ahead_targets(start: dt.date, end: dt.date) -> pd.DataFrame:
    """One row per hour of each Madrid day in ``start .. end``: ``day``, ``origin``, ``target``, ``h``.

    The origin of day D is 12:00 Madrid on D - 1; ``h`` comes from the UTC difference, so the
    change days get their 23 or 25 hours.
    """
    rows = []
    day = start
    while day <= end:
        origin = _day_ahead_origin(day)
        targets = pd.date_range(
            _local_midnight(day), _local_midnight(day + dt.timedelta(days=1)), freq="h", inclusive="left"
        )
        h = ((targets - origin) / HOUR).astype(int) + 1
        rows.append(pd.DataFrame({"day": day, "origin": origin, "target": targets, "h": h}))
        day += dt.timedelta(days=1)
    return pd.concat(rows, ignore_index=True)


# -- look-ahead check -------------------------------------------------------------------------------------


def check_no_lookahead(
    forecaster: Forecaster, history: pd.Series, origins: Origins, horizon_h: int, name: str = "model"
) -> None:
    """Fail if changing the values at or after an origin changes the forecast from it.

    Each origin is forecast twice, from ``history`` and from a copy whose values at and after
    the origin are rescaled; a forecaster that only reads the past gives the same numbers.
    The forecaster must be deterministic.

    Raises
    ------
    LookaheadError
        Naming the method and the origin whose forecast changed.
    """
    values = history.to_numpy(dtype="float64")
    for origin in _utc_origins(origins):
        future = np.asarray(history.index >= origin)
        perturbed = pd.Series(np.where(future, values * 1.37 + 1234.0, values), index=history.index)
        perturbed = perturbed.rename(history.name)
        clean = np.asarray(forecaster.forecast(history, [origin], horizon_h), dtype="float64")
        other = np.asarray(forecaster.forecast(perturbed, [origin], horizon_h), dtype="float64")
        if not np.allclose(clean, other, rtol=1e-5, atol=1e-3, equal_nan=True):
            raise LookaheadError(
                f"{name}: its forecast from origin {origin.isoformat()} changed when values at or after the "
                "origin changed; a forecaster may only read hours that start before its origin"
            )


# -- metrics ------------------------------------------------------------------------------------------------


def score(actual: np.ndarray, forecast: np.ndarray) -> dict[str, Any]:
    """MAPE %, MAE MW, RMSE MW and p10-p90 coverage % of forecasts (n, 3) against actuals (n,).

    Coverage is None for a point forecast (p10 == p90 everywhere). Every row counts: pick
    the scored hours before calling.
    """
    p10, p50, p90 = forecast[:, 0], forecast[:, 1], forecast[:, 2]
    n = len(actual)
    if n == 0:
        return {"mape_pct": None, "mae_mw": None, "rmse_mw": None, "coverage_p10_p90_pct": None, "n": 0}
    error = p50 - actual
    point = bool(np.array_equal(p10, p90))
    return {
        "mape_pct": float(100 * np.mean(np.abs(error) / actual)),
        "mae_mw": float(np.mean(np.abs(error))),
        "rmse_mw": float(np.sqrt(np.mean(error**2))),
        "coverage_p10_p90_pct": None if point else float(100 * np.mean((p10 <= actual) & (actual <= p90))),
        "quantiles_crossed": 0 if point else int(np.sum((p10 > p50) | (p50 > p90))),
        "n": n,
    }


# -- the backtest ------------------------------------------------------------------------------------------


def run_backtest(
    series: DemandSeries,
    model: Forecaster | None,
    start: dt.date,
    end: dt.date,
    model_name: str = "model",
    leak_checks: int = DEFAULT_LEAK_CHECKS,
) -> dict[str, Any]:
    """Score a model and the baselines on the next-hour and day-ahead tasks over Madrid days.

    Parameters
    ----------
    series
        The demand series; it must hold the whole window and at least 169 h before the
        earliest origin (12:00 Madrid on the day before ``start``).
    model
        The forecaster to evaluate, or None for the baselines alone.
    start, end
        First and last Europe/Madrid day of the window (inclusive).
    model_name
        The model's name in the report.
    leak_checks
        Origins per task (evenly spread) on which every method is checked for look-ahead
        with :func:`check_no_lookahead`; 0 skips the check (a non-deterministic model).

    Returns
    -------
    dict
        JSON-able: ``window``, ``series``, ``origin_semantics``, ``notes`` and ``tasks``;
        per task its origins, horizons, hour counts and ``methods`` (name -> ``mape_pct``,
        ``mae_mw``, ``rmse_mw``, ``coverage_p10_p90_pct`` (None for point forecasts), ``n``
        (hours scored, the same for every method), ``n_available`` (hours the method
        could forecast, actual present) and ``note``).

    Raises
    ------
    DataValidationError
        For ``start`` after ``end``, too little history before ``start``, a window that
        ends after the series, a model name taken by a baseline, or a forecast of the wrong
        shape.
    LookaheadError
        When a method's forecast depends on data at or after its origin.
    """
    _check_window(series, start, end)
    methods: dict[str, tuple[Forecaster, str]] = {}
    if model is not None:
        methods[model_name] = (model, "the model under test")
    for baseline in baselines(series):
        if baseline.name in methods:
            raise DataValidationError("model_name", f"{model_name!r} is the name of a baseline")
        methods[baseline.name] = (baseline, baseline.note)

    history = series.demand_mw
    hours = next_hour_origins(start, end)
    day_ahead = day_ahead_targets(start, end)
    tasks: dict[str, Any] = {}

    # next_hour: the origin is the target hour itself.
    forecasts = {
        name: _forecast(name, fc, history, hours, 1, leak_checks)[:, 0, :]
        for name, (fc, _) in methods.items()
    }
    tasks["next_hour"] = {
        "origins": len(hours),
        "horizon_h": [1, 1],
        **_score_task(history.reindex(hours).to_numpy(dtype="float64"), forecasts, methods),
    }

    # day_ahead: one origin per day, every hour of the day; WeeklyDelta has no horizon beyond 1.
    origins = pd.DatetimeIndex(day_ahead["origin"].drop_duplicates())
    row = origins.get_indexer(pd.DatetimeIndex(day_ahead["origin"]))
    h = day_ahead["h"].to_numpy()
    horizon = int(h.max())
    forecasts = {}
    for name, (fc, _) in methods.items():
        if isinstance(fc, WeeklyDelta):
            continue
        forecasts[name] = _forecast(name, fc, history, origins, horizon, leak_checks)[row, h - 1, :]
    targets = pd.DatetimeIndex(day_ahead["target"])
    tasks["day_ahead"] = {
        "origins": len(origins),
        "origin_local_time": f"{DAY_AHEAD_ORIGIN_HOUR:02d}:00 {MADRID} on the day before",
        "horizon_h": [int(h.min()), horizon],
        **_score_task(history.reindex(targets).to_numpy(dtype="float64"), forecasts, methods),
    }

    in_window = history.reindex(hours)
    return {
        "window": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "days": (end - start).days + 1,
            "time_zone": MADRID,
            "first_hour_utc": hours[0].isoformat(),
            "last_hour_utc": hours[-1].isoformat(),
            "hours": len(hours),
            "hours_without_actual": int(in_window.isna().sum()),
        },
        "series": {
            "description": series.description,
            "first_hour_utc": series.start.isoformat(),
            "last_hour_utc": series.end.isoformat(),
            "missing_hours": series.missing_hours,
            "sample": series.is_sample,
            "notes": list(series.notes),
        },
        "origin_semantics": (
            "origin t: every hour starting before t is known; horizon h is the hour starting at t + (h-1) h"
        ),
        "leak_checks_per_task": leak_checks,
        "tasks": tasks,
    }


def _day_ahead_origin(day: dt.date) -> pd.Timestamp:
    """12:00 Madrid on the day before ``day``, in UTC (never a DST-ambiguous time)."""
    # Localise the wall time itself: midnight + 12 h is 13:00 on a spring-change day.
    wall = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(DAY_AHEAD_ORIGIN_HOUR))
    return pd.Timestamp(wall).tz_localize(MADRID).tz_convert("UTC")


def _check_window(series: DemandSeries, start: dt.date, end: dt.date) -> None:
    if start > end:
        raise DataValidationError("start", f"{start} is after end {end}")
    # The day-ahead origin of the first day is the earliest origin of both tasks.
    history_h = (_day_ahead_origin(start) - series.start) / HOUR
    if history_h < MIN_HISTORY_H:
        earliest = (series.start + MIN_HISTORY_H * HOUR).tz_convert(MADRID).date()
        while (_day_ahead_origin(earliest) - series.start) / HOUR < MIN_HISTORY_H:
            earliest += dt.timedelta(days=1)
        raise DataValidationError(
            "start",
            f"{start} leaves {max(history_h, 0):.0f} h of history before the first origin "
            f"({_day_ahead_origin(start).isoformat()}, 12:00 Madrid the day before); at least "
            f"{MIN_HISTORY_H} h "
            f"are needed and the series starts {series.start.isoformat()}: start on {earliest} or later",
        )
    last_hour = _local_midnight(end + dt.timedelta(days=1)) - HOUR
    if last_hour > series.end:
        raise DataValidationError(
            "end",
            f"the window ends at {last_hour.isoformat()} but the series ends at {series.end.isoformat()}",
        )


def _forecast(
    name: str,
    forecaster: Forecaster,
    history: pd.Series,
    origins: pd.DatetimeIndex,
    horizon_h: int,
    checks: int,
) -> np.ndarray:
    if checks > 0:
        picks = np.unique(np.linspace(0, len(origins) - 1, num=min(checks, len(origins))).round().astype(int))
        check_no_lookahead(forecaster, history, origins[picks], horizon_h, name)
    out = np.asarray(forecaster.forecast(history, origins, horizon_h), dtype="float64")
    expected = (len(origins), horizon_h, 3)
    if out.shape != expected:
        raise DataValidationError(
            name, f"forecast has shape {out.shape}; expected {expected} (origins, h, p10/p50/p90)"
        )
    return out


def _score_task(
    actual: np.ndarray, forecasts: dict[str, np.ndarray], methods: dict[str, tuple[Forecaster, str]]
) -> dict[str, Any]:
    """Score every method on the hours where the actual and all methods' forecasts are finite."""
    has_actual = np.isfinite(actual)
    finite = {name: np.isfinite(fc).all(axis=1) for name, fc in forecasts.items()}
    common = has_actual & np.logical_and.reduce(list(finite.values()))
    results = {}
    for name, fc in forecasts.items():
        metrics = score(actual[common], fc[common])
        metrics["n_available"] = int((finite[name] & has_actual).sum())
        metrics["note"] = methods[name][1]
        results[name] = metrics
    return {
        "hours": len(actual),
        "hours_with_actual": int(has_actual.sum()),
        "hours_scored": int(common.sum()),
        "methods": results,
    }


def format_backtest(report: dict[str, Any]) -> str:
    """A fixed-width table of a :func:`run_backtest` report, one line per task and method."""
    window = report["window"]
    lines = [
        f"Backtest {window['start']} .. {window['end']} ({window['days']} {window['time_zone']} days, "
        f"{window['hours']} hours, {window['hours_without_actual']} without actual)",
        f"Series: {report['series']['description']}",
    ]
    if report["series"]["sample"]:
        lines.append("WARNING: SAMPLE (generated) data, not measurements")
    width = max([20, *(len(name) for body in report["tasks"].values() for name in body["methods"])])
    header = (
        f"{'task':<10} {'method':<{width}} {'MAPE %':>8} {'MAE MW':>9} {'RMSE MW':>9} {'cover %':>8} "
        f"{'n':>6} {'avail':>6}"
    )
    lines += [header, "-" * len(header)]
    for task, body in report["tasks"].items():
        for name, m in body["methods"].items():
            lines.append(
                f"{task:<10} {name:<{width}} {_cell(m['mape_pct'], 2, 8)} {_cell(m['mae_mw'], 0, 9)} "
                f"{_cell(m['rmse_mw'], 0, 9)} {_cell(m['coverage_p10_p90_pct'], 1, 8)} "
                f"{m['n']:>6} {m['n_available']:>6}"
            )
    lines.append(
        "n: hours scored (actual present and every method forecasts them); avail: hours the method "
        "forecasts; cover: share of actuals in [p10, p90], '-' for point forecasts"
    )
    return "\n".join(lines)


def _cell(value: float | None, decimals: int, width: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{'-':>{width}}"
    return f"{value:>{width},.{decimals}f}"


def day_ahead_errors(
    series: DemandSeries, methods: dict[str, Forecaster], start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Absolute percentage error of each method's day-ahead p50, per target hour.

    The same origins and hours as the ``day_ahead`` task of :func:`run_backtest`; hours without
    an actual, or where any method has no forecast, are left out (as there).

    Returns
    -------
    pandas.DataFrame
        ``target`` (UTC), ``local_hour``, ``month``, and one column of APE (%) per method.
    """
    _check_window(series, start, end)
    targets = day_ahead_targets(start, end)
    origins = pd.DatetimeIndex(targets["origin"].drop_duplicates())
    row = origins.get_indexer(pd.DatetimeIndex(targets["origin"]))
    h = targets["h"].to_numpy()
    actual = series.demand_mw.reindex(pd.DatetimeIndex(targets["target"])).to_numpy(dtype="float64")
    local = pd.DatetimeIndex(targets["target"]).tz_convert(MADRID)
    out = pd.DataFrame({"target": targets["target"], "local_hour": local.hour, "month": local.month})
    for name, method in methods.items():
        p50 = np.asarray(method.forecast(series.demand_mw, origins, int(h.max())), dtype="float64")[
            row, h - 1, 1
        ]
        out[name] = 100 * np.abs(p50 - actual) / actual
    return out.dropna().reset_index(drop=True)
