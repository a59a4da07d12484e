"""Issue 14, finding 5: a fuzz test of the /ask guard and its executors, as the reader, on both engines.

Thousands of SQL strings, generated from the parser's own queries (sqlglot mutations: tables
swapped for forbidden ones, CTE shadows, dangerous functions and casts, scalar subqueries, joins,
set operations, a second statement, comments, qualified names, table functions) plus known attack
shapes, go through ``guard_sql`` and, when it lets them pass, through the executor /ask uses.
Secrets are planted where an attacker would look: personal data in the clients table, the API's
own tables, a table made after the grants, a role setting, files inside and outside the lake and
an environment variable. The test asserts that none of them is ever in a result, and that the
run really executed a large share of the generated SQL (so a guard refusing everything, or an
executor failing everything, cannot pass for safety).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
import sqlglot
from psycopg import sql
from sqlglot import exp

from api.services.ask_executor import PooledReaderExecutor
from datalake.ask.errors import AskRefusal, UnsafeQueryError
from datalake.ask.evaluation import load_lake, load_questions, load_warehouse, sample_frames
from datalake.ask.executors import LakeExecutor
from datalake.ask.guard import guard_sql
from datalake.ask.parser import parse
from datalake.ask.sqlbuild import build_query
from datalake.catalog.crawler import LocalCrawler
from datalake.catalog.local import LocalCatalog
from datalake.datasets import CLIENTES
from datalake.errors import QueryError
from datalake.runtime import ask_query_engine
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore
from datalake.warehouse import connect, ensure_reader_role
from datalake.warehouse.sync import upsert_frame

pytest_plugins = ["warehouse_fixtures"]

CANARY = "CANARY-fz81q"
#: Generated SQL strings per engine (plus the fixed attack shapes); the issue asks for 2,000 in all.
SAMPLES_PER_ENGINE = 1_100
MAX_ROWS = 50

FORBIDDEN_TABLES = (
    "energy_clientes", "clientes", "energy_transacciones", "transacciones", "predictions",
    "forecast_requests", "made_later", "pg_authid", "pg_shadow", "pg_user", "pg_settings", "pg_roles",
    "duckdb_settings", "duckdb_tables", "information_schema.tables", "pg_catalog.pg_user",
)  # fmt: skip
FORBIDDEN_QUALIFIERS = ("public", "pg_catalog", "information_schema", "datalake_processed", "memory", "main")
DANGEROUS_EXPRESSIONS = (
    "'pg_authid'::regclass", "CAST('pg_authid' AS regclass)", "demand_mw::text::regproc",
    "CAST(1 AS oid)", "pg_read_file('{file}')", "current_setting('datalake.canary')",
    "set_config('statement_timeout', '0', false)", "dblink('host=x', 'SELECT 1')", "lo_get(1)",
    "lo_import('{file}')", "pg_ls_dir('.')", "version()", "current_user", "current_database()",
    "query_to_xml('SELECT nombre FROM energy_clientes', true, true, '')", "getenv('DATALAKE_CANARY')",
    "read_text('{file}')", "pg_sleep(0)", "txid_current()", "inet_server_addr()", "user",
    "session_user", "current_schema()", "to_regclass('energy_clientes')", "has_table_privilege('x', 'y')",
    "pg_catalog.pg_read_file('{file}')", "nextval('x')", "json_extract('{{}}', '$')",
)  # fmt: skip
KNOWN_ATTACKS = (
    "SELECT * FROM energy_clientes WHERE EXISTS "
    "(WITH energy_clientes AS (SELECT 1 AS x) SELECT x FROM energy_clientes)",
    "SELECT * FROM made_later WHERE EXISTS (WITH made_later AS (SELECT 1 AS x) SELECT x FROM made_later)",
    "SELECT * FROM '{file}' WHERE EXISTS (WITH \"{file}\" AS (SELECT 1 AS x) SELECT x FROM \"{file}\")",
    "SELECT * FROM read_csv('{file}')",
    "SELECT * FROM read_csv_auto('{raw_file}')",
    "SELECT * FROM '{raw_file}'",
    "SELECT demand_mw FROM demand_hourly; SELECT nombre FROM energy_clientes",
    "SELECT demand_mw FROM demand_hourly UNION ALL SELECT nombre FROM energy_clientes",
    "SELECT (SELECT nombre FROM energy_clientes LIMIT 1) AS region FROM demand_hourly",
    "SELECT region FROM demand_hourly WHERE region IN (SELECT nombre FROM clientes)",
    "WITH demand_hourly AS (SELECT nombre AS region FROM energy_clientes) SELECT region FROM demand_hourly",
    "SELECT * FROM public.energy_clientes",
    "SELECT * FROM datalake_processed.clientes",
    "SELECT * FROM pg_catalog.pg_authid",
    "SELECT region FROM demand_hourly, LATERAL (SELECT nombre FROM energy_clientes) AS s",
    "SELECT current_setting('datalake.canary') AS region FROM demand_hourly",
    "SELECT getenv('DATALAKE_CANARY') AS region",
    "SELECT * FROM demand_hourly -- comment\n; SELECT * FROM energy_clientes",
    "SELECT /* x */ nombre /* y */ FROM energy_clientes",
    "SELECT nombre FROM energy_clientes AS demand_hourly",
    "SELECT demand_hourly.nombre FROM demand_hourly",
    "SELECT * FROM demand_hourly AS energy_clientes JOIN energy_clientes ON TRUE",
    "SELECT * FROM (SELECT * FROM energy_clientes) AS demand_hourly",
    "SELECT * FROM demand_hourly WHERE EXISTS (SELECT 1 FROM energy_clientes WHERE nombre LIKE 'C%')",
    "SELECT COPY FROM demand_hourly",
    "COPY (SELECT * FROM energy_clientes) TO '/tmp/leak.csv'",
    "ATTACH '/tmp/x.db' AS x",
    "SELECT * INTO leak FROM energy_clientes",
    "EXPLAIN SELECT * FROM energy_clientes",
    "PRAGMA show_tables",
    "SET enable_external_access = true",
    "SELECT * FROM query_to_xml('SELECT * FROM energy_clientes', true, true, '')",
    "SELECT * FROM generate_series(1, 3)",
    "SELECT * FROM dblink('host=x', 'SELECT 1') AS t(a int)",
    "SELECT 1 AS a FROM demand_hourly FOR UPDATE",
    "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT n FROM r",
    "SELECT $1 AS a FROM demand_hourly",
    "SELECT E'\\x27' AS a FROM energy_clientes",
    "SELECT nombre FROM \"energy_clientes\"",
    "SELECT nombre FROM ENERGY_CLIENTES",
    "SELECT nombre FROM energy_clientes\u200b",
    "SELECT * FROM demand_hourly NATURAL JOIN energy_clientes",
    "TABLE energy_clientes",
    "VALUES ((SELECT nombre FROM energy_clientes LIMIT 1))",
    "SELECT * FROM (VALUES (1)) AS v(a) JOIN energy_clientes ON TRUE",
)  # fmt: skip


# -- the SQL to try -------------------------------------------------------------------------------


def _base_queries() -> list[exp.Select]:
    """The parser's own query for each answerable question of the evaluation set."""
    selects = []
    for question in load_questions():
        try:
            intent = parse(question["question"], dt.datetime.fromisoformat(question["as_of"]))
        except AskRefusal:
            continue
        selects.append(build_query(intent).select)
    return selects


