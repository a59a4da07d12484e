"""Glue Data Catalog adapter: the same databases, tables and partitions, kept by AWS Glue."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from datalake import aws
from datalake.catalog.base import Catalog, Column, Partition, PartitionSwitch, Table, TableFormat
from datalake.errors import CatalogNotFoundError, LakeError
from datalake.settings import Settings

#: BatchCreatePartition accepts at most this many partitions per call.
PARTITION_BATCH = 100
#: BatchUpdatePartition accepts at most this many entries per call.
PARTITION_UPDATE_BATCH = 100
#: BatchDeletePartition takes at most 25 partitions per call.
PARTITION_DELETE_BATCH = 25

#: Table parameter naming the parameters this adapter added (``classification``...), so
#: reading a table gives back exactly the parameters its writer set.
ADDED_PARAMETERS_KEY = "datalake.added_parameters"

_TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
_TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


@dataclass(frozen=True)
class _Format:
    input_format: str
    output_format: str
    serde: str
    serde_parameters: dict[str, str] = field(default_factory=dict)
    #: table parameters Athena reads (on top of ``classification``)
    table_parameters: dict[str, str] = field(default_factory=dict)


_FORMATS: dict[str, _Format] = {
    "parquet": _Format(
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        {"serialization.format": "1"},
    ),
    # No ignore.malformed.json: a bad line must fail the query, not vanish as NULLs.
    "json": _Format(_TEXT_INPUT, _TEXT_OUTPUT, "org.openx.data.jsonserde.JsonSerDe"),
    # OpenCSVSerde understands quoted fields (commas inside values), which CSV drops have.
    "csv": _Format(
        _TEXT_INPUT,
        _TEXT_OUTPUT,
        "org.apache.hadoop.hive.serde2.OpenCSVSerde",
        {"separatorChar": ",", "quoteChar": '"', "escapeChar": "\\"},
        {"skip.header.line.count": "1"},
    ),
}

# Tables made by other tools (crawlers, Athena DDL) may use another SerDe for the same format.
_SERDE_FORMATS: dict[str, TableFormat] = {
    "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe": "parquet",
    "org.openx.data.jsonserde.JsonSerDe": "json",
    "org.apache.hive.hcatalog.data.JsonSerDe": "json",
    "org.apache.hadoop.hive.serde2.OpenCSVSerde": "csv",
    "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe": "csv",
}


class GlueCatalog(Catalog):
    """The catalog port over the Glue Data Catalog (``AWS_ENDPOINT_URL`` is honoured).

    Behaves like the local catalog: same sorting, same idempotency, same error messages.
    Glue lower-cases database and table names, so use lower-case names for round trips.
    """

    def __init__(
        self,
        *,
        boto3_session: boto3.session.Session | None = None,
        settings: Settings | None = None,
        client: Any | None = None,
    ) -> None:
        self.client = client or aws.client("glue", boto3_session, settings)

    # -- errors ------------------------------------------------------------------------
    def _database_not_found(self, database: str) -> CatalogNotFoundError:
        known = ", ".join(self.list_databases()) or "none"
        return CatalogNotFoundError(
            f"database {database!r} not found in the catalog (known: {known})",
            hint="run `datalake crawl` to catalog the lake",
        )

    def _not_found(self, database: str, name: str) -> CatalogNotFoundError:
        """The error for a missing table, or for its database when that is what is missing."""
        if not self._database_exists(database):
            return self._database_not_found(database)
        known = ", ".join(self.list_tables(database)) or "none"
        return CatalogNotFoundError(f"table {database}.{name} not found (tables in {database}: {known})")

    def _database_exists(self, database: str) -> bool:
        try:
            self.client.get_database(Name=database)
        except ClientError as error:
            if _code(error) == "EntityNotFoundException":
                return False
            raise
        return True

    def _raw_table(self, database: str, name: str) -> dict[str, Any]:
        try:
            return self.client.get_table(DatabaseName=database, Name=name)["Table"]
        except ClientError as error:
            if _code(error) != "EntityNotFoundException":
                raise
        raise self._not_found(database, name)

    # -- databases ---------------------------------------------------------------------
    def create_database(self, name: str, description: str = "") -> None:
        database_input = {"Name": name, **({"Description": description} if description else {})}
        try:
            self.client.create_database(DatabaseInput=database_input)
        except ClientError as error:
            if _code(error) != "AlreadyExistsException":
                raise

    def list_databases(self) -> list[str]:
        pages = self.client.get_paginator("get_databases").paginate()
        return sorted(db["Name"] for page in pages for db in page["DatabaseList"])

    # -- tables ------------------------------------------------------------------------
    def list_tables(self, database: str) -> list[str]:
        try:
            pages = self.client.get_paginator("get_tables").paginate(DatabaseName=database)
            return sorted(t["Name"] for page in pages for t in page["TableList"])
        except ClientError as error:
            if _code(error) != "EntityNotFoundException":
                raise
        raise self._database_not_found(database)

    def get_table(self, database: str, name: str) -> Table:
        return _table_from_glue(self._raw_table(database, name))

    def find_table(self, database: str, name: str) -> Table | None:
        # One GetTable: the error message's lookups (GetDatabase, GetTables) are not needed here,
        # and a job's role is not granted them.
        try:
            return _table_from_glue(self.client.get_table(DatabaseName=database, Name=name)["Table"])
        except ClientError as error:
            if _code(error) != "EntityNotFoundException":
                raise
        return None

    def put_table(self, table: Table) -> None:
        table_input = _table_input(table)
        try:
            current = self.client.get_table(DatabaseName=table.database, Name=table.name)["Table"]
        except ClientError as error:
            if _code(error) != "EntityNotFoundException":
                raise
            current = None
        if current is None:
            try:
                self.client.create_table(DatabaseName=table.database, TableInput=table_input)
                return
            except ClientError as error:
                if _code(error) == "EntityNotFoundException":
                    raise self._database_not_found(table.database) from None
                if _code(error) != "AlreadyExistsException":  # lost a race: update instead
                    raise
        elif _definition(current) == _definition(table_input):
            return  # unchanged: a re-run must not pile up Glue table versions
        # UpdateTable replaces the definition and keeps the table's partitions.
        self.client.update_table(DatabaseName=table.database, TableInput=table_input)

    def delete_table(self, database: str, name: str) -> None:
        try:
            self.client.delete_table(DatabaseName=database, Name=name)
        except ClientError as error:
            if _code(error) != "EntityNotFoundException":
                raise
            raise self._not_found(database, name) from None

    # -- partitions --------------------------------------------------------------------
    def _checked_partitions(
        self, database: str, table: str, raw: dict[str, Any], partitions: Iterable[Partition]
    ) -> dict[tuple[str, ...], Partition]:
        """The partitions by values (the last one given wins), checked against the table's keys."""
        n_keys = len(raw.get("PartitionKeys", []))
        unique: dict[tuple[str, ...], Partition] = {}
        for partition in partitions:
            if len(partition.values) != n_keys:
                raise ValueError(
                    f"partition {list(partition.values)} of {database}.{table} has "
                    f"{len(partition.values)} values; the table has {n_keys} partition keys"
                )
            _require_s3(partition.location, f"partition {list(partition.values)}")
            unique[tuple(partition.values)] = partition
        return unique

    def _create_partitions(
        self, database: str, table: str, inputs: list[dict[str, Any]]
    ) -> list[tuple[str, ...]]:
        """BatchCreatePartition in batches; returns the values of those that already existed."""
        existing: list[tuple[str, ...]] = []
        for batch in _chunks(inputs, PARTITION_BATCH):
            response = self.client.batch_create_partition(
                DatabaseName=database, TableName=table, PartitionInputList=batch
            )
            errors = response.get("Errors", [])
            _raise_refused(
                database,
                table,
                "PartitionValues",
                [e for e in errors if e["ErrorDetail"]["ErrorCode"] != "AlreadyExistsException"],
            )
            existing += [
                tuple(e["PartitionValues"])
                for e in errors
                if e["ErrorDetail"]["ErrorCode"] == "AlreadyExistsException"
            ]
        return existing

    def add_partitions(self, database: str, table: str, partitions: Iterable[Partition]) -> int:
        raw = self._raw_table(database, table)
        unique: dict[tuple[str, ...], Partition] = {}
        for values, partition in self._checked_partitions(database, table, raw, partitions).items():
            unique.setdefault(values, partition)
        inputs = [_partition_input(raw["StorageDescriptor"], p) for p in unique.values()]
        return len(inputs) - len(self._create_partitions(database, table, inputs))

    def set_partition_locations(
        self, database: str, table: str, partitions: Iterable[Partition]
    ) -> PartitionSwitch:
        # Create first (most runs add new days), then switch those that exist: two calls per
        # hundred partitions at most, and no listing of the table's partitions.
        raw = self._raw_table(database, table)
        wanted = self._checked_partitions(database, table, raw, partitions)
        inputs = [_partition_input(raw["StorageDescriptor"], p) for p in wanted.values()]
        existing = self._create_partitions(database, table, inputs)
        entries = [
            {
                "PartitionValueList": list(values),
                "PartitionInput": _partition_input(raw["StorageDescriptor"], wanted[values]),
            }
            for values in existing
        ]
        for batch in _chunks(entries, PARTITION_UPDATE_BATCH):
            response = self.client.batch_update_partition(
                DatabaseName=database, TableName=table, Entries=batch
            )
            _raise_refused(database, table, "PartitionValueList", response.get("Errors", []))
        return PartitionSwitch(created=len(inputs) - len(existing), switched=len(existing))

    def drop_partitions(self, database: str, table: str, values: Iterable[tuple[str, ...]]) -> int:
        wanted = sorted({tuple(v) for v in values})
        known = {p.values for p in self.list_partitions(database, table)}
        present = [list(v) for v in wanted if v in known]
        for batch in _chunks(present, PARTITION_DELETE_BATCH):
            response = self.client.batch_delete_partition(
                DatabaseName=database,
                TableName=table,
                PartitionsToDelete=[{"Values": v} for v in batch],
            )
            _raise_refused(database, table, "PartitionValues", response.get("Errors", []))
        return len(present)

    def list_partitions(self, database: str, table: str) -> list[Partition]:
        paginator = self.client.get_paginator("get_partitions")
        try:
            pages = paginator.paginate(DatabaseName=database, TableName=table, ExcludeColumnSchema=True)
            found = [
                Partition(tuple(p["Values"]), p["StorageDescriptor"]["Location"])
                for page in pages
                for p in page["Partitions"]
            ]
        except ClientError as error:
            if _code(error) != "EntityNotFoundException":
                raise
            raise self._not_found(database, table) from None
        return sorted(found, key=lambda p: p.values)


