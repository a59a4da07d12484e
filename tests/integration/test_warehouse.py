"""The warehouse against a real embedded PostgreSQL: server lifecycle, DDL, upserts, roles,
timeouts and unreachable servers (loopback only)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg import errors as pg_errors
from psycopg import sql

from datalake import aws
from datalake.datasets import DEMAND_HOURLY
from datalake.datasets.spec import ColumnSpec
from datalake.errors import (
    ConfigurationError,
    DataValidationError,
    SchemaConflictError,
    WarehouseUnavailableError,
)
from datalake.settings import Settings
from datalake.warehouse import (
    EmbeddedPostgres,
    connect,
    connection,
    database_url,
    ensure_reader_role,
    ensure_table,
    make_url,
    reader_url,
    upsert_frame,
)

# The fixtures live beside this module (tests/integration/conftest.py has another owner).
pytest_plugins = ["warehouse_fixtures"]

Conn = psycopg.Connection[Any]
KEY = list(DEMAND_HOURLY.primary_key)
UTC = dt.UTC
# Built at run time so that no source line a traceback quotes contains it.
PASSWORD = "".join(["secret", "pw", "42"])


def demand_frame(hours: int, start: str = "2024-03-30T20:00Z", seed: int = 0) -> pd.DataFrame:
    """Hourly demand rows (across the spring DST change), with the partition columns too."""
    ts = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    rng = np.random.default_rng(seed)
    forecast = rng.uniform(20_000, 40_000, hours)
    forecast[::5] = np.nan
    return pd.DataFrame(
        {
            "ts_utc": ts,
            "local_date": ts.tz_convert("Europe/Madrid").date,
            "region": "national",
            "demand_mw": rng.uniform(20_000, 40_000, hours),
            "source": "sample",
            "tso_forecast_mw": forecast,
            "extracted_at": pd.Timestamp("2024-04-01T08:15:30.123456Z"),
            "year": ts.year,
            "month": ts.month,
        }
    )


def table_rows(conn: Conn, schema: str, with_xmin: bool = False) -> list[tuple[Any, ...]]:
    """Every row in key order; ``xmin`` (the writing transaction) shows rewrites."""
    columns = sql.SQL(", ").join(map(sql.Identifier, DEMAND_HOURLY.column_names))
    if with_xmin:
        columns = sql.SQL("xmin::text, {}").format(columns)
    query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
        columns,
        sql.Identifier(schema, "demand_hourly"),
        sql.SQL(", ").join(map(sql.Identifier, KEY)),
    )
    return conn.execute(query).fetchall()


# -- the embedded server -------------------------------------------------------------------


def test_server_start_status_stop_start_again(pg_dir: Path) -> None:
    server = EmbeddedPostgres(pg_dir / "lake" / "_pg")
    before = server.status()
    assert before["running"] is False
    assert before["pid"] is None
    assert before["initialized"] is False
    with pytest.raises(WarehouseUnavailableError, match="not running"):
        _ = server.url
    try:
        url = server.start()
        status = server.status()
        assert status["running"] is True
        assert status["url"] == url == server.url
        assert status["data_dir"] == str((pg_dir / "lake" / "_pg").resolve())
        assert f"host={status['data_dir']}" in url
        # Idempotent: the same server, from this object and from a fresh one on the same dir.
        assert server.start() == url
        assert EmbeddedPostgres(pg_dir / "lake" / "_pg").status()["pid"] == status["pid"]
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)

        assert server.stop() is True
        assert server.status()["running"] is False
        assert server.stop() is False  # stopping a stopped server is a no-op
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=2)

        assert server.start() == url
        assert server.status()["running"] is True
        assert server.status()["pid"] != status["pid"]
    finally:
        server.stop()


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_server_outlives_the_process_that_started_it_and_stops_from_another(
    pg_dir: Path,
) -> None:
    data_dir = pg_dir / "lake" / "_pg"
    prelude = f"from datalake.warehouse import EmbeddedPostgres; s = EmbeddedPostgres({str(data_dir)!r})"
    started = _run_python(f"{prelude}; print(s.start())")
    server = EmbeddedPostgres(data_dir)
    try:
        assert started.returncode == 0, started.stderr
        assert server.status()["running"] is True, "the server died with its starting process"
        with psycopg.connect(started.stdout.strip()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)

        stopped = _run_python(f"{prelude}; print(s.stop())")
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout.strip() == "True"
        assert server.status()["running"] is False
    finally:
        server.stop()


def test_stale_postmaster_pid_file_does_not_block_a_start(pg_dir: Path) -> None:
    server = EmbeddedPostgres(pg_dir / "_pg")
    try:
        server.start()
        pid_file = server.data_dir / "postmaster.pid"
        lines = pid_file.read_text().splitlines()
        server.stop()
        # As after a crash and a reboot: the file survives and its pid now belongs to
        # an unrelated live process (this one).
        pid_file.write_text("\n".join([str(os.getpid()), *lines[1:]]) + "\n")
        assert server.status()["running"] is False
        server.start()
        assert server.status()["running"] is True
        assert server.status()["pid"] != os.getpid()
    finally:
        server.stop()


def test_socket_held_by_another_server_is_a_configuration_error(
    pg_dir: Path, embedded_pg: EmbeddedPostgres
) -> None:
    server = EmbeddedPostgres(pg_dir / "_pg")
    server.start()
    server.stop()
    # Another live postmaster (the session server) claims this directory's socket.
    lock = server.data_dir / ".s.PGSQL.5432.lock"
    lock.write_text(f"{embedded_pg.status()['pid']}\n")
    lock.chmod(0o644)
    try:
        with pytest.raises(ConfigurationError) as info:
            server.start()
        message = str(info.value)
        assert "in use" in message
        assert ".s.PGSQL.5432.lock" in message
        assert "\n" not in message
        assert info.value.hint and "stop the other server" in info.value.hint
        assert server.status()["running"] is False
    finally:
        lock.unlink(missing_ok=True)
        server.stop()


def test_database_url_starts_the_embedded_server_under_the_lake_root(pg_dir: Path) -> None:
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=pg_dir / "lake")
    try:
        url = database_url(settings)
        assert f"host={settings.pg_data_dir.resolve()}" in url
        assert EmbeddedPostgres(settings.pg_data_dir).status()["running"] is True
        with connection(settings, url=url) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
    finally:
        EmbeddedPostgres(settings.pg_data_dir).stop()


def test_database_url_prefers_database_url_and_starts_nothing(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None, lake_root=tmp_path / "lake", database_url="postgresql://u@db.example/x"
    )
    assert database_url(settings) == "postgresql://u@db.example/x"
    assert not settings.pg_data_dir.exists()


def test_aws_runtime_without_database_is_a_configuration_error(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, lake_runtime="aws", lake_root=tmp_path / "lake")
    with pytest.raises(ConfigurationError, match="no serving database"):
        database_url(settings)
    assert not settings.pg_data_dir.exists()


def test_aws_runtime_reads_rds_credentials_from_secrets_manager(
    moto_settings: Settings, embedded_pg: EmbeddedPostgres
) -> None:
    socket_dir = embedded_pg.status()["data_dir"]
    client = aws.client("secretsmanager", settings=moto_settings)
    full = client.create_secret(
        Name="rds/full",
        SecretString=json.dumps(
            {
                "engine": "postgres",
                "username": "postgres",
                "password": "pa:ss@word",
                "host": socket_dir,
                "port": 5432,
                "dbname": "postgres",
            }
        ),
    )["ARN"]
    settings = moto_settings.model_copy(update={"database_secret_arn": full})
    url = database_url(settings)
    assert url == make_url(
        user="postgres", password="pa:ss@word", host=socket_dir, port=5432, dbname="postgres"
    )
    with connection(settings, url=url) as conn:  # the URL really reaches the server
        assert conn.execute("SELECT current_database()").fetchone() == ("postgres",)

    # RDS-managed master secrets carry only the credentials: the endpoint is DATABASE_URL's.
    managed = client.create_secret(
        Name="rds/managed", SecretString=json.dumps({"username": "app", "password": "pw"})
    )["ARN"]
    settings = moto_settings.model_copy(
        update={
            "database_secret_arn": managed,
            "database_url": "postgresql://db.example:6543/lake",
        }
    )
    assert database_url(settings) == "postgresql://app:pw@db.example:6543/lake"

    missing = moto_settings.model_copy(update={"database_secret_arn": full.replace("rds/full", "rds/nope")})
    with pytest.raises(ConfigurationError, match=r"cannot read database secret .*rds/nope"):
        database_url(missing)


# -- connections -----------------------------------------------------------------------------


def closed_loopback_port() -> int:
    """A loopback port with nothing listening on it (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _error_text(exc: BaseException) -> str:
    """The traceback as printed, plus the suppressed driver error it still carries."""
    return "".join(traceback.format_exception(exc)) + repr(exc.__context__)


def test_refused_connection_names_host_and_port_but_not_the_password() -> None:
    settings = Settings(_env_file=None, db_connect_timeout_s=2)
    port = closed_loopback_port()
    started = time.monotonic()
    with pytest.raises(WarehouseUnavailableError) as info:
        connect(f"postgresql://u:{PASSWORD}@127.0.0.1:{port}/db", settings=settings)
    assert time.monotonic() - started < 2 + 3
    assert f"127.0.0.1:{port}" in str(info.value)
    assert PASSWORD not in _error_text(info.value)


def test_unresponsive_server_times_out_instead_of_hanging() -> None:
    """A listener that never answers (what a firewalled RDS endpoint looks like), on loopback."""
    settings = Settings(_env_file=None, db_connect_timeout_s=2)
    with socket.socket() as blackhole:
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(8)  # the kernel completes the handshake; nobody ever answers
        port = blackhole.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(WarehouseUnavailableError) as info:
            connect(f"postgresql://u:{PASSWORD}@127.0.0.1:{port}/db", settings=settings)
        elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 2 + 3, f"took {elapsed:.1f}s with a 2s connect timeout"
    assert f"127.0.0.1:{port}" in str(info.value)
    assert "timeout" in str(info.value)
    assert PASSWORD not in _error_text(info.value)


def test_other_loopback_address_with_nothing_listening_fails_fast() -> None:
    settings = Settings(_env_file=None, db_connect_timeout_s=2)
    port = closed_loopback_port()
    started = time.monotonic()
    with pytest.raises(WarehouseUnavailableError, match=rf"127\.255\.255\.254:{port}"):
        connect(f"postgresql://u:{PASSWORD}@127.255.255.254:{port}/db", settings=settings)
    assert time.monotonic() - started < 2 + 3


def test_statement_timeout_is_applied_and_survives_rollback(pg_settings: Settings) -> None:
    settings = pg_settings.model_copy(update={"db_statement_timeout_ms": 100})
    with connect(settings.database_url or "", settings=settings) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("100ms",)
        started = time.monotonic()
        with pytest.raises(pg_errors.QueryCanceled, match="statement timeout"):
            conn.execute("SELECT pg_sleep(5)")
        assert time.monotonic() - started < 3
        conn.rollback()
        assert conn.execute("SHOW statement_timeout").fetchone() == ("100ms",)
        assert conn.execute("SHOW TimeZone").fetchone() == ("UTC",)


def test_read_only_connection_refuses_writes(pg_settings: Settings, pg_schema: str) -> None:
    url = pg_settings.database_url or ""
    with (
        connect(url, settings=pg_settings, read_only=True) as conn,
        pytest.raises(pg_errors.ReadOnlySqlTransaction),
    ):
        conn.execute(sql.SQL("CREATE TABLE {}.x (a int)").format(sql.Identifier(pg_schema)))


def test_connection_commits_on_success_and_rolls_back_on_error(
    pg_settings: Settings, pg_schema: str, pg_conn: Conn
) -> None:
    table = sql.Identifier(pg_schema, "t")
    with connection(pg_settings) as conn:
        conn.execute(sql.SQL("CREATE TABLE {} (a int)").format(table))
        conn.execute(sql.SQL("INSERT INTO {} VALUES (1)").format(table))
    with pytest.raises(RuntimeError), connection(pg_settings) as conn:
        conn.execute(sql.SQL("INSERT INTO {} VALUES (2)").format(table))
        raise RuntimeError("boom")
    assert pg_conn.execute(sql.SQL("SELECT a FROM {}").format(table)).fetchall() == [(1,)]
    assert conn.closed


# -- DDL ---------------------------------------------------------------------------------------


def _columns(conn: Conn, schema: str) -> dict[str, tuple[str, str]]:
    rows = conn.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = 'demand_hourly'",
        (schema,),
    ).fetchall()
    return {name: (data_type, nullable) for name, data_type, nullable in rows}


