"""Serve the store-sales champion from a SageMaker endpoint (``launch.py deploy --model store-sales``).

The API Lambda cannot load the model (its layers have neither scikit-learn nor MLflow), so on AWS
``POST /predict/sales`` calls an endpoint instead, as ``/predict`` calls the movie-success one. The
champion lives in the MLflow registry (alias ``champion`` of ``store_sales``), not in a SageMaker
model package group, so a deployment packs it itself: the model file, ``version.json`` (the MLflow
version and alias, which every answer reports) and ``code/`` with ``sales_inference.py`` as
``inference.py``; uploads the archive to ``models/store_sales/versions/<version>/model.tar.gz`` in
the artifacts bucket (where the execution role reads registered models); and points the endpoint at
a new model of it. The model reads no warehouse (its stores and sales history travel inside it), so
the endpoint needs no VPC.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datalake.errors import DataValidationError
from datalake.sales import MODEL_NAME
from datalake.settings import Settings, get_settings
from datalake.storage.paths import join_key

if TYPE_CHECKING:
    import boto3

    from datalake.models.sagemaker_hosting import Deployment
    from datalake.sales.predict import LoadedModel

#: The handler packed as the model's ``code/inference.py``.
INFERENCE_SOURCE = "sales_inference.py"
#: The MLflow version and alias a packed model was taken from.
VERSION_FILE = "version.json"
#: Where the endpoint's archives go in the artifacts bucket (the execution role reads ``models/*``).
ARCHIVE_PREFIX = join_key("models", MODEL_NAME, "versions")
#: The endpoint ``launch.py deploy --model store-sales`` uses when SALES_ENDPOINT is unset.
DEFAULT_ENDPOINT = "datalake-store-sales"


def package_champion(model_dir: Path, loaded: LoadedModel, scripts_dir: Path | None = None) -> Path:
    """Write a ``model.tar.gz``-ready directory of a loaded version: model, ``version.json``, ``code/``.

    Parameters
    ----------
    model_dir
        Folder to fill (created; an old ``code/`` is replaced).
    loaded
        The version (:func:`datalake.sales.predict.load_alias`).
    scripts_dir
        The repo's ``sagemaker/`` folder (the launcher passes its own).

    Returns
    -------
    pathlib.Path
        ``model_dir``.
    """
    from datalake.models.bundle import INFERENCE_SCRIPT, SCRIPTS_DIR, build_source_bundle

    scripts_dir = scripts_dir or SCRIPTS_DIR
    model_dir.mkdir(parents=True, exist_ok=True)
    loaded.model.save(model_dir)
    (model_dir / VERSION_FILE).write_text(
        json.dumps({"model": MODEL_NAME, "version": loaded.version, "alias": loaded.alias}) + "\n"
    )
    code = model_dir / "code"
    if code.exists():
        shutil.rmtree(code)
    build_source_bundle(code, scripts_dir)
    shutil.copy2(Path(scripts_dir) / INFERENCE_SOURCE, code / INFERENCE_SCRIPT)
    return model_dir


def load_packed(model_dir: Path) -> LoadedModel:
    """The version a directory written by :func:`package_champion` holds (the endpoint's ``model_fn``).

    Raises
    ------
    DataValidationError
        No ``version.json`` (field ``model_dir``): the answers could not say which version made them.
    """
    from datalake.sales.model import SalesModel
    from datalake.sales.predict import LoadedModel

    record = Path(model_dir) / VERSION_FILE
    if not record.is_file():
        raise DataValidationError("model_dir", f"{model_dir} has no {VERSION_FILE}")
    meta = json.loads(record.read_text())
    return LoadedModel(SalesModel.load(Path(model_dir)), str(meta["version"]), str(meta["alias"]))


def archive_key(version: str) -> str:
    """Key of a version's ``model.tar.gz`` in the artifacts bucket."""
    from datalake.models.archive import MODEL_ARCHIVE

    return join_key(ARCHIVE_PREFIX, version, MODEL_ARCHIVE)


def deploy_champion(
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
    *,
    endpoint_name: str | None = None,
    instance_type: str | None = None,
    role_arn: str | None = None,
    wait: bool = False,
    alias: str = "champion",
    scripts_dir: Path | None = None,
    loaded: LoadedModel | None = None,
) -> Deployment:
    """Pack the MLflow version behind ``alias``, upload it, and serve it on ``SALES_ENDPOINT``.

    Parameters
    ----------
    settings, boto3_session
        Lake settings (``MLFLOW_TRACKING_URI``: the tracking server; ``ARTIFACTS_BUCKET``) and the
        session AWS calls go through.
    endpoint_name, instance_type, role_arn
        Overrides of ``SALES_ENDPOINT`` (default ``datalake-store-sales``),
        ``SAGEMAKER_INFERENCE_INSTANCE_TYPE`` and ``SAGEMAKER_ROLE_ARN``.
    wait
        Wait until the endpoint is ``InService``.
    alias
        The registry alias to serve.
    scripts_dir
        The repo's ``sagemaker/`` folder.
    loaded
        The version to serve instead of reading ``alias`` from MLflow (tests).

    Returns
    -------
    Deployment
        The names created; ``model_package_arn`` is the archive's URI.
    """
    from datalake.models.archive import pack_model_dir
    from datalake.models.images import framework_image
    from datalake.models.sagemaker_hosting import serve_container
    from datalake.sales.predict import load_alias
    from datalake.storage.s3 import S3ObjectStore

    settings = settings or get_settings()
    loaded = loaded or load_alias(alias, settings)
    endpoint = endpoint_name or settings.sales_endpoint or DEFAULT_ENDPOINT
    with tempfile.TemporaryDirectory(prefix="datalake-sales-model-") as scratch:
        archive = pack_model_dir(package_champion(Path(scratch) / "model", loaded, scripts_dir))
    key = archive_key(loaded.version)
    artifacts = S3ObjectStore(settings.artifacts_bucket, boto3_session=boto3_session, settings=settings)
    artifacts.put_bytes(key, archive, "application/gzip")
    instance = instance_type or settings.sagemaker_inference_instance_type
    container: dict[str, Any] = {
        "Image": framework_image("inference", settings, instance),
        "ModelDataUrl": artifacts.uri(key),
        "Environment": {"LAKE_RUNTIME": "aws"},
    }
    return serve_container(
        container,
        endpoint,
        loaded.version,
        settings,
        boto3_session,
        package_version=int(loaded.version) if loaded.version.isdigit() else None,
        instance_type=instance,
        role_arn=role_arn,
        wait=wait,
        source=artifacts.uri(key),
    )
