"""Raw files as whole documents (the one way the Spark jobs read the raw zone), and local dates."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

MADRID = "Europe/Madrid"


def read_documents(spark: SparkSession, uri: str | list[str], pattern: str = "*.json") -> DataFrame:
    """One row per raw file under ``uri`` (or under each of several) matching ``pattern``: ``path``,
    ``content``, ``extracted_at``.

    ``extracted_at`` is the file's modification time, the moment the extractor wrote it.
    Partition folders are not turned into columns: the files say what they hold.
    """
    return (
        spark.read.option("recursiveFileLookup", True)
        .option("pathGlobFilter", pattern)
        # As an argument: text() sets wholetext itself and would override an option() of it.
        .text(uri, wholetext=True)
        .select(
            F.col("_metadata.file_path").alias("path"),
            F.col("value").alias("content"),
            F.col("_metadata.file_modification_time").alias("extracted_at"),
        )
    )


def local_date(ts_utc: str = "ts_utc") -> F.Column:
    """The Europe/Madrid date of a UTC timestamp column (the session zone is UTC; see get_spark)."""
    return F.to_date(F.from_utc_timestamp(F.col(ts_utc), MADRID))


def conform(frame: pd.DataFrame, schema: T.StructType) -> pd.DataFrame:
    """A ``mapInPandas`` batch with exactly ``schema``'s columns and matching dtypes.

    A batch made only of odd pieces (say, unreadable files) would otherwise carry float NaN
    columns where strings or timestamps belong, which Arrow refuses.
    """
    frame = frame.reindex(columns=schema.fieldNames())
    for field in schema.fields:
        column = frame[field.name]
        if isinstance(field.dataType, T.TimestampType):
            # Spark reads naive timestamps in the session zone, which get_spark sets to UTC.
            frame[field.name] = pd.to_datetime(column, utc=True).dt.tz_localize(None)
        elif isinstance(field.dataType, T.DoubleType):
            frame[field.name] = column.astype("float64")
        else:
            frame[field.name] = column.astype(object).where(column.notna(), None)
    return frame


def read_binary_documents(spark: SparkSession, uri: str | list[str]) -> DataFrame:
    """One row per raw file under ``uri``, or each of several (hidden ``_x``/``.x`` files left out):
    ``path``, ``content`` bytes.

    For files whose encoding varies (CSV drops in UTF-8 or Latin-1): the caller decodes them.
    """
    return (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", True)
        .load(uri)
        .select("path", "content")
    )
