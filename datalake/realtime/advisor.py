"""The trade advisor: a new USD/COP price -> the buy/sell signal -> personal notifications to holders.

It consumes the ``prices`` stream (a Kinesis event source mapping on AWS, ``datalake stream run``
locally) beside the stream processor, and for each batch:

1. decodes the price events (anything else, or undecodable, is skipped: dead-lettering poison
   records is the stream processor's job on the same stream) and advises on the **newest** one
   only; the batch's older prices are history, not news (a backfill must not notify N times);
2. assembles the recent daily rates the model needs (see *Price history* below) and asks the
   signal source: the SageMaker endpoint (``SIGNAL_ENDPOINT``, ``InvokeEndpoint``) on AWS, the
   registry's champion loaded in-process locally;
3. ``hold`` notifies no one (unless ``notify_hold``); ``buy`` (dollars expected to rise beyond the
   threshold by the next business day) goes to the holders of pesos, who could buy dollars;
   ``sell`` goes to the holders of dollars (:meth:`PortfolioStore.holders`);
4. publishes one personal notification per user through the :class:`Notifier`, deduplicated by
   ``<user_id>:<price event_id>`` (a redelivered batch notifies nobody twice) and rate-limited
   per user: at most one per ``min_interval`` (a :class:`RateLimiter`; the time of the last
   notification is recorded only after publishing, so a crash in between re-publishes, which the
   dedupe key absorbs, rather than losing a notification).

**Price history.** The model's features span the last 21 daily rates. They come from, in order
of precedence (a later source wins on the same day):

- the rates bundled in the model (the last 63 rates of the series it was built from, its
  holdout included; inside the model directory, so on AWS inside the endpoint);
- the ``raw/realtime/prices/`` partitions of the lake (the stream processor's copy of every
  price event), the partitions of the ``history_days`` arrival days up to the batch's arrival;
- the price events of the batch itself (the stream processor may not have written them yet).

When the last 21 rates have a gap of more than a week (the lake holds no prices since the model's
data ended), the signal source refuses, and the batch is recorded as ``no_advice`` with the reason
and nothing is retried: retraining on recent rates, or a backfill of the price stream, fills it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import pandas as pd

from datalake.errors import DataValidationError
from datalake.fxsignal.serving import SignalSource, merge_rates
from datalake.realtime.events import PRICES_STREAM, PriceEvent, decode_event
from datalake.realtime.ports import Notification, Notifier, Portfolio, PortfolioStore, StoredRecord, Stream
from datalake.settings import Settings
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key

logger = logging.getLogger(__name__)

#: Where the stream processor writes the prices stream (issue 21's raw layout).
RAW_PRICES_PREFIX = f"raw/realtime/{PRICES_STREAM}"
#: Who hears each signal: the holders of the currency they would sell to act on it.
AUDIENCE: dict[str, str] = {"buy": "COP", "sell": "USD", "hold": "USD"}
#: The longest per-user interval (ADVISOR_MIN_INTERVAL_MINUTES is capped at it): older entries are dropped.
MAX_INTERVAL = dt.timedelta(days=7)
#: The rate limiter's state in the lake bucket (hidden: no crawler or listing sees it).
LIMITER_KEY = "_realtime_state/trade_advisor/last_notified.json"


@dataclass(frozen=True)
class AdvisorConfig:
    """The advisor's knobs.

    Parameters
    ----------
    min_interval
        At most one notification per user per this long.
    history_days
        Arrival days of ``raw/realtime/prices/`` read for the recent rates (calendar days; 45 cover
        the 21 business days of the feature window with holidays to spare).
    notify_hold
        Also notify on ``hold`` (off: "do nothing" is not news).
    """

    min_interval: dt.timedelta = dt.timedelta(minutes=60)
    history_days: int = 45
    notify_hold: bool = False


class PriceHistory(Protocol):
    """Recent daily rates known to the lake."""

    def recent_rates(self, until: dt.date, arrived_by: dt.date, days: int) -> pd.Series:
        """Rates (pesos per dollar) by validity day up to ``until``, of the prices that arrived in the
        ``days`` days up to ``arrived_by`` (UTC)."""
        ...


class RateLimiter(Protocol):
    """Per-user notification times: who may be notified now, and recording that they were."""

    def allowed(self, user_ids: Sequence[str], now: dt.datetime, interval: dt.timedelta) -> set[str]:
        """The users whose last notification is ``interval`` or more before ``now`` (or who have none)."""
        ...

    def record(self, user_ids: Sequence[str], now: dt.datetime) -> None:
        """Remember that ``user_ids`` were notified at ``now``."""
        ...


class InMemoryRateLimiter:
    """A :class:`RateLimiter` in a dict: tests, and one long-running local consumer."""

    def __init__(self) -> None:
        self.last: dict[str, dt.datetime] = {}

    def allowed(self, user_ids: Sequence[str], now: dt.datetime, interval: dt.timedelta) -> set[str]:
        return {user for user in user_ids if user not in self.last or now - self.last[user] >= interval}

    def record(self, user_ids: Sequence[str], now: dt.datetime) -> None:
        self.last.update(dict.fromkeys(user_ids, now))


class ObjectStoreRateLimiter(InMemoryRateLimiter):
    """A :class:`RateLimiter` kept as one JSON object (``{user_id: ISO time}``) in the lake bucket.

    Read once per batch and written once per batch. It is not safe for two writers at once, and
    needs none: the prices stream has one shard and its event source mapping runs one batch at a
    time per shard, so advisor batches never overlap. (At millions of users a DynamoDB item per
    user with a conditional write would replace the one object.)
    """

    def __init__(self, store: ObjectStore, key: str = LIMITER_KEY) -> None:
        super().__init__()
        self.store, self.key = store, key
        if store.exists(key):
            self.last = {user: dt.datetime.fromisoformat(at) for user, at in store.get_json(key).items()}

    def record(self, user_ids: Sequence[str], now: dt.datetime) -> None:
        super().record(user_ids, now)
        # Entries older than the longest interval allowed (a week) limit nobody: drop them.
        horizon = now - MAX_INTERVAL
        self.last = {user: at for user, at in self.last.items() if at >= horizon}
        self.store.put_json(self.key, {user: at.isoformat() for user, at in sorted(self.last.items())})


class LakePriceHistory:
    """Rates from the price events the stream processor wrote to ``raw/realtime/prices/``.

    One rate per validity day (``valid_from``); a day seen twice keeps the latest observation.
    """

    def __init__(self, lake: ObjectStore, prefix: str = RAW_PRICES_PREFIX) -> None:
        self.lake, self.prefix = lake, prefix

    def recent_rates(self, until: dt.date, arrived_by: dt.date, days: int) -> pd.Series:
        # Partitions are by arrival day (a TRM arrives the day before it is valid; a backfill long
        # after): the window is the batch's arrival, not the validity, so a backfill finds its rates.
        events: list[PriceEvent] = []
        for offset in range(days + 1):
            day = arrived_by - dt.timedelta(days=offset)
            folder = join_key(self.prefix, f"year={day:%Y}", f"month={day:%m}", f"day={day:%d}")
            for key in self.lake.list_keys(folder):
                if key.endswith(".jsonl"):
                    events += _price_lines(self.lake.get_bytes(key), key)
        return rates_of([e for e in events if e.valid_from <= until])


def _price_lines(data: bytes, key: str) -> list[PriceEvent]:
    out = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = decode_event(line)
        except ValueError as error:
            logger.warning("skipping line %d of %s: %s", number, key, error)
            continue
        if isinstance(event, PriceEvent):
            out.append(event)
    return out


def rates_of(events: Sequence[PriceEvent]) -> pd.Series:
    """One rate per validity day (the latest observation of a day wins), sorted by day."""
    latest: dict[dt.date, PriceEvent] = {}
    for event in sorted(events, key=lambda e: e.observed_at):
        latest[event.valid_from] = event
    series = pd.Series(
        {pd.Timestamp(day): float(event.rate_cop_per_usd) for day, event in latest.items()}, dtype=float
    ).sort_index()
    series.index.name = "date"
    return series


@dataclass
class AdviceOutcome:
    """What one batch did: the signal, and who was notified or held back."""

    records: int = 0
    price_events: int = 0
    #: Records that were not price events (or not decodable): the stream processor dead-letters those.
    skipped: int = 0
    #: Older price events in the batch, used as history only.
    superseded: int = 0
    price_event_id: str | None = None
    signal: str | None = None
    as_of: str | None = None
    model_version: str | None = None
    #: Why no advice was given (an incomplete price history), when none was.
    no_advice: str | None = None
    audience: int = 0
    published: list[str] = field(default_factory=list)
    rate_limited: list[str] = field(default_factory=list)
    #: Sequence numbers to retry (a transient failure: the endpoint or the notifier was down).
    failed_sequence_numbers: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Counts instead of user lists, for logs."""
        out = asdict(self)
        out["published"], out["rate_limited"] = len(self.published), len(self.rate_limited)
        return out


