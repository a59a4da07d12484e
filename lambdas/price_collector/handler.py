"""Lambda on an EventBridge schedule (every minute): poll the USD/COP rate, put it on the prices stream
when it changed, alert when it is stale (datalake.sources.trm)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake.sources.trm import raise_for_provider_error, run_price_collector

logger = Logger(service="price_collector")


@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext | None) -> dict[str, Any]:
    # The schedule's own time, not the clock: a retried invocation judges staleness the same way.
    now = dt.datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    summary = run_price_collector(now)
    result = summary.to_dict()
    logger.info("price collector", extra=result)
    # Fail the invocation on a provider error so the Errors alarm sees it; nothing was put.
    raise_for_provider_error(summary)
    return result
