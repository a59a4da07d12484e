"""``datalake deploy check``: every static rule family over what ``deploy stack`` would deploy.

A rule family is a named callable from :class:`CheckInputs` (the layer templates, one environment's
parameters, the last package's manifest, where checkov lives) to :class:`Finding` rows. The command
runs every family in :data:`RULE_FAMILIES`, in order, and reports each finding with its file,
resource and rule, then a summary (findings and seconds per family). Adding a family is one entry
in that list; a family that cannot run here raises :class:`FamilySkipped` with the reason.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datalake.deploy import (
    fanout_rules,
    glue_rules,
    iam_roles,
    input_rules,
    linters,
    monitoring_rules,
    package_rules,
    rules,
    stepfunctions_rules,
    stream_rules,
)
from datalake.deploy.findings import Finding
from datalake.deploy.package import MANIFEST, read_manifest
from datalake.deploy.templates import CLOUDFORMATION_DIR, LAYERS, REPO_ROOT, load_params, load_template
from datalake.errors import ConfigurationError

Progress = Callable[[str], None]


class FamilySkipped(Exception):
    """A family that cannot run with these inputs (no package yet, checkov skipped); says why."""


@dataclass
class CheckInputs:
    """What every rule family reads.

    Attributes
    ----------
    env
        The environment checked (``dev``, ``prod``): its ``cloudformation/params/<env>.json``.
    templates
        ``{layer: template}``, short forms in their long form, read from ``template_dir``.
    params
        ``load_params(env)``.
    manifest
        The last ``datalake deploy package``'s manifest, or None before the first package.
    checkov
        The checkov executable, or None when checkov is skipped.
    notes
        Families add what is worth saying but fails nothing (placeholders, a stale package).
    """

    env: str
    templates: dict[str, dict[str, Any]]
    params: dict[str, Any]
    manifest: dict[str, Any] | None = None
    manifest_path: Path = MANIFEST
    template_dir: Path = CLOUDFORMATION_DIR
    checkov: Path | None = None
    repo: Path = REPO_ROOT
    notes: list[str] = field(default_factory=list)

    @property
    def code_version(self) -> str | None:
        """The packaged ``CodeVersion``, or None before the first package."""
        return self.manifest.get("code_version") if self.manifest else None

    @classmethod
    def load(
        cls,
        env: str,
        manifest_path: Path = MANIFEST,
        checkov: Path | None = None,
        template_dir: Path = CLOUDFORMATION_DIR,
    ) -> CheckInputs:
        """Read the templates, ``env``'s parameters and the manifest (when there is one)."""
        return cls(
            env=env,
            templates={layer: load_template(template_dir / f"{layer}.yaml") for layer in LAYERS},
            params=load_params(env),
            manifest=read_manifest(manifest_path),
            manifest_path=manifest_path,
            template_dir=template_dir,
            checkov=checkov,
        )


@dataclass(frozen=True)
class RuleFamily:
    """A named group of rules: ``run`` turns the inputs into findings (or raises FamilySkipped)."""

    name: str
    description: str
    run: Callable[[CheckInputs], Iterable[Finding]]


def _package(inputs: CheckInputs) -> list[Finding]:
    if inputs.manifest is None:
        raise FamilySkipped(
            f"no package yet ({package_rules.manifest_file(inputs.manifest_path)} is written by "
            "`datalake deploy package`)"
        )
    return package_rules.check_package(
        inputs.templates, inputs.env, inputs.params, inputs.manifest, inputs.manifest_path, inputs.notes
    )


def _checkov(inputs: CheckInputs) -> list[Finding]:
    if inputs.checkov is None:
        raise FamilySkipped("--skip-checkov")
    return linters.run_checkov(inputs.checkov, inputs.template_dir)


