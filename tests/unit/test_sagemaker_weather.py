"""SageMaker training of the weather forecaster (issue 23): a ``weather`` channel makes train.py train
what ``datalake forecast train --weather`` trains, with the model without weather in ``fallback/``,
and inference.py serves the fallback when the lake has no stored weather forecast."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from forecast_fixtures import FIRST_HOUR, synthetic_series

from datalake.errors import DataValidationError
from datalake.forecasting.config import WEATHER_MODEL
from datalake.forecasting.weather import read_weather_file
from datalake.settings import get_settings

REPO = Path(__file__).resolve().parents[2]
TINY_HPS = {
    "context_patches": "9",
    "d_model": "16",
    "n_heads": "2",
    "n_layers": "1",
    "samples_per_epoch": "256",
    "batch_size": "64",
    "max_epochs": "1",
    "members": "1",
    "validation_start": "2024-03-15",
    "test_start": "2024-04-01",
    "test_end": "2024-04-20",
}
CITIES = ("Madrid", "Barcelona", "Valencia", "Seville", "Bilbao")


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"sm_weather_{name}", REPO / "sagemaker" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def temperature(days: int = 160, seed: int = 5) -> pd.Series:
    """A seasonal, daily temperature cycle (°C) from 30 days before the synthetic demand."""
    index = pd.date_range(FIRST_HOUR - pd.Timedelta(days=30), periods=24 * days, freq="h", name="ts_utc")
    hours = np.arange(len(index))
    values = 12 + 8 * np.sin(2 * np.pi * hours / (24 * 90)) + 5 * np.sin(2 * np.pi * (hours % 24 - 9) / 24)
    return pd.Series(values + np.random.default_rng(seed).normal(0, 0.5, len(index)), index=index)


def national_rows(temp: pd.Series) -> pd.DataFrame:
    """weather_national_hourly rows as the processed table holds them: observed hours only."""
    return pd.DataFrame(
        {
            "ts_utc": temp.index,
            "kind": "observed",
            "issued_at": pd.Series(pd.NaT, index=temp.index, dtype="datetime64[ns, UTC]"),
            "temperature_c": temp.to_numpy(),
            "locations_reporting": 5,
        }
    ).reset_index(drop=True)


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty local lake: the endpoint's live weather is missing there."""
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    yield tmp_path / "lake"
    get_settings.cache_clear()


