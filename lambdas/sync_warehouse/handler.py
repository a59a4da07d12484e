"""Lambda: new processed objects (S3 ObjectCreated) -> upsert their partitions into PostgreSQL."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake.aws import s3_event_object
from datalake.pipelines.lake import sync_processed_keys

logger = Logger(service="sync_warehouse")


@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext | None) -> dict[str, Any]:
    keys = [s3_event_object(record)[0] for record in event.records]
    reports = sync_processed_keys(keys)
    summary = {
        "keys": len(keys),
        "runs": [
            {"job": r.job, "status": r.status, "rows_in": r.rows_in, "rows_out": r.rows_out, **r.details}
            for r in reports
        ],
    }
    logger.info("synced", extra=summary)
    return summary
