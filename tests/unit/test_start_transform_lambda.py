"""The start_transform Lambda fed real-shaped S3 events and SQS batches, against Glue in the moto server
(and, for the retry timeline, a small in-memory Glue that ends a run on cue) and SQS in the moto server."""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from botocore.exceptions import ClientError
from queue_fixtures import QueueConsumer, queue_properties

from datalake import aws
from datalake.pipelines.queued import start_transform_batch
from datalake.pipelines.trigger import TransformBusyError, raw_prefix_of
from datalake.settings import Settings, get_settings

EVENT = "s3_raw_object_created.json"


@pytest.fixture
def glue(moto_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A Glue client on the moto server with both jobs defined; the handler's settings point there too."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_settings.aws_endpoint_url or "")
    get_settings.cache_clear()
    client = aws.client("glue", settings=moto_settings)
    for job in (moto_settings.ree_glue_job, moto_settings.entsoe_glue_job):
        client.create_job(
            Name=job,
            Role="arn:aws:iam::123456789012:role/datalake-glue",
            Command={"Name": "glueetl", "ScriptLocation": "s3://datalake-dev-artifacts/glue/to_processed.py"},
        )
    return client


@pytest.fixture
def runs_stay_active(moto_server: str) -> Iterator[None]:
    """Keep moto's job runs in STARTING so its MaxConcurrentRuns check (default 1) bites.

    moto does enforce MaxConcurrentRuns, but by default a run reads as SUCCEEDED as soon as it
    is described, so a second start never collides without this.
    """
    transition = {"model_name": "glue::job_run", "transition": {"progression": "manual", "times": 10**6}}
    requests.post(f"{moto_server}/moto-api/state-manager/set-transition", json=transition, timeout=10)
    yield
    requests.post(
        f"{moto_server}/moto-api/state-manager/unset-transition",
        json={"model_name": "glue::job_run"},
        timeout=10,
    )


def _runs(glue: Any, job: str) -> list[dict[str, Any]]:
    return glue.get_job_runs(JobName=job)["JobRuns"]


def _with_keys(event: dict, keys: list[str], event_time: str | None = None) -> dict:
    """The recorded event with one record per key (URL-encoded as S3 sends them)."""
    template = event["Records"][0]
    records = []
    for key in keys:
        record = copy.deepcopy(template)
        record["s3"]["object"]["key"] = key
        if event_time:
            record["eventTime"] = event_time
        records.append(record)
    return {"Records": records}


def test_event_starts_one_run_per_raw_prefix(glue: Any, moto_settings: Settings, load_lambda, event_json):
    summary = load_lambda("start_transform").lambda_handler(event_json(EVENT), None)
    ree, entsoe = moto_settings.ree_glue_job, moto_settings.entsoe_glue_job
    # Two ree_sample objects and one entsoe object: one run each, read back from Glue.
    (ree_run,) = _runs(glue, ree)
    (entsoe_run,) = _runs(glue, entsoe)
    assert ree_run["Arguments"] == {"--raw_prefix": "raw/ree_sample"}
    assert entsoe_run["Arguments"] == {"--raw_prefix": "raw/entsoe"}
    assert summary == {
        "started": [
            {"job": ree, "raw_prefix": "raw/ree_sample", "job_run_id": ree_run["Id"]},
            {"job": entsoe, "raw_prefix": "raw/entsoe", "job_run_id": entsoe_run["Id"]},
        ],
        "covered": [],
        "busy": [],
        "ignored": 0,
    }
    assert glue.get_job_run(JobName=ree, RunId=ree_run["Id"])["JobRun"]["JobName"] == ree


def test_duplicate_keys_and_prefixes_start_once_each(
    glue: Any, moto_settings: Settings, load_lambda, event_json
):
    keys = [
        "raw/ree/demand/year%3D2024/month%3D01/day%3D01/ree-demand-national-2024-01-01.json",
        "raw/ree/demand/year%3D2024/month%3D01/day%3D02/ree-demand-national-2024-01-02.json",
        "raw/ree_sample/demand/year%3D2024/month%3D01/day%3D01/ree-demand-national-2024-01-01.json",
    ]
    event = _with_keys(event_json(EVENT), keys * 3)
    summary = load_lambda("start_transform").lambda_handler(event, None)
    # Both REE prefixes share the job, each with its own run; nothing for ENTSO-E.
    prefixes = sorted(run["Arguments"]["--raw_prefix"] for run in _runs(glue, moto_settings.ree_glue_job))
    assert prefixes == ["raw/ree", "raw/ree_sample"]
    assert _runs(glue, moto_settings.entsoe_glue_job) == []
    assert len(summary["started"]) == 2


def test_keys_outside_known_raw_prefixes_are_ignored(
    glue: Any, moto_settings: Settings, load_lambda, event_json
):
    keys = [
        "processed/demand_hourly/year%3D2024/month%3D1/part-00000.parquet",
        "raw/unknown_source/x/year%3D2024/file.json",
        "raw/ree_samples/demand/file.json",  # a prefix of a known source is not that source
        "raw/ree/",  # the folder marker the console writes
        "landing/ree/demand.csv",
        "raw/entsoe/total_load/year%3D2024/month%3D01/day%3D01/my+upload.csv",
    ]
    summary = load_lambda("start_transform").lambda_handler(_with_keys(event_json(EVENT), keys), None)
    assert summary["ignored"] == 5
    assert _runs(glue, moto_settings.ree_glue_job) == []
    (entsoe_run,) = _runs(glue, moto_settings.entsoe_glue_job)
    assert summary["started"] == [
        {"job": moto_settings.entsoe_glue_job, "raw_prefix": "raw/entsoe", "job_run_id": entsoe_run["Id"]}
    ]


@pytest.mark.parametrize(
    ("key", "prefix"),
    [
        ("raw/ree/demand/year=2024/x.json", "raw/ree"),
        ("raw/ree_sample/demand/x.json", "raw/ree_sample"),
        ("raw/entsoe/total_load/x.csv", "raw/entsoe"),
        ("raw/ree_samplex/demand/x.json", None),
        ("raw/ree", None),
        ("processed/ree/x.parquet", None),
        ("raw", None),
    ],
)
def test_raw_prefix_of(key: str, prefix: str | None) -> None:
    assert raw_prefix_of(key) == prefix


def test_active_run_started_after_the_objects_covers_them(
    glue: Any, moto_settings: Settings, runs_stay_active: None, load_lambda, event_json
):
    ree = moto_settings.ree_glue_job
    # Started now, after the recorded 2024 event times: it will list those objects itself.
    running = glue.start_job_run(JobName=ree, Arguments={"--raw_prefix": "raw/ree_sample"})["JobRunId"]
    summary = load_lambda("start_transform").lambda_handler(event_json(EVENT), None)
    assert summary["covered"] == [
        {
            "job": ree,
            "raw_prefix": "raw/ree_sample",
            "job_run_id": running,
            "reason": f"covered by run {running}",
        }
    ]
    assert [run["Id"] for run in _runs(glue, ree)] == [running]  # moto refused the second start
    (entsoe_run,) = _runs(glue, moto_settings.entsoe_glue_job)
    assert [run["job_run_id"] for run in summary["started"]] == [entsoe_run["Id"]]


@pytest.mark.parametrize(
    ("running_prefix", "event_offset"),
    [
        pytest.param("raw/ree_sample", dt.timedelta(days=1), id="run-started-before-the-objects"),
        pytest.param("raw/ree", -dt.timedelta(days=1), id="run-on-another-prefix"),
    ],
)
def test_busy_job_not_covering_the_objects_fails_for_a_retry(
    glue: Any,
    moto_settings: Settings,
    runs_stay_active: None,
    load_lambda,
    event_json,
    running_prefix: str,
    event_offset: dt.timedelta,
):
    ree = moto_settings.ree_glue_job
    running = glue.start_job_run(JobName=ree, Arguments={"--raw_prefix": running_prefix})["JobRunId"]
    # A day either side keeps clear of moto reporting StartedOn in the host's zone.
    when = (dt.datetime.now(dt.UTC) + event_offset).isoformat().replace("+00:00", "Z")
    event = event_json(EVENT)
    for record in event["Records"]:
        record["eventTime"] = when
    with pytest.raises(TransformBusyError) as caught:
        load_lambda("start_transform").lambda_handler(event, None)
    report = caught.value.report
    assert [(b.job, b.raw_prefix) for b in report.busy] == [(ree, "raw/ree_sample")]
    assert report.covered == []
    assert [run["Id"] for run in _runs(glue, ree)] == [running]
    # The other prefix still started, so the retry will find it covered rather than start it again.
    (entsoe_run,) = _runs(glue, moto_settings.entsoe_glue_job)
    assert [run.job_run_id for run in report.started] == [entsoe_run["Id"]]


def test_other_glue_errors_are_not_swallowed(moto_settings: Settings, monkeypatch, load_lambda, event_json):
    # No jobs defined: a deployment error must fail loudly, not read as "busy".
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_settings.aws_endpoint_url or "")
    get_settings.cache_clear()
    with pytest.raises(ClientError) as caught:
        load_lambda("start_transform").lambda_handler(event_json(EVENT), None)
    assert caught.value.response["Error"]["Code"] == "EntityNotFoundException"


