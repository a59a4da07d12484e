"""The SAMPLE Rossmann generator: the drops' shape, labelled, reproducible, with the signal it promises."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from datalake.datasets.store_sales import PROMO_INTERVALS, STATE_HOLIDAY_CODES
from datalake.sales.features import FeatureConfig
from datalake.sources.store_sales import parse_file
from datalake.sources.store_sales_sample import (
    DIRTY_KINDS,
    SALES_FILE,
    SALES_HEADER,
    STORES_FILE,
    STORES_HEADER,
    generate_store_sales_drops,
)

START, END = dt.date(2022, 8, 1), dt.date(2024, 7, 31)
DAYS = (END - START).days + 1


@pytest.fixture(scope="module")
def drops(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate_store_sales_drops(tmp_path_factory.mktemp("rossmann") / "landing", stores=20)


@pytest.fixture(scope="module")
def sales(drops: list[Path]) -> pd.DataFrame:
    frame = pd.read_csv(drops[0], dtype={"StateHoliday": str})
    return frame.assign(Date=pd.to_datetime(frame["Date"]))


@pytest.fixture(scope="module")
def stores(drops: list[Path]) -> pd.DataFrame:
    return pd.read_csv(drops[1], dtype={"PromoInterval": str})


def test_writes_two_labelled_rossmann_files_the_landing_reads(drops: list[Path], tmp_path: Path) -> None:
    assert [p.name for p in drops] == [SALES_FILE, STORES_FILE] and all("SAMPLE" in p.name for p in drops)
    parsed = [parse_file(p.read_bytes()) for p in drops]
    assert [p.header.kind for p in parsed] == ["sales", "stores"]
    assert all(not p.header.unknown and not any(row.problem for row in p.rows) for p in parsed)
    assert drops[0].read_text().splitlines()[0] == ",".join(SALES_HEADER)
    assert drops[1].read_text().splitlines()[0] == ",".join(STORES_HEADER)
    again = generate_store_sales_drops(tmp_path, stores=20)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in drops]  # seeded: same bytes
    other = generate_store_sales_drops(tmp_path / "other", stores=20, seed=5)
    assert other[0].read_bytes() != drops[0].read_bytes()


def test_one_row_per_store_and_day_newest_first_kaggle_day_of_week(sales: pd.DataFrame) -> None:
    assert len(sales) == 20 * DAYS and not sales.duplicated(["Store", "Date"]).any()
    assert sales["Date"].iloc[0].date() == END and sales["Date"].iloc[-1].date() == START
    assert sales["Date"].is_monotonic_decreasing
    assert (sales["DayOfWeek"] == sales["Date"].dt.dayofweek + 1).all()  # Monday 1 .. Sunday 7
    assert set(sales["StateHoliday"]) == set(STATE_HOLIDAY_CODES)
    assert set(sales["Open"]) == {0, 1} and set(sales["Promo"]) == {0, 1}


def test_closed_days_sundays_and_holidays(sales: pd.DataFrame, stores: pd.DataFrame) -> None:
    closed = sales[sales["Open"] == 0]
    assert (closed["Sales"] == 0).all() and (closed["Customers"] == 0).all()
    opened = sales[sales["Open"] == 1]
    assert (opened["Sales"] > 0).all() and (opened["Customers"] > 0).all()
    assert (sales.loc[sales["StateHoliday"] != "0", "Open"] == 0).all()
    christmas = sales[(sales["Date"].dt.month == 12) & (sales["Date"].dt.day == 25)]
    assert (christmas["StateHoliday"] == "c").all()
    sunday_stores = set(stores.loc[stores["StoreType"] == "b", "Store"])
    sundays = sales[sales["Date"].dt.dayofweek == 6]
    assert sunday_stores and (sundays.loc[~sundays["Store"].isin(sunday_stores), "Open"] == 0).all()
    assert sundays.loc[sundays["Store"].isin(sunday_stores), "Open"].mean() > 0.9
    assert 0.1 < sales["SchoolHoliday"].mean() < 0.35


def test_sales_carry_weekly_promo_and_store_signal(sales: pd.DataFrame) -> None:
    opened = sales[sales["Open"] == 1]
    relative = opened["Sales"] / opened.groupby("Store")["Sales"].transform("mean")
    by_day = relative.groupby(opened["DayOfWeek"]).mean()
    assert by_day[1] > by_day[6] * 1.2  # Mondays busier than Saturdays
    promo = relative.groupby(opened["Promo"]).mean()
    assert 1.15 < promo[1] / promo[0] < 1.4
    levels = opened.groupby("Store")["Sales"].mean()
    assert levels.max() / levels.min() > 1.5  # stores differ
    basket = opened["Sales"] / opened["Customers"]
    assert basket.between(3, 20).all()


def test_store_attributes_and_since_years_in_kaggles_era(sales: pd.DataFrame, stores: pd.DataFrame) -> None:
    assert stores["Store"].tolist() == list(range(1, 21))
    assert set(stores["StoreType"]) <= set("abcd") and set(stores["Assortment"]) <= set("abc")
    assert set(stores["PromoInterval"].dropna()) <= set(PROMO_INTERVALS)
    promo2 = stores["Promo2"] == 1
    assert stores.loc[promo2, ["Promo2SinceWeek", "Promo2SinceYear"]].notna().all().all()
    assert stores.loc[~promo2, ["Promo2SinceWeek", "Promo2SinceYear", "PromoInterval"]].isna().all().all()
    offset = FeatureConfig().store_year_offset
    # Written as the shared store.csv is: the features add the offset to reach the sales' era.
    assert stores["Promo2SinceYear"].dropna().between(2005, END.year - offset).all()
    assert stores["CompetitionOpenSinceYear"].dropna().max() <= END.year - offset
    # Competitors that open during the window (by the shifted date) take some of the store's trade.
    opened = sales[sales["Open"] == 1].assign(
        share=lambda f: f["Sales"] / f.groupby("Date")["Sales"].transform("mean")
    )
    newcomers = stores.dropna(subset=["CompetitionOpenSinceYear"])
    newcomers = newcomers[newcomers["CompetitionOpenSinceYear"] + offset >= START.year]
    assert len(newcomers) >= 2
    checked = 0
    for row in newcomers.itertuples():
        since = pd.Timestamp(
            int(row.CompetitionOpenSinceYear) + offset, int(row.CompetitionOpenSinceMonth), 1
        )
        if (
            not pd.Timestamp(START) + pd.Timedelta(days=100)
            < since
            < pd.Timestamp(END) - pd.Timedelta(days=150)
        ):
            continue
        share = opened[opened["Store"] == row.Store].set_index("Date")["share"].sort_index()
        before = share[since - pd.Timedelta(days=90) : since - pd.Timedelta(days=1)].mean()
        after = share[since + pd.Timedelta(days=60) : since + pd.Timedelta(days=150)].mean()
        assert after < before * 0.97, (row.Store, before, after)
        checked += 1
    assert checked >= 1


def test_dirty_rows_are_one_of_each_kind_in_turn(tmp_path: Path) -> None:
    clean, _ = generate_store_sales_drops(tmp_path / "clean", stores=3)
    dirty, _ = generate_store_sales_drops(tmp_path / "dirty", stores=3, dirty_rows=len(DIRTY_KINDS))
    a, b = pd.read_csv(clean), pd.read_csv(dirty)
    assert len(b) == len(a) + 1  # the unknown store's row is appended
    assert ((b["Open"] == 0) & (b["Sales"] > 0)).sum() == 1
    assert (b["Sales"] < 0).sum() == 1
    assert (b["Store"] > 3).sum() == 1 and (a["Store"] <= 3).all()
    with pytest.raises(ValueError, match="300 days"):
        generate_store_sales_drops(tmp_path, start=START, end=START + dt.timedelta(days=100))
