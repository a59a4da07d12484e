"""Glue job: raw demand CSV -> processed ``demand_hourly`` Parquet (+ quarantine, run report).

On Glue 5.0 the arguments come from ``getResolvedOptions``; locally the same flags work
with argparse (``python glue_jobs/demand_to_processed.py --raw_prefix raw/sample/demand``).
"""

from __future__ import annotations

import json
import sys

from datalake import runtime
from datalake.jobs import resolve_args
from datalake.pipelines.demand import process_raw_demand
from datalake.runs import record_run
from datalake.settings import get_settings
from datalake.spark import get_spark


def main(argv: list[str] | None = None) -> int:
    args = resolve_args(
        ["raw_prefix", "JOB_NAME"],
        {"raw_prefix": "raw/sample/demand", "JOB_NAME": "demand_to_processed"},
        argv,
    )
    settings = get_settings()
    store = runtime.object_store("lake", settings)
    spark = get_spark(args["JOB_NAME"], settings.spark_master)
    with record_run(args["JOB_NAME"], store, raw_prefix=args["raw_prefix"]) as report:
        process_raw_demand(spark, store, args["raw_prefix"], report, progress=print)
    print(json.dumps(report.to_dict(), indent=2))
    return 0 if report.status == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
