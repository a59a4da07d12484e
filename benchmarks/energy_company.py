"""Time the energy company Glue job on 1, 10 and 30 million SAMPLE transactions, against DuckDB.

For each size: generate one day of drops (streamed), land them through the landing code, run the
Glue job's logic on local Spark, then the same result as a DuckDB query
(``benchmarks/duckdb_energy_company.py``; both write the same rows, see its test). Reports
rows/s, the Spark/DuckDB time ratio and the peak resident memory of this process and its
children (the Spark JVM and its Python workers), sampled every 0.2 s. DuckDB runs first, so
its peak does not include the JVM Spark leaves running. Spark runs with a 2 GB driver (the
issue 16 targets: default driver memory, no ``maxResultSize`` override); each size runs in a
fresh process, so one size's JVM does not carry over into the next.

Targets (issue 16, 2 cores): Spark/DuckDB <= 3x at 1 M, <= 2x at 10 M; peak <= 8 GiB; time about
linear in size (rows/s about flat from 1 M to 30 M).

    .venv/bin/python benchmarks/energy_company.py                 # 1 M, 10 M and 30 M transactions
    .venv/bin/python benchmarks/energy_company.py --rows 1000000  # one size
    .venv/bin/python benchmarks/energy_company.py --floor         # and a bare Spark job of the table
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
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


def run_size(
    rows: int, root: Path, results: list[dict[str, Any]], driver_memory: str, floor: bool = False
) -> None:
    import datetime as dt

    from duckdb_energy_company import transform_energy_company_duckdb

    from datalake.pipelines.ingest import land_energy_drops
    from datalake.pipelines.lake import transform
    from datalake.settings import Settings
    from datalake.sources.energy_company_sample import generate_drops

    settings = Settings(
        _env_file=None, lake_runtime="local", lake_root=root, spark_driver_memory=driver_memory
    )
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
    spark = timed("transform (Spark)", rows, lambda: transform("energy_company", settings=settings), results)
    if (duck["rows_in"], duck["rows_out"]) != (spark.rows_in, spark.rows_out):
        raise SystemExit(f"engines disagree: Spark {spark.rows_in}/{spark.rows_out}, DuckDB {duck}")
    duck_s, spark_s = results[-2]["seconds"], results[-1]["seconds"]
    results[-1]["rows_in"], results[-1]["timings_s"] = spark.rows_in, spark.timings_s
    if floor:
        # In a process of its own, JVM start included, as the job's (this process's JVM is warm now).
        command = [
            sys.executable,
            str(Path(__file__).with_name("spark_floor.py")),
            str(root / "raw" / "energy_company" / "transacciones"),
            str(root / "_bench_floor"),
        ]
        timed(FLOOR_STAGE, rows, lambda: subprocess.run(command, check=True, capture_output=True), results)
    print(
        f"[{rows:,}] {spark.rows_in:,} rows in, {spark.rows_out:,} out, "
        f"{spark.rows_quarantined:,} quarantined; "
        f"Spark/DuckDB time ratio {spark_s / duck_s:.1f}; Spark steps (s): {spark.timings_s}"
    )


def run_in_child(rows: int, root: Path, driver_memory: str, floor: bool = False) -> list[dict[str, Any]]:
    """Run one size in a fresh Python process (its own JVM); its figures, as JSON through a file."""
    out = root.parent / f"figures_{rows}.json"
    root.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        __file__,
        "--rows",
        str(rows),
        "--workdir",
        str(root.parent),
        "--keep",
        "--json",
        str(out),
        "--driver-memory",
        driver_memory,
        "--in-process",
        *(["--floor"] if floor else []),
    ]
    subprocess.run(command, check=True)
    return json.loads(out.read_text())


TARGET_RATIO = {1_000_000: 3.0, 10_000_000: 2.0}
#: The stage ``--floor`` adds: benchmarks/spark_floor.py, the least a Spark job of the table does.
FLOOR_STAGE = "Spark floor (bare job)"
TARGET_PEAK_MIB = 8 * 1024


def summary(results: list[dict[str, Any]]) -> list[str]:
    """One line per size: times (s), rows/s, Spark/DuckDB ratio against its target, peaks (MiB)."""
    lines = [
        f"{'transactions':>12} {'DuckDB s':>9} {'Spark s':>8} {'ratio':>6} {'target':>7} "
        f"{'Spark rows/s':>13} {'Spark peak MiB':>15} {'DuckDB peak MiB':>16}"
    ]
    for size in dict.fromkeys(r["transactions"] for r in results):
        stages = {r["stage"]: r for r in results if r["transactions"] == size}
        duck, spark = stages.get("transform (DuckDB)"), stages.get("transform (Spark)")
        if not duck or not spark:
            continue
        ratio = spark["seconds"] / duck["seconds"]
        floor = stages.get(FLOOR_STAGE)
        target = TARGET_RATIO.get(size)
        mark = "-" if target is None else f"<={target:.0f}x " + ("ok" if ratio <= target else "MISS")
        peak = spark["peak_mib"]
        lines.append(
            f"{size:>12,} {duck['seconds']:>9} {spark['seconds']:>8} {ratio:>5.1f}x {mark:>7} "
            f"{spark['rows_per_s']:>13,} {peak:>10,}{' ok ' if peak <= TARGET_PEAK_MIB else ' MISS'} "
            f"{duck['peak_mib']:>16,}"
        )
        if floor:
            lines.append(
                f"{'':>12} floor: a bare Spark job of the table {floor['seconds']} s, "
                f"{floor['seconds'] / duck['seconds']:.1f}x DuckDB (benchmarks/spark_floor.py)"
            )
    lines.append("rows/s = transactions / Spark transform seconds; peak = RSS of this process + children")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, action="append", help="transactions (repeatable; default 1M, 10M and 30M)"
    )
    parser.add_argument("--workdir", type=Path, help="scratch lake root (default: a new temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch lake")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--driver-memory", default="2g", help="Spark driver heap (default 2g)")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time a bare Spark job of the table (benchmarks/spark_floor.py)",
    )
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = args.rows or [1_000_000, 10_000_000, 30_000_000]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="datalake-bench-energy-"))
    results: list[dict[str, Any]] = []
    try:
        for rows in sizes:
            root = workdir / f"rows_{rows}"
            if args.in_process:
                run_size(rows, root, results, args.driver_memory, args.floor)
            else:
                results += run_in_child(rows, root, args.driver_memory, args.floor)
                if not args.keep:
                    shutil.rmtree(root, ignore_errors=True)
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
    if not args.in_process:
        print("\n" + "\n".join(summary(results)))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
