"""SageMaker training of the forecaster with the v3 SDK's ``ModelTrainer`` (extra ``aws``).

How the container gets the ``datalake`` package: the launcher builds a *source bundle*, a folder
holding ``train.py`` and ``inference.py`` (from the repo's ``sagemaker/`` folder), a copy of the
``datalake`` package directory and a ``requirements.txt`` with the few libraries the forecasting
code needs beyond the PyTorch image (pins taken from the installed ``datalake`` metadata, so
they follow pyproject.toml). ``ModelTrainer`` uploads it as the ``code`` channel; in the
container the SDK's driver installs the requirements and runs ``python train.py --<hp> <value>``
from ``/opt/ml/input/data/code``, so ``import datalake`` finds the copy beside the script.
Nothing is built or published: no wheel, no private index, no custom image.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datalake import aws
from datalake.datasets import DEMAND_HOURLY
from datalake.datasets.spec import DatasetSpec
from datalake.errors import ConfigurationError, DataValidationError
from datalake.models.archive import unpack_model_archive
from datalake.models.bundle import REQUIREMENTS, SCRIPTS_DIR, TRAIN_SCRIPT, build_source_bundle
from datalake.models.images import framework_image
from datalake.settings import Settings, get_settings
from datalake.storage.s3 import S3ObjectStore

if TYPE_CHECKING:
    import boto3

    from datalake.models import Registry

BASE_JOB_NAME = "datalake-demand-forecaster"
#: The forecaster's optional second channel (``SM_CHANNEL_WEATHER`` in train.py).
WEATHER_CHANNEL = "weather"
#: Key prefix in the artifacts bucket for the SDK's uploads (code, drivers) and job outputs.
SAGEMAKER_PREFIX = "sagemaker"


#: Folder of a processed table holding manifests of its current files (hidden from readers).
MANIFESTS_FOLDER = "_manifests"
#: A channel URI with this suffix is a manifest (``S3DataType=ManifestFile``), not a prefix.
MANIFEST_SUFFIX = ".manifest"


def default_channel(
    settings: Settings,
    boto3_session: boto3.session.Session | None = None,
    spec: DatasetSpec = DEMAND_HOURLY,
) -> str:
    """A manifest of the current files of ``spec`` (``demand_hourly``), written beside them in the lake.

    ``launch.py train --weather-channel lake`` asks for one of ``weather_national_hourly`` the same way.

    The table's folder also holds superseded runs (``_runs/<id>/``, kept for the retention
    period), so a prefix channel would train on every version at once. The manifest names exactly
    the files of the partitions the catalog points at (SageMaker's ``ManifestFile`` channel), and
    lives in the table's folder so the execution role reads it with the same grant as the data.

    Returns
    -------
    str
        ``s3://<lake>/processed/<table>/_manifests/<UTC time>.manifest``.
    """
    from datalake import runtime
    from datalake.catalog.processed import current_partitions, data_files

    lake = S3ObjectStore(settings.lake_bucket, boto3_session=boto3_session, settings=settings)
    catalog = runtime.catalog(settings, boto3_session)
    prefix = f"{spec.location}/"
    keys = [
        key[len(prefix) :]
        for partition in current_partitions(catalog, lake, spec, settings)
        for key in data_files(lake, partition)
    ]
    if not keys:
        raise DataValidationError("channel", f"{spec.name} has no published data to train on")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    key = f"{prefix}{MANIFESTS_FOLDER}/{stamp}{MANIFEST_SUFFIX}"
    lake.put_bytes(key, json.dumps([{"prefix": lake.uri(prefix) + "/"}, *keys]).encode(), "application/json")
    return lake.uri(key)


def channel_source(channel_uri: str) -> Any:
    """The SDK's data source of a channel: a manifest (``.manifest``) or an S3 prefix."""
    from sagemaker.core.shapes import S3DataSource

    data_type = "ManifestFile" if channel_uri.endswith(MANIFEST_SUFFIX) else "S3Prefix"
    return S3DataSource(
        s3_uri=channel_uri, s3_data_type=data_type, s3_data_distribution_type="FullyReplicated"
    )


def default_output_path(settings: Settings) -> str:
    """Where training jobs write ``<job>/output/model.tar.gz``: the artifacts bucket."""
    return f"s3://{settings.artifacts_bucket}/{SAGEMAKER_PREFIX}/training"


@dataclass(frozen=True)
class TrainingRequest:
    """What to train on, with what, where: the launcher's inputs, defaults from the settings."""

    channel_uri: str
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    instance_type: str | None = None
    role_arn: str | None = None
    output_path: str | None = None
    image_uri: str | None = None
    max_runtime_s: int = 3600
    base_job_name: str = BASE_JOB_NAME
    #: The script the job runs (``movie_success_train.py`` for the movie classifier).
    entry_script: str = TRAIN_SCRIPT
    #: The forecaster's ``weather`` channel (s3:// prefix or manifest): train.py then trains the
    #: weather model, with the model without weather as its fallback.
    weather_channel_uri: str | None = None


@dataclass(frozen=True)
class TrainingResult:
    """The job SageMaker ran (or is running) and where its model archive lands."""

    job_name: str
    job_arn: str
    status: str
    model_artifacts: str
    training_image: str
    hyperparameters: dict[str, str]


def sagemaker_session(
    settings: Settings | None = None, boto3_session: boto3.session.Session | None = None
) -> Any:
    """A SageMaker SDK session on the lake's account, region, endpoint and artifacts bucket.

    The SDK stages code under ``s3://<artifacts>/sagemaker/`` (not the ``sagemaker-<region>-<account>``
    bucket it would create), reads no SDK defaults file (every knob comes from the lake settings)
    and sends no usage telemetry.

    Parameters
    ----------
    settings
        Lake settings; the process-wide ones when omitted.
    boto3_session
        Session whose credentials to use; its clients honour ``AWS_ENDPOINT_URL``.

    Returns
    -------
    sagemaker.core.helper.session_helper.Session
        The SDK session.
    """
    from sagemaker.core.helper.session_helper import Session

    settings = settings or get_settings()
    return Session(
        boto_session=aws.routed_session(settings, boto3_session),
        default_bucket=settings.artifacts_bucket,
        default_bucket_prefix=SAGEMAKER_PREFIX,
        sagemaker_config={
            "SchemaVersion": "1.0",
            "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
        },
    )


def build_trainer(
    request: TrainingRequest,
    source_dir: Path,
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
) -> Any:
    """The ``ModelTrainer`` for one training job of the forecaster.

    Parameters
    ----------
    request
        Channel, hyperparameters and overrides of the settings.
    source_dir
        A folder written by :func:`build_source_bundle`.
    settings, boto3_session
        Lake settings and the session AWS calls go through.

    Returns
    -------
    sagemaker.train.ModelTrainer
        Ready to ``train``; the SDK validates the role against IAM on construction.
    """
    from sagemaker.core.training.configs import Compute, OutputDataConfig, SourceCode, StoppingCondition
    from sagemaker.train import ModelTrainer

    settings = settings or get_settings()
    role = request.role_arn or settings.sagemaker_role_arn
    if not role:
        # Never let the SDK guess the caller's own identity as the job's role.
        raise ConfigurationError("no SageMaker execution role", hint="set SAGEMAKER_ROLE_ARN or pass --role")
    if not request.channel_uri.startswith("s3://"):
        raise DataValidationError("channel", f"expected an s3:// URI, got {request.channel_uri!r}")
    instance_type = request.instance_type or settings.sagemaker_training_instance_type
    return ModelTrainer(
        sagemaker_session=sagemaker_session(settings, boto3_session),
        role=role,
        base_job_name=request.base_job_name,
        training_image=request.image_uri or framework_image("training", settings, instance_type),
        source_code=SourceCode(
            source_dir=str(source_dir), entry_script=request.entry_script, requirements=REQUIREMENTS
        ),
        compute=Compute(instance_type=instance_type, instance_count=1, volume_size_in_gb=30),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=request.max_runtime_s),
        hyperparameters=dict(request.hyperparameters),
        output_data_config=OutputDataConfig(
            s3_output_path=request.output_path or default_output_path(settings), compression_type="GZIP"
        ),
        # The v3 driver reads the entry script from sourcecode.json; the variable names it where
        # DescribeTrainingJob and the console show it, as script mode always has.
        environment={"SAGEMAKER_PROGRAM": request.entry_script},
    )


