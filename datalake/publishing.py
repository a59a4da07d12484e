"""Publishing a processed run: switch the catalog to its folder, announce it, prune old runs.

A run's files are complete under ``<spec.location>/_runs/<run id>/`` before anything points at
them. Publishing then

1. creates or updates the table definition from the dataset spec when it is missing or differs;
2. points each partition the run wrote at the run's folder (one atomic write of the local
   catalog's table document; Glue ``BatchCreatePartition`` / ``BatchUpdatePartition``), or, for an
   unpartitioned table, the table's location; partitions the run did not write keep theirs;
3. writes a small marker, ``processed/_published/<dataset>/<run id>.json`` naming the partitions
   switched, which is what the warehouse sync is notified of;
4. deletes run folders nothing references any more once they have been unreferenced for the
   retention period (queries that started on the old location still finish).

A run that dies before step 2 leaves the catalog on the old, complete data; its folder is never
referenced and step 4 of a later publish removes it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from datalake.catalog.base import Catalog, Partition, Table
from datalake.catalog.processed import (
    RUNS_FOLDER,
    current_table,
    folder_location,
    processed_database,
    run_id_of,
    runs_prefix,
    spec_table,
)
from datalake.datasets.spec import DatasetSpec
from datalake.errors import CatalogNotFoundError, DataValidationError
from datalake.settings import Settings
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key, parse_partition, split_table_key

#: Where publish markers go (hidden from listings of ``processed/``); the sync is notified of them.
PUBLISHED_PREFIX = "processed/_published"
#: Written in a run folder when retention first finds nothing referencing it; its time starts the clock.
UNREFERENCED_MARKER = "_unreferenced.json"

Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_run_id(now: dt.datetime | None = None) -> str:
    """A run folder name: sortable by time, unique (``20240402T061509Z-1a2b3c4d``), no ``=`` in it."""
    now = now or _utc_now()
    return f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def run_prefix(spec: DatasetSpec, run_id: str) -> str:
    """Key prefix of one run's folder of a dataset."""
    return join_key(runs_prefix(spec), run_id)


def published_marker_key(spec: DatasetSpec, run_id: str) -> str:
    """Key of the marker a publish writes once the catalog points at the run."""
    return join_key(PUBLISHED_PREFIX, spec.name, f"{run_id}.json")


@dataclass(frozen=True)
class Publication:
    """What one publish did."""

    run_id: str
    #: Hive paths of the partitions switched ("" for an unpartitioned table).
    partitions: tuple[str, ...]
    #: The run's data files.
    keys: tuple[str, ...]
    created: int = 0
    switched: int = 0
    marker: str | None = None
    pruned: tuple[str, ...] = field(default_factory=tuple)


def publish_run(
    spec: DatasetSpec,
    store: ObjectStore,
    catalog: Catalog,
    run_id: str,
    settings: Settings,
    now: Clock = _utc_now,
) -> Publication:
    """Point the catalog at a written run folder, write the publish marker, prune old runs.

    Parameters
    ----------
    spec
        The dataset; its spec defines the catalog table.
    store
        The lake's object store, holding ``run_prefix(spec, run_id)``.
    catalog
        The catalog to switch (local or Glue).
    run_id
        The run whose folder is complete (Spark's commit is done).
    settings
        Database names and the retention period.
    now
        The clock (tests move it).

    Returns
    -------
    Publication
        The partitions switched, the run's files, and the run folders pruned.
    """
    database = processed_database(spec, settings)
    folder = run_prefix(spec, run_id)
    keys = [k for k in store.list_keys(folder) if k.endswith(".parquet")]
    partitions = sorted({split_table_key(k[len(folder) + 1 :])[1] for k in keys})
    partition_names = [p.name for p in spec.partition_by]
    existing = current_table(catalog, spec, settings)
    if partition_names:
        wanted = spec_table(spec, database, folder_location(store, spec.location))
        if existing != wanted:
            _put_table(catalog, wanted)
        switch = catalog.set_partition_locations(
            database,
            spec.table_name,
            [
                Partition(
                    tuple(parse_partition(path)[name] for name in partition_names),
                    folder_location(store, join_key(folder, path)),
                )
                for path in partitions
            ],
        )
        created, switched = switch.created, switch.switched
    else:
        # The table's location is the switch: UpdateTable (Glue) or one document write (local).
        _put_table(catalog, spec_table(spec, database, folder_location(store, folder)))
        partitions = [""]
        created, switched = int(existing is None), int(existing is not None)
    if partition_names and not keys:
        # An empty run of a partitioned table switches nothing: its folder will never be read.
        store.delete_prefix(folder)
    marker = None
    if keys or not partition_names:
        marker = published_marker_key(spec, run_id)
        store.put_json(
            marker,
            {
                "dataset": spec.name,
                "database": database,
                "table": spec.table_name,
                "run_id": run_id,
                "partitions": partitions,
                "published_at": now().isoformat(),
            },
        )
    pruned = prune_runs(spec, store, catalog, settings, now)
    return Publication(run_id, tuple(partitions), tuple(keys), created, switched, marker, tuple(pruned))


