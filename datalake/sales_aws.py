"""The store-sales pipeline's AWS steps: what the training job and the promote Lambda call.

On AWS a Step Functions state machine (``cloudformation/mlops.yaml``) runs, on an EventBridge
schedule:

1. the sales ETL Glue job (``glue:startJobRun.sync``): the ``store_sales`` source's job, whose
   ``--features true`` makes each run end by writing the versioned features dataset of the published
   tables with Spark (:mod:`datalake.pipelines.sales_features`; the same digest as the local path);
2. a SageMaker training job in script mode: ``sagemaker/sales_train.py`` reads the ``features``
   channel (the versioned features dataset, ``features/store_sales/`` in the lake) and calls
   :func:`train_in_container`, which trains and registers a challenger through the sales model's
   seam and writes ``evaluation.json`` into the model directory (so into ``model.tar.gz``);
3. the evaluate-and-promote Lambda (``lambdas/sales_promote``): :func:`run_promote` reads that
   evaluation from the job's ``model.tar.gz`` and :func:`promote_training_output` moves the MLflow
   registry aliases (``challenger``; ``champion`` only when the challenger is better).

Both steps reach MLflow through ``MLFLOW_TRACKING_URI`` (the tracking server's ARN on AWS; a local
SQLite store otherwise).

Seam expected from ``datalake.sales`` (the sales model): ``datalake.sales.retrain.register_challenger
(store, settings) -> dict`` trains a challenger on the latest features version in ``store``, scores it
and the current champion on the same test window, logs the MLflow run and registers the version
(alias ``challenger``) without promoting it, and returns at least the keys of
:class:`TrainingEvaluation` (``version``, ``rmspe_test``, ``champion_version``,
``rmspe_test_champion``, ``dataset_version``, ``mlflow_run_id``).
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from datalake.errors import ConfigurationError, DataValidationError
from datalake.sales import CHALLENGER, CHAMPION, FEATURES_PREFIX, MODEL_NAME
from datalake.sales import promotion_decision as decide
from datalake.settings import Settings, get_settings
from datalake.storage.base import ObjectStore
from datalake.storage.local import LocalObjectStore

#: The training job's channel holding the features (``/opt/ml/input/data/features``).
FEATURES_CHANNEL = "features"
#: What the training job writes beside the model, read back by the promote step.
EVALUATION_FILE = "evaluation.json"
#: SageMaker's TrainingJobName: 1-63 characters, alphanumerics and hyphens, no leading hyphen
#: (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html).
TRAINING_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")

#: Trains and registers a challenger from a lake holding the features: (store, settings) -> report.
Trainer = Callable[[ObjectStore, Settings], Mapping[str, Any]]


@dataclass(frozen=True)
class TrainingEvaluation:
    """What the training job decided nothing about yet: the challenger and the champion it beat or not.

    Attributes
    ----------
    version
        The model version the job registered (the challenger).
    rmspe_test
        The challenger's RMSPE on the test window (open days).
    champion_version, rmspe_test_champion
        The champion the job scored on the same window, and its RMSPE; None for the first model.
    dataset_version
        The features version (content digest) both were scored on.
    mlflow_run_id
        The challenger's MLflow run.
    training_job_name
        The SageMaker training job (empty when run by hand).
    """

    version: str
    rmspe_test: float
    champion_version: str | None
    rmspe_test_champion: float | None
    dataset_version: str
    mlflow_run_id: str
    training_job_name: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingEvaluation:
        """Read a report or ``evaluation.json``; errors name the field."""
        for name in ("version", "rmspe_test", "dataset_version", "mlflow_run_id"):
            if data.get(name) in (None, ""):
                raise DataValidationError(name, "missing from the training job's evaluation")
        champion = data.get("champion_version")
        champion_rmspe = data.get("rmspe_test_champion")
        if (champion is None) != (champion_rmspe is None):
            raise DataValidationError(
                "rmspe_test_champion", "a champion version needs its RMSPE on the same window, and back"
            )
        return cls(
            version=str(data["version"]),
            rmspe_test=_number(data, "rmspe_test"),
            champion_version=None if champion is None else str(champion),
            rmspe_test_champion=None if champion_rmspe is None else _number(data, "rmspe_test_champion"),
            dataset_version=str(data["dataset_version"]),
            mlflow_run_id=str(data["mlflow_run_id"]),
            training_job_name=str(data.get("training_job_name") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        """As written to ``evaluation.json``."""
        return asdict(self)


def _number(data: Mapping[str, Any], name: str) -> float:
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value < 0:
        raise DataValidationError(name, f"{value!r} is not a non-negative number")
    return float(value)


# -- the training job ---------------------------------------------------------------------------


def channel_store(channel: Path, staging: Path) -> LocalObjectStore:
    """A local lake whose ``features/store_sales/`` is the training channel.

    SageMaker copies the channel's S3 prefix (``s3://<lake>/features/store_sales/``) into the channel
    folder with the keys below that prefix, so linking the folder at the prefix gives the sales code
    the lake layout it reads (``version=<digest>/...``, ``_latest.json``) without copying the data.

    Raises
    ------
    DataValidationError
        When the channel holds no features version (no ``_latest.json``).
    """
    if not (channel / "_latest.json").is_file():
        raise DataValidationError(
            FEATURES_CHANNEL, f"{channel} has no _latest.json: is the channel s3://<lake>/{FEATURES_PREFIX}/?"
        )
    link = staging / FEATURES_PREFIX
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(channel.resolve(), target_is_directory=True)
    return LocalObjectStore(staging)


def sales_model_trainer() -> Trainer:
    """The sales model's ``register_challenger`` (see the module docstring).

    Raises
    ------
    ConfigurationError
        When ``datalake.sales.retrain`` does not provide it.
    """
    try:
        from datalake.sales import retrain
    except ImportError as error:
        raise ConfigurationError(
            f"the sales model is not installed ({error})", hint="datalake.sales comes with the sales model"
        ) from None
    trainer = getattr(retrain, "register_challenger", None)
    if trainer is None:
        raise ConfigurationError(
            "datalake.sales.retrain has no register_challenger(store, settings)",
            hint="the training job trains and registers; the promote Lambda moves the aliases",
        )
    return trainer


def train_in_container(
    channel: Path,
    model_dir: Path,
    output_dir: Path,
    staging: Path,
    trainer: Trainer | None = None,
    settings: Settings | None = None,
    training_job_name: str = "",
) -> TrainingEvaluation:
    """The training job's work: train and register a challenger, then write its evaluation.

    Parameters
    ----------
    channel
        The ``features`` channel folder (``SM_CHANNEL_FEATURES``).
    model_dir, output_dir
        ``SM_MODEL_DIR`` (packed into ``model.tar.gz``) and ``SM_OUTPUT_DATA_DIR``.
    staging
        A scratch folder for the lake view of the channel.
    trainer
        Trains and registers (:func:`sales_model_trainer` when None).
    settings
        Lake settings (``MLFLOW_TRACKING_URI`` among them).
    training_job_name
        ``TRAINING_JOB_NAME`` in the container, recorded in the evaluation.

    Returns
    -------
    TrainingEvaluation
        Also written as ``evaluation.json`` to ``model_dir`` and ``output_dir``.
    """
    settings = settings or get_settings()
    store = channel_store(channel, staging)
    report = dict((trainer or sales_model_trainer())(store, settings))
    evaluation = TrainingEvaluation.from_dict({**report, "training_job_name": training_job_name})
    text = json.dumps(evaluation.to_dict(), indent=2)
    for folder in (model_dir, output_dir):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / EVALUATION_FILE).write_text(text, encoding="utf-8")
    return evaluation


# -- evaluate and promote -----------------------------------------------------------------------


@dataclass(frozen=True)
class PromoteEvent:
    """The promote Lambda's event, as the state machine's ``EvaluateAndPromote`` state sends it.

    ``{"training_job_name": ..., "model_artifacts": "s3://.../output/model.tar.gz", "execution_arn": ...}``
    """

    training_job_name: str
    model_artifacts: str
    execution_arn: str = ""

    @classmethod
    def parse(cls, event: Any) -> PromoteEvent:
        """Read and check an event; errors name the field."""
        if not isinstance(event, Mapping):
            raise DataValidationError("event", "must be a JSON object")
        name = event.get("training_job_name")
        if not isinstance(name, str) or not TRAINING_JOB_NAME.match(name):
            raise DataValidationError("training_job_name", f"{name!r} is not a SageMaker training job name")
        artifacts = event.get("model_artifacts")
        if not isinstance(artifacts, str) or not re.match(r"^s3://[^/]+/.+\.tar\.gz$", artifacts):
            raise DataValidationError("model_artifacts", f"{artifacts!r} is not an s3:// model.tar.gz")
        return cls(name, artifacts, str(event.get("execution_arn") or ""))

    @property
    def bucket_and_key(self) -> tuple[str, str]:
        """The archive's bucket and key."""
        bucket, _, key = self.model_artifacts.removeprefix("s3://").partition("/")
        return bucket, key


