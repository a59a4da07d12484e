"""Red Eléctrica's REData API (``apidatos.ree.es``): client, chunking, retries, parsing and the raw writer.

REData answers ``GET /{lang}/datos/{category}/{widget}?start_date=&end_date=&time_trunc=`` with
dates given as Madrid wall-clock ``YYYY-MM-DDTHH:MM``. The geo filter
(``geo_trunc=electric_system&geo_limit=...&geo_ids=...``) is sent whole or not at all; without it
the API answers for the whole country. Every value carries its own UTC offset (+01:00/+02:00),
which is what keeps daylight-saving days right: the autumn day shows 02:00 local twice, with two
different offsets.

Raw files hold the API's JSON unchanged, one request per (dataset, geo, local day), under
``raw/ree/<dataset>/year=/month=/day=/``, so a re-run overwrites the same key.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from datalake.errors import DataValidationError, SourceError
from datalake.sources.http_retry import HttpSource, RetryPolicy
from datalake.sources.sample import MADRID, SAMPLE_LABEL
from datalake.storage.base import ObjectStore
from datalake.storage.paths import date_partition_key, join_key

DEFAULT_BASE_URL = "https://apidatos.ree.es"
RAW_PREFIX = "raw/ree"
#: Generated responses live apart from real ones, so a real backfill never skips a day
#: because sample data sits in its place.
SAMPLE_RAW_PREFIX = "raw/ree_sample"
REAL_LABEL = "ree"
TIME_TRUNCS = ("hour", "day", "month", "year")

#: How far one request may reach, per ``time_trunc``: hourly requests stay inside one calendar
#: month, daily ones inside one calendar year. REE's documentation states no limit; these are
#: the spans public clients use and the API is known to reject longer hourly ranges.
CHUNK_UNIT = {"hour": "month", "day": "year", "month": "year", "year": "year"}

_HEADERS = {"Accept": "application/json", "User-Agent": "datalake-ree/0.1"}
_DETAIL_CHARS = 200

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ReeGeo:
    """A geographic scope of REData: the whole country, or one electric system."""

    name: str
    geo_limit: str | None = None
    geo_id: int | None = None

    def params(self) -> dict[str, str]:
        """Query parameters of this scope (none for the whole country)."""
        if self.geo_limit is None:
            return {}
        return {"geo_trunc": "electric_system", "geo_limit": self.geo_limit, "geo_ids": str(self.geo_id)}


@dataclass(frozen=True)
class ReeDataset:
    """One REData widget the lake ingests.

    ``time_truncs`` lists the grains to ask for, finest first: when the API refuses one with a
    4xx, the next is tried (a 5xx is not a refusal, so an outage never degrades the grain).
    """

    name: str
    path: str
    time_truncs: tuple[str, ...]
    geos: tuple[str, ...] = ("national", "peninsular")

    @property
    def time_trunc(self) -> str:
        return self.time_truncs[0]


REE_GEOS: dict[str, ReeGeo] = {
    "national": ReeGeo("national"),
    "peninsular": ReeGeo("peninsular", geo_limit="peninsular", geo_id=8741),
}

REE_DATASETS: dict[str, ReeDataset] = {
    "demand": ReeDataset("demand", "demanda/evolucion", ("hour",)),
    "generation": ReeDataset("generation", "generacion/estructura-generacion", ("hour", "day")),
}


def resolve_dataset(dataset: str | ReeDataset) -> ReeDataset:
    """A dataset definition from its name (or itself)."""
    if isinstance(dataset, ReeDataset):
        return dataset
    try:
        return REE_DATASETS[dataset]
    except KeyError:
        raise ValueError(f"unknown REE dataset {dataset!r}; known: {', '.join(REE_DATASETS)}") from None


def resolve_geo(geo: str | ReeGeo) -> ReeGeo:
    """A geographic scope from its name (or itself)."""
    if isinstance(geo, ReeGeo):
        return geo
    try:
        return REE_GEOS[geo]
    except KeyError:
        raise ValueError(f"unknown REE geo {geo!r}; known: {', '.join(REE_GEOS)}") from None


# -- requests -------------------------------------------------------------------------------


def plan_chunks(start: dt.date, end: dt.date, time_trunc: str) -> list[tuple[dt.date, dt.date]]:
    """Split the local days ``start..end`` (inclusive) into spans one request may ask for.

    Parameters
    ----------
    start, end
        First and last local (Europe/Madrid) day, both included.
    time_trunc
        The grain asked for; it decides the span (see ``CHUNK_UNIT``).

    Returns
    -------
    list of (first_day, last_day)
        Consecutive, non-overlapping spans covering the range, each inside one calendar month
        (hourly) or one calendar year (coarser).
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if time_trunc not in CHUNK_UNIT:
        raise ValueError(f"unknown time_trunc {time_trunc!r}; known: {', '.join(TIME_TRUNCS)}")
    unit = CHUNK_UNIT[time_trunc]
    chunks = []
    first = start
    while first <= end:
        if unit == "month":
            next_month = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
            boundary = next_month - dt.timedelta(days=1)
        else:
            boundary = dt.date(first.year, 12, 31)
        last = min(boundary, end)
        chunks.append((first, last))
        first = last + dt.timedelta(days=1)
    return chunks


