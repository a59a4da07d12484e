from __future__ import annotations

import json
from pathlib import Path
from string import Template

import pytest

from datalake.settings import Settings

CRAWLERS = Path(__file__).resolve().parents[2] / "crawlers"


def test_only_the_raw_zone_has_crawlers() -> None:
    # The jobs register processed tables from the dataset specs (datalake/publishing.py); a crawler
    # over processed/ would take the _runs/<id>/ folders for partition levels.
    assert sorted(p.name for p in CRAWLERS.glob("*.json")) == ["energy_raw.json", "raw.json"]


@pytest.mark.parametrize("zone", ["raw"])
def test_crawler_definitions_render_to_valid_requests(zone: str) -> None:
    settings = Settings(_env_file=None)
    text = Template((CRAWLERS / f"{zone}.json").read_text()).substitute(
        env="dev",
        lake_bucket=settings.lake_bucket,
        raw_database=settings.raw_database,
        processed_database=settings.processed_database,
    )
    crawler = json.loads(text)
    [target] = crawler["Targets"]["S3Targets"]
    assert target["Path"] == f"s3://{settings.lake_bucket}/{zone}/"
    assert crawler["DatabaseName"] == getattr(settings, f"{zone}_database")
    assert "**/_*" in target["Exclusions"]  # staging and markers stay invisible
    assert crawler["SchemaChangePolicy"]["DeleteBehavior"] == "LOG"
    assert json.loads(crawler["Configuration"])["Version"] == 1.0
    assert crawler["Schedule"].startswith("cron(")
