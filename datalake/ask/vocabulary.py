"""Values only the data knows: company names and titles a question names ("Pixar", "Avatar").

A dimension declared ``open`` (and a table's label, its rows' names) has no word list: its
vocabulary is the distinct values in the table, read once through the guarded executor and
kept for a few minutes. A question names such a value with its capitals ("The Dark Knight
Rises", "Marvel Studios"), so only capitalised runs of words are looked up, and only runs that
are not all words the parser already knows ("Top", "Drama"). A run names a value when it is the
value (accents and case aside) or the start of exactly one value ("Pixar": "Pixar Animation
Studios").
"""

from __future__ import annotations

import bisect
import re
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from datalake.ask.declared import Table, known_word
from datalake.ask.executors import SqlExecutor
from datalake.ask.guard import guard_sql
from datalake.ask.text import fold, tokens
from datalake.datasets.semantics import Dimension
from datalake.errors import QueryError

#: How long a table's values are reused before they are read again.
TTL_S = 300.0
#: The most distinct values kept per column (a bigger vocabulary is not looked up).
MAX_VALUES = 100_000

_CAPITALISED = re.compile(
    r"[A-ZÁÉÍÓÚÑÜ][\w'’.:&-]*(?:\s+(?:[A-ZÁÉÍÓÚÑÜ0-9][\w'’.:&-]*|of|the|and|de|del|la|el|los|las|y|&|in|on|a))*"
)
#: An identifier written in lower case ("user-03", "tx_9f2"): letters, a - _ or :, then a digit.
_IDENTIFIER = re.compile(r"(?<![\w-])[a-z]+[-_:]\d[\w:-]*(?![\w-])")
_TRAILING = re.compile(r"(?:\s+(?:of|the|and|de|del|la|el|los|las|y|&|in|on|a))+$")


@dataclass(frozen=True)
class NamedValue:
    """A value of ``dimension`` the question names, and the folded words that named it."""

    dimension: Dimension
    value: Any
    words: str


#: Executor -> (table, column) -> (when read, values by name, the names sorted).
_Cached = tuple[float, dict[str, list[Any]], list[str]]
_cache: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], _Cached]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def named_values(question: str, table: Table, executor: SqlExecutor) -> list[NamedValue]:
    """The open values ``question`` names in ``table`` (none when it has no capitalised words or
    lower-case identifiers)."""
    runs = [_TRAILING.sub("", m.group(0)) for m in _CAPITALISED.finditer(question)]
    # Ids have no capitals: a user id named as stored ("user-03") is looked up too.
    runs += [m.group(0).rstrip(".:") for m in _IDENTIFIER.finditer(question)]
    # A run of known words or numbers ("Top 10", "Drama") names no value of the data.
    runs = [r for r in runs if any(not known_word(w) and not w.isdigit() for w in fold(r).split())]
    if not runs:
        return []
    found = []
    for dimension in open_dimensions(table):
        vocabulary, names = _vocabulary(executor, table, dimension)
        for run in runs:
            key = _key(run)
            values = vocabulary.get(key) or _by_prefix(vocabulary, names, key)
            if values is not None and len(values) == 1:
                found.append(NamedValue(dimension, values[0], key))
    return found


def _key(name: str) -> str:
    """A name as the question's tokens spell it: "Warner Bros." and "Warner Bros" are one."""
    return " ".join(tokens(fold(name)))


def open_dimensions(table: Table) -> list[Dimension]:
    """The dimensions whose values come from the data: the label (rows' names) and ``open`` ones."""
    semantics = table.semantics
    dimensions = [d for d in semantics.dimensions if d.open and not d.personal]
    if semantics.label is not None:
        dimensions.append(semantics.label_dimension)
    return dimensions


def _by_prefix(vocabulary: dict[str, list[Any]], names: list[str], key: str) -> list[Any] | None:
    """The values whose name starts with ``key`` and a space ("Pixar" -> "Pixar Animation
    Studios"): a contiguous run of the sorted ``names`` (a scan of every name cost ~5,000
    comparisons per question and dimension)."""
    prefix = key + " "
    matches = []
    at = bisect.bisect_left(names, prefix)
    while at < len(names) and names[at].startswith(prefix):
        matches.append(vocabulary[names[at]])
        at += 1
    return [v for values in matches for v in values] if matches else None


def _vocabulary(
    executor: SqlExecutor, table: Table, dimension: Dimension
) -> tuple[dict[str, list[Any]], list[str]]:
    """The dimension's values by name, and the names sorted (cached per executor for TTL_S)."""
    source = dimension.table or table.name
    now = time.monotonic()
    with _lock:
        cached = _cached(executor).get((source, dimension.column))
    if cached is not None and now - cached[0] < TTL_S:
        return cached[1], cached[2]
    sql = guard_sql(
        f"SELECT DISTINCT {dimension.column} FROM {source} WHERE {dimension.column} IS NOT NULL",
        executor.dialect,
        max_limit=MAX_VALUES,
    )
    try:
        _, rows = executor.run(sql)
    except QueryError as error:
        if "does not exist" not in str(error):
            raise
        # The table is declared but not in this lake or warehouse yet: no values to name (the
        # question's own query then says there is no data yet).
        return {}, []
    vocabulary: dict[str, list[Any]] = {}
    for (value,) in rows:
        vocabulary.setdefault(_key(str(value)), []).append(value)
    names = sorted(vocabulary)
    with _lock:
        _cached(executor)[(source, dimension.column)] = (now, vocabulary, names)
    return vocabulary, names


def _cached(executor: SqlExecutor) -> dict[tuple[str, str], _Cached]:
    try:
        return _cache.setdefault(executor, {})
    except TypeError:  # an executor that cannot be weakly referenced reads its values every time
        return {}
