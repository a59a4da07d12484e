"""/health: public probes say only ok or not; the detail (checks, errors, tables) needs the API key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api_fixtures import fake_services
from fastapi.testclient import TestClient

from api.main import create_app
from api.services.db import Database
from datalake.errors import ObjectNotFoundError
from datalake.settings import Settings

KEY = "health-key-0123456789"
BROKEN_DATABASE = "postgresql://lake_owner:pw@db-internal.example.invalid:5432/lake"
# What no public body may carry: table names, error text, host names, versions.
SECRETS = [
    "demand_hourly",
    "predictions",
    "generation",
    "db-internal",
    "example.invalid",
    "champion",
    "PostgreSQL",
    "error",
    "version",
    "0.1.0",
    "datalake_processed",
]


def _missing_model(_dest: Path) -> Any:
    raise ObjectNotFoundError("no demand_forecaster champion yet: run `datalake forecast train` first")


def test_finding_9_public_health_says_only_ok_or_not_and_the_detail_needs_the_key(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        lake_root=tmp_path / "lake",
        db_connect_timeout_s=1,
        database_url=BROKEN_DATABASE,
        api_key=KEY,
    )
    services = fake_services(settings, tmp_path, load_champion=_missing_model)
    services.database = Database(settings, url=BROKEN_DATABASE)  # not the fixtures' unreachable port
    with TestClient(create_app(settings, services)) as client:
        live = client.get("/health/live")
        assert live.status_code == 200 and live.json() == {"status": "ok"}
        for path in ("/health", "/health/ready"):
            public = client.get(path)
            assert public.status_code == 503 and public.json() == {"status": "unavailable"}, path
            assert not [word for word in SECRETS if word.lower() in public.text.lower()], public.text
        assert client.get("/health/details").status_code == 401
        assert client.get("/health/details", headers={"X-API-Key": "wrong"}).status_code == 401
        detail = client.get("/health/details", headers={"X-API-Key": KEY})
    assert detail.status_code == 200
    report = detail.json()
    checks = report["readiness"]["checks"]
    assert report["status"] == "degraded" and report["readiness"]["ready"] is False
    assert checks["database"]["ok"] is False and "db-internal.example.invalid" in checks["database"]["error"]
    assert checks["model"]["ok"] is False and "champion" in checks["model"]["error"]
    assert "demand_hourly" in checks["catalog"]["tables"]
