"""Reading processed tables in tests the way every reader must: through the catalog."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import pandas as pd
import pyarrow as pa

from datalake.catalog.base import Catalog
from datalake.catalog.local import LocalCatalog
from datalake.catalog.processed import current_partitions, data_files, read_current
from datalake.datasets import DATASETS
from datalake.datasets.spec import DatasetSpec
from datalake.publishing import new_run_id, publish_run, run_prefix
from datalake.settings import Settings
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key


def published(store: ObjectStore, spec: DatasetSpec) -> pd.DataFrame:
    """The current rows of a processed table of a local-catalog lake (partition values as text)."""
    return read_current(store, LocalCatalog(store), spec, Settings(_env_file=None))


def published_digests(store: ObjectStore) -> dict[str, list[str]]:
    """``{"<dataset>/<partition>": sorted sha256 of its current files}`` for every processed dataset.

    File names change with each run (Spark names them); their bytes are what a re-run must repeat.
    """
    catalog, settings = LocalCatalog(store), Settings(_env_file=None)
    return {
        f"{spec.name}/{partition.path}": sorted(
            hashlib.sha256(store.get_bytes(key)).hexdigest() for key in data_files(store, partition)
        )
        for spec in DATASETS.values()
        for partition in current_partitions(catalog, store, spec, settings)
    }


def publish_frames(
    store: ObjectStore,
    spec: DatasetSpec,
    partitions: Mapping[str, pd.DataFrame | Sequence[pd.DataFrame]],
    run_id: str | None = None,
    catalog: Catalog | None = None,
    settings: Settings | None = None,
) -> str:
    """Publish a run of ``spec`` as a job does, without Spark: its files, then the catalog switch.

    ``partitions`` maps Hive paths ("" for an unpartitioned table) to the rows of each (several
    frames: several files). Returns the run id.
    """
    run_id = run_id or new_run_id()
    settings = settings or Settings(_env_file=None)
    folder = run_prefix(spec, run_id)
    for path, frames in partitions.items():
        for index, frame in enumerate([frames] if isinstance(frames, pd.DataFrame) else frames):
            table = pa.Table.from_pandas(
                frame[spec.column_names], schema=spec.arrow_schema(), preserve_index=False
            )
            store.write_parquet(join_key(folder, path, f"part-{index:05d}-{run_id}.parquet"), table)
    publish_run(spec, store, catalog or LocalCatalog(store), run_id, settings)
    return run_id


def demand_hours(start: str, hours: int, demand_mw: float = 25_000.0, source: str = "sample") -> pd.DataFrame:
    """demand_hourly rows from ``start`` (UTC), national, all ``demand_mw``.

    Their partition is the Madrid month of ``local_date``: ``2024-03-31T22:00Z`` is already April.
    """
    ts = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    return pd.DataFrame(
        {
            "ts_utc": ts,
            "local_date": ts.tz_convert("Europe/Madrid").date,
            "region": "national",
            "demand_mw": demand_mw,
            "source": source,
            "tso_forecast_mw": None,
            "extracted_at": pd.Timestamp("2024-04-02T06:00Z"),
        }
    ).astype({"tso_forecast_mw": "float64"})


def demand_day(day: str, demand_mw: float, hours: int = 24) -> pd.DataFrame:
    """demand_hourly rows of one UTC day (``2024-03-05``), national, all ``demand_mw``, from REE."""
    return demand_hours(f"{day}T00:00Z", hours, demand_mw, source="ree")
