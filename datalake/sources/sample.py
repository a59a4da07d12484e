"""Generated sample demand, for the offline demo. Every row says ``source = sample``.

The shape is plausible (daily and weekly cycles, Spanish holidays lower, a winter/summer
swing, noise), not real data; a few faulty readings are injected on purpose so the
quarantine path is exercised.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pandas as pd

from datalake.storage.base import ObjectStore
from datalake.storage.paths import date_partition_key

MADRID = ZoneInfo("Europe/Madrid")
SAMPLE_PREFIX = "raw/sample/demand"
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


def generate_demand(
    start: dt.date, days: int, seed: int = 7, faults: bool = True
) -> dict[dt.date, pd.DataFrame]:
    """Sample demand rows per local day, national and peninsular.

    Columns: ``datetime`` (local ISO time with offset), ``region``, ``demand_mw``,
    ``extracted_at``, ``source``. With ``faults``, one reading in the middle of the
    range is negative and one is absurdly high.
    """
    rng = np.random.default_rng(seed)
    spanish_holidays = holidays.country_holidays("ES", years=range(start.year, start.year + days // 365 + 2))
    extracted_at = dt.datetime.combine(start + dt.timedelta(days=days), dt.time(6), dt.UTC).isoformat()
    out: dict[dt.date, pd.DataFrame] = {}
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        rows = []
        for moment in local_hours(day):
            national = demand_shape_mw(moment, spanish_holidays) * (1 + rng.normal(0, 0.015))
            for region, share in (("national", 1.0), ("peninsular", PENINSULAR_SHARE)):
                rows.append(
                    {
                        "datetime": moment.isoformat(),
                        "region": region,
                        "demand_mw": round(national * share, 1),
                        "extracted_at": extracted_at,
                        "source": SAMPLE_LABEL,
                    }
                )
        out[day] = pd.DataFrame(rows)
    if faults and days >= 2:
        middle = start + dt.timedelta(days=days // 2)
        out[middle].loc[3, "demand_mw"] = -120.0
        out[middle].loc[10, "demand_mw"] = 9_999_999.0
    return out


def write_sample_raw(store: ObjectStore, start: dt.date, days: int, seed: int = 7) -> list[str]:
    """Write generated demand to ``raw/sample/demand/year=/month=/day=/``, one CSV per day.

    Names are deterministic, so a re-run overwrites the same keys.
    """
    keys = []
    for day, frame in generate_demand(start, days, seed).items():
        key = date_partition_key(SAMPLE_PREFIX, day, f"sample-demand-{day.isoformat()}.csv")
        store.write_csv(key, frame)
        keys.append(key)
    return keys
