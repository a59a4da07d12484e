"""The shape of generated SAMPLE demand (``datalake.sources.ree_sample`` serves it as REData).

Plausible, not real: daily and weekly cycles, Spanish holidays lower, a winter/summer swing.
Everything made from it is labelled ``sample``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import holidays

MADRID = ZoneInfo("Europe/Madrid")
SAMPLE_LABEL = "sample"
#: Peninsular demand is about 94 % of national (the islands and Ceuta/Melilla are the rest).
PENINSULAR_SHARE = 0.94


def local_hours(day: dt.date) -> Iterator[dt.datetime]:
    """The local hours of a Madrid day: 23 on the spring change, 25 on the autumn one."""
    start = dt.datetime(day.year, day.month, day.day, tzinfo=MADRID).astimezone(dt.UTC)
    end_day = day + dt.timedelta(days=1)
    end = dt.datetime(end_day.year, end_day.month, end_day.day, tzinfo=MADRID).astimezone(dt.UTC)
    current = start
    while current < end:
        yield current.astimezone(MADRID)
        current += dt.timedelta(hours=1)


def demand_shape_mw(moment: dt.datetime, spanish_holidays: holidays.HolidayBase) -> float:
    """National demand for a local hour, without noise."""
    hour = moment.hour + moment.minute / 60
    daily = 0.82 + 0.10 * math.sin((hour - 8) / 24 * 2 * math.pi) + 0.08 * math.exp(-((hour - 20.5) ** 2) / 6)
    if hour < 6:
        daily -= 0.08
    weekday = moment.weekday()
    weekly = 1.0 if weekday < 5 else (0.90 if weekday == 5 else 0.84)
    if moment.date() in spanish_holidays:
        weekly = 0.84
    day_of_year = moment.timetuple().tm_yday
    # Two peaks a year: winter heating and summer cooling.
    seasonal = 1.0 + 0.07 * math.cos((day_of_year - 15) / 365 * 2 * math.pi) ** 2
    return 33_000.0 * daily * weekly * seasonal
