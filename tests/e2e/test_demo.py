"""The README's demo, end to end through the installed `datalake` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run_cli(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(BIN / "datalake"), *args], env=env, capture_output=True, text=True, timeout=600
    )
    if check and result.returncode != 0:
        raise AssertionError(f"datalake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def lake_env() -> Iterator[dict[str, str]]:
    # Outside pytest's basetemp: a later pytest session resets that to 0700, which would lock
    # the embedded PostgreSQL (run as its own user under root) out of its data directory.
    root = Path(tempfile.mkdtemp(prefix="datalake-demo-")) / "lake"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKE_", "DATABASE_", "AWS_ENDPOINT"))}
    env.update(LAKE_ROOT=str(root), COLUMNS="200", SPARK_MASTER="local[2]")
    try:
        yield env
    finally:
        run_cli("db", "stop", env=env, check=False)
        shutil.rmtree(root.parent, ignore_errors=True)


def test_demo_runs_twice_and_changes_nothing_the_second_time(lake_env: dict[str, str]) -> None:
    first = run_cli("demo", "--days", "10", env=lake_env)
    assert "demo finished" in first.stdout
    assert "SAMPLE" in first.stdout
    second = run_cli("demo", "--days", "10", env=lake_env)
    assert "0 inserted" in second.stdout, second.stdout

    daily = json.loads(
        run_cli(
            "query",
            "SELECT local_date, count(*) AS n FROM demand_hourly WHERE region = 'national' "
            "GROUP BY local_date ORDER BY local_date",
            "--format",
            "json",
            env=lake_env,
        ).stdout
    )
    assert len(daily) == 10
    # One national reading of the middle day was injected as a fault and quarantined.
    assert sorted(row["n"] for row in daily) == [23] + [24] * 9

    raw = json.loads(
        run_cli(
            "query",
            "SELECT count(*) AS n FROM datalake_raw.sample_demand",
            "--format",
            "json",
            env=lake_env,
        ).stdout
    )
    assert raw == [{"n": 10 * 24 * 2}]

    status = run_cli("status", env=lake_env).stdout
    for expected in (
        "demand_hourly",
        "sample_demand",
        "demand_to_processed",
        "sync_demand_hourly",
        "running at",
    ):
        assert expected in status, expected


def test_warehouse_holds_the_processed_rows(lake_env: dict[str, str]) -> None:
    import psycopg

    url = run_cli("db", "url", env=lake_env).stdout.strip()
    with psycopg.connect(url) as conn:
        (count,) = conn.execute("SELECT count(*) FROM demand_hourly").fetchone()
        (sources,) = conn.execute("SELECT array_agg(DISTINCT source) FROM demand_hourly").fetchone()
    assert count == 10 * 24 * 2 - 2
    assert sources == ["sample"]


def test_bad_input_gets_one_line_and_exit_2(lake_env: dict[str, str]) -> None:
    unknown = run_cli("query", "SELECT * FROM nope", env=lake_env, check=False)
    assert unknown.returncode == 2
    assert "table datalake_processed.nope not found" in unknown.stderr
    malformed = run_cli("query", "SELEC 1", env=lake_env, check=False)
    assert malformed.returncode == 2 and "SQL: SELEC 1" in malformed.stderr


def test_missing_java_is_reported_with_a_fix(lake_env: dict[str, str], tmp_path: Path) -> None:
    env = {**lake_env, "PATH": str(tmp_path), "JAVA_HOME": str(tmp_path / "nojava")}
    result = run_cli("doctor", env=env, check=False)
    assert result.returncode == 2
    assert "Java 17 is required for Spark" in result.stderr and "fix:" in result.stderr
