"""Demand questions about the future, answered by the champion forecaster (p50 and its p10-p90 band).

The parser resolves the question as for the past; :func:`forecast_period` then decides who
answers. The forecaster answers when, with a forecaster injected into :func:`datalake.ask.ask`:

- the question asks for national demand (or a demand forecast) over one period, as a value, an
  extreme, a series or a mean (not a comparison, a forecast error, a grouping or a ranking);
- it does not name the grid operator ("previsión del operador", "REE forecast": that is the
  operator's day-ahead column, past or future, as before);
- the period, read in Madrid time, is not over at ``as_of``:

  * entirely after ``as_of`` ("mañana", "next week", "el jueves que viene"): the whole period;
  * running at ``as_of`` ("hoy", "this week"): a forecast question ("previsión de demanda
    para hoy", "¿cuál será la demanda hoy?") gets the model's forecast for **the rest** of the
    period, from the current hour; the answer names it "el resto de hoy" / "the rest of
    today". A plain "demanda hoy" keeps reading the actuals so far (the past part);
  * over: the lake answers (actuals, or the operator's forecast column for "previsión").

Without a forecaster (the evaluation set, library calls that pass none) every question keeps
its lake answer: future demand reads the operator's forecast column.

The model forecasts the :data:`~datalake.forecasting.serving.MAX_HORIZON_HOURS` after its newest
data (as ``/forecast`` does); the hours asked must lie in that window.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datalake.ask import lexicon as lx
from datalake.ask.answer import power
from datalake.ask.intent import DAYS_KEPT, Intent
from datalake.ask.parser import read
from datalake.ask.periods import MADRID, UTC, Period, hour_text
from datalake.errors import DataValidationError, ForecastUnavailableError, ObjectNotFoundError

if TYPE_CHECKING:
    from datalake.settings import Settings

#: ``forecaster(horizon_hours)`` -> the ``/forecast`` answer: ``model_version``, ``data_cutoff``,
#: ``origin`` and ``points`` (``ts_utc``, ``p10_mw``, ``p50_mw``, ``p90_mw``), hourly from ``origin``.
Forecaster = Callable[[int], Mapping[str, Any]]

#: The hours asked of the forecaster: its whole window, so every question shares one cached answer.
HORIZON_HOURS = 14 * 24
COLUMNS = ["ts_utc", "p10_mw", "p50_mw", "p90_mw"]
_OPERATOR = lx.phrase_pattern(lx.OPERATOR)
# A running period asked in the future tense is asked about its rest ("¿cuál será la demanda hoy?").
_FUTURE_TENSE = lx.phrase_pattern(
    (
        "sera", "seran", "habra", "va a ser", "vamos a", "se espera", "queda", "resto", "lo que queda",
        "will", "will be", "going to", "rest of", "remaining", "expected",
    )
)  # fmt: skip
_ANSWERED = ("instant", "total", "average", "max", "min", "trend", "top")


@dataclass(frozen=True)
class ForecastAnswer:
    """The forecaster's answer to one question (the fields of an ``AskResult`` it sets)."""

    answer: str
    interpretation: dict[str, Any]
    columns: list[str]
    rows: list[list[Any]]
    chart: dict[str, Any]
    sql: str = ""
    engine: str = "forecaster"

    def fields(self) -> dict[str, Any]:
        """As keyword arguments of ``AskResult``."""
        return {
            "answer": self.answer,
            "interpretation": self.interpretation,
            "sql": self.sql,
            "columns": self.columns,
            "rows": self.rows,
            "engine": self.engine,
            "chart": self.chart,
        }


def forecast_period(question: str, intent: Intent, as_of: dt.datetime) -> Period | None:
    """The hours the forecaster answers for, or None when the lake answers (see the module's rules).

    Parameters
    ----------
    question
        As asked (read again for the operator's name and the future tense).
    intent
        What the parser understood.
    as_of
        When it is asked (aware).

    Returns
    -------
    Period or None
        A period starting at or after the current hour, in Madrid time.
    """
    if (
        intent.measure not in ("demand", "forecast")
        or intent.aggregate not in _ANSWERED
        or intent.against is not None
        or len(intent.periods) != 1
        or intent.region != "national"  # the forecaster is trained on national demand only
    ):
        return None
    text = read(question).text
    if _OPERATOR.search(text):
        return None
    period = intent.period
    end = period.clipped_from or period.end
    now = current_hour(as_of)
    if end.astimezone(UTC) <= now:
        return None
    if period.start_utc >= now:
        return replace(period, end=end, clipped_from=None)
    if intent.measure == "demand" and not _FUTURE_TENSE.search(text):
        return None  # "demanda hoy": the actuals so far, as before
    return Period(
        now.astimezone(MADRID),
        end,
        f"el resto de {period.name_es}" if period.name_es else "lo que queda del periodo",
        f"the rest of {period.name_en}" if period.name_en else "the rest of the period",
    )


