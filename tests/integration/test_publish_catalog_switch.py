"""Publishing switches what the catalog points at: readers see one whole version, never a mix.

A writer publishes many versions of two partitions while a reader keeps reading through the
catalog: on the local lake (DuckDB, and the sync's file reader) and on a real S3 server
(SeaweedFS, the sync's reader). Every row of a version carries its marker and each version has
its own row counts, so a read mixing two versions, or missing a file, would show. Then the
switch on moto's Glue: BatchCreatePartition for new partitions, BatchUpdatePartition for the
ones that exist, and the locations Athena reads point at the new run's folders.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest
from processed_fixtures import publish_frames

from datalake import aws
from datalake.catalog.base import Catalog, Partition
from datalake.catalog.glue import GlueCatalog
from datalake.catalog.local import LocalCatalog
from datalake.catalog.processed import read_current, spec_table
from datalake.datasets import DEMAND_HOURLY
from datalake.datasets.energy_company import PROVEEDORES
from datalake.query.duckdb_engine import DuckDBEngine
from datalake.settings import Settings
from datalake.storage.base import ObjectStore
from datalake.storage.local import LocalObjectStore
from datalake.storage.s3 import S3ObjectStore

VERSIONS = 30
JANUARY, FEBRUARY = "year=2024/month=1", "year=2024/month=2"


def rows_in(version: int, partition: str) -> int:
    """Each version has its own count per partition, so a mix of two is visible in the count."""
    return (20 if partition == JANUARY else 10) + 3 * (version % 7)


def demand(version: int, month: int, hours: int, first_hour: int = 0) -> pd.DataFrame:
    ts = pd.date_range(f"2024-{month:02d}-10T00:00Z", periods=hours + first_hour, freq="h")[first_hour:]
    return pd.DataFrame(
        {
            "ts_utc": ts,
            "local_date": ts.tz_convert("Europe/Madrid").date,
            "region": "national",
            "demand_mw": 25_000.0,
            "source": f"v{version}",
            "tso_forecast_mw": 24_000.0,
            "extracted_at": pd.Timestamp("2024-04-02T06:00Z"),
        }
    )


def version_files(version: int) -> dict[str, list[pd.DataFrame]]:
    """January as two files (a reader must see both), February as one."""
    january, february = rows_in(version, JANUARY), rows_in(version, FEBRUARY)
    half = january // 2
    return {
        JANUARY: [demand(version, 1, half), demand(version, 1, january - half, first_hour=half)],
        FEBRUARY: [demand(version, 2, february)],
    }


def check_read(frame: pd.DataFrame, problems: list[str]) -> int | None:
    """The version a read saw; a problem is recorded when it is not one whole version."""
    if frame.empty:
        problems.append("a read saw no rows")
        return None
    versions = set(frame["source"])
    if len(versions) != 1:
        problems.append(f"a read mixed versions {sorted(versions)}")
        return None
    version = int(versions.pop()[1:])
    counts = frame.groupby("month").size().to_dict()
    expected = {str(m): rows_in(version, p) for m, p in (("1", JANUARY), ("2", FEBRUARY))}
    if {str(k): v for k, v in counts.items()} != expected:
        problems.append(f"version {version}: counts {counts}, expected {expected}")
    return version


def read_while_publishing(
    store: ObjectStore, catalog: Catalog, settings: Settings, read: Callable[[], pd.DataFrame]
) -> list[int]:
    """Publish VERSIONS versions in this thread while ``read`` runs in another; the versions read."""
    publish_frames(store, DEMAND_HOURLY, version_files(0), catalog=catalog, settings=settings)
    done = threading.Event()
    problems: list[str] = []
    seen: list[int] = []

    def reader() -> None:
        try:
            while not done.is_set():
                version = check_read(read(), problems)
                if version is not None:
                    seen.append(version)
        except BaseException as error:  # surfaced below
            problems.append(f"reader failed: {type(error).__name__}: {error}")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for version in range(1, VERSIONS + 1):
            publish_frames(store, DEMAND_HOURLY, version_files(version), catalog=catalog, settings=settings)
    finally:
        done.set()
        thread.join(60)
    assert not problems, problems[:5]
    assert check_read(read(), problems) == VERSIONS and not problems
    return seen


def assert_reads_interleaved(seen: list[int]) -> None:
    # The reads really happened during the publishes, and never went back to an older version.
    assert len(set(seen)) >= 3, f"the reader saw too few versions to prove anything: {sorted(set(seen))}"
    assert seen == sorted(seen)


def test_duckdb_reader_sees_one_whole_version_while_runs_publish_on_the_local_lake(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    settings = Settings(_env_file=None, lake_root=tmp_path / "lake")
    catalog = LocalCatalog(store)
    engine = DuckDBEngine(catalog, settings.processed_database)  # one long-lived engine

    def read() -> pd.DataFrame:
        return engine.query("SELECT source, CAST(month AS varchar) AS month FROM demand_hourly")

    assert_reads_interleaved(read_while_publishing(store, catalog, settings, read))


def test_sync_reader_sees_one_whole_version_while_runs_publish_on_the_local_lake(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    settings = Settings(_env_file=None, lake_root=tmp_path / "lake")
    catalog = LocalCatalog(store)
    seen = read_while_publishing(
        store, catalog, settings, lambda: read_current(store, catalog, DEMAND_HOURLY, settings)
    )
    assert_reads_interleaved(seen)


@pytest.fixture
def seaweed_store(seaweedfs: str) -> Iterator[S3ObjectStore]:
    settings = Settings(
        _env_file=None, lake_runtime="aws", aws_endpoint_url=seaweedfs, aws_region="eu-west-1"
    )
    bucket = f"publish-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=seaweedfs, region_name=settings.aws_region)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": settings.aws_region})
    store = S3ObjectStore(bucket, settings=settings)
    yield store
    store.delete_prefix("")
    store.client.delete_bucket(Bucket=bucket)


def test_reader_sees_one_whole_version_while_runs_publish_on_a_real_s3_server(
    seaweed_store: S3ObjectStore,
) -> None:
    # Spark cannot reach s3:// here, so the run's Parquet objects are put with the adapter; the
    # catalog is the local one kept in the bucket (one PUT of the table's document switches it).
    settings = Settings(_env_file=None)
    catalog = LocalCatalog(seaweed_store)
    seen = read_while_publishing(
        seaweed_store,
        catalog,
        settings,
        lambda: read_current(seaweed_store, catalog, DEMAND_HOURLY, settings),
    )
    assert_reads_interleaved(seen)
    # Every run wrote new objects and none overwrote a published one: the old runs are all there.
    runs = {k.split("/")[3] for k in seaweed_store.list_keys("processed/demand_hourly", include_hidden=True)}
    assert len(runs) == VERSIONS + 1


# -- the switch on Glue (moto) --------------------------------------------------------------------
class RecordingGlue:
    """Delegates to a real (moto) Glue client and records the partition batch calls."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[tuple[str, int]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_create_partition(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("create", len(kwargs["PartitionInputList"])))
        return self._client.batch_create_partition(**kwargs)

    def batch_update_partition(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("update", len(kwargs["Entries"])))
        return self._client.batch_update_partition(**kwargs)


