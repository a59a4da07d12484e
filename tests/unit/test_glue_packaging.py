"""Issue 15, finding 4 (a): what each Glue job imports is what Glue 5.0 provides or what its job
arguments install, and the package reaches Glue's Python workers as a .zip.

Glue 5.0's module list is AWS's (datalake/deploy/glue_5_0_python_modules.json, with its source
and date); the jobs' imports are walked from glue_jobs/*.py through every datalake function they
can reach (datalake.deploy.glue_imports). tests/integration/test_glue_jobs_submit.py runs each job
through spark-submit the way Glue passes the code.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from datalake.deploy.glue_imports import job_imports
from datalake.deploy.glue_rules import GLUE_RUNTIME_DISTRIBUTIONS, template_job_violations
from datalake.deploy.package import (
    GLUE_CODE_KEY,
    GLUE_EXTRA_DISTRIBUTIONS,
    GLUE_MARKER_ENVIRONMENT,
    GLUE_MODULES_FILE,
    GLUE_REQUIREMENTS_KEY,
    build_glue_code,
    canonical_name,
    glue_provided_modules,
    glue_requirements,
)
from datalake.deploy.templates import REPO_ROOT, load_template
from datalake.errors import ConfigurationError

TRANSFORMS = load_template("transforms")
PROVIDED = glue_provided_modules()
SCRIPTS = sorted((REPO_ROOT / "glue_jobs").glob("*.py"))
#: Import name -> the distributions installed here that provide it.
IMPORT_DISTRIBUTIONS = {
    name: {canonical_name(d) for d in distributions}
    for name, distributions in importlib.metadata.packages_distributions().items()
}


def sub_text(value: Any) -> str:
    """The format string of a ``Fn::Sub`` (either form), or a ``Ref`` to a parameter's default."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub[0] if isinstance(sub, list) else sub
    if isinstance(value, dict) and "Ref" in value:
        return str(TRANSFORMS["Parameters"][value["Ref"]]["Default"])
    return str(value)


def jobs_of(script: Path) -> list[dict[str, Any]]:
    """The Glue jobs that run ``script`` (every source's job runs glue_jobs/to_processed.py)."""
    jobs = [
        r["Properties"]
        for r in TRANSFORMS["Resources"].values()
        if r["Type"] == "AWS::Glue::Job"
        and sub_text(r["Properties"]["Command"]["ScriptLocation"]).endswith(f"/glue/{script.name}")
    ]
    assert jobs, f"no Glue job runs {script.name}"
    return jobs


def installed_by(job: dict[str, Any]) -> set[str]:
    """Distributions the job's ``--additional-python-modules`` installs (the packaged requirements
    file, or a comma-separated list)."""
    value = sub_text(job["DefaultArguments"].get("--additional-python-modules", ""))
    if value.endswith(f"/code/${{CodeVersion}}/{GLUE_REQUIREMENTS_KEY}"):
        lines = glue_requirements()
    else:
        lines = [item for item in value.split(",") if item]
    return {canonical_name(re.split(r"[=<>~!\[; ]", line, maxsplit=1)[0]) for line in lines}


def test_finding_4_the_glue_5_0_module_list_names_its_source() -> None:
    document = json.loads(GLUE_MODULES_FILE.read_text(encoding="utf-8"))
    assert document["glue_version"] == "5.0" and document["python_version"] == "3.11"
    assert document["source"].startswith("https://docs.aws.amazon.com/glue/latest/dg/")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", document["retrieved"])
    assert (
        PROVIDED["pandas"] == "2.2.2" and PROVIDED["pyarrow"] == "17.0.0" and PROVIDED["boto3"] == "1.34.131"
    )
    assert PROVIDED["pyspark"] == "3.5.4"
    # What the jobs need and Glue 5.0 does not list.
    assert not {"pydantic", "pydantic-settings", "httpx", "holidays"} & PROVIDED.keys()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_finding_4_every_glue_job_imports_only_what_glue_provides_or_its_arguments_install(
    script: Path,
) -> None:
    uses = job_imports(script)
    assert {"pyspark", "pandas", "pydantic"} <= {u.module for u in uses}  # the walk reached the job's code
    for job in jobs_of(script):
        available = PROVIDED.keys() | installed_by(job)
        missing = [str(u) for u in uses if not IMPORT_DISTRIBUTIONS.get(u.module, {u.module}) & available]
        assert not missing, (
            f"{script.name} imports what Glue 5.0 lacks and --additional-python-modules of "
            f"{job['DefaultArguments']['--source']} does not install:\n  " + "\n  ".join(missing)
        )


