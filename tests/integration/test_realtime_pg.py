"""The PostgreSQL adapters of the real-time ports on the embedded server, and the simulator end to end."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import psycopg
import pytest
from pydantic import SecretStr

from datalake import runtime
from datalake.realtime.events import TransactionEvent, TransactionRequest
from datalake.realtime.local import (
    BALANCES,
    LocalNotifier,
    LocalStream,
    PgDeadLetters,
    PgPortfolioStore,
)
from datalake.realtime.ports import ApplyResult, DeadLetter, Notification, StoredRecord
from datalake.realtime.simulate import replay
from datalake.settings import Settings
from datalake.warehouse import connect

pytest_plugins = ["warehouse_fixtures"]
REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def clean(pg_settings: Settings) -> Settings:
    """The session server with the real-time schema dropped: each test starts empty."""
    with connect(pg_settings.database_url or "", settings=pg_settings, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS datalake_realtime CASCADE")
    return pg_settings


def tx(user: str, kind: str, amount: str, key: str, currency: str = "USD") -> TransactionEvent:
    request = TransactionRequest(
        user_id=user,
        type=kind,  # type: ignore[arg-type]
        amount=Decimal(amount),
        currency=currency,  # type: ignore[arg-type]
        client_time=NOW,
        idempotency_key=key,
    )
    return TransactionEvent.from_request(request, NOW)


def test_runtime_selects_the_local_adapters(clean: Settings) -> None:
    assert isinstance(runtime.stream(clean), LocalStream)
    assert isinstance(runtime.portfolio_store(clean), PgPortfolioStore)
    assert isinstance(runtime.notifier(clean), LocalNotifier)
    assert isinstance(runtime.dead_letters(clean), PgDeadLetters)


def test_apply_credits_debits_rejects_and_applies_each_id_once(clean: Settings) -> None:
    store = PgPortfolioStore(clean)
    buy, sell, too_much = (
        tx("ana", "buy", "100.00", "1"),
        tx("ana", "sell", "40.25", "2"),
        tx("ana", "sell", "60", "3"),
    )
    assert store.apply(buy).status == "applied"
    assert store.apply(sell) == ApplyResult(sell.event_id, "applied", None, Decimal("59.75"))
    assert store.apply(sell) == ApplyResult(sell.event_id, "duplicate", "already_applied", Decimal("59.75"))
    assert store.get("ana") is not None
    rejected = store.apply(too_much)
    assert (rejected.status, rejected.reason, rejected.balance) == (
        "rejected",
        "insufficient_balance",
        Decimal("59.75"),
    )
    assert store.apply(too_much).reason == "already_rejected"
    assert store.apply(buy).status == "duplicate"
    portfolio = store.get("ana")
    assert portfolio is not None and portfolio.balances == {"USD": Decimal("59.75")}
    assert store.recorded([buy.event_id, too_much.event_id, "tx-none"]) == {
        buy.event_id: ("applied", None),
        too_much.event_id: ("rejected", "insufficient_balance"),
    }
    # A sell before any buy is rejected; the user then has a zero balance, and no holding.
    assert store.apply(tx("bo", "sell", "1", "x")).status == "rejected"
    store.apply(tx("cy", "buy", "5", "y", "COP"))
    assert [p.user_id for p in store.holders("USD")] == ["ana"]
    assert [p.user_id for p in store.holders("COP")] == ["cy"]
    assert store.get("nobody") is None


def test_a_batch_with_repeats_applies_in_order_and_each_id_once(clean: Settings) -> None:
    store = PgPortfolioStore(clean)
    events = [
        tx("di", "sell", "5", "a"),  # rejected: nothing yet
        tx("di", "buy", "10", "b"),
        tx("di", "buy", "10", "b"),  # the app retried: a duplicate in the same batch
        tx("di", "sell", "7", "c"),
        tx("di", "sell", "7", "d"),  # rejected: 3 left
    ]
    results = store.apply_many(events)
    assert [(r.status, r.reason, r.balance) for r in results] == [
        ("rejected", "insufficient_balance", Decimal(0)),
        ("applied", None, Decimal(10)),
        ("duplicate", "already_applied", Decimal(10)),
        ("applied", None, Decimal(3)),
        ("rejected", "insufficient_balance", Decimal(3)),
    ]
    # The whole batch again (a processor killed before its checkpoint): nothing changes.
    assert {r.status for r in store.apply_many(events)} == {"duplicate"}
    assert store.get("di").balances == {"USD": Decimal(3)}  # type: ignore[union-attr]


def test_a_balance_never_goes_negative_in_the_database(clean: Settings) -> None:
    PgPortfolioStore(clean).apply(tx("ed", "buy", "1", "a"))
    with (
        connect(clean.database_url or "", settings=clean, autocommit=True) as conn,
        pytest.raises(psycopg.errors.CheckViolation),
    ):
        conn.execute(f"UPDATE {BALANCES} SET balance = -1 WHERE user_id = 'ed'")


APPLY_CONCURRENTLY = """
import sys, json
from decimal import Decimal
import datetime as dt
from datalake.realtime.events import TransactionEvent
from datalake.realtime.local import PgPortfolioStore
from datalake.settings import Settings
events = [TransactionEvent.model_validate_json(line) for line in open(sys.argv[2])]
store = PgPortfolioStore(Settings(_env_file=None, database_url=sys.argv[1]))
counts = {}
for start in range(0, len(events), 50):
    while True:
        try:
            results = store.apply_many(events[start:start + 50])
            break
        except Exception as error:  # a deadlock with the other process: retry the batch
            print("retry", type(error).__name__, file=sys.stderr)
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
print(json.dumps(counts))
"""


def test_two_processes_applying_the_same_events_at_once_apply_each_once(
    clean: Settings, tmp_path: Path
) -> None:
    """Both processes get every event (as two consumers of one shard would): the effect is once."""
    events = []
    for i in range(1500):
        user = f"u{i % 7}"
        events.append(tx(user, "buy" if i % 3 else "sell", f"{1 + i % 13}.{i % 100:02d}", f"k{i}"))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(e.model_dump_json() for e in events))
    PgPortfolioStore(clean).portfolios()  # the schema exists before both start
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", APPLY_CONCURRENTLY, clean.database_url or "", str(path)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=240)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    counts = [json.loads(out) for out in outputs]
    firsts = sum(c.get("applied", 0) + c.get("rejected", 0) for c in counts)
    assert firsts == len(events)  # each id took effect in exactly one of the two processes
    assert sum(c.get("duplicate", 0) for c in counts) == len(events)
    balances, statuses = replay(events)
    store = PgPortfolioStore(clean)
    stored = store.portfolios()
    for (user, currency), balance in balances.items():
        assert stored[user].balances[currency] == balance
    recorded = store.recorded([e.event_id for e in events])
    assert {k: v[0] for k, v in recorded.items()} == statuses


def test_dead_letters_keep_bytes_and_reason_once(clean: Settings) -> None:
    letters = PgDeadLetters(clean)
    record = StoredRecord("transactions", "shard-000", "00000000000000000042", "u", b"\xffbad", NOW)
    letters.send([DeadLetter(record, "not JSON: ...")])
    letters.send([DeadLetter(record, "not JSON: ...")])  # the batch processed again
    assert letters.letters() == [DeadLetter(record, "not JSON: ...")]
    assert letters.letters("prices") == []


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []
    status = 204

    def do_POST(self) -> None:
        _Hook.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(_Hook.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_notifier_dedupes_posts_the_webhook_and_reports_its_failures(clean: Settings) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook/secret-token"
        notifier = LocalNotifier(clean.model_copy(update={"realtime_webhook_url": SecretStr(url)}))
        note = Notification("ana", "Sell USD?", "The dollar rose 2%.", "ana:px-1", {"signal": "sell"})
        first = notifier.publish(note)
        assert notifier.publish(note) == first  # deduplicated: the same id, not posted again
        assert len(_Hook.received) == 1 and json.loads(_Hook.received[0])["dedupe_key"] == "ana:px-1"
        _Hook.status = 500
        notifier.publish(Notification("ana", "Buy USD?", "It fell.", "ana:px-2"))
        rows = notifier.sent("ana")
        assert [(r["dedupe_key"], r["webhook_status"]) for r in rows] == [
            ("ana:px-1", 204),
            ("ana:px-2", 500),
        ]
        assert (
            rows[1]["webhook_error"].startswith("HTTP 500") and "secret-token" not in rows[1]["webhook_error"]
        )
    finally:
        server.shutdown()
    # A webhook that cannot be reached is reported on the row; publish still succeeds.
    dead = LocalNotifier(
        clean.model_copy(
            update={
                "realtime_webhook_url": SecretStr("http://127.0.0.1:9/x"),
                "realtime_webhook_timeout_s": 1,
            }
        )
    )
    dead.publish(Notification("bo", "s", "m", "bo:1"))
    (row,) = dead.sent("bo")
    assert row["webhook_status"] is None and "ConnectError" in row["webhook_error"]


def test_simulate_trading_verify_from_the_cli(pg_settings: Settings, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LAKE_ROOT": str(tmp_path / "lake"),
        "DATABASE_URL": pg_settings.database_url or "",
        "COLUMNS": "200",
    }
    done = subprocess.run(
        [sys.executable, "-m", "datalake.cli", "simulate", "trading", "--users", "20", "--rate", "300/s",
         "--seconds", "2", "--verify", "--seed", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("accepted "))
    assert line.endswith("lost 0, duplicated 0")
    assert "transactions/s" in done.stdout and "p99" in done.stdout
    # A later run finds nothing left on the stream.
    again = subprocess.run(
        [sys.executable, "-m", "datalake.cli", "stream", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and "0 record(s)" in again.stdout, again.stdout + again.stderr


def test_verify_catches_a_lost_and_a_doubled_transaction(clean: Settings, tmp_path: Path) -> None:
    """The check itself can fail: tamper with the store and the lake and it says so."""
    from datalake.realtime.ingest import ingest_transactions
    from datalake.realtime.processor import consume
    from datalake.realtime.simulate import verify
    from datalake.storage.local import LocalObjectStore

    settings = clean.model_copy(update={"lake_root": tmp_path / "lake"})
    stream = LocalStream(settings=settings)
    lake = LocalObjectStore(settings.lake_root)
    store = PgPortfolioStore(settings)
    bodies = [
        {"user_id": f"v{i % 3}", "type": "buy", "amount": "2.00", "currency": "USD",
         "client_time": "2026-12-06T10:00:00Z", "idempotency_key": f"k{i}"}
        for i in range(30)
    ]  # fmt: skip
    events = ingest_transactions(bodies, stream=stream)
    consume(stream, lake=lake, portfolios=store, dead_letters=PgDeadLetters(settings), batch_size=10)
    assert verify(events, portfolios=store, lake=lake).ok
    extra = tx("v0", "buy", "2.00", "not-on-the-stream")
    report = verify([*events, extra], portfolios=store, lake=lake)
    assert (report.lost, report.duplicated, report.ok) == (1, 0, False)
    # A batch file whose transactions took effect again (copied under another batch's name).
    key = lake.list_keys("raw/realtime/outcomes")[0]
    lake.put_bytes(key.replace("shard-000-", "shard-000-9"), lake.get_bytes(key))
    report = verify(events, portfolios=store, lake=lake)
    assert report.duplicated == 10 and not report.ok


def test_stream_run_processes_both_streams_and_prints_the_summary(clean: Settings, tmp_path: Path) -> None:
    from datalake.realtime.events import PriceEvent, encode_event
    from datalake.realtime.ingest import ingest_transactions
    from datalake.realtime.ports import StreamRecord

    settings = clean.model_copy(update={"lake_root": tmp_path / "lake"})
    stream = LocalStream(settings=settings)
    bodies = [
        {"user_id": f"w{i % 5}", "type": "buy", "amount": "1.00", "currency": "USD",
         "client_time": "2026-12-06T10:00:00Z", "idempotency_key": f"k{i}"}
        for i in range(1200)
    ]  # fmt: skip
    ingest_transactions(bodies, stream=stream)
    stream.put("transactions", [StreamRecord("w0", b"{broken")])
    price = PriceEvent(
        event_id="px-9",
        rate_cop_per_usd=Decimal("4001"),
        valid_from=NOW.date(),
        provider="trm",
        observed_at=NOW,
    )
    stream.put("prices", [StreamRecord("USD/COP", encode_event(price))])
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LAKE_ROOT": str(settings.lake_root),
        "DATABASE_URL": clean.database_url or "",
        "COLUMNS": "200",
    }
    done = subprocess.run(
        [sys.executable, "-m", "datalake.cli", "stream", "run", "--batch-size", "500"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if line.count("│") > 5}
    # records, applied, rejected, duplicate, poison, prices
    assert [cell.strip() for cell in rows["transactions"].split("│")[2:8]] == [
        "1,201",
        "1,200",
        "0",
        "0",
        "1",
        "0",
    ]
    assert [cell.strip() for cell in rows["prices"].split("│")[2:8]] == ["1", "0", "0", "0", "0", "1"]
    assert "1,202 record(s) in 4 batch(es)" in done.stdout
    (letter,) = PgDeadLetters(settings).letters()
    assert letter.record.data == b"{broken" and letter.reason.startswith("not JSON")
    assert PgPortfolioStore(settings).get("w0").balances == {"USD": Decimal("240.00")}  # type: ignore[union-attr]


def test_a_lost_connection_is_a_transient_error_and_the_next_call_reconnects(clean: Settings) -> None:
    store = PgPortfolioStore(clean)
    store.apply(tx("fa", "buy", "3", "a"))
    with connect(clean.database_url or "", settings=clean, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'datalake-realtime'"
        )
    with pytest.raises(psycopg.OperationalError):
        store.apply(tx("fa", "buy", "4", "b"))
    # Nothing of the failed call was applied; the retry reconnects and applies it once.
    assert store.apply(tx("fa", "buy", "4", "b")).status == "applied"
    assert store.get("fa").balances == {"USD": Decimal(7)}  # type: ignore[union-attr]
