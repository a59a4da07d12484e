"""A forecast chart: recent history, the p50 forecast and its p10-p90 band, in Madrid time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

MADRID = "Europe/Madrid"


def plot_forecast(
    history: pd.Series,
    forecast: dict[str, Any],
    path: Path,
    history_days: int = 7,
    temperature_c: pd.Series | None = None,
    temperature_label: str = "national temperature",
) -> Path:
    """Write a PNG of the last ``history_days`` of ``history`` and a :func:`serving.forecast` answer.

    Parameters
    ----------
    history
        Hourly demand (MW) on a UTC index; only the days before the forecast are drawn.
    forecast
        The dict :func:`datalake.forecasting.serving.forecast` returns.
    path
        Where the PNG goes; its folder is created.
    history_days
        Days of history to show before the forecast.
    temperature_c
        Hourly temperature (°C, UTC index) drawn on a second axis over the same hours: the
        observation before the origin and, after it, what the model was given.
    temperature_label
        Its legend entry.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    points = pd.DataFrame(forecast["points"])
    hours = pd.to_datetime(points["ts_utc"], utc=True).dt.tz_convert(MADRID)
    origin = pd.Timestamp(forecast["origin"])
    shown = history[(history.index >= origin - pd.Timedelta(days=history_days)) & (history.index < origin)]
    figure, axes = plt.subplots(figsize=(11, 4.5), dpi=110)
    axes.plot(
        shown.index.tz_convert(MADRID), shown.to_numpy() / 1000, color="#333333", lw=1.2, label="actual"
    )
    axes.fill_between(
        hours, points["p10_mw"] / 1000, points["p90_mw"] / 1000, color="#1f77b4", alpha=0.25, label="p10-p90"
    )
    axes.plot(hours, points["p50_mw"] / 1000, color="#1f77b4", lw=1.6, label="forecast (p50)")
    axes.axvline(origin.tz_convert(MADRID), color="#999999", ls="--", lw=1)
    axes.set_ylabel("demand (GW)")
    axes.set_xlabel("Europe/Madrid")
    start = origin.tz_convert(MADRID)
    axes.set_title(
        f"Spanish demand: {forecast['horizon_hours']} h forecast from {start:%Y-%m-%d %H:%M}"
        f" (model {forecast['model_version']})",
        fontsize=10,
    )
    axes.grid(alpha=0.3)
    handles, labels = axes.get_legend_handles_labels()
    if temperature_c is not None:
        first = origin - pd.Timedelta(days=history_days)
        shown_c = temperature_c[
            (temperature_c.index >= first) & (temperature_c.index < hours.max() + pd.Timedelta(hours=1))
        ]
        other = axes.twinx()
        other.plot(shown_c.index.tz_convert(MADRID), shown_c.to_numpy(), color="#d62728", lw=1.0, alpha=0.7)
        other.set_ylabel("temperature (°C)", color="#d62728")
        other.tick_params(axis="y", colors="#d62728")
        handles += other.get_lines()
        labels.append(temperature_label)
    axes.legend(handles, labels, loc="upper left", fontsize=8)
    figure.autofmt_xdate()
    return _save(figure, path)


def plot_error_profile(errors: pd.DataFrame, path: Path, title: str = "Day-ahead error") -> Path:
    """Write a PNG of mean absolute percentage error by local hour of day and by month.

    Parameters
    ----------
    errors
        :func:`datalake.forecasting.backtest.day_ahead_errors`: ``local_hour``, ``month`` and
        one APE (%) column per method.
    path
        Where the PNG goes; its folder is created.
    title
        Above both panels.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = [c for c in errors.columns if c not in ("target", "local_hour", "month")]
    figure, (by_hour, by_month) = plt.subplots(1, 2, figsize=(12, 4.2), dpi=110)
    for name in methods:
        by_hour.plot(errors.groupby("local_hour")[name].mean(), marker=".", lw=1.4, label=name)
        by_month.plot(errors.groupby("month")[name].mean(), marker="o", lw=1.4, label=name)
    by_hour.set_xlabel("hour of day (Europe/Madrid)")
    by_month.set_xlabel("month")
    for axes in (by_hour, by_month):
        axes.set_ylabel("MAPE (%)")
        axes.grid(alpha=0.3)
        axes.set_ylim(bottom=0)
    by_hour.set_xticks(range(0, 24, 3))
    by_hour.legend(fontsize=8)
    figure.suptitle(title, fontsize=10)
    return _save(figure, path)


def _save(figure: Any, path: Path) -> Path:
    """Lay out, write the PNG (creating its folder) and free the figure."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
