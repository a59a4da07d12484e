"""Time-based splits: the test window is the last six weeks; validation the six weeks before it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from datalake.sales import HORIZON_DAYS


class SplitTooShortError(ValueError):
    """The data spans too few days for the validation and test windows."""


@dataclass(frozen=True)
class TimeSplit:
    """Train / validation / test windows, counted back from the newest date of the data.

    Tuning looks at the validation window only; the test window scores the finished model.
    """

    test_days: int = HORIZON_DAYS
    validation_days: int = HORIZON_DAYS

    def dates(self, dates: pd.Series) -> dict[str, dt.date]:
        """First and last day of each window for data spanning ``dates``."""
        last = pd.to_datetime(dates).max().normalize()
        first = pd.to_datetime(dates).min().normalize()
        test_start = last - pd.Timedelta(days=self.test_days - 1)
        validation_start = test_start - pd.Timedelta(days=self.validation_days)
        if validation_start <= first:
            raise SplitTooShortError(f"data from {first.date()} to {last.date()} is too short for the split")
        return {
            "train_start": first.date(),
            "validation_start": validation_start.date(),
            "test_start": test_start.date(),
            "test_end": last.date(),
        }

    def describe(self) -> dict[str, int]:
        """The split settings as plain values."""
        return {"test_days": self.test_days, "validation_days": self.validation_days}


def before(frame: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Rows dated strictly before ``day``."""
    return frame[pd.to_datetime(frame["date"]) < pd.Timestamp(day)]


def between(frame: pd.DataFrame, first: dt.date, last: dt.date | None = None) -> pd.DataFrame:
    """Rows dated from ``first`` to ``last`` (inclusive; open-ended when None)."""
    date = pd.to_datetime(frame["date"])
    chosen = date >= pd.Timestamp(first)
    if last is not None:
        chosen &= date <= pd.Timestamp(last)
    return frame[chosen]
