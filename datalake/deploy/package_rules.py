"""The packaged code (``datalake deploy package``'s manifest and files) against what the templates use.

A template names its code as ``code/${CodeVersion}/<key>`` in the artifacts bucket; the manifest
(``build/deploy/manifest.json``) lists what the last package built and uploaded under that version.
These rules catch what would otherwise fail only on AWS, after the stacks were created:

- a key a template references that the package did not build (a LayerVersion or a Glue job whose
  code is not there, a wheel whose name the EC2 host does not expect);
- a function whose code and layers, unzipped, are over Lambda's 250 MB;
- a Glue job whose packaged ``datalake.zip`` lacks a module the job imports, or that imports a
  third-party module neither Glue 5.0 nor the packaged ``requirements.txt`` provides.
"""

from __future__ import annotations

import importlib.metadata
import re
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from datalake.deploy.findings import Finding, template_file
from datalake.deploy.glue_imports import job_imports, missing_package_modules
from datalake.deploy.input_rules import deploy_values
from datalake.deploy.package import (
    DEPENDENCY_LAYERS,
    LAMBDA_UNZIPPED_LIMIT_BYTES,
    MANIFEST,
    canonical_name,
    code_version,
    glue_provided_modules,
    unzipped_size,
)
from datalake.deploy.templates import REPO_ROOT

_LAMBDA = "https://docs.aws.amazon.com/lambda/latest/dg"
_GLUE_LIBRARIES = "https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-python-libraries.html"

#: Rule id -> (what must hold, where it is documented).
RULES: dict[str, tuple[str, str]] = {
    "package-artifact-referenced": (
        "every code/${CodeVersion}/<key> a template references was built and uploaded by the package "
        "the deploy uses",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-code.html",
    ),
    "lambda-unzipped-limit": (
        "a function's code and all its layers take at most 250 MB unzipped",
        f"{_LAMBDA}/gettingstarted-limits.html",
    ),
    "glue-zip-import-closure": (
        "the packaged glue/datalake.zip holds every datalake module a Glue job imports, each folder with "
        "an __init__.py (Python's zip importer has no namespace packages)",
        f"{_GLUE_LIBRARIES}#aws-glue-programming-python-libraries-zipping",
    ),
    "glue-imports-provided": (
        "every third-party module a Glue job imports is one Glue 5.0 provides or one the packaged "
        "requirements file installs",
        f"{_GLUE_LIBRARIES}#glue-modules-provided",
    ),
}
_CODE_KEY = re.compile(r"code/\$\{CodeVersion\}/([A-Za-z0-9_.${}/*-]+)")
_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)\}")
#: The third-party layers, which ``datalake deploy package --no-dependencies`` does not build.
DEPENDENCY_LAYER_KEYS = frozenset(f"lambda/{name}.zip" for name in DEPENDENCY_LAYERS)
#: The Glue job argument that names the packaged requirements file.
_REQUIREMENTS_ARGUMENT = "--additional-python-modules"


def manifest_file(path: Path) -> str:
    """How findings name the manifest: relative to the repository when it is inside it."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def referenced_keys(value: Any, parameters: Mapping[str, str | None]) -> set[str]:
    """The artifact keys (below ``code/<version>/``) that ``value`` references, with other parameters
    (``${CoreWheelName}``) given their deployed values; wildcards (IAM resources) are left out."""
    keys = set()
    for text in _strings(value):
        for match in _CODE_KEY.finditer(text):
            key = _VARIABLE.sub(lambda m: parameters.get(m.group(1)) or m.group(0), match.group(1))
            if "*" not in key and "${" not in key:
                keys.add(key)
    return keys


class PackagedCode:
    """The manifest's artifacts: which keys were built, and their files on this machine."""

    def __init__(self, manifest: Mapping[str, Any], path: Path = MANIFEST) -> None:
        self.manifest = manifest
        self.file = manifest_file(path)
        self.version: str = manifest["code_version"]
        self.paths = {a["key"]: Path(a["path"]) for a in manifest.get("artifacts", [])}
        self.with_dependencies = manifest.get("with_dependencies", True)

    def local(self, key: str) -> Path | None:
        """The built file of ``key``, when this machine still has it."""
        path = self.paths.get(key)
        return path if path is not None and path.is_file() else None


def _deployed_resources(
    templates: Mapping[str, Mapping[str, Any]],
    env: str,
    params: Mapping[str, Any],
    version: str,
    kind: str = "",
) -> Iterator[tuple[str, Mapping[str, Any], str, Mapping[str, Any], dict[str, str | None]]]:
    """``(layer, template, logical id, resource, parameter values)`` of each resource (of ``kind``)."""
    for layer, template in templates.items():
        values = deploy_values(template, layer, env, params, version)
        for name, resource in template.get("Resources", {}).items():
            if not kind or resource.get("Type") == kind:
                yield layer, template, name, resource, values


def missing_artifacts(
    templates: Mapping[str, Mapping[str, Any]], env: str, params: Mapping[str, Any], code: PackagedCode
) -> list[Finding]:
    """Keys a template references that the package did not build."""
    findings = []
    for layer, _, name, resource, values in _deployed_resources(templates, env, params, code.version):
        for key in sorted(referenced_keys(resource, values) - code.paths.keys()):
            why = (
                " (the package was built with --no-dependencies)"
                if not code.with_dependencies and key in DEPENDENCY_LAYER_KEYS
                else ""
            )
            findings.append(
                Finding(
                    "package-artifact-referenced",
                    template_file(layer),
                    name,
                    f"references code/{code.version}/{key}, which {code.file} does not list{why}",
                )
            )
    return findings


