"""The model registry on AWS: a SageMaker Model Registry group, with the archives in the artifacts bucket.

Same interface as the local :class:`~datalake.models.ModelRegistry`. Layout:

- ``s3://<artifacts>/models/<name>/versions/<version>/model.tar.gz``: the model directory, its
  files at the tar root (what SageMaker unpacks into ``/opt/ml/model``); a directory written by
  ``sagemaker/train.py`` carries ``code/`` (inference.py, requirements, the datalake package),
  which is where the PyTorch serving container looks for the handlers.
- ``.../version.json``: the record (version, created_at, metrics, details), as locally;
  ``.../metrics.json``: the metrics, linked as the package's ``ModelMetrics.ModelQuality``.
- One model package per version in the ``MODEL_PACKAGE_GROUP`` group, created
  ``PendingManualApproval``; its ``CustomerMetadataProperties`` hold the version id and the
  scalar metrics, so the console shows them.

Champion: the ``Approved`` package. :meth:`SageMakerModelRegistry.promote` approves the new one
first and then moves every other ``Approved`` package to ``Rejected`` with an
``ApprovalDescription`` naming its successor, so there is never a moment without a champion and
an approval-driven deployment (EventBridge on status changes) sees the hand-over. Should two be
``Approved`` anyway (someone approved one in the console), the most recently modified wins.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from datalake import aws
from datalake.errors import ObjectNotFoundError
from datalake.models import FORECASTER, new_version
from datalake.models.archive import MODEL_ARCHIVE, pack_model_dir, unpack_model_archive
from datalake.models.images import framework_image
from datalake.settings import Settings, get_settings
from datalake.storage.paths import join_key
from datalake.storage.s3 import S3ObjectStore

if TYPE_CHECKING:
    import boto3

APPROVED, PENDING, REJECTED = "Approved", "PendingManualApproval", "Rejected"
JSON = "application/json"
#: Where the PyTorch serving container finds inference.py: the ``code/`` folder of model.tar.gz.
SERVING_ENVIRONMENT = {
    "SAGEMAKER_PROGRAM": "inference.py",
    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
    "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
}
# Service limits of CustomerMetadataProperties: 50 entries, keys <= 128 and values <= 256 chars.
_MAX_PROPERTIES, _MAX_KEY, _MAX_VALUE = 50, 128, 256
_MAX_DESCRIPTION = 1024  # ApprovalDescription


def _metric_properties(metrics: dict[str, Any]) -> dict[str, str]:
    """Scalar metrics as ``metric:<name>`` properties; the full set lives in metrics.json."""
    out: dict[str, str] = {}
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float | str) or value == "":
            continue
        name, text = f"metric:{key}"[:_MAX_KEY], str(value)[:_MAX_VALUE]
        if len(out) < _MAX_PROPERTIES - 5:  # leave room for version, promoted_at, superseded_by
            out[name] = text
    return out


def _split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key


def family_group(base_group: str, name: str) -> str:
    """The model package group of a model family: ``MODEL_PACKAGE_GROUP`` for the forecaster,
    ``<MODEL_PACKAGE_GROUP>-<family>`` for any other, so promoting one family's champion never
    rejects another's (approval is per group)."""
    return base_group if name == FORECASTER else f"{base_group}-{name.replace('_', '-')}"


