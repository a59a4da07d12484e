"""The weather source on Spark (local[1]): raw files -> weather_hourly, weather_national_hourly and
weather_daily, through ``transform("weather")``.

One lake serves the module, built by three runs:

1. full: an observation file in the shared Kaggle format (Madrid, the two days around the autumn
   clock change, a repeated hour, a line that is not a number, a city not configured), the SAMPLE
   archive of the same two days for the five cities, and a SAMPLE forecast issued on the 27th;
2. incremental: a second forecast issue a day later;
3. incremental with nothing new;
4. full: every file parsed again, the same tables (nothing rewritten).

Then the tables are read with DuckDB over the catalog and synced into the embedded PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from processed_fixtures import published

from datalake.datasets.weather import WEATHER_DAILY, WEATHER_HOURLY, WEATHER_NATIONAL_HOURLY
from datalake.pipelines.lake import crawl_zones, sync_all, transform
from datalake.pipelines.weather_ingest import (
    ingest_weather_archive,
    ingest_weather_csv,
    ingest_weather_forecast,
)
from datalake.runs import RunReport
from datalake.runtime import query_engine
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore
from datalake.transforms.weather import preferred_source
from datalake.weather.frames import COLUMNS, NATIONAL_COLUMNS, national_hourly
from datalake.weather.locations import DEFAULT_LOCATIONS

pytest_plugins = ["warehouse_fixtures"]
pytestmark = pytest.mark.slow

ISSUE_1 = dt.datetime(2025, 10, 27, 10, tzinfo=dt.UTC)
ISSUE_2 = ISSUE_1 + dt.timedelta(days=1)
HEADER = "dt_iso,city_name,temp,temp_min,temp_max,pressure,humidity,wind_speed,wind_deg,clouds_all"


def observation_file(folder: Path) -> Path:
    """Madrid's hours of 25 and 26 October 2025 (local), as the Kaggle file writes them."""
    lines = [HEADER]
    start = pd.Timestamp("2025-10-25 00:00", tz="Europe/Madrid")
    end = pd.Timestamp("2025-10-27 00:00", tz="Europe/Madrid")
    hours = pd.date_range(start.tz_convert("UTC"), end.tz_convert("UTC"), freq="h", inclusive="left")
    for n, hour in enumerate(hours):
        local = hour.tz_convert("Europe/Madrid").isoformat(sep=" ")
        lines.append(
            f"{local}, Madrid,{283.15 + n % 10},283,290,1015,{60 + n % 20},{2 + n % 3},180,{n % 100}"
        )
    lines.append(lines[5])  # the feed repeats an hour (another weather condition, same values)
    lines.append(f"{hours[3].tz_convert('Europe/Madrid').isoformat(sep=' ')}, Madrid,x,0,0,0,50,2,0,0")
    lines.append(f"{hours[4].tz_convert('Europe/Madrid').isoformat(sep=' ')}, Paris,285,0,0,0,50,2,0,0")
    path = folder / "weather_features_test.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, RunReport, list[RunReport]]:
    root = tmp_path_factory.mktemp("weather")
    settings = Settings(
        _env_file=None,
        lake_runtime="local",
        lake_root=root / "lake",
        spark_master="local[1]",
        weather_forecast_days=2,
    )
    landed = ingest_weather_csv(observation_file(root), settings=settings, landed_at=ISSUE_1)
    ingest_weather_archive(
        dt.date(2025, 10, 24), dt.date(2025, 10, 27), sample=True, now=ISSUE_1, settings=settings
    )
    ingest_weather_forecast(ISSUE_1, sample=True, settings=settings)
    first = transform("weather", settings=settings)
    ingest_weather_forecast(ISSUE_2, sample=True, settings=settings)
    second = transform("weather", settings=settings)
    third = transform("weather", settings=settings)
    fourth = transform("weather", settings=settings, full=True)
    return settings, landed, [first, second, third, fourth]