def decode_prices(
    records: Sequence[StoredRecord], outcome: AdviceOutcome
) -> list[tuple[StoredRecord, PriceEvent]]:
    """The batch's price events with their records; counts what is skipped."""
    prices = []
    for record in records:
        try:
            event = decode_event(record.data)
        except ValueError:
            outcome.skipped += 1
            continue
        if isinstance(event, PriceEvent):
            prices.append((record, event))
        else:
            outcome.skipped += 1
    return prices


def message_for(portfolio: Portfolio, answer: dict[str, Any], event: PriceEvent) -> tuple[str, str]:
    """The subject and text of one user's notification (amounts in the user's own balance)."""
    signal = answer["signal"]
    rate = f"{event.rate_cop_per_usd:,.2f} COP"
    move = f"{100 * float(answer.get('threshold', 0)):.1f} %"
    probability = answer.get("probabilities", {}).get(signal)
    chance = f" (model probability {probability:.0%})" if isinstance(probability, int | float) else ""
    currency = AUDIENCE[signal]
    balance = portfolio.balances.get(currency, Decimal(0))
    held = f"You hold {balance:,.2f} {currency}."
    if signal == "buy":
        subject = f"USD/COP {rate}: the dollar may rise"
        text = f"The model expects the dollar to rise more than {move} by the next business day{chance}."
        action = " You could buy dollars with part of your pesos."
    elif signal == "sell":
        subject = f"USD/COP {rate}: the dollar may fall"
        text = f"The model expects the dollar to fall more than {move} by the next business day{chance}."
        action = " You could sell part of your dollars."
    else:
        subject = f"USD/COP {rate}: no clear move"
        text = f"The model expects no move beyond {move} by the next business day{chance}."
        action = ""
    valid = f" Rate valid from {event.valid_from.isoformat()} ({event.provider})."
    caveat = " A statistical signal, not financial advice."
    return subject, f"{text}{valid} {held}{action}{caveat}"


