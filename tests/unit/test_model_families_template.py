"""Every model family the launcher trains has its registry group and archive grant in ml.yaml."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from datalake.deploy import rules
from datalake.deploy.rules import load_layers
from datalake.models import FORECASTER
from datalake.models.sagemaker_registry import family_group

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES, PARAMS = load_layers()
ML = TEMPLATES["ml"]


def _launch() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "sagemaker_launch_families", REPO_ROOT / "sagemaker" / "launch.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FAMILIES = sorted(registry_name for registry_name, _script, _job in _launch().FAMILIES.values())


def _groups(env: str) -> set[str]:
    return {
        rules._render(resource["Properties"]["ModelPackageGroupName"], ML, "ml", PARAMS, env)
        for resource in ML["Resources"].values()
        if resource["Type"] == "AWS::SageMaker::ModelPackageGroup"
    }


def _statement(sid: str) -> dict:
    policy = ML["Resources"]["SageMakerExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    [statement] = [s for s in policy["Statement"] if s["Sid"] == sid]
    return statement


def test_the_launcher_trains_more_than_one_family() -> None:
    assert FORECASTER in FAMILIES and len(FAMILIES) >= 2


@pytest.mark.parametrize("env", sorted(PARAMS))
@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_has_its_own_model_package_group_per_environment(family: str, env: str) -> None:
    """The registry names a family's group after the forecaster's (MODEL_PACKAGE_GROUP); the stack
    must declare that group, or the first registration creates an undeclared one."""
    [forecaster] = [g for g in _groups(env) if g.endswith("-demand-forecaster")]
    assert family_group(forecaster, family) in _groups(env)
    assert env in family_group(forecaster, family)


@pytest.mark.parametrize("family", FAMILIES)
def test_the_role_may_read_each_familys_registered_archives(family: str) -> None:
    resources = json.dumps(_statement("ServeRegisteredModels")["Resource"])
    assert f"/models/{family}/versions/*" in resources
