"""Lambda on an EventBridge schedule: re-fetch the REData days the last 48 hours touch."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake.pipelines.ingest import ingest_ree_daily, raise_for_failed_days
from datalake.settings import get_settings

logger = Logger(service="ree_daily")


@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext | None) -> dict[str, Any]:
    # The schedule's own time, not the clock: a retried invocation fetches the same window.
    now = dt.datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    report = ingest_ree_daily(now, sample=get_settings().ree_sample)
    summary = {k: v for k, v in report.to_dict().items() if k != "keys_written"}
    logger.info("ree daily ingest", extra=summary)
    # Fail the invocation when a day failed, so the dead-letter queue and alarms see it; written days stay.
    raise_for_failed_days(report)
    return summary
