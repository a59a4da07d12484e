"""``ask``: a question in, an answer from the data out (or a refusal that says why)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import replace
from typing import Any, Literal, NoReturn

import sqlglot
from pydantic import BaseModel, ConfigDict

from datalake.ask.answer import chart, compose, data_range, is_empty, json_rows_summary
from datalake.ask.declared import read_request
from datalake.ask.errors import AskRefusal
from datalake.ask.executors import SqlExecutor, make_executor
from datalake.ask.fallback import TextToSqlBackend, configured_backend, run_model_query
from datalake.ask.future import Forecaster, forecast_answer, forecast_period
from datalake.ask.guard import guard_sql
from datalake.ask.intent import Intent
from datalake.ask.kinds import (
    Built,
    coverage_sql,
    interpretation,
    kind_of,
    no_chart,
    no_data_yet,
    not_understood,
)
from datalake.ask.parser import parse, read
from datalake.ask.periods import MADRID
from datalake.ask.routing import Routed, route, route_after_refusal, route_when_empty
from datalake.ask.sqlbuild import QueryPlan, build_query, coverage_query
from datalake.ask.suggestions import suggestions
from datalake.ask.vocabulary import named_values
from datalake.errors import QueryError
from datalake.settings import Settings, get_settings


class AskResult(BaseModel):
    """An answered question.

    Attributes
    ----------
    question
        As asked.
    language
        ``es`` or ``en``: the language of ``answer`` and ``chart``.
    answer
        One sentence with units and the exact period.
    interpretation
        What was understood: ``measure``, ``aggregate``, ``period`` (``start``, ``end``,
        ``label``), ``periods``, ``technology``, ``region``, ``granularity``, ``k``, ``order``,
        ``inner``, ``method`` (``parser`` or ``model``), ``value_column``, ``unit``.
    sql
        The guarded SQL that ran, in the engine's dialect.
    columns, rows
        Its result (JSON values; times in ISO 8601, UTC).
    engine
        ``warehouse`` or ``lake``; ``hf:<model id>`` when a model wrote the SQL (which ran on
        the engine named by ``interpretation["executor"]``).
    chart
        ``kind`` (line, bar, none), ``x``, ``y``, ``unit``, ``title``, ``x_label``, ``y_label``.
    """

    model_config = ConfigDict(frozen=True)

    question: str
    language: Literal["es", "en"]
    answer: str
    interpretation: dict[str, Any]
    sql: str
    columns: list[str]
    rows: list[list[Any]]
    engine: str
    chart: dict[str, Any]


def ask(
    question: str,
    as_of: dt.datetime | None = None,
    *,
    settings: Settings | None = None,
    engine: str | None = None,
    executor: SqlExecutor | None = None,
    backend: TextToSqlBackend | None = None,
    forecaster: Forecaster | None = None,
) -> AskResult:
    """Answer a Spanish or English question about demand and generation from the data.

    Parameters
    ----------
    question
        The question.
    as_of
        When it is asked: relative periods ("ayer", "last week") resolve from it in
        Europe/Madrid. Naive times are Madrid time; now when omitted.
    settings
        Lake settings; the process's when omitted.
    engine
        ``warehouse`` or ``lake``; ``settings.ask_engine`` (``ASK_ENGINE``) when omitted.
    executor
        Runs the guarded SQL instead of the engine's executor (tests record every statement).
    backend
        Text-to-SQL model; the one ``ASK_BACKEND`` names when omitted (none for ``parser``).
        Given, it answers what the parser does not understand (every question when
        ``ASK_BACKEND=hf``).
    forecaster
        Answers demand questions about the future (:mod:`datalake.ask.future`); without one they
        read the operator's forecast column, as the evaluation set expects.

    Returns
    -------
    AskResult

    Raises
    ------
    AskRefusal
        Too long, not understood, ambiguous, out of scope or unsafe; nothing ran. The model's
        reply had no SQL (``model_no_sql``) or SQL the guard refused (``model_unsafe``).
    datalake.errors.QueryError, datalake.errors.WarehouseUnavailableError
        The engine failed.
    datalake.errors.ForecastUnavailableError
        A question for the forecaster, which cannot answer (no champion, no recent data).
    datalake.errors.ModelUnavailableError
        The model did not answer (timeout, rate limit, server error).
    """
    settings = settings or get_settings()
    as_of = _as_of(as_of)
    if len(question) > settings.ask_max_question_chars:
        language = read(question[: settings.ask_max_question_chars]).language
        raise AskRefusal(
            f"La pregunta supera los {settings.ask_max_question_chars} caracteres."
            if language == "es"
            else f"The question is longer than {settings.ask_max_question_chars} characters.",
            suggestions=suggestions(language),
            language=language,
            kind="too_long",
        )
    executor = executor or make_executor(settings, engine)
    model = backend or configured_backend(settings)
    if model is not None and settings.ask_backend == "hf":
        language = read(question).language
        return _model_answer(question, as_of, language, suggestions(language), model, executor, settings)
    routed = route(question)
    if routed is not None:
        return _tied_answer(question, routed, as_of, executor, settings)
    try:
        intent = parse(question, as_of)
    except AskRefusal as refusal:
        declared = route_after_refusal(question, refusal)
        if declared is not None:
            try:
                result = _declared_answer(question, declared, as_of, executor, settings)
            except AskRefusal as second:
                if refusal.kind == "out_of_scope" and second.kind == "no_data":
                    raise refusal from None  # the second reader's table is not in this lake
                raise
            if refusal.kind == "out_of_scope" and _found_nothing(result):
                # A second chance that finds nothing does not replace the parser's reason ("demanda
                # eléctrica de Francia ayer": no French electricity here; world energy has no "ayer").
                raise refusal from None
            return result
        # Only what the parser does not understand: never a question it refused on purpose.
        if refusal.kind != "not_understood" or model is None:
            raise
        return _model_answer(
            question, as_of, refusal.language, refusal.suggestions, model, executor, settings
        )
    if forecaster is not None and (ahead := forecast_period(question, intent, as_of)) is not None:
        fields = forecast_answer(intent, ahead, as_of, forecaster).fields()
        return AskResult(question=question, language=intent.language, **fields)  # type: ignore[arg-type]
    daily_table = getattr(executor, "daily_demand_table", None)
    plan, sql = _parser_query(intent, executor.dialect, settings.ask_max_rows, daily_table)
    try:
        columns, rows = executor.run(sql)
    except QueryError as error:
        hourly = _parser_query(intent, executor.dialect, settings.ask_max_rows)
        if "does not exist" not in str(error):
            raise
        if hourly[1] == sql:
            raise _electricity_not_there_yet(intent.language) from None
        # A warehouse not synced since its rollup came: the hours give the same answer.
        plan, sql = hourly
        try:
            columns, rows = executor.run(sql)
        except QueryError as again:
            if "does not exist" not in str(again):
                raise
            raise _electricity_not_there_yet(intent.language) from None
    interpretation = intent.as_dict() | {"value_column": plan.value_column, "unit": plan.unit}
    answer = compose(intent, plan, columns, rows)
    if is_empty(plan, columns, rows):
        other = _declared_instead(question, as_of, executor, settings)
        if other is not None:
            return other
        # Say what the data does cover, so "no data yesterday" on a stale lake is not a dead end.
        coverage = guard_sql(
            coverage_query(intent).sql(dialect=executor.dialect), executor.dialect, max_limit=1
        )
        _, (first_last, *_) = executor.run(coverage)
        answer += data_range(*first_last, intent.language)
    return AskResult(
        question=question,
        language=intent.language,  # type: ignore[arg-type]
        answer=answer,
        interpretation=interpretation,
        sql=sql,
        columns=columns,
        rows=rows,
        engine=executor.name,
        chart=chart(intent, plan),
    )


@functools.lru_cache(maxsize=1024)
def _parser_query(
    intent: Intent, dialect: str, max_limit: int, daily_table: str | None = None
) -> tuple[QueryPlan, str]:
    """Build, render and guard once per distinct question: building and guarding the AST costs
    more than the query on a warm warehouse, and dashboards repeat the same questions. The
    intent holds absolute periods, so a cached entry never answers a different time."""
    plan = build_query(intent, daily_table=daily_table)
    return plan, guard_sql(plan.select.sql(dialect=dialect), dialect, max_limit=max_limit)


def _declared_answer(
    question: str, routed: Routed, as_of: dt.datetime, executor: SqlExecutor, settings: Settings
) -> AskResult:
    """Answer from the semantic layer: the request's kind builds the SQL, the sentence and the chart."""
    named = [(v.dimension, v.value, v.words) for v in named_values(question, routed.table, executor)]
    request = read_request(routed.text, routed.table, routed.language, as_of, named)
    kind = kind_of(request)
    if kind is None:
        raise not_understood(request)

    def from_tables() -> tuple[Built, str, list[str], list[list[Any]]]:
        built = kind.build(request, settings.ask_max_rows)
        sql = _guarded(built.sql, executor, settings.ask_max_rows)
        try:
            columns, rows = executor.run(sql)
        except QueryError as error:
            _declared_failure(error, request)
        return built, sql, columns, rows

    answered = None
    # The warehouse keeps rollups of some groupings (datalake.datasets.BRIDGE_TOTALS); the lake does not.
    rolled = kind.rolled_up(request, settings.ask_max_rows) if _keeps_rollups(executor) else None
    if rolled is not None:
        sql = _guarded(rolled.sql, executor, settings.ask_max_rows)
        try:
            columns, rows = executor.run(sql)
        except QueryError as error:
            message = str(error)
            if "does not exist" not in message and "permission denied" not in message:
                _declared_failure(error, request)
            # A warehouse not synced (or its reader not granted) since the rollup came: the tables.
        else:
            # No group in the rollup: the tables say whether that is so, or why (a table not there yet).
            answered = (rolled, sql, columns, rows) if rows else None
    built, sql, columns, rows = answered or from_tables()
    answer = kind.sentence(request, columns, rows)
    coverage = coverage_sql(request)
    if coverage is not None and (not rows or all(cell is None for cell in rows[0])):
        # Say which dates the table does hold, so "none in 2023" is not a dead end.
        _, (first_last, *_) = executor.run(_guarded(coverage, executor, 1))
        answer += data_range(*first_last, request.language)
    return AskResult(
        question=question,
        language=request.language,  # type: ignore[arg-type]
        answer=answer,
        interpretation=interpretation(request, kind, built),
        sql=sql,
        columns=columns,
        rows=rows,
        engine=executor.name,
        chart=kind.chart(request, built),
    )


