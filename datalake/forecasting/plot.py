"""A forecast chart: recent history, the p50 forecast and its p10-p90 band, in Madrid time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

MADRID = "Europe/Madrid"


def plot_forecast(history: pd.Series, forecast: dict[str, Any], path: Path, history_days: int = 7) -> Path:
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
    axes.legend(loc="upper left", fontsize=8)
    figure.autofmt_xdate()
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
