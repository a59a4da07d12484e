"""The shared (PostgreSQL) rate limit falls back to a bucket in memory when the database is away."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from api_fixtures import fake_services
from fastapi.testclient import TestClient

from api.main import create_app
from api.services.db import Database
from api.services.rate_limits import PostgresRateLimiter
from datalake.settings import Settings


def test_finding_7_postgres_limit_without_a_database_still_limits_in_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        _env_file=None,
        lake_root=tmp_path / "lake",
        db_connect_timeout_s=1,
        api_key="k",
        api_rate_limit_per_minute=2,
        api_rate_limit_backend="postgres",
    )
    services = fake_services(settings, tmp_path)
    assert isinstance(services.limiter, PostgresRateLimiter)
    services.limiter.database = Database(settings, url="postgresql://nobody@127.0.0.1:9/none")
    with caplog.at_level(logging.WARNING), TestClient(create_app(settings, services)) as client:
        statuses = [client.get("/ask", params={"q": "demanda"}).status_code for _ in range(4)]
    assert statuses == [401, 401, 429, 429]
    warnings = [r for r in caplog.records if "rate limit" in r.getMessage() and r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]  # once per outage, not per request
    assert "in memory" in warnings[0].getMessage()
