"""The TMDB v3 API (``api.themoviedb.org/3``): credentials, a rate-limited client with polite retries.

TMDB takes either an API key (query parameter ``api_key``) or a read-access token (header
``Authorization: Bearer``); both give the same access. They come from the settings
(``TMDB_API_KEY``, ``TMDB_READ_ACCESS_TOKEN``) or from a Secrets Manager secret
(``TMDB_SECRET_ARN``). Neither ever reaches a log line, an error message, a raw key or a raw
object: URLs in messages are built without the key, every message is scrubbed of both values,
and the HTTP library's own request log is filtered while a client is open.

Errors come in TMDB's envelope (``{"success": false, "status_code": 34, "status_message": ...}``,
``status_code`` being TMDB's own code, not the HTTP status, and ``success`` sometimes missing);
they are reported in one line. 429 and 5xx are retried with exponential backoff and full jitter,
or after ``Retry-After`` when TMDB sends it (whether it still does is not confirmed). A 404 raises
:class:`TmdbNotFoundError`, which the extractors turn into a tombstone.

The daily ID export (``movie_ids_MM_DD_YYYY.json.gz`` on ``files.tmdb.org``) needs no
credentials, and none are sent there.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from datalake.errors import ConfigurationError, SourceError
from datalake.sources.http_retry import HttpSource, RetryPolicy, scrub

if TYPE_CHECKING:
    import boto3

    from datalake.settings import Settings

DEFAULT_BASE_URL = "https://api.themoviedb.org/3"
DEFAULT_EXPORT_BASE_URL = "https://files.tmdb.org/p/exports"
#: What the details request appends (credits are trimmed before they are stored).
APPEND_TO_RESPONSE = "keywords,credits"
#: TMDB refuses a change-feed window longer than this (code 20, HTTP 422).
MAX_CHANGES_WINDOW_DAYS = 14
#: TMDB serves pages 1..500 of any paged endpoint (code 22 beyond).
MAX_PAGE = 500
#: Requests per second by default: TMDB documents roughly 40-50 per second (and says it moves).
DEFAULT_RATE_PER_S = 20.0
REAL_LABEL = "tmdb"
_HEADERS = {"Accept": "application/json", "User-Agent": "datalake-tmdb/0.1"}
_DETAIL_CHARS = 200


@dataclass(frozen=True, repr=False)
class TmdbCredentials:
    """An API key or a read-access token (the token wins when both are given); never printed."""

    api_key: str | None = None
    read_access_token: str | None = None

    def __post_init__(self) -> None:
        if not (self.api_key or self.read_access_token):
            raise ConfigurationError(
                "TMDB credentials: neither an API key nor a read-access token was given",
                hint="set TMDB_READ_ACCESS_TOKEN, TMDB_API_KEY or TMDB_SECRET_ARN (or use --sample)",
            )

    @property
    def method(self) -> str:
        """``bearer`` or ``api_key``: how requests carry them."""
        return "bearer" if self.read_access_token else "api_key"

    @property
    def values(self) -> tuple[str, ...]:
        """Every secret value, to scrub from any text that leaves the client."""
        return tuple(v for v in (self.api_key, self.read_access_token) if v)

    def __repr__(self) -> str:
        return f"TmdbCredentials(method={self.method!r})"


def credentials_from_secret(payload: str, secret_id: str) -> TmdbCredentials:
    """Credentials from a secret's text: JSON ``{"read_access_token": ..., "api_key": ...}`` or one value.

    A bare value is a read-access token when it looks like one (a JWT, ``eyJ...``), else an API key.
    Errors name the secret, never its value.
    """
    text = payload.strip()
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        token = doc.get("read_access_token") or doc.get("access_token") or doc.get("token")
        key = doc.get("api_key")
        if not (isinstance(token, str) and token) and not (isinstance(key, str) and key):
            raise ConfigurationError(
                f"TMDB secret {secret_id}: JSON without a read_access_token or api_key",
                hint='store {"read_access_token": "..."} or {"api_key": "..."}',
            )
        return TmdbCredentials(api_key=key or None, read_access_token=token or None)
    if not text or any(c.isspace() for c in text):
        raise ConfigurationError(
            f"TMDB secret {secret_id}: neither JSON nor a single key or token",
            hint='store {"read_access_token": "..."} or the bare token',
        )
    return (
        TmdbCredentials(read_access_token=text) if text.startswith("eyJ") else TmdbCredentials(api_key=text)
    )


def resolve_credentials(
    settings: Settings, boto3_session: boto3.session.Session | None = None
) -> TmdbCredentials:
    """The TMDB credentials: ``TMDB_SECRET_ARN`` (Secrets Manager) when set, else the environment.

    Raises
    ------
    ConfigurationError
        When none are configured or the secret cannot be read; the message names the setting or
        the secret's ARN, never a value.
    """
    if settings.tmdb_secret_arn:
        from datalake import aws

        arn = settings.tmdb_secret_arn
        return credentials_from_secret(
            aws.secret_string(arn, "TMDB", "TMDB_SECRET_ARN", settings, boto3_session), arn
        )
    token = settings.tmdb_read_access_token.get_secret_value() if settings.tmdb_read_access_token else None
    key = settings.tmdb_api_key.get_secret_value() if settings.tmdb_api_key else None
    return TmdbCredentials(api_key=key or None, read_access_token=token or None)


# -- errors -----------------------------------------------------------------------------------


class TmdbError(SourceError):
    """TMDB refused or failed a request; ``tmdb_code`` is the envelope's ``status_code`` (None if absent)."""

    def __init__(self, message: str, *, tmdb_code: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.tmdb_code = tmdb_code


class TmdbNotFoundError(TmdbError):
    """404 (TMDB code 34): the resource is not there (a movie that was deleted or never existed)."""


def describe_error_body(body: str) -> tuple[str | None, int | None]:
    """TMDB's own words about an error in one line, and its ``status_code`` when the envelope has one."""
    text = body.strip()
    if not text:
        return None, None
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and ("status_message" in doc or "status_code" in doc):
        code = doc.get("status_code")
        code = code if isinstance(code, int) and not isinstance(code, bool) else None
        message = " ".join(str(doc.get("status_message") or "no status_message").split())
        return _clip(f"status_code {code}: {message}" if code is not None else message), code
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return _clip(" ".join(first.split())), None


def _clip(text: str) -> str:
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


# -- rate limit -------------------------------------------------------------------------------


class RateLimiter:
    """Spaces request starts at least ``1 / rate_per_s`` apart (thread-safe); clock and sleep injectable."""

    def __init__(
        self,
        rate_per_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"rate_per_s must be > 0, got {rate_per_s}")
        self.interval_s = 1.0 / rate_per_s
        self._clock, self._sleep = clock, sleep
        self._next = -float("inf")
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for the next slot; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval_s
        waited = start - now
        if waited > 0:
            self._sleep(waited)
        return waited


# -- the client -------------------------------------------------------------------------------


class TmdbClient(HttpSource):
    """A client of TMDB v3 with a client-side rate limit and retries.

    Parameters
    ----------
    credentials
        The key or token; requests carry the token as ``Authorization: Bearer`` or the key as
        ``api_key`` (which never appears in a message).
    base_url
        The API root (``https://api.themoviedb.org/3``); tests point it at loopback.
    export_base_url
        Where the daily ID exports are (no credentials are sent there).
    http
        An httpx client to use (left open); a new one is made (and closed) when None.
    rate_per_s
        Most request starts per second, retries included.
    max_retries, backoff_s, max_backoff_s, max_retry_after_s
        429/5xx/transport errors are retried ``max_retries`` times, waiting ``Retry-After`` when
        sent, else a random wait in ``[0, backoff_s * 2**(attempt-1)]`` capped at
        ``max_backoff_s``; a ``Retry-After`` over ``max_retry_after_s`` gives up at once.
    sleep, clock, rng
        Injectable so tests never wait.
    source_label
        ``tmdb``, or ``sample`` for the generator: the ``source`` of the raw envelopes.
    """

    def __init__(
        self,
        credentials: TmdbCredentials,
        base_url: str = DEFAULT_BASE_URL,
        *,
        export_base_url: str = DEFAULT_EXPORT_BASE_URL,
        http: httpx.Client | None = None,
        rate_per_s: float = DEFAULT_RATE_PER_S,
        timeout_s: float = 30.0,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        max_retry_after_s: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        source_label: str = REAL_LABEL,
    ) -> None:
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.export_base_url = export_base_url.rstrip("/")
        self.timeout_s = timeout_s
        policy = RetryPolicy(max_retries, backoff_s, max_backoff_s, max_retry_after_s)
        super().__init__(http=http, policy=policy, sleep=sleep, rng=rng, secrets=credentials.values)
        self.source_label = source_label
        self.requests_sent = 0
        self._limiter = RateLimiter(rate_per_s, clock=clock, sleep=sleep)

    def __repr__(self) -> str:
        return f"TmdbClient({self.base_url!r}, auth={self.credentials.method})"

    # -- endpoints ------------------------------------------------------------------------------
    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One authenticated GET below the API root, with retries; the JSON object TMDB sent."""
        url = f"{self.base_url}/{path.strip('/')}"
        shown = self._shown_url(url, params or {})
        sent = dict(params or {})
        headers = dict(_HEADERS)
        if self.credentials.read_access_token:
            headers["Authorization"] = f"Bearer {self.credentials.read_access_token}"
        else:
            sent["api_key"] = self.credentials.api_key
        response = self._send(url, sent, headers, shown)
        try:
            doc = response.json()
        except ValueError:
            detail, _ = describe_error_body(response.text)
            raise TmdbError(
                self._scrub(
                    f"TMDB answered {response.status_code} for {shown} with a body that is not JSON: {detail}"
                ),
                url=shown,
                status=response.status_code,
                detail=self._scrub(detail or ""),
                retryable=True,
            ) from None
        if not isinstance(doc, dict):
            raise TmdbError(f"TMDB answered {shown} with JSON that is not an object", url=shown)
        return doc

    def movie_details(self, movie_id: int) -> dict[str, Any]:
        """``GET /movie/{id}?append_to_response=keywords,credits``, unchanged.

        Raises
        ------
        TmdbNotFoundError
            When TMDB answers 404 (the id is gone).
        """
        return self.get_json(f"movie/{int(movie_id)}", {"append_to_response": APPEND_TO_RESPONSE})

    def changed_movie_ids(
        self, start: dt.date, end: dt.date, progress: Callable[[str], None] | None = None
    ) -> list[int]:
        """Every id in ``/movie/changes`` for ``start..end`` (at most 14 days), paging through.

        Ids appear once each, in the feed's order (a movie changed twice shows up once).
        """
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        if (end - start).days > MAX_CHANGES_WINDOW_DAYS:
            raise ValueError(f"{start}..{end} is longer than TMDB's {MAX_CHANGES_WINDOW_DAYS}-day maximum")
        seen: dict[int, None] = {}
        page, total_pages = 1, 1
        while page <= min(total_pages, MAX_PAGE):
            doc = self.get_json(
                "movie/changes", {"start_date": start.isoformat(), "end_date": end.isoformat(), "page": page}
            )
            for item in doc.get("results") or []:
                if isinstance(item, dict) and isinstance(item.get("id"), int):
                    seen.setdefault(item["id"], None)
            total_pages = int(doc.get("total_pages") or 1)
            if progress is not None:
                progress(f"tmdb changes {start}..{end}: page {page}/{total_pages}, {len(seen):,} ids")
            page += 1
        return list(seen)

    def export_movie_ids(self, day: dt.date) -> list[int]:
        """The ids of the daily export of ``day`` (``movie_ids_MM_DD_YYYY.json.gz``, JSON lines), sorted.

        No credentials go to the exports host. Lines that are not JSON objects with an integer
        ``id`` are skipped (the format is documented, not guaranteed).
        """
        url = f"{self.export_base_url}/movie_ids_{day:%m_%d_%Y}.json.gz"
        response = self._send(url, {}, {"User-Agent": _HEADERS["User-Agent"]}, url)
        data = response.content
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        ids = set()
        for line in data.decode("utf-8", errors="replace").splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if (
                isinstance(item, dict)
                and isinstance(item.get("id"), int)
                and not isinstance(item["id"], bool)
            ):
                ids.add(item["id"])
        return sorted(ids)

    # -- sending --------------------------------------------------------------------------------
    def _shown_url(self, url: str, params: Mapping[str, Any]) -> str:
        """The URL as messages show it: never with the key."""
        shown = {k: v for k, v in params.items() if k != "api_key"}
        return str(httpx.URL(url, params=shown)) if shown else url

    def _scrub(self, text: str) -> str:
        return scrub(text, self.credentials.values)

    def _send(
        self, url: str, params: Mapping[str, Any], headers: Mapping[str, str], shown: str
    ) -> httpx.Response:
        def send() -> httpx.Response:
            self._limiter.acquire()
            self.requests_sent += 1
            return self._http.get(url, params=params, headers=headers, timeout=self.timeout_s)

        def refusal(response: httpx.Response, attempt: int) -> TmdbError | None:
            return None if response.is_success else self._status_error(response, shown, attempt)

        def failure(exc: httpx.TransportError, attempt: int) -> TmdbError:
            reason = self._scrub(f"{type(exc).__name__}: {str(exc) or 'no detail'}")
            return TmdbError(
                f"TMDB request to {shown} failed: {reason}",
                url=shown,
                detail=reason,
                retryable=True,
                attempts=attempt,
            )

        return self._retrying(send, refusal, failure, _gave_up, who="TMDB")

    def _status_error(self, response: httpx.Response, shown: str, attempt: int) -> TmdbError:
        status = response.status_code
        detail, code = describe_error_body(response.text)
        detail = self._scrub(detail) if detail else None
        message = f"TMDB answered {status} {response.reason_phrase} for {shown}"
        kind = TmdbNotFoundError if status == 404 else TmdbError
        return kind(
            f"{message}: {detail}" if detail else message,
            url=shown,
            status=status,
            detail=detail,
            retryable=status == 429 or status >= 500,
            attempts=attempt,
            tmdb_code=code,
        )


def _gave_up(error: TmdbError, why: str) -> TmdbError:
    return TmdbError(
        f"{error} ({why})",
        url=error.url,
        status=error.status,
        detail=error.detail,
        retryable=True,
        attempts=error.attempts,
        tmdb_code=error.tmdb_code,
    )


def client_from_settings(
    settings: Settings, boto3_session: boto3.session.Session | None = None, **options: Any
) -> TmdbClient:
    """A client of the real API (or whatever ``TMDB_BASE_URL`` names) with the configured credentials."""
    return TmdbClient(
        resolve_credentials(settings, boto3_session),
        settings.tmdb_base_url,
        export_base_url=settings.tmdb_export_base_url,
        rate_per_s=settings.tmdb_rate_limit_per_s,
        **options,
    )
