"""The Lambda entry point: the same app behind API Gateway (REST v1 and HTTP API v2) through Mangum.

Everything here runs once per container (the cold start): the settings, the app, and the
services it holds, the database pool among them (opened on the first request that needs
it and kept for the container's life). Mangum's lifespan is off, because Mangum would run
startup and shutdown around every invocation and close the pool each time.

Configure the stage with ``API_ROOT_PATH`` (e.g. ``/prod``): HTTP API events carry the stage
in the path and Mangum strips it; REST API events do not; either way the app's root path
makes ``/prod/docs`` load ``/prod/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from mangum import Mangum

from api.main import create_app, root_path
from datalake.settings import get_settings


def build_handler(settings: Any | None = None, app: Any | None = None) -> Mangum:
    """A Mangum adapter around the app (tests build their own with their settings).

    Parameters
    ----------
    settings
        The process settings by default.
    app
        The ASGI app; :func:`api.main.create_app` with ``settings`` by default.
    """
    settings = settings or get_settings()
    return Mangum(
        app or create_app(settings),
        lifespan="off",
        api_gateway_base_path=root_path(settings) or "/",
    )


handler = build_handler()
