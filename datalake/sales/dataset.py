"""The features as a versioned dataset in the lake: the version is a digest of the content.

Layout (the object store's keys, a folder locally, S3 on AWS)::

    features/store_sales/version=<digest>/features.parquet   every row, its features, target and split
    features/store_sales/version=<digest>/features/part-*.parquet   the same rows, written by Spark (AWS)
    features/store_sales/version=<digest>/stores.parquet     the stores table the features were built from
    features/store_sales/version=<digest>/manifest.json      digest, row counts, split dates, settings
    features/store_sales/_latest.json                       the newest version written

The same sales, stores and settings give the same digest, so a rerun rewrites the same keys.
"""

from __future__ import annotations

import datetime as dt
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
#: The rows of a version: one Parquet file (the local path) or a folder of Spark's part files (AWS).
FEATURES_FILE, FEATURES_PART = "features.parquet", "features"
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


def dtype_signature(table: pd.DataFrame) -> bytes:
    """The column names and dtypes of ``table``, as :func:`content_digest` hashes them."""
    return json.dumps([f"{name}:{dtype}" for name, dtype in table.dtypes.items()]).encode()


def row_hashes(table: pd.DataFrame) -> bytes:
    """One 64-bit hash per row of ``table``, in order: a row's hash depends on that row alone, so the
    hashes of consecutive slices concatenate to those of the whole table."""
    return pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes()


def digest_of_parts(settings: dict[str, Any], parts: list[tuple[bytes, bytes]]) -> str:
    """SHA-256 (first 16 hex digits) of ``settings`` and each table's (:func:`dtype_signature`,
    :func:`row_hashes`), in order."""
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for signature, hashes in parts:
        digest.update(signature)
        digest.update(hashes)
    return digest.hexdigest()[:16]


def content_digest(frame: pd.DataFrame, settings: dict[str, Any], *others: pd.DataFrame) -> str:
    """SHA-256 (first 16 hex digits) of the rows, column names, dtypes and settings; order-sensitive."""
    return digest_of_parts(settings, [(dtype_signature(t), row_hashes(t)) for t in (frame, *others)])


def feature_rows(
    rows: pd.DataFrame,
    stores: pd.DataFrame,
    history: pd.DataFrame,
    config: FeatureConfig,
    test_start: dt.date,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """The dataset's rows for ``rows`` (sorted by store and date): features, target and split.

    Parameters
    ----------
    rows
        ``store_sales_daily`` rows (all of them, or one store's).
    stores
        The ``stores`` table.
    history
        The rows before ``test_start`` (of the same stores as ``rows``).
    config
        Resolved feature settings (``date_year_offset`` set).
    test_start
        First day of the test window.
    span
        :func:`~datalake.sales.features.open_sales_span` of the whole history, when ``rows`` is a part.
    """
    features = build_features(rows, stores, history, config, span=span)
    date = pd.to_datetime(rows["date"])
    return pd.concat(
        [
            features[feature_columns(config)],
            pd.DataFrame(
                {
                    "date": date.dt.date.astype(str),
                    "sales": rows["sales"].astype("float64"),
                    "customers": rows["customers"].astype("float64"),
                    "open": rows["open"].astype(bool),
                    "split": (date >= pd.Timestamp(test_start)).map({True: "test", False: "train"}),
                }
            ),
        ],
        axis=1,
    )


def dataset_settings(config: FeatureConfig, split: TimeSplit) -> dict[str, Any]:
    """The settings part of the digest and the manifest."""
    return {"features": config.describe(), "split": split.describe()}


def dataset_manifest(
    version: str,
    counts: dict[str, int],
    stores: int,
    dates: dict[str, dt.date],
    config: FeatureConfig,
    split: TimeSplit,
) -> dict[str, Any]:
    """The manifest of a version: digest, row counts (``{"train": n, "test": m}``), split dates, settings."""
    return {
        "version": version,
        "rows": int(sum(counts.values())),
        "rows_train": int(counts.get("train", 0)),
        "rows_test": int(counts.get("test", 0)),
        "stores": int(stores),
        "split_dates": {name: day.isoformat() for name, day in dates.items()},
        "feature_columns": feature_columns(config),
        "settings": dataset_settings(config, split),
    }


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
    frame = feature_rows(rows, stores, history, config, dates["test_start"])
    stores = stores.sort_values("store_id", ignore_index=True)
    version = content_digest(frame, dataset_settings(config, split), stores)
    counts = {name: int(n) for name, n in frame["split"].value_counts().items()}
    manifest = dataset_manifest(version, counts, frame["store_id"].nunique(), dates, config, split)
    return FeatureDataset(frame, stores, manifest)


def version_prefix(version: str) -> str:
    """The key prefix of one version."""
    return f"{PREFIX}/version={version}"


def publish_version(
    store: ObjectStore, version: str, manifest: dict[str, Any], stores_parquet: bytes
) -> None:
    """Finish a version whose rows are written: its stores table, its manifest, then ``_latest.json``."""
    prefix = version_prefix(version)
    store.put_bytes(f"{prefix}/stores.parquet", stores_parquet)
    # The manifest last: a reader that finds it finds the data.
    store.put_json(f"{prefix}/manifest.json", manifest)
    point_latest(store, version)


def point_latest(store: ObjectStore, version: str) -> None:
    """Make ``version`` (complete: its manifest written) the one readers get by default."""
    store.put_json(f"{PREFIX}/_latest.json", {"version": version})


def write_feature_dataset(store: ObjectStore, dataset: FeatureDataset) -> str:
    """Write the dataset's parquet and manifest under its version and point ``_latest.json`` at it.

    Returns
    -------
    str
        The URI of the version's parquet file.
    """
    buffer = io.BytesIO()
    dataset.frame.to_parquet(buffer, index=False)
    uri = store.put_bytes(f"{version_prefix(dataset.version)}/{FEATURES_FILE}", buffer.getvalue())
    stores_buffer = io.BytesIO()
    dataset.stores.to_parquet(stores_buffer, index=False)
    publish_version(store, dataset.version, dataset.manifest, stores_buffer.getvalue())
    return uri


def _read_rows(store: ObjectStore, prefix: str) -> pd.DataFrame:
    """A version's rows: one file (pandas wrote it) or Spark's part files, in store and date order."""
    if store.exists(f"{prefix}/{FEATURES_FILE}"):
        return pd.read_parquet(io.BytesIO(store.get_bytes(f"{prefix}/{FEATURES_FILE}")))
    parts = sorted(k for k in store.list_keys(f"{prefix}/{FEATURES_PART}/") if k.endswith(".parquet"))
    if not parts:
        raise FileNotFoundError(f"{prefix} has neither {FEATURES_FILE} nor {FEATURES_PART}/*.parquet")
    frame = pd.concat([pd.read_parquet(io.BytesIO(store.get_bytes(k))) for k in parts], ignore_index=True)
    # Spark's part files hold the stores in no set order: the local writer's order (store, date).
    return frame.sort_values(["store_id", "date"], ignore_index=True, kind="stable")


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
    prefix = version_prefix(version)
    manifest = store.get_json(f"{prefix}/manifest.json")
    frame = _read_rows(store, prefix)
    stores = pd.read_parquet(io.BytesIO(store.get_bytes(f"{prefix}/stores.parquet")))
    return FeatureDataset(frame, stores, manifest)
