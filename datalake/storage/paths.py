"""Object keys: joining, Hive-style partition segments and their parsing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from urllib.parse import quote, unquote

_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def join_key(*parts: str) -> str:
    """Join key parts with single slashes, dropping empty parts and outer slashes."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def is_hidden(key: str) -> bool:
    """True when any segment starts with ``_`` or ``.`` (Hive, Spark and Athena skip those)."""
    return any(seg.startswith(("_", ".")) for seg in key.split("/") if seg)


def hive_path(values: Mapping[str, object]) -> str:
    """``{"year": 2024, "region": "ES"}`` -> ``year=2024/region=ES`` (values URL-quoted as Hive does)."""
    return "/".join(f"{name}={quote(str(value), safe='')}" for name, value in values.items())


def date_partition(day: dt.date) -> str:
    """The raw zone's partition for a day: ``year=YYYY/month=MM/day=DD``."""
    return f"year={day.year:04d}/month={day.month:02d}/day={day.day:02d}"


def date_partition_key(prefix: str, day: dt.date, name: str) -> str:
    """Full key of a file in a day partition under ``prefix``."""
    return join_key(prefix, date_partition(day), name)


def parse_partition(key: str) -> dict[str, str]:
    """Partition values found in a key's ``name=value`` segments, in order."""
    values: dict[str, str] = {}
    for segment in key.split("/"):
        match = _SEGMENT.match(segment)
        if match:
            values[match.group(1)] = unquote(match.group(2))
    return values


def raw_partition_name(key: str, raw_prefix: str) -> str:
    """The raw partition of the file at ``key``: its folder below ``raw_prefix`` (``""`` directly under it).

    The ledger's name of a partition (``transacciones/year=2024/month=06/day=03``).
    """
    return key[len(join_key(raw_prefix)) :].strip("/").rpartition("/")[0]


def partition_date(key: str) -> dt.date | None:
    """The date of a ``year=/month=/day=`` key, or None when it has no such partition."""
    values = parse_partition(key)
    try:
        return dt.date(int(values["year"]), int(values["month"]), int(values["day"]))
    except (KeyError, ValueError):
        return None


def split_table_key(key: str) -> tuple[str, str, str]:
    """Split a data file key into (table root, partition path, file name).

    The table root is everything before the first ``name=value`` segment; for an
    unpartitioned file it is the file's folder.
    """
    segments = key.split("/")
    file_name = segments[-1]
    folders = segments[:-1]
    for index, segment in enumerate(folders):
        if _SEGMENT.match(segment):
            return "/".join(folders[:index]), "/".join(folders[index:]), file_name
    return "/".join(folders), "", file_name
