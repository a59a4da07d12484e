"""What ``datalake deploy stack`` sends CloudFormation, checked before it does: each layer's template
body and its parameter values for one environment.

CloudFormation refuses a change set whose parameters break their declared constraints, that leaves
out a parameter without a Default, or whose template is over 1,000,000 bytes (one over 51,200 is
uploaded and read from S3, :func:`datalake.deploy.stack.template_source`). cfn-lint checks
neither a params file's values against AllowedPattern/AllowedValues nor the body's size, so these
rules do, with the values :func:`datalake.deploy.stack.layer_parameters` would pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from datalake.deploy.findings import Finding, template_file
from datalake.deploy.stack import MAX_TEMPLATE_URL_BYTES
from datalake.deploy.templates import CLOUDFORMATION_DIR

_CFN = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide"
_PARAMETERS_DOC = f"{_CFN}/parameters-section-structure.html"

#: Rule id -> (what CloudFormation requires, where it is documented).
RULES: dict[str, tuple[str, str]] = {
    "parameter-value-allowed": (
        "every parameter value (the params file's, else the Default) meets the parameter's AllowedValues, "
        "AllowedPattern, MinLength/MaxLength and, for a Number, MinValue/MaxValue",
        _PARAMETERS_DOC,
    ),
    "parameter-required": (
        "a parameter without a Default gets a value: from params/<env>.json, or Project/Env/CodeVersion "
        "from the deploy command",
        _PARAMETERS_DOC,
    ),
    "template-body-size": (
        f"a template is at most {MAX_TEMPLATE_URL_BYTES} bytes (read from S3; deploy stack uploads one over "
        "51,200, CloudFormation's TemplateBody limit)",
        f"{_CFN}/cloudformation-limits.html",
    ),
}
#: A params file value that stands for one the user must put in (prod's certificate, its domain).
PLACEHOLDER_PREFIX = "REPLACE"
#: Types whose values CloudFormation resolves or looks up itself (an SSM parameter's name, list items).
_UNCHECKED_TYPE_PREFIXES = ("AWS::SSM::Parameter::Value<", "List<", "CommaDelimitedList")


def deploy_values(
    template: Mapping[str, Any], layer: str, env: str, params: Mapping[str, Any], code_version: str | None
) -> dict[str, str | None]:
    """The value ``deploy stack`` gives each parameter ``layer``'s template declares, in ``env``: the
    params file's, Project, Env and CodeVersion, else the Default; None when there is none."""
    declared = template.get("Parameters", {})
    given: dict[str, str | None] = {
        "Project": params["project"],
        "Env": env,
        "CodeVersion": code_version,
        **params["layers"].get(layer, {}),
    }
    values = {}
    for name, spec in declared.items():
        value = given.get(name)
        if value is None and "Default" in spec:
            value = str(spec["Default"])
        values[name] = value
    return values


def _whence(layer: str, name: str, params: Mapping[str, Any], params_file: str) -> str:
    """Where ``deploy stack`` takes a parameter's value from."""
    if name in params["layers"].get(layer, {}):
        return params_file
    return "the deploy command" if name in ("Project", "Env", "CodeVersion") else "its Default"


def constraint_problems(spec: Mapping[str, Any], value: str) -> Iterator[str]:
    """Why CloudFormation would refuse ``value`` for a parameter declared as ``spec``."""
    kind = str(spec.get("Type", "String"))
    if kind.startswith(_UNCHECKED_TYPE_PREFIXES):
        return
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        yield f"{value!r} is not one of {[str(v) for v in allowed]}"
    pattern = spec.get("AllowedPattern")
    if pattern is not None and re.fullmatch(str(pattern), value) is None:
        yield f"{value!r} does not match AllowedPattern {pattern}"
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        yield f"{value!r} is shorter than MinLength {spec['MinLength']}"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        yield f"{value!r} is longer than MaxLength {spec['MaxLength']}"
    if kind == "Number":
        try:
            number = Decimal(value)
        except InvalidOperation:
            yield f"{value!r} is not a number"
            return
        if "MinValue" in spec and number < Decimal(str(spec["MinValue"])):
            yield f"{value} is below MinValue {spec['MinValue']}"
        if "MaxValue" in spec and number > Decimal(str(spec["MaxValue"])):
            yield f"{value} is above MaxValue {spec['MaxValue']}"


def check_stack_inputs(
    templates: Mapping[str, Mapping[str, Any]],
    env: str,
    params: Mapping[str, Any],
    code_version: str | None,
    notes: list[str] | None = None,
    template_dir: Path = CLOUDFORMATION_DIR,
) -> list[Finding]:
    """Every layer's parameters in ``env`` and every template body, as ``deploy stack`` would send them.

    Parameters
    ----------
    templates
        ``{layer: template}``; each layer's file in ``template_dir`` is what gets sent.
    env, params
        The environment and its ``load_params(env)``.
    code_version
        The packaged ``CodeVersion`` (the manifest's), or None before the first package: then the
        layers that need one are not reported (``deploy stack`` asks for a package first).
    notes
        Collects what is worth saying but fails nothing: placeholders the user must fill in.
    """
    params_file = f"cloudformation/params/{env}.json"
    findings = []
    for layer, template in templates.items():
        size = len((template_dir / f"{layer}.yaml").read_bytes())
        # Over 51,200 bytes, deploy stack uploads the template and passes a TemplateURL.
        if size > MAX_TEMPLATE_URL_BYTES:
            findings.append(
                Finding(
                    "template-body-size",
                    template_file(layer),
                    "(template)",
                    f"{size} bytes, over CloudFormation's {MAX_TEMPLATE_URL_BYTES} for a template read "
                    "from S3: split the layer",
                )
            )
        declared = template.get("Parameters", {})
        for name, value in deploy_values(template, layer, env, params, code_version).items():
            where = f"Parameters.{name}"
            if value is None:
                if name != "CodeVersion":
                    findings.append(
                        Finding(
                            "parameter-required",
                            template_file(layer),
                            where,
                            f"has no Default and {params_file} gives no {layer}.{name}",
                        )
                    )
                continue
            if value.startswith(PLACEHOLDER_PREFIX):
                if notes is not None:
                    notes.append(
                        f"{params_file}: {layer}.{name} is a placeholder ({value}); the deploy stops at "
                        "CloudFormation's parameter check until you set it"
                    )
                continue
            for problem in constraint_problems(declared[name], value):
                findings.append(
                    Finding(
                        "parameter-value-allowed",
                        template_file(layer),
                        where,
                        f"{_whence(layer, name, params, params_file)}: {problem}",
                    )
                )
    return findings
