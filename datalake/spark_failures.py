"""A Spark job whose JVM died fails at once, and says why in one line.

When the driver JVM exits (on an OutOfMemoryError, with :data:`datalake.spark.LOCAL_JAVA_OPTIONS`),
the Python side only sees a lost connection, an empty answer or a truncated Arrow stream. The JVM's
exit status says what happened; :func:`jvm_failures` turns the two into one
:class:`~datalake.errors.SparkJVMExitedError` that the run report and the CLI can print in one line.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from datalake.errors import SparkJVMExitedError
from datalake.runs import failure_reason

#: Exit statuses that mean the JVM ran out of memory: HotSpot's ``-XX:+ExitOnOutOfMemoryError`` and
#: Spark's own exit on an OutOfMemoryError in a task (``SparkExitCode.OOM``).
OUT_OF_MEMORY_EXIT_STATUSES = {3: "-XX:+ExitOnOutOfMemoryError", 52: "Spark's exit on OutOfMemoryError"}
#: How long a lost connection waits for the JVM to finish exiting before taking it for alive.
JVM_EXIT_WAIT_S = 3.0
_OUT_OF_MEMORY_HINT = (
    "give the driver more memory (SPARK_DRIVER_MEMORY locally, a larger Glue worker type on AWS) "
    "or process fewer raw partitions per run"
)


def spark_jvm_exit_status(wait_s: float = 0.0) -> int | None:
    """The exit status of the Spark JVM this process launched; None while it runs, or if another launched it.

    Parameters
    ----------
    wait_s
        How long to wait for a JVM that is exiting; 0 only looks.
    """
    from pyspark import SparkContext

    process = getattr(SparkContext._gateway, "proc", None)  # None on Glue: its JVM launched Python
    if process is None:
        return None
    try:
        return process.wait(timeout=wait_s) if wait_s > 0 else process.poll()
    except subprocess.TimeoutExpired:
        return None


def _looks_like_lost_jvm(error: BaseException) -> bool:
    from py4j.protocol import Py4JError

    return isinstance(error, Py4JError | OSError | EOFError)


def jvm_exit_error(status: int, error: BaseException) -> SparkJVMExitedError:
    """The error that says the JVM exited with ``status`` while ``error`` was being raised."""
    if status in OUT_OF_MEMORY_EXIT_STATUSES:
        return SparkJVMExitedError(
            f"Spark's JVM ran out of memory (java.lang.OutOfMemoryError) and exited with status {status} "
            f"({OUT_OF_MEMORY_EXIT_STATUSES[status]}); the job stopped at: {failure_reason(error)}",
            hint=_OUT_OF_MEMORY_HINT,
        )
    return SparkJVMExitedError(
        f"Spark's JVM exited with status {status} while the job ran; "
        f"the job stopped at: {failure_reason(error)}"
    )


@contextmanager
def jvm_failures(wait_s: float = JVM_EXIT_WAIT_S) -> Iterator[None]:
    """Re-raise an error of a block that ran Spark as :class:`SparkJVMExitedError` when the JVM died.

    Errors raised while the JVM lives go on unchanged.

    Parameters
    ----------
    wait_s
        How long a lost connection waits for the JVM to finish exiting.
    """
    try:
        yield
    except Exception as error:
        status = spark_jvm_exit_status(wait_s if _looks_like_lost_jvm(error) else 0.0)
        if status is None:
            raise
        raise jvm_exit_error(status, error) from error
