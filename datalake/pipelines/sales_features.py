"""The store-sales features dataset built and written by Spark: the AWS path of the features step.

``datalake run sales-etl`` builds the versioned features dataset (:mod:`datalake.sales.dataset`) with
pandas on one machine. On AWS the ``store_sales`` Glue job ends with :func:`write_sales_features`
(``--features true``), which writes the same dataset, with the same content digest, from the
published ``store_sales_daily`` and ``stores`` tables:

- the driver computes what is global, as small aggregates: the split dates (first and last day),
  the closed rows per day (which infer the shop's calendar) and the span of open days with sales;
- executors build each store's rows with the one pandas definition
  (:func:`datalake.sales.dataset.feature_rows`, through ``applyInPandas`` grouped by store) and
  hash them; only the per-row hashes (8 bytes a row) come back, for the digest;
- executors write ``version=<digest>/features/part-*.parquet``; then the driver writes the small
  ``stores.parquet`` (the dimension the features were built from), the manifest and ``_latest.json``,
  in that order, so a reader that finds a manifest finds its data.

A version whose manifest exists is complete and, the digest being of the content, equal to what a
rerun would write: a rerun leaves it alone.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from datalake.datasets.store_sales import STORE_SALES_DAILY
from datalake.pipelines.processing import Progress, read_current, spark_uri
from datalake.sales.data import typed_sales
from datalake.sales.dataset import (
    FEATURES_PART,
    dataset_manifest,
    dataset_settings,
    digest_of_parts,
    dtype_signature,
    feature_rows,
    point_latest,
    publish_version,
    row_hashes,
    version_prefix,
)
from datalake.sales.features import FeatureConfig
from datalake.sales.split import TimeSplit, before
from datalake.settings import Settings
from datalake.storage.base import ObjectStore

#: The ``store_sales_daily`` columns the features read.
SALES_INPUT = ("store_id", "date", "sales", "customers", "open", "promo", "state_holiday", "school_holiday")
#: Each output row's hash (:func:`datalake.sales.dataset.row_hashes`), dropped before the write.
ROW_HASH = "_row_hash"
#: pandas dtype -> the Spark type that reads back (pyarrow) as the same dtype.
_SPARK_TYPES: dict[str, T.DataType] = {
    "int64": T.LongType(),
    "int32": T.IntegerType(),
    "float64": T.DoubleType(),
    "bool": T.BooleanType(),
    "object": T.StringType(),
}


def _empty_sales() -> pd.DataFrame:
    """No rows, with the dtypes :func:`~datalake.sales.data.typed_sales` gives."""
    return pd.DataFrame(
        {
            "store_id": pd.Series(dtype="int64"),
            "date": pd.Series(dtype="datetime64[ns]"),
            "sales": pd.Series(dtype="float64"),
            "customers": pd.Series(dtype="float64"),
            "open": pd.Series(dtype="bool"),
            "promo": pd.Series(dtype="bool"),
            "state_holiday": pd.Series(dtype="object"),
            "school_holiday": pd.Series(dtype="bool"),
        }
    )


def output_schema(stores: pd.DataFrame, config: FeatureConfig, test_start: dt.date) -> T.StructType:
    """The Spark schema of the dataset's rows, from the dtypes the pandas definition gives (no rows)."""
    probe = feature_rows(_empty_sales(), stores, _empty_sales(), config, test_start)
    fields = []
    for name, dtype in probe.dtypes.items():
        if str(dtype) not in _SPARK_TYPES:
            raise TypeError(f"features column {name}: no Spark type for dtype {dtype}")
        fields.append(T.StructField(str(name), _SPARK_TYPES[str(dtype)], True))
    return T.StructType([*fields, T.StructField(ROW_HASH, T.LongType(), False)])


def _global_settings(
    sales: DataFrame, config: FeatureConfig, split: TimeSplit
) -> tuple[FeatureConfig, dict[str, dt.date], tuple[pd.Timestamp, pd.Timestamp] | None]:
    """Resolved settings, split dates and the history's open-sales span, from small aggregates."""
    bounds = sales.agg(F.min("date").alias("first"), F.max("date").alias("last")).first()
    if bounds is None or bounds["first"] is None:
        raise ValueError("store_sales_daily has no rows")
    dates = split.dates(pd.Series(pd.to_datetime([bounds["first"], bounds["last"]])))
    history = sales.filter(F.col("date") < F.lit(dates["test_start"]))
    closed = history.filter(~F.col("open")).groupBy("date").count().collect()  # one row a day
    closed_days = pd.Series(
        [row["count"] for row in closed], index=pd.to_datetime([row["date"] for row in closed]), dtype="int64"
    )
    config = config.resolved_from_closed_days(closed_days)
    known = (
        history.filter(F.col("open") & (F.col("sales") > 0))
        .agg(F.min("date").alias("first"), F.max("date").alias("last"))
        .first()
    )
    span = None
    if known is not None and known["first"] is not None:
        span = (pd.Timestamp(known["first"]), pd.Timestamp(known["last"]))
    return config, dates, span