def advise_on_batch(
    records: Sequence[StoredRecord],
    *,
    portfolios: PortfolioStore,
    notifier: Notifier,
    signals: SignalSource,
    history: PriceHistory,
    limiter: RateLimiter,
    config: AdvisorConfig | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> AdviceOutcome:
    """Advise the affected holders on the newest price event of a ``prices`` batch.

    Parameters
    ----------
    records
        The batch, in stream order.
    portfolios, notifier
        The ports (DynamoDB and SNS on AWS; PostgreSQL and the notifications table locally).
    signals
        The buy/sell model: :class:`~datalake.fxsignal.serving.EndpointSignal` or
        :class:`~datalake.fxsignal.serving.InProcessSignal`.
    history
        The lake's recent rates (:class:`LakePriceHistory`).
    limiter
        Per-user notification times.
    config
        Rate limit, history window, whether ``hold`` is notified.
    now
        The clock (UTC), for the rate limit.

    Returns
    -------
    AdviceOutcome
        Who was notified, who was held back, and what to retry. A series the model cannot use is
        ``no_advice`` (not retried). Any other failure (the lake, the endpoint, the portfolios or
        the notifier) is logged and reported as the newest price's sequence number in
        ``failed_sequence_numbers``, so the batch is retried from that price; nothing is raised.
    """
    config = config or AdvisorConfig()
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    outcome = AdviceOutcome(records=len(records))
    prices = decode_prices(records, outcome)
    outcome.price_events = len(prices)
    if not prices:
        return outcome
    record, newest = max(prices, key=lambda pair: (pair[1].valid_from, pair[1].observed_at))
    outcome.superseded = len(prices) - 1
    outcome.price_event_id = newest.event_id
    batch_rates = rates_of([event for _, event in prices if event.valid_from <= newest.valid_from])
    try:
        arrived_by = max(r.arrived_at for r in records).astimezone(dt.UTC).date()
        lake_rates = history.recent_rates(newest.valid_from, arrived_by, config.history_days)
        # The batch's copy of a day wins over the lake's.
        recent = merge_rates(lake_rates, batch_rates) if not lake_rates.empty else batch_rates
        answer = signals.signal(recent)
    except DataValidationError as error:
        outcome.no_advice = str(error)
        logger.warning("no advice for price %s: %s", newest.event_id, error)
        return outcome
    except Exception:
        logger.exception(
            "no signal for price %s (history or model failed): retrying the batch", newest.event_id
        )
        outcome.failed_sequence_numbers = [record.sequence_number]
        return outcome
    outcome.signal, outcome.as_of = answer["signal"], answer.get("as_of")
    outcome.model_version = answer.get("model_version")
    if answer["signal"] == "hold" and not config.notify_hold:
        return outcome
    stamp = clock()
    try:
        holders = portfolios.holders(AUDIENCE[answer["signal"]])
        outcome.audience = len(holders)
        allowed = limiter.allowed([p.user_id for p in holders], stamp, config.min_interval)
        for portfolio in sorted(holders, key=lambda p: p.user_id):
            if portfolio.user_id not in allowed:
                outcome.rate_limited.append(portfolio.user_id)
                continue
            subject, text = message_for(portfolio, answer, newest)
            notifier.publish(
                Notification(
                    user_id=portfolio.user_id,
                    subject=subject,
                    message=text,
                    dedupe_key=f"{portfolio.user_id}:{newest.event_id}",
                    attributes={
                        "user_id": portfolio.user_id,
                        "signal": answer["signal"],
                        "pair": newest.pair,
                        "rate_cop_per_usd": str(newest.rate_cop_per_usd),
                        "valid_from": newest.valid_from.isoformat(),
                        "price_event_id": newest.event_id,
                        "model_version": str(answer.get("model_version", "")),
                    },
                )
            )
            outcome.published.append(portfolio.user_id)
    except Exception:
        # Whoever was published stays limited; the retry re-publishes the rest (deduplicated).
        logger.exception(
            "notifying failed after %d notifications: retrying the batch", len(outcome.published)
        )
        outcome.failed_sequence_numbers = [record.sequence_number]
    finally:
        if outcome.published:
            limiter.record(outcome.published, stamp)
    return outcome


def advisor_config(settings: Settings) -> AdvisorConfig:
    """The advisor's knobs from settings (``ADVISOR_MIN_INTERVAL_MINUTES``, ``ADVISOR_NOTIFY_HOLD``)."""
    return AdvisorConfig(
        min_interval=dt.timedelta(minutes=settings.advisor_min_interval_minutes),
        notify_hold=settings.advisor_notify_hold,
    )


def signal_source(settings: Any, boto3_session: Any | None = None) -> SignalSource:
    """The endpoint on AWS (``SIGNAL_ENDPOINT``), the registry's champion in-process locally."""
    from datalake.fxsignal.serving import EndpointSignal, InProcessSignal

    if settings.lake_runtime == "aws":
        from datalake import aws

        client = aws.client(
            "sagemaker-runtime", boto3_session, settings, retries={"max_attempts": 3, "mode": "standard"}
        )
        return EndpointSignal(getattr(settings, "signal_endpoint", "") or "", client)
    return InProcessSignal(settings=settings)


def advisor_dependencies(settings: Any | None = None, boto3_session: Any | None = None) -> dict[str, Any]:
    """Keyword arguments of :func:`advise_on_batch` for the configured runtime (the Lambda and the CLI)."""
    from datalake import runtime
    from datalake.settings import get_settings

    settings = settings or get_settings()
    lake = runtime.object_store("lake", settings, boto3_session)
    return {
        "portfolios": runtime.portfolio_store(settings, boto3_session),  # type: ignore[attr-defined]
        "notifier": runtime.notifier(settings, boto3_session),  # type: ignore[attr-defined]
        "signals": signal_source(settings, boto3_session),
        "history": LakePriceHistory(lake),
        "limiter": ObjectStoreRateLimiter(lake),
        "config": advisor_config(settings),
    }


#: The advisor's consumer name on the local stream (its own checkpoints, apart from the processor's).
CONSUMER = "trade_advisor"


def consume_prices(
    stream: Stream, *, consumer: str = CONSUMER, batch_size: int = 100, **dependencies: Any
) -> list[AdviceOutcome]:
    """Drain the ``prices`` stream once, as the Kinesis event source mapping would (``datalake stream run``).

    Each shard is read in batches after the consumer's checkpoint; a batch is checkpointed to its
    last record, or, when it reports a failed sequence number, to the record before it, and the
    shard is left for the next run (the mapping would retry from there).

    Parameters
    ----------
    stream
        The local (or any) :class:`~datalake.realtime.ports.Stream`.
    consumer
        Checkpoint name.
    batch_size
        Records per batch.
    **dependencies
        The keyword arguments of :func:`advise_on_batch` (:func:`advisor_dependencies`).

    Returns
    -------
    list[AdviceOutcome]
        One per batch read.
    """
    outcomes = []
    for shard in stream.shards(PRICES_STREAM):
        while True:
            batch = stream.read(PRICES_STREAM, shard, consumer, batch_size)
            if not batch:
                break
            outcome = advise_on_batch(batch, **dependencies)
            outcomes.append(outcome)
            if outcome.failed_sequence_numbers:
                numbers = [r.sequence_number for r in batch]
                failed_at = numbers.index(outcome.failed_sequence_numbers[0])
                if failed_at > 0:
                    stream.checkpoint(PRICES_STREAM, shard, consumer, numbers[failed_at - 1])
                break
            stream.checkpoint(PRICES_STREAM, shard, consumer, batch[-1].sequence_number)
    return outcomes


def sample_price_events(
    end: dt.date, days: int = 30, seed: int = 7, observed_at: dt.datetime | None = None
) -> list[PriceEvent]:
    """SAMPLE USD/COP price events for the ``days`` business days up to ``end`` (provider ``SAMPLE``).

    For demos and simulations: put on the ``prices`` stream, they give the advisor a complete
    feature window ending today whatever the model was trained on (the real TRM history ends in
    2025). The same arguments give the same events (and event ids).
    """
    from datalake.fxsignal.series import sample_series

    start = pd.bdate_range(end=end, periods=days)[0]
    rates = sample_series(days=days, seed=seed, start=start.date().isoformat())
    stamp = observed_at or dt.datetime.combine(end, dt.time(0), dt.UTC)
    events = []
    for day, rate in rates.items():
        value = Decimal(f"{rate:.2f}")
        events.append(
            PriceEvent(
                event_id=PriceEvent.make_id("SAMPLE", day.date(), value),
                rate_cop_per_usd=value,
                valid_from=day.date(),
                provider="SAMPLE",
                observed_at=stamp,
            )
        )
    return events
