"""Walk-forward backtest: retrain as the window walks, score the next days, compare with baselines.

For a block of test days starting at day *t0*, the model is fitted on the ``train_days`` labelled
days before *t0* (row *t0 - 1*'s label is the move into *t0*, known on *t0*), then gives a signal
for each day of the block from that day's past-only features. The block then moves on by
``step_days`` and the model is refitted. Nothing on or after a day's next rate reaches its signal
(``tests/unit/test_fxsignal.py`` perturbs the future and checks).

Strategies, each a signal per day turned into a one-day position in dollars (buy = long 1,
sell = short 1, hold = flat), scored on the same days:

- ``model``: the classifier;
- ``always_hold``: never trades (P&L 0; its accuracy is the share of flat days);
- ``momentum``: tomorrow's class is today's (the last move's label, same threshold);
- ``buy_and_hold_usd``: always long dollars (a reference for the P&L, not a signal).

P&L is the sum of the daily log returns of the position, in percent of the notional, less
``cost_bps`` per unit of position change (opening the first position included).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from datalake.errors import DataValidationError
from datalake.fxsignal import POSITION
from datalake.fxsignal.features import (
    DEFAULT_THRESHOLD,
    FEATURE_COLUMNS,
    build_features,
    label_moves,
    next_returns,
)
from datalake.fxsignal.model import DEFAULT_PARAMS, MIN_TRAINING_ROWS, FxSignalModel, signal_pipeline

STRATEGIES = ("model", "always_hold", "momentum", "buy_and_hold_usd")
#: Business days in a year, for annualised figures.
YEAR_DAYS = 252


@dataclass(frozen=True)
class WalkForward:
    """How the backtest walks: the rolling training window, the retraining step and the costs."""

    train_days: int = 1000
    step_days: int = 21
    threshold: float = DEFAULT_THRESHOLD
    cost_bps: float = 10.0
    params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PARAMS))

    def describe(self) -> dict[str, Any]:
        """The settings as plain JSON."""
        return asdict(self)


def daily_frame(rates: pd.Series, threshold: float) -> pd.DataFrame:
    """Features, the next-day return and its label for every day (missing where unknown)."""
    frame = build_features(rates)
    frame["next_return"] = next_returns(rates)
    frame["label"] = label_moves(frame["next_return"], threshold)
    # Momentum's signal: the label of the move into the day (known on the day).
    frame["last_label"] = label_moves(frame["ret_1d"], threshold)
    return frame


def walk_forward_signals(
    rates: pd.Series,
    start: pd.Timestamp | str,
    end: pd.Timestamp | str | None = None,
    config: WalkForward | None = None,
) -> pd.DataFrame:
    """Every strategy's signal on each test day in ``[start, end]`` with a known next-day move.

    Parameters
    ----------
    rates
        Daily rates, sorted, unique dates.
    start, end
        The test days (inclusive); ``end`` defaults to the last day with a next rate.
    config
        Windows, threshold, costs and model parameters.

    Returns
    -------
    pandas.DataFrame
        Indexed by test day: one column per :data:`STRATEGIES` (``buy``/``sell``/``hold``),
        ``label``, ``next_return`` and ``fitted_on`` (the first day of the block's model).

    Raises
    ------
    DataValidationError
        When fewer than ``train_days`` labelled days precede ``start``.
    """
    config = config or WalkForward()
    frame = daily_frame(rates, config.threshold)
    features = frame[list(FEATURE_COLUMNS)]
    complete = features.notna().all(axis=1) & frame["label"].notna()
    end_ts = pd.Timestamp(end) if end is not None else frame.index[complete.to_numpy()][-1]
    test_days = frame.index[
        (frame.index >= pd.Timestamp(start)) & (frame.index <= end_ts) & complete.to_numpy()
    ]
    if test_days.empty:
        raise DataValidationError("start", f"no test day with complete features between {start} and {end_ts}")
    positions = frame.index.get_indexer(test_days)
    complete_np = complete.to_numpy()
    out = []
    # Hundreds of small fits: BLAS threads only contend (one thread is ten times faster here).
    with threadpool_limits(limits=1):
        for block_start in range(0, len(positions), config.step_days):
            out.append(
                _block(
                    frame, rates, positions[block_start : block_start + config.step_days], complete_np, config
                )
            )
    return pd.concat(out)


def _block(
    frame: pd.DataFrame, rates: pd.Series, block: np.ndarray, complete: np.ndarray, config: WalkForward
) -> pd.DataFrame:
    """Fit on the labelled days before the block's first day, give every strategy's signal in the block."""
    first = block[0]
    # Labelled rows strictly before the block's first day: their next rate is known by then.
    candidates = np.flatnonzero(complete[:first])[-config.train_days :]
    # Every block trains on a full window, so early and late blocks are alike.
    if len(candidates) < max(config.train_days, MIN_TRAINING_ROWS):
        raise DataValidationError(
            "start",
            f"{len(candidates)} labelled days before {frame.index[first].date()}; need {config.train_days}",
        )
    train = frame.iloc[candidates]
    pipeline = signal_pipeline(**config.params)
    pipeline.fit(train[list(FEATURE_COLUMNS)].to_numpy(), train["label"].to_numpy())
    model = FxSignalModel(pipeline, config.threshold, rates.iloc[:0])
    days = frame.iloc[block]
    return pd.DataFrame(
        {
            "model": model.signals(days[list(FEATURE_COLUMNS)]).to_numpy(),
            "always_hold": "hold",
            "momentum": days["last_label"].to_numpy(),
            "buy_and_hold_usd": "buy",
            "label": days["label"].to_numpy(),
            "next_return": days["next_return"].to_numpy(),
            "fitted_on": frame.index[first],
        },
        index=days.index,
    )


def score_signals(
    signals: pd.Series, labels: pd.Series, returns: pd.Series, cost_bps: float
) -> dict[str, Any]:
    """Accuracy, directional accuracy and the P&L with costs of one strategy's signals.

    Returns
    -------
    dict
        ``days``; ``accuracy`` (3 classes); ``calls`` (days not ``hold``) and
        ``directional_accuracy`` (share of calls whose sign matches the next move; None without
        calls); ``gross_pnl_pct``, ``cost_pct``, ``net_pnl_pct`` (percent of notional, summed
        log returns), ``trades`` (position changes), ``net_annualised_pct`` and
        ``net_sharpe`` (annualised, None when the P&L never varies).
    """
    position = signals.map(POSITION).astype(float)
    gross = position * returns
    turnover = position.diff().abs()
    turnover.iloc[0] = abs(position.iloc[0])
    costs = turnover * cost_bps / 1e4
    net = gross - costs
    calls = position != 0
    hits = np.sign(returns[calls]) == position[calls]
    days = len(signals)
    spread = float(net.std())
    return {
        "days": days,
        "accuracy": round(float((signals == labels).mean()), 4),
        "calls": int(calls.sum()),
        "directional_accuracy": round(float(hits.mean()), 4) if calls.any() else None,
        "gross_pnl_pct": round(100 * float(gross.sum()), 3),
        "cost_pct": round(100 * float(costs.sum()), 3),
        "net_pnl_pct": round(100 * float(net.sum()), 3),
        "trades": int((turnover > 0).sum()),
        "net_annualised_pct": round(100 * float(net.mean()) * YEAR_DAYS, 3),
        "net_sharpe": round(float(net.mean()) / spread * float(np.sqrt(YEAR_DAYS)), 3)
        if spread > 0
        else None,
    }


def score_backtest(signals: pd.DataFrame, cost_bps: float) -> dict[str, dict[str, Any]]:
    """:func:`score_signals` for every strategy of a :func:`walk_forward_signals` frame."""
    return {
        name: score_signals(signals[name], signals["label"], signals["next_return"], cost_bps)
        for name in STRATEGIES
    }


def final_test_start(rates: pd.Series, years: float) -> pd.Timestamp:
    """The first day of the final test window: the last ``years`` of the series."""
    if years <= 0:
        raise DataValidationError("final_years", f"must be positive, got {years}")
    return rates.index[rates.index > rates.index[-1] - pd.DateOffset(days=round(365.25 * years))][0]
