"""The catalog port: databases, tables and partitions, as the Glue Data Catalog models them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from datalake.errors import CatalogNotFoundError

TableFormat = Literal["parquet", "json", "csv"]


@dataclass(frozen=True)
class Column:
    """A catalogued column; ``type`` is a Glue/Athena type string."""

    name: str
    type: str
    comment: str = ""


@dataclass(frozen=True)
class Table:
    """A catalogued table: where its files are, their format, columns and partition keys."""

    database: str
    name: str
    columns: tuple[Column, ...]
    location: str
    format: TableFormat
    partition_keys: tuple[Column, ...] = ()
    parameters: dict[str, str] = field(default_factory=dict)
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def with_columns(self, columns: Sequence[Column]) -> Table:
        return replace(self, columns=tuple(columns))


@dataclass(frozen=True)
class Partition:
    """One partition: its values in partition-key order and its location."""

    values: tuple[str, ...]
    location: str


@dataclass(frozen=True)
class PartitionSwitch:
    """What :meth:`Catalog.set_partition_locations` did: partitions created and switched."""

    created: int = 0
    switched: int = 0


class Catalog(ABC):
    """Catalog adapters (local JSON files, Glue) share this interface."""

    @abstractmethod
    def create_database(self, name: str, description: str = "") -> None:
        """Create a database; an existing one is left as it is."""

    @abstractmethod
    def list_databases(self) -> list[str]:
        """Database names, sorted."""

    @abstractmethod
    def list_tables(self, database: str) -> list[str]:
        """Table names in a database, sorted; raises CatalogNotFoundError for an unknown one."""

    @abstractmethod
    def get_table(self, database: str, name: str) -> Table:
        """A table; raises CatalogNotFoundError naming what was missing."""

    @abstractmethod
    def put_table(self, table: Table) -> None:
        """Create a table or replace its definition (partitions are kept)."""

    @abstractmethod
    def delete_table(self, database: str, name: str) -> None:
        """Drop a table and its partitions from the catalog (never the data)."""

    @abstractmethod
    def add_partitions(self, database: str, table: str, partitions: Iterable[Partition]) -> int:
        """Register partitions; already-registered ones are skipped. Returns how many were new."""

    @abstractmethod
    def list_partitions(self, database: str, table: str) -> list[Partition]:
        """A table's partitions, sorted by values."""

    @abstractmethod
    def set_partition_locations(
        self, database: str, table: str, partitions: Iterable[Partition]
    ) -> PartitionSwitch:
        """Point partitions at new locations: new ones are created, existing ones switched.

        This is how a run publishes: readers that look the partition up before the call read
        the old location, after it the new one. Partitions not given keep their location.
        """

    @abstractmethod
    def drop_partitions(self, database: str, table: str, values: Iterable[tuple[str, ...]]) -> int:
        """Remove partitions (by their values) from the catalog, never their data; missing ones
        are skipped. Returns how many were removed. A run whose rewrite left a partition without
        rows unpublishes it this way (readers stop seeing its rows at once)."""

    def find_table(self, database: str, name: str) -> Table | None:
        """A table, or None when it (or its database) is missing."""
        try:
            return self.get_table(database, name)
        except CatalogNotFoundError:
            return None

    def has_table(self, database: str, name: str) -> bool:
        """True when the table exists."""
        try:
            self.get_table(database, name)
        except CatalogNotFoundError:
            return False
        return True
