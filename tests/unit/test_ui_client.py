"""The web app's API client and words: the key header, timeouts, errors people can read, the
browser's language and numbers formatted per language (no Streamlit here)."""

from __future__ import annotations

import socket

import pytest
from ui_fixtures import FakeApi, fake_api

from ui.client import ApiClient, ApiError
from ui.i18n import TEXTS, browser_language


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_the_api_key_goes_in_the_header_only_when_set() -> None:
    api = FakeApi()
    with fake_api(api) as url:
        ApiClient(url, api_key="s3cret").forecast(2)
        ApiClient(url, api_key="").forecast(1)
    assert api.requests[0]["headers"].get("X-API-Key") == "s3cret"
    assert api.requests[0]["query"] == {"days": ["2"]}
    assert "X-API-Key" not in api.requests[1]["headers"]


def test_api_base_url_and_key_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeApi()
    with fake_api(api) as url:
        monkeypatch.setenv("API_BASE_URL", url + "/")
        monkeypatch.setenv("API_KEY", "from-env")
        client = ApiClient()
        assert client.base_url == url
        assert client.health_details()["status"] == "ok"
    assert api.requests[0]["headers"]["X-API-Key"] == "from-env"


def test_a_refusal_carries_its_reason_and_suggestions() -> None:
    with fake_api(FakeApi()) as url, pytest.raises(ApiError) as caught:
        ApiClient(url).ask("¿Quién ganó el mundial?")
    assert caught.value.kind == "refused" and caught.value.status == 422
    assert caught.value.detail.startswith("No puedo responder")
    assert len(caught.value.suggestions) == 3


def test_validation_errors_become_one_readable_line() -> None:
    with fake_api(FakeApi()) as url, pytest.raises(ApiError) as caught:
        ApiClient(url).forecast(30)
    assert caught.value.kind == "refused" and caught.value.field == "days"


def test_down_slow_and_failing_apis_are_kinds_not_tracebacks() -> None:
    with pytest.raises(ApiError) as down:
        ApiClient(_closed_port()).health()
    assert down.value.kind == "down"
    with fake_api(FakeApi(mode="slow", delay_s=1.0)) as url, pytest.raises(ApiError) as slow:
        ApiClient(url, timeout_s=0.2).health()
    assert slow.value.kind == "slow"
    with fake_api(FakeApi(mode="error")) as url, pytest.raises(ApiError) as failing:
        ApiClient(url).health()
    assert failing.value.kind == "server" and failing.value.status == 500


def test_sales_csv_is_sent_as_a_multipart_file() -> None:
    api = FakeApi()
    csv = b"store_id,date,promo,state_holiday,school_holiday\n1,2024-07-31,1,0,1\n2,2024-08-01,0,0,0\n"
    with fake_api(api) as url:
        answer = ApiClient(url).predict_sales_csv("days.csv", csv)
    assert [p["store_id"] for p in answer["predictions"]] == [1, 2]
    request = api.requests[0]
    assert request["path"] == "/predict/sales/csv"
    assert request["headers"]["Content-Type"].startswith("multipart/form-data")
    assert b'name="file"; filename="days.csv"' in request["body"]


@pytest.mark.parametrize(
    ("locale", "accept", "expected"),
    [
        ("en-US", None, "en"),
        ("es-ES", "en-GB,en;q=0.9", "es"),
        (None, "fr-FR,en;q=0.8,es;q=0.9", "es"),
        (None, "de-DE,en-GB;q=0.5", "en"),
        (None, "de-DE", "es"),
        (None, None, "es"),
    ],
)
def test_the_default_language_is_the_browsers(locale: str | None, accept: str | None, expected: str) -> None:
    assert browser_language(locale, accept) == expected


def test_every_text_has_both_languages() -> None:
    missing = [key for key, entry in TEXTS.items() if set(entry) != {"es", "en"} or not all(entry.values())]
    assert missing == []


def test_cells_are_formatted_for_people_in_each_language() -> None:
    from ui.common import people_frame

    frame = people_frame(["year", "energy_mwh", "share"], [[2024, 156293558.98999998, 0.4213]], "es")
    assert frame.iloc[0].tolist() == ["2024", "156.293.558,99", "0,42"]
    frame = people_frame(["year", "energy_mwh", "share"], [[2024, 156293558.98999998, 0.4213]], "en")
    assert frame.iloc[0].tolist() == ["2024", "156,293,558.99", "0.42"]


def test_api_moments_read_as_madrid_wall_time_and_dates_stay() -> None:
    from ui.common import people_frame

    frame = people_frame(["ts_utc", "date"], [["2024-06-09T22:00:00Z", "2024-06-10"]], "es")
    assert frame.iloc[0].tolist() == ["2024-06-10 00:00", "2024-06-10"]  # UTC+2 in summer
    assert frame.columns.tolist() == ["Hora (Madrid)", "Día"]
    frame = people_frame(["start_utc", "closed", "count"], [["2024-06-09T22:00:00Z", True, 3]], "en")
    assert frame.columns.tolist() == ["start (Madrid)", "Closed", "count"]
    assert frame.iloc[0].tolist() == ["2024-06-10 00:00", "Yes", "3"]