def test_ensure_table_creates_then_evolves(pg_conn: Conn, pg_schema: str) -> None:
    change = ensure_table(pg_conn, DEMAND_HOURLY, pg_schema)
    assert change.created is True
    assert _columns(pg_conn, pg_schema) == {
        "ts_utc": ("timestamp with time zone", "NO"),
        "local_date": ("date", "NO"),
        "region": ("text", "NO"),
        "demand_mw": ("double precision", "NO"),
        "source": ("text", "NO"),
        "tso_forecast_mw": ("double precision", "YES"),
        "extracted_at": ("timestamp with time zone", "NO"),
    }
    again = ensure_table(pg_conn, DEMAND_HOURLY, pg_schema)
    assert (again.created, again.added_columns, again.changed) == (False, (), False)
    indexes = pg_conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = 'demand_hourly'",
        (pg_schema,),
    ).fetchall()
    secondary = {name: definition for name, definition in indexes if not name.endswith("_pkey")}
    # local_date: the partition source, by which a partition's sync finds the rows it replaces.
    assert sorted(secondary) == ["demand_hourly_local_date_idx", "demand_hourly_region_source_idx"]
    assert secondary["demand_hourly_region_source_idx"].endswith("(region, source)")

    upsert_frame(pg_conn, DEMAND_HOURLY, demand_frame(3), schema=pg_schema)
    wider = dataclasses.replace(
        DEMAND_HOURLY,
        columns=(
            *DEMAND_HOURLY.columns,
            ColumnSpec("price_eur_mwh", "decimal(10,2)", False),
            ColumnSpec("note", "string"),
        ),
    )
    evolved = ensure_table(pg_conn, wider, pg_schema)
    assert evolved.added_columns == ("price_eur_mwh", "note")
    columns = _columns(pg_conn, pg_schema)
    # Rows already there have no value for a new column, so it is added nullable.
    assert columns["price_eur_mwh"] == ("numeric", "YES")
    assert columns["note"] == ("text", "YES")
    assert ensure_table(pg_conn, wider, pg_schema).changed is False

    frame = demand_frame(3).assign(price_eur_mwh=[10.005, 20.0, 30.1], note=["a", "", None])
    result = upsert_frame(pg_conn, wider, frame, schema=pg_schema)
    assert (result.updated, result.unchanged) == (3, 0)
    stored = pg_conn.execute(
        sql.SQL("SELECT price_eur_mwh::text, note FROM {} ORDER BY ts_utc").format(
            sql.Identifier(pg_schema, "demand_hourly")
        )
    ).fetchall()
    # numeric rounds half away from zero; an empty string is not NULL.
    assert stored == [("10.01", "a"), ("20.00", ""), ("30.10", None)]


