"""/health: public probes that say only ok or not, and the detail behind the API key.

The public answers carry no table name, error text, host name or version: they are for
load balancers and orchestrators. What failed and why is in ``/health/details``, which
needs ``X-API-Key`` where the deployment sets a key (and counts toward the rate limit).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

import api
from api import examples
from api.deps import ClientDep, ServicesDep, get_movies, get_sales
from api.schemas import HealthReport, Liveness, Probe
from api.services import health

router = APIRouter(prefix="/health", tags=["health"])
_STARTED = time.monotonic()

_PROBE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"example": examples.PROBE_OK}}},
    503: {
        "description": "Not ready (the database or the model is not there); /health/details says which.",
        "model": Probe,
        "content": {"application/json": {"example": examples.PROBE_UNAVAILABLE}},
    },
}


def _report(services: ServicesDep) -> HealthReport:
    checks = {
        "database": health.check_database(services.database),
        "model": health.check_model(services.forecasts),
        "catalog": health.check_catalog(services.settings, services.catalog),
        "movie_success": health.check_movie_success(get_movies(services)),
        "store_sales": health.check_store_sales(get_sales(services)),
    }
    ready = health.readiness(checks)
    return HealthReport.model_validate(
        {
            "status": "ok" if ready else "degraded",
            "liveness": Liveness(
                alive=True, version=api.__version__, uptime_s=round(time.monotonic() - _STARTED, 1)
            ),
            "readiness": {"ready": ready, "checks": checks},
        }
    )


def _readiness(services: ServicesDep) -> JSONResponse:
    if services.readiness.ready(services.database, services.forecasts):
        return JSONResponse(examples.PROBE_OK, status_code=200)
    return JSONResponse(examples.PROBE_UNAVAILABLE, status_code=503)


@router.get(
    "",
    response_model=Probe,
    summary="Whether the API can serve: ok (200) or unavailable (503), nothing more",
    responses=_PROBE_RESPONSES,
)
def health_summary(services: ServicesDep) -> JSONResponse:
    """The same as ``/health/ready``; the checks behind it are in ``/health/details``."""
    return _readiness(services)


@router.get(
    "/live",
    response_model=Probe,
    summary="Liveness: the process answers (no dependency is checked)",
    responses={200: _PROBE_RESPONSES[200]},
)
def live() -> Probe:
    """For a container or load-balancer liveness probe: restart the process only if this fails."""
    return Probe(status="ok")


@router.get(
    "/ready",
    response_model=Probe,
    summary="Readiness: 200 when the API can serve, 503 when not",
    responses=_PROBE_RESPONSES,
)
def ready(services: ServicesDep) -> JSONResponse:
    """For a readiness probe or a load balancer's target health check (the database answers and
    the model is loaded, or its SageMaker endpoint is InService)."""
    return _readiness(services)


@router.get(
    "/details",
    response_model=HealthReport,
    summary="Each check (database, model, catalog) with its state, latency and error (needs the API key)",
    responses=examples.responses(
        401, 429, ok={"content": {"application/json": {"example": examples.HEALTH_RESPONSE}}}
    ),
)
def details(services: ServicesDep, _client: ClientDep) -> HealthReport:
    """Always 200 while the process answers; ``readiness.ready`` says whether it can serve.

    Ready means the database answers and the model is loaded (or the SageMaker endpoint is
    InService). The catalog is reported but does not hold up readiness. The errors and
    names here are for operators, so the route needs ``X-API-Key`` where a key is set.
    """
    return _report(services)
