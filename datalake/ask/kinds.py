"""The declared question kinds: each reads a :class:`~datalake.ask.declared.Request`, builds its
SQL, and writes its sentence and chart in one place.

Kinds are tried in :data:`KINDS` order; the first whose ``applies`` accepts the request answers.
They know nothing of movies or of the energy company: everything table-specific comes from
the declarations (:mod:`datalake.datasets.semantics`). A new kind is one class and one entry.

SQL is written in PostgreSQL's dialect over the tables' warehouse names and transpiled to the
executor's; it then passes the same guard as every other query.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlglot
from sqlglot import exp

from datalake.ask.answer import number
from datalake.ask.declared import Request, Table, Threshold
from datalake.ask.errors import AskRefusal
from datalake.ask.periods import Period
from datalake.datasets.semantics import Dimension, Measure, SourceChoice

MAIN = "t"  # the main table's alias
BRIDGE = "g"  # a grouped bridge table's alias


@dataclass(frozen=True)
class Built:
    """A kind's query: its SQL (PostgreSQL dialect), the column holding the answer's values, and the
    column naming each row."""

    sql: str
    value_column: str | None
    label_column: str | None = None


# -- SQL pieces -------------------------------------------------------------------------------------


def literal(value: Any) -> str:
    """A SQL literal (strings quoted, quotes doubled)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return exp.Literal.string(value).sql(dialect="postgres")
    return repr(float(value)) if isinstance(value, float) else str(int(value))


@functools.lru_cache(maxsize=512)
def qualified(expression: str, alias: str = MAIN) -> str:
    """A declared expression with its columns qualified by ``alias`` (cached: the declarations
    are few, and parsing one costs more than the rest of building most queries)."""
    tree = sqlglot.parse_one(expression, read="postgres")
    for column in tree.find_all(exp.Column):
        column.set("table", exp.to_identifier(alias))
    return tree.sql(dialect="postgres")


def source_pick(table: str, source: SourceChoice) -> str:
    """The source rows are read from: the most preferred one the table holds, else any it holds.

    One probe per preferred source, in order (an index on the source column makes each a single
    lookup; COALESCE stops at the first found), then, only if none is there, the first of the
    others by the same rank. Grouping every row by its source instead cost 1.6 ms of each movie
    question on the benchmark's 4,803 movies, more than the rest of most of them.
    """
    column = source.column
    probes = [
        f"(SELECT s.{column} FROM {table} AS s WHERE s.{column} = {literal(s)} LIMIT 1)"
        for s in source.preference
    ]
    rank = " ".join(f"WHEN {literal(s)} THEN {i}" for i, s in enumerate(source.preference))
    others = (
        f"(SELECT s.{column} FROM {table} AS s GROUP BY s.{column} "
        f"ORDER BY CASE s.{column} {rank} ELSE {len(source.preference)} END LIMIT 1)"
    )
    return f"COALESCE({', '.join((*probes, others))})"


def _dimension_ref(dimension: Dimension) -> str:
    return f"{BRIDGE if dimension.table else MAIN}.{dimension.column}"


def _join(table: Table, dimension: Dimension | None) -> str:
    """The join to a bridge dimension's table, one row per (row of the table, value) whatever the
    bridge repeats: a row is counted and averaged once in each of its groups."""
    if dimension is None or dimension.table is None:
        return ""
    on = " AND ".join(f"{BRIDGE}.{c} = {MAIN}.{c}" for c in dimension.join)
    columns = ", ".join((*dimension.join, dimension.column))
    return f" JOIN (SELECT DISTINCT {columns} FROM {dimension.table}) AS {BRIDGE} ON {on}"


def _grouped_count(request: Request, dimension: Dimension | None) -> str:
    """How many rows in each group: the join (:func:`_join`) brings each row once per group, so
    COUNT(*) is exact, and PostgreSQL can hash it (a COUNT(DISTINCT) sorts every joined row)."""
    return "COUNT(*)" if dimension is not None and dimension.table is not None else _count(request)


def bridge_totals_sql(
    request: Request, dimension: Dimension, measures: Sequence[Measure]
) -> tuple[str, list[str], list[str], str] | None:
    """The pieces of a grouping by a bridge dimension read from its rollup
    (:data:`datalake.datasets.BRIDGE_TOTALS`): the group column, the SELECT list (the same columns
    as the grouping over the tables), the WHERE conditions and the rollup table; None when the
    rollup cannot give exactly the tables' answer.

    It can for a count of rows, or one measure's average, per value of the dimension, over every
    row of the chosen source, or only some values: no period, no other filter, no threshold (its
    sums hold every row of a value). A group exists when one of its rows counts, as over the tables.
    """
    from datalake.datasets import BRIDGE_TOTALS

    if dimension.table is None or request.period is not None or request.thresholds or len(measures) > 1:
        return None
    if any(d != dimension for d, _ in request.filters):
        return None
    measure = measures[0] if measures else None
    if measure is not None and (
        measure.ratio_of is not None or _chosen(measure, request.aggregation) != "avg"
    ):
        return None
    table = request.table.name
    totals = next(
        (t for t in BRIDGE_TOTALS if t.dimension == dimension and table == t.main.warehouse_table), None
    )
    if totals is None:
        return None
    ref = f"{BRIDGE}.{dimension.column}"
    counted = f"{BRIDGE}.{measure.key}_count" if measure is not None else f"{BRIDGE}.row_count"
    selects = [f"{ref} AS {dimension.key}"]
    if measure is not None:
        # AVG over the rows is their sum over their count.
        selects.append(f"{BRIDGE}.{measure.key}_sum / {counted} AS {value_name(measure, request)}")
    selects.append(f"{counted} AS n")
    where = []
    semantics = request.semantics
    if semantics.source is not None:
        where.append(
            f"{BRIDGE}.{semantics.source.column} = {source_pick(request.table.name, semantics.source)}"
        )
    for _, values in request.filters:
        where.append(f"{ref} IN ({', '.join(literal(v) for v in values)})")
    where.append(f"{counted} > 0")
    return ref, selects, where, totals.table


