"""Request and response bodies of POST /predict/sales and its history (model=store-sales)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.schemas import YEARS, BoundedDate
from datalake.sales import MAX_PREDICT_ROWS as MAX_ROWS

#: A JSON row is about 110 bytes: 10,000 of them (with spaces) fit in 4 MiB, and a CSV far less.
MAX_BODY_BYTES = 4 * 1024 * 1024

ROW_EXAMPLE = {
    "store_id": 1,
    "date": "2024-07-31",
    "promo": True,
    "state_holiday": "0",
    "school_holiday": True,
    "open": True,
}

PREDICTION_EXAMPLE = {"store_id": 1, "date": "2024-07-31", "predicted_sales": 5763.42, "closed": False}

PREDICTIONS_EXAMPLE = {
    "predictions": [PREDICTION_EXAMPLE, {**PREDICTION_EXAMPLE, "date": "2024-08-04", "predicted_sales": 0.0,
                                         "closed": True}],
    "model_version": "3",
    "model_alias": "champion",
}  # fmt: skip


class SalesRowIn(BaseModel):
    """One store and day to predict (the columns of ``store_sales_daily`` known in advance)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ROW_EXAMPLE]})

    store_id: int = Field(ge=1, le=1_000_000, description="Rossmann store number (one the model knows).")
    date: BoundedDate = Field(description=f"Day to predict, YYYY-MM-DD ({YEARS}).")
    promo: bool = Field(description="A store promotion runs that day.")
    state_holiday: Literal["0", "a", "b", "c"] = Field(
        description="0 none, a public holiday, b Easter, c Christmas."
    )
    school_holiday: bool = Field(description="Public schools are closed that day.")
    open: bool | None = Field(None, description="The store opens that day (default true); closed predicts 0.")

    @field_validator("state_holiday", mode="before")
    @classmethod
    def _holiday_as_text(cls, value: Any) -> Any:
        # The source files write no holiday as the number 0; accept it as "0".
        return "0" if value == 0 and not isinstance(value, bool) else value


class SalesRowsIn(BaseModel):
    """Several rows at once (up to 10,000); one row or a JSON list is read as ``{"rows": [...]}``.

    One model for the three shapes (not a union) so that a bad value is named the same way in
    each, ``rows.<index>.<field>``, without the union member's name in front.
    """

    model_config = ConfigDict(extra="forbid")

    rows: list[SalesRowIn] = Field(min_length=1, max_length=MAX_ROWS)

    @model_validator(mode="before")
    @classmethod
    def _one_row_or_a_list(cls, data: Any) -> Any:
        if isinstance(data, list):
            return {"rows": data}
        if isinstance(data, dict) and "rows" not in data:
            return {"rows": [data]}
        return data


#: The documented body: one row, ``{"rows": [...]}`` or a JSON list (all read by SalesRowsIn).
REQUEST_SCHEMA = {
    "anyOf": [
        {"$ref": "#/components/schemas/SalesRowIn"},
        {"$ref": "#/components/schemas/SalesRowsIn"},
        {"type": "array", "items": {"$ref": "#/components/schemas/SalesRowIn"}, "minItems": 1,
         "maxItems": MAX_ROWS},
    ]
}  # fmt: skip


class SalesPrediction(BaseModel):
    store_id: int
    date: dt.date
    predicted_sales: float = Field(ge=0, description="Predicted turnover of the day, EUR (0 when closed).")
    closed: bool = Field(description="The row said the store is closed: the prediction is 0.")


class SalesPredictions(BaseModel):
    predictions: list[SalesPrediction] = Field(description="One per row, in the request's order.")
    model_version: str = Field(description="Registered version of the store_sales model.")
    model_alias: str = Field(description="The registry alias that served them (champion).")


class SalesHistoricalItem(BaseModel):
    request_id: str
    position: int
    served_at: dt.datetime
    model_version: str
    model_alias: str
    store_id: int
    date: dt.date
    promo: bool
    state_holiday: str
    school_holiday: bool
    closed: bool
    predicted_sales: float
    actual_sales: float | None = Field(
        description="From the warehouse's store_sales_daily once it has the day."
    )
    error: float | None = Field(description="predicted_sales - actual_sales.")
    ape_pct: float | None = Field(description="|error| / actual_sales x 100 (open days with sales only).")


class SalesHistoricalPage(BaseModel):
    items: list[SalesHistoricalItem]
    total: int
    limit: int
    offset: int
    next_offset: int | None
    summary: dict[str, Any]
