"""/ask (POST and GET) and /ask-visual: questions in Spanish or English, answered from the lake."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response

from api import examples
from api.deps import AskDep, ClientDep
from api.schemas import (
    MAX_QUESTION_CHARS,
    YEARS,
    AskRefusalBody,
    AskRequest,
    AskResponse,
    BoundedDateTime,
    ChartData,
    ErrorBody,
)
from api.services import charts
from datalake.errors import DataValidationError
from datalake.timebounds import is_date_arithmetic_error

router = APIRouter(tags=["ask"])
MADRID = ZoneInfo("Europe/Madrid")

_REFUSAL = {
    "description": "A question it cannot answer (the reason and questions it can answer), "
    "or an invalid field (`field` names it, e.g. an as_of outside the supported years).",
    "model": AskRefusalBody | ErrorBody,
    "content": {"application/json": {"example": examples.ASK_REFUSAL}},
}
_ASK_RESPONSES: dict[int | str, dict[str, Any]] = examples.responses(
    401,
    413,
    429,
    503,
    ok={
        "content": {
            "application/json": {
                "examples": {
                    "es": {"summary": "Spanish", "value": examples.ASK_RESPONSE_ES},
                    "en": {"summary": "English", "value": examples.ASK_RESPONSE_EN},
                }
            }
        }
    },
)
_ASK_RESPONSES[422] = _REFUSAL


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    # Questions are about Madrid days: a moment without an offset is Madrid wall time.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=MADRID)


def _cell(value: Any) -> Any:
    """A JSON-safe cell: no NaN or infinity (JSON has none), times as ISO text."""
    kind = type(value)
    if kind is str or kind is int or value is None:  # most cells (the executors' are JSON-ready)
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "isoformat"):  # pandas.Timestamp
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _cell(value.item())
    return str(value)


def _answer(ask: AskDep, question: str, as_of: dt.datetime | None) -> Any:
    try:
        return ask(question.strip(), _aware(as_of))
    except (OverflowError, ValueError) as error:
        # as_of is bounded already, so a date past what Python holds came from the question
        # ("dentro de 300 siglos"): the caller's 422, not a crash.
        if not is_date_arithmetic_error(error):
            raise
        raise DataValidationError("question", f"a date it names is out of range ({YEARS}): {error}") from None


def _response(result: Any) -> AskResponse:
    return AskResponse(
        question=result.question,
        language=result.language,
        answer=result.answer,
        interpretation=dict(result.interpretation or {}),
        sql=result.sql,
        columns=[str(c) for c in result.columns],
        rows=[[_cell(v) for v in row] for row in result.rows],
        engine=result.engine,
    )


#: The body of POST /ask and of its alias /ask-text, with its documented examples.
AskBody = Annotated[
    AskRequest,
    Body(
        openapi_examples={
            "es": {"summary": "In Spanish", "value": examples.ASK_REQUEST_ES},
            "en": {"summary": "In English, as of a past moment", "value": examples.ASK_REQUEST_EN},
        }
    ),
]


@router.post(
    "/ask",
    response_model=AskResponse,
    summary="Ask a question about Spanish electricity data (Spanish or English)",
    responses=_ASK_RESPONSES,
)
def ask_post(
    ask: AskDep,
    _client: ClientDep,
    body: AskBody,
) -> AskResponse:
    """Answer a question with a sentence, the table behind it, and the SQL that produced it.

    A question outside what the lake holds gets a 422 with the reason and two or three
    questions it can answer.
    """
    return _response(_answer(ask, body.question, body.as_of))


@router.post(
    "/ask-text",
    response_model=AskResponse,
    summary="The same as POST /ask (the name the movies brief uses)",
    responses=_ASK_RESPONSES,
)
def ask_text(
    ask: AskDep,
    _client: ClientDep,
    body: AskBody,
) -> AskResponse:
    """An alias of ``POST /ask``: the same body, the same answer, the same refusals."""
    return _response(_answer(ask, body.question, body.as_of))


@router.get(
    "/ask",
    response_model=AskResponse,
    summary="Ask a question in the query string (?q=...)",
    responses=_ASK_RESPONSES,
)
def ask_get(
    ask: AskDep,
    _client: ClientDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUESTION_CHARS,
            description="The question, in Spanish or English.",
            openapi_examples={
                "es": {"summary": "In Spanish", "value": examples.ASK_REQUEST_ES["question"]},
                "en": {"summary": "In English", "value": examples.ASK_REQUEST_EN["question"]},
            },
        ),
    ],
    as_of: Annotated[
        BoundedDateTime | None,
        Query(
            description=f"Answer as of this moment (ISO 8601; without an offset, Madrid time; {YEARS}).",
            openapi_examples={"past": {"summary": "A past moment", "value": "2024-06-10T12:00:00+02:00"}},
        ),
    ] = None,
) -> AskResponse:
    """The same as ``POST /ask``, for links and quick tries."""
    return _response(_answer(ask, q, as_of))


@router.post(
    "/ask-visual",
    summary="Answer a question as a chart (PNG), or the chart's data (?format=json)",
    response_model=None,
    responses={
        **examples.responses(401, 413, 429, 503),
        200: {
            "description": "The chart as a PNG; with ?format=json, the data it shows.",
            "model": ChartData,
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}, "example": "(PNG bytes)"},
                "application/json": {"example": examples.ASK_VISUAL_JSON},
            },
        },
        422: _REFUSAL,
    },
)
def ask_visual(
    ask: AskDep,
    _client: ClientDep,
    body: Annotated[
        AskRequest,
        Body(
            openapi_examples={
                "line": {"summary": "A time series (line)", "value": examples.ASK_VISUAL_REQUEST_ES},
                "bars": {"summary": "A ranking (bars)", "value": examples.ASK_VISUAL_REQUEST_EN},
            }
        ),
    ],
    output: Annotated[
        Literal["png", "json"],
        Query(
            alias="format",
            description="png (default) or json.",
            openapi_examples={"png": {"value": "png"}, "json": {"value": "json"}},
        ),
    ] = "png",
) -> Response:
    """Lines for time series, bars for rankings and comparisons, a big number for one value.

    Titles, axes and units are in the question's language; times are drawn in Madrid time.
    """
    result = _answer(ask, body.question, body.as_of)
    if output == "json":
        data = ChartData.model_validate(charts.chart_data(result))
        return Response(data.model_dump_json(), media_type="application/json")
    return Response(
        charts.render_png(result),
        media_type="image/png",
        headers={"Content-Disposition": 'inline; filename="answer.png"'},
    )
