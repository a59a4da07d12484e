"""ENTSO-E file drops: format detection, DST-exact parsing, the swap check and landing in raw."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest

from datalake.errors import DataValidationError
from datalake.runs import RunReport
from datalake.sources import entsoe
from datalake.storage.local import LocalObjectStore

TOTAL_LOAD_HEADER = (
    '"Time (CET)","Day-ahead Total Load Forecast [MW] - BZN|ES","Actual Total Load [MW] - BZN|ES"'
)
TOTAL_LOAD_TEXT = "\n".join(
    [
        TOTAL_LOAD_HEADER,
        '"29.03.2015 01:00 - 29.03.2015 02:00","22633","22123"',
        '"29.03.2015 02:00 - 29.03.2015 03:00","",""',
        '"29.03.2015 03:00 - 29.03.2015 04:00","21000","20900"',
        '"25.10.2015 01:00 - 25.10.2015 02:00","21315","21298"',
        '"25.10.2015 02:00 - 25.10.2015 03:00","20571","20261"',
        '"25.10.2015 02:00 - 25.10.2015 03:00","19764","19775"',
        '"25.10.2015 03:00 - 25.10.2015 04:00","19604","19505"',
        '"26.10.2015 09:00 - 26.10.2015 10:00","30000","N/A"',
        '"26.10.2015 10:00 - 26.10.2015 11:00","31000"',
        '"yesterday at ten","1","2"',
        "",
    ]
)

KAGGLE_COLUMNS = [
    "time",
    "generation biomass",
    "generation fossil brown coal/lignite",
    "generation fossil coal-derived gas",
    "generation fossil gas",
    "generation fossil hard coal",
    "generation fossil oil",
    "generation fossil oil shale",
    "generation fossil peat",
    "generation geothermal",
    "generation hydro pumped storage aggregated",
    "generation hydro pumped storage consumption",
    "generation hydro run-of-river and poundage",
    "generation hydro water reservoir",
    "generation marine",
    "generation nuclear",
    "generation other",
    "generation other renewable",
    "generation solar",
    "generation waste",
    "generation wind offshore",
    "generation wind onshore",
    "forecast solar day ahead",
    "forecast wind offshore eday ahead",
    "forecast wind onshore day ahead",
    "total load forecast",
    "total load actual",
    "price day ahead",
    "price actual",
]
KAGGLE_HEADER = ",".join(KAGGLE_COLUMNS)
EMPTY_KAGGLE_COLUMNS = {"generation hydro pumped storage aggregated", "forecast wind offshore eday ahead"}


def kaggle_line(time: str, forecast: str = "26118.0", actual: str = "25385.0") -> str:
    values = {"time": time, "total load forecast": forecast, "total load actual": actual}
    values |= {"price day ahead": "50.1", "price actual": "65.41", "generation fossil gas": "4844.0"}
    cells = [values.get(col, "" if col in EMPTY_KAGGLE_COLUMNS else "1.0") for col in KAGGLE_COLUMNS]
    return ",".join(cells)


KAGGLE_TEXT = "\n".join(
    [
        KAGGLE_HEADER,
        kaggle_line("2015-10-25 01:00:00+02:00", actual="21298.0"),
        kaggle_line("2015-10-25 02:00:00+02:00", actual="20261.0"),
        kaggle_line("2015-10-25 02:00:00+01:00", actual="19775.0"),
        kaggle_line("2015-10-25 03:00:00+01:00", actual=""),
        "2015-10-25 04:00:00+01:00,447.0,329.0",
        kaggle_line("2015-10-25 05:00:00"),
        kaggle_line("2015-10-25 03:00:00+01:00", actual="19505.0"),
        "",
    ]
)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# -- detect_format --------------------------------------------------------------------------------


def test_detect_format_recognises_both_headers_from_text_and_from_a_path(tmp_path: Path) -> None:
    assert entsoe.detect_format(TOTAL_LOAD_HEADER) == "entsoe_total_load"
    assert entsoe.detect_format(KAGGLE_TEXT) == "kaggle_energy"
    path = tmp_path / "load.csv"
    path.write_text("\ufeff" + TOTAL_LOAD_TEXT, encoding="utf-8")
    assert entsoe.detect_format(path) == "entsoe_total_load"
    assert entsoe.detect_format(str(path)) == "entsoe_total_load"


def test_detect_format_names_the_file_and_what_was_expected_for_an_unknown_header(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("date,price_eur_mwh\n2015-01-01,50.1\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as caught:
        entsoe.detect_format(path)
    message = str(caught.value)
    assert str(path) in message
    assert "unrecognised header ['date', 'price_eur_mwh']" in message
    assert "Total Load - Day Ahead / Actual" in message and "Kaggle" in message


def test_detect_format_refuses_a_total_load_export_for_another_area() -> None:
    header = TOTAL_LOAD_HEADER.replace("BZN|ES", "BZN|PT")
    with pytest.raises(DataValidationError, match="ES only"):
        entsoe.detect_format(header, name="portugal.csv")


# -- parse_total_load -----------------------------------------------------------------------------


def test_total_load_resolves_the_autumn_hour_cest_first_then_cet() -> None:
    frame = entsoe.parse_total_load(TOTAL_LOAD_TEXT).set_index("line")
    autumn = frame.loc[[5, 6, 7, 8]]
    assert list(autumn["ts_utc"]) == [
        utc("2015-10-24 23:00"),
        utc("2015-10-25 00:00"),  # 02:00 CEST
        utc("2015-10-25 01:00"),  # 02:00 CET
        utc("2015-10-25 02:00"),
    ]
    assert list(autumn["demand_mw"]) == [21298.0, 20261.0, 19775.0, 19505.0]
    assert set(autumn["local_date"]) == {dt.date(2015, 10, 25)}
    assert autumn["landed"].all() and autumn["problem"].isna().all()


def test_total_load_drops_the_spring_row_with_a_reason_and_keeps_its_neighbours_one_hour_apart() -> None:
    frame = entsoe.parse_total_load(TOTAL_LOAD_TEXT).set_index("line")
    assert frame.loc[3, "problem"] == entsoe.SPRING_GAP
    assert not frame.loc[3, "landed"] and pd.isna(frame.loc[3, "ts_utc"])
    assert frame.loc[3, "period"] == "29.03.2015 02:00 - 29.03.2015 03:00"
    assert frame.loc[4, "ts_utc"] - frame.loc[2, "ts_utc"] == pd.Timedelta(hours=1)


def test_total_load_keeps_an_hour_whose_actual_is_na_with_its_forecast_and_a_reason() -> None:
    row = entsoe.parse_total_load(TOTAL_LOAD_TEXT).set_index("line").loc[9]
    assert row["landed"]
    assert row["ts_utc"] == utc("2015-10-26 08:00")
    assert row["tso_forecast_mw"] == 30000.0 and math.isnan(row["demand_mw"])
    assert row["problem"] == "actual load missing (N/A)"


def test_total_load_counts_malformed_lines_and_loses_no_record() -> None:
    frame = entsoe.parse_total_load(TOTAL_LOAD_TEXT).set_index("line")
    assert frame.loc[10, "problem"] == "malformed line: expected 3 fields, got 2"
    assert frame.loc[11, "problem"].startswith("malformed line: period not like")
    assert len(frame) == 10  # the trailing blank line is not a record
    dropped = frame[~frame["landed"]]
    assert sorted(dropped.index) == [3, 10, 11]
    assert dropped["problem"].notna().all()


def test_total_load_flags_a_spring_row_that_carries_values_and_a_repeated_hour() -> None:
    text = "\n".join(
        [
            TOTAL_LOAD_HEADER,
            '"27.03.2016 02:00 - 27.03.2016 03:00","21000","21100"',
            '"28.03.2016 10:00 - 28.03.2016 11:00","30000","30100"',
            '"28.03.2016 10:00 - 28.03.2016 11:00","30000","30100"',
            '"28.03.2016 11:00 - 28.03.2016 13:00","30000","30100"',
        ]
    )
    frame = entsoe.parse_total_load(text)
    assert list(frame["problem"]) == [
        entsoe.SPRING_GAP_WITH_VALUES,
        None,
        entsoe.DUPLICATE_HOUR,
        entsoe.NOT_ONE_HOUR,
    ]
    assert list(frame["landed"]) == [False, True, False, False]


def day_periods(day: dt.date, blank_hour: int | None = None, repeated_hour: int | None = None) -> list[str]:
    """The platform's rows for one local day: 24 periods, one blank or one repeated."""
    lines = []
    for hour in range(24):
        start = dt.datetime.combine(day, dt.time(hour))
        end = start + dt.timedelta(hours=1)
        period = f"{start:%d.%m.%Y %H:%M} - {end:%d.%m.%Y %H:%M}"
        values = '"",""' if hour == blank_hour else f'"{20000 + hour}","{21000 + hour}"'
        lines += [f'"{period}",{values}'] * (2 if hour == repeated_hour else 1)
    return lines


