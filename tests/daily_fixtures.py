"""For the daily run's tests: a real incoming-webhook server on loopback, and scheduled sources that fail.

:func:`webhook` runs a ``ThreadingHTTPServer`` on 127.0.0.1 that records every POST (path, headers,
JSON body) and answers with a chosen status, optionally after a delay (a slow chat service).
:func:`with_sources` registers extra sources in front of the real ones for one test, each with one
scheduled Lambda whose daily step is one of the functions below (named by CodeRef, as the registry
names code).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from loopback import loopback_server

from datalake.errors import SourceError
from datalake.runs import RunReport, record_run
from datalake.settings import Settings
from datalake.sources import registry
from datalake.sources.registry import ENTSOE, CodeRef, SourceLambda, SourceSpec

#: The secret part of the webhook URL the tests use: it must never appear in logs or reports.
TOKEN_PATH = "/services/T0SECRET/B0SECRET/xoxb-very-secret-token"


@dataclass
class Webhook:
    """The loopback webhook: its URL (with the secret path), what it received, how it answers."""

    base: str = ""
    status: int = 200
    delay_s: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.base}{TOKEN_PATH}"


@contextmanager
def webhook(status: int = 200, delay_s: float = 0.0) -> Iterator[Webhook]:
    """A real HTTP server on 127.0.0.1 recording each POST's path, content type and JSON body."""
    state = Webhook(status=status, delay_s=delay_s)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "json": json.loads(body),
                }
            )
            time.sleep(state.delay_s)
            reply = b"ok" if state.status < 300 else b"invalid_token"
            try:
                self.send_response(state.status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test): nothing to answer

        def log_message(self, *_args: Any) -> None:
            return None

    with loopback_server(Handler) as base:
        state.base = base
        yield state


def api_down_step(now: dt.datetime, *, sample: bool, settings: Settings, progress: Any = None) -> RunReport:
    """A daily step whose API answers 503 every time: it raises, as the Lambda's invocation would."""
    raise SourceError(
        "prices API: 503 Service Unavailable after 4 attempts",
        url="https://api.example.invalid/v2/prices",
        status=503,
        retryable=True,
        attempts=4,
    )


def unbalanced_step(now: dt.datetime, *, sample: bool, settings: Settings, progress: Any = None) -> RunReport:
    """A daily step that returns a run whose counts do not balance (a record went missing)."""
    from datalake import runtime

    with record_run("ingest_leaky", runtime.object_store("lake", settings)) as report:
        report.rows_in, report.rows_out = 10, 9
    return report


def scheduled_source(name: str, step: str) -> SourceSpec:
    """A source (ENTSO-E's parts under another name and prefix) with one scheduled Lambda running ``step``."""
    return SourceSpec(
        **{
            **ENTSOE.__dict__,
            "name": name,
            "raw_prefixes": (f"raw/{name}",),
            "owned_values": {f"raw/{name}": (name,)},
            "builders": (),
            "job_setting": f"{name}_glue_job",
            "lambdas": (
                SourceLambda(
                    f"{name}_daily", f"{name.capitalize()}DailySchedule", "daily", daily=CodeRef(step)
                ),
            ),
        }
    )


@contextmanager
def with_sources(monkeypatch: pytest.MonkeyPatch, *extra: SourceSpec) -> Iterator[None]:
    """The registry with ``extra`` registered before the real sources, for the length of a block."""
    with monkeypatch.context() as patch:
        patch.setattr(registry, "SOURCES", registry.index_sources(*extra, *registry.SOURCES.values()))
        yield
