"""Model versions with their metrics, and a champion pointer.

Locally (and on S3 for the files) a registry is a prefix of the artifacts bucket:
``models/<name>/versions/<version>/`` holds the model directory plus ``version.json``, and
``models/<name>/champion.json`` names the champion. On AWS the registry is a SageMaker Model
Registry group instead (:class:`~datalake.models.sagemaker_registry.SageMakerModelRegistry`, the
same interface); :func:`model_registry` picks one by ``LAKE_RUNTIME``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from datalake.errors import ObjectNotFoundError
from datalake.settings import Settings, get_settings
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key

if TYPE_CHECKING:
    import boto3

FORECASTER = "demand_forecaster"


def new_version(now: dt.datetime | None = None) -> str:
    """A version id that sorts by creation time: ``vYYYYMMDDTHHMMSS-<6 hex>``."""
    stamp = now or dt.datetime.now(dt.UTC)
    return f"v{stamp:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


class Registry(Protocol):
    """What every model registry offers: versions with metrics, and one champion."""

    name: str

    def register(
        self, model_dir: Path, metrics: dict[str, Any], details: dict[str, Any] | None = None
    ) -> str: ...

    def versions(self) -> list[dict[str, Any]]: ...

    def get(self, version: str) -> dict[str, Any]: ...

    def champion(self) -> dict[str, Any] | None: ...

    def promote(self, version: str, reason: str) -> None: ...

    def fetch(self, version: str, destination: Path) -> Path: ...


def model_registry(
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
    name: str = FORECASTER,
) -> Registry:
    """The registry of the configured runtime.

    Parameters
    ----------
    settings
        Lake settings; the process-wide ones when omitted.
    boto3_session
        AWS runtime only: the session every client is built from.
    name
        Model family.

    Returns
    -------
    Registry
        ``local``: a :class:`ModelRegistry` in the artifacts folder under the lake root.
        ``aws``: a :class:`~datalake.models.sagemaker_registry.SageMakerModelRegistry` on the
        ``MODEL_PACKAGE_GROUP`` group, with the archives in the artifacts bucket.
    """
    settings = settings or get_settings()
    if settings.lake_runtime == "aws":
        from datalake.models.sagemaker_registry import SageMakerModelRegistry

        return SageMakerModelRegistry(settings=settings, boto3_session=boto3_session, name=name)
    from datalake import runtime

    return ModelRegistry(runtime.object_store("artifacts", settings), name)


class ModelRegistry:
    """Versions of one model family in an object store, and which one is champion."""

    def __init__(self, store: ObjectStore, name: str = FORECASTER) -> None:
        self.store = store
        self.name = name
        self.prefix = join_key("models", name)

    def _version_prefix(self, version: str) -> str:
        return join_key(self.prefix, "versions", version)

    def register(
        self, model_dir: Path, metrics: dict[str, Any], details: dict[str, Any] | None = None
    ) -> str:
        """Copy a model directory in as a new version; returns the version id (time-ordered)."""
        stamp = dt.datetime.now(dt.UTC)
        version = new_version(stamp)
        for path in sorted(Path(model_dir).rglob("*")):
            if path.is_file():
                key = join_key(self._version_prefix(version), path.relative_to(model_dir).as_posix())
                self.store.put_bytes(key, path.read_bytes())
        record = {"version": version, "created_at": stamp.isoformat(), "metrics": metrics, **(details or {})}
        self.store.put_json(join_key(self._version_prefix(version), "version.json"), record)
        return version

    def versions(self) -> list[dict[str, Any]]:
        """Every version's record, oldest first."""
        keys = [
            k for k in self.store.list_keys(join_key(self.prefix, "versions")) if k.endswith("/version.json")
        ]
        return sorted((self.store.get_json(k) for k in keys), key=lambda r: r["version"])

    def get(self, version: str) -> dict[str, Any]:
        key = join_key(self._version_prefix(version), "version.json")
        if not self.store.exists(key):
            known = ", ".join(r["version"] for r in self.versions()) or "none"
            raise ObjectNotFoundError(f"no {self.name} version {version!r} (known: {known})")
        return self.store.get_json(key)

    def champion(self) -> dict[str, Any] | None:
        """The champion's record, or None before the first promotion."""
        key = join_key(self.prefix, "champion.json")
        if not self.store.exists(key):
            return None
        return self.get(self.store.get_json(key)["version"])

    def promote(self, version: str, reason: str) -> None:
        """Make ``version`` the champion."""
        self.get(version)
        self.store.put_json(
            join_key(self.prefix, "champion.json"),
            {"version": version, "promoted_at": dt.datetime.now(dt.UTC).isoformat(), "reason": reason},
        )

    def fetch(self, version: str, destination: Path) -> Path:
        """Copy a version's model directory to ``destination`` (a local folder) and return it."""
        self.get(version)
        prefix = self._version_prefix(version) + "/"
        destination = Path(destination)
        for key in self.store.list_keys(prefix):
            target = destination / key[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.store.get_bytes(key))
        return destination