def _function_parts(template: Mapping[str, Any], function: Mapping[str, Any], values: Mapping[str, Any]):
    """``(what, key)`` of a function's code and each layer defined in the same template."""
    props = function.get("Properties", {})
    for key in referenced_keys(props.get("Code", {}), values):
        yield "code", key
    for layer in props.get("Layers", []):
        target = template.get("Resources", {}).get(layer.get("Ref")) if isinstance(layer, dict) else None
        if target is None or target.get("Type") != "AWS::Lambda::LayerVersion":
            yield "layer", None  # a layer from elsewhere: its size is not known here
            continue
        for key in referenced_keys(target.get("Properties", {}).get("Content", {}), values):
            yield f"layer {layer['Ref']}", key


def lambda_sizes(
    templates: Mapping[str, Mapping[str, Any]],
    env: str,
    params: Mapping[str, Any],
    code: PackagedCode,
    notes: list[str],
) -> list[Finding]:
    """Each function's code plus its layers, unzipped, against Lambda's 250 MB."""
    findings = []
    unknown: set[str] = set()
    functions = _deployed_resources(templates, env, params, code.version, "AWS::Lambda::Function")
    for layer, template, name, resource, values in functions:
        sizes = {}
        for what, key in _function_parts(template, resource, values):
            path = code.local(key) if key else None
            if path is None:
                unknown.add(f"{layer}.{name}")
                break
            sizes[f"{what} {key}"] = unzipped_size(path)
        else:
            total = sum(sizes.values())
            if total > LAMBDA_UNZIPPED_LIMIT_BYTES:
                parts = ", ".join(f"{part} {size / 2**20:.0f} MB" for part, size in sizes.items())
                findings.append(
                    Finding(
                        "lambda-unzipped-limit",
                        template_file(layer),
                        name,
                        f"{total / 2**20:.0f} MB unzipped ({parts}), over Lambda's 250 MB",
                    )
                )
    if unknown:
        notes.append(
            f"unzipped sizes not checked for {', '.join(sorted(unknown))}: a file of theirs is not "
            f"built on this machine (run `datalake deploy package` here)"
        )
    return findings


def _import_distributions() -> dict[str, set[str]]:
    return {
        name: {canonical_name(d) for d in distributions}
        for name, distributions in importlib.metadata.packages_distributions().items()
    }


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(canonical_name(re.split(r"[=<>~!\[; ]", line, maxsplit=1)[0]))
    return names


def glue_jobs(
    templates: Mapping[str, Mapping[str, Any]],
    env: str,
    params: Mapping[str, Any],
    code: PackagedCode,
    notes: list[str],
) -> list[Finding]:
    """Each Glue job's packaged script against its packaged zip and requirements file."""
    findings = []
    provided = glue_provided_modules()
    distributions = _import_distributions()
    jobs = _deployed_resources(templates, env, params, code.version, "AWS::Glue::Job")
    for layer, _, name, resource, values in jobs:
        props = resource.get("Properties", {})
        scripts = referenced_keys(props.get("Command", {}).get("ScriptLocation"), values)
        arguments = props.get("DefaultArguments", {})
        archives = referenced_keys(arguments.get("--extra-py-files"), values)
        requirements = referenced_keys(arguments.get(_REQUIREMENTS_ARGUMENT), values)
        files = [code.local(key) for key in (*scripts, *archives, *requirements)]
        if not scripts or any(f is None for f in files):
            notes.append(f"{layer}.{name}: its packaged files are not on this machine; imports unchecked")
            continue
        script = code.local(next(iter(scripts)))
        with tempfile.TemporaryDirectory() as tmp:
            for key in archives:
                if key.endswith(".zip"):
                    with zipfile.ZipFile(code.paths[key]) as archive:
                        archive.extractall(tmp)
            for use in missing_package_modules(script, Path(tmp)):
                findings.append(
                    Finding(
                        "glue-zip-import-closure",
                        template_file(layer),
                        name,
                        f"imports {use}, which {', '.join(sorted(archives))} does not hold",
                    )
                )
            installed = set().union(*(_requirement_names(code.paths[key]) for key in requirements))
            available = provided.keys() | installed
            for use in job_imports(script, Path(tmp)):
                if not distributions.get(use.module, {canonical_name(use.module)}) & available:
                    findings.append(
                        Finding(
                            "glue-imports-provided",
                            template_file(layer),
                            name,
                            f"imports {use}: not in Glue 5.0 nor in {', '.join(sorted(requirements))}",
                        )
                    )
    return findings


def check_package(
    templates: Mapping[str, Mapping[str, Any]],
    env: str,
    params: Mapping[str, Any],
    manifest: Mapping[str, Any],
    manifest_path: Path = MANIFEST,
    notes: list[str] | None = None,
    repo: Path = REPO_ROOT,
) -> list[Finding]:
    """Every package rule over the templates, as deployed in ``env`` with the manifest's code version.

    Parameters
    ----------
    manifest, manifest_path
        What ``datalake deploy package`` recorded (:func:`~datalake.deploy.package.read_manifest`).
    notes
        Collects what fails nothing but is worth saying: a package older than the sources, files no
        longer on this machine.
    """
    notes = notes if notes is not None else []
    code = PackagedCode(manifest, manifest_path)
    current = code_version(repo)
    if current != code.version:
        notes.append(
            f"{code.file} is code version {code.version}, the sources are now {current}: run "
            "`datalake deploy package` before `deploy stack`, or the stacks get the older code"
        )
    return [
        *missing_artifacts(templates, env, params, code),
        *lambda_sizes(templates, env, params, code, notes),
        *glue_jobs(templates, env, params, code, notes),
    ]