def evaluation_from_archive(archive: bytes) -> TrainingEvaluation:
    """The ``evaluation.json`` inside a training job's ``model.tar.gz``.

    Raises
    ------
    DataValidationError
        When the archive holds no evaluation (the job ran another script).
    """
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        member = next(
            (
                m
                for m in tar.getmembers()
                # SageMaker packs SM_MODEL_DIR at the root (``evaluation.json`` or ``./evaluation.json``).
                if m.isfile() and m.name.removeprefix("./") == EVALUATION_FILE
            ),
            None,
        )
        if member is None:
            raise DataValidationError("model_artifacts", f"the archive has no {EVALUATION_FILE}")
        handle = tar.extractfile(member)
        assert handle is not None  # a regular file
        return TrainingEvaluation.from_dict(json.loads(handle.read()))


def promotion_decision(evaluation: TrainingEvaluation) -> tuple[bool, str]:
    """Whether the challenger becomes champion, and why (the rule ``datalake run sales-retrain`` uses)."""
    return decide(evaluation.rmspe_test, evaluation.champion_version, evaluation.rmspe_test_champion)


class AliasRegistry(Protocol):
    """The MLflow registry calls the promote step makes (``mlflow.MlflowClient`` has them)."""

    def get_registered_model(self, name: str) -> Any: ...

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None: ...

    def set_model_version_tag(self, name: str, version: str, key: str, value: str) -> None: ...