def test_ensure_table_type_mismatch_names_table_column_and_types(pg_conn: Conn, pg_schema: str) -> None:
    ensure_table(pg_conn, DEMAND_HOURLY, pg_schema)
    changed = dataclasses.replace(
        DEMAND_HOURLY,
        columns=tuple(
            dataclasses.replace(c, type="bigint") if c.name == "demand_mw" else c
            for c in DEMAND_HOURLY.columns
        ),
    )
    with pytest.raises(SchemaConflictError) as info:
        ensure_table(pg_conn, changed, pg_schema)
    message = str(info.value)
    for part in (f"{pg_schema}.demand_hourly", "demand_mw", "double precision", "bigint"):
        assert part in message
    assert info.value.conflicts == [
        {
            "table": f"{pg_schema}.demand_hourly",
            "column": "demand_mw",
            "expected": "bigint",
            "actual": "double precision",
        }
    ]

    rekeyed = dataclasses.replace(DEMAND_HOURLY, primary_key=("ts_utc", "region"))
    with pytest.raises(SchemaConflictError, match="primary key is"):
        ensure_table(pg_conn, rekeyed, pg_schema)


# -- upserts -------------------------------------------------------------------------------


def test_upsert_inserts_and_a_rerun_changes_nothing(pg_conn: Conn, pg_schema: str) -> None:
    frame = demand_frame(48)
    first = upsert_frame(pg_conn, DEMAND_HOURLY, frame, schema=pg_schema)
    assert (first.rows_in, first.inserted, first.updated, first.unchanged) == (48, 48, 0, 0)
    before = table_rows(pg_conn, pg_schema, with_xmin=True)
    assert len(before) == 48

    second = upsert_frame(pg_conn, DEMAND_HOURLY, frame, schema=pg_schema)
    assert (second.inserted, second.updated, second.unchanged, second.duplicates) == (0, 0, 48, 0)
    # Same values *and* same xmin: no row was even rewritten.
    assert table_rows(pg_conn, pg_schema, with_xmin=True) == before