@pytest.fixture
def moto_lake(moto_settings: Settings) -> tuple[S3ObjectStore, GlueCatalog, RecordingGlue, Any]:
    client = aws.client("s3", settings=moto_settings)
    client.create_bucket(
        Bucket=moto_settings.lake_bucket,
        CreateBucketConfiguration={"LocationConstraint": moto_settings.aws_region},
    )
    glue_client = aws.client("glue", settings=moto_settings)
    glue_client.create_database(DatabaseInput={"Name": moto_settings.processed_database})
    glue_client.create_database(DatabaseInput={"Name": moto_settings.energy_processed_database})
    spy = RecordingGlue(glue_client)
    return (
        S3ObjectStore(moto_settings.lake_bucket, settings=moto_settings),
        GlueCatalog(client=spy),
        spy,
        glue_client,
    )


def glue_locations(glue_client: Any, settings: Settings, table: str) -> dict[tuple[str, ...], str]:
    """What Athena reads: each partition's StorageDescriptor location, straight from Glue."""
    pages = glue_client.get_paginator("get_partitions").paginate(
        DatabaseName=settings.processed_database, TableName=table
    )
    return {
        tuple(p["Values"]): p["StorageDescriptor"]["Location"] for page in pages for p in page["Partitions"]
    }


def test_glue_switch_creates_new_partitions_and_updates_existing_ones_to_the_new_run(
    moto_lake: tuple[S3ObjectStore, GlueCatalog, RecordingGlue, Any], moto_settings: Settings
) -> None:
    store, glue, spy, glue_client = moto_lake
    lake = f"s3://{moto_settings.lake_bucket}/processed/demand_hourly"
    first = publish_frames(
        store,
        DEMAND_HOURLY,
        {JANUARY: demand(1, 1, 24), FEBRUARY: demand(1, 2, 24)},
        catalog=glue,
        settings=moto_settings,
    )
    assert spy.calls == [("create", 2)]
    assert glue_locations(glue_client, moto_settings, "demand_hourly") == {
        ("2024", "1"): f"{lake}/_runs/{first}/{JANUARY}/",
        ("2024", "2"): f"{lake}/_runs/{first}/{FEBRUARY}/",
    }
    # The table itself is the spec's: its columns and typed partition keys, located at the root.
    table = glue_client.get_table(DatabaseName=moto_settings.processed_database, Name="demand_hourly")[
        "Table"
    ]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == DEMAND_HOURLY.column_names
    assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [("year", "int"), ("month", "int")]
    assert table["StorageDescriptor"]["Location"] == f"{lake}/"

    spy.calls.clear()
    second = publish_frames(
        store,
        DEMAND_HOURLY,
        {FEBRUARY: demand(2, 2, 12), "year=2024/month=3": demand(2, 3, 24)},
        catalog=glue,
        settings=moto_settings,
    )
    # February exists: created in the batch it failed with AlreadyExists, then updated.
    assert spy.calls == [("create", 2), ("update", 1)]
    assert glue_locations(glue_client, moto_settings, "demand_hourly") == {
        ("2024", "1"): f"{lake}/_runs/{first}/{JANUARY}/",  # not touched by the run: kept
        ("2024", "2"): f"{lake}/_runs/{second}/{FEBRUARY}/",
        ("2024", "3"): f"{lake}/_runs/{second}/year=2024/month=3/",
    }
    # The switched partition keeps the table's schema and SerDe, as Athena needs.
    february = glue_client.get_partition(
        DatabaseName=moto_settings.processed_database,
        TableName="demand_hourly",
        PartitionValues=["2024", "2"],
    )["Partition"]["StorageDescriptor"]
    assert february["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert [c["Name"] for c in february["Columns"]] == DEMAND_HOURLY.column_names
    # What the sync reads follows: February has the second run's 12 rows, January the first's 24.
    current = read_current(store, glue, DEMAND_HOURLY, moto_settings)
    assert current.groupby("month").size().to_dict() == {"1": 24, "2": 12, "3": 24}
    assert set(current[current["month"] == "2"]["source"]) == {"v2"}


def test_glue_switch_goes_in_batches_within_the_api_limits(
    moto_lake: tuple[S3ObjectStore, GlueCatalog, RecordingGlue, Any], moto_settings: Settings
) -> None:
    _store, glue, spy, glue_client = moto_lake
    database = moto_settings.processed_database
    glue.put_table(spec_table(DEMAND_HOURLY, database, "s3://lake/processed/demand_hourly/"))
    many = [Partition((str(2000 + i // 12), str(i % 12 + 1)), f"s3://lake/a/{i}/") for i in range(250)]
    assert glue.set_partition_locations(database, "demand_hourly", many).created == 250
    assert spy.calls == [("create", 100), ("create", 100), ("create", 50)]
    spy.calls.clear()
    moved = [Partition(p.values, p.location.replace("/a/", "/b/")) for p in many]
    switch = glue.set_partition_locations(database, "demand_hourly", moved)
    assert (switch.created, switch.switched) == (0, 250)
    assert [c for c in spy.calls if c[0] == "update"] == [("update", 100), ("update", 100), ("update", 50)]
    assert set(glue_locations(glue_client, moto_settings, "demand_hourly").values()) == {
        p.location for p in moved
    }


def test_an_unpartitioned_table_switches_its_location_on_glue(
    moto_lake: tuple[S3ObjectStore, GlueCatalog, RecordingGlue, Any], moto_settings: Settings
) -> None:
    store, glue, _spy, glue_client = moto_lake
    suppliers = pd.DataFrame(
        {
            "nombre_proveedor": ["ALFA", "BETA"],
            "tipo_energia": ["SOLAR", "EÓLICA"],
            "fecha_registro": [pd.Timestamp("2023-01-02").date()] * 2,
            "fecha_carga": [pd.Timestamp("2024-05-01").date()] * 2,
        }
    )
    runs = [
        publish_frames(store, PROVEEDORES, {"": frame}, catalog=glue, settings=moto_settings)
        for frame in (suppliers, suppliers.iloc[:1])
    ]
    table = glue_client.get_table(DatabaseName=moto_settings.energy_processed_database, Name="proveedores")
    location = table["Table"]["StorageDescriptor"]["Location"]
    assert (
        location == f"s3://{moto_settings.lake_bucket}/processed/energy_company/proveedores/_runs/{runs[1]}/"
    )
    assert list(read_current(store, glue, PROVEEDORES, moto_settings)["nombre_proveedor"]) == ["ALFA"]
