"""OWID's raw files -> parsed rows -> world_energy, its long form and the codebook: DataFrame -> DataFrame.

``datalake.pipelines.owid`` checks, deduplicates and writes what these return.

- :func:`files_to_rows`: raw files (``path``, ``content`` bytes) -> one :data:`PARSED` row per data
  row of each file, every cell as text under its current OWID name, or one row with a
  ``problem`` for a file that cannot be read. The reading is :func:`datalake.sources.owid.parse_file`,
  the landing's own, inside ``mapInPandas``: Spark has no XLSX reader (Glue 5.0 ships none),
  and its CSV reader takes one header for all the files it reads, while each OWID vintage has its
  own columns in its own order. A file is one snapshot of the dataset (about 22,000 rows).
- :func:`energy_rows`: parsed rows -> typed ``world_energy`` rows (a ``double`` per indicator)
  with their parse checks; a value that is not a number, or breaks its column's range, is null
  in the table and comes out of :func:`bad_values` with its reason.
- :func:`indicator_rows`: ``world_energy`` rows -> the long form, one row per value.
- :func:`codebook_rows`: parsed codebook rows -> ``world_energy_codebook`` rows and checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from datalake.datasets.owid import (
    AGGREGATE_NAMES,
    COUNTRIES_WITHOUT_CODE,
    INDICATORS,
    KEY_COLUMNS,
    OWID_COUNTRY_CODES,
    RENAMED_COLUMNS,
    WORLD_ENERGY,
    WORLD_ENERGY_CODEBOOK,
    WORLD_ENERGY_INDICATORS,
)
from datalake.sources.energy_company import Rejected
from datalake.sources.owid import CODEBOOK, ENERGY, parse_file
from datalake.transforms.documents import conform
from datalake.transforms.expressions import (
    explode_structs,
    literal_map,
    sql_count,
    sql_double,
    sql_name,
    sql_named,
    sql_string,
    sql_text_or_null,
    text_or_null,
)
from datalake.transforms.quality import ParseCheck

PROBLEM = "problem"
#: Codebook cells, named apart from the data file's columns.
CODEBOOK_FIELDS = {
    "column": "cb_column",
    "description": "cb_description",
    "unit": "cb_unit",
    "source": "cb_source",
}
#: What :func:`files_to_rows` gives: where each row came from, its problem, every cell as text.
PARSED = T.StructType(
    [
        T.StructField("path", T.StringType()),
        T.StructField("kind", T.StringType()),
        T.StructField("line_number", T.LongType()),
        T.StructField("raw_record", T.StringType()),
        T.StructField(PROBLEM, T.StringType()),
        # The file's header facts, on each of its rows (the run report lists them per file).
        T.StructField("ignored_columns", T.StringType()),
        T.StructField("renamed_columns", T.StringType()),
        *(T.StructField(name, T.StringType()) for name in KEY_COLUMNS),
        *(T.StructField(i.name, T.StringType()) for i in INDICATORS),
        *(T.StructField(name, T.StringType()) for name in CODEBOOK_FIELDS.values()),
    ]
)
#: A number as OWID writes it (and as a workbook stores it): no thousands separators, no text.
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_YEAR = r"^-?\d{1,4}(\.0+)?$"
_NOT_FINITE = r"^[+-]?(inf|infinity|nan)$"
_INFINITY = "CAST('Infinity' AS DOUBLE)"
#: Each ``world_energy`` column's lowest value (its range rule); signed indicators have none.
_COLUMNS = {i.column for i in INDICATORS}
MINIMUM = {
    r.column: r.min_value for r in WORLD_ENERGY.quality_rules if r.kind == "range" and r.column in _COLUMNS
}


def _unreadable(path: str, data: bytes, problem: str) -> dict[str, object]:
    return {"path": path, "line_number": 0, "raw_record": data[:2000].decode("latin-1"), PROBLEM: problem}


def _file_rows(path: str, data: bytes) -> list[dict[str, object]]:
    """The :data:`PARSED` rows of one file (one row with the problem when it cannot be read)."""
    try:
        parsed = parse_file(data)
    except Rejected as rejection:
        return [_unreadable(path, data, f"unreadable file: {rejection.reason}: {rejection.detail}")]
    header = parsed.header
    facts = {
        "path": path,
        "kind": header.kind,
        "ignored_columns": ",".join(header.unknown) or None,
        "renamed_columns": ",".join(f"{old}->{new}" for old, new in header.renamed) or None,
    }
    rename = CODEBOOK_FIELDS if header.kind == CODEBOOK else {}
    return [
        {
            **facts,
            "line_number": row.line_number,
            "raw_record": row.raw_record,
            PROBLEM: row.problem,
            **{rename.get(name, name): value for name, value in row.cells.items()},
        }
        for row in parsed.rows
    ]


def _parse_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    for batch in batches:
        for path, content in zip(batch["path"], batch["content"], strict=True):
            rows = _file_rows(path, bytes(content))
            yield conform(pd.DataFrame.from_records(rows), PARSED)


def files_to_rows(files: DataFrame) -> DataFrame:
    """Raw files (``path``, ``content`` bytes) -> :data:`PARSED` rows plus ``landed_on``.

    ``landed_on`` is the file's ``year=/month=/day=`` (its landing day); a file outside one gets
    that ``problem``, as does every row of a file that cannot be read (one row, line 0).
    """
    rows = files.select("path", "content").mapInPandas(_parse_batches, PARSED)
    ymd = [F.regexp_extract("path", r"/year=(\d{4})/month=(\d{2})/day=(\d{2})/", i) for i in (1, 2, 3)]
    landed_on = F.when(ymd[0] != "", F.make_date(*(part.cast("int") for part in ymd)))
    undated = F.lit("raw file is not under year=/month=/day=/ (the landing date)")
    return rows.withColumn("landed_on", landed_on).withColumn(
        PROBLEM, F.when(F.col(PROBLEM).isNull() & landed_on.isNull(), undated).otherwise(F.col(PROBLEM))
    )


def aggregate_flag(country: Column, iso_code: Column) -> Column:
    """True for a region (the rules in :mod:`datalake.datasets.owid`), False for a country; never null.

    By name first (the world, continents, income groups), then by code: an ISO alpha-3 code is a
    country, an ``OWID_*`` code a region unless OWID coined it for a country (Kosovo, the USSR),
    and no code at all a region unless the name is a country a vintage left without one.
    """
    code = F.coalesce(F.trim(iso_code), F.lit(""))
    return (
        F.when(country.isin(list(AGGREGATE_NAMES)), True)
        .when(code.rlike("^[A-Z]{3}$"), False)
        .when(code.startswith("OWID_"), ~code.isin(list(OWID_COUNTRY_CODES)))
        .otherwise(~F.coalesce(country.isin(list(COUNTRIES_WITHOUT_CODE)), F.lit(False)))
    )


def value_ok(raw: str, number: str, minimum: float | None) -> str:
    """SQL: true when a value's text (column ``raw``) is a finite number (column ``number``, its
    cast) at or above ``minimum`` (None: no lower bound).

    SQL, not a Column: ``world_energy`` has one per indicator, and one SQL expression is one call
    to the JVM where the same Column took a dozen (:mod:`datalake.transforms.expressions`).
    """
    raw, number = sql_name(raw), sql_name(number)
    ok = f"{raw} RLIKE {sql_string(_NUMBER)} AND NOT isnan({number}) AND abs({number}) != {_INFINITY}"
    return ok if minimum is None else f"{ok} AND {number} >= {sql_double(minimum)}"


def value_problem(raw: Column, column: Column, minimum: Column) -> Column:
    """Why a value's text cannot stand in ``world_energy`` (null when :func:`value_ok`).

    ``column`` names the value's column in the message; ``minimum`` is its range rule's lower
    bound (null: none), the message the rule's own (``... outside [0.0, None]``).
    """
    number = raw.cast("double")
    # OWID writes a change from zero as "inf": a value, but none a double column should hold.
    not_finite = F.lower(raw).rlike(_NOT_FINITE) | F.isnan(number) | (F.abs(number) == float("inf"))
    return (
        F.when(not_finite, F.format_string("%s: not finite '%s'", column, raw))
        .when(~raw.rlike(_NUMBER), F.format_string("%s: not a number '%s'", column, raw))
        .when(
            minimum.isNotNull() & (number < minimum),
            F.format_string("%s outside [%s, None]", column, minimum.cast("string")),
        )
    )


def energy_rows(rows: DataFrame, carry: Sequence[str] = ()) -> tuple[DataFrame, list[ParseCheck]]:
    """Typed ``world_energy`` rows (plus ``path``, ``line_number``, ``raw_record``, ``problem``,
    ``landed_on``, ``bad_values`` and the ``carry`` columns) and their parse checks.

    A value that is not a number or breaks its range is null here; ``bad_values`` counts them
    in the row (:func:`bad_values` says why), so only those rows are looked at again.
    """
    energy = rows.filter(F.col("kind") == ENERGY)
    # Three narrow steps rather than one expression per value: Spark keeps projections apart
    # when collapsing them would compute an expensive expression again, so each text is trimmed
    # and cast once (one wide expression took four times as long on the 2020 file).
    texts = {i.name: f"_text_{n}" for n, i in enumerate(INDICATORS)}
    numbers = {i.name: f"_number_{n}" for n, i in enumerate(INDICATORS)}
    keep = [*carry, "path", "line_number", "raw_record", "landed_on", PROBLEM]
    trimmed = energy.select(
        *keep,
        *(sql_named(sql_text_or_null(name), f"_{name}") for name in KEY_COLUMNS),
        *(sql_named(sql_text_or_null(i.name), texts[i.name]) for i in INDICATORS),
    )
    cast = trimmed.select(
        "*", *(sql_named(f"CAST({sql_name(texts[i.name])} AS DOUBLE)", numbers[i.name]) for i in INDICATORS)
    )
    country, iso_code, year_text = F.col("_country"), F.col("_iso_code"), F.col("_year")
    checked = cast.select(
        *keep,
        year_text.alias("raw_year"),
        country.alias("country"),
        iso_code.alias("iso_code"),
        F.when(year_text.rlike(_YEAR), year_text.cast("double").cast("int")).alias("year"),
        aggregate_flag(country, iso_code).alias("is_aggregate"),
        *(texts[i.name] for i in INDICATORS),
        *(
            sql_named(
                f"CASE WHEN {value_ok(texts[i.name], numbers[i.name], MINIMUM.get(i.column))} "
                f"THEN {sql_name(numbers[i.name])} END",
                i.column,
            )
            for i in INDICATORS
        ),
    )
    # A value given (text) but left null (no number, or out of range): bad_values says why.
    bad = sql_count(
        [f"{sql_name(texts[i.name])} IS NOT NULL AND {sql_name(i.column)} IS NULL" for i in INDICATORS]
    )
    typed = checked.select("*", sql_named(bad, "bad_values")).drop(*texts.values())
    failed = F.coalesce(F.col("raw_year").isNotNull() & F.col("year").isNull(), F.lit(False))
    return typed, [("year", failed, F.format_string("year: not a year '%s'", F.col("raw_year")))]


def with_file_duplicates(typed: DataFrame) -> DataFrame:
    """``problem`` on a row that repeats the country and year of an earlier line of its file."""
    first = F.min("line_number").over(Window.partitionBy("path", "country", "year"))
    repeated = F.col("country").isNotNull() & F.col("year").isNotNull() & (F.col("line_number") > first)
    message = F.format_string("repeats the country and year of line %d of the same file", first)
    return typed.withColumn(PROBLEM, F.coalesce(F.col(PROBLEM), F.when(repeated, message)))


def with_vintage(typed: DataFrame) -> DataFrame:
    """Add ``_older_vintage``: minus the newest year of the row's file, to rank same-day drops.

    Two drops landed the same day are told apart by the data they hold: the one reaching the
    later year is the newer vintage (ascending, as the tiebreak sorts).
    """
    return typed.withColumn("_older_vintage", -F.max("year").over(Window.partitionBy("path")))


def bad_values(rows: DataFrame) -> DataFrame:
    """The values of parsed data rows that :func:`energy_rows` leaves null for a reason.

    Columns ``path``, ``line_number``, ``country``, ``year`` (as written), ``indicator``,
    ``raw_value``, ``reason``.
    """
    cells = explode_structs(
        [
            {
                "indicator": sql_string(i.name),
                "column": sql_string(i.column),
                "raw_value": sql_text_or_null(i.name),
                "minimum": sql_double(MINIMUM.get(i.column)),
            }
            for i in INDICATORS
        ]
    )
    keys = ("path", "line_number", "country", "year")
    exploded = (
        rows.filter(F.col("kind") == ENERGY).select(*keys, cells.alias("_cell")).select(*keys, "_cell.*")
    )
    reason = value_problem(F.col("raw_value"), F.col("column"), F.col("minimum"))
    return (
        exploded.filter(F.col("raw_value").isNotNull())
        .withColumn("reason", reason)
        .filter(F.col("reason").isNotNull())
        .select(*keys, "indicator", "raw_value", "reason")
    )


def world_energy(rows: DataFrame) -> DataFrame:
    """The ``world_energy`` columns of typed rows."""
    return rows.select(*WORLD_ENERGY.column_names)


def indicator_rows(world: DataFrame) -> DataFrame:
    """``world_energy`` rows -> ``world_energy_indicators``: one row per value that is not null."""
    cells = explode_structs(
        [
            {"indicator": sql_string(i.name), "value": sql_name(i.column), "unit": sql_string(i.unit.short)}
            for i in INDICATORS
        ]
    )
    keep = [c for c in WORLD_ENERGY_INDICATORS.column_names if c not in ("indicator", "value", "unit")]
    return (
        world.select(*keep, cells.alias("_cell"))
        .select(*keep, "_cell.*")
        .filter(F.col("value").isNotNull())
        .select(*WORLD_ENERGY_INDICATORS.column_names)
    )


def codebook_rows(rows: DataFrame, carry: Sequence[str] = ()) -> tuple[DataFrame, list[ParseCheck]]:
    """Typed ``world_energy_codebook`` rows (with ``path``, ``line_number``, ``raw_record``,
    ``problem`` and the ``carry`` columns) and their checks.

    A renamed column is described under its current name. An indicator whose unit in the
    codebook is not the one its ``world_energy`` column is named after fails a check: the lake's
    column name would state the wrong unit.
    """
    named = F.lower(text_or_null("cb_column"))
    indicator = F.coalesce(literal_map(RENAMED_COLUMNS)[named], named)
    columns = {name: name for name in KEY_COLUMNS} | {i.name: i.column for i in INDICATORS}
    typed = rows.filter(F.col("kind") == CODEBOOK).select(
        *carry,
        "path",
        "line_number",
        "raw_record",
        "landed_on",
        PROBLEM,
        indicator.alias("indicator"),
        literal_map(columns)[indicator].alias("column_name"),
        literal_map({i.name: i.unit.short for i in INDICATORS})[indicator].alias("unit"),
        text_or_null("cb_unit").alias("codebook_unit"),
        text_or_null("cb_description").alias("description"),
        text_or_null("cb_source").alias("source"),
        literal_map({i.name: i.unit.codebook for i in INDICATORS})[indicator].alias("_expected_unit"),
    )
    expected = F.col("_expected_unit")
    wrong = F.coalesce(expected.isNotNull() & ~F.col("codebook_unit").eqNullSafe(expected), F.lit(False))
    message = F.format_string(
        "codebook_unit: '%s' for %s, whose column %s is named after '%s'",
        F.coalesce(F.col("codebook_unit"), F.lit("")),
        F.col("indicator"),
        F.col("column_name"),
        expected,
    )
    return typed, [("codebook_unit", wrong, message)]


def codebook_table(rows: DataFrame) -> DataFrame:
    """The ``world_energy_codebook`` columns of typed codebook rows."""
    return rows.select(*WORLD_ENERGY_CODEBOOK.column_names)
