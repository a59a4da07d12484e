"""Helpers for the API tests: an /ask stand-in, a tiny served model, services built from fakes.

The stand-in follows the interface of ``datalake.ask`` (``ask(question, as_of)`` returning an
object with question, language, answer, interpretation, sql, columns, rows, engine, chart;
``AskRefusal`` with reason, suggestions, language). Tests that need the real parser say so.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from forecast_fixtures import TINY, synthetic_series
from pydantic import BaseModel, Field

from api.security import ApiKeyGuard
from api.services import Services
from api.services.db import Database
from api.services.forecasts import ForecastService
from api.services.rate_limits import rate_limiter
from datalake.errors import LakeError
from datalake.forecasting import serving
from datalake.forecasting.forecaster import TransformerForecaster
from datalake.settings import Settings


class FakeAskResult(BaseModel):
    """The shape of ``datalake.ask.AskResult``."""

    question: str
    language: str
    answer: str
    interpretation: dict[str, Any] = Field(default_factory=dict)
    sql: str = ""
    columns: list[str] = Field(default_factory=list)
    rows: list[list[Any]] = Field(default_factory=list)
    engine: str = "postgres"
    chart: dict[str, Any] = Field(default_factory=dict)


class FakeRefusal(LakeError):
    """The shape of ``datalake.ask.AskRefusal``."""

    def __init__(self, reason: str, suggestions: list[str], language: str = "es") -> None:
        super().__init__(reason)
        self.reason, self.suggestions, self.language = reason, suggestions, language


HOURS = pd.date_range("2024-06-09 22:00", periods=24, freq="h", tz="UTC")


def series_result(question: str, language: str) -> FakeAskResult:
    """A day of hourly demand: a line chart."""
    spanish = language == "es"
    return FakeAskResult(
        question=question,
        language=language,
        answer="La demanda de ayer, hora a hora." if spanish else "Yesterday's demand, hour by hour.",
        interpretation={"metric": "demand_mw", "grain": "hour"},
        sql="SELECT ts_utc, demand_mw FROM demand_hourly WHERE region = 'national'",
        columns=["ts_utc", "demand_mw"],
        rows=[[ts.to_pydatetime(), 25_000.0 + 100 * i] for i, ts in enumerate(HOURS)],
        chart={
            "kind": "line",
            "x": "ts_utc",
            "y": "demand_mw",
            "unit": "MW",
            "title": "Demanda horaria, 10 de junio de 2024" if spanish else "Hourly demand, 10 June 2024",
            "x_label": "Hora" if spanish else "Hour",
            "y_label": "Demanda" if spanish else "Demand",
        },
    )


def ranking_result(question: str, language: str) -> FakeAskResult:
    """Generation by technology: bars."""
    return FakeAskResult(
        question=question,
        language=language,
        answer="Wind led." if language == "en" else "Lideró la eólica.",
        interpretation={"metric": "energy_mwh", "group_by": "technology"},
        sql="SELECT technology, sum(energy_mwh) AS energy_mwh FROM generation GROUP BY technology",
        columns=["technology", "energy_mwh"],
        rows=[["Eólica", 5_120_000.0], ["Nuclear", 4_310_000.0], ["Solar fotovoltaica", 3_980_000.0]],
        chart={
            "kind": "bar",
            "x": "technology",
            "y": "energy_mwh",
            "unit": "MWh",
            "title": "Generation by technology" if language == "en" else "Generación por tecnología",
            "x_label": "Technology" if language == "en" else "Tecnología",
            "y_label": "Energy" if language == "en" else "Energía",
        },
    )


def value_result(question: str, language: str) -> FakeAskResult:
    """One number: an annotated figure."""
    return FakeAskResult(
        question=question,
        language=language,
        answer="31.245 MW" if language == "es" else "31,245 MW",
        interpretation={"metric": "demand_mw", "aggregate": "max"},
        sql="SELECT max(demand_mw) AS max_demand_mw FROM demand_hourly",
        columns=["max_demand_mw"],
        rows=[[31_245.0]],
        chart={
            "kind": "none",
            "unit": "MW",
            "title": "Demanda máxima" if language == "es" else "Peak demand",
            "y_label": "Demanda máxima" if language == "es" else "Peak demand",
        },
    )


class FakeAsk:
    """``ask(question, as_of)``: records its calls; answers by keywords, refuses the rest."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dt.datetime | None]] = []

    def __call__(self, question: str, as_of: dt.datetime | None = None, **_: Any) -> FakeAskResult:
        self.calls.append((question, as_of))
        text = question.lower()
        language = "en" if any(w in text.split() for w in ("what", "the", "which", "top", "how")) else "es"
        if "boom" in text:
            raise RuntimeError("secret internals: password=hunter2")
        if "tecnolog" in text or "technolog" in text:
            return ranking_result(question, language)
        if "máxima" in text or "peak" in text or "maximum" in text:
            return value_result(question, language)
        if "demand" in text:
            return series_result(question, language)
        if language == "es":
            raise FakeRefusal(
                "No puedo responder a eso: los datos son de demanda y generación eléctrica en España.",
                ["¿Cuál fue la demanda media de ayer?", "¿Qué tecnología generó más el mes pasado?"],
                "es",
            )
        raise FakeRefusal(
            "I cannot answer that: the data is about electricity demand and generation in Spain.",
            ["What was the average demand yesterday?", "Which technology generated most last month?"],
            "en",
        )