def _declared_instead(
    question: str, as_of: dt.datetime, executor: SqlExecutor, settings: Settings
) -> AskResult | None:
    """The answer of the one declared table that holds what the electricity tables do not (a
    country's yearly share in OWID for a year before the hours start), or None."""
    try:
        routed = route_when_empty(question)
        result = _declared_answer(question, routed, as_of, executor, settings) if routed else None
    except AskRefusal:
        return None
    return None if result is None or _found_nothing(result) else result


def _tied_answer(
    question: str, routed: Routed, as_of: dt.datetime, executor: SqlExecutor, settings: Settings
) -> AskResult:
    """The routed table's answer; when words named other subjects' tables just as much and this one
    finds nothing (no rows, empty or zero aggregates) or cannot read the question, the first of
    theirs that finds something (the data breaks a tie the words could not)."""
    try:
        result = _declared_answer(question, routed, as_of, executor, settings)
    except AskRefusal as refusal:
        if not routed.alternatives or refusal.kind not in ("not_understood", "no_data"):
            raise
        first: AskResult | AskRefusal = refusal
    else:
        if not routed.alternatives or not _found_nothing(result, zeros=True):
            return result
        first = result
    for table in routed.alternatives:
        try:
            other = _declared_answer(
                question, replace(routed, table=table, alternatives=()), as_of, executor, settings
            )
        except AskRefusal:
            continue
        if not _found_nothing(other, zeros=True):
            return other
    if isinstance(first, AskRefusal):
        raise first
    return first


