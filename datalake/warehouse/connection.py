"""Where the serving database is, and connections to it with the lake's timeouts applied."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from datalake.errors import ConfigurationError, WarehouseUnavailableError
from datalake.settings import Settings, get_settings
from datalake.warehouse.server import EmbeddedPostgres

logger = logging.getLogger(__name__)

_URL_SCHEMES = ("postgresql://", "postgres://")


def database_url(settings: Settings | None = None, *, boto3_session: Any | None = None) -> str:
    """The URL of the serving database for these settings.

    In order: on ``LAKE_RUNTIME=aws`` with ``DATABASE_SECRET_ARN``, the credentials come from
    Secrets Manager (an RDS secret: ``username``, ``password``, ``host``, ``port``,
    ``dbname``; a secret with only the credentials, as RDS-managed master secrets have, takes
    its endpoint from ``DATABASE_URL``); else ``DATABASE_URL`` when set; else, on the local
    runtime, the embedded server under the lake root, started when it is not running.

    Parameters
    ----------
    settings
        The lake settings; the process's when omitted.
    boto3_session
        Session for the Secrets Manager client (tests pass one pointed at moto).

    Returns
    -------
    str
        A ``postgresql://`` URL. It may carry a password: log it through :func:`redact_url`.

    Raises
    ------
    ConfigurationError
        AWS runtime with neither a secret nor a URL, or a secret that cannot be read or used.
    """
    settings = settings or get_settings()
    if settings.lake_runtime == "aws" and settings.database_secret_arn:
        return _url_from_secret(settings, boto3_session)
    if settings.database_url:
        return settings.database_url
    if settings.lake_runtime == "aws":
        raise ConfigurationError(
            "no serving database configured for the AWS runtime",
            hint="set DATABASE_SECRET_ARN (RDS secret) or DATABASE_URL",
        )
    return EmbeddedPostgres(settings.pg_data_dir).start()


def connect(
    url: str,
    *,
    settings: Settings | None = None,
    read_only: bool = False,
    autocommit: bool = False,
    application_name: str = "datalake",
) -> psycopg.Connection[Any]:
    """Open a connection with the lake's connect and statement timeouts.

    The session also runs in UTC (timestamps come back as UTC-aware datetimes) and, with
    ``read_only``, defaults every transaction to READ ONLY. That default is a guard against
    mistakes, not a security boundary (a session can turn it off): untrusted SQL must run as
    the reader role (see :mod:`datalake.warehouse.roles`).

    Parameters
    ----------
    url
        A libpq URL or ``key=value`` string.
    settings
        Source of ``db_connect_timeout_s`` and ``db_statement_timeout_ms``.
    read_only
        Make transactions read-only by default.
    autocommit
        The connection's autocommit mode.
    application_name
        Shown in ``pg_stat_activity``.

    Returns
    -------
    psycopg.Connection

    Raises
    ------
    WarehouseUnavailableError
        The server cannot be reached within the connect timeout (per address tried); the
        message names host and port, never the password.
    ConfigurationError
        The URL cannot be parsed.
    """
    settings = settings or get_settings()
    target = describe_target(url)
    try:
        conn = psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=settings.db_connect_timeout_s,
            application_name=application_name,
        )
    except psycopg.ProgrammingError as exc:
        raise ConfigurationError(f"invalid PostgreSQL URL {redact_url(url)}: {_one_line(exc, url)}") from None
    except psycopg.OperationalError as exc:
        raise WarehouseUnavailableError(
            f"cannot connect to PostgreSQL at {target}: {_one_line(exc, url)}",
            hint="check that the server runs and DATABASE_URL / the secret point at it",
        ) from None
    try:
        # set_config outside a transaction: a later ROLLBACK must not undo the session setup.
        conn.execute(
            "SELECT set_config('statement_timeout', %s, false),"
            " set_config('TimeZone', 'UTC', false),"
            " set_config('default_transaction_read_only', %s, false)",
            (str(settings.db_statement_timeout_ms), "on" if read_only else "off"),
        )
        conn.autocommit = autocommit
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def connection(
    settings: Settings | None = None,
    *,
    url: str | None = None,
    read_only: bool = False,
    autocommit: bool = False,
    boto3_session: Any | None = None,
) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the serving database that commits on success and always closes.

    Parameters
    ----------
    settings
        The lake settings; the process's when omitted.
    url
        Where to connect; :func:`database_url` of the settings when omitted.
    read_only, autocommit
        As for :func:`connect`.
    boto3_session
        As for :func:`database_url`.

    Yields
    ------
    psycopg.Connection
        Committed when the block exits normally, rolled back when it raises.
    """
    settings = settings or get_settings()
    url = url or database_url(settings, boto3_session=boto3_session)
    conn = connect(url, settings=settings, read_only=read_only, autocommit=autocommit)
    with conn:
        yield conn


