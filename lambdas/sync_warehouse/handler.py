"""Lambda: new processed objects -> mirror their partitions into PostgreSQL (inserts, updates, deletes).

Deployed, it reads batches from the sync-warehouse queue (EventBridge ``Object Created`` events) and
answers with the messages to deliver again (``batchItemFailures``). An S3 notification sent straight
to it (a manual invoke, ``datalake`` tests) syncs the same way and fails as a whole.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake.aws import s3_event_object
from datalake.pipelines.lake import sync_processed_keys
from datalake.pipelines.queued import is_queue_batch, sync_batch

logger = Logger(service="sync_warehouse")


def lambda_handler(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    if is_queue_batch(event):
        outcome = sync_batch(SQSEvent(event))
        log = logger.warning if outcome.failed else logger.info
        log("synced queued batch", extra={**outcome.summary, "failed": outcome.failed})
        return outcome.response()
    return _sync_notification(S3Event(event))


def _sync_notification(event: S3Event) -> dict[str, Any]:
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
