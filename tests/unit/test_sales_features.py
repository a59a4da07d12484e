"""Store-sales features: calendar, Promo2, competition, lags without leakage, the dataset digest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sales_fixtures import synthetic_sales, synthetic_stores

from datalake.sales.data import sales_from_rossmann, stores_from_rossmann
from datalake.sales.dataset import build_feature_dataset
from datalake.sales.features import (
    FeatureConfig,
    build_features,
    calendar_features,
    feature_columns,
    infer_date_year_offset,
    promo2_active,
    store_features,
)
from datalake.sales.metrics import baseline_predictions, rmspe
from datalake.sales.split import TimeSplit

NO_OFFSET = FeatureConfig(store_year_offset=0)


def test_promo2_active_only_in_interval_months_after_its_start_week() -> None:
    stores = pd.DataFrame(
        {
            "store_id": [1, 2, 3],
            "store_type": ["a", "a", "a"],
            "assortment": ["a", "a", "a"],
            "competition_distance_m": [100.0, 100.0, 100.0],
            "competition_open_since_month": pd.array([None, None, None], dtype="Int64"),
            "competition_open_since_year": pd.array([None, None, None], dtype="Int64"),
            "promo2": [True, True, False],
            "promo2_since_week": pd.array([14, 14, None], dtype="Int64"),
            "promo2_since_year": pd.array([2011, 2011, None], dtype="Int64"),
            "promo_interval": ["Jan,Apr,Jul,Oct", "Mar,Jun,Sept,Dec", None],
        }
    )
    # 2011 week 14 starts on Monday 2011-04-04.
    cases = [
        (1, "2011-01-10", 0),  # an interval month, but before the start week
        (1, "2011-04-03", 0),  # the Sunday before the start week
        (1, "2011-04-04", 1),  # the start week's Monday, in April
        (1, "2011-05-10", 0),  # May is not in the interval
        (1, "2012-01-10", 1),
        (2, "2011-09-15", 1),  # "Sept" is September
        (2, "2011-10-15", 0),
        (3, "2012-01-10", 0),  # no Promo2 at all
    ]
    rows = pd.DataFrame({"store_id": [c[0] for c in cases], "date": pd.to_datetime([c[1] for c in cases])})
    features = store_features(rows, stores, NO_OFFSET)
    assert features["promo2_active"].tolist() == [c[2] for c in cases]
    assert features.loc[2, "promo2_weeks_since"] == 0
    assert np.isnan(features.loc[7, "promo2_weeks_since"])


def test_promo2_active_needs_both_start_and_month() -> None:
    dates = pd.Series(pd.to_datetime(["2020-01-06", "2020-01-06"]))
    since = pd.Series(pd.to_datetime(["2020-01-06", "2020-02-03"]))
    assert promo2_active(dates, since, pd.Series(["Jan", "Jan"])).tolist() == [True, False]


def test_competition_months_open_shifts_store_years_with_the_sales_dates() -> None:
    stores = synthetic_stores(1)  # competition since June 2014
    rows = pd.DataFrame({"store_id": [1, 1], "date": pd.to_datetime(["2023-06-15", "2023-08-01"])})
    shifted = store_features(rows, stores, FeatureConfig(store_year_offset=9))
    assert shifted["competition_months_open"].tolist() == [0.0, 2.0]
    unshifted = store_features(rows, stores, NO_OFFSET)
    assert unshifted["competition_months_open"].tolist() == [108.0, 110.0]


def test_calendar_recomputes_the_weekday_from_the_date() -> None:
    rows = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-07-31", "2024-07-28"]),
            "state_holiday": ["0", "c"],
            "school_holiday": [1, 0],
        }
    )
    calendar = calendar_features(rows)
    assert calendar["day_of_week"].tolist() == [3, 7]  # Wednesday, Sunday (Monday=1)
    assert calendar["state_holiday"].tolist() == [0, 3]
    assert calendar["week_of_year"].tolist() == [31, 30]


def test_rossmann_rows_get_dates_from_excel_serials_and_a_closed_flag() -> None:
    raw = pd.DataFrame(
        {
            "Store": ["1", "1"],
            "DayOfWeek": ["3", "9"],  # the shared file's DayOfWeek does not follow the shifted dates
            "Date": ["45504", "45503"],
            "Sales": ["5263", "0"],
            "Customers": ["555", "0"],
            "Open": ["1", "0"],
            "Promo": ["1", "0"],
            "StateHoliday": ["0", "a"],
            "SchoolHoliday": ["1", "0"],
        }
    )
    sales = sales_from_rossmann(raw)
    assert sales["date"].dt.date.astype(str).tolist() == ["2024-07-30", "2024-07-31"]
    assert sales["day_of_week"].tolist() == [2, 3]
    assert sales["closed"].tolist() == [True, False]
    stores = stores_from_rossmann(
        pd.DataFrame(
            {
                "Store": ["2"],
                "StoreType": ["a"],
                "Assortment": ["a"],
                "CompetitionDistance": ["570"],
                "CompetitionOpenSinceMonth": ["11"],
                "CompetitionOpenSinceYear": ["2007"],
                "Promo2": ["1"],
                "Promo2SinceWeek": ["13"],
                "Promo2SinceYear": ["2010"],
                "PromoInterval": ["Jan,Apr,Jul,Oct"],
            }
        )
    )
    assert stores.loc[0, "promo2"] and stores.loc[0, "promo2_since_week"] == 13


def test_lags_look_back_at_least_the_horizon() -> None:
    with pytest.raises(ValueError, match="shorter than the horizon"):
        FeatureConfig(lags_days=(7, 42))
    sales = synthetic_sales(stores=1, days=120)
    features = build_features(sales, synthetic_stores(1), sales)
    row = sales.index[(sales["date"] == pd.Timestamp("2023-03-15"))][0]
    lagged = sales[sales["date"] == pd.Timestamp("2023-03-15") - pd.Timedelta(days=42)]["sales"].item()
    assert features.loc[row, "sales_lag_42d"] == lagged
    # A closed day's zero is not a lag: it is unknown.
    sunday = sales.index[(sales["date"] == pd.Timestamp("2023-02-19") + pd.Timedelta(days=42))][0]
    assert np.isnan(features.loc[sunday, "sales_lag_42d"])


@pytest.mark.parametrize("nine_years_later", [False, True], ids=["dates", "shifted-dates"])
def test_no_feature_uses_the_test_windows_sales(nine_years_later: bool) -> None:
    sales = synthetic_sales(stores=3, days=300, start="2014-12-01" if nine_years_later else "2023-01-01")
    # Shifted: the shops' calendar is nine years back, and 29 February 2024 is missing.
    sales = _shifted_nine_years(sales) if nine_years_later else sales
    stores = synthetic_stores(3)
    before = build_feature_dataset(sales, stores)
    test_start = pd.Timestamp(before.manifest["split_dates"]["test_start"])
    changed = sales.copy()
    in_test = changed["date"] >= test_start
    changed.loc[in_test, "sales"] *= 10
    changed.loc[in_test, "customers"] *= 10
    after = build_feature_dataset(changed, stores)
    columns = feature_columns()
    pd.testing.assert_frame_equal(before.frame[columns], after.frame[columns])
    assert not before.frame["sales"].equals(after.frame["sales"])
    assert before.version != after.version  # the target changed, so the content did
    assert set(before.part("test")["date"]) == {
        d.date().isoformat() for d in pd.date_range(test_start, periods=42, freq="D")
    }


def test_digest_is_stable_for_the_same_data_and_moves_with_it() -> None:
    sales, stores = synthetic_sales(stores=2, days=200), synthetic_stores(2)
    first = build_feature_dataset(sales, stores)
    shuffled = build_feature_dataset(sales.sample(frac=1, random_state=3), stores)
    assert first.version == shuffled.version
    changed = sales.copy()
    changed.loc[5, "sales"] += 1
    assert build_feature_dataset(changed, stores).version != first.version
    other_split = build_feature_dataset(sales, stores, split=TimeSplit(test_days=28))
    assert other_split.version != first.version
    assert first.manifest["rows_train"] + first.manifest["rows_test"] == len(sales)


def test_rmspe_skips_zero_sales_and_the_baseline_averages_by_store_weekday_promo() -> None:
    assert rmspe([100, 200, 0], [110, 180, 50]) == pytest.approx(np.sqrt((0.01 + 0.01) / 2))
    with pytest.raises(ValueError):
        rmspe([0, 0], [1, 2])
    train = pd.DataFrame(
        {
            "store_id": [1, 1, 1],
            "date": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-02"]),  # Mon, Mon, Tue
            "promo": [True, True, False],
            "open": [True, True, True],
            "sales": [100.0, 300.0, 50.0],
        }
    )
    rows = pd.DataFrame(
        {
            "store_id": [1, 1, 1],
            "date": pd.to_datetime(["2024-01-15", "2024-01-16", "2024-01-17"]),
            "promo": [True, False, True],
            "open": [True, True, False],
        }
    )
    # Monday with promo: the mean 200; Tuesday without: 50; a closed day: 0.
    assert baseline_predictions(train, rows).tolist() == [200.0, 50.0, 0.0]


def _shifted_nine_years(sales: pd.DataFrame) -> pd.DataFrame:
    """``sales`` dated as the shared subset dates Kaggle's rows: nine years later, same month and day."""
    return sales.assign(date=pd.to_datetime(sales["date"]) + pd.DateOffset(years=9))


