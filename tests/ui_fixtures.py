"""A stand-in of the API on a loopback HTTP server, for the web app's tests (ui/).

It answers the routes the app calls with the API's own documented examples (api/examples.py,
api/movie_schemas.py, api/sales_schemas.py) and records each request, so a test can check what
the app sent (the API key header, the days, the CSV) and what it shows.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from loopback import loopback_server

from api import examples
from api.movie_schemas import PREDICTION_EXAMPLE

REFUSED_WORDS = ("fútbol", "football", "mundial", "world cup", "henry hub")
SALES_ROW = re.compile(r"^\s*(\d+),(\d{4}-\d{2}-\d{2}),", re.M)


def forecast_answer(hours: int) -> dict[str, Any]:
    """A /forecast body with ``hours`` points after a fixed cut-off."""
    cutoff = dt.datetime(2024, 6, 9, 21, tzinfo=dt.UTC)
    points = []
    for hour in range(1, hours + 1):
        ts = cutoff + dt.timedelta(hours=hour)
        p50 = 25_000.0 + 3_000.0 * ((hour % 24) / 24)
        points.append(
            {
                "ts_utc": ts.isoformat(),
                "ts_local": (ts + dt.timedelta(hours=2)).isoformat(),
                "p10_mw": p50 - 800,
                "p50_mw": p50,
                "p90_mw": p50 + 800,
            }
        )
    return {
        **examples.FORECAST_RESPONSE,
        "horizon_hours": hours,
        "data_cutoff": cutoff.isoformat(),
        "points": points,
    }


def hourly_chart(question: str) -> dict[str, Any]:
    """An /ask-visual JSON body for a week of hourly demand (a line)."""
    start = dt.datetime(2024, 6, 2, 22, tzinfo=dt.UTC)
    hours = [start + dt.timedelta(hours=h) for h in range(24 * 7)]
    return {
        "question": question,
        "language": "es",
        "answer": "Demanda horaria de la semana.",
        "kind": "line",
        "title": "Demanda horaria",
        "x_label": "Hora",
        "y_label": "Demanda (MW)",
        "unit": "MW",
        "x": [h.isoformat() for h in hours],
        "series": [{"name": "demand_mw", "values": [24_000.0 + 50 * (h % 24) for h in range(len(hours))]}],
    }


SALES_HISTORY = {
    "items": [
        {
            "request_id": "r1",
            "position": 0,
            "served_at": "2024-07-30T10:00:00Z",
            "model_version": "3",
            "model_alias": "champion",
            "store_id": 1,
            "date": "2024-07-31",
            "promo": True,
            "state_holiday": "0",
            "school_holiday": True,
            "closed": False,
            "predicted_sales": 5763.42,
            "actual_sales": 5600.0,
            "error": 163.42,
            "ape_pct": 2.92,
        }
    ],
    "total": 1,
    "limit": 100,
    "offset": 0,
    "next_offset": None,
    "summary": {"with_actual": 1, "mae": 163.42, "mape_pct": 2.92},
}


@dataclass
class FakeApi:
    """How the stand-in behaves, and what it was asked.

    ``mode``: ``ok``, ``slow`` (sleeps ``delay_s`` before answering), ``error`` (500 on every route)
    or ``garbage`` (200 with a JSON body of no expected shape).
    """

    mode: str = "ok"
    delay_s: float = 2.0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        """(status, JSON body) for one request."""
        if self.mode == "error":
            return 500, {"detail": "internal error"}
        if self.mode == "garbage":
            return 200, {"unexpected": True}
        if self.mode == "slow":
            time.sleep(self.delay_s)
        data: Any = None
        if body and not path.startswith("/predict/sales/csv"):
            try:
                data = json.loads(body)
            except ValueError:
                data = None
        if path in ("/ask", "/ask-visual"):
            question = (data or {}).get("question", "")
            lowered = question.lower()
            if any(word in lowered for word in REFUSED_WORDS):
                return 422, examples.ASK_REFUSAL
            if path == "/ask-visual":
                if "horari" in lowered or "hourly" in lowered:
                    return 200, hourly_chart(question)
                return 200, {**examples.ASK_VISUAL_JSON, "question": question}
            answer = copy.deepcopy(examples.ASK_VISUAL_JSON)
            return 200, {
                **examples.ASK_RESPONSE_EN,
                "question": question,
                "answer": f"Answer to: {question}",
                "columns": ["technology", "generation_mwh"],
                "rows": [[x, v] for x, v in zip(answer["x"], answer["series"][0]["values"], strict=True)],
            }
        if path == "/forecast":
            days = int(query.get("days", ["1"])[0])
            if not 1 <= days <= 14:
                return 422, {"detail": "days out of range", "field": "days"}
            return 200, forecast_answer(24 * days)
        if path == "/historical-predictions":
            model = query.get("model", [None])[0]
            if model == "store-sales":
                return 200, SALES_HISTORY
            if model == "movie-success":
                return 200, {
                    "items": [],
                    "total": 0,
                    "limit": 1,
                    "offset": 0,
                    "next_offset": None,
                    "summary": {},
                }
            return 200, examples.HISTORICAL_RESPONSE
        if path in ("/predict", "/predict/movie-success"):
            return 200, {**PREDICTION_EXAMPLE, "title": (data or {}).get("title", "")}
        if path in ("/predict/sales", "/predict/sales/csv"):
            if data is not None:
                rows = [(r["store_id"], r["date"]) for r in data["rows"]]
            else:
                rows = [(int(s), d) for s, d in SALES_ROW.findall(body.decode(errors="replace"))]
            if not rows:
                return 422, {"detail": "the CSV has no rows", "field": "file"}
            return 200, {
                "predictions": [
                    {"store_id": s, "date": d, "predicted_sales": 5000.0 + 100.5 * i, "closed": False}
                    for i, (s, d) in enumerate(rows)
                ],
                "model_version": "3",
                "model_alias": "champion",
            }
        if path == "/health/details":
            return 200, examples.HEALTH_RESPONSE
        if path == "/health/live":
            return 200, {"status": "ok"}
        if path == "/status":
            return 200, examples.STATUS_RESPONSE
        return 404, {"detail": "Not Found"}


@contextmanager
def fake_api(api: FakeApi) -> Iterator[str]:
    """Serve ``api`` on a free loopback port; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            api.requests.append(
                {
                    "method": method,
                    "path": url.path,
                    "query": parse_qs(url.query),
                    "headers": dict(self.headers),
                    "body": body,
                }
            )
            status, payload = api.answer(method, url.path, parse_qs(url.query), body)
            encoded = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (the slow mode)
                pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    with loopback_server(Handler) as url:
        yield url
