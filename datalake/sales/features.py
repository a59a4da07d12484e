"""Store-sales features: pure pandas functions, DataFrame in, DataFrame out.

Every feature of a row is known when the prediction is made, six weeks ahead: the row's own
inputs (date, promo, holidays), the store's attributes, and sales history that ends at least
``horizon_days`` before the row's date. The history is passed in explicitly, so a caller decides
what is known (training data only) and nothing leaks from the window being predicted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from datalake.sales import HORIZON_DAYS

#: Month number -> the abbreviations PromoInterval uses (Kaggle writes "Sept").
_MONTH_NAMES = {
    1: ("Jan",),
    2: ("Feb",),
    3: ("Mar",),
    4: ("Apr",),
    5: ("May",),
    6: ("Jun",),
    7: ("Jul",),
    8: ("Aug",),
    9: ("Sep", "Sept"),
    10: ("Oct",),
    11: ("Nov",),
    12: ("Dec",),
}
#: Categorical text columns -> fixed integer codes (the same code for the same value in every run).
STATE_HOLIDAY_CODES = {"0": 0, "a": 1, "b": 2, "c": 3}
STORE_TYPE_CODES = {"a": 0, "b": 1, "c": 2, "d": 3}
ASSORTMENT_CODES = {"a": 0, "b": 1, "c": 2}


@dataclass(frozen=True)
class FeatureConfig:
    """Settings of the feature builder (part of the dataset digest).

    Attributes
    ----------
    horizon_days
        The prediction horizon: lags and rolling windows end at least this many days before a row.
    lags_days
        Sales lags (multiples of 7 keep the weekday).
    rolling_days
        Windows of the rolling means of open-day sales, each ending ``horizon_days`` before a row.
    store_year_offset
        Years added to the stores table's "since" years. The shared Rossmann subset shifts sales
        dates by +9 years but not the store file, so competition and Promo2 starts need the same shift.
    date_year_offset
        Years between a sales date and the day the shoppers lived it. The shared subset's dates are
        Kaggle's plus 9 years, so its weekdays are not the shops' (stores close on the Sundays of
        2013-2015, which fall on other weekdays of 2022-2024, and on another one again after the
        missing 29 February 2024). Calendar features, weekday means and lags use the shop's date.
        None: inferred from the sales (:func:`infer_date_year_offset`) when features are built.
    """

    horizon_days: int = HORIZON_DAYS
    lags_days: tuple[int, ...] = (42, 49, 364)
    rolling_days: tuple[int, ...] = (28, 91)
    store_year_offset: int = 9
    date_year_offset: int | None = None

    def __post_init__(self) -> None:
        short = [lag for lag in self.lags_days if lag < self.horizon_days]
        if short:
            raise ValueError(f"lags_days {short} are shorter than the horizon ({self.horizon_days} days)")

    def describe(self) -> dict[str, object]:
        """The settings as plain values (for MLflow params and the dataset manifest)."""
        return {
            "horizon_days": self.horizon_days,
            "lags_days": list(self.lags_days),
            "rolling_days": list(self.rolling_days),
            "store_year_offset": self.store_year_offset,
            "date_year_offset": self.date_year_offset,
        }

    def resolved(self, sales: pd.DataFrame) -> FeatureConfig:
        """This config with ``date_year_offset`` inferred from ``sales`` when it is None."""
        return self.resolved_from_closed_days(closed_day_counts(sales))

    def resolved_from_closed_days(self, closed_days: pd.Series) -> FeatureConfig:
        """This config with ``date_year_offset`` inferred from :func:`closed_day_counts` when None.

        The counts are all the inference needs, so a Spark job computes them as an aggregate.
        """
        if self.date_year_offset is not None:
            return self
        offset = offset_from_closed_days(closed_days, (0, self.store_year_offset))
        return dataclasses.replace(self, date_year_offset=offset)


def shop_dates(dates: pd.Series, year_offset: int | None) -> pd.Series:
    """The days the shoppers lived: ``dates`` minus ``year_offset`` years (see ``date_year_offset``)."""
    dates = pd.to_datetime(dates)
    if not year_offset:
        return dates
    # Shift each distinct day once: a DateOffset on every row is slow.
    unique = pd.DatetimeIndex(dates.unique())
    shifted = pd.Series(unique - pd.DateOffset(years=year_offset), index=unique)
    return pd.Series(shifted.reindex(dates.to_numpy()).to_numpy(), index=dates.index)


def closed_day_counts(sales: pd.DataFrame) -> pd.Series:
    """Closed rows per date (index: dates, values: counts): what :func:`offset_from_closed_days` reads."""
    closed = pd.to_datetime(sales.loc[~sales["open"].astype(bool), "date"])
    return closed.value_counts(sort=False)


def offset_from_closed_days(closed_days: pd.Series, candidates: tuple[int, ...]) -> int:
    """The year shift among ``candidates`` that puts the most closed days on a Sunday.

    Rossmann stores close on Sundays, so the calendar in which closures fall on Sundays is the
    shoppers'. The first candidate wins ties (and data without closed days).

    Parameters
    ----------
    closed_days
        Closed rows per date (:func:`closed_day_counts`).
    candidates
        The year shifts to try.
    """
    if closed_days.empty or int(closed_days.sum()) == 0:
        return candidates[0]
    dates = pd.Series(pd.to_datetime(closed_days.index))
    counts = closed_days.to_numpy()
    # Every candidate shares the same closed rows: the Sunday count ranks them as the share would.
    sundays = {
        offset: int(counts[(shop_dates(dates, offset).dt.dayofweek == 6).to_numpy()].sum())
        for offset in candidates
    }
    return max(candidates, key=lambda offset: (sundays[offset], -candidates.index(offset)))


def infer_date_year_offset(sales: pd.DataFrame, candidates: tuple[int, ...]) -> int:
    """The year shift among ``candidates`` that puts the most of ``sales``' closed days on a Sunday."""
    return offset_from_closed_days(closed_day_counts(sales), candidates)