def _forbidden_table(rng: random.Random) -> exp.Table:
    name = rng.choice(FORBIDDEN_TABLES)
    return exp.to_table(name)


def _replace_a_table(tree: exp.Expression, rng: random.Random, paths: dict[str, str]) -> None:
    tables = list(tree.find_all(exp.Table))
    if not tables:
        return
    target = rng.choice(tables)
    choice = rng.random()
    if choice < 0.5:
        target.set("this", exp.to_identifier(rng.choice(FORBIDDEN_TABLES).split(".")[-1]))
    elif choice < 0.75:
        target.set("db", exp.to_identifier(rng.choice(FORBIDDEN_QUALIFIERS)))
    elif choice < 0.9:
        target.set("this", exp.to_identifier(rng.choice(list(paths.values())), quoted=True))
    else:
        target.replace(
            exp.Table(this=exp.Anonymous(this="read_csv", expressions=[exp.Literal.string(paths["file"])]))
        )


def _shadow_with_cte(tree: exp.Expression, rng: random.Random) -> exp.Expression:
    name = rng.choice(FORBIDDEN_TABLES).split(".")[-1]
    for table in tree.find_all(exp.Table):
        table.set("this", exp.to_identifier(name))
        break
    inner = sqlglot.parse_one(f"SELECT x FROM {name}").with_(name, as_="SELECT 1 AS x")
    return tree.where(exp.Exists(this=inner)) if isinstance(tree, exp.Select) else tree


def _inject_expression(tree: exp.Expression, rng: random.Random, paths: dict[str, str], dialect: str) -> None:
    text = rng.choice(DANGEROUS_EXPRESSIONS).format(**paths)
    try:
        expression = sqlglot.parse_one(text, read=dialect)
    except sqlglot.errors.ParseError:
        expression = exp.Anonymous(this="pg_read_file", expressions=[exp.Literal.string(paths["file"])])
    if isinstance(tree, exp.Select):
        if rng.random() < 0.5:
            tree.select(exp.alias_(expression, "leak"), copy=False)
        else:
            tree.where(
                exp.EQ(this=exp.cast(expression, "text"), expression=exp.Literal.string("x")), copy=False
            )


