"""The USD/COP price collector: poll the official TRM, put a price event only when it changed.

The TRM (Tasa Representativa del Mercado, pesos per US dollar) is certified once per business day
and published on datos.gov.co (Socrata dataset ``32sa-8pi3``) as a bare JSON array of rows
``{"valor": "4099.93", "unidad": "COP", "vigenciadesde": "2020-03-17T00:00:00.000",
"vigenciahasta": "2020-03-17T00:00:00.000"}``; an error is a JSON object
``{"code", "error": true, "message"}``. The row for the next business day (or a whole weekend) is
published in advance, so the collector, run every minute, asks for the newest row only
(``$order=vigenciadesde DESC&$limit=1``) and puts a :class:`~datalake.realtime.events.PriceEvent`
on the ``prices`` stream only when the rate or its validity start changed since the last event it
put. The last state is a small JSON object in the lake (:data:`STATE_PREFIX`), written after the
put: a collector that dies in between puts the same event again, whose id (from provider, validity
and rate) the consumers already know, so at most a duplicate, never a loss.

A rate whose validity ended more than ``stale_after`` ago is stale (the provider stopped
publishing): an alert goes out through :mod:`datalake.alerts`, once per stale rate.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx

from datalake.alerts import AlertDelivery, post_alert, publish_alert_sns
from datalake.errors import ConfigurationError, ObjectNotFoundError, SourceError
from datalake.realtime.events import PRICES_STREAM, PriceEvent, encode_event
from datalake.realtime.ports import Stream, StreamRecord
from datalake.settings import Settings, get_settings
from datalake.sources.http_retry import HttpSource, RetryPolicy
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key

#: The provider name events carry for the datos.gov.co TRM.
DATOS_GOV_CO = "datos.gov.co"
#: Where the collector keeps its last state, one object per provider (hidden from crawlers).
STATE_PREFIX = "_state/price_collector"
#: The TRM's dates are Colombian calendar days.
BOGOTA = ZoneInfo("America/Bogota")
#: The stream's partition key: one pair, one shard, prices in order.
PARTITION_KEY = "USD/COP"
_DETAIL_CHARS = 300


class PriceProviderError(SourceError):
    """The price provider refused or failed a request, or answered something that is not a rate.

    ``retried`` lists the failed attempts that were tried again before it gave up.
    """

    retried: tuple[str, ...] = ()


@dataclass(frozen=True)
class Quote:
    """One rate and the days it applies to (Colombian calendar days, both inclusive)."""

    rate_cop_per_usd: Decimal
    valid_from: dt.date
    valid_until: dt.date | None

    @property
    def last_valid_day(self) -> dt.date:
        return self.valid_until or self.valid_from

    def validity_end(self) -> dt.datetime:
        """The moment the rate stops applying: midnight in Bogotá after its last valid day, UTC."""
        midnight = dt.datetime.combine(self.last_valid_day + dt.timedelta(days=1), dt.time(), BOGOTA)
        return midnight.astimezone(dt.UTC)


@dataclass
class Fetched:
    """A provider's answer: the newest quote, and the failed attempts retried before it."""

    quote: Quote
    attempts: int = 1
    retried: list[str] = field(default_factory=list)


class PriceProvider(Protocol):
    """Where the dollar price comes from (the official TRM, or another configured provider)."""

    name: str

    def latest(self) -> Fetched:
        """The newest quote; raises :class:`PriceProviderError` naming the problem."""
        ...


def _socrata_date(value: object, field_name: str) -> dt.date:
    # Floating timestamps ("2020-03-14T00:00:00.000") or plain dates: the day is what counts.
    if not isinstance(value, str) or len(value) < 10:
        raise ValueError(f"{field_name}: {value!r} is not a date")
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"{field_name}: {value!r} is not a date") from None


