"""The buy/sell signal's training runs also land in the lake's MLflow store, as the other models' do."""

from __future__ import annotations

from pathlib import Path

import pytest

from datalake import tracking
from datalake.fxsignal.series import sample_series
from datalake.fxsignal.training import HoldoutSplit, train_fx_signal
from datalake.settings import Settings


@pytest.mark.slow  # a fresh MLflow store (SQLite migrations): about 20 s on this shared machine
def test_fx_signal_training_runs_are_logged_to_mlflow(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None, lake_runtime="local", lake_root=tmp_path / "lake", mlflow_track_training=True
    )
    details = train_fx_signal(
        sample_series(500), "SAMPLE", HoldoutSplit(holdout_days=100, train_days=300), settings
    )["details"]
    run = tracking.client(settings).get_run(details["mlflow_run_id"])
    assert run.data.params["registry_version"] == details["version"]
    assert run.data.metrics["net_pnl_pct"] == details["evaluation"]["holdout"]["net_pnl_pct"]
    assert run.data.tags["promoted"] == "true"
