"""Call a Lambda function's handler in this process with an event JSON, as Lambda would.

The handlers live in ``lambdas/<name>/handler.py`` of the repository (they are bundled apart from
the package), so this works from a checkout. With ``LAKE_RUNTIME=local`` they read and write the
local lake and PostgreSQL; handlers that call AWS services (Glue for ``start_transform``) reach
whatever ``AWS_ENDPOINT_URL`` or the credentials point at.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from datalake.deploy.package import LAMBDA_BUNDLES
from datalake.deploy.templates import REPO_ROOT
from datalake.errors import ConfigurationError, DataValidationError

#: The functions whose handler is ``lambdas/<name>/handler.py`` (the API is served by ``datalake serve``).
HANDLERS: dict[str, Path] = {
    name: REPO_ROOT / folder / "handler.py"
    for name, (folder, _) in LAMBDA_BUNDLES.items()
    if folder.startswith("lambdas/")
}


def load_handler(name: str) -> ModuleType:
    """The module of ``lambdas/<name>/handler.py``.

    Raises
    ------
    ConfigurationError
        For a name that is not one of :data:`HANDLERS`, or whose file is not in this checkout.
    """
    path = HANDLERS.get(name)
    if path is None:
        raise ConfigurationError(f"no Lambda {name!r}", hint=f"one of: {', '.join(sorted(HANDLERS))}")
    if not path.is_file():
        raise ConfigurationError(f"{path} is missing", hint="run from a checkout of the repository")
    spec = importlib.util.spec_from_file_location(f"lambda_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def invoke(name: str, event_path: Path) -> Any:
    """Call ``lambdas/<name>/handler.py``'s ``lambda_handler`` with the event in ``event_path``.

    Parameters
    ----------
    name
        A function folder of ``lambdas/`` (``sync_warehouse``, ``start_transform``...).
    event_path
        A JSON file holding the event, e.g. one of ``tests/events/``.

    Returns
    -------
    Any
        What the handler returned (for a queue batch, its ``batchItemFailures``).

    Raises
    ------
    DataValidationError
        When the file cannot be read or is not JSON.
    """
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataValidationError("event", f"{event_path}: {error}") from None
    return load_handler(name).lambda_handler(event, None)
