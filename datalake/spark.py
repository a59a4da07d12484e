"""Spark sessions for job runs: a local one, or the one AWS Glue's launcher configured.

Locally, a job builds a ``local[*]`` session bound to loopback. On Glue, the driver is started by
Glue with the cluster's master and executors already configured, so a job must take that session
as it is: forcing ``local[*]`` there would run every task on the driver while the paid workers sit
idle. Which of the two a run gets is a setting (``SPARK_RUNTIME``), not a guess at each call.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from datalake.errors import ConfigurationError
from datalake.spark_archive import archive_java_options, archive_path

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from datalake.settings import Settings

SparkRuntime = Literal["local", "glue"]

REQUIRED_JAVA = 17
_INSTALL_HINT = (
    "install a Java 17 runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; "
    "macOS: brew install openjdk@17) or point JAVA_HOME at one"
)


def java_binary() -> str | None:
    """The java that Spark will launch: JAVA_HOME's first, then the PATH's."""
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return os.path.join(home, "bin", "java")
    return shutil.which("java")


def java_major_version(binary: str) -> int | None:
    """Major version printed by ``java -version`` (``1.8`` -> 8), or None when unreadable."""
    try:
        result = subprocess.run([binary, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java() -> int:
    """Fail with one clear line when Spark's Java is missing or too old; returns the version."""
    binary = java_binary()
    if binary is None:
        raise ConfigurationError(
            f"Java {REQUIRED_JAVA} is required for Spark, but no `java` was found",
            hint=_INSTALL_HINT,
        )
    version = java_major_version(binary)
    if version is None or version < REQUIRED_JAVA:
        raise ConfigurationError(
            f"Java {REQUIRED_JAVA} is required for Spark, but {binary} is version {version or 'unknown'}",
            hint=_INSTALL_HINT,
        )
    return version


#: Semantics every run needs, on Glue as locally: runtime SQL settings, so they also apply to a
#: session that already exists (Glue's).
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    # Parquet timestamps as the processed zone's schema has them (microseconds, UTC), not INT96.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # Raw files are small (one per day): pack them into fewer tasks than one per file.
    "spark.sql.files.openCostInBytes": str(64 * 1024),
    # A stage whose generated method is over 8,000 bytes of bytecode, which the JVM never compiles
    # (it interprets "huge" methods), runs Spark's per-operator code instead: the energy company's
    # checks of a million transactions took 11.6 s interpreted, 4.3 s so (the same as letting the
    # JVM compile huge methods, which only a local JVM's options could do, not Glue's).
    "spark.sql.codegen.hugeMethodLimit": "8000",
}
#: JVM options of a local run's driver and executors:
#:
#: - an OutOfMemoryError in any JVM thread ends the JVM (exit status 3) instead of only that thread.
#:   A 5 M-row run whose Arrow writer thread died that way left the job idle for good, waiting on a
#:   socket that thread would never write to;
#: - the parallel collector instead of G1: Spark's execution memory is pages of tens of MiB, which G1
#:   allocates as humongous runs of contiguous 1 MiB regions; in a 2 GB heap they fragmented it, and
#:   the 10 M-row energy company job ran out of heap with about 1.2 GiB live. With the parallel
#:   collector (which compacts) the same job completes.
#:
#: (Glue's own JVMs already run ``-XX:OnOutOfMemoryError='kill -9 %p'``; its launcher owns these
#: options there.)
LOCAL_JAVA_OPTIONS = "-XX:+ExitOnOutOfMemoryError -XX:+UseParallelGC"
#: Arguments Glue passes to every job run (with ``--JOB_ID`` and ``--JOB_NAME``).
GLUE_RUN_ARGUMENT = "--JOB_RUN_ID"


@dataclass(frozen=True)
class SessionPlan:
    """How to build a session: the master to force (None: the launcher's) and launch-time settings."""

    runtime: SparkRuntime
    master: str | None
    launch_conf: Mapping[str, str] = field(default_factory=dict)


def glue_started(argv: Sequence[str] | None = None) -> bool:
    """Whether AWS Glue started this process: Glue passes ``--JOB_RUN_ID`` and ships ``awsglue``."""
    argv = sys.argv if argv is None else argv
    return GLUE_RUN_ARGUMENT in argv and find_spec("awsglue") is not None


