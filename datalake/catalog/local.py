"""Local catalog: one JSON document per table, kept beside the lake under ``_catalog/``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from datalake.catalog.base import Catalog, Column, Partition, PartitionSwitch, Table
from datalake.errors import CatalogNotFoundError
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key

CATALOG_PREFIX = "_catalog"
_DATABASE_FILE = "_database.json"


class LocalCatalog(Catalog):
    """The Glue model in plain files; writes go through the store, so each is atomic."""

    def __init__(self, store: ObjectStore, prefix: str = CATALOG_PREFIX) -> None:
        self.store = store
        self.prefix = prefix

    def _db_key(self, database: str) -> str:
        return join_key(self.prefix, database, _DATABASE_FILE)

    def _table_key(self, database: str, name: str) -> str:
        return join_key(self.prefix, database, f"{name}.json")

    def _require_database(self, database: str) -> None:
        if not self.store.exists(self._db_key(database)):
            known = ", ".join(self.list_databases()) or "none"
            raise CatalogNotFoundError(
                f"database {database!r} not found in the catalog (known: {known})",
                hint="run `datalake crawl` to catalog the lake",
            )

    def create_database(self, name: str, description: str = "") -> None:
        if not self.store.exists(self._db_key(name)):
            self.store.put_json(self._db_key(name), {"name": name, "description": description})

    def list_databases(self) -> list[str]:
        keys = self.store.list_keys(self.prefix, include_hidden=True)
        return sorted(k.split("/")[-2] for k in keys if k.endswith("/" + _DATABASE_FILE))

    def list_tables(self, database: str) -> list[str]:
        self._require_database(database)
        keys = self.store.list_keys(join_key(self.prefix, database))
        return sorted(k.rsplit("/", 1)[-1].removesuffix(".json") for k in keys if k.endswith(".json"))

    def _load(self, database: str, name: str) -> dict[str, Any]:
        self._require_database(database)
        key = self._table_key(database, name)
        if not self.store.exists(key):
            known = ", ".join(self.list_tables(database)) or "none"
            raise CatalogNotFoundError(f"table {database}.{name} not found (tables in {database}: {known})")
        return self.store.get_json(key)

    # Locations inside the lake are kept relative to it (a key, ``processed/x/``), so a lake
    # folder that is moved or copied keeps a catalog that points into itself.
    def _stored(self, location: str) -> str:
        try:
            key = self.store.key_of(location)
        except ValueError:
            return location  # outside the lake: kept as given
        return (key + "/" if location.endswith("/") else key) if key else location

    def _resolved(self, stored: str) -> str:
        if not stored or "://" in stored or stored.startswith("file:"):
            return stored
        uri = self.store.uri(stored.rstrip("/"))
        return uri + "/" if stored.endswith("/") else uri

    def get_table(self, database: str, name: str) -> Table:
        table = _table_from_doc(self._load(database, name)["table"])
        return dataclasses.replace(table, location=self._resolved(table.location))

    def put_table(self, table: Table) -> None:
        self._require_database(table.database)
        key = self._table_key(table.database, table.name)
        partitions = self.store.get_json(key)["partitions"] if self.store.exists(key) else []
        doc = dataclasses.asdict(dataclasses.replace(table, location=self._stored(table.location)))
        self.store.put_json(key, {"table": doc, "partitions": partitions})

    def delete_table(self, database: str, name: str) -> None:
        self._load(database, name)
        self.store.delete([self._table_key(database, name)])

    def add_partitions(self, database: str, table: str, partitions: Iterable[Partition]) -> int:
        doc = self._load(database, table)
        known = {tuple(p["values"]) for p in doc["partitions"]}
        added = 0
        for partition in partitions:
            if partition.values not in known:
                doc["partitions"].append(
                    {"values": list(partition.values), "location": self._stored(partition.location)}
                )
                known.add(partition.values)
                added += 1
        if added:
            doc["partitions"].sort(key=lambda p: p["values"])
            self.store.put_json(self._table_key(database, table), doc)
        return added

    def set_partition_locations(
        self, database: str, table: str, partitions: Iterable[Partition]
    ) -> PartitionSwitch:
        doc = self._load(database, table)
        current = {tuple(p["values"]): p for p in doc["partitions"]}
        created = switched = 0
        for partition in partitions:
            entry = current.get(tuple(partition.values))
            location = self._stored(partition.location)
            if entry is None:
                entry = {"values": list(partition.values), "location": location}
                current[tuple(partition.values)] = entry
                doc["partitions"].append(entry)
                created += 1
            elif entry["location"] != location:
                entry["location"] = location
                switched += 1
        if created or switched:
            doc["partitions"].sort(key=lambda p: p["values"])
            # One write of the whole document: a reader loads the old partition set or the new one.
            self.store.put_json(self._table_key(database, table), doc)
        return PartitionSwitch(created, switched)

    def drop_partitions(self, database: str, table: str, values: Iterable[tuple[str, ...]]) -> int:
        doc = self._load(database, table)
        gone = {tuple(v) for v in values}
        kept = [p for p in doc["partitions"] if tuple(p["values"]) not in gone]
        removed = len(doc["partitions"]) - len(kept)
        if removed:
            doc["partitions"] = kept
            self.store.put_json(self._table_key(database, table), doc)  # one atomic write
        return removed

    def list_partitions(self, database: str, table: str) -> list[Partition]:
        doc = self._load(database, table)
        return [Partition(tuple(p["values"]), self._resolved(p["location"])) for p in doc["partitions"]]


def _table_from_doc(doc: dict[str, Any]) -> Table:
    return Table(
        database=doc["database"],
        name=doc["name"],
        columns=tuple(Column(**c) for c in doc["columns"]),
        location=doc["location"],
        format=doc["format"],
        partition_keys=tuple(Column(**c) for c in doc["partition_keys"]),
        parameters=dict(doc.get("parameters", {})),
        description=doc.get("description", ""),
    )
