"""REData documents -> typed rows of ``demand_hourly`` and ``generation``.

The envelope is flattened by ``datalake.sources.ree.parse_values`` inside ``mapInPandas``,
so the client, the tests and the Spark job share one reading of the format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.sources.ree import parse_values
from datalake.transforms.documents import conform, local_date

#: ``ree-<dataset>-<geo>-<YYYY-MM-DD>.json``, as ``datalake.sources.ree.raw_key`` names files.
_NAME = re.compile(r"ree-(?P<dataset>[a-z_]+)-(?P<geo>[a-z_]+)-\d{4}-\d{2}-\d{2}\.json$")
DEMAND_SERIES = "Demanda"
PROBLEM = "problem"

VALUE_ROWS = T.StructType(
    [
        T.StructField("path", T.StringType()),
        T.StructField("dataset", T.StringType()),
        T.StructField("region", T.StringType()),
        T.StructField("time_grain", T.StringType()),
        T.StructField("series_title", T.StringType()),
        T.StructField("series_kind", T.StringType()),
        T.StructField("ts_utc", T.TimestampType()),
        T.StructField("value", T.DoubleType()),
        T.StructField("percentage", T.DoubleType()),
        T.StructField("source", T.StringType()),
        T.StructField("extracted_at", T.TimestampType()),
        T.StructField(PROBLEM, T.StringType()),
        T.StructField("raw_record", T.StringType()),
    ]
)


def _rows_of(path: str, content: str, extracted_at: pd.Timestamp) -> list[dict]:
    match = _NAME.search(path)
    base = {
        "path": path,
        "dataset": match["dataset"] if match else None,
        "region": match["geo"] if match else None,
        "extracted_at": extracted_at,
    }
    try:
        rows = parse_values(json.loads(content))
    except (ValueError, AttributeError, TypeError) as error:
        return [{**base, PROBLEM: f"unreadable REData document: {error}", "raw_record": content[:2000]}]
    if not match:
        return [{**base, PROBLEM: "file name is not ree-<dataset>-<geo>-<date>.json", "raw_record": path}]
    per_series: dict[str, int] = {}
    for row in rows:
        per_series[row["series_id"]] = per_series.get(row["series_id"], 0) + 1
    grain = "hour" if max(per_series.values(), default=0) > 1 else "day"
    return [
        {
            **base,
            "time_grain": grain,
            "series_title": row["series_title"],
            "series_kind": row["series_kind"],
            "ts_utc": row["ts_utc"],
            "value": row["value"],
            "percentage": row["percentage"],
            "source": row["source"],
            PROBLEM: row["problem"],
            "raw_record": json.dumps(
                {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()},
                ensure_ascii=False,
            ),
        }
        for row in rows
    ] or [{**base, PROBLEM: "document holds no values", "raw_record": content[:2000]}]


def documents_to_rows(documents: DataFrame) -> DataFrame:
    """Flatten documents (``path``, ``content``, ``extracted_at``) into one row per value entry.

    Entries that cannot be read keep a ``problem`` and their raw text, for quarantine.
    """

    def flatten(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            out: list[dict] = []
            for path, content, extracted_at in batch[["path", "content", "extracted_at"]].itertuples(
                index=False
            ):
                out += _rows_of(path, content, extracted_at)
            yield conform(pd.DataFrame(out, columns=VALUE_ROWS.fieldNames()), VALUE_ROWS)

    return documents.mapInPandas(flatten, VALUE_ROWS)


def demand_rows(values: DataFrame) -> DataFrame:
    """``demand_hourly`` rows from flattened demand documents; other series get a problem."""
    rows = values.filter(F.col("dataset") == "demand")
    problem = (
        F.when(F.col(PROBLEM).isNotNull(), F.col(PROBLEM))
        .when(
            F.col("series_title") != DEMAND_SERIES, F.concat(F.lit("not the demand series: "), "series_title")
        )
        .when(F.col("time_grain") != "hour", F.lit("demand is hourly; this document is not"))
    )
    return rows.select(
        F.col("ts_utc"),
        local_date().alias("local_date"),
        F.col("region"),
        # Hourly energy in MWh over one hour is the mean power in MW.
        F.col("value").alias("demand_mw"),
        F.col("source"),
        F.lit(None).cast("double").alias("tso_forecast_mw"),
        F.col("extracted_at"),
        F.year(local_date()).alias("year"),
        F.month(local_date()).alias("month"),
        problem.alias(PROBLEM),
        F.col("raw_record"),
    ).select(*DEMAND_HOURLY.column_names, "year", "month", PROBLEM, "raw_record")


def generation_rows(values: DataFrame) -> DataFrame:
    """``generation`` rows (one per technology and period) from flattened documents."""
    rows = values.filter(F.col("dataset") == "generation")
    return rows.select(
        F.col("ts_utc"),
        local_date().alias("local_date"),
        F.col("time_grain"),
        F.col("region"),
        F.col("series_title").alias("technology"),
        F.col("series_kind").alias("technology_group"),
        F.col("value").alias("energy_mwh"),
        F.col("percentage").alias("share"),
        F.col("source"),
        F.col("extracted_at"),
        F.year(local_date()).alias("year"),
        F.col(PROBLEM),
        F.col("raw_record"),
    ).select(*GENERATION.column_names, "year", PROBLEM, "raw_record")


def unreadable_rows(values: DataFrame) -> DataFrame:
    """Rows that belong to no dataset (unreadable files, unexpected names), for quarantine."""
    return values.filter(F.col("dataset").isNull() | ~F.col("dataset").isin("demand", "generation"))