def _found_nothing(result: AskResult, zeros: bool = False) -> bool:
    """The answer has no rows, or only empty aggregates (or zeros, with ``zeros``)."""
    empty = (None, 0) if zeros else (None,)
    return not result.rows or all(cell in empty and cell is not False for row in result.rows for cell in row)


def _electricity_not_there_yet(language: str) -> AskRefusal:
    """The refusal of an electricity question before its tables are published (not a 500)."""
    reason = (
        "Todavía no hay datos de electricidad en el lago: ejecuta `datalake ingest ree` "
        "y `datalake transform ree`."
        if language == "es"
        else "There is no electricity data in the lake yet: run `datalake ingest ree` "
        "and `datalake transform ree`."
    )
    return AskRefusal(reason, language=language, kind="no_data")


def _declared_failure(error: QueryError, request: Any) -> NoReturn:
    """Re-raise a declared query's failure; a table not there yet is the dataset's refusal."""
    if "does not exist" not in str(error):
        raise error
    # The dataset is declared but not in this lake or warehouse yet: say so, not a 500.
    raise no_data_yet(request) from None


def _keeps_rollups(executor: SqlExecutor) -> bool:
    """Whether the executor's engine keeps the declared rollups (the warehouse's executors say so)."""
    return bool(getattr(executor, "declared_rollups", False))