def calendar_features(rows: pd.DataFrame, date_year_offset: int | None = 0) -> pd.DataFrame:
    """Weekday (recomputed from the date, Monday=1), month, day, week of year, year, holiday codes.

    The calendar is the shop's: the date minus ``date_year_offset`` years.
    """
    date = shop_dates(rows["date"], date_year_offset)
    return pd.DataFrame(
        {
            "day_of_week": date.dt.dayofweek + 1,
            "day_of_month": date.dt.day,
            "month": date.dt.month,
            "week_of_year": date.dt.isocalendar().week.astype("int64").to_numpy(),
            "day_of_year": date.dt.dayofyear,
            "year": date.dt.year,
            "state_holiday": rows["state_holiday"].astype(str).map(STATE_HOLIDAY_CODES).fillna(0).astype(int),
            "is_state_holiday": (rows["state_holiday"].astype(str) != "0").astype(int),
            "school_holiday": rows["school_holiday"].astype(int),
        },
        index=rows.index,
    )


def _iso_week_monday(year: object, week: object) -> pd.Timestamp:
    if pd.isna(year) or pd.isna(week):
        return pd.NaT
    try:
        return pd.Timestamp(dt.date.fromisocalendar(int(year), int(week), 1))
    except ValueError:  # week 53 of a 52-week year: the last week
        return pd.Timestamp(dt.date.fromisocalendar(int(year), 52, 1))


def promo2_active(dates: pd.Series, since: pd.Series, interval: pd.Series) -> pd.Series:
    """True where Promo2 runs on the date: on or after its start week, in one of its interval's months.

    Parameters
    ----------
    dates
        The rows' dates.
    since
        Monday of the week Promo2 starts for the row's store (NaT when the store has no Promo2).
    interval
        The store's PromoInterval text ("Jan,Apr,Jul,Oct"), None without Promo2.
    """
    dates = pd.to_datetime(dates)
    started = since.notna() & (dates >= since.fillna(pd.Timestamp.max))
    months = dates.dt.month
    in_interval = pd.Series(
        [
            isinstance(text, str) and any(name in text.split(",") for name in _MONTH_NAMES[month])
            for text, month in zip(interval, months, strict=True)
        ],
        index=dates.index,
    )
    return started & in_interval