def parse_trm_row(row: object) -> Quote:
    """One datos.gov.co TRM row -> :class:`Quote`.

    Raises
    ------
    ValueError
        Naming the field that is missing or wrong (``valor`` not a positive number, ``unidad``
        not COP, a date that is not one, a validity that ends before it starts).
    """
    if not isinstance(row, dict):
        raise ValueError(f"row is not an object: {str(row)[:80]}")
    unit = row.get("unidad", "COP")
    if unit != "COP":
        raise ValueError(f"unidad: {unit!r} is not COP")
    raw = row.get("valor")
    try:
        # Text such as "4099.93"; a thousands comma (the CSV export's "$4,008.70") is tolerated.
        rate = Decimal(str(raw).replace("$", "").replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"valor: {raw!r} is not a number") from None
    if raw is None or not rate.is_finite() or rate <= 0:
        raise ValueError(f"valor: {raw!r} is not a positive number")
    valid_from = _socrata_date(row.get("vigenciadesde"), "vigenciadesde")
    until = row.get("vigenciahasta")
    valid_until = _socrata_date(until, "vigenciahasta") if until is not None else None
    if valid_until is not None and valid_until < valid_from:
        raise ValueError(f"vigenciahasta {valid_until} is before vigenciadesde {valid_from}")
    return Quote(rate.quantize(Decimal("0.0001")), valid_from, valid_until)


def newest_quote(body: object) -> Quote:
    """The newest row (latest ``vigenciadesde``) of a datos.gov.co answer.

    Raises
    ------
    ValueError
        For an error envelope, a body that is not an array, an empty array or a bad row.
    """
    if isinstance(body, dict):
        message = body.get("message") or body.get("error") or "an object, not an array of rows"
        code = body.get("code")
        raise ValueError(f"{code}: {message}" if code else str(message))
    if not isinstance(body, list):
        raise ValueError(f"not an array of rows: {str(body)[:80]}")
    if not body:
        raise ValueError("the answer holds no rows")
    return max((parse_trm_row(row) for row in body), key=lambda quote: quote.valid_from)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


