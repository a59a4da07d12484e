"""/predict/sales: daily sales of a store, one row, a batch of up to 10,000, or a CSV upload."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from starlette.concurrency import run_in_threadpool

from api import examples
from api.deps import ClientDep, RequestSourceDep, SalesDep
from api.sales_schemas import (
    PREDICTIONS_EXAMPLE,
    REQUEST_SCHEMA,
    ROW_EXAMPLE,
    SalesPredictions,
    SalesRowsIn,
)
from api.services.sales import csv_payload, parse_csv

router = APIRouter(tags=["predict"])

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


@router.post(
    "/predict/sales",
    summary="Predicted daily sales per store and day, from the store-sales champion",
    response_model=SalesPredictions,
    responses=_RESPONSES,
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": REQUEST_SCHEMA}}}},
)
def predict_sales(
    sales: SalesDep, source: RequestSourceDep, _client: ClientDep, body: RowsBody
) -> dict[str, Any]:
    """Send one row, ``{"rows": [...]}`` or a JSON list (up to 10,000); a CSV goes to
    ``/predict/sales/csv``.

    A row gives ``store_id``, ``date``, ``promo``, ``state_holiday`` (0, a, b, c),
    ``school_holiday`` and optionally ``open`` (true when absent). A closed day predicts 0 with
    ``closed: true``. The answer holds ``predicted_sales`` per row in the request's order, the
    ``model_version`` and the ``model_alias`` (champion). An unknown store or an impossible date
    is a 422 naming the field (and the row). Every prediction is logged;
    ``/historical-predictions?model=store-sales`` lists them with the error once the day's sales
    reach the warehouse.
    """
    return sales.predict([row.model_dump() for row in body.rows], request_source=source)


@router.post(
    "/predict/sales/csv",
    summary="The same as POST /predict/sales, for a CSV upload",
    response_model=SalesPredictions,
    responses=_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    },
                    "example": {"file": _CSV_EXAMPLE},
                },
                "text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE},
            },
        }
    },
)
async def predict_sales_csv(
    request: Request, sales: SalesDep, source: RequestSourceDep, _client: ClientDep
) -> dict[str, Any]:
    """A CSV with a header line and the same columns as the JSON rows, by name and in any order
    (``Store``, ``StateHoliday``, ... as in the Rossmann files work too; other columns are
    ignored): as a multipart form field ``file`` (``curl -F file=@days.csv``) or as a
    ``text/csv`` body. Up to 10,000 rows; a bad value is a 422 naming ``rows.<i>.<field>``.
    """
    payload = csv_payload(request.headers.get("content-type", ""), await request.body())
    rows = parse_csv(payload)
    # The model runs in the thread pool, as a sync route's would: the event loop stays free.
    return await run_in_threadpool(sales.predict, rows, source)