def conditions(
    request: Request,
    *,
    ranked: bool = False,
    measures: Sequence[Measure] = (),
    grouped: Dimension | None = None,
    thresholds: bool = False,
) -> list[str]:
    """The WHERE conditions every kind shares: the source, the period(s), the values named, what the
    measures need (and, for rows ranked by a measure, what ranking them needs), and the
    thresholds on rows when asked."""
    semantics, table = request.semantics, request.table
    where = []
    if semantics.source is not None:
        where.append(f"{MAIN}.{semantics.source.column} = {source_pick(table.name, semantics.source)}")
    if request.period is not None and semantics.time is not None:
        column = f"{MAIN}.{semantics.time.column}"
        if semantics.time.yearly:
            spans = [
                f"({column} >= {first} AND {column} <= {last})"
                for first, last in (years_of(p) for p in (request.periods or (request.period,)))
            ]
        else:
            spans = [
                f"({column} >= CAST({literal(p.start.date().isoformat())} AS DATE) "
                f"AND {column} < CAST({literal(p.end.date().isoformat())} AS DATE))"
                for p in (request.periods or (request.period,))
            ]
        where.append(spans[0] if len(spans) == 1 else f"({' OR '.join(spans)})")
    if request.latest and semantics.time is not None:
        where.append(_latest_time(request))
    if semantics.entity_when is not None and request.entity_named and not _label_filtered(request):
        # "los 3 países...", "how many countries...": countries, not the World or Europe.
        where.append(qualified(semantics.entity_when))
    for dimension, values in request.filters:
        listed = ", ".join(literal(v) for v in values)
        if dimension.table is not None and dimension == grouped:
            where.append(f"{BRIDGE}.{dimension.column} IN ({listed})")  # the joined rows themselves
        elif dimension.table is None:
            where.append(f"{MAIN}.{dimension.column} IN ({listed})")
        else:
            on = " AND ".join(f"f.{c} = {MAIN}.{c}" for c in dimension.join)
            where.append(
                f"EXISTS (SELECT 1 FROM {dimension.table} AS f "
                f"WHERE {on} AND f.{dimension.column} IN ({listed}))"
            )
    for measure in measures:
        where.append(f"{qualified(measure.expression)} IS NOT NULL")
        if measure.when is not None:
            where.append(qualified(measure.when.sql))
        if ranked and measure.ranked_when is not None:
            where.append(qualified(measure.ranked_when.sql))
    if thresholds:
        for threshold in request.thresholds:
            measure = threshold_measure(request, threshold)
            where.append(f"{qualified(measure.expression)} {threshold.op} {literal(threshold.value)}")
            if measure.when is not None:
                where.append(qualified(measure.when.sql))
    return where


def _latest_time(request: Request) -> str:
    """The condition keeping the newest time that rows of the values named have ("latest")."""
    semantics, table = request.semantics, request.table
    assert semantics.time is not None
    time = semantics.time.column
    where = []
    if semantics.source is not None:
        column = semantics.source.column
        where.append(f"n.{column} = {MAIN}.{column}")  # the source every row read is from
    for dimension, values in request.filters:
        if dimension.table is None:
            where.append(f"n.{dimension.column} IN ({', '.join(literal(v) for v in values)})")
    return f"{MAIN}.{time} = (SELECT MAX(n.{time}) FROM {table.name} AS n{_where(where)})"


def years_of(period: Period) -> tuple[int, int]:
    """The first and last whole years a period touches (an integer-year axis cannot split a year:
    "last week" on yearly data is this year)."""
    end = period.end - dt.timedelta(microseconds=1)
    return period.start.year, max(period.start.year, end.year)


def _label_filtered(request: Request) -> bool:
    """The question names the rows by their label ("España"): they are what they are named."""
    label = request.semantics.label
    return any(d.column == label and d.table is None for d, _ in request.filters)


def unit(measure: Measure, request: Request, row_values: dict[str, list[Any]] | None = None) -> str:
    """The unit a measure's values are in for this request: per value of a dimension when declared
    (Brent in USD/bbl, Henry Hub in USD/MMBtu), from the values filtered or the row's own."""
    values: dict[str, list[Any]] = {d.key: list(v) for d, v in request.filters}
    values |= row_values or {}
    return measure.unit_of(values)


def threshold_measure(request: Request, threshold: Threshold) -> Measure:
    """The measure a threshold applies to: its own, else the request's main one."""
    return threshold.measure or main_measure(request)