# -- through the queue (issue 15, finding 10) --------------------------------------------------------

SQS_EVENT = "sqs_raw_object_created.json"


def _failed(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def test_queued_batch_starts_one_run_per_raw_prefix(
    glue: Any, moto_settings: Settings, load_lambda, event_json
):
    response = load_lambda("start_transform").lambda_handler(event_json(SQS_EVENT), None)
    assert response == {"batchItemFailures": []}  # the partial batch response, and nothing else
    (ree_run,) = _runs(glue, moto_settings.ree_glue_job)
    (entsoe_run,) = _runs(glue, moto_settings.entsoe_glue_job)
    assert ree_run["Arguments"] == {"--raw_prefix": "raw/ree_sample"}
    assert entsoe_run["Arguments"] == {"--raw_prefix": "raw/entsoe"}


def test_finding_10_queued_batch_fails_only_the_messages_of_a_busy_prefix(
    glue: Any, moto_settings: Settings, runs_stay_active: None, load_lambda, event_json
):
    ree = moto_settings.ree_glue_job
    # The REE job's one slot is taken by a run on the other REE prefix: it will not list raw/ree_sample.
    running = glue.start_job_run(JobName=ree, Arguments={"--raw_prefix": "raw/ree"})["JobRunId"]
    event = event_json(SQS_EVENT)
    response = load_lambda("start_transform").lambda_handler(event, None)
    ree_sample_messages = [r["messageId"] for r in event["Records"] if "raw/ree_sample/" in r["body"]]
    assert len(ree_sample_messages) == 2
    assert _failed(response) == ree_sample_messages
    assert [run["Id"] for run in _runs(glue, ree)] == [running]
    (entsoe_run,) = _runs(glue, moto_settings.entsoe_glue_job)  # the ENTSO-E message went through
    assert entsoe_run["Arguments"] == {"--raw_prefix": "raw/entsoe"}


def test_queued_batch_fails_an_unreadable_message_alone(
    glue: Any, moto_settings: Settings, load_lambda, event_json
):
    event = event_json(SQS_EVENT)
    bad = copy.deepcopy(event["Records"][2])
    bad["messageId"] = "5b0c2f0e-0000-4000-8000-000000000000"
    bad["body"] = '{"version": "0", "detail-type": "Object Deleted", "source": "aws.s3"}'
    event["Records"].append(bad)
    response = load_lambda("start_transform").lambda_handler(event, None)
    assert _failed(response) == [bad["messageId"]]
    assert (
        len(_runs(glue, moto_settings.ree_glue_job)) == len(_runs(glue, moto_settings.entsoe_glue_job)) == 1
    )


class FakeGlue:
    """Glue's job runs as the trigger sees them, in memory.

    ``start_job_run`` refuses with a real ``ConcurrentRunsExceededException`` ClientError while a job
    has as many active runs as its MaxConcurrentRuns (as Glue does); ``get_job_runs`` pages list the
    runs. moto raises the same error only with a state-manager trick that cannot end a run on cue;
    here a test starts and finishes runs when it wants.
    """

    def __init__(self, max_concurrent_runs: dict[str, int]) -> None:
        self.max_concurrent_runs = max_concurrent_runs
        self.runs: list[dict[str, Any]] = []

    def _active(self, job: str) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["JobName"] == job and r["JobRunState"] == "RUNNING"]

    def running(self, job: str, raw_prefix: str, started_on: dt.datetime) -> str:
        """A run already going (started by someone else) that holds one of the job's slots."""
        run_id = f"jr_{len(self.runs):04d}"
        self.runs.append(
            {
                "Id": run_id,
                "JobName": job,
                "Arguments": {"--raw_prefix": raw_prefix},
                "JobRunState": "RUNNING",
                "StartedOn": started_on,
            }
        )
        return run_id

    def finish(self, run_id: str) -> None:
        [run] = [r for r in self.runs if r["Id"] == run_id]
        run["JobRunState"] = "SUCCEEDED"

    def start_job_run(self, *, JobName: str, Arguments: dict[str, str]) -> dict[str, Any]:
        if JobName not in self.max_concurrent_runs:
            raise ClientError(
                {"Error": {"Code": "EntityNotFoundException", "Message": JobName}}, "StartJobRun"
            )
        if len(self._active(JobName)) >= self.max_concurrent_runs[JobName]:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ConcurrentRunsExceededException",
                        "Message": f"Concurrent runs exceeded for {JobName}",
                    }
                },
                "StartJobRun",
            )
        return {"JobRunId": self.running(JobName, Arguments["--raw_prefix"], dt.datetime.now(dt.UTC))}

    def get_paginator(self, operation_name: str) -> Any:
        assert operation_name == "get_job_runs"
        runs = self.runs

        class Pages:
            def paginate(self, *, JobName: str) -> Iterator[dict[str, Any]]:
                yield {"JobRuns": [dict(r) for r in runs if r["JobName"] == JobName]}

        return Pages()

    def started(self) -> list[tuple[str, str]]:
        return [(r["JobName"], r["Arguments"]["--raw_prefix"]) for r in self.runs]