def test_total_load_change_days_have_23_and_25_consecutive_utc_hours() -> None:
    text = "\n".join(
        [
            TOTAL_LOAD_HEADER,
            *day_periods(dt.date(2017, 3, 26), blank_hour=2),
            *day_periods(dt.date(2017, 10, 29), repeated_hour=2),
        ]
    )
    frame = entsoe.parse_total_load(text)
    landed = frame[frame["landed"]]
    assert landed.groupby("local_date").size().to_dict() == {
        dt.date(2017, 3, 26): 23,
        dt.date(2017, 10, 29): 25,
    }
    for _, day in landed.groupby("local_date"):
        assert (day["ts_utc"].diff().dropna() == pd.Timedelta(hours=1)).all()
    assert landed["ts_utc"].is_unique


def test_total_load_in_utc_needs_no_daylight_saving_rules() -> None:
    text = "\n".join(
        [
            TOTAL_LOAD_HEADER.replace("Time (CET)", "Time (UTC)"),
            *day_periods(dt.date(2017, 3, 26))[:4],
        ]
    )
    frame = entsoe.parse_total_load(text)
    assert frame["landed"].all()
    assert list(frame["ts_utc"].dt.hour) == [0, 1, 2, 3]
    assert frame.attrs["notes"] == ["periods are in UTC (a Time (UTC) export)"]