def main_measure(request: Request) -> Measure:
    """The first measure the question names, else the table's order, else its first measure."""
    if request.measures:
        return request.measures[0]
    bound = [t.measure for t in request.thresholds if t.measure is not None]
    if bound:  # "películas de más de 2 horas": the runtime
        return bound[0]
    semantics = request.semantics
    return semantics.measure(semantics.order or semantics.measures[0].key)


def _where(parts: list[str]) -> str:
    return f" WHERE {' AND '.join(parts)}" if parts else ""


def _count(request: Request) -> str:
    key = request.semantics.key
    # Rows of one source are one per key's first column (the source is fixed by the conditions).
    return f"COUNT(DISTINCT {MAIN}.{key[0]})" if key else "COUNT(*)"


def _aggregate(measure: Measure, aggregation: str | None) -> str:
    if measure.ratio_of is not None:
        return f"SUM({qualified(measure.expression)}) / NULLIF(SUM({qualified(measure.ratio_of)}), 0)"
    return f"{_chosen(measure, aggregation).upper()}({qualified(measure.expression)})"


def _chosen(measure: Measure, aggregation: str | None) -> str:
    return aggregation if aggregation in measure.aggregations else measure.aggregations[0]  # type: ignore[return-value]


def value_name(measure: Measure, request: Request) -> str:
    """The column an aggregated measure is answered in (``avg_rating``, ``sum_amount``)."""
    return f"{_chosen(measure, request.aggregation)}_{measure.key}"


# -- words in answers -------------------------------------------------------------------------------

#: How an aggregate is said: Spanish as a noun before the measure ("promedio de valoración"), so no
#: adjective has to agree with the measure's gender.
_AGGREGATION_WORDS = {
    "sum": ("total de", "total"),
    "avg": ("promedio de", "average"),
    "max": ("máximo de", "maximum"),
    "min": ("mínimo de", "minimum"),
    "ratio": ("", ""),
}


def show(value: Any, unit: str, language: str) -> str:
    """A value with its unit, readable (``380 M USD``, ``7,2/10``, ``1.234 kWh``)."""
    if value is None:
        return "—"
    value = float(value)
    if unit in ("USD", "COP") and abs(value) >= 1e6:
        scaled = value / 1e9 if abs(value) >= 1e9 else value / 1e6
        word = ("mil millones de" if language == "es" else "B") if abs(value) >= 1e9 else "M"
        return f"{number(scaled, 1, language)} {word} {unit}"
    if unit == "/10":
        return f"{number(value, 1, language)}/10"
    decimals = 0 if abs(value) >= 100 or float(value).is_integer() else 1 if abs(value) >= 10 else 2
    text = number(value, decimals, language)
    return f"{text} {unit}".strip()


def period_words(request: Request) -> str:
    """ " de 2015" / " from 2015" for whole years, else the period in words ("en octubre de 2024")."""
    if request.period is None:
        return ""
    es = request.language == "es"
    start, end = request.period.start.date(), request.period.end.date()
    if start.month == 1 and start.day == 1 and end.month == 1 and end.day == 1:
        years = f"{start.year}" if end.year == start.year + 1 else f"{start.year}–{end.year - 1}"
        return f" {'de' if es else 'from'} {years}"
    return f" {request.period.label(request.language)}"


def filter_words(request: Request) -> str:
    """ " de Comedia" for the values named, or nothing."""
    either = " o " if request.language == "es" else " or "
    named = [either.join(d.value_name(v, request.language) for v in values) for d, values in request.filters]
    return f" ({', '.join(named)})" if named else ""


def aggregate_words(measure: Measure, request: Request) -> str:
    """ "promedio de valoración" / "average rating"."""
    word = _AGGREGATION_WORDS[_chosen(measure, request.aggregation)][0 if request.language == "es" else 1]
    return f"{word} {measure.name(request.language)}".strip()


def _rule_words(request: Request, measures: Sequence[Measure], ranked: bool) -> str:
    es = request.language == "es"
    rules = [
        (m.ranked_when.es if es else m.ranked_when.en)
        for m in measures
        if ranked and m.ranked_when is not None
    ]
    if not rules:
        return ""
    return f" ({'solo las ' if es else 'only those '}{'; '.join(rules)})"


def _no_rows(request: Request) -> str:
    es = request.language == "es"
    entity = request.semantics.entity_name(request.language)
    return (
        f"No hay {entity}{filter_words(request)}{period_words(request)} en los datos."
        if es
        else f"There are no {entity}{filter_words(request)}{period_words(request)} in the data."
    )


def _listed(items: list[str], language: str) -> str:
    return "; ".join(items) if len(items) > 2 else (" y " if language == "es" else " and ").join(items)


# -- the kinds ----------------------------------------------------------------------------------------


class Kind:
    """One kind of question; subclasses fill the three steps."""

    name: ClassVar[str]

    def applies(self, request: Request) -> bool:
        """Whether this kind answers ``request``."""
        raise NotImplementedError

    def build(self, request: Request, max_rows: int) -> Built:
        """Its SQL (PostgreSQL dialect)."""
        raise NotImplementedError

    def rolled_up(self, request: Request, max_rows: int) -> Built | None:
        """The same answer from the warehouse's rollups (:func:`bridge_totals_sql`), or None when
        they cannot give it exactly; only for an engine that keeps them."""
        return None

    def sentence(self, request: Request, columns: list[str], rows: list[list[Any]]) -> str:
        """The answer, one sentence with units, in the question's language."""
        raise NotImplementedError

    def chart(self, request: Request, built: Built) -> dict[str, Any]:
        """How to draw it (see :func:`datalake.ask.answer.chart`)."""
        return no_chart()


