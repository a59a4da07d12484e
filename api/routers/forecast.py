"""/forecast: hourly demand quantiles for the next 1 to 14 days (or hours)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query
from fastapi.responses import Response

from api import examples
from api.deps import ClientDep, ForecastsDep, PredictionsDep, RequestSourceDep
from api.schemas import ForecastResponse
from api.services.predictions import PredictionStore
from datalake.errors import DataValidationError
from datalake.forecasting.serving import MAX_HORIZON_HOURS

logger = logging.getLogger(__name__)
router = APIRouter(tags=["forecast"])
MAX_DAYS = MAX_HORIZON_HOURS // 24


def log_now(store: PredictionStore, answer: dict[str, Any], served_by: str, served_at: dt.datetime) -> None:
    """Write one served forecast before the Lambda invocation ends; never raises.

    A frozen container runs no writer thread, so under API Gateway the log is written in
    the invocation (after the response body, before Mangum hands it back).
    """
    try:
        store.log(answer, served_by=served_by, request_source="apigateway", served_at=served_at)
    except Exception as error:  # a failed log must not fail the answer
        logger.error("could not log the forecast served at %s: %s", served_at.isoformat(), error)


@router.get(
    "/forecast",
    response_model=ForecastResponse,
    summary="Hourly demand forecast (p10/p50/p90) after the newest data",
    responses=examples.responses(
        401,
        422,
        429,
        503,
        ok={"content": {"application/json": {"example": examples.FORECAST_RESPONSE}}},
        **{
            "502": {
                "description": "The SageMaker endpoint failed or answered something else than a forecast.",
                "content": {
                    "application/json": {
                        "example": {
                            "detail": "forecast endpoint datalake-demand-forecast: the model failed (400)"
                        }
                    }
                },
            }
        },
    ),
)
def get_forecast(
    forecasts: ForecastsDep,
    predictions: PredictionsDep,
    source: RequestSourceDep,
    background: BackgroundTasks,
    _client: ClientDep,
    days: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_DAYS,
            description=f"Days ahead, 1 to {MAX_DAYS} (default 1).",
            openapi_examples={"tomorrow": {"value": 1}, "week": {"value": 7}},
        ),
    ] = None,
    hours: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_HORIZON_HOURS,
            description=f"Hours ahead instead of days, 1 to {MAX_HORIZON_HOURS}; hours=1 is the next hour.",
            openapi_examples={"next_hour": {"value": 1}, "six_hours": {"value": 6}},
        ),
    ] = None,
) -> Response:
    """Hourly p10/p50/p90 of national demand, from the champion model (or its SageMaker endpoint).

    The answer names the model version and the data cut-off (the newest hour with demand
    the model saw); forecast hours start the hour after it. Every answer is logged to the
    ``predictions`` table, which ``/historical-predictions`` reads back with the errors.
    """
    if days is not None and hours is not None:
        raise DataValidationError("hours", "give days or hours, not both")
    horizon = hours if hours is not None else (days or 1) * 24
    served = forecasts.forecast(horizon)
    if source == "apigateway":
        background.add_task(log_now, predictions, served.answer, served.served_by, dt.datetime.now(dt.UTC))
    else:
        predictions.enqueue(served.answer, served_by=served.served_by, request_source=source)
    # Serialised once per cached answer (checked against ForecastResponse then), not per request.
    return Response(served.body, media_type="application/json")
