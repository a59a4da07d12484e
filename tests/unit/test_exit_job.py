"""How a job script ends: when it started Spark's JVM itself, without the interpreter's teardown (a
native thread pool torn down at exit once aborted a finished run); under a launcher that owns the
JVM (Glue, spark-submit), normally, so the launcher's own shutdown runs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

SCRIPT = (
    "import atexit\n"
    "from datalake.jobs import exit_job\n"
    "atexit.register(lambda: print('teardown ran', flush=True))\n"
    "print('report printed')\n"
    "exit_job(3)\n"
)


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )


def test_a_job_that_owns_its_jvm_ends_with_its_code_and_its_output_flushed_but_no_teardown() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYSPARK_GATEWAY_PORT"}
    result = run(env)
    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines() == ["report printed"]


def test_under_a_launcher_the_job_ends_normally() -> None:
    result = run({**os.environ, "PYSPARK_GATEWAY_PORT": "41234"})
    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines() == ["report printed", "teardown ran"]
