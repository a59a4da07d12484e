"""The store-sales pipeline's AWS steps (datalake.sales_aws): the training job's evaluation, the promote
Lambda's event and its alias moves, against a real local MLflow registry (SQLite) and moto's S3."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from datalake import aws
from datalake.errors import ConfigurationError, DataValidationError
from datalake.sales_aws import (
    CHALLENGER,
    CHAMPION,
    EVALUATION_FILE,
    PromoteEvent,
    TrainingEvaluation,
    channel_store,
    evaluation_from_archive,
    mlflow_registry,
    promote_training_output,
    promotion_decision,
    run_promote,
    train_in_container,
)
from datalake.settings import Settings, get_settings

mlflow = pytest.importorskip("mlflow")

EVENT = "stepfunctions_sales_promote.json"


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One real MLflow store (SQLite) for the module: creating its tables takes seconds."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def registry(tracking_uri: str, request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    """An MLflow client and a registered model of this test's own (versions 1, 2, 3)."""
    client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    name = f"store-sales-{request.node.name}"[:200].replace("[", "-").replace("]", "")
    client.create_registered_model(name)
    for _ in range(3):
        client.create_model_version(name, source=f"/tmp/{name}/model")
    yield client, name


def evaluation(
    version: str, rmspe: float, champion: str | None, champion_rmspe: float | None
) -> TrainingEvaluation:
    return TrainingEvaluation(version, rmspe, champion, champion_rmspe, "digest123", f"run-{version}")


def aliases(client: Any, name: str) -> dict[str, str]:
    return {alias: str(version) for alias, version in client.get_registered_model(name).aliases.items()}


def test_the_first_model_becomes_champion_and_a_better_one_replaces_it(registry: tuple[Any, str]) -> None:
    client, name = registry
    first = promote_training_output(evaluation("1", 0.15, None, None), client, name)
    assert first["promoted"] and aliases(client, name) == {CHAMPION: "1", CHALLENGER: "1"}
    better = promote_training_output(evaluation("2", 0.11, "1", 0.15), client, name)
    assert better == {
        "version": "2",
        "promoted": True,
        "champion": "2",
        "decision": "challenger RMSPE 0.1100 < champion's 0.1500",
    }
    assert aliases(client, name) == {CHAMPION: "2", CHALLENGER: "2"}
    assert client.get_model_version(name, "2").tags["decision"] == better["decision"]


def test_a_worse_challenger_keeps_the_champion_and_a_rerun_changes_nothing(registry: tuple[Any, str]) -> None:
    client, name = registry
    promote_training_output(evaluation("1", 0.12, None, None), client, name)
    worse = evaluation("2", 0.13, "1", 0.12)
    kept = promote_training_output(worse, client, name)
    assert not kept["promoted"] and kept["champion"] == "1"
    assert aliases(client, name) == {CHAMPION: "1", CHALLENGER: "2"}
    assert promote_training_output(worse, client, name) == kept  # the state's retry: same answer
    # An equal score does not replace the champion either.
    assert promotion_decision(evaluation("3", 0.12, "1", 0.12))[0] is False


def test_a_comparison_with_a_champion_replaced_since_is_not_promoted(registry: tuple[Any, str]) -> None:
    client, name = registry
    promote_training_output(evaluation("1", 0.2, None, None), client, name)
    promote_training_output(evaluation("2", 0.15, "1", 0.2), client, name)
    # Version 3 was scored against version 1, which is no longer champion.
    stale = promote_training_output(evaluation("3", 0.1, "1", 0.2), client, name)
    assert not stale["promoted"] and stale["champion"] == "2" and "version 2" in stale["decision"]
    assert aliases(client, name) == {CHAMPION: "2", CHALLENGER: "2"}
    # Already champion: nothing moves.
    assert (
        promote_training_output(evaluation("2", 0.15, "1", 0.2), client, name)["decision"]
        == "already champion"
    )


def test_the_recorded_event_parses_and_bad_fields_are_named(event_json: Callable[[str], dict]) -> None:
    event = PromoteEvent.parse(event_json(EVENT))
    assert event.bucket_and_key == (
        "datalake-dev-artifacts-123456789012",
        f"sagemaker/sales/{event.training_job_name}/output/model.tar.gz",
    )
    for field, value in (("training_job_name", "x" * 64), ("model_artifacts", "https://bucket/model.tar.gz")):
        with pytest.raises(DataValidationError) as error:
            PromoteEvent.parse({**event_json(EVENT), field: value})
        assert error.value.field == field
    with pytest.raises(DataValidationError):
        PromoteEvent.parse(["not", "an", "object"])


