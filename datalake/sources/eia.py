"""The EIA Open Data API v2 (``api.eia.gov/v2``): daily spot prices, paging, errors, the key, the raw writer.

The series come from a setting (``EIA_SERIES``, ``route:series`` pairs): by default WTI Cushing
(``RWTC``) and Brent (``RBRTE``) from ``petroleum/pri/spt``, in USD per barrel, and Henry Hub
(``RNGWHHD``) from ``natural-gas/pri/fut``, in USD per MMBtu. One request per route asks for
its series (``facets[series][]``) over a date range, ``frequency=daily``, sorted by period and
series so pages are stable, and pages through with ``offset``/``length`` at the API's 5,000-row
limit. ``response.total`` arrives as text; it is read as a count and the rows are checked
against it. The truncation warning (``"incomplete return"``, at the top level since 2.1.14 and
inside ``response`` before) is expected while pages remain and logged as a warning otherwise;
warnings never fail a run.

Errors come in two envelopes (``{"error": {"code", "message"}}`` for the key gate, HTTP 403;
``{"error": "<text>", "code": 400}`` for parameters, sometimes with HTTP 200) and each is
reported in one line naming its cause (:data:`CAUSES`). 429 and 5xx are retried with backoff,
honouring ``Retry-After`` (:mod:`datalake.sources.http_retry`).

The key (``EIA_API_KEY``, or ``EIA_SECRET_ARN`` in Secrets Manager) travels in the query string,
as EIA requires. It never reaches a log line, an error message, a raw object or a stored URL:
URLs are shown and stored without it, every message and stored text is scrubbed of it, and the
HTTP library's request log is filtered while a client is open.

Raw files hold one day's rows of one route in EIA's envelope, under
``raw/eia/<route>/year=/month=/day=/`` (the route as one folder, ``petroleum-pri-spt``) by the day
the prices are about, named
``eia-<route>-<day>-fetched-<fetch day>.json``: a re-run on the same day overwrites the same
key, a later extraction that differs (a revision) lands beside the older ones, so raw keeps the
history and the processed table takes the newest extraction of each (date, series). An
extraction equal to the newest one already there writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from datalake.errors import ConfigurationError, DataValidationError, SourceError
from datalake.sources.http_retry import HttpSource, RetryPolicy, scrub
from datalake.sources.sample import SAMPLE_LABEL
from datalake.storage.base import ObjectStore
from datalake.storage.paths import date_partition_key, join_key

if TYPE_CHECKING:
    import boto3

    from datalake.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.eia.gov/v2"
RAW_PREFIX = "raw/eia"
#: Generated responses live apart from real ones (the SAMPLE generator, ``datalake.sources.eia_sample``).
SAMPLE_RAW_PREFIX = "raw/eia_sample"
REAL_LABEL = "eia"
#: Most rows the API returns in one JSON response.
MAX_ROWS_PER_PAGE = 5_000
FREQUENCY = "daily"
INCOMPLETE_RETURN = "incomplete return"
BACKFILL_CHECKPOINT_PREFIX = "_checkpoints/eia_backfill"
_HEADERS = {"Accept": "application/json", "User-Agent": "datalake-eia/0.1"}
_DETAIL_CHARS = 200
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ROUTE = re.compile(r"^[a-z0-9-]+(/[a-z0-9-]+)*$")
_SERIES_ID = re.compile(r"^[A-Za-z0-9_.-]+$")

Progress = Callable[[str], None]


# -- series -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EiaSeries:
    """One daily series of a route, with the names the processed table gives it.

    ``name``, ``product``, ``area`` and ``unit`` are None for a series the lake does not know:
    the transform then takes EIA's own words from the rows.
    """

    route: str
    series_id: str
    name: str | None = None
    product: str | None = None
    area: str | None = None
    unit: str | None = None


#: The series the lake names itself (EIA's ``area-name`` is "NA" for all three).
KNOWN_SERIES: dict[str, EiaSeries] = {
    s.series_id: s
    for s in (
        EiaSeries("petroleum/pri/spt", "RWTC", "WTI", "crude oil", "Cushing, OK", "USD/bbl"),
        EiaSeries("petroleum/pri/spt", "RBRTE", "Brent", "crude oil", "Europe", "USD/bbl"),
        EiaSeries("natural-gas/pri/fut", "RNGWHHD", "Henry Hub", "natural gas", "Henry Hub, LA", "USD/MMBtu"),
    )
}
#: EIA's ``units`` -> the unit the processed table writes.
UNITS = {"$/BBL": "USD/bbl", "$/MMBTU": "USD/MMBtu", "$/GAL": "USD/gal", "$/MCF": "USD/Mcf"}


def parse_series(setting: str) -> tuple[EiaSeries, ...]:
    """The series of an ``EIA_SERIES`` setting: ``route:series`` pairs, comma-separated.

    Raises
    ------
    ConfigurationError
        Naming the entry that is not ``route:series``, is listed twice, or puts a known series
        on another route.
    """
    found: dict[str, EiaSeries] = {}
    for entry in (e.strip() for e in setting.split(",")):
        route, _, series_id = entry.partition(":")
        route, series_id = route.strip().strip("/"), series_id.strip()
        if not entry or not _ROUTE.match(route) or not _SERIES_ID.match(series_id):
            raise ConfigurationError(
                f"EIA_SERIES entry {entry!r}: expected route:series, e.g. petroleum/pri/spt:RWTC"
            )
        if series_id in found:
            raise ConfigurationError(f"EIA_SERIES: {series_id} is listed twice")
        known = KNOWN_SERIES.get(series_id)
        if known is not None and known.route != route:
            raise ConfigurationError(f"EIA_SERIES: {series_id} is on route {known.route}, not {route}")
        found[series_id] = known or EiaSeries(route, series_id)
    if not found:
        raise ConfigurationError("EIA_SERIES names no series")
    return tuple(found.values())


def by_route(series: Sequence[EiaSeries]) -> dict[str, tuple[str, ...]]:
    """The series ids of each route, routes and ids in the setting's order (one request per route)."""
    routes: dict[str, list[str]] = {}
    for s in series:
        routes.setdefault(s.route, []).append(s.series_id)
    return {route: tuple(ids) for route, ids in routes.items()}