def table(settings: Settings, spec) -> pd.DataFrame:
    return published(LocalObjectStore(settings.lake_root), spec)


def test_the_file_lands_unchanged_and_its_run_says_what_the_transform_will_take(lake) -> None:
    settings, landed, _runs = lake
    # 49 hours (25 October has 24, the 26th 25) + a repeat + a bad number + a city not configured.
    assert (landed.rows_in, landed.rows_out, landed.rows_quarantined) == (52, 50, 2) and landed.balanced
    assert landed.details["hours"] == 49 and landed.details["file_duplicates_merged"] == 1
    assert landed.details["rejected"] == {
        "temp: not a number": 1,
        "city_name: not one of WEATHER_LOCATIONS": 1,
    }
    key = landed.details["key"]
    assert key.startswith("raw/weather/observations_file/year=2025/month=10/day=27/weather_features_test.")
    assert (settings.lake_root / key).read_bytes().startswith(HEADER.encode())


def test_runs_balance_quarantine_with_reasons_and_run_incrementally(lake) -> None:
    _settings, _landed, (first, second, third, fourth) = lake
    assert all(r.status == "succeeded" and r.balanced for r in (first, second, third, fourth))
    # 51 data lines (the repeat merged on read), 5 cities x 4 archive days x 24 h, 5 x 48 forecast hours.
    assert first.rows_in == 51 + 5 * 96 + 5 * 48
    reasons = {k.split(": ", 1)[1]: v for k, v in first.details["quarantine_reasons"].items()}
    assert reasons == {"temp: not a number": 1, "city_name: not one of WEATHER_LOCATIONS": 1}
    assert first.rows_quarantined == 2 and first.details["forecast_issues"] == 1
    assert second.details["mode"] == "incremental" and second.rows_in == 5 * 48
    assert second.details["forecast_issues"] == 2
    assert third.rows_in == 0 and third.details["raw_partitions_changed"] == []
    # A full run parses everything again and finds the same tables: no processed partition rewritten.
    assert fourth.details["mode"] == "full" and fourth.rows_in == first.rows_in + second.rows_in
    assert not [key for key in fourth.keys_written if key.startswith("processed/")], fourth.keys_written


def test_weather_hourly_has_the_frames_columns_and_every_forecast_its_issue_time(lake) -> None:
    settings, _landed, _runs = lake
    hourly = table(settings, WEATHER_HOURLY)
    assert list(hourly.columns[: len(COLUMNS)]) == list(COLUMNS)
    forecast = hourly[hourly["kind"] == "forecast"]
    issued = sorted(pd.to_datetime(forecast["issued_at"], utc=True).unique())
    assert issued == [pd.Timestamp(ISSUE_1), pd.Timestamp(ISSUE_2)]
    assert forecast.groupby("issued_at").size().tolist() == [5 * 48, 5 * 48]
    observed = hourly[hourly["kind"] == "observed"]
    assert observed["issued_at"].isna().all()
    madrid_file = observed[
        (observed["location"] == "Madrid") & (observed["source"] == "openweathermap-kaggle")
    ]
    assert len(madrid_file) == 49  # the bad line was a second line of an hour the file has
    # Kelvin to °C: the first hour was 283.15 K.
    first_hour = madrid_file.sort_values("ts_utc").iloc[0]
    assert first_hour["temperature_c"] == pytest.approx(10.0) and first_hour[
        "wind_speed_kmh"
    ] == pytest.approx(7.2)


