"""Reading processed tables in tests the way every reader must: through the catalog."""

from __future__ import annotations

import hashlib

import pandas as pd

from datalake.catalog.local import LocalCatalog
from datalake.catalog.processed import current_partitions, data_files, read_current
from datalake.datasets import DATASETS
from datalake.datasets.spec import DatasetSpec
from datalake.settings import Settings
from datalake.storage.base import ObjectStore


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
