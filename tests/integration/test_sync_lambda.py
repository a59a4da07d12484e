"""The sync_warehouse Lambda, fed the real S3 event and SQS batch shapes, against the embedded PostgreSQL."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable

import pandas as pd
import psycopg
import pytest
from processed_fixtures import demand_hours, publish_frames

from datalake.catalog.local import LocalCatalog
from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.publishing import publish_run, run_prefix
from datalake.runs import list_runs
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

pytest_plugins = ["warehouse_fixtures"]

#: The runs whose publish markers the event fixtures announce (tests/events/*processed*).
MARCH_RUN, APRIL_RUN = "20240402T061509Z-0e7bb46c", "20240402T061510Z-5f1c2a9d"


def demand_rows(month: int, demand_mw: float, day: int = 5) -> pd.DataFrame:
    """One day of 2024 (the 5th of ``month`` unless told), every hour at ``demand_mw``."""
    return demand_hours(f"2024-{month:02d}-{day:02d}T00:00Z", 24, demand_mw)


@pytest.fixture
def lake(warehouse_lake: Callable[..., LocalObjectStore]) -> LocalObjectStore:
    store = warehouse_lake("demand_hourly")
    for month, demand_mw, run in ((3, 25_000.0, MARCH_RUN), (4, 26_000.0, APRIL_RUN)):
        publish_frames(store, DEMAND_HOURLY, {f"year=2024/month={month}": demand_rows(month, demand_mw)}, run)
    return store


def warehouse_rows(settings: Settings) -> list[tuple]:
    with psycopg.connect(settings.database_url or "") as conn:
        return conn.execute(
            "SELECT ts_utc, demand_mw, xmin::text FROM demand_hourly ORDER BY ts_utc"
        ).fetchall()


def test_event_syncs_only_the_touched_partition_and_reruns_change_nothing(
    lake, pg_settings, load_lambda, event_json
) -> None:
    handler = load_lambda("sync_warehouse")
    event = event_json("s3_processed_object_created.json")

    first = handler.lambda_handler(event, None)
    assert first["keys"] == 2
    [run] = first["runs"]  # the quarantine object is not a dataset partition
    assert (run["job"], run["inserted"], run["partitions_synced"]) == ("sync_demand_hourly", 24, 1)
    rows = warehouse_rows(pg_settings)
    assert len(rows) == 24 and {r[1] for r in rows} == {25_000.0}  # only month=3 was in the event

    second = handler.lambda_handler(event, None)
    assert second["runs"][0]["partitions_skipped"] == 1
    assert warehouse_rows(pg_settings) == rows  # same rows, same xmin: nothing rewritten


def test_cli_sync_loads_whatever_is_not_yet_synced(lake, pg_settings) -> None:
    from datalake.pipelines.lake import sync_dataset

    first = sync_dataset("demand_hourly")
    assert (first.details["inserted"], first.details["partitions_synced"]) == (48, 2)
    assert first.balanced
    unchanged = sync_dataset("demand_hourly")
    assert (unchanged.details["partitions_synced"], unchanged.details["partitions_skipped"]) == (0, 2)

    publish_frames(lake, DEMAND_HOURLY, {"year=2024/month=4": demand_rows(4, 26_500.0)})
    changed = sync_dataset("demand_hourly")
    assert (changed.details["updated"], changed.details["partitions_synced"]) == (24, 1)
    assert len(warehouse_rows(pg_settings)) == 48
    assert DEMAND_HOURLY.warehouse_table == "demand_hourly"


# -- through the queue (issue 15, finding 10) --------------------------------------------------------

SQS_EVENT = "sqs_processed_object_created.json"


def sync_runs(store: LocalObjectStore) -> list:
    return list_runs(store, "sync_demand_hourly")


def test_finding_10_queued_batch_syncs_each_touched_partition_once(
    lake, pg_settings, load_lambda, event_json
):
    # A later run wrote month=3 as two part files. The batch announces the publishes of month=3
    # and month=4, the first again (delivered twice, as EventBridge and SQS may), and a run's data
    # file (not published news: ignored): four messages, two partitions, synced as published now.
    publish_frames(
        lake,
        DEMAND_HOURLY,
        {"year=2024/month=3": [demand_rows(3, 25_000.0), demand_rows(3, 25_500.0, day=6)]},
    )
    event = event_json(SQS_EVENT)
    assert len(event["Records"]) == 4
    handler = load_lambda("sync_warehouse")

    assert handler.lambda_handler(event, None) == {"batchItemFailures": []}
    [run] = sync_runs(lake)  # one sync for the whole batch...
    assert (run.details["partitions_synced"], run.details["partitions_skipped"]) == (
        2,
        0,
    )  # ...each partition once
    assert (run.rows_in, run.details["inserted"], run.details["duplicates_superseded"]) == (72, 72, 0)
    rows = warehouse_rows(pg_settings)
    assert len(rows) == 72 and {r[1] for r in rows} == {25_000.0, 25_500.0, 26_000.0}

    # The same batch again (a redelivery): nothing is rewritten.
    assert handler.lambda_handler(event, None) == {"batchItemFailures": []}
    newest = sync_runs(lake)[0]
    assert (newest.details["partitions_synced"], newest.details["partitions_skipped"]) == (0, 2)
    assert warehouse_rows(pg_settings) == rows


def _message(template: dict, message_id: str, key: str) -> dict:
    record = copy.deepcopy(template)
    body = json.loads(record["body"])
    body["detail"]["object"]["key"] = key
    record["messageId"], record["body"] = message_id, json.dumps(body, separators=(",", ":"))
    record["md5OfBody"] = hashlib.md5(record["body"].encode()).hexdigest()
    return record


def test_finding_10_one_bad_message_or_dataset_fails_alone(lake, pg_settings, load_lambda, event_json):
    event = event_json(SQS_EVENT)
    template = event["Records"][0]
    # A published generation partition whose file is not Parquet: that dataset's sync fails...
    lake.put_bytes(f"{run_prefix(GENERATION, 'broken')}/year=2024/part-00000.parquet", b"not parquet")
    publish_run(GENERATION, lake, LocalCatalog(lake), "broken", Settings(_env_file=None))
    broken = _message(
        template, "0d7d3b0c-1111-4000-8000-00000000000a", "processed/_published/generation/broken.json"
    )
    # ...a message that is not an object event at all...
    unreadable = copy.deepcopy(template) | {
        "messageId": "0d7d3b0c-2222-4000-8000-00000000000b",
        "body": "not json",
    }
    # ...and a key that is no publish marker, which is simply not synced.
    other = _message(template, "0d7d3b0c-3333-4000-8000-00000000000c", "processed/demand_hourly/_SUCCESS")
    event["Records"] += [broken, unreadable, other]

    response = load_lambda("sync_warehouse").lambda_handler(event, None)
    # Only those two come back; the demand_hourly messages are done.
    assert [item["itemIdentifier"] for item in response["batchItemFailures"]] == [
        broken["messageId"],
        unreadable["messageId"],
    ]
    [run] = sync_runs(lake)
    assert run.status == "succeeded" and run.details["partitions_synced"] == 2
    assert len(warehouse_rows(pg_settings)) == 48
    [failed] = list_runs(lake, "sync_generation")
    assert failed.status == "failed"


def test_queued_batch_sync_deletes_rows_gone_from_a_rewritten_partition(
    lake, pg_settings, load_lambda, event_json
) -> None:
    handler = load_lambda("sync_warehouse")
    event = event_json(SQS_EVENT)
    assert handler.lambda_handler(event, None) == {"batchItemFailures": []}
    assert len(warehouse_rows(pg_settings)) == 48
    # The job rewrites month=3 with 4 of its hours quarantined; the queue announces it again.
    publish_frames(lake, DEMAND_HOURLY, {"year=2024/month=3": demand_rows(3, 25_000.0)[4:]})

    assert handler.lambda_handler(event, None) == {"batchItemFailures": []}

    run = sync_runs(lake)[0]
    assert (run.details["deleted"], run.details["unchanged"], run.details["partitions_synced"]) == (4, 20, 1)
    rows = warehouse_rows(pg_settings)
    assert len(rows) == 44 and {r[1] for r in rows} == {25_000.0, 26_000.0}
