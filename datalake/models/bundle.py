"""The code bundle SageMaker runs: the two scripts, a requirements.txt and a copy of ``datalake``.

The same bundle is the training job's ``code`` channel (built by the launcher) and the
``code/`` folder inside ``model.tar.gz`` (built by ``train.py``, so the serving container
needs nothing else). No SDK import here: ``train.py`` calls it inside the training container.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
from pathlib import Path

import datalake
from datalake.errors import ConfigurationError

#: The repo's folder of SageMaker scripts (a checkout; the launcher passes its own folder).
SCRIPTS_DIR = Path(datalake.__file__).resolve().parents[1] / "sagemaker"
TRAIN_SCRIPT, INFERENCE_SCRIPT, REQUIREMENTS = "train.py", "inference.py", "requirements.txt"
#: Entry points of the other model families (the movie success classifier, the store-sales model that
#: the mlops state machine trains, the USD/COP buy/sell signal), bundled when present.
FAMILY_SCRIPTS = (
    "movie_success_train.py",
    "movie_success_inference.py",
    "sales_train.py",
    "sales_inference.py",
    "fx_signal_train.py",
    "fx_signal_inference.py",
)
#: What the models' code imports beyond the PyTorch image's torch and numpy.
CONTAINER_PACKAGES = (
    "pandas",
    "pyarrow",
    "holidays",
    "pydantic",
    "pydantic-settings",
    "psycopg",
    "rich",
    # The movie success classifier (a pickled scikit-learn pipeline), the store-sales regressor.
    "scikit-learn",
    # The store-sales training job logs its run, residual plot and model to MLflow and registers
    # the challenger (sagemaker/sales_train.py; MLFLOW_TRACKING_URI is the tracking server's ARN).
    "mlflow",
    "matplotlib",
)
#: Installed beside MLflow wherever it talks to AWS (these containers, the promote Lambda's layer):
#: the plugin that resolves a SageMaker managed tracking server's ARN (``MLFLOW_TRACKING_URI`` on
#: AWS) and signs its requests. Not a dependency of ``datalake`` itself: locally MLflow uses SQLite.
MLFLOW_AWS_PLUGINS = ("sagemaker-mlflow>=0.1,<1",)
#: Pinned to the version installed here, not to the declared range: the movie model is a pickle,
#: which scikit-learn only supports loading on the version that saved it, so the training and the
#: hosting containers must both get the version this machine trains and tests with.
EXACT_PACKAGES = ("scikit-learn",)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def container_requirements() -> list[str]:
    """``requirements.txt`` lines for the containers, pinned as the installed ``datalake`` declares."""
    declared = importlib.metadata.requires("datalake") or []
    pins: dict[str, str] = {}
    for line in declared:
        if ";" in line:  # extras (aws, dev) are not for the container
            continue
        match = _NAME.match(line)
        if match:
            pins[match.group(0).lower().replace("_", "-")] = line.strip()
    missing = [name for name in CONTAINER_PACKAGES if name not in pins]
    if missing:
        raise ConfigurationError(f"datalake's metadata declares no {', '.join(missing)}")
    for name in EXACT_PACKAGES:
        pins[name] = f"{name}=={importlib.metadata.version(name)}"
    return [pins[name] for name in CONTAINER_PACKAGES] + list(MLFLOW_AWS_PLUGINS)


def build_source_bundle(destination: Path, scripts_dir: Path = SCRIPTS_DIR) -> Path:
    """Write the code SageMaker runs: the two scripts, ``requirements.txt`` and the datalake package.

    Parameters
    ----------
    destination
        Empty or missing folder to fill.
    scripts_dir
        Folder holding ``train.py`` and ``inference.py``.

    Returns
    -------
    pathlib.Path
        ``destination``.
    """
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    for script in (TRAIN_SCRIPT, INFERENCE_SCRIPT):
        source = Path(scripts_dir) / script
        if not source.is_file():
            raise ConfigurationError(f"no {script} in {scripts_dir}: cannot build the source bundle")
        shutil.copy2(source, destination / script)
    for script in FAMILY_SCRIPTS:
        if (Path(scripts_dir) / script).is_file():
            shutil.copy2(Path(scripts_dir) / script, destination / script)
    bundled = Path(scripts_dir) / REQUIREMENTS
    # Inside a training container datalake is a copied folder, not an installed distribution:
    # the bundle's own requirements.txt is the record of the pins.
    lines = bundled.read_text().splitlines() if bundled.is_file() else container_requirements()
    (destination / REQUIREMENTS).write_text("\n".join(lines) + "\n")
    shutil.copytree(
        Path(datalake.__file__).parent,
        destination / "datalake",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )
    return destination