def promote_training_output(
    evaluation: TrainingEvaluation, registry: AliasRegistry, model_name: str = MODEL_NAME
) -> dict[str, Any]:
    """Move the aliases for one training job's challenger; idempotent.

    The challenger alias goes to the job's version. The champion alias moves to it when
    :func:`promotion_decision` says so, and only if the champion is still the one the job scored
    (another run may have promoted since: its comparison would be stale). A version already champion
    is left as it is.

    Returns
    -------
    dict
        ``version``, ``promoted``, ``champion`` (after), ``decision``.
    """
    aliases = dict(getattr(registry.get_registered_model(model_name), "aliases", {}) or {})
    champion = None if aliases.get(CHAMPION) is None else str(aliases[CHAMPION])
    version = evaluation.version
    if champion == version:
        return {"version": version, "promoted": False, "champion": champion, "decision": "already champion"}
    if champion != evaluation.champion_version:
        decision = (
            f"not promoted: the champion is version {champion}, the job compared with "
            f"{evaluation.champion_version}; retrain to compare with the current one"
        )
        registry.set_model_version_tag(model_name, version, "decision", decision)
        return {"version": version, "promoted": False, "champion": champion, "decision": decision}
    registry.set_registered_model_alias(model_name, CHALLENGER, version)
    promoted, decision = promotion_decision(evaluation)
    if promoted:
        registry.set_registered_model_alias(model_name, CHAMPION, version)
        champion = version
    registry.set_model_version_tag(model_name, version, "decision", decision)
    return {"version": version, "promoted": promoted, "champion": champion, "decision": decision}


def run_promote(event: Any, s3: Any, registry: AliasRegistry) -> dict[str, Any]:
    """The promote Lambda's work: read the job's evaluation from its archive, move the aliases.

    Parameters
    ----------
    event
        A :class:`PromoteEvent` as JSON.
    s3
        A boto3 S3 client (``get_object``).
    registry
        The MLflow client (``MLFLOW_TRACKING_URI``).
    """
    parsed = PromoteEvent.parse(event)
    bucket, key = parsed.bucket_and_key
    evaluation = evaluation_from_archive(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    if evaluation.training_job_name and evaluation.training_job_name != parsed.training_job_name:
        raise DataValidationError(
            "model_artifacts",
            f"the archive was written by {evaluation.training_job_name}, not {parsed.training_job_name}",
        )
    return {"training_job_name": parsed.training_job_name, **promote_training_output(evaluation, registry)}


def mlflow_registry(settings: Settings | None = None) -> AliasRegistry:
    """An MLflow client on ``MLFLOW_TRACKING_URI`` (the tracking server's ARN on AWS).

    Raises
    ------
    ConfigurationError
        When ``MLFLOW_TRACKING_URI`` is unset: the promote step must not fall back to a local store.
    """
    uri = os.environ.get("MLFLOW_TRACKING_URI") or getattr(
        settings or get_settings(), "mlflow_tracking_uri", None
    )
    if not uri:
        raise ConfigurationError(
            "MLFLOW_TRACKING_URI is not set", hint="the mlops stack sets it to the server's ARN"
        )
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)
