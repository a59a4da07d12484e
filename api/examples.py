"""Example requests and responses: shown in /docs and /openapi.json, and checked by the tests."""

from __future__ import annotations

from typing import Any

ASK_REQUEST_ES = {"question": "¿Cuál fue la demanda máxima de electricidad en España ayer?"}
ASK_REQUEST_EN = {
    "question": "What was the average hourly demand in Spain last week?",
    "as_of": "2024-06-10T12:00:00+02:00",
}

ASK_RESPONSE_ES: dict[str, Any] = {
    "question": "¿Cuál fue la demanda máxima de electricidad en España ayer?",
    "language": "es",
    "answer": "La demanda máxima de ayer (9 de junio de 2024) fue de 31.245 MW, a las 13:00.",
    "interpretation": {
        "metric": "demand_mw",
        "aggregate": "max",
        "region": "national",
        "period": {"start": "2024-06-09", "end": "2024-06-09", "timezone": "Europe/Madrid"},
    },
    "sql": (
        "SELECT max(demand_mw) AS max_demand_mw FROM demand_hourly WHERE region = 'national' "
        "AND local_date = DATE '2024-06-09'"
    ),
    "columns": ["max_demand_mw"],
    "rows": [[31245.0]],
    "engine": "postgres",
}

ASK_RESPONSE_EN: dict[str, Any] = {
    "question": "What was the average hourly demand in Spain last week?",
    "language": "en",
    "answer": "Average hourly demand from 3 to 9 June 2024 was 27,830 MW.",
    "interpretation": {
        "metric": "demand_mw",
        "aggregate": "avg",
        "region": "national",
        "period": {"start": "2024-06-03", "end": "2024-06-09", "timezone": "Europe/Madrid"},
    },
    "sql": (
        "SELECT avg(demand_mw) AS avg_demand_mw FROM demand_hourly WHERE region = 'national' "
        "AND local_date BETWEEN DATE '2024-06-03' AND DATE '2024-06-09'"
    ),
    "columns": ["avg_demand_mw"],
    "rows": [[27830.4]],
    "engine": "postgres",
}

ASK_REFUSAL: dict[str, Any] = {
    "detail": "No puedo responder a eso: los datos son de demanda y generación eléctrica en España.",
    "suggestions": [
        "¿Cuál fue la demanda media de ayer?",
        "¿Qué tecnología generó más energía el mes pasado?",
        "¿Cuál fue la hora de máxima demanda esta semana?",
    ],
    "language": "es",
}

ASK_VISUAL_REQUEST_ES = {"question": "Demanda horaria de la última semana"}
ASK_VISUAL_REQUEST_EN = {"question": "Top 5 technologies by generation last month"}

ASK_VISUAL_JSON: dict[str, Any] = {
    "question": "Top 3 technologies by generation last month",
    "language": "en",
    "answer": (
        "The 3 technologies that generated the most in Spain last month (May 2024) were: 1) wind, 5.12 TWh "
        "(24.1%); 2) nuclear, 4.31 TWh (20.3%); 3) solar photovoltaic, 3.98 TWh (18.7%)."
    ),
    "kind": "bar",
    "title": "Generation by technology last month (May 2024)",
    "x_label": "Technology",
    "y_label": "Generation (MWh)",
    "unit": "MWh",
    "orientation": "horizontal",
    "x": ["Wind", "Nuclear", "Solar photovoltaic"],
    "series": [{"name": "generation_mwh", "values": [5120000.0, 4310000.0, 3980000.0]}],
}

FORECAST_RESPONSE: dict[str, Any] = {
    "model_version": "v20240601T020000-3fa2c1",
    "data_cutoff": "2024-06-09T21:00:00Z",
    "origin": "2024-06-09T22:00:00Z",
    "horizon_hours": 2,
    "missing_hours_filled": 0,
    "served_by": "in_process",
    "covariates": "weather",
    "points": [
        {
            "ts_utc": "2024-06-09T22:00:00Z",
            "ts_local": "2024-06-10T00:00:00+02:00",
            "p10_mw": 24310.5,
            "p50_mw": 25102.0,
            "p90_mw": 25890.2,
        },
        {
            "ts_utc": "2024-06-09T23:00:00Z",
            "ts_local": "2024-06-10T01:00:00+02:00",
            "p10_mw": 23120.8,
            "p50_mw": 23940.1,
            "p90_mw": 24760.3,
        },
    ],
}

