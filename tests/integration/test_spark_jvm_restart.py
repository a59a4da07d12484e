"""stop_jvm: a long process (the test run) can start each group of jobs on a fresh JVM."""

from __future__ import annotations

import os

from pyspark import SparkContext
from spark_fixtures import local_spark

from datalake.spark import stop_jvm


def test_stop_jvm_ends_the_jvm_and_the_next_session_starts_a_new_one() -> None:
    first = local_spark("tests-jvm-a", "local[1]")
    assert first.range(10).count() == 10
    old_pid = SparkContext._gateway.proc.pid
    assert stop_jvm() is True
    assert not os.path.exists(f"/proc/{old_pid}")  # the process is gone, not just disconnected
    assert stop_jvm() is False  # nothing left to stop
    second = local_spark("tests-jvm-b", "local[1]")
    assert second.range(5).count() == 5
    assert SparkContext._gateway.proc.pid != old_pid


def test_no_stale_session_is_handed_out_after_the_jvm_is_gone() -> None:
    """A module that looks for a leftover session (to stop it) must not find the dead JVM's."""
    from pyspark.sql import SparkSession

    local_spark("tests-jvm-c", "local[1]")
    stop_jvm()
    assert SparkSession.getActiveSession() is None and SparkSession._instantiatedSession is None
    assert local_spark("tests-jvm-d", "local[1]").range(3).count() == 3
