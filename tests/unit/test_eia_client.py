"""The EIA client against a real loopback HTTP server serving the recorded shapes of ../shared/data/eia_api:
the data pages (``total`` as text, several pages), every documented error in one line, retries on 429
and 5xx, the truncation warning, the real Henry Hub recording that counts more rows than it holds, and
the key never showing in logs, errors, raw objects or stored URLs."""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tmdb_fixtures import Answer, LoopbackTmdb, serve

from datalake.errors import ConfigurationError, DataValidationError
from datalake.settings import Settings
from datalake.sources.eia import (
    RAW_PREFIX,
    SAMPLE_RAW_PREFIX,
    EiaClient,
    EiaError,
    describe_error,
    key_from_secret,
    parse_series,
    raw_key,
    read_total,
    resolve_api_key,
    write_fetch,
)
from datalake.sources.http_retry import RetryPolicy
from datalake.storage.local import LocalObjectStore

EIA_API = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eia_api"
KEY = "eiaTESTkey0123456789abcdefABCDEFxyz"  # shaped like a 40-character key; not a real one
SPT = "/v2/petroleum/pri/spt"
FUT = "/v2/natural-gas/pri/fut"
NOW = dt.datetime(2026, 9, 29, 19, 9, 40, tzinfo=dt.UTC)


def recorded(name: str) -> Any:
    """A recorded EIA shape (the test skips when ../shared/data is not on this machine)."""
    path = EIA_API / name
    if not path.exists():
        pytest.skip(f"recorded EIA shape {path} is not on this machine (../shared/data is optional)")
    return json.loads(path.read_text())


def spt_rows() -> list[dict[str, str]]:
    """Seven WTI/Brent rows: the four recorded ones and three more days built from them."""
    rows = recorded("petroleum_pri_spt_data_daily_wti_brent_shape.json")["response"]["data"]
    extra = []
    for day, wti in (("2026-08-28", "89.71"), ("2026-08-27", "88.02")):
        for row in rows[2:4]:
            extra.append({**row, "period": day, "value": wti if row["series"] == "RWTC" else "93.1"})
    rows = sorted([*rows, *extra[:3]], key=lambda r: (r["period"], r["series"]))
    return rows


def answer(path: str, query: dict[str, list[str]], _headers: dict[str, str]) -> Answer:
    """EIA as the recordings show it: the key gate, parameter errors, data pages, metadata."""
    if "api_key" not in query:
        return Answer.json(403, recorded("error_403_api_key_missing_recorded.json"))
    if query["api_key"] != [KEY]:
        return Answer.json(403, recorded("error_403_api_key_invalid_shape.json"))
    if path == f"{FUT}/":
        return Answer.json(200, recorded("natural_gas_pri_fut_metadata_recorded.json"))
    if path not in (f"{SPT}/data/", f"{FUT}/data/"):
        return Answer.json(404, {"error": "Not found.", "code": 404})
    if query.get("frequency") != ["daily"]:
        return Answer.json(400, recorded("error_400_invalid_frequency_recorded.json"))
    if any(name.startswith("facets[") and name != "facets[series][]" for name in query):
        return Answer.json(400, recorded("error_400_invalid_facet_shape.json"))
    offset, length = int(query["offset"][0]), int(query["length"][0])
    if path == f"{FUT}/data/":
        # The real recording: total "15" over the 3 rows kept when it was trimmed.
        doc = recorded("natural_gas_pri_fut_data_daily_henry_hub_recorded_trimmed.json")
        if offset:
            doc["response"]["data"] = []
        return Answer.json(200, doc)
    if query["facets[series][]"] == ["RWTX"]:
        return Answer.json(200, recorded("petroleum_pri_spt_data_unknown_facet_value_shape.json"))
    rows = spt_rows()
    doc = copy.deepcopy(recorded("petroleum_pri_spt_data_daily_wti_brent_shape.json"))
    doc["response"]["data"] = rows[offset : offset + length]
    doc["response"]["total"] = str(len(rows))
    if offset + length < len(rows):  # the recorded truncation warning, at the top level as in 2.1.14
        doc = {"warnings": recorded("warning_incomplete_return_recorded.json")["warnings"], **doc}
    return Answer.json(200, doc)