# -- Glue shapes ---------------------------------------------------------------------------
def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _raise_refused(database: str, table: str, values_field: str, failed: list[dict[str, Any]]) -> None:
    """LakeError naming the first partitions Glue refused in a batch call, if any."""
    if not failed:
        return
    detail = "; ".join(
        f"{e.get(values_field)}: {e['ErrorDetail'].get('ErrorCode', '')} "
        f"{e['ErrorDetail'].get('ErrorMessage', '')}".strip()
        for e in failed[:5]
    )
    raise LakeError(f"Glue refused {len(failed)} partition(s) of {database}.{table}: {detail}")


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _require_s3(location: str, what: str) -> None:
    # Athena reads only s3:// locations; a local path here means the wrong runtime wrote it.
    if not location.startswith("s3://"):
        raise ValueError(f"{what} location must be an s3:// URI, got {location!r}")


def _columns(columns: Iterable[Column]) -> list[dict[str, str]]:
    return [
        {"Name": c.name, "Type": c.type, **({"Comment": c.comment} if c.comment else {})} for c in columns
    ]


def _table_input(table: Table) -> dict[str, Any]:
    fmt = _FORMATS[table.format]
    _require_s3(table.location, f"table {table.database}.{table.name}")
    derived = {"classification": table.format, **fmt.table_parameters}
    given = dict(table.parameters)
    if given.get("classification", table.format) != table.format:
        raise ValueError(
            f"table {table.database}.{table.name}: parameter classification="
            f"{given['classification']!r} contradicts format {table.format!r}"
        )
    added = sorted(k for k in derived if k not in given)
    parameters = {**derived, **given}
    if added:
        parameters[ADDED_PARAMETERS_KEY] = ",".join(added)
    table_input: dict[str, Any] = {
        "Name": table.name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "PartitionKeys": _columns(table.partition_keys),
        "StorageDescriptor": {
            "Columns": _columns(table.columns),
            "Location": table.location,
            "InputFormat": fmt.input_format,
            "OutputFormat": fmt.output_format,
            "Compressed": False,
            "SerdeInfo": {
                "SerializationLibrary": fmt.serde,
                "Parameters": dict(fmt.serde_parameters),
            },
        },
    }
    if table.description:
        table_input["Description"] = table.description
    return table_input


