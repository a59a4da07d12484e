"""The Open-Meteo client against a real loopback HTTP server serving the recorded shapes of
../shared/data/open_meteo: one and several locations, iso8601 and unixtime, the archive split by day
(days of nulls left out), every recorded error in one line naming its cause, the rate limits waited
out from the reason text, bodies that are not JSON retried, and the raw documents read back."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tmdb_fixtures import SHARED_DATA, Answer, LoopbackTmdb, serve, transport_answer

from datalake.sources.http_retry import RetryPolicy
from datalake.sources.open_meteo import (
    HOURLY,
    OpenMeteoClient,
    OpenMeteoError,
    describe_error,
    document_rows,
    fetch_archive,
    fetch_forecast,
    limit_wait_s,
    write_archive,
)
from datalake.sources.open_meteo_sample import SampleTransport
from datalake.storage.local import LocalObjectStore
from datalake.weather.frames import COLUMNS
from datalake.weather.locations import DEFAULT_LOCATIONS, WeatherLocation

OPEN_METEO = SHARED_DATA / "open_meteo"
MADRID, BARCELONA, SEVILLE = DEFAULT_LOCATIONS[0], DEFAULT_LOCATIONS[1], DEFAULT_LOCATIONS[3]
NOW = dt.datetime(2026, 9, 14, 10, 0, 30, tzinfo=dt.UTC)


def recorded(name: str) -> Any:
    path = OPEN_METEO / name
    if not path.exists():
        pytest.skip(f"recorded Open-Meteo shape {path} is not on this machine (../shared/data is optional)")
    return json.loads(path.read_text(encoding="utf-8"))


def answer(path: str, query: dict[str, list[str]], _headers: dict[str, str]) -> Answer:
    """Open-Meteo as the recordings show it: one or three locations, the archive, the 400s."""
    if "not_a_real_variable_xyz" in query.get("hourly", [""])[0]:
        return Answer.json(400, recorded("error_400_invalid_variable_recorded.json"))
    if any(abs(float(v)) > 90 for v in query.get("latitude", ["0"])[0].split(",")):
        return Answer.json(400, recorded("error_400_latitude_out_of_range_recorded.json"))
    count = len(query["latitude"][0].split(","))
    if path == "/v1/archive":
        if query["end_date"][0] > "2026-09-13":
            return Answer.json(400, recorded("error_400_archive_end_date_out_of_range_shape.json"))
        if query["start_date"][0] == "2026-09-07":
            return Answer.json(200, recorded("archive_era5_trailing_nulls_shape.json"))
        return Answer.json(200, recorded("archive_madrid_2018-01-01_2018-01-02_utc_shape.json"))
    if query.get("timeformat") == ["unixtime"]:
        return Answer.json(200, recorded("forecast_madrid_utc_3d_unixtime_shape_trimmed.json"))
    if count == 3:
        return Answer.json(200, recorded("forecast_multi_location_madrid_bcn_svq_shape_trimmed.json"))
    return Answer.json(200, recorded("forecast_madrid_utc_3d_shape_trimmed.json"))


@pytest.fixture
def open_meteo() -> Iterator[LoopbackTmdb]:
    with serve(answer) as server:
        yield server


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(server: LoopbackTmdb, **options: Any) -> OpenMeteoClient:
    options.setdefault("sleep", Sleeps())
    options.setdefault("clock", lambda: NOW)
    return OpenMeteoClient(
        f"{server.url}/v1/forecast", f"{server.url}/v1/archive", rng=random.Random(1), **options
    )


# -- requests and answers ---------------------------------------------------------------------------


def test_three_locations_are_one_request_in_utc_and_land_one_file_each_with_the_issue_time(
    open_meteo: LoopbackTmdb, tmp_path: Path
) -> None:
    store = LocalObjectStore(tmp_path)
    with client(open_meteo) as api:
        summary = fetch_forecast(api, store, (MADRID, BARCELONA, SEVILLE), NOW, days=3)
    [seen] = open_meteo.seen
    assert seen.query["timezone"] == ["UTC"] and seen.query["forecast_days"] == ["3"]
    assert seen.query["hourly"] == [",".join(HOURLY)]
    assert seen.query["latitude"] == ["40.4168,41.3874,37.3891"]
    assert summary.hours_received == 72 and summary.files_written == 3 and summary.requests == 1
    assert summary.keys[1] == (
        "raw/weather/forecast/year=2026/month=09/day=14/"
        "open-meteo-forecast-barcelona-issued-20260914T100030Z.json"
    )
    doc = store.get_json(summary.keys[1])
    # The envelope as sent (the grid cell's coordinates), the requested ones and the issue time beside it.
    assert doc["longitude"] == pytest.approx(2.1599998) and doc["location_id"] == 1
    assert doc["datalake"]["requested_longitude"] == BARCELONA.longitude
    assert doc["datalake"]["issued_at"] == "2026-09-14T10:00:30Z" and doc["datalake"]["kind"] == "forecast"
    rows = document_rows(json.dumps(doc))
    assert list(rows.columns) == [*COLUMNS, "problem", "raw_record"] and rows["problem"].isna().all()
    assert (rows["location"] == "Barcelona").all() and (rows["kind"] == "forecast").all()
    assert rows["issued_at"].eq(pd.Timestamp("2026-09-14T10:00:30Z")).all()
    assert rows["ts_utc"].iloc[0] == pd.Timestamp("2026-09-14T00:00Z")
    assert rows["temperature_c"].iloc[0] == 22.3 and rows["relative_humidity_pct"].iloc[0] == 74.0
    assert rows["shortwave_radiation_wm2"].iloc[8] == 298.2


def test_a_rerun_of_the_same_issue_writes_the_same_keys_and_bytes(
    open_meteo: LoopbackTmdb, tmp_path: Path
) -> None:
    store = LocalObjectStore(tmp_path)
    with client(open_meteo) as api:
        first = fetch_forecast(api, store, (MADRID,), NOW, days=3)
        before = (tmp_path / first.keys[0]).read_bytes()
        os.utime(tmp_path / first.keys[0], (0, 0))
        second = fetch_forecast(api, store, (MADRID,), NOW, days=3)
    # The retried issue finds its own document: not written again (its time stays), no new key.
    assert (second.files_written, second.files_unchanged, second.keys) == (0, 1, [])
    assert (tmp_path / first.keys[0]).read_bytes() == before
    assert (tmp_path / first.keys[0]).stat().st_mtime == 0
    assert len(list(tmp_path.rglob("*.json"))) == 1


def test_unixtime_stamps_read_as_the_same_utc_hours_as_iso8601(
    open_meteo: LoopbackTmdb, tmp_path: Path
) -> None:
    iso = recorded("forecast_madrid_utc_3d_shape_trimmed.json")
    unix = recorded("forecast_madrid_utc_3d_unixtime_shape_trimmed.json")
    meta = {"datalake": {"location": "Madrid", "kind": "forecast", "issued_at": "2026-09-14T10:00:00Z",
                         "source": "open-meteo", "fetched_at": "2026-09-14T10:00:00Z"}}  # fmt: skip
    a, b = document_rows(json.dumps({**iso, **meta})), document_rows(json.dumps({**unix, **meta}))
    assert a["ts_utc"].tolist() == b["ts_utc"].tolist() and len(a) == 24


def test_the_archive_lands_one_file_per_utc_day_and_leaves_out_days_not_available_yet(
    open_meteo: LoopbackTmdb, tmp_path: Path
) -> None:
    store = LocalObjectStore(tmp_path)
    with client(open_meteo) as api:
        history = fetch_archive(api, store, (MADRID,), dt.date(2018, 1, 1), dt.date(2018, 1, 2), NOW)
        delayed = fetch_archive(api, store, (MADRID,), dt.date(2026, 9, 7), dt.date(2026, 9, 8), NOW)
    assert history.files_written == 2 and history.hours_received == 48
    assert history.keys[0] == (
        "raw/weather/archive/year=2018/month=01/day=01/open-meteo-archive-madrid-2018-01-01.json"
    )
    day = store.get_json(history.keys[1])
    assert day["hourly"]["time"][0] == "2018-01-02T00:00" and len(day["hourly"]["time"]) == 24
    assert day["datalake"]["kind"] == "observed" and day["datalake"]["issued_at"] is None
    # ERA5 is about 5 days late: the second day is all nulls and must not replace a landed day.
    assert delayed.files_written == 1 and delayed.days_empty == 1
    rows = document_rows(json.dumps(store.get_json(delayed.keys[0])))
    assert rows["temperature_c"].notna().all() and rows["wind_speed_kmh"].isna().all()


def test_archive_days_fetched_again_are_rewritten_only_when_their_hours_changed(
    open_meteo: LoopbackTmdb, tmp_path: Path
) -> None:
    store = LocalObjectStore(tmp_path)
    start, end = dt.date(2018, 1, 1), dt.date(2018, 1, 2)
    with client(open_meteo) as api:
        first = fetch_archive(api, store, (MADRID,), start, end, NOW)
        # The stored first day now differs from what the archive answers: a revision to take.
        revised = store.get_json(first.keys[0])
        revised["hourly"]["temperature_2m"][0] += 1.5
        store.put_json(first.keys[0], revised)
        for key in first.keys:
            os.utime(tmp_path / key, (0, 0))
        later = fetch_archive(api, store, (MADRID,), start, end, NOW + dt.timedelta(days=1))
    # Fetched at another time (its only difference from what is stored): the second day is kept.
    assert (later.files_written, later.files_unchanged, later.hours_written) == (1, 1, 48)
    assert later.keys == first.keys[:1]
    assert (tmp_path / first.keys[1]).stat().st_mtime == 0
    assert store.get_json(first.keys[1])["datalake"]["fetched_at"] == "2026-09-14T10:00:30Z"
    rewritten = store.get_json(first.keys[0])
    assert rewritten["datalake"]["fetched_at"] == "2026-09-15T10:00:30Z"
    assert rewritten["hourly"]["temperature_2m"][0] == pytest.approx(
        revised["hourly"]["temperature_2m"][0] - 1.5
    )


def test_archive_requests_go_a_month_at_a_time(tmp_path: Path) -> None:
    transport = SampleTransport(clock=lambda: NOW)
    with serve(transport_answer(transport)) as server, client(server) as api:
        summary = fetch_archive(
            api, LocalObjectStore(tmp_path), (MADRID, SEVILLE), dt.date(2025, 1, 30), dt.date(2025, 3, 2), NOW
        )
    starts = [(s.query["start_date"][0], s.query["end_date"][0]) for s in server.seen]
    assert starts == [
        ("2025-01-30", "2025-01-31"),
        ("2025-02-01", "2025-02-28"),
        ("2025-03-01", "2025-03-02"),
    ]
    assert summary.files_written == 2 * 32 and summary.sample
    assert all("/sample_archive/" in key for key in summary.keys)


# -- errors and retries -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "hourly", "cause", "words"),
    [
        (
            MADRID,
            "not_a_real_variable_xyz",
            "unknown_variable",
            "'not_a_real_variable_xyz' is not a variable",
        ),
        (WeatherLocation("Nowhere", 90, 0, 1), "", "bad_location", "Latitude must be in range of -90 to 90°"),
    ],
)
def test_each_recorded_400_is_one_line_naming_its_cause_and_not_retried(
    open_meteo: LoopbackTmdb, location: WeatherLocation, hourly: str, cause: str, words: str
) -> None:
    sleeps = Sleeps()
    if location.name == "Nowhere":  # WeatherLocation refuses 999: send the recorded one as is
        params = [("latitude", "999"), ("longitude", "0"), ("hourly", "temperature_2m"), ("timezone", "UTC")]
    else:
        params = [("latitude", "40.4"), ("longitude", "-3.7"), ("hourly", hourly), ("timezone", "UTC")]
    with client(open_meteo, sleep=sleeps) as api, pytest.raises(OpenMeteoError) as caught:
        api.get_envelopes(api.forecast_url, params, 1)
    error = caught.value
    assert error.cause == cause and not error.retryable and error.status == 400
    assert words in str(error) and "\n" not in str(error) and len(open_meteo.seen) == 1 and sleeps == []


def test_a_date_outside_the_archive_window_names_the_range(open_meteo: LoopbackTmdb) -> None:
    with client(open_meteo) as api, pytest.raises(OpenMeteoError) as caught:
        api.archive((MADRID,), dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    assert caught.value.cause == "out_of_range"
    assert "parameter out of range (HTTP 400" in str(caught.value)
    assert "'end_date' is out of allowed range from 1940-01-01 to 2026-09-13" in str(caught.value)


def test_an_error_body_with_http_200_is_still_an_error(open_meteo: LoopbackTmdb) -> None:
    open_meteo.play_first(
        "/v1/forecast", Answer.json(200, recorded("error_400_invalid_variable_documented.json"))
    )
    with client(open_meteo) as api, pytest.raises(OpenMeteoError) as caught:
        api.forecast((MADRID,), 3)
    assert caught.value.cause == "unknown_variable" and "'tempeture_2m'" in str(caught.value)


def test_the_minutely_limit_is_waited_out_to_the_next_minute_then_answered(open_meteo: LoopbackTmdb) -> None:
    limited = Answer.json(429, recorded("error_429_minutely_limit_recorded.json"))
    open_meteo.play_first("/v1/forecast", limited)
    sleeps = Sleeps()
    with client(open_meteo, sleep=sleeps) as api:
        fetch = api.forecast((MADRID,), 3)
    # No Retry-After (Open-Meteo sets none): the reason says the minute; NOW is 30 s into it.
    assert sleeps == [30.0] and fetch.hours == 24 and len(open_meteo.seen) == 2


def test_the_hourly_and_daily_limits_give_up_at_once_naming_the_reason(open_meteo: LoopbackTmdb) -> None:
    hourly = {
        "error": True,
        "reason": "Hourly API request limit exceeded. Please try again in the next hour.",
    }
    open_meteo.play_first("/v1/forecast", Answer.json(429, hourly))
    sleeps = Sleeps()
    with client(open_meteo, sleep=sleeps) as api, pytest.raises(OpenMeteoError) as caught:
        api.forecast((MADRID,), 3)
    message = str(caught.value)
    assert caught.value.cause == "rate_limited" and sleeps == []
    assert "rate limited (HTTP 429" in message and "Hourly API request limit exceeded" in message
    assert "Open-Meteo asked to wait 3570 s, over the 300 s limit" in message and "\n" not in message
    assert limit_wait_s("Daily API request limit exceeded. Please try again tomorrow.", NOW) == pytest.approx(
        13 * 3600 + 59 * 60 + 30
    )


def test_a_retry_after_header_is_honoured_when_present(open_meteo: LoopbackTmdb) -> None:
    busy = {"error": True, "reason": "Too many concurrent requests"}
    open_meteo.play_first("/v1/forecast", Answer.json(429, busy, **{"Retry-After": "4"}))
    sleeps = Sleeps()
    with client(open_meteo, sleep=sleeps) as api:
        api.forecast((MADRID,), 3)
    assert sleeps == [4.0]


def test_a_200_that_failed_while_streaming_is_retried(open_meteo: LoopbackTmdb) -> None:
    body = json.dumps(recorded("forecast_madrid_utc_3d_shape_trimmed.json"))[:300]
    broken = Answer(200, (body + "Unexpected error while streaming data: timeout").encode(), {})
    open_meteo.play_first("/v1/forecast", broken, broken)
    sleeps = Sleeps()
    with client(open_meteo, sleep=sleeps) as api:
        fetch = api.forecast((MADRID,), 3)
    assert fetch.hours == 24 and len(open_meteo.seen) == 3 and len(sleeps) == 2


def test_repeated_5xx_gives_up_after_the_retries_naming_the_cause(open_meteo: LoopbackTmdb) -> None:
    overloaded = Answer.json(503, {"error": True, "reason": "The service is overloaded"})
    open_meteo.play_first("/v1/forecast", *[overloaded] * 3)
    with client(open_meteo, retry=RetryPolicy(max_retries=2)) as api, pytest.raises(OpenMeteoError) as caught:
        api.forecast((MADRID,), 3)
    assert caught.value.cause == "server_error" and caught.value.retryable
    assert "server error (HTTP 503" in str(caught.value) and "gave up after 3 attempts" in str(caught.value)


def test_an_answer_for_fewer_locations_than_asked_is_refused(open_meteo: LoopbackTmdb) -> None:
    with client(open_meteo) as api, pytest.raises(OpenMeteoError, match=r"1 answer\(s\) for 2 location"):
        api.forecast((MADRID, BARCELONA), 3)


def test_error_bodies_in_either_key_order_and_plain_text() -> None:
    assert (
        describe_error(400, json.dumps(recorded("error_400_forecast_start_date_out_of_range_recorded.json")))[
            0
        ]
        == "out_of_range"
    )
    assert describe_error(502, "<html>Bad Gateway</html>") == ("server_error", "<html>Bad Gateway</html>")
    assert describe_error(400, '{"reason": "requests too much data", "error": true}')[0] == "too_much_data"


# -- raw documents read back ------------------------------------------------------------------------


def _madrid_document(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(recorded("forecast_madrid_utc_3d_shape_trimmed.json"))
    doc["datalake"] = {"location": "Madrid", "kind": "forecast", "issued_at": "2026-09-14T10:00:00Z",
                       "source": "open-meteo", "fetched_at": "2026-09-14T10:00:00Z"}  # fmt: skip
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        target = doc
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return doc


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"hourly_units.temperature_2m": "°F"}, "hourly_units.temperature_2m is '°F', not '°C'"),
        ({"utc_offset_seconds": 7200}, "utc_offset_seconds is 7200, not 0"),
        ({"datalake.issued_at": None}, "a forecast without its issue time"),
        ({"hourly.cloud_cover": [1, 2]}, "hourly.cloud_cover is not a list as long as hourly.time"),
    ],
)
def test_a_document_that_cannot_be_trusted_is_one_row_with_its_problem(
    changes: dict[str, Any], problem: str
) -> None:
    rows = document_rows(json.dumps(_madrid_document(**changes)))
    assert len(rows) == 1 and problem in rows["problem"].iloc[0] and pd.isna(rows["ts_utc"].iloc[0])


def test_an_unreadable_hour_is_kept_with_its_problem_beside_the_good_ones() -> None:
    doc = _madrid_document()
    doc["hourly"]["time"][5] = "yesterday"
    rows = document_rows(json.dumps(doc))
    assert len(rows) == 24 and rows["problem"].notna().sum() == 1
    assert "'yesterday' is not a time" in rows["problem"].dropna().iloc[0]


def test_archive_days_of_the_sample_are_labelled_and_kept_apart(tmp_path: Path) -> None:
    from datalake.sources.open_meteo_sample import sample_client

    store = LocalObjectStore(tmp_path)
    with sample_client(clock=lambda: NOW) as api:
        landed = write_archive(store, api.archive((MADRID,), dt.date(2026, 1, 1), dt.date(2026, 1, 1)), NOW)
    rows = document_rows(json.dumps(store.get_json(landed.keys[0])))
    assert (rows["source"] == "sample").all() and len(rows) == 24
    # Generated, but plausible: a January day in Madrid, colder at night than in the afternoon.
    assert -8 < rows["temperature_c"].min() < rows["temperature_c"].max() < 20
    assert (
        rows.loc[rows["ts_utc"].dt.hour.isin([0, 1, 2, 3, 4, 22, 23]), "shortwave_radiation_wm2"].eq(0).all()
    )
