"""The TMDB client against a real loopback HTTP server serving the recorded shapes: auth, every recorded
error, retries (429 with and without Retry-After, 5xx then success), the paged change feed, the ID
export, the rate limit, and the key and token never showing in logs, errors or raw objects."""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest
from tmdb_fixtures import Answer, LoopbackTmdb, gzip_lines, recorded, recorded_bytes, serve

from datalake.errors import ConfigurationError, SourceError
from datalake.sources.tmdb import (
    RateLimiter,
    TmdbClient,
    TmdbCredentials,
    TmdbError,
    TmdbNotFoundError,
    credentials_from_secret,
    describe_error_body,
)
from datalake.sources.tmdb_raw import envelope, trim_credits

KEY = "0123456789abcdef0123456789abcdef"  # shaped like a v3 key; not a real one
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJ0ZXN0In0.not-a-real-token-signature"
GONE = {999_999_001}
EXPORT_PATH = "/p/exports/movie_ids_12_04_2026.json.gz"
EXPORT_DAY = dt.date(2026, 12, 4)


def details_for(movie_id: int) -> dict[str, Any]:
    doc = copy.deepcopy(recorded("movie_details_550_append_credits_keywords_shape.json"))
    doc["id"] = movie_id
    return doc


#: Pages 2 and 3 of the change feed (page 1 is the recording, told it has 3 pages); 588 shows twice.
EXTRA_PAGES = {2: [550, 588, 11], 3: [999_999_001, 13]}


