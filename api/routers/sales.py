"""/predict/sales: daily sales of a store, one row, a batch of up to 10,000, or a CSV upload."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.routing import APIRoute
from starlette.types import Message

from api import examples
from api.deps import ClientDep, RequestSourceDep, SalesDep
from api.errors import lake_error_response
from api.sales_schemas import (
    PREDICTIONS_EXAMPLE,
    REQUEST_SCHEMA,
    ROW_EXAMPLE,
    SalesPredictions,
    SalesRowsIn,
)
from api.services.sales import csv_payload, is_csv_upload, parse_csv
from datalake.errors import DataValidationError


class CsvAsJsonRoute(APIRoute):
    """A route whose JSON body may come as a CSV: a multipart ``file`` or a ``text/csv`` body.

    The CSV's rows become the ``{"rows": [...]}`` body (values as text) before FastAPI reads it,
    so a CSV row is validated, answered and logged exactly as a JSON row is, and a bad value is
    the same 422 naming ``rows.<i>.<field>``. (FastAPI's own form parsing needs python-multipart,
    which this build does not install; the standard library reads the form.)
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def csv_or_json(request: Request) -> Response:
            content_type = request.headers.get("content-type", "")
            if is_csv_upload(content_type):
                try:
                    rows = parse_csv(csv_payload(content_type, await request.body()))
                except DataValidationError as error:
                    return lake_error_response(error)
                request = json_request(request, {"rows": rows})
            return await handler(request)

        return csv_or_json


def json_request(request: Request, body: Any) -> Request:
    """``request`` with ``body`` as its JSON body (headers and receive replaced, the rest kept)."""
    encoded = json.dumps(body).encode()
    headers = [
        (k, v) for k, v in request.scope["headers"] if k.lower() not in (b"content-type", b"content-length")
    ]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(encoded)).encode())]

    async def receive() -> Message:
        return {"type": "http.request", "body": encoded, "more_body": False}

    return Request({**request.scope, "headers": headers}, receive)


router = APIRouter(tags=["predict"], route_class=CsvAsJsonRoute)

# One model reads the three shapes (see SalesRowsIn); REQUEST_SCHEMA documents them.
RowsBody = Annotated[
    SalesRowsIn,
    Body(
        openapi_examples={
            "one row": {"value": ROW_EXAMPLE},
            "a batch": {
                "value": {"rows": [ROW_EXAMPLE, {**ROW_EXAMPLE, "date": "2024-08-04", "open": False}]}
            },
            "a list": {"value": [ROW_EXAMPLE, {**ROW_EXAMPLE, "store_id": 2}]},
        }
    ),
]

_CSV_EXAMPLE = (
    "store_id,date,promo,state_holiday,school_holiday,open\n1,2024-07-31,1,0,1,1\n1,2024-08-04,0,0,0,0\n"
)

_RESPONSES = examples.responses(
    401,
    413,
    422,
    429,
    503,
    ok={"content": {"application/json": {"example": PREDICTIONS_EXAMPLE}}},
)


_CSV_CONTENT = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}},
        },
        "example": {"file": _CSV_EXAMPLE},
    },
    "text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE},
}


@router.post(
    "/predict/sales",
    summary="Predicted daily sales per store and day, from the store-sales champion",
    response_model=SalesPredictions,
    responses=_RESPONSES,
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": REQUEST_SCHEMA}, **_CSV_CONTENT}}
    },
)
def predict_sales(
    sales: SalesDep, source: RequestSourceDep, _client: ClientDep, body: RowsBody
) -> dict[str, Any]:
    """Send one row, ``{"rows": [...]}`` or a JSON list (up to 10,000), or a CSV upload.

    A row gives ``store_id``, ``date``, ``promo``, ``state_holiday`` (0, a, b, c),
    ``school_holiday`` and optionally ``open`` (true when absent). A closed day predicts 0 with
    ``closed: true``. The answer holds ``predicted_sales`` per row in the request's order, the
    ``model_version`` and the ``model_alias`` (champion). An unknown store or an impossible date
    is a 422 naming the field and the row (``rows.3.date``). Every prediction is logged;
    ``/historical-predictions?model=store-sales`` lists them with the error once the day's sales
    reach the warehouse.

    A CSV has a header line and the same columns, by name and in any order (the Rossmann files'
    ``Store``, ``StateHoliday``, ... work too; other columns are ignored), as a multipart form
    field ``file`` (``curl -F file=@days.csv``) or as a ``text/csv`` body.
    """
    return sales.predict([row.model_dump() for row in body.rows], request_source=source)


@router.post(
    "/predict/sales/csv",
    summary="The same as POST /predict/sales, documented for a CSV upload",
    response_model=SalesPredictions,
    responses=_RESPONSES,
    openapi_extra={"requestBody": {"required": True, "content": _CSV_CONTENT}},
)
def predict_sales_csv(
    sales: SalesDep, source: RequestSourceDep, _client: ClientDep, body: RowsBody
) -> dict[str, Any]:
    """A CSV as a multipart form field ``file`` or a ``text/csv`` body; see POST /predict/sales."""
    return sales.predict([row.model_dump() for row in body.rows], request_source=source)