def test_finding_4_every_extra_distribution_is_one_a_job_imports() -> None:
    imported = {
        distribution
        for script in SCRIPTS
        for use in job_imports(script)
        for distribution in IMPORT_DISTRIBUTIONS.get(use.module, set())
    }
    assert {canonical_name(d) for d in GLUE_EXTRA_DISTRIBUTIONS} <= imported


def test_finding_4_glue_requirements_are_pinned_complete_and_leave_glue_alone() -> None:
    pins = dict(line.split("==", 1) for line in glue_requirements())
    assert {canonical_name(d) for d in GLUE_EXTRA_DISTRIBUTIONS} <= pins.keys()
    assert all(Version(version) for version in pins.values())
    # Never reinstall Glue's Spark runtime, never re-pin a module Glue ships.
    assert not pins.keys() & (PROVIDED.keys() | GLUE_RUNTIME_DISTRIBUTIONS)
    for name, version in pins.items():
        for line in importlib.metadata.distribution(name).requires or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate(GLUE_MARKER_ENVIRONMENT):
                continue
            dependency = canonical_name(requirement.name)
            available = pins.get(dependency) or PROVIDED.get(dependency)
            assert available is not None, f"{name}=={version} needs {requirement}, which nothing installs"
            if dependency in pins or re.fullmatch(r"[\w.]+", available):
                assert requirement.specifier.contains(Version(available), prereleases=True), (
                    f"{name}=={version} needs {requirement}; Glue 5.0 would give it {dependency} {available}"
                )


def test_finding_4_glue_code_is_a_zip_with_the_package_at_its_root(tmp_path: Path) -> None:
    artifacts = {a.key: a.path for a in build_glue_code(tmp_path, REPO_ROOT)}
    assert set(artifacts) == {GLUE_CODE_KEY, GLUE_REQUIREMENTS_KEY}
    names = zipfile.ZipFile(artifacts[GLUE_CODE_KEY]).namelist()
    assert "datalake/__init__.py" in names and "datalake/jobs.py" in names
    assert any(n.startswith("datalake/query/named/") and n.endswith(".sql") for n in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or not n.startswith("datalake/")]
    assert artifacts[GLUE_REQUIREMENTS_KEY].read_text().split() == glue_requirements()
    # Python imports the package from the zip alone (no site-packages, no repo on the path).
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import datalake.storage.paths as p; print(p.__file__)"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe, str(artifacts[GLUE_CODE_KEY])],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert result.stdout.strip().startswith(str(artifacts[GLUE_CODE_KEY]))
    # Every job's arguments point at exactly these two artifacts.
    for arguments in (job["DefaultArguments"] for script in SCRIPTS for job in jobs_of(script)):
        assert sub_text(arguments["--extra-py-files"]).endswith(f"/code/${{CodeVersion}}/{GLUE_CODE_KEY}")
        assert sub_text(arguments["--additional-python-modules"]).endswith(
            f"/code/${{CodeVersion}}/{GLUE_REQUIREMENTS_KEY}"
        )


def test_finding_4_glue_job_rules_hold_and_name_a_wheel_on_extra_py_files() -> None:
    assert template_job_violations() == []
    template = copy.deepcopy(TRANSFORMS)
    arguments = template["Resources"]["ReeJob"]["Properties"]["DefaultArguments"]
    arguments["--extra-py-files"] = {
        "Fn::Sub": ["s3://${ArtifactsBucket}/code/x/dist/datalake-0.1.0-py3-none-any.whl", {}]
    }
    arguments["--additional-python-modules"] = "pydantic==2.7.0,pyspark==3.5.1"
    violations = template_job_violations({"transforms": template})
    assert {(v.file, v.resource, v.rule) for v in violations} == {
        ("cloudformation/transforms.yaml", "ReeJob", "job-extra-py-files-importable"),
        ("cloudformation/transforms.yaml", "ReeJob", "job-keeps-glue-spark"),
    }
    arguments["--additional-python-modules"] = "s3://b/code/x/glue/requirements.txt"
    del arguments["--python-modules-installer-option"]
    assert "job-requirements-file-needs-r" in {
        v.rule for v in template_job_violations({"transforms": template})
    }


def test_finding_4_a_folder_of_modules_without_init_stops_the_glue_package(tmp_path: Path) -> None:
    (tmp_path / "datalake" / "storage").mkdir(parents=True)
    (tmp_path / "datalake" / "__init__.py").write_text("")
    (tmp_path / "datalake" / "storage" / "paths.py").write_text("")
    with pytest.raises(ConfigurationError, match=r"datalake/storage: no __init__\.py"):
        build_glue_code(tmp_path / "out", tmp_path)
