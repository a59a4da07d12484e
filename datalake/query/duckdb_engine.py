"""DuckDB over the local catalog: each catalogued table is a view over its files."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
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
#: A JSON table's files are documents (.json) or JSON Lines (.jsonl, as TMDB and the streams land).
_EXTENSIONS = {"parquet": "*.parquet", "json": "*.json*", "csv": "*.csv"}


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


#: Settings of a locked connection, in order; the last one freezes them all.
_LOCKDOWN = (
    "SET python_enable_replacements = false",  # no scans of Python variables by name
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET enable_external_access = false",  # no files, URLs, ATTACH or extensions beyond allowed_directories
    "SET lock_configuration = true",
)


@dataclass(frozen=True)
class _Source:
    """The locations a view reads: one table folder (``whole_table``) or the partitions' folders."""

    whole_table: bool
    locations: tuple[str, ...]


class DuckDBEngine(QueryEngine):
    """The local stand-in for Athena.

    Parameters
    ----------
    catalog
        The catalog whose databases become DuckDB schemas and whose tables become views.
    default_database
        Where unqualified table names resolve (Athena's current database).
    readable
        Lock the engine down for untrusted SQL (/ask): only these tables of ``default_database``
        (catalog name -> the columns to expose) exist, as views made when the connection opens;
        DuckDB may read files only under those tables' folders (no replacement scans of paths,
        no ``read_csv``, no ATTACH, no extensions), and the configuration is locked so a query
        cannot undo it. None (the default) serves trusted SQL over the whole catalog.
    located
        For a readable name that is not a table of ``default_database``: the (database, catalog
        table) its view reads (``energy_transacciones`` -> ``energy_processed_db.transacciones``).
    """

    name = "duckdb"
    dialect = "duckdb"

    def __init__(
        self,
        catalog: Catalog,
        default_database: str,
        *,
        readable: Mapping[str, Sequence[str]] | None = None,
        located: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        self.catalog = catalog
        self.default_database = default_database
        self.readable = {name: tuple(columns) for name, columns in readable.items()} if readable else None
        self.located = dict(located or {})
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._views: dict[tuple[str, str], _Source] = {}
        self._locked_sources: dict[str, _Source] = {}
        self._lock = threading.Lock()

    @property
    def locked(self) -> bool:
        """Whether this engine serves untrusted SQL (see ``readable``)."""
        return self.readable is not None

    def refresh(self) -> None:
        """Forget the views so the next query sees tables catalogued since."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
            self._connection = None
            self._views = {}

    def _connect(self, tables: set[tuple[str, str]]) -> duckdb.DuckDBPyConnection:
        """The connection, with views for ``tables`` (database, name) as the catalog has them now.

        Views are made lazily: binding a view reads file footers or JSON, which a query that
        never touches the table should not pay for. A view is made again when the catalog points
        its table elsewhere (a run was published), so a long-lived engine reads current data.
        """
        if self.readable is not None:
            # Its views were made before the lock and nothing may be added: a publish since means
            # a new locked connection.
            sources = {name: self._source(table) for name, table in self._readable_tables().items()}
            if self._connection is not None and sources != self._locked_sources:
                self._connection.close()
                self._connection = None
            if self._connection is None:
                self._connection = self._open_locked(sources)
                self._locked_sources = sources
            return self._connection
        if self._connection is None:
            self._connection = self._open()
        connection = self._connection
        for database, table_name in sorted(tables):
            table = self.catalog.get_table(database, table_name)
            source = self._source(table)
            if self._views.get((database, table_name)) == source:
                continue
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote_ident(database)}")
            connection.execute(
                f"CREATE OR REPLACE VIEW {_quote_ident(database)}.{_quote_ident(table_name)} "
                f"AS {self._view_sql(table, source)}"
            )
            self._views[(database, table_name)] = source
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote_ident(self.default_database)}")
        connection.execute(f"USE memory.{_quote_ident(self.default_database)}")
        return connection

    def _open(self) -> duckdb.DuckDBPyConnection:
        connection = duckdb.connect(":memory:")
        connection.execute("SET TimeZone = 'UTC'")
        return connection

    def _readable_tables(self) -> dict[str, Table]:
        """The catalogued tables among the readable ones, by the name their view takes."""
        assert self.readable is not None
        databases = set(self.catalog.list_databases())
        known: dict[str, set[str]] = {}
        tables = {}
        for name in sorted(self.readable):
            database, table_name = self.located.get(name, (self.default_database, name))
            if database not in known:
                known[database] = set(self.catalog.list_tables(database)) if database in databases else set()
            if table_name in known[database]:
                tables[name] = self.catalog.get_table(database, table_name)
        return tables

    def _open_locked(self, sources: Mapping[str, _Source]) -> duckdb.DuckDBPyConnection:
        """A connection holding only the readable tables' views, then locked."""
        assert self.readable is not None
        connection = self._open()
        schema = _quote_ident(self.default_database)
        connection.execute(f"CREATE SCHEMA {schema}")
        folders = []
        tables = self._readable_tables()
        for table_name, source in sorted(sources.items()):
            table = tables[table_name]
            select = ", ".join(_quote_ident(c) for c in self.readable[table_name])
            connection.execute(
                f"CREATE VIEW {schema}.{_quote_ident(table_name)} AS "
                f"SELECT {select} FROM ({self._view_sql(table, source)})"
            )
            # Exactly the folders the catalog points at, not the superseded runs beside them.
            folders += [local_path(location).rstrip("/") + "/" for location in source.locations]
            self._views[(self.default_database, table_name)] = source
        connection.execute(f"USE memory.{schema}")
        connection.execute("SET allowed_directories = ?", [folders])
        for statement in _LOCKDOWN:
            connection.execute(statement)
        return connection

    def _has_database(self) -> bool:
        return self.default_database in set(self.catalog.list_databases())

    def _source(self, table: Table) -> _Source:
        """Where a table's data is now: its partitions' locations, or its own for an unpartitioned one."""
        if not table.partition_keys:
            return _Source(True, (table.location,))
        partitions = self.catalog.list_partitions(table.database, table.name)
        return _Source(False, tuple(p.location for p in partitions))

    def _view_sql(self, table: Table, source: _Source) -> str:
        pattern = _EXTENSIONS[table.format]
        folders = [local_path(location).rstrip("/") for location in source.locations]
        if source.whole_table:
            has_files = any(True for _ in _iter_files(folders[0], pattern))
        else:
            # Like Athena, a partitioned table is its catalogued partitions and nothing else.
            has_files = bool(folders)
        if not has_files:
            columns = [*table.columns, *table.partition_keys]
            select = ", ".join(
                f"CAST(NULL AS {_duck_type(c.type)}) AS {_quote_ident(c.name)}" for c in columns
            )
            return f"SELECT {select} WHERE false"
        # Hive partitioning takes the partition values from the ``name=value`` folders of each
        # path; the ``_runs/<id>`` folders above them have no ``=`` and are ignored.
        glob = "[" + ", ".join(_quote_literal(f"{folder}/**/{pattern}") for folder in folders) + "]"
        hive_types = ""
        if table.partition_keys:
            pairs = ", ".join(
                f"{_quote_literal(k.name)}: {_quote_literal(_duck_type(k.type))}"
                for k in table.partition_keys
            )
            hive_types = f", hive_types = {{{pairs}}}"
        if table.format == "json":
            # The catalog already knows the schema; inferring it again over every nested
            # document is slow and, on a year of REData files, exhausts memory.
            columns = ", ".join(
                f"{_quote_literal(c.name)}: {_quote_literal(_duck_type(c.type))}" for c in table.columns
            )
            hive_types += f", columns = {{{columns}}}, format = 'auto'"
        if table.format == "csv":
            # The crawler records these when every file of the table agrees (a ; Latin-1 drop).
            for option, parameter in (("delim", "delimiter"), ("encoding", "encoding")):
                if parameter in table.parameters:
                    hive_types += f", {option} = {_quote_literal(table.parameters[parameter])}"
        reader = _READERS[table.format].format(glob=glob, hive_types=hive_types)
        if not table.partition_keys:
            return f"SELECT * FROM {reader}"
        # Partition columns last and in key order, as Athena shows them.
        keys = ", ".join(_quote_ident(k.name) for k in table.partition_keys)
        return f"SELECT * EXCLUDE ({keys}), {keys} FROM {reader}"

    def check_tables(self, sql: str) -> set[tuple[str, str]]:
        """The (database, table) pairs a query reads; CatalogNotFoundError for unknown ones."""
        if self.readable is not None:
            return set()  # the locked connection has its views already; unknown names fail to bind
        try:
            tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
        except sqlglot.errors.ParseError:
            return set()  # render() reports parse errors with the SQL
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        databases = set(self.catalog.list_databases())
        found: set[tuple[str, str]] = set()
        for table in tree.find_all(exp.Table):
            if not table.name or (not table.db and table.name in ctes):
                continue
            database = table.db or self.default_database
            if database not in databases:
                known_databases = ", ".join(sorted(databases)) or "none"
                raise CatalogNotFoundError(
                    f"database {database!r} not found (known: {known_databases})",
                    hint="run `datalake crawl` to catalog the lake",
                )
            if table.name not in self.catalog.list_tables(database):
                known = ", ".join(self.catalog.list_tables(database)) or "none"
                raise CatalogNotFoundError(f"table {database}.{table.name} not found (tables: {known})")
            found.add((database, table.name))
        return found

    def query(self, sql: str) -> pd.DataFrame:
        rendered = render(sql, self.dialect)
        tables = self.check_tables(sql)
        with self._lock:
            try:
                connection = self._connect(tables)
                relation = connection.sql(rendered)
                if relation is None:  # a statement without a result set
                    return pd.DataFrame()
                # Through Arrow so DATE stays a date and TIMESTAMPTZ stays UTC-aware.
                return relation.to_arrow_table().to_pandas(date_as_object=True)
            except duckdb.Error as error:
                raise QueryError(str(error).strip(), sql, self.name) from None


def _duck_type(glue_type: str) -> str:
    try:
        return types.to_duckdb(glue_type)
    except ValueError:
        return "VARCHAR"  # a type DuckDB has no spelling for is read as text


def _iter_files(root: str, pattern: str) -> Iterator[Path]:
    base = Path(root)
    return base.rglob(pattern) if base.is_dir() else iter(())
