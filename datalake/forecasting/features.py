"""Calendar covariates per hour: hour of day, weekday, Spanish national holidays, season; and the
regional calendar: the population share on a holiday or a bridge day, and the Christmas period."""

from __future__ import annotations

import datetime as dt
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


#: Extra columns of the regional calendar, after the N_CALENDAR national ones: the share of the
#: population with a holiday (national or of its region), the share on a bridge day, the
#: Christmas period (24 December to 6 January, when offices and factories run slow), the two
#: shares on the same weekday a week before (the weekly anchor's day: a holiday then makes the
#: anchor too low), and 1 January, 6 January and 25 December whatever the weekday (the library
#: moves a Sunday holiday to Monday in some regions; the Sunday itself is still the lowest day).
N_REGIONAL_EXTRA = 6

#: Population of Spain's autonomous communities (INE, 1 January 2017, millions), the weights of
#: a regional holiday or bridge in the national load.
POPULATION_BY_REGION_M: dict[str, float] = {
    "AN": 8.38, "AR": 1.31, "AS": 1.03, "IB": 1.12, "CN": 2.11, "CB": 0.58, "CL": 2.43,
    "CM": 2.03, "CT": 7.49, "VC": 4.94, "EX": 1.08, "GA": 2.71, "MD": 6.51, "MC": 1.47,
    "NC": 0.64, "PV": 2.19, "RI": 0.31, "CE": 0.085, "ML": 0.086,
}  # fmt: skip


#: (month, day) of the feasts that are holidays everywhere whatever the weekday.
FIXED_FEASTS = ((1, 1), (1, 6), (12, 25))


def calendar_width(calendar: str) -> int:
    """Columns per hour of a calendar kind: ``national`` (the first model's) or ``regional``."""
    if calendar == "national":
        return N_CALENDAR
    if calendar == "regional":
        return N_CALENDAR + N_REGIONAL_EXTRA
    raise ValueError(f"calendar must be 'national' or 'regional', got {calendar!r}")


def is_bridge(day: dt.date, days_off: frozenset) -> bool:
    """Whether a working day sits alone between a day off (holiday or weekend) on each side.

    A Monday before a Tuesday holiday, a Friday after a Thursday holiday, or a weekday
    between two holidays: many people take it off ("puente"), and load drops.
    """

    def off(other: dt.date) -> bool:
        return other.weekday() >= 5 or other in days_off

    if off(day):
        return False
    return off(day - dt.timedelta(days=1)) and off(day + dt.timedelta(days=1))


@functools.cache
def regional_days(country: str, first_year: int, last_year: int) -> dict[dt.date, tuple[float, float]]:
    """``{date: (holiday share, bridge share)}`` of the population, for days where either is above 0.

    Each region counts its own calendar (the national days plus its movable feasts: Maundy
    Thursday, Easter Monday in Catalonia, Valencia, the Basque Country..., Corpus Christi in
    Castilla-La Mancha, its own day), weighted by its population.
    """
    years = range(first_year - 1, last_year + 2)  # bridges look one day across New Year
    total = sum(POPULATION_BY_REGION_M.values())
    shares: dict[dt.date, list[float]] = {}
    # The library leaves out a fixed feast that falls on a Sunday (moved to Monday in some
    # regions), yet the Sunday itself is still the feast: 1 and 6 January, 25 December.
    fixed = {dt.date(year, month, day) for year in years for month, day in FIXED_FEASTS}
    for region, population in POPULATION_BY_REGION_M.items():
        days_off = frozenset(holidays.country_holidays(country, subdiv=region, years=years)) | fixed
        weight = population / total
        for day in days_off:
            shares.setdefault(day, [0.0, 0.0])[0] += weight
        candidates = {d + dt.timedelta(days=k) for d in days_off for k in (-1, 1)}
        for day in candidates:
            if is_bridge(day, days_off):
                shares.setdefault(day, [0.0, 0.0])[1] += weight
    return {day: (min(h, 1.0), min(b, 1.0)) for day, (h, b) in shares.items()}


