"""Lambda on an EventBridge schedule: fetch Open-Meteo's forecast and store it with its issue time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake.pipelines.weather_ingest import ingest_weather_forecast, raise_for_missing_locations
from datalake.settings import get_settings

logger = Logger(service="weather_daily")


@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext | None) -> dict[str, Any]:
    # The schedule's own time is the issue time: a retried invocation writes the same keys.
    now = dt.datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    report, summary = ingest_weather_forecast(now, sample=get_settings().weather_sample)
    result = {k: v for k, v in report.to_dict().items() if k != "keys_written"}
    result["files_written"] = summary.files_written
    result["files_unchanged"] = summary.files_unchanged  # a retried invocation's own forecasts
    logger.info("weather forecast ingest", extra=result)
    # Fail the invocation so the dead-letter queue and alarms see it; the files written stay.
    raise_for_missing_locations(summary)
    return result