def test_upsert_counts_updates_inserts_and_unchanged(pg_conn: Conn, pg_schema: str) -> None:
    upsert_frame(pg_conn, DEMAND_HOURLY, demand_frame(24), schema=pg_schema)
    later = demand_frame(2, start="2024-03-31T20:00Z", seed=1)
    frame = pd.concat([demand_frame(24), later], ignore_index=True)  # two hours more
    frame.loc[[0, 5, 9], "demand_mw"] += 1.0
    frame.loc[3, "tso_forecast_mw"] = np.nan  # a value becoming NULL is a change too
    result = upsert_frame(pg_conn, DEMAND_HOURLY, frame, schema=pg_schema)
    assert result.rows_in == 26
    assert (result.inserted, result.updated, result.unchanged) == (2, 4, 20)
    stored = table_rows(pg_conn, pg_schema)
    assert len(stored) == 26
    assert stored[5][3] == pytest.approx(frame.loc[5, "demand_mw"], abs=0)
    assert stored[3][5] is None


def test_duplicate_keys_keep_the_last_row_or_raise(pg_conn: Conn, pg_schema: str) -> None:
    frame = demand_frame(4)
    late = frame.iloc[[1, 1]].assign(demand_mw=[111.0, 222.0])
    result = upsert_frame(pg_conn, DEMAND_HOURLY, pd.concat([frame, late]), schema=pg_schema)
    assert (result.rows_in, result.duplicates, result.inserted) == (6, 2, 4)
    assert result.rows_in == result.duplicates + result.inserted + result.updated + result.unchanged
    assert table_rows(pg_conn, pg_schema)[1][3] == 222.0

    before = table_rows(pg_conn, pg_schema)
    with pytest.raises(DataValidationError) as info:
        upsert_frame(
            pg_conn,
            DEMAND_HOURLY,
            pd.concat([frame, frame.iloc[[0]]]),
            schema=pg_schema,
            on_duplicate="raise",
        )
    assert info.value.field == "ts_utc, region, source"
    assert "1 row(s) repeat a primary key" in str(info.value)
    assert table_rows(pg_conn, pg_schema) == before