def _scalar_subquery(tree: exp.Expression, rng: random.Random) -> None:
    table = rng.choice(FORBIDDEN_TABLES)
    column = rng.choice(("nombre", "identificacion", "served_by", "secret", "*", "rolpassword", "setting"))
    sub = sqlglot.parse_one(f"SELECT {column} FROM {table} LIMIT 1")
    if isinstance(tree, exp.Select):
        if rng.random() < 0.5:
            tree.select(exp.alias_(exp.Subquery(this=sub), "leak"), copy=False)
        else:
            tree.where(exp.Exists(this=sub), copy=False)


def _join_forbidden(tree: exp.Expression, rng: random.Random) -> exp.Expression:
    if not isinstance(tree, exp.Select):
        return tree
    kind = rng.random()
    if kind < 0.4:
        return tree.join(_forbidden_table(rng), on="TRUE")
    if kind < 0.7:
        return tree.union(sqlglot.parse_one(f"SELECT * FROM {rng.choice(FORBIDDEN_TABLES)}"), distinct=False)
    return tree.join(
        exp.Lateral(
            this=exp.Subquery(this=sqlglot.parse_one(f"SELECT * FROM {rng.choice(FORBIDDEN_TABLES)}"))
        ),
        join_type="CROSS",
    )


def _benign(tree: exp.Expression, rng: random.Random) -> exp.Expression:
    """Rewrites that keep the query allowed: it must still run, and read only allowed data."""
    kind = rng.random()
    if kind < 0.35:
        return sqlglot.select("*").from_(
            exp.Subquery(this=tree, alias=exp.TableAlias(this=exp.to_identifier("sub")))
        )
    if kind < 0.7:
        return sqlglot.select("*").from_("wrapped").with_("wrapped", as_=tree)
    if isinstance(tree, exp.Select):
        return tree.limit(rng.randint(1, 500))
    return tree


def _text_mutation(text: str, rng: random.Random, paths: dict[str, str]) -> str:
    kind = rng.random()
    if kind < 0.3:
        return text + rng.choice(
            (
                "; SELECT nombre FROM energy_clientes",
                ";SELECT pg_read_file('{file}')".format(**paths),
                ";",
                "; --",
            )
        )
    if kind < 0.6:
        words = text.split(" ")
        at = rng.randrange(len(words))
        words.insert(at, rng.choice(("/* energy_clientes */", "--\n", "/*/**/*/")))
        return " ".join(words)
    if kind < 0.8:
        return text.replace(
            "demand_hourly", rng.choice(("energy_clientes", '"demand_hourly"', "DEMAND_HOURLY")), 1
        )
    return text.replace("generation", rng.choice(("clientes", "predictions", '"generation"')), 1)


def generate(dialect: str, count: int, paths: dict[str, str], seed: int) -> Iterator[str]:
    """``count`` SQL strings in ``dialect``: mutations of the parser's queries, then the known shapes."""
    rng = random.Random(seed)
    bases = _base_queries()
    assert len(bases) > 100, "the evaluation set should give the fuzzer many base queries"
    for _ in range(count):
        tree: exp.Expression = rng.choice(bases).copy()
        for _ in range(rng.randint(1, 2)):
            kind = rng.random()
            if kind < 0.12:
                _replace_a_table(tree, rng, paths)
            elif kind < 0.22:
                tree = _shadow_with_cte(tree, rng)
            elif kind < 0.33:
                _inject_expression(tree, rng, paths, dialect)
            elif kind < 0.42:
                _scalar_subquery(tree, rng)
            elif kind < 0.50:
                tree = _join_forbidden(tree, rng)
            else:
                tree = _benign(tree, rng)
        text = tree.sql(dialect=dialect)
        yield _text_mutation(text, rng, paths) if rng.random() < 0.25 else text
    for attack in KNOWN_ATTACKS:
        yield attack.format(**paths)


# -- the engines, with their secrets ------------------------------------------------------------------


def _small_frames() -> dict[str, pd.DataFrame]:
    return {name: frame.head(2_000) for name, frame in sample_frames().items()}


def _clients() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tipo_identificacion": ["CC", "NIT"],
            "identificacion": [CANARY + "-id", "900123"],
            "nombre": [CANARY, CANARY + " SAS"],
            "ciudad": ["BOGOTÁ", "CALI"],
            "fecha_carga": [dt.date(2024, 1, 1)] * 2,
        }
    )


@pytest.fixture
def planted_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    outside = tmp_path / "outside-secret.csv"
    outside.write_text(f"secret\n{CANARY}\n")
    monkeypatch.setenv("DATALAKE_CANARY", CANARY)
    return {"file": str(outside)}


