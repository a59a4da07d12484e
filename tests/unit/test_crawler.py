from __future__ import annotations

import pandas as pd
import pytest

from datalake.catalog.crawler import LocalCrawler
from datalake.catalog.local import LocalCatalog
from datalake.errors import SchemaConflictError
from datalake.storage.local import LocalObjectStore


@pytest.fixture
def store(tmp_path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "lake")


@pytest.fixture
def crawler(store: LocalObjectStore) -> LocalCrawler:
    return LocalCrawler(store, LocalCatalog(store))


def _csv(store: LocalObjectStore, day: int, frame: pd.DataFrame) -> None:
    store.write_csv(f"raw/shop/sales/year=2024/month=01/day={day:02d}/sales.csv", frame)


def test_csv_table_partitions_and_types(store, crawler) -> None:
    _csv(
        store,
        1,
        pd.DataFrame({"store_id": [1, 2], "sales_eur": [10.5, 3.0], "at": ["2024-01-01T10:00:00Z"] * 2}),
    )
    _csv(
        store,
        2,
        pd.DataFrame({"store_id": [1], "sales_eur": [7.25], "at": ["2024-01-02T10:00:00Z"]}),
    )
    report = crawler.crawl("raw", "raw_db")
    [found] = report.tables
    assert (found.name, found.format, found.status, found.files) == (
        "shop_sales",
        "csv",
        "created",
        2,
    )
    assert (found.partitions_total, found.partitions_added) == (2, 2)
    table = crawler.catalog.get_table("raw_db", "shop_sales")
    assert [(c.name, c.type) for c in table.columns] == [
        ("store_id", "bigint"),
        ("sales_eur", "double"),
        ("at", "timestamp"),
    ]
    assert [k.name for k in table.partition_keys] == ["year", "month", "day"]
    assert [p.values for p in crawler.catalog.list_partitions("raw_db", "shop_sales")] == [
        ("2024", "01", "01"),
        ("2024", "01", "02"),
    ]


def test_recrawl_is_idempotent_and_registers_only_new_partitions(store, crawler) -> None:
    _csv(store, 1, pd.DataFrame({"store_id": [1]}))
    crawler.crawl("raw", "raw_db")
    again = crawler.crawl("raw", "raw_db").tables[0]
    assert (again.status, again.partitions_added) == ("unchanged", 0)
    _csv(store, 3, pd.DataFrame({"store_id": [5]}))
    third = crawler.crawl("raw", "raw_db").tables[0]
    assert (third.status, third.partitions_added, third.partitions_total) == ("updated", 1, 2)


def test_new_column_updates_the_table(store, crawler) -> None:
    _csv(store, 1, pd.DataFrame({"store_id": [1]}))
    crawler.crawl("raw", "raw_db")
    _csv(store, 2, pd.DataFrame({"store_id": [2], "channel": ["web"]}))
    found = crawler.crawl("raw", "raw_db").tables[0]
    assert found.status == "updated"
    assert found.columns_added == ["channel"]
    assert crawler.catalog.get_table("raw_db", "shop_sales").column_names == ["store_id", "channel"]


def test_widening_is_accepted(store, crawler) -> None:
    store.write_parquet("processed/t/year=2024/p.parquet", pd.DataFrame({"n": pd.array([1], dtype="int32")}))
    crawler.crawl("processed", "p_db")
    store.write_parquet("processed/t/year=2025/p.parquet", pd.DataFrame({"n": [2**40]}))
    found = crawler.crawl("processed", "p_db").tables[0]
    assert found.columns_widened == ["n"]
    assert crawler.catalog.get_table("p_db", "t").columns[0].type == "bigint"


def test_incompatible_change_is_refused_and_table_left_intact(store, crawler) -> None:
    _csv(store, 1, pd.DataFrame({"store_id": [1], "sales_eur": [1.0]}))
    crawler.crawl("raw", "raw_db")
    before = crawler.catalog.get_table("raw_db", "shop_sales")
    _csv(store, 2, pd.DataFrame({"store_id": ["S-1"], "sales_eur": [2.0]}))
    report = crawler.crawl("raw", "raw_db")
    [conflict] = report.conflicts
    assert conflict["column"] == "store_id"
    assert (conflict["catalogued"], conflict["found"]) == ("bigint", "string")
    assert "day=02" in conflict["file"]
    assert crawler.catalog.get_table("raw_db", "shop_sales") == before
    assert len(crawler.catalog.list_partitions("raw_db", "shop_sales")) == 1
    with pytest.raises(SchemaConflictError, match=r"shop_sales\.store_id: catalogued bigint, found string"):
        report.raise_for_conflicts()


def test_nested_json_documents_and_struct_evolution(store, crawler) -> None:
    doc = {
        "data": {"id": "dem1"},
        "included": [{"id": "1293", "values": [{"value": 1.5, "datetime": "x"}]}],
    }
    store.put_json("raw/ree/demand/year=2024/month=01/day=01/a.json", doc)
    crawler.crawl("raw", "raw_db")
    doc["included"][0]["values"][0]["percentage"] = 0.5
    store.put_json("raw/ree/demand/year=2024/month=01/day=02/a.json", doc)
    found = crawler.crawl("raw", "raw_db").tables[0]
    assert found.status == "updated" and not found.conflicts
    included = crawler.catalog.get_table("raw_db", "ree_demand").columns[1]
    assert (
        included.type
        == "array<struct<id:string,values:array<struct<value:double,datetime:string,percentage:double>>>>"
    )


def test_hidden_and_unknown_files_are_skipped(store, crawler) -> None:
    _csv(store, 1, pd.DataFrame({"a": [1]}))
    store.put_bytes("raw/shop/sales/year=2024/month=01/day=01/_SUCCESS", b"")
    store.put_bytes("raw/shop/notes/readme.txt", b"hi")
    report = crawler.crawl("raw", "raw_db")
    assert [t.name for t in report.tables] == ["shop_sales"]
    assert report.skipped_files == ["raw/shop/notes/readme.txt"]


def test_mixed_layout_is_a_conflict(store, crawler) -> None:
    _csv(store, 1, pd.DataFrame({"a": [1]}))
    store.put_json("raw/shop/sales/year=2024/month=01/day=02/x.json", {"a": 1})
    report = crawler.crawl("raw", "raw_db")
    assert report.tables[0].status == "conflict"
    assert not crawler.catalog.has_table("raw_db", "shop_sales")