def test_same_instant_in_two_time_zones_is_one_key(pg_conn: Conn, pg_schema: str) -> None:
    frame = demand_frame(1)
    madrid = frame.assign(ts_utc=frame["ts_utc"].dt.tz_convert("Europe/Madrid"), demand_mw=5.0)
    both = pd.concat([frame.astype({"ts_utc": object}), madrid.astype({"ts_utc": object})])
    result = upsert_frame(pg_conn, DEMAND_HOURLY, both, schema=pg_schema)
    assert (result.duplicates, result.inserted) == (1, 1)
    assert table_rows(pg_conn, pg_schema)[0][3] == 5.0


def test_nulls_timestamps_and_dates_round_trip_exactly(pg_conn: Conn, pg_schema: str) -> None:
    # Local Madrid times across the spring-forward gap (02:00 CET does not exist).
    local = pd.to_datetime(
        ["2024-03-31 01:59:59.999999", "2024-03-31 03:00:00.000001", "2024-03-31 04:30:00"],
        format="ISO8601",
    ).tz_localize("Europe/Madrid")
    frame = pd.DataFrame(
        {
            "ts_utc": local,
            "local_date": [dt.date(2024, 3, 31), "2024-03-31", pd.Timestamp("2024-03-31")],
            "region": ["national", "peninsular", "national"],
            "demand_mw": [0.1, 1e-300, 27_123.456789012345],
            "source": "sample",
            "tso_forecast_mw": pd.Series([None, np.nan, 3.5], dtype=object),
            # Naive timestamps are UTC by the lake's contract.
            "extracted_at": [pd.Timestamp("2024-04-01 08:15:30.123456"), pd.NaT, pd.NaT],
        }
    )
    spec = dataclasses.replace(
        DEMAND_HOURLY,
        columns=tuple(
            dataclasses.replace(c, nullable=True) if c.name == "extracted_at" else c
            for c in DEMAND_HOURLY.columns
        ),
    )
    upsert_frame(pg_conn, spec, frame, schema=pg_schema)
    rows = table_rows(pg_conn, pg_schema)
    by_ts = {row[0]: row for row in rows}
    expected_ts = [
        dt.datetime(2024, 3, 31, 0, 59, 59, 999999, tzinfo=UTC),
        dt.datetime(2024, 3, 31, 1, 0, 0, 1, tzinfo=UTC),
        dt.datetime(2024, 3, 31, 2, 30, tzinfo=UTC),
    ]
    assert sorted(by_ts) == expected_ts
    assert all(ts.utcoffset() == dt.timedelta(0) for ts in by_ts)
    first, second, third = (by_ts[ts] for ts in expected_ts)
    assert {row[1] for row in rows} == {dt.date(2024, 3, 31)}
    assert (first[3], second[3], third[3]) == (0.1, 1e-300, 27_123.456789012345)
    assert (first[5], second[5], third[5]) == (None, None, 3.5)
    assert first[6] == dt.datetime(2024, 4, 1, 8, 15, 30, 123456, tzinfo=UTC)
    assert second[6] is None
    # And reading it all back in, the same load is a no-op.
    assert upsert_frame(pg_conn, spec, frame, schema=pg_schema).unchanged == 3