# -- parse_kaggle ---------------------------------------------------------------------------------


def test_kaggle_columns_are_snake_case_with_units_and_the_empty_ones_go_with_a_note() -> None:
    frame = entsoe.parse_kaggle(KAGGLE_TEXT)
    for name in (
        "gen_biomass_mw",
        "gen_fossil_gas_mw",
        "gen_fossil_brown_coal_lignite_mw",
        "gen_hydro_run_of_river_and_poundage_mw",
        "gen_wind_onshore_mw",
        "forecast_wind_onshore_day_ahead_mw",
        "price_day_ahead_eur_mwh",
        "price_actual_eur_mwh",
        "tso_forecast_mw",
        "demand_mw",
    ):
        assert name in frame.columns
    assert "gen_hydro_pumped_storage_aggregated_mw" not in frame.columns
    assert "forecast_wind_offshore_day_ahead_mw" not in frame.columns
    assert len(frame.attrs["notes"]) == 2
    assert all("empty in every row" in note for note in frame.attrs["notes"])
    assert frame["gen_fossil_gas_mw"].iloc[0] == 4844.0


def test_kaggle_times_carry_their_own_offset_through_the_autumn_change() -> None:
    frame = entsoe.parse_kaggle(KAGGLE_TEXT)
    landed = frame[frame["landed"]]
    assert list(landed["ts_utc"]) == [
        utc("2015-10-24 23:00"),
        utc("2015-10-25 00:00"),
        utc("2015-10-25 01:00"),
        utc("2015-10-25 02:00"),
    ]
    assert list(landed["local_date"].unique()) == [dt.date(2015, 10, 25)]
    assert landed["problem"].iloc[3] == "actual load missing (empty)"
    assert math.isnan(landed["demand_mw"].iloc[3]) and landed["tso_forecast_mw"].iloc[3] == 26118.0


