"""Calendar covariates per hour: hour of day, weekday, Spanish national holidays, season."""

from __future__ import annotations

import functools

import holidays
import numpy as np
import pandas as pd

#: hour sin/cos, weekday one-hot (7), holiday, day-of-year sin/cos.
N_CALENDAR = 12


@functools.cache
def _holiday_dates(country: str, first_year: int, last_year: int) -> frozenset:
    return frozenset(holidays.country_holidays(country, years=range(first_year, last_year + 1)))


def calendar_features(hours_utc: pd.DatetimeIndex, timezone: str, country: str) -> np.ndarray:
    """``(len(hours), N_CALENDAR)`` float32 covariates of each UTC hour, in local time.

    Only national holidays count: regional ones move a part of the country, not the
    national load enough to learn from without weather.
    """
    local = hours_utc.tz_convert(timezone)
    hour = local.hour.to_numpy() + 0.5
    weekday = local.weekday.to_numpy()
    dates = local.date
    days = _holiday_dates(country, int(local.year.min()), int(local.year.max()))
    holiday = np.fromiter((d in days for d in dates), dtype=np.float32, count=len(dates))
    doy = local.dayofyear.to_numpy()
    out = np.zeros((len(hours_utc), N_CALENDAR), dtype=np.float32)
    out[:, 0] = np.sin(2 * np.pi * hour / 24)
    out[:, 1] = np.cos(2 * np.pi * hour / 24)
    out[np.arange(len(weekday)), 2 + weekday] = 1.0
    out[:, 9] = holiday
    out[:, 10] = np.sin(2 * np.pi * doy / 365.25)
    out[:, 11] = np.cos(2 * np.pi * doy / 365.25)
    return out
