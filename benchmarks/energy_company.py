"""Time the energy company Glue job on 1 and 10 million SAMPLE transactions, against its DuckDB twin.

For each size: generate one day of drops (streamed), land them through the landing code, run the
Glue job's logic on local Spark, then the same transform in DuckDB
(``benchmarks/duckdb_energy_company.py``; both write the same rows, see its test). Reports
rows/s, the Spark/DuckDB time ratio and the peak resident memory of this process and its
children (the Spark JVM and its Python workers), sampled every 0.2 s. DuckDB runs first, so
its peak does not include the JVM Spark leaves running.

    .venv/bin/python benchmarks/energy_company.py                 # 1 M and 10 M transactions
    .venv/bin/python benchmarks/energy_company.py --rows 1000000  # one size
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil


@contextmanager
def peak_memory() -> Iterator[dict[str, float]]:
    """Peak RSS (MiB) of this process plus its children while the block runs."""
    result = {"peak_mib": 0.0}
    stop = threading.Event()
    me = psutil.Process()

    def sample() -> None:
        while not stop.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    continue
            result["peak_mib"] = max(result["peak_mib"], total / 2**20)
            stop.wait(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()


def timed(name: str, rows: int, action: Callable[[], Any], results: list[dict[str, Any]]) -> Any:
    print(f"[{rows:,}] {name} ...", flush=True)
    with peak_memory() as memory:
        began = time.perf_counter()
        outcome = action()
        seconds = time.perf_counter() - began
    results.append(
        {
            "transactions": rows,
            "stage": name,
            "seconds": round(seconds, 1),
            "rows_per_s": round(rows / seconds),
            "peak_mib": round(memory["peak_mib"]),
        }
    )
    print(
        f"[{rows:,}] {name}: {seconds:.1f} s, {rows / seconds:,.0f} rows/s, "
        f"peak {memory['peak_mib']:,.0f} MiB"
    )
    return outcome


def run_size(rows: int, root: Path, results: list[dict[str, Any]]) -> None:
    import datetime as dt

    from datalake.pipelines.ingest import land_energy_drops
    from datalake.pipelines.lake import transform_energy_company
    from datalake.settings import Settings
    from datalake.sources.energy_company_sample import generate_drops
    from duckdb_energy_company import transform_energy_company_duckdb

    settings = Settings(_env_file=None, lake_runtime="local", lake_root=root)
    day = dt.date(2024, 6, 3)
    timed("generate (streamed)", rows, lambda: generate_drops(root / "landing", rows, day), results)
    landed = timed("land (landing -> raw)", rows, lambda: land_energy_drops(settings=settings), results)
    if landed.rows_quarantined:
        raise SystemExit(f"drops rejected: {landed.details.get('rejections')}")
    # DuckDB first: once Spark has run, its JVM stays alive and would count in DuckDB's peak memory.
    duck = timed(
        "transform (DuckDB)",
        rows,
        lambda: transform_energy_company_duckdb(root / "raw" / "energy_company", root / "_bench_duckdb"),
        results,
    )
    spark = timed("transform (Spark)", rows, lambda: transform_energy_company(settings=settings), results)
    if (duck["rows_in"], duck["rows_out"]) != (spark.rows_in, spark.rows_out):
        raise SystemExit(f"engines disagree: Spark {spark.rows_in}/{spark.rows_out}, DuckDB {duck}")
    duck_s, spark_s = results[-2]["seconds"], results[-1]["seconds"]
    print(
        f"[{rows:,}] {spark.rows_in:,} rows in, {spark.rows_out:,} out, "
        f"{spark.rows_quarantined:,} quarantined; "
        f"Spark/DuckDB time ratio {spark_s / duck_s:.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, action="append", help="transactions (repeatable; default 1M and 10M)"
    )
    parser.add_argument("--workdir", type=Path, help="scratch lake root (default: a new temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch lake")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    sizes = args.rows or [1_000_000, 10_000_000]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="datalake-bench-energy-"))
    results: list[dict[str, Any]] = []
    try:
        for rows in sizes:
            run_size(rows, workdir / f"rows_{rows}", results)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{'transactions':>12} {'stage':<22} {'seconds':>9} {'rows/s':>10} {'peak MiB':>9}")
    for r in results:
        print(
            f"{r['transactions']:>12,} {r['stage']:<22} {r['seconds']:>9} "
            f"{r['rows_per_s']:>10,} {r['peak_mib']:>9,}"
        )
    print(f"\n{len(results)} stage(s) on {os.cpu_count()} core(s), Python {sys.version.split()[0]}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
