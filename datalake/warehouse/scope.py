"""Which warehouse rows a processed partition holds: the range of its dataset's partition source.

A processed partition (``year=2024/month=3``) is a calendar range of the spec's
``partition_source`` date column (``local_date`` for the REE tables, ``fecha_transaccion`` for the
energy company's transactions). A sync replaces exactly the rows in that range; an unpartitioned
table is one partition, the whole table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from psycopg import sql

from datalake.datasets.spec import DatasetSpec
from datalake.errors import DataValidationError
from datalake.storage.paths import parse_partition

_CALENDAR_PARTS = ("year", "month", "day")


@dataclass(frozen=True)
class RowScope:
    """Rows whose ``column`` lies in ``[start, end)``; every row when ``column`` is None."""

    column: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None

    def predicate(self, alias: str) -> sql.Composable:
        """The SQL condition on the table aliased ``alias`` (values as parameters, never text)."""
        if self.column is None:
            return sql.SQL("TRUE")
        column = sql.Identifier(alias, self.column)
        return sql.SQL("{0} >= {1} AND {0} < {2}").format(
            column, sql.Literal(self.start), sql.Literal(self.end)
        )

    def outside(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``frame`` this scope does not hold (they would escape the replace)."""
        if self.column is None:
            return frame.iloc[0:0]
        days = pd.to_datetime(frame[self.column]).dt.date
        return frame[~((days >= self.start) & (days < self.end))]


def partition_scope(spec: DatasetSpec, partition: str) -> RowScope:
    """The warehouse rows of one processed partition of ``spec``.

    Parameters
    ----------
    spec
        The dataset; its ``partition_by`` names calendar parts (year, month, day) of its
        ``partition_source`` column.
    partition
        The partition path, ``year=2024/month=03``; "" for an unpartitioned table.

    Returns
    -------
    RowScope
        ``[first day, first day of the next period)`` of the source column, or the whole table.

    Raises
    ------
    DataValidationError
        The path does not name the spec's partition columns, or a value is not a calendar part.
    """
    if not spec.partition_by:
        if partition:
            raise DataValidationError("partition", f"{spec.name} is not partitioned, got {partition!r}")
        return RowScope()
    names = [p.name for p in spec.partition_by]
    if names != list(_CALENDAR_PARTS[: len(names)]):
        raise DataValidationError("partition_by", f"{spec.name}: {names} are not year[/month[/day]]")
    values = parse_partition(partition)
    if list(values) != names:
        raise DataValidationError(
            "partition", f"{partition!r} does not name {'/'.join(names)} of {spec.name}"
        )
    try:
        parts = [int(values[name]) for name in names]
        start = dt.date(parts[0], *[*parts[1:], 1, 1][:2])
    except ValueError as error:
        raise DataValidationError("partition", f"{partition!r} is not a calendar date: {error}") from None
    if len(parts) == 1:
        end = dt.date(start.year + 1, 1, 1)
    elif len(parts) == 2:
        end = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    else:
        end = start + dt.timedelta(days=1)
    return RowScope(spec.partition_source, start, end)


def check_in_scope(spec: DatasetSpec, partition: str, scope: RowScope, frame: pd.DataFrame) -> None:
    """Refuse a partition whose files hold rows of another partition (their replace would miss them).

    Raises
    ------
    DataValidationError
        Naming the source column, the partition and the first stray value.
    """
    stray = scope.outside(frame)
    if len(stray):
        raise DataValidationError(
            scope.column or "partition",
            f"{len(stray)} row(s) of {spec.name}/{partition} lie outside it "
            f"(first: {stray.iloc[0][scope.column]!r}, expected [{scope.start}, {scope.end}))",
        )
