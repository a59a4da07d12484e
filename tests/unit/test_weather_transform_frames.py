"""The weather job's per-file and per-partition pandas steps, without Spark: the observation file's
rows stamped with its landing day, files of no known kind, one source per city and hour, and the
national series of a partition equal to frames.national_hourly."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from datalake.transforms.weather import csv_rows, file_rows, national_partition, preferred_source
from datalake.weather.frames import COLUMNS, NATIONAL_COLUMNS, conform, national_hourly
from datalake.weather.locations import DEFAULT_LOCATIONS

HEADER = "dt_iso,city_name,temp,humidity,wind_speed,clouds_all"
FOLDER = "file:/lake/raw/weather/observations_file/year=2026/month=12/day=06"


def test_the_file_is_stamped_with_its_landing_day_and_its_bad_lines_kept_with_their_text() -> None:
    text = "\n".join(
        [
            HEADER,
            "2016-01-01 00:00:00+01:00, Madrid,273.15,80,2,0",
            "2016-01-01 01:00:00+01:00,Madrid,x,80,2,0",
        ]
    )
    rows = csv_rows(f"{FOLDER}/w.abc.csv.gz", gzip.compress(text.encode()), DEFAULT_LOCATIONS)
    good, bad = rows[rows["problem"].isna()], rows[rows["problem"].notna()]
    assert len(good) == 1 and good["extracted_at"].iloc[0] == pd.Timestamp("2026-12-06", tz="UTC")
    assert good["temperature_c"].iloc[0] == pytest.approx(0.0) and good["ts_utc"].iloc[0] == pd.Timestamp(
        "2015-12-31T23:00Z"
    )
    assert bad[["line", "problem", "raw_record"]].values.tolist() == [
        [3, "temp: not a number", "2016-01-01 01:00:00+01:00,Madrid,x,80,2,0"]
    ]
    # Outside a landing-day folder there is no landing day: the file is refused with the reason.
    unplaced = csv_rows("file:/lake/raw/weather/w.csv", text.encode(), DEFAULT_LOCATIONS)
    assert unplaced["problem"].tolist() == ["raw file is not under year=/month=/day=/ (the landing date)"]


def test_a_file_of_no_known_kind_is_one_row_with_its_problem() -> None:
    rows = file_rows(f"{FOLDER}/notes.txt", b"hello", DEFAULT_LOCATIONS)
    assert len(rows) == 1 and rows["problem"].iloc[0].startswith("not a weather file")
    broken = file_rows(f"{FOLDER}/x.json", b'{"hourly": [', DEFAULT_LOCATIONS)
    assert broken["problem"].tolist() == ["not JSON"]
    foreign = file_rows(f"{FOLDER}/x.json", json.dumps({"hourly": {}}).encode(), DEFAULT_LOCATIONS)
    assert "not written by datalake.sources.open_meteo" in foreign["problem"].iloc[0]


def _hour(location: str, source: str, temperature: float) -> dict[str, object]:
    return {"ts_utc": pd.Timestamp("2016-07-01T12:00Z"), "location": location, "kind": "observed",
            "issued_at": pd.NaT, "temperature_c": temperature, "apparent_temperature_c": None,
            "relative_humidity_pct": 50.0, "wind_speed_kmh": 10.0, "cloud_cover_pct": 0.0,
            "shortwave_radiation_wm2": None, "source": source,
            "extracted_at": pd.Timestamp("2026-12-06", tz="UTC")}  # fmt: skip


def test_one_source_per_city_and_hour_station_first_and_the_national_series_as_frames_computes_it() -> None:
    frame = conform(pd.DataFrame([
        _hour("Madrid", "sample", 40.0), _hour("Madrid", "openweathermap-kaggle", 30.0),
        _hour("Madrid", "open-meteo", 31.0), _hour("Bilbao", "open-meteo", 20.0),
    ]))  # fmt: skip
    kept = preferred_source(frame)
    assert sorted(zip(kept["location"], kept["source"], strict=True)) == [
        ("Bilbao", "open-meteo"), ("Madrid", "openweathermap-kaggle"),
    ]  # fmt: skip
    partition = national_partition(DEFAULT_LOCATIONS)(frame.assign(year=2016, month=7))
    expected = national_hourly(kept, DEFAULT_LOCATIONS)
    assert list(partition.columns) == [*NATIONAL_COLUMNS, "year", "month"]
    # Madrid 6.8 and Bilbao 1.0: (30 * 6.8 + 20 * 1.0) / 7.8
    assert partition["temperature_c"].iloc[0] == pytest.approx(expected["temperature_c"].iloc[0])
    assert partition["temperature_c"].iloc[0] == pytest.approx((30 * 6.8 + 20) / 7.8)
    assert partition["locations_reporting"].iloc[0] == 2 and set(COLUMNS) >= {"ts_utc", "kind"}
