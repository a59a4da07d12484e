"""Pandas answers over ``weather_daily`` (the gold of the held-out weather questions; never SQL)."""

from __future__ import annotations

from typing import Any

import pandas as pd

Frames = dict[str, pd.DataFrame]
Gold = dict[str, list[Any]]
#: Accepted names of each city in an answer's row.
CITY_NAMES = {"Madrid": ["Madrid"], "Barcelona": ["Barcelona"], "Valencia": ["Valencia"],
              "Seville": ["Seville", "Sevilla"], "Bilbao": ["Bilbao"]}  # fmt: skip


def days(frames: Frames, city: str | None, start: str, end: str) -> pd.DataFrame:
    """A city's days (every city's when None) with ``local_date`` in ``[start, end]`` (inclusive)."""
    frame = frames["weather_daily"]
    if city is not None:
        frame = frame[frame["location"] == city]
    dates = pd.to_datetime(frame["local_date"])
    return frame[(dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))].sort_values("local_date")


def value(frames: Frames, city: str, start: str, end: str, column: str, how: str = "mean") -> Gold:
    """One number: the ``how`` (mean, max, min) of ``column`` over a city's days."""
    series = days(frames, city, start, end)[column]
    return {"values": [float(getattr(series, how)())]}


def values(frames: Frames, cities: list[str], start: str, end: str, column: str) -> Gold:
    """The mean of ``column`` for each city, in the order asked."""
    return {"values": [value(frames, c, start, end, column)["values"][0] for c in cities]}


def extreme_day(frames: Frames, city: str, start: str, end: str, column: str, largest: bool = True) -> Gold:
    """The highest (lowest) daily ``column`` over the period and its day (the first on a tie)."""
    period = days(frames, city, start, end)
    best = period[column].max() if largest else period[column].min()
    day = period.loc[period[column] == best, "local_date"].min()
    return {"values": [float(best)], "times": [str(day)]}


def by_city(frames: Frames, start: str, end: str, column: str) -> Gold:
    """The mean of ``column`` per city, largest first."""
    means = days(frames, None, start, end).groupby("location")[column].mean().sort_values(ascending=False)
    return {"values": [float(v) for v in means], "labels": [CITY_NAMES[c] for c in means.index]}


def monthly(frames: Frames, city: str, start: str, end: str, column: str) -> Gold:
    """The mean of ``column`` per month, in time order, with each month's first day."""
    period = days(frames, city, start, end)
    months = pd.to_datetime(period["local_date"]).dt.to_period("M")
    means = period.groupby(months)[column].mean()
    return {"values": [float(v) for v in means], "times": [str(m.start_time.date()) for m in means.index]}


def count_days(frames: Frames, city: str, start: str, end: str, column: str, over: float) -> Gold:
    """How many of a city's days had ``column`` strictly above ``over``."""
    return {"values": [int((days(frames, city, start, end)[column] > over).sum())]}
