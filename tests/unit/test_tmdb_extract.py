"""TMDB extraction runs over loopback HTTP: the checkpointed backfill resumes after an interruption with no
duplicate and no gap, the daily run's window and tombstones, the SAMPLE TMDB, and the key never reaching
a raw object, a checkpoint, a run report or a log line."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import re
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from tmdb_fixtures import Answer, LoopbackTmdb, gzip_lines, recorded, serve, transport_answer

from datalake import aws
from datalake.errors import ConfigurationError, DataValidationError
from datalake.settings import Settings
from datalake.sources import tmdb_extract
from datalake.sources.tmdb import TmdbClient, TmdbCredentials, TmdbError, resolve_credentials
from datalake.sources.tmdb_raw import MOVIE_RAW_PREFIX, raw_key, read_chunk
from datalake.sources.tmdb_sample import (
    SAMPLE_TOKEN,
    SampleTransport,
    catalogue,
    changed_ids,
    sample_client,
)
from datalake.storage.local import LocalObjectStore

KEY = "abcdefabcdefabcdefabcdefabcdef12"  # shaped like a v3 key; not a real one
EXPORT_IDS = [
    2,
    3,
    5,
    8,
    13,
    21,
    34,
    55,
    89,
    144,
    233,
    377,
    610,
    987,
    1597,
    2584,
    4181,
    6765,
    10946,
    17711,
    28657,
]
GONE = {55, 2584}
DAY = dt.date(2026, 12, 4)


class Api:
    """A TMDB on loopback whose details can be switched off after ``healthy_for`` more requests."""

    def __init__(self) -> None:
        self.healthy_for: int | None = None
        self.lock = threading.Lock()

    def __call__(self, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Answer:
        if path.startswith("/p/exports/"):
            lines = [
                json.dumps({"adult": False, "id": i, "original_title": f"T{i}"}).encode() for i in EXPORT_IDS
            ]
            return Answer(200, gzip_lines(lines[::-1]))
        if query.get("api_key") != [KEY]:
            return Answer.json(401, recorded("error_401_invalid_api_key_documented.json"))
        if path == "/3/movie/changes":
            ids = [2, 3, 55, 610]
            return Answer.json(
                200, {"results": [{"id": i, "adult": None} for i in ids], "page": 1, "total_pages": 1}
            )
        with self.lock:
            if self.healthy_for is not None:
                if self.healthy_for <= 0:
                    return Answer.json(503, {"status_code": 9, "status_message": "Service offline."})
                self.healthy_for -= 1
        movie_id = int(re.fullmatch(r"/3/movie/(\d+)", path).group(1))  # type: ignore[union-attr]
        if movie_id in GONE:
            return Answer.json(404, recorded("error_404_resource_not_found_documented.json"))
        doc = recorded("movie_details_550_append_credits_keywords_shape.json")
        return Answer.json(200, {**doc, "id": movie_id})


@pytest.fixture
def api() -> Iterator[tuple[Api, LoopbackTmdb]]:
    state = Api()
    with serve(state) as server:
        yield state, server


def make_client(server: LoopbackTmdb, **options: Any) -> TmdbClient:
    return TmdbClient(
        TmdbCredentials(api_key=KEY),
        f"{server.url}/3",
        export_base_url=f"{server.url}/p/exports",
        rate_per_s=1_000.0,
        sleep=lambda _s: None,
        rng=random.Random(3),
        **options,
    )


def all_lines(lake: LocalObjectStore) -> list[dict[str, Any]]:
    return [line for key in sorted(lake.list_keys(MOVIE_RAW_PREFIX)) for line in read_chunk(lake, key)]


def clock_at(moment: dt.datetime) -> Any:
    return lambda: moment


# -- backfill -------------------------------------------------------------------------------------


def test_backfill_resumes_after_an_interruption_with_no_duplicate_and_no_gap(
    api: tuple[Api, LoopbackTmdb], tmp_path: Path
) -> None:
    state, server = api
    lake = LocalObjectStore(tmp_path / "lake")
    moment = dt.datetime(2026, 12, 4, 9, 15, tzinfo=dt.UTC)
    state.healthy_for = 12  # TMDB goes offline in the middle of the third chunk of five
    with make_client(server, max_retries=1) as client, pytest.raises(TmdbError, match="status_code 9"):
        tmdb_extract.backfill(client, lake, DAY, chunk_size=5, clock=clock_at(moment))
    stopped = tmdb_extract.load_checkpoint(lake, "tmdb", DAY)
    assert stopped is not None and (stopped.next_index, stopped.chunks_written) == (10, 2)
    assert len(all_lines(lake)) == 10  # the broken chunk left nothing behind

    state.healthy_for = None
    with make_client(server) as client:
        summary = tmdb_extract.backfill(client, lake, DAY, chunk_size=5, clock=clock_at(moment))
    assert (summary.start_index, summary.next_index, summary.done) == (10, 21, True)
    lines = all_lines(lake)
    counts = Counter(line["movie_id"] for line in lines)
    assert sorted(counts) == EXPORT_IDS and set(counts.values()) == {1}
    assert {line["movie_id"] for line in lines if line["status"] == "gone"} == GONE
    assert all(line["details"] is None for line in lines if line["status"] == "gone")
    assert sorted(lake.list_keys(MOVIE_RAW_PREFIX)) == sorted(
        raw_key("backfill", DAY, EXPORT_IDS[n * 5], n) for n in range(5)
    )
    # Only the ids of the export's first chunks were fetched twice: nothing past the break was skipped.
    details = [p for p in server.paths("/3/movie/")]
    assert len(details) == 21 + 3 + 1  # 21 ids, the 3 of the broken chunk again, plus its failed try


def test_a_crash_between_the_file_and_the_checkpoint_rewrites_the_same_key(
    api: tuple[Api, LoopbackTmdb], tmp_path: Path
) -> None:
    _state, server = api

    class CrashOnCheckpoint(LocalObjectStore):
        crashes = 1

        def put_json(self, key: str, obj: Any) -> str:
            if key.endswith(".json") and obj.get("chunks_written") == 2 and self.crashes:
                self.crashes -= 1
                raise OSError("the function was stopped")
            return super().put_json(key, obj)

    lake = CrashOnCheckpoint(tmp_path / "lake")
    moment = dt.datetime(2026, 12, 4, 9, 15, tzinfo=dt.UTC)
    with make_client(server) as client:
        with pytest.raises(OSError):
            tmdb_extract.backfill(client, lake, DAY, chunk_size=8, clock=clock_at(moment))
        tmdb_extract.backfill(client, lake, DAY, chunk_size=8, clock=clock_at(moment))
    counts = Counter(line["movie_id"] for line in all_lines(lake))
    assert sorted(counts) == EXPORT_IDS and set(counts.values()) == {1}
    assert len(lake.list_keys(MOVIE_RAW_PREFIX)) == 3


def test_limit_caps_each_run_and_the_next_run_goes_on(api: tuple[Api, LoopbackTmdb], tmp_path: Path) -> None:
    _state, server = api
    lake = LocalObjectStore(tmp_path / "lake")
    with make_client(server) as client:
        first = tmdb_extract.backfill(client, lake, DAY, limit=7, chunk_size=5)
        second = tmdb_extract.backfill(client, lake, DAY, limit=7, chunk_size=5)
    assert (first.attempted, first.next_index, len(first.keys)) == (7, 7, 2)
    assert (second.start_index, second.next_index, second.done) == (7, 14, False)
    assert sorted(line["movie_id"] for line in all_lines(lake)) == EXPORT_IDS[:14]
    # The export was downloaded once; the second run read its ids from the lake.
    assert len(server.paths("/p/exports/")) == 1


def test_a_held_export_refuses_a_second_run_until_released_or_expired(
    api: tuple[Api, LoopbackTmdb], tmp_path: Path
) -> None:
    _state, server = api
    lake = LocalObjectStore(tmp_path / "lake")
    moment = dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC)
    with make_client(server) as client:
        # A chain that hands over to its continuation keeps holding the export.
        tmdb_extract.backfill(
            client, lake, DAY, limit=5, chunk_size=5, clock=clock_at(moment), hand_over=True
        )
        with pytest.raises(DataValidationError) as refused:
            tmdb_extract.backfill(client, lake, DAY, limit=5, chunk_size=5, clock=clock_at(moment))
        assert refused.value.field == "export_date" and "held until 2026-12-04T09:20:00+00:00" in str(
            refused.value
        )
        # Its continuation may go on; a run after the hold expired (a chain that died) may too.
        going_on = tmdb_extract.backfill(
            client,
            lake,
            DAY,
            limit=5,
            chunk_size=5,
            clock=clock_at(moment),
            continuation=True,
            hand_over=True,
        )
        later = moment + tmdb_extract.LEASE + dt.timedelta(seconds=1)
        taken = tmdb_extract.backfill(client, lake, DAY, limit=5, chunk_size=5, clock=clock_at(later))
    assert (going_on.start_index, taken.start_index, taken.next_index) == (5, 10, 15)
    checkpoint = tmdb_extract.load_checkpoint(lake, "tmdb", DAY)
    assert checkpoint is not None and checkpoint.held_until is None  # released at its end


# -- daily ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_end", "expected"),
    [
        (None, (dt.date(2026, 12, 3), DAY, 0)),
        (dt.date(2026, 12, 1), (dt.date(2026, 12, 1), DAY, 0)),
        (dt.date(2026, 11, 4), (dt.date(2026, 11, 20), DAY, 16)),
    ],
)
def test_the_change_window_starts_at_the_last_success_and_reaches_14_days_back_at_most(
    last_end: dt.date | None, expected: tuple
) -> None:
    assert tmdb_extract.changes_window(last_end, DAY) == expected


def test_daily_refetches_changed_ids_writes_tombstones_and_moves_its_state(
    api: tuple[Api, LoopbackTmdb], tmp_path: Path
) -> None:
    _state, server = api
    lake = LocalObjectStore(tmp_path / "lake")
    lake.put_json(tmdb_extract.daily_state_key("tmdb"), {"last_success_end": "2026-11-01"})
    now = dt.datetime(2026, 12, 4, 6, tzinfo=dt.UTC)
    with make_client(server) as client:
        summary = tmdb_extract.daily(client, lake, now, chunk_size=3)
    assert (summary.start, summary.end, summary.days_missed) == ("2026-11-20", "2026-12-04", 19)
    [changes] = [s for s in server.seen if s.path == "/3/movie/changes"]
    assert (changes.query["start_date"], changes.query["end_date"]) == (["2026-11-20"], ["2026-12-04"])
    assert summary.keys == [raw_key("daily", DAY, 2, 0), raw_key("daily", DAY, 610, 1)]
    lines = all_lines(lake)
    assert [(line["movie_id"], line["status"]) for line in lines] == [
        (2, "ok"), (3, "ok"), (55, "gone"), (610, "ok")
    ]  # fmt: skip
    assert {line["extracted_at"] for line in lines} == {"2026-12-04T06:00:00+00:00"}
    assert lake.get_json(tmdb_extract.daily_state_key("tmdb"))["last_success_end"] == "2026-12-04"


def test_a_daily_run_out_of_time_leaves_its_window_to_the_next_run(
    api: tuple[Api, LoopbackTmdb], tmp_path: Path
) -> None:
    _state, server = api
    lake = LocalObjectStore(tmp_path / "lake")
    first_now = dt.datetime(2026, 12, 4, 6, tzinfo=dt.UTC)
    with make_client(server) as client:
        stopped = tmdb_extract.daily(client, lake, first_now, chunk_size=3, keep_going=lambda: False)
        assert (stopped.attempted, stopped.left, stopped.resumed) == (3, 1, False)
        assert not lake.exists(tmdb_extract.daily_state_key("tmdb"))  # the window is not done
        later = dt.datetime(2026, 12, 5, 6, tzinfo=dt.UTC)
        resumed = tmdb_extract.daily(client, lake, later, chunk_size=3)
    assert (resumed.start, resumed.end, resumed.attempted, resumed.left) == ("2026-12-03", "2026-12-04", 1, 0)
    assert resumed.resumed and len(server.paths("/3/movie/changes")) == 1  # the feed was read once
    assert sorted(line["movie_id"] for line in all_lines(lake)) == [2, 3, 55, 610]
    assert resumed.keys == [raw_key("daily", later.date(), 610, 1)]  # chunk numbers go on
    assert lake.get_json(tmdb_extract.daily_state_key("tmdb"))["last_success_end"] == "2026-12-04"


# -- the SAMPLE TMDB ------------------------------------------------------------------------------


def test_the_sample_is_deterministic_plausible_and_labelled() -> None:
    sample = catalogue()
    assert len(sample.movies) == 300 and len(sample.gone_ids) == 12 and catalogue() is sample
    budgets = [m["budget"] for m in sample.movies.values()]
    assert 0.05 < budgets.count(0) / len(budgets) < 0.25  # TMDB's "unknown"
    known = sorted(b for b in budgets if b)
    assert 1e6 < known[len(known) // 2] < 1e8
    assert all(
        m["overview"].startswith("SAMPLE") and m["tagline"] == "SAMPLE" for m in sample.movies.values()
    )
    assert all(any(c["job"] == "Director" for c in m["credits"]["crew"]) for m in sample.movies.values())
    assert changed_ids(DAY, DAY) == changed_ids(DAY, DAY)


def test_the_sample_change_feed_spans_pages_and_holds_gone_ids() -> None:
    with sample_client() as client:
        ids = client.changed_movie_ids(dt.date(2026, 12, 1), DAY)
        pages = [r for r in client._http._transport.requests if r.url.path == "/3/movie/changes"]  # type: ignore[attr-defined]
    assert len(pages) >= 3 and ids == changed_ids(dt.date(2026, 12, 1), DAY)
    assert set(ids) & catalogue().gone_ids


def test_the_sample_refuses_what_tmdb_refuses() -> None:
    with sample_client() as client:
        with pytest.raises(TmdbError) as window:
            client.get_json("movie/changes", {"start_date": "2026-11-01", "end_date": "2026-11-30"})
        with pytest.raises(TmdbError) as page:
            client.get_json("movie/changes", {"page": 501})
    assert (window.value.status, window.value.tmdb_code, page.value.tmdb_code) == (422, 20, 22)
    wrong = TmdbClient(TmdbCredentials(api_key="wrong"), "https://api.tmdb-sample.invalid/3",
                       http=__import__("httpx").Client(transport=SampleTransport()))  # fmt: skip
    with pytest.raises(TmdbError) as denied:
        wrong.movie_details(next(iter(catalogue().movies)))
    assert (denied.value.status, denied.value.tmdb_code) == (401, 7)


def test_the_sample_served_over_real_http_backfills_like_the_api(tmp_path: Path) -> None:
    with serve(transport_answer(SampleTransport())) as server:
        client = TmdbClient(
            TmdbCredentials(read_access_token=SAMPLE_TOKEN),
            f"{server.url}/3",
            export_base_url=f"{server.url}/p/exports",
            rate_per_s=1_000.0,
            source_label="sample",
        )
        lake = LocalObjectStore(tmp_path / "lake")
        with client:
            summary = tmdb_extract.backfill(client, lake, DAY, limit=40, chunk_size=20)
    lines = all_lines(lake)
    assert summary.attempted == 40 and len(lines) == 40
    assert {line["source"] for line in lines} == {"sample"}
    assert all(len(line["details"]["credits"]["cast"]) <= 5 for line in lines if line["details"])


# -- the key stays secret -------------------------------------------------------------------------


def test_the_key_never_reaches_raw_checkpoints_run_reports_or_logs(
    api: tuple[Api, LoopbackTmdb], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from datalake.pipelines.tmdb_ingest import ingest_tmdb_backfill, ingest_tmdb_daily

    caplog.set_level(logging.DEBUG)  # httpx logs every request URL at INFO, api_key included
    _state, server = api
    settings = Settings(
        _env_file=None,
        lake_root=tmp_path / "lake",
        tmdb_api_key=KEY,
        tmdb_base_url=f"{server.url}/3",
        tmdb_export_base_url=f"{server.url}/p/exports",
        tmdb_rate_limit_per_s=40,
        tmdb_chunk_size=4,
    )
    lines: list[str] = []
    report, summary = ingest_tmdb_backfill(DAY, limit=9, settings=settings, progress=lines.append)
    assert summary.written == 9 and report.status == "succeeded"
    ingest_tmdb_daily(dt.datetime(2026, 12, 4, 6, tzinfo=dt.UTC), settings=settings, progress=lines.append)
    wrong = "0" * 32
    with pytest.raises(TmdbError) as failed:  # a 401, on another export's first chunk
        ingest_tmdb_backfill(DAY - dt.timedelta(days=1), limit=4, settings=settings.model_copy(
            update={"tmdb_api_key": SecretStr(wrong)}
        ))  # fmt: skip
    assert failed.value.status == 401 and "status_code 7" in str(failed.value)
    assert any(s.query.get("api_key") == [KEY] for s in server.seen)  # it was sent
    files = [p for p in (tmp_path / "lake").rglob("*") if p.is_file()]
    assert any("_runs" in p.parts for p in files) and any("_checkpoints" in p.parts for p in files)
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert KEY not in text and wrong not in text and KEY not in str(path), path
    assert "HTTP Request" in caplog.text and "api_key=***" in caplog.text  # the HTTP log was captured...
    shown = [caplog.text, "\n".join(lines), str(failed.value), repr(failed.value)]
    assert all(KEY not in text and wrong not in text for text in shown)  # ...and scrubbed


def test_credentials_come_from_secrets_manager_and_a_bad_secret_is_named_not_shown(
    moto_settings: Settings,
) -> None:
    secrets = aws.client("secretsmanager", settings=moto_settings)
    arn = secrets.create_secret(Name="datalake/dev/tmdb", SecretString=json.dumps({"api_key": KEY}))["ARN"]
    credentials = resolve_credentials(moto_settings.model_copy(update={"tmdb_secret_arn": arn}))
    assert (credentials.method, credentials.api_key) == ("api_key", KEY)
    broken = secrets.create_secret(Name="datalake/dev/tmdb-broken", SecretString=f"two words {KEY}")["ARN"]
    with pytest.raises(ConfigurationError) as bad:
        resolve_credentials(moto_settings.model_copy(update={"tmdb_secret_arn": broken}))
    with pytest.raises(ConfigurationError) as missing:
        resolve_credentials(moto_settings.model_copy(update={"tmdb_secret_arn": f"{arn}-nope"}))
    assert broken in str(bad.value) and KEY not in str(bad.value)
    assert "ResourceNotFoundException" in str(missing.value)
