"""The TMDB Lambdas fed real event JSON against moto (S3 for the lake, Lambda for the self-invoke), on the
SAMPLE TMDB: the backfill re-invokes itself with what is left, and its continuation event finishes it."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
import requests

from datalake import aws
from datalake.deploy.iam_calls import recording_aws_calls
from datalake.deploy.package import LAMBDA_BUNDLES
from datalake.deploy.templates import REPO_ROOT, load_template
from datalake.errors import DataValidationError
from datalake.settings import Settings, get_settings
from datalake.sources import tmdb_extract
from datalake.sources.registry import TMDB_LAMBDAS
from datalake.sources.tmdb_raw import MOVIE_RAW_PREFIX
from datalake.sources.tmdb_sample import catalogue
from datalake.storage.s3 import S3ObjectStore

FUNCTION = "datalake-dev-tmdb-backfill"
BUCKET = "datalake-dev-lake"


@dataclass
class Context:
    """What Lambda passes as ``context`` (the fields the handler reads)."""

    function_name: str
    remaining_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def lake(
    moto_settings: Settings, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[S3ObjectStore]:
    """The lake bucket in moto, the backfill function registered there (moto's Lambda without Docker)."""
    requests.post(f"{moto_server}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10)
    for name, value in {
        "LAKE_RUNTIME": "aws",
        "LAKE_BUCKET": BUCKET,
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_REGION": "eu-west-1",
        "TMDB_SAMPLE": "true",
        "TMDB_CHUNK_SIZE": "50",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    aws.client("s3", settings=moto_settings).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    role = aws.client("iam", settings=moto_settings).create_role(
        RoleName="tmdb-backfill", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as bundle:
        bundle.writestr("handler.py", (REPO_ROOT / "lambdas/tmdb_backfill/handler.py").read_text())
    aws.client("lambda", settings=moto_settings).create_function(
        FunctionName=FUNCTION, Runtime="python3.11", Role=role, Handler="handler.lambda_handler",
        Code={"ZipFile": code.getvalue()},
    )  # fmt: skip
    try:
        yield S3ObjectStore(BUCKET, settings=get_settings())
    finally:
        requests.post(f"{moto_server}/moto-api/config", json={"lambda": {"use_docker": True}}, timeout=10)


def movie_lines(lake: S3ObjectStore) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for key in lake.list_keys(MOVIE_RAW_PREFIX)
        for line in lake.get_bytes(key).decode().splitlines()
    ]


def test_the_backfill_reinvokes_itself_with_what_is_left_until_its_limit(
    lake: S3ObjectStore, load_lambda: Callable[[str], ModuleType], event_json: Callable[[str], dict]
) -> None:
    handler = load_lambda("tmdb_backfill")
    first_event, continuation = event_json("tmdb_backfill.json"), event_json("tmdb_backfill_continue.json")
    # Little time left after the first chunk: it stops there and hands the rest to itself.
    with recording_aws_calls() as calls:
        first = handler.lambda_handler(first_event, Context(FUNCTION, remaining_ms=20_000))
    [invoke] = [c for c in calls if c.operation == "Invoke"]
    assert (invoke.params["FunctionName"], invoke.params["InvocationType"], invoke.status) == (
        FUNCTION,
        "Event",
        202,
    )
    assert json.loads(invoke.params["Payload"]) == continuation == first["next_event"]
    assert (first["attempted"], first["next_index"], first["done"]) == (50, 50, False)
    # While its chain goes on, a second on-demand request for the same export is refused.
    with pytest.raises(DataValidationError) as busy:
        handler.lambda_handler(first_event, Context(FUNCTION, remaining_ms=900_000))
    assert busy.value.field == "export_date" and "goes on by itself" in str(busy.value)

    # The continuation (the very event queued) has time for both chunks it has left, and stops there.
    with recording_aws_calls() as calls:
        second = handler.lambda_handler(continuation, Context(FUNCTION, remaining_ms=900_000))
    assert not [c for c in calls if c.service == "lambda"] and second["next_event"] is None
    assert (second["start_index"], second["attempted"], second["next_index"]) == (50, 70, 120)

    export = catalogue().export_ids
    counts = Counter(line["movie_id"] for line in movie_lines(lake))
    assert sorted(counts) == export[:120] and set(counts.values()) == {1}
    checkpoint = tmdb_extract.load_checkpoint(lake, "sample", tmdb_extract.dt.date(2026, 12, 4))
    assert checkpoint is not None and (checkpoint.next_index, checkpoint.total_ids) == (120, len(export))
    assert checkpoint.held_until is None  # its limit reached, the chain let the export go
    reports = lake.list_keys("_runs/ingest_tmdb_backfill_sample", include_hidden=True)
    assert len(reports) == 3  # the refused request's run is reported too (failed, with its reason)


def test_a_backfill_without_a_limit_goes_on_until_the_export_is_done(
    lake: S3ObjectStore, load_lambda: Callable[[str], ModuleType]
) -> None:
    handler = load_lambda("tmdb_backfill")
    event: dict[str, Any] | None = {"export_date": "2026-12-04"}
    invocations = 0
    while event is not None:  # what Lambda does with each queued event
        invocations += 1
        event = handler.lambda_handler(event, Context(FUNCTION, remaining_ms=20_000))["next_event"]
    assert invocations == -(-len(catalogue().export_ids) // 50)
    assert sorted(line["movie_id"] for line in movie_lines(lake)) == catalogue().export_ids


@pytest.mark.parametrize(
    ("event", "field"),
    [({"export_date": "04/12/2026"}, "export_date"), ({"limit": -1}, "limit"), ({"limit": "10"}, "limit"),
     ({"invocation": 6_000}, "invocation")],
)  # fmt: skip
def test_the_backfill_refuses_bad_events_naming_the_field(
    lake: S3ObjectStore, load_lambda: Callable[[str], ModuleType], event: dict, field: str
) -> None:
    with pytest.raises(DataValidationError) as caught:
        load_lambda("tmdb_backfill").lambda_handler(event, Context(FUNCTION, 900_000))
    assert caught.value.field == field
    assert lake.list_keys(MOVIE_RAW_PREFIX) == []


def test_the_daily_lambda_reads_the_window_since_its_last_success(
    lake: S3ObjectStore, load_lambda: Callable[[str], ModuleType], event_json: Callable[[str], dict]
) -> None:
    handler, event = load_lambda("tmdb_daily"), event_json("eventbridge_scheduled_tmdb_daily.json")
    first = handler.lambda_handler(event, None)
    assert (first["start"], first["end"], first["days_missed"]) == ("2026-12-03", "2026-12-04", 0)
    lines = movie_lines(lake)
    assert len(lines) == first["written"] == first["changed"] > 100  # more than one page of 100
    assert {tuple(key.split("/")[3:6]) for key in lake.list_keys(MOVIE_RAW_PREFIX)} == {
        ("year=2026", "month=12", "day=04")
    }
    gone = [line for line in lines if line["status"] == "gone"]
    assert gone and len(gone) == first["gone"] and {g["movie_id"] for g in gone} <= catalogue().gone_ids
    assert {line["source"] for line in lines} == {"sample"}
    later = {**event, "time": "2026-12-20T09:00:00Z"}
    second = handler.lambda_handler(later, None)
    assert (second["start"], second["end"], second["days_missed"]) == ("2026-12-06", "2026-12-20", 2)


def test_a_daily_invocation_out_of_time_fails_and_its_retry_resumes(
    lake: S3ObjectStore, load_lambda: Callable[[str], ModuleType], event_json: Callable[[str], dict]
) -> None:
    handler, event = load_lambda("tmdb_daily"), event_json("eventbridge_scheduled_tmdb_daily.json")
    with pytest.raises(RuntimeError, match="left; the next invocation resumes"):
        handler.lambda_handler(event, Context("datalake-dev-tmdb-daily", remaining_ms=20_000))
    retry = handler.lambda_handler(event, Context("datalake-dev-tmdb-daily", remaining_ms=900_000))
    assert retry["resumed"] and retry["left"] == 0
    counts = Counter(line["movie_id"] for line in movie_lines(lake))
    assert len(counts) == retry["changed"] and set(counts.values()) == {1}


def _bundle(function: dict[str, Any]) -> str:
    key = function["Properties"]["Code"]["S3Key"]
    return str(key["Fn::Sub"] if isinstance(key, dict) else key).rsplit("/", 1)[-1].removesuffix(".zip")


def test_the_tmdb_lambdas_are_bundled_and_invoked_by_their_rules() -> None:
    resources = load_template("ingestion")["Resources"]
    functions = {_bundle(r): name for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    for function in TMDB_LAMBDAS:
        assert LAMBDA_BUNDLES[function.name] == (function.folder, "")
        assert (REPO_ROOT / function.folder / "handler.py").is_file()
        targets = resources[function.rule]["Properties"]["Targets"]
        assert {"Fn::GetAtt": [functions[function.name], "Arn"]} in [t["Arn"] for t in targets]