def tiny_model(directory: Path, version: str = "v-test-1") -> serving.ServedModel:
    """An untrained TINY forecaster saved and loaded as a served model (forecasts are fast)."""
    TransformerForecaster(TINY).save(directory)
    model = serving.load_served_model(directory)
    model.version = version
    return model


def synthetic_history(days: int = 30) -> pd.Series:
    return synthetic_series(days=days)


class FakePredictions:
    """A PredictionStore stand-in that keeps what it is given."""

    def __init__(self) -> None:
        self.logged: list[dict[str, Any]] = []

    def log(self, answer: dict[str, Any], **kwargs: Any) -> int:
        self.logged.append({"answer": answer, **kwargs})
        return len(answer["points"])

    def enqueue(self, answer: dict[str, Any], **kwargs: Any) -> bool:
        self.log(answer, **kwargs)
        return True

    def flush(self, timeout: float = 30.0) -> bool:
        return True

    def page(self, where: Any, *, limit: int, offset: int) -> dict[str, Any]:
        return {
            "items": [],
            "total": 0,
            "summary": {"with_actual": 0, "mae_mw": None, "mape_pct": None, "band_coverage": None},
        }


def fake_services(
    settings: Settings,
    tmp_path: Path,
    *,
    ask: Callable[..., Any] | None = None,
    load_champion: Callable[[Path], serving.ServedModel] | None = None,
    champion_version: Callable[[], str | None] | None = None,
    load_history: Callable[[int], pd.Series] | None = None,
    clock: Callable[[], float] | None = None,
    predictions: Any | None = None,
    load_weather: Callable[[], Any] | None = None,
) -> Services:
    """Services with no database: the model, history and /ask are fakes unless given."""
    model_dir = tmp_path / "tiny-model"
    model = tiny_model(model_dir) if load_champion is None else None
    history = synthetic_history()
    database = Database(settings, url="postgresql://nobody@127.0.0.1:9/none")
    forecasts = ForecastService(
        settings,
        None,
        load_champion=load_champion or (lambda _dest: model),
        champion_version=champion_version or (lambda: "v-test-1"),
        load_history=load_history or (lambda hours: history.iloc[-hours:]),
        load_weather=load_weather or (lambda: None),
        **({"clock": clock} if clock else {}),
    )
    return Services(
        settings=settings,
        database=database,
        forecasts=forecasts,
        predictions=predictions or FakePredictions(),
        api_keys=ApiKeyGuard(settings),
        limiter=rate_limiter(settings, database),
        ask=ask or FakeAsk(),
        catalog=lambda: _FakeCatalog(),
    )


class _FakeCatalog:
    """Names two tables for /health/details and holds no table definitions (/status lists none)."""

    def list_tables(self, database: str) -> list[str]:
        return ["demand_hourly", "generation"]

    def list_databases(self) -> list[str]:
        return []

    def find_table(self, database: str, name: str) -> None:
        return None


class RecordingRuntime:
    """A sagemaker-runtime client that records requests and answers from a script."""

    def __init__(self, *answers: Any) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers = list(answers)

    def invoke_endpoint(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {"Body": io.BytesIO(json.dumps(answer).encode()), "ContentType": "application/json"}