@pytest.fixture
def start_transform_queue(moto_settings: Settings) -> Callable[..., QueueConsumer]:
    """The start-transform queue on moto: the template's maxReceiveCount, a visibility timeout we choose."""
    sqs = aws.client("sqs", settings=moto_settings)
    tries = queue_properties("StartTransformQueue")["RedrivePolicy"]["maxReceiveCount"]
    return lambda visibility_timeout: QueueConsumer.create(
        sqs, "datalake-dev-start-transform", visibility_timeout=visibility_timeout, max_receive_count=tries
    )


def _receive_counts(event: dict[str, Any]) -> list[str]:
    return [r["attributes"]["ApproximateReceiveCount"] for r in event["Records"]]


def test_finding_10_busy_glue_job_message_comes_back_until_the_job_starts(
    moto_settings: Settings, start_transform_queue, event_json
):
    ree, entsoe = moto_settings.ree_glue_job, moto_settings.entsoe_glue_job
    # 1 s stands in for the template's 360 s visibility timeout (the wait between tries).
    queue = start_transform_queue(visibility_timeout=1)
    queue.send([r["body"] for r in event_json(SQS_EVENT)["Records"]])
    glue = FakeGlue({ree: 1, entsoe: 1})
    # A long REE run on raw/ree_sample began before the objects landed, so it will not list them.
    long_run = glue.running(ree, "raw/ree_sample", dt.datetime(2024, 1, 1, tzinfo=dt.UTC))

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        return start_transform_batch(SQSEvent(event), moto_settings, glue=glue).response()

    first = queue.poll(handler)
    assert first is not None and len(first["Records"]) == 3
    assert glue.started()[1:] == [(entsoe, "raw/entsoe")]  # the free job started at once
    assert queue.poll(handler) is None  # the two REE messages are not lost, only invisible for a while
    for attempt in (2, 3):
        time.sleep(1.2)
        again = queue.poll(handler)
        assert again is not None and _receive_counts(again) == [str(attempt)] * 2
        assert glue.started()[1:] == [(entsoe, "raw/entsoe")]  # still busy: nothing started, nothing dropped

    glue.finish(long_run)
    time.sleep(1.2)
    last = queue.poll(handler)
    assert last is not None and _receive_counts(last) == ["4", "4"]
    # One run for the two messages, started once the job was free; then the queue is empty.
    assert glue.started()[1:] == [(entsoe, "raw/entsoe"), (ree, "raw/ree_sample")]
    assert queue.count() == 0
    assert queue.count(queue.dlq_url) == 0


