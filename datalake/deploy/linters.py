"""cfn-lint and checkov over the layer templates, their results as :class:`Finding` rows.

cfn-lint runs in this process (its module API), once per layer with the parameter values ``deploy
stack`` would pass in the chosen environment, so it checks resolved values too. checkov pins an old
boto3, so it lives in its own virtual environment (``make .venv-checkov/bin/checkov``) and runs as a
subprocess with JSON output; skips stay in the templates, each with its reason in a comment.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from datalake.deploy.findings import Finding, template_file
from datalake.deploy.input_rules import deploy_values
from datalake.errors import ConfigurationError

#: cfn-lint needs a value for every parameter without a Default; before the first package there is
#: no CodeVersion yet, so it lints with this one (it matches the parameter's AllowedPattern).
PLACEHOLDER_CODE_VERSION = "000000000000"
_SSM_TYPE = "AWS::SSM::Parameter::Value<"
_LIST_TYPES = ("CommaDelimitedList", "List<")
CHECKOV_TIMEOUT_S = 600


def _resource_of(path: list[Any]) -> str:
    """``Resources/<Name>/...`` -> ``<Name>``; ``Outputs/<Key>`` -> ``Outputs.<Key>``."""
    if len(path) >= 2 and path[0] == "Resources":
        return str(path[1])
    return ".".join(str(p) for p in path[:2]) or "(template)"


def lint_values(
    template: Mapping[str, Any], layer: str, env: str, params: Mapping[str, Any], code_version: str | None
) -> dict[str, Any]:
    """The parameter set cfn-lint resolves the template with: the deployed values, where an SSM-typed
    parameter becomes a dynamic reference (CloudFormation resolves its name to the stored value, which
    cfn-lint cannot know, so it must not check the name as if it were that value), and a list type
    its items."""
    declared = template.get("Parameters", {})
    values = deploy_values(template, layer, env, params, code_version or PLACEHOLDER_CODE_VERSION)
    resolved: dict[str, Any] = {}
    for name, value in values.items():
        kind = str(declared[name].get("Type", ""))
        if value is None:
            continue
        if kind.startswith(_SSM_TYPE):
            resolved[name] = f"{{{{resolve:ssm:{value}}}}}"
        elif kind.startswith(_LIST_TYPES):  # cfn-lint takes a list's items, CloudFormation a CSV
            resolved[name] = [item.strip() for item in value.split(",")] if value else []
        else:
            resolved[name] = value
    return resolved


def cfn_lint(
    templates: Mapping[str, Mapping[str, Any]],
    template_dir: Path,
    env: str,
    params: Mapping[str, Any],
    code_version: str | None,
) -> list[Finding]:
    """cfn-lint over each layer's file in ``template_dir``, with ``env``'s parameter values.

    Every match counts (errors, warnings and informational ones), as the CLI's exit status did.

    Raises
    ------
    ConfigurationError
        When cfn-lint is not installed.
    """
    try:
        from cfnlint.api import ManualArgs, lint_file
        from cfnlint.config import ParameterSet
    except ImportError as error:
        raise ConfigurationError(
            "cfn-lint is not installed: pip install -e '.[dev]' (or pass --skip cfn-lint)"
        ) from error
    findings = []
    for layer, template in templates.items():
        values = lint_values(template, layer, env, params, code_version)
        config = ManualArgs(
            regions=[params["region"]],
            parameters=[ParameterSet(source=f"params/{env}.json", parameters=values)],
        )
        for match in lint_file(template_dir / f"{layer}.yaml", config):
            findings.append(
                Finding(
                    f"cfn-lint {match.rule.id}",
                    template_file(layer),
                    _resource_of(list(match.path or [])),
                    f"{match.message} (line {match.linenumber})",
                )
            )
    return findings


def checkov_command(checkov: Path) -> list[str]:
    """The checkov call, run in the template folder: CloudFormation only, no download of external
    checks, JSON on stdout.

    It scans ``.`` from inside the folder because checkov's CKV_AWS_45 also tests the file path it
    stores beside a Lambda's variables: an absolute path with a run of exactly 40 letters, digits
    and slashes (``/tmp/abcdefghijk/cloudformation/realtime``) reads as an AWS secret key, so the
    result depended on where the clone lives.
    """
    return [
        str(checkov.absolute()), "--directory", ".", "--framework", "cloudformation",
        "--quiet", "--compact", "--skip-download", "--output", "json",
    ]  # fmt: skip


def parse_checkov(output: str, template_dir: Path) -> list[Finding]:
    """Findings from checkov's JSON report (one framework: an object; several: a list of them).

    A file checkov could not parse is a finding too: its checks never ran.
    """
    document = json.loads(output)
    reports = document if isinstance(document, list) else [document]
    findings = []
    for report in reports:
        results = report.get("results", {})
        for check in results.get("failed_checks", []):
            layer = Path(check["file_path"]).stem
            _, _, resource = str(check.get("resource", "")).partition(".")
            guideline = f" ({check['guideline']})" if check.get("guideline") else ""
            findings.append(
                Finding(
                    f"checkov {check['check_id']}",
                    template_file(layer),
                    resource or "(template)",
                    f"{check['check_name']}{guideline}",
                )
            )
        for path in results.get("parsing_errors", []):
            findings.append(
                Finding(
                    "checkov parsing-error",
                    template_file(Path(path).stem),
                    "(template)",
                    f"checkov could not parse {path}, so none of its checks ran",
                )
            )
    return findings


def run_checkov(checkov: Path, template_dir: Path) -> list[Finding]:
    """checkov over ``template_dir``.

    Raises
    ------
    ConfigurationError
        When checkov is missing, or ends other than with 0 (passed) or 1 (checks failed).
    """
    if not checkov.is_file():
        raise ConfigurationError(missing_checkov_message(checkov))
    result = subprocess.run(
        checkov_command(checkov),
        cwd=template_dir,
        capture_output=True,
        text=True,
        check=False,
        timeout=CHECKOV_TIMEOUT_S,
    )
    if result.returncode not in (0, 1):
        raise ConfigurationError(f"checkov exited {result.returncode}: {result.stderr.strip()[-500:]}")
    return parse_checkov(result.stdout, template_dir)


def missing_checkov_message(checkov: Path) -> str:
    """One line: where checkov was looked for, how to create it, and how to go without."""
    return (
        f"checkov not found at {checkov}: create it with `make .venv-checkov/bin/checkov` (its own "
        "virtual environment; it pins an old boto3), or pass --checkov PATH, or --skip-checkov"
    )
