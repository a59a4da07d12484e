"""Time ingest, transform and sync: the shared 2015-2017 ENTSO-E years, and N years of SAMPLE REData.

Reports rows/s per stage and compares the Spark transform with the same result as a DuckDB query
(``benchmarks/duckdb_ree.py``; both write identical rows, see its test). "transform to frames" is
the Spark transform up to the write (read, flatten, build both tables, counted); "transform
(Spark)" is the whole job, write included. Spark runs with a 2 GB driver (issue 16's target:
REData, ten SAMPLE years, Spark transform <= 60 s on 2 cores). Everything runs
in a scratch lake with its own embedded PostgreSQL, removed at the end unless ``--keep``.

    .venv/bin/python benchmarks/pipeline.py                   # shared years + 10 sample years
    .venv/bin/python benchmarks/pipeline.py --sample-years 1 --skip-shared
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "spain_demand"
ENTSOE_FILES = [
    *(SHARED / "entsoe" / f"Total Load - Day Ahead _ Actual_{year}.csv" for year in (2015, 2016, 2017)),
    SHARED / "energy_dataset_2015_2017.csv",
]


def stage(results: list[dict[str, Any]], scenario: str, name: str, rows_of: Callable[[Any], int]):
    """Run a stage, time it, and record rows and rows/s."""

    def run(action: Callable[[], Any]) -> Any:
        print(f"[{scenario}] {name} ...", flush=True)
        began = time.perf_counter()
        outcome = action()
        seconds = time.perf_counter() - began
        rows = rows_of(outcome)
        results.append(
            {
                "scenario": scenario,
                "stage": name,
                "rows": rows,
                "seconds": round(seconds, 1),
                "rows_per_s": round(rows / seconds) if seconds else None,
            }
        )
        print(
            f"[{scenario}] {name}: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)",
            flush=True,
        )
        return outcome

    return run


def synced_rows(reports: list) -> int:
    return sum(r.rows_in for r in reports)


def shared_years(settings, results: list[dict[str, Any]]) -> None:
    from datalake.pipelines.ingest import ingest_entsoe
    from datalake.pipelines.lake import sync_all, transform

    scenario = "entsoe 2015-2017 (shared)"
    stage(results, scenario, "ingest", lambda r: r.rows_out)(
        lambda: ingest_entsoe(ENTSOE_FILES, settings=settings)
    )
    stage(results, scenario, "transform (Spark)", lambda r: r.rows_in)(
        lambda: transform("entsoe", settings=settings)
    )
    stage(results, scenario, "sync (PostgreSQL)", synced_rows)(lambda: sync_all(settings))


def ree_built_rows(settings, raw_prefix: str) -> int:
    """The REData transform up to the write: read, flatten, build both tables; their row counts.

    Times what the transform does apart from the write (``datalake.jobs.write_processed``).
    """
    from datalake.spark import job_session
    from datalake.storage.local import LocalObjectStore
    from datalake.transforms import ree
    from datalake.transforms.documents import read_documents

    spark = job_session("ree_to_processed", settings)
    uri = LocalObjectStore(settings.lake_root).uri(raw_prefix)
    values = ree.documents_to_rows(read_documents(spark, uri)).cache()
    rows = values.count()
    built = sum(build(values).count() for build in (ree.demand_rows, ree.generation_rows))
    stray = ree.unreadable_rows(values).count()
    values.unpersist()
    if built + stray != rows:
        raise SystemExit(f"built {built} + stray {stray} rows from {rows} values")
    return rows


def sample_years(settings, years: int, results: list[dict[str, Any]]) -> None:
    from duckdb_ree import transform_ree_duckdb

    from datalake.pipelines.ingest import ingest_ree
    from datalake.pipelines.lake import sync_all, transform
    from datalake.sources.ree import SAMPLE_RAW_PREFIX
    from datalake.storage.local import LocalObjectStore

    scenario = f"REData SAMPLE, {years} year(s)"
    end = dt.date(2024, 12, 31)
    start = dt.date(end.year - years + 1, 1, 1)
    stage(results, scenario, "ingest (files)", lambda r: r.rows_out)(
        lambda: ingest_ree(start, end, sample=True, settings=settings)
    )
    stage(results, scenario, "transform to frames", lambda rows: rows)(
        lambda: ree_built_rows(settings, SAMPLE_RAW_PREFIX)
    )
    spark = stage(results, scenario, "transform (Spark)", lambda r: r.rows_in)(
        lambda: transform("ree", SAMPLE_RAW_PREFIX, settings)
    )
    raw = LocalObjectStore(settings.lake_root).path(SAMPLE_RAW_PREFIX)
    duck = stage(results, scenario, "transform (DuckDB)", lambda r: r["rows_in"])(
        lambda: transform_ree_duckdb(raw, Path(settings.lake_root) / "_bench_duckdb")
    )
    if (duck["rows_in"], duck["rows_out"]) != (spark.rows_in, spark.rows_out):
        raise SystemExit(f"engines disagree: Spark {spark.rows_in}/{spark.rows_out}, DuckDB {duck}")
    stage(results, scenario, "sync (PostgreSQL)", synced_rows)(lambda: sync_all(settings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample-years", type=int, default=10, help="years of SAMPLE data (default 10)")
    parser.add_argument("--skip-shared", action="store_true", help="skip the shared ENTSO-E years")
    parser.add_argument("--skip-sample", action="store_true", help="skip the SAMPLE years")
    parser.add_argument("--workdir", type=Path, help="scratch lake root (default: a new temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch lake")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--driver-memory", default="2g", help="Spark driver heap (default 2g)")
    args = parser.parse_args(argv)

    from datalake.settings import Settings
    from datalake.warehouse.server import EmbeddedPostgres

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="datalake-bench-"))
    results: list[dict[str, Any]] = []
    scenarios: list[tuple[str, Callable[[Any], None]]] = []
    if not args.skip_shared:
        if all(path.is_file() for path in ENTSOE_FILES):
            scenarios.append(("shared", lambda s: shared_years(s, results)))
        else:
            print(f"skipping the shared years: files not found under {SHARED}")
    if not args.skip_sample:
        scenarios.append(("sample", lambda s: sample_years(s, args.sample_years, results)))
    try:
        for name, run in scenarios:
            root = workdir / name
            settings = Settings(
                _env_file=None, lake_runtime="local", lake_root=root, spark_driver_memory=args.driver_memory
            )
            server = EmbeddedPostgres(settings.pg_data_dir)
            server.start()
            try:
                run(settings.model_copy(update={"database_url": server.url}))
            finally:
                server.stop()
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    print(f"\n{'scenario':<30} {'stage':<20} {'rows':>12} {'seconds':>9} {'rows/s':>10}")
    for r in results:
        rate = r["rows_per_s"] or 0
        print(f"{r['scenario']:<30} {r['stage']:<20} {r['rows']:>12,} {r['seconds']:>9} {rate:>10,}")
    print(f"\n{len(results)} stage(s) on {os.cpu_count()} core(s), Python {sys.version.split()[0]}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