def no_chart() -> dict[str, Any]:
    """Nothing to draw."""
    return {"kind": "none", "x": None, "y": None, "unit": "", "title": "", "x_label": "", "y_label": ""}


class PersonalData(Kind):
    """Grouping or ranking by people's names: refused, naming the rule."""

    name = "personal"

    def applies(self, request: Request) -> bool:
        return request.personal is not None

    def build(self, request: Request, max_rows: int) -> Built:
        es = request.language == "es"
        raise AskRefusal(
            "Los nombres de clientes y proveedores son datos personales: /ask no agrupa ni ordena por "
            "ellos. Puedo responder por ciudad, tipo de energía o tipo de transacción."
            if es
            else "Client and supplier names are personal data: /ask does not group or rank by them. "
            "I can answer by city, energy type or transaction type.",
            language=request.language,
            kind="out_of_scope",
        )


class Values(Kind):
    """The values a dimension takes ("¿Qué géneros hay?"), with how many rows each has."""

    name = "values"

    def applies(self, request: Request) -> bool:
        return (
            request.group is not None
            and request.listing
            and not request.measures
            and not request.counting
            and not request.distribution
            and request.k is None
            and request.order is None
            and not request.single
        )

    def build(self, request: Request, max_rows: int) -> Built:
        dimension = request.group
        assert dimension is not None
        ref = _dimension_ref(dimension)
        sql = (
            f"SELECT {ref} AS {dimension.key}, {_grouped_count(request, dimension)} AS n "
            f"FROM {request.table.name} AS {MAIN}"
            f"{_join(request.table, dimension)}{_where([*conditions(request), f'{ref} IS NOT NULL'])} "
            f"GROUP BY {ref} ORDER BY {ref} LIMIT {max_rows}"
        )
        return Built(sql, "n", dimension.key)

    def rolled_up(self, request: Request, max_rows: int) -> Built | None:
        dimension = request.group
        assert dimension is not None
        rolled = bridge_totals_sql(request, dimension, ())
        if rolled is None:
            return None
        ref, selects, where, rollup = rolled
        sql = (
            f"SELECT {', '.join(selects)} FROM {rollup} AS {BRIDGE}{_where(where)} "
            f"ORDER BY {ref} LIMIT {max_rows}"
        )
        return Built(sql, "n", dimension.key)

    def sentence(self, request: Request, columns: list[str], rows: list[list[Any]]) -> str:
        dimension = request.group
        assert dimension is not None
        es = request.language == "es"
        if not rows:
            return _no_rows(request)
        names = [dimension.value_name(r[0], request.language) for r in rows]
        phrases = dimension.words.es if es else dimension.words.en
        what = phrases[1] if len(phrases) > 1 else dimension.name(request.language)  # the plural
        return f"{'Hay' if es else 'There are'} {len(rows)} {what}: {', '.join(names)}."


class Count(Kind):
    """How many rows ("¿Cuántas películas de comedia hay?"), with any filters and threshold."""

    name = "count"

    def applies(self, request: Request) -> bool:
        # "¿Cuántos kWh...?" asks for a total, not a count of rows.
        measured = bool(request.measures) and not request.thresholds and not request.counts_rows
        return request.counting and not measured and request.group is None and request.time_group is None

    def build(self, request: Request, max_rows: int) -> Built:
        # "how many days of Brent prices", "countries with a primary energy consumption": rows with one.
        measures = request.measures if request.counts_rows else ()
        where = conditions(request, thresholds=True, measures=measures)
        sql = f"SELECT {_count(request)} AS n FROM {request.table.name} AS {MAIN}{_where(where)}"
        return Built(sql, "n")

    def sentence(self, request: Request, columns: list[str], rows: list[list[Any]]) -> str:
        n = int(rows[0][0]) if rows and rows[0][0] is not None else 0
        es = request.language == "es"
        entity = request.semantics.entity_name(request.language, plural=n != 1)
        said = f"{filter_words(request)}{_threshold_words(request)}{period_words(request)}"
        return (
            f"Hay {number(n, 0, 'es')} {entity}{said}."
            if es
            else f"There are {number(n, 0, 'en')} {entity}{said}."
        )


def _threshold_words(request: Request) -> str:
    es = request.language == "es"
    said = []
    for threshold in request.thresholds:
        measure = threshold_measure(request, threshold)
        words = {
            ">": ("mayor que", "above"),
            ">=": ("de al menos", "of at least"),
            "<": ("menor que", "below"),
            "<=": ("de como mucho", "of at most"),
        }[threshold.op]
        shown = show(threshold.value, unit(measure, request), request.language)
        said.append(f"{measure.name(request.language)} {words[0 if es else 1]} {shown}")
    if not said:
        return ""
    return f" {'con' if es else 'with'} " + (" y " if es else " and ").join(said)