def _archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("member", [EVALUATION_FILE, f"./{EVALUATION_FILE}"])
def test_the_evaluation_is_read_from_the_model_archive(member: str) -> None:
    written = evaluation("4", 0.1, "3", 0.11)
    archive = _archive({"model.txt": b"booster", member: json.dumps(written.to_dict()).encode()})
    assert evaluation_from_archive(archive) == written
    with pytest.raises(DataValidationError, match=EVALUATION_FILE):
        evaluation_from_archive(_archive({"model.txt": b"booster"}))


def test_an_evaluation_needs_the_champions_score_with_its_version() -> None:
    with pytest.raises(DataValidationError, match="rmspe_test_champion"):
        TrainingEvaluation.from_dict({**evaluation("2", 0.1, None, None).to_dict(), "champion_version": "1"})
    with pytest.raises(DataValidationError, match="rmspe_test"):
        TrainingEvaluation.from_dict({**evaluation("2", 0.1, None, None).to_dict(), "rmspe_test": "low"})


def test_the_training_job_reads_its_channel_as_the_lake_and_writes_the_evaluation(tmp_path: Path) -> None:
    channel = tmp_path / "input" / "data" / "features"
    (channel / "version=abc").mkdir(parents=True)
    (channel / "_latest.json").write_text('{"version": "abc"}')
    (channel / "version=abc" / "manifest.json").write_text('{"rows_train": 10}')
    seen: dict[str, Any] = {}

    def trainer(store: Any, settings: Settings) -> dict[str, Any]:
        # The sales code reads the features where the lake keeps them.
        latest = store.get_json("features/store_sales/_latest.json")["version"]
        seen["manifest"] = store.get_json(f"features/store_sales/version={latest}/manifest.json")
        return {**evaluation("7", 0.09, "6", 0.1).to_dict(), "dataset_version": latest, "extra": "kept out"}

    model_dir, output_dir = tmp_path / "model", tmp_path / "output"
    result = train_in_container(
        channel, model_dir, output_dir, tmp_path / "staging", trainer, Settings(_env_file=None), "job-1"
    )
    assert seen["manifest"] == {"rows_train": 10}
    assert result.dataset_version == "abc" and result.training_job_name == "job-1"
    for folder in (model_dir, output_dir):
        assert json.loads((folder / EVALUATION_FILE).read_text()) == result.to_dict()
    with pytest.raises(DataValidationError, match=r"_latest\.json"):
        channel_store(tmp_path / "empty", tmp_path / "staging2")


def test_the_promote_step_refuses_to_run_without_a_tracking_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(ConfigurationError, match="MLFLOW_TRACKING_URI"):
        mlflow_registry(Settings(_env_file=None))


def test_the_lambda_promotes_from_the_jobs_archive_on_s3(
    moto_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tracking_uri: str,
    load_lambda: Callable[[str], ModuleType],
    event_json: Callable[[str], dict],
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_settings.aws_endpoint_url or "")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    get_settings.cache_clear()
    event = event_json(EVENT)
    bucket, key = PromoteEvent.parse(event).bucket_and_key
    s3 = aws.client("s3", settings=moto_settings)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    model = "store-sales"
    if not client.search_registered_models(f"name='{model}'"):
        client.create_registered_model(model)
    version = str(client.create_model_version(model, source="/tmp/store-sales/model").version)
    trained = {
        **evaluation(version, 0.1, None, None).to_dict(),
        "training_job_name": event["training_job_name"],
    }
    s3.put_object(Bucket=bucket, Key=key, Body=_archive({EVALUATION_FILE: json.dumps(trained).encode()}))

    outcome = load_lambda("sales_promote").lambda_handler(event, None)
    assert outcome["training_job_name"] == event["training_job_name"]
    assert outcome["promoted"] and aliases(client, model)[CHAMPION] == version
    # An archive written by another job is refused (the state fails and the failure is published).
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=_archive({EVALUATION_FILE: json.dumps({**trained, "training_job_name": "other"}).encode()}),
    )
    with pytest.raises(DataValidationError, match="other"):
        run_promote(event, s3, client)
    get_settings.cache_clear()
