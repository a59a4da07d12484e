"""Processed tables in the catalog: defined by their dataset specs, read where the catalog points.

A job writes each run of a processed table to a folder of its own,
``<spec.location>/_runs/<run id>/<partition path>/``, and publishing points the catalog's
partitions (an unpartitioned table: the table itself) at it. Every reader asks the catalog where
a table's current data is (:func:`current_partitions`) and never lists the table's folder, which
also holds superseded runs and the half-written folders of runs that died.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from datalake.catalog.base import Catalog, Table
from datalake.catalog.crawler import CrawlReport, TableFinding
from datalake.datasets.spec import DatasetSpec
from datalake.settings import Settings
from datalake.storage.base import ObjectStore
from datalake.storage.paths import hive_path, join_key, parse_partition

#: Folder of a processed table holding one folder per run (hidden: Spark, Athena and listings skip it).
RUNS_FOLDER = "_runs"


@dataclass(frozen=True)
class CurrentPartition:
    """A partition as the catalog has it now: its Hive path ("" for a whole unpartitioned
    table), its location, and that location's key prefix in the store."""

    path: str
    location: str
    prefix: str


def processed_database(spec: DatasetSpec, settings: Settings) -> str:
    """The catalog database a processed dataset's table is registered in."""
    databases = {"": settings.processed_database, "energy_company": settings.energy_processed_database}
    try:
        return databases[spec.zone_folder]
    except KeyError:
        raise ValueError(
            f"{spec.name}: zone_folder {spec.zone_folder!r} has no processed database "
            f"(known: {', '.join(repr(k) for k in databases)})"
        ) from None


def folder_location(store: ObjectStore, prefix: str) -> str:
    """The catalog location of a key prefix (a folder): its URI with a trailing slash, as Athena wants."""
    return store.uri(prefix).rstrip("/") + "/"


def spec_table(spec: DatasetSpec, database: str, location: str) -> Table:
    """The catalog table of a dataset, from its spec (the spec is the schema's truth)."""
    columns, partition_keys = spec.catalog_columns()
    return Table(
        database=database,
        name=spec.table_name,
        columns=columns,
        location=location,
        format="parquet",
        partition_keys=partition_keys,
        parameters={"classification": "parquet", "datalake.dataset": spec.name},
        description=spec.description,
    )


def catalog_for(store: ObjectStore, settings: Settings) -> Catalog:
    """The catalog beside ``store``: the local one kept in a local lake, Glue's for S3."""
    if store.scheme == "file":
        from datalake.catalog.local import LocalCatalog

        return LocalCatalog(store)
    from datalake.catalog.glue import GlueCatalog

    return GlueCatalog(settings=settings)


def run_id_of(location: str) -> str | None:
    """The run a location belongs to (``.../_runs/<id>/...``), or None for any other location."""
    segments = [s for s in location.split("/") if s]
    for index, segment in enumerate(segments[:-1]):
        if segment == RUNS_FOLDER:
            return segments[index + 1]
    return None


def current_table(catalog: Catalog, spec: DatasetSpec, settings: Settings) -> Table | None:
    """The dataset's catalog table, or None before its first publish."""
    return catalog.find_table(processed_database(spec, settings), spec.table_name)


def current_partitions(
    catalog: Catalog, store: ObjectStore, spec: DatasetSpec, settings: Settings
) -> list[CurrentPartition]:
    """Where the dataset's current data is: one entry per partition (or one for the whole table).

    Empty before the first publish. Locations outside ``store`` are refused with ValueError.
    """
    table = current_table(catalog, spec, settings)
    if table is None:
        return []
    if not table.partition_keys:
        return [CurrentPartition("", table.location, store.key_of(table.location))]
    names = [k.name for k in table.partition_keys]
    return [
        CurrentPartition(
            hive_path(dict(zip(names, partition.values, strict=True))),
            partition.location,
            store.key_of(partition.location),
        )
        for partition in catalog.list_partitions(table.database, table.name)
    ]


def data_files(store: ObjectStore, partition: CurrentPartition) -> list[str]:
    """The Parquet files of one current partition (its folder only: no run beside it)."""
    return [k for k in store.list_keys(partition.prefix) if k.endswith(".parquet")]


def runs_prefix(spec: DatasetSpec) -> str:
    """Key prefix of a dataset's run folders."""
    return join_key(spec.location, RUNS_FOLDER)


def register_processed(
    catalog: Catalog, store: ObjectStore, specs: Iterable[DatasetSpec], settings: Settings
) -> list[CrawlReport]:
    """What ``datalake crawl processed`` does now: bring each published table's definition in line
    with its dataset spec (the jobs register tables and partitions when they publish; no crawler
    reads the processed zone, whose ``_runs`` folders a crawler would take for partitions).

    Returns
    -------
    list[CrawlReport]
        One per processed database: each published table, ``updated`` or ``unchanged``.
    """
    reports: dict[str, CrawlReport] = {}
    for spec in specs:
        database = processed_database(spec, settings)
        report = reports.setdefault(
            database, CrawlReport(zone=spec.location.rsplit("/", 1)[0], database=database)
        )
        table = current_table(catalog, spec, settings)
        if table is None:
            continue
        wanted = spec_table(spec, database, table.location)
        finding = TableFinding(
            name=spec.table_name,
            location=table.location,
            format="parquet",
            status="unchanged" if wanted == table else "updated",
            columns=spec.column_names,
            partition_keys=[p.name for p in spec.partition_by],
        )
        if wanted != table:
            catalog.put_table(wanted)
        if spec.partition_by:
            finding.partitions_total = len(catalog.list_partitions(database, spec.table_name))
        finding.files = sum(
            len(data_files(store, p)) for p in current_partitions(catalog, store, spec, settings)
        )
        report.tables.append(finding)
    return list(reports.values())


def read_partition(store: ObjectStore, spec: DatasetSpec, partition: CurrentPartition) -> pa.Table:
    """One current partition's rows, as written (the spec's columns); empty when it holds none."""
    tables = [pq.read_table(io.BytesIO(store.get_bytes(key))) for key in data_files(store, partition)]
    if not tables:
        return spec.arrow_schema().empty_table()
    return pa.concat_tables(tables, promote_options="default")


def read_current(store: ObjectStore, catalog: Catalog, spec: DatasetSpec, settings: Settings) -> pd.DataFrame:
    """Every current row of a processed dataset into pandas (small tables: tests, tools).

    Partition values become string columns, as :meth:`ObjectStore.read_parquet` gives them.
    """
    tables = []
    for partition in current_partitions(catalog, store, spec, settings):
        table = read_partition(store, spec, partition)
        for name, value in parse_partition(partition.path).items():
            table = table.append_column(name, pa.array([value] * table.num_rows, pa.string()))
        tables.append(table)
    if not tables:
        return spec.arrow_schema().empty_table().to_pandas()
    return pa.concat_tables(tables, promote_options="default").to_pandas()
