"""PostgreSQL serving database: the embedded server, connections, DDL from specs, upserts.

- :mod:`.server` -- the embedded PostgreSQL of the local runtime (one per lake root).
- :mod:`.connection` -- where the database is (URL, Secrets Manager) and connections to it.
- :mod:`.ddl` -- tables generated from dataset specs, created and evolved.
- :mod:`.sync` -- idempotent upserts of DataFrames, and replaces of one partition's rows.
- :mod:`.scope` -- which warehouse rows a processed partition holds.
- :mod:`.roles` -- the read-only role for guarded SQL.
"""

from __future__ import annotations

from datalake.warehouse.connection import (
    connect,
    connection,
    database_url,
    describe_target,
    make_url,
    password_verifier,
    reader_password,
    redact_url,
)
from datalake.warehouse.ddl import TableChange, create_table_sql, ensure_table, table_name
from datalake.warehouse.roles import ensure_reader_role, reader_url
from datalake.warehouse.scope import RowScope, partition_scope
from datalake.warehouse.server import EmbeddedPostgres
from datalake.warehouse.sync import UpsertResult, replace_rows, upsert_frame

__all__ = [
    "EmbeddedPostgres",
    "RowScope",
    "TableChange",
    "UpsertResult",
    "connect",
    "connection",
    "create_table_sql",
    "database_url",
    "describe_target",
    "ensure_reader_role",
    "ensure_table",
    "make_url",
    "partition_scope",
    "password_verifier",
    "reader_password",
    "reader_url",
    "redact_url",
    "replace_rows",
    "table_name",
    "upsert_frame",
]
