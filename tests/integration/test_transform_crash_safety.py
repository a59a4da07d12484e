"""A transform killed (SIGKILL) mid-write leaves the previous processed partitions as they were."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ree_fixtures import backfill_sample_demand

from datalake.storage.local import LocalObjectStore

ROOT = Path(__file__).resolve().parents[2]

# Runs the Glue job's main() with the store patched to kill the process at a chosen moment.
KILLER = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {jobs!r})
    import datalake.storage.local as local
    moment = {moment!r}
    if moment == "before_swap":  # staging complete, the exchange never happens
        def die(a, b):
            os.kill(os.getpid(), signal.SIGKILL)
        local._exchange = die
    else:
        calls = {{"n": 0}}
        real_fsync = os.fsync
        def die_while_writing(fd):
            # The first partition file is written but not yet durable or swapped in.
            calls["n"] += 1
            if calls["n"] == 1:
                os.kill(os.getpid(), signal.SIGKILL)
            real_fsync(fd)
        local.os.fsync = die_while_writing
    import to_processed
    to_processed.main(["job", "--source", "ree", "--raw_prefix", "raw/ree_sample"])
    """
)


def checksums(store: LocalObjectStore) -> dict[str, str]:
    return {k: hashlib.sha256(store.get_bytes(k)).hexdigest() for k in store.list_keys("processed")}


def run_job(lake_root: Path, moment: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAKE_ROOT": str(lake_root), "SPARK_MASTER": "local[1]"}
    if moment is None:
        command = [
            sys.executable,
            str(ROOT / "glue_jobs" / "to_processed.py"),
            "--source",
            "ree",
            "--raw_prefix",
            "raw/ree_sample",
        ]
    else:
        command = [sys.executable, "-c", KILLER.format(jobs=str(ROOT / "glue_jobs"), moment=moment)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("moment", ["before_swap", "mid_file_write"])
def test_killed_transform_leaves_previous_partitions_intact(tmp_path: Path, moment: str) -> None:
    lake = LocalObjectStore(tmp_path / "lake")
    backfill_sample_demand(lake)
    first = run_job(tmp_path / "lake", None)
    assert first.returncode == 0, first.stderr[-2000:]
    before = checksums(lake)
    assert any("month=5" in k for k in before) and any("month=6" in k for k in before)

    # New revisions of every day, so a completed swap would change the files.
    backfill_sample_demand(lake, revised=True)
    killed = run_job(tmp_path / "lake", moment)
    assert killed.returncode == -9, (killed.returncode, killed.stderr[-2000:])

    assert checksums(lake) == before  # every partition still the previous one, byte for byte
    assert lake.read_parquet("processed/demand_hourly")["demand_mw"].notna().all()
    assert not [k for k in lake.list_keys("processed") if "staging" in k]

    recovered = run_job(tmp_path / "lake", None)
    assert recovered.returncode == 0
    assert checksums(lake) != before and set(checksums(lake)) == set(before)
