"""Issue 14, findings 1 and 2: the guard resolves tables per scope and allows only safe functions
and casts; the lake's /ask connection cannot read anything but /ask's views."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from datalake.ask.errors import UnsafeQueryError
from datalake.ask.evaluation import load_lake, sample_frames
from datalake.ask.executors import LakeExecutor
from datalake.ask.guard import guard_sql
from datalake.catalog.crawler import LocalCrawler
from datalake.catalog.local import LocalCatalog
from datalake.datasets import CLIENTES
from datalake.errors import QueryError
from datalake.runtime import ask_query_engine, query_engine
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

CANARY = "CANARY-7f3a9e"

# -- finding 1: CTE shadowing, functions and casts ---------------------------------------------

THE_ISSUES_PROBE = (
    "SELECT * FROM energy_clientes WHERE EXISTS "
    "(WITH energy_clientes AS (SELECT 1 AS x) SELECT x FROM energy_clientes)"
)


@pytest.mark.parametrize("dialect", ["postgres", "athena", "duckdb"])
def test_finding_1_cte_shadowing_a_real_table_is_refused(dialect: str) -> None:
    with pytest.raises(UnsafeQueryError, match="energy_clientes"):
        guard_sql(THE_ISSUES_PROBE, dialect, max_limit=10)


@pytest.mark.parametrize(
    "sql",
    [
        # A CTE of a name no table has, defined in an inner scope, does not cover the outer reference.
        "SELECT * FROM secret_things WHERE EXISTS "
        "(WITH secret_things AS (SELECT 1 AS x) SELECT x FROM secret_things)",
        "SELECT * FROM (WITH x AS (SELECT 1 AS a) SELECT a FROM x) AS t JOIN x ON TRUE",
        "SELECT region FROM demand_hourly WHERE region IN "
        "(WITH y AS (SELECT 'a' AS region) SELECT region FROM y) AND EXISTS (SELECT 1 FROM y)",
        # A later CTE is not visible to an earlier one.
        "WITH b AS (SELECT * FROM a), a AS (SELECT 1 AS v) SELECT * FROM b",
    ],
)
def test_finding_1_a_cte_hides_tables_only_in_the_scopes_that_see_it(sql: str) -> None:
    with pytest.raises(UnsafeQueryError, match="is not allowed"):
        guard_sql(sql, "postgres", max_limit=10)


@pytest.mark.parametrize(
    "name", ["predictions", "demand_hourly", "clientes", "pg_authid", "information_schema"]
)
def test_finding_1_a_cte_may_not_take_a_real_tables_name(name: str) -> None:
    sql = f"WITH {name} AS (SELECT demand_mw FROM demand_hourly) SELECT demand_mw FROM {name}"
    with pytest.raises(UnsafeQueryError, match="may not be named"):
        guard_sql(sql, "postgres", max_limit=10)


def test_finding_1_ctes_over_allowed_tables_still_pass() -> None:
    sql = (
        "WITH peaks AS (SELECT region, max(demand_mw) AS peak_mw FROM demand_hourly GROUP BY region) "
        "SELECT p.region, p.peak_mw FROM peaks AS p WHERE EXISTS (SELECT 1 FROM peaks)"
    )
    assert "peaks" in guard_sql(sql, "postgres", max_limit=10)


@pytest.mark.parametrize(
    "expression",
    [
        "'pg_authid'::regclass",
        "CAST('pg_authid' AS regclass)",
        "demand_mw::text::regproc",
        "CAST(demand_mw AS oid)",
        "'x'::regnamespace",
        "pg_read_file('/etc/passwd')",
        "current_setting('data_directory')",
        "set_config('statement_timeout', '0', false)",
        "dblink('host=evil', 'SELECT 1')",
        "lo_get(16384)",
        "lo_import('/etc/passwd')",
        "pg_ls_dir('.')",
        "version()",
        "current_user",
        "current_database()",
        "inet_server_addr()",
        "query_to_xml('SELECT * FROM energy_clientes', true, true, '')",
        "getenv('HOME')",
        "pg_sleep(10)",
        "txid_current()",
    ],
)
def test_finding_1_functions_and_casts_that_reach_the_server_are_refused(expression: str) -> None:
    with pytest.raises(UnsafeQueryError):
        guard_sql(f"SELECT {expression} AS x FROM demand_hourly", "postgres", max_limit=10)


def test_finding_1_safe_casts_pass() -> None:
    sql = (
        "SELECT CAST(demand_mw AS INT) AS d, CAST(ts_utc AS DATE) AS day, demand_mw::numeric AS n "
        "FROM demand_hourly"
    )
    assert guard_sql(sql, "postgres", max_limit=10).startswith("SELECT")


# -- finding 2: the lake connection that serves /ask -------------------------------------------


@pytest.fixture
def lake_with_secrets(tmp_path: Path) -> Iterator[tuple[Settings, Path]]:
    """/ask's tables, plus a clients table in the same catalog database and a file outside the lake."""
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=tmp_path / "lake")
    frames = sample_frames()
    load_lake(settings, {name: frame.head(500) for name, frame in frames.items()})
    store = LocalObjectStore(settings.lake_root)
    clients = pd.DataFrame(
        {
            "tipo_identificacion": ["CC"],
            "identificacion": ["1234567890"],
            "nombre": [CANARY],
            "ciudad": ["BOGOTÁ"],
            "fecha_carga": [pd.Timestamp("2024-01-01").date()],
        }
    )
    store.replace_partition(f"processed/{CLIENTES.table_name}", "", {"part-0.parquet": clients})
    LocalCrawler(store, LocalCatalog(store)).crawl("processed", settings.processed_database)
    outside = tmp_path / "outside.csv"
    outside.write_text(f"secret\n{CANARY}\n")
    yield settings, outside


