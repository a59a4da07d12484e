"""Where guarded SQL runs: the warehouse as the read-only reader role, or the lake's query engine.

An executor takes one guarded SELECT and returns ``(columns, rows)`` with JSON-ready values
(ISO 8601 strings for dates and UTC timestamps, floats for numbers, None for nulls). Each
applies a statement timeout: PostgreSQL's ``statement_timeout`` for the transaction, an
interrupt for DuckDB. Athena queries are bounded by the workgroup's own limits.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import pandas as pd

from datalake.datasets import DEMAND_DAILY
from datalake.errors import ConfigurationError, QueryError
from datalake.settings import Settings

if TYPE_CHECKING:
    import psycopg

    from datalake.query.base import QueryEngine

Rows = list[list[Any]]


class SqlExecutor(Protocol):
    """Runs one guarded SELECT."""

    #: ``warehouse`` or ``lake``: shown to users as the answer's engine.
    name: str
    #: sqlglot dialect the SQL must be written in.
    dialect: str
    #: Where the engine keeps the daily rollup of demand_hourly (``demand_daily``), if it does.
    #: Optional: an executor without the attribute reads the hours.
    daily_demand_table: str | None

    def run(self, sql: str) -> tuple[list[str], Rows]:
        """Run ``sql`` and return its column names and rows (JSON-ready values)."""
        ...


def json_value(value: Any) -> Any:
    """A result cell as a JSON-ready value (see the module docstring)."""
    kind = type(value)
    if kind is str or kind is int:  # most cells: as they are (a bool's type is bool, below)
        return value
    if kind is float:
        return None if math.isnan(value) or math.isinf(value) else value
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float) or hasattr(value, "item"):
        number = value.item() if hasattr(value, "item") else value
        if isinstance(number, float) and (math.isnan(number) or math.isinf(number)):
            return None
        return number
    return value if isinstance(value, str) else str(value)


class WarehouseExecutor:
    """PostgreSQL, logged in as the reader role (SELECT only), in a read-only transaction.

    Parameters
    ----------
    settings
        Source of the owner's URL (``database_url``), ``reader_role``, the reader's password
        (``reader_secret_arn`` or ``reader_password``) and ``ask_statement_timeout_ms``.
    url
        The owner's URL; the settings' database when omitted.
    schema
        Schema whose tables the questions read (``search_path``); ``public`` by default.
    ensure_role
        Create or repair the reader role (LOGIN, SELECT only) through the owner first, once per
        process. Default: on the local runtime, where the embedded server is ours; on AWS the
        role is provisioned with the database.
    """

    name = "warehouse"
    dialect = "postgres"
    #: The daily rollup of demand_hourly the sync keeps (datalake.warehouse.rollups).
    daily_demand_table: str | None = DEMAND_DAILY.warehouse_table
    #: It keeps the per-value totals of bridge groupings (datalake.datasets.BRIDGE_TOTALS).
    declared_rollups = True
    #: (owner URL, role, schema) already ensured by this process.
    _ensured: ClassVar[set[tuple[str, str, str]]] = set()
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        settings: Settings,
        *,
        url: str | None = None,
        schema: str | None = None,
        ensure_role: bool | None = None,
    ) -> None:
        self.settings = settings
        self._owner_url = url
        self.schema = schema or "public"
        self.ensure_role = settings.lake_runtime == "local" if ensure_role is None else ensure_role

    def _reader_url(self) -> str:
        from datalake.warehouse.connection import connect, database_url, reader_password
        from datalake.warehouse.roles import ensure_reader_role, reader_url

        owner = self._owner_url or database_url(self.settings)
        role, password = self.settings.reader_role, reader_password(self.settings)
        key = (owner, role, self.schema)
        if self.ensure_role and key not in self._ensured:
            with self._lock:
                if key not in self._ensured:
                    with connect(owner, settings=self.settings, autocommit=True) as conn:
                        ensure_reader_role(conn, role, password, schema=self.schema, login=True)
                    self._ensured.add(key)
        return reader_url(owner, role, password)

    def run(self, sql: str) -> tuple[list[str], Rows]:
        """Run one guarded SELECT as the reader; QueryError on failure (timeouts included)."""
        from datalake.warehouse.connection import connect

        with connect(self._reader_url(), settings=self.settings, read_only=True) as conn:
            return run_reader_query(
                conn, sql, statement_timeout_ms=self.settings.ask_statement_timeout_ms, schema=self.schema
            )


def run_reader_query(
    conn: psycopg.Connection[Any], sql: str, *, statement_timeout_ms: int, schema: str
) -> tuple[list[str], Rows]:
    """Run one guarded SELECT on a reader connection: one statement, bounded, read-only.

    The one way both warehouse executors (a connection per question, the API's pool) run SQL.

    Parameters
    ----------
    conn
        A connection logged in as the reader role (autocommit; the query gets its own
        read-only transaction).
    sql
        One statement, already through :func:`datalake.ask.guard.guard_sql`.
    statement_timeout_ms
        ``statement_timeout`` of the transaction.
    schema
        ``search_path`` of the transaction: where unqualified table names resolve.

    Returns
    -------
    tuple[list[str], Rows]
        Column names and JSON-ready rows.

    Raises
    ------
    QueryError
        The server refused or cancelled it; a second statement is refused, never run.
    psycopg.OperationalError
        The connection failed (the API's pool turns it into a 503).
    """
    import psycopg

    try:
        with conn.transaction():
            # One round trip: read-only (on top of the connection's default), timeout, search path.
            conn.execute(
                "SELECT set_config('transaction_read_only', 'on', true),"
                " set_config('statement_timeout', %s, true), set_config('search_path', %s, true)",
                (str(statement_timeout_ms), schema),
            )
            # Binary results force the extended protocol, which refuses a second statement even
            # if one got past the guard; psycopg sends SQL without parameters over the simple
            # protocol otherwise, and that runs every statement in the string.
            cursor = conn.execute(sql, binary=True)  # type: ignore[arg-type]
            columns = [d.name for d in cursor.description or []]
            rows = [[json_value(v) for v in row] for row in cursor.fetchall()]
    except psycopg.errors.QueryCanceled as error:  # an OperationalError, but the query's fault
        raise QueryError(" ".join(str(error).split()), sql, "postgres") from None
    except psycopg.OperationalError:
        raise
    except psycopg.Error as error:
        raise QueryError(" ".join(str(error).split()), sql, "postgres") from None
    return columns, rows


class LakeExecutor:
    """The lake's query engine (DuckDB locally, Athena on AWS); SQL in the Athena dialect.

    Parameters
    ----------
    engine
        The query port (``datalake.runtime.query_engine(settings)``).
    timeout_ms
        Interrupt a DuckDB query after this long.
    """

    name = "lake"
    dialect = "athena"
    #: Columnar files need no rollup: questions read the hours.
    daily_demand_table: str | None = None

    def __init__(self, engine: QueryEngine, timeout_ms: int = 10_000) -> None:
        self.engine = engine
        self.timeout_ms = timeout_ms

    def run(self, sql: str) -> tuple[list[str], Rows]:
        """Run one guarded SELECT on the lake; QueryError on failure (timeouts included)."""
        timer = threading.Timer(self.timeout_ms / 1000, self._interrupt)
        timer.daemon = True
        timer.start()
        try:
            frame = self.engine.query(sql)
        finally:
            timer.cancel()
        columns = [str(c) for c in frame.columns]
        rows = [[json_value(v) for v in row] for row in frame.itertuples(index=False, name=None)]
        return columns, rows

    def _interrupt(self) -> None:
        # DuckDB's connection can be interrupted from another thread; the engine keeps it private,
        # and Athena has none (its workgroup bounds run time).
        connection = getattr(self.engine, "_connection", None)
        if connection is not None and hasattr(connection, "interrupt"):
            connection.interrupt()


def make_executor(settings: Settings, engine: str | None = None) -> SqlExecutor:
    """The executor for ``engine`` (``warehouse`` or ``lake``; ``settings.ask_engine`` by default).

    Raises
    ------
    ConfigurationError
        For another engine name.
    """
    engine = engine or settings.ask_engine
    if engine == "warehouse":
        return WarehouseExecutor(settings)
    if engine == "lake":
        from datalake.runtime import ask_query_engine

        return LakeExecutor(ask_query_engine(settings), settings.ask_statement_timeout_ms)
    raise ConfigurationError(f"unknown ask engine {engine!r}", hint="use 'warehouse' or 'lake' (ASK_ENGINE)")
