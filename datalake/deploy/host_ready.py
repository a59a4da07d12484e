"""Wait until the API on this host serves: the EC2 user data's last step before ``cfn-signal``.

``python -m datalake.deploy.host_ready --url http://127.0.0.1:8000`` exits 0 once the freshly
installed API serves, and 1 (the reason on stderr) when the deadline passes first. Its exit status
becomes the instance's signal to CloudFormation, so a release that does not start fails the deploy
and the Auto Scaling group keeps the previous instance.

Serving means ``/health/ready`` answers 200; or it answers 503 and ``/health/details`` shows the
database check passing, so only the model holds readiness back. The model's SageMaker endpoint
exists once a model is trained and the ml layer serves it: its absence is the lake's state, which a
first deploy always has, not a broken install. ``--require-model`` waits for a full 200 instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from datalake.errors import LakeError

API_KEY_HEADER = "X-API-Key"


@dataclass(frozen=True)
class Verdict:
    """Whether the API serves, and why (one line, for the instance's cloud-init log)."""

    serving: bool
    reason: str


def _get(url: str, api_key: str | None = None, timeout_s: float = 5.0) -> tuple[int | None, Any]:
    """``(status, JSON body or None)``; status None when nothing answers."""
    request = urllib.request.Request(url, headers={API_KEY_HEADER: api_key} if api_key else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (OSError, urllib.error.URLError):
        return None, None
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


Getter = Callable[[str, str | None], tuple[int | None, Any]]


def probe(
    base_url: str, api_key: str | None = None, require_model: bool = False, get: Getter = _get
) -> Verdict:
    """One look at ``/health/ready`` (and, on a 503, ``/health/details``).

    ``get(url, api_key)`` answers ``(status, JSON body)``, status None when nothing answers; urllib by
    default (the EC2 host's user data has nothing else), any HTTP client otherwise.
    """
    base_url = base_url.rstrip("/")
    status, _ = get(f"{base_url}/health/ready", None)
    if status == 200:
        return Verdict(True, "ready")
    if status is None:
        return Verdict(False, "the API does not answer")
    if status != 503:
        return Verdict(False, f"/health/ready answered {status}")
    if require_model:
        return Verdict(False, "/health/ready answered 503 (not ready)")
    status, report = get(f"{base_url}/health/details", api_key)
    if status != 200 or not isinstance(report, dict):
        return Verdict(False, f"not ready, and /health/details answered {status}")
    checks = report.get("readiness", {}).get("checks", {})
    failing = {name: check.get("error", "not ok") for name, check in checks.items() if not check.get("ok")}
    if "database" in checks and "database" not in failing:
        waiting = "; ".join(f"{name}: {error}" for name, error in sorted(failing.items()))
        return Verdict(True, f"serving; readiness waits for {waiting}")
    return Verdict(False, f"database: {failing.get('database', 'not checked')}")


def wait_until_serving(
    base_url: str,
    api_key: str | None = None,
    timeout_s: float = 900.0,
    interval_s: float = 5.0,
    require_model: bool = False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Verdict:
    """Probe until the API serves or ``timeout_s`` passes.

    Parameters
    ----------
    base_url
        The API on this host (``http://127.0.0.1:<port>``).
    api_key
        Sent to ``/health/details``, which needs it where the deployment sets a key.
    timeout_s, interval_s
        How long to wait in all, and between two probes.
    require_model
        Wait for ``/health/ready`` to answer 200 (the model too), not only for the database.

    Returns
    -------
    Verdict
        ``serving`` and the reason; on a timeout, the last probe's reason.
    """
    deadline = clock() + timeout_s
    while True:
        verdict = probe(base_url, api_key, require_model)
        if verdict.serving or clock() + interval_s > deadline:
            break
        sleep(interval_s)
    if verdict.serving:
        return verdict
    return Verdict(False, f"not serving after {timeout_s:.0f} s: {verdict.reason}")


def _api_key() -> str | None:
    """The key the API expects (API_KEY, or the API_KEY_SECRET_ARN secret), as the app reads it."""
    from api.security import ApiKeyGuard
    from datalake.settings import Settings

    expected = ApiKeyGuard(Settings()).expected()
    return expected.decode() if expected else None


def main(argv: Sequence[str] | None = None, api_key: Callable[[], str | None] = _api_key) -> int:
    """The command line: exit status 0 when the API serves, 1 when not (the reason on stderr)."""
    parser = argparse.ArgumentParser(prog="python -m datalake.deploy.host_ready", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the API on this host")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait in all")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between probes")
    parser.add_argument("--require-model", action="store_true", help="wait for /health/ready 200")
    args = parser.parse_args(argv)
    try:
        key = api_key()
    except LakeError as error:  # a host that cannot read its API key cannot serve either
        print(f"host_ready: {error}", file=sys.stderr)
        return 1
    verdict = wait_until_serving(args.url, key, args.timeout, args.interval, args.require_model)
    print(f"host_ready: {verdict.reason}", file=sys.stdout if verdict.serving else sys.stderr)
    return 0 if verdict.serving else 1


if __name__ == "__main__":
    sys.exit(main())