#: Every family ``datalake deploy check`` runs, in order: the fast static ones first, the linters last.
RULE_FAMILIES: list[RuleFamily] = [
    RuleFamily(
        "cloudformation",
        "AWS behaviours the linters do not know (datalake.deploy.rules)",
        lambda i: rules.check_templates(i.templates, {i.env: i.params}),
    ),
    RuleFamily(
        "glue",
        "Glue's documented crawler and job rules (datalake.deploy.glue_rules)",
        lambda i: glue_rules.check_glue(i.templates),
    ),
    RuleFamily(
        "fanout",
        "SQS buffering, concurrency and retry windows (datalake.deploy.fanout_rules)",
        lambda i: fanout_rules.fanout_violations(i.templates, i.params["layers"]),
    ),
    RuleFamily(
        "monitoring",
        "CloudWatch's alarm and dashboard rules, and the monitoring layer up to date with the registry "
        "(datalake.deploy.monitoring_rules)",
        lambda i: (
            monitoring_rules.monitoring_violations(i.templates)
            + monitoring_rules.stale_monitoring_template(i.templates)
        ),
    ),
    RuleFamily(
        "streams",
        "Kinesis streams and their Lambda event source mappings: limits, bisecting, capped retries, "
        "on-failure destinations, iterator-age alarms (datalake.deploy.stream_rules)",
        lambda i: stream_rules.stream_violations(i.templates, i.params["layers"]),
    ),
    RuleFamily(
        "stepfunctions",
        "the Amazon States Language's transitions, catch-alls that notify, definition substitutions "
        "(datalake.deploy.stepfunctions_rules)",
        lambda i: stepfunctions_rules.state_machine_violations(i.templates),
    ),
    RuleFamily(
        "iam-service-roles",
        "what Glue, its jobs, the crawlers, SageMaker and Athena do with their roles, both ways "
        "(datalake.deploy.iam_roles)",
        lambda i: iam_roles.service_role_findings(i.env, i.templates),
    ),
    RuleFamily(
        "stack-inputs",
        "parameter values and template sizes as deploy stack sends them (datalake.deploy.input_rules)",
        lambda i: input_rules.check_stack_inputs(
            i.templates, i.env, i.params, i.code_version, i.notes, i.template_dir
        ),
    ),
    RuleFamily("package", "the packaged code the templates use (datalake.deploy.package_rules)", _package),
    RuleFamily(
        "cfn-lint",
        "cfn-lint with the environment's parameter values",
        lambda i: linters.cfn_lint(i.templates, i.template_dir, i.env, i.params, i.code_version),
    ),
    RuleFamily("checkov", "checkov (its own virtual environment)", _checkov),
]

#: Rule id -> (what it requires, where AWS documents it), for the rules this project writes.
RULE_DOCS: dict[str, tuple[str, str]] = {
    **rules.RULES,
    **glue_rules.CRAWLER_RULES,
    **glue_rules.JOB_RULES,
    **fanout_rules.FANOUT_RULES,
    **monitoring_rules.MONITORING_RULES,
    **stepfunctions_rules.STEPFUNCTIONS_RULES,
    **stream_rules.STREAM_RULES,
    **iam_roles.IAM_RULES,
    **input_rules.RULES,
    **package_rules.RULES,
}


@dataclass
class FamilyResult:
    """One family's outcome: its findings, or why it was skipped or could not run, and its time."""

    name: str
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str | None = None
    error: str | None = None

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        if self.skipped:
            return "skipped"
        return "failed" if self.findings else "passed"


@dataclass
class CheckReport:
    """Every family's result for one environment, the notes, and the total time."""

    env: str
    results: list[FamilyResult]
    notes: list[str]
    seconds: float

    @property
    def findings(self) -> list[Finding]:
        return [finding for result in self.results for finding in result.findings]

    @property
    def passed(self) -> bool:
        """No finding and no family that failed to run (skipped ones do not count)."""
        return all(result.status in ("passed", "skipped") for result in self.results)

    def rule_counts(self) -> Counter[str]:
        """Findings per rule id."""
        return Counter(finding.rule for finding in self.findings)


def run_check(
    inputs: CheckInputs,
    families: Sequence[RuleFamily] | None = None,
    skip: Iterable[str] = (),
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> CheckReport:
    """Run each family (all of :data:`RULE_FAMILIES` by default) and collect what they find.

    A family that raises is reported as an error (the check fails) and the others still run.

    Parameters
    ----------
    skip
        Names of families not to run (reported as skipped).
    progress
        Called with one line per family as it finishes.

    Raises
    ------
    ConfigurationError
        When ``skip`` names a family that does not exist.
    """
    families = RULE_FAMILIES if families is None else families
    skip = set(skip)
    unknown = sorted(skip - {family.name for family in families})
    if unknown:
        raise ConfigurationError(
            f"unknown rule family {', '.join(unknown)}",
            hint=f"one of: {', '.join(family.name for family in families)}",
        )
    started = clock()
    results = []
    for family in families:
        result = FamilyResult(family.name)
        begun = clock()
        if family.name in skip:
            result.skipped = "--skip"
        else:
            try:
                result.findings = list(family.run(inputs))
            except FamilySkipped as reason:
                result.skipped = str(reason)
            except Exception as error:  # a family that cannot run fails the check, the rest still run
                result.error = f"{type(error).__name__}: {error}"
        result.seconds = clock() - begun
        results.append(result)
        if progress is not None:
            found = len(result.findings)
            progress(f"{family.name}: {result.status} ({found} finding(s), {result.seconds:.1f} s)")
    return CheckReport(inputs.env, results, list(inputs.notes), clock() - started)
