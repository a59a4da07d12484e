"""How ``datalake ui`` starts the app: ``streamlit run ui/app.py`` on localhost, pointed at the API."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
#: Streamlit's usual port; the API keeps 8000.
DEFAULT_PORT = 8501


def streamlit_command(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line for the app.

    Parameters
    ----------
    host
        Interface to listen on (``127.0.0.1`` keeps it on this machine).
    port
        TCP port.

    Returns
    -------
    list[str]
        Arguments for :func:`subprocess.run`: headless (no browser opened), no usage statistics,
        no file watcher (an installed app does not change under it).
    """
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        # Never a traceback in the browser (the app catches what it can; this is the backstop).
        "--client.showErrorDetails",
        "none",
    ]


def streamlit_environment(
    api_url: str, base: dict[str, str] | None = None, api_key: str | None = None
) -> dict[str, str]:
    """The app's environment: ``API_BASE_URL`` set, and the repository importable (``ui``, ``datalake``).

    Parameters
    ----------
    api_url
        The API's base URL.
    base
        The environment to start from (this process's by default); API_KEY passes through.
    api_key
        The API key from the settings (a ``.env`` file), used when the environment has none.

    Returns
    -------
    dict[str, str]
    """
    env = dict(os.environ if base is None else base)
    env["API_BASE_URL"] = api_url
    if api_key and not env.get("API_KEY"):
        env["API_KEY"] = api_key
    repo = str(APP.parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH", "")) if p)
    return env
