"""The features dataset as the AWS Glue job writes it (Spark, one store per group) equals the local one.

Three shared stores' newest 120 days land as drops; ``datalake run sales-etl`` transforms them and
builds the features with pandas (the local path). Then the source's job runs with ``--features``
(the Glue job's DefaultArguments) over the same published tables: its executors must write the same
rows, under the same content digest, with the same manifest.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from sales_fixtures import rossmann_tables
from store_sales_fixtures import land_shared_drops

from datalake.pipelines.lake import transform
from datalake.sales.dataset import FEATURES_FILE, FEATURES_PART, content_digest, read_feature_dataset
from datalake.sales.etl import run_sales_etl
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

STORES = [1, 2, 3]
DAYS = 120


@pytest.mark.slow  # Spark jobs on the shared machine: a minute or more
def test_the_glue_jobs_spark_features_equal_the_local_pandas_ones_digest_included(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    rossmann_tables(STORES)  # skips without ../shared/data
    settings = Settings(
        _env_file=None, lake_runtime="local", lake_root=tmp_path / "lake", spark_master="local[1]"
    )
    land_shared_drops(settings, STORES, DAYS)
    local = run_sales_etl(settings, progress=lambda _: None)["details"]
    store = LocalObjectStore(settings.lake_root)
    expected = read_feature_dataset(store, local["dataset_version"])
    shutil.rmtree(settings.lake_root / "features")

    # The Glue job's run: nothing new landed, so it only writes the features of the published tables.
    monkeypatch.setenv("LAKE_ROOT", str(settings.lake_root))  # the job reads the process-wide settings
    from datalake.settings import get_settings

    get_settings.cache_clear()
    report = transform("store_sales", settings=settings, features=True)
    get_settings.cache_clear()

    features = report.details["features"]
    assert features["version"] == local["dataset_version"]
    assert features["written"] is True
    assert (features["rows"], features["rows_train"], features["rows_test"]) == (
        len(STORES) * DAYS,
        local["rows_train"],
        local["rows_test"],
    )
    prefix = f"features/store_sales/version={features['version']}"
    parts = [k for k in store.list_keys(f"{prefix}/{FEATURES_PART}/") if k.endswith(".parquet")]
    assert parts and not store.exists(f"{prefix}/{FEATURES_FILE}")  # Spark's part files, not a pandas file
    written = read_feature_dataset(store)  # _latest.json points at it
    assert written.manifest == expected.manifest
    pd.testing.assert_frame_equal(written.frame, expected.frame)
    pd.testing.assert_frame_equal(written.stores, expected.stores)
    # What a reader gets hashes to the version it is filed under.
    assert content_digest(written.frame, written.manifest["settings"], written.stores) == written.version

    # A rerun finds the version complete and leaves it alone, but makes it the latest again (the
    # tables may have gone back to what an earlier version was built from).
    store.put_json("features/store_sales/_latest.json", {"version": "another"})
    again = transform("store_sales", settings=settings, features=True).details["features"]
    assert (again["version"], again["written"]) == (features["version"], False)
    assert store.get_json("features/store_sales/_latest.json") == {"version": features["version"]}
