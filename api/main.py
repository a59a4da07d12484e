"""The app factory: ``uvicorn --factory api.main:create_app`` or ``datalake serve``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import api
from api.errors import CatchAllMiddleware, install_error_handlers
from api.middleware import BodySizeLimitMiddleware, RootPathMiddleware
from api.routers import ask, forecast, health, movies, predictions, sales, status, transactions
from api.sales_schemas import MAX_BODY_BYTES as SALES_MAX_BODY_BYTES
from api.services import Services
from datalake.settings import Settings, get_settings

logger = logging.getLogger(__name__)

DESCRIPTION = """
Spanish electricity demand and generation, from an analytics lake that runs on AWS or on one laptop.

* **/ask** answers questions in Spanish or English with a sentence, a table and the SQL behind it;
  **/ask-visual** draws the answer (PNG) or gives the chart's data.
* **/forecast** gives hourly p10/p50/p90 demand for the next 1 to 14 days from the champion model;
  **/historical-predictions** lists what was served, with the error once the actual is known.
* **/predict/sales** predicts a store's daily sales (one row, up to 10,000, or a CSV) from the
  store-sales champion; `/historical-predictions?model=store-sales` lists them with their errors.
* **/health/live** and **/health/ready** (and **/health**) say only whether the API is alive and ready,
  for load balancers; **/health/details** gives each check (database, model, catalog) to key holders.

A deployment may require an API key (`X-API-Key`) and limit requests per client (429 with
`Retry-After`). Every error is JSON: `{"detail": ...}`, with `field` when a parameter is wrong.
"""

TAGS = [
    {"name": "ask", "description": "Questions in Spanish or English, answered from the lake."},
    {"name": "forecast", "description": "Hourly demand forecasts and how good they turned out."},
    {"name": "health", "description": "Liveness and readiness probes."},
]


def root_path(settings: Settings) -> str:
    """``API_ROOT_PATH`` as ``/stage`` (leading slash, none trailing); empty for the root."""
    path = settings.api_root_path.strip().strip("/")
    return f"/{path}" if path else ""


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the API.

    Nothing connects here: the database pool opens on the first request that needs it, the
    champion loads on the first forecast, the API key secret is read on the first check.

    Parameters
    ----------
    settings
        The process settings by default.
    services
        Prebuilt services (tests, the Lambda handler); built from ``settings`` when omitted.

    Returns
    -------
    fastapi.FastAPI
    """
    settings = settings or get_settings()
    services = services or Services.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        services.close()

    app = FastAPI(
        title="Spanish energy datalake API",
        version=api.__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(status.router)
    app.include_router(ask.router)
    app.include_router(forecast.router)
    app.include_router(predictions.router)
    app.include_router(movies.router)
    app.include_router(sales.router)
    app.include_router(transactions.router)
    # Added last = outermost: the catch-all sees everything, including the size check.
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.api_max_body_bytes,
        # The first matching prefix wins: /predict/sales (10,000 rows) before /predict (1,000 films).
        path_limits={
            "/predict/sales": max(SALES_MAX_BODY_BYTES, settings.api_predict_max_body_bytes),
            "/predict": settings.api_predict_max_body_bytes,
        },
    )
    # Behind an API Gateway stage the docs page must fetch /<stage>/openapi.json and "Try it
    # out" must call /<stage>/...: the scope's root_path does both (servers: [{url: /stage}]).
    app.add_middleware(RootPathMiddleware, root_path=root_path(settings))
    app.add_middleware(CatchAllMiddleware)
    return app
