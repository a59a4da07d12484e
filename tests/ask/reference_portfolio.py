"""Pandas answers over ``portfolio_events`` (the gold of the held-out real-time questions; never SQL)."""

from __future__ import annotations

from typing import Any

import pandas as pd

Frames = dict[str, pd.DataFrame]
Gold = dict[str, list[Any]]
#: Accepted names of each stored value in an answer's row (English and Spanish).
NAMES = {
    "applied": ["applied", "aplicada", "aplicadas", "aplicado"],
    "rejected": ["rejected", "rechazada", "rechazadas", "rechazado"],
    "buy": ["buy", "compra", "compras", "buys", "purchase", "purchases"],
    "sell": ["sell", "venta", "ventas", "sells", "sale", "sales"],
    "USD": ["USD", "dólares", "dollars", "dólar", "dollar"],
    "COP": ["COP", "pesos", "peso"],
}


def rows(
    frames: Frames,
    start: str | None = None,
    end: str | None = None,
    **equal: str,
) -> pd.DataFrame:
    """Transactions whose Madrid day (``local_date``) is in ``[start, end]`` and whose columns equal
    ``equal`` (``type="buy"``, ``status="rejected"``)."""
    frame = frames["portfolio_events"]
    days = pd.to_datetime(frame["local_date"])
    if start:
        frame = frame[days >= pd.Timestamp(start)]
        days = pd.to_datetime(frame["local_date"])
    if end:
        frame = frame[days <= pd.Timestamp(end)]
    for column, value in equal.items():
        frame = frame[frame[column] == value]
    return frame


def count(frames: Frames, start: str | None = None, end: str | None = None, **equal: str) -> Gold:
    """How many transactions."""
    return {"values": [len(rows(frames, start, end, **equal))]}


def count_over(frames: Frames, start: str | None, end: str | None, over: float, **equal: str) -> Gold:
    """How many transactions with an amount strictly above ``over``."""
    period = rows(frames, start, end, **equal)
    return {"values": [int((period["amount"] > over).sum())]}


def moved(frames: Frames, start: str | None = None, end: str | None = None, **equal: str) -> Gold:
    """The amount bought or sold: applied transactions only (a rejected one moved nothing)."""
    period = rows(frames, start, end, status="applied", **equal)
    return {"values": [round(float(period["amount"].sum()), 2)]}


def statistic(
    frames: Frames, how: str, start: str | None = None, end: str | None = None, **equal: str
) -> Gold:
    """The mean, max or min amount of the applied transactions."""
    period = rows(frames, start, end, status="applied", **equal)
    return {"values": [float(getattr(period["amount"], how)())]}


def moved_by_user(
    frames: Frames, start: str | None = None, end: str | None = None, top: int | None = None, **equal: str
) -> Gold:
    """The amount bought or sold per user, largest first (the ``top`` ones), with the user ids."""
    period = rows(frames, start, end, status="applied", **equal)
    sums = period.groupby("user_id")["amount"].sum().sort_values(ascending=False, kind="stable")
    if top is not None:
        sums = sums.head(top)
    values = [round(float(v), 2) for v in sums]
    assert len(set(values)) == len(values), "a ranking with ties"
    return {"values": values, "labels": [[user] for user in sums.index]}


def count_by(
    frames: Frames, column: str, start: str | None = None, end: str | None = None, top: int | None = None,
    **equal: str,
) -> Gold:  # fmt: skip
    """Transactions per value of ``column``, largest first (the ``top`` ones), with their names."""
    period = rows(frames, start, end, **equal)
    counts = period.groupby(column).size().sort_values(ascending=False, kind="stable")
    if top is not None:
        counts = counts.head(top)
    values = [int(v) for v in counts]
    assert len(set(values)) == len(values), "a ranking with ties"
    return {"values": values, "labels": [NAMES.get(str(v), [str(v)]) for v in counts.index]}


def per_day(frames: Frames, start: str, end: str, **equal: str) -> Gold:
    """Transactions per Madrid day in time order, with each day."""
    period = rows(frames, start, end, **equal)
    counts = period.groupby(pd.to_datetime(period["local_date"]).dt.strftime("%Y-%m-%d")).size().sort_index()
    return {"values": [int(v) for v in counts], "times": list(counts.index)}


def moved_per_month(frames: Frames, start: str | None = None, end: str | None = None, **equal: str) -> Gold:
    """The amount moved per month (applied transactions), in time order, with each month's first day."""
    period = rows(frames, start, end, status="applied", **equal)
    months = pd.to_datetime(period["local_date"]).dt.to_period("M").dt.start_time.dt.strftime("%Y-%m-%d")
    sums = period.groupby(months)["amount"].sum().sort_index()
    return {"values": [round(float(v), 2) for v in sums], "times": list(sums.index)}


def side_by_side(frames: Frames, *golds: Gold) -> Gold:
    """Several single values, in the order asked."""
    return {"values": [g["values"][0] for g in golds]}