def train(
    request: TrainingRequest,
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
    *,
    wait: bool = True,
    logs: bool = True,
    scripts_dir: Path = SCRIPTS_DIR,
) -> TrainingResult:
    """Start a SageMaker training job of the forecaster, by default waiting for it to end.

    Parameters
    ----------
    request
        Channel, hyperparameters and overrides of the settings.
    settings, boto3_session
        Lake settings and the session AWS calls go through.
    wait, logs
        Wait for the job (raising if it fails) and stream its CloudWatch logs meanwhile.
    scripts_dir
        Folder holding ``train.py`` and ``inference.py``.

    Returns
    -------
    TrainingResult
        The job's name, ARN, status and model archive URI.
    """
    settings = settings or get_settings()
    from sagemaker.core.training.configs import InputData

    with tempfile.TemporaryDirectory(prefix="datalake-bundle-") as scratch:
        source = build_source_bundle(Path(scratch) / "code", scripts_dir)
        trainer = build_trainer(request, source, settings, boto3_session)
        channels = [InputData(channel_name="train", data_source=channel_source(request.channel_uri))]
        if request.weather_channel_uri:
            if not request.weather_channel_uri.startswith("s3://"):
                raise DataValidationError(
                    "weather_channel", f"expected an s3:// URI, got {request.weather_channel_uri!r}"
                )
            channels.append(
                InputData(
                    channel_name=WEATHER_CHANNEL, data_source=channel_source(request.weather_channel_uri)
                )
            )
        trainer.train(
            input_data_config=channels,
            wait=wait,
            logs=logs and wait,
        )
    # The SDK keeps the job it started here (its documented way to reach it after train()).
    job_name = trainer._latest_training_job.training_job_name
    return describe_training(job_name, settings, boto3_session)