def test_missing_column_is_named_and_nothing_is_written(pg_conn: Conn, pg_schema: str) -> None:
    with pytest.raises(DataValidationError) as info:
        upsert_frame(pg_conn, DEMAND_HOURLY, demand_frame(2).drop(columns="region"), schema=pg_schema)
    assert info.value.field == "region"
    assert str(info.value).startswith("region: missing from the input")
    assert _columns(pg_conn, pg_schema) == {}  # not even the table was created


def test_nulls_in_a_non_nullable_column_are_named(pg_conn: Conn, pg_schema: str) -> None:
    frame = demand_frame(3)
    frame.loc[1, "demand_mw"] = np.nan
    with pytest.raises(DataValidationError, match=r"demand_mw: 1 null value\(s\)") as info:
        upsert_frame(pg_conn, DEMAND_HOURLY, frame, schema=pg_schema)
    assert info.value.field == "demand_mw"


def test_a_value_of_the_wrong_type_is_named(pg_conn: Conn, pg_schema: str) -> None:
    frame = demand_frame(2).astype({"region": object})
    frame.loc[0, "region"] = 7
    with pytest.raises(DataValidationError) as info:
        upsert_frame(pg_conn, DEMAND_HOURLY, frame, schema=pg_schema)
    assert info.value.field == "region"


def test_a_failing_load_leaves_the_table_as_it_was(pg_conn: Conn, pg_schema: str) -> None:
    upsert_frame(pg_conn, DEMAND_HOURLY, demand_frame(10), schema=pg_schema)
    before = table_rows(pg_conn, pg_schema, with_xmin=True)
    frame = demand_frame(12)
    frame["demand_mw"] += 1.0
    frame.loc[11, "source"] = "bad\x00byte"  # PostgreSQL text cannot hold NUL
    with pytest.raises(psycopg.DataError):
        upsert_frame(pg_conn, DEMAND_HOURLY, frame, schema=pg_schema, chunk_rows=4)
    assert table_rows(pg_conn, pg_schema, with_xmin=True) == before


def test_upsert_inside_a_callers_transaction_rolls_back_with_it(pg_conn: Conn, pg_schema: str) -> None:
    ensure_table(pg_conn, DEMAND_HOURLY, pg_schema)
    with pytest.raises(RuntimeError), pg_conn.transaction():
        result = upsert_frame(pg_conn, DEMAND_HOURLY, demand_frame(5), schema=pg_schema)
        assert result.inserted == 5
        raise RuntimeError("the caller's next step failed")
    assert table_rows(pg_conn, pg_schema) == []


def test_progress_is_reported_per_chunk(pg_conn: Conn, pg_schema: str) -> None:
    calls: list[tuple[int, int]] = []
    result = upsert_frame(
        pg_conn,
        DEMAND_HOURLY,
        demand_frame(20),
        schema=pg_schema,
        chunk_rows=7,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(7, 20), (14, 20), (20, 20)]
    assert result.inserted == 20
    assert len(table_rows(pg_conn, pg_schema)) == 20


