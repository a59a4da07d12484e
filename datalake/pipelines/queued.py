"""Object events that arrive through an SQS queue: read a batch, act once per group, report failures.

On AWS the lake's object events (EventBridge rules on ``raw/`` and the publish markers under
``processed/_published/``) go to a queue,
and a Lambda event source mapping hands the functions batches of messages, at most
``MaximumConcurrency`` batches at a time. A backfill that writes hundreds of objects then becomes a
few batches instead of hundreds of concurrent invocations against one Glue job, one small RDS
instance and one sync ledger.

Each batch is coalesced: the warehouse sync loads every partition the batch touches once per
dataset, the Glue trigger starts one run per raw prefix. The functions answer with a partial batch
response (``batchItemFailures``, the event source mapping's ``ReportBatchItemFailures``): only the
messages whose group failed come back after the queue's visibility timeout, the others are deleted.
A message that keeps failing moves to the queue's dead-letter queue after ``maxReceiveCount`` tries.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from aws_lambda_powertools.utilities.data_classes import S3Event, SQSEvent
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventBridgeNotificationEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from datalake import runtime
from datalake.aws import s3_event_object
from datalake.datasets import get_dataset
from datalake.errors import DataValidationError, LakeError
from datalake.pipelines.lake import sync_dataset
from datalake.pipelines.trigger import GlueJobRuns, TransformBusyError, raw_prefix_of, start_transforms
from datalake.publishing import is_publish_marker, read_publish_marker
from datalake.settings import Settings

logger = logging.getLogger(__name__)

#: EventBridge cuts event times to whole seconds, so the object may have landed up to a second later:
#: only a Glue run started after the end of that second surely lists it.
_EVENTBRIDGE_TIME_RESOLUTION = dt.timedelta(seconds=1)


@dataclass(frozen=True)
class QueuedMessage:
    """One SQS message of a batch and the S3 objects it announces."""

    message_id: str
    objects: tuple[tuple[str, dt.datetime], ...]


@dataclass
class BatchOutcome:
    """What a batch led to: the ids of the messages to deliver again, and a summary for the log."""

    failed: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def response(self) -> dict[str, list[dict[str, str]]]:
        """The partial batch response a Lambda with ``ReportBatchItemFailures`` returns."""
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in self.failed]}


def is_queue_batch(event: Mapping[str, Any]) -> bool:
    """Whether a Lambda event is an SQS batch, rather than an S3 notification sent straight to a function."""
    records = event.get("Records") or []
    return bool(records) and all(
        isinstance(r, Mapping) and r.get("eventSource") == "aws:sqs" for r in records
    )


def message_objects(record: SQSRecord) -> list[tuple[str, dt.datetime]]:
    """The ``(key, event time)`` pairs an SQS message announces, keys URL-decoded, times in UTC.

    EventBridge's whole-second event times are moved to the end of their second (see
    ``_EVENTBRIDGE_TIME_RESOLUTION``), so that "a run started after the event" stays true of the object.

    Parameters
    ----------
    record
        One SQS record whose body is an S3 event notification (``{"Records": [...]}``, what S3 sends
        to a queue) or an S3 ``Object Created`` event as EventBridge delivers it.

    Returns
    -------
    list of (str, datetime)
        Empty for S3's ``s3:TestEvent``, which announces no object.

    Raises
    ------
    DataValidationError
        When the body is not JSON or not one of those shapes; it names the field and why.
    """
    try:
        body = record.json_body
    except (TypeError, ValueError) as error:
        raise DataValidationError("body", f"is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise DataValidationError("body", f"is a JSON {type(body).__name__}, not an object")
    if body.get("Event") == "s3:TestEvent":
        return []
    if "Records" in body:
        try:
            return [s3_event_object(r) for r in S3Event(body).records]
        except (KeyError, TypeError, ValueError) as error:
            raise DataValidationError("body.Records", f"is not an S3 event notification: {error!r}") from None
    if body.get("source") == "aws.s3" and body.get("detail-type") == "Object Created":
        event = S3EventBridgeNotificationEvent(body)
        try:
            key = event.detail.object.key  # URL-decoded, as for S3 notifications
            time = dt.datetime.fromisoformat(event.time) + _EVENTBRIDGE_TIME_RESOLUTION
        except (KeyError, TypeError, ValueError) as error:
            raise DataValidationError(
                "body.detail.object.key", f"is missing or unreadable: {error!r}"
            ) from None
        return [(key, time)]
    found = body.get("detail-type") or sorted(body)[:5]
    raise DataValidationError(
        "body", f"is neither an S3 notification nor an EventBridge 'Object Created' event (found {found!r})"
    )


def read_batch(event: SQSEvent) -> tuple[list[QueuedMessage], dict[str, str]]:
    """The messages of a batch with their objects, and the unreadable ones (message id -> why)."""
    messages: list[QueuedMessage] = []
    unreadable: dict[str, str] = {}
    for record in event.records:
        try:
            messages.append(QueuedMessage(record.message_id, tuple(message_objects(record))))
        except DataValidationError as error:
            unreadable[record.message_id] = str(error)
    return messages, unreadable


def _ordered(ids: Iterable[str], batch_order: list[str]) -> list[str]:
    wanted = set(ids)
    return [message_id for message_id in batch_order if message_id in wanted]


def sync_batch(event: SQSEvent, settings: Settings | None = None) -> BatchOutcome:
    """Sync the processed partitions a batch's publish markers name into PostgreSQL: each dataset once.

    Messages are grouped by dataset (a marker names its dataset and the partitions it switched);
    one :func:`~datalake.pipelines.lake.sync_dataset` call per dataset loads all its touched
    partitions (a partition announced by many messages loads once). A dataset whose sync fails
    fails exactly the messages that touched it; the partitions it did load are in the sync ledger,
    so their next delivery skips them.

    Parameters
    ----------
    event
        The SQS batch (bodies: S3 notifications or EventBridge ``Object Created`` events).
    settings
        Lake settings; the process-wide ones when None.

    Returns
    -------
    BatchOutcome
        ``failed``: unreadable messages and those of failed datasets, in batch order; ``summary``:
        the runs, the failures and how many keys were not dataset partitions.
    """
    messages, unreadable = read_batch(event)
    store = runtime.object_store("lake", settings)
    touched: dict[str, dict[str, set[str]]] = {}  # dataset -> partition -> message ids
    ignored = 0
    for message in messages:
        for key, _time in message.objects:
            # Only publishes are news: a run's data files are not the lake's until the catalog
            # points at them, and the marker its publish writes then names what it switched.
            if not is_publish_marker(key):
                ignored += 1
                continue
            try:
                dataset, partitions = read_publish_marker(store, key)
                name = get_dataset(dataset).name
            except (LakeError, OSError) as error:
                unreadable[message.message_id] = str(error)
                continue
            for partition in partitions:
                touched.setdefault(name, {}).setdefault(partition, set()).add(message.message_id)
    failed = set(unreadable)
    runs: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = [{"message_id": i, "error": e} for i, e in unreadable.items()]
    for dataset, partitions in sorted(touched.items()):
        senders = set().union(*partitions.values())
        try:
            report = sync_dataset(dataset, settings, partitions=sorted(partitions))
        except Exception as error:  # any failure: these messages come back, the other datasets go on
            logger.exception(
                "sync of %s failed; %d message(s) will be delivered again", dataset, len(senders)
            )
            failed |= senders
            errors.append({"dataset": dataset, "error": f"{type(error).__name__}: {error}"})
            continue
        runs.append(
            {
                "job": report.job,
                "status": report.status,
                "rows_in": report.rows_in,
                "rows_out": report.rows_out,
                "messages": len(senders),
                **report.details,
            }
        )
    order = [record.message_id for record in event.records]
    summary = {"messages": len(order), "ignored_keys": ignored, "runs": runs, "errors": errors}
    return BatchOutcome(_ordered(failed, order), summary)


def start_transform_batch(
    event: SQSEvent,
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
    glue: GlueJobRuns | None = None,
) -> BatchOutcome:
    """Start the Glue job of each raw prefix a batch announces; fail the messages of busy prefixes.

    All the batch's objects go to :func:`~datalake.pipelines.trigger.start_transforms` at once (one
    run per job and prefix). A prefix whose job is at its concurrency limit, with no active run that
    will list the new objects, fails the messages that named it: the queue delivers them again after
    its visibility timeout, and again, until the job is free, or until ``maxReceiveCount`` moves them
    to the dead-letter queue. The queue's retry window is kept longer than a job run
    (:mod:`datalake.deploy.fanout_rules`), so a busy job delays a message and never drops it.

    Parameters
    ----------
    event
        The SQS batch (bodies: S3 notifications or EventBridge ``Object Created`` events).
    settings, boto3_session, glue
        As for :func:`~datalake.pipelines.trigger.start_transforms`.

    Returns
    -------
    BatchOutcome
        ``failed``: unreadable messages and those naming a busy prefix, in batch order; ``summary``:
        the trigger report.

    Raises
    ------
    botocore.exceptions.ClientError
        Any Glue error other than a busy job (a missing job, denied access): the whole batch fails,
        as every message would.
    """
    messages, unreadable = read_batch(event)
    objects = [obj for message in messages for obj in message.objects]
    try:
        report = start_transforms(objects, settings, boto3_session, glue)
    except TransformBusyError as busy:
        report = busy.report
    busy_prefixes = {b.raw_prefix for b in report.busy}
    failed = set(unreadable) | {
        message.message_id
        for message in messages
        if any(raw_prefix_of(key) in busy_prefixes for key, _time in message.objects)
    }
    order = [record.message_id for record in event.records]
    summary = {
        "messages": len(order),
        **report.to_dict(),
        "unreadable": [{"message_id": i, "error": e} for i, e in unreadable.items()],
    }
    return BatchOutcome(_ordered(failed, order), summary)
