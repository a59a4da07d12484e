"""The Glue catalog adapter against a real moto server, and the contract it shares with the
local catalog: both adapters run the same tests through the parametrized ``catalog`` fixture.

moto does not paginate Glue listings nor cap BatchCreatePartition at 100 entries, so those
two behaviours are checked with a stubbed client and a recording proxy instead of trusted.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from datalake import aws
from datalake.catalog.base import Catalog, Column, Partition, Table
from datalake.catalog.glue import ADDED_PARAMETERS_KEY, GlueCatalog
from datalake.catalog.local import LocalCatalog
from datalake.errors import CatalogNotFoundError, LakeError
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

BUCKET = "s3://datalake-test-lake"


def make_table(
    name: str = "demand",
    fmt: str = "parquet",
    *,
    database: str = "processed",
    partitioned: bool = True,
    columns: tuple[Column, ...] | None = None,
    parameters: dict[str, str] | None = None,
) -> Table:
    zone = "processed" if fmt == "parquet" else "raw"
    return Table(
        database=database,
        name=name,
        columns=columns
        or (
            Column("ts_utc", "timestamp", "hour start, UTC"),
            Column("demand_mw", "double"),
            Column("zone", "string"),
        ),
        location=f"{BUCKET}/{zone}/{name}/",
        format=fmt,  # type: ignore[arg-type]
        partition_keys=(Column("year", "string"), Column("month", "string")) if partitioned else (),
        parameters={"source": "ree", "owner": "lake"} if parameters is None else parameters,
        description=f"{name} as {fmt}",
    )


def partition(table: Table, year: int, month: int) -> Partition:
    values = (f"{year:04d}", f"{month:02d}")
    return Partition(values, f"{table.location}year={values[0]}/month={values[1]}/")


@pytest.fixture(params=["local", "glue"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Catalog:
    """Each contract test runs once per adapter; moto starts only for the Glue run."""
    if request.param == "local":
        return LocalCatalog(LocalObjectStore(tmp_path / "lake"))
    settings: Settings = request.getfixturevalue("moto_settings")
    return GlueCatalog(settings=settings)


@pytest.fixture
def glue(moto_settings: Settings) -> GlueCatalog:
    return GlueCatalog(settings=moto_settings)


@pytest.fixture
def glue_client(moto_settings: Settings) -> Any:
    """A plain boto3 Glue client on the same moto server, to look at what the adapter wrote."""
    return aws.client("glue", settings=moto_settings)


# -- the contract both adapters keep -------------------------------------------------------
class TestCatalogContract:
    def test_create_database_is_idempotent_and_listed(self, catalog: Catalog) -> None:
        assert catalog.list_databases() == []
        catalog.create_database("raw", "raw zone")
        catalog.create_database("processed")
        catalog.create_database("raw", "a second call changes nothing")
        assert catalog.list_databases() == ["processed", "raw"]
        assert catalog.list_tables("raw") == []

    @pytest.mark.parametrize("fmt", ["parquet", "json", "csv"])
    def test_put_get_round_trip(self, catalog: Catalog, fmt: str) -> None:
        catalog.create_database("processed")
        table = make_table(f"demand_{fmt}", fmt)
        catalog.put_table(table)
        got = catalog.get_table("processed", f"demand_{fmt}")
        assert got == table
        assert got.column_names == ["ts_utc", "demand_mw", "zone"]
        assert catalog.list_tables("processed") == [f"demand_{fmt}"]
        assert catalog.has_table("processed", f"demand_{fmt}")

    def test_round_trip_without_partitions_parameters_or_comments(self, catalog: Catalog) -> None:
        catalog.create_database("processed")
        table = make_table("plain", partitioned=False, parameters={}, columns=(Column("x", "bigint"),))
        catalog.put_table(table)
        assert catalog.get_table("processed", "plain") == table

    def test_put_table_twice_is_idempotent(self, catalog: Catalog) -> None:
        catalog.create_database("processed")
        table = make_table()
        catalog.put_table(table)
        catalog.put_table(table)
        assert catalog.get_table("processed", "demand") == table
        assert catalog.list_tables("processed") == ["demand"]

    def test_update_replaces_definition_and_keeps_partitions(self, catalog: Catalog) -> None:
        catalog.create_database("processed")
        table = make_table()
        catalog.put_table(table)
        catalog.add_partitions("processed", "demand", [partition(table, 2024, 1)])
        evolved = table.with_columns([*table.columns, Column("forecast_mw", "double")])
        catalog.put_table(evolved)
        assert catalog.get_table("processed", "demand") == evolved
        assert catalog.list_partitions("processed", "demand") == [partition(table, 2024, 1)]

    def test_add_partitions_dedupes_and_counts_only_new(self, catalog: Catalog) -> None:
        catalog.create_database("processed")
        table = make_table()
        catalog.put_table(table)
        first = [partition(table, 2024, 1), partition(table, 2024, 2), partition(table, 2024, 1)]
        assert catalog.add_partitions("processed", "demand", first) == 2
        again = [partition(table, 2024, 2), partition(table, 2024, 3)]
        assert catalog.add_partitions("processed", "demand", again) == 1
        assert catalog.add_partitions("processed", "demand", again) == 0
        assert catalog.add_partitions("processed", "demand", []) == 0
        assert [p.values for p in catalog.list_partitions("processed", "demand")] == [
            ("2024", "01"),
            ("2024", "02"),
            ("2024", "03"),
        ]

    def test_more_than_one_batch_of_partitions(self, catalog: Catalog) -> None:
        catalog.create_database("processed")
        table = make_table()
        catalog.put_table(table)
        months = [partition(table, year, month) for year in range(2001, 2022) for month in (1, 7)]
        days = [
            Partition((f"{2030 + i // 100}", f"{i % 100:02d}"), f"{table.location}d={i}/") for i in range(208)
        ]
        everything = months + days  # 250 partitions: three Glue batches
        assert catalog.add_partitions("processed", "demand", everything) == 250
        assert catalog.add_partitions("processed", "demand", everything[90:110]) == 0
        listed = catalog.list_partitions("processed", "demand")
        assert len(listed) == 250
        assert listed == sorted(everything, key=lambda p: p.values)

    def test_list_partitions_sorted_by_values(self, catalog: Catalog) -> None:
        catalog.create_database("processed")
        table = make_table()
        catalog.put_table(table)
        wanted = [partition(table, y, m) for y in (2023, 2024) for m in (1, 2, 10, 12)]
        shuffled = wanted[:]
        random.Random(7).shuffle(shuffled)
        for one in shuffled:  # one call each, so insertion order is the shuffled one
            catalog.add_partitions("processed", "demand", [one])
        assert catalog.list_partitions("processed", "demand") == wanted

    def test_unknown_database_is_named_with_known_ones(self, catalog: Catalog) -> None:
        catalog.create_database("raw")
        catalog.create_database("processed")
        for call in (
            lambda: catalog.get_table("nowhere", "demand"),
            lambda: catalog.list_tables("nowhere"),
            lambda: catalog.put_table(make_table(database="nowhere")),
            lambda: catalog.list_partitions("nowhere", "demand"),
            lambda: catalog.add_partitions("nowhere", "demand", []),
            lambda: catalog.delete_table("nowhere", "demand"),
        ):
            with pytest.raises(CatalogNotFoundError) as caught:
                call()
            message = str(caught.value)
            assert "'nowhere'" in message
            assert "known: processed, raw" in message
            assert caught.value.hint == "run `datalake crawl` to catalog the lake"
        assert not catalog.has_table("nowhere", "demand")

    def test_unknown_table_is_named_with_known_ones(self, catalog: Catalog) -> None:
        catalog.create_database("processed")
        catalog.put_table(make_table("prices"))
        catalog.put_table(make_table("demand"))
        for call in (
            lambda: catalog.get_table("processed", "weather"),
            lambda: catalog.list_partitions("processed", "weather"),
            lambda: catalog.add_partitions("processed", "weather", []),
            lambda: catalog.delete_table("processed", "weather"),
        ):
            with pytest.raises(CatalogNotFoundError) as caught:
                call()
            assert str(caught.value) == (
                "table processed.weather not found (tables in processed: demand, prices)"
            )
        catalog.create_database("empty")
        with pytest.raises(CatalogNotFoundError, match=r"tables in empty: none"):
            catalog.get_table("empty", "weather")
        assert not catalog.has_table("processed", "weather")

    def test_delete_table_drops_it_and_its_partitions(self, catalog: Catalog) -> None:
        catalog.create_database("processed")
        table = make_table()
        catalog.put_table(table)
        catalog.put_table(make_table("prices"))
        catalog.add_partitions("processed", "demand", [partition(table, 2024, 1)])
        catalog.delete_table("processed", "demand")
        assert catalog.list_tables("processed") == ["prices"]
        assert not catalog.has_table("processed", "demand")
        with pytest.raises(CatalogNotFoundError, match=r"processed\.demand not found"):
            catalog.delete_table("processed", "demand")
        catalog.put_table(table)
        assert catalog.list_partitions("processed", "demand") == []


# -- what only Glue needs: the Glue shapes Athena reads ------------------------------------
SERDES = {
    "parquet": (
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    ),
    "json": (
        "org.openx.data.jsonserde.JsonSerDe",
        "org.apache.hadoop.mapred.TextInputFormat",
        "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    ),
    "csv": (
        "org.apache.hadoop.hive.serde2.OpenCSVSerde",
        "org.apache.hadoop.mapred.TextInputFormat",
        "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    ),
}


class TestGlueShapes:
    @pytest.mark.parametrize("fmt", ["parquet", "json", "csv"])
    def test_storage_descriptor_per_format(self, glue: GlueCatalog, glue_client: Any, fmt: str) -> None:
        glue.create_database("processed")
        glue.put_table(make_table("t", fmt))
        raw = glue_client.get_table(DatabaseName="processed", Name="t")["Table"]
        serde, input_format, output_format = SERDES[fmt]
        sd = raw["StorageDescriptor"]
        assert raw["TableType"] == "EXTERNAL_TABLE"
        assert sd["SerdeInfo"]["SerializationLibrary"] == serde
        assert sd["InputFormat"] == input_format
        assert sd["OutputFormat"] == output_format
        assert sd["Location"].startswith("s3://")
        assert [c["Name"] for c in sd["Columns"]] == ["ts_utc", "demand_mw", "zone"]
        assert sd["Columns"][0]["Comment"] == "hour start, UTC"
        assert [c["Name"] for c in raw["PartitionKeys"]] == ["year", "month"]
        assert raw["Parameters"]["classification"] == fmt
        assert raw["Parameters"]["source"] == "ree"
        if fmt == "csv":
            assert raw["Parameters"]["skip.header.line.count"] == "1"
            assert sd["SerdeInfo"]["Parameters"]["separatorChar"] == ","
        else:
            assert "skip.header.line.count" not in raw["Parameters"]

    def test_partitions_carry_the_table_serde_and_their_own_location(
        self, glue: GlueCatalog, glue_client: Any
    ) -> None:
        glue.create_database("raw")
        table = make_table("loads", "csv", database="raw")
        glue.put_table(table)
        glue.add_partitions("raw", "loads", [partition(table, 2024, 3)])
        raw = glue_client.get_partition(
            DatabaseName="raw", TableName="loads", PartitionValues=["2024", "03"]
        )["Partition"]
        assert raw["StorageDescriptor"]["Location"] == f"{table.location}year=2024/month=03/"
        assert raw["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == SERDES["csv"][0]
        assert [c["Name"] for c in raw["StorageDescriptor"]["Columns"]] == table.column_names

    def test_unchanged_put_adds_no_table_version(self, glue: GlueCatalog, glue_client: Any) -> None:
        glue.create_database("processed")
        table = make_table()
        glue.put_table(table)
        glue.put_table(table)

        def versions() -> int:
            found = glue_client.get_table_versions(DatabaseName="processed", TableName="demand")
            return len(found["TableVersions"])

        assert versions() == 1
        glue.put_table(table.with_columns([*table.columns, Column("extra", "int")]))
        assert versions() == 2

    def test_parameters_set_by_others_are_kept(self, glue: GlueCatalog, glue_client: Any) -> None:
        # A crawler-made table: classification is its own parameter, so it must come back.
        glue.create_database("processed")
        glue_client.create_table(
            DatabaseName="processed",
            TableInput={
                "Name": "crawled",
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {"classification": "parquet", "compressionType": "none"},
                "StorageDescriptor": {
                    "Columns": [{"Name": "x", "Type": "int"}],
                    "Location": f"{BUCKET}/processed/crawled/",
                    "SerdeInfo": {"SerializationLibrary": SERDES["parquet"][0]},
                },
            },
        )
        got = glue.get_table("processed", "crawled")
        assert got.format == "parquet"
        assert got.parameters == {"classification": "parquet", "compressionType": "none"}
        assert got.description == ""

    def test_caller_parameters_override_derived_ones(self, glue: GlueCatalog, glue_client: Any) -> None:
        glue.create_database("raw")
        headerless = make_table(
            "headerless", "csv", database="raw", parameters={"skip.header.line.count": "0"}
        )
        glue.put_table(headerless)
        raw = glue_client.get_table(DatabaseName="raw", Name="headerless")["Table"]
        assert raw["Parameters"]["skip.header.line.count"] == "0"
        assert raw["Parameters"][ADDED_PARAMETERS_KEY] == "classification"
        assert glue.get_table("raw", "headerless") == headerless

    def test_rejects_what_athena_could_not_read(self, glue: GlueCatalog) -> None:
        glue.create_database("processed")
        local_path = dataclasses.replace(make_table(), location="/home/me/.lake/processed/demand")
        with pytest.raises(ValueError, match="s3:// URI"):
            glue.put_table(local_path)
        with pytest.raises(ValueError, match="contradicts format"):
            glue.put_table(make_table(parameters={"classification": "csv"}))
        table = make_table()
        glue.put_table(table)
        with pytest.raises(ValueError, match="has 1 values; the table has 2"):
            glue.add_partitions("processed", "demand", [Partition(("2024",), table.location)])
        with pytest.raises(ValueError, match="s3:// URI"):
            glue.add_partitions("processed", "demand", [Partition(("2024", "01"), "/tmp/x")])
        assert glue.list_partitions("processed", "demand") == []

    def test_unknown_format_is_an_error_not_a_guess(self, glue: GlueCatalog, glue_client: Any) -> None:
        glue.create_database("processed")
        glue_client.create_table(
            DatabaseName="processed",
            TableInput={
                "Name": "events",
                "Parameters": {"classification": "avro"},
                "StorageDescriptor": {
                    "Location": f"{BUCKET}/x/",
                    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.avro.X"},
                },
            },
        )
        with pytest.raises(LakeError, match="stored as avro"):
            glue.get_table("processed", "events")


# -- batching and error handling of BatchCreatePartition -----------------------------------
class RecordingGlue:
    """Delegates to a real Glue client and records (or rewrites) BatchCreatePartition calls."""

    def __init__(self, client: Any, inject_error: str | None = None) -> None:
        self._client = client
        self.batch_sizes: list[int] = []
        self._inject_error = inject_error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_create_partition(self, **kwargs: Any) -> dict[str, Any]:
        self.batch_sizes.append(len(kwargs["PartitionInputList"]))
        response = self._client.batch_create_partition(**kwargs)
        if self._inject_error:
            first = kwargs["PartitionInputList"][0]
            response.setdefault("Errors", []).append(
                {
                    "PartitionValues": first["Values"],
                    "ErrorDetail": {"ErrorCode": self._inject_error, "ErrorMessage": "boom"},
                }
            )
        return response


def test_partitions_go_to_glue_in_batches_of_100(glue_client: Any) -> None:
    spy = RecordingGlue(glue_client)
    glue = GlueCatalog(client=spy)
    glue.create_database("processed")
    table = make_table()
    glue.put_table(table)
    many = [Partition((f"{i:04d}", "01"), f"{table.location}p={i}/") for i in range(250)]
    assert glue.add_partitions("processed", "demand", many + many[:10]) == 250
    assert spy.batch_sizes == [100, 100, 50]
    assert glue.add_partitions("processed", "demand", many) == 0
    assert spy.batch_sizes[3:] == [100, 100, 50]


def test_a_partition_error_other_than_already_exists_raises(glue_client: Any) -> None:
    glue = GlueCatalog(client=RecordingGlue(glue_client, inject_error="InternalServiceException"))
    glue.create_database("processed")
    table = make_table()
    glue.put_table(table)
    with pytest.raises(LakeError, match=r"refused 1 partition.*InternalServiceException boom"):
        glue.add_partitions("processed", "demand", [partition(table, 2024, 1)])


def test_listings_follow_next_tokens() -> None:
    # moto returns every item in one page, so pagination is proven against stubbed pages.
    client = boto3.client("glue", region_name="eu-west-1")
    stubber = Stubber(client)
    stubber.add_response("get_databases", {"DatabaseList": [{"Name": "b"}], "NextToken": "t1"})
    stubber.add_response("get_databases", {"DatabaseList": [{"Name": "a"}]}, {"NextToken": "t1"})
    stubber.add_response(
        "get_tables",
        {"TableList": [{"Name": "z"}], "NextToken": "t2"},
        {"DatabaseName": "a"},
    )
    stubber.add_response(
        "get_tables", {"TableList": [{"Name": "y"}]}, {"DatabaseName": "a", "NextToken": "t2"}
    )
    part = {"Values": ["2"], "StorageDescriptor": {"Location": "s3://b/2/"}}
    first = {"Values": ["1"], "StorageDescriptor": {"Location": "s3://b/1/"}}
    query = {"DatabaseName": "a", "TableName": "y", "ExcludeColumnSchema": True}
    stubber.add_response("get_partitions", {"Partitions": [part], "NextToken": "t3"}, query)
    stubber.add_response("get_partitions", {"Partitions": [first]}, {**query, "NextToken": "t3"})
    with stubber:
        glue = GlueCatalog(client=client)
        assert glue.list_databases() == ["a", "b"]
        assert glue.list_tables("a") == ["y", "z"]
        assert glue.list_partitions("a", "y") == [
            Partition(("1",), "s3://b/1/"),
            Partition(("2",), "s3://b/2/"),
        ]
    stubber.assert_no_pending_responses()
