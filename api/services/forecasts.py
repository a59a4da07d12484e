"""Forecasts for /forecast: the champion in-process, or the SageMaker endpoint.

In-process, three caches keep a request to a few milliseconds:

- the champion is loaded once per process and reloaded only when the registry's champion
  pointer names another version (the pointer is read at most every ``API_REFRESH_S``);
- the history is read from the warehouse once per data cut-off (the newest hour with
  demand; checked at most every ``API_REFRESH_S``);
- an answer is kept per (model version, cut-off, horizon): the same model on the same
  data gives the same forecast.

A check that is due runs in the request that finds it due while concurrent requests keep
answering from the cache; only the very first load makes requests wait.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from api.errors import ServiceUnavailableError, UpstreamError
from api.schemas import ForecastResponse
from api.services.db import Database
from api.services.endpoints import JsonEndpoint, serving_backend
from datalake.errors import DataValidationError, LakeError, ObjectNotFoundError
from datalake.forecasting import serving
from datalake.settings import Settings

logger = logging.getLogger(__name__)

REGION = "national"
IN_PROCESS = "in_process"
#: Answers kept in memory (per process); one answer of 14 days is about 100 kB.
RESULT_CACHE_SIZE = 64

# max(ts_utc) on the primary key (ts_utc first) is an index scan backwards: cheap when real
# rows exist. Same rule as datalake.forecasting.data.load_recent: real rows win over sample.
_CUTOFF_SQL = """
SELECT coalesce(
    (SELECT max(ts_utc) FROM demand_hourly
      WHERE region = %(region)s AND source <> 'sample' AND demand_mw IS NOT NULL),
    (SELECT max(ts_utc) FROM demand_hourly
      WHERE region = %(region)s AND source = 'sample' AND demand_mw IS NOT NULL))
