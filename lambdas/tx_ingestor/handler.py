"""Lambda: ``POST /transactions`` (API Gateway HTTP API, payload 2.0) -> validate -> the transactions stream.

202 with the event id once the event is on Kinesis; 400 for a body that is not JSON, 422 naming
the first wrong field (``{"detail": ..., "field": "amount"}``, as the FastAPI route answers),
503 with ``Retry-After`` when Kinesis refuses (the app retries with the same idempotency key:
same event id, applied once).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake import runtime
from datalake.errors import DataValidationError
from datalake.realtime import ingest
from datalake.realtime.ports import Stream

logger = Logger(service="tx_ingestor")
#: Seconds a refused client should wait before retrying.
RETRY_AFTER_S = 1
_stream: Stream | None = None  # kept across warm invocations (its clients and connections)


def _get_stream() -> Stream:
    global _stream
    if _stream is None:
        _stream = runtime.stream()
    return _stream


def _response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body),
    }


@event_source(data_class=APIGatewayProxyEventV2)
def lambda_handler(event: APIGatewayProxyEventV2, context: LambdaContext | None) -> dict[str, Any]:
    try:
        body = json.loads(event.decoded_body or "")
    except ValueError as error:
        return _response(400, {"detail": f"the body is not JSON: {error}", "field": "body"})
    try:
        accepted = ingest.ingest_transaction(body, stream=_get_stream())
    except DataValidationError as error:
        logger.info("transaction refused", extra={"field": error.field})
        return _response(422, {"detail": str(error), "field": error.field})
    except Exception as error:  # the stream refused: nothing was accepted, the client retries
        logger.error("the transactions stream refused the event", extra={"error": str(error)})
        return _response(
            503,
            {"detail": "the transactions stream is unavailable; retry later"},
            {"retry-after": str(RETRY_AFTER_S)},
        )
    logger.info("transaction accepted", extra={"event_id": accepted.event_id})
    return _response(202, {"event_id": accepted.event_id, "status": "accepted"})
