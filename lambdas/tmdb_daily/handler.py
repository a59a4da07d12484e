"""Lambda on an EventBridge schedule: fetch again the TMDB movies changed since the last successful run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake.pipelines.tmdb_ingest import ingest_tmdb_daily, raise_for_ids_left, time_keeper
from datalake.settings import get_settings

logger = Logger(service="tmdb_daily")


@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext | None) -> dict[str, Any]:
    # The schedule's own time, not the clock: a retried invocation asks for the same window.
    now = dt.datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    keep_going = time_keeper(context.get_remaining_time_in_millis) if context else None
    report, summary = ingest_tmdb_daily(now, sample=get_settings().tmdb_sample, keep_going=keep_going)
    result = {"run_id": report.run_id, **{k: v for k, v in summary.to_dict().items() if k != "keys"}}
    result["files_written"] = len(summary.keys)
    logger.info("tmdb daily ingest", extra=result)
    # Out of time: fail the invocation so Lambda retries it; the retry resumes the window (pending.json).
    raise_for_ids_left(summary)
    return result
