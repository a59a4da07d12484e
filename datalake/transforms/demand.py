"""Typed demand rows for ``demand_hourly`` from the raw shapes."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from datalake.datasets import DEMAND_HOURLY

MADRID = "Europe/Madrid"


def with_partitions(df: DataFrame) -> DataFrame:
    """Add ``year`` and ``month`` of the local date, the processed table's partitions."""
    return df.withColumn("year", F.year("local_date")).withColumn("month", F.month("local_date"))


def from_sample_csv(raw: DataFrame) -> DataFrame:
    """Sample CSV rows (``datetime`` with its own offset, ``region``, ``demand_mw``,
    ``extracted_at``, ``source``) -> ``demand_hourly`` columns plus partitions.

    The session time zone must be UTC (get_spark sets it) so timestamps mean instants.
    """
    ts_utc = F.to_timestamp(F.col("datetime").cast("string"), "yyyy-MM-dd'T'HH:mm:ssXXX")
    typed = raw.select(
        # The untouched record travels along so a quarantined row keeps what arrived.
        F.to_json(F.struct(*[F.col(c) for c in raw.columns])).alias("raw_record"),
        ts_utc.alias("ts_utc"),
        F.to_date(F.from_utc_timestamp(ts_utc, MADRID)).alias("local_date"),
        F.lower(F.trim(F.col("region").cast("string"))).alias("region"),
        F.col("demand_mw").cast("double").alias("demand_mw"),
        F.col("source").cast("string").alias("source"),
        F.lit(None).cast("double").alias("tso_forecast_mw"),
        F.to_timestamp(F.col("extracted_at").cast("string")).alias("extracted_at"),
    )
    return with_partitions(typed).select(*DEMAND_HOURLY.column_names, "year", "month", "raw_record")
