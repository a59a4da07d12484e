"""Fixtures for the warehouse tests: one real embedded PostgreSQL for the whole session.

Imported by the test modules that need them (tests/integration/conftest.py belongs to
the object store tests).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from datalake.settings import Settings, get_settings
from datalake.storage.local import LocalObjectStore
from datalake.warehouse import EmbeddedPostgres, connect


@contextmanager
def scratch_dir() -> Iterator[Path]:
    """A temp dir *outside* pytest's basetemp, removed afterwards.

    Run as root, the library starts PostgreSQL as a ``pgserver`` user and opens the data
    directory's parents to it; pytest resets ``/tmp/pytest-of-<user>`` to 0700 whenever a
    session starts, which would lock a running server out of its own files.
    """
    path = Path(tempfile.mkdtemp(prefix="datalake-pg-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def pg_dir() -> Iterator[Path]:
    """A lake root for a test that runs its own server (see :func:`scratch_dir`)."""
    with scratch_dir() as path:
        yield path


@pytest.fixture(scope="session")
def embedded_pg() -> Iterator[EmbeddedPostgres]:
    """A running embedded server for the session, stopped at the end of it."""
    with scratch_dir() as path:
        server = EmbeddedPostgres(path / "_pg")
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def pg_settings(tmp_path: Path, embedded_pg: EmbeddedPostgres) -> Settings:
    """Local settings whose DATABASE_URL is the session server."""
    return Settings(
        _env_file=None,
        lake_runtime="local",
        lake_root=tmp_path / "lake",
        database_url=embedded_pg.url,
        db_connect_timeout_s=5,
        db_statement_timeout_ms=30_000,
    )


@pytest.fixture
def warehouse_lake(
    pg_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., LocalObjectStore]]:
    """A maker of the local lake that ``sync_dataset`` mirrors into the session's PostgreSQL.

    ``warehouse_lake("demand_hourly", ...)`` points the process's settings (``LAKE_ROOT``,
    ``DATABASE_URL``) at ``pg_settings``, drops those ``public`` tables so that the test starts
    without them (the server outlives the test), and returns the lake's store. The cached
    settings are cleared again after the test.
    """

    def make(*dropped_tables: str) -> LocalObjectStore:
        monkeypatch.setenv("LAKE_ROOT", str(pg_settings.lake_root))
        monkeypatch.setenv("DATABASE_URL", pg_settings.database_url or "")
        get_settings.cache_clear()
        if dropped_tables:
            names = sql.SQL(", ").join(sql.Identifier("public", table) for table in dropped_tables)
            with psycopg.connect(pg_settings.database_url or "", autocommit=True) as conn:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(names))
        return LocalObjectStore(pg_settings.lake_root)

    yield make
    get_settings.cache_clear()


@pytest.fixture
def pg_conn(pg_settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection as the server's superuser (the loader), closed after the test.

    Autocommit, as a loader would use it: each warehouse call then commits its own
    transaction instead of nesting in the one psycopg opens implicitly.
    """
    conn = connect(pg_settings.database_url or "", settings=pg_settings, autocommit=True)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def pg_schema(pg_settings: Settings) -> Iterator[str]:
    """A fresh schema per test, so tests share the server but never each other's tables."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    with connect(pg_settings.database_url or "", settings=pg_settings, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    yield name
    with connect(pg_settings.database_url or "", settings=pg_settings, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def role_name(pg_settings: Settings) -> Iterator[str]:
    """A unique role name; the role (if the test made it) and its grants go afterwards."""
    name = f"reader_{uuid.uuid4().hex[:10]}"
    yield name
    with connect(pg_settings.database_url or "", settings=pg_settings, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
