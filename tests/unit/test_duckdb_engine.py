from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from datalake.catalog.crawler import LocalCrawler
from datalake.catalog.local import LocalCatalog
from datalake.errors import CatalogNotFoundError, QueryError
from datalake.query.base import render
from datalake.query.duckdb_engine import DuckDBEngine
from datalake.storage.local import LocalObjectStore


@pytest.fixture
def engine(tmp_path) -> DuckDBEngine:
    store = LocalObjectStore(tmp_path / "lake")
    hours = pd.date_range("2024-03-30T23:00Z", periods=4, freq="h")
    for month, part in ((3, hours[:1]), (4, hours[1:])):
        frame = pd.DataFrame({"ts_utc": part, "demand_mw": [100.0 * (i + 1) for i in range(len(part))]})
        store.replace_partition(
            "processed/demand_hourly", f"year=2024/month={month}", {"part-0.parquet": frame}
        )
    store.write_csv("raw/shop/sales/year=2024/month=01/day=01/s.csv", pd.DataFrame({"store_id": [1, 2]}))
    catalog = LocalCatalog(store)
    crawler = LocalCrawler(store, catalog)
    crawler.crawl("processed", "p_db")
    crawler.crawl("raw", "r_db")
    return DuckDBEngine(catalog, default_database="p_db")


def test_unqualified_names_resolve_in_the_processed_database(engine) -> None:
    frame = engine.query("SELECT count(*) AS n, sum(demand_mw) AS total FROM demand_hourly")
    assert frame.to_dict("records") == [{"n": 4, "total": 100.0 + 100.0 + 200.0 + 300.0}]


def test_qualified_names_and_partition_columns(engine) -> None:
    frame = engine.query("SELECT store_id, year, month, day FROM r_db.shop_sales ORDER BY store_id")
    assert frame.columns.tolist() == ["store_id", "year", "month", "day"]
    assert frame.iloc[0].tolist() == [1, "2024", "01", "01"]


def test_partition_columns_come_last_and_timestamps_are_utc(engine) -> None:
    frame = engine.query("SELECT * FROM demand_hourly ORDER BY ts_utc")
    assert frame.columns.tolist() == ["ts_utc", "demand_mw", "year", "month"]
    first = frame["ts_utc"].iloc[0]
    assert first.tzinfo is not None and first.utcoffset() == dt.timedelta(0)
    assert first == pd.Timestamp("2024-03-30T23:00Z")


def test_athena_dialect_is_rendered(engine) -> None:
    # date_add and from_iso8601_timestamp are Trino functions DuckDB spells differently.
    frame = engine.query(
        "SELECT count(*) AS n FROM demand_hourly "
        "WHERE ts_utc >= date_add('hour', 1, from_iso8601_timestamp('2024-03-30T23:00:00Z'))"
    )
    assert frame["n"].iloc[0] == 3


def test_unknown_table_and_database_are_named(engine) -> None:
    with pytest.raises(CatalogNotFoundError, match=r"p_db\.nope not found \(tables: demand_hourly\)"):
        engine.query("SELECT * FROM nope")
    with pytest.raises(CatalogNotFoundError, match="database 'other' not found"):
        engine.query("SELECT * FROM other.demand_hourly")


def test_ctes_are_not_mistaken_for_tables(engine) -> None:
    frame = engine.query("WITH d AS (SELECT demand_mw FROM demand_hourly) SELECT max(demand_mw) AS m FROM d")
    assert frame["m"].iloc[0] == 300.0


def test_malformed_sql_carries_the_message_and_the_sql(engine) -> None:
    with pytest.raises(QueryError) as caught:
        engine.query("SELEC demand_mw FROM demand_hourly")
    assert caught.value.sql == "SELEC demand_mw FROM demand_hourly"
    assert "SELEC" in str(caught.value)


def test_engine_errors_carry_the_sql(engine) -> None:
    with pytest.raises(QueryError, match="no_such_column") as caught:
        engine.query("SELECT no_such_column FROM demand_hourly")
    assert caught.value.engine == "duckdb"


def test_render_rejects_several_statements() -> None:
    with pytest.raises(QueryError, match="one statement"):
        render("SELECT 1; SELECT 2", "duckdb")


def test_empty_table_is_queryable(tmp_path) -> None:
    from datalake.catalog.base import Column, Table

    store = LocalObjectStore(tmp_path / "lake")
    catalog = LocalCatalog(store)
    catalog.create_database("p_db")
    catalog.put_table(
        Table("p_db", "empty", (Column("a", "bigint"),), store.uri("processed/empty"), "parquet")
    )
    frame = DuckDBEngine(catalog, "p_db").query("SELECT count(*) AS n FROM empty")
    assert frame["n"].iloc[0] == 0


def test_a_json_lines_table_is_read_like_a_json_one(tmp_path) -> None:
    """TMDB's raw movies and the streams' micro-batches land as .jsonl: the crawled table must read them."""
    store = LocalObjectStore(tmp_path / "lake")
    lines = b'{"movie_id": 1, "title": "A"}\n{"movie_id": 2, "title": "B"}\n'
    store.put_bytes("raw/tmdb/movie/year=2026/month=12/day=06/details-000.jsonl", lines)
    store.put_bytes(
        "raw/tmdb/movie/year=2026/month=12/day=07/details-001.json", b'{"movie_id": 3, "title": "C"}\n'
    )
    catalog = LocalCatalog(store)
    LocalCrawler(store, catalog).crawl("raw", "r_db")
    engine = DuckDBEngine(catalog, default_database="r_db")
    frame = engine.query("SELECT movie_id, day FROM r_db.tmdb_movie ORDER BY movie_id")
    assert frame.to_dict("records") == [
        {"movie_id": 1, "day": "06"},
        {"movie_id": 2, "day": "06"},
        {"movie_id": 3, "day": "07"},
    ]