def test_shifted_dates_use_the_shops_calendar_for_weekdays_means_and_lags() -> None:
    # Kaggle-era rows (Sundays closed) moved to 2023-2024: 29 February 2024 is missing, and the
    # dates' weekdays are not the shops'.
    kaggle_era = synthetic_sales(stores=2, days=500, start="2014-06-01")
    shifted = _shifted_nine_years(kaggle_era)
    assert infer_date_year_offset(kaggle_era, (0, 9)) == 0
    assert infer_date_year_offset(shifted, (0, 9)) == 9
    dataset = build_feature_dataset(shifted, synthetic_stores(2))
    assert dataset.manifest["settings"]["features"]["date_year_offset"] == 9
    frame = dataset.frame
    closed = ~frame["open"]
    assert (frame.loc[closed, "day_of_week"] == 7).all()  # the shops' Sunday
    # After the missing 29 February the 42-day lag is 42 shop days back (43 dates): the same weekday.
    day = pd.Timestamp("2024-04-10")
    row = frame.index[(frame["store_id"] == 1) & (frame["date"] == day.date().isoformat())][0]
    shop_day = day - pd.DateOffset(years=9) - pd.Timedelta(days=42)
    lagged = kaggle_era[(kaggle_era["store_id"] == 1) & (kaggle_era["date"] == shop_day)]["sales"].item()
    assert frame.loc[row, "sales_lag_42d"] == lagged
    # A config that says the dates are the shops' own keeps the dates' weekdays.
    unshifted = build_features(shifted, synthetic_stores(2), shifted, FeatureConfig(date_year_offset=0))
    assert (unshifted.loc[closed.to_numpy(), "day_of_week"] != 7).any()


