"""Offline pieces of the SageMaker path: the source bundle, model.tar.gz, names, images."""

from __future__ import annotations

import importlib.metadata
import io
import re
import tarfile
from pathlib import Path

import pytest

from datalake.errors import ConfigurationError, DataValidationError
from datalake.models.archive import pack_model_dir, unpack_model_archive
from datalake.models.bundle import build_source_bundle
from datalake.models.images import framework_image
from datalake.models.sagemaker_hosting import deployment_name
from datalake.settings import Settings


def scripts(root: Path) -> Path:
    root.mkdir()
    (root / "train.py").write_text("print('train')\n")
    (root / "inference.py").write_text("def model_fn(d):\n    return d\n")
    return root


def test_source_bundle_carries_the_scripts_the_package_and_pinned_requirements(tmp_path: Path) -> None:
    bundle = build_source_bundle(tmp_path / "bundle", scripts(tmp_path / "scripts"))
    assert (bundle / "train.py").read_text() == "print('train')\n"
    assert (bundle / "inference.py").is_file()
    assert (bundle / "datalake" / "__init__.py").is_file()
    assert (bundle / "datalake" / "forecasting" / "forecaster.py").is_file()
    # The inference scripts import their HTTP handling from the package copy.
    assert (bundle / "datalake" / "models" / "inference_http.py").is_file()
    assert not list(bundle.rglob("__pycache__")) and not list(bundle.rglob("*.pyc"))
    lines = (bundle / "requirements.txt").read_text().split()
    names = [re.split(r"[<>=]", line)[0] for line in lines]
    # The pickled movie model loads only on the scikit-learn that saved it: exactly this one.
    assert f"scikit-learn=={importlib.metadata.version('scikit-learn')}" in lines
    assert names == [
        "pandas",
        "pyarrow",
        "holidays",
        "pydantic",
        "pydantic-settings",
        "psycopg[binary]",
        "rich",
        "scikit-learn",
        # The store-sales training job logs to MLflow (on AWS the tracking server's ARN, which
        # the sagemaker-mlflow plugin resolves).
        "mlflow",
        "matplotlib",
        "sagemaker-mlflow",
    ]


def test_source_bundle_names_a_missing_script(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    with pytest.raises(ConfigurationError, match=r"no train\.py in"):
        build_source_bundle(tmp_path / "bundle", tmp_path / "scripts")


def test_model_archive_is_deterministic_and_rooted(tmp_path: Path) -> None:
    model = tmp_path / "model"
    (model / "code").mkdir(parents=True)
    (model / "weights.pt").write_bytes(b"\x00\x01" * 100)
    (model / "code" / "inference.py").write_text("x = 1\n")
    first = pack_model_dir(model)
    (model / "weights.pt").touch()  # a newer mtime must not change the archive
    assert pack_model_dir(model) == first
    with tarfile.open(fileobj=io.BytesIO(first), mode="r:gz") as tar:
        assert tar.getnames() == ["code/inference.py", "weights.pt"]
    out = unpack_model_archive(first, tmp_path / "out")
    assert (out / "weights.pt").read_bytes() == b"\x00\x01" * 100


def test_model_archive_refuses_paths_outside_the_destination(tmp_path: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(DataValidationError, match="cannot unpack"):
        unpack_model_archive(raw.getvalue(), tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()
    with pytest.raises(DataValidationError, match="no files"):
        pack_model_dir(tmp_path / "out")


def test_deployment_names_fit_and_differ() -> None:
    names = {deployment_name("x" * 80, 12) for _ in range(5)}
    assert len(names) == 5
    assert all(len(n) <= 63 and n.startswith("xxx") and "-v12-" in n for n in names)
    assert deployment_name("my_endpoint", None).startswith("my-endpoint-v0-")


def test_configured_image_wins_over_the_framework_lookup() -> None:
    settings = Settings(
        _env_file=None, sagemaker_inference_image="123.dkr.ecr/mine:1", sagemaker_training_image=""
    )
    assert framework_image("inference", settings) == "123.dkr.ecr/mine:1"
    assert settings.sagemaker_training_image is None  # blank means unset