HISTORICAL_RESPONSE: dict[str, Any] = {
    "items": [
        {
            "model_version": "v20240601T020000-3fa2c1",
            "data_cutoff": "2024-06-09T21:00:00Z",
            "ts_utc": "2024-06-09T22:00:00Z",
            "ts_local": "2024-06-10T00:00:00+02:00",
            "horizon_h": 1,
            "p10_mw": 24310.5,
            "p50_mw": 25102.0,
            "p90_mw": 25890.2,
            "served_by": "in_process",
            "first_served_at": "2024-06-09T21:05:12.345678Z",
            "times_served": 42,
            "actual_mw": 24987.0,
            "error_mw": 115.0,
            "ape_pct": 0.46,
            "in_band": True,
        }
    ],
    "total": 1,
    "limit": 100,
    "offset": 0,
    "next_offset": None,
    "summary": {"with_actual": 1, "mae_mw": 115.0, "mape_pct": 0.46, "band_coverage": 1.0},
}

HEALTH_RESPONSE: dict[str, Any] = {
    "status": "ok",
    "liveness": {"alive": True, "version": "0.1.0", "uptime_s": 3600.2},
    "readiness": {
        "ready": True,
        "checks": {
            "database": {"ok": True, "demand_hourly": True, "predictions": True, "latency_ms": 1.2},
            "model": {
                "ok": True,
                "backend": "in_process",
                "version": "v20240601T020000-3fa2c1",
                "context_hours": 336,
                "latency_ms": 0.1,
            },
            "catalog": {
                "ok": True,
                "database": "datalake_processed",
                "tables": ["demand_hourly", "generation"],
                "latency_ms": 3.4,
            },
            "movie_success": {
                "ok": True,
                "backend": "endpoint",
                "endpoint": "datalake-movie-success",
                "status": "InService",
                "latency_ms": 48.7,
            },
            "store_sales": {
                "ok": True,
                "backend": "in_process",
                "champion": "present",
                "version": "3",
                "alias": "champion",
                "latency_ms": 4.2,
            },
        },
    },
}

STATUS_RESPONSE: dict[str, Any] = {
    "runtime": "local",
    "sources": [
        {
            "source": "ree",
            "scheduled": ["ree_daily"],
            "last_success": "2024-06-02T02:04:11+00:00",
            "last_run_status": "succeeded",
            "table": "demand_hourly",
            "newest": "2024-06-01T21:00:00+00:00",
            "age_hours": 5.1,
            "expected_lag_hours": 36,
            "stale": False,
        }
    ],
    "runs": [
        {
            "job": "ree_to_processed",
            "started_at": "2024-06-02T02:03:40.120000+00:00",
            "finished_at": "2024-06-02T02:04:11.480000+00:00",
            "status": "succeeded",
            "rows_in": 48,
            "rows_out": 48,
            "rows_quarantined": 0,
            "seconds": 31.4,
        }
    ],
    "tables": [
        {"database": "datalake_processed", "table": "demand_hourly", "format": "parquet", "partitions": 1}
    ],
}

PROBE_OK: dict[str, Any] = {"status": "ok"}
PROBE_UNAVAILABLE: dict[str, Any] = {"status": "unavailable"}


def error(detail: Any, **extra: Any) -> dict[str, Any]:
    """An error body as the API writes it."""
    return {"detail": detail, **extra}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "Missing or wrong X-API-Key (only when the deployment sets a key).",
        "content": {"application/json": {"example": error("missing or invalid API key")}},
    },
    413: {
        "description": "The request body is over API_MAX_BODY_BYTES.",
        "content": {"application/json": {"example": error("request body over 16384 bytes", field="body")}},
    },
    422: {
        "description": "A parameter or field is invalid; `field` names it.",
        "content": {
            "application/json": {
                "example": error(
                    [
                        {
                            "loc": ["query", "days"],
                            "msg": "Input should be less than or equal to 14",
                            "type": "less_than_equal",
                        }
                    ],
                    field="days",
                )
            }
        },
    },
    429: {
        "description": "Over API_RATE_LIMIT_PER_MINUTE; Retry-After says when to try again.",
        "content": {"application/json": {"example": error("rate limit of 60 requests per minute exceeded")}},
    },
    503: {
        "description": "Something the answer needs is not there yet (database, model, data).",
        "content": {
            "application/json": {
                "example": error(
                    "no demand_forecaster champion yet: run `datalake forecast train` first",
                    hint="train and promote a model first",
                )
            }
        },
    },
}


def responses(*codes: int, ok: dict[str, Any] | None = None, **extra: Any) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route: the 200 example and the listed error examples."""
    out: dict[int | str, dict[str, Any]] = {}
    if ok is not None:
        out[200] = ok
    for code in codes:
        out[code] = ERROR_RESPONSES[code]
    out.update(extra)
    return out
