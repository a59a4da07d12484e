"""The class-data archive (datalake.spark_archive) on a real JVM: a local session maps Spark's classes
from it, and an archive the JVM cannot use changes nothing but the speed (no error, no warning).

The archive is this machine's (``datalake doctor``, which ``make test`` runs first, built it; built
here when missing). Each check starts a fresh JVM in a subprocess that logs where its classes came
from.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from datalake.spark import class_archive_path
from datalake.spark_archive import ensure_archive

pytestmark = pytest.mark.slow

#: A session as job runs get it (class_archive given), one job, and where its classes were loaded from.
SESSION = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pyspark.sql import SparkSession
    from datalake.spark import get_spark
    builder = SparkSession.builder.config("spark.driver.defaultJavaOptions", sys.argv[2])
    spark = get_spark("archive-check", "local[1]", "1g", builder=builder, class_archive=Path(sys.argv[1]))
    print("rows", spark.range(5).selectExpr("id * 2 AS twice").groupBy().sum("twice").first()[0])
    """
)


def run_session(archive: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The session's process, and the Spark classes its JVM loaded (with their source)."""
    log = tmp_path / "classes.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_SUBMIT", "SPARK_"))}
    process = subprocess.run(
        [sys.executable, "-c", SESSION, str(archive), f"-Xlog:class+load=info:file={log}"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    loaded = log.read_text().splitlines() if log.is_file() else []
    return process, [line for line in loaded if " org.apache.spark." in line]


def test_a_local_session_maps_sparks_classes_from_the_archive(tmp_path: Path) -> None:
    wanted = class_archive_path()
    assert wanted is not None
    archive, _built = ensure_archive(wanted)
    process, spark_classes = run_session(archive, tmp_path)
    assert process.returncode == 0 and "rows 20" in process.stdout, process.stderr[-2000:]
    shared = [line for line in spark_classes if "source: shared objects file (top)" in line]
    # Most of the Spark classes a session loads come from the archive, not the jars.
    assert len(shared) > 1_000 and len(shared) > 0.6 * len(spark_classes), (len(shared), len(spark_classes))


def test_an_archive_the_jvm_cannot_use_changes_nothing_but_the_speed(tmp_path: Path) -> None:
    stale = tmp_path / "spark-classes-stale.jsa"
    stale.write_bytes(b"not an archive this JVM wrote" * 100)
    process, spark_classes = run_session(stale, tmp_path)
    assert process.returncode == 0 and "rows 20" in process.stdout, process.stderr[-2000:]
    assert spark_classes and not [line for line in spark_classes if "shared objects file" in line]
    # Quiet: no line about the archive reaches the job's output.
    assert "cds" not in (process.stdout + process.stderr).lower()
    assert "shared archive" not in (process.stdout + process.stderr).lower()


def test_doctor_names_the_archive_on_one_line_in_a_narrow_terminal() -> None:
    """A CI log is 80 columns wide: the archive's path must come out whole, to copy or delete."""
    archive = class_archive_path()
    assert archive is not None
    ensure_archive(archive)
    env = {**os.environ, "COLUMNS": "60", "SPARK_CLASS_ARCHIVE": "true"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "datalake"), "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if "class-data archive" in line]
    assert line.endswith(f"{archive})"), result.stdout
