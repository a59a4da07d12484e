"""The trade advisor: price batches -> signal -> deduplicated, rate-limited notifications (fake ports)."""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import io
import json
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from botocore.exceptions import ClientError

from datalake.errors import DataValidationError
from datalake.fxsignal.model import fit_signal_model
from datalake.fxsignal.series import sample_series
from datalake.fxsignal.serving import EndpointSignal, InProcessSignal
from datalake.realtime.advisor import (
    LIMITER_KEY,
    AdvisorConfig,
    InMemoryRateLimiter,
    LakePriceHistory,
    ObjectStoreRateLimiter,
    advise_on_batch,
)
from datalake.realtime.events import PriceEvent, encode_event
from datalake.realtime.ports import Notification, Portfolio, StoredRecord
from datalake.storage.local import LocalObjectStore

REPO = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 12, 7, 13, 0, tzinfo=dt.UTC)


# -- fakes of the ports ------------------------------------------------------------------------------


class FakePortfolios:
    def __init__(self, portfolios: list[Portfolio]) -> None:
        self.portfolios = portfolios
        self.asked: list[str] = []

    def holders(self, currency: str) -> list[Portfolio]:
        self.asked.append(currency)
        return [p for p in self.portfolios if p.balances.get(currency, Decimal(0)) > 0]


