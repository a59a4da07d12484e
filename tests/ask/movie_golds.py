"""Gold constructors for movie questions: each names a pandas answer of :mod:`reference_datasets`
over the frames (never SQL). Shared by every movie question set's builder."""

from __future__ import annotations

from typing import Any

import reference_datasets as ref
from dataset_questions import GoldOf


def top(column: str, k: int = ref.DEFAULT_K, ascending: bool = False, **filters: Any) -> GoldOf:
    return lambda f: ref.top_movies(f, column, k, ascending, **filters)


def count(over: tuple[str, float] | None = None, **filters: Any) -> GoldOf:
    return lambda f: ref.count_movies(f, over, **filters)


def total(column: str, **filters: Any) -> GoldOf:
    return lambda f: ref.movie_total(f, column, **filters)


def mean(column: str, **filters: Any) -> GoldOf:
    return lambda f: ref.movie_mean(f, column, **filters)


def compare(statistic: str, column: str, *filter_sets: dict[str, Any]) -> GoldOf:
    return lambda f: ref.movie_compare(f, statistic, column, *filter_sets)


def genres(title: str | None = None) -> GoldOf:
    return lambda f: ref.genre_list(f, title)