def request_params(
    first_day: dt.date, last_day: dt.date, time_trunc: str, geo: str | ReeGeo = "national"
) -> dict[str, str]:
    """Query parameters for whole local days ``first_day..last_day`` at one grain and scope."""
    if time_trunc not in TIME_TRUNCS:
        raise ValueError(f"unknown time_trunc {time_trunc!r}; known: {', '.join(TIME_TRUNCS)}")
    return {
        "start_date": f"{first_day.isoformat()}T00:00",
        "end_date": f"{last_day.isoformat()}T23:59",
        "time_trunc": time_trunc,
        **resolve_geo(geo).params(),
    }


def describe_error_body(body: str, content_type: str = "") -> str | None:
    """The API's own words about an error, in one short line.

    Reads the REData envelope (``{"errors": [{"code", "status", "title", "detail"}]}``),
    an HTML error page (its title, else its first line of text) or plain text.
    """
    text = body.strip()
    if not text:
        return None
    if "json" in content_type or text.startswith(("{", "[")):
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if doc is not None:
            return _clip(_envelope_detail(doc) or json.dumps(doc, ensure_ascii=False))
    if "html" in content_type or text.startswith("<"):
        line = _html_first_line(text)
        return _clip(f"HTML page: {line}") if line else "HTML page without text"
    return _clip(next(line.strip() for line in text.splitlines() if line.strip()))


def _envelope_detail(doc: Any) -> str | None:
    if not isinstance(doc, dict) or not isinstance(doc.get("errors"), list):
        return None
    parts = []
    for entry in doc["errors"]:
        if not isinstance(entry, dict):
            parts.append(str(entry))
            continue
        words = ": ".join(str(entry[k]) for k in ("title", "detail") if entry.get(k))
        code = entry.get("code") or entry.get("status")
        parts.append(f"{words} (code {code})" if code else words)
    return "; ".join(p for p in parts if p) or None


def _html_first_line(page: str) -> str | None:
    title = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    if title and title.group(1).strip():
        return " ".join(html.unescape(title.group(1)).split())
    body = re.sub(r"<(script|style|head)\b.*?</\1>", " ", page, flags=re.IGNORECASE | re.DOTALL)
    body = re.sub(r"<!--.*?-->", " ", body, flags=re.DOTALL)
    for line in html.unescape(re.sub(r"<[^>]+>", "\n", body)).splitlines():
        if line.strip():
            return " ".join(line.split())
    return None


def _clip(text: str) -> str:
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