class Grouped(Kind):
    """One value per dimension value or time bucket: rankings of groups, averages by group,
    distributions, and two named values side by side ("compras vs ventas")."""

    name = "group"

    def applies(self, request: Request) -> bool:
        return request.group is not None or request.time_group is not None or request.versus is not None

    def _dimension(self, request: Request) -> Dimension | None:
        return request.group or (None if request.time_group else request.versus)

    def _key(self, request: Request) -> tuple[str, str]:
        """The grouping expression and its column name."""
        dimension = self._dimension(request)
        if dimension is not None:
            return _dimension_ref(dimension), dimension.key
        time = request.semantics.time
        assert time is not None
        if request.time_group == "year":
            if time.yearly:
                return f"{MAIN}.{time.column}", "year"
            if time.year_column:
                return f"{MAIN}.{time.year_column}", "year"
            # A date's year bucket is named by its first day, as its months are.
            return f"DATE_TRUNC('year', {MAIN}.{time.column})", "year_start"
        return f"DATE_TRUNC('month', {MAIN}.{time.column})", "month_start"

    def _measures(self, request: Request) -> tuple[Measure, ...]:
        measures = request.measures
        if not measures and not (request.distribution or request.counting or request.entity_named):
            # "compras vs ventas", "ventas por mes": the table's own measure; "películas por
            # género": how many.
            order = request.semantics.order
            measures = (request.semantics.measure(order),) if order else ()
        return tuple(measures)

    def rolled_up(self, request: Request, max_rows: int) -> Built | None:
        dimension = self._dimension(request)
        if dimension is None or request.time_group is not None or request.versus is not None:
            return None
        measures = self._measures(request)
        rolled = bridge_totals_sql(request, dimension, measures)
        if rolled is None:
            return None
        _, selects, where, rollup = rolled
        value = value_name(measures[0], request) if measures else "n"
        direction = "ASC" if request.order == "asc" else "DESC"
        one = request.single and request.k is None
        limit = min(1 if one else request.k or max_rows, max_rows)
        sql = (
            f"SELECT {', '.join(selects)} FROM {rollup} AS {BRIDGE}{_where(where)} "
            f"ORDER BY {value} {direction}, {dimension.key} ASC LIMIT {limit}"
        )
        return Built(sql, value, dimension.key)

    def build(self, request: Request, max_rows: int) -> Built:
        ref, key = self._key(request)
        dimension = self._dimension(request)
        measures = self._measures(request)
        selects = [f"{ref} AS {key}"]
        for measure in measures:
            selects.append(f"{_aggregate(measure, request.aggregation)} AS {value_name(measure, request)}")
        selects.append(f"{_grouped_count(request, dimension)} AS n")
        value = value_name(measures[0], request) if measures else "n"
        where = [*conditions(request, measures=measures, grouped=dimension), f"{ref} IS NOT NULL"]
        having = ""
        if request.thresholds and measures:
            threshold = request.thresholds[0]
            aggregate = _aggregate(measures[0], request.aggregation)
            having = f" HAVING {aggregate} {threshold.op} {literal(threshold.value)}"
        direction = "ASC" if request.order == "asc" else "DESC"
        ranked = request.single or request.k is not None or request.order is not None
        if request.versus is not None and dimension == request.versus:
            # In the order the question names them: "compras vs ventas" lists purchases first.
            values = next(v for d, v in request.filters if d is request.versus)
            cases = " ".join(f"WHEN {literal(v)} THEN {i}" for i, v in enumerate(values))
            order = f"CASE {ref} {cases} END"
        elif request.time_group is not None and not ranked:
            order = f"{key} ASC"
        else:
            order = f"{value} {direction}, {key} ASC"
        one = request.single and request.k is None and request.versus is None
        limit = min(1 if one else request.k or max_rows, max_rows)
        sql = (
            f"SELECT {', '.join(selects)} FROM {request.table.name} AS {MAIN}"
            f"{_join(request.table, dimension)}"
            f"{_where(where)} GROUP BY {ref}{having} ORDER BY {order} LIMIT {limit}"
        )
        return Built(sql, value, key)

    def sentence(self, request: Request, columns: list[str], rows: list[list[Any]]) -> str:
        if not rows:
            return _no_rows(request)
        es = request.language == "es"
        dimension = self._dimension(request)
        measures = [m for m in request.semantics.measures if value_name(m, request) in columns]
        entity = request.semantics.entity_name(request.language)

        def label(value: Any) -> str:
            if dimension is not None:
                return dimension.value_name(value, request.language)
            return str(value)[:7] if request.time_group == "month" else str(value)[:4]

        def own(row: list[Any]) -> dict[str, list[Any]]:
            # A row of one series is in that series' unit ("Brent: 64 USD/bbl").
            return {dimension.key: [row[0]]} if dimension is not None else {}

        def figures(row: list[Any]) -> str:
            parts = [
                show(row[columns.index(value_name(m, request))], unit(m, request, own(row)), request.language)
                for m in measures
            ]
            n = row[columns.index("n")]
            named = request.semantics.entity_name(request.language, plural=n != 1)
            parts.append(f"{number(n, 0, request.language)} {named}")
            return ", ".join(parts) if measures else parts[-1]

        shown = rows if len(rows) <= 12 else rows[:12]
        items = [f"{label(r[0])}: {figures(r)}" for r in shown]
        more = (
            (f" (y {len(rows) - 12} más)" if es else f" (and {len(rows) - 12} more)")
            if len(rows) > 12
            else ""
        )
        if measures:
            named = (" y " if es else " and ").join(aggregate_words(m, request) for m in measures)
            head = f"{named[:1].upper()}{named[1:]} {'por' if es else 'by'} {self._key_name(request)}"
        else:
            head = f"{entity.capitalize()} {'por' if es else 'by'} {self._key_name(request)}"
        rule = _rule_words(request, measures, ranked=False)
        said = f"{filter_words(request)}{period_words(request)}{rule}"
        return f"{head}{said}: {_listed(items, request.language)}{more}."

    def _key_name(self, request: Request) -> str:
        es = request.language == "es"
        dimension = self._dimension(request)
        if dimension is not None:
            return dimension.name(request.language)
        return ("año" if es else "year") if request.time_group == "year" else ("mes" if es else "month")

    def chart(self, request: Request, built: Built) -> dict[str, Any]:
        es = request.language == "es"
        measure = next(
            (m for m in request.semantics.measures if value_name(m, request) == built.value_column),
            None,
        )
        y_name = (
            measure.name(request.language).capitalize()
            if measure
            else request.semantics.entity_name(request.language).capitalize()
        )
        unit_said = unit(measure, request) if measure else ""
        x_name = self._key_name(request).capitalize()
        return {
            "kind": "line" if request.time_group == "month" else "bar",
            "x": built.label_column,
            "y": built.value_column,
            "unit": unit_said,
            "title": f"{y_name} {'por' if es else 'by'} {self._key_name(request)}{period_words(request)}",
            "x_label": x_name,
            "y_label": f"{y_name} ({unit_said})" if unit_said else y_name,
        }


