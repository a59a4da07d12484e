"""Column types, written once in the catalog's language (Glue/Athena) and mapped to each engine."""

from __future__ import annotations

import re

import pyarrow as pa

_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")

#: Glue/Athena scalar type -> (Arrow, PostgreSQL, DuckDB)
_SCALARS: dict[str, tuple[pa.DataType, str, str]] = {
    "string": (pa.string(), "text", "VARCHAR"),
    "varchar": (pa.string(), "text", "VARCHAR"),
    "boolean": (pa.bool_(), "boolean", "BOOLEAN"),
    "tinyint": (pa.int8(), "smallint", "TINYINT"),
    "smallint": (pa.int16(), "smallint", "SMALLINT"),
    "int": (pa.int32(), "integer", "INTEGER"),
    "bigint": (pa.int64(), "bigint", "BIGINT"),
    "float": (pa.float32(), "real", "FLOAT"),
    "double": (pa.float64(), "double precision", "DOUBLE"),
    "date": (pa.date32(), "date", "DATE"),
    # Stored in UTC; PostgreSQL keeps the zone-aware type so clients see an instant.
    "timestamp": (pa.timestamp("us", tz="UTC"), "timestamptz", "TIMESTAMPTZ"),
}

#: How far a column may widen when new data arrives (the crawler's compatibility rule).
_WIDENING: dict[str, set[str]] = {
    "tinyint": {"smallint", "int", "bigint", "float", "double"},
    "smallint": {"int", "bigint", "float", "double"},
    "int": {"bigint", "double"},
    "bigint": {"double"},
    "float": {"double"},
    "date": {"timestamp"},
}


def normalise(glue_type: str) -> str:
    """Lower-case, no spaces after commas: the one spelling used in comparisons."""
    return re.sub(r"\s+", "", glue_type.strip().lower())


def to_arrow(glue_type: str) -> pa.DataType:
    """Arrow type for a Glue type: scalars, decimals, and nested array/map/struct types."""
    t = normalise(glue_type)
    if t in _SCALARS:
        return _SCALARS[t][0]
    if t == "binary":
        return pa.binary()
    if match := _DECIMAL.match(t):
        return pa.decimal128(int(match.group(1)), int(match.group(2)))
    if t.startswith("array<") and t.endswith(">"):
        return pa.list_(to_arrow(t[6:-1]))
    if t.startswith("map<") and t.endswith(">"):
        key, value = _split_top_level(t[4:-1])
        return pa.map_(to_arrow(key), to_arrow(value))
    if t.startswith("struct<") and t.endswith(">"):
        fields = []
        for member in _split_top_level(t[7:-1]):
            name, _, member_type = member.partition(":")
            fields.append(pa.field(name, to_arrow(member_type)))
        return pa.struct(fields)
    raise ValueError(f"unsupported column type {glue_type!r}")


def _split_top_level(members: str) -> list[str]:
    """Split ``a:int,b:struct<c:int,d:string>`` on the commas outside angle brackets."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(members):
        depth += {"<": 1, ">": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(members[start:index])
            start = index + 1
    parts.append(members[start:])
    return [p for p in parts if p]


def _scalar_sql_type(glue_type: str, engine: int, decimal_name: str) -> str:
    t = normalise(glue_type)
    if t in _SCALARS:
        return _SCALARS[t][engine]
    if match := _DECIMAL.match(t):
        return f"{decimal_name}({match.group(1)},{match.group(2)})"
    raise ValueError(f"unsupported column type {glue_type!r}")


def to_postgres(glue_type: str) -> str:
    """PostgreSQL type for a Glue type."""
    return _scalar_sql_type(glue_type, 1, "numeric")


def to_duckdb(glue_type: str) -> str:
    """DuckDB type for a Glue type, nested types included."""
    t = normalise(glue_type)
    if t.startswith("array<") and t.endswith(">"):
        return f"{to_duckdb(t[6:-1])}[]"
    if t.startswith("map<") and t.endswith(">"):
        key, value = _split_top_level(t[4:-1])
        return f"MAP({to_duckdb(key)}, {to_duckdb(value)})"
    if t.startswith("struct<") and t.endswith(">"):
        members = []
        for member in _split_top_level(t[7:-1]):
            name, _, member_type = member.partition(":")
            members.append('"' + name.replace('"', '""') + '" ' + to_duckdb(member_type))
        return f"STRUCT({', '.join(members)})"
    if t == "binary":
        return "BLOB"
    return _scalar_sql_type(glue_type, 2, "DECIMAL")


def from_arrow(arrow_type: pa.DataType) -> str:
    """Glue type for an Arrow type, nested types included (what the crawler records)."""
    t = arrow_type
    if pa.types.is_dictionary(t):
        return from_arrow(t.value_type)
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t) or pa.types.is_uint8(t):
        return "tinyint"
    if pa.types.is_int16(t) or pa.types.is_uint16(t):
        return "smallint"
    if pa.types.is_int32(t):
        return "int"
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return "float"
    if pa.types.is_floating(t):
        return "double"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t):
        return "string"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "binary"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"array<{from_arrow(t.value_type)}>"
    if pa.types.is_struct(t):
        fields = ",".join(f"{t.field(i).name}:{from_arrow(t.field(i).type)}" for i in range(t.num_fields))
        return f"struct<{fields}>"
    if pa.types.is_map(t):
        return f"map<{from_arrow(t.key_type)},{from_arrow(t.item_type)}>"
    raise ValueError(f"no Glue type for Arrow type {arrow_type}")


def can_widen(old: str, new: str) -> bool:
    """True when a column catalogued as ``old`` can hold data now seen as ``new``."""
    old_t, new_t = normalise(old), normalise(new)
    return old_t == new_t or new_t in _WIDENING.get(old_t, set()) or old_t in _WIDENING.get(new_t, set())


def widest(old: str, new: str) -> str:
    """The type that holds both (call only when ``can_widen`` is true)."""
    old_t, new_t = normalise(old), normalise(new)
    return new_t if new_t in _WIDENING.get(old_t, set()) else old_t
