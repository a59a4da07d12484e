"""Benchmark: the driver's live heap, after a full GC, across runs of one job in one Spark session.

A session that runs job after job (the test suite, a notebook, ``make demo``) must not keep
what each run leaves behind. This runs the energy company job ``--runs`` times on a small day of
SAMPLE drops and prints the heap after each run; the figure should level off, not climb. With
Spark's default status retention (``--default-retention``) it climbed about 50 MiB a run.

    python benchmarks/session_heap.py [--runs 8] [--transactions 120] [--default-retention]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from datalake import spark as spark_module
from datalake.pipelines.source_jobs import process_source
from datalake.runs import record_run
from datalake.sources.energy_company_sample import generate_drops
from datalake.sources.energy_landing import land_drops
from datalake.sources.registry import get_source
from datalake.storage.local import LocalObjectStore

LANDED = dt.datetime(2024, 6, 1, 8, tzinfo=dt.UTC)


def live_heap_mib(spark) -> float:
    """The driver JVM's used heap after two full collections, MiB."""
    jvm = spark._jvm
    for _ in range(2):
        jvm.System.gc()
        time.sleep(0.3)
    runtime = jvm.Runtime.getRuntime()
    return (runtime.totalMemory() - runtime.freeMemory()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8, help="job runs in the one session")
    parser.add_argument("--transactions", type=int, default=120, help="SAMPLE transactions in the day")
    parser.add_argument(
        "--default-retention", action="store_true", help="Spark's default status retention (the old leak)"
    )
    args = parser.parse_args()
    if args.default_retention:
        spark_module.LOCAL_STATUS_RETENTION.clear()
    spark = spark_module.get_spark("session-heap", "local[1]")
    root = Path(tempfile.mkdtemp(prefix="session-heap-"))
    store, landing = LocalObjectStore(root / "lake"), LocalObjectStore(root / "landing")
    generate_drops(landing.root, args.transactions, LANDED.date(), seed=1)
    with record_run("ingest_energy_company", store) as report:
        drops = [(key, LANDED) for key in landing.list_keys()]
        land_drops(landing, store, drops, report, max_line_bytes=1 << 20, max_bytes=1 << 30)
    heaps = [live_heap_mib(spark)]
    print(f"before the first run: {heaps[0]:,.0f} MiB live heap")
    source = get_source("energy_company")
    for run in range(1, args.runs + 1):
        started = time.perf_counter()
        with record_run(source.run_name, store) as report:
            process_source(source, spark, store, "raw/energy_company", report, full=True)
        heaps.append(live_heap_mib(spark))
        print(f"run {run}: {time.perf_counter() - started:,.1f} s, {heaps[-1]:,.0f} MiB live heap")
    # The first run loads classes and code caches; the growth that matters is after it.
    growth = (heaps[-1] - heaps[1]) / max(1, args.runs - 1)
    print(f"summary: {args.runs} runs, {growth:+,.1f} MiB live heap per run after the first")
    spark.stop()


if __name__ == "__main__":
    main()