class ReeClient(HttpSource):
    """A client of REData with chunking and polite retries.

    Retries 429, 5xx, timeouts and connection errors up to ``max_retries`` times, waiting what
    ``Retry-After`` asks for when the API says so, and otherwise an exponential backoff with
    full jitter (a random wait between 0 and ``backoff_s * 2**(attempt-1)``, capped at
    ``max_backoff_s``). Other 4xx answers are not retried. ``sleep`` and ``rng`` are injectable
    so tests never wait.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        http: httpx.Client | None = None,
        timeout_s: float = 30,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        max_retry_after_s: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        lang: str = "es",
        rng: random.Random | None = None,
    ) -> None:
        if lang not in ("es", "en"):
            raise ValueError(f"REData speaks 'es' or 'en', not {lang!r}")
        policy = RetryPolicy(max_retries, backoff_s, max_backoff_s, max_retry_after_s)
        super().__init__(http=http, policy=policy, sleep=sleep, rng=rng)
        self.base_url = base_url.rstrip("/")
        self.lang = lang
        self.timeout_s = timeout_s

    def url(self, path: str) -> str:
        """The URL of a widget path such as ``demanda/evolucion``."""
        return f"{self.base_url}/{self.lang}/datos/{path.strip('/')}"

    # -- fetching ---------------------------------------------------------------------------
    def get_json(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        """One GET of a widget, with retries; the parsed JSON document, unchanged."""
        url = self.url(path)
        full_url = str(self._http.build_request("GET", url, params=params).url)
        response = self._send(url, params, full_url)
        return _json_document(response, full_url)

    def fetch_chunk(
        self,
        dataset: str | ReeDataset,
        first_day: dt.date,
        last_day: dt.date,
        *,
        geo: str | ReeGeo = "national",
        time_trunc: str | None = None,
    ) -> dict[str, Any]:
        """Fetch whole local days ``first_day..last_day`` of a dataset in one request.

        Parameters
        ----------
        dataset
            A name in ``REE_DATASETS`` or a definition.
        first_day, last_day
            Local (Europe/Madrid) days, both included; keep them within ``plan_chunks``.
        geo
            ``national`` or ``peninsular`` (or a ``ReeGeo``).
        time_trunc
            The grain; the dataset's finest when None.

        Returns
        -------
        dict
            The API's JSON document, unchanged.
        """
        definition = resolve_dataset(dataset)
        params = request_params(first_day, last_day, time_trunc or definition.time_trunc, geo)
        return self.get_json(definition.path, params)

    def fetch_day(
        self, dataset: str | ReeDataset, day: dt.date, *, geo: str | ReeGeo = "national"
    ) -> tuple[dict[str, Any], str]:
        """Fetch one local day at the finest grain the API grants; returns (document, time_trunc)."""
        definition = resolve_dataset(dataset)
        refusal: SourceError | None = None
        for time_trunc in definition.time_truncs:
            try:
                return self.fetch_chunk(definition, day, day, geo=geo, time_trunc=time_trunc), time_trunc
            except SourceError as error:
                if error.retryable:
                    raise
                refusal = error
        assert refusal is not None
        raise refusal

    def iter_range(
        self,
        dataset: str | ReeDataset,
        start: dt.date,
        end: dt.date,
        *,
        geo: str | ReeGeo = "national",
        time_trunc: str | None = None,
    ) -> Iterator[tuple[tuple[dt.date, dt.date], dict[str, Any]]]:
        """Fetch ``start..end`` in the chunks the API accepts; yields ((first_day, last_day), document)."""
        definition = resolve_dataset(dataset)
        grain = time_trunc or definition.time_trunc
        for first, last in plan_chunks(start, end, grain):
            yield (first, last), self.fetch_chunk(definition, first, last, geo=geo, time_trunc=grain)

    # -- retries ----------------------------------------------------------------------------
    def _send(self, url: str, params: Mapping[str, str], full_url: str) -> httpx.Response:
        def refusal(response: httpx.Response, attempt: int) -> SourceError | None:
            return None if response.is_success else _status_error(response, full_url, attempt)

        def failure(exc: httpx.TransportError, attempt: int) -> SourceError:
            return SourceError(
                f"REE API request to {full_url} failed: {type(exc).__name__}: {str(exc) or 'no detail'}",
                url=full_url,
                detail=str(exc) or type(exc).__name__,
                retryable=True,
                attempts=attempt,
            )

        return self._retrying(
            lambda: self._http.get(url, params=params, headers=_HEADERS, timeout=self.timeout_s),
            refusal,
            failure,
            _gave_up,
        )


def _status_error(response: httpx.Response, url: str, attempt: int) -> SourceError:
    status = response.status_code
    detail = describe_error_body(response.text, response.headers.get("content-type", ""))
    message = f"REE API answered {status} {response.reason_phrase} for {url}"
    return SourceError(
        f"{message}: {detail}" if detail else message,
        url=url,
        status=status,
        detail=detail,
        retryable=status == 429 or status >= 500,
        attempts=attempt,
    )


def _gave_up(error: SourceError, why: str) -> SourceError:
    return SourceError(
        f"{error} ({why})",
        url=error.url,
        status=error.status,
        detail=error.detail,
        retryable=True,
        attempts=error.attempts,
    )


def _json_document(response: httpx.Response, url: str) -> dict[str, Any]:
    content_type = response.headers.get("content-type", "")
    try:
        doc = response.json()
    except ValueError:
        detail = describe_error_body(response.text, content_type)
        raise SourceError(
            f"REE API answered {response.status_code} for {url} with a body that is not JSON: {detail}",
            url=url,
            status=response.status_code,
            detail=detail,
        ) from None
    if not isinstance(doc, dict):
        raise SourceError(
            f"REE API answered {url} with JSON that is not an object", url=url, status=response.status_code
        )
    if "errors" in doc and "included" not in doc:
        detail = _envelope_detail(doc)
        raise SourceError(
            f"REE API answered {response.status_code} for {url} with an error envelope: {detail}",
            url=url,
            status=response.status_code,
            detail=detail,
        )
    return doc


# -- parsing --------------------------------------------------------------------------------


def is_sample(doc: Mapping[str, Any]) -> bool:
    """True when a document was generated (``data.meta.sample``), not published by REE."""
    data = doc.get("data") if isinstance(doc, Mapping) else None
    meta = data.get("meta") if isinstance(data, Mapping) else None
    return bool(isinstance(meta, Mapping) and meta.get("sample") is True)


def parse_values(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flatten a REData document into one row per value entry.

    Series may be ragged (entries missing for some instants); nothing is filled in. A value
    entry that cannot be read is kept, with ``problem`` saying why, so a later step can
    quarantine it instead of losing it.

    Returns
    -------
    list of dict
        Keys: ``series_id``, ``series_type``, ``series_title``, ``series_group_id``,
        ``series_kind`` (``Renovable``, ``No-Renovable``, ``total``...), ``series_parent_id``
        (composite series), ``datetime`` (aware, at its own offset), ``ts_utc``, ``value``,
        ``percentage``, ``source`` (``ree`` or ``sample``) and ``problem`` (None when fine).
    """
    source = SAMPLE_LABEL if is_sample(doc) else REAL_LABEL
    rows: list[dict[str, Any]] = []
    for series in doc.get("included") or []:
        _collect_series(series, None, source, rows)
    return rows


