"""One PostgreSQL connection pool per process: per uvicorn worker, per Lambda container.

The pool is opened on first use, not at import or start-up, so a process whose database is
down still starts and answers ``/health`` (which then says why it is not ready). A Lambda
container keeps the pool between invocations: the module-level app in
:mod:`api.lambda_handler` owns it, and Mangum's per-invocation lifespan is off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from datalake.errors import WarehouseUnavailableError
from datalake.settings import Settings
from datalake.warehouse.connection import database_url, describe_target

logger = logging.getLogger(__name__)


class Database:
    """A lazily opened :class:`psycopg_pool.ConnectionPool` with the lake's session settings.

    Parameters
    ----------
    settings
        Source of the URL (``DATABASE_URL``, the Secrets Manager secret or the embedded
        server), the connect and statement timeouts and ``API_DB_POOL_SIZE``.
    url
        A URL to use instead of resolving one from ``settings`` (tests, the benchmark).
    boto3_session
        For the Secrets Manager lookup of the credentials on AWS.
    url_factory
        Called once, when the pool opens, for the URL (the /ask reader's pool).
    read_only
        Make every transaction READ ONLY by default (a guard, like ``connect(read_only=True)``).
    name
        Shown in logs and ``pg_stat_activity``.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        url: str | None = None,
        boto3_session: Any | None = None,
        url_factory: Callable[[], str] | None = None,
        read_only: bool = False,
        name: str = "datalake-api",
    ) -> None:
        self.settings = settings
        self._url = url
        self._url_factory = url_factory
        self._boto3_session = boto3_session
        self.read_only = read_only
        self.name = name
        self._pool: ConnectionPool | None = None
        self._lock = threading.Lock()
        #: How many pools this object has opened (once per process, unless one failed to open).
        self.pools_opened = 0

    @property
    def is_open(self) -> bool:
        """Whether the pool has been opened (the first query opens it)."""
        return self._pool is not None

    def pool(self) -> ConnectionPool:
        """The pool, opened (and the URL resolved) on the first call.

        Raises
        ------
        WarehouseUnavailableError
            When no connection can be made within the connect timeout; the next call tries again.
        """
        pool = self._pool
        if pool is not None:
            return pool
        with self._lock:
            if self._pool is None:
                self._pool = self._open()
            return self._pool

    def _open(self) -> ConnectionPool:
        settings = self.settings
        if self._url:
            url = self._url
        elif self._url_factory is not None:
            url = self._url_factory()
        else:
            url = database_url(settings, boto3_session=self._boto3_session)
        pool = ConnectionPool(
            url,
            min_size=1,
            max_size=settings.api_db_pool_size,
            open=False,
            name=self.name,
            kwargs={
                "autocommit": True,
                "connect_timeout": settings.db_connect_timeout_s,
                "application_name": self.name,
            },
            configure=_session_setup(settings, self.read_only),
            # A Lambda container may sleep for minutes: check a connection before handing it out.
            check=ConnectionPool.check_connection,
            timeout=settings.db_connect_timeout_s,
        )
        try:
            pool.open(wait=True, timeout=settings.db_connect_timeout_s)
        except PoolTimeout:
            pool.close()
            raise WarehouseUnavailableError(
                f"cannot connect to PostgreSQL at {describe_target(url)} within "
                f"{settings.db_connect_timeout_s} s",
                hint="check that the server runs and DATABASE_URL / the secret point at it",
            ) from None
        self.pools_opened += 1
        logger.info(
            "opened a PostgreSQL pool to %s (max %d)", describe_target(url), settings.api_db_pool_size
        )
        return pool

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A pooled autocommit connection; open a transaction with ``conn.transaction()`` to write.

        Raises
        ------
        WarehouseUnavailableError
            No connection within ``timeout`` (the connect timeout by default), or the server
            went away during the block.
        """
        wait = self.settings.db_connect_timeout_s if timeout is None else timeout
        try:
            with self.pool().connection(timeout=wait) as conn:
                yield conn
        except PoolTimeout:
            raise WarehouseUnavailableError(
                f"no PostgreSQL connection free within {wait} s (pool of {self.settings.api_db_pool_size})"
            ) from None
        except psycopg.OperationalError as error:
            raise WarehouseUnavailableError(f"PostgreSQL failed: {' '.join(str(error).split())}") from None

    def close(self) -> None:
        """Close the pool (the next use opens a new one)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


def _session_setup(settings: Settings, read_only: bool) -> Callable[[psycopg.Connection[Any]], None]:
    def configure(conn: psycopg.Connection[Any]) -> None:
        # As datalake.warehouse.connect does: statement limit, UTC timestamps back, read-only default.
        conn.execute(
            "SELECT set_config('statement_timeout', %s, false), set_config('TimeZone', 'UTC', false),"
            " set_config('default_transaction_read_only', %s, false)",
            (str(settings.db_statement_timeout_ms), "on" if read_only else "off"),
        )

    return configure
