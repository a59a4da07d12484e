"""End-to-end throughput and latency of the local real-time path: ingest -> stream -> processor -> portfolio.

A scratch lake and the embedded PostgreSQL (or DATABASE_URL when set; its ``datalake_realtime``
schema is dropped first) are used. ``datalake stream run --follow`` runs as its own process, as
it would beside the API; this process posts simulated transactions (1,000 users, buys and sells,
2% retried idempotency keys) through the same ingest function as ``POST /transactions``, up to
500 per put (Kinesis PutRecords' limit), each put fsync'd.

Two runs:

- **saturation**: posts as fast as ingest goes; throughput = transactions / (time from the first
  post until the processor's checkpoint reaches the last record);
- **paced**: posts at ``--rate`` per second (2,000 by default, the target) for ``--seconds``;
  latency per transaction = ``processed_at`` of its outcome (written after the portfolio update
  committed) minus the event's ``received_at`` (set by ingest), both UTC on this machine.

Each run ends with the replay check (lost and duplicated must be 0).

    .venv/bin/python benchmarks/realtime_throughput.py
    .venv/bin/python benchmarks/realtime_throughput.py --transactions 100000 --rate 3000 --seconds 20
    .venv/bin/python benchmarks/realtime_throughput.py --batch-size 2000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from datalake.realtime.ingest import ingest_transactions  # noqa: E402
from datalake.realtime.local import LocalStream, PgPortfolioStore  # noqa: E402
from datalake.realtime.processor import CONSUMER  # noqa: E402
from datalake.realtime.simulate import MAX_PUT, lake_outcomes, transaction_bodies, verify  # noqa: E402
from datalake.settings import Settings  # noqa: E402
from datalake.storage.local import LocalObjectStore  # noqa: E402
from datalake.warehouse import EmbeddedPostgres, connect  # noqa: E402

USERS = 1_000


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(
    settings: Settings, label: str, transactions: int, rate: float | None, batch_size: int
) -> dict[str, float]:
    """One run on a fresh lake root; returns its figures."""
    lake_root = settings.lake_root / label
    settings = settings.model_copy(update={"lake_root": lake_root})
    with connect(settings.database_url or "", settings=settings, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS datalake_realtime CASCADE")
    stream = LocalStream(settings=settings)
    store = PgPortfolioStore(settings)
    store.portfolios([])  # the schema, before the clock starts
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LAKE_ROOT": str(lake_root),
        "DATABASE_URL": settings.database_url or "",
        "REALTIME_BATCH_SIZE": str(batch_size),
    }
    processor = subprocess.Popen(
        [sys.executable, "-m", "datalake.cli", "stream", "run", "--follow", "--stream", "transactions"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    rng = random.Random(5)
    users = [f"bench-{i:04d}" for i in range(USERS)]
    try:
        # Warm up: the processor has started and done a batch before the clock starts.
        ingest_transactions(transaction_bodies(1, users, rng, run=label, start=-1), stream=stream)
        while not stream.caught_up("transactions", CONSUMER):
            time.sleep(0.05)
        events = []
        started = time.perf_counter()
        posted = 0
        while posted < transactions:
            count = min(MAX_PUT, transactions - posted)
            if rate is not None:
                due = int(rate * (time.perf_counter() - started)) + 1
                if due <= posted:
                    time.sleep(min(0.05, (posted + 1) / rate - (time.perf_counter() - started)))
                    continue
                count = min(count, due - posted)
            bodies = transaction_bodies(count, users, rng, run=label, start=posted)
            events += ingest_transactions(bodies, stream=stream)
            posted += count
        posting_s = time.perf_counter() - started
        while not stream.caught_up("transactions", CONSUMER):
            time.sleep(0.01)
        total_s = time.perf_counter() - started
    finally:
        processor.send_signal(signal.SIGINT)
        processor.wait(60)
    lake = LocalObjectStore(lake_root)
    received = {e.event_id: e.received_at for e in events}
    latencies = []
    for event_id, lines in lake_outcomes(lake, set(received)).items():
        firsts = [key for key, status, _ in lines if status != "duplicate"]
        if firsts:
            processed = _processed_at(lake, firsts[0], event_id)
            latencies.append((processed - received[event_id]).total_seconds())
    report = verify(events, portfolios=store, lake=lake)
    figures = {
        "transactions": float(transactions),
        "posting_s": posting_s,
        "total_s": total_s,
        "throughput_per_s": transactions / total_s,
        "p50_ms": _percentile(latencies, 0.5) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
        "lost": float(report.lost),
        "duplicated": float(report.duplicated),
    }
    print(
        f"{label}: {transactions:,} transactions posted in {posting_s:,.1f} s "
        f"({'as fast as ingest goes' if rate is None else f'at {rate:,.0f}/s'}), all applied after "
        f"{total_s:,.1f} s: {figures['throughput_per_s']:,.0f} transactions/s end to end; "
        f"ingest -> portfolio latency p50 {figures['p50_ms']:,.1f} ms, p99 {figures['p99_ms']:,.1f} ms, "
        f"max {figures['max_ms']:,.1f} ms; {report.line()}",
        flush=True,
    )
    return figures


_PROCESSED: dict[str, dict[str, dt.datetime]] = {}


def _processed_at(lake: LocalObjectStore, key: str, event_id: str) -> dt.datetime:
    """When the outcome file ``key`` says ``event_id`` was processed (files parsed once each)."""
    import json

    if key not in _PROCESSED:
        _PROCESSED[key] = {
            row["event_id"]: dt.datetime.fromisoformat(row["processed_at"])
            for row in map(json.loads, lake.get_bytes(key).splitlines())
        }
    return _PROCESSED[key][event_id]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--transactions", type=int, default=60_000, help="Transactions of the saturation run."
    )
    parser.add_argument(
        "--rate", type=float, default=2_000.0, help="Transactions per second of the paced run."
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="Length of the paced run.")
    parser.add_argument(
        "--batch-size", type=int, default=500, help="Records per processor batch (REALTIME_BATCH_SIZE)."
    )
    args = parser.parse_args(argv)
    print(
        f"{os.cpu_count()} CPU(s); load average {os.getloadavg()[0]:.2f} at the start; "
        f"batches of up to {args.batch_size:,} records",
        flush=True,
    )
    scratch = Path(tempfile.mkdtemp(prefix="datalake-rt-bench-"))
    server = None
    try:
        url = os.environ.get("DATABASE_URL")
        if not url:
            server = EmbeddedPostgres(scratch / "_pg")
            url = server.start()
        settings = Settings(_env_file=None, lake_root=scratch / "lake", database_url=url)
        saturation = run(settings, "saturation", args.transactions, None, args.batch_size)
        paced = run(settings, "paced", int(args.rate * args.seconds), args.rate, args.batch_size)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end", flush=True)
    ok = all(f["lost"] == 0 and f["duplicated"] == 0 for f in (saturation, paced))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