def test_kaggle_drops_malformed_offsetless_and_repeated_rows_each_with_a_reason() -> None:
    frame = entsoe.parse_kaggle(KAGGLE_TEXT)
    dropped = frame[~frame["landed"]].set_index("line")["problem"].to_dict()
    assert dropped == {
        6: "malformed line: expected 29 fields, got 3",
        7: entsoe.NO_OFFSET,
        8: entsoe.DUPLICATE_HOUR,
    }
    assert len(frame) == 7


@pytest.mark.parametrize(
    ("column", "name"),
    [
        ("generation fossil coal-derived gas", "gen_fossil_coal_derived_gas_mw"),
        ("generation hydro pumped storage consumption", "gen_hydro_pumped_storage_consumption_mw"),
        ("forecast wind offshore eday ahead", "forecast_wind_offshore_day_ahead_mw"),
        ("total load actual", "demand_mw"),
        ("price day ahead", "price_day_ahead_eur_mwh"),
    ],
)
def test_kaggle_column_names(column: str, name: str) -> None:
    assert entsoe.kaggle_column_name(column) == name


# -- the day/month swap ---------------------------------------------------------------------------

WEEKDAY_FACTOR = (1.02, 1.04, 1.04, 1.04, 1.02, 0.90, 0.80)


def synthetic_load_mw(day: dt.date, hour: int) -> float:
    """A load with a winter/summer swing, a weekly cycle and a daily one."""
    seasonal = 28_000 + 3_500 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 183)
    daily = 0.85 + 0.15 * math.sin(math.pi * max(0, hour - 6) / 17)
    return round(seasonal * WEEKDAY_FACTOR[day.weekday()] * daily, 1)


def synthetic_year(year: int, swapped: bool) -> pd.DataFrame:
    """Hourly load for a year; ``swapped`` stamps days <= 12 with the twin date's data, as the
    original Kaggle file does."""
    hours = pd.date_range(
        f"{year}-01-01", f"{year + 1}-01-01", freq="h", tz="Europe/Madrid", inclusive="left"
    )
    rows = []
    for moment in hours:
        day = moment.date()
        source_day = day
        if swapped and day.day <= 12 and day.day != day.month:
            source_day = dt.date(day.year, day.day, day.month)
        rows.append({"moment": moment, "load_mw": synthetic_load_mw(source_day, moment.hour)})
    return pd.DataFrame(rows)


def test_swap_check_tells_a_consistent_year_from_a_swapped_one() -> None:
    clean = synthetic_year(2016, swapped=False)
    swapped = synthetic_year(2016, swapped=True)
    ok = entsoe.check_day_month_swap(clean["moment"].dt.tz_convert("UTC"), clean["load_mw"])
    bad = entsoe.check_day_month_swap(swapped["moment"].dt.tz_convert("UTC"), swapped["load_mw"])
    assert ok.verdict == "consistent" and ok.swapped_share is not None and ok.swapped_share < 0.2
    assert bad.verdict == "swapped" and bad.swapped_share is not None and bad.swapped_share > 0.8
    assert bad.decisive_days >= 10