"""


@dataclass(frozen=True)
class ServedForecast:
    """An answer, where it came from (``in_process`` or ``endpoint:<name>``), and its JSON body.

    The body is the response, checked against :class:`api.schemas.ForecastResponse` and
    serialised once per cached answer instead of once per request.
    """

    answer: dict[str, Any]
    served_by: str
    body: bytes

    @classmethod
    def of(cls, answer: dict[str, Any], served_by: str) -> ServedForecast:
        """Check and serialise ``answer``.

        Raises
        ------
        pydantic.ValidationError
            When the answer is not a forecast.
        """
        body = ForecastResponse.model_validate({**answer, "served_by": served_by}).model_dump_json()
        return cls(answer, served_by, body.encode())


def forecast_backend(settings: Settings) -> str:
    """``local`` or ``endpoint``, from ``API_FORECAST_BACKEND`` (``auto``: the endpoint on AWS)."""
    return serving_backend(settings.api_forecast_backend, settings.forecast_endpoint, settings)


class ForecastService:
    """Serves forecasts; one per process.

    Parameters
    ----------
    settings
        ``api_refresh_s``, ``forecast_endpoint``, the runtime and the registry's location.
    database
        The process's pool (for the cut-off check).
    load_champion
        ``load_champion(destination) -> ServedModel``; the registry's champion by default.
    champion_version
        ``champion_version() -> str | None``: the version the champion pointer names now.
    load_history
        ``load_history(hours) -> pandas.Series``: the newest hours of demand (UTC index).
    load_weather
        ``load_weather() -> WeatherHistory | None``: the stored weather (forecasts with their
        issue times); read only when the champion is a weather model, on each computed
        answer. None (or a failure) makes the champion's fallback answer.
    endpoint_client
        A ``sagemaker-runtime`` client; built from ``boto3_session`` and settings when needed.
    boto3_session
        For the AWS clients (endpoint and its status).
    clock
        Monotonic seconds (tests pass a fake).
    """

    def __init__(
        self,
        settings: Settings,
        database: Database | None = None,
        *,
        load_champion: Callable[[Path], serving.ServedModel] | None = None,
        champion_version: Callable[[], str | None] | None = None,
        load_history: Callable[[int], pd.Series] | None = None,
        load_weather: Callable[[], Any] | None = None,
        endpoint_client: Any | None = None,
        boto3_session: Any | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.database = database
        self.backend = forecast_backend(settings)
        self.endpoint_name = (settings.forecast_endpoint or "").strip()
        self._load_champion = load_champion or (lambda dest: serving.load_champion(dest, settings))
        self._champion_version = champion_version or (lambda: _registry_champion(settings))
        self._load_history = load_history or (lambda hours: _warehouse_history(hours, settings))
        self._load_weather = load_weather or (lambda: serving.live_weather(settings))
        #: What answered last: version and covariates (for /health).
        self.last_answer: dict[str, Any] | None = None
        self.endpoint = JsonEndpoint(
            self.endpoint_name,
            settings,
            what="forecast endpoint",
            hint="FORECAST_ENDPOINT",
            client=endpoint_client,
            boto3_session=boto3_session,
        )
        self._clock = clock
        self._model: serving.ServedModel | None = None
        self._model_checked = 0.0
        self._model_lock = threading.Lock()
        self._history: pd.Series | None = None
        self._cutoff: dt.datetime | None = None
        self._history_checked = 0.0
        self._history_hours = 0
        self._history_lock = threading.Lock()
        self._results: OrderedDict[tuple[Any, ...], tuple[float, ServedForecast]] = OrderedDict()
        self._results_lock = threading.Lock()
        #: Counters for /health and the tests: champion loads, history reads, forecasts computed.
        self.stats = {"model_loads": 0, "history_reads": 0, "computed": 0, "endpoint_calls": 0}

    @property
    def served_by(self) -> str:
        """What answers: ``in_process`` or ``endpoint:<name>``."""
        return IN_PROCESS if self.backend == "local" else f"endpoint:{self.endpoint_name}"

    # -- the answer --------------------------------------------------------------------------------

    def forecast(self, horizon_hours: int) -> ServedForecast:
        """Hourly p10/p50/p90 for ``horizon_hours`` after the newest data.

        Raises
        ------
        DataValidationError
            A horizon outside 1..336 hours.
        ServiceUnavailableError
            No champion yet, or not enough recent demand in the warehouse (503).
        UpstreamError
            The endpoint failed or answered something that is not a forecast (502).
        """
        if not 1 <= horizon_hours <= serving.MAX_HORIZON_HOURS:
            raise DataValidationError(
                "hours", f"must be between 1 and {serving.MAX_HORIZON_HOURS}, got {horizon_hours}"
            )
        if self.backend == "endpoint":
            return self._from_endpoint(horizon_hours)
        model = self.model()
        history, cutoff = self.history(model.history_hours)
        key = (model.version, cutoff, horizon_hours)
        cached = self._cached(key)
        if cached is not None:
            return cached
        weather = None
        if model.needs_weather:
            try:
                weather = self._load_weather()
            except LakeError as error:  # the fallback answers
                logger.warning("weather unavailable, the fallback answers: %s", error)
        try:
            answer = serving.forecast(model, history, horizon_hours, weather)
        except DataValidationError as error:
            # The history is ours, not the caller's: too little of it is a 503, not a 4xx.
            raise ServiceUnavailableError(f"cannot forecast from the warehouse's data: {error}") from None
        self.stats["computed"] += 1
        self.last_answer = {
            "version": answer["model_version"],
            "covariates": answer.get("covariates"),
            "weather_note": answer.get("weather_note"),
        }
        served = ServedForecast.of(answer, IN_PROCESS)
        self._store(key, served)
        return served

    def _cached(self, key: tuple[Any, ...]) -> ServedForecast | None:
        with self._results_lock:
            entry = self._results.get(key)
            if entry is None:
                return None
            expires, answer = entry
            if expires and self._clock() >= expires:
                del self._results[key]
                return None
            self._results.move_to_end(key)
            return answer

    def _store(self, key: tuple[Any, ...], answer: ServedForecast, ttl: float = 0.0) -> None:
        with self._results_lock:
            self._results[key] = (self._clock() + ttl if ttl else 0.0, answer)
            while len(self._results) > RESULT_CACHE_SIZE:
                self._results.popitem(last=False)

    # -- the champion ------------------------------------------------------------------------------

    def model(self) -> serving.ServedModel:
        """The champion, loaded once and reloaded when the pointer moves to another version.

        Raises
        ------
        ServiceUnavailableError
            No champion has been promoted yet.
        """
        model = self._model
        if model is None:
            with self._model_lock:
                if self._model is None:
                    self._model = self._fetch_model()
                    self._model_checked = self._clock()
                return self._model
        if self._clock() - self._model_checked >= self.settings.api_refresh_s and self._model_lock.acquire(
            blocking=False
        ):
            try:
                self._model_checked = self._clock()
                pointer = self._champion_version()
                if pointer is not None and pointer != model.version:
                    logger.info("champion moved from %s to %s: reloading", model.version, pointer)
                    self._model = self._fetch_model()
            except LakeError as error:  # keep serving the model we have
                logger.warning("champion check failed, keeping %s: %s", model.version, error)
            finally:
                self._model_lock.release()
            model = self._model or model
        return model

    def _fetch_model(self) -> serving.ServedModel:
        try:
            with tempfile.TemporaryDirectory(prefix="datalake-champion-") as scratch:
                # The weights are read into memory; the copy is not needed afterwards.
                model = self._load_champion(Path(scratch))
        except ObjectNotFoundError as error:
            raise ServiceUnavailableError(str(error), hint="train and promote a model first") from None
        self.stats["model_loads"] += 1
        logger.info("serving model %s", model.version)
        return model

    @property
    def loaded_version(self) -> str | None:
        """The version in memory, if any (no loading)."""
        return self._model.version if self._model is not None else None

    # -- the history -------------------------------------------------------------------------------

    def history(self, hours: int) -> tuple[pd.Series, dt.datetime]:
        """(the newest ``hours`` of demand, its cut-off), read again only when the cut-off moves.

        Raises
        ------
        ServiceUnavailableError
            The warehouse has no demand (or no table) yet.
        """
        history, cutoff = self._history, self._cutoff
        if history is None or cutoff is None or hours > self._history_hours:
            with self._history_lock:
                if self._history is None or self._cutoff is None or hours > self._history_hours:
                    self._refresh_history(hours, force=True)
                assert self._history is not None and self._cutoff is not None
                return self._history, self._cutoff
        if (
            self._clock() - self._history_checked >= self.settings.api_refresh_s
            and self._history_lock.acquire(blocking=False)
        ):
            try:
                self._refresh_history(hours, force=False)
            except LakeError as error:  # keep the history we have
                logger.warning("cut-off check failed, keeping %s: %s", cutoff, error)
            finally:
                self._history_lock.release()
            history, cutoff = self._history, self._cutoff
            assert history is not None and cutoff is not None
        return history, cutoff

    def _refresh_history(self, hours: int, *, force: bool) -> None:
        self._history_checked = self._clock()
        self._history_hours = max(self._history_hours, hours)
        if not force and self.database is not None:
            newest = self.newest_hour()
            if newest is not None and newest == self._cutoff:
                return
        try:
            series = self._load_history(self._history_hours)
        except DataValidationError as error:
            raise ServiceUnavailableError(f"no recent demand to forecast from: {error}") from None
        known = series.dropna()
        if known.empty:
            raise ServiceUnavailableError("no recent demand to forecast from: every hour is missing")
        self.stats["history_reads"] += 1
        self._history, self._cutoff = series, known.index[-1].to_pydatetime()

    def newest_hour(self) -> dt.datetime | None:
        """The data cut-off in the warehouse now (one indexed query), or None with no demand."""
        from psycopg.errors import UndefinedTable

        if self.database is None:
            return None
        try:
            with self.database.connection() as conn:
                row = conn.execute(_CUTOFF_SQL, {"region": REGION}).fetchone()
        except UndefinedTable:
            raise ServiceUnavailableError(
                "the warehouse has no demand_hourly table yet", hint="run `datalake sync` after a transform"
            ) from None
        return row[0] if row else None

    # -- the SageMaker endpoint ----------------------------------------------------------------------

    def _from_endpoint(self, horizon_hours: int) -> ServedForecast:
        key = ("endpoint", self.endpoint_name, horizon_hours)
        cached = self._cached(key)
        if cached is not None:
            return cached
        served = ServedForecast.of(self.invoke_endpoint(horizon_hours), self.served_by)
        if self.settings.api_refresh_s > 0:
            self._store(key, served, ttl=self.settings.api_refresh_s)
        return served

    def invoke_endpoint(self, horizon_hours: int) -> dict[str, Any]:
        """One ``InvokeEndpoint`` call with ``{"horizon_hours": N}``; the answer checked for shape.

        Raises
        ------
        ServiceUnavailableError
            The endpoint does not exist, is not in service, throttles, or cannot be reached.
        UpstreamError
            The model container failed, or its answer is not a forecast of ``horizon_hours``.
        """
        answer = self.endpoint.invoke({"horizon_hours": horizon_hours})
        self.stats["endpoint_calls"] += 1
        return _checked_answer(answer, horizon_hours, self.endpoint_name)


def _checked_answer(answer: Any, horizon_hours: int, endpoint: str) -> dict[str, Any]:
    """The endpoint's JSON, refused unless it is the forecast that was asked for."""
    if not isinstance(answer, dict):
        raise UpstreamError(f"forecast endpoint {endpoint} answered a {type(answer).__name__}, not an object")
    missing = [k for k in ("model_version", "data_cutoff", "origin", "points") if k not in answer]
    if missing:
        raise UpstreamError(f"forecast endpoint {endpoint} answered without {missing}")
    points = answer["points"]
    if not isinstance(points, list) or len(points) != horizon_hours:
        count = len(points) if isinstance(points, list) else "no"
        raise UpstreamError(f"forecast endpoint {endpoint} answered {count} points for {horizon_hours} hours")
    answer.setdefault("horizon_hours", horizon_hours)
    answer.setdefault("missing_hours_filled", 0)
    try:
        # The same model the response is checked against: a bad answer is the endpoint's 502, not our 500.
        ForecastResponse.model_validate({**answer, "served_by": f"endpoint:{endpoint}"})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UpstreamError(f"forecast endpoint {endpoint} answered a bad {where}: {first['msg']}") from None
    return answer


def _registry_champion(settings: Settings) -> str | None:
    """The version the champion pointer names, from the registry :func:`serving.load_champion` reads."""
    from datalake.models import model_registry

    record = model_registry(settings).champion()
    return None if record is None else str(record["version"])


def _warehouse_history(hours: int, settings: Settings) -> pd.Series:
    from datalake.forecasting.data import load_recent

    return load_recent(hours, settings, REGION).demand_mw
