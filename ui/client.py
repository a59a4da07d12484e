"""A small HTTP client for the API: timeouts, the API key header, and errors people can read.

Every failure becomes an :class:`ApiError` whose ``kind`` says what went wrong (the API is down,
slow, refused the request, or answered something unexpected), so a page can say so in a
sentence instead of showing a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import httpx

#: Where the API listens when API_BASE_URL is not set (what ``datalake serve`` uses by default).
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
#: Seconds to wait for a connection and for an answer (UI_API_TIMEOUT_S overrides the latter).
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 30.0


@dataclass
class ApiError(Exception):
    """Why a call failed, in a shape pages can show.

    Attributes
    ----------
    kind
        ``down`` (no connection), ``slow`` (timed out), ``refused`` (a 4xx with a reason),
        ``unavailable`` (503: data or model missing), ``server`` (5xx) or ``bad_answer``.
    detail
        The API's ``detail`` text (or what the client saw).
    status
        The HTTP status, when there was one.
    suggestions
        Questions /ask can answer, when it refused one.
    field
        The request field the API named as wrong, when it did.
    """

    kind: str
    detail: str = ""
    status: int | None = None
    suggestions: list[str] = field(default_factory=list)
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.kind} ({self.status}): {self.detail}"


def _detail_text(detail: Any) -> str:
    """FastAPI's detail is text or a list of validation errors: one readable line."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc", []) if p not in ("body", "query"))
                parts.append(f"{where}: {item.get('msg', '')}" if where else str(item.get("msg", "")))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return "" if detail is None else str(detail)


class ApiClient:
    """The API over HTTP.

    Parameters
    ----------
    base_url
        The API's root, e.g. ``http://127.0.0.1:8000`` (API_BASE_URL by default).
    api_key
        Sent as ``X-API-Key`` when set (API_KEY by default).
    timeout_s
        Seconds to wait for an answer (UI_API_TIMEOUT_S, else 30).
    transport
        An httpx transport (tests); the network by default.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or os.environ.get("API_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        key = api_key if api_key is not None else os.environ.get("API_KEY")
        read_timeout = timeout_s or float(os.environ.get("UI_API_TIMEOUT_S") or READ_TIMEOUT_S)
        headers = {"Accept": "application/json"}
        if key:
            headers["X-API-Key"] = key
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT_S),
            transport=transport,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            raise ApiError("slow", f"no answer from {self.base_url}{path} in time ({error})") from None
        except httpx.HTTPError as error:
            raise ApiError("down", f"cannot reach {self.base_url}: {error}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            detail = body.get("detail") if isinstance(body, dict) else response.text[:300]
            kind = (
                "unavailable"
                if response.status_code == 503
                else "server"
                if response.status_code >= 500
                else "refused"
            )
            raise ApiError(
                kind,
                _detail_text(detail),
                response.status_code,
                list(body.get("suggestions") or []) if isinstance(body, dict) else [],
                body.get("field") if isinstance(body, dict) else None,
            )
        if body is None:
            raise ApiError("bad_answer", f"{path} did not answer JSON", response.status_code)
        return body

    def _shaped(self, body: Any, path: str, *keys: str) -> dict[str, Any]:
        """``body`` when it is an object with ``keys`` (the API's schema), else ``bad_answer``."""
        if not isinstance(body, dict) or any(key not in body for key in keys):
            raise ApiError("bad_answer", f"{path} answered without {', '.join(keys)}")
        return body

    # -- the routes the app uses, as the API defines them --
    def ask(self, question: str, as_of: str | None = None) -> dict[str, Any]:
        """POST /ask: the answer sentence, columns, rows and SQL (ApiError ``refused`` with suggestions)."""
        body: dict[str, Any] = {"question": question}
        if as_of:
            body["as_of"] = as_of
        return self._shaped(self._call("POST", "/ask", json=body), "/ask", "answer", "columns", "rows", "sql")

    def ask_chart(self, question: str, as_of: str | None = None) -> dict[str, Any]:
        """POST /ask-visual?format=json: the chart's kind, x, series (and band) for a question."""
        body: dict[str, Any] = {"question": question}
        if as_of:
            body["as_of"] = as_of
        return self._call("POST", "/ask-visual", params={"format": "json"}, json=body)

    def forecast(self, days: int) -> dict[str, Any]:
        """GET /forecast?days=N: hourly p10/p50/p90, the model version and the data cut-off."""
        answer = self._call("GET", "/forecast", params={"days": days})
        return self._shaped(answer, "/forecast", "model_version", "data_cutoff", "points")

    def historical(self, model: str | None = None, limit: int = 100, **filters: Any) -> dict[str, Any]:
        """GET /historical-predictions: served predictions with their errors and a summary."""
        params: dict[str, Any] = {"limit": limit, **{k: v for k, v in filters.items() if v is not None}}
        if model:
            params["model"] = model
        page = self._call("GET", "/historical-predictions", params=params)
        return self._shaped(page, "/historical-predictions", "items")

    def predict_movie(self, film: dict[str, Any]) -> dict[str, Any]:
        """POST /predict: one film's success probability, verdict and factors."""
        answer = self._call("POST", "/predict", json=film)
        return self._shaped(
            answer, "/predict", "success_probability", "success", "threshold", "model_version"
        )

    def predict_sales(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """POST /predict/sales with JSON rows."""
        answer = self._call("POST", "/predict/sales", json={"rows": rows})
        return self._shaped(answer, "/predict/sales", "predictions")

    def predict_sales_csv(self, name: str, content: bytes) -> dict[str, Any]:
        """POST /predict/sales/csv with the file as the multipart field ``file``."""
        answer = self._call("POST", "/predict/sales/csv", files={"file": (name, content, "text/csv")})
        return self._shaped(answer, "/predict/sales/csv", "predictions")

    def health(self) -> dict[str, Any]:
        """GET /health/live: whether the process answers (``{"status": "ok"}``)."""
        return self._call("GET", "/health/live")

    def lake_status(self) -> dict[str, Any]:
        """GET /status: each source's last run and freshness, each job's newest run, the tables."""
        return self._shaped(self._call("GET", "/status"), "/status", "sources", "runs", "tables")

    def health_details(self) -> dict[str, Any]:
        """GET /health/details: each check (database, model, catalog, the other models)."""
        return self._shaped(self._call("GET", "/health/details"), "/health/details", "liveness", "readiness")