def _row_label(request: Request) -> str | None:
    """What names a row in an answer: the table's label, else its time (a transaction is its date)."""
    time = request.semantics.time
    return request.semantics.label or (time.column if time is not None else None)


class Rows(Kind):
    """Rows ranked by a measure ("top 10 películas mejor valoradas", "las más caras de 2015"), or
    the rows past a threshold ("películas con presupuesto mayor a 100M")."""

    name = "rows"

    def applies(self, request: Request) -> bool:
        # "la media de..." is a total; "las de mayor presupuesto", "las más caras", "top 3" rank rows.
        ranked = request.order is not None or request.superlative or request.k is not None
        # "highest budget movies" lists films; "the highest budget" alone is one maximum.
        listed = request.aggregation is None or (
            request.entity_named and request.aggregation in ("max", "min")
        )
        return _row_label(request) is not None and (bool(request.thresholds) or (ranked and listed))

    def build(self, request: Request, max_rows: int) -> Built:
        measure = main_measure(request)
        label = _row_label(request)
        value = measure.key
        where = conditions(request, ranked=not request.thresholds, measures=(measure,), thresholds=True)
        time = request.semantics.time
        dated = time is not None and time.column != label
        extra = f", {MAIN}.{time.column} AS {time.column}" if dated else ""
        k = 1 if request.single and request.k is None else request.k
        # Past a threshold every row is the answer (the sentence names the first few).
        limit = min(k or (max_rows if request.thresholds else request.semantics.row_limit), max_rows)
        direction = "ASC" if request.order == "asc" else "DESC"
        sql = (
            f"SELECT {MAIN}.{label} AS {label}, {qualified(measure.expression)} AS {value}{extra}, "
            f"COUNT(*) OVER () AS matching FROM {request.table.name} AS {MAIN}{_where(where)} "
            f"ORDER BY {value} {direction}, {MAIN}.{label} ASC LIMIT {limit}"
        )
        return Built(sql, value, label)

    def sentence(self, request: Request, columns: list[str], rows: list[list[Any]]) -> str:
        if not rows:
            return _no_rows(request)
        es = request.language == "es"
        measure = main_measure(request)
        entity = request.semantics.entity_name(request.language)
        items = []
        # A threshold lists the first few of all the rows that pass it (the count says how many).
        for row in rows[: request.semantics.row_limit] if request.thresholds else rows:
            year = ""
            time = request.semantics.time
            if (
                time is not None
                and time.column != columns[0]
                and time.column in columns
                and row[columns.index(time.column)]
            ):
                year = f" ({str(row[columns.index(time.column)])[:4]})"
            items.append(f"{row[0]}{year}: {show(row[1], unit(measure, request), request.language)}")
        matching = int(rows[0][columns.index("matching")])
        said = f"{filter_words(request)}{period_words(request)}"
        if request.thresholds:
            head = (
                f"Hay {number(matching, 0, 'es')} {entity}{said}{_threshold_words(request)}"
                if es
                else f"There are {number(matching, 0, 'en')} {entity}{said}{_threshold_words(request)}"
            )
            if matching > len(items):
                head += f"; {'las' if es else 'the'} {len(items)} {'primeras' if es else 'largest'}"
            return f"{head}: {_listed(items, request.language)}."
        most = request.order != "asc"
        which = (
            ("de mayor" if most else "de menor") + f" {measure.name('es')}"
            if es
            else ("highest" if most else "lowest") + f" {measure.name('en')}"
        )
        rule = _rule_words(request, (measure,), ranked=True)
        named = request.semantics.entity_name(request.language, plural=len(rows) > 1)
        head = (
            f"{'La' if len(rows) == 1 else f'Las {len(rows)}'} {named} {which}{said}{rule}"
            if es
            else f"The {'' if len(rows) == 1 else f'{len(rows)} '}{named} with the {which}{said}{rule}"
        )
        return f"{head}: {_listed(items, request.language)}."

    def chart(self, request: Request, built: Built) -> dict[str, Any]:
        measure = main_measure(request)
        name = measure.name(request.language).capitalize()
        return {
            "kind": "bar",
            "x": built.label_column,
            "y": built.value_column,
            "unit": unit(measure, request),
            "title": f"{name}{period_words(request)}".strip(),
            "x_label": request.semantics.entity_name(request.language, plural=False).capitalize(),
            "y_label": f"{name} ({unit(measure, request)})" if unit(measure, request) else name,
            "orientation": "horizontal",
        }


