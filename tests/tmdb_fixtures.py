"""TMDB on loopback: a real HTTP server in a thread, answering with the recorded shapes or the SAMPLE TMDB."""

from __future__ import annotations

import gzip
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from loopback import loopback_server

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TMDB_API = SHARED_DATA / "tmdb_api"


def recorded_bytes(name: str) -> bytes:
    """A recorded TMDB file from ../shared/data/tmdb_api (the test skips when it is not there)."""
    path = TMDB_API / name
    if not path.exists():
        pytest.skip(f"recorded TMDB shape {path} is not on this machine (../shared/data is optional)")
    return path.read_bytes()


def recorded(name: str) -> Any:
    return json.loads(recorded_bytes(name))


@dataclass
class Answer:
    """One scripted HTTP answer."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, doc: Any, **headers: str) -> Answer:
        return cls(
            status, json.dumps(doc).encode(), {"Content-Type": "application/json;charset=utf-8", **headers}
        )


@dataclass
class Seen:
    """A request the server got: path, query and headers."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class LoopbackTmdb:
    """The server's state: its URL, the requests it saw, scripted answers to play first (per path prefix)."""

    url: str
    answer: Callable[[str, dict[str, list[str]], dict[str, str]], Answer]
    seen: list[Seen] = field(default_factory=list)
    script: deque[tuple[str, Answer]] = field(default_factory=deque)

    def play_first(self, path_prefix: str, *answers: Answer) -> None:
        """Answer the next requests under ``path_prefix`` with ``answers``, in order."""
        self.script.extend((path_prefix, a) for a in answers)

    def paths(self, prefix: str = "") -> list[str]:
        return [s.path for s in self.seen if s.path.startswith(prefix)]


@contextmanager
def serve(answer: Callable[[str, dict[str, list[str]], dict[str, str]], Answer]) -> Iterator[LoopbackTmdb]:
    """Run ``answer(path, query, headers)`` behind a real ThreadingHTTPServer on 127.0.0.1."""
    state = LoopbackTmdb("", answer)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            headers = {k.lower(): v for k, v in self.headers.items()}
            with lock:
                state.seen.append(Seen(parts.path, query, headers))
                scripted = next((a for p, a in state.script if parts.path.startswith(p)), None)
                if scripted is not None:
                    state.script.remove(next(x for x in state.script if x[1] is scripted))
            reply = scripted or state.answer(parts.path, query, headers)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, *_args: Any) -> None:
            return None

    with loopback_server(Handler) as url:
        state.url = url
        yield state


def transport_answer(
    transport: httpx.BaseTransport,
) -> Callable[[str, dict[str, list[str]], dict[str, str]], Answer]:
    """Answers from an in-process transport (the SAMPLE TMDB or EIA) played over real HTTP."""

    def answer(path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Answer:
        request = httpx.Request(
            "GET",
            # Every value of a repeated parameter (EIA's facets[series][]=RWTC&facets[series][]=RBRTE).
            httpx.URL(f"http://sample.invalid{path}", params=[(k, v) for k, vs in query.items() for v in vs]),
            headers={k: v for k, v in headers.items() if k in ("authorization",)},
        )
        reply = transport.handle_request(request)
        body = reply.read()
        return Answer(reply.status_code, body, {"Content-Type": reply.headers.get("content-type", "")})

    return answer


def gzip_lines(lines: list[bytes]) -> bytes:
    return gzip.compress(b"".join(line.rstrip(b"\n") + b"\n" for line in lines), mtime=0)
