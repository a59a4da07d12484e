"""MLflow experiment tracking and model registry: a SQLite store under the lake root, or a server.

Every model of the lake logs its training runs here, so its experiments sit in one place:
the store-sales regressor (``datalake.sales``), the forecaster and the movie-success classifier.

Locally the backend is ``sqlite:///<LAKE_ROOT>/mlflow/mlflow.db`` and artifacts go to
``<LAKE_ROOT>/mlflow/artifacts/<experiment>``. ``MLFLOW_TRACKING_URI`` is the one setting that
switches to another server (on AWS the SageMaker managed MLflow tracking server, which keeps its
artifacts in the artifacts bucket itself).
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datalake.settings import Settings, get_settings

if TYPE_CHECKING:
    import mlflow
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

#: Folder under the lake root that holds the local store (database + artifacts).
LOCAL_FOLDER = "mlflow"


def local_folder(settings: Settings) -> Path:
    """The local store's folder: ``<LAKE_ROOT>/mlflow`` (absolute, so the UI finds it from anywhere)."""
    return (settings.lake_root / LOCAL_FOLDER).resolve()


def tracking_uri(settings: Settings | None = None) -> str:
    """``MLFLOW_TRACKING_URI`` when set, else the SQLite database under the lake root."""
    settings = settings or get_settings()
    if settings.mlflow_tracking_uri:
        return settings.mlflow_tracking_uri
    folder = local_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def artifact_root(settings: Settings | None = None) -> str | None:
    """Where new experiments keep artifacts: the lake root locally; None lets a server decide."""
    settings = settings or get_settings()
    if settings.mlflow_tracking_uri:
        return None
    return (local_folder(settings) / "artifacts").as_uri()


def use_tracking(settings: Settings | None = None) -> str:
    """Point the ``mlflow`` module (tracking and registry) at the lake's store; returns the URI."""
    import mlflow

    uri = tracking_uri(settings)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def client(settings: Settings | None = None) -> MlflowClient:
    """An ``MlflowClient`` on the lake's store (tracking and registry)."""
    from mlflow.tracking import MlflowClient

    uri = use_tracking(settings)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(name: str, settings: Settings | None = None) -> str:
    """The id of experiment ``name``, created (with artifacts under the lake root) when missing."""
    settings = settings or get_settings()
    mlflow_client = client(settings)
    existing = mlflow_client.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    root = artifact_root(settings)
    location = f"{root}/{name}" if root else None
    return mlflow_client.create_experiment(name, artifact_location=location)


@contextmanager
def tracked_run(
    experiment: str,
    run_name: str,
    settings: Settings | None = None,
    tags: Mapping[str, str] | None = None,
) -> Iterator[mlflow.ActiveRun]:
    """Start an MLflow run in ``experiment`` on the lake's store; it ends (FAILED on error) on exit."""
    import mlflow

    settings = settings or get_settings()
    experiment_key = experiment_id(experiment, settings)
    with mlflow.start_run(experiment_id=experiment_key, run_name=run_name, tags=dict(tags or {})) as run:
        yield run


def _flat_params(params: Mapping[str, Any]) -> dict[str, str]:
    # MLflow params are strings of at most 6,000 characters.
    return {str(key): str(value)[:6000] for key, value in params.items()}


def log_training_run(
    experiment: str,
    run_name: str,
    params: Mapping[str, Any],
    metrics: Mapping[str, float | int | None],
    settings: Settings | None = None,
    tags: Mapping[str, str] | None = None,
) -> str | None:
    """Log one finished training run's params and metrics; best effort, for models tracked elsewhere too.

    The forecaster and the movie classifier keep their own registry; their MLflow runs are a copy for
    comparison, so a tracking failure is logged as a warning and does not fail the training.

    Returns
    -------
    str or None
        The MLflow run id, or None when tracking failed.
    """
    try:
        import mlflow

        with tracked_run(experiment, run_name, settings, tags) as run:
            mlflow.log_params(_flat_params(params))
            numeric = {
                key: float(value)
                for key, value in metrics.items()
                if isinstance(value, int | float) and not isinstance(value, bool)
            }
            mlflow.log_metrics(numeric)
            return run.info.run_id
    except Exception as error:  # tracking must not fail a training that already succeeded
        log.warning("MLflow tracking of %s/%s failed: %s", experiment, run_name, error)
        return None


def ui_command(settings: Settings | None = None, host: str = "127.0.0.1", port: int = 5000) -> list[str]:
    """The ``mlflow ui`` command line against the lake's store (the local SQLite one unless set)."""
    settings = settings or get_settings()
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", tracking_uri(settings)]
    root = artifact_root(settings)
    if root:
        command += ["--default-artifact-root", root]
    # One worker: a laptop's UI, and a quick start (each worker imports MLflow anew).
    return [*command, "--host", host, "--port", str(port), "--workers", "1"]


def start_ui(settings: Settings | None = None, host: str = "127.0.0.1", port: int = 5000) -> subprocess.Popen:
    """Start the MLflow UI in a child process (the caller waits on it or terminates it)."""
    return subprocess.Popen(ui_command(settings, host, port))
