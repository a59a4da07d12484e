"""The realtime source on Spark (local[1]): raw stream events -> portfolio_events (``transform("realtime")``).

The raw files are what the stream processor writes (the contract of issue 21): one JSON Lines file
per micro-batch and stream under ``raw/realtime/<stream>/year=/month=/day=/``, the transactions as
encoded on the stream and their apply outcomes beside them. One module lake, two runs:

1. full: a batch on 2 December 2026 with an applied buy, an applied sell, a rejected sell, a
   redelivered buy (its outcome says duplicate), a buy with no outcome yet, a line that is not JSON,
   an amount with three decimals and an outcome whose transaction is not in the lake; a price batch;
2. incremental: a batch on 3 December.

Then the raw zone is crawled and queried with DuckDB, and the table is synced into the embedded
PostgreSQL and read back.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal

import pandas as pd
import psycopg
import pytest
from processed_fixtures import published
from realtime_fixtures import batch_key, lines, outcome, process_with_the_stream_processor, transaction

from datalake.catalog.crawler import LocalCrawler
from datalake.catalog.local import LocalCatalog
from datalake.datasets.realtime import PORTFOLIO_EVENTS
from datalake.pipelines.lake import sync_dataset, transform
from datalake.realtime.events import PriceEvent, encode_event
from datalake.runs import RunReport
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

pytest_plugins = ["warehouse_fixtures"]
pytestmark = pytest.mark.slow

DAY1 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
DAY2 = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)


BUY = transaction("user-1", "buy", "100.00", "USD", "k1", DAY1)
SELL = transaction("user-1", "sell", "30.50", "USD", "k2", DAY1 + dt.timedelta(seconds=1))
TOO_BIG = transaction("user-1", "sell", "500.00", "USD", "k3", DAY1 + dt.timedelta(seconds=2))
PENDING = transaction("user-2", "buy", "1000000.00", "COP", "k4", DAY1 + dt.timedelta(seconds=3))
LATER = transaction("user-2", "buy", "12.25", "USD", "k5", DAY2)
#: Through the real stream processor on 30 November: a buy, a sell beyond it, the buy posted again.
NOV30 = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
P_BUY = transaction("user-9", "buy", "40.00", "USD", "p1", NOV30)
P_SELL = transaction("user-9", "sell", "50.00", "USD", "p2", NOV30 + dt.timedelta(seconds=1))


def land_first_batch(store: LocalObjectStore) -> None:
    seconds = dt.timedelta(seconds=1)
    three_decimals = json.loads(encode_event(transaction("user-3", "buy", "1.00", "USD", "k6", DAY1)))
    three_decimals["amount"] = "12.345"
    store.put_bytes(
        batch_key("transactions", DAY1, "shardId-000000000000-100-106"),
        lines(
            encode_event(BUY),
            encode_event(SELL),
            encode_event(TOO_BIG),
            encode_event(BUY),  # redelivered: the same bytes again
            encode_event(PENDING),
            b"\xffnot json",
            json.dumps(three_decimals).encode(),
        ),
    )
    store.put_bytes(
        batch_key("outcomes", DAY1, "shardId-000000000000-100-106"),
        lines(
            outcome(BUY, "applied", "100.00", DAY1 + seconds),
            outcome(SELL, "applied", "69.50", DAY1 + 2 * seconds),
            outcome(TOO_BIG, "rejected", "69.50", DAY1 + 3 * seconds, "insufficient_balance"),
            outcome(BUY, "duplicate", "69.50", DAY1 + 4 * seconds),
            outcome(LATER, "applied", "12.25", DAY1),  # its transaction line is not in the lake
        ),
    )
    price = PriceEvent(
        event_id=PriceEvent.make_id("datos.gov.co", dt.date(2026, 12, 2), Decimal("3800.00")),
        rate_cop_per_usd=Decimal("3800.00"),
        valid_from=dt.date(2026, 12, 2),
        provider="datos.gov.co",
        observed_at=DAY1,
    )
    store.put_bytes(batch_key("prices", DAY1, "shardId-000000000000-7-7"), lines(encode_event(price)))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, list[RunReport]]:
    root = tmp_path_factory.mktemp("realtime") / "lake"
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=root, spark_master="local[1]")
    store = LocalObjectStore(root)
    land_first_batch(store)
    letters = process_with_the_stream_processor(store, [P_BUY, P_SELL, P_BUY], NOV30)
    assert letters.letters == []
    first = transform("realtime", settings=settings)
    store.put_bytes(
        batch_key("transactions", DAY2, "shardId-000000000000-107-107"), lines(encode_event(LATER))
    )
    second = transform("realtime", settings=settings)
    return settings, [first, second]


def events(settings: Settings) -> pd.DataFrame:
    frame = published(LocalObjectStore(settings.lake_root), PORTFOLIO_EVENTS)
    return frame.sort_values("received_at").reset_index(drop=True)


def test_each_line_is_a_row_or_quarantined_with_its_reason(lake) -> None:
    _settings, (first, second) = lake
    assert first.status == "succeeded" and first.balanced and second.balanced
    # 7 + 3 transaction lines and 1 outcome without its transaction; price lines are no value.
    assert (first.rows_in, first.rows_out, first.rows_quarantined) == (11, 6, 5)
    reasons = {k: v for k, v in first.details["quarantine_reasons"].items()}
    assert reasons == {
        "portfolio_events: amount '12.345' is not a decimal number with at most 2 places": 1,
        "portfolio_events: duplicate event_id: a redelivery or retried post of a transaction already kept": 2,
        "realtime_unreadable: transaction line is not a JSON object": 1,
        "realtime_unreadable: outcome without its transaction line in the lake": 1,
    }
    assert second.details["mode"] == "incremental"


def test_a_transaction_carries_the_outcome_that_took_effect(lake) -> None:
    settings, _reports = lake
    table = events(settings).query("user_id != 'user-9'")
    got = [
        (r.event_id, r.user_id, r.type, r.amount, r.currency, r.status, r.reject_reason, r.balance_after)
        for r in table.itertuples()
    ]
    assert got == [
        (BUY.event_id, "user-1", "buy", Decimal("100.00"), "USD", "applied", None, Decimal("100.00")),
        (SELL.event_id, "user-1", "sell", Decimal("30.50"), "USD", "applied", None, Decimal("69.50")),
        (TOO_BIG.event_id, "user-1", "sell", Decimal("500.00"), "USD", "rejected", "insufficient_balance",
         Decimal("69.50")),
        (PENDING.event_id, "user-2", "buy", Decimal("1000000.00"), "COP", "pending", None, None),
        # The second run's batch; its outcome landed a day before it, in the first batch's file.
        (LATER.event_id, "user-2", "buy", Decimal("12.25"), "USD", "applied", None, Decimal("12.25")),
    ]  # fmt: skip
    first = table.iloc[0]
    assert first["event_id"] == BUY.event_id
    assert pd.Timestamp(first["received_at"]).tz_localize(None) == pd.Timestamp("2026-12-02 09:00:00")
    assert pd.Timestamp(first["client_time"]).tz_localize(None) == pd.Timestamp("2026-12-02 08:59:57")
    assert str(first["local_date"])[:10] == "2026-12-02"  # 10:00 in Madrid


def test_the_stream_processors_own_files_give_one_row_per_transaction(lake) -> None:
    settings, _reports = lake
    table = events(settings).query("user_id == 'user-9'")
    # Posted twice and the batch delivered twice: the buy once, applied; the sale beyond it rejected.
    assert [(r.event_id, r.status, r.reject_reason, r.balance_after) for r in table.itertuples()] == [
        (P_BUY.event_id, "applied", None, Decimal("40.00")),
        (P_SELL.event_id, "rejected", "insufficient_balance", Decimal("40.00")),
    ]
    store = LocalObjectStore(settings.lake_root)
    outcomes = store.get_bytes(batch_key("outcomes", NOV30, "shardId-000000000000-900-902")).splitlines()
    assert [json.loads(line)["status"] for line in outcomes] == ["applied", "rejected", "duplicate"]


def test_the_raw_events_are_crawled_and_queryable(lake) -> None:
    import duckdb

    settings, _reports = lake
    store = LocalObjectStore(settings.lake_root)
    report = LocalCrawler(store, LocalCatalog(store)).crawl("raw", "raw_db")
    tables = {t.name: t for t in report.tables}
    assert set(tables) == {"realtime_transactions", "realtime_outcomes", "realtime_prices"}
    assert tables["realtime_transactions"].partition_keys == ["year", "month", "day"]
    # The line that is not JSON does not stop the crawl of its table.
    assert all(t.status == "created" and not t.conflicts for t in tables.values()), report
    transactions = LocalCatalog(store).get_table("raw_db", "realtime_transactions")
    assert {"event_id", "user_id", "type", "amount", "currency", "received_at"} <= {
        c.name for c in transactions.columns
    }
    outcomes = LocalCatalog(store).get_table("raw_db", "realtime_outcomes")
    assert {"event_id", "status", "reason", "balance_after"} <= {c.name for c in outcomes.columns}
    # Queryable: the outcome files, read by their catalogued location.
    location = outcomes.location.removeprefix("file://")
    counted = duckdb.sql(
        f"SELECT status, count(*) FROM read_json_auto('{location}/**/*.jsonl', hive_partitioning = true) "
        "WHERE day = 2 AND month = 12 GROUP BY status ORDER BY status"
    ).fetchall()
    assert counted == [("applied", 3), ("duplicate", 1), ("rejected", 1)]


def test_the_table_syncs_into_postgresql(lake, tmp_path, embedded_pg) -> None:
    settings, _reports = lake
    shutil.copytree(settings.lake_root, tmp_path / "lake")
    settings = settings.model_copy(update={"lake_root": tmp_path / "lake", "database_url": embedded_pg.url})
    with psycopg.connect(embedded_pg.url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS portfolio_events CASCADE")
    first = sync_dataset("portfolio_events", settings)
    again = sync_dataset("portfolio_events", settings, force=True)
    assert first.details["inserted"] == 7 and again.details["unchanged"] == 7
    with psycopg.connect(embedded_pg.url) as conn:
        rows = conn.execute(
            "SELECT status, count(*), sum(amount) FROM portfolio_events WHERE currency = 'USD' "
            "GROUP BY status ORDER BY status"
        ).fetchall()
        rejected_yesterday = conn.execute(
            "SELECT count(*) FROM portfolio_events "
            "WHERE status = 'rejected' AND local_date = DATE '2026-12-02'"
        ).fetchone()
    assert rows == [("applied", 4, Decimal("182.75")), ("rejected", 2, Decimal("550.00"))]
    assert rejected_yesterday == (1,)
