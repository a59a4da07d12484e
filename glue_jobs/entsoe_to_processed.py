"""Glue job: raw ENTSO-E day files -> processed ``demand_hourly`` and ``generation`` Parquet.

On Glue 5.0 the arguments come from ``getResolvedOptions``; locally the same flags work with
argparse (``python glue_jobs/entsoe_to_processed.py --raw_prefix raw/entsoe``).
"""

from __future__ import annotations

import json
import sys

from datalake.jobs import resolve_args
from datalake.pipelines.lake import transform_entsoe


def main(argv: list[str] | None = None) -> int:
    args = resolve_args(["raw_prefix"], {"raw_prefix": "raw/entsoe"}, argv)
    report = transform_entsoe(args["raw_prefix"], progress=print)
    print(json.dumps(report.to_dict(), indent=2, default=str))
    return 0 if report.status == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
