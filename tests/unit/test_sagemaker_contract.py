"""The SageMaker script-mode contract, for real: train.py writes a model dir, inference.py serves it.

moto never runs these scripts, so the round trip save -> model_fn -> input_fn -> predict_fn
-> output_fn is exercised here, in process and in a clean subprocess from the packaged code/.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from forecast_fixtures import TINY, synthetic_series

from datalake.errors import DataValidationError
from datalake.forecasting.forecaster import TransformerForecaster
from datalake.forecasting.serving import MAX_HORIZON_HOURS, load_served_model, parse_request

REPO = Path(__file__).resolve().parents[2]
TINY_HPS = {
    "context_patches": "9",
    "d_model": "16",
    "n_heads": "2",
    "n_layers": "1",
    "samples_per_epoch": "256",
    "batch_size": "64",
}


def load_script(name: str, path: Path | None = None) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"sm_{name}", path or REPO / "sagemaker" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def inference() -> ModuleType:
    return load_script("inference")


def history_payload(series: pd.Series, end: pd.Timestamp, hours: int, horizon: int) -> dict:
    window = series[(series.index >= end - pd.Timedelta(hours=hours)) & (series.index < end)]
    return {
        "horizon_hours": horizon,
        "history": {"start": window.index[0].isoformat(), "demand_mw": window.round(1).tolist()},
    }


def test_train_script_writes_a_servable_model_dir_from_sagemaker_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = tmp_path / "input" / "data" / "train"
    (channel / "year=2024").mkdir(parents=True)
    series = synthetic_series()
    series.rename_axis("ts_utc").reset_index().to_parquet(channel / "year=2024" / "part-0.parquet")
    model_dir, output_dir = tmp_path / "model", tmp_path / "output"
    hps = {
        **TINY_HPS,
        "max_epochs": "2",
        "validation_start": "2024-03-15",
        "test_start": "2024-04-01",
        "test_end": "2024-04-20",
    }
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(channel))
    monkeypatch.setenv("SM_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("SM_OUTPUT_DATA_DIR", str(output_dir))
    monkeypatch.setenv("SM_HPS", json.dumps(hps))
    train = load_script("train")
    report = train.main(["--learning-rate", "0.001"])  # an argument overrides SM_HPS

    files = {p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()}
    assert {"config.json", "weights.pt", "normalisation.json", "training.json", "metrics.json"} <= files
    assert {"code/inference.py", "code/requirements.txt", "code/datalake/forecasting/serving.py"} <= files
    assert not any("__pycache__" in name for name in files)
    config = json.loads((model_dir / "config.json").read_text())
    assert config["d_model"] == 16 and config["max_epochs"] == 2 and config["learning_rate"] == 0.001
    training = json.loads((model_dir / "training.json").read_text())
    assert training["validation_start"].startswith("2024-03-14T23:00") and training["epochs"] <= 2
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["backtest_window"] == ["2024-04-01", "2024-04-20"]
    assert metrics["day_ahead_mape_pct"] == report["tasks"]["day_ahead"]["methods"]["model"]["mape_pct"]
    saved_report = json.loads((output_dir / "backtest.json").read_text())
    assert saved_report["tasks"]["next_hour"]["methods"]["model"]["n"] > 400


def test_hyperparameters_are_typed_and_unknown_ones_refused() -> None:
    train = load_script("train")
    params = train.hyperparameters(
        ["--max_epochs", "7"], {"SM_HPS": json.dumps({"dropout": "0.2", "quantiles": "[0.05, 0.5, 0.95]"})}
    )
    assert params == {"max_epochs": 7, "dropout": 0.2, "quantiles": (0.05, 0.5, 0.95)}
    with pytest.raises(DataValidationError, match="epochs: unknown hyperparameter"):
        train.hyperparameters(["--epochs", "3"], {})
    with pytest.raises(DataValidationError, match="max_epochs: 'many' is not a int"):
        train.hyperparameters(["--max_epochs", "many"], {})
    with pytest.raises(DataValidationError, match=r"no \.csv or \.parquet"):
        train.data_files(Path(__file__).parent / "does-not-exist-dir")


def test_round_trip_save_model_fn_input_fn_predict_fn_output_fn(
    trained: TransformerForecaster, inference: ModuleType, tmp_path: Path
) -> None:
    model_dir = trained.save(tmp_path / "model")
    model = inference.model_fn(str(model_dir))
    assert model.version.startswith("sha256:")
    series = synthetic_series()
    end = pd.Timestamp("2024-04-20 10:00", tz="UTC")
    payload = history_payload(series, end, TINY.context_hours + 30, 30)
    request = inference.input_fn(json.dumps(payload).encode(), "application/json; charset=utf-8")
    body, content_type = inference.output_fn(inference.predict_fn(request, model), "application/json")
    answer = json.loads(body)
    assert content_type == "application/json"
    assert answer["origin"] == end.isoformat() and answer["horizon_hours"] == 30
    assert answer["data_cutoff"] == (end - pd.Timedelta(hours=1)).isoformat()
    points = answer["points"]
    assert [p["ts_utc"] for p in points] == [h.isoformat() for h in pd.date_range(end, periods=30, freq="h")]
    assert points[0]["ts_local"] == "2024-04-20T12:00:00+02:00"
    assert all(p["p10_mw"] <= p["p50_mw"] <= p["p90_mw"] for p in points)
    # The handler serves exactly what the forecaster computes from the same (rounded) history.
    direct = trained.forecast(request.history, [end], 30)[0]
    np.testing.assert_allclose([p["p50_mw"] for p in points], direct[:, 1], atol=0.051)


def test_packaged_code_serves_from_a_clean_process(trained: TransformerForecaster, tmp_path: Path) -> None:
    train = load_script("train")
    model_dir = trained.save(tmp_path / "model")
    code = train.package_code(model_dir)
    series = synthetic_series()
    payload = history_payload(series, pd.Timestamp("2024-04-10 00:00", tz="UTC"), TINY.context_hours, 5)
    (tmp_path / "request.json").write_text(json.dumps(payload))
    script = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('inference', r'{code / 'inference.py'}')\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        f"model = m.model_fn(r'{model_dir}')\n"
        f"req = m.input_fn(open(r'{tmp_path / 'request.json'}').read(), 'application/json')\n"
        "body, _ = m.output_fn(m.predict_fn(req, model), '*/*')\n"
        "print(json.dumps({'points': len(json.loads(body)['points']),"
        " 'datalake': sys.modules['datalake'].__file__}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["points"] == 5
    # The copy inside the model's code/ is what served, not the checkout.
    assert out["datalake"].startswith(str(model_dir / "code" / "datalake"))


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        ("horizon_hours,24", "text/csv", 415, "Content-Type"),
        ('{"horizon_hours": 24}', None, 415, "Content-Type"),
        ("{not json", "application/json", 400, "body"),
        ('{"horizon_hours": 0}', "application/json", 400, "horizon_hours"),
        (f'{{"horizon_hours": {MAX_HORIZON_HOURS + 1}}}', "application/json", 400, "horizon_hours"),
        ('{"days": 1, "horizon_hours": 24}', "application/json", 400, "days"),
        ('{"hours": 3}', "application/json", 400, "hours"),
        (
            '{"history": {"start": "2024-01-01T00:00", "demand_mw": [1]}}',
            "application/json",
            400,
            "history.start",
        ),
        (
            '{"history": {"start": "2024-01-01T00:00Z", "demand_mw": [1, "x"]}}',
            "application/json",
            400,
            "history.demand_mw[1]",
        ),
        ('{"history": {"start": "2024-01-01T00:00Z"}}', "application/json", 400, "history.demand_mw"),
    ],
)
def test_bad_requests_get_a_status_and_name_the_field(
    inference: ModuleType, body: str, content_type: str | None, status: int, field: str
) -> None:
    with pytest.raises(inference.InferenceError) as caught:
        inference.input_fn(body, content_type)
    assert caught.value.status_code == status and caught.value.field == field
    assert json.loads(caught.value.message)["field"] == field


def test_short_history_and_unacceptable_accept(
    trained: TransformerForecaster, inference: ModuleType, tmp_path: Path
) -> None:
    model = inference.model_fn(str(trained.save(tmp_path / "model")))
    series = synthetic_series()
    short = history_payload(series, pd.Timestamp("2024-04-10", tz="UTC"), TINY.context_hours - 1, 5)
    with pytest.raises(inference.InferenceError, match="needs the 216 hours") as caught:
        inference.predict_fn(parse_request(short), model)
    assert caught.value.status_code == 400
    with pytest.raises(inference.InferenceError) as refused:
        inference.output_fn({"points": []}, "text/csv")
    assert refused.value.status_code == 406


def test_days_and_a_version_record(trained: TransformerForecaster, tmp_path: Path) -> None:
    assert parse_request({"days": 2}).horizon_hours == 48 and parse_request({}).horizon_hours == 24
    directory = trained.save(tmp_path / "model")
    (directory / "version.json").write_text(json.dumps({"version": "v20240101T000000-abc123"}))
    assert load_served_model(directory).version == "v20240101T000000-abc123"