def store_features(rows: pd.DataFrame, stores: pd.DataFrame, config: FeatureConfig) -> pd.DataFrame:
    """Store type, assortment, competition (distance, months open) and Promo2 (active on the date)."""
    by_store = stores.set_index("store_id")
    attributes = by_store.reindex(rows["store_id"].to_numpy())
    attributes.index = rows.index
    date = pd.to_datetime(rows["date"])
    open_year = attributes["competition_open_since_year"].astype("Float64") + config.store_year_offset
    open_month = attributes["competition_open_since_month"].astype("Float64")
    months_open = ((date.dt.year - open_year) * 12 + (date.dt.month - open_month)).astype("float64")
    promo2_starts = {
        store: _iso_week_monday(
            None if pd.isna(row.promo2_since_year) else row.promo2_since_year + config.store_year_offset,
            row.promo2_since_week,
        )
        for store, row in by_store.iterrows()
        if bool(row.promo2)
    }
    since = pd.to_datetime(rows["store_id"].map(promo2_starts))
    weeks_since = ((date - since).dt.days / 7).astype("float64")
    return pd.DataFrame(
        {
            "store_type": attributes["store_type"].map(STORE_TYPE_CODES).astype("float64"),
            "assortment": attributes["assortment"].map(ASSORTMENT_CODES).astype("float64"),
            "competition_distance_m": attributes["competition_distance_m"].astype("float64"),
            "competition_months_open": months_open,
            "promo2": attributes["promo2"].astype("float64"),
            "promo2_weeks_since": weeks_since.where(weeks_since >= 0),
            "promo2_active": promo2_active(date, since, attributes["promo_interval"]).astype(int),
        },
        index=rows.index,
    )


def promo_features(rows: pd.DataFrame) -> pd.DataFrame:
    """The row's own promotion flag (Promo2 lives in :func:`store_features`)."""
    return pd.DataFrame({"promo": rows["promo"].astype(int)}, index=rows.index)


def _open_sales(history: pd.DataFrame) -> pd.DataFrame:
    """Open days with sales: closed days' zeros would drag every mean and lag towards zero."""
    known = history[history["open"].astype(bool) & (history["sales"] > 0)]
    return known.assign(date=pd.to_datetime(known["date"]))


def historic_means(history: pd.DataFrame, date_year_offset: int | None = 0) -> dict[str, pd.DataFrame]:
    """Mean open-day sales per store, store x weekday, store x promo and store x weekday x promo.

    Computed on ``history`` only (the training data), so these are known at prediction time. The
    weekday is the shop's (``date_year_offset``).
    """
    known = _open_sales(history)
    weekday = shop_dates(known["date"], date_year_offset).dt.dayofweek + 1
    known = known.assign(day_of_week=weekday, promo=known["promo"].astype(int))
    groups = {
        "mean_store": ["store_id"],
        "mean_store_dow": ["store_id", "day_of_week"],
        "mean_store_promo": ["store_id", "promo"],
        "mean_store_dow_promo": ["store_id", "day_of_week", "promo"],
    }
    means = {
        name: known.groupby(keys)["sales"].mean().rename(name).reset_index() for name, keys in groups.items()
    }
    means["mean_store_customers"] = (
        known.groupby("store_id")["customers"].mean().rename("mean_store_customers").reset_index()
    )
    return means