def _guarded(sql: str, executor: SqlExecutor, max_limit: int) -> str:
    """A kind's SQL (PostgreSQL dialect) in the executor's dialect, through the guard."""
    return _transpiled_and_guarded(sql, executor.dialect, max_limit)


@functools.lru_cache(maxsize=1024)
def _transpiled_and_guarded(sql: str, dialect: str, max_limit: int) -> str:
    # Parsing twice (transpile, guard) costs more than most declared queries; the result depends
    # on the text alone, and the kinds build the same text for the same question.
    return guard_sql(sqlglot.transpile(sql, read="postgres", write=dialect)[0], dialect, max_limit=max_limit)


def _as_of(as_of: dt.datetime | None) -> dt.datetime:
    if as_of is None:
        return dt.datetime.now(dt.UTC)
    return as_of if as_of.tzinfo is not None else as_of.replace(tzinfo=MADRID)


def _model_answer(
    question: str,
    as_of: dt.datetime,
    language: str,
    refusal_suggestions: list[str],
    backend: TextToSqlBackend,
    executor: SqlExecutor,
    settings: Settings,
) -> AskResult:
    """Answer through the model: its SQL passes the guard or the question is refused."""
    sql, columns, rows = run_model_query(
        question,
        backend,
        executor,
        as_of=as_of,
        max_rows=settings.ask_max_rows,
        language=language,
        suggestions=refusal_suggestions,
    )
    summary = json_rows_summary(columns, rows, language)
    answer = (
        f"Respuesta del modelo {backend.name} (no del analizador; revisa la SQL): {summary}"
        if language == "es"
        else f"Answer from the model {backend.name} (not the parser; check the SQL): {summary}"
    )
    return AskResult(
        question=question,
        language=language,  # type: ignore[arg-type]
        answer=answer,
        interpretation={
            "method": "model",
            "model_id": backend.name,
            "language": language,
            "executor": executor.name,
        },
        sql=sql,
        columns=columns,
        rows=rows,
        engine=backend.engine,
        chart=no_chart(),
    )