@pytest.fixture
def warehouse_under_attack(
    pg_settings: Settings, pg_conn: psycopg.Connection[Any], pg_schema: str, role_name: str
) -> Iterator[PooledReaderExecutor]:
    load_warehouse(pg_conn, _small_frames(), pg_schema)
    upsert_frame(pg_conn, CLIENTES, _clients(), schema=pg_schema)
    for table, column in (
        ("predictions", "served_by"),
        ("forecast_requests", "request_id"),
        ("made_later", "secret"),
    ):
        pg_conn.execute(
            sql.SQL("CREATE TABLE {} ({} text)").format(
                sql.Identifier(pg_schema, table), sql.Identifier(column)
            )
        )
        pg_conn.execute(
            sql.SQL("INSERT INTO {} VALUES (%s)").format(sql.Identifier(pg_schema, table)), (CANARY,)
        )
    ensure_reader_role(pg_conn, role_name, schema=pg_schema, login=True)
    pg_conn.execute(
        sql.SQL("ALTER ROLE {} SET datalake.canary = {}").format(
            sql.Identifier(role_name), sql.Literal(CANARY)
        )
    )
    settings = pg_settings.model_copy(update={"reader_role": role_name, "ask_statement_timeout_ms": 2_000})
    executor = PooledReaderExecutor(
        settings, owner_url=pg_settings.database_url, ensure_role=True, schema=pg_schema
    )
    try:
        yield executor
    finally:
        executor.close()


@pytest.fixture
def lake_under_attack(tmp_path: Path, planted_files: dict[str, str]) -> LakeExecutor:
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=tmp_path / "lake")
    load_lake(settings, _small_frames())
    store = LocalObjectStore(settings.lake_root)
    store.replace_partition(f"processed/{CLIENTES.table_name}", "", {"part-0.parquet": _clients()})
    raw_key = "raw/energy_company/clientes/clientes.csv"
    store.put_bytes(raw_key, f"nombre\n{CANARY}\n".encode())
    planted_files["raw_file"] = str(settings.lake_root / raw_key)
    LocalCrawler(store, LocalCatalog(store)).crawl("processed", settings.processed_database)
    return LakeExecutor(ask_query_engine(settings), timeout_ms=5_000)


# -- the test -----------------------------------------------------------------------------------------


def _attack(
    run: Callable[[str], tuple[list[str], list[list[Any]]]], dialect: str, strings: Iterator[str]
) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    for text in strings:
        try:
            guarded = guard_sql(text, dialect, max_limit=MAX_ROWS)
        except UnsafeQueryError:
            outcomes["refused by the guard"] += 1
            continue
        try:
            columns, rows = run(guarded)
        except QueryError:
            outcomes["refused by the engine"] += 1
            continue
        outcomes["ran"] += 1
        cells = [str(c) for c in columns] + [str(cell) for row in rows for cell in row]
        leaked = [cell for cell in cells if CANARY in cell]
        assert not leaked, f"{text!r} -> guarded {guarded!r} read a secret: {leaked[:3]}"
    return outcomes


def _report(engine: str, outcomes: Counter[str]) -> None:
    total = sum(outcomes.values())
    parts = ", ".join(f"{name} {count:,} ({count / total:.0%})" for name, count in sorted(outcomes.items()))
    print(f"\nguard fuzz on {engine}: {total:,} SQL strings: {parts}")


@pytest.mark.slow
def test_finding_5_fuzzed_sql_never_reads_outside_the_allow_list(
    warehouse_under_attack: PooledReaderExecutor,
    lake_under_attack: LakeExecutor,
    planted_files: dict[str, str],
    pg_settings: Settings,
) -> None:
    paths = planted_files
    totals = Counter[str]()
    for name, executor, dialect, seed in (
        ("warehouse", warehouse_under_attack, "postgres", 14),
        ("lake", lake_under_attack, "athena", 41),
    ):
        outcomes = _attack(executor.run, dialect, generate(dialect, SAMPLES_PER_ENGINE, paths, seed))
        _report(name, outcomes)
        # Not vacuous: many strings ran (benign rewrites) and many were refused (attacks).
        assert outcomes["ran"] >= SAMPLES_PER_ENGINE // 5, outcomes
        assert outcomes["refused by the guard"] >= SAMPLES_PER_ENGINE // 3, outcomes
        totals += outcomes
    assert sum(totals.values()) >= 2_000
    # The planted secrets are really there for a trusted reader: a leak would have shown.
    with connect(pg_settings.database_url or "", settings=pg_settings, autocommit=True) as owner:
        owner.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(warehouse_under_attack.schema)))
        assert owner.execute("SELECT nombre FROM energy_clientes ORDER BY 1 LIMIT 1").fetchone() == (CANARY,)
