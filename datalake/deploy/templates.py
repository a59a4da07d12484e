"""The layer templates and their parameter files, read without AWS.

CloudFormation YAML uses short-form tags (``!Ref``, ``!Sub``, ``!ImportValue``...), which a plain
YAML loader refuses; :func:`load_template` turns them into their long form (``{"Ref": ...}``,
``{"Fn::Sub": ...}``) so tests and the deploy command can walk a template as data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

import datalake
from datalake.errors import ConfigurationError

#: The repository root (templates, parameter files and the code that gets packaged live there).
REPO_ROOT = Path(datalake.__file__).resolve().parents[1]
CLOUDFORMATION_DIR = REPO_ROOT / "cloudformation"
#: One stack per layer, in deployment order: each imports only exports of the layers before it.
LAYERS: tuple[str, ...] = (
    "storage",
    "network",
    "catalog",
    "warehouse",
    "transforms",
    "ingestion",
    "ml",
    "api",
    # Alarms and the operations dashboard: written from the source registry (datalake.deploy.monitoring).
    "monitoring",
    # Real time (issue 21): streams, portfolios, notifications; imports the HTTP API and the alerts topic.
    "realtime",
    # The store-sales retraining pipeline and MLflow tracking server; imports the alerts topic.
    "mlops",
)


# libyaml's parser when PyYAML was built with it: the pure-Python one took 7 s of each `deploy
# check` (22 template reads); the constructors, and so the result, are the same.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TemplateLoader(_SafeLoader):
    """A safe loader that also reads CloudFormation's short-form intrinsic functions."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        # !GetAtt Resource.Attribute is the long form's two-item list.
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def template_path(layer: str, directory: Path = CLOUDFORMATION_DIR) -> Path:
    """The template file of ``layer`` (``cloudformation/<layer>.yaml``).

    Raises
    ------
    ConfigurationError
        For a layer that is not one of :data:`LAYERS`.
    """
    if layer not in LAYERS:
        raise ConfigurationError(f"unknown layer {layer!r}", hint=f"one of: {', '.join(LAYERS)}")
    return directory / f"{layer}.yaml"


def load_template(layer_or_path: str | Path) -> dict[str, Any]:
    """A template as a dict, short-form tags in their long form.

    Parameters
    ----------
    layer_or_path
        A layer name (see :data:`LAYERS`) or the path of a template file.
    """
    path = Path(layer_or_path) if str(layer_or_path).endswith((".yaml", ".yml")) else None
    path = path or template_path(str(layer_or_path))
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_TemplateLoader)


def sub_text(value: Any) -> str | None:
    """A literal string, or the format string of an ``Fn::Sub`` (either form); None for other intrinsics."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub[0] if isinstance(sub, list) else sub
    return None


def stack_name(project: str, env: str, layer: str) -> str:
    """The stack of one layer: ``<project>-<env>-<layer>`` (its exports use the same prefix)."""
    return f"{project}-{env}-{layer}"


def load_params(env: str, directory: Path = CLOUDFORMATION_DIR / "params") -> dict[str, Any]:
    """``cloudformation/params/<env>.json``: ``project``, ``region`` and per-layer parameters.

    Returns
    -------
    dict
        ``{"project": str, "region": str, "layers": {layer: {Parameter: value}}}``; every value a
        string, as CloudFormation takes them.

    Raises
    ------
    ConfigurationError
        When the file is missing, or names a layer or parameter its template does not declare.
    """
    path = directory / f"{env}.json"
    if not path.is_file():
        raise ConfigurationError(f"no parameter file {path}", hint="add cloudformation/params/<env>.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    layers = document.get("layers", {})
    for layer, values in layers.items():
        declared = load_template(template_path(layer)).get("Parameters", {})
        unknown = sorted(set(values) - set(declared))
        if unknown:
            raise ConfigurationError(f"{path.name}: {layer} has no parameter(s) {', '.join(unknown)}")
    return {
        "project": document.get("project", "datalake"),
        "region": document.get("region"),
        "layers": {layer: {k: str(v) for k, v in values.items()} for layer, values in layers.items()},
    }
