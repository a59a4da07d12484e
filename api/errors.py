"""Every error becomes a JSON body: ``{"detail": ...}``, plus ``field`` or ``suggestions`` when known.

4xx are the caller's faults (a bad field names the field), 5xx are ours or a backend's; a
5xx never carries internals (no SQL, no traceback, no host names), those go to the log.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datalake.errors import (
    CatalogNotFoundError,
    ConfigurationError,
    DataValidationError,
    ForecastUnavailableError,
    LakeError,
    ModelUnavailableError,
    ObjectNotFoundError,
    QueryError,
    SourceError,
    UnknownDatasetError,
    WarehouseUnavailableError,
)
from datalake.timebounds import MAX_YEAR, MIN_YEAR, is_date_arithmetic_error

logger = logging.getLogger(__name__)


class ServiceUnavailableError(LakeError):
    """Something the answer needs is not there yet (no champion, no data): 503, try later."""


class UpstreamError(LakeError):
    """A backend (the SageMaker endpoint) answered with an error or nonsense: 502."""


#: Retry-After (seconds) sent with a 503: the caches refresh in about this time.
RETRY_AFTER_S = 30


def error_body(detail: Any, **extra: Any) -> dict[str, Any]:
    """The JSON every error response carries."""
    return {"detail": detail, **{k: v for k, v in extra.items() if v is not None}}


def lake_error_response(error: LakeError) -> JSONResponse:
    """The status and body for a :class:`~datalake.errors.LakeError`.

    Parameters
    ----------
    error
        Raised on purpose somewhere in the lake or the API.

    Returns
    -------
    fastapi.responses.JSONResponse
    """
    suggestions = getattr(error, "suggestions", None)
    if suggestions is not None:  # datalake.ask.AskRefusal: a question /ask cannot answer
        return JSONResponse(
            error_body(
                str(getattr(error, "reason", error)),
                suggestions=list(suggestions),
                language=getattr(error, "language", None),
            ),
            status_code=422,
        )
    if isinstance(error, DataValidationError):
        return JSONResponse(error_body(str(error), field=error.field), status_code=422)
    if isinstance(error, ObjectNotFoundError | UnknownDatasetError):
        return JSONResponse(error_body(str(error)), status_code=404)
    if isinstance(
        error,
        ServiceUnavailableError
        | ForecastUnavailableError
        | WarehouseUnavailableError
        | ConfigurationError
        | CatalogNotFoundError
        | ModelUnavailableError,
    ):
        logger.warning("503: %s", error)
        # A model's rate limit says when to come back; everything else refreshes in RETRY_AFTER_S.
        retry_after = getattr(error, "retry_after_s", None) or RETRY_AFTER_S
        return JSONResponse(
            error_body(str(error), hint=error.hint),
            status_code=503,
            headers={"Retry-After": str(retry_after)},
        )
    if isinstance(error, UpstreamError | SourceError):
        logger.error("502: %s", error)
        return JSONResponse(error_body(str(error)), status_code=502)
    if isinstance(error, QueryError):
        # The SQL and the engine's words stay in the log.
        return internal_error_response(error, "the query failed in the engine")
    return internal_error_response(error)


def internal_error_response(error: BaseException, detail: str = "internal error") -> JSONResponse:
    """A 500 that says nothing of the internals; the error goes to the log under a reference."""
    reference = uuid.uuid4().hex[:12]
    logger.error("500 [%s]: %s", reference, error, exc_info=None if isinstance(error, LakeError) else error)
    return JSONResponse(error_body(detail, reference=reference), status_code=500)


def date_error_response(error: Exception) -> JSONResponse:
    """A 422 for a date or time out of range, or the 500 of any other ``ValueError``.

    Dates a caller gives are bounded (years MIN_YEAR-MAX_YEAR); this catches whatever date
    arithmetic still overflows while answering, so it is never a 500.
    """
    if not is_date_arithmetic_error(error):
        return internal_error_response(error)
    logger.info("422 date out of range: %s", error)
    return JSONResponse(
        error_body(f"a date or time is out of range (supported years {MIN_YEAR}-{MAX_YEAR}): {error}"),
        status_code=422,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON handlers for lake errors, HTTP errors and request validation."""

    @app.exception_handler(LakeError)
    async def _lake(_: Request, error: LakeError) -> JSONResponse:
        return lake_error_response(error)

    @app.exception_handler(OverflowError)
    @app.exception_handler(ValueError)
    async def _date(_: Request, error: Exception) -> JSONResponse:
        return date_error_response(error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(error.detail), status_code=error.status_code, headers=getattr(error, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            # "input" can echo a large or sensitive body back; the location and message suffice.
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in error.errors()
        ]
        first = errors[0] if errors else None
        field = ".".join(str(p) for p in first["loc"] if p not in ("body", "query")) if first else None
        return JSONResponse(error_body(errors, field=field or None), status_code=422)


class CatchAllMiddleware:
    """Turn any exception no handler took into a 500 JSON body (and log it with a reference).

    Starlette's own last-resort handler answers in plain text and re-raises; this one sits
    inside it so the client always gets JSON.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            reference = uuid.uuid4().hex[:12]
            logger.exception("500 [%s] on %s %s", reference, scope.get("method"), scope.get("path"))
            if started:  # the status line is out; nothing left to say
                raise
            response = JSONResponse(error_body("internal error", reference=reference), status_code=500)
            await response(scope, receive, send)