def recorded_api(path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Answer:
    if path.startswith("/p/exports/"):
        if path != EXPORT_PATH:
            return Answer(404, b"<html><title>404 Not Found</title></html>", {"Content-Type": "text/html"})
        lines = recorded_bytes("movie_ids_example.jsonl").splitlines()
        return Answer(200, gzip_lines(lines), {"Content-Type": "application/octet-stream"})
    authed = headers.get("authorization") == f"Bearer {TOKEN}" or query.get("api_key") == [KEY]
    if not authed:
        return Answer.json(401, recorded("error_401_invalid_api_key_documented.json"))
    if path == "/3/movie/changes":
        page = int(query.get("page", ["1"])[0])
        start = dt.date.fromisoformat(query["start_date"][0])
        end = dt.date.fromisoformat(query.get("end_date", query["start_date"])[0])
        if (end - start).days > 14:
            return Answer.json(422, recorded("error_422_invalid_date_range_documented.json"))
        if not 1 <= page <= 500:
            return Answer.json(400, recorded("error_400_invalid_page_documented.json"))
        if page == 1:
            doc = recorded("movie_changes_page1_recorded_trimmed.json")
        else:
            doc = {"results": [{"id": i, "adult": False} for i in EXTRA_PAGES.get(page, [])], "page": page}
        return Answer.json(200, {**doc, "total_pages": 3, "total_results": 10})
    match = re.fullmatch(r"/3/movie/(\d+)", path)
    if match and int(match.group(1)) not in GONE:
        return Answer.json(200, details_for(int(match.group(1))))
    return Answer.json(404, recorded("error_404_resource_not_found_documented.json"))


@pytest.fixture
def tmdb() -> Iterator[LoopbackTmdb]:
    with serve(recorded_api) as server:
        yield server


class Sleeps(list):
    """Records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(server: LoopbackTmdb, credentials: TmdbCredentials | None = None, **options: Any) -> TmdbClient:
    options.setdefault("sleep", Sleeps())
    # Slots a nanosecond apart: the limiter never waits, so a test's recorded sleeps are the
    # retries' alone (at 1,000/s two quick requests made the limiter record a 16 µs wait).
    options.setdefault("rate_per_s", 1e9)
    return TmdbClient(
        credentials or TmdbCredentials(read_access_token=TOKEN),
        f"{server.url}/3",
        export_base_url=f"{server.url}/p/exports",
        rng=random.Random(1),
        **options,
    )


# -- auth ---------------------------------------------------------------------------------------


def test_details_with_a_token_travel_as_bearer_and_come_back_unchanged(tmdb: LoopbackTmdb) -> None:
    with client(tmdb) as api:
        doc = api.movie_details(550)
    assert doc == details_for(550)
    [seen] = tmdb.seen
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.query == {"append_to_response": ["keywords,credits"]}


def test_an_api_key_travels_as_the_query_parameter(tmdb: LoopbackTmdb) -> None:
    with client(tmdb, TmdbCredentials(api_key=KEY)) as api:
        api.movie_details(550)
    [seen] = tmdb.seen
    assert seen.query["api_key"] == [KEY] and "authorization" not in seen.headers


def test_the_token_wins_over_the_key_and_neither_shows_in_repr() -> None:
    both = TmdbCredentials(api_key=KEY, read_access_token=TOKEN)
    assert both.method == "bearer"
    assert KEY not in repr(both) and TOKEN not in repr(both)
    with pytest.raises(ConfigurationError) as caught:
        TmdbCredentials()
    assert "TMDB_READ_ACCESS_TOKEN" in str(caught.value.hint)


@pytest.mark.parametrize(
    ("payload", "method"),
    [
        (json.dumps({"read_access_token": TOKEN}), "bearer"),
        (json.dumps({"api_key": KEY}), "api_key"),
        (TOKEN, "bearer"),
        (KEY, "api_key"),
    ],
)
def test_secret_payloads_give_credentials(payload: str, method: str) -> None:
    assert credentials_from_secret(payload, "arn:secret:tmdb").method == method


def test_a_secret_that_is_not_credentials_is_refused_without_its_value() -> None:
    with pytest.raises(ConfigurationError) as caught:
        credentials_from_secret(json.dumps({"apikey_typo": KEY}), "arn:secret:tmdb")
    assert "arn:secret:tmdb" in str(caught.value) and KEY not in str(caught.value)


# -- every recorded error, in one line ------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "status", "code", "words"),
    [
        (lambda api: api.get_json("movie/changes", {"start_date": "2026-11-01", "page": 501}),
         400, 22, "Invalid page"),
        (lambda api: api.movie_details(999_999_001), 404, 34, "could not be found"),
        (lambda api: api.get_json("movie/changes", {"start_date": "2026-11-01", "end_date": "2026-11-30"}),
         422, 20, "no longer than 14 days"),
    ],
    ids=["400", "404", "422"],
)  # fmt: skip
def test_each_recorded_error_is_reported_in_one_line_and_not_retried(
    tmdb: LoopbackTmdb, call: Any, status: int, code: int, words: str
) -> None:
    with client(tmdb) as api, pytest.raises(TmdbError) as caught:
        call(api)
    error = caught.value
    assert (error.status, error.tmdb_code, error.retryable) == (status, code, False)
    assert f"status_code {code}: " in str(error) and words in str(error)
    assert "\n" not in str(error)
    assert len(tmdb.seen) == 1  # a 4xx other than 429 is not retried
    assert isinstance(error, TmdbNotFoundError) == (status == 404)


def test_a_401_names_the_envelope_and_never_the_key(
    tmdb: LoopbackTmdb, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "ffffffffffffffffffffffffffffffff"
    with client(tmdb, TmdbCredentials(api_key=wrong)) as api, pytest.raises(TmdbError) as caught:
        api.movie_details(550)
    error = caught.value
    assert (error.status, error.tmdb_code) == (401, 7)
    assert "status_code 7: Invalid API key: You must be granted a valid key." in str(error)
    texts = [str(error), repr(error), error.url, str(error.detail), caplog.text, repr(api)]
    assert all(wrong not in text for text in texts), texts
    assert tmdb.seen[0].query["api_key"] == [wrong]  # it was sent, only never shown


def test_a_429_without_retry_after_backs_off_with_jitter_then_succeeds(tmdb: LoopbackTmdb) -> None:
    tmdb.play_first("/3/movie/", *[Answer.json(429, recorded("error_429_request_count_documented.json"))] * 2)
    sleeps = Sleeps()
    with client(tmdb, sleep=sleeps, backoff_s=1.0) as api:
        assert api.movie_details(550)["id"] == 550
    assert len(tmdb.seen) == 3
    # Full jitter: each wait is drawn in [0, 1 s * 2**(attempt-1)].
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 1.0 and 0 <= sleeps[1] <= 2.0 and sleeps[0] != sleeps[1]


def test_a_429_with_retry_after_waits_what_it_asks(tmdb: LoopbackTmdb) -> None:
    body = recorded("error_429_request_count_documented.json")
    tmdb.play_first("/3/movie/", Answer.json(429, body, **{"Retry-After": "7"}))
    sleeps = Sleeps()
    with client(tmdb, sleep=sleeps) as api:
        api.movie_details(550)
    assert sleeps == [7.0]


def test_a_retry_after_over_the_limit_gives_up_at_once_with_the_envelope(tmdb: LoopbackTmdb) -> None:
    body = recorded("error_429_request_count_documented.json")
    tmdb.play_first("/3/movie/", Answer.json(429, body, **{"Retry-After": "3600"}))
    with client(tmdb, max_retry_after_s=60) as api, pytest.raises(TmdbError) as caught:
        api.movie_details(550)
    assert caught.value.tmdb_code == 25 and "over the allowed limit" in str(caught.value)
    assert "3600 s, over the 60 s limit" in str(caught.value) and len(tmdb.seen) == 1


def test_5xx_then_success_is_retried(tmdb: LoopbackTmdb) -> None:
    tmdb.play_first(
        "/3/movie/",
        Answer(503, b"<html><title>503 Service Unavailable</title></html>", {"Content-Type": "text/html"}),
        Answer.json(500, {"status_code": 11, "status_message": "Internal error: Something went wrong."}),
    )
    sleeps = Sleeps()
    with client(tmdb, sleep=sleeps) as api:
        assert api.movie_details(550) == details_for(550)
    assert len(tmdb.seen) == 3 and len(sleeps) == 2


def test_5xx_past_the_retries_gives_up_naming_the_attempts(tmdb: LoopbackTmdb) -> None:
    failure = Answer.json(
        504, {"status_code": 24, "status_message": "Your request to the backend server timed out."}
    )
    tmdb.play_first("/3/movie/", *[failure] * 3)
    with client(tmdb, max_retries=2) as api, pytest.raises(TmdbError) as caught:
        api.movie_details(550)
    assert caught.value.retryable and "gave up after 3 attempts" in str(caught.value)
    assert "status_code 24" in str(caught.value)


def test_error_bodies_are_read_with_or_without_success_and_as_text() -> None:
    legacy = (
        '{"status_code":25,"status_message":"Your request count (1559) is over the allowed limit of 40."}'
    )
    assert describe_error_body(legacy) == (
        "status_code 25: Your request count (1559) is over the allowed limit of 40.",
        25,
    )
    assert describe_error_body("<html>\n<title>Bad Gateway</title>") == ("<html>", None)
    assert describe_error_body("") == (None, None)


# -- the change feed and the export -----------------------------------------------------------------


def test_the_change_feed_is_paged_through_and_ids_come_once(tmdb: LoopbackTmdb) -> None:
    lines: list[str] = []
    with client(tmdb) as api:
        ids = api.changed_movie_ids(dt.date(2026, 12, 3), dt.date(2026, 12, 4), progress=lines.append)
    page1 = [r["id"] for r in recorded("movie_changes_page1_recorded_trimmed.json")["results"]]
    assert ids == [*page1, 550, 11, 999_999_001, 13]  # 588 is on pages 1 and 2: once
    assert [s.query["page"] for s in tmdb.seen] == [["1"], ["2"], ["3"]]
    assert all(s.query["start_date"] == ["2026-12-03"] for s in tmdb.seen)
    assert len(lines) == 3 and "page 3/3" in lines[-1]


def test_a_window_longer_than_14_days_is_refused_before_asking(tmdb: LoopbackTmdb) -> None:
    with client(tmdb) as api, pytest.raises(ValueError, match="14-day"):
        api.changed_movie_ids(dt.date(2026, 11, 1), dt.date(2026, 11, 16))
    assert tmdb.seen == []


def test_the_id_export_is_read_from_gzip_json_lines_without_credentials(tmdb: LoopbackTmdb) -> None:
    with client(tmdb, TmdbCredentials(api_key=KEY)) as api:
        ids = api.export_movie_ids(EXPORT_DAY)
    assert ids == [2, 5, 6, 11, 3924]
    [seen] = tmdb.seen
    assert seen.path == EXPORT_PATH
    assert "api_key" not in seen.query and "authorization" not in seen.headers


def test_a_missing_export_is_an_error_naming_its_url(tmdb: LoopbackTmdb) -> None:
    with client(tmdb) as api, pytest.raises(SourceError) as caught:
        api.export_movie_ids(dt.date(2026, 1, 1))
    assert caught.value.status == 404 and "movie_ids_01_01_2026.json.gz" in str(caught.value)


# -- the rate limit ---------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_rate_limit_spaces_request_starts() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits[0] == 0 and all(w == pytest.approx(0.1) for w in waits[1:])
    assert clock.now == pytest.approx(100.4)
    clock.now += 5  # idle time is not banked into a burst
    assert limiter.acquire() == 0 and limiter.acquire() == pytest.approx(0.1)


def test_the_client_goes_through_its_rate_limit(tmdb: LoopbackTmdb) -> None:
    clock = FakeClock()
    with client(tmdb, rate_per_s=4.0, clock=clock, sleep=clock.sleep) as api:
        for movie_id in (550, 551, 552):
            api.movie_details(movie_id)
    assert clock.now == pytest.approx(100.5) and api.requests_sent == 3


# -- trimming ---------------------------------------------------------------------------------------


def test_credits_keep_the_directors_and_the_top_billed_cast_by_order() -> None:
    doc = details_for(550)
    extra = [{**doc["credits"]["cast"][0], "id": 9000 + n, "order": n} for n in range(8, 1, -1)]
    doc["credits"]["cast"] = extra + doc["credits"]["cast"]  # out of order, 9 members
    trimmed = trim_credits(doc, top_cast=3)
    assert [m["order"] for m in trimmed["credits"]["cast"]] == [0, 1, 2]
    assert [m["name"] for m in trimmed["credits"]["crew"]] == ["David Fincher"]
    assert trimmed["credits"]["cast"][0] == doc["credits"]["cast"][-2]  # kept as TMDB sent it
    assert {k: v for k, v in trimmed.items() if k != "credits"} == {
        k: v for k, v in doc.items() if k != "credits"
    }
    assert len(doc["credits"]["cast"]) == 9  # the input is not changed


def test_an_envelope_is_the_contract_line() -> None:
    at = dt.datetime(2026, 12, 4, 6, tzinfo=dt.UTC)
    line = envelope(550, details_for(550), at, "tmdb")
    assert list(line) == ["movie_id", "extracted_at", "source", "status", "details"]
    assert (line["extracted_at"], line["status"]) == ("2026-12-04T06:00:00+00:00", "ok")
    assert envelope(7, None, at, "sample") == {
        "movie_id": 7,
        "extracted_at": "2026-12-04T06:00:00+00:00",
        "source": "sample",
        "status": "gone",
        "details": None,
    }