def _collect_series(series: Mapping[str, Any], parent_id: str | None, source: str, rows: list) -> None:
    attributes = series.get("attributes") or {}
    base = {
        "series_id": _text(series.get("id")),
        "series_type": _text(series.get("type")),
        "series_title": _text(attributes.get("title")),
        "series_group_id": _text(series.get("groupId")),
        "series_kind": _text(attributes.get("type")),
        "series_parent_id": parent_id,
    }
    for entry in attributes.get("values") or []:
        rows.append({**base, **_read_entry(entry), "source": source})
    # Composite series (balance widgets) nest their parts under ``content``.
    for child in attributes.get("content") or []:
        _collect_series(child, base["series_id"], source, rows)


def _read_entry(entry: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"datetime": None, "ts_utc": None, "value": None, "percentage": None}
    problems = []
    if not isinstance(entry, Mapping):
        return {**out, "problem": f"value entry is not an object: {entry!r}"}
    raw_stamp = entry.get("datetime")
    try:
        stamp = dt.datetime.fromisoformat(str(raw_stamp))
        if stamp.tzinfo is None:
            problems.append(f"datetime {raw_stamp!r} has no UTC offset")
        else:
            out["datetime"], out["ts_utc"] = stamp, stamp.astimezone(dt.UTC)
    except ValueError:
        problems.append(f"datetime {raw_stamp!r} is not ISO 8601")
    for name in ("value", "percentage"):
        number = entry.get(name)
        if isinstance(number, int | float) and not isinstance(number, bool):
            out[name] = float(number)
        elif name == "value":
            problems.append("value is missing" if number is None else f"value {number!r} is not a number")
    return {**out, "problem": "; ".join(problems) or None}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# -- raw zone -------------------------------------------------------------------------------


