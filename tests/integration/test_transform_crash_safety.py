"""A transform killed (SIGKILL) mid-write or before its publish leaves the previous data readable."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest
from processed_fixtures import published, published_digests
from ree_fixtures import backfill_sample_demand, copy_lake, run_python_job

from datalake.catalog.local import LocalCatalog
from datalake.catalog.processed import current_partitions, run_id_of
from datalake.datasets import DEMAND_HOURLY
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

ROOT = Path(__file__).resolve().parents[2]

# Runs the Glue job's main() with a kill at a chosen moment of the first processed write.
KILLER = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    sys.path.insert(0, {jobs!r})
    import datalake.catalog.local as local_catalog
    moment = {moment!r}
    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    if moment == "before_switch":  # the executors' files are committed, the catalog never switches
        local_catalog.LocalCatalog.set_partition_locations = die
    else:  # "mid_write": killed while Spark's tasks are writing the run folder
        from pyspark.sql.readwriter import DataFrameWriter
        real_parquet = DataFrameWriter.parquet
        def parquet_then_die(self, path, *args, **kwargs):
            folder = path.removeprefix("file://")
            def watch():
                while True:  # the first file of the run appears: the write has started
                    for _root, _dirs, files in os.walk(folder):
                        if files:
                            die()
                    time.sleep(0.005)
            threading.Thread(target=watch, daemon=True).start()
            real_parquet(self, path, *args, **kwargs)
            die()  # a write faster than the watcher still dies before its publish
        DataFrameWriter.parquet = parquet_then_die
    import to_processed
    to_processed.main(["job", "--source", "ree", "--raw_prefix", "raw/ree_sample"])
    """
)


def current_files(store: LocalObjectStore) -> dict[str, str]:
    """What readers see: the files of every published partition (the catalog's), by digest."""
    return {key: ",".join(digests) for key, digests in published_digests(store).items()}


def published_runs(store: LocalObjectStore) -> set[str | None]:
    catalog, settings = LocalCatalog(store), Settings(_env_file=None)
    return {run_id_of(p.location) for p in current_partitions(catalog, store, DEMAND_HOURLY, settings)}


def run_job(lake_root: Path, moment: str | None) -> subprocess.CompletedProcess[str]:
    """The REE Glue job on the lake; killed at ``moment`` of its first processed write, if given."""
    if moment is None:
        return run_python_job(lake_root)
    return run_python_job(lake_root, ["-c", KILLER.format(jobs=str(ROOT / "glue_jobs"), moment=moment)])


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["before_switch", "mid_write"])
def test_killed_transform_leaves_the_previous_data_readable_and_complete(
    ree_sample_processed: Path, tmp_path: Path, moment: str
) -> None:
    # A first run published the SAMPLE days (once for the session; this test runs on a copy).
    lake = copy_lake(ree_sample_processed, tmp_path / "lake")
    before = current_files(lake)
    rows_before = published(lake, DEMAND_HOURLY)
    runs_before = published_runs(lake)
    assert len(runs_before) == 1
    assert any("month=5" in k for k in before) and any("month=6" in k for k in before)

    # New revisions of every day, so a completed publish would change the files.
    backfill_sample_demand(lake, revised=True)
    killed = run_job(tmp_path / "lake", moment)
    assert killed.returncode == -9, (killed.returncode, killed.stderr[-2000:])

    # Whatever the killed run left in its own folder (Spark's shutdown may clean some of it),
    # the catalog still points at the first run only.
    assert published_runs(lake) == runs_before
    assert current_files(lake) == before  # every partition still the previous one, byte for byte
    after = published(lake, DEMAND_HOURLY)
    assert len(after) == len(rows_before) and after["demand_mw"].notna().all()

    recovered = run_job(tmp_path / "lake", None)
    assert recovered.returncode == 0
    assert current_files(lake) != before and set(current_files(lake)) == set(before)