def spark_runtime(settings: Settings, argv: Sequence[str] | None = None) -> SparkRuntime:
    """The session a job run gets: ``settings.spark_runtime``; ``auto`` asks :func:`glue_started`."""
    if settings.spark_runtime != "auto":
        return settings.spark_runtime
    return "glue" if glue_started(argv) else "local"


#: How much finished work a local session's status store keeps. Spark keeps 1,000 SQL executions,
#: jobs and stages by default, each execution with its whole plan graph: a session that runs job
#: after job (tests, notebooks, the demo) kept about 50 MiB per run of a 120-row energy job and
#: ran out of heap. The UI is off locally, so nothing reads what is dropped.
LOCAL_STATUS_RETENTION = {
    "spark.sql.ui.retainedExecutions": "20",
    "spark.ui.retainedJobs": "50",
    "spark.ui.retainedStages": "50",
    "spark.ui.retainedTasks": "1000",
    "spark.ui.dagGraph.retainedRootRDDs": "50",
}


#: The JVM's quick (C1) compiler only: about a quarter off short runs on small data (an OWID
#: SAMPLE transform: 46 s -> 35 s), at the cost of slower code in long ones.
QUICK_JIT_OPTION = "-XX:TieredStopAtLevel=1"


def session_plan(
    runtime: SparkRuntime,
    master: str = "local[*]",
    driver_memory: str = "4g",
    quick_jit: bool = False,
    offheap_memory: str = "0",
    class_archive: Path | None = None,
) -> SessionPlan:
    """What :func:`get_spark` sets before the session starts.

    Glue: nothing; its launcher already chose the master, the executors and the driver's address,
    and the job must not override them. Local: ``master``, the driver's heap, a loopback driver,
    no UI, a few shuffle partitions (one machine), and JVMs that exit on an OutOfMemoryError and
    collect with the parallel collector (:data:`LOCAL_JAVA_OPTIONS`); with ``quick_jit``, the
    quick compiler only (:data:`QUICK_JIT_OPTION`); with ``offheap_memory`` (not ``"0"``), Spark's
    execution memory (sorts, shuffles, aggregations) outside the heap (:func:`offheap_conf`); with
    ``class_archive`` (a file that exists), the JVM maps Spark's classes from that class-data archive
    (:mod:`datalake.spark_archive`).
    """
    if runtime == "glue":
        return SessionPlan("glue", None)
    java_options = f"{LOCAL_JAVA_OPTIONS} {QUICK_JIT_OPTION}" if quick_jit else LOCAL_JAVA_OPTIONS
    if archive := archive_java_options(class_archive):
        java_options = f"{java_options} {archive}"
    return SessionPlan(
        "local",
        master,
        {
            # Only takes effect when this call starts the JVM, which is how local runs start it.
            "spark.driver.memory": driver_memory,
            "spark.driver.extraJavaOptions": java_options,
            "spark.executor.extraJavaOptions": java_options,
            "spark.sql.shuffle.partitions": "4",
            # List the files of a read in the driver: above the default 32 paths Spark starts a job
            # to list them, which on one machine only adds tasks (a year of SAMPLE weather files:
            # 6 s of 35). Glue keeps the distributed listing, which S3 prefixes benefit from.
            "spark.sql.sources.parallelPartitionDiscovery.threshold": "1000000",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.driver.host": "127.0.0.1",
            **LOCAL_STATUS_RETENTION,
            **offheap_conf(offheap_memory),
        },
    )


def offheap_conf(size: str) -> dict[str, str]:
    """Spark's execution memory outside the JVM's heap: ``size`` of it, or none for ``"0"``.

    In local mode every task runs in the driver's JVM, and with execution memory inside a 2 GB heap
    the sorts of a 10 M-row energy company run spilled to disk and collected garbage: with 2 GB
    outside the heap it took 178 s instead of 185 s (175 s with 3 GB). The heap
    (``driver_memory``) stays what the driver's own objects need; the memory outside it is taken
    as tasks need it and freed when they end, so small runs use none of it.
    """
    if size == "0":
        return {}
    return {"spark.memory.offHeap.enabled": "true", "spark.memory.offHeap.size": size}