def raw_key(dataset: str | ReeDataset, day: dt.date, geo: str | ReeGeo, *, prefix: str = RAW_PREFIX) -> str:
    """The deterministic key of one (dataset, geo, local day) response."""
    name, geo_name = resolve_dataset(dataset).name, resolve_geo(geo).name
    return date_partition_key(join_key(prefix, name), day, f"ree-{name}-{geo_name}-{day.isoformat()}.json")


def write_raw(
    store: ObjectStore,
    dataset: str | ReeDataset,
    day: dt.date,
    doc: Mapping[str, Any],
    geo: str | ReeGeo,
    *,
    prefix: str = RAW_PREFIX,
) -> tuple[str, bool]:
    """Write one day's response, unchanged, under the local day it is about.

    Returns the key, and False when the same response was already there (it is not written
    again: a re-fetched day that did not change gives the transform nothing to do).

    Refuses (DataValidationError) a document with no values (writing it would make a later
    backfill skip a day that holds nothing), one whose values fall on another local day, and a
    sample document under the real prefix.
    """
    rows = parse_values(doc)
    if not rows:
        raise DataValidationError("included", f"the response for {day} holds no values; nothing written")
    other_days = sorted(
        {r["datetime"].astimezone(MADRID).date() for r in rows if r["datetime"] is not None} - {day}
    )
    if other_days:
        shown = ", ".join(d.isoformat() for d in other_days[:3])
        raise DataValidationError("datetime", f"values for {shown} in the response written under {day}")
    if is_sample(doc) and prefix.strip("/") == RAW_PREFIX:
        raise DataValidationError(
            "source", f"sample data never goes under {RAW_PREFIX}/ (use {SAMPLE_RAW_PREFIX})"
        )
    key = raw_key(dataset, day, geo, prefix=prefix)
    return key, store.put_json_if_changed(key, doc)


@dataclass
class IngestSummary:
    """What an ingest run did, in counts a handler can report.

    ``requested`` counts (dataset, geo, day) units and equals
    ``written + unchanged + skipped + len(failed) + not_attempted``: ``unchanged`` were fetched
    again and found as stored (not rewritten), ``skipped`` were already there and not fetched.
    """

    datasets: list[str]
    start: str
    end: str
    requested: int = 0
    written: int = 0
    unchanged: int = 0
    skipped: int = 0
    not_attempted: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    time_truncs: dict[str, int] = field(default_factory=dict)
    stopped: str | None = None

    def merge(self, other: IngestSummary) -> None:
        """Add another run's counts to this one."""
        self.datasets += [d for d in other.datasets if d not in self.datasets]
        self.requested += other.requested
        self.written += other.written
        self.unchanged += other.unchanged
        self.skipped += other.skipped
        self.not_attempted += other.not_attempted
        self.failed += other.failed
        self.keys += other.keys
        for grain, count in other.time_truncs.items():
            self.time_truncs[grain] = self.time_truncs.get(grain, 0) + count
        self.stopped = self.stopped or other.stopped

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "failed_count": len(self.failed)}