def describe_training(
    job_name: str, settings: Settings | None = None, boto3_session: boto3.session.Session | None = None
) -> TrainingResult:
    """What DescribeTrainingJob says about a job: status, model archive URI, image, hyperparameters."""
    client = aws.client("sagemaker", boto3_session, settings)
    job = client.describe_training_job(TrainingJobName=job_name)
    artifacts = job.get("ModelArtifacts", {}).get("S3ModelArtifacts") or (
        f"{job['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job_name}/output/model.tar.gz"
    )
    return TrainingResult(
        job_name=job_name,
        job_arn=job["TrainingJobArn"],
        status=job["TrainingJobStatus"],
        model_artifacts=artifacts,
        training_image=job["AlgorithmSpecification"].get("TrainingImage", ""),
        hyperparameters=job.get("HyperParameters", {}),
    )


def register_training_job(
    job_name: str,
    registry: Registry,
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
) -> str:
    """Register the model a completed training job wrote as a new registry version.

    The job's ``model.tar.gz`` is unpacked (its ``metrics.json`` gives the version's metrics) and
    registered, so a version has the same record whether trained here or on SageMaker.

    Parameters
    ----------
    job_name
        A ``Completed`` training job.
    registry
        Where to register (normally :func:`datalake.models.model_registry`).
    settings, boto3_session
        Lake settings and the session AWS calls go through.

    Returns
    -------
    str
        The new version id.
    """
    settings = settings or get_settings()
    job = describe_training(job_name, settings, boto3_session)
    if job.status != "Completed":
        raise DataValidationError("training_job", f"{job_name} is {job.status}, not Completed")
    bucket, key = job.model_artifacts[5:].split("/", 1)
    archive = S3ObjectStore(bucket, boto3_session=boto3_session, settings=settings).get_bytes(key)
    with tempfile.TemporaryDirectory(prefix="datalake-model-") as scratch:
        model_dir = unpack_model_archive(archive, Path(scratch))
        metrics_file = model_dir / "metrics.json"
        metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
        details = {
            "training_job": job.job_name,
            "training_job_arn": job.job_arn,
            "training_image": job.training_image,
            "hyperparameters": job.hyperparameters,
            "model_artifacts": job.model_artifacts,
        }
        return registry.register(model_dir, metrics, details)
