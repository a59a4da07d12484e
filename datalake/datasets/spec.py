"""Declarative dataset specs: schema, keys, partitions, time column, warehouse table, quality rules.

Every other part (the catalog, the warehouse DDL, the quality checks, /ask's allow-list)
reads these instead of repeating them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
import pyarrow as pa

from datalake import types
from datalake.catalog.base import Column as CatalogColumn
from datalake.datasets.semantics import Semantics
from datalake.storage.paths import join_key

RuleKind = Literal["not_null", "range", "allowed_values"]


@dataclass(frozen=True)
class ColumnSpec:
    """A column: name (unit in the name), Glue type, nullability and meaning.

    ``personal`` marks personal data (names, identification numbers): /ask never reads it,
    neither through the guard nor through the warehouse's reader role.
    """

    name: str
    type: str
    nullable: bool = True
    description: str = ""
    personal: bool = False


@dataclass(frozen=True)
class QualityRule:
    """A row-level check; failing rows go to quarantine with :attr:`reason`."""

    column: str
    kind: RuleKind
    min_value: float | None = None
    max_value: float | None = None
    allowed: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        if self.kind == "not_null":
            return f"{self.column} is null"
        if self.kind == "range":
            return f"{self.column} outside [{self.min_value}, {self.max_value}]"
        return f"{self.column} not in {list(self.allowed)}"


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset of the processed zone."""

    name: str
    description: str
    columns: tuple[ColumnSpec, ...]
    #: One row per key. A key column declared nullable may be empty (NULLs compare equal in the key).
    primary_key: tuple[str, ...]
    time_column: str | None = None
    partition_by: tuple[ColumnSpec, ...] = ()
    #: Date column the ``partition_by`` values (``year``, ``month``, ``day``) are taken from: the
    #: warehouse finds a processed partition's rows by it (one partition's sync replaces those).
    partition_source: str | None = None
    warehouse_table: str | None = None
    quality_rules: tuple[QualityRule, ...] = ()
    source: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    indexes: tuple[tuple[str, ...], ...] = ()
    #: Folder of the processed zone the table lives in (``energy_company``); "" for the top level.
    zone_folder: str = ""
    #: Name of the table in the catalog and its folder; ``name`` when empty.
    catalog_name: str = ""
    #: Columns of the source extract's header (CSV drops), in the order the source writes them.
    source_columns: tuple[str, ...] = ()
    #: /ask may query it (the guard's allow-list and the reader role's grants derive from this).
    askable: bool = False
    #: What /ask may ask of it (the semantic layer); tables without it are read by the
    #: electricity parser only.
    ask: Semantics | None = None

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate column names")
        for key in (
            *self.primary_key,
            *(r.column for r in self.quality_rules),
            *sum(self.indexes, ()),
            *self.source_columns,
        ):
            if key not in names:
                raise ValueError(f"{self.name}: {key!r} is not a column")
        if self.time_column and self.time_column not in names:
            raise ValueError(f"{self.name}: time column {self.time_column!r} is not a column")
        for column in self.columns:
            types.to_arrow(column.type)  # fails early on an unknown type
        if any(p.name in names for p in self.partition_by):
            raise ValueError(f"{self.name}: partition columns must not repeat data columns")
        if self.partition_by and self.partition_source not in names:
            raise ValueError(
                f"{self.name}: partition_source {self.partition_source!r} must name the date column "
                "the partition columns derive from"
            )

    def check_semantics(self) -> None:
        """Fail when what /ask may ask of the table names columns it lacks or may not read.

        Called for every registered dataset at import (a spec derived with ``dataclasses.replace``
        for a step of a job is not a table /ask reads, and is not checked).
        """
        semantics = self.ask
        if semantics is None:
            return
        if not self.askable:
            raise ValueError(f"{self.name}: declares what /ask may ask but is not askable")
        public = set(self.public_column_names)
        own = [
            *semantics.key,
            *([semantics.label] if semantics.label else []),
            *([semantics.time.column] if semantics.time else []),
            *([semantics.time.year_column] if semantics.time and semantics.time.year_column else []),
            *([semantics.source.column] if semantics.source else []),
            *(d.column for d in semantics.dimensions if d.table is None and not d.personal),
        ]
        for column in own:
            if column not in public:
                raise ValueError(f"{self.name}: /ask declares {column!r}, not a public column")
        time = semantics.time
        if (
            time is not None
            and time.yearly
            and self.column(time.column).type not in ("int", "bigint", "smallint")
        ):
            raise ValueError(
                f"{self.name}: /ask's yearly time axis {time.column!r} must be an integer column"
            )
        if semantics.order and semantics.order not in {m.key for m in semantics.measures}:
            raise ValueError(f"{self.name}: /ask orders by {semantics.order!r}, not a declared measure")

    @property
    def nullable_key_columns(self) -> tuple[str, ...]:
        """Key columns the spec declares nullable (empty on some rows, as a forecast's issue time on
        observed hours). Their table's key in the warehouse treats empty values as equal (a unique
        constraint with NULLS NOT DISTINCT, :mod:`datalake.warehouse.ddl`): a primary key refuses them.
        """
        return tuple(k for k in self.primary_key if self.column(k).nullable)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def public_column_names(self) -> list[str]:
        """Data columns that are not personal: what /ask may read of this table."""
        return [c.name for c in self.columns if not c.personal]

    def column(self, name: str) -> ColumnSpec:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def table_name(self) -> str:
        """Name of the dataset's table in the catalog (and of its folder in the processed zone)."""
        return self.catalog_name or self.name

    @property
    def location(self) -> str:
        """Key prefix of the dataset in the processed zone."""
        return join_key("processed", self.zone_folder, self.table_name)

    def arrow_schema(self, with_partitions: bool = False) -> pa.Schema:
        columns = list(self.columns) + (list(self.partition_by) if with_partitions else [])
        return pa.schema([pa.field(c.name, types.to_arrow(c.type), c.nullable) for c in columns])

    def catalog_columns(self) -> tuple[tuple[CatalogColumn, ...], tuple[CatalogColumn, ...]]:
        """(data columns, partition keys) for the catalog."""
        data = tuple(CatalogColumn(c.name, types.normalise(c.type), c.description) for c in self.columns)
        keys = tuple(CatalogColumn(c.name, types.normalise(c.type), c.description) for c in self.partition_by)
        return data, keys

    def effective_rules(self) -> list[QualityRule]:
        """Every check in the order reasons are reported: not-null (by column), then the rest.

        Non-nullable columns get a not-null rule even when the spec does not list one.
        """
        not_null = {r.column for r in self.quality_rules if r.kind == "not_null"}
        not_null |= {c.name for c in self.columns if not c.nullable}
        return [QualityRule(c, "not_null") for c in sorted(not_null)] + [
            r for r in self.quality_rules if r.kind != "not_null"
        ]

    def split_valid(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Apply the quality rules: (valid rows, quarantined rows with a ``reason`` column).

        Every input row lands in exactly one of the two; a row breaking several rules
        carries all their reasons, joined by ``; ``.
        """
        reasons = pd.Series([""] * len(frame), index=frame.index, dtype="object")
        for rule in self.effective_rules():
            if rule.column not in frame.columns:
                raise ValueError(f"{self.name}: input has no column {rule.column!r}")
            values = frame[rule.column]
            if rule.kind == "not_null":
                failed = values.isna()
            elif rule.kind == "range":
                numeric = pd.to_numeric(values, errors="coerce")
                low = -float("inf") if rule.min_value is None else rule.min_value
                high = float("inf") if rule.max_value is None else rule.max_value
                failed = values.notna() & ~numeric.between(low, high)
            else:
                failed = values.notna() & ~values.astype(str).isin(rule.allowed)
            reasons[failed] = reasons[failed] + f"; {rule.reason}"
        bad = reasons != ""
        quarantined = frame[bad].copy()
        quarantined["reason"] = reasons[bad].str.removeprefix("; ")
        return frame[~bad].copy(), quarantined