def unit_of(units: str | None) -> str | None:
    """EIA's ``units`` (``$/BBL``) as the processed table writes them (``USD/bbl``)."""
    if units is None:
        return None
    return UNITS.get(units.strip().upper(), units.strip())


# -- the key ------------------------------------------------------------------------------------


def key_from_secret(payload: str, secret_id: str) -> str:
    """The API key in a secret's text: JSON ``{"api_key": ...}`` or the bare key (errors name the secret)."""
    text = payload.strip()
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        key = doc.get("api_key") or doc.get("EIA_API_KEY")
        if not isinstance(key, str) or not key.strip():
            raise ConfigurationError(
                f"EIA secret {secret_id}: JSON without an api_key", hint='store {"api_key": "..."}'
            )
        return key.strip()
    if not text or any(c.isspace() for c in text):
        raise ConfigurationError(
            f"EIA secret {secret_id}: neither JSON nor a single key", hint='store {"api_key": "..."}'
        )
    return text


def resolve_api_key(settings: Settings, boto3_session: boto3.session.Session | None = None) -> str:
    """The EIA API key: from the secret ``EIA_SECRET_ARN`` names when set, else ``EIA_API_KEY``.

    Raises
    ------
    ConfigurationError
        No key configured, or a secret that cannot be read or holds no key: the message names the
        setting or the secret, never the key.
    """
    if settings.eia_secret_arn:
        from datalake import aws

        arn = settings.eia_secret_arn
        return key_from_secret(aws.secret_string(arn, "EIA", "EIA_SECRET_ARN", settings, boto3_session), arn)
    key = settings.eia_api_key.get_secret_value().strip() if settings.eia_api_key else ""
    if not key:
        raise ConfigurationError(
            "EIA API key: not configured",
            hint="set EIA_API_KEY or EIA_SECRET_ARN (free at https://www.eia.gov/opendata/register.php), "
            "or use --sample",
        )
    return key


# -- errors -------------------------------------------------------------------------------------

#: Each cause of a failed request, in the words of its one-line message.
CAUSES = {
    "api_key_missing": "missing API key",
    "api_key_invalid": "invalid API key",
    "invalid_facet": "bad facet",
    "invalid_frequency": "bad frequency",
    "not_found": "unknown route",
    "bad_request": "bad request",
    "rate_limited": "rate limited",
    "server_error": "server error",
    "transport": "no answer",
    "bad_response": "unreadable response",
    "incomplete": "incomplete answer",
    "refused": "refused",
}
#: Causes that no retry and no other day can fix: the run stops at the first.
FATAL_CAUSES = frozenset(
    {"api_key_missing", "api_key_invalid", "invalid_facet", "invalid_frequency", "not_found"}
)


