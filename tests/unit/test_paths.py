"""Object keys and Hive partition paths (datalake.storage.paths)."""

from __future__ import annotations

import datetime as dt

import pytest

from datalake.storage.paths import (
    date_partition,
    date_partition_key,
    hive_path,
    is_hidden,
    join_key,
    parse_partition,
    partition_date,
    split_table_key,
)


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("raw", "ree", "demand"), "raw/ree/demand"),
        (("/raw/", "/ree/", "x.json"), "raw/ree/x.json"),  # outer slashes dropped
        (("raw", "", "x.json"), "raw/x.json"),  # empty parts dropped
        (("raw", "/", "x.json"), "raw/x.json"),  # a bare slash is empty too
        (("raw/ree", "year=2024/month=01"), "raw/ree/year=2024/month=01"),
        (("",), ""),
        ((), ""),
    ],
)
def test_join_key(parts: tuple[str, ...], expected: str) -> None:
    assert join_key(*parts) == expected


@pytest.mark.parametrize(
    ("key", "hidden"),
    [
        ("raw/ree/x.json", False),
        ("_SUCCESS", True),
        ("t/_SUCCESS", True),
        ("t/.part-0.crc", True),
        ("t/_temporary/0/part-0.parquet", True),  # a hidden folder hides what is in it
        ("_staging/abc/part-0.parquet", True),
        ("t/year=2024/part_0.parquet", False),  # underscores inside a name do not count
        ("t/a.b/c", False),
        ("/t//x/", False),  # empty segments are not hidden
        ("", False),
    ],
)
def test_is_hidden(key: str, hidden: bool) -> None:
    assert is_hidden(key) is hidden


def test_date_partition_pads_month_and_day() -> None:
    assert date_partition(dt.date(2024, 1, 5)) == "year=2024/month=01/day=05"
    assert date_partition(dt.date(2015, 12, 31)) == "year=2015/month=12/day=31"
    assert date_partition(dt.date(999, 3, 9)) == "year=0999/month=03/day=09"


def test_date_partition_key() -> None:
    key = date_partition_key("raw/ree/demand/", dt.date(2024, 3, 31), "demand.json")
    assert key == "raw/ree/demand/year=2024/month=03/day=31/demand.json"


def test_hive_path_keeps_order_and_quotes_values() -> None:
    assert hive_path({"year": 2024, "region": "ES"}) == "year=2024/region=ES"
    # Slashes, spaces, '=' and non-ASCII must not create or break segments.
    assert hive_path({"zone": "a/b c=d", "name": "á"}) == "zone=a%2Fb%20c%3Dd/name=%C3%A1"
    assert hive_path({}) == ""


def test_parse_partition() -> None:
    key = "processed/demand/year=2024/month=01/day=05/part-0.parquet"
    assert parse_partition(key) == {"year": "2024", "month": "01", "day": "05"}
    assert list(parse_partition(key)) == ["year", "month", "day"]  # in path order
    assert parse_partition("raw/ree/x.json") == {}
    assert parse_partition("t/region=") == {"region": ""}
    # Segments that are not name=value (bad names, files with '=') are ignored.
    assert parse_partition("t/1bad=x/a-b=y/_ok=z") == {"_ok": "z"}


@pytest.mark.parametrize(
    "values", [{"zone": "a/b c=d", "name": "á"}, {"year": 2024, "empty": ""}, {"x": "100%"}]
)
def test_parse_partition_inverts_hive_path(values: dict[str, object]) -> None:
    key = f"t/{hive_path(values)}/part-0.parquet"
    assert parse_partition(key) == {name: str(value) for name, value in values.items()}


def test_partition_date() -> None:
    assert partition_date("raw/ree/demand/year=2024/month=02/day=29/x.json") == dt.date(2024, 2, 29)
    assert partition_date(date_partition(dt.date(2015, 1, 1))) == dt.date(2015, 1, 1)
    assert partition_date("raw/ree/demand/year=2024/month=02/x.json") is None  # no day
    assert partition_date("raw/x.json") is None
    assert partition_date("t/year=2023/month=02/day=29/x.json") is None  # not a real date
    assert partition_date("t/year=abc/month=01/day=01/x.json") is None


def test_split_table_key_partitioned() -> None:
    assert split_table_key("processed/demand/year=2024/month=01/part-0.parquet") == (
        "processed/demand",
        "year=2024/month=01",
        "part-0.parquet",
    )
    # Folders after the first partition segment belong to the partition path.
    assert split_table_key("t/year=2024/sub/part-0.parquet") == (
        "t",
        "year=2024/sub",
        "part-0.parquet",
    )


def test_split_table_key_unpartitioned_file() -> None:
    assert split_table_key("processed/movies/movies.parquet") == (
        "processed/movies",
        "",
        "movies.parquet",
    )
    assert split_table_key("movies.parquet") == ("", "", "movies.parquet")
    assert split_table_key("year=2024/x.parquet") == ("", "year=2024", "x.parquet")
