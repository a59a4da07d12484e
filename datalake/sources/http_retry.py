"""Polite HTTP for source clients: retries with backoff or ``Retry-After``, and secrets kept out of logs.

:func:`send_with_retries` is the retry loop a source client runs each request through: 429, 5xx
and transport errors are tried again up to ``max_retries`` times, waiting what ``Retry-After``
asks for when the server says so, else an exponential backoff with full jitter (a random wait in
``[0, backoff_s * 2**(attempt-1)]``, capped at ``max_backoff_s``). The client decides what a
refusal is and how its errors read (each API has its own envelope), so the loop is the one thing
they share.

:class:`ScrubSecrets` filters the HTTP libraries' own log records while a client holds a secret
that travels in its URLs (httpx logs every request line, query string included).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self, TypeVar

import httpx

from datalake.errors import SourceError

REDACTED = "***"
#: The loggers that write request URLs (httpx at INFO, httpcore at DEBUG).
HTTP_LOGGERS = ("httpx", "httpcore")

E = TypeVar("E", bound=SourceError)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a retryable failure.

    Attributes
    ----------
    max_retries
        Retries after the first attempt (0: never retry).
    backoff_s, max_backoff_s
        Full-jitter exponential backoff: a random wait in ``[0, backoff_s * 2**(attempt-1)]``,
        capped at ``max_backoff_s``, when the server does not say how long to wait.
    max_retry_after_s
        A ``Retry-After`` longer than this gives up at once (waiting it would stall the run).
    """

    max_retries: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    max_retry_after_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """The jittered wait before retry number ``attempt`` (1-based)."""
        return rng.uniform(0.0, min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)))


def retry_after_s(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait, from delta-seconds or an HTTP date.

    None when absent or unreadable; a date in the past means 0.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def send_with_retries(
    send: Callable[[], httpx.Response],
    refusal: Callable[[httpx.Response, int], E | None],
    failure: Callable[[httpx.TransportError, int], E],
    gave_up: Callable[[E, str], E],
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    rng: random.Random,
    who: str = "the API",
    wait: Callable[[httpx.Response], float | None] | None = None,
) -> httpx.Response:
    """Send one request until it succeeds, fails for good, or the policy gives up.

    Parameters
    ----------
    send
        Sends the request once (a rate limiter, if any, waits inside it).
    refusal
        ``(response, attempt) -> error``, or None when the response is a success.
    failure
        ``(transport error, attempt) -> error`` (timeouts, refused or dropped connections).
    gave_up
        ``(last error, why) -> error`` raised when the retries run out.
    policy, sleep, rng
        How long to wait and how to wait (injectable: tests never sleep).
    who
        Who asked to wait, in the give-up message (``"TMDB"``, ``"the EIA API"``).
    wait
        ``response -> seconds`` the server asked to wait, or None; by default its ``Retry-After``
        header. A server that says it in its body instead (Open-Meteo's "try again in one minute")
        passes its own reader.

    Returns
    -------
    httpx.Response
        The successful response.

    Raises
    ------
    SourceError
        The first error that is not retryable, or ``gave_up``'s when the retries run out.
    """
    attempt = 0
    while True:
        attempt += 1
        wait_asked: float | None = None
        try:
            response = send()
        except httpx.TransportError as exc:
            error = failure(exc, attempt)
        else:
            refused = refusal(response, attempt)
            if refused is None:
                return response
            error = refused
            wait_asked = (wait or _retry_after_header)(response)
        if not error.retryable:
            raise error
        if attempt > policy.max_retries:
            raise gave_up(error, f"gave up after {attempt} attempts")
        if wait_asked is not None and wait_asked > policy.max_retry_after_s:
            limit = f"over the {policy.max_retry_after_s:.0f} s limit"
            raise gave_up(error, f"{who} asked to wait {wait_asked:.0f} s, {limit}")
        sleep(wait_asked if wait_asked is not None else policy.backoff(attempt, rng))


def gave_up_with(error: E, why: str) -> E:
    """``error`` again, its one line saying why the retries stopped; retryable (a later run may succeed).

    A ``gave_up`` for :func:`send_with_retries` that keeps every attribute of the client's own error
    (its ``cause``, URL, status and detail).
    """
    again = type(error).__new__(type(error), f"{error} ({why})")
    again.__dict__.update(error.__dict__)
    again.args = (f"{error} ({why})",)
    again.retryable = True
    return again


def _retry_after_header(response: httpx.Response) -> float | None:
    return retry_after_s(response.headers.get("Retry-After"))


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret value replaced by ``***``."""
    for value in secrets:
        if value:
            text = text.replace(value, REDACTED)
    return text


class ScrubSecrets(logging.Filter):
    """Replaces the secret values in the records of the HTTP libraries (httpx logs request URLs).

    Use :meth:`attach` when a client opens and :meth:`detach` when it closes.
    """

    def __init__(self, values: tuple[str, ...]) -> None:
        super().__init__()
        self.values = tuple(v for v in values if v)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(v in message for v in self.values):
            record.msg, record.args = scrub(message, self.values), None
        return True

    def attach(self) -> None:
        """Filter the HTTP libraries' loggers from now on."""
        for name in HTTP_LOGGERS:
            logging.getLogger(name).addFilter(self)

    def detach(self) -> None:
        """Stop filtering them."""
        for name in HTTP_LOGGERS:
            logging.getLogger(name).removeFilter(self)


class HttpSource:
    """The plumbing every source client shares: its HTTP client, retry policy, waits and log filter.

    Parameters
    ----------
    http
        An httpx client to use (left open); a new one is made, and closed by :meth:`close`, when None.
    policy
        How to retry (:class:`RetryPolicy`).
    sleep, rng
        How to wait between attempts (injectable: tests never sleep).
    secrets
        Values that travel in request URLs: the HTTP libraries' log records are scrubbed of them
        while the client is open.
    """

    def __init__(
        self,
        *,
        http: httpx.Client | None,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        rng: random.Random | None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._policy = policy
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(follow_redirects=True)
        self._log_filter = ScrubSecrets(secrets)
        self._log_filter.attach()

    def close(self) -> None:
        """Close the HTTP client when this object made it; stop filtering the HTTP logs."""
        self._log_filter.detach()
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _retrying(
        self,
        send: Callable[[], httpx.Response],
        refusal: Callable[[httpx.Response, int], E | None],
        failure: Callable[[httpx.TransportError, int], E],
        gave_up: Callable[[E, str], E],
        who: str = "the API",
        wait: Callable[[httpx.Response], float | None] | None = None,
    ) -> httpx.Response:
        """:func:`send_with_retries` with this client's policy and waits."""
        return send_with_retries(
            send,
            refusal,
            failure,
            gave_up,
            policy=self._policy,
            sleep=self._sleep,
            rng=self._rng,
            who=who,
            wait=wait,
        )
