"""MLFLOW_TRACKING_URI is the one setting that moves tracking off the lake root's SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from datalake import tracking
from datalake.settings import Settings


def test_local_store_is_sqlite_with_artifacts_under_the_lake_root(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, lake_root=tmp_path / "lake", mlflow_tracking_uri=None)
    folder = (tmp_path / "lake" / "mlflow").resolve()
    assert tracking.tracking_uri(settings) == f"sqlite:///{folder / 'mlflow.db'}"
    assert tracking.artifact_root(settings) == (folder / "artifacts").as_uri()
    command = tracking.ui_command(settings, port=5123)
    assert command[command.index("--backend-store-uri") + 1] == tracking.tracking_uri(settings)
    assert command[command.index("--port") + 1] == "5123"


def test_the_environment_variable_switches_to_a_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    arn = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/datalake"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", arn)
    settings = Settings(_env_file=None, lake_root=tmp_path / "lake")
    assert tracking.tracking_uri(settings) == arn
    assert tracking.artifact_root(settings) is None  # the server keeps artifacts in its bucket
    assert "--default-artifact-root" not in tracking.ui_command(settings)
    assert not (tmp_path / "lake" / "mlflow").exists()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", " ")
    assert Settings(_env_file=None).mlflow_tracking_uri is None  # blank means unset