class EiaError(SourceError):
    """EIA refused or failed a request; ``cause`` is a key of :data:`CAUSES`."""

    def __init__(self, message: str, *, cause: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.cause = cause

    @property
    def fatal(self) -> bool:
        """True when the configuration is at fault (the key, a facet, a frequency, a route)."""
        return self.cause in FATAL_CAUSES


def describe_error(status: int, body: str) -> tuple[str, str | None]:
    """The cause of an error answer and EIA's own words about it, in one short line.

    Reads both envelopes: ``{"error": {"code", "message"}}`` (the key gate) and
    ``{"error": "<text>", "code": 400}`` (parameters); else the status decides.
    """
    text = body.strip()
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        doc = None
    error = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or "")
        message = " ".join(str(error.get("message") or "no message").split())
        cause = {"API_KEY_MISSING": "api_key_missing", "API_KEY_INVALID": "api_key_invalid"}.get(code)
        if cause is None:
            cause = "rate_limited" if "RATE" in code.upper() else _cause_of_status(status)
        return cause, _clip(f"{code}: {message}" if code else message)
    if isinstance(error, str):
        words = " ".join(error.split())
        lowered = words.lower()
        if lowered.startswith("invalid facet"):
            cause = "invalid_facet"
        elif lowered.startswith("invalid frequency"):
            cause = "invalid_frequency"
        elif lowered.startswith("not found"):
            cause = "not_found"
        else:
            code = doc.get("code")
            cause = _cause_of_status(status if status >= 400 else code if isinstance(code, int) else 400)
        return cause, _clip(words)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return _cause_of_status(status), _clip(" ".join(first.split())) if first else None


def _cause_of_status(status: int) -> str:
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    if status == 404:
        return "not_found"
    return "bad_request" if status == 400 else "refused"


def _clip(text: str) -> str:
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


def _hint(cause: str) -> str | None:
    if cause in ("api_key_missing", "api_key_invalid"):
        return "check EIA_API_KEY or EIA_SECRET_ARN (or use --sample)"
    if cause in ("invalid_facet", "invalid_frequency", "not_found"):
        return "check EIA_SERIES (route:series)"
    return None


def _gave_up(error: EiaError, why: str) -> EiaError:
    return EiaError(
        f"{error} ({why})",
        cause=error.cause,
        url=error.url,
        status=error.status,
        detail=error.detail,
        retryable=True,
        attempts=error.attempts,
    )


# -- the client ---------------------------------------------------------------------------------


@dataclass
class EiaFetch:
    """The rows of one route's series over a date range, gathered from every page.

    ``request_url`` is the first page's URL without the key; ``envelope`` is the response's own
    fields besides the rows (``dateFormat``, ``frequency``, the request echo without the key,
    ``apiVersion``...); ``sample`` says the answer was generated (the SAMPLE generator).
    """

    route: str
    series: tuple[str, ...]
    start: dt.date
    end: dt.date
    rows: list[Any]
    total: int
    pages: int
    request_url: str
    envelope: dict[str, Any]
    warnings: list[dict[str, str]] = field(default_factory=list)
    sample: bool = False


