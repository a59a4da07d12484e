"""Features from past rates only, and the label: a next-day move beyond a threshold.

Row *t* of :func:`build_features` uses the rates up to and including day *t* and nothing after
(every window is trailing), so it is known when day *t*'s rate is; the label of row *t* is the
move from *t* to the next observation *t+1*. Windows count observations (business days), not
calendar days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from datalake.errors import DataValidationError

#: Features, all dimensionless (log ratios, or a return in units of recent volatility).
FEATURE_COLUMNS: tuple[str, ...] = (
    "ret_1d",  # log(rate_t / rate_t-1)
    "ret_5d",
    "ret_20d",
    "gap_ma5",  # log(rate_t / 5-day moving average)
    "gap_ma20",
    "ma5_over_ma20",  # log(MA5 / MA20): short trend against the longer one
    "vol_20d",  # standard deviation of the last 20 daily log returns
    "ret_1d_z",  # ret_1d / vol_20d
)
#: The longest window (20 returns) needs this many rates before the first complete row.
MIN_HISTORY = 21
#: A move must exceed this (0.3 %, as a log return) to be a buy or a sell; smaller is hold. A round
#: number near the median absolute daily TRM move of the development window (0.27 %, 1991-12 to
#: 2022-08, before the final test years): about half of those days are hold (0.486).
DEFAULT_THRESHOLD = 0.003


def build_features(rates: pd.Series) -> pd.DataFrame:
    """One row per day: the :data:`FEATURE_COLUMNS` from that day's and earlier rates.

    Parameters
    ----------
    rates
        Pesos per dollar, indexed by date, sorted.

    Returns
    -------
    pandas.DataFrame
        Same index; the first ``MIN_HISTORY - 1`` rows have missing values.
    """
    logs = np.log(rates.astype(float))
    daily = logs.diff()
    ma5 = rates.rolling(5).mean()
    ma20 = rates.rolling(20).mean()
    vol = daily.rolling(20).std()
    return pd.DataFrame(
        {
            "ret_1d": daily,
            "ret_5d": logs.diff(5),
            "ret_20d": logs.diff(20),
            "gap_ma5": logs - np.log(ma5),
            "gap_ma20": logs - np.log(ma20),
            "ma5_over_ma20": np.log(ma5) - np.log(ma20),
            "vol_20d": vol,
            "ret_1d_z": daily / vol.replace(0.0, np.nan),
        },
        index=rates.index,
    )[list(FEATURE_COLUMNS)]


#: A next observation further away than this (calendar days) is not a next-day move: no label.
#: The TRM's longest window is 6 days (Holy Week 2008); the spot file has two month-long holes.
MAX_NEXT_DAYS = 7


def next_returns(rates: pd.Series) -> pd.Series:
    """The log return from each day to the next observation.

    Missing on the last day, and where the next observation is more than :data:`MAX_NEXT_DAYS`
    calendar days later (a hole in the data, not a next-day move).
    """
    logs = np.log(rates.astype(float))
    returns = logs.shift(-1) - logs
    following = pd.Series(rates.index, index=rates.index).shift(-1)
    too_far = (following - rates.index.to_series()) > pd.Timedelta(days=MAX_NEXT_DAYS)
    return returns.mask(too_far.to_numpy())


def label_moves(returns: pd.Series, threshold: float = DEFAULT_THRESHOLD) -> pd.Series:
    """``buy`` above ``threshold``, ``sell`` below ``-threshold``, ``hold`` between; missing stays missing."""
    if not threshold >= 0:
        raise DataValidationError("threshold", f"must be zero or more, got {threshold!r}")
    labels = pd.Series(np.where(returns > threshold, "buy", np.where(returns < -threshold, "sell", "hold")))
    labels.index = returns.index
    return labels.where(returns.notna())


def labelled_frame(rates: pd.Series, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Features, ``next_return`` and ``label`` for every day with complete features and a known next day."""
    frame = build_features(rates)
    frame["next_return"] = next_returns(rates)
    frame["label"] = label_moves(frame["next_return"], threshold)
    return frame.dropna()
