"""The SQL guard: exactly one SELECT over the lake's allow-listed tables and columns, LIMIT clamped.

Both the parser's SQL and a model's SQL pass through :func:`guard_sql` before any engine sees
them. The guard parses the text with sqlglot and refuses anything it cannot prove harmless:
more than one statement, any statement that is not a SELECT (or a SELECT that writes, locks
or recurses), set operations, tables outside the allow-list or qualified with a schema,
table functions (``read_csv``), columns that are neither a dataset column nor an alias the
query defines, functions outside a small allow-list (``pg_sleep``, ``current_setting``...),
casts to types outside an allow-list (``regclass``, ``oid``), and parameters.

Table names resolve per scope (sqlglot's scope module), as the database resolves them: a CTE
only hides a table inside the scopes that can see it, and a CTE may not be named like a real
table at all. Comments are dropped from what it returns. The statement timeout is the
executor's job (see :mod:`datalake.ask.executors`); the reader role and the locked DuckDB
connection are the second line, should the guard ever let something through.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import traverse_scope

from datalake.ask.errors import UnsafeQueryError
from datalake.datasets import ASK_ROLLUPS, all_table_names, ask_datasets

#: Longer SQL is refused before parsing (the parser's own queries are a few kB).
MAX_SQL_CHARS = 20_000

#: The tables questions may read (dataset, catalog and warehouse names) and their columns, personal
#: columns left out, and the warehouse's rollups of them; nothing else (the API's own tables,
#: catalogs, system views) is reachable.
ALLOWED_TABLES: dict[str, frozenset[str]] = {
    name.lower(): frozenset(spec.public_column_names)
    for spec in (*ask_datasets(), *ASK_ROLLUPS)
    for name in {spec.name, spec.table_name, spec.warehouse_table}
    if name
}
ALLOWED_COLUMNS: frozenset[str] = frozenset().union(*ALLOWED_TABLES.values())

#: A CTE may not take these names: it would read as the real table to whoever reviews the SQL.
RESERVED_TABLE_NAMES: frozenset[str] = all_table_names() | frozenset(ALLOWED_TABLES)
#: Nor names of the engines' own catalogs.
RESERVED_PREFIXES = ("pg_", "information_schema", "duckdb_", "sqlite_", "system")


def _classes(*names: str) -> tuple[type[exp.Expression], ...]:
    # sqlglot versions differ in which classes exist; a missing one is simply not allowed/denied.
    return tuple(getattr(exp, n) for n in names if isinstance(getattr(exp, n, None), type))


ALLOWED_FUNCTIONS = _classes(
    "Sum", "Avg", "Min", "Max", "Count", "RowNumber", "Rank", "DenseRank", "Cast", "TryCast", "Case", "If",
    "Coalesce", "Nullif", "Round", "Abs", "DateTrunc", "TimestampTrunc", "DatetimeTrunc", "Extract", "Year",
    "Month", "Day", "Hour", "Quarter", "Week", "DayOfWeek", "Exists", "Greatest", "Least", "Floor", "Ceil",
    "Stddev", "StddevPop", "StddevSamp", "Variance", "VariancePop", "Lag", "Lead", "FirstValue",
    "LastValue", "Sqrt", "Ln", "Pow", "Date", "TsOrDsToDate", "DateDiff", "TimestampDiff", "ApproxDistinct",
    "Median", "Percentile", "PercentileCont", "PercentileDisc", "Mod",
)  # fmt: skip
#: Types a CAST may produce; ``regclass``, ``oid``, ``regproc`` and the like reach the catalog.
ALLOWED_TYPES = frozenset(
    getattr(exp.DataType.Type, n)
    for n in (
        "TINYINT", "SMALLINT", "INT", "BIGINT", "FLOAT", "DOUBLE", "DECIMAL", "VARCHAR", "CHAR", "TEXT",
        "NVARCHAR", "NCHAR", "DATE", "DATETIME", "TIMESTAMP", "TIMESTAMPNTZ", "TIMESTAMPTZ", "TIMESTAMPLTZ",
        "BOOLEAN", "INTERVAL",
    )
    if hasattr(exp.DataType.Type, n)
)  # fmt: skip
DENIED_NODES = _classes(
    "Insert", "Update", "Delete", "Drop", "Create", "Alter", "Command", "Merge", "Into", "Lock", "Set",
    "SetItem", "Transaction", "Commit", "Rollback", "Copy", "Use", "Pragma", "Placeholder", "Parameter",
    "SessionParameter", "Union", "Except", "Intersect", "SetOperation", "LoadData", "Describe", "Show",
    "Grant", "Revoke", "Analyze", "Kill", "Cache", "Uncache", "Refresh", "Heredoc", "Fetch",
)  # fmt: skip


def guard_sql(sql: str, dialect: str, *, max_limit: int) -> str:
    """The SQL, proven to be one read-only SELECT on allowed tables, with its LIMIT clamped.

    Parameters
    ----------
    sql
        One statement in ``dialect``.
    dialect
        sqlglot dialect to read it in and write it back in (``postgres``, ``athena``, ``duckdb``).
    max_limit
        The most rows it may return: a missing LIMIT becomes this, a larger one is lowered.

    Returns
    -------
    str
        The statement re-rendered from its AST (comments dropped).

    Raises
    ------
    UnsafeQueryError
        Naming the first reason it is refused.
    """
    if max_limit < 1:
        raise ValueError("max_limit must be at least 1")
    if not isinstance(sql, str) or not sql.strip():
        raise UnsafeQueryError("empty statement")
    if len(sql) > MAX_SQL_CHARS:
        raise UnsafeQueryError(f"statement longer than {MAX_SQL_CHARS} characters")
    tree = _parse_one(sql, dialect)
    _check(tree)
    _clamp_limit(tree, max_limit)
    guarded = tree.sql(dialect=dialect, comments=False)
    # The rendered text must read back as the same single SELECT (no rendering surprises).
    _check(_parse_one(guarded, dialect))
    return guarded


def _parse_one(sql: str, dialect: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except SqlglotError as error:
        raise UnsafeQueryError(f"does not parse: {str(error).splitlines()[0][:200]}") from None
    except (RecursionError, ValueError) as error:
        raise UnsafeQueryError(f"does not parse: {type(error).__name__}") from None
    if len(statements) != 1:
        raise UnsafeQueryError(f"expected exactly one statement, got {len(statements)}")
    return statements[0]


def _check(tree: exp.Expression) -> None:
    if not isinstance(tree, exp.Select):
        raise UnsafeQueryError(f"only SELECT is allowed, not {tree.key.upper()}")
    for with_ in tree.find_all(exp.With):
        if with_.args.get("recursive"):
            raise UnsafeQueryError("recursive WITH is not allowed")
    ctes = set()
    for cte in tree.find_all(exp.CTE):
        name = cte.alias_or_name.lower()
        if name in RESERVED_TABLE_NAMES or name.startswith(RESERVED_PREFIXES):
            raise UnsafeQueryError(f"a WITH query may not be named like the table {cte.alias_or_name!r}")
        ctes.add(name)
    _check_tables(tree)
    aliases = {a.alias.lower() for a in tree.find_all(exp.Alias) if a.alias}
    table_aliases = {t.name.lower() for t in tree.find_all(exp.TableAlias) if t.name}
    for t in tree.find_all(exp.TableAlias):
        aliases.update(c.name.lower() for c in t.columns)
    for node in tree.walk():
        if isinstance(node, DENIED_NODES):
            raise UnsafeQueryError(f"{node.key.upper()} is not allowed")
        if isinstance(node, exp.Select) and node.args.get("into") is not None:
            raise UnsafeQueryError("SELECT INTO is not allowed")
        if isinstance(node, exp.Anonymous):
            raise UnsafeQueryError(f"function {node.name!r} is not allowed")
        # AND/OR are Func subclasses in sqlglot; they are operators, not functions.
        if isinstance(node, exp.Func) and not isinstance(node, (*ALLOWED_FUNCTIONS, exp.Connector)):
            raise UnsafeQueryError(f"function {node.key.upper()} is not allowed")
        if isinstance(node, exp.DataType) and node.this not in ALLOWED_TYPES:
            raise UnsafeQueryError(f"type {node.sql()!r} is not allowed")
        if isinstance(node, exp.Column):
            _check_column(node, aliases, ctes | table_aliases)


def _check_tables(tree: exp.Expression) -> None:
    """Every table reference, resolved in its own scope: a visible CTE or an allowed table."""
    checked: set[int] = set()
    try:
        scopes = traverse_scope(tree)
    except (SqlglotError, RecursionError, KeyError, ValueError) as error:
        raise UnsafeQueryError(f"table references cannot be resolved ({type(error).__name__})") from None
    for scope in scopes:
        for table in scope.tables:
            _check_table(table, visible_ctes={name.lower() for name in scope.cte_sources})
            checked.add(id(table))
    # A table no scope owns (a place the scope module does not walk) is refused, not trusted.
    for table in tree.find_all(exp.Table):
        if id(table) not in checked:
            raise UnsafeQueryError(f"table reference {table.sql()!r} is not allowed here")


def _check_table(table: exp.Table, visible_ctes: set[str]) -> None:
    if not isinstance(table.this, exp.Identifier):
        raise UnsafeQueryError("table functions are not allowed")
    if table.args.get("db") is not None or table.args.get("catalog") is not None:
        raise UnsafeQueryError(f"qualified table names are not allowed ({table.sql()})")
    name = table.name.lower()
    if name not in visible_ctes and name not in ALLOWED_TABLES:
        raise UnsafeQueryError(
            f"table {table.name!r} is not allowed (allowed: {', '.join(sorted(ALLOWED_TABLES))})"
        )


def _check_column(column: exp.Column, aliases: set[str], qualifiers: set[str]) -> None:
    if isinstance(column.this, exp.Star):
        return
    if column.args.get("db") is not None or column.args.get("catalog") is not None:
        raise UnsafeQueryError(f"qualified column {column.sql()!r} is not allowed")
    qualifier = column.table.lower() if column.table else None
    if qualifier and qualifier not in qualifiers and qualifier not in ALLOWED_TABLES:
        raise UnsafeQueryError(f"unknown table qualifier {column.table!r}")
    name = column.name.lower()
    if name not in ALLOWED_COLUMNS and name not in aliases:
        raise UnsafeQueryError(f"column {column.name!r} is not allowed")


def _clamp_limit(tree: exp.Expression, max_limit: int) -> None:
    limit = tree.args.get("limit")
    if limit is None:
        tree.set("limit", exp.Limit(expression=exp.Literal.number(max_limit)))
        return
    value = limit.args.get("expression")
    if not isinstance(value, exp.Literal) or value.is_string or not value.this.isdigit():
        raise UnsafeQueryError("LIMIT must be a whole number")
    if int(value.this) > max_limit:
        limit.set("expression", exp.Literal.number(max_limit))
    offset = tree.args.get("offset")
    if offset is not None:
        amount = offset.args.get("expression")
        if not isinstance(amount, exp.Literal) or amount.is_string or not amount.this.isdigit():
            raise UnsafeQueryError("OFFSET must be a whole number")
