"""The start_transform Lambda fed a real-shaped S3 event, against Glue in the moto server."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from datalake import aws
from datalake.pipelines.trigger import TransformBusyError, raw_prefix_of
from datalake.settings import Settings, get_settings

EVENT = "s3_raw_object_created.json"


@pytest.fixture
def glue(moto_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A Glue client on the moto server with both jobs defined; the handler's settings point there too."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_settings.aws_endpoint_url or "")
    get_settings.cache_clear()
    client = aws.client("glue", settings=moto_settings)
    for job, script in (
        (moto_settings.ree_glue_job, "ree_to_processed.py"),
        (moto_settings.entsoe_glue_job, "entsoe_to_processed.py"),
    ):
        client.create_job(
            Name=job,
            Role="arn:aws:iam::123456789012:role/datalake-glue",
            Command={"Name": "glueetl", "ScriptLocation": f"s3://datalake-dev-artifacts/glue_jobs/{script}"},
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