@pytest.fixture
def eia() -> Iterator[LoopbackTmdb]:
    with serve(answer) as server:
        yield server


class Sleeps(list):
    """Records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(server: LoopbackTmdb, key: str | None = KEY, **options: Any) -> EiaClient:
    options.setdefault("sleep", Sleeps())
    return EiaClient(key, f"{server.url}/v2", rng=random.Random(1), **options)


DAYS = (dt.date(2026, 8, 27), dt.date(2026, 9, 1))


# -- data and paging --------------------------------------------------------------------------------


def test_rows_are_paged_through_with_total_as_text(
    eia: LoopbackTmdb, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="datalake.sources.eia")
    with client(eia, page_rows=3) as api:
        fetch = api.fetch("petroleum/pri/spt", ["RWTC", "RBRTE"], *DAYS)
    assert (fetch.total, fetch.pages, len(fetch.rows)) == (7, 3, 7)
    assert fetch.rows == spt_rows()
    offsets = [(s.query["offset"], s.query["length"]) for s in eia.seen]
    assert offsets == [(["0"], ["3"]), (["3"], ["3"]), (["6"], ["3"])]
    first = eia.seen[0].query
    assert first["facets[series][]"] == ["RWTC", "RBRTE"] and first["frequency"] == ["daily"]
    assert (first["start"], first["end"]) == (["2026-08-27"], ["2026-09-01"])
    assert first["sort[0][column]"] == ["period"] and first["sort[1][column]"] == ["series"]
    # The truncation warning came with pages 1 and 2: expected while paging, logged as information.
    assert fetch.warnings == [
        {"warning": "incomplete return", "description": fetch.warnings[0]["description"]}
    ]
    truncated = [r for r in caplog.records if "page truncated" in r.getMessage()]
    assert len(truncated) == 2 and all(r.levelno == logging.INFO for r in truncated)


def test_a_truncation_warning_on_a_complete_answer_is_logged_as_a_warning(
    eia: LoopbackTmdb, caplog: pytest.LogCaptureFixture
) -> None:
    doc = recorded("warning_incomplete_return_recorded.json")  # 2 of 307 rows, the warning on top
    doc["response"]["total"] = "2"
    eia.play_first(f"{SPT}/data/", Answer.json(200, doc))
    caplog.set_level(logging.INFO, logger="datalake.sources.eia")
    with client(eia) as api:
        fetch = api.fetch("petroleum/pri/spt", ["RWTC"], *DAYS)
    assert len(fetch.rows) == 2 and fetch.warnings[0]["warning"] == "incomplete return"
    [warned] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "incomplete return" in warned.getMessage() and "2 of 2 rows" in warned.getMessage()


def test_warnings_inside_response_are_read_too(eia: LoopbackTmdb) -> None:
    doc = recorded("petroleum_pri_spt_data_daily_wti_brent_shape.json")  # the 2.1.8 placement
    doc["response"]["warnings"] = [{"warning": "parameter out of range", "description": "x"}]
    eia.play_first(f"{SPT}/data/", Answer.json(200, doc))
    with client(eia) as api:
        fetch = api.fetch("petroleum/pri/spt", ["RWTC", "RBRTE"], *DAYS)
    assert fetch.warnings == [{"warning": "parameter out of range", "description": "x"}]


def test_the_recorded_henry_hub_answer_counting_more_rows_than_it_holds_is_incomplete(
    eia: LoopbackTmdb,
) -> None:
    with client(eia) as api, pytest.raises(EiaError) as caught:
        api.fetch("natural-gas/pri/fut", ["RNGWHHD"], dt.date(2026, 9, 1), dt.date(2026, 9, 22))
    assert caught.value.cause == "incomplete" and caught.value.retryable
    assert "3 of the 15 rows it counted" in str(caught.value)
    assert [s.query["offset"] for s in eia.seen] == [["0"], ["3"]]


def test_an_api_that_ignores_offset_is_caught_not_counted_as_complete(eia: LoopbackTmdb) -> None:
    page = copy.deepcopy(recorded("petroleum_pri_spt_data_daily_wti_brent_shape.json"))
    page["response"]["total"] = "8"  # four rows a page, the same four each time
    eia.play_first(f"{SPT}/data/", Answer.json(200, page), Answer.json(200, page))
    with client(eia, page_rows=4) as api, pytest.raises(EiaError, match="the same rows again at offset 4"):
        api.fetch("petroleum/pri/spt", ["RWTC", "RBRTE"], *DAYS)


def test_an_unknown_series_is_no_error_but_no_rows(eia: LoopbackTmdb) -> None:
    with client(eia) as api:
        fetch = api.fetch("petroleum/pri/spt", ["RWTX"], *DAYS)
    assert (fetch.total, fetch.rows, fetch.pages) == (0, [], 1)


def test_the_first_available_day_is_the_routes_start_period(eia: LoopbackTmdb) -> None:
    with client(eia) as api:
        assert api.first_day("natural-gas/pri/fut") == dt.date(1993, 12, 24)


@pytest.mark.parametrize("total", ["15", 15, " 7 "])
def test_total_is_read_as_a_count_from_text_or_number(total: Any) -> None:
    assert read_total(total, "u") == int(str(total).strip())


@pytest.mark.parametrize("total", [None, "", "fifteen", "-1", True, "1.5"])
def test_a_total_that_is_not_a_count_is_an_unreadable_response(total: Any) -> None:
    with pytest.raises(EiaError, match="is not a count") as caught:
        read_total(total, "u")
    assert caught.value.cause == "bad_response"


# -- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "route", "params", "cause", "words"),
    [
        (None, "petroleum/pri/spt", {}, "api_key_missing", "missing API key (HTTP 403"),
        ("wrong-key", "petroleum/pri/spt", {}, "api_key_invalid", "invalid API key (HTTP 403"),
        (KEY, "petroleum/pri/spt", {"frequency": "yearly"}, "invalid_frequency", "bad frequency (HTTP 400"),
        (KEY, "petroleum/pri/spt", {"facets[seriesid][]": "RWTC"}, "invalid_facet", "bad facet (HTTP 400"),
        (KEY, "petroleum/pri/nope", {}, "not_found", "unknown route (HTTP 404"),
    ],
)
def test_each_documented_error_is_one_line_naming_its_cause_and_not_retried(
    eia: LoopbackTmdb, key: str | None, route: str, params: dict[str, str], cause: str, words: str
) -> None:
    query = [("frequency", "daily"), ("offset", "0"), ("length", "10")]
    query = [(k, params.get(k, v)) for k, v in query] + [
        (k, v) for k, v in params.items() if k != "frequency"
    ]
    sleeps = Sleeps()
    with client(eia, key, sleep=sleeps) as api, pytest.raises(EiaError) as caught:
        api.get_json(f"{route}/data", query)
    error = caught.value
    assert error.cause == cause and error.fatal and not error.retryable
    assert words in str(error) and "\n" not in str(error)
    assert len(eia.seen) == 1 and sleeps == []
    if cause.startswith("api_key"):
        assert error.hint and "EIA_API_KEY" in error.hint
    expected = {
        "api_key_missing": "API_KEY_MISSING: No api_key was supplied.",
        "invalid_frequency": "Invalid frequency 'yearly' provided.",
        "invalid_facet": "Invalid facet 'seriesid' provided.",
        "not_found": "Not found.",
    }
    assert expected.get(cause, "API_KEY_INVALID") in str(error)


def test_an_error_body_with_http_200_is_still_an_error(eia: LoopbackTmdb) -> None:
    # Before API 2.1.10 a parameter error could come with HTTP 200: the body decides.
    eia.play_first(f"{SPT}/data/", Answer.json(200, recorded("error_400_invalid_frequency_recorded.json")))
    with client(eia) as api, pytest.raises(EiaError) as caught:
        api.fetch("petroleum/pri/spt", ["RWTC"], *DAYS)
    assert caught.value.cause == "invalid_frequency" and caught.value.status == 200


def test_error_bodies_are_read_from_both_envelopes_and_plain_text() -> None:
    assert (
        describe_error(403, json.dumps(recorded("error_403_api_key_missing_recorded.json")))[0]
        == "api_key_missing"
    )
    assert (
        describe_error(400, '{"error": "Invalid facet \'x\' provided.", "code": 400}')[0] == "invalid_facet"
    )
    assert describe_error(503, "<html><body>Service Unavailable</body></html>") == (
        "server_error",
        "<html><body>Service Unavailable</body></html>",
    )
    assert describe_error(429, "")[0] == "rate_limited"
    assert (
        describe_error(403, '{"error": {"code": "OVER_RATE_LIMIT", "message": "slow down"}}')[0]
        == "rate_limited"
    )


# -- retries ----------------------------------------------------------------------------------------


def test_429_with_retry_after_then_5xx_are_retried_until_the_answer(eia: LoopbackTmdb) -> None:
    server_error = Answer.json(500, {"error": "Something unexpected happened.", "code": 500})
    eia.play_first(f"{SPT}/data/", Answer.json(429, {}, **{"Retry-After": "7"}), server_error)
    sleeps = Sleeps()
    with client(eia, sleep=sleeps) as api:
        fetch = api.fetch("petroleum/pri/spt", ["RWTC", "RBRTE"], *DAYS)
    assert len(fetch.rows) == 7 and len(eia.seen) == 3
    assert sleeps[0] == 7.0 and 0.0 <= sleeps[1] <= 2.0  # Retry-After, then jittered backoff (attempt 2)


def test_repeated_5xx_gives_up_after_the_retries_naming_the_cause(eia: LoopbackTmdb) -> None:
    failing = Answer(
        503, b"<html><title>503 Service Unavailable</title></html>", {"Content-Type": "text/html"}
    )
    eia.play_first(f"{SPT}/data/", *[failing] * 3)
    with client(eia, retry=RetryPolicy(max_retries=2)) as api, pytest.raises(EiaError) as caught:
        api.fetch("petroleum/pri/spt", ["RWTC"], *DAYS)
    assert caught.value.cause == "server_error" and caught.value.retryable and not caught.value.fatal
    assert "server error (HTTP 503" in str(caught.value) and "gave up after 3 attempts" in str(caught.value)
    assert len(eia.seen) == 3


def test_a_retry_after_over_the_limit_gives_up_at_once(eia: LoopbackTmdb) -> None:
    eia.play_first(f"{SPT}/data/", Answer.json(429, {}, **{"Retry-After": "3600"}))
    sleeps = Sleeps()
    with (
        client(eia, sleep=sleeps, retry=RetryPolicy(max_retry_after_s=60)) as api,
        pytest.raises(EiaError) as caught,
    ):
        api.fetch("petroleum/pri/spt", ["RWTC"], *DAYS)
    assert "EIA asked to wait 3600 s, over the 60 s limit" in str(caught.value) and sleeps == []


# -- the key never shows ----------------------------------------------------------------------------


def test_the_key_never_shows_in_logs_errors_raw_objects_or_stored_urls(
    eia: LoopbackTmdb, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    # An error that echoes the key, as an invalid-key message might, and a 2.1.8 echo carrying it.
    echoing = Answer.json(403, {"error": {"code": "API_KEY_INVALID", "message": f"key {KEY} is not valid"}})
    eia.play_first(f"{SPT}/data/", Answer.json(500, {"error": f"boom {KEY}", "code": 500}), echoing)
    texts: list[str] = []
    with client(eia) as api:
        with pytest.raises(EiaError) as caught:
            api.fetch("petroleum/pri/spt", ["RWTC"], *DAYS)
        texts += [
            str(caught.value),
            repr(caught.value),
            caught.value.url,
            str(caught.value.detail),
            repr(api),
        ]
        doc = recorded("petroleum_pri_spt_data_daily_wti_brent_shape.json")
        doc["request"]["params"]["api_key"] = KEY
        doc["response"]["description"] = f"echo {KEY}"
        eia.play_first(f"{SPT}/data/", Answer.json(200, doc))
        fetch = api.fetch("petroleum/pri/spt", ["RWTC", "RBRTE"], *DAYS)
    store = LocalObjectStore(tmp_path / "lake")
    landed = write_fetch(store, fetch, NOW)
    assert landed.days_written == 2
    raw = b"".join((tmp_path / "lake" / key).read_bytes() for key in store.list_keys("raw"))
    assert KEY.encode() not in raw and b"api_key" not in raw
    stored = json.loads((tmp_path / "lake" / landed.keys[0]).read_text())
    assert stored["datalake"]["request_url"].startswith(
        f"{eia.url}/v2/petroleum/pri/spt/data/?frequency=daily"
    )
    assert "invalid API key" in texts[0] and "***" in texts[0]
    texts += [caplog.text, fetch.request_url, json.dumps(fetch.envelope)]
    assert all(KEY not in text for text in texts), [t for t in texts if KEY in t]
    # The key did travel: EIA reads it from the query string only.
    assert all(seen.query["api_key"] == [KEY] for seen in eia.seen)
    assert "HTTP Request: GET" in caplog.text and "api_key=***" in caplog.text


def test_a_transport_failure_is_retried_and_reported_without_the_key() -> None:
    # Nothing listens on port 9 of loopback (discard): connection refused, every attempt.
    sleeps = Sleeps()
    with (
        EiaClient(KEY, "http://127.0.0.1:9/v2", sleep=sleeps, retry=RetryPolicy(max_retries=1)) as api,
        pytest.raises(EiaError) as caught,
    ):
        api.fetch("petroleum/pri/spt", ["RWTC"], *DAYS)
    assert caught.value.cause == "transport" and len(sleeps) == 1
    assert KEY not in str(caught.value) and "no answer" in str(caught.value)


def test_the_key_comes_from_the_environment_or_a_secret_and_errors_name_no_value() -> None:
    settings = Settings(_env_file=None, eia_api_key=KEY)
    assert resolve_api_key(settings) == KEY
    with pytest.raises(ConfigurationError) as caught:
        resolve_api_key(Settings(_env_file=None))
    assert "EIA_API_KEY" in str(caught.value.hint)
    assert key_from_secret(json.dumps({"api_key": KEY}), "arn:eia") == KEY
    assert key_from_secret(f"  {KEY}\n", "arn:eia") == KEY
    with pytest.raises(ConfigurationError) as refused:
        key_from_secret(json.dumps({"apikey": KEY}), "arn:secret:eia")
    assert "arn:secret:eia" in str(refused.value) and KEY not in str(refused.value)


def test_the_key_is_read_from_secrets_manager(moto_settings: Settings) -> None:
    from datalake import aws

    arn = aws.client("secretsmanager", settings=moto_settings).create_secret(
        Name="eia-key", SecretString=json.dumps({"api_key": KEY})
    )["ARN"]
    settings = moto_settings.model_copy(update={"eia_secret_arn": arn, "eia_api_key": None})
    assert resolve_api_key(settings) == KEY


# -- series and raw keys ----------------------------------------------------------------------------


def test_the_series_setting_is_route_series_pairs() -> None:
    series = parse_series(Settings(_env_file=None).eia_series)
    assert [(s.route, s.series_id, s.unit) for s in series] == [
        ("petroleum/pri/spt", "RWTC", "USD/bbl"),
        ("petroleum/pri/spt", "RBRTE", "USD/bbl"),
        ("natural-gas/pri/fut", "RNGWHHD", "USD/MMBtu"),
    ]
    assert parse_series("natural-gas/pri/fut:RNGC1")[0].name is None  # unknown: EIA's own words later


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("RWTC", "expected route:series"),
        ("petroleum/pri/spt:RWTC,petroleum/pri/spt:RWTC", "listed twice"),
        ("natural-gas/pri/fut:RWTC", "is on route petroleum/pri/spt"),
        ("", "expected route:series"),
    ],
)
def test_a_bad_series_setting_is_refused_naming_the_entry(setting: str, words: str) -> None:
    with pytest.raises(ConfigurationError, match=words):
        parse_series(setting)


def test_raw_files_are_by_day_and_a_revision_lands_beside_the_older_extraction(
    eia: LoopbackTmdb, tmp_path: Path
) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    with client(eia) as api:
        fetch = api.fetch("petroleum/pri/spt", ["RWTC", "RBRTE"], *DAYS)
    first = write_fetch(store, fetch, NOW)
    assert (first.days_written, first.rows_written) == (4, 7)
    key = raw_key("petroleum/pri/spt", dt.date(2026, 9, 1), NOW.date())
    assert key == (
        "raw/eia/petroleum-pri-spt/year=2026/month=09/day=01/"
        "eia-petroleum-pri-spt-2026-09-01-fetched-2026-09-29.json"
    )
    day = store.get_json(key)
    assert [r["value"] for r in day["response"]["data"]] == ["96.02", "91.4"]
    assert day["response"]["total"] == "2" and day["datalake"]["source"] == "eia"
    assert day["datalake"]["fetched_at"] == "2026-09-29T19:09:40Z"

    # The same rows again, a day later: nothing written.
    later = NOW + dt.timedelta(days=1)
    again = write_fetch(store, fetch, later)
    assert (again.days_written, again.days_unchanged, again.rows_unchanged) == (0, 4, 7)
    # A revision of 1 September: only that day lands again, beside the older extraction.
    revised = copy.deepcopy(fetch)
    revised.rows[-1]["value"] = "91.45"
    landed = write_fetch(store, revised, later)
    assert landed.keys == [raw_key("petroleum/pri/spt", dt.date(2026, 9, 1), later.date())]
    assert len(store.list_keys("raw/eia/petroleum-pri-spt/year=2026/month=09/day=01")) == 2
    # Re-run on the same day with other rows: the same key is overwritten, never a third file.
    revised.rows[-1]["value"] = "91.5"
    assert write_fetch(store, revised, later).keys == landed.keys
    assert len(store.list_keys("raw/eia/petroleum-pri-spt/year=2026/month=09/day=01")) == 2


def test_rows_whose_period_is_not_a_day_land_together_for_the_transform_to_quarantine(
    eia: LoopbackTmdb, tmp_path: Path
) -> None:
    with client(eia) as api:
        fetch = api.fetch("petroleum/pri/spt", ["RWTC", "RBRTE"], *DAYS)
    fetch.rows[0]["period"] = "2026-08"
    fetch.rows.append("not a row")
    store = LocalObjectStore(tmp_path / "lake")
    landed = write_fetch(store, fetch, NOW)
    assert landed.rows_written == 8
    unplaced = [k for k in landed.keys if "unplaced" in k]
    assert unplaced == [
        "raw/eia/petroleum-pri-spt/year=2026/month=09/day=29/eia-petroleum-pri-spt-unplaced-fetched-2026-09-29.json"
    ]
    assert store.get_json(unplaced[0])["response"]["data"][1] == "not a row"


def test_sample_rows_never_go_under_the_real_prefix(eia: LoopbackTmdb, tmp_path: Path) -> None:
    with client(eia) as api:
        fetch = api.fetch("petroleum/pri/spt", ["RWTC"], *DAYS)
    fetch.sample = True
    store = LocalObjectStore(tmp_path / "lake")
    with pytest.raises(DataValidationError, match="sample data never goes under raw/eia/"):
        write_fetch(store, fetch, NOW, prefix=RAW_PREFIX)
    assert write_fetch(store, fetch, NOW, prefix=SAMPLE_RAW_PREFIX).days_written == 4
