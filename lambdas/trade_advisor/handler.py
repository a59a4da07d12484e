"""Lambda: a batch of the ``prices`` Kinesis stream -> the buy/sell signal -> personal notifications.

A Kinesis event source mapping on ``<prefix>-prices`` invokes it (one shard, one batch at a
time), beside the stream processor on the same stream. The work is
:func:`datalake.realtime.advisor.advise_on_batch`: the newest price event of the batch, the
recent rates from the lake's ``raw/realtime/prices/`` plus the batch, the SageMaker endpoint
``SIGNAL_ENDPOINT`` (``InvokeEndpoint``), the holders from the portfolios table, and SNS, each
notification deduplicated per user and price event and rate-limited per user. A transient failure
(S3, the endpoint, DynamoDB or SNS down) is reported as ``batchItemFailures`` so the mapping
retries from the newest price; nothing else fails the batch.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake.realtime.advisor import AdviceOutcome, advise_on_batch, advisor_dependencies
from datalake.realtime.events import PRICES_STREAM
from datalake.realtime.ports import StoredRecord

logger = Logger(service="trade_advisor")


def stored_records(event: KinesisStreamEvent) -> list[StoredRecord]:
    """The event's records as the ports see them (the shard id is the ``eventID``'s prefix)."""
    records = []
    for record in event.records:
        payload = record.kinesis
        records.append(
            StoredRecord(
                stream=PRICES_STREAM,
                shard_id=record.event_id.split(":", 1)[0],
                sequence_number=payload.sequence_number,
                partition_key=payload.partition_key,
                data=payload.data_as_bytes(),
                arrived_at=dt.datetime.fromtimestamp(payload.approximate_arrival_timestamp, dt.UTC),
            )
        )
    return records


def batch_response(outcome: AdviceOutcome) -> dict[str, Any]:
    """The partial-batch answer (``ReportBatchItemFailures``)."""
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in outcome.failed_sequence_numbers]}


@event_source(data_class=KinesisStreamEvent)
def lambda_handler(event: KinesisStreamEvent, context: LambdaContext | None) -> dict[str, Any]:
    outcome = advise_on_batch(stored_records(event), **advisor_dependencies())
    logger.info("trade advice", extra=outcome.summary())
    return batch_response(outcome)