def current_hour(as_of: dt.datetime) -> dt.datetime:
    """The start of the hour ``as_of`` is in (UTC): the first hour not measured yet."""
    return as_of.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def forecast_answer(
    intent: Intent, period: Period, as_of: dt.datetime, forecaster: Forecaster
) -> ForecastAnswer:
    """Answer ``intent`` over ``period`` from the forecaster: p50 with its p10-p90 band, in MW.

    Parameters
    ----------
    intent
        What the parser understood (its language, aggregate and kind-of-day filter are used).
    period
        From :func:`forecast_period`.
    as_of
        When it is asked (aware).
    forecaster
        Gives the ``/forecast`` answer for a horizon.

    Returns
    -------
    ForecastAnswer

    Raises
    ------
    ForecastUnavailableError
        No champion, no recent demand to forecast from, or the newest data too old to reach the
        period (a 503 in the API).
    DataValidationError
        The period lies beyond the forecaster's 14 days, or ``as_of`` is before the newest data
        the forecaster starts from (the caller's 422).
    """
    forecast = _forecast(forecaster)
    version = str(forecast["model_version"])
    points = _points(forecast)
    _check_reach(period, as_of, points, forecast, intent.language)
    chosen = [p for p in points if period.start_utc <= p[0] < period.end_utc and _kept(p[0], intent.days)]
    rows = [[ts, low, mid, high] for ts, low, mid, high in chosen]
    language = intent.language
    interpretation = intent.as_dict() | {
        "method": "forecaster",
        "model_version": version,
        "data_cutoff": str(forecast.get("data_cutoff")),
        "period": period.as_dict(language),
        "periods": [period.as_dict(language)],
        "value_column": "p50_mw",
        "band_columns": ["p10_mw", "p90_mw"],
        "unit": "MW",
        "timezone": "Europe/Madrid",
    }
    return ForecastAnswer(
        answer=_sentence(intent, period, rows, version),
        interpretation=interpretation,
        columns=list(COLUMNS),
        rows=rows,
        chart=_chart(intent, period, len(rows)),
    )


def _forecast(forecaster: Forecaster) -> Mapping[str, Any]:
    try:
        return forecaster(HORIZON_HOURS)
    except ObjectNotFoundError as error:
        raise ForecastUnavailableError(
            f"no demand forecaster to answer with: {error}", hint="train and promote a model first"
        ) from None


def _points(forecast: Mapping[str, Any]) -> list[tuple[dt.datetime, float, float, float]]:
    points = []
    for point in forecast.get("points") or []:
        ts = point["ts_utc"]
        stamp = ts if isinstance(ts, dt.datetime) else dt.datetime.fromisoformat(str(ts))
        low, mid, high = (float(point[k]) for k in ("p10_mw", "p50_mw", "p90_mw"))
        points.append((stamp.astimezone(UTC), low, mid, high))
    if not points:
        raise ForecastUnavailableError("the demand forecaster answered no hours")
    return points


def _check_reach(
    period: Period,
    as_of: dt.datetime,
    points: list[tuple[dt.datetime, float, float, float]],
    forecast: Mapping[str, Any],
    language: str,
) -> None:
    """Refuse to answer hours the forecast does not hold, saying why and whose fault it is."""
    es = language == "es"
    first, after = points[0][0], points[-1][0] + dt.timedelta(hours=1)
    if period.start_utc < first:
        # The forecaster starts after its newest data; as_of asks as if that were not known yet.
        raise DataValidationError(
            "as_of",
            (
                f"el modelo pronostica desde sus datos más recientes ({hour_text(first, 'es')}, hora de "
                "Madrid); no puede pronosticar desde un momento anterior"
            )
            if es
            else (
                f"the model forecasts from its newest data ({hour_text(first, 'en')}, Madrid time); it "
                "cannot forecast as of an earlier moment"
            ),
        )
    if period.end_utc <= after:
        return
    limit = current_hour(as_of) + dt.timedelta(hours=HORIZON_HOURS)
    if period.end_utc > limit:
        raise DataValidationError(
            "question",
            (
                f"el modelo pronostica como mucho {HORIZON_HOURS // 24} días; el periodo acaba "
                f"{hour_text(period.end, 'es')} (hora de Madrid)"
            )
            if es
            else (
                f"the model forecasts {HORIZON_HOURS // 24} days ahead at most; the period ends "
                f"{hour_text(period.end, 'en')} (Madrid time)"
            ),
        )
    raise ForecastUnavailableError(
        f"the newest demand is from {forecast.get('data_cutoff')}: the forecast ends "
        f"{hour_text(after, 'en')} (Madrid time), before the end of the period asked",
        hint="load recent demand (`datalake sync`) and ask again",
    )


