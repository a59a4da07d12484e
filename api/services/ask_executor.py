"""/ask's SQL through a pool of connections logged in as the read-only reader role.

:class:`datalake.ask.WarehouseExecutor` opens a connection per question; the API keeps a
pool per process instead (a connection costs more than most questions). The guarantees are
the same: the reader role (SELECT only), read-only transactions, ``ASK_STATEMENT_TIMEOUT_MS``
and the search path set per transaction, one statement per call.
"""

from __future__ import annotations

import logging
from typing import Any

from api.services.db import Database
from datalake.datasets import DEMAND_DAILY
from datalake.settings import Settings

logger = logging.getLogger(__name__)


class PooledReaderExecutor:
    """A :class:`datalake.ask.executors.SqlExecutor` on a reader-role pool.

    Parameters
    ----------
    settings
        ``reader_role``, ``reader_secret_arn`` or ``reader_password``, ``ask_statement_timeout_ms``,
        the database.
    owner_url
        The owner's URL (the role is derived from it); the settings' database when omitted.
    ensure_role
        Create or repair the reader role through the owner when the pool opens. Default: on
        the local runtime (the embedded server is ours); on AWS it comes with the database.
    schema
        The schema questions read.
    """

    name = "warehouse"
    dialect = "postgres"
    #: The daily rollup of demand_hourly the sync keeps (datalake.warehouse.rollups).
    daily_demand_table: str | None = DEMAND_DAILY.warehouse_table
    #: It keeps the per-value totals of bridge groupings (datalake.datasets.BRIDGE_TOTALS).
    declared_rollups = True

    def __init__(
        self,
        settings: Settings,
        *,
        owner_url: str | None = None,
        ensure_role: bool | None = None,
        schema: str = "public",
        boto3_session: Any | None = None,
    ) -> None:
        self.settings = settings
        self.schema = schema
        self._owner_url = owner_url
        self._boto3_session = boto3_session
        self.ensure_role = settings.lake_runtime == "local" if ensure_role is None else ensure_role
        self.database = Database(
            settings, url_factory=self._reader_url, read_only=True, name="datalake-api-ask"
        )

    def _reader_url(self) -> str:
        from datalake.warehouse.connection import connect, database_url, reader_password
        from datalake.warehouse.roles import ensure_reader_role, reader_url

        owner = self._owner_url or database_url(self.settings, boto3_session=self._boto3_session)
        password = reader_password(self.settings, boto3_session=self._boto3_session)
        if self.ensure_role:
            with connect(owner, settings=self.settings, autocommit=True) as conn:
                ensure_reader_role(conn, self.settings.reader_role, password, schema=self.schema, login=True)
        return reader_url(owner, self.settings.reader_role, password)

    def run(self, sql: str) -> tuple[list[str], list[list[Any]]]:
        """Run one guarded SELECT as the reader; QueryError on failure (timeouts included)."""
        from datalake.ask.executors import run_reader_query

        with self.database.connection() as conn:
            # OperationalError propagates: the pool's wrapper makes it a 503.
            return run_reader_query(
                conn, sql, statement_timeout_ms=self.settings.ask_statement_timeout_ms, schema=self.schema
            )

    def close(self) -> None:
        """Close the reader pool."""
        self.database.close()
