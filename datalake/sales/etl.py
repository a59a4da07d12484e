"""``datalake run sales-etl``: landing -> transform (the sales_etl source) -> features -> MLflow.

The landing and transform steps belong to the ``store_sales`` source (its Glue job writes
``store_sales_daily`` and ``stores``; drops land with ``datalake ingest landing``). :func:`sales_tables`
runs its transform through the source registry, then reads the published partitions of both
processed tables; ``--files`` reads the shared Rossmann files directly instead, into the same
columns (:func:`datalake.sales.data.read_rossmann_files`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from datalake import runtime
from datalake.runs import record_run
from datalake.sales import ETL_EXPERIMENT
from datalake.sales.data import read_rossmann_files, typed_sales
from datalake.sales.dataset import build_feature_dataset, write_feature_dataset
from datalake.sales.features import FeatureConfig
from datalake.sales.split import TimeSplit
from datalake.settings import Settings, get_settings
from datalake.storage.base import ObjectStore

#: The source that lands and transforms the sales drops (datalake/sources/registry.py).
SOURCE_NAME = "store_sales"


def published_frame(name: str, settings: Settings, store: ObjectStore | None = None) -> pd.DataFrame | None:
    """A processed table's rows from the partitions the catalog points at (None before any publish).

    Read on the caller's machine: for the ``stores`` dimension (and the local path's tables).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from datalake.catalog.processed import catalog_for, current_partitions, data_files
    from datalake.datasets import get_dataset

    store = store or runtime.object_store("lake", settings)
    spec = get_dataset(name)
    partitions = current_partitions(catalog_for(store, settings), store, spec, settings)
    tables = [
        pq.read_table(io.BytesIO(store.get_bytes(key)), columns=spec.column_names)
        for partition in partitions
        for key in data_files(store, partition)
    ]
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="default").to_pandas()


def _processed_tables(settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """``store_sales_daily`` and ``stores`` from the processed zone, when the source wrote them."""
    sales = published_frame("store_sales_daily", settings)
    stores = published_frame("stores", settings)
    if sales is None or stores is None:
        return None
    return typed_sales(sales), stores


def sales_tables(
    settings: Settings, files: Path | None = None, progress: Callable[[str], None] = print
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The two processed tables and where they came from.

    Parameters
    ----------
    settings
        Lake settings.
    files
        A folder of Rossmann drops to read directly (``rossmann-sales.xlsx``, ``store.csv``), in
        place of the processed zone.
    progress
        Where to report each step.
    """
    if files is None:
        from datalake.sources.registry import SOURCES

        if SOURCE_NAME in SOURCES:
            from datalake.pipelines.lake import transform

            spec = SOURCES[SOURCE_NAME]
            progress(f"transform: {SOURCE_NAME} raw -> processed (only drops landed since its last run)")
            transform(spec.name, spec.check_raw_prefix(None), settings=settings, progress=progress)
        tables = _processed_tables(settings)
        if tables is None:
            raise FileNotFoundError(
                "no processed store_sales_daily/stores tables in the lake: land and transform the "
                "sales drops first, or pass --files with the Rossmann files"
            )
        return (*tables, "processed store_sales_daily + stores")
    progress(f"reading the Rossmann drops in {files}")
    sales, stores = read_rossmann_files(files)
    return sales, stores, f"Rossmann files in {files}"


def run_sales_etl(
    settings: Settings | None = None,
    files: Path | None = None,
    stores_subset: list[int] | None = None,
    config: FeatureConfig | None = None,
    split: TimeSplit | None = None,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Build the features, write them as a versioned dataset and log the run to MLflow.

    Parameters
    ----------
    settings
        Lake settings (the process-wide ones when omitted).
    files
        Read these Rossmann drops instead of the processed zone (see :func:`sales_tables`).
    stores_subset
        Keep only these stores (tests, quick demos).
    config, split
        Feature and split settings (part of the digest).

    Returns
    -------
    dict
        The ``sales_etl`` run report: dataset version, row counts, split dates, MLflow run id.
    """
    from datalake import tracking

    settings = settings or get_settings()
    store = runtime.object_store("lake", settings)
    with record_run("sales_etl", store) as report:
        with report.timed("read"):
            sales, stores, description = sales_tables(settings, files, progress)
        if stores_subset is not None:
            sales = sales[sales["store_id"].isin(stores_subset)]
            stores = stores[stores["store_id"].isin(stores_subset)]
        with report.timed("features"):
            dataset = build_feature_dataset(sales, stores, config, split)
        with report.timed("write"):
            uri = write_feature_dataset(store, dataset)
        manifest = dataset.manifest
        progress(f"features {dataset.version}: {manifest['rows']:,} rows -> {uri}")
        with (
            report.timed("mlflow"),
            tracking.tracked_run(ETL_EXPERIMENT, f"features-{dataset.version}", settings) as run,
        ):
            import mlflow

            mlflow.log_params(
                {
                    "dataset_version": dataset.version,
                    "data": description,
                    **{f"split_{name}": day for name, day in manifest["split_dates"].items()},
                    **{f"feature_{name}": value for name, value in manifest["settings"]["features"].items()},
                }
            )
            mlflow.log_metrics(
                {name: manifest[name] for name in ("rows", "rows_train", "rows_test", "stores")}
            )
            mlflow.log_dict(manifest, "manifest.json")
            mlflow.set_tag("dataset_uri", uri)
        report.rows_in = len(sales)
        report.rows_out = manifest["rows"]
        report.details.update(
            dataset_version=dataset.version,
            dataset_uri=uri,
            data=description,
            rows=manifest["rows"],
            rows_train=manifest["rows_train"],
            rows_test=manifest["rows_test"],
            split_dates=manifest["split_dates"],
            mlflow_run_id=run.info.run_id,
        )
    return report.to_dict()
