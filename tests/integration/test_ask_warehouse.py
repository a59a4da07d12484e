"""/ask on the real (embedded) PostgreSQL as the read-only reader role: the question set passes,
and both engines (warehouse and lake) give the same answers."""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import partial
from typing import Any

import psycopg
import pytest
from psycopg import sql

from datalake.ask import AskRefusal, WarehouseExecutor, ask
from datalake.ask.evaluation import evaluate, load_questions, load_warehouse, sample_frames, scratch_lake
from datalake.errors import QueryError
from datalake.settings import Settings

pytest_plugins = ["warehouse_fixtures"]


def _same_rows(left: list[list[Any]], right: list[list[Any]]) -> bool:
    if len(left) != len(right):
        return False
    for row_a, row_b in zip(left, right, strict=True):
        for a, b in zip(row_a, row_b, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                if a is None or b is None or not math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6):
                    return False
            elif a != b:
                return False
    return True


def test_question_set_on_the_warehouse_matches_the_lake(
    pg_settings: Settings, pg_conn: psycopg.Connection[Any], pg_schema: str, role_name: str
) -> None:
    frames = sample_frames()
    load_warehouse(pg_conn, frames, pg_schema)
    settings = pg_settings.model_copy(update={"reader_role": role_name})
    warehouse = WarehouseExecutor(settings, schema=pg_schema, ensure_role=True)
    questions = load_questions()

    report = evaluate(questions, partial(ask, settings=settings, executor=warehouse))
    assert report.accuracy >= 0.95, report.format()

    with scratch_lake(frames) as lake:
        differences = []
        for item in questions:
            as_of = dt.datetime.fromisoformat(item["as_of"])
            try:
                on_warehouse = ask(item["question"], as_of, settings=settings, executor=warehouse)
            except AskRefusal as refusal:
                with pytest.raises(AskRefusal) as on_lake:
                    ask(item["question"], as_of, settings=settings, executor=lake)
                assert on_lake.value.reason == refusal.reason
                continue
            on_lake_result = ask(item["question"], as_of, settings=settings, executor=lake)
            assert on_warehouse.engine == "warehouse" and on_lake_result.engine == "lake"
            if on_warehouse.columns != on_lake_result.columns or not _same_rows(
                on_warehouse.rows, on_lake_result.rows
            ):
                differences.append((item["id"], on_warehouse.rows[:3], on_lake_result.rows[:3]))
            # Sums in another order can round the last printed digit differently; the words may not differ.
            elif re.sub(r"\d", "#", on_warehouse.answer) != re.sub(r"\d", "#", on_lake_result.answer):
                differences.append((item["id"], on_warehouse.answer, on_lake_result.answer))
        assert differences == []


def test_the_reader_cannot_write_stack_statements_or_run_long(
    pg_settings: Settings, pg_conn: psycopg.Connection[Any], pg_schema: str, role_name: str
) -> None:
    pg_conn.execute(
        sql.SQL("CREATE TABLE {}.demand_hourly (demand_mw double precision)").format(
            sql.Identifier(pg_schema)
        )
    )
    pg_conn.execute(sql.SQL("INSERT INTO {}.demand_hourly VALUES (1.0)").format(sql.Identifier(pg_schema)))
    settings = pg_settings.model_copy(update={"reader_role": role_name, "ask_statement_timeout_ms": 200})
    reader = WarehouseExecutor(settings, schema=pg_schema, ensure_role=True)

    assert reader.run("SELECT demand_mw FROM demand_hourly") == (["demand_mw"], [[1.0]])
    assert reader.run("SELECT current_user AS who")[1] == [[role_name]]
    # Even SQL the guard would refuse meets the database's own walls: role, read-only, protocol, timeout.
    with pytest.raises(QueryError, match=r"permission denied|read-only"):
        reader.run("DELETE FROM demand_hourly")
    with pytest.raises(QueryError, match=r"multiple commands|prepared statement"):
        reader.run("SELECT 1; DROP TABLE demand_hourly")
    with pytest.raises(QueryError, match="statement timeout"):
        reader.run("SELECT pg_sleep(2)")
    count = pg_conn.execute(
        sql.SQL("SELECT count(*) FROM {}.demand_hourly").format(sql.Identifier(pg_schema))
    ).fetchone()
    assert count == (1,)
