"""Column expressions the transforms share, built with as few calls to the JVM as they can be.

PySpark builds every ``F.lit``, ``F.col``, ``F.struct`` and ``alias`` with a call to the JVM (and
later a second one that frees the proxy). A lookup of a few hundred entries, or one struct per
indicator of a wide table, built that way is thousands of calls per run: the OWID job made about
37,000, a third of its time on a small run. The same expression written as SQL is parsed in one
call (:func:`sql_column`). Only constant, trusted text goes into that SQL, quoted by
:func:`sql_string` and :func:`sql_name`: never a value read from the data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F


def sql_string(text: str | None) -> str:
    """``text`` as a Spark SQL string literal (``NULL`` for None).

    Spark's parser reads backslash escapes in string literals, so backslashes are escaped as
    well as the quote.
    """
    if text is None:
        return "NULL"
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_name(name: str) -> str:
    """A column name quoted for Spark SQL (backticks; a backtick in the name doubled)."""
    return "`" + name.replace("`", "``") + "`"


def sql_double(value: float | None) -> str:
    """``value`` as a Spark SQL ``double`` (a typed ``NULL`` for None); it must be finite."""
    if value is None:
        return "CAST(NULL AS DOUBLE)"
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return f"CAST({float(value)!r} AS DOUBLE)"


def sql_column(expression: str) -> Column:
    """The column of a SQL expression: one call to the JVM, however wide the expression."""
    return F.expr(expression)


def sql_named(expression: str, name: str) -> Column:
    """The column of a SQL expression, named ``name``: one call to the JVM."""
    return sql_column(f"{expression} AS {sql_name(name)}")


def sql_count(conditions: Sequence[str]) -> str:
    """SQL for how many of ``conditions`` (SQL) hold in a row: 0 to ``len(conditions)``, a null
    condition counting as false."""
    if not conditions:
        raise ValueError("no condition to count")
    return " + ".join(f"CASE WHEN {condition} THEN 1 ELSE 0 END" for condition in conditions)


def literal_map(pairs: Mapping[str, str | None]) -> Column:
    """A constant ``map<string,string>`` of ``pairs`` (keys sorted), to look text up in.

    What ``F.create_map(F.lit(k1), F.lit(v1), ...)`` gives, in one call instead of two per
    pair. A value may be None (the lookup then gives null, as for a missing key). An empty
    mapping gives an empty map.
    """
    if not pairs:
        return sql_column("CAST(map() AS MAP<STRING, STRING>)")
    entries = ", ".join(f"{sql_string(key)}, {sql_string(pairs[key])}" for key in sorted(pairs))
    return sql_column(f"CAST(map({entries}) AS MAP<STRING, STRING>)")


def sql_text_or_null(column: str) -> str:
    """SQL for the text of ``column`` without its surrounding spaces, null when nothing is left."""
    return f"nullif(trim({sql_name(column)}), '')"


def text_or_null(column: str) -> Column:
    """The text of ``column`` without its surrounding spaces, null when nothing is left."""
    return sql_column(sql_text_or_null(column))


def explode_structs(structs: Sequence[Mapping[str, str]]) -> Column:
    """One row per struct (``explode``), each struct's fields given in order as SQL expressions.

    For turning a wide row into one row per column (an indicator per struct): written as one
    SQL expression, it is one call to the JVM instead of several per field.
    """
    if not structs:
        raise ValueError("no struct to explode")
    items = ", ".join(
        "named_struct(" + ", ".join(f"{sql_string(field)}, {sql}" for field, sql in fields.items()) + ")"
        for fields in structs
    )
    return sql_column(f"explode(array({items}))")
