"""The movie-success champion, in-process or on its SageMaker endpoint, and the log of what it
served (``movie_predictions``).

In-process, the champion is loaded on first use and re-checked every ``API_REFRESH_S``: a
promotion reaches a running API without a restart. With no champion yet, a 503 says how to train
one. On AWS with ``MOVIE_SUCCESS_ENDPOINT`` set (the API Lambda, whose layer has no
scikit-learn), each request goes to the endpoint instead, and its answer is checked before it is
served or logged.
Outcomes come from the warehouse's ``movies`` table (same title, case-insensitive, and release
year) with the label's own rule, so a listed prediction shows whether it was right.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psycopg import sql
from pydantic import ValidationError

from api.errors import ServiceUnavailableError, UpstreamError
from api.movie_schemas import MoviePrediction
from api.services.db import Database
from api.services.endpoints import JsonEndpoint, serving_backend
from datalake.datasets import MOVIE_PREDICTIONS
from datalake.errors import ObjectNotFoundError
from datalake.movies import label
from datalake.movies import serving as movie_serving
from datalake.settings import Settings
from datalake.warehouse.ddl import ensure_table

if TYPE_CHECKING:
    from datalake.movies.model import MovieSuccessModel

_TABLE = sql.Identifier(MOVIE_PREDICTIONS.warehouse_table or "movie_predictions")
_COLUMNS = MOVIE_PREDICTIONS.column_names
_INSERT = sql.SQL("INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING").format(
    table=_TABLE,
    columns=sql.SQL(", ").join(sql.Identifier(c) for c in _COLUMNS),
    values=sql.SQL(", ").join(sql.Placeholder(c) for c in _COLUMNS),
)
# The label's rule in SQL, with its constants as parameters (one definition: datalake.movies.label).
_OUTCOME = sql.SQL(
    "LEFT JOIN LATERAL (SELECT CASE WHEN m.budget_usd >= %(min_money)s AND m.revenue_usd >= %(min_money)s"
    " AND m.vote_count >= %(min_votes)s AND m.vote_average IS NOT NULL"
    " THEN (m.revenue_usd / m.budget_usd >= %(roi)s AND m.vote_average >= %(rating)s) END AS actual"
    " FROM movies m WHERE lower(m.title) = lower(p.title) AND m.release_year = p.release_year"
    " ORDER BY m.vote_count DESC NULLS LAST LIMIT 1) o ON true"
)
_NO_OUTCOME = sql.SQL("LEFT JOIN (SELECT NULL::boolean AS actual) o ON true")
_LABEL_PARAMS = {
    "min_money": label.MIN_MONEY_USD,
    "min_votes": label.MIN_VOTES,
    "roi": label.ROI_THRESHOLD,
    "rating": label.RATING_THRESHOLD,
}


def predict_backend(settings: Settings) -> str:
    """``local`` or ``endpoint``, from ``API_PREDICT_BACKEND`` (``auto``: the endpoint on AWS)."""
    return serving_backend(settings.api_predict_backend, settings.movie_success_endpoint, settings)


class MovieSuccessService:
    """Predicts with the champion (in-process and cached, or on its endpoint) and logs each answer.

    Parameters
    ----------
    settings
        Process settings (registry location, cache time, backend and endpoint).
    database
        Where ``movie_predictions`` lives; None: predictions are not logged (tests of routing).
    load_champion
        ``load_champion(destination) -> MovieSuccessModel``; the registry's by default.
    endpoint_client
        A ``sagemaker-runtime`` client for the endpoint backend; built when needed.
    boto3_session
        For the AWS clients (endpoint and its status).
    """

    def __init__(
        self,
        settings: Settings,
        database: Database | None,
        *,
        load_champion: Callable[[Path], MovieSuccessModel] | None = None,
        endpoint_client: Any | None = None,
        boto3_session: Any | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.database = database
        self.backend = predict_backend(settings)
        self.endpoint = JsonEndpoint(
            settings.movie_success_endpoint,
            settings,
            what="movie-success endpoint",
            hint="MOVIE_SUCCESS_ENDPOINT",
            client=endpoint_client,
            boto3_session=boto3_session,
        )
        self._load = load_champion or (lambda dest: movie_serving.load_champion(dest, settings))
        self._clock = clock
        self._model: MovieSuccessModel | None = None
        self._checked = -1e18
        self._lock = threading.Lock()
        self._ready = False

    def model(self) -> MovieSuccessModel:
        """The champion; raises :class:`ServiceUnavailableError` (503) when none is trained yet."""
        with self._lock:
            stale = self._clock() - self._checked > self.settings.api_refresh_s
            if self._model is None or stale:
                try:
                    with tempfile.TemporaryDirectory() as scratch:
                        loaded = self._load(Path(scratch))
                except ObjectNotFoundError as error:
                    raise ServiceUnavailableError(str(error)) from None
                except ModuleNotFoundError as error:  # the API Lambda's layer has no scikit-learn
                    raise ServiceUnavailableError(
                        f"{error.name} is not installed here: serve /predict from the movie-success "
                        "endpoint instead",
                        hint="set MOVIE_SUCCESS_ENDPOINT (and API_PREDICT_BACKEND=endpoint off AWS)",
                    ) from None
                if self._model is None or loaded.version != self._model.version:
                    self._model = loaded
                self._checked = self._clock()
            return self._model

    def predict(self, films: list[dict[str, Any]], request_source: str = "http") -> list[dict[str, Any]]:
        """Answers for ``films`` (validated dicts), logged to ``movie_predictions``."""
        if self.backend == "endpoint":
            answers = self.from_endpoint(films)
        else:
            answers = movie_serving.predict_films(self.model(), films)
        if self.database is not None:
            self.log(answers, request_source)
        return answers

    def from_endpoint(self, films: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One ``InvokeEndpoint`` call with ``{"movies": films}``; one checked answer per film.

        Raises
        ------
        ServiceUnavailableError
            No endpoint, or it is missing, not in service, throttling or unreachable (503).
        UpstreamError
            The model failed, or it answered something other than one prediction per film (502).
        """
        answer = self.endpoint.invoke({"movies": films})
        predictions = answer.get("predictions") if isinstance(answer, dict) else None
        label = self.endpoint.label
        if not isinstance(predictions, list) or len(predictions) != len(films):
            count = len(predictions) if isinstance(predictions, list) else "no"
            raise UpstreamError(f"{label} answered {count} predictions for {len(films)} films")
        checked = []
        for position, (film, prediction) in enumerate(zip(films, predictions, strict=True)):
            try:
                checked.append(MoviePrediction.model_validate(prediction).model_dump(mode="json"))
            except ValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                raise UpstreamError(
                    f"{label} answered a bad predictions.{position}.{where}: {first['msg']}"
                ) from None
            if checked[-1]["title"] != film["title"].strip():
                raise UpstreamError(
                    f"{label} answered predictions.{position} for {checked[-1]['title']!r}, "
                    f"not {film['title']!r}"
                )
        return checked

    def status(self) -> dict[str, Any]:
        """What serves /predict: the endpoint's status, or the in-process champion's version.

        Raises
        ------
        ServiceUnavailableError
            The endpoint cannot be described, or no champion is trained yet.
        LakeError
            The endpoint exists but is not ``InService``.
        """
        if self.backend == "endpoint":
            return self.endpoint.readiness()
        return {"backend": "in_process", "version": self.model().version}

    def ensure(self) -> None:
        if self._ready or self.database is None:
            return
        with self.database.connection() as conn:
            ensure_table(conn, MOVIE_PREDICTIONS)
        self._ready = True

    def log(self, answers: list[dict[str, Any]], request_source: str) -> None:
        """Write one row per answered film, in one transaction."""
        assert self.database is not None
        self.ensure()
        request_id, served_at = uuid.uuid4().hex, dt.datetime.now(dt.UTC)
        rows = [
            {
                "request_id": request_id,
                "position": position,
                "served_at": served_at,
                "model_version": answer["model_version"],
                "title": answer["title"],
                "release_date": dt.date.fromisoformat(answer["release_date"]),
                "release_year": dt.date.fromisoformat(answer["release_date"]).year,
                "success_probability": answer["success_probability"],
                "success": answer["success"],
                "threshold": answer["threshold"],
                "request_source": request_source,
            }
            for position, answer in enumerate(answers)
        ]
        with self.database.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(_INSERT, rows)

    def page(self, *, limit: int, offset: int) -> dict[str, Any]:
        """Logged predictions, newest first, each with ``actual_success`` and ``correct`` once known."""
        if self.database is None:
            raise ServiceUnavailableError("no warehouse: movie predictions are not logged")
        self.ensure()
        with self.database.connection() as conn:
            has_movies = conn.execute("SELECT to_regclass('public.movies') IS NOT NULL").fetchone()
            outcome = _OUTCOME if has_movies and has_movies[0] else _NO_OUTCOME
            base = sql.SQL("FROM {table} p {outcome}").format(table=_TABLE, outcome=outcome)
            rows = conn.execute(
                sql.SQL(
                    "SELECT p.request_id, p.position, p.served_at, p.model_version, p.title, p.release_date,"
                    " p.success_probability, p.success, p.threshold, o.actual {base}"
                    " ORDER BY p.served_at DESC, p.request_id, p.position LIMIT %(limit)s OFFSET %(offset)s"
                ).format(base=base),
                {**_LABEL_PARAMS, "limit": limit, "offset": offset},
            ).fetchall()
            total, known, right = conn.execute(
                sql.SQL(
                    "SELECT count(*), count(o.actual), count(*) FILTER (WHERE o.actual = p.success) {base}"
                ).format(base=base),
                _LABEL_PARAMS,
            ).fetchone() or (0, 0, 0)
        items = [
            {
                "request_id": request_id,
                "position": position,
                "served_at": served_at,
                "model_version": version,
                "title": title,
                "release_date": release,
                "success_probability": probability,
                "success": success,
                "threshold": threshold,
                "actual_success": actual,
                "correct": None if actual is None else actual == success,
            }
            for (
                request_id,
                position,
                served_at,
                version,
                title,
                release,
                probability,
                success,
                threshold,
                actual,
            ) in rows
        ]
        return {
            "items": items,
            "total": int(total),
            "summary": {
                "with_outcome": int(known),
                "accuracy": round(right / known, 4) if known else None,
            },
        }
