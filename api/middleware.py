"""ASGI middleware: the request body limit (413)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body


class BodySizeLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with a 413 JSON body.

    A declared ``Content-Length`` over the limit is refused before the app runs; a body
    without one (chunked) is counted as it streams in, and refused when it passes the limit.

    Parameters
    ----------
    app
        The wrapped ASGI app.
    max_bytes
        Largest body accepted.
    path_limits
        Larger limits for paths under a prefix (``/predict`` takes up to 1,000 films).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, path_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = path_limits or {}

    def _limit(self, scope: Scope) -> int:
        path = scope.get("path", "")
        for prefix, limit in self.path_limits.items():
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return limit
        return self.max_bytes

    def _too_large(self, limit: int) -> JSONResponse:
        return JSONResponse(error_body(f"request body over {limit} bytes", field="body"), status_code=413)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = next((v for k, v in scope.get("headers", []) if k.lower() == b"content-length"), None)
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                await JSONResponse(error_body("invalid Content-Length"), status_code=400)(
                    scope, receive, send
                )
                return
            if length > limit:
                await self._too_large(limit)(scope, receive, send)
                return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException passes FastAPI's body parsing untouched (anything else
                    # would become a 400 there) and reaches the JSON handler as a 413.
                    raise HTTPException(413, f"request body over {limit} bytes")
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except HTTPException as error:
            if error.status_code != 413 or started:
                raise
            await self._too_large(limit)(scope, receive, send)


class RootPathMiddleware:
    """Set the ASGI ``root_path`` (the API Gateway stage, a proxy prefix) when the server left it empty.

    Mangum strips the stage from HTTP API paths but leaves ``root_path`` empty, and REST API
    paths never carry the stage; the docs page and the OpenAPI ``servers`` read ``root_path``
    to build URLs the browser can reach (``/prod/openapi.json``, ``/prod/ask``).

    Parameters
    ----------
    app
        The wrapped ASGI app.
    root_path
        ``/stage``, or empty to change nothing.
    """

    def __init__(self, app: ASGIApp, root_path: str) -> None:
        self.app = app
        self.root_path = root_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.root_path and scope["type"] in ("http", "websocket") and not scope.get("root_path"):
            scope = {**scope, "root_path": self.root_path}
        await self.app(scope, receive, send)
