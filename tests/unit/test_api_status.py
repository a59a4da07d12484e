"""GET /status: every registered source with its freshness, each job's newest run and the catalog's
tables, behind the API key; a catalog that cannot be read is a 503 in JSON, never a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_fixtures import fake_services
from fastapi.testclient import TestClient

from api.main import create_app
from datalake import runtime
from datalake.runs import record_run
from datalake.settings import Settings
from datalake.sources.registry import SOURCES

pytestmark = pytest.mark.unit

KEY = "status-key-0123456789"


def settings_for(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, lake_root=tmp_path / "lake", api_key=KEY)


def test_status_lists_every_source_and_the_newest_run_of_each_job(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    store = runtime.object_store("lake", settings)
    for rows in (10, 12):  # two runs of one job: only the newer one is listed
        with record_run("owid_to_processed", store) as report:
            report.rows_in = report.rows_out = rows
    with pytest.raises(RuntimeError), record_run("eia_to_processed", store) as report:
        raise RuntimeError("EIA answered 503")
    services = fake_services(settings, tmp_path)
    services.catalog = lambda: runtime.catalog(settings)
    with TestClient(create_app(settings, services)) as client:
        assert client.get("/status").status_code == 401
        answer = client.get("/status", headers={"X-API-Key": KEY})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {source["source"] for source in body["sources"]} == set(SOURCES)
    # No processed data yet: stale where the source declares an expected lag, no verdict elsewhere.
    for source in body["sources"]:
        declared = SOURCES[source["source"]].freshness is not None
        assert source["newest"] is None and source["stale"] is (True if declared else None), source
    assert any(source["stale"] for source in body["sources"])
    runs = {run["job"]: run for run in body["runs"]}
    assert runs["owid_to_processed"]["rows_out"] == 12 and runs["owid_to_processed"]["status"] == "succeeded"
    assert runs["eia_to_processed"]["status"] == "failed"
    assert body["runtime"] == "local"


def test_status_is_a_503_in_json_when_the_catalog_cannot_be_read(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    services = fake_services(settings, tmp_path)

    def broken_catalog() -> None:
        raise ConnectionError("glue.eu-west-1.amazonaws.com unreachable")

    services.catalog = broken_catalog
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as client:
        answer = client.get("/status", headers={"X-API-Key": KEY})
    assert answer.status_code == 503
    assert answer.json()["detail"] == "the lake's status cannot be read now (ConnectionError)"
    assert "amazonaws" not in answer.text