def test_features_built_one_store_at_a_time_equal_the_whole_tables_with_the_histories_span() -> None:
    # What the Glue job's executors do (datalake.pipelines.sales_features): one store per group.
    from datalake.sales.dataset import feature_rows
    from datalake.sales.features import FeatureConfig, open_sales_span
    from datalake.sales.split import before

    sales, stores = synthetic_sales(stores=3, days=300), synthetic_stores(3)
    # Store 2 closes for its last 70 days (a refit): the whole table's daily grid runs past its last
    # open day, so its rolling means still have values there; a grid of its own days would have none.
    refit = (sales["store_id"] == 2) & (sales["date"] >= sales["date"].max() - pd.Timedelta(days=70))
    sales = sales.assign(open=sales["open"] & ~refit, sales=sales["sales"].where(~refit, 0.0))
    whole = build_feature_dataset(sales, stores)
    test_start = pd.Timestamp(whole.manifest["split_dates"]["test_start"]).date()
    rows = sales.sort_values(["store_id", "date"], ignore_index=True)
    history = before(rows, test_start)
    config = FeatureConfig().resolved(history)

    def per_store(span: tuple[pd.Timestamp, pd.Timestamp] | None) -> pd.DataFrame:
        parts = []
        for _store, group in rows.groupby("store_id"):
            group = group.reset_index(drop=True)
            parts.append(feature_rows(group, stores, before(group, test_start), config, test_start, span))
        return pd.concat(parts, ignore_index=True)

    pd.testing.assert_frame_equal(per_store(open_sales_span(history)), whole.frame)
    own_grid = per_store(None)
    column = "sales_mean_28d_before_horizon"
    differs = own_grid[column].fillna(-1) != whole.frame[column].fillna(-1)
    assert differs.any() and set(own_grid.loc[differs, "store_id"]) == {2}


def test_the_calendar_offset_from_closed_day_counts_is_the_one_the_rows_give() -> None:
    from datalake.sales.features import closed_day_counts, infer_date_year_offset, offset_from_closed_days

    sales = synthetic_sales(stores=2, days=200, start="2022-01-01")  # closed on the 2022 Sundays
    shifted = sales.assign(date=sales["date"] + pd.DateOffset(years=9))  # as the shared subset
    for frame, expected in ((sales, 0), (shifted, 9)):
        counts = closed_day_counts(frame)
        assert int(counts.sum()) == int((~frame["open"]).sum())
        assert offset_from_closed_days(counts, (0, 9)) == infer_date_year_offset(frame, (0, 9)) == expected
    assert offset_from_closed_days(closed_day_counts(sales[sales["open"]]), (0, 9)) == 0  # no closures
