"""DuckDB over the local catalog: each catalogued table is a view over its files."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb
import pandas as pd
import sqlglot
from sqlglot import exp

from datalake import types
from datalake.catalog.base import Catalog, Table
from datalake.errors import CatalogNotFoundError, QueryError
from datalake.query.base import SOURCE_DIALECT, QueryEngine, render

_READERS = {
    "parquet": "read_parquet({glob}, hive_partitioning = true, union_by_name = true{hive_types})",
    "json": "read_json_auto({glob}, hive_partitioning = true, union_by_name = true{hive_types})",
    "csv": "read_csv_auto({glob}, header = true, hive_partitioning = true, union_by_name = true{hive_types})",
}
_EXTENSIONS = {"parquet": "*.parquet", "json": "*.json", "csv": "*.csv"}


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def local_path(location: str) -> str:
    """Filesystem path of a ``file://`` location; the local runtime has no other kind."""
    parsed = urlparse(location)
    if parsed.scheme not in ("", "file"):
        raise QueryError(f"DuckDB reads local files only, not {location}", "", "duckdb")
    return unquote(parsed.path)


class DuckDBEngine(QueryEngine):
    """The local stand-in for Athena.

    Parameters
    ----------
    catalog
        The catalog whose databases become DuckDB schemas and whose tables become views.
    default_database
        Where unqualified table names resolve (Athena's current database).
    """

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, catalog: Catalog, default_database: str) -> None:
        self.catalog = catalog
        self.default_database = default_database
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Forget the views so the next query sees tables catalogued since."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
            self._connection = None

    def _connect(self) -> duckdb.DuckDBPyConnection:
        if self._connection is not None:
            return self._connection
        connection = duckdb.connect(":memory:")
        connection.execute("SET TimeZone = 'UTC'")
        for database in self.catalog.list_databases():
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote_ident(database)}")
            for table_name in self.catalog.list_tables(database):
                table = self.catalog.get_table(database, table_name)
                connection.execute(
                    f"CREATE OR REPLACE VIEW {_quote_ident(database)}.{_quote_ident(table_name)} "
                    f"AS {self._view_sql(table)}"
                )
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote_ident(self.default_database)}")
        connection.execute(f"USE memory.{_quote_ident(self.default_database)}")
        self._connection = connection
        return connection

    def _view_sql(self, table: Table) -> str:
        root = local_path(table.location)
        has_files = bool(self.catalog.list_partitions(table.database, table.name)) or any(
            True for _ in _iter_files(root, _EXTENSIONS[table.format])
        )
        if not has_files:
            columns = [*table.columns, *table.partition_keys]
            select = ", ".join(
                f"CAST(NULL AS {_duck_type(c.type)}) AS {_quote_ident(c.name)}" for c in columns
            )
            return f"SELECT {select} WHERE false"
        glob = _quote_literal(f"{root.rstrip('/')}/**/{_EXTENSIONS[table.format]}")
        hive_types = ""
        if table.partition_keys:
            pairs = ", ".join(
                f"{_quote_literal(k.name)}: {_quote_literal(_duck_type(k.type))}"
                for k in table.partition_keys
            )
            hive_types = f", hive_types = {{{pairs}}}"
        reader = _READERS[table.format].format(glob=glob, hive_types=hive_types)
        if not table.partition_keys:
            return f"SELECT * FROM {reader}"
        # Partition columns last and in key order, as Athena shows them.
        keys = ", ".join(_quote_ident(k.name) for k in table.partition_keys)
        return f"SELECT * EXCLUDE ({keys}), {keys} FROM {reader}"

    def check_tables(self, sql: str) -> None:
        """Raise CatalogNotFoundError for a table or database the catalog does not have."""
        try:
            tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
        except sqlglot.errors.ParseError:
            return  # render() reports parse errors with the SQL
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        databases = set(self.catalog.list_databases())
        for table in tree.find_all(exp.Table):
            if not table.name or (not table.db and table.name in ctes):
                continue
            database = table.db or self.default_database
            if database not in databases:
                raise CatalogNotFoundError(
                    f"database {database!r} not found (known: {', '.join(sorted(databases)) or 'none'})",
                    hint="run `datalake crawl` to catalog the lake",
                )
            if table.name not in self.catalog.list_tables(database):
                known = ", ".join(self.catalog.list_tables(database)) or "none"
                raise CatalogNotFoundError(f"table {database}.{table.name} not found (tables: {known})")

    def query(self, sql: str) -> pd.DataFrame:
        rendered = render(sql, self.dialect)
        self.check_tables(sql)
        with self._lock:
            connection = self._connect()
            try:
                # Through Arrow so DATE stays a date and TIMESTAMPTZ stays UTC-aware.
                relation = connection.sql(rendered)
                if relation is None:  # a statement without a result set
                    return pd.DataFrame()
                return relation.to_arrow_table().to_pandas(date_as_object=True)
            except duckdb.Error as error:
                raise QueryError(str(error).strip(), sql, self.name) from None


def _duck_type(glue_type: str) -> str:
    try:
        return types.to_duckdb(glue_type)
    except ValueError:
        return "VARCHAR"  # nested types are only needed for empty views


def _iter_files(root: str, pattern: str) -> Iterator[Path]:
    base = Path(root)
    return base.rglob(pattern) if base.is_dir() else iter(())
