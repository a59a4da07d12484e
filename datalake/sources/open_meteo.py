"""Open-Meteo (no key): hourly forecasts and the archive of past weather, the raw writer, and the
raw documents read back as ``weather_hourly`` rows.

Two APIs, one request shape (``open-meteo.com/en/docs``): the forecast API
(``api.open-meteo.com/v1/forecast``, ``forecast_days``) for the next days, the archive API
(``archive-api.open-meteo.com/v1/archive``, ``start_date``/``end_date``, both included) for history.
Each request asks for the six hourly variables of :data:`HOURLY` for every configured location at
once (comma-separated coordinates: the answer is then a JSON array of one envelope per location,
in request order; a single location answers a bare object), always with ``timezone=UTC``: a
response uses one fixed ``utc_offset_seconds``, so any other zone mislabels the hours across a
daylight-saving change. The requested coordinates are kept (the answer's are the grid cell's).

Errors come as ``{"error": true, "reason": "..."}`` (HTTP 400 for parameters, 429 for the rate
limits) and each is reported in one line naming its cause (:data:`CAUSES`) and Open-Meteo's reason.
429 and 5xx are retried (:mod:`datalake.sources.http_retry`): Open-Meteo sets no ``Retry-After``
(it is honoured when present), its reason says which counter is full ("Minutely", "Hourly",
"Daily API request limit exceeded") and the counters reset at the next minute, hour or UTC day,
so the client waits until then, and gives up at once when that is past the policy's limit. A body
that is not JSON (the server appends "Unexpected error while streaming data" to a 200 that failed
late) is retried too.

Raw zone (``raw/weather/``, one folder per dataset below it):

- forecasts: ``forecast/year=/month=/day=/open-meteo-forecast-<location>-issued-<stamp>.json``,
  one file per location and issue, under the UTC day it was issued. Every forecast is stored
  with its issue time (``datalake.issued_at``): what was forecast at 12:00 on D-1 is what a
  day-ahead backtest may use. A re-run of the same issue writes the same key.
- archive: ``archive/year=/month=/day=/open-meteo-archive-<location>-<day>.json``, one file per
  location and UTC day the hours are about; a re-run overwrites the same key. Days the archive
  has no value for yet (the reanalysis comes about 5 days late: whole days of nulls) are not
  written, so they never replace a day already landed.

Generated answers (``datalake.sources.open_meteo_sample``) carry ``"sample": true``; their files
go under ``sample_forecast/`` and ``sample_archive/`` and their rows say ``source = "sample"``.
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
import pandas as pd

from datalake.errors import SourceError
from datalake.sources.http_retry import HttpSource, RetryPolicy, gave_up_with, retry_after_s
from datalake.sources.sample import SAMPLE_LABEL
from datalake.storage.base import ObjectStore
from datalake.storage.paths import date_partition_key, join_key
from datalake.weather.frames import COLUMNS, conform
from datalake.weather.locations import WeatherLocation

if TYPE_CHECKING:
    from datalake.settings import Settings

log = logging.getLogger(__name__)

FORECAST_URL = "https://api.open-meteo.com/v1/forecast"
ARCHIVE_URL = "https://archive-api.open-meteo.com/v1/archive"
RAW_PREFIX = "raw/weather"
REAL_LABEL = "open-meteo"
#: The raw folders below :data:`RAW_PREFIX`, per API and label.
FOLDERS = {
    ("forecast", REAL_LABEL): "forecast",
    ("archive", REAL_LABEL): "archive",
    ("forecast", SAMPLE_LABEL): "sample_forecast",
    ("archive", SAMPLE_LABEL): "sample_archive",
}
#: Open-Meteo's hourly variable -> (the ``weather_hourly`` column, the unit Open-Meteo must send).
HOURLY: dict[str, tuple[str, str]] = {
    "temperature_2m": ("temperature_c", "°C"),
    "apparent_temperature": ("apparent_temperature_c", "°C"),
    "relative_humidity_2m": ("relative_humidity_pct", "%"),
    "wind_speed_10m": ("wind_speed_kmh", "km/h"),
    "cloud_cover": ("cloud_cover_pct", "%"),
    # The mean of the hour before the stamp (13:00 covers 12:00-13:00); the others are instants.
    "shortwave_radiation": ("shortwave_radiation_wm2", "W/m²"),
}
#: The forecast API serves up to 16 days ahead.
MAX_FORECAST_DAYS = 16
_HEADERS = {"Accept": "application/json", "User-Agent": "datalake-weather/0.1"}
_DETAIL_CHARS = 200
_UNKNOWN_VARIABLE = re.compile(r"from invalid String value (\S+?)\.?(?: for key (\S+))?$")

Progress = Callable[[str], None]


# -- errors -------------------------------------------------------------------------------------

#: Each cause of a failed request, in the words of its one-line message.
CAUSES = {
    "unknown_variable": "unknown variable",
    "out_of_range": "parameter out of range",
    "bad_location": "bad coordinates",
    "too_much_data": "request too large",
    "bad_request": "bad request",
    "rate_limited": "rate limited",
    "server_error": "server error",
    "transport": "no answer",
    "bad_response": "unreadable response",
}


class OpenMeteoError(SourceError):
    """Open-Meteo refused or failed a request; ``cause`` is a key of :data:`CAUSES`."""

    def __init__(self, message: str, *, cause: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.cause = cause


def describe_error(status: int, body: str) -> tuple[str, str | None]:
    """The cause of an error answer and Open-Meteo's reason, in one short line.

    Reads ``{"error": true, "reason": ...}`` in either key order; else the status decides.
    """
    text = body.strip()
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        doc = None
    reason = doc.get("reason") if isinstance(doc, dict) else None
    if not isinstance(reason, str):
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return _cause_of_status(status), _clip(" ".join(first.split())) if first else None
    words = " ".join(reason.split())
    lowered = words.lower()
    unknown = _UNKNOWN_VARIABLE.search(words)
    if status == 429 or "limit exceeded" in lowered or "too many concurrent" in lowered:
        return "rate_limited", _clip(words)
    if unknown is not None:
        # The Swift type named before it changes between server versions; the tail does not.
        return "unknown_variable", _clip(f"{unknown.group(1)!r} is not a variable it knows ({words})")
    if "out of allowed range" in lowered:
        return "out_of_range", _clip(words)
    if lowered.startswith(("latitude", "longitude")):
        return "bad_location", _clip(words)
    if "too much data" in lowered:
        return "too_much_data", _clip(words)
    return _cause_of_status(status if status >= 400 else 400), _clip(words)


def _cause_of_status(status: int) -> str:
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    return "bad_request"


def _clip(text: str) -> str:
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


def limit_wait_s(reason: str | None, now: dt.datetime) -> float | None:
    """Seconds until the rate-limit counter a 429's reason names resets (next minute, hour, UTC day).

    None when the reason names none of them (then the backoff decides).
    """
    lowered = (reason or "").lower()
    now = now.astimezone(dt.UTC)
    if "minutely" in lowered:
        reset = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    elif "hourly" in lowered:
        reset = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    elif "daily" in lowered:
        reset = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    else:
        return None
    return max(1.0, (reset - now).total_seconds())


# -- the client ---------------------------------------------------------------------------------


@dataclass
class OpenMeteoFetch:
    """One answer of the forecast or archive API: an envelope per requested location, in order.

    ``request_url`` is the URL asked; ``sample`` says the answer was generated.
    """

    api: str
    locations: tuple[WeatherLocation, ...]
    envelopes: list[dict[str, Any]]
    request_url: str
    sample: bool = False

    @property
    def hours(self) -> int:
        """Hourly stamps received, over every location."""
        return sum(len((e.get("hourly") or {}).get("time") or []) for e in self.envelopes)


class OpenMeteoClient(HttpSource):
    """A client of Open-Meteo's forecast and archive APIs: retries, rate limits, errors in one line.

    Parameters
    ----------
    forecast_url, archive_url
        The two endpoints (settings ``OPEN_METEO_FORECAST_URL``, ``OPEN_METEO_ARCHIVE_URL``);
        tests point them at loopback.
    http
        An httpx client to use (left open); a new one is made (and closed) when None.
    retry
        How 429, 5xx, transport errors and unreadable bodies are retried.
    sleep, rng, clock
        Injectable so tests never wait (``clock`` tells when a rate-limit counter resets).
    """

    def __init__(
        self,
        forecast_url: str = FORECAST_URL,
        archive_url: str = ARCHIVE_URL,
        *,
        http: httpx.Client | None = None,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        super().__init__(http=http, policy=retry or RetryPolicy(), sleep=sleep, rng=rng)
        self.forecast_url = forecast_url.rstrip("/")
        self.archive_url = archive_url.rstrip("/")
        self.timeout_s = timeout_s
        self.requests_sent = 0
        self._clock = clock

    def __repr__(self) -> str:
        return f"OpenMeteoClient({self.forecast_url!r}, {self.archive_url!r})"

    def get_envelopes(
        self, url: str, params: Sequence[tuple[str, str]], expected: int
    ) -> tuple[list[Any], str]:
        """One GET with retries: (one envelope per location, the URL asked).

        Raises
        ------
        OpenMeteoError
            For an error answer (also one with HTTP 200), a body that is not JSON after the retries,
            or an answer with another number of envelopes than ``expected``; one line, naming the cause.
        """
        shown = str(httpx.URL(url, params=list(params)))

        def send() -> httpx.Response:
            self.requests_sent += 1
            return self._http.get(url, params=list(params), headers=_HEADERS, timeout=self.timeout_s)

        def refusal(response: httpx.Response, attempt: int) -> OpenMeteoError | None:
            if not response.is_success:
                return self._error(response.status_code, response.text, shown, attempt)
            try:
                response.json()
            except ValueError:
                # A 200 that failed while streaming ends in plain text: try again.
                return self._error(response.status_code, response.text, shown, attempt, "bad_response")
            return None

        def failure(exc: httpx.TransportError, attempt: int) -> OpenMeteoError:
            reason = f"{type(exc).__name__}: {str(exc) or 'no detail'}"
            return OpenMeteoError(
                f"Open-Meteo {CAUSES['transport']} ({shown}): {reason}",
                cause="transport",
                url=shown,
                detail=reason,
                retryable=True,
                attempts=attempt,
            )

        def wait(response: httpx.Response) -> float | None:
            asked = retry_after_s(response.headers.get("Retry-After"))
            if asked is not None or response.status_code != 429:
                return asked
            return limit_wait_s(describe_error(429, response.text)[1], self._clock())

        response = self._retrying(send, refusal, failure, gave_up_with, who="Open-Meteo", wait=wait)
        doc = response.json()
        if isinstance(doc, dict) and doc.get("error") is True:
            raise self._error(response.status_code, response.text, shown, 1)
        envelopes = doc if isinstance(doc, list) else [doc]
        if len(envelopes) != expected or not all(isinstance(e, dict) for e in envelopes):
            raise OpenMeteoError(
                f"Open-Meteo {CAUSES['bad_response']} ({shown}): {len(envelopes)} answer(s) for "
                f"{expected} location(s)",
                cause="bad_response",
                url=shown,
            )
        return envelopes, shown

    def _error(
        self, status: int, body: str, shown: str, attempt: int, cause: str | None = None
    ) -> OpenMeteoError:
        found, detail = describe_error(status, body)
        cause = cause or found
        message = f"Open-Meteo {CAUSES[cause]} (HTTP {status}, {shown})"
        return OpenMeteoError(
            f"{message}: {detail}" if detail else message,
            cause=cause,
            url=shown,
            status=status,
            detail=detail,
            retryable=cause in ("rate_limited", "server_error", "bad_response"),
            attempts=attempt,
        )

    def forecast(self, locations: Sequence[WeatherLocation], days: int = 7) -> OpenMeteoFetch:
        """The hourly forecast of the next ``days`` days (from 00:00 UTC today) for every location."""
        if not 1 <= days <= MAX_FORECAST_DAYS:
            raise ValueError(f"forecast days must be 1..{MAX_FORECAST_DAYS}, got {days}")
        params = [*location_params(locations), ("forecast_days", str(days))]
        envelopes, shown = self.get_envelopes(self.forecast_url, params, len(locations))
        return OpenMeteoFetch("forecast", tuple(locations), envelopes, shown, _is_sample(envelopes))

    def archive(self, locations: Sequence[WeatherLocation], start: dt.date, end: dt.date) -> OpenMeteoFetch:
        """The past hours of ``start..end`` (both included, UTC days) for every location."""
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        params = [
            *location_params(locations),
            ("start_date", start.isoformat()),
            ("end_date", end.isoformat()),
        ]
        envelopes, shown = self.get_envelopes(self.archive_url, params, len(locations))
        return OpenMeteoFetch("archive", tuple(locations), envelopes, shown, _is_sample(envelopes))


def location_params(locations: Sequence[WeatherLocation]) -> list[tuple[str, str]]:
    """The query every request shares: coordinates in order, the six variables, ``timezone=UTC``."""
    if not locations:
        raise ValueError("no weather location to ask for")
    return [
        ("latitude", ",".join(f"{loc.latitude:g}" for loc in locations)),
        ("longitude", ",".join(f"{loc.longitude:g}" for loc in locations)),
        ("hourly", ",".join(HOURLY)),
        ("timezone", "UTC"),
    ]


def _is_sample(envelopes: Sequence[Mapping[str, Any]]) -> bool:
    return any(e.get("sample") is True for e in envelopes)


def client_from_settings(settings: Settings, **options: Any) -> OpenMeteoClient:
    """A client of the endpoints the settings name (Open-Meteo's own by default)."""
    return OpenMeteoClient(settings.open_meteo_forecast_url, settings.open_meteo_archive_url, **options)


# -- raw zone -----------------------------------------------------------------------------------


def slug(name: str) -> str:
    """A location's name as a file name part (``San Sebastián`` -> ``san-sebastián``)."""
    return re.sub(r"[^\w]+", "-", name.strip().lower()).strip("-") or "location"


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def forecast_key(location: str, issued_at: dt.datetime, *, sample: bool = False) -> str:
    """The key of one location's forecast issued at ``issued_at``, under the UTC day of issue."""
    issued = issued_at.astimezone(dt.UTC)
    name = f"open-meteo-forecast-{slug(location)}-issued-{issued.strftime('%Y%m%dT%H%M%SZ')}.json"
    folder = FOLDERS[("forecast", SAMPLE_LABEL if sample else REAL_LABEL)]
    return date_partition_key(join_key(RAW_PREFIX, folder), issued.date(), name)


def archive_key(location: str, day: dt.date, *, sample: bool = False) -> str:
    """The key of one location's archived hours of the UTC ``day``."""
    folder = FOLDERS[("archive", SAMPLE_LABEL if sample else REAL_LABEL)]
    name = f"open-meteo-archive-{slug(location)}-{day.isoformat()}.json"
    return date_partition_key(join_key(RAW_PREFIX, folder), day, name)


def _document(
    fetch: OpenMeteoFetch,
    envelope: Mapping[str, Any],
    location: WeatherLocation,
    fetched_at: dt.datetime,
    issued_at: dt.datetime | None,
    day: dt.date | None = None,
) -> dict[str, Any]:
    """An envelope as Open-Meteo sent it, with where and when it came from (``datalake``)."""
    return {
        **envelope,
        "datalake": {
            "source": SAMPLE_LABEL if fetch.sample else REAL_LABEL,
            "api": fetch.api,
            "kind": "forecast" if fetch.api == "forecast" else "observed",
            "location": location.name,
            "requested_latitude": location.latitude,
            "requested_longitude": location.longitude,
            "issued_at": _stamp(issued_at) if issued_at else None,
            "fetched_at": _stamp(fetched_at),
            "day": day.isoformat() if day else None,
            "request_url": fetch.request_url,
        },
    }


def write_forecast(store: ObjectStore, fetch: OpenMeteoFetch, issued_at: dt.datetime) -> list[str]:
    """Write each location's forecast with its issue time; returns the keys (one per location).

    ``issued_at`` is the run's time (the schedule's, so a retried invocation rewrites the same keys).
    A location whose stored document is the same is left as it was and its key is not returned.
    """
    issued = issued_at.astimezone(dt.UTC).replace(microsecond=0)
    keys = []
    for location, envelope in zip(fetch.locations, fetch.envelopes, strict=True):
        key = forecast_key(location.name, issued, sample=fetch.sample)
        # A retried invocation finds its own documents: an unchanged one is not written again.
        if store.put_json_if_changed(key, _document(fetch, envelope, location, issued, issued)):
            keys.append(key)
    return keys


@dataclass
class ArchiveLanded:
    """What writing an archive answer did: day files written, days found as stored (not written
    again), days with no value yet, the hours now in raw (written or found) and the written keys."""

    days_written: int = 0
    days_unchanged: int = 0
    days_empty: int = 0
    hours_written: int = 0
    keys: list[str] = field(default_factory=list)


#: Fields of a stored document that say how it was fetched, not what it holds.
_FETCH_PROVENANCE = ("datalake.fetched_at", "datalake.request_url")


def write_archive(store: ObjectStore, fetch: OpenMeteoFetch, fetched_at: dt.datetime) -> ArchiveLanded:
    """Write the archive answer one file per location and UTC day; days of nulls only are left out."""
    landed = ArchiveLanded()
    for location, envelope in zip(fetch.locations, fetch.envelopes, strict=True):
        hourly = envelope.get("hourly") or {}
        stamps = hourly.get("time") or []
        days: dict[dt.date, list[int]] = {}
        for index, stamp in enumerate(stamps):
            moment = _parse_stamp(stamp, _time_format(envelope))
            if moment is not None:
                days.setdefault(moment.date(), []).append(index)
        for day, indexes in sorted(days.items()):
            part = {
                name: [values[i] for i in indexes] if isinstance(values, list) else values
                for name, values in hourly.items()
            }
            if all(v is None for name in HOURLY for v in part.get(name) or [None]):
                landed.days_empty += 1
                continue
            document = _document(fetch, {**envelope, "hourly": part}, location, fetched_at, None, day)
            key = archive_key(location.name, day, sample=fetch.sample)
            # The same hours fetched again (by another request, at another time) are not rewritten.
            landed.hours_written += len(indexes)
            if not store.put_json_if_changed(key, document, ignore=_FETCH_PROVENANCE):
                landed.days_unchanged += 1
                continue
            landed.days_written += 1
            landed.keys.append(key)
    return landed


def _time_format(envelope: Mapping[str, Any]) -> str:
    units = envelope.get("hourly_units") or {}
    return str(units.get("time") or "iso8601")


def _parse_stamp(stamp: Any, time_format: str) -> dt.datetime | None:
    """An hourly stamp as a UTC time (``timezone=UTC``: iso8601 wall time is UTC; unixtime always is)."""
    try:
        if time_format == "unixtime":
            return dt.datetime.fromtimestamp(int(stamp), dt.UTC)
        return dt.datetime.fromisoformat(str(stamp)).replace(tzinfo=dt.UTC)
    except (TypeError, ValueError, OverflowError):
        return None


# -- raw documents -> weather_hourly rows (pure pandas: the Spark job calls it per file) -----------


def document_problem(doc: Any) -> str | None:
    """Why a raw document cannot give rows, or None: not the writer's, a zone other than UTC,
    a unit other than the column's, arrays of unequal lengths."""
    if not isinstance(doc, dict) or not isinstance(doc.get("datalake"), dict):
        return "no datalake block: not written by datalake.sources.open_meteo"
    meta = doc["datalake"]
    if meta.get("kind") not in ("forecast", "observed") or not meta.get("location"):
        return "datalake block without kind or location"
    if meta.get("kind") == "forecast" and not meta.get("issued_at"):
        return "a forecast without its issue time (datalake.issued_at)"
    if doc.get("utc_offset_seconds", 0) != 0:
        return f"utc_offset_seconds is {doc.get('utc_offset_seconds')}, not 0 (asked without timezone=UTC)"
    hourly, units = doc.get("hourly"), doc.get("hourly_units") or {}
    if not isinstance(hourly, dict) or not isinstance(hourly.get("time"), list):
        return "no hourly block with a time list"
    for name, (_column, unit) in HOURLY.items():
        if name in hourly and units.get(name) != unit:
            return f"hourly_units.{name} is {units.get(name)!r}, not {unit!r}"
        values = hourly.get(name)
        if values is not None and (not isinstance(values, list) or len(values) != len(hourly["time"])):
            return f"hourly.{name} is not a list as long as hourly.time"
    return None


def document_rows(content: str, extracted_at: dt.datetime | None = None) -> pd.DataFrame:
    """One raw file's hours as ``weather_hourly`` rows (:data:`COLUMNS`), plus ``problem`` and ``raw_record``.

    A file that cannot be read is one row with its ``problem`` (no ``ts_utc``); an hour whose
    stamp cannot be read is a row with its ``problem``. Values arrive as integers or floats and
    JSON null; all become floats (null: missing).
    """
    try:
        doc = json.loads(content)
    except ValueError:
        doc = None
    problem = document_problem(doc) if doc is not None else "not JSON"
    if problem is not None:
        return _problem_rows([problem], [content[:2000]])
    meta, hourly = doc["datalake"], doc["hourly"]
    time_format = _time_format(doc)
    stamps = [_parse_stamp(s, time_format) for s in hourly["time"]]
    fetched = pd.Timestamp(meta.get("fetched_at") or extracted_at or dt.datetime.now(dt.UTC))
    frame = pd.DataFrame(
        {
            "ts_utc": pd.to_datetime(stamps, utc=True),
            "location": meta["location"],
            "kind": meta["kind"],
            "issued_at": pd.Timestamp(meta["issued_at"]) if meta.get("issued_at") else pd.NaT,
            **{
                column: pd.to_numeric(pd.Series(hourly.get(name, [None] * len(stamps)), dtype=object))
                for name, (column, _unit) in HOURLY.items()
            },
            "source": SAMPLE_LABEL if meta.get("source") == SAMPLE_LABEL else REAL_LABEL,
            "extracted_at": fetched,
        }
    )
    raw = [
        json.dumps({"time": hourly["time"][i], **{n: hourly.get(n, [None] * len(stamps))[i] for n in HOURLY}})
        for i in range(len(stamps))
    ]
    frame["problem"] = [
        None if s is not None else f"hourly.time {hourly['time'][i]!r} is not a time"
        for i, s in enumerate(stamps)
    ]
    frame["raw_record"] = raw
    good = frame["problem"].isna()
    rows = pd.concat([conform(frame[good]), frame.loc[good, ["problem", "raw_record"]]], axis=1)
    return (
        pd.concat([rows, frame[~good]], ignore_index=True) if (~good).any() else rows.reset_index(drop=True)
    )


def _problem_rows(problems: list[str], raw: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({column: [None] * len(problems) for column in COLUMNS})
    frame["problem"] = problems
    frame["raw_record"] = raw
    return frame


# -- runs ---------------------------------------------------------------------------------------


@dataclass
class WeatherIngestSummary:
    """What a forecast or archive run did, in counts a handler and the CLI can report.

    ``requests`` counts HTTP requests sent (retries included); ``failed`` lists the date ranges
    that failed with their reasons.
    """

    api: str
    locations: list[str]
    start: str | None = None
    end: str | None = None
    issued_at: str | None = None
    requests: int = 0
    hours_received: int = 0
    #: Hours now in raw from this run: written, or found there as fetched (``files_unchanged``).
    hours_written: int = 0
    files_written: int = 0
    #: Files fetched again and found as stored: not written again (nothing for the transform).
    files_unchanged: int = 0
    days_empty: int = 0
    keys: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    sample: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "failed_count": len(self.failed)}


def fetch_forecast(
    client: OpenMeteoClient,
    store: ObjectStore,
    locations: Sequence[WeatherLocation],
    issued_at: dt.datetime,
    *,
    days: int = 7,
    progress: Progress | None = None,
) -> WeatherIngestSummary:
    """Fetch the forecast of every location once and land it with its issue time (the daily run)."""
    before = client.requests_sent
    fetch = client.forecast(locations, days)
    keys = write_forecast(store, fetch, issued_at)
    summary = WeatherIngestSummary(
        "forecast",
        [loc.name for loc in locations],
        issued_at=_stamp(issued_at),
        requests=client.requests_sent - before,
        hours_received=fetch.hours,
        hours_written=fetch.hours,
        files_written=len(keys),
        files_unchanged=len(fetch.locations) - len(keys),
        keys=keys,
        sample=fetch.sample,
    )
    if progress:
        progress(
            f"open-meteo forecast issued {summary.issued_at}: {fetch.hours:,} hours, {len(keys)} file(s)"
            + (f", {summary.files_unchanged} unchanged" if summary.files_unchanged else "")
        )
    return summary


def fetch_archive(
    client: OpenMeteoClient,
    store: ObjectStore,
    locations: Sequence[WeatherLocation],
    start: dt.date,
    end: dt.date,
    fetched_at: dt.datetime,
    *,
    progress: Progress | None = None,
) -> WeatherIngestSummary:
    """Fetch ``start..end`` of every location from the archive, a calendar month per request.

    A month weighs about 1.3 calls per location (six variables: ``6/10 * days/14``), far below the
    per-minute limit; a month that fails is listed in ``failed`` and the run goes on.
    """
    summary = WeatherIngestSummary(
        "archive", [loc.name for loc in locations], start=start.isoformat(), end=end.isoformat()
    )
    for first, last in month_chunks(start, end):
        before = client.requests_sent
        try:
            fetch = client.archive(locations, first, last)
        except OpenMeteoError as error:
            summary.requests += client.requests_sent - before
            if not error.retryable:
                raise
            summary.failed.append({"start": first.isoformat(), "end": last.isoformat(), "reason": str(error)})
            if progress:
                progress(f"open-meteo archive {first}..{last}: failed: {error}")
            continue
        landed = write_archive(store, fetch, fetched_at)
        summary.requests += client.requests_sent - before
        summary.hours_received += fetch.hours
        summary.hours_written += landed.hours_written
        summary.files_written += landed.days_written
        summary.files_unchanged += landed.days_unchanged
        summary.days_empty += landed.days_empty
        summary.keys += landed.keys
        summary.sample = summary.sample or fetch.sample
        if progress:
            progress(
                f"open-meteo archive {first}..{last}: {fetch.hours:,} hours, "
                f"{landed.days_written} day file(s)"
                + (f", {landed.days_unchanged} unchanged" if landed.days_unchanged else "")
                + (f", {landed.days_empty} day(s) not available yet" if landed.days_empty else "")
            )
    return summary


def month_chunks(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """``start..end`` cut at calendar months: one archive request each."""
    chunks, first = [], start
    while first <= end:
        following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        last = min(following - dt.timedelta(days=1), end)
        chunks.append((first, last))
        first = last + dt.timedelta(days=1)
    return chunks
