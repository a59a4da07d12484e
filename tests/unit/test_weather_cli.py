"""``datalake ingest weather-csv`` and ``datalake ingest weather``: what lands, what is refused, what
the summary says, and the SAMPLE forecast and archive offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datalake.cli import app
from datalake.runs import list_runs
from datalake.settings import get_settings
from datalake.storage.local import LocalObjectStore

HEADER = "dt_iso,city_name,temp,humidity,wind_speed,clouds_all"


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalObjectStore:
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    yield LocalObjectStore(tmp_path / "lake")
    get_settings.cache_clear()


def test_the_observation_file_lands_unchanged_with_a_summary_of_its_lines(
    lake: LocalObjectStore, tmp_path: Path
) -> None:
    path = tmp_path / "weather_features.csv"
    lines = [
        HEADER,
        "2016-01-01 00:00:00+01:00, Madrid,273.15,80,2,0",
        "2016-01-01 00:00:00+01:00, Madrid,273.15,80,2,0",  # a repeated hour
        "2016-01-01 01:00:00+01:00,Madrid,274.15,0,99,10",  # humidity 0 and a 99 m/s wind: blanked
        "2016-01-01 02:00:00+01:00,Lisbon,280,70,3,5",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", "weather-csv", str(path)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "4 data line(s): 3 hour(s) accepted" in out and "1 rejected, 1 repeated hour(s) merged" in out
    assert "rejected: city_name: not one of WEATHER_LOCATIONS: 1" in out
    assert "relative_humidity_pct: 1" in out and "wind_speed_kmh: 1" in out
    [key] = lake.list_keys("raw/weather/observations_file")
    assert (lake.root / key).read_bytes() == path.read_bytes()
    [report] = list_runs(lake, "ingest_weather_csv")
    assert report.balanced and (report.rows_in, report.rows_out, report.rows_quarantined) == (4, 3, 1)


def test_a_file_missing_a_column_lands_nothing_and_names_it(lake: LocalObjectStore, tmp_path: Path) -> None:
    path = tmp_path / "weather.csv"
    path.write_text("dt_iso,city_name,temp\n2016-01-01 00:00:00+01:00,Madrid,273\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", "weather-csv", str(path)])
    assert result.exit_code != 0 and "humidity" in str(result.exception)
    assert lake.list_keys("raw") == []


def test_the_sample_forecast_and_archive_land_offline(lake: LocalObjectStore) -> None:
    runner = CliRunner()
    forecast = runner.invoke(app, ["ingest", "weather", "--sample"])
    assert forecast.exit_code == 0, forecast.output
    keys = lake.list_keys("raw/weather/sample_forecast")
    assert len(keys) == 5 and all("-issued-" in k for k in keys)
    assert json.loads((lake.root / keys[0]).read_text())["datalake"]["source"] == "sample"
    archive = runner.invoke(
        app, ["ingest", "weather", "--sample", "--start", "2024-02-28", "--end", "2024-03-01"]
    )
    assert archive.exit_code == 0, archive.output
    assert len(lake.list_keys("raw/weather/sample_archive")) == 5 * 3 and not lake.list_keys(
        "raw/weather/archive"
    )
    bad = runner.invoke(app, ["ingest", "weather", "--start", "2024-03-02", "--end", "2024-03-01"])
    assert bad.exit_code != 0 and "before --start" in bad.output
