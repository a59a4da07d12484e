"""A labelled SAMPLE of Rossmann's store-sales drops for offline runs: daily sales and store attributes.

Not real data. ``stores`` German drugstores over about two years, written as Kaggle's ``train.csv``
(``Store, DayOfWeek, Date, Sales, Customers, Open, Promo, StateHoliday, SchoolHoliday``, newest
day first, ISO dates) and ``store.csv`` (``Store, StoreType, Assortment, CompetitionDistance,
CompetitionOpenSince*, Promo2, Promo2Since*, PromoInterval``). Both are labelled in their names
(``train-SAMPLE.csv``, ``store-SAMPLE.csv``): the landing routes drops by header, so the label
travels into every raw key.

Sales carry signal a model can learn beyond the per store x weekday x promo mean the sales
baseline uses: per-store levels and trends, a weekly cycle (Mondays high, Saturdays low),
chain-wide promotions every other week (Monday to Friday) with a per-store uplift, Sundays closed
(type ``b`` stores open, as Rossmann's are), each store's state holidays closed (codes ``a``
public, ``b`` Easter, ``c`` Christmas) with busier days before them and after long closures,
school holidays, pay-day days at the start of the month, a Christmas rush, Promo2 months, a
competitor opening near some stores during the window, a refurbishment closure here and there,
and multiplicative noise.

The pipeline's conventions, chosen to match what it expects of the shared Rossmann subset:

- ``DayOfWeek`` follows Kaggle's convention (Monday 1 .. Sunday 7); the lake ignores it anyway
  and recomputes ``day_of_week`` from the date.
- Dates are in the shared subset's era (Kaggle's shifted +9 years; by default 2022-08-01 ..
  2024-07-31), while the store file's "since" years stay in Kaggle's era, as the shared
  ``store.csv`` does: each is written ``store_year_offset`` (the features'
  :attr:`~datalake.sales.features.FeatureConfig.store_year_offset`, 9) years before the date it
  means, so the features put competitors' openings and Promo2 starts where the sales show them.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from dateutil.easter import easter

from datalake.datasets.store_sales import PROMO_INTERVALS
from datalake.sales.features import FeatureConfig

SAMPLE_LABEL = "sample"
SALES_FILE = "train-SAMPLE.csv"
STORES_FILE = "store-SAMPLE.csv"
SALES_HEADER = (
    "Store",
    "DayOfWeek",
    "Date",
    "Sales",
    "Customers",
    "Open",
    "Promo",
    "StateHoliday",
    "SchoolHoliday",
)
STORES_HEADER = (
    "Store",
    "StoreType",
    "Assortment",
    "CompetitionDistance",
    "CompetitionOpenSinceMonth",
    "CompetitionOpenSinceYear",
    "Promo2",
    "Promo2SinceWeek",
    "Promo2SinceYear",
    "PromoInterval",
)
DEFAULT_START, DEFAULT_END = dt.date(2022, 8, 1), dt.date(2024, 7, 31)
#: States the stores are in (their public and school holidays differ).
STATES = ("NW", "BY", "HE", "BE", "NI", "BW")
#: Sales by weekday (Monday first) relative to the week; Sunday only for the stores that open.
WEEKDAY_FACTOR = np.array([1.18, 1.03, 0.98, 0.96, 1.04, 0.88, 0.75])
#: Level, and euros per customer, by store type.
TYPE_LEVEL = {"a": 1.0, "b": 1.8, "c": 1.0, "d": 0.95}
TYPE_BASKET_EUR = {"a": 8.5, "b": 5.0, "c": 9.5, "d": 11.5}
ASSORTMENT_LEVEL = {"a": 1.0, "b": 0.8, "c": 1.1}
#: The kinds of dirty row ``dirty_rows`` injects, in turn (see :func:`generate_store_sales_drops`).
DIRTY_KINDS = ("sales_on_closed_day", "negative_sales", "unknown_store")


@dataclass(frozen=True)
class SampleStore:
    """One store's attributes and its hidden sales drivers."""

    store_id: int
    store_type: str
    assortment: str
    state: str
    level: float
    basket_eur: float
    growth_per_year: float
    promo_uplift: float
    competition_distance_m: float | None
    competition_opened: dt.date | None
    promo2_since: dt.date | None
    promo_interval: str | None
    refurbished: tuple[dt.date, dt.date] | None


