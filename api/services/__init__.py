"""What the routes call, built once per process and kept on ``app.state.services``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from api.security import ApiKeyGuard, RateLimiter
from api.services.ask_executor import PooledReaderExecutor
from api.services.db import Database
from api.services.forecasts import ForecastService
from api.services.health import ReadinessProbe
from api.services.movies import MovieSuccessService
from api.services.predictions import PredictionStore
from api.services.rate_limits import PostgresRateLimiter, rate_limiter
from api.services.sales import StoreSalesService
from datalake.settings import Settings


@dataclass
class Services:
    """The process's long-lived objects: the pool, the forecast caches, the key and the limiter.

    Attributes
    ----------
    ask
        ``ask(question, as_of) -> AskResult``; None means :func:`datalake.ask.ask` with these
        settings (imported on first use) and ``ask_executor``.
    ask_executor
        Where /ask's SQL runs: a reader-role pool when ``ASK_ENGINE=warehouse``; None lets
        :func:`datalake.ask.ask` pick its executor (the lake's query engine).
    catalog
        Factory of the catalog /health/details checks; the runtime's by default.
    readiness
        The public readiness verdict, shared by the probes for a moment.
    """

    settings: Settings
    database: Database
    forecasts: ForecastService
    predictions: PredictionStore
    api_keys: ApiKeyGuard
    limiter: RateLimiter | PostgresRateLimiter | None = None
    ask: Callable[..., Any] | None = None
    ask_executor: Any | None = None
    catalog: Callable[[], Any] | None = None
    readiness: ReadinessProbe = field(default_factory=ReadinessProbe)
    movies: MovieSuccessService | None = None
    sales: StoreSalesService | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, boto3_session: Any | None = None, database_url: str | None = None
    ) -> Services:
        """Build everything lazily: no connection, no model and no AWS call happen here.

        Parameters
        ----------
        settings
            The process settings.
        boto3_session
            For Secrets Manager (database credentials, API key) and SageMaker.
        database_url
            Use this database instead of resolving one from the settings.
        """
        database = Database(settings, url=database_url, boto3_session=boto3_session)
        warehouse = getattr(settings, "ask_engine", "warehouse") == "warehouse"
        return cls(
            settings=settings,
            database=database,
            forecasts=ForecastService(settings, database, boto3_session=boto3_session),
            predictions=PredictionStore(database),
            api_keys=ApiKeyGuard(settings, boto3_session),
            limiter=rate_limiter(settings, database),
            ask_executor=(
                PooledReaderExecutor(settings, owner_url=database_url, boto3_session=boto3_session)
                if warehouse
                else None
            ),
        )

    def close(self) -> None:
        """Write the queued predictions, then release the pool (process shutdown)."""
        close = getattr(self.predictions, "close", None)
        if close is not None:
            close()
        if self.ask_executor is not None and hasattr(self.ask_executor, "close"):
            self.ask_executor.close()
        self.database.close()
