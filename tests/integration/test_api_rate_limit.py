"""The rate limit against a real uvicorn server on loopback, and shared between workers through PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from api.server import APP, uvicorn_options
from api.services import Services
from api.services.db import Database
from api.services.rate_limits import TABLE, PostgresRateLimiter
from datalake.settings import Settings, get_settings
from datalake.warehouse.roles import ensure_reader_role

pytest_plugins = ["warehouse_fixtures"]
KEY = "rate-limit-key"
LIMIT = 3


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """The app on a real uvicorn server on a free loopback port, configured as ``datalake serve`` does."""
    options = uvicorn_options(
        settings, host="127.0.0.1", port=0, workers=1, reload=False, log_level="warning"
    )
    server = uvicorn.Server(uvicorn.Config(APP, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _rotating_statuses(base: str, count: int) -> list[int]:
    with httpx.Client(base_url=base, timeout=10) as client:
        return [
            client.get(
                "/ask", params={"q": "demanda"}, headers={"X-Forwarded-For": f"203.0.113.{i}"}
            ).status_code
            for i in range(count)
        ]


@pytest.fixture
def api_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """What the factory reads: a key (so requests stop at the key check), a limit, no database."""
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    monkeypatch.setenv("API_KEY", KEY)
    monkeypatch.setenv("API_RATE_LIMIT_PER_MINUTE", str(LIMIT))


def test_finding_7_rotating_x_forwarded_for_from_loopback_hits_the_limit(
    api_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    get_settings.cache_clear()
    with served(get_settings()) as base:
        statuses = _rotating_statuses(base, LIMIT + 3)
    assert statuses == [401] * LIMIT + [429] * 3, statuses


def test_finding_7_a_trusted_load_balancer_forwards_each_client(
    api_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: trusting loopback (a proxy there) makes each forwarded address its own client."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1/32")
    get_settings.cache_clear()
    with served(get_settings()) as base:
        statuses = _rotating_statuses(base, LIMIT + 3)
    assert statuses == [401] * (LIMIT + 3), statuses


def _postgres_settings(pg_settings: Settings, backend: str) -> Settings:
    return pg_settings.model_copy(
        update={
            "api_key": SecretStr(KEY),
            "api_rate_limit_per_minute": LIMIT,
            "api_rate_limit_backend": backend,
            "ask_engine": "lake",
        }
    )


def _alternating_statuses(settings: Settings, count: int) -> list[int]:
    """Requests from one client, alternating between two app instances (two workers)."""
    client = (f"198.51.100.{uuid.uuid4().int % 250 + 1}", 50000)
    first, second = (create_app(settings, Services.from_settings(settings)) for _ in range(2))
    with TestClient(first, client=client) as one, TestClient(second, client=client) as two:
        return [(one, two)[i % 2].get("/ask", params={"q": "demanda"}).status_code for i in range(count)]


def test_finding_7_two_workers_share_one_postgres_bucket(pg_settings: Settings) -> None:
    shared = _alternating_statuses(_postgres_settings(pg_settings, "postgres"), 2 * LIMIT)
    assert shared == [401] * LIMIT + [429] * LIMIT, shared
    # In memory each worker has its own bucket: the same requests all pass the limit.
    apart = _alternating_statuses(_postgres_settings(pg_settings, "memory"), 2 * LIMIT)
    assert apart == [401] * (2 * LIMIT), apart


def test_finding_7_the_ask_reader_cannot_read_the_buckets(
    pg_settings: Settings, pg_conn: psycopg.Connection[Any], role_name: str
) -> None:
    _alternating_statuses(_postgres_settings(pg_settings, "postgres"), 1)  # creates the table
    ensure_reader_role(pg_conn, role_name)
    assert pg_conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0] >= 1  # type: ignore[index]
    # Buckets are keyed by a digest: no client address is stored.
    assert not pg_conn.execute(f"SELECT 1 FROM {TABLE} WHERE client LIKE %s", ("%198.51.100.%",)).fetchone()
    with pytest.raises(psycopg.errors.InsufficientPrivilege), pg_conn.transaction():
        pg_conn.execute(f'SET LOCAL ROLE "{role_name}"')
        pg_conn.execute(f"SELECT * FROM {TABLE}")


def test_the_shared_bucket_hands_out_exactly_its_tokens_under_concurrent_hits(pg_settings: Settings) -> None:
    settings = pg_settings.model_copy(update={"api_db_pool_size": 8})
    workers = [PostgresRateLimiter(Database(settings), per_minute=10) for _ in range(2)]
    client = f"ip:concurrent-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(16) as pool:
        waits = list(pool.map(lambda i: workers[i % 2].hit(client), range(40)))
    for worker in workers:
        assert not worker.in_memory  # every hit was counted in PostgreSQL, none in memory
        worker.database.close()
    assert sum(wait is None for wait in waits) == 10
    assert all(0 < wait <= 6.0 for wait in waits if wait is not None)  # 1 token = 6 s at 10/min
