"""TMDB extracts in the raw zone: one JSON Lines envelope per movie, under the extraction date.

Layout (the contract the movies transform reads)::

    raw/tmdb/movie/year=YYYY/month=MM/day=DD/details-<run kind>-<first id>-<chunk n>.jsonl

Each line::

    {"movie_id": 550, "extracted_at": "...+00:00", "source": "tmdb" | "sample",
     "status": "ok" | "gone", "details": <the details body as TMDB sent it, credits trimmed> | null}

A change feed is a drop, so files are keyed by the date they were extracted; names are
deterministic, so a chunk fetched again the same day overwrites its own file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from datalake.errors import DataValidationError
from datalake.sources.tmdb import TmdbClient, TmdbNotFoundError
from datalake.storage.base import ObjectStore
from datalake.storage.paths import date_partition_key

MOVIE_RAW_PREFIX = "raw/tmdb/movie"
RUN_KINDS = ("backfill", "daily")
#: Cast members kept per movie by default (TMDB_TOP_CAST).
DEFAULT_TOP_CAST = 5


def trim_credits(details: Mapping[str, Any], top_cast: int = DEFAULT_TOP_CAST) -> dict[str, Any]:
    """``details`` with ``credits`` cut to the directors and the first ``top_cast`` cast by ``order``.

    Everything else (and each kept entry) stays as TMDB sent it. Details without credits are
    returned as they are.
    """
    out = dict(details)
    credits = details.get("credits")
    if not isinstance(credits, Mapping):
        return out
    crew = [m for m in credits.get("crew") or [] if isinstance(m, Mapping) and m.get("job") == "Director"]
    cast = [m for m in credits.get("cast") or [] if isinstance(m, Mapping)]
    cast = sorted(cast, key=lambda m: m.get("order") if isinstance(m.get("order"), int) else 1_000_000)
    out["credits"] = {**credits, "cast": cast[: max(top_cast, 0)], "crew": crew}
    return out


def envelope(
    movie_id: int,
    details: Mapping[str, Any] | None,
    extracted_at: dt.datetime,
    source: str,
    top_cast: int = DEFAULT_TOP_CAST,
) -> dict[str, Any]:
    """``status`` ok with the trimmed details, or gone (a tombstone) when ``details`` is None."""
    if extracted_at.tzinfo is None:
        raise ValueError("extracted_at must be timezone-aware")
    return {
        "movie_id": int(movie_id),
        "extracted_at": extracted_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "source": source,
        "status": "gone" if details is None else "ok",
        "details": None if details is None else trim_credits(details, top_cast),
    }


def raw_key(run_kind: str, extraction_day: dt.date, first_id: int, chunk_n: int) -> str:
    """The deterministic key of one chunk of envelopes."""
    if run_kind not in RUN_KINDS:
        raise ValueError(f"unknown run kind {run_kind!r}; known: {', '.join(RUN_KINDS)}")
    return date_partition_key(
        MOVIE_RAW_PREFIX, extraction_day, f"details-{run_kind}-{int(first_id)}-{int(chunk_n):06d}.jsonl"
    )


def write_chunk(store: ObjectStore, key: str, lines: Iterable[Mapping[str, Any]]) -> int:
    """Write envelopes as JSON Lines in one object (atomic: all of it or none); returns the line count."""
    rows = list(lines)
    if not rows:
        raise DataValidationError("lines", f"no envelopes for {key}; nothing written")
    body = "".join(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n" for row in rows)
    store.put_bytes(key, body.encode("utf-8"), content_type="application/x-ndjson")
    return len(rows)


def read_chunk(store: ObjectStore, key: str) -> list[dict[str, Any]]:
    """The envelopes of one raw file."""
    return [json.loads(line) for line in store.get_bytes(key).decode("utf-8").splitlines() if line.strip()]


def fetch_envelopes(
    client: TmdbClient,
    movie_ids: Iterable[int],
    extracted_at: dt.datetime,
    top_cast: int = DEFAULT_TOP_CAST,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Fetch each movie's details; a 404 becomes a ``gone`` line. Returns (envelopes, gone count).

    Any other error (a bad key, TMDB down past the retries) propagates: the caller's chunk is
    not written, so a resumed run fetches it again.
    """
    lines, gone = [], 0
    for movie_id in movie_ids:
        try:
            details: dict[str, Any] | None = client.movie_details(movie_id)
        except TmdbNotFoundError:
            details, gone = None, gone + 1
            if progress is not None:
                progress(f"tmdb movie {movie_id}: 404, written as gone")
        lines.append(envelope(movie_id, details, extracted_at, client.source_label, top_cast))
    return lines, gone
