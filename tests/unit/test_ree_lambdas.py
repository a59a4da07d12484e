"""The extractor Lambdas fed real event JSON; REE_SAMPLE keeps them offline."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from datalake.errors import DataValidationError
from datalake.settings import get_settings
from datalake.storage.local import LocalObjectStore

ROOT = Path(__file__).resolve().parents[2]


def load_handler(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"lambda_{name}", ROOT / "lambdas" / name / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def event(name: str) -> dict:
    return json.loads((ROOT / "tests" / "events" / name).read_text())


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalObjectStore:
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("REE_SAMPLE", "true")
    get_settings.cache_clear()
    return LocalObjectStore(tmp_path / "lake")


def test_daily_fetches_the_days_the_last_48_hours_touch(lake: LocalObjectStore) -> None:
    summary = load_handler("ree_daily").lambda_handler(event("eventbridge_scheduled_daily.json"), None)
    # 05:30Z on 28 Oct is 06:30 in Madrid: the window touches the 26th, 27th and 28th.
    assert (summary["details"]["written"], summary["rows_in"]) == (12, 12)
    days = {key.split("/")[5] for key in lake.list_keys("raw/ree_sample/demand")}
    assert days == {"day=26", "day=27", "day=28"}
    again = load_handler("ree_daily").lambda_handler(event("eventbridge_scheduled_daily.json"), None)
    assert again["details"]["written"] == 12  # always refetched: late revisions
    assert len(lake.list_keys("raw/ree_sample")) == 12  # same keys, no duplicates


def test_backfill_is_resumable(lake: LocalObjectStore) -> None:
    handler = load_handler("ree_backfill")
    first = handler.lambda_handler(event("ree_backfill.json"), None)
    assert (first["details"]["written"], first["details"]["skipped"]) == (4, 0)
    second = handler.lambda_handler(event("ree_backfill.json"), None)
    assert (second["details"]["written"], second["details"]["skipped"]) == (0, 4)
    refreshed = handler.lambda_handler({**event("ree_backfill.json"), "refresh": True}, None)
    assert refreshed["details"]["written"] == 4


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"end": "2024-01-02"}, "start"),
        ({"start": "2024-13-01", "end": "2024-01-02"}, "start"),
        ({"start": "2024-01-03", "end": "2024-01-02"}, "end"),
        ({"start": "2024-01-01", "end": "2024-01-02", "datasets": ["prices"]}, "datasets"),
    ],
)
def test_backfill_rejects_bad_events_naming_the_field(lake: LocalObjectStore, bad: dict, field: str) -> None:
    with pytest.raises(DataValidationError) as caught:
        load_handler("ree_backfill").lambda_handler(bad, None)
    assert caught.value.field == field
    assert lake.list_keys("raw") == []