def _locked_executor(settings: Settings) -> LakeExecutor:
    return LakeExecutor(ask_query_engine(settings), timeout_ms=10_000)


def test_finding_2_the_ask_connection_reads_no_local_file(lake_with_secrets: tuple[Settings, Path]) -> None:
    settings, outside = lake_with_secrets
    # The probe is real: the trusted engine, fooled by a CTE of the file's name, reads the file.
    trick = f"""SELECT * FROM '{outside}' WHERE EXISTS
        (WITH "{outside}" AS (SELECT 1 AS x) SELECT x FROM "{outside}")"""
    assert query_engine(settings).query(trick).iloc[0, 0] == CANARY
    executor = _locked_executor(settings)
    probes = [
        trick,
        f"SELECT * FROM '{outside}'",
        f"SELECT * FROM read_csv('{outside}')",
        f"SELECT * FROM read_text('{outside}')",
        f"ATTACH '{outside.parent / 'x.db'}' AS other",
        "INSTALL httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "RESET allowed_directories",
    ]
    for probe in probes:
        with pytest.raises(QueryError):
            executor.run(probe)
    assert not (outside.parent / "x.db").exists()
    # And it still answers from /ask's own views afterwards.
    columns, rows = executor.run("SELECT count(*) AS n FROM demand_hourly")
    assert columns == ["n"] and rows[0][0] == 500


def test_finding_2_only_the_catalogs_ask_views_exist(lake_with_secrets: tuple[Settings, Path]) -> None:
    settings, _ = lake_with_secrets
    assert (
        query_engine(settings).query("SELECT nombre FROM clientes").iloc[0, 0] == CANARY
    )  # it is catalogued
    executor = _locked_executor(settings)
    for probe in (
        "SELECT * FROM clientes",
        "SELECT * FROM processed.clientes",
        "SELECT * FROM memory.processed.clientes",
    ):
        with pytest.raises(QueryError):
            executor.run(probe)
    _, views = executor.run("SELECT table_name FROM information_schema.tables ORDER BY 1")
    assert [name for (name,) in views] == ["demand_hourly", "generation"]


def test_finding_2_python_variables_are_not_scanned(lake_with_secrets: tuple[Settings, Path]) -> None:
    settings, _ = lake_with_secrets
    secret_frame = pd.DataFrame({"x": [CANARY]})  # noqa: F841 - DuckDB would find it by name
    with pytest.raises(QueryError):
        _locked_executor(settings).run("SELECT * FROM secret_frame")