class Listing(Kind):
    """The rows themselves, by name ("¿Qué proveedores de energía solar tenemos?")."""

    name = "list"

    def applies(self, request: Request) -> bool:
        return (
            request.semantics.label is not None
            and request.entity_named
            and request.listing
            and not request.measures
            and not request.counting
        )

    def build(self, request: Request, max_rows: int) -> Built:
        label = request.semantics.label
        sql = (
            f"SELECT {MAIN}.{label} AS {label}, COUNT(*) OVER () AS n FROM {request.table.name} AS {MAIN}"
            f"{_where(conditions(request, thresholds=True))} ORDER BY {MAIN}.{label} LIMIT {max_rows}"
        )
        return Built(sql, "n", label)

    def sentence(self, request: Request, columns: list[str], rows: list[list[Any]]) -> str:
        if not rows:
            return _no_rows(request)
        es = request.language == "es"
        entity = request.semantics.entity_name(request.language, plural=len(rows) != 1)
        names = [str(r[0]) for r in rows[: request.semantics.row_limit]]
        more = len(rows) - len(names)
        tail = (f" y {more} más" if es else f" and {more} more") if more else ""
        said = f"{filter_words(request)}{period_words(request)}"
        head = f"Hay {len(rows)} {entity}{said}" if es else f"There are {len(rows)} {entity}{said}"
        return f"{head}: {', '.join(names)}{tail}."


def _one_day(period: Period | None) -> bool:
    return period is not None and period.end - period.start <= dt.timedelta(hours=25)


class Difference(Kind):
    """Two values of a dimension subtracted time by time, then aggregated ("average spread between
    Brent and WTI in 2020": the mean of the daily Brent - WTI over the days both have a price)."""

    name = "difference"

    def applies(self, request: Request) -> bool:
        values = next((v for d, v in request.filters if d is request.versus), ())
        return request.difference and len(values) == 2 and request.semantics.time is not None

    def build(self, request: Request, max_rows: int) -> Built:
        measure = main_measure(request)
        dimension = request.versus
        assert dimension is not None and request.semantics.time is not None
        first, second = next(v for d, v in request.filters if d is dimension)
        ref, expression = _dimension_ref(dimension), qualified(measure.expression)
        time = f"{MAIN}.{request.semantics.time.column}"
        aggregation = _chosen(measure, request.aggregation)
        name = f"{aggregation}_difference"
        inner = (
            f"SELECT {time} AS at_time, "
            f"MAX(CASE WHEN {ref} = {literal(first)} THEN {expression} END) - "
            f"MAX(CASE WHEN {ref} = {literal(second)} THEN {expression} END) AS difference "
            f"FROM {request.table.name} AS {MAIN}{_join(request.table, dimension)}"
            f"{_where(conditions(request, measures=(measure,), grouped=dimension))} GROUP BY {time}"
        )
        sql = (
            f"SELECT {aggregation.upper()}(d.difference) AS {name}, COUNT(*) AS n "
            f"FROM ({inner}) AS d WHERE d.difference IS NOT NULL"
        )
        return Built(sql, name)

    def sentence(self, request: Request, columns: list[str], rows: list[list[Any]]) -> str:
        row = rows[0] if rows else []
        if not row or row[0] is None:
            return _no_rows(request)
        es = request.language == "es"
        measure = main_measure(request)
        dimension = request.versus
        assert dimension is not None
        first, second = (
            dimension.value_name(v, request.language)
            for v in next(v for d, v in request.filters if d is dimension)
        )
        word = _AGGREGATION_WORDS[_chosen(measure, request.aggregation)][0 if es else 1]
        what = f"{word} diferencia" if es else f"{word} difference"
        shown = show(row[0], unit(measure, request), request.language)
        times = number(row[1], 0, request.language)
        counted = request.semantics.entity_name(request.language)
        return (
            f"{what[:1].upper()}{what[1:]} {first} − {second}{period_words(request)}: {shown} "
            f"({'sobre' if es else 'over'} {times} {counted})."
        )