def local_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day from ``start`` to ``end``, both included."""
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def overlapping_local_days(start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    """The Madrid days that the instants ``[start, end)`` touch."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if end <= start:
        raise ValueError(f"empty window {start} .. {end}")
    first = start.astimezone(MADRID).date()
    last = (end - dt.timedelta(microseconds=1)).astimezone(MADRID).date()
    return local_days(first, last)


def backfill(
    client: ReeClient,
    store: ObjectStore,
    dataset: str | ReeDataset,
    start: dt.date,
    end: dt.date,
    refresh: bool = False,
    progress: Progress | None = None,
    *,
    geos: tuple[str, ...] | None = None,
    prefix: str = RAW_PREFIX,
    max_consecutive_failures: int = 3,
) -> IngestSummary:
    """Fetch and write every local day ``start..end`` of a dataset, for each of its geos.

    Parameters
    ----------
    client, store
        Where to read from and write to.
    dataset
        A name in ``REE_DATASETS`` or a definition.
    start, end
        Local days, both included.
    refresh
        Fetch again days already in raw (otherwise they are skipped).
    progress
        Called with one line per day written or failed.
    geos
        Scopes to fetch; the dataset's own when None.
    prefix
        Raw prefix (``RAW_PREFIX``, or ``SAMPLE_RAW_PREFIX`` for generated data).
    max_consecutive_failures
        Stop after this many retryable failures in a row (the API is down; waiting out every
        remaining day's retries would only burn the run's time). The rest count as not attempted.

    Returns
    -------
    IngestSummary
        Counts, failures with their reasons, keys written and grains used.
    """
    definition = resolve_dataset(dataset)
    units = [(day, geo) for day in local_days(start, end) for geo in (geos or definition.geos)]
    summary = IngestSummary(datasets=[definition.name], start=start.isoformat(), end=end.isoformat())
    summary.requested = len(units)
    outage = 0
    for index, (day, geo) in enumerate(units):
        if outage >= max_consecutive_failures:
            summary.not_attempted = len(units) - index
            summary.stopped = f"stopped after {outage} failures in a row; {summary.not_attempted} left"
            _say(progress, f"{definition.name}: {summary.stopped}")
            break
        key = raw_key(definition, day, geo, prefix=prefix)
        if not refresh and store.exists(key):
            summary.skipped += 1
            continue
        try:
            doc, grain = client.fetch_day(definition, day, geo=geo)
            _key, changed = write_raw(store, definition, day, doc, geo, prefix=prefix)
        except (SourceError, DataValidationError) as error:
            outage = outage + 1 if getattr(error, "retryable", False) else 0
            summary.failed.append(
                {"dataset": definition.name, "day": day.isoformat(), "geo": geo, "reason": str(error)}
            )
            _say(progress, f"{definition.name} {geo} {day}: failed: {error}")
            continue
        outage = 0
        summary.time_truncs[grain] = summary.time_truncs.get(grain, 0) + 1
        if not changed:
            summary.unchanged += 1
            _say(progress, f"{definition.name} {geo} {day}: {grain}, unchanged -> {key}")
            continue
        summary.written += 1
        summary.keys.append(key)
        _say(progress, f"{definition.name} {geo} {day}: {grain} -> {key}")
    return summary


def daily(
    client: ReeClient,
    store: ObjectStore,
    now: dt.datetime,
    *,
    datasets: tuple[str, ...] | None = None,
    lookback_hours: int = 48,
    progress: Progress | None = None,
    prefix: str = RAW_PREFIX,
) -> IngestSummary:
    """Re-fetch every local day the last ``lookback_hours`` touch, for every dataset.

    The API revises recent hours, so these days are always fetched again (``refresh``);
    the keys are the same, so nothing is duplicated.
    """
    days = overlapping_local_days(now - dt.timedelta(hours=lookback_hours), now)
    summary = IngestSummary(datasets=[], start=days[0].isoformat(), end=days[-1].isoformat())
    for name in datasets or tuple(REE_DATASETS):
        summary.merge(backfill(client, store, name, days[0], days[-1], True, progress, prefix=prefix))
    return summary


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)
