"""Issue 16, failing fast: a job that runs out of memory exits promptly with a non-zero status, says
why in one line of its run report, and leaves the published data (processed files, catalog) as it was.

The out-of-memory error is real: the Glue job runs in a subprocess with a 512 MB driver, and its first
write first collects a generated table far bigger than that heap through the same Arrow path that
took a 5 M-row energy company run down (``toPandas``).
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import pytest
from ree_fixtures import backfill_sample_demand, copy_lake, run_python_job

from datalake.catalog.local import CATALOG_PREFIX
from datalake.pipelines.lake import crawl_zones
from datalake.runs import RUNS_PREFIX
from datalake.settings import Settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
#: A job that hangs fails the test here; a prompt exit takes well under a minute.
HANG_TIMEOUT_S = 180
#: Rows of the generated table: ~30 M short strings and ids, several times a 512 MB heap as Arrow.
TOO_MANY_ROWS = 30_000_000

# The REE Glue job's main(), whose first processed write first collects TOO_MANY_ROWS to the driver.
RUN_OUT_OF_MEMORY = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {jobs!r})
    import datalake.pipelines.processing as processing
    write_processed = processing.write_processed

    def write_after_collecting_too_much(df, *args, **kwargs):
        df.sparkSession.range(0, {rows}, 1, 4).selectExpr("id", "concat('row-', id) AS s").toPandas()
        return write_processed(df, *args, **kwargs)

    processing.write_processed = write_after_collecting_too_much
    import to_processed
    sys.exit(to_processed.main(["job", "--source", "ree", "--raw_prefix", "raw/ree_sample"]))
    """
)


def lake_checksums(lake_root: Path) -> dict[str, str]:
    """Every file of the lake (processed data, local catalog, raw) but the run reports, by checksum."""
    return {
        str(path.relative_to(lake_root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(lake_root.rglob("*"))
        if path.is_file() and path.relative_to(lake_root).parts[0] != RUNS_PREFIX
    }


def test_out_of_memory_job_exits_non_zero_with_one_line_reason_and_keeps_published_data(
    ree_sample_processed: Path, tmp_path: Path
) -> None:
    # A first run published the SAMPLE days (once for the session; this test runs on a copy).
    lake_root = tmp_path / "lake"
    lake = copy_lake(ree_sample_processed, lake_root)
    for report in crawl_zones(["processed"], Settings(_env_file=None, lake_root=lake_root)):
        report.raise_for_conflicts()
    # New revisions of every day, so a publish that went through would change the files.
    backfill_sample_demand(lake, revised=True)
    before = lake_checksums(lake_root)
    assert any(key.startswith("processed/demand_hourly/") for key in before)
    assert any(key.startswith(f"{CATALOG_PREFIX}/") for key in before), sorted(before)

    # A hang raises subprocess.TimeoutExpired here, and fails the test.
    failed = run_python_job(
        lake_root,
        ["-c", RUN_OUT_OF_MEMORY.format(jobs=str(ROOT / "glue_jobs"), rows=TOO_MANY_ROWS)],
        timeout=HANG_TIMEOUT_S,
        SPARK_DRIVER_MEMORY="512m",
        SPARK_RUNTIME="local",
    )

    assert failed.returncode != 0, failed.stdout[-2000:]
    reports = sorted((lake_root / RUNS_PREFIX / "ree_to_processed").glob("*.json"))
    assert len(reports) == 2, reports
    last = json.loads(reports[-1].read_text())
    assert last["status"] == "failed", last
    reason = last["error"]
    assert "OutOfMemoryError" in reason and "\n" not in reason, reason
    # The driver JVM itself exited on the error (-XX:+ExitOnOutOfMemoryError), rather than one thread.
    assert "exited with status 3 " in reason, reason
    assert lake_checksums(lake_root) == before
