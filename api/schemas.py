"""Request and response bodies, with their OpenAPI examples."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api import examples
from datalake.timebounds import MAX_YEAR, MIN_YEAR, is_supported_year, year_range_reason

_DateLike = TypeVar("_DateLike", dt.date, dt.datetime)


def _supported_year(value: _DateLike) -> _DateLike:
    # A ValueError becomes a 422 whose loc (hence ``field``) names the parameter.
    if not is_supported_year(value):
        raise ValueError(year_range_reason(value.year))
    return value


#: A caller's moment or day: years MIN_YEAR-MAX_YEAR (date arithmetic past them overflows).
BoundedDateTime = Annotated[dt.datetime, AfterValidator(_supported_year)]
BoundedDate = Annotated[dt.date, AfterValidator(_supported_year)]
YEARS = f"years {MIN_YEAR}-{MAX_YEAR}"

#: Longest question accepted (characters); a body limit caps the bytes as well.
MAX_QUESTION_CHARS = 500


class AskRequest(BaseModel):
    """A question in Spanish or English, optionally answered as of a moment in the past."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [examples.ASK_REQUEST_ES, examples.ASK_REQUEST_EN]}
    )

    question: str = Field(
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        description="The question, in Spanish or English.",
    )
    as_of: BoundedDateTime | None = Field(
        None,
        description="Answer as if it were this moment (ISO 8601; without an offset, Europe/Madrid time; "
        f"{YEARS}). Relative periods ('yesterday', 'la semana pasada') count from it. Default: now.",
    )


class AskResponse(BaseModel):
    """The answer, how the question was understood, and the guarded SQL that produced it."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.ASK_RESPONSE_ES]})

    question: str
    language: Literal["es", "en"]
    answer: str = Field(description="One sentence, in the question's language.")
    interpretation: dict[str, Any] = Field(description="What the question was taken to mean.")
    sql: str = Field(
        description="The SQL that ran: built from the interpretation (never from the text), or written by "
        "the text-to-SQL model (ASK_BACKEND) and let through by the same guard."
    )
    columns: list[str]
    rows: list[list[Any]]
    engine: str = Field(
        description="Which engine answered (warehouse, lake), or hf:<model id> when a model wrote the SQL."
    )


class AskRefusalBody(BaseModel):
    """Why a question cannot be answered, and questions that can."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.ASK_REFUSAL]})

    detail: str
    suggestions: list[str] = Field(min_length=1, max_length=3)
    language: Literal["es", "en"] | None = None


class ChartSeries(BaseModel):
    name: str
    values: list[float | None]


class ChartBand(BaseModel):
    """An uncertainty band around the line (a forecast's p10 to p90), one bound per x."""

    name: str = Field(description="What the band is, e.g. p10-p90.")
    low: list[float | None]
    high: list[float | None]


class ChartData(BaseModel):
    """/ask-visual?format=json: what the PNG would show."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.ASK_VISUAL_JSON]})

    question: str
    language: Literal["es", "en"] | str
    answer: str
    kind: Literal["line", "bar", "value"]
    title: str
    x_label: str
    y_label: str
    unit: str
    orientation: Literal["horizontal", "vertical"] | None = Field(
        None, description="Bars: horizontal for rankings; None lets the labels decide."
    )
    x: list[Any]
    series: list[ChartSeries]
    band: ChartBand | None = Field(None, description="A forecast's p10-p90 band around its p50 line.")


class ForecastPoint(BaseModel):
    ts_utc: dt.datetime = Field(description="Start of the hour, UTC.")
    ts_local: dt.datetime = Field(description="The same hour in Europe/Madrid.")
    p10_mw: float = Field(description="10th percentile of demand, MW.")
    p50_mw: float = Field(description="Median demand, MW.")
    p90_mw: float = Field(description="90th percentile of demand, MW.")


class ForecastResponse(BaseModel):
    """Hourly demand quantiles after the newest data, and which model made them."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.FORECAST_RESPONSE]})

    model_version: str
    data_cutoff: dt.datetime = Field(description="Newest hour of demand the model saw (UTC).")
    origin: dt.datetime = Field(description="First forecast hour (UTC).")
    horizon_hours: int
    missing_hours_filled: int = Field(0, description="Missing hours in the model's input, filled.")
    served_by: str = Field(description="in_process, or endpoint:<SageMaker endpoint name>.")
    covariates: str | None = Field(
        None,
        description="'weather' (the weather model, with the stored forecast issued before the origin) or "
        "'calendar only' (a model without weather, or the fallback when the weather was missing).",
    )
    weather_note: str | None = Field(
        None, description="Why the weather model did not answer, when it did not."
    )
    points: list[ForecastPoint]


