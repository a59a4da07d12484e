"""Dependencies the routes declare, as ``Annotated`` aliases (override them in tests)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from api.errors import ServiceUnavailableError
from api.security import API_KEY_HEADER, client_identity, retry_after_header
from api.services import Services
from api.services.forecasts import ForecastService
from api.services.movies import MovieSuccessService
from api.services.predictions import PredictionStore
from api.services.sales import StoreSalesService
from datalake.settings import Settings


def get_services(request: Request) -> Services:
    """The process's services (built by :func:`api.main.create_app`)."""
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings_dep(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_forecasts(services: ServicesDep) -> ForecastService:
    return services.forecasts


ForecastsDep = Annotated[ForecastService, Depends(get_forecasts)]


def get_predictions(services: ServicesDep) -> PredictionStore:
    return services.predictions


PredictionsDep = Annotated[PredictionStore, Depends(get_predictions)]


def get_movies(services: ServicesDep) -> MovieSuccessService:
    """The movie-success service (built on first use: the API may never serve /predict)."""
    if services.movies is None:
        services.movies = MovieSuccessService(services.settings, services.database)
    return services.movies


MoviesDep = Annotated[MovieSuccessService, Depends(get_movies)]


def get_sales(services: ServicesDep) -> StoreSalesService:
    """The store-sales service (built on first use: the API may never serve /predict/sales)."""
    if services.sales is None:
        services.sales = StoreSalesService(services.settings, services.database)
    return services.sales


SalesDep = Annotated[StoreSalesService, Depends(get_sales)]

AskFunction = Callable[..., Any]


def get_ask(services: ServicesDep) -> AskFunction:
    """``ask(question, as_of)``: :func:`datalake.ask.ask` with the process settings and forecaster.

    Raises
    ------
    ServiceUnavailableError
        When the /ask package is not installed.
    """
    if services.ask is not None:
        return services.ask
    try:
        from datalake.ask import ask
    except ImportError as error:
        raise ServiceUnavailableError(f"/ask is not available in this build: {error}") from None
    # Future demand is answered by the champion /forecast serves (same model, caches and errors).
    options: dict[str, Any] = {
        "settings": services.settings,
        "forecaster": lambda hours: services.forecasts.forecast(hours).answer,
    }
    if services.ask_executor is not None:
        options["executor"] = services.ask_executor  # the process's reader pool
    services.ask = functools.partial(ask, **options)
    return services.ask


AskDep = Annotated[AskFunction, Depends(get_ask)]

_api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="Needed only where the deployment sets API_KEY or API_KEY_SECRET_ARN.",
)


def require_client(
    request: Request,
    services: ServicesDep,
    api_key: Annotated[str | None, Security(_api_key_header)] = None,
) -> str:
    """Check the API key (when one is configured) and the client's rate limit.

    The limit counts per valid key, else per client address, so trying keys does not
    escape it. Returns the client's identity.

    Raises
    ------
    HTTPException
        401 for a missing or wrong key, 429 (with Retry-After) over the rate limit.
    """
    valid = services.api_keys.is_valid(api_key)
    host = request.client.host if request.client else None
    identity = client_identity(api_key if valid and services.api_keys.enabled else None, host)
    limiter = services.limiter
    if limiter is not None:
        wait = limiter.hit(identity)
        if wait is not None:
            raise HTTPException(
                429,
                f"rate limit of {int(limiter.capacity)} requests per minute exceeded",
                headers={"Retry-After": retry_after_header(wait)},
            )
    if not valid:
        raise HTTPException(401, "missing or invalid API key", headers={"WWW-Authenticate": API_KEY_HEADER})
    return identity


ClientDep = Annotated[str, Depends(require_client)]


def request_source(request: Request) -> str:
    """``apigateway`` when the request came through Lambda (Mangum), else ``http``."""
    return "apigateway" if "aws.event" in request.scope else "http"


RequestSourceDep = Annotated[str, Depends(request_source)]
