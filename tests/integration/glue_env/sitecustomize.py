"""A stand-in for AWS Glue 5.0's Python, for the spark-submit runs of test_glue_jobs_submit.py.

Python imports this module at start-up in every process of the run (the driver and each Python
worker) because the run's PYTHONPATH holds only this folder. It makes the process see what a Glue
5.0 job sees: the standard library, Glue's documented modules and what the job's requirements
install (``GLUE_ENV_ALLOWED``, top-level import names) and ``datalake`` only from a zip on the
path; any other import fails with ``ModuleNotFoundError`` as it would on Glue. Each process that
imports ``datalake`` appends where it came from to ``GLUE_ENV_LOG``.
"""

from __future__ import annotations

import json
import os
import sys
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType
from typing import Any

_ALLOWED = frozenset(json.loads(os.environ.get("GLUE_ENV_ALLOWED", "[]")))
_LOG = os.environ.get("GLUE_ENV_LOG")


def _editable(hook: Any) -> bool:
    """Whether a finder or path hook comes from a setuptools editable install (``__editable__...``)."""
    module = getattr(hook, "__module__", "") or type(hook).__module__
    return module.startswith("__editable__")


class GlueModules:
    """A meta path finder that refuses what Glue 5.0 would not have."""

    @classmethod
    def find_spec(cls, name: str, path: Any = None, target: ModuleType | None = None) -> ModuleSpec | None:
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names or top.startswith("_") or top in _ALLOWED:
            if name == "datalake" and _LOG:
                spec = PathFinder.find_spec(name, path)
                with open(_LOG, "a", encoding="utf-8") as log:
                    log.write(json.dumps({"pid": os.getpid(), "origin": spec and spec.origin}) + "\n")
            return None  # the usual finders import it
        raise ModuleNotFoundError(f"No module named {name!r} (not in the AWS Glue 5.0 stand-in)", name=name)


if os.environ.get("GLUE_ENV_ALLOWED") is not None:
    # The local virtual environment installs datalake in editable mode; Glue has no such thing.
    sys.meta_path[:] = [finder for finder in sys.meta_path if not _editable(finder)]
    sys.path_hooks[:] = [hook for hook in sys.path_hooks if not _editable(hook)]
    sys.path_importer_cache.clear()
    sys.meta_path.insert(0, GlueModules())
