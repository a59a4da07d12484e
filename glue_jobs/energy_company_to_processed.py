"""Glue job: the energy company's raw CSV drops -> processed clientes, proveedores, transacciones Parquet.

On Glue 5.0 the arguments come from ``getResolvedOptions``; locally the same flags work with
argparse (``python glue_jobs/energy_company_to_processed.py --raw_prefix raw/energy_company
--day 2024-06-03``). Without ``--day`` every drop is processed and the tables rebuilt; with it,
that day's drops are merged into them.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from datalake.jobs import resolve_args
from datalake.pipelines.lake import transform_energy_company


def main(argv: list[str] | None = None) -> int:
    args = resolve_args(["raw_prefix", "day"], {"raw_prefix": "raw/energy_company", "day": ""}, argv)
    day = dt.date.fromisoformat(args["day"]) if args["day"] else None
    report = transform_energy_company(args["raw_prefix"], day, progress=print)
    print(json.dumps(report.to_dict(), indent=2, default=str))
    return 0 if report.status == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
