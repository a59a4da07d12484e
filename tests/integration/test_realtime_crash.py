"""The crash test: 100,000 transactions, the stream processor killed (SIGKILL) mid-batch and restarted.

A producer process posts 100,000 transactions (2% of them retries of an earlier idempotency
key) through the ingest function onto the local log, while ``datalake stream run --follow``
consumes it in another process. That processor is killed with SIGKILL at random moments while it
has work in hand (after its checkpoint has moved at least once since its start, so it is between
reading a batch and checkpointing it most of the time) and started again, several times; a last
run without ``--follow`` catches up. The final portfolios must equal a replay of every accepted
transaction in stream order: nothing lost, nothing applied twice, every status as replayed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from datalake.realtime.local import LocalStream, PgPortfolioStore
from datalake.realtime.processor import CONSUMER
from datalake.realtime.simulate import lake_outcomes, stream_events, verify
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore
from datalake.warehouse import connect

pytest_plugins = ["warehouse_fixtures"]
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TRANSACTIONS = 100_000
USERS = 1_000
KILLS = 6

PRODUCER = """
import random, sys
from datalake.realtime.ingest import ingest_transactions
from datalake.realtime.local import LocalStream
from datalake.realtime.simulate import transaction_bodies
from datalake.settings import Settings

stream = LocalStream(settings=Settings(_env_file=None, lake_root=sys.argv[1]))
total, users = int(sys.argv[2]), [f"crash-{i:04d}" for i in range(int(sys.argv[3]))]
rng = random.Random(21)
sent = 0
while sent < total:
    count = min(500, total - sent)
    ingest_transactions(transaction_bodies(count, users, rng, run="crash", start=sent), stream=stream)
    sent += count
"""


def checkpoint(stream: LocalStream) -> str | None:
    return stream.checkpointed("transactions", "shard-000", CONSUMER)


def test_killed_and_restarted_processor_loses_nothing_and_applies_nothing_twice(
    pg_settings: Settings, tmp_path: Path
) -> None:
    with connect(pg_settings.database_url or "", settings=pg_settings, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS datalake_realtime CASCADE")
    lake_root = tmp_path / "lake"
    settings = pg_settings.model_copy(update={"lake_root": lake_root})
    stream = LocalStream(settings=settings)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LAKE_ROOT": str(lake_root),
        "DATABASE_URL": pg_settings.database_url or "",
        "REALTIME_BATCH_SIZE": "500",
    }
    processor_command = [sys.executable, "-m", "datalake.cli", "stream", "run", "--stream", "transactions"]
    rng = random.Random(7)
    started = time.monotonic()
    producer = subprocess.Popen(
        [sys.executable, "-c", PRODUCER, str(lake_root), str(TRANSACTIONS), str(USERS)], env=env
    )
    kills_with_work_pending = 0
    try:
        for _ in range(KILLS):
            before = checkpoint(stream)
            processor = subprocess.Popen(
                [*processor_command, "--follow"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            # Wait until it has done a batch in this life, then kill it at a random moment after.
            deadline = time.monotonic() + 60
            while checkpoint(stream) == before and processor.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            assert processor.poll() is None, processor.stderr.read() if processor.stderr else ""
            time.sleep(rng.uniform(0.05, 1.2))
            pending = not stream.caught_up("transactions", CONSUMER)
            processor.send_signal(signal.SIGKILL)
            processor.wait(30)
            assert processor.returncode == -signal.SIGKILL
            kills_with_work_pending += pending
        assert producer.wait(120) == 0
    finally:
        if producer.poll() is None:
            producer.kill()
    # The last run catches up and ends by itself.
    last = subprocess.run(processor_command, env=env, capture_output=True, text=True, timeout=300)
    assert last.returncode == 0, last.stdout + last.stderr
    seconds = time.monotonic() - started
    assert stream.pending("transactions", CONSUMER) == 0
    assert kills_with_work_pending >= KILLS - 1  # the kills landed while there was work in hand

    events = stream_events(stream)  # every accepted post, in stream order
    assert len(events) == TRANSACTIONS
    store = PgPortfolioStore(settings)
    lake = LocalObjectStore(lake_root)
    report = verify(events, portfolios=store, lake=lake)
    print(f"crash test: {report.line()}, mismatched {report.mismatched}; {KILLS} kills, {seconds:.1f} s")
    assert report.examples == []
    assert (report.lost, report.duplicated, report.mismatched) == (0, 0, 0)
    assert report.accepted == len({e.event_id for e in events}) == report.applied + report.rejected
    assert report.rejected > 0 and report.applied > 0
    # For the record: retried keys and batches re-processed after a kill, recognised by the store.
    outcomes = lake_outcomes(lake)
    redelivered = sum(
        1 for lines in outcomes.values() for _, status, reason in lines if status == "duplicate"
    )
    print(f"crash test: {redelivered:,} outcome line(s) of redelivered or retried transactions")