def _kept(ts: dt.datetime, days: str | None) -> bool:
    if days is None:
        return True
    return ts.astimezone(MADRID).weekday() in DAYS_KEPT[days]


def _sentence(intent: Intent, period: Period, rows: list[list[Any]], version: str) -> str:
    es = intent.language == "es"
    label = period.label(intent.language)
    head = (
        f"Previsión del modelo {version} (no datos medidos) de la demanda para {label}, hora de Madrid: "
        if es
        else f"Model forecast ({version}, not measured data) of demand {label}, Madrid time: "
    )
    if not rows:  # a kind-of-day filter that keeps no hour of the period
        return head + (
            "ninguna hora del periodo cumple el filtro." if es else "no hour of the period is kept."
        )
    lang = intent.language

    def band(low: float, high: float) -> str:
        return (
            f"banda p10-p90 de {power(low, lang)} a {power(high, lang)}"
            if es
            else f"p10-p90 band {power(low, lang)} to {power(high, lang)}"
        )

    if len(rows) == 1:
        _, low, mid, high = rows[0]
        return head + f"{power(mid, lang)} (p50), {band(low, high)}."
    lowest = intent.aggregate == "min" or (intent.order == "asc" and intent.aggregate == "top")
    ts, low, mid, high = (min if lowest else max)(rows, key=lambda row: row[2])
    when = hour_text(ts, lang)
    extreme = (
        f"{'mínimo' if lowest else 'máximo'} de {power(mid, lang)} (p50) {when}, {band(low, high)}"
        if es
        else f"{'lowest' if lowest else 'peak'} {power(mid, lang)} (p50) {when}, {band(low, high)}"
    )
    if intent.aggregate in ("max", "min", "top"):
        return head + extreme + "."
    count = len(rows)
    mean = [sum(row[i] for row in rows) / count for i in (1, 2, 3)]
    average = (
        f"media de {power(mean[1], lang)} por hora (p50; banda p10-p90 media de {power(mean[0], lang)} "
        f"a {power(mean[2], lang)})"
        if es
        else f"mean {power(mean[1], lang)} per hour (p50; mean p10-p90 band {power(mean[0], lang)} to "
        f"{power(mean[2], lang)})"
    )
    return head + f"{average}; {extreme}."


def _chart(intent: Intent, period: Period, hours: int) -> dict[str, Any]:
    """A line for p50 and a shaded p10-p90 band; one hour is a single figure."""
    es = intent.language == "es"
    name = "Previsión de demanda (modelo)" if es else "Demand forecast (model)"
    line = hours > 1
    return {
        "kind": "line" if line else "none",
        "x": "ts_utc" if line else None,
        "y": "p50_mw",
        "band": ["p10_mw", "p90_mw"],
        "unit": "MW",
        "title": f"{name} {period.label(intent.language)}",
        "x_label": ("Hora (Madrid)" if es else "Hour (Madrid)") if line else "",
        "y_label": f"{name} (MW)",
    }


def champion_forecaster(settings: Settings | None = None) -> Forecaster:
    """The registry's champion in this process, fed with the warehouse's newest demand.

    Loaded on the first call (a question that needs it), then kept. For the CLI; the API passes
    its own :class:`~api.services.forecasts.ForecastService` instead (the same forecast as ``/forecast``).

    Raises
    ------
    ForecastUnavailableError
        When called: not enough recent demand in the warehouse (no champion raises the registry's
        ObjectNotFoundError, which :func:`forecast_answer` turns into this error).
    """
    loaded: list[Any] = []

    def forecast(horizon_hours: int) -> Mapping[str, Any]:
        from datalake.forecasting import serving
        from datalake.forecasting.data import load_recent

        try:
            if not loaded:
                with tempfile.TemporaryDirectory(prefix="datalake-champion-") as scratch:
                    loaded.append(serving.load_champion(Path(scratch), settings))
            model = loaded[0]
            history = load_recent(model.history_hours, settings).demand_mw
            weather = serving.live_weather(settings) if model.needs_weather else None
            return serving.forecast(model, history, horizon_hours, weather)
        except DataValidationError as error:
            raise ForecastUnavailableError(f"cannot forecast from the warehouse's data: {error}") from None

    return forecast