def _public_holidays(state: str, years: range) -> dict[dt.date, str]:
    """A state's public holidays with Kaggle's code: ``b`` Easter, ``c`` Christmas, ``a`` the others."""
    import holidays

    codes = {}
    for day in holidays.Germany(subdiv=state, years=list(years)):
        easter_day = easter(day.year)
        if day in (easter_day - dt.timedelta(days=2), easter_day, easter_day + dt.timedelta(days=1)):
            codes[day] = "b"
        elif (day.month, day.day) in ((12, 25), (12, 26)):
            codes[day] = "c"
        else:
            codes[day] = "a"
    return codes


def _school_holidays(state: str, dates: pd.DatetimeIndex) -> np.ndarray:
    """Plausible school holidays of a state: Easter, summer (six weeks, staggered), autumn, Christmas."""
    offset = STATES.index(state)
    flags = np.zeros(len(dates), dtype=bool)
    for year in sorted(set(dates.year)):
        easter_day = pd.Timestamp(easter(year))
        # States take turns: the summer start moves a week a year and differs between states.
        summer = pd.Timestamp(year, 6, 24) + pd.Timedelta(weeks=(offset + year) % 6)
        autumn = pd.Timestamp(year, 10, 2) + pd.Timedelta(weeks=(offset + year) % 3)
        for first, days in (
            (easter_day - pd.Timedelta(days=8), 15),
            (summer, 44),
            (autumn, 12),
            (pd.Timestamp(year, 12, 22), 16),
            (pd.Timestamp(year - 1, 12, 22), 16),
        ):
            flags |= (dates >= first) & (dates < first + pd.Timedelta(days=days))
    return flags


def _stores(count: int, start: dt.date, end: dt.date, rng: np.random.Generator) -> list[SampleStore]:
    span = (end - start).days
    types = rng.choice(list("abcd"), size=count, p=[0.52, 0.04, 0.13, 0.31])
    if count >= 5 and "b" not in types:
        types[rng.integers(count)] = "b"  # one store that opens on Sundays
    out = []
    for index, store_type in enumerate(types):
        assortment = "b" if store_type == "b" else str(rng.choice(["a", "c"], p=[0.55, 0.45]))
        level = 5_800 * TYPE_LEVEL[store_type] * ASSORTMENT_LEVEL[assortment] * rng.lognormal(0, 0.25)
        distance = float(np.clip(round(rng.lognormal(np.log(2_000), 1.1), -1), 20, 75_000))
        competition_opened: dt.date | None = None
        chance = rng.random()
        if chance < 0.25:  # a competitor opens during the window: the store loses some trade
            competition_opened = start + dt.timedelta(days=int(rng.integers(120, span - 150)))
        elif chance < 0.75:  # one that has been there for years
            competition_opened = dt.date(int(rng.integers(1999, start.year)), int(rng.integers(1, 13)), 1)
        promo2_since = None
        interval = None
        if rng.random() < 0.5:
            interval = str(rng.choice(PROMO_INTERVALS))
            if rng.random() < 0.4:
                promo2_since = start + dt.timedelta(days=int(rng.integers(60, span - 120)))
            else:
                promo2_since = start - dt.timedelta(days=int(rng.integers(100, 2_000)))
            iso = promo2_since.isocalendar()
            promo2_since = dt.date.fromisocalendar(iso.year, min(iso.week, 52), 1)
        refurbished = None
        if rng.random() < 0.15:
            first = start + dt.timedelta(days=int(rng.integers(30, span - 120)))
            refurbished = (first, first + dt.timedelta(days=int(rng.integers(7, 22))))
        out.append(
            SampleStore(
                store_id=index + 1,
                store_type=str(store_type),
                assortment=assortment,
                state=str(rng.choice(STATES)),
                level=level,
                basket_eur=TYPE_BASKET_EUR[store_type] * rng.lognormal(0, 0.08),
                growth_per_year=rng.normal(0.03, 0.03),
                promo_uplift=rng.normal(0.24, 0.05),
                competition_distance_m=None if chance >= 0.97 else distance,
                competition_opened=competition_opened,
                promo2_since=promo2_since,
                promo_interval=interval,
                refurbished=refurbished,
            )
        )
    return out


def _in_interval(months: np.ndarray, interval: str | None) -> np.ndarray:
    if interval is None:
        return np.zeros(len(months), dtype=bool)
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec"]
    wanted = [names.index(name) + 1 for name in interval.split(",")]
    return np.isin(months, wanted)


