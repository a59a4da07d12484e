"""Lambda on demand, then on itself: backfill a TMDB ID export into raw in checkpointed chunks.

Event (every field optional): ``{"export_date": "2026-12-04", "limit": 1000, "invocation": 1}``.
It writes chunks while its time lasts, then queues the same event for itself (an asynchronous
invoke of its own function) with what is left, until the export is done or the limit is reached.
The checkpoint lives in the lake, so a failed invocation's retry resumes where the last chunk ended.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake.pipelines.tmdb_ingest import run_backfill_invocation

logger = Logger(service="tmdb_backfill")


def lambda_handler(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    summary = run_backfill_invocation(
        event,
        function_name=context.function_name if context else os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        remaining_ms=context.get_remaining_time_in_millis if context else None,
    )
    logger.info("tmdb backfill", extra=summary)
    return summary