class SageMakerModelRegistry:
    """Versions of one model family as model packages in a SageMaker Model Registry group."""

    def __init__(
        self,
        settings: Settings | None = None,
        boto3_session: boto3.session.Session | None = None,
        name: str = FORECASTER,
        group: str | None = None,
        *,
        image_uri: str | None = None,
        sagemaker_client: Any | None = None,
        store: S3ObjectStore | None = None,
    ) -> None:
        """Bind the registry to a group and the artifacts bucket.

        Parameters
        ----------
        settings
            Lake settings; the process-wide ones when omitted.
        boto3_session
            Session every AWS client is built from (endpoint override honoured).
        name
            Model family; the key prefix ``models/<name>`` in the artifacts bucket.
        group
            Model package group; :func:`family_group` of ``MODEL_PACKAGE_GROUP`` when omitted.
        image_uri
            Serving image of new packages; resolved from the settings at :meth:`register` when
            omitted (reading the registry needs no image and no SageMaker SDK).
        sagemaker_client, store
            Ready-made SageMaker client and artifacts store (tests, reuse).
        """
        self.settings = settings or get_settings()
        self.name = name
        self.group = group or family_group(self.settings.model_package_group, name)
        self.image_uri = image_uri
        self._session = boto3_session
        self.client = sagemaker_client or aws.client("sagemaker", boto3_session, self.settings)
        self.store = store or S3ObjectStore(
            self.settings.artifacts_bucket, boto3_session=boto3_session, settings=self.settings
        )
        self.prefix = join_key("models", name)

    # -- writing -----------------------------------------------------------------------------

    def _version_prefix(self, version: str) -> str:
        return join_key(self.prefix, "versions", version)

    def register(
        self, model_dir: Path, metrics: dict[str, Any], details: dict[str, Any] | None = None
    ) -> str:
        """Upload a model directory as ``model.tar.gz`` and register it as a new model package.

        Parameters
        ----------
        model_dir
            The model directory (``TransformerForecaster.save`` output, with ``code/`` when
            written by ``sagemaker/train.py``).
        metrics
            Scores to keep with the version.
        details
            Anything else to keep in the version record (data, training job, hyperparameters).

        Returns
        -------
        str
            The version id (time-ordered, as in the local registry); the package is
            ``PendingManualApproval`` until :meth:`promote`.
        """
        stamp = dt.datetime.now(dt.UTC)
        version = new_version(stamp)
        prefix = self._version_prefix(version)
        image = self.image_uri or framework_image("inference", self.settings)
        record = {"version": version, "created_at": stamp.isoformat(), "metrics": metrics, **(details or {})}
        # Files first, package last: a package never points at an archive that is not there.
        model_url = self.store.put_bytes(
            join_key(prefix, MODEL_ARCHIVE), pack_model_dir(model_dir), "application/gzip"
        )
        metrics_url = self.store.put_json(join_key(prefix, "metrics.json"), metrics)
        self.store.put_json(join_key(prefix, "version.json"), record)
        self._ensure_group()
        container: dict[str, Any] = {
            "Image": image,
            "ModelDataUrl": model_url,
            "Environment": {**SERVING_ENVIRONMENT, "SAGEMAKER_REGION": self.settings.aws_region},
        }
        if not self.image_uri and not self.settings.sagemaker_inference_image:
            container.update(Framework="PYTORCH", FrameworkVersion=self.settings.sagemaker_framework_version)
        self.client.create_model_package(
            ModelPackageGroupName=self.group,
            ModelPackageDescription=f"{self.name} {version}",
            InferenceSpecification={
                "Containers": [container],
                "SupportedContentTypes": [JSON],
                "SupportedResponseMIMETypes": [JSON],
                "SupportedRealtimeInferenceInstanceTypes": [self.settings.sagemaker_inference_instance_type],
            },
            ModelApprovalStatus=PENDING,
            ModelMetrics={"ModelQuality": {"Statistics": {"ContentType": JSON, "S3Uri": metrics_url}}},
            CustomerMetadataProperties={"version": version, **_metric_properties(metrics)},
            # The version id as idempotency token: a retried call cannot register it twice.
            ClientToken=version,
        )
        return version

    def _ensure_group(self) -> None:
        try:
            self.client.describe_model_package_group(ModelPackageGroupName=self.group)
            return
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ValidationException":
                raise
        try:
            self.client.create_model_package_group(
                ModelPackageGroupName=self.group,
                ModelPackageGroupDescription=f"Versions of the {self.name} (datalake model registry)",
            )
        except ClientError as error:
            # Another registration created it in between: that is the state we wanted.
            if "already exists" not in str(error):
                raise

    def promote(self, version: str, reason: str) -> None:
        """Make ``version`` the champion: approve its package, reject the previous champion.

        Parameters
        ----------
        version
            A registered version id.
        reason
            Why; becomes the package's ``ApprovalDescription``.
        """
        target = self._package(version)
        now = dt.datetime.now(dt.UTC).isoformat()
        self._update(target, APPROVED, reason, promoted_at=now)
        for package in self._packages(APPROVED):
            if package["ModelPackageArn"] != target["ModelPackageArn"]:
                self._update(
                    package,
                    REJECTED,
                    f"replaced as champion by {version} at {now}: {reason}",
                    superseded_by=version,
                )

    def _update(self, package: dict[str, Any], status: str, description: str, **properties: str) -> None:
        # The current properties go back with every update: moto replaces them with what is sent
        # (dropping them when absent), AWS merges; sending them keeps both right.
        self.client.update_model_package(
            ModelPackageArn=package["ModelPackageArn"],
            ModelApprovalStatus=status,
            ApprovalDescription=description[:_MAX_DESCRIPTION],
            CustomerMetadataProperties={**package.get("CustomerMetadataProperties", {}), **properties},
        )

    # -- reading -----------------------------------------------------------------------------

    def _packages(self, status: str | None = None) -> list[dict[str, Any]]:
        """Descriptions of this family's packages in the group, oldest first."""
        filters = {"ModelApprovalStatus": status} if status else {}
        arns = []
        try:
            paginator = self.client.get_paginator("list_model_packages")
            for page in paginator.paginate(ModelPackageGroupName=self.group, **filters):
                arns += [s["ModelPackageArn"] for s in page.get("ModelPackageSummaryList", [])]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ValidationException":
                return []  # no group yet
            raise
        packages = [self.client.describe_model_package(ModelPackageName=arn) for arn in arns]
        # Packages someone else put in the group carry no version id: not ours to list.
        ours = [p for p in packages if "version" in p.get("CustomerMetadataProperties", {})]
        return sorted(ours, key=lambda p: p.get("ModelPackageVersion", 0))

    def _package(self, version: str) -> dict[str, Any]:
        for package in self._packages():
            if package["CustomerMetadataProperties"]["version"] == version:
                return package
        known = ", ".join(r["version"] for r in self.versions()) or "none"
        raise ObjectNotFoundError(
            f"no {self.name} version {version!r} in group {self.group} (known: {known})"
        )

    def _record(self, package: dict[str, Any]) -> dict[str, Any]:
        version = package["CustomerMetadataProperties"]["version"]
        record = self.store.get_json(join_key(self._version_prefix(version), "version.json"))
        return {
            **record,
            "model_package_arn": package["ModelPackageArn"],
            "model_package_version": package.get("ModelPackageVersion"),
            "approval_status": package.get("ModelApprovalStatus"),
            "approval_description": package.get("ApprovalDescription"),
            "model_data_url": package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"],
        }

    def versions(self) -> list[dict[str, Any]]:
        """Every version's record, oldest first, with its package ARN and approval status."""
        return sorted((self._record(p) for p in self._packages()), key=lambda r: r["version"])

    def get(self, version: str) -> dict[str, Any]:
        """One version's record; :class:`~datalake.errors.ObjectNotFoundError` names the known ones."""
        return self._record(self._package(version))

    def champion(self) -> dict[str, Any] | None:
        """The ``Approved`` version's record, or None before the first promotion."""
        approved = self._packages(APPROVED)
        if not approved:
            return None
        latest = max(approved, key=lambda p: p.get("LastModifiedTime") or p["CreationTime"])
        return self._record(latest)

    def fetch(self, version: str, destination: Path) -> Path:
        """Download a version's ``model.tar.gz`` and unpack it into ``destination``.

        Parameters
        ----------
        version
            A registered version id.
        destination
            Local folder; receives the model directory exactly as registered.

        Returns
        -------
        pathlib.Path
            ``destination``.
        """
        url = self.get(version)["model_data_url"]
        bucket, key = _split_s3_uri(url)
        store = (
            self.store
            if bucket == self.store.bucket
            else S3ObjectStore(bucket, boto3_session=self._session, settings=self.settings)
        )
        return unpack_model_archive(store.get_bytes(key), Path(destination))
