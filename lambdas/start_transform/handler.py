"""Lambda: new raw objects (S3 ObjectCreated) -> start the Glue job for each raw prefix they land in."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake.aws import s3_event_object
from datalake.pipelines.trigger import TransformBusyError, start_transforms

logger = Logger(service="start_transform")


@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext | None) -> dict[str, Any]:
    objects = [s3_event_object(record) for record in event.records]
    try:
        report = start_transforms(objects)
    except TransformBusyError as exc:
        # Failing makes the S3 asynchronous invocation retry later, when the running job has finished.
        logger.warning("glue job busy, retry later", extra=exc.report.to_dict())
        raise
    summary = report.to_dict()
    logger.info("transforms triggered", extra=summary)
    return summary