class FakeNotifier:
    """Publishes once per dedupe key, as the adapters must; can fail after ``fail_after`` publications."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.sent: dict[str, Notification] = {}
        self.calls = 0
        self.fail_after = fail_after

    def publish(self, notification: Notification) -> str:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise ConnectionError("SNS unreachable")
        self.calls += 1
        self.sent.setdefault(notification.dedupe_key, notification)
        return f"msg-{notification.dedupe_key}"


class FakeSignals:
    def __init__(self, signal: str = "buy", error: Exception | None = None) -> None:
        self.answer = {
            "signal": signal,
            "probabilities": {"sell": 0.2, "hold": 0.3, "buy": 0.5},
            "as_of": "2026-12-08",
            "threshold": 0.003,
            "model_version": "v-test",
        }
        self.error = error
        self.seen: list[pd.Series] = []

    def signal(self, recent: pd.Series) -> dict[str, Any]:
        self.seen.append(recent)
        if self.error is not None:
            raise self.error
        return self.answer


class NoHistory:
    def recent_rates(self, until: dt.date, arrived_by: dt.date, days: int) -> pd.Series:
        return pd.Series(dtype=float)


def price(day: str, rate: str, observed: dt.datetime = T0) -> PriceEvent:
    valid = dt.date.fromisoformat(day)
    return PriceEvent(
        event_id=PriceEvent.make_id("trm", valid, Decimal(rate)),
        rate_cop_per_usd=Decimal(rate),
        valid_from=valid,
        provider="trm",
        observed_at=observed,
    )


def records(*events: Any, first: int = 1) -> list[StoredRecord]:
    out = []
    for n, event in enumerate(events, start=first):
        data = event if isinstance(event, bytes) else encode_event(event)
        out.append(StoredRecord("prices", "shardId-000000000000", f"{n:021d}", "USD/COP", data, T0))
    return out


PEOPLE = [
    Portfolio("ana", {"COP": Decimal("1250000.00")}),
    Portfolio("ben", {"USD": Decimal("300.00")}),
    Portfolio("cai", {"COP": Decimal("5000.00"), "USD": Decimal("10.00")}),
]


def run(batch: list[StoredRecord], **overrides: Any):  # type: ignore[no-untyped-def]
    kwargs: dict[str, Any] = {
        "portfolios": FakePortfolios(PEOPLE),
        "notifier": FakeNotifier(),
        "signals": FakeSignals(),
        "history": NoHistory(),
        "limiter": InMemoryRateLimiter(),
        "config": AdvisorConfig(min_interval=dt.timedelta(minutes=60)),
        "now": lambda: T0,
        **overrides,
    }
    return advise_on_batch(batch, **kwargs), kwargs


# -- the core --------------------------------------------------------------------------------------


def test_a_buy_signal_notifies_the_peso_holders_once_each_with_their_balance() -> None:
    newest = price("2026-12-08", "4012.50")
    outcome, deps = run(records(price("2026-12-07", "3990.00"), newest))
    assert outcome.signal == "buy" and outcome.price_event_id == newest.event_id and outcome.superseded == 1
    assert deps["portfolios"].asked == ["COP"] and outcome.published == ["ana", "cai"]
    sent = deps["notifier"].sent
    assert set(sent) == {f"ana:{newest.event_id}", f"cai:{newest.event_id}"}
    ana = sent[f"ana:{newest.event_id}"]
    assert ana.user_id == "ana" and ana.attributes["user_id"] == "ana" and ana.attributes["signal"] == "buy"
    assert "1,250,000.00 COP" in ana.message and "4,012.50 COP" in ana.subject and "rise" in ana.subject
    assert ana.attributes["rate_cop_per_usd"] == "4012.50" and ana.attributes["model_version"] == "v-test"


def test_a_sell_signal_goes_to_dollar_holders_and_hold_to_nobody() -> None:
    outcome, deps = run(records(price("2026-12-08", "4012.50")), signals=FakeSignals("sell"))
    assert deps["portfolios"].asked == ["USD"] and outcome.published == ["ben", "cai"]
    assert "300.00 USD" in deps["notifier"].sent[f"ben:{outcome.price_event_id}"].message
    held, deps = run(records(price("2026-12-08", "4012.50")), signals=FakeSignals("hold"))
    assert held.signal == "hold" and held.published == [] and deps["portfolios"].asked == []
    told, deps = run(records(price("2026-12-08", "4012.50")), signals=FakeSignals("hold"),
                     config=AdvisorConfig(notify_hold=True))  # fmt: skip
    assert told.published == ["ben", "cai"]


def test_a_redelivered_batch_notifies_nobody_twice_and_the_rate_limit_holds_users_back() -> None:
    batch = records(price("2026-12-08", "4012.50"))
    notifier, limiter = FakeNotifier(), InMemoryRateLimiter()
    first, _ = run(batch, notifier=notifier, limiter=limiter)
    # The same batch again (a retry) with the limiter's state lost: the dedupe key absorbs it.
    again, _ = run(batch, notifier=notifier, limiter=InMemoryRateLimiter())
    assert first.published == again.published == ["ana", "cai"] and len(notifier.sent) == 2
    # A new price 10 minutes later: both were notified within the hour.
    later = records(price("2026-12-09", "4030.00"), first=5)
    soon, _ = run(later, notifier=notifier, limiter=limiter, now=lambda: T0 + dt.timedelta(minutes=10))
    assert soon.published == [] and soon.rate_limited == ["ana", "cai"] and len(notifier.sent) == 2
    # An hour after the first notification they may hear again.
    hour, _ = run(later, notifier=notifier, limiter=limiter, now=lambda: T0 + dt.timedelta(minutes=60))
    assert hour.published == ["ana", "cai"] and len(notifier.sent) == 4


def test_the_model_gets_the_lake_history_overlaid_with_the_batch() -> None:
    class History:
        def __init__(self) -> None:
            self.asked: list[tuple[dt.date, dt.date, int]] = []

        def recent_rates(self, until: dt.date, arrived_by: dt.date, days: int) -> pd.Series:
            self.asked.append((until, arrived_by, days))
            return pd.Series({pd.Timestamp("2026-12-04"): 3950.0, pd.Timestamp("2026-12-07"): 1.0})

    history, signals = History(), FakeSignals()
    # A price newer than the one advised on cannot be in the batch twice; an older one is history.
    run(
        records(price("2026-12-07", "3990.00"), price("2026-12-08", "4012.50")),
        history=history,
        signals=signals,
    )
    assert history.asked == [(dt.date(2026, 12, 8), T0.date(), 45)]
    assert signals.seen[0].to_dict() == {
        pd.Timestamp("2026-12-04"): 3950.0,
        pd.Timestamp("2026-12-07"): 3990.0,  # the batch's event wins over the lake's copy
        pd.Timestamp("2026-12-08"): 4012.5,
    }


def test_other_records_are_skipped_a_gappy_series_is_no_advice_and_an_outage_is_retried() -> None:
    outcome, deps = run(records(b"not json", b'{"kind": "transaction"}'))
    assert outcome.skipped == 2 and outcome.price_events == 0 and deps["signals"].seen == []
    gappy, _ = run(
        records(price("2026-12-08", "4012.50")),
        signals=FakeSignals(error=DataValidationError("rates", "gap")),
    )
    assert gappy.no_advice == "rates: gap" and gappy.failed_sequence_numbers == [] and gappy.published == []
    batch = records(price("2026-12-08", "4012.50"), price("2026-12-07", "3990.00"))
    down, _ = run(batch, signals=FakeSignals(error=ConnectionError("endpoint down")))
    assert down.failed_sequence_numbers == [batch[0].sequence_number]  # the newest price, not the last record

    class Unreachable:
        def recent_rates(self, until: dt.date, arrived_by: dt.date, days: int) -> pd.Series:
            raise OSError("S3 unreachable")

        def holders(self, currency: str) -> list[Portfolio]:
            raise OSError("DynamoDB unreachable")

    for broken in ({"history": Unreachable()}, {"portfolios": Unreachable()}):
        failed, _ = run(batch, **broken)
        assert failed.failed_sequence_numbers == [batch[0].sequence_number] and failed.published == []


def test_a_notifier_failure_retries_the_batch_and_the_retry_reaches_only_the_rest() -> None:
    batch = records(price("2026-12-08", "4012.50"))
    limiter = InMemoryRateLimiter()
    broken = FakeNotifier(fail_after=1)
    first, _ = run(batch, notifier=broken, limiter=limiter)
    assert first.published == ["ana"] and first.failed_sequence_numbers == [batch[0].sequence_number]
    assert set(limiter.last) == {"ana"}
    broken.fail_after = None
    retry, _ = run(batch, notifier=broken, limiter=limiter)
    assert retry.published == ["cai"] and retry.rate_limited == ["ana"] and len(broken.sent) == 2


# -- the lake side: history and limiter state --------------------------------------------------------


def write_raw(store: LocalObjectStore, arrival: dt.date, name: str, lines: list[bytes]) -> None:
    key = f"raw/realtime/prices/year={arrival:%Y}/month={arrival:%m}/day={arrival:%d}/{name}.jsonl"
    store.put_bytes(key, b"\n".join(lines) + b"\n")


def test_lake_history_reads_the_raw_price_partitions_up_to_the_day(tmp_path: Path) -> None:
    lake = LocalObjectStore(tmp_path / "lake")
    early = T0 - dt.timedelta(days=1)
    write_raw(
        lake, dt.date(2026, 12, 6), "s-1-2", [encode_event(price("2026-12-07", "3990.00", early)), b"garbage"]
    )
    write_raw(lake, dt.date(2026, 12, 7), "s-3-4", [
        encode_event(price("2026-12-07", "3991.00", T0)),  # a later observation of the same day wins
        encode_event(price("2026-12-08", "4012.50", T0)),
    ])  # fmt: skip
    write_raw(lake, dt.date(2026, 9, 1), "s-0-0", [encode_event(price("2026-09-01", "3800.00"))])  # too old
    history = LakePriceHistory(lake)
    rates = history.recent_rates(dt.date(2026, 12, 8), dt.date(2026, 12, 7), days=45)
    assert rates.to_dict() == {pd.Timestamp("2026-12-07"): 3991.0, pd.Timestamp("2026-12-08"): 4012.5}
    assert history.recent_rates(dt.date(2026, 12, 7), dt.date(2026, 12, 7), days=45).to_dict() == {
        pd.Timestamp("2026-12-07"): 3991.0
    }
    # Only what had arrived by then: the Dec 7 partition is after Dec 6.
    assert history.recent_rates(dt.date(2026, 12, 8), dt.date(2026, 12, 6), days=45).to_dict() == {
        pd.Timestamp("2026-12-07"): 3990.0
    }
    # A window reaching back to September finds the old price too.
    assert len(history.recent_rates(dt.date(2026, 12, 8), dt.date(2026, 12, 7), days=100)) == 3


def test_the_lake_limiter_survives_a_new_invocation_and_forgets_old_entries(tmp_path: Path) -> None:
    lake = LocalObjectStore(tmp_path / "lake")
    ObjectStoreRateLimiter(lake).record(["ana"], T0 - dt.timedelta(days=8))
    ObjectStoreRateLimiter(lake).record(["cai"], T0 - dt.timedelta(days=6))
    ObjectStoreRateLimiter(lake).record(["ben"], T0)
    limiter = ObjectStoreRateLimiter(lake)
    assert set(limiter.last) == {"ben", "cai"} and lake.exists(LIMITER_KEY)  # a week kept
    assert limiter.allowed(["ana", "ben"], T0 + dt.timedelta(minutes=5), dt.timedelta(minutes=60)) == {"ana"}
    assert limiter.allowed(["cai"], T0, dt.timedelta(days=7)) == set()
    assert lake.list_keys("") == []  # hidden from listings and crawlers


# -- with the real model ---------------------------------------------------------------------------


def test_the_in_process_model_advises_from_the_lake_history_and_refuses_a_gap(tmp_path: Path) -> None:
    rates = sample_series(400)
    model = fit_signal_model(rates.iloc[:370])  # its history ends 30 business days before the last rate
    lake = LocalObjectStore(tmp_path / "lake")
    tail = rates.iloc[370:]
    events = [price(day.date().isoformat(), f"{rate:.2f}", T0) for day, rate in tail.items()]
    for age, event in enumerate(events[-2::-1], start=1):  # the newest is only in the batch, not in the lake
        write_raw(lake, T0.date() - dt.timedelta(days=age), event.event_id, [encode_event(event)])
    outcome, _ = run(records(events[-1]), signals=InProcessSignal(model), history=LakePriceHistory(lake))
    assert outcome.no_advice is None and outcome.as_of == tail.index[-1].date().isoformat()
    from datalake.fxsignal.features import build_features

    assert outcome.signal == model.signals(build_features(rates).iloc[[-1]]).iloc[0]
    # Without the lake's prices the model's bundled rates end a month before: no advice.
    blind, _ = run(records(events[-1]), signals=InProcessSignal(model))
    assert blind.signal is None and "no rate for" in (blind.no_advice or "")


# -- the Lambda, on AWS with the endpoint, without scikit-learn ---------------------------------------


class FakeRuntime:
    """A ``sagemaker-runtime`` client: answers a signal, or fails as the endpoint would."""

    def __init__(self, answer: dict[str, Any] | None = None, error: ClientError | None = None) -> None:
        self.answer, self.error = answer, error
        self.bodies: list[dict[str, Any]] = []

    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        self.bodies.append({**kwargs, "Body": json.loads(kwargs["Body"])})
        if self.error is not None:
            raise self.error
        return {"Body": io.BytesIO(json.dumps(self.answer).encode())}


def load_handler(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # The pipeline Lambdas' layer has no scikit-learn: the handler must not need it.
    for name in [
        n for n in sys.modules if n == "sklearn" or n.startswith(("sklearn.", "datalake.fxsignal.model"))
    ]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    spec = importlib.util.spec_from_file_location(
        "lambda_trade_advisor", REPO / "lambdas/trade_advisor/handler.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kinesis_event(batch: list[StoredRecord]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r.partition_key,
                    "sequenceNumber": r.sequence_number,
                    "data": base64.b64encode(r.data).decode(),
                    "approximateArrivalTimestamp": T0.timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{r.shard_id}:{r.sequence_number}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/advisor",
                "awsRegion": "eu-west-1",
                "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/datalake-dev-prices",
            }
            for r in batch
        ]
    }


def test_the_lambda_asks_the_endpoint_and_reports_only_transient_failures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler = load_handler(monkeypatch)
    batch = records(price("2026-12-08", "4012.50"))
    answer = {**FakeSignals().answer, "signal": "sell"}
    client, notifier = FakeRuntime(answer), FakeNotifier()

    def deps(**overrides: Any) -> dict[str, Any]:
        return {
            "portfolios": FakePortfolios(PEOPLE),
            "notifier": notifier,
            "signals": EndpointSignal("datalake-dev-fx-signal", client),
            "history": NoHistory(),
            "limiter": InMemoryRateLimiter(),
            "config": AdvisorConfig(),
            **overrides,
        }

    monkeypatch.setattr(handler, "advisor_dependencies", deps)
    assert handler.lambda_handler(kinesis_event(batch), None) == {"batchItemFailures": []}
    assert sorted(n.user_id for n in notifier.sent.values()) == ["ben", "cai"]
    sent = client.bodies[0]
    assert sent["EndpointName"] == "datalake-dev-fx-signal" and sent["ContentType"] == "application/json"
    assert sent["Body"] == {"rates": [{"date": "2026-12-08", "rate": 4012.5}]}
    assert "sklearn" not in {m.split(".")[0] for m in sys.modules if sys.modules[m] is not None}

    refused = ClientError(
        {"Error": {"Code": "ModelError", "Message": "x"}, "OriginalStatusCode": 400,
         "OriginalMessage": json.dumps({"error": "rates: no rate for 90 days", "field": "rates"})},
        "InvokeEndpoint",
    )  # fmt: skip
    monkeypatch.setattr(
        handler, "advisor_dependencies", lambda: deps(signals=EndpointSignal("e", FakeRuntime(error=refused)))
    )
    assert handler.lambda_handler(kinesis_event(batch), None) == {"batchItemFailures": []}
    throttled = ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "InvokeEndpoint"
    )
    monkeypatch.setattr(
        handler,
        "advisor_dependencies",
        lambda: deps(signals=EndpointSignal("e", FakeRuntime(error=throttled))),
    )
    assert handler.lambda_handler(kinesis_event(batch), None) == {
        "batchItemFailures": [{"itemIdentifier": batch[0].sequence_number}]
    }


def test_the_advisor_knobs_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from datalake.realtime.advisor import advisor_config
    from datalake.settings import Settings

    assert advisor_config(Settings(_env_file=None)) == AdvisorConfig(min_interval=dt.timedelta(minutes=60))
    monkeypatch.setenv("ADVISOR_MIN_INTERVAL_MINUTES", "20000")
    with pytest.raises(ValueError, match="advisor_min_interval_minutes"):
        Settings(_env_file=None)
    monkeypatch.setenv("ADVISOR_MIN_INTERVAL_MINUTES", "15")
    monkeypatch.setenv("ADVISOR_NOTIFY_HOLD", "true")
    config = advisor_config(Settings(_env_file=None))
    assert config.min_interval == dt.timedelta(minutes=15) and config.notify_hold


class FakeStream:
    """One shard of the prices stream with per-consumer checkpoints (sequence numbers as padded strings)."""

    def __init__(self, batch: list[StoredRecord]) -> None:
        self.records = batch
        self.checkpoints: dict[str, str] = {}

    def shards(self, stream: str) -> list[str]:
        return ["shardId-000000000000"] if stream == "prices" else []

    def read(self, stream: str, shard_id: str, consumer: str, limit: int) -> list[StoredRecord]:
        after = self.checkpoints.get(consumer, "")
        return [r for r in self.records if r.sequence_number > after][:limit]

    def checkpoint(self, stream: str, shard_id: str, consumer: str, sequence_number: str) -> None:
        self.checkpoints[consumer] = sequence_number


def test_the_local_consumer_checkpoints_batches_and_stops_before_a_failed_price() -> None:
    from datalake.realtime.advisor import consume_prices

    batch = records(
        price("2026-12-07", "3990.00"),
        b"junk",
        price("2026-12-08", "4012.50"),
        price("2026-12-09", "4020.00"),
    )
    stream, notifier, limiter = FakeStream(batch), FakeNotifier(), InMemoryRateLimiter()
    deps: dict[str, Any] = {
        "portfolios": FakePortfolios(PEOPLE), "notifier": notifier, "history": NoHistory(),
        "limiter": limiter, "signals": FakeSignals(error=ConnectionError("endpoint down")), "now": lambda: T0,
    }  # fmt: skip
    down = consume_prices(stream, batch_size=3, **deps)
    # The first batch's newest price is its third record: checkpointed up to the record before it.
    assert len(down) == 1 and stream.checkpoints == {"trade_advisor": batch[1].sequence_number}
    deps["signals"] = FakeSignals()
    up = consume_prices(stream, batch_size=3, **deps)
    assert [o.price_event_id for o in up] == [price("2026-12-09", "4020.00").event_id]
    assert stream.checkpoints == {"trade_advisor": batch[-1].sequence_number} and up[0].published == [
        "ana",
        "cai",
    ]
    assert consume_prices(stream, **deps) == []  # nothing new


def test_sample_price_events_fill_a_feature_window_ending_on_the_day() -> None:
    from datalake.fxsignal.serving import check_window
    from datalake.realtime.advisor import rates_of, sample_price_events

    events = sample_price_events(dt.date(2026, 12, 7), days=30)
    assert [e.event_id for e in events] == [
        e.event_id for e in sample_price_events(dt.date(2026, 12, 7), days=30)
    ]
    assert events[-1].valid_from == dt.date(2026, 12, 7) and len(events) == 30
    assert {e.provider for e in events} == {"SAMPLE"} and all(e.valid_from.weekday() < 5 for e in events)
    check_window(rates_of(events))  # no hole: a model trained on anything can advise on them
    model = fit_signal_model(sample_series(300))  # its own rates end in 2020
    assert InProcessSignal(model).signal(rates_of(events))["as_of"] == "2026-12-07"