class EiaClient(HttpSource):
    """A client of the EIA API v2: paging, retries, errors in one line, and a key nothing shows.

    Parameters
    ----------
    api_key
        The key, sent as ``api_key`` in the query string (EIA reads it nowhere else); None sends
        none (the API answers ``API_KEY_MISSING``).
    base_url
        The API root (``https://api.eia.gov/v2``); tests point it at loopback.
    http
        An httpx client to use (left open); a new one is made (and closed) when None.
    page_rows
        Rows asked for per page (at most :data:`MAX_ROWS_PER_PAGE`).
    retry
        How 429, 5xx and transport errors are retried (:class:`~datalake.sources.http_retry.RetryPolicy`:
        5 retries, full-jitter backoff, ``Retry-After`` honoured up to 300 s).
    sleep, rng
        Injectable so tests never wait.
    """

    def __init__(
        self,
        api_key: str | None,
        base_url: str = DEFAULT_BASE_URL,
        *,
        http: httpx.Client | None = None,
        page_rows: int = MAX_ROWS_PER_PAGE,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not 1 <= page_rows <= MAX_ROWS_PER_PAGE:
            raise ValueError(f"page_rows must be 1..{MAX_ROWS_PER_PAGE}, got {page_rows}")
        self._api_key = api_key or None
        self._secrets = (self._api_key,) if self._api_key else ()
        super().__init__(
            http=http, policy=retry or RetryPolicy(), sleep=sleep, rng=rng, secrets=self._secrets
        )
        self.base_url = base_url.rstrip("/")
        self.page_rows = page_rows
        self.timeout_s = timeout_s
        self.requests_sent = 0

    def __repr__(self) -> str:
        return f"EiaClient({self.base_url!r}, key={'set' if self._api_key else 'none'})"

    def scrub(self, text: str) -> str:
        """``text`` without the key."""
        return scrub(text, self._secrets)

    # -- requests -------------------------------------------------------------------------------
    def get_json(self, path: str, params: Sequence[tuple[str, str]] = ()) -> tuple[dict[str, Any], str]:
        """One GET below the API root, with retries: (EIA's JSON object, the URL shown without the key).

        Raises
        ------
        EiaError
            For an error answer (also one that came with HTTP 200), a body that is not a JSON
            object, or a failure the retries did not overcome; one line, naming the cause.
        """
        url = f"{self.base_url}/{path.strip('/')}/"
        shown = str(httpx.URL(url, params=list(params))) if params else url
        sent = [("api_key", self._api_key), *params] if self._api_key else list(params)

        def send() -> httpx.Response:
            self.requests_sent += 1
            return self._http.get(url, params=sent, headers=_HEADERS, timeout=self.timeout_s)

        def refusal(response: httpx.Response, attempt: int) -> EiaError | None:
            if response.is_success:
                return None
            return self._error(response.status_code, response.text, shown, attempt)

        def failure(exc: httpx.TransportError, attempt: int) -> EiaError:
            reason = self.scrub(f"{type(exc).__name__}: {str(exc) or 'no detail'}")
            return EiaError(
                f"EIA {CAUSES['transport']} ({shown}): {reason}",
                cause="transport",
                url=shown,
                detail=reason,
                retryable=True,
                attempts=attempt,
            )

        response = self._retrying(send, refusal, failure, _gave_up, who="EIA")
        try:
            doc = response.json()
        except ValueError:
            raise self._error(response.status_code, response.text, shown, 1, "bad_response") from None
        if not isinstance(doc, dict):
            raise EiaError(
                f"EIA {CAUSES['bad_response']} ({shown}): JSON that is not an object",
                cause="bad_response",
                url=shown,
            )
        if "error" in doc:  # before 2.1.10 a parameter error could come with HTTP 200
            raise self._error(response.status_code, response.text, shown, 1)
        return doc, shown

    def _error(self, status: int, body: str, shown: str, attempt: int, cause: str | None = None) -> EiaError:
        found, detail = describe_error(status, body)
        cause = cause or found
        detail = self.scrub(detail) if detail else None
        message = f"EIA {CAUSES[cause]} (HTTP {status}, {shown})"
        error = EiaError(
            f"{message}: {detail}" if detail else message,
            cause=cause,
            url=shown,
            status=status,
            detail=detail,
            retryable=cause in ("rate_limited", "server_error"),
            attempts=attempt,
        )
        error.hint = _hint(cause)
        return error

    def route_metadata(self, route: str) -> dict[str, Any]:
        """``GET /<route>/``: the route's frequencies, facets, ``startPeriod`` and ``endPeriod``."""
        doc, shown = self.get_json(route)
        response = doc.get("response")
        if not isinstance(response, dict):
            raise EiaError(
                f"EIA {CAUSES['bad_response']} ({shown}): no response object", cause="bad_response", url=shown
            )
        return response

    def first_day(self, route: str) -> dt.date:
        """The first day the route has data for (its ``startPeriod``)."""
        start = str(self.route_metadata(route).get("startPeriod") or "")
        if not _DAY.match(start[:10]):
            raise EiaError(
                f"EIA {CAUSES['bad_response']} ({route}): startPeriod {start!r} is not a day",
                cause="bad_response",
                url=route,
            )
        return dt.date.fromisoformat(start[:10])

    def fetch(self, route: str, series: Sequence[str], start: dt.date, end: dt.date) -> EiaFetch:
        """Every daily row of ``series`` on ``route`` from ``start`` to ``end`` (both included), page by page.

        Raises
        ------
        EiaError
            As :meth:`get_json`, or ``incomplete`` when the pages hold fewer rows than
            ``response.total`` counts.
        """
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        base = data_params(series, start, end)
        rows: list[Any] = []
        warnings: list[dict[str, str]] = []
        total: int | None = None
        pages, first_url, envelope, sample = 0, "", {}, False
        while True:
            params = [*base, ("offset", str(len(rows))), ("length", str(self.page_rows))]
            doc, shown = self.get_json(f"{route}/data", params)
            response = doc.get("response")
            data = response.get("data") if isinstance(response, dict) else None
            if not isinstance(data, list):
                raise EiaError(
                    f"EIA {CAUSES['bad_response']} ({shown}): no response.data list",
                    cause="bad_response",
                    url=shown,
                )
            page_total = read_total(response.get("total"), shown)
            if pages and data and data == rows[-len(data) :]:
                # An API that ignores offset would answer page one forever: count would match, rows not.
                raise EiaError(
                    f"EIA {CAUSES['bad_response']} ({shown}): the same rows again at offset {len(rows):,}",
                    cause="bad_response",
                    url=shown,
                )
            if total is not None and page_total != total:
                log.warning("EIA %s: total changed from %d to %d between pages", route, total, page_total)
            total = page_total
            pages += 1
            first_url = first_url or shown
            envelope = envelope or self._envelope(doc)  # the first page's echo: offset 0
            sample = sample or doc.get("sample") is True
            rows.extend(data)  # every row, objects or not: the transform quarantines what it cannot read
            for warning in page_warnings(doc):
                self._warned(route, warning, len(rows), total)
                if warning not in warnings:
                    warnings.append(warning)
            if not data or len(rows) >= total:
                break
        if len(rows) < total:
            raise EiaError(
                f"EIA {CAUSES['incomplete']} ({first_url}): {len(rows):,} of the {total:,} rows it counted",
                cause="incomplete",
                url=first_url,
                retryable=True,
            )
        return EiaFetch(
            route, tuple(series), start, end, rows, total, pages, first_url, envelope, warnings, sample
        )

    def _envelope(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The response's fields besides the rows, the request echo without the key (2.1.8 echoed it)."""
        response = doc.get("response") or {}
        kept = {k: v for k, v in response.items() if k not in ("data", "total", "warnings")}
        request = doc.get("request")
        if isinstance(request, dict) and isinstance(request.get("params"), dict):
            request = {**request, "params": {k: v for k, v in request["params"].items() if k != "api_key"}}
        envelope = {
            "response": kept,
            "request": request,
            **{k: doc[k] for k in ("apiVersion", "ExcelAddInVersion") if k in doc},
        }
        # Whatever else the body says goes through the scrubber: no stored text may hold the key.
        return json.loads(self.scrub(json.dumps(envelope)))

    def _warned(self, route: str, warning: Mapping[str, str], rows: int, total: int) -> None:
        text = f"{warning.get('warning')}: {warning.get('description')}"
        if warning.get("warning") == INCOMPLETE_RETURN and rows < total:
            log.info(
                "EIA %s: page truncated (%s); paging on at offset %s of %s",
                route,
                text,
                f"{rows:,}",
                f"{total:,}",
            )
        else:
            log.warning(
                "EIA %s: %s (%s of %s rows received)", route, self.scrub(text), f"{rows:,}", f"{total:,}"
            )


def data_params(series: Sequence[str], start: dt.date, end: dt.date) -> list[tuple[str, str]]:
    """The query of a daily data request (no ``offset``, ``length`` or key), sorted for stable pages."""
    return [
        ("frequency", FREQUENCY),
        ("data[0]", "value"),
        *(("facets[series][]", s) for s in series),
        ("start", start.isoformat()),
        ("end", end.isoformat()),
        ("sort[0][column]", "period"),
        ("sort[0][direction]", "asc"),
        ("sort[1][column]", "series"),
        ("sort[1][direction]", "asc"),
    ]


def read_total(value: Any, url: str) -> int:
    """``response.total`` as a count: EIA sends it as text ("15"), its OpenAPI says integer."""
    text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
    if not text.isdigit():
        raise EiaError(
            f"EIA {CAUSES['bad_response']} ({url}): response.total {value!r} is not a count",
            cause="bad_response",
            url=url,
        )
    return int(text)


def page_warnings(doc: Mapping[str, Any]) -> list[dict[str, str]]:
    """The warnings of a page, at the top level (2.1.14) or inside ``response`` (2.1.8)."""
    found = []
    response = doc.get("response")
    for where in (doc.get("warnings"), response.get("warnings") if isinstance(response, dict) else None):
        for warning in where if isinstance(where, list) else []:
            if isinstance(warning, dict):
                found.append(
                    {"warning": str(warning.get("warning")), "description": str(warning.get("description"))}
                )
    return found


def client_from_settings(
    settings: Settings, boto3_session: boto3.session.Session | None = None, **options: Any
) -> EiaClient:
    """A client of the real API (or whatever ``EIA_BASE_URL`` names) with the configured key."""
    return EiaClient(resolve_api_key(settings, boto3_session), settings.eia_base_url, **options)


# -- raw zone -----------------------------------------------------------------------------------


def route_slug(route: str) -> str:
    """``petroleum/pri/spt`` -> ``petroleum-pri-spt``: the route's raw folder and file names.

    One folder level, as every source's datasets have (``raw/<source>/<dataset>/``): the raw
    crawler makes a table of each folder at that depth.
    """
    return route.strip("/").replace("/", "-")


def raw_key(route: str, day: dt.date, fetched_on: dt.date, *, prefix: str = RAW_PREFIX) -> str:
    """The key of one route's rows of ``day`` as extracted on ``fetched_on``."""
    name = f"eia-{route_slug(route)}-{day.isoformat()}-fetched-{fetched_on.isoformat()}.json"
    return date_partition_key(join_key(prefix, route_slug(route)), day, name)


def unplaced_key(route: str, fetched_on: dt.date, *, prefix: str = RAW_PREFIX) -> str:
    """Where rows whose ``period`` is not a day land (under the fetch day); the transform quarantines them."""
    name = f"eia-{route_slug(route)}-unplaced-fetched-{fetched_on.isoformat()}.json"
    return date_partition_key(join_key(prefix, route_slug(route)), fetched_on, name)


def period_day(row: Mapping[str, Any]) -> dt.date | None:
    """The day a row is about (its ``period``), or None when that is not a YYYY-MM-DD day."""
    period = row.get("period") if isinstance(row, Mapping) else None
    if not isinstance(period, str) or not _DAY.match(period):
        return None
    try:
        return dt.date.fromisoformat(period)
    except ValueError:
        return None


def day_document(
    fetch: EiaFetch, day: dt.date | None, rows: list[Any], fetched_at: dt.datetime
) -> dict[str, Any]:
    """One day's rows of a fetch in EIA's envelope, with where and when they came from (``datalake``)."""
    envelope = fetch.envelope
    doc: dict[str, Any] = {
        "response": {**envelope.get("response", {}), "total": str(len(rows)), "data": rows},
        "request": envelope.get("request"),
        **{k: envelope[k] for k in ("apiVersion", "ExcelAddInVersion") if k in envelope},
    }
    if fetch.warnings:
        doc["warnings"] = fetch.warnings
    if fetch.sample:
        doc["sample"] = True
    doc["datalake"] = {
        "source": SAMPLE_LABEL if fetch.sample else REAL_LABEL,
        "route": fetch.route,
        "day": day.isoformat() if day else None,
        "series": list(fetch.series),
        "fetched_at": fetched_at.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "request_url": fetch.request_url,
        "request_rows": fetch.total,
        "pages": fetch.pages,
    }
    return doc


def _canonical(rows: list[Any]) -> str:
    return json.dumps(sorted(json.dumps(r, sort_keys=True) for r in rows))


def _rows_of(store: ObjectStore, key: str) -> str | None:
    """The canonical rows of a raw file, or None when it cannot be read (then it is written again)."""
    try:
        return _canonical(store.get_json(key)["response"]["data"])
    except (ValueError, KeyError, TypeError):
        return None


def _newest_extraction(store: ObjectStore, route: str, day: dt.date, prefix: str) -> str | None:
    """The key of the newest extraction of ``day`` already in raw (names sort by fetch day)."""
    folder = raw_key(route, day, day, prefix=prefix).rsplit("/", 1)[0]
    stem = f"eia-{route_slug(route)}-{day.isoformat()}-fetched-"
    keys = [k for k in store.list_keys(folder) if k.rsplit("/", 1)[-1].startswith(stem)]
    return max(keys) if keys else None


@dataclass
class Landed:
    """What writing one fetch did: day files written and left alone, their rows, their keys."""

    days_written: int = 0
    days_unchanged: int = 0
    rows_written: int = 0
    rows_unchanged: int = 0
    keys: list[str] = field(default_factory=list)


def write_fetch(
    store: ObjectStore, fetch: EiaFetch, fetched_at: dt.datetime, *, prefix: str = RAW_PREFIX
) -> Landed:
    """Write a fetch's rows, one file per day they are about, skipping days whose newest extraction is equal.

    Rows whose ``period`` is not a day land in one file under the fetch day (the transform
    quarantines them with the reason). Refuses (DataValidationError) sample rows under the real
    prefix.
    """
    if fetch.sample and prefix.strip("/") == RAW_PREFIX:
        raise DataValidationError(
            "source", f"sample data never goes under {RAW_PREFIX}/ (use {SAMPLE_RAW_PREFIX})"
        )
    fetched_on = fetched_at.astimezone(dt.UTC).date()
    days: dict[dt.date | None, list[Any]] = {}
    for row in fetch.rows:
        days.setdefault(period_day(row), []).append(row)
    landed = Landed()
    for day in sorted(days, key=lambda d: (d is None, d or dt.date.min)):
        rows = days[day]
        if day is None:
            key = unplaced_key(fetch.route, fetched_on, prefix=prefix)
        else:
            key = raw_key(fetch.route, day, fetched_on, prefix=prefix)
            newest = _newest_extraction(store, fetch.route, day, prefix)
            if newest is not None and _rows_of(store, newest) == _canonical(rows):
                landed.days_unchanged += 1
                landed.rows_unchanged += len(rows)
                continue
        store.put_json(key, day_document(fetch, day, rows, fetched_at))
        landed.days_written += 1
        landed.rows_written += len(rows)
        landed.keys.append(key)
    return landed


# -- runs ---------------------------------------------------------------------------------------


@dataclass
class IngestSummary:
    """What an ingest run did, in counts a handler and the CLI can report.

    ``rows_received == rows_written + rows_unchanged``; ``chunks`` counts (route, date range)
    requests planned and equals ``chunks_fetched + chunks_skipped + len(failed) + not_attempted``.
    ``latest`` holds, per series, its newest day with a price in what was received.
    """

    series: list[str]
    start: str
    end: str
    chunks: int = 0
    chunks_fetched: int = 0
    chunks_skipped: int = 0
    not_attempted: int = 0
    requests: int = 0
    pages: int = 0
    rows_received: int = 0
    rows_written: int = 0
    rows_unchanged: int = 0
    days_written: int = 0
    days_unchanged: int = 0
    keys: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped: str | None = None

    def add(self, fetch: EiaFetch, landed: Landed) -> None:
        """Count one fetch and what writing it did."""
        self.chunks_fetched += 1
        self.pages += fetch.pages
        self.rows_received += len(fetch.rows)
        self.rows_written += landed.rows_written
        self.rows_unchanged += landed.rows_unchanged
        self.days_written += landed.days_written
        self.days_unchanged += landed.days_unchanged
        self.keys += landed.keys
        for warning in fetch.warnings:
            text = f"{fetch.route}: {warning['warning']}"
            if text not in self.warnings:
                self.warnings.append(text)
        for row in fetch.rows:
            day = period_day(row)
            price = _number(row.get("value")) if day is not None else None
            if day is None or price is None:
                continue
            series_id = str(row.get("series"))
            if series_id not in self.latest or self.latest[series_id]["date"] < day.isoformat():
                known = KNOWN_SERIES.get(series_id)
                self.latest[series_id] = {
                    "date": day.isoformat(),
                    "price": price,
                    "unit": (known.unit if known else None) or unit_of(row.get("units")),
                    "name": (known.name if known else None)
                    or str(row.get("series-description") or series_id),
                }

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "failed_count": len(self.failed)}


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def year_chunks(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """``start..end`` cut at calendar years: one request each (about 260 days a series)."""
    chunks, first = [], start
    while first <= end:
        last = min(dt.date(first.year, 12, 31), end)
        chunks.append((first, last))
        first = last + dt.timedelta(days=1)
    return chunks


def _chunk_id(route: str, series: Sequence[str], first: dt.date, last: dt.date) -> str:
    return f"{route}|{','.join(sorted(series))}|{first.isoformat()}|{last.isoformat()}"


def checkpoint_key(label: str) -> str:
    """The backfill checkpoint of real (``eia``) or SAMPLE (``sample``) data."""
    return join_key(BACKFILL_CHECKPOINT_PREFIX, f"{label}.json")


def _load_done(store: ObjectStore, key: str) -> set[str]:
    return set(store.get_json(key).get("done", [])) if store.exists(key) else set()


def _fetch_chunks(
    client: EiaClient,
    store: ObjectStore,
    chunks: list[tuple[str, tuple[str, ...], dt.date, dt.date]],
    summary: IngestSummary,
    fetched_at: dt.datetime,
    *,
    prefix: str,
    progress: Progress | None,
    done: set[str] | None = None,
    settled_before: dt.date | None = None,
    checkpoint: str | None = None,
    max_consecutive_failures: int = 3,
) -> None:
    """Fetch and write each (route, series, first, last) chunk; record failures and stop after an outage.

    With ``done`` (a backfill's checkpoint), chunks in it are skipped, and each chunk that ends
    before ``settled_before`` (past the daily run's revision window) is added once written.
    """
    summary.chunks += len(chunks)
    outage = 0
    for index, (route, series, first, last) in enumerate(chunks):
        if outage >= max_consecutive_failures:
            summary.not_attempted = len(chunks) - index
            summary.stopped = (
                f"stopped after {outage} failures in a row; {summary.not_attempted} chunk(s) left"
            )
            _say(progress, f"eia: {summary.stopped}")
            return
        chunk = _chunk_id(route, series, first, last)
        if done is not None and chunk in done:
            summary.chunks_skipped += 1
            continue
        before = client.requests_sent
        try:
            fetch = client.fetch(route, series, first, last)
            landed = write_fetch(store, fetch, fetched_at, prefix=prefix)
        except EiaError as error:
            summary.requests += client.requests_sent - before
            if error.fatal:
                raise
            outage += 1
            summary.failed.append(
                {"route": route, "start": first.isoformat(), "end": last.isoformat(), "reason": str(error)}
            )
            _say(progress, f"eia {route} {first}..{last}: failed: {error}")
            continue
        outage = 0
        summary.requests += client.requests_sent - before
        summary.add(fetch, landed)
        _say(
            progress,
            f"eia {route} {first}..{last}: {len(fetch.rows):,} rows in {fetch.pages} page(s), "
            f"{landed.days_written:,} day file(s) written, {landed.days_unchanged:,} unchanged",
        )
        if (
            done is not None
            and checkpoint is not None
            and settled_before is not None
            and last < settled_before
        ):
            done.add(chunk)
            store.put_json(
                checkpoint, {"done": sorted(done), "updated_at": fetched_at.isoformat(timespec="seconds")}
            )


def backfill(
    client: EiaClient,
    store: ObjectStore,
    series: Sequence[EiaSeries],
    start: dt.date | None,
    end: dt.date,
    now: dt.datetime,
    *,
    prefix: str = RAW_PREFIX,
    refresh: bool = False,
    lookback_days: int = 14,
    progress: Progress | None = None,
) -> IngestSummary:
    """Fetch ``start..end`` of every series into raw, a calendar year per request and route; resumable.

    Parameters
    ----------
    client, store
        Where to read from and write to.
    series
        The series (:func:`parse_series`); one request per route covers its series.
    start
        First day; None starts each route at the first day it has data for (its ``startPeriod``).
    end
        Last day (included).
    now
        The run's time: it names the extraction and settles what the checkpoint may skip.
    prefix
        :data:`RAW_PREFIX`, or :data:`SAMPLE_RAW_PREFIX` for the generator.
    refresh
        Fetch again the chunks the checkpoint records as done.
    lookback_days
        Chunks reaching into the last ``lookback_days`` days are never marked done (the daily run
        fetches them again anyway, for revisions).
    progress
        Called with one line per chunk.

    Returns
    -------
    IngestSummary
        Counts, failures with their reasons, keys written and the newest price of each series.
    """
    routes = by_route(series)
    chunks = []
    for route, ids in routes.items():
        first = start if start is not None else client.first_day(route)
        if first > end:
            continue
        chunks += [(route, ids, a, b) for a, b in year_chunks(first, end)]
    summary = IngestSummary(
        series=[s.series_id for s in series],
        start=min((c[2] for c in chunks), default=end).isoformat(),
        end=end.isoformat(),
    )
    key = checkpoint_key(SAMPLE_LABEL if prefix.strip("/") == SAMPLE_RAW_PREFIX else REAL_LABEL)
    done = set() if refresh else _load_done(store, key)
    settled = now.astimezone(dt.UTC).date() - dt.timedelta(days=lookback_days)
    _fetch_chunks(
        client,
        store,
        chunks,
        summary,
        now,
        prefix=prefix,
        progress=progress,
        done=done,
        settled_before=settled,
        checkpoint=key,
    )
    return summary


def daily(
    client: EiaClient,
    store: ObjectStore,
    series: Sequence[EiaSeries],
    now: dt.datetime,
    *,
    lookback_days: int = 14,
    prefix: str = RAW_PREFIX,
    progress: Progress | None = None,
) -> IngestSummary:
    """Fetch again the last ``lookback_days`` days up to ``now``'s UTC day, for every series (revisions win).

    Days whose rows equal their newest extraction write nothing; changed days land as a new
    extraction beside the older ones.
    """
    today = now.astimezone(dt.UTC).date()
    first = today - dt.timedelta(days=lookback_days)
    summary = IngestSummary(
        series=[s.series_id for s in series], start=first.isoformat(), end=today.isoformat()
    )
    chunks = [(route, ids, first, today) for route, ids in by_route(series).items()]
    _fetch_chunks(client, store, chunks, summary, now, prefix=prefix, progress=progress)
    return summary


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)
