"""process_batch and the local consumer, over the local stream and lake with in-memory stores."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from realtime_fixtures import MemoryDeadLetters, MemoryPortfolios

from datalake.realtime.events import PriceEvent, TransactionEvent, TransactionRequest, encode_event
from datalake.realtime.ingest import ingest_transactions
from datalake.realtime.local import LocalStream
from datalake.realtime.ports import Portfolio, StoredRecord, StreamRecord
from datalake.realtime.processor import consume, process_batch
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)


def body(user: str, kind: str, amount: str, key: str, currency: str = "USD") -> dict[str, str]:
    return {
        "user_id": user,
        "type": kind,
        "amount": amount,
        "currency": currency,
        "client_time": "2026-12-06T05:00:00-05:00",
        "idempotency_key": key,
    }


@pytest.fixture
def lake(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "lake")


@pytest.fixture
def stream(tmp_path: Path) -> LocalStream:
    return LocalStream(settings=Settings(_env_file=None, lake_root=tmp_path / "lake"))


def stored(stream: LocalStream, name: str = "transactions") -> list[StoredRecord]:
    return stream.read(name, "shard-000", "test", 1000)


def test_raw_and_outcome_files_per_batch(stream: LocalStream, lake: LocalObjectStore) -> None:
    ingest_transactions(
        [
            body("ana", "buy", "100.00", "k1"),
            body("ana", "sell", "30.50", "k2"),
            body("ana", "sell", "99", "k3"),
        ],
        stream=stream,
    )
    records = stored(stream)
    outcome = process_batch(
        records, lake=lake, portfolios=MemoryPortfolios(), dead_letters=MemoryDeadLetters(), now=lambda: NOW
    )
    assert (outcome.applied, outcome.rejected, outcome.duplicate, outcome.poison) == (2, 1, 0, 0)
    assert outcome.failed_sequence_numbers == []
    day = records[0].arrived_at
    name = f"shard-000-{records[0].sequence_number}-{records[-1].sequence_number}.jsonl"
    folder = f"year={day:%Y}/month={day:%m}/day={day:%d}"
    assert outcome.raw_keys == [f"raw/realtime/transactions/{folder}/{name}"]
    assert outcome.outcome_keys == [f"raw/realtime/outcomes/{folder}/{name}"]
    # Raw lines are the stream's bytes exactly.
    assert lake.get_bytes(outcome.raw_keys[0]).splitlines() == [r.data for r in records]
    lines = [json.loads(line) for line in lake.get_bytes(outcome.outcome_keys[0]).splitlines()]
    assert [(line["status"], line["reason"], line["balance_after"]) for line in lines] == [
        ("applied", None, "100.00"),
        ("applied", None, "69.50"),
        ("rejected", "insufficient_balance", "69.50"),
    ]
    assert lines[1] == {
        "event_id": json.loads(records[1].data)["event_id"],
        "user_id": "ana",
        "currency": "USD",
        "type": "sell",
        "amount": "30.50",
        "status": "applied",
        "reason": None,
        "balance_after": "69.50",
        "processed_at": "2026-12-06T10:00:00Z",
    }


def test_repeated_idempotency_keys_are_applied_once(stream: LocalStream, lake: LocalObjectStore) -> None:
    posts = [
        body("bo", "buy", "10.00", "same"),
        body("bo", "buy", "10.00", "same"),
        body("bo", "buy", "5", "k"),
    ]
    events = ingest_transactions(posts, stream=stream)
    assert events[0].event_id == events[1].event_id != events[2].event_id
    portfolios = MemoryPortfolios()
    outcome = process_batch(
        stored(stream), lake=lake, portfolios=portfolios, dead_letters=MemoryDeadLetters()
    )
    assert (outcome.applied, outcome.duplicate) == (2, 1)
    # The same batch delivered again (a crash before the checkpoint) changes nothing, rewrites the same keys.
    again = process_batch(stored(stream), lake=lake, portfolios=portfolios, dead_letters=MemoryDeadLetters())
    assert (again.applied, again.duplicate) == (0, 3)
    assert again.raw_keys == outcome.raw_keys and again.outcome_keys == outcome.outcome_keys
    # ... and the outcomes file keeps what took effect the first time (the retried post stays a duplicate).
    lines = [json.loads(line) for line in lake.get_bytes(again.outcome_keys[0]).splitlines()]
    assert [line["status"] for line in lines] == ["applied", "duplicate", "applied"]
    assert portfolios.balances == {("bo", "USD"): Decimal("15.00")}
    assert set(portfolios.effects.values()) == {1}


def test_poison_records_go_to_dead_letters_with_their_reason_and_the_batch_moves_on(
    stream: LocalStream, lake: LocalObjectStore
) -> None:
    good = TransactionEvent.from_request(
        TransactionRequest.model_validate(body("cy", "buy", "1.00", "a")), NOW
    )
    bad_amount = json.loads(encode_event(good))
    bad_amount.update(amount="-3", event_id="tx-bad")
    price = PriceEvent(
        event_id="px-1",
        rate_cop_per_usd=Decimal("4000.5"),
        valid_from=dt.date(2026, 12, 6),
        provider="trm",
        observed_at=NOW,
    )
    stream.put(
        "transactions",
        [
            StreamRecord("cy", b"\xff not json"),
            StreamRecord("cy", json.dumps(bad_amount).encode()),
            StreamRecord("cy", encode_event(price)),  # a price on the transactions stream
            StreamRecord("cy", encode_event(good)),
        ],
    )
    letters = MemoryDeadLetters()
    portfolios = MemoryPortfolios()
    records = stored(stream)
    outcome = process_batch(records, lake=lake, portfolios=portfolios, dead_letters=letters)
    assert (outcome.poison, outcome.applied, outcome.failed_sequence_numbers) == (3, 1, [])
    reasons = [letter.reason for letter in letters.letters]
    assert reasons[0].startswith("not JSON")
    assert reasons[1].startswith("amount:")
    assert reasons[2] == "kind: a price event on the transactions stream"
    assert [letter.record.data for letter in letters.letters] == [r.data for r in records[:3]]
    assert portfolios.get("cy") == Portfolio("cy", {"USD": Decimal("1.00")})
    # Only the valid event's bytes are in the raw file; the poison bytes are whole in the letters.
    assert lake.get_bytes(outcome.raw_keys[0]).splitlines() == [records[3].data]


def test_a_transient_failure_reports_the_records_from_it_on_and_the_consumer_retries(
    stream: LocalStream, lake: LocalObjectStore
) -> None:
    events = ingest_transactions([body("di", "buy", f"{i}.00", f"k{i}") for i in range(1, 6)], stream=stream)
    portfolios = MemoryPortfolios(fail_on=events[2].event_id)
    records = stored(stream)
    outcome = process_batch(records, lake=lake, portfolios=portfolios, dead_letters=MemoryDeadLetters())
    assert outcome.failed_sequence_numbers == [r.sequence_number for r in records[2:]]
    assert "database went away" in (outcome.error or "")
    assert portfolios.balances == {("di", "USD"): Decimal("3.00")}
    # The consumer checkpoints before the failure and reads the rest again once the store is back.
    calls = []

    def heal(name: str, batch: object) -> None:
        calls.append(batch)
        portfolios.fail_on = None

    summary = consume(
        stream,
        lake=lake,
        portfolios=portfolios,
        dead_letters=MemoryDeadLetters(),
        consumer="processor",
        retry_s=0,
        on_batch=heal,
    )
    assert summary.retries == 1  # its first batch failed at the same record, then the store healed
    assert portfolios.balances == {("di", "USD"): Decimal("15.00")}
    assert set(portfolios.effects.values()) == {1}
    assert stream.pending("transactions", "processor") == 0


def test_the_consumer_checkpoints_only_up_to_the_first_failure(
    stream: LocalStream, lake: LocalObjectStore
) -> None:
    events = ingest_transactions([body("ed", "buy", "1.00", f"k{i}") for i in range(6)], stream=stream)
    portfolios = MemoryPortfolios(fail_on=events[4].event_id)
    checkpoints: list[str | None] = []

    def watch(name: str, batch: object) -> None:
        checkpoints.append(stream.checkpointed("transactions", "shard-000", "processor"))
        if len(checkpoints) == 2:
            portfolios.fail_on = None

    summary = consume(
        stream,
        lake=lake,
        portfolios=portfolios,
        dead_letters=MemoryDeadLetters(),
        consumer="processor",
        batch_size=3,
        retry_s=0,
        on_batch=watch,
    )
    numbers = [r.sequence_number for r in stored(stream)]
    # Batch 1 done; batch 2 failed at its second record; its first record done, then the retry.
    assert summary.retries == 1 and summary.batches == 3
    assert stream.checkpointed("transactions", "shard-000", "processor") == numbers[-1]
    assert portfolios.balances == {("ed", "USD"): Decimal("6.00")}
    assert set(portfolios.effects.values()) == {1}


def test_prices_go_to_raw_only(stream: LocalStream, lake: LocalObjectStore) -> None:
    price = PriceEvent(
        event_id="px-2",
        rate_cop_per_usd=Decimal("3990"),
        valid_from=dt.date(2026, 12, 5),
        provider="trm",
        observed_at=NOW,
    )
    stream.put("prices", [StreamRecord("USD/COP", encode_event(price))])
    outcome = process_batch(
        stored(stream, "prices"), lake=lake, portfolios=MemoryPortfolios(), dead_letters=MemoryDeadLetters()
    )
    assert (outcome.prices, outcome.applied, outcome.outcome_keys) == (1, 0, [])
    assert outcome.raw_keys[0].startswith("raw/realtime/prices/year=")
    assert lake.get_bytes(outcome.raw_keys[0]) == encode_event(price) + b"\n"


def test_a_pretty_printed_event_is_one_raw_line(stream: LocalStream, lake: LocalObjectStore) -> None:
    event = ingest_transactions([body("fe", "buy", "2.00", "p")], stream=stream)[0]
    pretty = json.dumps(json.loads(encode_event(event)), indent=2).encode()
    stream.put("transactions", [StreamRecord("fe", pretty)])
    records = stored(stream)
    outcome = process_batch(
        records, lake=lake, portfolios=MemoryPortfolios(), dead_letters=MemoryDeadLetters()
    )
    lines = lake.get_bytes(outcome.raw_keys[0]).splitlines()
    assert lines[0] == records[0].data  # bytes as on the stream
    assert len(lines) == 2 and json.loads(lines[1]) == json.loads(pretty)
    assert (outcome.applied, outcome.duplicate) == (1, 1)