class Total(Kind):
    """One aggregate over the rows ("presupuesto medio de las películas de 2015", "¿cuánto vendimos
    en enero?": the table's own measure when none is named)."""

    name = "total"

    def applies(self, request: Request) -> bool:
        # Without a measure, only a question that asks for an amount ("¿cuánto vendimos?"), or the
        # value of named rows at one instant ("what was brent on 2021-01-04?", "the latest WTI").
        instant = bool(request.filters) and (request.latest or _one_day(request.period))
        return bool(request.measures) or (
            request.semantics.order is not None and (request.how_much or instant)
        )

    @staticmethod
    def _measures(request: Request) -> tuple[Measure, ...]:
        order = request.semantics.order
        return request.measures or ((request.semantics.measure(order),) if order else ())

    def build(self, request: Request, max_rows: int) -> Built:
        measures = self._measures(request)
        names = [value_name(m, request) for m in measures]
        selects = [
            f"{_aggregate(m, request.aggregation)} AS {n}" for m, n in zip(measures, names, strict=True)
        ]
        time = request.semantics.time
        if request.latest and time is not None:  # the answer says which day (or year) is the latest
            selects.append(f"MAX({MAIN}.{time.column}) AS {time.column}")
        where = conditions(request, measures=measures, thresholds=True)
        sql = f"SELECT {', '.join(selects)} FROM {request.table.name} AS {MAIN}{_where(where)}"
        return Built(sql, names[0])

    def sentence(self, request: Request, columns: list[str], rows: list[list[Any]]) -> str:
        row = rows[0] if rows else []
        if not row or all(cell is None for cell in row):  # no rows: every aggregate is NULL
            return _no_rows(request)
        measures = self._measures(request)
        parts = [
            f"{aggregate_words(m, request)}: {show(cell, unit(m, request), request.language)}"
            for m, cell in zip(measures, row[: len(measures)], strict=True)
        ]
        said = f"{filter_words(request)}{_threshold_words(request)}{period_words(request)}"
        if request.latest and len(row) > len(measures):
            latest = str(row[len(measures)])[:10]
            said += f", {'último dato' if request.language == 'es' else 'latest'}: {latest}"
        entity = request.semantics.entity_name(request.language)
        head = f"{'; '.join(parts)} ({entity}{said.replace(' (', ', ').replace(')', '')})"
        return f"{head[:1].upper()}{head[1:]}."


#: The kinds, in the order they are tried.
KINDS: tuple[Kind, ...] = (
    PersonalData(),
    Values(),
    Count(),
    Difference(),
    Grouped(),
    Rows(),
    Listing(),
    Total(),
)


def kind_of(request: Request) -> Kind | None:
    """The first kind that answers ``request``, or None.

    Raises
    ------
    AskRefusal
        The question counts something the table does not hold ("¿cuántas entradas...?").
    """
    if request.unknown_counted is not None:
        es = request.language == "es"
        entity = request.semantics.entity_name(request.language)
        raise AskRefusal(
            f"No hay datos de «{request.unknown_counted}»: puedo contar {entity}."
            if es
            else f"There is no data on '{request.unknown_counted}': I can count {entity}.",
            language=request.language,
            kind="out_of_scope",
        )
    return next((kind for kind in KINDS if kind.applies(request)), None)


def interpretation(request: Request, kind: Kind, built: Built) -> dict[str, Any]:
    """What was understood, as :class:`~datalake.ask.service.AskResult` shows it."""
    period = request.period
    return {
        "method": "parser",
        "language": request.language,
        "dataset": request.table.spec.name,
        "subject": request.semantics.subject,
        "kind": kind.name,
        "aggregate": kind.name,
        "measure": request.measures[0].key if request.measures else None,
        "measures": [m.key for m in request.measures],
        "aggregation": request.aggregation,
        "group": request.group.key if request.group else request.time_group,
        "filters": {d.key: list(values) for d, values in request.filters},
        "period": period.as_dict(request.language) if period is not None else None,
        "k": request.k,
        "order": request.order,
        "thresholds": [[threshold_measure(request, t).key, t.op, t.value] for t in request.thresholds],
        "value_column": built.value_column,
        "unit": next((unit(m, request) for m in request.measures), ""),
    }


def not_understood(request: Request) -> AskRefusal:
    """The refusal of a request no kind answers: it says what the table offers."""
    from datalake.ask.suggestions import suggestions

    semantics = request.semantics
    es = request.language == "es"
    measures = ", ".join(m.name(request.language) for m in semantics.measures) or "—"
    dimensions = ", ".join(d.name(request.language) for d in semantics.dimensions if not d.personal) or "—"
    entity = semantics.entity_name(request.language)
    reason = (
        f"No he entendido qué quieres saber de las {entity}: puedo contar, ordenar o agregar "
        f"({measures}) por {dimensions}."
        if es
        else f"I did not understand what to compute about {entity}: I can count, rank or aggregate "
        f"({measures}) by {dimensions}."
    )
    return AskRefusal(
        reason,
        suggestions=suggestions(request.language, semantics.subject),
        language=request.language,
        kind="not_understood",
    )


def no_data_yet(request: Request) -> AskRefusal:
    """The refusal of a question about a declared table the engine does not hold yet."""
    es = request.language == "es"
    entity = request.semantics.entity_name(request.language)
    reason = (
        f"Todavía no hay datos de {entity} en el lago: ejecuta su ingesta y su transformación."
        if es
        else f"There is no {entity} data in the lake yet: run its ingestion and transform."
    )
    return AskRefusal(reason, language=request.language, kind="no_data")


def coverage_sql(request: Request) -> str | None:
    """The first and last dates the table holds (for an empty answer about a period), or None."""
    time = request.semantics.time
    if request.period is None or time is None:
        return None
    column = f"{MAIN}.{time.column}"
    return f"SELECT MIN({column}) AS first_day, MAX({column}) AS last_day FROM {request.table.name} AS {MAIN}"
