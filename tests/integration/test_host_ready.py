"""The EC2 host's readiness wait (issue 15, finding 8): ``datalake.deploy.host_ready`` decides the exit
status the user data sends with cfn-signal. It is run here against a real HTTP server on localhost
that answers the API's health routes with the API's own response shapes (checked against
api.schemas), and as the command the user data runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from api.schemas import HealthReport, Probe
from datalake.deploy.host_ready import probe, wait_until_serving

KEY = "k-host-ready"


def details(database_ok: bool, model_error: str | None) -> dict[str, Any]:
    """A /health/details body as the API writes it (validated against its schema)."""
    checks = {
        "database": {"ok": True, "demand_hourly": False, "predictions": False, "latency_ms": 1.0}
        if database_ok
        else {"ok": False, "error": "connection refused", "latency_ms": 2001.0},
        "model": {
            "ok": True,
            "backend": "endpoint",
            "endpoint": "e",
            "status": "InService",
            "latency_ms": 9.0,
        }
        if model_error is None
        else {"ok": False, "error": model_error, "latency_ms": 9.0},
        "catalog": {"ok": False, "error": "no database datalake_dev_processed", "latency_ms": 4.0},
    }
    ready = database_ok and model_error is None
    report = {
        "status": "ok" if ready else "degraded",
        "liveness": {"alive": True, "version": "0.1.0", "uptime_s": 1.0},
        "readiness": {"ready": ready, "checks": checks},
    }
    return HealthReport.model_validate(report).model_dump(mode="json")


class FakeApi:
    """What the health routes answer, call by call: a list of (ready status, details body)."""

    def __init__(self, states: list[tuple[int, dict[str, Any] | None]]) -> None:
        self.states = states
        self.calls: list[str] = []

    def answer(self, path: str, key: str | None) -> tuple[int, dict[str, Any]]:
        self.calls.append(path)
        ready_calls = self.calls.count("/health/ready")
        status, body = self.states[min(ready_calls, len(self.states)) - 1]
        if path == "/health/ready":
            probe_body = {"status": "ok" if status == 200 else "unavailable"}
            return status, Probe.model_validate(probe_body).model_dump()
        if path == "/health/details":
            if key != KEY:
                return 401, {"detail": "missing or invalid API key"}
            return 200, body or {}
        return 404, {"detail": "Not Found"}


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(api: FakeApi) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = api.answer(self.path, self.headers.get("X-API-Key"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _closed_port() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}"


def test_finding_8_host_ready_waits_for_the_api_to_become_ready(serve: Any) -> None:
    api = FakeApi([(503, details(False, "x")), (503, details(False, "x")), (200, None)])
    verdict = wait_until_serving(serve(api), KEY, timeout_s=10, interval_s=0.01)
    assert verdict.serving and verdict.reason == "ready"
    assert api.calls.count("/health/ready") == 3


def test_finding_8_host_ready_accepts_a_missing_model_but_never_a_missing_database(serve: Any) -> None:
    # A first deploy: the database answers, no model is served yet (the ml layer has no ModelDataUrl).
    missing_model = details(True, "endpoint datalake-dev-demand-forecast is not found")
    verdict = probe(serve(FakeApi([(503, missing_model)])), KEY)
    assert verdict.serving
    assert "model: endpoint datalake-dev-demand-forecast is not found" in verdict.reason
    # ...unless the model is required.
    assert not probe(serve(FakeApi([(503, missing_model)])), KEY, require_model=True).serving
    # The database does not answer: the install is not serving, whatever the model does.
    verdict = wait_until_serving(
        serve(FakeApi([(503, details(False, None))])), KEY, timeout_s=0.2, interval_s=0.05
    )
    assert not verdict.serving
    assert verdict.reason.startswith("not serving after 0 s: database: connection refused")
    # /health/details needs the API key; without it the host cannot tell, so it does not signal success.
    verdict = probe(serve(FakeApi([(503, missing_model)])), None)
    assert not verdict.serving and "/health/details answered 401" in verdict.reason


def test_finding_8_host_ready_reports_an_api_that_never_answers() -> None:
    verdict = wait_until_serving(_closed_port(), KEY, timeout_s=0.2, interval_s=0.05)
    assert not verdict.serving and verdict.reason.endswith("the API does not answer")


def test_finding_8_host_ready_command_exit_status_is_the_signal(serve: Any) -> None:
    """The command as the user data runs it: the API key read as the app reads it (API_KEY here)."""
    env = {**os.environ, "API_KEY": KEY}
    env.pop("API_KEY_SECRET_ARN", None)
    command = [sys.executable, "-m", "datalake.deploy.host_ready", "--timeout", "1", "--interval", "0.1"]
    ok = subprocess.run(
        [*command, "--url", serve(FakeApi([(503, details(True, "not found"))]))],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert "serving; readiness waits for catalog" in ok.stdout
    failed = subprocess.run(
        [*command, "--url", _closed_port()], env=env, capture_output=True, text=True, timeout=60
    )
    assert failed.returncode == 1
    assert "host_ready: not serving after 1 s: the API does not answer" in failed.stderr