def unpublish_partitions(
    spec: DatasetSpec,
    store: ObjectStore,
    catalog: Catalog,
    partitions: list[str],
    settings: Settings,
    now: Clock = _utc_now,
) -> list[str]:
    """Remove partitions (Hive paths, ``year=2024/month=3``) from the catalog and say so in a marker.

    For a run whose rewrite left a partition with no rows (its raw is gone): there is no folder
    to switch to, so the partition leaves the catalog (readers stop seeing its rows at once), a
    publish marker names it (the sync deletes its warehouse rows), and retention prunes its
    last folder later like any superseded one. Returns the partitions that were in the catalog.
    """
    database = processed_database(spec, settings)
    names = [p.name for p in spec.partition_by]
    if not names or current_table(catalog, spec, settings) is None:
        return []
    published = {tuple(p.values) for p in catalog.list_partitions(database, spec.table_name)}
    values = {path: tuple(str(parse_partition(path)[n]) for n in names) for path in partitions}
    removed = sorted(path for path, v in values.items() if v in published)
    if not removed:
        return []
    catalog.drop_partitions(database, spec.table_name, [values[path] for path in removed])
    run_id = new_run_id(now())
    store.put_json(
        published_marker_key(spec, run_id),
        {
            "dataset": spec.name,
            "database": database,
            "table": spec.table_name,
            "run_id": run_id,
            "partitions": removed,
            "removed": removed,
            "published_at": now().isoformat(),
        },
    )
    prune_runs(spec, store, catalog, settings, now)
    return removed


def _put_table(catalog: Catalog, table: Table) -> None:
    """Create or update a table, creating its database first where it is missing (a new local lake;
    on AWS the stacks create the databases, so the job needs no glue:CreateDatabase)."""
    try:
        catalog.put_table(table)
    except CatalogNotFoundError:
        catalog.create_database(table.database, "processed zone of the lake")
        catalog.put_table(table)


def is_publish_marker(key: str) -> bool:
    """True for a publish marker's key (``processed/_published/<dataset>/<run>.json``)."""
    return key.startswith(PUBLISHED_PREFIX + "/") and key.endswith(".json")


def read_publish_marker(store: ObjectStore, key: str) -> tuple[str, list[str]]:
    """(dataset, partitions switched) of a publish marker.

    Raises
    ------
    DataValidationError
        The object is not a marker this module wrote (names the key and what is missing).
    """
    try:
        marker = store.get_json(key)
        return str(marker["dataset"]), [str(p) for p in marker["partitions"]]
    except (ValueError, KeyError, TypeError) as error:
        raise DataValidationError(key, f"not a publish marker ({type(error).__name__}: {error})") from None


def referenced_runs(spec: DatasetSpec, catalog: Catalog, settings: Settings) -> set[str]:
    """The runs the catalog points at for a dataset (its partitions' locations and the table's)."""
    table = current_table(catalog, spec, settings)
    if table is None:
        return set()
    locations = [table.location]
    if table.partition_keys:
        locations += [p.location for p in catalog.list_partitions(table.database, table.name)]
    return {run for run in map(run_id_of, locations) if run}


def prune_runs(
    spec: DatasetSpec,
    store: ObjectStore,
    catalog: Catalog,
    settings: Settings,
    now: Clock = _utc_now,
) -> list[str]:
    """Delete the dataset's run folders that nothing has referenced for the retention period.

    A run folder nothing references gets a marker holding the time retention first saw it so
    (a superseded run, or one that died before publishing); it is deleted once that time is
    ``settings.processed_retention_hours`` old. The clock starts when a folder stops being
    referenced, not when it was written, so a query that began on a location just superseded
    has the whole period to finish. Referenced folders lose a stale marker.

    Returns
    -------
    list[str]
        The run ids whose folders were deleted.
    """
    referenced = referenced_runs(spec, catalog, settings)
    root = runs_prefix(spec)
    runs: dict[str, list[str]] = {}
    for key in store.list_keys(root, include_hidden=True):
        runs.setdefault(key[len(root) + 1 :].split("/", 1)[0], []).append(key)
    retention = dt.timedelta(hours=settings.processed_retention_hours)
    moment = now()
    pruned = []
    for run, keys in sorted(runs.items()):
        marker = join_key(root, run, UNREFERENCED_MARKER)
        if run in referenced:
            if marker in keys:
                store.delete([marker])
            continue
        since = (
            dt.datetime.fromisoformat(store.get_json(marker)["unreferenced_since"])
            if marker in keys
            else moment
        )
        if moment - since >= retention:
            store.delete_prefix(join_key(root, run))
            pruned.append(run)
        elif marker not in keys:
            store.put_json(marker, {"unreferenced_since": moment.isoformat()})
    return pruned


__all__ = [
    "PUBLISHED_PREFIX",
    "RUNS_FOLDER",
    "Publication",
    "is_publish_marker",
    "new_run_id",
    "prune_runs",
    "publish_run",
    "published_marker_key",
    "read_publish_marker",
    "referenced_runs",
    "run_prefix",
]