def get_spark(
    app_name: str = "datalake",
    master: str = "local[*]",
    driver_memory: str = "4g",
    runtime: SparkRuntime = "local",
    builder: Any = None,
    quick_jit: bool = False,
    offheap_memory: str = "0",
    class_archive: Path | None = None,
) -> SparkSession:
    """A SparkSession with the lake's semantics (UTC, Arrow, dynamic partition overwrite).

    Parameters
    ----------
    app_name, master, driver_memory
        The local session's name, master and driver heap; a Glue session keeps Glue's.
    runtime
        ``local`` builds a local session; ``glue`` takes the session Glue's launcher configured
        (see :func:`spark_runtime`).
    builder
        The session builder (``SparkSession.builder`` by default); tests pass one that records.
    quick_jit
        Local: the JVM's quick compiler only (``SPARK_QUICK_JIT``), when this call starts the JVM.
    offheap_memory
        Local: execution memory outside the heap (``SPARK_OFFHEAP_MEMORY``; :func:`offheap_conf`).
    class_archive
        Local: a class-data archive to map Spark's classes from, when this call starts the JVM and
        the file exists (``SPARK_CLASS_ARCHIVE``; :mod:`datalake.spark_archive`).
    """
    plan = session_plan(runtime, master, driver_memory, quick_jit, offheap_memory, class_archive)
    if plan.runtime == "local":
        check_java()
        # Bind to loopback: local runs need no network, and this keeps Spark's hostname warning quiet.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # Python workers must be this interpreter, or they cannot import datalake for pandas UDFs.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if builder is None:
        from pyspark.sql import SparkSession

        builder = SparkSession.builder
    if plan.master is not None:
        builder = builder.appName(app_name).master(plan.master)
    for key, value in plan.launch_conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    for key, value in SESSION_CONF.items():
        session.conf.set(key, value)
    if plan.runtime == "local":
        session.sparkContext.setLogLevel("ERROR")  # Glue keeps its own log level for CloudWatch
    return session


def class_archive_path() -> Path | None:
    """Where the class-data archive of the java Spark launches belongs (None without a java)."""
    java = java_binary()
    return archive_path(java) if java else None


def job_session(app_name: str, settings: Settings) -> SparkSession:
    """The session of one job run, as ``settings`` place it (:func:`spark_runtime`)."""
    runtime = spark_runtime(settings)
    return get_spark(
        app_name,
        settings.spark_master,
        settings.spark_driver_memory,
        runtime,
        quick_jit=settings.spark_quick_jit,
        offheap_memory=settings.spark_offheap_memory,
        class_archive=class_archive_path() if runtime == "local" and settings.spark_class_archive else None,
    )


def stop_jvm(timeout_s: float = 30.0) -> bool:
    """Stop the active session and the JVM behind it; the next :func:`get_spark` starts a fresh one.

    PySpark keeps its JVM for the life of the Python process, across ``SparkSession.stop()``:
    a long process that runs many unrelated jobs (a test run) carries every earlier job's
    leftovers in one heap. Returns whether a JVM was running.
    """
    from pyspark import SparkContext
    from pyspark.sql import SparkSession
    from pyspark.sql.context import SQLContext

    gateway = SparkContext._gateway
    if gateway is None:
        return False
    session = SparkSession._instantiatedSession
    if session is not None and session._sc._jsc is not None:
        session.stop()  # also clears the JVM's default and active sessions
    if SparkContext._active_spark_context is not None:
        SparkContext._active_spark_context.stop()
    process = getattr(gateway, "proc", None)
    gateway.shutdown()
    # Nothing may hand out an object of the old JVM: every cached session goes with it.
    SparkSession._instantiatedSession = None
    SparkSession._activeSession = None
    SQLContext._instantiatedContext = None
    SparkContext._gateway = None
    SparkContext._jvm = None
    if process is not None:
        # The gateway server exits when its stdin closes (that is how it follows a dying driver).
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return True
