"""/health: liveness and readiness, separately."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse

import api
from api import examples
from api.deps import ServicesDep
from api.schemas import HealthReport, Liveness
from api.services import health

router = APIRouter(prefix="/health", tags=["health"])
_STARTED = time.monotonic()


def _liveness() -> Liveness:
    return Liveness(alive=True, version=api.__version__, uptime_s=round(time.monotonic() - _STARTED, 1))


def _report(services: ServicesDep) -> HealthReport:
    checks = {
        "database": health.check_database(services.database),
        "model": health.check_model(services.forecasts),
        "catalog": health.check_catalog(services.settings, services.catalog),
    }
    ready = health.readiness(checks)
    return HealthReport.model_validate(
        {
            "status": "ok" if ready else "degraded",
            "liveness": _liveness(),
            "readiness": {"ready": ready, "checks": checks},
        }
    )


@router.get(
    "",
    response_model=HealthReport,
    summary="Liveness and readiness, with the state of the database, the model and the catalog",
    responses={200: {"content": {"application/json": {"example": examples.HEALTH_RESPONSE}}}},
)
def health_report(services: ServicesDep) -> HealthReport:
    """Always 200 while the process answers; ``readiness.ready`` says whether it can serve.

    Ready means the database answers and the model is loaded (or the SageMaker endpoint is
    InService). The catalog is reported but does not hold up readiness.
    """
    return _report(services)


@router.get(
    "/live",
    response_model=Liveness,
    summary="Liveness: the process answers (no dependency is checked)",
    responses={200: {"content": {"application/json": {"example": examples.LIVE_RESPONSE}}}},
)
def live() -> Liveness:
    """For a container or load-balancer liveness probe: restart the process only if this fails."""
    return _liveness()


@router.get(
    "/ready",
    response_model=HealthReport,
    summary="Readiness: 200 when the API can serve, 503 when not",
    responses={
        200: {"content": {"application/json": {"example": examples.HEALTH_RESPONSE}}},
        503: {
            "description": "Not ready: the report says which check failed.",
            "content": {
                "application/json": {
                    "example": {
                        **examples.HEALTH_RESPONSE,
                        "status": "degraded",
                        "readiness": {
                            "ready": False,
                            "checks": {
                                **examples.HEALTH_RESPONSE["readiness"]["checks"],
                                "model": {
                                    "ok": False,
                                    "error": "no demand_forecaster champion yet",
                                    "latency_ms": 2.0,
                                },
                            },
                        },
                    }
                }
            },
        },
    },
)
def ready(services: ServicesDep) -> JSONResponse:
    """For a readiness probe or a load balancer's target health check."""
    report = _report(services)
    return JSONResponse(report.model_dump(mode="json"), status_code=200 if report.readiness.ready else 503)
