"""The features as a versioned dataset in the lake: the version is a digest of the content.

Layout (the object store's keys, a folder locally, S3 on AWS)::

    features/store_sales/version=<digest>/features.parquet   every row, its features, target and split
    features/store_sales/version=<digest>/stores.parquet     the stores table the features were built from
    features/store_sales/version=<digest>/manifest.json      digest, row counts, split dates, settings
    features/store_sales/_latest.json                       the newest version written

The same sales, stores and settings give the same digest, so a rerun rewrites the same keys.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from datalake.sales import FEATURES_PREFIX
from datalake.sales.features import STATE_HOLIDAY_CODES, FeatureConfig, build_features, feature_columns
from datalake.sales.split import TimeSplit, before
from datalake.storage.base import ObjectStore

PREFIX = FEATURES_PREFIX
#: Columns kept beside the features: the target and what scoring needs.
TARGET_COLUMNS = ["date", "sales", "customers", "open", "split"]


@dataclass(frozen=True)
class FeatureDataset:
    """One version of the features: every row with its split, and the manifest that describes it."""

    frame: pd.DataFrame
    stores: pd.DataFrame
    manifest: dict[str, Any]

    @property
    def version(self) -> str:
        """The content digest."""
        return str(self.manifest["version"])

    def part(self, split: str) -> pd.DataFrame:
        """The rows of one split (``train`` or ``test``)."""
        return self.frame[self.frame["split"] == split]

    def sales_rows(self) -> pd.DataFrame:
        """The ``store_sales_daily`` columns a model needs as history or as rows to predict."""
        frame = self.frame
        return pd.DataFrame(
            {
                "store_id": frame["store_id"],
                "date": pd.to_datetime(frame["date"]),
                "sales": frame["sales"],
                "customers": frame["customers"],
                "open": frame["open"].astype(bool),
                "promo": frame["promo"].astype(bool),
                "state_holiday": frame["state_holiday"].map({v: k for k, v in STATE_HOLIDAY_CODES.items()}),
                "school_holiday": frame["school_holiday"].astype(bool),
                "split": frame["split"],
            }
        )


def content_digest(frame: pd.DataFrame, settings: dict[str, Any], *others: pd.DataFrame) -> str:
    """SHA-256 (first 16 hex digits) of the rows, column names, dtypes and settings; order-sensitive."""
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for table in (frame, *others):
        digest.update(json.dumps([f"{name}:{dtype}" for name, dtype in table.dtypes.items()]).encode())
        digest.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def build_feature_dataset(
    sales: pd.DataFrame,
    stores: pd.DataFrame,
    config: FeatureConfig | None = None,
    split: TimeSplit | None = None,
) -> FeatureDataset:
    """Features for every row of ``store_sales_daily``, split by time (test = the last six weeks).

    Lag, rolling and mean features of every row use the sales before the test window only, so no
    feature of the test window carries its own sales.
    """
    config = config or FeatureConfig()
    split = split or TimeSplit()
    rows = sales.sort_values(["store_id", "date"], ignore_index=True)
    dates = split.dates(rows["date"])
    history = before(rows, dates["test_start"])
    config = config.resolved(history)
    features = build_features(rows, stores, history, config)
    frame = pd.concat(
        [
            features[feature_columns(config)],
            pd.DataFrame(
                {
                    "date": pd.to_datetime(rows["date"]).dt.date.astype(str),
                    "sales": rows["sales"].astype("float64"),
                    "customers": rows["customers"].astype("float64"),
                    "open": rows["open"].astype(bool),
                    "split": (pd.to_datetime(rows["date"]) >= pd.Timestamp(dates["test_start"])).map(
                        {True: "test", False: "train"}
                    ),
                }
            ),
        ],
        axis=1,
    )
    settings = {"features": config.describe(), "split": split.describe()}
    stores = stores.sort_values("store_id", ignore_index=True)
    counts = frame["split"].value_counts()
    manifest = {
        "version": content_digest(frame, settings, stores),
        "rows": len(frame),
        "rows_train": int(counts.get("train", 0)),
        "rows_test": int(counts.get("test", 0)),
        "stores": int(frame["store_id"].nunique()),
        "split_dates": {name: day.isoformat() for name, day in dates.items()},
        "feature_columns": feature_columns(config),
        "settings": settings,
    }
    return FeatureDataset(frame, stores, manifest)


def _version_prefix(version: str) -> str:
    return f"{PREFIX}/version={version}"


def write_feature_dataset(store: ObjectStore, dataset: FeatureDataset) -> str:
    """Write the dataset's parquet and manifest under its version and point ``_latest.json`` at it.

    Returns
    -------
    str
        The URI of the version's parquet file.
    """
    buffer = io.BytesIO()
    dataset.frame.to_parquet(buffer, index=False)
    prefix = _version_prefix(dataset.version)
    uri = store.put_bytes(f"{prefix}/features.parquet", buffer.getvalue())
    stores_buffer = io.BytesIO()
    dataset.stores.to_parquet(stores_buffer, index=False)
    store.put_bytes(f"{prefix}/stores.parquet", stores_buffer.getvalue())
    # The manifest last: a reader that finds it finds the data.
    store.put_json(f"{prefix}/manifest.json", dataset.manifest)
    store.put_json(f"{PREFIX}/_latest.json", {"version": dataset.version})
    return uri


def read_feature_dataset(store: ObjectStore, version: str | None = None) -> FeatureDataset:
    """One version of the dataset (the latest written when ``version`` is None).

    Raises
    ------
    FileNotFoundError
        When no version was written (run ``datalake run sales-etl`` first).
    """
    if version is None:
        if not store.exists(f"{PREFIX}/_latest.json"):
            raise FileNotFoundError(
                f"no store-sales features in the lake ({PREFIX}); run `datalake run sales-etl`"
            )
        version = store.get_json(f"{PREFIX}/_latest.json")["version"]
    prefix = _version_prefix(version)
    manifest = store.get_json(f"{prefix}/manifest.json")
    frame = pd.read_parquet(io.BytesIO(store.get_bytes(f"{prefix}/features.parquet")))
    stores = pd.read_parquet(io.BytesIO(store.get_bytes(f"{prefix}/stores.parquet")))
    return FeatureDataset(frame, stores, manifest)