class HistoricalPrediction(BaseModel):
    model_version: str
    data_cutoff: dt.datetime = Field(description="Newest hour of demand the forecast saw (UTC).")
    ts_utc: dt.datetime
    ts_local: dt.datetime
    horizon_h: int = Field(description="Hours after the data cut-off (1 = the next hour).")
    p10_mw: float
    p50_mw: float
    p90_mw: float
    served_by: str
    first_served_at: dt.datetime = Field(description="When the API first served this forecast.")
    times_served: int = Field(description="Responses that included this hour's forecast.")
    actual_mw: float | None = Field(description="Measured demand, once known.")
    error_mw: float | None = Field(description="p50 minus actual, MW.")
    ape_pct: float | None = Field(description="Absolute percentage error of p50, %.")
    in_band: bool | None = Field(description="Whether the actual fell between p10 and p90.")


class PredictionSummary(BaseModel):
    with_actual: int = Field(description="Matching predictions whose hour has an actual.")
    mae_mw: float | None
    mape_pct: float | None
    band_coverage: float | None = Field(description="Share of actuals inside p10..p90 (about 0.8 is right).")


class HistoricalPage(BaseModel):
    """One page of served forecast hours, newest data cut-off first, with errors once actuals exist."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.HISTORICAL_RESPONSE]})

    items: list[HistoricalPrediction]
    total: int
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last one.")
    summary: PredictionSummary


class Probe(BaseModel):
    """A public probe's answer: ok or not, and nothing else (no names, errors or versions)."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.PROBE_OK, examples.PROBE_UNAVAILABLE]})

    status: Literal["ok", "unavailable"]


class Liveness(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.HEALTH_RESPONSE["liveness"]]})

    alive: bool
    version: str
    uptime_s: float


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, dict[str, Any]]


class HealthReport(BaseModel):
    """/health/details: liveness and readiness (database, model; catalog, movie_success reported)."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.HEALTH_RESPONSE]})

    status: Literal["ok", "degraded"]
    liveness: Liveness
    readiness: Readiness


class SourceState(BaseModel):
    """One registered source: its schedule, last processing run and how fresh its data is."""

    source: str
    scheduled: list[str]
    last_success: str | None = Field(description="When its newest succeeded processing run finished (UTC).")
    last_run_status: str | None = Field(
        description="Its newest processing run's status (failed after a success)."
    )
    table: str | None = Field(
        description="The table its freshness is read from; None: no expectation declared."
    )
    newest: str | None = Field(description="The newest date or timestamp in that table (UTC).")
    age_hours: float | None
    expected_lag_hours: int | None
    stale: bool | None = Field(description="Older than its expected lag, or no data; None: no expectation.")


class JobRun(BaseModel):
    """A job's newest run."""

    job: str
    started_at: str
    finished_at: str | None
    status: str
    rows_in: int
    rows_out: int
    rows_quarantined: int
    seconds: float | None


class CatalogTable(BaseModel):
    database: str
    table: str
    format: str
    partitions: int


class LakeStatus(BaseModel):
    """GET /status: what ``datalake status`` shows, without row counts."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.STATUS_RESPONSE]})

    runtime: str
    sources: list[SourceState]
    runs: list[JobRun]
    tables: list[CatalogTable]


class ErrorBody(BaseModel):
    detail: Any
    field: str | None = None
