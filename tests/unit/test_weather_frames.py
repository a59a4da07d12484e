"""The weather frame's one definition: the shared observation file read into it (checked against the
counts SOURCES.md states for that file), the locations setting, and the national weighting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from datalake.settings import Settings
from datalake.weather.frames import (
    COLUMNS,
    NATIONAL_COLUMNS,
    conform,
    empty_frame,
    national_hourly,
    read_observations_csv,
)
from datalake.weather.locations import (
    DEFAULT_LOCATIONS,
    WeatherLocation,
    configured_locations,
    parse_locations,
)

pytestmark = pytest.mark.unit

SHARED_FILE = (
    Path(__file__).resolve().parents[3] / "shared/data/spain_weather/weather_features_2015_2017.csv.gz"
)
HEADER = (
    "dt_iso,city_name,temp,temp_min,temp_max,pressure,humidity,wind_speed,wind_deg,rain_1h,rain_3h,snow_3h,"
    "clouds_all,weather_id,weather_main,weather_description,weather_icon"
)


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "weather.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


@pytest.mark.skipif(not SHARED_FILE.is_file(), reason="the shared weather file is not beside the checkout")
def test_the_shared_file_reads_into_five_complete_cities() -> None:
    read = read_observations_csv(SHARED_FILE, locations=DEFAULT_LOCATIONS)
    assert read.rejected.empty
    # SOURCES.md: 1,793 rows repeat an hour and city; after merging each city has all 26,304 hours.
    assert read.duplicates_merged == 1_793
    assert read.frame.groupby("location").size().to_dict() == dict.fromkeys(
        ["Barcelona", "Bilbao", "Madrid", "Seville", "Valencia"], 26_304
    )
    # Three Valencia winds over 50 m/s and 63 humidities of 0 % are blanked, not kept.
    assert read.values_blanked == {"wind_speed_kmh": 3, "relative_humidity_pct": 63}
    assert read.frame["ts_utc"].min() == pd.Timestamp("2014-12-31 23:00", tz="UTC")
    assert read.frame["temperature_c"].between(-15, 50).all()
    national = national_hourly(read.frame, DEFAULT_LOCATIONS)
    assert len(national) == 26_304 and (national["locations_reporting"] == 5).all()
    july = national[national["ts_utc"].dt.month == 7]["temperature_c"].mean()
    january = national[national["ts_utc"].dt.month == 1]["temperature_c"].mean()
    assert july - january > 12, (july, january)


def test_a_row_converts_units_and_stamps_utc(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "2015-07-01 14:00:00+02:00, Barcelona,300.15,300,301,1012,55,5,180,0,0,0,20,800,clear,clear,01d",
    )
    read = read_observations_csv(path, extracted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    [row] = read.frame.to_dict("records")
    assert row["ts_utc"] == pd.Timestamp("2015-07-01 12:00", tz="UTC")
    assert row["location"] == "Barcelona" and row["kind"] == "observed" and pd.isna(row["issued_at"])
    assert row["temperature_c"] == pytest.approx(27.0)
    assert row["wind_speed_kmh"] == pytest.approx(18.0)
    assert row["relative_humidity_pct"] == 55 and row["cloud_cover_pct"] == 20
    assert list(read.frame.columns) == list(COLUMNS)


def test_bad_rows_are_rejected_with_line_and_reason_and_the_rest_kept(tmp_path: Path) -> None:
    good = "2015-01-01 00:00:00+01:00,Madrid,270,270,270,1001,77,1,62,0,0,0,0,800,clear,sky is clear,01n"
    path = write(
        tmp_path,
        good,
        "yesterday,Madrid,270,270,270,1001,77,1,62,0,0,0,0,800,clear,sky is clear,01n",
        "2015-01-01 01:00:00+01:00,Madrid,warm,270,270,1001,77,1,62,0,0,0,0,800,clear,sky is clear,01n",
        "2015-01-01 01:00:00+01:00,Lisbon,270,270,270,1001,77,1,62,0,0,0,0,800,clear,sky is clear,01n",
    )
    read = read_observations_csv(path, locations=DEFAULT_LOCATIONS)
    assert len(read.frame) == 1
    assert read.rejected.to_dict("records") == [
        {"line": 3, "reason": "dt_iso: not a timestamp with a UTC offset"},
        {"line": 4, "reason": "temp: not a number"},
        {"line": 5, "reason": "city_name: not one of WEATHER_LOCATIONS"},
    ]


def test_a_file_without_a_needed_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "weather.csv"
    path.write_text("dt_iso,city_name,temp\n2015-01-01 00:00:00+01:00,Madrid,270\n")
    with pytest.raises(ValueError, match=r"missing column.*humidity, wind_speed, clouds_all"):
        read_observations_csv(path)


def hourly(location: str, temperature_c: float | None, *, kind: str = "observed", issued: str | None = None):
    row = empty_frame().reindex([0])
    row.loc[0, ["ts_utc", "location", "kind", "source"]] = [
        pd.Timestamp("2026-01-01", tz="UTC"),
        location,
        kind,
        "test",
    ]
    row["issued_at"] = pd.Timestamp(issued, tz="UTC") if issued else pd.NaT
    row["temperature_c"] = np.nan if temperature_c is None else temperature_c
    row["extracted_at"] = pd.Timestamp("2026-01-02", tz="UTC")
    return row


def test_national_series_renormalises_over_the_cities_reporting() -> None:
    places = (
        WeatherLocation("A", 0, 0, 3.0),
        WeatherLocation("B", 0, 0, 1.0),
        WeatherLocation("C", 0, 0, 1.0),
    )
    frame = conform(pd.concat([hourly("A", 10.0), hourly("B", 20.0), hourly("C", None), hourly("Z", 99.0)]))
    [row] = national_hourly(frame, places).to_dict("records")
    # A and B only: (3 x 10 + 1 x 20) / 4; C has no value and Z is not a configured location.
    assert row["temperature_c"] == pytest.approx(12.5)
    assert row["locations_reporting"] == 2


def test_national_series_keeps_each_forecast_issue_apart() -> None:
    places = (WeatherLocation("A", 0, 0, 1.0),)
    frame = conform(
        pd.concat(
            [
                hourly("A", 5.0, kind="forecast", issued="2025-12-30 12:00"),
                hourly("A", 7.0, kind="forecast", issued="2025-12-31 12:00"),
                hourly("A", 6.0),
            ]
        )
    )
    national = national_hourly(frame, places)
    assert list(national.columns) == list(NATIONAL_COLUMNS)
    assert national[["kind", "temperature_c"]].values.tolist() == [
        ["forecast", 5.0], ["forecast", 7.0], ["observed", 6.0]
    ]  # fmt: skip


def test_a_forecast_row_needs_its_issue_time() -> None:
    with pytest.raises(ValueError, match="issued_at is empty on 1 forecast row"):
        conform(hourly("A", 5.0, kind="forecast"))


def test_locations_setting_names_the_bad_entry() -> None:
    assert configured_locations(None) == DEFAULT_LOCATIONS
    parsed = parse_locations('[{"name": "Madrid", "latitude": 40.4, "longitude": -3.7, "weight": 2}]')
    assert parsed == (WeatherLocation("Madrid", 40.4, -3.7, 2.0),)
    with pytest.raises(ValueError, match=r"WEATHER_LOCATIONS\[0\]: missing weight"):
        parse_locations('[{"name": "Madrid", "latitude": 40.4, "longitude": -3.7}]')
    with pytest.raises(ValueError, match=r"latitude 140\.0 is outside"):
        parse_locations('[{"name": "X", "latitude": 140, "longitude": 0, "weight": 1}]')
    with pytest.raises(ValidationError, match="weight must be above 0"):
        Settings(
            _env_file=None, weather_locations='[{"name": "X", "latitude": 1, "longitude": 0, "weight": 0}]'
        )
