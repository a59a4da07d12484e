"""Pandas answers over ``energy_prices_daily`` (the gold of the held-out price questions; never SQL)."""

from __future__ import annotations

from typing import Any

import pandas as pd

Frames = dict[str, pd.DataFrame]
Gold = dict[str, list[Any]]
#: Accepted names of each series in an answer's row.
SERIES_NAMES = {"WTI": ["WTI"], "Brent": ["Brent"], "Henry Hub": ["Henry Hub"]}


def rows(frames: Frames, series: str, start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """One series' rows (by ``series_name``) with dates in ``[start, end]`` (ISO days, inclusive)."""
    frame = frames["energy_prices_daily"]
    frame = frame[frame["series_name"] == series]
    days = pd.to_datetime(frame["date"])
    if start:
        frame = frame[days >= pd.Timestamp(start)]
    if end:
        frame = frame[pd.to_datetime(frame["date"]) <= pd.Timestamp(end)]
    return frame.sort_values("date")


def _year(year: int) -> tuple[str, str]:
    return f"{year}-01-01", f"{year}-12-31"


def price_on(frames: Frames, series: str, day: str) -> Gold:
    """The price of ``series`` on ``day``."""
    return {"values": [float(rows(frames, series, day, day)["price"].iloc[0])]}


def mean(frames: Frames, series: str, start: str, end: str) -> Gold:
    """The mean daily price of ``series`` over ``[start, end]``."""
    return {"values": [float(rows(frames, series, start, end)["price"].mean())]}


def mean_year(frames: Frames, series: str, year: int) -> Gold:
    return mean(frames, series, *_year(year))


def extreme(frames: Frames, series: str, start: str, end: str, largest: bool = True) -> Gold:
    """The highest (lowest) price over the period and its day (the first such day on a tie)."""
    period = rows(frames, series, start, end)
    value = period["price"].max() if largest else period["price"].min()
    day = period.loc[period["price"] == value, "date"].min()
    return {"values": [float(value)], "times": [str(day)]}


def top_days(frames: Frames, series: str, start: str, end: str, k: int, largest: bool = True) -> Gold:
    """The ``k`` highest (lowest) daily prices over the period, with their days."""
    period = rows(frames, series, start, end).sort_values(
        ["price", "date"], ascending=[not largest, True], kind="stable"
    )
    top = period.head(k)
    return {"values": [float(v) for v in top["price"]], "times": [str(d) for d in top["date"]]}


def compare_means(frames: Frames, *parts: tuple[str, str, str]) -> Gold:
    """Mean price per (series, start, end), in the order asked."""
    return {"values": [float(rows(frames, s, a, b)["price"].mean()) for s, a, b in parts]}


def trend(frames: Frames, series: str, start: str, end: str, grain: str) -> Gold:
    """Mean price per month (``M``) or year (``Y``) in time order, with each period's first day."""
    period = rows(frames, series, start, end)
    starts = pd.to_datetime(period["date"]).dt.to_period(grain).dt.start_time.dt.strftime("%Y-%m-%d")
    means = period.groupby(starts)["price"].mean().sort_index()
    return {"values": [float(v) for v in means], "times": list(means.index)}


def extreme_month(frames: Frames, series: str, start: str, end: str, largest: bool = True) -> Gold:
    """The month with the highest (lowest) mean price: the mean and the month's first day."""
    series_trend = trend(frames, series, start, end, "M")
    pairs = list(zip(series_trend["values"], series_trend["times"], strict=True))
    value, month = (max if largest else min)(pairs, key=lambda pair: pair[0])
    return {"values": [value], "times": [month]}


def count_days(
    frames: Frames, series: str, start: str | None, end: str | None, over: float | None = None,
    under: float | None = None,
) -> Gold:  # fmt: skip
    """Days with a price (strictly above ``over`` / below ``under`` where given)."""
    period = rows(frames, series, start, end)
    if over is not None:
        period = period[period["price"] > over]
    if under is not None:
        period = period[period["price"] < under]
    return {"values": [len(period)]}


def mean_by_series(frames: Frames, start: str, end: str) -> Gold:
    """Mean price per series over the period, largest first, with the series' names."""
    frame = frames["energy_prices_daily"]
    days = pd.to_datetime(frame["date"])
    period = frame[(days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))]
    means = period.groupby("series_name")["price"].mean().sort_values(ascending=False)
    return {"values": [float(v) for v in means], "labels": [SERIES_NAMES[name] for name in means.index]}


def mean_spread(frames: Frames, first: str, second: str, start: str, end: str) -> Gold:
    """The mean of ``first`` minus ``second`` over the days both have a price."""
    a = rows(frames, first, start, end).set_index("date")["price"]
    b = rows(frames, second, start, end).set_index("date")["price"]
    return {"values": [float((a - b).dropna().mean())]}
