"""The tests' local Spark sessions, started as local jobs start theirs (:func:`datalake.spark.job_session`).

A test module that starts the worker's JVM maps Spark's classes from the class-data archive
``datalake doctor`` built (``make test`` runs it first), as every local job does: without it each
cold JVM of the suite spends about 3 s more loading classes. A missing or stale archive changes
nothing (:func:`datalake.spark_archive.archive_java_options`).
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession

from datalake.spark import class_archive_path, get_spark


def local_spark(
    app_name: str, master: str = "local[1]", driver_memory: str = "4g", **options: Any
) -> SparkSession:
    """:func:`datalake.spark.get_spark` with the class-data archive of the java Spark launches."""
    return get_spark(app_name, master, driver_memory, class_archive=class_archive_path(), **options)
