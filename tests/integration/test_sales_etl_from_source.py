"""``datalake run sales-etl`` without --files: the store_sales source's transform, then the features.

Ten shared stores' newest 120 days land as a workbook drop (with store.csv); the sales ETL runs the
source's job through the registry (Spark local[1]) and builds the features from the published
processed tables, which must hold the same rows as the files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sales_fixtures import rossmann_tables
from store_sales_fixtures import land_shared_drops

from datalake.sales.etl import run_sales_etl
from datalake.settings import Settings

STORES = list(range(1, 11))
DAYS = 120


@pytest.mark.slow  # a Spark job on the shared machine: a minute or more
def test_sales_etl_reads_the_sources_processed_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    expected_sales, _stores = rossmann_tables(STORES)  # skips without ../shared/data
    settings = Settings(
        _env_file=None, lake_runtime="local", lake_root=tmp_path / "lake", spark_master="local[1]"
    )
    land_shared_drops(settings, STORES, DAYS)

    details = run_sales_etl(settings, progress=lambda _: None)["details"]

    assert details["data"] == "processed store_sales_daily + stores"
    assert details["rows"] == len(STORES) * DAYS
    newest = expected_sales[expected_sales["date"] > expected_sales["date"].max() - dt.timedelta(days=DAYS)]
    assert details["split_dates"]["test_end"] == newest["date"].max().date().isoformat()
    # The same rows give the same features as the loader of the files.
    monkeypatch.setattr("datalake.sales.etl.read_rossmann_files", lambda folder: (newest, _stores))
    from_files = run_sales_etl(settings, files=Path("shared"), progress=lambda _: None)["details"]
    assert from_files["rows"] == details["rows"]
