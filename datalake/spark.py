"""Spark sessions for local job runs, with the Java check that Spark itself would fail on late."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

from datalake.errors import ConfigurationError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

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


def get_spark(
    app_name: str = "datalake", master: str = "local[*]", driver_memory: str = "4g"
) -> SparkSession:
    """A SparkSession configured like Glue 5.0 for local runs (UTC, no UI, few partitions)."""
    check_java()
    # Bind to loopback: local runs need no network, and this keeps Spark's hostname warning quiet.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers must be this interpreter, or they cannot import datalake for pandas UDFs.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.appName(app_name)
        .master(master)
        # Only takes effect when this call starts the JVM, which is how local runs start it.
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        # Raw files are small (one per day): pack them into a few tasks, not one per 32 files.
        .config("spark.sql.files.openCostInBytes", str(64 * 1024))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session