def test_swap_check_does_not_guess_on_a_few_days() -> None:
    week = synthetic_year(2016, swapped=True).head(24 * 7)
    check = entsoe.check_day_month_swap(week["moment"].dt.tz_convert("UTC"), week["load_mw"])
    assert check.verdict == "not enough data"


def kaggle_text(frame: pd.DataFrame) -> str:
    lines = [KAGGLE_HEADER]
    for moment, load in zip(frame["moment"], frame["load_mw"], strict=True):
        lines.append(kaggle_line(moment.isoformat(sep=" "), forecast=str(load), actual=str(load)))
    return "\n".join(lines) + "\n"


def test_ingest_refuses_a_swapped_kaggle_file_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "energy_dataset.csv"
    path.write_text(kaggle_text(synthetic_year(2016, swapped=True)), encoding="utf-8")
    store = LocalObjectStore(tmp_path / "lake")
    with pytest.raises(DataValidationError) as caught:
        entsoe.ingest_files(store, [path])
    assert str(path) in str(caught.value)
    assert "corrected copy" in str(caught.value) and "allow_swapped=True" in str(caught.value)
    assert store.list_keys("raw") == []

    summary = entsoe.ingest_files(store, [path], allow_swapped=True)
    assert summary.files[0].swap_check is not None
    assert summary.files[0].swap_check["verdict"] == "swapped"
    assert any(note.startswith("WARNING day/month swap check: swapped") for note in summary.files[0].notes)
    assert len(summary.keys_written) == 366


# -- ingest_files ---------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_ingest_lands_one_csv_per_local_day_with_deterministic_names_and_balanced_counts(
    tmp_path: Path,
) -> None:
    load = write(tmp_path, "Total Load - Day Ahead _ Actual_2015.csv", TOTAL_LOAD_TEXT)
    kaggle = write(tmp_path, "energy.csv", KAGGLE_TEXT)
    store = LocalObjectStore(tmp_path / "lake")
    lines: list[str] = []
    summary = entsoe.ingest_files(store, [load, kaggle], progress=lines.append)

    assert summary.keys_written == [
        "raw/entsoe/total_load/year=2015/month=03/day=29/entsoe-total-load-2015-03-29.csv",
        "raw/entsoe/total_load/year=2015/month=10/day=25/entsoe-total-load-2015-10-25.csv",
        "raw/entsoe/total_load/year=2015/month=10/day=26/entsoe-total-load-2015-10-26.csv",
        "raw/entsoe/kaggle_energy/year=2015/month=10/day=25/entsoe-kaggle-energy-2015-10-25.csv",
    ]
    first, second = summary.files
    assert (first.format, first.rows_in, first.rows_landed, first.rows_dropped) == (
        "entsoe_total_load",
        10,
        7,
        3,
    )
    assert first.hours == 7
    assert first.problems == {
        "actual load missing (N/A)": 1,
        "malformed line: expected 3 fields, got 2": 1,
        "malformed line: period not like 'DD.MM.YYYY HH:MM - DD.MM.YYYY HH:MM'": 1,
        entsoe.SPRING_GAP: 1,
    }
    assert sum(first.dropped.values()) == first.rows_dropped == len(first.dropped_rows)
    assert (second.rows_in, second.rows_landed, second.rows_dropped) == (7, 4, 3)
    assert summary.balanced and summary.rows_in == summary.rows_landed + summary.rows_dropped
    assert len(lines) == 4

    autumn = store.read_csv(summary.keys_written[1])
    assert list(autumn["ts_utc"]) == [
        "2015-10-24T23:00:00+00:00",
        "2015-10-25T00:00:00+00:00",
        "2015-10-25T01:00:00+00:00",
        "2015-10-25T02:00:00+00:00",
    ]
    assert list(autumn["local_time"])[1:3] == ["2015-10-25T02:00:00+02:00", "2015-10-25T02:00:00+01:00"]
    assert set(autumn["region"]) == {"national"} and set(autumn["source"]) == {"entsoe"}
    assert list(autumn["demand_mw"]) == [21298.0, 20261.0, 19775.0, 19505.0]
    # The file's own default extraction time: the end of its last hour.
    assert set(autumn["extracted_at"]) == {"2015-10-26T09:00:00+00:00"}
    missing = store.read_csv(summary.keys_written[2])
    assert missing["problem"].tolist() == ["actual load missing (N/A)"]
    assert missing["tso_forecast_mw"].tolist() == [30000.0]


