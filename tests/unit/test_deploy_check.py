"""Issue 15, "a deploy you can rehearse": `datalake deploy check` runs every rule family (the template
rules, Glue's rules, the stack inputs, the packaged code, cfn-lint, checkov) over what `deploy stack`
would send for one environment, and names the file, the resource and the rule of each failure.

Each family is run for real over a broken copy of the templates or of a package built here, so a
passing check means the family looked. checkov runs when DEPLOY_CHECKOV (default
.venv-checkov/bin/checkov, which `make deploy-check` (so `make test`) creates) exists, and is
skipped with the reason when not.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from datalake.cli import app
from datalake.deploy import check, linters
from datalake.deploy import package as pkg
from datalake.deploy.check import CheckInputs, FamilySkipped, RuleFamily, run_check
from datalake.deploy.findings import Finding
from datalake.deploy.templates import CLOUDFORMATION_DIR, LAYERS, REPO_ROOT, load_template
from datalake.settings import Settings


def checkov_path() -> Path | None:
    configured = Settings(_env_file=None).deploy_checkov
    path = configured if configured.is_absolute() else REPO_ROOT / configured
    return path if path.is_file() else None


CHECKOV = checkov_path()
needs_checkov = pytest.mark.skipif(
    CHECKOV is None, reason="no checkov at DEPLOY_CHECKOV (make .venv-checkov/bin/checkov creates it)"
)


#: The families this module ships; others register beside them (one RuleFamily entry each).
BUILT_IN = {"cloudformation", "glue", "stack-inputs", "package", "cfn-lint", "checkov"}


def family_names() -> list[str]:
    return [family.name for family in check.RULE_FAMILIES]


def shown(findings: list[Finding]) -> str:
    return "\n".join(map(str, findings))


def broken_copy(tmp_path: Path, changes: dict[str, Any]) -> Path:
    """cloudformation/ copied to tmp_path, each layer in ``changes`` replaced by its changed template
    (written in its long form, JSON, which YAML readers, cfn-lint and checkov all read)."""
    folder = tmp_path / "cloudformation"
    shutil.copytree(CLOUDFORMATION_DIR, folder)
    for layer, template in changes.items():
        (folder / f"{layer}.yaml").write_text(json.dumps(template, indent=1), encoding="utf-8")
    return folder


def no_manifest(tmp_path: Path) -> Path:
    return tmp_path / "no-package" / "manifest.json"


# -- the shipped templates -----------------------------------------------------------------------------


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_check_passes_over_the_shipped_templates_and_parameters(env: str, tmp_path: Path) -> None:
    inputs = CheckInputs.load(env, no_manifest(tmp_path), CHECKOV)
    report = run_check(inputs, skip=[] if CHECKOV else ["checkov"])
    assert report.passed, shown(report.findings) + "".join(f"\n{r.name}: {r.error}" for r in report.results)
    statuses = {result.name: result.status for result in report.results}
    skipped = {"package"} | (set() if CHECKOV else {"checkov"})  # nothing packaged in tmp_path
    assert statuses == {name: "skipped" if name in skipped else "passed" for name in family_names()}
    assert statuses.keys() >= BUILT_IN
    placeholders = [note for note in report.notes if "placeholder" in note]
    # prod ships placeholders for the certificate and its domain: said, not failed (the deploy stops
    # at CloudFormation's parameter check, before anything is created).
    assert len(placeholders) == (2 if env == "prod" else 0)


# -- each family names the file, the resource and the rule -------------------------------------------


def test_check_names_the_file_resource_and_rule_of_every_familys_failure(tmp_path: Path) -> None:
    storage = load_template("storage")
    storage["Resources"]["LakeBucket"]["DeletionPolicy"] = "Delete"  # rules: data-store-retained
    versioning = storage["Resources"]["LakeBucket"]["Properties"]["VersioningConfiguration"]
    versioning["Status"] = "Sometimes"  # cfn-lint: not an allowed value
    storage["Resources"]["PlainBucket"] = {  # checkov: no encryption, no public access block...
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
    }
    catalog = load_template("catalog")
    crawler = catalog["Resources"]["RawCrawler"]["Properties"]
    crawler["RecrawlPolicy"] = {"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}  # Glue: needs LOG
    folder = broken_copy(tmp_path, {"storage": storage, "catalog": catalog})
    inputs = CheckInputs.load("dev", no_manifest(tmp_path), CHECKOV, template_dir=folder)
    inputs.params["layers"]["network"]["EnableNatGateway"] = "yes"  # stack-inputs: AllowedValues

    report = run_check(inputs, skip=[] if CHECKOV else ["checkov"])

    assert not report.passed
    found = {r.name: {(f.rule, f.file, f.resource) for f in r.findings} for r in report.results}
    assert ("data-store-retained", "cloudformation/storage.yaml", "LakeBucket") in found["cloudformation"]
    assert found["glue"] == {("crawler-incremental-needs-log", "cloudformation/catalog.yaml", "RawCrawler")}
    assert found["stack-inputs"] == {
        ("parameter-value-allowed", "cloudformation/network.yaml", "Parameters.EnableNatGateway")
    }
    results = {r.name: r for r in report.results}
    lint = [f for f in results["cfn-lint"].findings if f.resource == "LakeBucket"]
    assert lint and all(f.rule.startswith("cfn-lint E") for f in lint), shown(results["cfn-lint"].findings)
    assert "Sometimes" in shown(lint)
    [stack_inputs] = results["stack-inputs"].findings
    assert str(stack_inputs) == (
        "cloudformation/network.yaml: Parameters.EnableNatGateway: [parameter-value-allowed] "
        "cloudformation/params/dev.json: 'yes' is not one of ['true', 'false']"
    )
    if CHECKOV:
        plain = {f.rule for f in results["checkov"].findings if f.resource == "PlainBucket"}
        assert plain and all(rule.startswith("checkov CKV_AWS_") for rule in plain)
        assert {f.file for f in results["checkov"].findings} == {"cloudformation/storage.yaml"}


def test_stack_inputs_name_a_missing_parameter_and_a_template_over_the_size_limit(tmp_path: Path) -> None:
    warehouse = load_template("warehouse")
    del warehouse["Parameters"]["InstanceClass"]["Default"]  # dev.json sets it: nothing to report
    api = load_template("api")
    # Over the 1,000,000 bytes CloudFormation reads from S3 (over 51,200, deploy stack uploads it).
    api["Metadata"] = {"Padding": "x" * 1_000_001}
    del api["Parameters"]["InstanceType"]["Default"]
    folder = broken_copy(tmp_path, {"warehouse": warehouse, "api": api})
    inputs = CheckInputs.load("dev", no_manifest(tmp_path), None, template_dir=folder)
    del inputs.params["layers"]["api"]["InstanceType"]
    family = next(f for f in check.RULE_FAMILIES if f.name == "stack-inputs")
    found = {(f.rule, f.file, f.resource) for f in family.run(inputs)}
    assert found == {
        ("template-body-size", "cloudformation/api.yaml", "(template)"),
        ("parameter-required", "cloudformation/api.yaml", "Parameters.InstanceType"),
    }


# -- the registry --------------------------------------------------------------------------------------


def test_a_rule_family_is_one_registration_and_a_failing_family_fails_the_check(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ran: list[str] = []

    def extra(inputs: CheckInputs) -> list[Finding]:
        ran.append("extra")
        return [Finding("extra-rule", "cloudformation/api.yaml", "ApiFunction", f"{inputs.env}: example")]

    def crashes(inputs: CheckInputs) -> list[Finding]:
        raise RuntimeError("the rule hit a bug")

    def skips(inputs: CheckInputs) -> list[Finding]:
        raise FamilySkipped("not on this machine")

    def after(inputs: CheckInputs) -> list[Finding]:
        ran.append("after")
        return []

    families = [
        RuleFamily("extra", "one registration", extra),
        RuleFamily("crashes", "a bug", crashes),
        RuleFamily("skips", "cannot run", skips),
        RuleFamily("after", "still runs", after),
    ]
    monkeypatch.setattr(check, "RULE_FAMILIES", families)
    inputs = CheckInputs.load("dev", no_manifest(tmp_path))
    report = run_check(inputs)
    assert ran == ["extra", "after"]
    assert [(r.name, r.status) for r in report.results] == [
        ("extra", "failed"),
        ("crashes", "error"),
        ("skips", "skipped"),
        ("after", "passed"),
    ]
    assert report.results[1].error == "RuntimeError: the rule hit a bug"
    assert report.results[2].skipped == "not on this machine"
    assert not report.passed
    # A skipped family alone does not fail the check.
    assert run_check(inputs, families=[families[2], families[3]]).passed

    # The command prints each finding with its file, resource and rule, then the summary, and exits 1.
    result = CliRunner().invoke(app, ["deploy", "check", "--env", "dev", "--skip-checkov"])
    assert result.exit_code == 1, result.output
    assert "cloudformation/api.yaml: ApiFunction: [extra-rule] dev: example" in result.output
    assert "crashes could not run: RuntimeError: the rule hit a bug" in result.output
    for row in ("extra", "failed", "crashes", "error", "skips", "skipped", "not on this machine"):
        assert row in result.output
    assert "FAILED: 1 finding(s) from 4 rule families" in result.output


def test_registered_families_run_in_order_fast_ones_first() -> None:
    names = family_names()
    assert len(set(names)) == len(names)
    built_in = [name for name in names if name in BUILT_IN]
    assert built_in == ["cloudformation", "glue", "stack-inputs", "package", "cfn-lint", "checkov"]
    assert names[-1] == "checkov"  # the slowest, a subprocess, last
    assert all(url.startswith("https://") for _, url in check.RULE_DOCS.values())


def test_unknown_family_to_skip_is_refused_by_name(tmp_path: Path) -> None:
    from datalake.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="unknown rule family nope"):
        run_check(CheckInputs.load("dev", no_manifest(tmp_path)), skip=["nope"])


# -- checkov: where it lives ---------------------------------------------------------------------------


def test_missing_checkov_is_one_line_naming_how_to_create_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "checkov"
    command = [sys.executable, "-m", "datalake.cli", "deploy", "check", "--checkov", str(missing)]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO_ROOT, env={**os.environ, "COLUMNS": "400"}
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: checkov not found at {missing}")
    assert "make .venv-checkov/bin/checkov" in line and "--skip-checkov" in line and "--checkov PATH" in line


def test_skip_checkov_runs_the_rest_and_says_checkov_was_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = [f for f in check.RULE_FAMILIES if f.name in ("cloudformation", "glue", "checkov")]
    monkeypatch.setattr(check, "RULE_FAMILIES", fast)
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, ["deploy", "check", "--env", "prod", "--skip-checkov"])
    assert result.exit_code == 0, result.output
    assert "--skip-checkov" in result.output and "skipped" in result.output
    assert "passed: 0 finding(s) from 3 rule families" in result.output


@needs_checkov
def test_checkov_findings_name_the_template_and_resource(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "storage.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Open:\n    Type: AWS::S3::Bucket\n"
    )
    from datalake.deploy.linters import run_checkov

    assert CHECKOV is not None
    findings = run_checkov(CHECKOV, folder)
    assert findings and {(f.file, f.resource) for f in findings} == {("cloudformation/storage.yaml", "Open")}
    assert all(f.rule.startswith("checkov CKV") and f.message for f in findings)


# -- the packaged code ---------------------------------------------------------------------------------


def _stand_in_layer(path: Path, unzipped_mb: int = 1) -> None:
    """A dependency layer stand-in (pip for Linux wheels needs PyPI): ``unzipped_mb`` of zeros."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("python/stand_in.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(unzipped_mb):
            member.write(bytes(2**20))


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A real package of this tree (without the pip-built layers), and its manifest."""
    build = tmp_path_factory.mktemp("package")
    artifacts = pkg.build_artifacts(build / "artifacts", with_dependencies=False)
    manifest = {
        "code_version": pkg.code_version(),
        "bucket": "datalake-dev-artifacts-123456789012",
        "with_dependencies": False,
        "uploaded": [],
        "artifacts": [{**asdict(a), "path": str(a.path)} for a in artifacts],
    }
    return build, manifest


def _package_findings(inputs: CheckInputs) -> list[Finding]:
    family = next(f for f in check.RULE_FAMILIES if f.name == "package")
    return list(family.run(inputs))


def _with_layers(build: Path, manifest: dict[str, Any], unzipped_mb: int = 1) -> dict[str, Any]:
    manifest = copy.deepcopy(manifest)
    manifest["with_dependencies"] = True
    for name in pkg.DEPENDENCY_LAYERS:
        path = build / "layers" / f"{name}-{unzipped_mb}.zip"
        if not path.exists():
            _stand_in_layer(path, unzipped_mb)
        manifest["artifacts"].append({"key": f"lambda/{name}.zip", "path": str(path), "size": 0})
    return manifest


def _inputs(build: Path, manifest: dict[str, Any]) -> CheckInputs:
    path = build / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return CheckInputs.load("dev", path)


def test_package_family_checks_what_the_templates_reference(packaged: tuple[Path, dict[str, Any]]) -> None:
    build, manifest = packaged
    # --no-dependencies: the layers the templates name are not in the package.
    found = {(f.rule, f.file, f.resource): f.message for f in _package_findings(_inputs(build, manifest))}
    assert set(found) == {
        ("package-artifact-referenced", "cloudformation/ingestion.yaml", "DependenciesLayer"),
        ("package-artifact-referenced", "cloudformation/api.yaml", "ApiDependenciesLayer"),
        ("package-artifact-referenced", "cloudformation/mlops.yaml", "PromoteDependenciesLayer"),
        ("package-artifact-referenced", "cloudformation/realtime.yaml", "DependenciesLayer"),
    }
    assert all("built with --no-dependencies" in message for message in found.values())

    complete = _with_layers(build, manifest)
    inputs = _inputs(build, complete)
    assert _package_findings(inputs) == []
    assert not [note for note in inputs.notes if "not checked" in note or "unchecked" in note]

    # The EC2 host downloads dist/<CoreWheelName>: a wheel of another name is not there.
    inputs = _inputs(build, complete)
    inputs.params["layers"]["api"]["CoreWheelName"] = "datalake-9.9.9-py3-none-any.whl"
    [wheel] = _package_findings(inputs)
    assert (wheel.rule, wheel.file, wheel.resource) == (
        "package-artifact-referenced",
        "cloudformation/api.yaml",
        "ApiLaunchTemplate",
    )
    assert "dist/datalake-9.9.9-py3-none-any.whl" in wheel.message


def test_package_family_names_each_function_over_lambdas_250_mb(
    packaged: tuple[Path, dict[str, Any]],
) -> None:
    build, manifest = packaged
    findings = _package_findings(_inputs(build, _with_layers(build, manifest, unzipped_mb=251)))
    functions = {
        name
        for layer in LAYERS
        for name, resource in load_template(layer)["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    assert {(f.rule, f.resource) for f in findings} == {("lambda-unzipped-limit", name) for name in functions}
    assert all("over Lambda's 250 MB" in f.message and "layer " in f.message for f in findings)


def test_package_family_follows_each_glue_jobs_imports_into_the_packaged_zip(
    packaged: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    build, manifest = packaged
    manifest = _with_layers(build, manifest)
    paths = {a["key"]: Path(a["path"]) for a in manifest["artifacts"]}
    # A zip without datalake/jobs.py (every job imports it) and a requirements file without httpx
    # (the REE job's parser needs it).
    broken_zip = tmp_path / "datalake.zip"
    with zipfile.ZipFile(paths[pkg.GLUE_CODE_KEY]) as source, zipfile.ZipFile(broken_zip, "w") as target:
        for item in source.infolist():
            if item.filename != "datalake/jobs.py":
                target.writestr(item, source.read(item))
    requirements = tmp_path / "requirements.txt"
    kept = [line for line in paths[pkg.GLUE_REQUIREMENTS_KEY].read_text().splitlines() if "httpx" not in line]
    requirements.write_text("\n".join(kept) + "\n")
    for artifact in manifest["artifacts"]:
        if artifact["key"] == pkg.GLUE_CODE_KEY:
            artifact["path"] = str(broken_zip)
        if artifact["key"] == pkg.GLUE_REQUIREMENTS_KEY:
            artifact["path"] = str(requirements)

    found = {(f.rule, f.resource) for f in _package_findings(_inputs(build, manifest))}
    jobs = {n for n, r in load_template("transforms")["Resources"].items() if r["Type"] == "AWS::Glue::Job"}
    # Every job runs the one script (--source NAME), whose walk reaches every source's code.
    assert found == {
        (rule, job) for job in jobs for rule in ("glue-zip-import-closure", "glue-imports-provided")
    }


def test_package_family_says_when_the_package_is_older_than_the_sources(
    packaged: tuple[Path, dict[str, Any]],
) -> None:
    build, manifest = packaged
    stale = _with_layers(build, manifest)
    stale["code_version"] = "0123456789ab"
    inputs = _inputs(build, stale)
    assert _package_findings(inputs) == []
    [note] = inputs.notes
    assert "code version 0123456789ab" in note and "datalake deploy package" in note


def test_every_layer_is_checked() -> None:
    assert set(CheckInputs.load("dev").templates) == set(LAYERS)


def test_the_fanout_family_runs_in_the_check(tmp_path: Path) -> None:
    """The fan-out rules are registered: a sync queue that hides a message for less than six function
    timeouts fails `deploy check`, naming the queue."""
    ingestion = load_template("ingestion")
    ingestion["Resources"]["SyncWarehouseQueue"]["Properties"]["VisibilityTimeout"] = 60
    folder = broken_copy(tmp_path, {"ingestion": ingestion})
    inputs = CheckInputs.load("dev", no_manifest(tmp_path), CHECKOV, template_dir=folder)
    report = run_check(inputs, skip=["checkov", "cfn-lint"])
    results = {r.name: r for r in report.results}
    assert not report.passed
    assert ("sqs-visibility-six-times-timeout", "cloudformation/ingestion.yaml", "SyncWarehouseQueue") in {
        (f.rule, f.file, f.resource) for f in results["fanout"].findings
    }


@needs_checkov
def test_checkov_result_does_not_depend_on_where_the_clone_lives(tmp_path: Path) -> None:
    """checkov's CKV_AWS_45 also tests the file path it keeps beside a Lambda's variables, and a run
    of exactly 40 letters, digits and slashes reads as an AWS secret key. CI once cloned into such a
    path (the realtime Lambdas failed there and passed everywhere else); checkov now scans from
    inside the folder."""
    stem = "realtime"
    # After the dash: 31 letters, a slash and "realtime" make the 40-character run.
    folder = tmp_path / ("x-" + "a" * (40 - len(stem) - 1))
    folder.mkdir()
    shutil.copy(CLOUDFORMATION_DIR / f"{stem}.yaml", folder / f"{stem}.yaml")
    assert CHECKOV is not None
    findings = linters.run_checkov(CHECKOV, folder)
    assert [f for f in findings if f.rule == "checkov CKV_AWS_45"] == [], shown(findings)
    assert {f.file for f in findings} <= {f"cloudformation/{stem}.yaml"}
