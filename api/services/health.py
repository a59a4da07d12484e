"""Readiness checks for /health: the database, the model, /predict's model and the catalog.

A check never raises: it reports ``ok``, how long it took and, when not ok, why (one
line, no secrets). The API is ready when the database and the forecaster are; the catalog is
reported (Athena and the local SQL engine need it) but does not hold up readiness,
because /ask and /forecast serve from the warehouse, and neither does the movie-success model
(a deployment may not serve /predict).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from api.services.db import Database
from api.services.forecasts import ForecastService
from api.services.movies import MovieSuccessService
from api.services.sales import StoreSalesService
from datalake.errors import LakeError
from datalake.settings import Settings

logger = logging.getLogger(__name__)

#: Checks whose failure makes the API not ready.
REQUIRED = ("database", "model")


def _timed(check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    began = time.perf_counter()
    try:
        result = {"ok": True, **check()}
    except LakeError as error:
        result = {"ok": False, "error": " ".join(str(error).split())[:300]}
    except Exception as error:  # a health check must answer, whatever broke
        logger.exception("health check failed")
        result = {"ok": False, "error": f"{type(error).__name__}"}
    result["latency_ms"] = round((time.perf_counter() - began) * 1000, 1)
    return result


def check_database(database: Database) -> dict[str, Any]:
    """``SELECT 1`` through the pool (opening it if needed)."""

    def run() -> dict[str, Any]:
        with database.connection(timeout=min(2.0, database.settings.db_connect_timeout_s)) as conn:
            conn.execute("SELECT 1").fetchone()
            tables = conn.execute(
                "SELECT to_regclass('public.demand_hourly') IS NOT NULL,"
                " to_regclass('public.predictions') IS NOT NULL"
            ).fetchone()
        return {"demand_hourly": bool(tables and tables[0]), "predictions": bool(tables and tables[1])}

    return _timed(run)


def check_model(forecasts: ForecastService) -> dict[str, Any]:
    """The champion loads (in-process; which one, with or without weather), or the endpoint is InService."""

    def run() -> dict[str, Any]:
        if forecasts.backend == "endpoint":
            return forecasts.endpoint.readiness()
        model = forecasts.model()
        # Which model serves: the champion (with or without weather), its fallback, and what
        # answered last (the fallback when the weather was missing).
        return {
            "backend": "in_process",
            **model.describe(),
            "context_hours": model.context_hours,
            "last_answer": forecasts.last_answer,
        }

    return _timed(run)


def check_movie_success(movies: MovieSuccessService) -> dict[str, Any]:
    """/predict's model: the champion loads (in-process), or its endpoint is InService."""
    return _timed(movies.status)


def check_store_sales(sales: StoreSalesService) -> dict[str, Any]:
    """/predict/sales's model: the champion's version, or ``champion: absent`` (none trained yet)."""
    return _timed(sales.status)


def check_catalog(settings: Settings, catalog_factory: Callable[[], Any] | None = None) -> dict[str, Any]:
    """The processed database is in the catalog (Glue, or the local one) and lists its tables."""

    def run() -> dict[str, Any]:
        from datalake import runtime

        catalog = catalog_factory() if catalog_factory else runtime.catalog(settings)
        tables = sorted(catalog.list_tables(settings.processed_database))
        return {"database": settings.processed_database, "tables": tables}

    return _timed(run)


def readiness(checks: dict[str, dict[str, Any]]) -> bool:
    """Whether every required check passed."""
    return all(checks.get(name, {}).get("ok") for name in REQUIRED)


class ReadinessProbe:
    """The public readiness verdict (ok or not), worked out at most once every ``ttl_s`` seconds.

    Public probes are not rate limited (a load balancer calls them without a key), so each
    call must not reach the database and SageMaker's control plane: callers within the
    same ``ttl_s`` share one verdict. Only the required checks run; the catalog does not
    hold up readiness.

    Parameters
    ----------
    ttl_s
        How long one verdict is served.
    clock
        Seconds, monotonic (tests pass a fake).
    """

    def __init__(self, ttl_s: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._verdict: tuple[float, bool] | None = None
        self._lock = threading.Lock()

    def ready(self, database: Database, forecasts: ForecastService) -> bool:
        """Whether the database answers and the model is loaded (or its endpoint InService)."""
        with self._lock:  # one caller checks; the others wait for its verdict
            now = self.clock()
            if self._verdict is None or now - self._verdict[0] >= self.ttl_s:
                checks = {"database": check_database(database), "model": check_model(forecasts)}
                self._verdict = (self.clock(), readiness(checks))
            return self._verdict[1]
