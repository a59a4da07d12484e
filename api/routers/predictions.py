"""/historical-predictions: every served forecast, with its error once the actual is known."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api import examples
from api.deps import ClientDep, MoviesDep, PredictionsDep, SalesDep
from api.movie_schemas import MovieHistoricalPage
from api.sales_schemas import SalesHistoricalPage
from api.schemas import YEARS, BoundedDate, HistoricalPage
from api.services.predictions import PredictionFilter
from datalake.errors import DataValidationError

router = APIRouter(tags=["forecast"])
MAX_LIMIT = 500
#: The ``model`` value that lists movie-success predictions (with outcomes) instead of forecasts.
MOVIE_SUCCESS = "movie-success"
#: The ``model`` value that lists store-sales predictions (with the day's actual sales) instead.
STORE_SALES = "store-sales"


@router.get(
    "/historical-predictions",
    response_model=HistoricalPage | MovieHistoricalPage | SalesHistoricalPage,
    summary="Served forecasts, filterable by model and date, with errors once actuals exist",
    responses=examples.responses(
        401, 422, 429, 503, ok={"content": {"application/json": {"example": examples.HISTORICAL_RESPONSE}}}
    ),
)
def historical_predictions(
    predictions: PredictionsDep,
    movies: MoviesDep,
    sales: SalesDep,
    _client: ClientDep,
    model: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Only this forecaster version; movie-success lists the movie classifier's "
            "predictions instead, store-sales the store-sales model's (date_from/date_to/has_actual "
            "then filter the predicted day).",
            openapi_examples={"version": {"value": "v20240601T020000-3fa2c1"}},
        ),
    ] = None,
    date_from: Annotated[
        BoundedDate | None,
        Query(
            description=f"First Europe/Madrid day of the forecast hours (YYYY-MM-DD; {YEARS}).",
            openapi_examples={"day": {"value": "2024-06-10"}},
        ),
    ] = None,
    date_to: Annotated[
        BoundedDate | None,
        Query(
            description=f"Last Europe/Madrid day of the forecast hours, included ({YEARS}).",
            openapi_examples={"day": {"value": "2024-06-16"}},
        ),
    ] = None,
    has_actual: Annotated[
        bool | None,
        Query(
            description="true: only hours with an actual (and an error); false: only those still to come.",
            openapi_examples={"scored": {"value": True}},
        ),
    ] = None,
    limit: Annotated[
        int,
        Query(ge=1, le=MAX_LIMIT, description="Rows per page.", openapi_examples={"page": {"value": 100}}),
    ] = 100,
    offset: Annotated[
        int,
        Query(
            ge=0, le=10_000_000, description="Rows to skip.", openapi_examples={"second_page": {"value": 100}}
        ),
    ] = 0,
) -> dict[str, Any]:
    """Logged forecasts, one row per forecast hour, newest served first.

    Once ``demand_hourly`` holds the hour (ree, else entsoe, else sample), a row carries
    the actual, ``error_mw`` (p50 - actual), ``ape_pct`` and whether the actual fell in the
    p10-p90 band; ``summary`` gives MAE, MAPE and band coverage over every matching row.
    """
    if model == MOVIE_SUCCESS:
        movie_page = movies.page(limit=limit, offset=offset)
        following = offset + len(movie_page["items"])
        return {
            **movie_page,
            "limit": limit,
            "offset": offset,
            "next_offset": following if following < movie_page["total"] else None,
        }
    if date_from and date_to and date_from > date_to:
        raise DataValidationError("date_to", f"{date_to} is before date_from {date_from}")
    if model == STORE_SALES:
        sales_page = sales.page(
            limit=limit, offset=offset, date_from=date_from, date_to=date_to, has_actual=has_actual
        )
        following = offset + len(sales_page["items"])
        return {
            **sales_page,
            "limit": limit,
            "offset": offset,
            "next_offset": following if following < sales_page["total"] else None,
        }
    where = PredictionFilter(model, date_from, date_to, has_actual)
    page = predictions.page(where, limit=limit, offset=offset)
    following = offset + len(page["items"])
    return {
        **page,
        "limit": limit,
        "offset": offset,
        "next_offset": following if following < page["total"] else None,
    }
