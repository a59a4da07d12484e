"""Four days of SAMPLE REData demand in a local lake, and new revisions of them, for job-run tests.

Also how the tests run a Glue job in a subprocess (:func:`run_python_job`), and copy a lake one
job already processed (:func:`copy_lake`; tests/integration/conftest.py's ``ree_sample_processed``
is one, built once per session).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

from datalake.sources import ree
from datalake.sources.ree_sample import sample_client
from datalake.storage.local import LocalObjectStore

FIRST_DAY, LAST_DAY = dt.date(2024, 5, 30), dt.date(2024, 6, 2)  # across a month boundary
REVISION_SEED = 99
ROOT = Path(__file__).resolve().parents[1]
#: The REE Glue job over the SAMPLE raw prefix, as the S3 trigger starts it (``python`` arguments).
REE_GLUE_JOB = (
    str(ROOT / "glue_jobs" / "to_processed.py"),
    *("--source", "ree", "--raw_prefix", ree.SAMPLE_RAW_PREFIX),
)
#: How pyspark starts a job run's driver JVM: it lives for one short job, where C1 alone compiles
#: less than it saves (the job's semantics are the same either way).
SHORT_JOB_SUBMIT_ARGS = "--conf spark.driver.defaultJavaOptions=-XX:TieredStopAtLevel=1 pyspark-shell"
#: Environment variables a job run must not inherit from the developer's shell (as in tests/conftest.py).
_PRIVATE_PREFIXES = ("LAKE_", "AWS_", "DATABASE_", "ATHENA_")


def backfill_sample_demand(lake: LocalObjectStore, revised: bool = False) -> None:
    """Write the raw demand days under ``raw/ree_sample``; ``revised`` rewrites them with other values.

    A transform after a revision changes every processed file, so a publish that went through shows.
    """
    options = {"seed": REVISION_SEED} if revised else {}
    with sample_client(**options) as client:
        ree.backfill(
            client, lake, "demand", FIRST_DAY, LAST_DAY, refresh=revised, prefix=ree.SAMPLE_RAW_PREFIX
        )


def run_python_job(
    lake_root: Path, arguments: tuple[str, ...] | list[str] = REE_GLUE_JOB, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``python <arguments>`` on the lake at ``lake_root`` with one Spark core (``env`` added).

    The process starts in the lake's parent folder, with none of the developer's lake or AWS
    settings, so only what the test passes reaches the job.
    """
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE_PREFIXES)}
    environment = {
        **inherited,
        "LAKE_ROOT": str(lake_root),
        "SPARK_MASTER": "local[1]",
        "PYSPARK_SUBMIT_ARGS": SHORT_JOB_SUBMIT_ARGS,
        **env,
    }
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=lake_root.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def copy_lake(source: Path, target: Path) -> LocalObjectStore:
    """A copy of the lake at ``source`` under ``target``; returns its store.

    The copy keeps every file's modification time: it is a raw file's ``extracted_at`` and part of
    the ledger's fingerprints, so the copied lake's next run plans as the original's would.
    The local catalog stores keys, not paths, so the copy's catalog points into the copy.
    """
    shutil.copytree(source, target, copy_function=shutil.copy2)
    return LocalObjectStore(target)