def test_the_national_series_weighs_one_source_per_city_and_hour(lake) -> None:
    settings, _landed, _runs = lake
    hourly = table(settings, WEATHER_HOURLY)
    national = table(settings, WEATHER_NATIONAL_HOURLY)
    assert list(national.columns[: len(NATIONAL_COLUMNS)]) == list(NATIONAL_COLUMNS)
    hour = pd.Timestamp("2025-10-25T12:00Z")
    observed = national[
        (national["kind"] == "observed") & (pd.to_datetime(national["ts_utc"], utc=True) == hour)
    ]
    assert len(observed) == 1 and observed["locations_reporting"].iloc[0] == 5
    rows = hourly.assign(ts_utc=pd.to_datetime(hourly["ts_utc"], utc=True))
    rows = rows[(rows["ts_utc"] == hour) & (rows["kind"] == "observed")]
    assert len(rows) == 6  # Madrid twice: the file's and the SAMPLE archive's
    expected = national_hourly(preferred_source(rows[list(COLUMNS)]), DEFAULT_LOCATIONS)
    assert observed["temperature_c"].iloc[0] == pytest.approx(expected["temperature_c"].iloc[0])
    madrid = rows[rows["location"] == "Madrid"].set_index("source")["temperature_c"]
    # The station's value counts, not the generated one (they differ).
    assert madrid["openweathermap-kaggle"] != pytest.approx(madrid["sample"])
    forecasts = national[national["kind"] == "forecast"]
    assert forecasts.groupby("issued_at").size().tolist() == [48, 48]


def test_observed_days_are_madrid_days_and_the_autumn_change_has_25_hours(lake) -> None:
    settings, _landed, _runs = lake
    daily = table(settings, WEATHER_DAILY)
    madrid = daily[(daily["location"] == "Madrid") & (daily["source"] == "openweathermap-kaggle")]
    hours = {str(d)[:10]: n for d, n in zip(madrid["local_date"], madrid["hours_observed"], strict=True)}
    assert hours == {"2025-10-25": 24, "2025-10-26": 25}  # the clock went back on the 26th
    sample = daily[daily["source"] == "sample"]
    assert set(sample["location"]) == {loc.name for loc in DEFAULT_LOCATIONS}


def test_the_tables_are_queryable_with_duckdb_and_sync_into_postgresql(lake, tmp_path, embedded_pg) -> None:
    settings, _landed, _runs = lake
    shutil.copytree(settings.lake_root, tmp_path / "lake")
    settings = settings.model_copy(update={"lake_root": tmp_path / "lake", "database_url": embedded_pg.url})
    crawl_zones(["processed"], settings)
    engine = query_engine(settings)
    counts = engine.query(
        "SELECT kind, COUNT(*) AS n FROM weather_national_hourly GROUP BY kind ORDER BY kind"
    ).set_index("kind")["n"]
    assert counts.to_dict() == {"forecast": 96, "observed": 96}
    with psycopg.connect(embedded_pg.url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS weather_hourly CASCADE")
        conn.execute("DROP TABLE IF EXISTS weather_daily CASCADE")
        conn.execute("DROP TABLE IF EXISTS weather_national_hourly CASCADE")
    # Every weather table is served from the warehouse, the national series too (its key holds
    # issued_at, empty on observed hours: UNIQUE NULLS NOT DISTINCT instead of a primary key).
    runs = {report.job: report for report in sync_all(settings)}
    assert {"sync_weather_hourly", "sync_weather_daily", "sync_weather_national_hourly"} <= set(runs)
    hourly, daily = runs["sync_weather_hourly"], runs["sync_weather_daily"]
    national = runs["sync_weather_national_hourly"]
    assert hourly.details["inserted"] == len(table(settings, WEATHER_HOURLY))
    assert daily.details["inserted"] == len(table(settings, WEATHER_DAILY))
    assert national.details["inserted"] == len(table(settings, WEATHER_NATIONAL_HOURLY)) == 192
    with psycopg.connect(embedded_pg.url) as conn:
        issues = conn.execute(
            "SELECT COUNT(DISTINCT issued_at) FROM weather_hourly WHERE kind = 'forecast'"
        ).fetchone()[0]
        mirrored = dict(
            conn.execute("SELECT kind, COUNT(*) FROM weather_national_hourly GROUP BY kind").fetchall()
        )
    assert issues == 2
    assert mirrored == counts.to_dict()  # the same rows as DuckDB reads from the lake
