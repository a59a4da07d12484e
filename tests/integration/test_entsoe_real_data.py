"""The shared ENTSO-E exports and the corrected Kaggle file, 2015-2017: counts, agreement, reference MAPEs.

Skipped when ../shared/data/spain_demand is not there (the project never copies it in).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import pytest

from datalake.errors import DataValidationError
from datalake.sources import entsoe
from datalake.storage.local import LocalObjectStore

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "spain_demand"
TOTAL_LOAD_FILES = [
    DATA / "entsoe" / f"Total Load - Day Ahead _ Actual_{year}.csv" for year in (2015, 2016, 2017)
]
KAGGLE_FILE = DATA / "energy_dataset_2015_2017.csv"
ALL_FILES = [*TOTAL_LOAD_FILES, KAGGLE_FILE]

pytestmark = pytest.mark.skipif(
    not all(path.is_file() for path in ALL_FILES),
    reason=f"shared ENTSO-E/Kaggle files not found under {DATA} (they are never copied into the repo)",
)

#: 2015 and 2017 have 8,760 hours, 2016 has 8,784: every UTC hour from 2015-01-01 00:00
#: Madrid (2014-12-31 23:00 UTC) to 2017-12-31 23:00 Madrid.
HOURS_2015_2017 = 26_304
FIRST_HOUR = pd.Timestamp("2014-12-31 23:00", tz="UTC")
LAST_HOUR = pd.Timestamp("2017-12-31 22:00", tz="UTC")
#: 'total load actual' nulls per SOURCES.md; the same hours are N/A in the exports.
MISSING_ACTUAL_HOURS = 34
#: SOURCES.md: the grid operator's day-ahead forecast vs actual, by year.
REFERENCE_TSO_MAPE_PCT = {2015: 1.28, 2016: 1.10, 2017: 1.08}
SPRING_DAYS = {dt.date(2015, 3, 29), dt.date(2016, 3, 27), dt.date(2017, 3, 26)}
AUTUMN_DAYS = {dt.date(2015, 10, 25), dt.date(2016, 10, 30), dt.date(2017, 10, 29)}


@pytest.fixture(scope="module")
def total_load() -> pd.DataFrame:
    return pd.concat([entsoe.parse_total_load(path) for path in TOTAL_LOAD_FILES], ignore_index=True)


@pytest.fixture(scope="module")
def kaggle() -> pd.DataFrame:
    return entsoe.parse_kaggle(KAGGLE_FILE)


def test_total_load_exports_give_every_hour_of_three_years_and_count_what_they_lack(
    total_load: pd.DataFrame,
) -> None:
    landed = total_load[total_load["landed"]]
    # One record per local period: each year lists 24 per day plus the repeated autumn hour.
    assert len(total_load) == HOURS_2015_2017 + 3
    assert len(landed) == landed["ts_utc"].nunique() == HOURS_2015_2017
    assert landed["ts_utc"].min() == FIRST_HOUR and landed["ts_utc"].max() == LAST_HOUR
    assert (landed["ts_utc"].sort_values().diff().dropna() == pd.Timedelta(hours=1)).all()

    assert total_load["problem"].value_counts().to_dict() == {
        "actual load missing (N/A)": MISSING_ACTUAL_HOURS,
        entsoe.SPRING_GAP: 3,
    }
    dropped = total_load[~total_load["landed"]]
    assert set(dropped["problem"]) == {entsoe.SPRING_GAP}
    assert {dt.datetime.strptime(p[:10], "%d.%m.%Y").date() for p in dropped["period"]} == SPRING_DAYS
    assert landed["demand_mw"].notna().sum() == HOURS_2015_2017 - MISSING_ACTUAL_HOURS
    assert landed["tso_forecast_mw"].notna().all()


def test_change_days_have_23_and_25_hours(total_load: pd.DataFrame) -> None:
    per_day = total_load[total_load["landed"]].groupby("local_date").size()
    assert len(per_day) == 365 + 366 + 365
    assert set(per_day[per_day == 23].index) == SPRING_DAYS
    assert set(per_day[per_day == 25].index) == AUTUMN_DAYS
    assert set(per_day.drop([*SPRING_DAYS, *AUTUMN_DAYS])) == {24}


def test_kaggle_file_gives_every_hour_and_counts_the_missing_actuals(kaggle: pd.DataFrame) -> None:
    assert len(kaggle) == HOURS_2015_2017 and kaggle["landed"].all()
    assert kaggle["ts_utc"].is_unique and kaggle["ts_utc"].is_monotonic_increasing
    assert kaggle["ts_utc"].min() == FIRST_HOUR and kaggle["ts_utc"].max() == LAST_HOUR
    assert kaggle["problem"].value_counts().to_dict() == {"actual load missing (empty)": MISSING_ACTUAL_HOURS}
    assert [note.split("'")[1] for note in kaggle.attrs["notes"]] == [
        "generation hydro pumped storage aggregated",
        "forecast wind offshore eday ahead",
    ]
    assert {
        "gen_fossil_gas_mw",
        "gen_wind_onshore_mw",
        "price_day_ahead_eur_mwh",
        "price_actual_eur_mwh",
    } <= set(kaggle.columns)


def test_both_sources_agree_hour_by_hour(total_load: pd.DataFrame, kaggle: pd.DataFrame) -> None:
    # The Kaggle file is the same platform data re-exported with integer MW values, so the
    # honest tolerance is zero: any difference means an hour is misaligned (a DST or a
    # day/month swap error), not rounding.
    joined = total_load[total_load["landed"]].merge(
        kaggle[["ts_utc", "local_date", "demand_mw", "tso_forecast_mw"]],
        on="ts_utc",
        suffixes=("", "_kaggle"),
    )
    assert len(joined) == HOURS_2015_2017
    assert (joined["local_date"] == joined["local_date_kaggle"]).all()
    assert (joined["demand_mw"].isna() == joined["demand_mw_kaggle"].isna()).all()
    for column in ("demand_mw", "tso_forecast_mw"):
        both = joined[joined[column].notna() & joined[f"{column}_kaggle"].notna()]
        max_abs_diff_mw = float((both[column] - both[f"{column}_kaggle"]).abs().max())
        print(f"{column}: {len(both)} hours compared, max abs difference {max_abs_diff_mw} MW")
        expected = HOURS_2015_2017 - (MISSING_ACTUAL_HOURS if column == "demand_mw" else 0)
        assert len(both) == expected
        assert max_abs_diff_mw == 0.0, f"{column}: the sources differ by up to {max_abs_diff_mw} MW"


def test_tso_forecast_mape_matches_the_reference_figures(total_load: pd.DataFrame) -> None:
    rows = total_load[total_load["landed"] & total_load["demand_mw"].notna()]
    year = pd.to_datetime(rows["local_date"]).dt.year
    ape = (rows["tso_forecast_mw"] - rows["demand_mw"]).abs() / rows["demand_mw"]
    mape_pct = (100 * ape.groupby(year).mean()).to_dict()
    print("TSO day-ahead forecast MAPE %:", {y: round(v, 4) for y, v in mape_pct.items()})
    assert {y: round(v, 2) for y, v in mape_pct.items()} == REFERENCE_TSO_MAPE_PCT


def test_the_corrected_kaggle_copy_passes_the_swap_check(kaggle: pd.DataFrame) -> None:
    check = entsoe.check_day_month_swap(
        kaggle["ts_utc"], kaggle["demand_mw"].fillna(kaggle["tso_forecast_mw"])
    )
    assert check.verdict == "consistent"
    assert check.swapped_share is not None and check.swapped_share < 0.25


def swapped_original(text: str) -> tuple[str, int]:
    """Re-create the public file's defect from the corrected copy: a row stamped with a local day
    of 12 or less (other than the month) gets the values of the date with day and month swapped."""
    header, *lines = text.rstrip("\n").split("\n")
    # "2015-03-09 05:00:00+01:00,..." -> (2015, 3, 9, 5). Swappable days are never DST change
    # days (those fall on days 25-31), so (date, hour) is unique among them.
    stamps = [(int(ln[0:4]), int(ln[5:7]), int(ln[8:10]), int(ln[11:13])) for ln in lines]
    values = {stamp: line.split(",", 1)[1] for stamp, line in zip(stamps, lines, strict=True)}
    out, swapped = [header], 0
    for (year, month, day, hour), line in zip(stamps, lines, strict=True):
        if day <= 12 and day != month:
            line = f"{line.split(',', 1)[0]},{values[(year, day, month, hour)]}"
            swapped += 1
        out.append(line)
    return "\n".join(out) + "\n", swapped


def test_a_file_with_the_original_kaggle_defect_is_refused(tmp_path: Path) -> None:
    text, swapped = swapped_original(KAGGLE_FILE.read_text(encoding="utf-8"))
    # SOURCES.md: 12,672 swapped rows over 2015-2018, i.e. 132 days x 24 h a year.
    assert swapped == 3 * 132 * 24
    path = tmp_path / "energy_dataset.csv"
    path.write_text(text, encoding="utf-8")
    store = LocalObjectStore(tmp_path / "lake")
    with pytest.raises(DataValidationError, match="corrected copy"):
        entsoe.ingest_files(store, [path])
    assert store.list_keys("raw") == []


def test_ingesting_twice_writes_identical_keys_and_bytes(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    first = entsoe.ingest_files(store, ALL_FILES)
    snapshot = {key: hashlib.sha256(store.get_bytes(key)).hexdigest() for key in store.list_keys("raw")}
    second = entsoe.ingest_files(store, ALL_FILES)
    again = {key: hashlib.sha256(store.get_bytes(key)).hexdigest() for key in store.list_keys("raw")}

    days = 365 + 366 + 365
    assert len(snapshot) == 2 * days
    assert sorted(first.keys_written) == sorted(second.keys_written) == sorted(snapshot)
    assert again == snapshot
    assert first.balanced and first.to_dict() == second.to_dict()
    by_format = {
        fmt: [f for f in first.files if f.format == fmt] for fmt in ("entsoe_total_load", "kaggle_energy")
    }
    assert sum(f.rows_in for f in by_format["entsoe_total_load"]) == HOURS_2015_2017 + 3
    assert sum(f.rows_landed for f in by_format["entsoe_total_load"]) == HOURS_2015_2017
    assert sum(f.hours for f in by_format["kaggle_energy"]) == HOURS_2015_2017
    assert all(f.dropped == {entsoe.SPRING_GAP: 1} for f in by_format["entsoe_total_load"])

    autumn = store.read_csv(
        "raw/entsoe/total_load/year=2016/month=10/day=30/entsoe-total-load-2016-10-30.csv"
    )
    assert len(autumn) == 25 and autumn["ts_utc"].is_unique
    assert autumn["local_time"].str.startswith("2016-10-30T02:00:00").sum() == 2