class DatosGovCoTrm(HttpSource):
    """The official TRM from datos.gov.co's Socrata ``resource`` endpoint, with retries.

    Parameters
    ----------
    url
        The dataset's resource URL (``settings.trm_url``).
    app_token
        Optional Socrata app token, sent as ``X-App-Token`` (without one, requests share a
        throttled per-IP pool).
    timeout_s
        Per request.
    http, policy, sleep, rng
        As :class:`~datalake.sources.http_retry.HttpSource` takes them (tests never sleep).
    """

    name = DATOS_GOV_CO

    def __init__(
        self,
        url: str,
        *,
        app_token: str | None = None,
        timeout_s: float = 10.0,
        http: httpx.Client | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(
            http=http,
            policy=policy
            or RetryPolicy(max_retries=3, backoff_s=1.0, max_backoff_s=10.0, max_retry_after_s=30.0),
            sleep=sleep,
            rng=rng,
            secrets=(app_token,) if app_token else (),
        )
        self.url = url
        self._headers = {"Accept": "application/json", **({"X-App-Token": app_token} if app_token else {})}
        self._timeout_s = timeout_s

    def latest(self) -> Fetched:
        """The newest TRM row (``$order=vigenciadesde DESC&$limit=1``).

        Raises
        ------
        PriceProviderError
            A refusal (4xx), a body that is not rows, or 429/5xx/transport errors past the retries;
            ``attempts`` says how many requests were sent.
        """
        retried: list[str] = []
        params = {"$order": "vigenciadesde DESC", "$limit": "1"}

        def send() -> httpx.Response:
            return self._http.get(self.url, params=params, headers=self._headers, timeout=self._timeout_s)

        def refusal(response: httpx.Response, attempt: int) -> PriceProviderError | None:
            if response.status_code == 200:
                return None
            # Socrata's 202 means "still processing, ask again".
            retryable = response.status_code in (202, 429) or response.status_code >= 500
            error = PriceProviderError(
                f"{self.name} answered HTTP {response.status_code}: {_clip(response.text) or 'no body'}",
                url=self.url,
                status=response.status_code,
                detail=_clip(response.text),
                retryable=retryable,
                attempts=attempt,
            )
            if retryable:
                retried.append(f"attempt {attempt}: HTTP {response.status_code}")
            return error

        def failure(exc: httpx.TransportError, attempt: int) -> PriceProviderError:
            retried.append(f"attempt {attempt}: {type(exc).__name__}")
            return PriceProviderError(
                f"{self.name} did not answer: {type(exc).__name__}: {exc}",
                url=self.url,
                retryable=True,
                attempts=attempt,
            )

        def gave_up(error: PriceProviderError, why: str) -> PriceProviderError:
            return PriceProviderError(
                f"{error} ({why})",
                url=error.url,
                status=error.status,
                detail=error.detail,
                attempts=error.attempts,
            )

        try:
            response = self._retrying(send, refusal, failure, gave_up, who=self.name)
        except PriceProviderError as error:
            # The give-up's own attempt is not a retry.
            error.retried = tuple(retried[: max(error.attempts - 1, 0)])
            raise
        attempts = len(retried) + 1
        try:
            quote = newest_quote(response.json())
        except ValueError as error:  # JSON or rows that are not a rate
            raise PriceProviderError(
                f"{self.name} answered something that is not a TRM row: {error}",
                url=self.url,
                status=response.status_code,
                detail=_clip(response.text),
                attempts=attempts,
            ) from None
        return Fetched(quote, attempts, retried)


# -- the collector's state and run --------------------------------------------------------------


def state_key(provider: str) -> str:
    """The lake key of a provider's last state."""
    return join_key(STATE_PREFIX, f"{provider.replace('/', '_')}.json")


@dataclass
class CollectorState:
    """What the collector last put, and the stale rate it last alerted about."""

    event_id: str | None = None
    rate_cop_per_usd: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    put_at: str | None = None
    alerted_stale_event_id: str | None = None

    @classmethod
    def load(cls, lake: ObjectStore, provider: str) -> CollectorState:
        try:
            doc = json.loads(lake.get_bytes(state_key(provider)))
        except ObjectNotFoundError:
            return cls()
        return cls(**{k: doc.get(k) for k in cls.__dataclass_fields__})

    def save(self, lake: ObjectStore, provider: str) -> None:
        lake.put_bytes(
            state_key(provider), json.dumps(asdict(self), sort_keys=True).encode(), "application/json"
        )


@dataclass
class CollectorSummary:
    """What one poll did; the Lambda returns and logs it."""

    provider: str
    polled_at: str
    outcome: str = "unchanged"  # put | unchanged | provider_error
    event_id: str | None = None
    rate_cop_per_usd: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    sequence_number: str | None = None
    attempts: int = 0
    retries: list[str] = field(default_factory=list)
    error: str | None = None
    stale: bool = False
    stale_hours: float | None = None
    alert: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


AlertSender = Callable[[str, str], AlertDelivery]


def collect_price(
    now: dt.datetime,
    *,
    provider: PriceProvider,
    stream: Stream,
    lake: ObjectStore,
    stale_after: dt.timedelta,
    alert: AlertSender | None = None,
) -> CollectorSummary:
    """Poll ``provider`` once; put a price event when the rate or its validity start changed.

    Parameters
    ----------
    now
        The poll's time (the schedule's), aware.
    provider
        Where the rate comes from.
    stream
        The ``prices`` stream is put to.
    lake
        Holds the collector's state (:func:`state_key`).
    stale_after
        A rate whose validity ended longer ago than this is stale.
    alert
        ``(subject, text) -> AlertDelivery``: sends the stale-price alert (None: none is sent,
        the summary still says the rate is stale).

    Returns
    -------
    CollectorSummary
        ``outcome`` ``provider_error`` (with ``error``, ``attempts``, ``retries``) when the
        provider failed for good: nothing is put and the state is kept.
    """
    now = now.astimezone(dt.UTC)
    summary = CollectorSummary(provider=provider.name, polled_at=now.isoformat())
    try:
        fetched = provider.latest()
    except PriceProviderError as error:
        summary.outcome, summary.error, summary.attempts = "provider_error", str(error), error.attempts
        summary.retries = list(error.retried)
        return summary
    quote = fetched.quote
    summary.attempts, summary.retries = fetched.attempts, list(fetched.retried)
    event_id = PriceEvent.make_id(provider.name, quote.valid_from, quote.rate_cop_per_usd)
    summary.event_id, summary.rate_cop_per_usd = event_id, str(quote.rate_cop_per_usd)
    summary.valid_from = quote.valid_from.isoformat()
    summary.valid_until = quote.valid_until.isoformat() if quote.valid_until else None
    state = CollectorState.load(lake, provider.name)
    changed = state.event_id != event_id
    dirty = changed
    if changed:
        event = PriceEvent(
            event_id=event_id,
            rate_cop_per_usd=quote.rate_cop_per_usd,
            valid_from=quote.valid_from,
            valid_until=quote.valid_until,
            provider=provider.name,
            observed_at=now,
        )
        [sequence] = stream.put(PRICES_STREAM, [StreamRecord(PARTITION_KEY, encode_event(event))])
        summary.outcome, summary.sequence_number = "put", sequence
        state.event_id, state.rate_cop_per_usd = event_id, summary.rate_cop_per_usd
        state.valid_from, state.valid_until, state.put_at = (
            summary.valid_from,
            summary.valid_until,
            now.isoformat(),
        )
    age = now - quote.validity_end()
    summary.stale = age > stale_after
    summary.stale_hours = round(max(age, dt.timedelta(0)) / dt.timedelta(hours=1), 2)
    if summary.stale and alert is not None and state.alerted_stale_event_id != event_id:
        delivery = alert(
            f"USD/COP price is stale ({provider.name})",
            f"The newest USD/COP rate from {provider.name}, {quote.rate_cop_per_usd} COP per USD, "
            f"was valid until {quote.last_valid_day} (Bogotá): {summary.stale_hours} h past its "
            f"validity at {now:%Y-%m-%d %H:%M} UTC, over the {stale_after / dt.timedelta(hours=1):g} h "
            "allowed. The provider has published no newer rate.",
        )
        summary.alert = delivery.to_dict()
        if delivery.delivered:  # an alert that did not arrive is tried again on the next poll
            state.alerted_stale_event_id = event_id
            dirty = True
    if dirty:
        state.save(lake, provider.name)
    return summary


def provider_from_settings(settings: Settings) -> PriceProvider:
    """The configured price provider (``PRICE_PROVIDER`` at ``TRM_URL``)."""
    if settings.price_provider == DATOS_GOV_CO:
        token = settings.trm_app_token.get_secret_value() if settings.trm_app_token else None
        return DatosGovCoTrm(
            settings.trm_url,
            app_token=token,
            timeout_s=settings.trm_timeout_s,
            policy=RetryPolicy(
                max_retries=settings.trm_max_retries,
                backoff_s=1.0,
                max_backoff_s=10.0,
                max_retry_after_s=30.0,
            ),
        )
    raise ConfigurationError(f"PRICE_PROVIDER {settings.price_provider!r}: known providers: {DATOS_GOV_CO}")


def alert_sender(settings: Settings, boto3_session: Any = None) -> AlertSender | None:
    """How the stale-price alert goes out: the alerts SNS topic on AWS, else the alert webhook; None
    when neither is configured."""
    if settings.lake_runtime == "aws" and settings.alerts_topic_arn:
        from datalake import aws

        sns = aws.client("sns", settings=settings, boto3_session=boto3_session)
        topic = settings.alerts_topic_arn
        return lambda subject, text: publish_alert_sns(topic, subject, text, sns=sns)
    if settings.alert_webhook_url is not None:
        url, timeout = settings.alert_webhook_url, settings.alert_webhook_timeout_s
        return lambda subject, text: post_alert(url, f"{subject}: {text}", timeout_s=timeout)
    return None


def run_price_collector(
    now: dt.datetime,
    settings: Settings | None = None,
    *,
    provider: PriceProvider | None = None,
    stream: Stream | None = None,
    lake: ObjectStore | None = None,
    alert: AlertSender | None = None,
) -> CollectorSummary:
    """One poll with the configured provider, the runtime's ``prices`` stream and lake, and alerts.

    What ``lambdas/price_collector`` runs; anything given replaces the configured one.
    """
    from datalake import runtime

    settings = settings or get_settings()
    stream = stream if stream is not None else runtime.stream(settings)
    lake = lake if lake is not None else runtime.object_store("lake", settings)
    alert = alert if alert is not None else alert_sender(settings)
    owned = provider is None
    provider = provider if provider is not None else provider_from_settings(settings)
    try:
        return collect_price(
            now,
            provider=provider,
            stream=stream,
            lake=lake,
            stale_after=dt.timedelta(hours=settings.trm_stale_after_hours),
            alert=alert,
        )
    finally:
        if owned and isinstance(provider, HttpSource):
            provider.close()


def raise_for_provider_error(summary: CollectorSummary) -> None:
    """Raise when the poll got no rate (the provider failed past its retries), after it was reported.

    Raises
    ------
    PriceProviderError
        With the summary's error.
    """
    if summary.outcome == "provider_error":
        error = PriceProviderError(summary.error or "the price provider failed", url=summary.provider)
        error.retried = tuple(summary.retries)
        raise error