def open_sales_span(history: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last date of ``history``'s open days with sales (None without any).

    :func:`lag_features` lays its daily table over this span; a caller that builds features one
    store at a time passes the whole history's span, so each store's lags match the whole table's.
    """
    known = _open_sales(history)
    if known.empty:
        return None
    return known["date"].min(), known["date"].max()


def lag_features(
    rows: pd.DataFrame,
    history: pd.DataFrame,
    config: FeatureConfig,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Open-day sales ``lag`` days before each row, and rolling means ending ``horizon_days`` before it.

    Days missing from ``history`` (after its end, closed, unknown) give NaN, which the model handles.
    ``span`` (:func:`open_sales_span`, dates as in ``history``) is that of ``history`` when None.
    """
    known = _open_sales(history)
    span = span if span is not None else open_sales_span(history)
    # Lags count the shop's days: a lag of whole weeks keeps the shop's weekday. The shop's days
    # are never further apart than the dates, so a lag of ``horizon_days`` stays that far back.
    known = known.assign(date=shop_dates(known["date"], config.date_year_offset))
    daily = known.pivot_table(index="date", columns="store_id", values="sales", aggfunc="mean")
    if span is not None:
        first, last = shop_dates(pd.Series(span), config.date_year_offset)
        daily = daily.reindex(pd.date_range(first, last, freq="D"))
    date = shop_dates(rows["date"], config.date_year_offset)
    out = pd.DataFrame(index=rows.index)

    def lookup(table: pd.DataFrame, when: pd.Series) -> np.ndarray:
        stacked = table.stack()
        keys = pd.MultiIndex.from_arrays([when, rows["store_id"]])
        return stacked.reindex(keys).to_numpy(dtype="float64")

    for lag in config.lags_days:
        out[f"sales_lag_{lag}d"] = lookup(daily, date - pd.Timedelta(days=lag))
    for window in config.rolling_days:
        rolling = daily.rolling(window, min_periods=max(1, window // 4)).mean()
        out[f"sales_mean_{window}d_before_horizon"] = lookup(
            rolling, date - pd.Timedelta(days=config.horizon_days)
        )
    return out


def mean_features(
    rows: pd.DataFrame, means: dict[str, pd.DataFrame], date_year_offset: int | None = 0
) -> pd.DataFrame:
    """The rows joined to :func:`historic_means` (NaN for a combination never seen in training)."""
    keys = pd.DataFrame(
        {
            "store_id": rows["store_id"].to_numpy(),
            "day_of_week": shop_dates(rows["date"], date_year_offset).dt.dayofweek.to_numpy() + 1,
            "promo": rows["promo"].astype(int).to_numpy(),
        }
    )
    for table in means.values():
        on = [column for column in ("store_id", "day_of_week", "promo") if column in table.columns]
        keys = keys.merge(table, on=on, how="left")
    names = list(means)
    return pd.DataFrame(keys[names].to_numpy(dtype="float64"), columns=names, index=rows.index)


def level_features(features: pd.DataFrame, config: FeatureConfig) -> pd.DataFrame:
    """Recent sales relative to the store's long-run mean: its trend, comparable across stores.

    The model learns sales relative to the store x weekday x promo mean; these ratios put the lags
    and rolling means on the same scale, so one split serves every store.
    """
    store_mean = features["mean_store"].where(features["mean_store"] > 0)
    names = [f"sales_lag_{lag}d" for lag in config.lags_days] + [
        f"sales_mean_{window}d_before_horizon" for window in config.rolling_days
    ]
    return pd.DataFrame(
        {f"{name}_vs_store": features[name] / store_mean for name in names}, index=features.index
    )


def build_features(
    rows: pd.DataFrame,
    stores: pd.DataFrame,
    history: pd.DataFrame,
    config: FeatureConfig | None = None,
    means: dict[str, pd.DataFrame] | None = None,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """All model features for ``rows`` (store_id, date, promo, state_holiday, school_holiday).

    Parameters
    ----------
    rows
        The rows to describe (training rows or rows to predict).
    stores
        The ``stores`` table.
    history
        Sales known at prediction time (``store_sales_daily`` rows, training data only).
    config
        Feature settings (a ``date_year_offset`` of None is inferred from ``history``).
    means
        Precomputed :func:`historic_means` of ``history`` (a fitted model keeps them).
    span
        :func:`open_sales_span` of the whole history when ``history`` is a part of it (one store).

    Returns
    -------
    DataFrame
        ``store_id`` and the :data:`FEATURE_COLUMNS`, on ``rows``' index.
    """
    config = (config or FeatureConfig()).resolved(history)
    offset = config.date_year_offset
    means = means if means is not None else historic_means(history, offset)
    parts = [
        rows[["store_id"]].astype("int64"),
        calendar_features(rows, offset),
        promo_features(rows),
        store_features(rows, stores, config),
        lag_features(rows, history, config, span),
        mean_features(rows, means, offset),
    ]
    features = pd.concat(parts, axis=1)
    return pd.concat([features, level_features(features, config)], axis=1)


def feature_columns(config: FeatureConfig | None = None) -> list[str]:
    """The model's input columns, in order, for ``config``."""
    config = config or FeatureConfig()
    return [
        "store_id",
        "day_of_week",
        "day_of_month",
        "month",
        "week_of_year",
        "day_of_year",
        "year",
        "state_holiday",
        "is_state_holiday",
        "school_holiday",
        "promo",
        "store_type",
        "assortment",
        "competition_distance_m",
        "competition_months_open",
        "promo2",
        "promo2_weeks_since",
        "promo2_active",
        *[f"sales_lag_{lag}d" for lag in config.lags_days],
        *[f"sales_mean_{window}d_before_horizon" for window in config.rolling_days],
        "mean_store",
        "mean_store_dow",
        "mean_store_promo",
        "mean_store_dow_promo",
        "mean_store_customers",
        *[f"sales_lag_{lag}d_vs_store" for lag in config.lags_days],
        *[f"sales_mean_{window}d_before_horizon_vs_store" for window in config.rolling_days],
    ]