def feature_frame(
    sales: DataFrame,
    stores: pd.DataFrame,
    config: FeatureConfig | None = None,
    split: TimeSplit | None = None,
) -> tuple[DataFrame, dict[str, Any]]:
    """The dataset's rows as a Spark DataFrame (one ``applyInPandas`` group per store) and its plan.

    Parameters
    ----------
    sales
        ``store_sales_daily`` (at least :data:`SALES_INPUT`).
    stores
        The ``stores`` table, as the local path reads it (a dimension: shipped to every executor).
    config, split
        Feature and split settings (part of the digest).

    Returns
    -------
    tuple
        The rows with :data:`ROW_HASH`, and ``{"config", "split", "dates", "signature"}``.

    Raises
    ------
    ValueError
        When the data is too short for the split.
    """
    config = config or FeatureConfig()
    split = split or TimeSplit()
    sales = sales.select(*SALES_INPUT)
    config, dates, span = _global_settings(sales, config, split)
    test_start = dates["test_start"]
    schema = output_schema(stores, config, test_start)
    signature = dtype_signature(feature_rows(_empty_sales(), stores, _empty_sales(), config, test_start))

    def one_store(frame: pd.DataFrame) -> pd.DataFrame:
        rows = typed_sales(frame).sort_values(["store_id", "date"], ignore_index=True)
        out = feature_rows(rows, stores, before(rows, test_start), config, test_start, span)
        if dtype_signature(out) != signature:  # it would not hash as the local path's rows
            raise TypeError(f"store {rows['store_id'].iloc[0]}: feature dtypes {dict(out.dtypes)} differ")
        return out.assign(**{ROW_HASH: np.frombuffer(row_hashes(out), dtype=np.int64)})

    rows = sales.groupBy("store_id").applyInPandas(one_store, schema)
    return rows, {"config": config, "split": split, "dates": dates, "signature": signature}


def _concatenated_hashes(rows: DataFrame) -> tuple[bytes, int]:
    """Every row's hash in the local frame's order (store, then date), and the number of stores.

    Only the hashes reach the driver (8 bytes a row), never the rows.
    """
    schema = T.StructType([T.StructField("store_id", T.LongType()), T.StructField("hashes", T.BinaryType())])

    def store_hashes(frame: pd.DataFrame) -> pd.DataFrame:
        ordered = frame.sort_values("date")[ROW_HASH].to_numpy(dtype=np.int64)
        return pd.DataFrame({"store_id": [int(frame["store_id"].iloc[0])], "hashes": [ordered.tobytes()]})

    per_store = (
        rows.select("store_id", "date", ROW_HASH).groupBy("store_id").applyInPandas(store_hashes, schema)
    )
    collected = sorted(per_store.collect(), key=lambda row: row["store_id"])
    return b"".join(row["hashes"] for row in collected), len(collected)


def write_sales_features(
    spark: SparkSession,
    store: ObjectStore,
    settings: Settings,
    config: FeatureConfig | None = None,
    split: TimeSplit | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build the features dataset from the published tables with Spark and write it as a version.

    Parameters
    ----------
    spark
        Glue's session (``local[*]`` here).
    store
        The lake: the published tables, and ``features/store_sales/`` to write.
    settings
        Lake settings (the catalog the tables are published in).
    config, split
        Feature and split settings (the local path's defaults when None).
    progress
        Told the version written.

    Returns
    -------
    dict
        The version's manifest (``written``: False when that version was already complete).

    Raises
    ------
    FileNotFoundError
        Before ``store_sales_daily`` and ``stores`` are published.
    ValueError
        When the data is too short for the split.
    """
    from datalake.sales.etl import published_frame

    sales = read_current(spark, store, STORE_SALES_DAILY)
    stores = published_frame("stores", settings, store)
    if sales is None or stores is None:
        raise FileNotFoundError("store_sales_daily and stores are not published yet")
    stores = stores.sort_values("store_id", ignore_index=True)
    rows, plan = feature_frame(sales, stores, config, split)
    rows = rows.cache()
    try:
        hashes, store_count = _concatenated_hashes(rows)
        config, split = plan["config"], plan["split"]
        settings_part = dataset_settings(config, split)
        version = digest_of_parts(
            settings_part, [(plan["signature"], hashes), (dtype_signature(stores), row_hashes(stores))]
        )
        counts = {row["split"]: int(row["count"]) for row in rows.groupBy("split").count().collect()}
        manifest = dataset_manifest(version, counts, store_count, plan["dates"], config, split)
        prefix = version_prefix(version)
        if store.exists(f"{prefix}/manifest.json"):
            written = False  # complete, and a digest of the same content
            point_latest(store, version)  # the tables may have gone back to an earlier version's
        else:
            rows.drop(ROW_HASH).write.mode("overwrite").parquet(spark_uri(store, f"{prefix}/{FEATURES_PART}"))
            buffer = io.BytesIO()
            stores.to_parquet(buffer, index=False)
            publish_version(store, version, manifest, stores_parquet=buffer.getvalue())
            written = True
    finally:
        rows.unpersist()
    if progress:
        state = "written" if written else "already complete"
        progress(f"features {version}: {manifest['rows']:,} rows, {state} ({prefix}/)")
    return {**manifest, "written": written}
