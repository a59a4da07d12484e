"""The trade advisor on the local runtime: stream -> processor (lake, portfolios) -> advisor -> notifications.

Needs the local real-time adapters (``datalake.realtime.local``, written beside this module by
another branch of issue 21) and the embedded PostgreSQL; skips, saying so, without the adapters.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("datalake.realtime.local", reason="the local real-time adapters are not in this checkout")

from datalake import runtime
from datalake.fxsignal import MODEL_NAME
from datalake.fxsignal.model import fit_signal_model
from datalake.fxsignal.series import sample_series
from datalake.models import model_registry
from datalake.realtime.advisor import advisor_dependencies, consume_prices
from datalake.realtime.events import (
    PRICES_STREAM,
    STREAMS,
    TRANSACTIONS_STREAM,
    PriceEvent,
    TransactionEvent,
    TransactionRequest,
    encode_event,
)
from datalake.realtime.ports import StreamRecord
from datalake.settings import Settings
from datalake.warehouse import connect

pytest_plugins = ["warehouse_fixtures"]
NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)


def deposit(user: str, amount: str, currency: str) -> TransactionEvent:
    request = TransactionRequest(
        user_id=user,
        type="buy",
        amount=Decimal(amount),
        currency=currency,  # type: ignore[arg-type]
        client_time=NOW,
        idempotency_key=f"{user}-{currency}",
    )
    return TransactionEvent.from_request(request, NOW)


def price_event(day: dt.date, rate: float) -> PriceEvent:
    value = Decimal(f"{rate:.2f}")
    return PriceEvent(
        event_id=PriceEvent.make_id("trm", day, value),
        rate_cop_per_usd=value,
        valid_from=day,
        provider="trm",
        observed_at=NOW,
    )


def test_prices_on_the_local_stream_notify_the_right_holders_once(
    pg_settings: Settings, tmp_path: Path
) -> None:
    from datalake.realtime.processor import consume

    settings = pg_settings
    with connect(settings.database_url or "", settings=settings, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS datalake_realtime CASCADE")
    # Persistent moves, so the model has opinions; its data ends 27 business days before the first
    # advised price: the lake's raw prices fill the feature window.
    rates = sample_series(400, seed=3, momentum=0.5)
    registry = model_registry(settings, name=MODEL_NAME)
    version = registry.register(fit_signal_model(rates.iloc[:370]).save(tmp_path / "model"), {})
    registry.promote(version, "test")
    prices = [price_event(day.date(), rate) for day, rate in rates.iloc[370:].items()]

    stream = runtime.stream(settings)
    deposits = (deposit("ana", "1000000.00", "COP"), deposit("ben", "500.00", "USD"))
    stream.put(TRANSACTIONS_STREAM, [StreamRecord(e.user_id, encode_event(e)) for e in deposits])

    def arrive(events: list[PriceEvent]):  # type: ignore[no-untyped-def]
        stream.put(PRICES_STREAM, [StreamRecord("USD/COP", encode_event(p)) for p in events])
        consume(
            stream,
            lake=runtime.object_store("lake", settings),
            portfolios=runtime.portfolio_store(settings),
            dead_letters=runtime.dead_letters(settings),
            streams=STREAMS,
        )
        return consume_prices(stream, **advisor_dependencies(settings))

    # Day 397 of the series: the model says sell (dollars expected to fall) -> the dollar holder.
    [first] = arrive(prices[:27])
    assert first.price_event_id == prices[26].event_id and first.superseded == 26  # backfill: one advice
    assert (first.signal, first.published, first.model_version) == ("sell", ["ben"], version)
    # Day 398: buy -> the peso holder; day 399: buy again within the hour -> held back.
    [second] = arrive(prices[27:28])
    assert (second.signal, second.published) == ("buy", ["ana"])
    [third] = arrive(prices[28:29])
    assert (third.signal, third.published, third.rate_limited) == ("buy", [], ["ana"])
    assert consume_prices(stream, **advisor_dependencies(settings)) == []  # all checkpointed

    with connect(settings.database_url or "", settings=settings, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT user_id, dedupe_key, attributes FROM datalake_realtime.notifications ORDER BY user_id"
        ).fetchall()
    assert [(user, key) for user, key, _ in rows] == [
        ("ana", f"ana:{prices[27].event_id}"),
        ("ben", f"ben:{prices[26].event_id}"),
    ]
    assert [attributes["signal"] for _, _, attributes in rows] == ["buy", "sell"]
