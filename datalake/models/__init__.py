"""Model versions with their metrics, and a champion pointer.

Locally (and on S3 for the files) a registry is a prefix of the artifacts bucket:
``models/<name>/versions/<version>/`` holds the model directory plus ``version.json``, and
``models/<name>/champion.json`` names the champion. On AWS the same versions are also
registered as SageMaker model packages (``sagemaker/launch.py``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from datalake.errors import ObjectNotFoundError
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key

FORECASTER = "demand_forecaster"


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
        version = f"v{stamp:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
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