def describe_target(url: str) -> str:
    """``host:port`` (or the socket directory and port) that ``url`` points at; no secrets.

    Parameters
    ----------
    url
        A libpq URL or ``key=value`` string.

    Returns
    -------
    str
    """
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparsable URL>"
    host = str(params.get("host") or params.get("hostaddr") or "<default socket>")
    port = str(params.get("port") or "5432")
    return f"{host}:{port}"


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for logs and error messages).

    Parameters
    ----------
    url
        A libpq URL or ``key=value`` string.

    Returns
    -------
    str
    """
    if url.startswith(_URL_SCHEMES):
        parts = urlsplit(url)
        if parts.password is not None:
            userinfo, _, hostport = parts.netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            parts = parts._replace(netloc=f"{user}:***@{hostport}")
        query = re.sub(r"(?i)(password=)[^&]*", r"\1***", parts.query)
        return urlunsplit(parts._replace(query=query))
    return re.sub(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", url)


def make_url(*, user: str, password: str | None, host: str, port: int | str = 5432, dbname: str) -> str:
    """A ``postgresql://`` URL with every part percent-encoded.

    Parameters
    ----------
    user, password, host, port, dbname
        The connection parts; ``password`` may be None (trust, peer or .pgpass auth).

    Returns
    -------
    str
    """
    userinfo = quote(user, safe="")
    if password is not None:
        userinfo += ":" + quote(password, safe="")
    if host.startswith("/"):  # a socket directory goes in the query string
        return f"postgresql://{userinfo}@/{quote(dbname, safe='')}?host={quote(host)}&port={port}"
    host_part = f"[{host}]" if ":" in host else host
    return f"postgresql://{userinfo}@{host_part}:{port}/{quote(dbname, safe='')}"


def reader_password(settings: Settings | None = None, *, boto3_session: Any | None = None) -> str | None:
    """The password of ``READER_ROLE``, the login that runs /ask's SQL.

    On ``LAKE_RUNTIME=aws`` with ``READER_SECRET_ARN``, it comes from that Secrets Manager
    secret (JSON ``{"username", "password"}``, provisioned by the warehouse stack); else from
    ``READER_PASSWORD``; else None (trust or peer authentication: the embedded server). The
    sync sets it on the role, the API logs in with it: both read it here.

    Parameters
    ----------
    settings, boto3_session
        As for :func:`database_url`.

    Returns
    -------
    str or None
        Never log it; errors about the secret name its ARN, never its value.

    Raises
    ------
    ConfigurationError
        The secret cannot be read, is not JSON with ``username`` and ``password``, or names
        another user than ``READER_ROLE``.
    """
    settings = settings or get_settings()
    arn = settings.reader_secret_arn
    if settings.lake_runtime == "aws" and arn:
        secret = _read_secret(arn, "reader", "READER_SECRET_ARN", settings, boto3_session)
        if str(secret["username"]) != settings.reader_role:
            raise ConfigurationError(
                f"READER_SECRET_ARN: secret {arn} is for user {secret['username']!r}, "
                f"not READER_ROLE {settings.reader_role!r}",
                hint="make READER_ROLE and the secret's username agree",
            )
        return str(secret["password"])
    value = settings.reader_password.get_secret_value() if settings.reader_password else ""
    return value or None


def password_verifier(conn: psycopg.Connection[Any], role: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of ``password`` for ``role``, computed here by libpq.

    ``CREATE/ALTER ROLE ... PASSWORD`` accepts it in place of the clear text, which then never
    reaches the server, so no server log (slow or failed statements) can hold the password.

    Parameters
    ----------
    conn
        Any connection to the server (libpq's ``PQencryptPasswordConn`` uses it).
    role, password
        The login and its clear-text password.

    Returns
    -------
    str
        ``SCRAM-SHA-256$<iterations>:<salt>$<stored key>:<server key>``, salted afresh each call.
    """
    return conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()


def _read_secret(
    arn: str, label: str, setting: str, settings: Settings, boto3_session: Any | None
) -> dict[str, Any]:
    """A JSON secret with ``username`` and ``password``; errors name the secret, never its value."""
    from datalake import aws

    payload = aws.secret_string(arn, label, setting, settings, boto3_session)
    try:
        secret = json.loads(payload)
    except (ValueError, TypeError):
        secret = None
    if not isinstance(secret, dict) or not {"username", "password"} <= secret.keys():
        # The payload itself never goes into the message: it holds the password.
        raise ConfigurationError(
            f"{label} secret {arn} is not JSON with 'username' and 'password'", hint=f"check {setting}"
        )
    return secret


def _url_from_secret(settings: Settings, boto3_session: Any | None) -> str:
    arn = settings.database_secret_arn or ""
    secret = _read_secret(arn, "database", "DATABASE_SECRET_ARN", settings, boto3_session)
    user, password = secret["username"], secret["password"]
    # RDS-managed master secrets hold only the credentials; the endpoint then comes from
    # DATABASE_URL (written without a password).
    fallback = conninfo_to_dict(settings.database_url) if settings.database_url else {}
    host = secret.get("host") or fallback.get("host")
    if not host:
        raise ConfigurationError(
            f"database secret {arn} has no 'host'",
            hint="set DATABASE_URL to the endpoint (postgresql://host:port/dbname, no password)",
        )
    return make_url(
        user=str(user),
        password=str(password),
        host=str(host),
        port=secret.get("port") or fallback.get("port") or 5432,
        dbname=str(secret.get("dbname") or secret.get("database") or fallback.get("dbname") or "postgres"),
    )


def _one_line(exc: BaseException, url: str) -> str:
    message = " ".join(str(exc).split())
    password = _password_of(url)
    if password:
        for secret in {password, unquote(password)}:
            message = message.replace(secret, "***")
    return message


def _password_of(url: str) -> str | None:
    try:
        value = conninfo_to_dict(url).get("password")
    except psycopg.ProgrammingError:
        # Unparsable as a whole; a URL's password can still be found (and must be hidden).
        value = urlsplit(url).password if url.startswith(_URL_SCHEMES) else None
    return str(value) if value else None
