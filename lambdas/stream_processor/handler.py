"""Lambda: a Kinesis event source mapping's batch -> the raw lake, the portfolios, the dead letters.

Answers ``{"batchItemFailures": [{"itemIdentifier": <sequence number>}, ...]}`` (the mapping has
``ReportBatchItemFailures``): Lambda retries from the first failed record, so one transient
failure never replays what was done, and a record that can never succeed (undecodable, the wrong
kind) goes to the dead-letter queue with its reason instead of blocking the shard.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake import runtime
from datalake.realtime import processor
from datalake.realtime.aws import kinesis_event_records

logger = Logger(service="stream_processor")
_adapters: dict[str, Any] = {}  # kept across warm invocations (clients, connections)


def _adapter(name: str) -> Any:
    if name not in _adapters:
        _adapters[name] = {
            "lake": lambda: runtime.object_store("lake"),
            "portfolios": runtime.portfolio_store,
            "dead_letters": runtime.dead_letters,
        }[name]()
    return _adapters[name]


@event_source(data_class=KinesisStreamEvent)
def lambda_handler(event: KinesisStreamEvent, context: LambdaContext | None) -> dict[str, Any]:
    records = kinesis_event_records(event)
    outcome = processor.process_batch(
        records,
        lake=_adapter("lake"),
        portfolios=_adapter("portfolios"),
        dead_letters=_adapter("dead_letters"),
    )
    failed = outcome.failed_sequence_numbers
    (logger.warning if failed else logger.info)(
        "batch processed",
        extra={
            "records": len(records),
            "applied": outcome.applied,
            "rejected": outcome.rejected,
            "duplicate": outcome.duplicate,
            "poison": outcome.poison,
            "failed": len(failed),
            "error": outcome.error,
        },
    )
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
