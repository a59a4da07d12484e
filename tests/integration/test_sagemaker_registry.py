"""The SageMaker model registry against the moto server: packages, approval statuses, archives."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import boto3
import pytest

from datalake import aws
from datalake.errors import ObjectNotFoundError
from datalake.models import ModelRegistry, model_registry
from datalake.models.sagemaker_registry import SageMakerModelRegistry
from datalake.settings import Settings

IMAGE = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.6-cpu-py312"


@pytest.fixture
def sm_settings(moto_settings: Settings) -> Settings:
    """Moto settings with a pinned serving image and the artifacts bucket created."""
    settings = moto_settings.model_copy(update={"sagemaker_inference_image": IMAGE})
    aws.client("s3", settings=settings).create_bucket(
        Bucket=settings.artifacts_bucket,
        CreateBucketConfiguration={"LocationConstraint": settings.aws_region},
    )
    return settings


def model_dir(root: Path, seed: int) -> Path:
    """A model directory with text, binary and nested files (code/ as train.py writes it)."""
    root.mkdir(parents=True)
    (root / "config.json").write_text(f'{{"seed": {seed}}}')
    (root / "weights.pt").write_bytes(bytes(range(256)) * 40 + bytes([seed]))
    (root / "code" / "datalake").mkdir(parents=True)
    (root / "code" / "inference.py").write_text("def model_fn(model_dir):\n    return model_dir\n")
    (root / "code" / "datalake" / "__init__.py").write_text("")
    return root


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_factory_picks_the_registry_by_runtime(lake_settings: Settings, sm_settings: Settings) -> None:
    assert isinstance(model_registry(lake_settings), ModelRegistry)
    registry = model_registry(sm_settings)
    assert isinstance(registry, SageMakerModelRegistry)
    assert registry.group == sm_settings.model_package_group
    # Another family gets a group of its own: approving its champion leaves the forecaster's alone.
    movies = model_registry(sm_settings, name="movie_success")
    assert movies.group == f"{sm_settings.model_package_group}-movie-success"


def test_two_families_keep_their_own_champions(sm_settings: Settings, tmp_path: Path) -> None:
    session = boto3.session.Session(region_name=sm_settings.aws_region)
    forecaster = SageMakerModelRegistry(settings=sm_settings, boto3_session=session)
    movies = SageMakerModelRegistry(settings=sm_settings, boto3_session=session, name="movie_success")
    demand = forecaster.register(model_dir(tmp_path / "f", 1), {"day_ahead_mape_pct": 3.5})
    forecaster.promote(demand, "first")
    film = movies.register(model_dir(tmp_path / "m", 2), {"roc_auc": 0.66})
    movies.promote(film, "first")
    assert forecaster.champion()["version"] == demand
    assert movies.champion()["version"] == film
    assert [r["version"] for r in forecaster.versions()] == [demand]


def test_register_promote_and_fetch(sm_settings: Settings, tmp_path: Path) -> None:
    session = boto3.session.Session(region_name=sm_settings.aws_region)
    registry = SageMakerModelRegistry(settings=sm_settings, boto3_session=session)
    sm = aws.client("sagemaker", session, sm_settings)
    assert registry.versions() == [] and registry.champion() is None  # no group yet: empty, no error

    first = registry.register(model_dir(tmp_path / "m1", 1), {"day_ahead_mape_pct": 3.5, "window": [1, 2]})
    second = registry.register(model_dir(tmp_path / "m2", 2), {"day_ahead_mape_pct": 2.9}, {"data": "x"})

    # The group was created on first use and holds one package per version, pending approval.
    group = sm.describe_model_package_group(ModelPackageGroupName=sm_settings.model_package_group)
    assert group["ModelPackageGroupName"] == sm_settings.model_package_group
    records = registry.versions()
    assert [r["version"] for r in records] == sorted([first, second])
    assert [r["approval_status"] for r in records] == ["PendingManualApproval"] * 2
    by_version = {r["version"]: r for r in records}  # ids sort by second: same-second ones by suffix
    assert by_version[second]["metrics"] == {"day_ahead_mape_pct": 2.9} and by_version[second]["data"] == "x"
    package = sm.describe_model_package(ModelPackageName=by_version[first]["model_package_arn"])
    container = package["InferenceSpecification"]["Containers"][0]
    assert container["Image"] == IMAGE
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    assert container["ModelDataUrl"] == (
        f"s3://{sm_settings.artifacts_bucket}/models/demand_forecaster/versions/{first}/model.tar.gz"
    )
    assert package["CustomerMetadataProperties"] == {"version": first, "metric:day_ahead_mape_pct": "3.5"}
    statistics = package["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["S3Uri"].endswith(f"/versions/{first}/metrics.json")

    # model.tar.gz holds the directory's files at the tar root, as SageMaker unpacks it.
    bucket, key = container["ModelDataUrl"][5:].split("/", 1)
    body = aws.client("s3", session, sm_settings).get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == sorted(files_of(tmp_path / "m1"))

    registry.promote(first, "first model: no champion yet")
    champion = registry.champion()
    assert champion is not None and champion["version"] == first
    assert champion["approval_status"] == "Approved"
    assert champion["approval_description"] == "first model: no champion yet"

    registry.promote(second, "better day-ahead MAPE")
    champion = registry.champion()
    assert champion is not None and champion["version"] == second
    records = {r["version"]: r for r in registry.versions()}
    assert (records[second]["approval_status"], records[second]["approval_description"]) == (
        "Approved",
        "better day-ahead MAPE",
    )
    assert records[first]["approval_status"] == "Rejected"
    assert records[first]["approval_description"].startswith(f"replaced as champion by {second}")
    # Updates keep the version id and metrics on the package (moto would drop them if not re-sent).
    demoted = sm.describe_model_package(ModelPackageName=records[first]["model_package_arn"])
    assert demoted["CustomerMetadataProperties"]["version"] == first
    assert demoted["CustomerMetadataProperties"]["metric:day_ahead_mape_pct"] == "3.5"
    assert demoted["CustomerMetadataProperties"]["superseded_by"] == second

    fetched = registry.fetch(first, tmp_path / "fetched")
    assert files_of(fetched) == files_of(tmp_path / "m1")  # byte for byte, nested code/ included

    with pytest.raises(ObjectNotFoundError, match="no demand_forecaster version 'v0'"):
        registry.get("v0")
