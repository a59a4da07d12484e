"""The local crawler: finds tables under a zone, infers their schemas, registers partitions.

It follows the Glue crawler's rules: a table is the folder above the first ``name=value``
segment; a new column updates the table; a column whose type cannot widen is a conflict,
and a table with a conflict is left exactly as it was.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from datalake import types
from datalake.catalog.base import Catalog, Column, Partition, Table, TableFormat
from datalake.datasets import dataset_at
from datalake.errors import SchemaConflictError
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key, parse_partition, split_table_key

FORMATS: dict[str, TableFormat] = {
    ".parquet": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".csv": "csv",
}


@dataclass
class TableFinding:
    """What the crawl found for one table."""

    name: str
    location: str
    format: str = ""
    files: int = 0
    status: str = "unchanged"  # created | updated | unchanged | conflict
    columns: list[str] = field(default_factory=list)
    columns_added: list[str] = field(default_factory=list)
    columns_widened: list[str] = field(default_factory=list)
    partition_keys: list[str] = field(default_factory=list)
    partitions_total: int = 0
    partitions_added: int = 0
    conflicts: list[dict[str, str]] = field(default_factory=list)


@dataclass
class CrawlReport:
    """The outcome of crawling one zone."""

    zone: str
    database: str
    tables: list[TableFinding] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)

    @property
    def conflicts(self) -> list[dict[str, str]]:
        return [c for t in self.tables for c in t.conflicts]

    def raise_for_conflicts(self) -> None:
        """Raise SchemaConflictError listing every refused change."""
        if self.conflicts:
            lines = [
                f"{c['table']}.{c['column']}: catalogued {c['catalogued']}, found {c['found']} in {c['file']}"
                for c in self.conflicts
            ]
            raise SchemaConflictError(
                "incompatible schema change; tables left unchanged:\n  " + "\n  ".join(lines),
                self.conflicts,
            )


def csv_dialect(data: bytes) -> tuple[str, str]:
    """(delimiter, encoding) of a CSV file: ``;`` when its header holds more of them than ``,``;
    ``utf-8`` (a BOM allowed) when the bytes decode as such, else ``latin-1``."""
    try:
        text = data.decode("utf-8-sig")
        encoding = "utf-8"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "latin-1"
    header = text.split("\n", 1)[0]
    return (";" if header.count(";") > header.count(",") else ","), encoding


def infer_schema(data: bytes, fmt: TableFormat, csv_as_text: bool = False, lines: bool = False) -> pa.Schema:
    """Arrow schema of one file's bytes.

    CSV may be UTF-8 or Latin-1 and delimited by ``,`` or ``;`` (whichever the header holds
    more of). ``csv_as_text`` types every CSV column as string, as raw drops whose values vary
    file to file need (a number column with one dirty value would otherwise conflict).
    """
    if fmt == "parquet":
        return pq.read_schema(io.BytesIO(data))
    if fmt == "csv":
        delimiter, encoding = csv_dialect(data)
        schema = pacsv.read_csv(
            io.BytesIO(data.decode(encoding).encode("utf-8")),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
        ).schema
        return pa.schema([(f.name, pa.string()) for f in schema]) if csv_as_text else schema
    text = data.lstrip()
    # ``lines``: a JSON Lines file (.jsonl), read as one even when it holds one line, so a one-record
    # micro-batch types its values as its neighbours do.
    if not lines and text.startswith(b"{") and b"\n{" not in text.strip():
        # One JSON document per file (API responses): one row, nested types kept.
        return pa.Table.from_pylist([json.loads(data)]).schema
    if not lines and text.startswith(b"["):
        return pa.Table.from_pylist(json.loads(data)).schema
    try:
        return pajson.read_json(io.BytesIO(data)).schema
    except pa.ArrowInvalid:
        # JSON Lines with a line that is not JSON (a poison record the stream processor kept as it
        # came): the schema of the lines that are; the reader of the table skips the others.
        readable = []
        for line in data.splitlines():
            try:
                row = json.loads(line)
            except ValueError:  # not JSON, or not UTF-8
                continue
            if isinstance(row, dict):
                readable.append(line)
        if not readable:
            raise
        # Read as the other files are, so the same values get the same types.
        return pajson.read_json(io.BytesIO(b"\n".join(readable))).schema


def merge_type(old: str, new: str) -> str | None:
    """The type that holds both, or None when the change is incompatible.

    Nested types of the same kind (two structs, two arrays) merge field by field, as the
    JSON SerDe reads a struct with fields it has never seen as nulls.
    """
    if types.can_widen(old, new):
        return types.widest(old, new)
    old_kind, new_kind = types.normalise(old).split("<")[0], types.normalise(new).split("<")[0]
    if old_kind == new_kind and old_kind in ("struct", "array", "map"):
        try:
            unified = pa.unify_schemas(
                [pa.schema([("c", types.to_arrow(old))]), pa.schema([("c", types.to_arrow(new))])],
                promote_options="permissive",
            )
        except (pa.ArrowTypeError, pa.ArrowInvalid, ValueError):
            return None
        return types.from_arrow(unified.field("c").type)
    return None


class LocalCrawler:
    """Crawls a zone of an object store into a catalog database."""

    def __init__(
        self,
        store: ObjectStore,
        catalog: Catalog,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.progress = progress or (lambda _message: None)

    def crawl(
        self, zone: str, database: str, exclude: tuple[str, ...] = (), csv_as_text: bool = False
    ) -> CrawlReport:
        """Crawl every table under ``zone`` (a prefix: ``raw``, ``raw/energy_company``) into ``database``.

        Tables are named by their folder below ``zone``. Keys under an ``exclude`` prefix are
        left to another crawler, as the Glue crawlers' exclusions do. Never raises for conflicts
        (they are in the report), so one bad table does not hide the others.
        """
        self.catalog.create_database(database, f"{zone} zone of the lake")
        report = CrawlReport(zone=zone, database=database)
        groups: dict[str, list[tuple[str, str]]] = {}
        for key in self.store.list_keys(zone):
            if any(key.startswith(prefix.rstrip("/") + "/") for prefix in exclude):
                continue
            suffix = "." + key.rsplit(".", 1)[-1].lower() if "." in key.rsplit("/", 1)[-1] else ""
            if suffix not in FORMATS:
                report.skipped_files.append(key)
                continue
            root, partition, _name = split_table_key(key)
            groups.setdefault(root, []).append((key, partition))
        for root in sorted(groups):
            report.tables.append(self._crawl_table(zone, database, root, groups[root], csv_as_text))
        return report

    def _crawl_table(
        self, zone: str, database: str, root: str, files: list[tuple[str, str]], csv_as_text: bool = False
    ) -> TableFinding:
        name = root[len(zone) :].strip("/").replace("/", "_").replace("-", "_").lower() or zone
        finding = TableFinding(name=name, location=self.store.uri(root), files=len(files))
        self.progress(f"{database}.{name}: reading {len(files)} file(s)")

        formats = {FORMATS["." + key.rsplit(".", 1)[-1].lower()] for key, _ in files}
        key_sets = {tuple(parse_partition(partition)) for _, partition in files}
        if len(formats) > 1 or len(key_sets) > 1:
            finding.status = "conflict"
            what = f"formats {sorted(formats)}" if len(formats) > 1 else f"partition keys {sorted(key_sets)}"
            finding.conflicts.append(
                {
                    "table": name,
                    "column": "*",
                    "catalogued": "one layout",
                    "found": what,
                    "file": root,
                }
            )
            return finding
        fmt = formats.pop()
        finding.format = fmt
        partition_names = list(key_sets.pop())
        finding.partition_keys = partition_names

        existing = self.catalog.get_table(database, name) if self.catalog.has_table(database, name) else None
        merged: dict[str, str] = {c.name: c.type for c in existing.columns} if existing else {}
        origin: dict[str, str] = {c.name: "catalog" for c in existing.columns} if existing else {}
        dialects: set[tuple[str, str]] = set()
        for key, _partition in files:
            data = self.store.get_bytes(key)
            if fmt == "csv":
                dialects.add(csv_dialect(data))
            schema = infer_schema(data, fmt, csv_as_text, lines=key.lower().endswith((".jsonl", ".ndjson")))
            for arrow_field in schema:
                if arrow_field.name in partition_names:
                    continue
                found = types.from_arrow(arrow_field.type)
                if arrow_field.name not in merged:
                    merged[arrow_field.name] = found
                    origin[arrow_field.name] = key
                    continue
                combined = merge_type(merged[arrow_field.name], found)
                if combined is None:
                    finding.conflicts.append(
                        {
                            "table": name,
                            "column": arrow_field.name,
                            "catalogued": merged[arrow_field.name],
                            "found": found,
                            "file": key,
                        }
                    )
                else:
                    merged[arrow_field.name] = combined
        if finding.conflicts:
            finding.status = "conflict"
            return finding

        # One delimiter and encoding for every file lets a reader (DuckDB locally) be told them.
        csv_parameters = (
            dict(zip(("delimiter", "encoding"), dialects.pop(), strict=True)) if len(dialects) == 1 else {}
        )
        old_types = {c.name: c.type for c in existing.columns} if existing else {}
        finding.columns = list(merged)
        finding.columns_added = [c for c in merged if existing and c not in old_types]
        finding.columns_widened = [
            c for c in merged if c in old_types and types.normalise(old_types[c]) != merged[c]
        ]
        spec = dataset_at(root) if zone.startswith("processed") else None
        spec_types = {c.name: types.normalise(c.type) for c in spec.partition_by} if spec else {}
        table = Table(
            database=database,
            name=name,
            columns=tuple(Column(c, t) for c, t in merged.items()),
            location=finding.location,
            format=fmt,
            # Like Glue, partition values are strings unless the dataset spec types them.
            partition_keys=tuple(Column(p, spec_types.get(p, "string")) for p in partition_names),
            parameters={"classification": fmt, "crawler": "datalake-local", **csv_parameters},
            description=spec.description if spec else f"crawled from {finding.location}",
        )
        if existing is None:
            finding.status = "created"
            self.catalog.put_table(table)
        elif (existing.columns, existing.partition_keys, existing.parameters) != (
            table.columns,
            table.partition_keys,
            table.parameters,
        ):
            finding.status = "updated"
            self.catalog.put_table(table)

        partitions = sorted({p for _, p in files if p})
        finding.partitions_total = len(partitions)
        if partitions:
            finding.partitions_added = self.catalog.add_partitions(
                database,
                name,
                [
                    Partition(tuple(parse_partition(p).values()), self.store.uri(join_key(root, p)))
                    for p in partitions
                ],
            )
            if finding.partitions_added and finding.status == "unchanged":
                finding.status = "updated"
        return finding