def test_ingest_twice_rewrites_identical_bytes(tmp_path: Path) -> None:
    load = write(tmp_path, "load.csv", TOTAL_LOAD_TEXT)
    store = LocalObjectStore(tmp_path / "lake")
    keys = entsoe.ingest_files(store, [load]).keys_written
    before = {key: store.get_bytes(key) for key in keys}
    again = entsoe.ingest_files(store, [load]).keys_written
    assert again == keys
    assert store.list_keys("raw") == sorted(keys)
    assert {key: store.get_bytes(key) for key in keys} == before


def test_ingest_writes_a_given_extraction_time_and_refuses_a_naive_one(tmp_path: Path) -> None:
    load = write(tmp_path, "load.csv", TOTAL_LOAD_TEXT)
    store = LocalObjectStore(tmp_path / "lake")
    at = dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    summary = entsoe.ingest_files(store, [load], extracted_at=at)
    assert set(store.read_csv(summary.keys_written[0])["extracted_at"]) == {"2024-05-01T06:30:00+00:00"}
    with pytest.raises(DataValidationError, match="extracted_at"):
        entsoe.ingest_files(store, [load], extracted_at=dt.datetime(2024, 5, 1))


def test_ingest_a_later_file_wins_an_hour_two_files_share(tmp_path: Path) -> None:
    day = day_periods(dt.date(2016, 1, 5))
    older = write(tmp_path, "a.csv", "\n".join([TOTAL_LOAD_HEADER, *day[:13]]))
    newer = write(
        tmp_path,
        "b.csv",
        "\n".join([TOTAL_LOAD_HEADER, *[line.replace('"2101', '"9101') for line in day[12:]]]),
    )
    store = LocalObjectStore(tmp_path / "lake")
    summary = entsoe.ingest_files(store, [older, newer])
    first, second = summary.files
    assert first.dropped == {entsoe.SUPERSEDED: 1} and first.rows_landed == first.hours == 12
    assert second.rows_landed == 12 and summary.balanced
    rows = store.read_csv(summary.keys_written[0])
    assert len(rows) == 24 and rows["ts_utc"].is_unique
    assert rows.loc[12, "demand_mw"] == 91012.0 and rows.loc[12, "source_file"] == "b.csv"
    assert first.keys == second.keys == summary.keys_written
    assert any("not complete in this file" in note for note in first.notes)


def test_ingest_names_an_unknown_file_and_writes_nothing(tmp_path: Path) -> None:
    load = write(tmp_path, "load.csv", TOTAL_LOAD_TEXT)
    other = write(tmp_path, "other.csv", "a,b\n1,2\n")
    store = LocalObjectStore(tmp_path / "lake")
    with pytest.raises(DataValidationError, match=r"other\.csv"):
        entsoe.ingest_files(store, [load, other])
    assert store.list_keys("raw") == []


def test_summary_fills_a_run_report_that_balances(tmp_path: Path) -> None:
    load = write(tmp_path, "load.csv", TOTAL_LOAD_TEXT)
    summary = entsoe.ingest_files(LocalObjectStore(tmp_path / "lake"), [load])
    report = RunReport(job="ingest_entsoe")
    summary.fill_report(report)
    assert (report.rows_in, report.rows_out, report.rows_quarantined) == (10, 7, 3)
    assert report.balanced and report.keys_written == summary.keys_written
    assert report.details["files"][0]["dropped"][entsoe.SPRING_GAP] == 1
