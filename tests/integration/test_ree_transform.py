"""The REData transform on local[1]: schema, UTC, DST, dedup, quarantine, balance, idempotency."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator

import pytest
from processed_fixtures import published, published_digests
from pyspark.sql import SparkSession
from spark_fixtures import local_spark

from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.pipelines.source_jobs import process_source
from datalake.runs import record_run
from datalake.sources import ree
from datalake.sources.ree_sample import sample_client
from datalake.sources.registry import get_source
from datalake.storage.local import LocalObjectStore


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = local_spark("tests-ree", "local[1]")
    yield session
    session.stop()


@pytest.fixture
def store(tmp_path) -> LocalObjectStore:
    lake = LocalObjectStore(tmp_path / "lake")
    with sample_client() as client:
        for dataset in ("demand", "generation"):
            # The autumn change (25 hours) and the day after.
            ree.backfill(
                client,
                lake,
                dataset,
                dt.date(2024, 10, 27),
                dt.date(2024, 10, 28),
                prefix=ree.SAMPLE_RAW_PREFIX,
            )
    return lake


def run(spark, store) -> dict:
    with record_run("ree_to_processed", store) as report:
        process_source(get_source("ree"), spark, store, ree.SAMPLE_RAW_PREFIX, report)
    return report.to_dict()


@pytest.mark.slow
def test_sample_documents_become_both_tables(spark, store) -> None:
    report = run(spark, store)
    assert report["balanced"] and report["rows_quarantined"] == 0
    demand = published(store, DEMAND_HOURLY)
    assert list(demand.columns[: len(DEMAND_HOURLY.column_names)]) == DEMAND_HOURLY.column_names
    assert str(demand["ts_utc"].dtype) == "datetime64[us, UTC]"
    assert set(demand["source"]) == {"sample"}
    per_day = demand.groupby(["region", "local_date"]).size().to_dict()
    assert per_day[("national", dt.date(2024, 10, 27))] == 25
    assert per_day[("peninsular", dt.date(2024, 10, 28))] == 24
    autumn = demand[(demand["region"] == "national") & (demand["local_date"] == dt.date(2024, 10, 27))]
    assert autumn["ts_utc"].is_unique and autumn["ts_utc"].min().isoformat() == "2024-10-26T22:00:00+00:00"
    generation = published(store, GENERATION)
    assert {"Eólica", "Nuclear", "Solar fotovoltaica"} <= set(generation["technology"])
    assert report["rows_in"] == len(demand) + len(generation)


@pytest.mark.slow
def test_reruns_are_byte_identical(spark, store) -> None:
    run(spark, store)
    first = published_digests(store)
    assert first and all(first.values())
    for _ in range(2):
        run(spark, store)
        assert published_digests(store) == first


@pytest.mark.slow
def test_bad_values_unreadable_files_and_older_revisions_are_quarantined_with_reasons(spark, store) -> None:
    """Bad values, an unreadable file, and the rows a later copy of a document supersedes. The
    rows carry raw_record's pieces through the dedup (``ree.RAW_RECORD``); each quarantined row
    gets the text, the entry as its file had it."""
    key = ree.raw_key("demand", dt.date(2024, 10, 28), "national", prefix=ree.SAMPLE_RAW_PREFIX)
    doc = store.get_json(key)
    values = doc["included"][0]["attributes"]["values"]
    values[0]["value"] = -50.0  # out of range
    values[1]["value"] = None  # unreadable entry
    store.put_json(key, doc)
    store.put_bytes(
        "raw/ree_sample/demand/year=2024/month=10/day=29/ree-demand-national-2024-10-29.json", b"{oops"
    )
    # A revision of the 27th (25 hours), fetched later, filed in the next day's folder (within reach).
    autumn = ree.raw_key("demand", dt.date(2024, 10, 27), "national", prefix=ree.SAMPLE_RAW_PREFIX)
    revised = store.get_json(autumn)
    original = json.loads(json.dumps(revised["included"][0]["attributes"]["values"]))
    revised["included"][0]["attributes"]["values"][2]["value"] = 12_345.5
    copy = "raw/ree_sample/demand/year=2024/month=10/day=28/ree-demand-national-2024-10-27.json"
    store.put_json(copy, revised)
    later = store.path(autumn).stat().st_mtime + 60
    os.utime(store.path(copy), (later, later))
    report = run(spark, store)
    assert report["balanced"]
    reasons = report["details"]["quarantine_reasons"]
    assert reasons["demand_hourly: demand_mw outside [0.0, 60000.0]"] == 1
    assert reasons["demand_hourly: value is missing"] == 1
    [superseded] = [reason for reason in reasons if "superseded by a newer revision" in reason]
    assert reasons[superseded] == len(original) == 25
    assert report["rows_quarantined"] == 3 + 25  # the two entries, the unreadable file, the 27th's older copy
    quarantined = [k for k in report["keys_written"] if k.startswith("quarantine/")]
    texts = " ".join(json.dumps(store.read_parquet(k).to_dict("records"), default=str) for k in quarantined)
    assert "unreadable REData document" in texts and "-50.0" in texts
    [folder] = [k for k in quarantined if k.startswith("quarantine/demand_hourly/")]
    rows = store.read_parquet(folder)
    older = rows[rows["reason"] == superseded.removeprefix("demand_hourly: ")]["raw_record"]
    entries = [json.loads(json.loads(text)["entry"]) for text in older]
    assert sorted(entries, key=lambda e: e["datetime"]) == sorted(original, key=lambda e: e["datetime"])
    assert {json.loads(text)["series_title"] for text in older} == {"Demanda"}
    demand = published(store, DEMAND_HOURLY)
    national = demand[(demand["region"] == "national") & (demand["local_date"] == dt.date(2024, 10, 27))]
    assert 12_345.5 in set(national["demand_mw"]) and len(national) == 25
