"""The read-only role that runs guarded SQL: SELECT on /ask's tables and nothing else.

The role reads only the tables of the datasets /ask may query
(:func:`datalake.datasets.ask_datasets`), and of those only the columns that are not personal
(column-level grants): not the energy company's clients, not the API's own tables, not a
table created later. It cannot create temporary tables either.

Untrusted SQL should run on a connection that *logs in* as this role (``reader_url``): a
session that only did ``SET ROLE`` can ``RESET ROLE`` back to its owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from datalake.errors import ConfigurationError

if TYPE_CHECKING:
    from datalake.datasets.spec import DatasetSpec

# Attributes that would make the "reader" more than a reader.
_PRIVILEGED = ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls")


def ensure_reader_role(
    conn: psycopg.Connection[Any],
    role: str,
    password: str | None = None,
    schema: str = "public",
    *,
    login: bool | None = None,
    datasets: Sequence[DatasetSpec] | None = None,
) -> None:
    """Create (or bring back to shape) a role with SELECT only on /ask's tables of ``schema``.

    Idempotent. Grants USAGE on the schema and SELECT on the non-personal columns of each
    dataset's warehouse table that exists there; every other privilege the role had on the
    schema's tables is revoked, and so are default privileges (a table created later stays
    unreadable until a dataset is declared askable and this runs again, as every sync does).
    TEMP on the database is revoked from the role and from PUBLIC. The current user is made a
    member (when it is not a superuser) so it can also ``SET ROLE`` to it.

    Parameters
    ----------
    conn
        A connection as the tables' owner (or a superuser).
    role
        Role name.
    password
        Sets (or changes) the role's password; implies LOGIN.
    schema
        The schema whose tables the role reads.
    login
        LOGIN (True) or NOLOGIN (False). Default: LOGIN when a password is given; an
        existing role keeps its setting when neither is given.
    datasets
        The datasets the role may read; :func:`datalake.datasets.ask_datasets` by default.

    Raises
    ------
    ConfigurationError
        The role exists with superuser, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS.
    """
    can_login = login if login is not None else (True if password is not None else None)
    ident = sql.Identifier(role)
    with conn.transaction():
        # Serialise concurrent callers: CREATE ROLE has no IF NOT EXISTS.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"datalake:role:{role}",))
        attributes = conn.execute(
            sql.SQL("SELECT {} FROM pg_roles WHERE rolname = %s").format(
                sql.SQL(", ").join(map(sql.Identifier, _PRIVILEGED))
            ),
            (role,),
        ).fetchone()
        options = [sql.SQL("LOGIN" if can_login else "NOLOGIN")] if can_login is not None else []
        if password is not None:
            # Utility statements take no bind parameters; Literal quotes it client-side.
            options.append(sql.SQL("PASSWORD {}").format(sql.Literal(password)))
        if attributes is None:
            conn.execute(
                sql.SQL("CREATE ROLE {} WITH {}").format(
                    ident, sql.SQL(" ").join(options or [sql.SQL("NOLOGIN")])
                )
            )
        else:
            granted = [name for name, on in zip(_PRIVILEGED, attributes, strict=True) if on]
            if granted:
                raise ConfigurationError(
                    f"role {role} exists with {', '.join(granted)}: not a read-only role",
                    hint="pick another READER_ROLE or strip those attributes",
                )
            if options:
                conn.execute(sql.SQL("ALTER ROLE {} WITH {}").format(ident, sql.SQL(" ").join(options)))
        _grant_select_only(conn, ident, schema, _readable_columns(conn, schema, datasets))
        _ensure_membership(conn, role, ident)


def reader_url(url: str, role: str, password: str | None = None) -> str:
    """``url`` with its user and password replaced by the reader's.

    Parameters
    ----------
    url
        The owner's URL (``postgresql://`` or ``key=value``).
    role
        The reader role (a LOGIN role).
    password
        Its password; None for trust or peer authentication (the embedded server).

    Returns
    -------
    str
        The same kind of string as ``url``.
    """
    if url.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(url)
        hostport = parts.netloc.rpartition("@")[2]
        userinfo = quote(role, safe="")
        if password is not None:
            userinfo += ":" + quote(password, safe="")
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{hostport}"))
    params = conninfo_to_dict(url)
    params.pop("password", None)
    params["user"] = role
    if password is not None:
        params["password"] = password
    return make_conninfo("", **params)


def _readable_columns(
    conn: psycopg.Connection[Any], schema: str, datasets: Sequence[DatasetSpec] | None
) -> dict[str, list[str]]:
    """Warehouse table -> its non-personal columns present in ``schema``, for /ask's datasets
    (and the rollups the sync derives from them)."""
    from datalake.datasets import ASK_ROLLUPS, ask_datasets

    wanted = {
        spec.warehouse_table: spec.public_column_names
        for spec in ((*ask_datasets(), *ASK_ROLLUPS) if datasets is None else datasets)
        if spec.warehouse_table
    }
    present: dict[str, set[str]] = {}
    for table, column in conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = ANY(%s)",
        (schema, list(wanted)),
    ):
        present.setdefault(table, set()).add(column)
    return {
        table: [c for c in columns if c in present[table]]
        for table, columns in wanted.items()
        if table in present
    }


def _grant_select_only(
    conn: psycopg.Connection[Any], role: sql.Identifier, schema: str, readable: dict[str, list[str]]
) -> None:
    names = {"schema": sql.Identifier(schema), "role": role}
    statements = (
        "GRANT USAGE ON SCHEMA {schema} TO {role}",
        "REVOKE CREATE ON SCHEMA {schema} FROM {role}",
        # REVOKE ALL (column grants included) then GRANT, in one transaction: no gap for readers.
        "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
        "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
        # Earlier versions granted SELECT on every future table; nothing is readable by default now.
        "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON TABLES FROM {role}",
    )
    for statement in statements:
        conn.execute(sql.SQL(statement).format(**names))
    for table, columns in sorted(readable.items()):
        if columns:
            conn.execute(
                sql.SQL("GRANT SELECT ({columns}) ON {table} TO {role}").format(
                    columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
                    table=sql.Identifier(schema, table),
                    role=role,
                )
            )
    # Temporary tables would let the role write; PUBLIC holds TEMP by default, so revoke it there too.
    database = sql.Identifier(conn.info.dbname)
    for grantee in (role, sql.SQL("PUBLIC")):
        conn.execute(sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM {}").format(database, grantee))


def _ensure_membership(conn: psycopg.Connection[Any], role: str, ident: sql.Identifier) -> None:
    # From PostgreSQL 16 the creator of a role gets ADMIN on it but not SET, so SET ROLE
    # needs an explicit grant; superusers can SET ROLE to anyone.
    privilege = "SET" if conn.info.server_version >= 160000 else "MEMBER"
    row = conn.execute(
        "SELECT rolsuper OR pg_has_role(current_user, %s, %s) FROM pg_roles WHERE rolname = current_user",
        (role, privilege),
    ).fetchone()
    if not (row and row[0]):
        conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(ident))
