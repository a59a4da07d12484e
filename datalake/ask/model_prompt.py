"""The text-to-SQL model's instructions: /ask's semantic layer written out as a prompt.

The prompt is built from what the parser itself relies on: the dataset specs (tables, columns,
their descriptions and units; the same list as the guard's allow-list), the lake's rules
(Europe/Madrid periods as UTC bounds on ``ts_utc``, one source per hour, MWh as the sum of
hourly MW, generation's best rows per day, shares), the technology names each source uses
(:mod:`datalake.ask.lexicon`), worked examples (:mod:`datalake.ask.model_examples`) and, last,
the moment the question is asked, so "yesterday" means something.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import sqlglot

from datalake.ask.lexicon import RANKED_TECHNOLOGIES, WEEKDAY_NAMES_EN
from datalake.ask.model_examples import EXAMPLES, EXAMPLES_DIALECT
from datalake.ask.periods import MADRID
from datalake.datasets import ask_datasets
from datalake.datasets.spec import DatasetSpec

#: How each executor's dialect is named to the model.
DIALECT_NAMES = {"postgres": "PostgreSQL", "athena": "Trino (Amazon Athena)", "duckdb": "DuckDB"}

#: The model's reply when the tables cannot answer (anything without SQL is refused the same way).
NO_SQL = "NO_SQL"

_INSTRUCTIONS = """\
You write one SQL query in the {dialect} dialect that answers a question (in Spanish or English) \
about the tables below: electricity demand and generation in Spain, and every other dataset listed.
Reply with the query alone, in one ```sql fenced block, without explanations. If these tables \
cannot answer the question, reply with {no_sql}: and the reason in one line."""

_RULES = f"""\
Rules:
- One SELECT statement (WITH is allowed). Only the tables and columns above, unqualified (no \
schema prefix). No other statement, no second statement, no system tables.
- Functions: SUM, AVG, MIN, MAX, COUNT, ROUND, ABS, COALESCE, NULLIF, GREATEST, LEAST, CASE, \
CAST, DATE_TRUNC, EXTRACT, window functions (ROW_NUMBER, RANK, LAG, LEAD). Nothing else.
- Units: demand_mw is the mean demand of an hour in MW; a period's demand energy in MWh is \
SUM(demand_mw) over its hours, its mean demand AVG(demand_mw). energy_mwh is the energy of the \
row's period (an hour or a day, see time_grain) in MWh. share is a fraction 0..1, never a percent.
- Time: questions speak Europe/Madrid time (CET, UTC+1; CEST, UTC+2 from the last Sunday of \
March to the last Sunday of October, changes at 01:00 UTC). ts_utc is the UTC start of the \
hour: filter a Madrid period with UTC bounds, ts_utc >= CAST('<UTC start>' AS TIMESTAMP) AND \
ts_utc < CAST('<UTC end>' AS TIMESTAMP) (half-open). local_date is already the Madrid day. A day \
runs 00:00-24:00 Madrid time (23 or 25 hours on a change day), a week starts on Monday, \
"yesterday", "last week", "last month" count from the moment the question is asked (below). \
Return times as ts_utc (UTC) or local_date.
- Sources: an hour can have rows from several sources. Take one per hour: ree, else entsoe, \
else sample; sample rows only when the table has no ree or entsoe rows for the region.
- Generation: per local_date use the best (source, time_grain) rows present, hourly before \
daily, so no day counts twice; skip technology_group = 'total' rows; the total generation is \
the sum of the positive energy_mwh of every technology, a share is a technology's energy over it.
- region is 'national' unless the question says peninsular (península, mainland).
- Technologies (technology values per source, ree's Spanish and entsoe's English): \
{"; ".join(f"{t.label_en}: {', '.join(repr(n) for n in t.names)}" for t in RANKED_TECHNOLOGIES)}. \
Renewable and non-renewable are technology_group 'Renovable' and 'No-Renovable'.
- Name result columns after their unit: demand_mw, demand_mwh, energy_mwh, generation_mwh, share."""


def schema_prompt() -> str:
    """The tables the model may query, as ``CREATE TABLE`` text with each column's meaning.

    The same list as the guard's allow-list: /ask's datasets, without their personal columns.
    """
    lines = []
    for spec in ask_datasets():
        columns = [c for c in spec.columns if not c.personal]
        lines.append(f"-- {spec.description}")
        lines.append(f"CREATE TABLE {spec.warehouse_table} (")
        for index, column in enumerate(columns):
            comma = "," if index < len(columns) - 1 else ""
            comment = f"  -- {column.description}" if column.description else ""
            lines.append(f"  {column.name} {column.type}{comma}{comment}")
        lines.append(");")
        if spec.ask is not None:
            lines += semantics_lines(spec)
    return "\n".join(lines)


def semantics_lines(spec: DatasetSpec) -> list[str]:
    """What the semantic layer declares of a table, as comments: measures with units and rules,
    dimensions with their stored values and names, the time column, which source to read."""
    semantics = spec.ask
    assert semantics is not None
    lines = [f"-- {spec.warehouse_table}: one row is a {semantics.entity_name('en', plural=False)}"]
    if semantics.source is not None:
        preferred = ", ".join(repr(s) for s in semantics.source.preference)
        lines.append(f"--   read one {semantics.source.column} only, the first present of {preferred}")
    for measure in semantics.measures:
        rule = f"; only where {measure.when.sql}" if measure.when else ""
        ranked = f"; to rank rows by it, {measure.ranked_when.sql}" if measure.ranked_when else ""
        ratio = f" / {measure.ratio_of} (sum over sum)" if measure.ratio_of else ""
        lines.append(
            f"--   measure {measure.key} = {measure.expression}{ratio} [{measure.unit or 'score'}]"
            f" ({', '.join(measure.words.all()[:4])}){rule}{ranked}"
        )
    for dimension in semantics.dimensions:
        where = (
            f"{dimension.table}.{dimension.column} (join on {', '.join(dimension.join)})"
            if dimension.table
            else dimension.column
        )
        if dimension.personal:
            lines.append(f"--   {dimension.column} is personal data: never select, group or filter on it")
            continue
        values = "; ".join(
            f"{value!r} = {' / '.join(names.all()[:3])}"
            for value, names in list(dimension.values.items())[:25]
        )
        lines.append(f"--   dimension {dimension.key}: {where}" + (f"; values {values}" if values else ""))
    if semantics.time is not None:
        lines.append(f"--   time: {semantics.time.column} (a date)")
    return lines


def asked_at_text(moment: dt.datetime) -> str:
    """``moment`` as the prompt names it: Madrid wall time, weekday and UTC offset."""
    local = moment.astimezone(MADRID)
    offset = local.strftime("%z")
    weekday = WEEKDAY_NAMES_EN[local.weekday()]  # not %A: that follows the process's locale
    return f"{local:%Y-%m-%d %H:%M} ({weekday}), Europe/Madrid, UTC{offset[:3]}:{offset[3:]}"


@lru_cache(maxsize=8)
def examples_prompt(dialect: str) -> str:
    """The worked examples, their SQL in ``dialect``."""
    parts = ["Examples:"]
    for example in EXAMPLES:
        sql = example.sql
        if dialect != EXAMPLES_DIALECT:
            sql = sqlglot.transpile(sql, read=EXAMPLES_DIALECT, write=dialect)[0]
        parts.append(
            f"Question (asked {asked_at_text(example.asked_at)}): {example.question}\n```sql\n{sql}\n```"
        )
    return "\n\n".join(parts)


def system_prompt(dialect: str, as_of: dt.datetime) -> str:
    """Everything the model is told before the question.

    Parameters
    ----------
    dialect
        The executor's sqlglot dialect (``postgres``, ``athena``).
    as_of
        When the question is asked (aware).

    Returns
    -------
    str
        Instructions, tables, rules, examples and the moment of the question.
    """
    return "\n\n".join(
        [
            _INSTRUCTIONS.format(dialect=DIALECT_NAMES.get(dialect, dialect), no_sql=NO_SQL),
            "Tables:\n" + schema_prompt(),
            _RULES,
            examples_prompt(dialect),
            f"The question is asked now: {asked_at_text(as_of)}.",
        ]
    )
