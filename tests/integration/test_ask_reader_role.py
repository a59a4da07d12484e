"""Issue 14, findings 3 and 4: the /ask reader role reads only /ask's tables (no personal columns,
no temporary tables), and neither warehouse executor runs a second statement."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import psycopg
import pytest
from psycopg import errors as pg_errors
from psycopg import sql

from api.services.ask_executor import PooledReaderExecutor
from datalake.ask.executors import WarehouseExecutor
from datalake.datasets import ASK_ROLLUPS, CLIENTES, DEMAND_HOURLY, PREDICTIONS, TRANSACCIONES, ask_datasets
from datalake.datasets.spec import DatasetSpec
from datalake.errors import QueryError
from datalake.settings import Settings
from datalake.warehouse import connect, ensure_reader_role, reader_url
from datalake.warehouse.sync import upsert_frame

pytest_plugins = ["warehouse_fixtures"]

Conn = psycopg.Connection[Any]
CANARY = "CANARY-5d1c02"


def _clients() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tipo_identificacion": ["CC"],
            "identificacion": ["1234567890"],
            "nombre": [CANARY],
            "ciudad": ["BOGOTÁ"],
            "fecha_carga": [dt.date(2024, 1, 1)],
        }
    )


def _demand() -> pd.DataFrame:
    ts = pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC")
    return pd.DataFrame(
        {
            "ts_utc": ts,
            "local_date": ts.tz_convert("Europe/Madrid").date,
            "region": "national",
            "demand_mw": [25_000.0, 26_000.0, 27_000.0],
            "source": "sample",
            "tso_forecast_mw": None,
            "extracted_at": ts,
        }
    )


def _reader(pg_settings: Settings, role: str) -> Conn:
    return connect(reader_url(pg_settings.database_url or "", role), settings=pg_settings, autocommit=True)


def test_finding_3_the_reader_reads_only_asks_tables(
    pg_settings: Settings, pg_conn: Conn, pg_schema: str, role_name: str
) -> None:
    upsert_frame(pg_conn, DEMAND_HOURLY, _demand(), schema=pg_schema)
    upsert_frame(pg_conn, CLIENTES, _clients(), schema=pg_schema)
    pg_conn.execute(
        sql.SQL("CREATE TABLE {} (served_by text)").format(
            sql.Identifier(pg_schema, PREDICTIONS.warehouse_table)
        )
    )
    ensure_reader_role(pg_conn, role_name, schema=pg_schema, login=True)
    # A table made after the grant (the next dataset's, the API's own) stays closed too.
    pg_conn.execute(sql.SQL("CREATE TABLE {} (secret text)").format(sql.Identifier(pg_schema, "made_later")))

    with _reader(pg_settings, role_name) as reader:
        reader.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(pg_schema)))
        assert reader.execute("SELECT count(*) FROM demand_hourly").fetchone() == (3,)
        # The clients are askable (by city): their public columns only, never a name.
        assert reader.execute("SELECT count(ciudad) FROM energy_clientes").fetchone() == (len(_clients()),)
        for table in ("energy_clientes", "predictions", "made_later"):
            with pytest.raises(pg_errors.InsufficientPrivilege):
                reader.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
    granted = pg_conn.execute(
        "SELECT DISTINCT table_name FROM information_schema.role_column_grants"
        " WHERE grantee = %s AND table_schema = %s",
        (role_name, pg_schema),
    ).fetchall()
    # demand_daily: the rollup the sync keeps of demand_hourly, which /ask's own SQL reads.
    assert {name for (name,) in granted} == {
        spec.warehouse_table for spec in (*ask_datasets(), *ASK_ROLLUPS)
    } & {"demand_hourly", "demand_daily", "energy_clientes"}


def test_finding_3_personal_columns_are_never_granted(
    pg_settings: Settings, pg_conn: Conn, pg_schema: str, role_name: str
) -> None:
    assert {c.name for c in CLIENTES.columns if c.personal} == {"identificacion", "nombre"}
    assert {c.name for c in TRANSACCIONES.columns if c.personal} == {"nombre_cliente_proveedor"}
    # Even a dataset /ask may read keeps its personal columns closed.
    askable_clients = DatasetSpec(
        name="energy_clientes",
        description="clients, askable for this test",
        columns=CLIENTES.columns,
        primary_key=CLIENTES.primary_key,
        warehouse_table="energy_clientes",
        askable=True,
    )
    upsert_frame(pg_conn, CLIENTES, _clients(), schema=pg_schema)
    ensure_reader_role(pg_conn, role_name, schema=pg_schema, login=True, datasets=[askable_clients])
    with _reader(pg_settings, role_name) as reader:
        reader.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(pg_schema)))
        assert reader.execute("SELECT ciudad FROM energy_clientes").fetchall() == [("BOGOTÁ",)]
        for probe in ("SELECT nombre FROM energy_clientes", "SELECT identificacion FROM energy_clientes",
                      "SELECT * FROM energy_clientes"):  # fmt: skip
            with pytest.raises(pg_errors.InsufficientPrivilege):
                reader.execute(probe)


def test_finding_3_the_reader_cannot_create_temporary_tables(
    pg_settings: Settings, pg_conn: Conn, pg_schema: str, role_name: str
) -> None:
    ensure_reader_role(pg_conn, role_name, schema=pg_schema, login=True)
    with _reader(pg_settings, role_name) as reader, pytest.raises(pg_errors.InsufficientPrivilege):
        reader.execute("CREATE TEMP TABLE mine AS SELECT 1 AS a")
    acl = pg_conn.execute(
        "SELECT datacl::text FROM pg_database WHERE datname = current_database()"
    ).fetchone()
    assert acl is not None and "=T" not in acl[0] and "=cT" not in acl[0]  # PUBLIC holds no TEMP


def test_finding_3_default_privileges_are_dropped(pg_conn: Conn, pg_schema: str, role_name: str) -> None:
    # An earlier version left this behind; the next ensure removes it.
    pg_conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role_name)))
    pg_conn.execute(
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
            sql.Identifier(pg_schema), sql.Identifier(role_name)
        )
    )
    ensure_reader_role(pg_conn, role_name, schema=pg_schema)
    left = pg_conn.execute(
        "SELECT defaclacl::text FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace"
        " WHERE n.nspname = %s",
        (pg_schema,),
    ).fetchall()
    assert all(role_name not in (acl or "") for (acl,) in left)


# -- finding 4: one statement per call, on both warehouse executors ----------------------------


@pytest.fixture
def reader_executors(pg_settings: Settings, pg_conn: Conn, pg_schema: str, role_name: str) -> list[Any]:
    upsert_frame(pg_conn, DEMAND_HOURLY, _demand(), schema=pg_schema)
    settings = pg_settings.model_copy(update={"reader_role": role_name})
    url = pg_settings.database_url or ""
    return [
        PooledReaderExecutor(settings, owner_url=url, ensure_role=True, schema=pg_schema),
        WarehouseExecutor(settings, url=url, schema=pg_schema, ensure_role=True),
    ]


def _advisory_lock_holders(pg_conn: Conn) -> int:
    row = pg_conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242"
    ).fetchone()
    return row[0] if row else 0


def test_finding_4_a_second_statement_is_refused_not_run(reader_executors: list[Any], pg_conn: Conn) -> None:
    for executor in reader_executors:
        # Session-level advisory locks outlive the statement: if the second one ran, the lock shows.
        with pytest.raises(QueryError, match=r"(?i)multiple commands|cannot insert multiple"):
            executor.run("SELECT 1 AS a; SELECT pg_advisory_lock(4242)")
        assert _advisory_lock_holders(pg_conn) == 0, type(executor).__name__
        columns, rows = executor.run("SELECT count(*) AS n FROM demand_hourly")
        assert (columns, rows) == (["n"], [[3]])
    reader_executors[0].close()
