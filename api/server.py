"""How ``datalake serve`` runs the API on uvicorn: the app factory and the server's options."""

from __future__ import annotations

from typing import Any

from datalake.settings import Settings

#: An import string and a factory: each worker process builds its own app, pool and caches.
APP = "api.main:create_app"


def uvicorn_options(
    settings: Settings, *, host: str, port: int, workers: int, reload: bool, log_level: str
) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run(APP, ...)`` (and of ``uvicorn.Config``).

    X-Forwarded-For is trusted only from ``FORWARDED_ALLOW_IPS`` (the load balancer's
    networks). Empty, proxy headers are off: the client is the TCP peer, so rotating the
    header does not give a caller a fresh rate-limit bucket. (uvicorn's own default trusts
    127.0.0.1, which lets anything on the host, or a local proxy's clients, pick their address.)

    Parameters
    ----------
    settings
        ``forwarded_allow_ips``.
    host, port, workers, reload, log_level
        Where and how to serve.

    Returns
    -------
    dict
    """
    trusted = settings.forwarded_allow_ips
    return {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "reload": reload,
        "log_level": log_level,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
        "server_header": False,  # no "server: uvicorn" on every answer
    }
