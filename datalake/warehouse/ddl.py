"""Warehouse tables generated from dataset specs, created and evolved in place.

The table holds the spec's data columns; partition columns (``partition_by``) are a layout
of the lake's files and are not stored. Types come from :func:`datalake.types.to_postgres`.

The spec's ``primary_key`` is the table's primary key, unless the spec declares a key column
nullable (``weather_national_hourly``'s ``issued_at`` is empty on observed hours): a primary key
refuses NULLs, so such a table's key is the unique constraint ``<table>_key`` with ``NULLS NOT
DISTINCT`` (PostgreSQL 15 or later; the embedded server and RDS run 16). Two rows whose keys are
equal or both empty in the same columns then conflict, as primary-key duplicates would, and the
upsert's ``ON CONFLICT (key)`` finds the constraint the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from datalake import types
from datalake.datasets.spec import ColumnSpec, DatasetSpec
from datalake.errors import ConfigurationError, SchemaConflictError


@dataclass(frozen=True)
class TableChange:
    """What :func:`ensure_table` did: created the table, added columns, or nothing."""

    table: str
    created: bool
    added_columns: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """True when the call created or altered the table."""
        return self.created or bool(self.added_columns)


def table_name(spec: DatasetSpec) -> str:
    """The warehouse table of a dataset.

    Raises
    ------
    ConfigurationError
        The dataset is not served from the warehouse (no ``warehouse_table``).
    """
    if not spec.warehouse_table:
        raise ConfigurationError(f"dataset {spec.name} has no warehouse_table")
    return spec.warehouse_table


def key_constraint_name(spec: DatasetSpec) -> str:
    """Name of the unique constraint that is the key of a table with nullable key columns."""
    return f"{table_name(spec)}_key"


#: PostgreSQL's first version with ``UNIQUE NULLS NOT DISTINCT`` (``server_version_num``).
NULLS_NOT_DISTINCT_SINCE = 150000


def key_definition(spec: DatasetSpec) -> sql.Composed:
    """The table's key clause: ``PRIMARY KEY (...)``, or, when the spec declares a key column
    nullable, ``CONSTRAINT <table>_key UNIQUE NULLS NOT DISTINCT (...)``."""
    columns = sql.SQL(", ").join(sql.Identifier(k) for k in spec.primary_key)
    if not spec.nullable_key_columns:
        return sql.SQL("PRIMARY KEY ({})").format(columns)
    return sql.SQL("CONSTRAINT {} UNIQUE NULLS NOT DISTINCT ({})").format(
        sql.Identifier(key_constraint_name(spec)), columns
    )


def table_identifier(spec: DatasetSpec, schema: str = "public") -> sql.Identifier:
    """``"schema"."table"`` of a dataset, quoted."""
    return sql.Identifier(schema, table_name(spec))


def column_definition(column: ColumnSpec, *, not_null: bool | None = None) -> sql.Composed:
    """``"name" type [NOT NULL]`` for one spec column.

    Parameters
    ----------
    column
        The spec column.
    not_null
        Override the spec's nullability (columns added to tables with rows are nullable).
    """
    required = (not column.nullable) if not_null is None else not_null
    return sql.SQL("{} {}{}").format(
        sql.Identifier(column.name),
        # The type text comes from our own mapping, never from input.
        sql.SQL(types.to_postgres(column.type)),
        sql.SQL(" NOT NULL") if required else sql.SQL(""),
    )


def create_table_sql(spec: DatasetSpec, schema: str = "public") -> sql.Composed:
    """``CREATE TABLE IF NOT EXISTS`` for a dataset's warehouse table.

    Parameters
    ----------
    spec
        The dataset; its ``partition_by`` columns are left out.
    schema
        Schema of the table.

    Returns
    -------
    psycopg.sql.Composed
        Render with ``.as_string(conn)`` (or ``.as_string()`` to read it).
    """
    body = [column_definition(c) for c in spec.columns]
    body.append(key_definition(spec))
    return sql.SQL("CREATE TABLE IF NOT EXISTS {} (\n    {}\n)").format(
        table_identifier(spec, schema), sql.SQL(",\n    ").join(body)
    )


def ensure_table(conn: psycopg.Connection[Any], spec: DatasetSpec, schema: str = "public") -> TableChange:
    """Create the dataset's table when missing; add the columns the spec has and it lacks.

    Added columns are nullable: the rows already there have no value for them. Columns the
    table has and the spec lacks are left alone. Runs in its own transaction (a savepoint
    when one is open), serialised against other loaders of the same table.

    Parameters
    ----------
    conn
        A connection whose user may create and alter the table.
    spec
        The dataset.
    schema
        Schema of the table (created when missing).

    Returns
    -------
    TableChange

    Raises
    ------
    SchemaConflictError
        An existing column has another type than the spec's, or the key differs (its columns, or
        a primary key where the spec needs a key with empty values, or the reverse); the message
        names table, column and both types.
    ConfigurationError
        The spec declares a key column nullable and the server is older than PostgreSQL 15.
    """
    table = table_name(spec)
    qualified = f"{schema}.{table}"
    if spec.nullable_key_columns and conn.info.server_version < NULLS_NOT_DISTINCT_SINCE:
        raise ConfigurationError(
            f"table {qualified}: its key ({', '.join(spec.primary_key)}) may hold empty values, which "
            f"needs UNIQUE NULLS NOT DISTINCT (PostgreSQL 15 or later; this server is "
            f"{conn.info.server_version})"
        )
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"datalake:ddl:{qualified}",))
        existing = _existing_columns(conn, schema, table)
        if existing is None:
            if not _schema_exists(conn, schema):
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            conn.execute(create_table_sql(spec, schema))
            _comment(conn, spec, schema, spec.columns)
            _ensure_indexes(conn, spec, schema)
            return TableChange(qualified, created=True)

        conflicts = [
            {"table": qualified, "column": c.name, "expected": want, "actual": existing[c.name]}
            for c in spec.columns
            if c.name in existing
            and not _same_type(conn, want := types.to_postgres(c.type), existing[c.name])
        ]
        if conflicts:
            first = conflicts[0]
            raise SchemaConflictError(
                f"table {qualified}: column {first['column']} is {first['actual']} in the "
                f"warehouse but {first['expected']} in the spec"
                + (f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""),
                conflicts,
            )
        key = _primary_key(conn, schema, table)
        wanted = "primary key"
        if spec.nullable_key_columns:
            key, wanted = _nulls_not_distinct_key(conn, schema, table, key_constraint_name(spec)), "key"
        if key != tuple(spec.primary_key):
            raise SchemaConflictError(
                f"table {qualified}: {wanted} is ({', '.join(key) or 'none'}) in the "
                f"warehouse but ({', '.join(spec.primary_key)}) in the spec",
                [{"table": qualified, "column": ",".join(spec.primary_key)}],
            )

        missing = [c for c in spec.columns if c.name not in existing]
        for column in missing:
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN {}").format(
                    table_identifier(spec, schema), column_definition(column, not_null=False)
                )
            )
        _comment(conn, spec, schema, missing, table_too=False)
        _ensure_indexes(conn, spec, schema)
        return TableChange(qualified, created=False, added_columns=tuple(c.name for c in missing))


def _ensure_indexes(conn: psycopg.Connection[Any], spec: DatasetSpec, schema: str) -> None:
    """The spec's secondary indexes (lookups the primary key cannot serve), created when missing.

    The partition source gets one too: a partition's sync finds the rows to replace by it.
    """
    source = ((spec.partition_source,),) if spec.partition_source else ()
    for columns in dict.fromkeys((*spec.indexes, *source)):
        conn.execute(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                sql.Identifier(f"{table_name(spec)}_{'_'.join(columns)}_idx"),
                table_identifier(spec, schema),
                sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            )
        )


def _existing_columns(conn: psycopg.Connection[Any], schema: str, table: str) -> dict[str, str] | None:
    """Column name -> type as the server spells it; None when the table does not exist."""
    row = conn.execute(
        "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
        (schema, table),
    ).fetchone()
    if row is None:
        return None
    rows = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (row[0],),
    ).fetchall()
    return {name: pg_type for name, pg_type in rows}


def _primary_key(conn: psycopg.Connection[Any], schema: str, table: str) -> tuple[str, ...]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)"
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
        " WHERE n.nspname = %s AND c.relname = %s AND i.indisprimary ORDER BY k.ord",
        (schema, table),
    ).fetchall()
    return tuple(r[0] for r in rows)


def _nulls_not_distinct_key(
    conn: psycopg.Connection[Any], schema: str, table: str, constraint: str
) -> tuple[str, ...]:
    """Columns of the table's unique NULLS NOT DISTINCT constraint ``constraint``; () when it has none
    (a table created with a primary key instead, say)."""
    rows = conn.execute(
        "SELECT a.attname FROM pg_constraint con"
        " JOIN pg_class c ON c.oid = con.conrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_index i ON i.indexrelid = con.conindid"
        " CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)"
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
        " WHERE n.nspname = %s AND c.relname = %s AND con.conname = %s AND con.contype = 'u'"
        " AND i.indnullsnotdistinct ORDER BY k.ord",
        (schema, table, constraint),
    ).fetchall()
    return tuple(r[0] for r in rows)


def _schema_exists(conn: psycopg.Connection[Any], schema: str) -> bool:
    found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    return found is not None


def _same_type(conn: psycopg.Connection[Any], spec_type: str, table_type: str) -> bool:
    if spec_type == table_type:
        return True
    # The server spells some types differently from our mapping (timestamptz is
    # "timestamp with time zone"); let it canonicalise the name, keeping the modifiers.
    base, paren, modifiers = spec_type.partition("(")
    row = conn.execute("SELECT format_type(to_regtype(%s), NULL)", (base.strip(),)).fetchone()
    canonical = (row[0] if row and row[0] else base) + paren + modifiers.replace(" ", "")
    return canonical == table_type.replace(", ", ",")


def _comment(
    conn: psycopg.Connection[Any],
    spec: DatasetSpec,
    schema: str,
    columns: tuple[ColumnSpec, ...] | list[ColumnSpec],
    *,
    table_too: bool = True,
) -> None:
    # Descriptions travel with the table so SQL clients (and /ask) can read what a column means.
    target = table_identifier(spec, schema)
    if table_too and spec.description:
        conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(target, sql.Literal(spec.description)))
    for column in columns:
        if column.description:
            conn.execute(
                sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                    target, sql.Identifier(column.name), sql.Literal(column.description)
                )
            )
