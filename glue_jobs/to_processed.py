"""Glue job: a registered source's raw files -> its processed Parquet tables (+ quarantine, run report).

Every source's Glue job runs this script with ``--source NAME`` in its DefaultArguments
(datalake.sources.registry.SOURCES). On Glue 5.0 the arguments come from ``getResolvedOptions``;
locally the same flags work with argparse::

    python glue_jobs/to_processed.py --source ree --raw_prefix raw/ree_sample
    python glue_jobs/to_processed.py --source energy_company --day 2024-06-03

``--raw_prefix`` defaults to the source's first raw prefix, ``--full true`` reprocesses every raw
file, and a source's own options (the energy company's ``--day``) come as ``--NAME value``.
"""

from __future__ import annotations

import json
import sys

from datalake.jobs import exit_job, resolve_args
from datalake.pipelines.lake import transform
from datalake.sources.registry import get_source


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    source = get_source(resolve_args(["source"], {}, argv)["source"])
    options = [option.name for option in source.options]
    defaults = {"raw_prefix": source.raw_prefix, "full": "false", **dict.fromkeys(options, "")}
    args = resolve_args(["raw_prefix", "full", *options], defaults, argv)
    if args["full"] not in ("true", "false"):
        raise SystemExit(f"--full: expected true or false, got {args['full']!r}")
    report = transform(
        source.name,
        args["raw_prefix"],
        progress=print,
        full=args["full"] == "true",
        **source.parse_options({name: args[name] for name in options}),
    )
    print(json.dumps(report.to_dict(), indent=2, default=str))
    return 0 if report.status == "succeeded" else 1


if __name__ == "__main__":
    exit_job(main())