def _definition(glue_table: dict[str, Any]) -> dict[str, Any]:
    """The parts of a Glue table (or TableInput) this adapter writes, for change detection."""
    sd = glue_table.get("StorageDescriptor", {})
    serde = sd.get("SerdeInfo", {})
    return {
        "Description": glue_table.get("Description", ""),
        "TableType": glue_table.get("TableType"),
        "Parameters": glue_table.get("Parameters", {}),
        "PartitionKeys": glue_table.get("PartitionKeys", []),
        "Columns": sd.get("Columns", []),
        "Location": sd.get("Location"),
        "InputFormat": sd.get("InputFormat"),
        "OutputFormat": sd.get("OutputFormat"),
        "SerializationLibrary": serde.get("SerializationLibrary"),
        "SerdeParameters": serde.get("Parameters", {}),
    }


def _format_of(glue_table: dict[str, Any]) -> TableFormat:
    classification = glue_table.get("Parameters", {}).get("classification", "").lower()
    if classification in _FORMATS:
        return classification  # type: ignore[return-value]
    serde = glue_table.get("StorageDescriptor", {}).get("SerdeInfo", {})
    library = serde.get("SerializationLibrary", "")
    if library in _SERDE_FORMATS:
        return _SERDE_FORMATS[library]
    name = f"{glue_table.get('DatabaseName')}.{glue_table.get('Name')}"
    raise LakeError(
        f"table {name} is stored as {classification or library or 'an unknown format'}; "
        f"the lake reads {', '.join(_FORMATS)}"
    )


def _table_from_glue(glue_table: dict[str, Any]) -> Table:
    parameters = dict(glue_table.get("Parameters", {}))
    for key in filter(None, parameters.pop(ADDED_PARAMETERS_KEY, "").split(",")):
        parameters.pop(key, None)
    sd = glue_table.get("StorageDescriptor", {})
    return Table(
        database=glue_table["DatabaseName"],
        name=glue_table["Name"],
        columns=tuple(_column(c) for c in sd.get("Columns", [])),
        location=sd.get("Location", ""),
        format=_format_of(glue_table),
        partition_keys=tuple(_column(c) for c in glue_table.get("PartitionKeys", [])),
        parameters=parameters,
        description=glue_table.get("Description", ""),
    )


def _column(glue_column: dict[str, Any]) -> Column:
    return Column(glue_column["Name"], glue_column["Type"], glue_column.get("Comment", ""))


def _partition_input(table_sd: dict[str, Any], partition: Partition) -> dict[str, Any]:
    # Each partition carries its own copy of the table's schema and SerDe, as Athena expects.
    sd = copy.deepcopy(table_sd)
    sd["Location"] = partition.location
    return {"Values": list(partition.values), "StorageDescriptor": sd}
