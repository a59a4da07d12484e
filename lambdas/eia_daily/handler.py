"""Lambda on an EventBridge schedule: fetch again the last 14 days of the EIA daily prices (revisions win)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake.pipelines.eia_ingest import ingest_eia_daily, raise_for_failed_ranges
from datalake.settings import get_settings

logger = Logger(service="eia_daily")


@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext | None) -> dict[str, Any]:
    # The schedule's own time, not the clock: a retried invocation fetches the same window.
    now = dt.datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    report, summary = ingest_eia_daily(now, sample=get_settings().eia_sample)
    result = {k: v for k, v in report.to_dict().items() if k != "keys_written"}
    result["files_written"] = len(summary.keys)
    logger.info("eia daily ingest", extra=result)
    # Fail the invocation so the dead-letter queue and alarms see it; the days written stay.
    raise_for_failed_ranges(summary)
    return result
