"""The SQL guard: one SELECT on allow-listed tables and columns, LIMIT clamped, nothing else."""

from __future__ import annotations

import pytest

from datalake.ask import UnsafeQueryError, guard_sql

OK = "SELECT ts_utc, demand_mw FROM demand_hourly WHERE region = 'national'"


@pytest.mark.parametrize("dialect", ["postgres", "athena", "duckdb"])
def test_a_plain_select_passes_with_a_limit_added(dialect: str) -> None:
    guarded = guard_sql(OK, dialect, max_limit=100)
    assert guarded.upper().startswith("SELECT") and guarded.endswith("LIMIT 100")
    assert guard_sql(guarded, dialect, max_limit=100) == guarded  # idempotent


def test_limit_is_clamped_but_a_smaller_one_kept() -> None:
    assert guard_sql(OK + " LIMIT 100000", "postgres", max_limit=50).endswith("LIMIT 50")
    assert guard_sql(OK + " LIMIT 5", "postgres", max_limit=50).endswith("LIMIT 5")


def test_ctes_subqueries_windows_and_aliases_are_allowed() -> None:
    sql = (
        "WITH picked AS (SELECT ts_utc, demand_mw AS value, ROW_NUMBER() OVER (PARTITION BY ts_utc "
        "ORDER BY source) AS pick FROM demand_hourly AS d WHERE NOT EXISTS (SELECT 1 FROM generation AS g "
        "WHERE g.source = d.source)) SELECT MAX(value) AS peak FROM picked WHERE pick = 1"
    )
    assert "LIMIT 7" in guard_sql(sql, "postgres", max_limit=7)


def test_comments_are_dropped() -> None:
    guarded = guard_sql("SELECT demand_mw /* hidden */ FROM demand_hourly -- tail", "postgres", max_limit=10)
    assert "hidden" not in guarded and "tail" not in guarded and "--" not in guarded


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DROP TABLE demand_hourly", "only SELECT"),
        ("DELETE FROM demand_hourly", "only SELECT"),
        ("UPDATE demand_hourly SET demand_mw = 0", "only SELECT"),
        ("INSERT INTO demand_hourly VALUES (1)", "only SELECT"),
        ("SELECT 1; DROP TABLE demand_hourly", "exactly one statement"),
        ("SELECT 1; SELECT 2", "exactly one statement"),
        ("", "empty"),
        ("SELECT * FROM pg_user", "table 'pg_user'"),
        ("SELECT * FROM predictions", "table 'predictions'"),
        ("SELECT * FROM pg_catalog.pg_authid", "qualified"),
        ("SELECT * FROM information_schema.tables", "qualified"),
        ("SELECT passwd FROM demand_hourly", "column 'passwd'"),
        ("SELECT ctid FROM demand_hourly", "column 'ctid'"),
        ("SELECT pg_sleep(10)", "function"),
        ("SELECT current_setting('x') FROM demand_hourly", "function"),
        ("SELECT pg_read_file('/etc/passwd')", "function"),
        ("SELECT * FROM read_csv('/etc/passwd')", "table functions"),
        ("SELECT demand_mw FROM demand_hourly UNION SELECT energy_mwh FROM generation", "only SELECT"),
        ("SELECT demand_mw INTO copy_table FROM demand_hourly", "not allowed"),
        ("SELECT demand_mw FROM demand_hourly FOR UPDATE", "not allowed"),
        ("WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT n FROM r", "not allowed"),
        ("SELECT demand_mw FROM demand_hourly LIMIT ALL", "LIMIT"),
        ("SELECT demand_mw FROM demand_hourly WHERE region = $1", "not allowed"),
        ("SELECT demand_mw FROM demand_hourly x LIMIT (SELECT 5)", "LIMIT"),
        ("SELECT * FROM demand_hourly WHERE source = 'a' OR 1=1; --", "exactly one statement"),
        ("ЅELECT * FROM demand_hourly", "parse"),  # Cyrillic S
        ("SELECT 'x' || (SELECT demand_mw FROM demand_hourly) " * 800, "longer than"),
    ],
)
def test_the_guard_refuses_and_names_the_reason(sql: str, reason: str) -> None:
    with pytest.raises(UnsafeQueryError) as caught:
        guard_sql(sql, "postgres", max_limit=100)
    assert reason.lower() in caught.value.reason.lower()