def regional_calendar_extra(hours_utc: pd.DatetimeIndex, timezone: str, country: str) -> np.ndarray:
    """``(len(hours), N_REGIONAL_EXTRA)``: holiday share, bridge share, Christmas period, per local hour."""
    local = hours_utc.tz_convert(timezone)
    days = regional_days(country, int(local.year.min()) - 1, int(local.year.max()))
    dates = local.date
    week = dt.timedelta(days=7)
    out = np.zeros((len(hours_utc), N_REGIONAL_EXTRA), dtype=np.float32)
    for column in (0, 1):
        out[:, column] = np.fromiter((days.get(d, (0.0, 0.0))[column] for d in dates), np.float32, len(dates))
        out[:, column + 3] = np.fromiter(
            (days.get(d - week, (0.0, 0.0))[column] for d in dates), np.float32, len(dates)
        )
    month, day = local.month.to_numpy(), local.day.to_numpy()
    out[:, 2] = ((month == 12) & (day >= 24)) | ((month == 1) & (day <= 6))
    out[:, 5] = ((month == 1) & ((day == 1) | (day == 6))) | ((month == 12) & (day == 25))
    return out


def calendar_for(hours_utc: pd.DatetimeIndex, timezone: str, country: str, calendar: str) -> np.ndarray:
    """The calendar covariates of a kind (see :func:`calendar_width`) for UTC hours."""
    national = calendar_features(hours_utc, timezone, country)
    if calendar_width(calendar) == N_CALENDAR:
        return national
    return np.concatenate([national, regional_calendar_extra(hours_utc, timezone, country)], axis=1)


def local_lags(hours_utc: pd.DatetimeIndex, timezone: str, days: np.ndarray | int) -> np.ndarray:
    """The UTC lag (hours) of the same local hour ``days`` days before each hour.

    ``24 * days``, an hour less or more when a daylight-saving change lies between the two.
    ``days`` is one number or one per hour. Before the first hours the offset that far back is
    taken as the first hour's.
    """
    local = hours_utc.tz_convert(timezone)
    offsets = (local.tz_localize(None) - hours_utc.tz_localize(None)) // pd.Timedelta(hours=1)
    offsets = np.asarray(offsets, dtype=np.int64)
    back = np.broadcast_to(np.asarray(days, dtype=np.int64) * 24, offsets.shape)
    earlier = np.arange(len(offsets)) - back
    before = np.where(earlier >= 0, offsets[np.maximum(earlier, 0)], offsets[0])
    return back - (offsets - before)


#: A day off counts toward the calendar anchor from this population share up (a regional feast
#: of a few percent moves the national load too little to change the reference day).
ANCHOR_SHARE_MIN = 0.3


def calendar_anchor_mix(
    hours_utc: pd.DatetimeIndex, timezone: str, country: str
) -> tuple[np.ndarray, np.ndarray]:
    """Lags ``(L, 3)`` and weights ``(L, 3)`` of the reference a holiday-aware weekly anchor reads.

    The weekly anchor reads the same local hour a week before. A holiday breaks it twice: the
    holiday itself looks like no weekday a week before, and a week later the anchor is a
    holiday. So, in proportion to the population share ``s`` on a holiday (from
    :data:`ANCHOR_SHARE_MIN`; Monday to Saturday, a Sunday is a Sunday either way):

    - a day whose week-before day was a holiday reads two weeks before instead (when that
      day was no holiday): weight ``s`` of the week-before day moves to the day before it;
    - a holiday reads the Sunday 3 to 9 days before it (the newest one wholly known at a
      day-ahead origin), with weight ``s``.

    The three columns are: a week before, two weeks before, the Sunday.
    """
    local = hours_utc.tz_convert(timezone)
    days = regional_days(country, int(local.year.min()) - 1, int(local.year.max()))
    dates = local.date
    weekday = local.weekday.to_numpy()

    def share(day: dt.date) -> float:
        if day.weekday() == 6:
            return 0.0
        value = days.get(day, (0.0, 0.0))[0]
        return value if value >= ANCHOR_SHARE_MIN else 0.0

    unique = sorted(set(dates))
    week = dt.timedelta(days=7)
    own = {d: share(d) for d in unique}
    anchor_day = {d: share(d - week) if share(d - 2 * week) == 0 else 0.0 for d in unique}
    s_own = np.fromiter((own[d] for d in dates), np.float64, len(dates))
    s_anchor = np.fromiter((anchor_day[d] for d in dates), np.float64, len(dates))
    sunday_days = (weekday - 6) % 7
    sunday_days = np.where(sunday_days < 3, sunday_days + 7, sunday_days)
    lags = np.stack(
        [
            local_lags(hours_utc, timezone, 7),
            local_lags(hours_utc, timezone, 14),
            local_lags(hours_utc, timezone, sunday_days),
        ],
        axis=1,
    )
    weights = np.stack([(1 - s_own) * (1 - s_anchor), (1 - s_own) * s_anchor, s_own], axis=1)
    # Shares summed over regions fall a hair short of 1: round, so a left-out term weighs 0.
    return lags, weights.round(6).astype(np.float32)
