"""The extractor Lambdas fed real event JSON; REE_SAMPLE keeps them offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from datalake.errors import DataValidationError
from datalake.settings import get_settings
from datalake.storage.local import LocalObjectStore


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalObjectStore:
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("REE_SAMPLE", "true")
    get_settings.cache_clear()
    return LocalObjectStore(tmp_path / "lake")


def test_daily_fetches_the_days_the_last_48_hours_touch(
    lake: LocalObjectStore, load_lambda, event_json
) -> None:
    handler, event = load_lambda("ree_daily"), event_json("eventbridge_scheduled_daily.json")
    summary = handler.lambda_handler(event, None)
    # 05:30Z on 28 Oct is 06:30 in Madrid: the window touches the 26th, 27th and 28th.
    assert (summary["details"]["written"], summary["rows_in"]) == (12, 12)
    days = {key.split("/")[5] for key in lake.list_keys("raw/ree_sample/demand")}
    assert days == {"day=26", "day=27", "day=28"}
    again = handler.lambda_handler(event, None)
    # Always fetched again (late revisions); the same answers are not rewritten, so no S3 event
    # starts a transform for nothing.
    assert (again["details"]["written"], again["details"]["unchanged"], again["rows_out"]) == (0, 12, 12)
    assert len(lake.list_keys("raw/ree_sample")) == 12  # same keys, no duplicates


def test_backfill_is_resumable(lake: LocalObjectStore, load_lambda, event_json) -> None:
    handler, event = load_lambda("ree_backfill"), event_json("ree_backfill.json")
    first = handler.lambda_handler(event, None)
    assert (first["details"]["written"], first["details"]["skipped"]) == (4, 0)
    second = handler.lambda_handler(event, None)
    assert (second["details"]["written"], second["details"]["skipped"]) == (0, 4)
    refreshed = handler.lambda_handler({**event, "refresh": True}, None)
    assert (refreshed["details"]["written"], refreshed["details"]["unchanged"]) == (0, 4)  # fetched again


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"end": "2024-01-02"}, "start"),
        ({"start": "2024-13-01", "end": "2024-01-02"}, "start"),
        ({"start": "2024-01-03", "end": "2024-01-02"}, "end"),
        ({"start": "2024-01-01", "end": "2024-01-02", "datasets": ["prices"]}, "datasets"),
    ],
)
def test_backfill_rejects_bad_events_naming_the_field(
    lake: LocalObjectStore, load_lambda, bad: dict, field: str
) -> None:
    with pytest.raises(DataValidationError) as caught:
        load_lambda("ree_backfill").lambda_handler(bad, None)
    assert caught.value.field == field
    assert lake.list_keys("raw") == []
