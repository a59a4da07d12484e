"""Transaction ingestion: validate what a user's app posts and put the event on the stream.

The same function serves ``POST /transactions`` on the FastAPI app, the ``tx_ingestor`` Lambda
and the trading simulator. A retried post (same user and idempotency key) gets the same event
id and is put again: delivery is at least once, and the portfolio store applies an id once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from datalake.errors import DataValidationError
from datalake.realtime.events import (
    TRANSACTIONS_STREAM,
    TransactionEvent,
    TransactionRequest,
    encode_event,
)
from datalake.realtime.ports import Stream, StreamRecord


def validation_error(error: ValidationError) -> DataValidationError:
    """The first problem of a pydantic error as a :class:`DataValidationError` naming the field."""
    details = error.errors()
    first = details[0] if details else {}
    field = ".".join(str(part) for part in first.get("loc", ())) or "body"
    reason = str(first.get("msg", "invalid"))
    if first.get("type") == "extra_forbidden":
        reason = (
            "not a field of a transaction (user_id, type, amount, currency, client_time, idempotency_key)"
        )
    return DataValidationError(field, reason)


def build_event(body: TransactionRequest | Mapping[str, Any], received_at: dt.datetime) -> TransactionEvent:
    """Validate a posted body and make its stream event.

    Raises
    ------
    DataValidationError
        The body is not a valid transaction; ``field`` names the first wrong field.
    """
    if isinstance(body, TransactionRequest):
        request = body
    else:
        if not isinstance(body, Mapping):
            raise DataValidationError("body", "must be a JSON object")
        try:
            request = TransactionRequest.model_validate(dict(body))
        except ValidationError as error:
            raise validation_error(error) from None
    return TransactionEvent.from_request(request, received_at)


def ingest_transactions(
    bodies: Sequence[TransactionRequest | Mapping[str, Any]],
    *,
    stream: Stream,
    now: Callable[[], dt.datetime] | None = None,
) -> list[TransactionEvent]:
    """Validate every body, then put them all on the ``transactions`` stream in one call.

    All or nothing: one invalid body raises before anything is put. The partition key is the
    user, so one user's transactions stay in order on one shard.

    Returns
    -------
    list of TransactionEvent
        The events put, in the order given (their ``event_id`` is what the caller gets back).

    Raises
    ------
    DataValidationError
        A body is invalid (``field`` names it, prefixed by its index when there are several).
    """
    received_at = (now or (lambda: dt.datetime.now(dt.UTC)))()
    events = []
    for index, body in enumerate(bodies):
        try:
            events.append(build_event(body, received_at))
        except DataValidationError as error:
            if len(bodies) == 1:
                raise
            raise DataValidationError(f"{index}.{error.field}", error.reason) from None
    if events:
        stream.put(
            TRANSACTIONS_STREAM,
            [StreamRecord(partition_key=event.user_id, data=encode_event(event)) for event in events],
        )
    return events


def ingest_transaction(
    body: TransactionRequest | Mapping[str, Any],
    *,
    stream: Stream,
    now: Callable[[], dt.datetime] | None = None,
) -> TransactionEvent:
    """Validate one body and put its event on the ``transactions`` stream (see ``ingest_transactions``)."""
    return ingest_transactions([body], stream=stream, now=now)[0]
