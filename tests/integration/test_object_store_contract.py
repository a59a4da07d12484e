"""One contract for every ObjectStore adapter: a local directory, moto S3 and SeaweedFS S3.

The same assertions run against each adapter, so code written against the port behaves the
same on a laptop and on AWS.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from datalake.errors import ObjectNotFoundError
from datalake.settings import Settings
from datalake.storage.base import ObjectStore
from datalake.storage.local import LocalObjectStore
from datalake.storage.s3 import S3ObjectStore

ADAPTERS = ["local", "moto", "seaweedfs"]


def _s3_settings(endpoint: str) -> Settings:
    return Settings(_env_file=None, lake_runtime="aws", aws_endpoint_url=endpoint, aws_region="eu-west-1")


def _fresh_bucket(settings: Settings) -> str:
    """Create a uniquely named bucket; region-constrained like a real eu-west-1 bucket."""
    bucket = f"contract-{uuid.uuid4().hex[:16]}"
    client = boto3.client("s3", endpoint_url=settings.aws_endpoint_url, region_name=settings.aws_region)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": settings.aws_region})
    return bucket


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    """The adapter under test, empty. Servers start only when a selected test needs them."""
    if request.param == "local":
        yield LocalObjectStore(tmp_path / "lake")
        return
    if request.param == "moto":
        settings: Settings = request.getfixturevalue("moto_settings")  # resets moto
    else:
        settings = _s3_settings(request.getfixturevalue("seaweedfs"))
    s3 = S3ObjectStore(_fresh_bucket(settings), settings=settings)
    yield s3
    if request.param == "seaweedfs":
        # The server lives for the whole session; leave it as empty as we found it.
        s3.delete_prefix("")
        s3.client.delete_bucket(Bucket=s3.bucket)


def _sample_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(
                ["2024-03-31T00:00:00Z", "2024-03-31T01:00:00Z", "2024-03-31T02:00:00Z"], utc=True
            ),
            "demand_mw": [25_000.5, 24_100.0, 23_950.25],
            "region": ["peninsular", "baleares", "canarias"],
        }
    )


class FailingAfterFirst(Mapping[str, bytes]):
    """A payload whose producer dies once the first value has been handed out."""

    def __init__(self, names: list[str]) -> None:
        self._names = names
        self.served = 0

    def __getitem__(self, name: str) -> bytes:
        if name not in self._names:
            raise KeyError(name)
        if self.served >= 1:
            raise RuntimeError("writer died part-way")
        self.served += 1
        return b"new bytes for " + name.encode()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


# -- primitives ------------------------------------------------------------------------------
def test_put_get_exists(store: ObjectStore) -> None:
    uri = store.put_bytes("raw/src/data.json", b'{"a": 1}', "application/json")

    assert uri == store.uri("raw/src/data.json")
    assert uri.startswith(f"{store.scheme}://")
    assert store.get_bytes("raw/src/data.json") == b'{"a": 1}'
    assert store.exists("raw/src/data.json")
    assert not store.exists("raw/src/other.json")
    assert not store.exists("raw/src")  # a folder is not an object

    store.put_bytes("raw/src/data.json", b"v2")  # overwrite in place
    assert store.get_bytes("raw/src/data.json") == b"v2"


def test_describe_open_and_copy_stream_an_object(store: ObjectStore) -> None:
    """The primitives the landing streams drops with (issue 14, finding 10)."""
    data = b"a,b\n" * 100_000
    store.put_bytes("landing/a.csv", data)
    info = store.describe("landing/a.csv")
    assert (info.key, info.size, info.kind) == ("landing/a.csv", len(data), "file")
    assert info.last_modified == store.last_modified("landing/a.csv")
    with store.open_read("landing/a.csv", info.version) as stream:
        assert stream.read(10) == data[:10]
        assert stream.read() == data[10:]
    assert store.copy_from(store, "landing/a.csv", "raw/b.csv", "text/csv", info.version) == store.uri(
        "raw/b.csv"
    )
    assert store.get_bytes("raw/b.csv") == data
    assert store.put_stream("raw/c.csv", io.BytesIO(data)) == store.uri("raw/c.csv")
    assert store.get_bytes("raw/c.csv") == data
    for missing in (
        lambda: store.describe("landing/missing.csv"),
        lambda: store.open_read("landing/missing.csv"),
        lambda: store.copy_from(store, "landing/missing.csv", "raw/d.csv"),
        lambda: store.describe("landing"),  # a folder is not an object
    ):
        with pytest.raises(ObjectNotFoundError):
            missing()
    assert not store.exists("raw/d.csv")


def test_a_copy_over_the_multipart_threshold_is_whole(store: ObjectStore) -> None:
    data = bytes(range(256)) * (40 * 1024 + 1)  # 10 MiB and a bit: S3 copies it in parts
    store.put_bytes("landing/big.bin", data)
    info = store.describe("landing/big.bin")
    store.copy_from(store, "landing/big.bin", "raw/big.bin", version=info.version)
    assert store.get_bytes("raw/big.bin") == data


def test_a_version_pins_what_is_read_and_copied(store: ObjectStore) -> None:
    if store.scheme != "s3":
        pytest.skip("local files carry no version")
    store.put_bytes("landing/a.csv", b"checked")
    info = store.describe("landing/a.csv")
    store.put_bytes("landing/a.csv", b"replaced after the check")
    with pytest.raises(ClientError, match=r"PreconditionFailed|412"):
        store.open_read("landing/a.csv", info.version)
    with pytest.raises(ClientError, match=r"PreconditionFailed|412"):
        store.copy_from(store, "landing/a.csv", "raw/a.csv", version=info.version)
    assert not store.exists("raw/a.csv")


def test_last_modified_is_utc_and_recent(store: ObjectStore) -> None:
    import datetime as dt

    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    store.put_bytes("landing/drop.csv", b"a,b\n1,2\n")
    modified = store.last_modified("landing/drop.csv")
    assert modified.tzinfo is not None and modified.utcoffset() == dt.timedelta(0)
    assert before < modified < dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    with pytest.raises(ObjectNotFoundError, match=r"landing/missing\.csv"):
        store.last_modified("landing/missing.csv")


def test_list_keys_sorted_and_prefix_is_a_folder(store: ObjectStore) -> None:
    for key in ["raw/a/z.json", "raw/a/b/y.json", "raw/a/a.json", "raw/ab/x.json", "raw/b.json"]:
        store.put_bytes(key, b"x")

    assert store.list_keys("raw/a") == ["raw/a/a.json", "raw/a/b/y.json", "raw/a/z.json"]
    assert store.list_keys("raw/a/") == store.list_keys("raw/a")
    assert store.list_keys("raw") == [
        "raw/a/a.json",
        "raw/a/b/y.json",
        "raw/a/z.json",
        "raw/ab/x.json",
        "raw/b.json",
    ]
    assert store.list_keys("") == store.list_keys("raw")
    assert store.list_keys("raw/missing") == []
    assert store.list_keys("raw/b.json") == []  # an object is not a folder


def test_hidden_keys_are_left_out_unless_asked(store: ObjectStore) -> None:
    visible = ["t/year=2024/part-0.parquet", "t/data.csv"]
    hidden = ["t/_SUCCESS", "t/.part-0.crc", "t/_temporary/0/part-9.parquet", "t/.tmp/x"]
    for key in visible + hidden:
        store.put_bytes(key, b"x")

    assert store.list_keys("t") == sorted(visible)
    assert store.list_keys("t", include_hidden=True) == sorted(visible + hidden)
    # Hidden means hidden *below* the prefix: listing a hidden folder itself shows its files.
    assert store.list_keys("t/_temporary") == ["t/_temporary/0/part-9.parquet"]


def test_delete_and_delete_prefix(store: ObjectStore) -> None:
    for key in ["p/a", "p/b", "p/sub/_hidden", "p/sub/c", "pq/keep"]:
        store.put_bytes(key, b"x")

    assert store.delete(["p/a", "p/never-existed"]) == 2  # missing keys are not an error
    assert not store.exists("p/a")
    assert store.exists("p/b")

    assert store.delete_prefix("p") == 3  # hidden objects go too
    assert store.list_keys("p", include_hidden=True) == []
    assert store.list_keys("", include_hidden=True) == ["pq/keep"]  # a sibling prefix is kept
    assert store.delete([]) == 0


def test_get_missing_raises_object_not_found_naming_the_uri(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFoundError) as caught:
        store.get_bytes("raw/nope/missing.json")

    assert store.uri("raw/nope/missing.json") in str(caught.value)
    assert isinstance(caught.value, KeyError)  # callers may treat it as a mapping miss


# -- formats ---------------------------------------------------------------------------------
def test_json_round_trip_keeps_non_ascii(store: ObjectStore) -> None:
    doc = {"title": "Demanda peninsular á", "values": [1, 2.5, None], "nested": {"ñ": True}}
    store.put_json("raw/ree/doc.json", doc)

    assert store.get_json("raw/ree/doc.json") == doc
    raw = store.get_bytes("raw/ree/doc.json")
    assert "Demanda peninsular á".encode() in raw  # UTF-8 on disk, not \u escapes
    assert json.loads(raw.decode("utf-8"))["nested"] == {"ñ": True}


def test_a_json_document_is_written_again_only_when_it_changed(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[str] = []
    put_bytes = store.put_bytes
    monkeypatch.setattr(store, "put_bytes", lambda key, *args: writes.append(key) or put_bytes(key, *args))
    doc = {"data": [1, 2], "datalake": {"fetched_at": "2026-01-01T00:00:00Z", "source": "sample"}}
    assert store.put_json_if_changed("j/doc.json", doc) and writes == ["j/doc.json"]
    assert not store.put_json_if_changed("j/doc.json", json.loads(json.dumps(doc)))
    fetched_later = {**doc, "datalake": {**doc["datalake"], "fetched_at": "2026-01-02T00:00:00Z"}}
    assert not store.put_json_if_changed("j/doc.json", fetched_later, ignore=["datalake.fetched_at"])
    assert writes == ["j/doc.json"]  # neither was written
    assert store.get_json("j/doc.json") == doc  # the stored document keeps its own fetch time
    # Only the ignored field may differ: a change elsewhere, even beside it, is written.
    relabelled = {**fetched_later, "datalake": {**fetched_later["datalake"], "source": "real"}}
    assert store.put_json_if_changed("j/doc.json", relabelled, ignore=["datalake.fetched_at"])
    assert store.get_json("j/doc.json") == relabelled
    assert store.put_json_if_changed("j/doc.json", {**relabelled, "data": [1, 3]}, ignore=["datalake"])
    store.put_bytes("j/doc.json", b"not json")
    assert store.put_json_if_changed("j/doc.json", doc, ignore=["datalake.fetched_at"])
    assert store.get_json("j/doc.json") == doc


def test_csv_round_trip(store: ObjectStore) -> None:
    frame = pd.DataFrame(
        {"hour": [0, 1, 2], "demand_mw": [25_000.5, 24_100.0, 23_950.25], "zone": ["á", "b", "c"]}
    )
    store.write_csv("landing/demand.csv", frame)

    assert store.get_bytes("landing/demand.csv").startswith(b"hour,demand_mw,zone\n")
    pd.testing.assert_frame_equal(store.read_csv("landing/demand.csv"), frame)


def test_parquet_round_trip_keeps_utc_timestamps(store: ObjectStore) -> None:
    frame = _sample_frame()
    store.write_parquet("processed/demand/part-0.parquet", frame)

    back = store.read_parquet("processed/demand/part-0.parquet")
    assert str(back["ts"].dt.tz) == "UTC"
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert back["ts"].tolist() == frame["ts"].tolist()
    schema = pq.read_schema(io.BytesIO(store.get_bytes("processed/demand/part-0.parquet")))
    assert schema.field("ts").type.tz == "UTC"  # the file itself carries the zone


def test_read_parquet_over_partitioned_prefix(store: ObjectStore) -> None:
    frame = _sample_frame()
    store.write_parquet("processed/demand/year=2024/month=01/part-0.parquet", frame.iloc[:2])
    store.write_parquet("processed/demand/year=2024/month=02/part-0.parquet", frame.iloc[2:])
    store.put_bytes("processed/demand/_SUCCESS", b"")  # hidden markers are not data
    store.put_bytes("processed/demand/year=2024/month=02/notes.txt", b"not parquet")

    back = store.read_parquet("processed/demand").sort_values("ts").reset_index(drop=True)

    assert back["region"].tolist() == ["peninsular", "baleares", "canarias"]
    assert back["year"].tolist() == ["2024", "2024", "2024"]
    assert back["month"].tolist() == ["01", "01", "02"]
    assert str(back["ts"].dt.tz) == "UTC"
    assert store.list_partitions("processed/demand") == [
        {"year": "2024", "month": "01"},
        {"year": "2024", "month": "02"},
    ]
    with pytest.raises(ObjectNotFoundError):
        store.read_parquet("processed/empty")


def test_list_partitions(store: ObjectStore) -> None:
    for key in [
        "raw/ree/demand/year=2024/month=01/day=02/a.json",
        "raw/ree/demand/year=2024/month=01/day=02/b.json",
        "raw/ree/demand/year=2023/month=12/day=31/a.json",
        "raw/ree/demand/year=2024/month=01/day=03/_tmp/a.json",  # hidden: not a partition
        "raw/ree/demand/manifest.json",  # not in a partition
        "raw/ree/demandx/year=1999/month=01/day=01/a.json",  # sibling table
    ]:
        store.put_bytes(key, b"{}")

    assert store.list_partitions("raw/ree/demand") == [
        {"year": "2023", "month": "12", "day": "31"},
        {"year": "2024", "month": "01", "day": "02"},
    ]
    assert store.list_partitions("raw/ree/none") == []


# -- partitions ------------------------------------------------------------------------------
def test_replace_partition_swaps_every_file_and_keeps_siblings(store: ObjectStore) -> None:
    table = "processed/demand"
    frame = _sample_frame()
    old = store.replace_partition(table, "year=2024/month=01", {f"part-{i}.parquet": frame for i in range(3)})
    assert old == [f"{table}/year=2024/month=01/part-{i}.parquet" for i in range(3)]
    sibling_key = f"{table}/year=2024/month=02/part-0.parquet"
    store.write_parquet(sibling_key, frame.iloc[:1])
    sibling_bytes = store.get_bytes(sibling_key)

    new_frame = frame.iloc[1:].reset_index(drop=True)
    written = store.replace_partition(table, "year=2024/month=01", {"part-0.parquet": new_frame})

    assert written == [f"{table}/year=2024/month=01/part-0.parquet"]
    assert store.list_keys(f"{table}/year=2024/month=01", include_hidden=True) == written
    back = store.read_parquet(written[0])
    pd.testing.assert_frame_equal(back, new_frame, check_dtype=False)
    assert store.get_bytes(sibling_key) == sibling_bytes
    assert store.list_keys(table) == [written[0], sibling_key]
    # Nothing of the staging area stays behind, not even hidden.
    assert store.list_keys("", include_hidden=True) == [written[0], sibling_key]


def test_replace_prefix_into_a_new_partition(store: ObjectStore) -> None:
    written = store.replace_prefix("t/day=1", {"a.bin": b"a", "sub/b.bin": b"b"})

    assert written == ["t/day=1/a.bin", "t/day=1/sub/b.bin"]
    assert store.get_bytes("t/day=1/sub/b.bin") == b"b"
    assert store.list_keys("", include_hidden=True) == written


def test_replace_that_dies_part_way_leaves_the_old_partition(store: ObjectStore) -> None:
    prefix = "processed/demand/year=2024/month=01"
    old = {"part-0.parquet": b"old-0", "part-1.parquet": b"old-1", "extra.parquet": b"old-x"}
    store.replace_prefix(prefix, old)
    before = {key: store.get_bytes(key) for key in store.list_keys("", include_hidden=True)}

    payload = FailingAfterFirst(["part-0.parquet", "part-9.parquet"])
    with pytest.raises(RuntimeError, match="died part-way"):
        store.replace_prefix(prefix, payload)

    assert payload.served == 1  # the first object really was produced before the crash
    assert store.list_keys("") == sorted(before)
    after = {key: store.get_bytes(key) for key in store.list_keys("", include_hidden=True)}
    assert after == before  # old bytes intact, and no staging leftovers even among hidden keys


def test_replace_into_a_new_partition_that_dies_leaves_nothing(store: ObjectStore) -> None:
    with pytest.raises(RuntimeError, match="died part-way"):
        store.replace_prefix("t/day=1", FailingAfterFirst(["a.bin", "b.bin"]))

    assert store.list_keys("", include_hidden=True) == []
    assert store.list_partitions("t") == []


def test_replace_partition_whose_frames_fail_keeps_old_partition(store: ObjectStore) -> None:
    table = "processed/demand"
    store.replace_partition(table, "year=2024", {"a.parquet": _sample_frame()})
    before = store.get_bytes(f"{table}/year=2024/a.parquet")

    class BrokenFrames(Mapping[str, pd.DataFrame]):
        def __getitem__(self, name: str) -> pd.DataFrame:
            if name == "b.parquet":
                raise RuntimeError("frame source died part-way")
            return _sample_frame()

        def __iter__(self) -> Iterator[str]:
            return iter(["a.parquet", "b.parquet"])

        def __len__(self) -> int:
            return 2

    with pytest.raises(RuntimeError, match="died part-way"):
        store.replace_partition(table, "year=2024", BrokenFrames())

    assert store.list_keys("", include_hidden=True) == [f"{table}/year=2024/a.parquet"]
    assert store.get_bytes(f"{table}/year=2024/a.parquet") == before


def test_replace_whose_storage_fails_on_the_second_write_keeps_old_partition(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = "t/day=1"
    store.replace_prefix(prefix, {"old-0.bin": b"old-0", "old-1.bin": b"old-1"})
    before = {key: store.get_bytes(key) for key in store.list_keys("", include_hidden=True)}
    writes: list[str] = []

    # The fault sits where each adapter writes bytes: the S3 adapter uploads through
    # put_bytes, the local one opens files in its staging folder.
    if isinstance(store, S3ObjectStore):
        real_put = store.put_bytes

        def flaky_put(key: str, data: bytes, content_type: str | None = None) -> str:
            writes.append(key)
            if len(writes) == 2:
                raise OSError("disk full on the second write")
            return real_put(key, data, content_type)

        monkeypatch.setattr(store, "put_bytes", flaky_put)
    else:
        import builtins

        import datalake.storage.local as local_module

        def flaky_open(file: str | Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if "w" in mode:
                writes.append(str(file))
                if len(writes) == 2:
                    raise OSError("disk full on the second write")
            return builtins.open(file, mode, *args, **kwargs)

        monkeypatch.setattr(local_module, "open", flaky_open, raising=False)

    with pytest.raises(OSError, match="second write"):
        store.replace_prefix(prefix, {"new-0.bin": b"n0", "new-1.bin": b"n1", "new-2.bin": b"n2"})
    monkeypatch.undo()

    assert len(writes) == 2
    assert store.list_keys("") == sorted(before)
    after = {key: store.get_bytes(key) for key in store.list_keys("", include_hidden=True)}
    assert after == before


# -- the SeaweedFS fixture itself ------------------------------------------------------------
def test_seaweedfs_checks_signatures(seaweedfs: str) -> None:
    """The server enforces SigV4, so the suite above would catch a request signed wrongly."""
    from botocore.exceptions import ClientError

    settings = _s3_settings(seaweedfs)
    good = S3ObjectStore(_fresh_bucket(settings), settings=settings)
    good.put_bytes("k", b"v")
    wrong = boto3.client(
        "s3",
        endpoint_url=seaweedfs,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="not-the-secret",
    )
    try:
        with pytest.raises(ClientError) as caught:
            wrong.get_object(Bucket=good.bucket, Key="k")
        assert caught.value.response["Error"]["Code"] in ("SignatureDoesNotMatch", "AccessDenied")
        assert good.get_bytes("k") == b"v"
    finally:
        good.delete_prefix("")
        good.client.delete_bucket(Bucket=good.bucket)