def test_finding_10_job_busy_through_every_try_leaves_the_message_in_the_dead_letter_queue(
    moto_settings: Settings, start_transform_queue, event_json
):
    ree = moto_settings.ree_glue_job
    queue = start_transform_queue(visibility_timeout=0)  # every try at once: the count is what matters here
    bodies = [r["body"] for r in event_json(SQS_EVENT)["Records"] if "raw/ree_sample/" in r["body"]]
    queue.send(bodies)
    glue = FakeGlue({ree: 1})
    glue.running(ree, "raw/ree_sample", dt.datetime(2024, 1, 1, tzinfo=dt.UTC))

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        return start_transform_batch(SQSEvent(event), moto_settings, glue=glue).response()

    tries = queue_properties("StartTransformQueue")["RedrivePolicy"]["maxReceiveCount"]
    for attempt in range(1, tries + 1):
        event = queue.poll(handler)
        assert event is not None and _receive_counts(event) == [str(attempt)] * 2
    assert queue.poll(handler) is None  # the next receive moved them aside...
    assert queue.count() == 0
    kept = queue.sqs.receive_message(QueueUrl=queue.dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in kept) == sorted(bodies)  # ...whole, for a redrive
    assert len(glue.runs) == 1  # and no run was started behind the busy one


def test_datalake_run_lambda_calls_the_handler_with_the_event_json(glue: Any, moto_settings: Settings):
    from typer.testing import CliRunner

    from datalake.cli import app
    from datalake.deploy.templates import REPO_ROOT
    from datalake.errors import ConfigurationError

    event = REPO_ROOT / "tests" / "events" / SQS_EVENT
    result = CliRunner().invoke(app, ["run", "lambda", "start_transform", str(event)])
    assert result.exit_code == 0, result.output
    # The handler's own JSON log lines come first (Powertools logs to stdout); its answer is last.
    *_logs, answer = _json_documents(result.output)
    assert answer == {"batchItemFailures": []}
    assert (
        len(_runs(glue, moto_settings.ree_glue_job)) == len(_runs(glue, moto_settings.entsoe_glue_job)) == 1
    )
    unknown = CliRunner().invoke(app, ["run", "lambda", "api", str(event)])
    assert isinstance(unknown.exception, ConfigurationError) and "start_transform" in (
        unknown.exception.hint or ""
    )


def _json_documents(text: str) -> list[Any]:
    decoder, found, at = json.JSONDecoder(), [], 0
    while (at := text.find("{", at)) >= 0:
        document, at = decoder.raw_decode(text, at)
        found.append(document)
    return found