def _store_days(
    store: SampleStore, dates: pd.DatetimeIndex, chain: dict[str, np.ndarray], rng: np.random.Generator
) -> pd.DataFrame:
    """One store's rows: open flag, sales, customers, promo and holidays for every date."""
    weekday = dates.dayofweek.to_numpy()
    codes = _public_holidays(store.state, range(dates.year.min(), dates.year.max() + 1))
    holiday = np.array([codes.get(day.date(), "0") for day in dates])
    school = _school_holidays(store.state, dates)
    is_open = (holiday == "0") & ((weekday != 6) | (store.store_type == "b"))
    if store.refurbished is not None:
        first, last = (pd.Timestamp(d) for d in store.refurbished)
        is_open &= ~((dates >= first) & (dates <= last))
    # The day before a closure is busier; so is the first day back after two or more closed days.
    closed = ~is_open
    before_closure = np.append(closed[1:], False) & is_open & (weekday != 5)
    after_long = is_open & np.append([False], closed[:-1]) & np.append([False, False], closed[:-2])
    years = (dates - dates[0]).days.to_numpy() / 365.25
    factor = store.level * (1 + store.growth_per_year) ** years
    factor = factor * WEEKDAY_FACTOR[weekday] * chain["season"] * chain["month_day"] * chain["week_shock"]
    promo = chain["promo"]
    factor *= 1 + promo * (store.promo_uplift + 0.06 * (weekday == 0))
    factor *= 1 + 0.05 * school
    factor *= 1 + 0.18 * before_closure + 0.12 * after_long
    if store.promo2_since is not None:
        active = (dates >= pd.Timestamp(store.promo2_since)) & _in_interval(
            dates.month.to_numpy(), store.promo_interval
        )
        factor *= 1 + 0.04 * active
    if store.competition_opened is not None and store.competition_opened > dates[0].date():
        # Trade lost to a new competitor, more when it is close, over its first two months.
        loss = 0.14 if (store.competition_distance_m or 0) < 1_500 else 0.07
        days_since = (dates - pd.Timestamp(store.competition_opened)).days.to_numpy()
        factor *= 1 - loss * np.clip(days_since / 60, 0, 1)
    sales = np.where(is_open, np.round(factor * rng.lognormal(0, 0.06, len(dates))), 0).astype(np.int64)
    customers = np.where(is_open, np.round(sales / store.basket_eur * rng.lognormal(0, 0.04, len(dates))), 0)
    return pd.DataFrame(
        {
            "Store": store.store_id,
            "DayOfWeek": weekday + 1,  # Kaggle's convention: Monday 1 .. Sunday 7
            "Date": dates.strftime("%Y-%m-%d"),
            "Sales": sales,
            "Customers": customers.astype(np.int64),
            "Open": is_open.astype(int),
            "Promo": promo.astype(int),
            "StateHoliday": holiday,
            "SchoolHoliday": school.astype(int),
        }
    )


