"""Lambda: new raw objects -> start the Glue job for each raw prefix they land in.

Deployed, it reads batches from the start-transform queue (EventBridge ``Object Created`` events):
the messages of a prefix whose job is busy go back to the queue (``batchItemFailures``) and come
again after its visibility timeout, until the job is free. An S3 notification sent straight to it (a
manual invoke, ``datalake`` tests) starts the same runs and fails as a whole when a job is busy.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake.aws import s3_event_object
from datalake.pipelines.queued import is_queue_batch, start_transform_batch
from datalake.pipelines.trigger import TransformBusyError, start_transforms

logger = Logger(service="start_transform")


def lambda_handler(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    if is_queue_batch(event):
        outcome = start_transform_batch(SQSEvent(event))
        log = logger.warning if outcome.failed else logger.info
        log("transforms triggered from the queue", extra={**outcome.summary, "failed": outcome.failed})
        return outcome.response()
    return _start_from_notification(S3Event(event))


def _start_from_notification(event: S3Event) -> dict[str, Any]:
    objects = [s3_event_object(record) for record in event.records]
    try:
        report = start_transforms(objects)
    except TransformBusyError as exc:
        # Failing makes an asynchronous invocation retry (briefly); the queue path retries for longer.
        logger.warning("glue job busy, retry later", extra=exc.report.to_dict())
        raise
    summary = report.to_dict()
    logger.info("transforms triggered", extra=summary)
    return summary
