"""POST /transactions: a user's app posts a buy or a sell; it is validated and put on the stream.

The answer is 202 with the event id as soon as the event is durably on the ``transactions``
stream; the stream processor applies it to the portfolio (each event id once). A repeated
idempotency key gets the same event id and is accepted again, and still applied once.
A bad body is a 422 naming the field (``{"detail": ..., "field": "amount"}``).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel

from api import examples
from api.deps import ClientDep, ServicesDep
from api.errors import ServiceUnavailableError
from datalake.errors import LakeError
from datalake.realtime.events import TransactionRequest
from datalake.realtime.ingest import ingest_transaction
from datalake.realtime.ports import Stream

logger = logging.getLogger(__name__)

router = APIRouter(tags=["transactions"])

TRANSACTION_EXAMPLE: dict[str, Any] = {
    "user_id": "user-0042",
    "type": "buy",
    "amount": "150.00",
    "currency": "USD",
    "client_time": "2026-12-06T10:00:00-05:00",
    "idempotency_key": "0b7e6a2c-6f1e-4c55-9d0a-1f2e3d4c5b6a",
}


class TransactionAccepted(BaseModel):
    """The 202 answer: the event id the transaction has on the stream (the same for a retry)."""

    event_id: str
    status: Literal["accepted"] = "accepted"


def get_stream(services: ServicesDep) -> Stream:
    """The runtime's stream (built on first use: the API may never take a transaction)."""
    stream = services.extra.get("realtime_stream")
    if stream is None:
        from datalake import runtime

        stream = services.extra["realtime_stream"] = runtime.stream(services.settings)
    return stream


StreamDep = Annotated[Stream, Depends(get_stream)]

_RESPONSES = examples.responses(
    401,
    413,
    422,
    429,
    503,
    **{
        "202": {
            "description": "Accepted: durably on the stream; the portfolio is updated shortly after.",
            "content": {"application/json": {"example": {"event_id": "tx-3f2a…", "status": "accepted"}}},
        }
    },
)


@router.post(
    "/transactions",
    status_code=202,
    summary="Post a buy or a sell of a user's currency balance (applied once per idempotency key)",
    response_model=TransactionAccepted,
    responses=_RESPONSES,
)
def post_transaction(
    stream: StreamDep,
    _client: ClientDep,
    body: Annotated[TransactionRequest, Body(openapi_examples={"a buy": {"value": TRANSACTION_EXAMPLE}})],
) -> TransactionAccepted:
    try:
        event = ingest_transaction(body, stream=stream)
    except LakeError:
        raise
    except Exception as error:
        # Not on the stream: the app retries with the same idempotency key (safe: applied once).
        logger.error("POST /transactions: the stream refused the event: %s", error)
        raise ServiceUnavailableError("the transactions stream is unavailable; retry later") from None
    return TransactionAccepted(event_id=event.event_id)