def test_empty_frame_creates_the_table_and_counts_nothing(pg_conn: Conn, pg_schema: str) -> None:
    result = upsert_frame(pg_conn, DEMAND_HOURLY, demand_frame(0), schema=pg_schema)
    assert (result.rows_in, result.inserted, result.updated, result.unchanged) == (0, 0, 0, 0)
    assert "demand_mw" in _columns(pg_conn, pg_schema)


# -- the reader role -----------------------------------------------------------------------


def test_reader_role_can_select_and_nothing_else(
    pg_settings: Settings, pg_conn: Conn, pg_schema: str, role_name: str
) -> None:
    upsert_frame(pg_conn, DEMAND_HOURLY, demand_frame(5), schema=pg_schema)
    ensure_reader_role(pg_conn, role_name, schema=pg_schema, login=True)
    ensure_reader_role(pg_conn, role_name, schema=pg_schema, login=True)  # idempotent
    table = sql.Identifier(pg_schema, "demand_hourly")
    # Created after the grant: not readable (no default privileges; see test_ask_reader_role.py).
    pg_conn.execute(sql.SQL("CREATE TABLE {} (a int)").format(sql.Identifier(pg_schema, "later")))

    url = reader_url(pg_settings.database_url or "", role_name)
    with connect(url, settings=pg_settings, autocommit=True) as reader:
        assert reader.execute("SELECT current_user").fetchone() == (role_name,)
        assert reader.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone() == (5,)
        later = sql.Identifier(pg_schema, "later")
        forbidden = [
            sql.SQL("SELECT count(*) FROM {}").format(later),
            sql.SQL("INSERT INTO {} (a) VALUES (1)").format(later),
            sql.SQL("DELETE FROM {}").format(table),
            sql.SQL("UPDATE {} SET demand_mw = 0").format(table),
            sql.SQL("TRUNCATE {}").format(table),
            sql.SQL("DROP TABLE {}").format(table),
            sql.SQL("CREATE TABLE {} (a int)").format(sql.Identifier(pg_schema, "mine")),
        ]
        for statement in forbidden:
            with pytest.raises(pg_errors.InsufficientPrivilege):
                reader.execute(statement)
    assert len(table_rows(pg_conn, pg_schema)) == 5


def test_nologin_reader_role_works_through_set_role(pg_conn: Conn, pg_schema: str, role_name: str) -> None:
    upsert_frame(pg_conn, DEMAND_HOURLY, demand_frame(2), schema=pg_schema)
    ensure_reader_role(pg_conn, role_name, schema=pg_schema)
    can_login = pg_conn.execute(
        "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (role_name,)
    ).fetchone()
    assert can_login == (False,)
    table = sql.Identifier(pg_schema, "demand_hourly")
    with pg_conn.transaction():
        pg_conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role_name)))
        assert pg_conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone() == (2,)
        with pytest.raises(pg_errors.InsufficientPrivilege), pg_conn.transaction():
            pg_conn.execute(sql.SQL("DELETE FROM {}").format(table))


def test_a_privileged_role_is_refused_as_reader(pg_conn: Conn, role_name: str) -> None:
    pg_conn.execute(sql.SQL("CREATE ROLE {} CREATEDB").format(sql.Identifier(role_name)))
    with pytest.raises(ConfigurationError, match=f"role {role_name} exists with rolcreatedb"):
        ensure_reader_role(pg_conn, role_name)


def test_a_load_can_have_its_own_statement_timeout(pg_conn: Conn, pg_schema: str) -> None:
    ensure_table(pg_conn, DEMAND_HOURLY, pg_schema)
    with pytest.raises(pg_errors.QueryCanceled):
        upsert_frame(pg_conn, DEMAND_HOURLY, demand_frame(50_000), schema=pg_schema, statement_timeout_ms=1)
    assert table_rows(pg_conn, pg_schema) == []
    # Local to the load's transaction: the session keeps its own limit.
    assert pg_conn.execute("SHOW statement_timeout").fetchone() == ("30s",)
    result = upsert_frame(
        pg_conn, DEMAND_HOURLY, demand_frame(50_000), schema=pg_schema, statement_timeout_ms=0
    )
    assert result.inserted == 50_000
