"""Lambda invoked on demand: backfill REData days into raw, resumable.

Event: ``{"start": "2024-01-01", "end": "2024-12-31", "datasets": ["demand"], "refresh": false}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake.errors import DataValidationError
from datalake.pipelines.ingest import ingest_ree
from datalake.settings import get_settings
from datalake.sources.ree import REE_DATASETS

logger = Logger(service="ree_backfill")


def _date(event: dict[str, Any], field: str) -> dt.date:
    if field not in event:
        raise DataValidationError(field, "is required (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(str(event[field]))
    except ValueError:
        raise DataValidationError(field, f"{event[field]!r} is not a YYYY-MM-DD date") from None


def lambda_handler(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    start, end = _date(event, "start"), _date(event, "end")
    if end < start:
        raise DataValidationError("end", f"{end} is before start {start}")
    datasets = event.get("datasets") or list(REE_DATASETS)
    unknown = sorted(set(datasets) - set(REE_DATASETS))
    if unknown:
        raise DataValidationError("datasets", f"unknown {unknown}; known: {sorted(REE_DATASETS)}")
    report = ingest_ree(
        start, end, datasets, sample=get_settings().ree_sample, refresh=bool(event.get("refresh", False))
    )
    summary = {k: v for k, v in report.to_dict().items() if k != "keys_written"}
    logger.info("ree backfill", extra=summary)
    return summary
