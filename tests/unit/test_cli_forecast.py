"""`datalake forecast predict` and `plot` from a model directory or the registry's champion."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from forecast_fixtures import synthetic_series
from typer.testing import CliRunner

from datalake.cli import app
from datalake.errors import ObjectNotFoundError
from datalake.forecasting.forecaster import TransformerForecaster
from datalake.models import ModelRegistry
from datalake.settings import get_settings
from datalake.storage.local import LocalObjectStore


@pytest.fixture
def demand_csv(tmp_path: Path) -> Path:
    path = tmp_path / "demand.csv"
    series = synthetic_series(days=30)
    series.rename_axis("ts_utc").reset_index().assign(
        ts_utc=lambda f: f["ts_utc"].map(pd.Timestamp.isoformat)
    ).to_csv(path, index=False)
    return path


def test_predict_prints_hours_from_the_end_of_the_input(
    trained: TransformerForecaster, demand_csv: Path, tmp_path: Path
) -> None:
    model_dir = trained.save(tmp_path / "model")
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "forecast",
            "predict",
            "--hours",
            "5",
            "--input",
            str(demand_csv),
            "--model",
            str(model_dir),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output[result.output.index("{") :])
    last = synthetic_series(days=30).index[-1]
    assert answer["data_cutoff"] == last.isoformat() and len(answer["points"]) == 5
    table = runner.invoke(
        app, ["forecast", "predict", "--days", "1", "--input", str(demand_csv), "--model", str(model_dir)]
    )
    assert table.exit_code == 0, table.output
    assert "24 hours from" in table.output and "p50 MW" in table.output
    too_far = runner.invoke(app, ["forecast", "predict", "--days", "15", "--model", str(model_dir)])
    assert too_far.exit_code == 2 and "less than or equal to 14" in too_far.output


def test_plot_writes_a_png_from_the_champion(
    trained: TransformerForecaster,
    demand_csv: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    runner = CliRunner()
    missing = runner.invoke(app, ["forecast", "plot", "--input", str(demand_csv)])
    # main() prints a LakeError in one line; the app itself raises it.
    assert isinstance(missing.exception, ObjectNotFoundError)
    assert "no demand_forecaster champion yet" in str(missing.exception)
    registry = ModelRegistry(LocalObjectStore(tmp_path / "lake" / "_artifacts"))
    version = registry.register(trained.save(tmp_path / "model"), {"day_ahead_mape_pct": 3.0})
    registry.promote(version, "test")
    output = tmp_path / "charts" / "forecast.png"
    result = runner.invoke(app, ["forecast", "plot", "--input", str(demand_csv), "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert version in result.output
    header = output.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    assert (width, height) == (1210, 495)
