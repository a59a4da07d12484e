"""Gold constructors for energy company questions: each names a pandas answer of :mod:`reference_datasets`
over the frames (never SQL). Shared by every energy company question set's builder."""

from __future__ import annotations

from typing import Any

import reference_datasets as ref
from dataset_questions import GoldOf


def month(m: int) -> tuple[str, str]:
    return f"2024-{m:02d}", f"2024-{m:02d}"


def per(table: str, column: str, k: int | None = None) -> GoldOf:
    return lambda f: ref.count_by(f, table, column, k)


def where(table: str, **equal: Any) -> GoldOf:
    return lambda f: ref.count_where(f, table, **equal)


def count(**filters: Any) -> GoldOf:
    return lambda f: ref.count_transactions(f, **filters)


def total(column: str, **filters: Any) -> GoldOf:
    return lambda f: ref.transaction_total(f, column, **filters)


def mean_by_kind(column: str) -> GoldOf:
    return lambda f: ref.transaction_mean_by_kind(f, column)


def by_type(column: str, statistic: str = "sum", k: int | None = None, **filters: Any) -> GoldOf:
    return lambda f: ref.by_energy_type(f, column, statistic, k, **filters)


def monthly(column: str | None, **filters: Any) -> GoldOf:
    return lambda f: ref.monthly(f, column, **filters)