def test_a_weather_channel_trains_the_weather_model_with_the_plain_model_as_fallback(
    tmp_path: Path, lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = tmp_path / "input" / "data" / "train"
    channel.mkdir(parents=True)
    series = synthetic_series()
    series.rename_axis("ts_utc").reset_index().to_parquet(channel / "part-0.parquet")
    weather_channel = tmp_path / "input" / "data" / "weather" / "year=2024" / "month=1"
    weather_channel.mkdir(parents=True)
    national_rows(temperature()).to_parquet(weather_channel / "part-0.parquet")
    model_dir, output_dir = tmp_path / "model", tmp_path / "output"
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(channel))
    monkeypatch.setenv("SM_CHANNEL_WEATHER", str(weather_channel.parent.parent))
    monkeypatch.setenv("SM_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("SM_OUTPUT_DATA_DIR", str(output_dir))
    monkeypatch.setenv("SM_HPS", json.dumps(TINY_HPS))
    report = load_script("train").main([])

    # The weather model at the root, as WEATHER_MODEL configures it (the hyperparameters on top).
    config = json.loads((model_dir / "config.json").read_text())
    assert config["weather"] is True and config["calendar"] == WEATHER_MODEL.calendar == "regional"
    assert config["local_week_anchor"] is True and config["d_model"] == 16 and config["members"] == 1
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["weather"] is True and metrics["weather_error"] == "realistic"
    assert metrics["day_ahead_mape_pct"] == report["tasks"]["day_ahead"]["methods"]["model"]["mape_pct"]
    # The model without weather beside it, trained on the same split.
    fallback = json.loads((model_dir / "fallback" / "config.json").read_text())
    assert fallback["weather"] is False and fallback["calendar"] != "regional"
    fallback_metrics = json.loads((model_dir / "fallback" / "metrics.json").read_text())
    assert (
        fallback_metrics["weather"] is False
        and fallback_metrics["backtest_window"] == metrics["backtest_window"]
    )
    saved = json.loads((output_dir / "backtest.json").read_text())
    assert saved["fallback"]["tasks"]["day_ahead"]["methods"]["model"]["mape_pct"] == pytest.approx(
        fallback_metrics["day_ahead_mape_pct"]
    )

    # The endpoint loads both; with no stored forecast in the lake the fallback answers, and says so.
    inference = load_script("inference")
    served = inference.model_fn(str(model_dir))
    assert served.needs_weather and served.fallback is not None and not served.fallback.needs_weather
    assert served.describe()["fallback_version"] == served.fallback.version
    end = series.index[-1] + pd.Timedelta(hours=1)
    window = series[series.index >= end - pd.Timedelta(hours=served.context_hours)]
    payload = {
        "horizon_hours": 24,
        "history": {"start": window.index[0].isoformat(), "demand_mw": window.tolist()},
    }
    request = inference.input_fn(json.dumps(payload), "application/json")
    answer = inference.predict_fn(request, served)
    assert answer["covariates"] == "calendar only" and answer["model_version"] == served.fallback.version
    assert "weather model" in answer["weather_note"] and len(answer["points"]) == 24


def test_without_a_weather_channel_no_fallback_is_written(tmp_path: Path, lake: Path, monkeypatch) -> None:
    channel = tmp_path / "train.parquet"
    synthetic_series().rename_axis("ts_utc").reset_index().to_parquet(channel)
    monkeypatch.delenv("SM_CHANNEL_WEATHER", raising=False)
    monkeypatch.setenv("SM_HPS", json.dumps(TINY_HPS))
    model_dir = tmp_path / "model"
    load_script("train").main(
        ["--train", str(channel), "--model_dir", str(model_dir), "--output_data_dir", str(tmp_path / "out")]
    )
    assert json.loads((model_dir / "config.json").read_text())["weather"] is False
    assert json.loads((model_dir / "metrics.json").read_text())["weather"] is False
    assert not (model_dir / "fallback").exists()
    served = load_script("inference").model_fn(str(model_dir))
    assert served.fallback is None and not served.needs_weather


def observation_csv(path: Path, temp: pd.Series) -> Path:
    """The shared observation file's format (Kelvin, local times with offsets), gzipped, five cities."""
    lines = ["dt_iso,city_name,temp,humidity,wind_speed,clouds_all"]
    local = temp.index.tz_convert("Europe/Madrid")
    for city in CITIES:
        lines += [
            f"{stamp.isoformat(sep=' ')},{city},{value + 273.15:.2f},70,3,20"
            for stamp, value in zip(local, temp.to_numpy(), strict=True)
        ]
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return path


def test_the_channel_reads_the_shared_file_as_forecast_train_weather_does(tmp_path: Path, lake: Path) -> None:
    train = load_script("train")
    folder = tmp_path / "weather"
    folder.mkdir()
    path = observation_csv(folder / "weather_features_2015_2017.csv.gz", temperature(days=10))
    from_channel = train.read_weather_channel(folder)
    expected = read_weather_file(path)
    pd.testing.assert_series_equal(from_channel.observed_c, expected.observed_c)
    assert from_channel.mode == "observed" and len(from_channel.observed_c) == 240
    # Five cities at the same temperature weigh to that temperature.
    assert from_channel.observed_c.iloc[0] == pytest.approx(temperature(days=10).iloc[0], abs=0.01)


def test_a_channel_with_no_weather_file_or_mixed_files_is_refused(tmp_path: Path) -> None:
    train = load_script("train")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataValidationError, match=r"no \.csv, \.csv\.gz or \.parquet file"):
        train.read_weather_channel(tmp_path / "empty")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    national_rows(temperature(days=2)).to_parquet(mixed / "part-0.parquet")
    observation_csv(mixed / "observations.csv.gz", temperature(days=2))
    with pytest.raises(DataValidationError, match="1 CSV and 1 Parquet"):
        train.read_weather_channel(mixed)