def _chain(dates: pd.DatetimeIndex, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """What every store shares: promotions, the season, pay days, a weekly shock (weather, news)."""
    weekday = dates.dayofweek.to_numpy()
    week = (dates - pd.Timestamp(dates[0] - pd.Timedelta(days=int(weekday[0])))).days.to_numpy() // 7
    promo = ((week % 2) == 0) & (weekday < 5)
    day_of_year = dates.dayofyear.to_numpy()
    season = 1 + 0.04 * np.cos(2 * np.pi * (day_of_year - 350) / 365.25) - 0.05 * (dates.month == 1)
    # The Christmas rush: rising from December 10th to the 23rd.
    rush = (dates.month == 12) & (dates.day >= 10) & (dates.day <= 24)
    season = season * (1 + rush * np.clip((dates.day.to_numpy() - 9) / 14, 0, 1) * 0.45)
    day = dates.day.to_numpy()
    month_day = np.where(day <= 3, 1.07, np.where((day >= 16) & (day <= 25), 0.96, 1.0))
    shock = rng.normal(0, 0.02, week.max() + 1)[week]
    return {"promo": promo, "season": season, "month_day": month_day, "week_shock": 1 + shock}


def _since(day: dt.date | None, offset: int) -> tuple[int | None, int | None]:
    return (None, None) if day is None else (day.month, day.year - offset)


def store_rows(stores: list[SampleStore], store_year_offset: int) -> list[list[object]]:
    """``store.csv`` rows (header first); "since" years ``store_year_offset`` years early, as Kaggle's."""
    rows: list[list[object]] = [list(STORES_HEADER)]
    for store in stores:
        month, year = _since(store.competition_opened, store_year_offset)
        if store.competition_distance_m is None:
            month = year = None
        week = promo2_year = None
        if store.promo2_since is not None:
            iso = store.promo2_since.isocalendar()
            week, promo2_year = iso.week, iso.year - store_year_offset
        rows.append(
            [
                store.store_id,
                store.store_type,
                store.assortment,
                "" if store.competition_distance_m is None else int(store.competition_distance_m),
                "" if month is None else month,
                "" if year is None else year,
                int(store.promo2_since is not None),
                "" if week is None else week,
                "" if promo2_year is None else promo2_year,
                store.promo_interval or "",
            ]
        )
    return rows


def sales_frame(
    stores: list[SampleStore], start: dt.date, end: dt.date, rng: np.random.Generator
) -> pd.DataFrame:
    """The ``train.csv`` rows of ``stores`` from ``start`` to ``end``, newest day first (as Kaggle's)."""
    dates = pd.date_range(start, end, freq="D")
    chain = _chain(dates, rng)
    frame = pd.concat([_store_days(store, dates, chain, rng) for store in stores], ignore_index=True)
    return frame.sort_values(["Date", "Store"], ascending=[False, True], ignore_index=True)


def _make_dirty(frame: pd.DataFrame, count: int, stores: int, rng: np.random.Generator) -> pd.DataFrame:
    """``count`` dirty rows of :data:`DIRTY_KINDS`, in turn: on distinct open rows, or appended."""
    frame = frame.copy()
    open_rows = rng.choice(np.flatnonzero(frame["Open"].to_numpy() == 1), size=count, replace=False)
    extra = []
    for number, row in enumerate(open_rows):
        kind = DIRTY_KINDS[number % len(DIRTY_KINDS)]
        if kind == "sales_on_closed_day":
            frame.loc[row, "Open"] = 0
        elif kind == "negative_sales":
            frame.loc[row, "Sales"] = -frame.loc[row, "Sales"]
        else:  # a store the store file lacks
            extra.append(frame.loc[row].to_dict() | {"Store": stores + 1_000 + number})
    return pd.concat([frame, pd.DataFrame(extra, columns=frame.columns)], ignore_index=True)


def generate_store_sales_drops(
    folder: Path,
    stores: int = 20,
    start: dt.date = DEFAULT_START,
    end: dt.date = DEFAULT_END,
    *,
    seed: int = 23,
    dirty_rows: int = 0,
    store_year_offset: int = FeatureConfig().store_year_offset,
) -> list[Path]:
    """Write the SAMPLE Rossmann drops to ``folder``: daily sales and the store attributes.

    Parameters
    ----------
    folder
        Where to write (created); the landing folder for a local run.
    stores
        Stores to generate (numbered 1..stores).
    start, end
        First and last day of the sales (inclusive); the features need more than a year and
        twelve weeks for their 364-day lag and the validation and test windows.
    seed
        The same seed and arguments write the same bytes.
    dirty_rows
        Rows made dirty on purpose, the kinds of :data:`DIRTY_KINDS` in turn: an open day's row
        marked closed with its sales kept, a negative sales figure, a row of a store the store
        file lacks (appended). The job quarantines each with its reason.
    store_year_offset
        Years the "since" years of the store file are written before the dates they mean (see
        the module docstring).

    Returns
    -------
    list of Path
        The sales file (:data:`SALES_FILE`) and the store file (:data:`STORES_FILE`).
    """
    if stores < 1 or end <= start + dt.timedelta(days=300):
        raise ValueError(f"need at least one store and a window of over 300 days: {stores}, {start}..{end}")
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    sample_stores = _stores(stores, start, end, rng)
    sales = sales_frame(sample_stores, start, end, rng)
    if dirty_rows:
        sales = _make_dirty(sales, dirty_rows, stores, rng)
    sales_path, stores_path = folder / SALES_FILE, folder / STORES_FILE
    sales.to_csv(sales_path, index=False, lineterminator="\n")
    with stores_path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(store_rows(sample_stores, store_year_offset))
    return [sales_path, stores_path]
