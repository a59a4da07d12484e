"""REData documents -> typed rows of ``demand_hourly`` and ``generation``.

The envelope is flattened with Spark's JSON reader and functions (:func:`documents_to_rows`),
reading it as ``datalake.sources.ree.parse_values`` (the client's Python reading) does.
"""

from __future__ import annotations

import re

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.sources.ree import REAL_LABEL
from datalake.sources.sample import SAMPLE_LABEL
from datalake.transforms.documents import local_date
from datalake.transforms.quality import RawRecord

#: ``ree-<dataset>-<geo>-<YYYY-MM-DD>.json``, as ``datalake.sources.ree.raw_key`` names files.
_NAME = re.compile(r"ree-(?P<dataset>[a-z_]+)-(?P<geo>[a-z_]+)-\d{4}-\d{2}-\d{2}\.json$")
DEMAND_SERIES = "Demanda"
PROBLEM = "problem"

#: How deep composite series (``attributes.content``) are read; deeper parts are quarantined.
COMPOSITE_DEPTH = 3
_SERIES_FIELDS = "id STRING, type STRING, groupId STRING"


def _series_schema(depth: int, entry: str) -> str:
    """A series element's schema, its ``content`` nested ``depth - 1`` more times (raw text at the end)."""
    content = "ARRAY<STRING>" if depth == 1 else f"ARRAY<{_series_schema(depth - 1, entry)}>"
    attributes = f"STRUCT<title: STRING, type: STRING, `values`: ARRAY<{entry}>, content: {content}>"
    return f"STRUCT<id: STRING, type: STRING, groupId: STRING, attributes: {attributes}>"


_FAST_ENTRY = "STRUCT<datetime: STRING, value: DOUBLE, percentage: DOUBLE>"
#: The envelope with typed entries: the fast path, for documents whose every entry reads cleanly.
_FAST_DOCUMENT = f"included ARRAY<{_series_schema(COMPOSITE_DEPTH, _FAST_ENTRY)}>, _corrupt STRING"
#: The envelope with entries kept as raw JSON text, typed one by one with exact problems.
_DOCUMENT = f"included ARRAY<{_series_schema(COMPOSITE_DEPTH, 'STRING')}>, _corrupt STRING"
_CORRUPT = {"columnNameOfCorruptRecord": "_corrupt"}
# A stamp ``datetime.fromisoformat`` reads: date, time, then (aware) Z or a UTC offset.
_STAMP = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
_OFFSET = r"(Z|[+-]\d{2}(:?\d{2})?)$"
_NUMBER = r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$|^-?Infinity$|^NaN$"


def _as_rows(level: str, fast: bool) -> Column:
    """A level's ``(child, parent)`` pairs as ``(id, title, kind, parent, entries)`` structs.

    Each entry becomes ``(fast, raw)``: the typed struct of the fast path, or the raw text.
    """
    none = F.lit(None).cast(_FAST_ENTRY if not fast else "string")
    return F.transform(
        F.coalesce(F.col(level), F.array()),
        lambda pair: F.struct(
            pair["child"]["id"].alias("series_id"),
            pair["child"]["attributes"]["title"].alias("series_title"),
            pair["child"]["attributes"]["type"].alias("series_kind"),
            pair["parent"].alias("series_parent_id"),
            F.transform(
                F.coalesce(pair["child"]["attributes"]["values"], F.array()),
                lambda e: (
                    F.struct(e.alias("fast"), none.alias("raw"))
                    if fast
                    else F.struct(none.alias("fast"), e.alias("raw"))
                ),
            ).alias("entries"),
        ),
    )


def _with_series(docs: DataFrame, doc: str, prefix: str) -> DataFrame:
    """Add ``<prefix>_series`` (every series of ``doc``, composite parts included) and ``<prefix>_too_deep``.

    One level per step: Spark evaluates higher-order functions without code generation, so a
    level written inside the next would be computed again for each use.
    """
    top = F.transform(
        F.coalesce(F.col(f"{doc}.included"), F.array()),
        lambda s: F.struct(s.alias("child"), F.lit(None).cast("string").alias("parent")),
    )
    docs = docs.withColumn(f"{prefix}_level1", top)
    for depth in range(2, COMPOSITE_DEPTH + 1):
        children = F.flatten(
            F.transform(
                F.col(f"{prefix}_level{depth - 1}"),
                lambda pair: F.transform(
                    F.coalesce(pair["child"]["attributes"]["content"], F.array()),
                    lambda c: F.struct(c.alias("child"), pair["child"]["id"].alias("parent")),
                ),
            )
        )
        docs = docs.withColumn(f"{prefix}_level{depth}", children)
    deepest = f"{prefix}_level{COMPOSITE_DEPTH}"
    too_deep = F.exists(
        F.col(deepest), lambda pair: F.size(F.coalesce(pair["child"]["attributes"]["content"], F.array())) > 0
    )
    levels = [f"{prefix}_level{depth}" for depth in range(1, COMPOSITE_DEPTH + 1)]
    series = F.concat(*(_as_rows(level, prefix == "_fast") for level in levels))
    return docs.withColumns({f"{prefix}_series": series, f"{prefix}_too_deep": too_deep}).drop(*levels)


def _clean(entry: Column) -> Column:
    """Whether the fast path words this entry's problems as parse_values would (else: the raw path).

    Typed parsing cannot tell a number from text in ``datetime`` nor ``"NaN"`` from NaN, so an
    entry with a stamp that is neither null nor ISO-like, or a non-finite number, goes the raw way.
    """
    stamp = entry["datetime"]

    def finite(number: Column) -> Column:
        return number.isNull() | ~(F.isnan(number) | (F.abs(number) == float("inf")))

    return (
        entry.isNotNull()
        & (stamp.isNull() | stamp.rlike(_STAMP + f"({_OFFSET[:-1]})?$"))
        & finite(entry["value"])
        & finite(entry["percentage"])
    )


def _aware(stamp: Column) -> Column:
    """Whether a clean stamp (see :func:`_clean`) ends with a UTC offset: ``Z``, or a sign after its
    date (the first ten characters; the time holds no sign).

    String tests, not the ISO pattern again (twice per entry, as it was): one year of generation
    documents flattened in 3.41 s with it, 2.41 s without.
    """
    return stamp.endswith("Z") | (F.locate("+", stamp, 11) > 0) | (F.locate("-", stamp, 11) > 0)


def _fast_stamp(entry: Column) -> Column:
    """A clean entry's ``ts_utc``: its stamp read when it has an offset (null otherwise).

    A column of its own, so :func:`_fast_typed` reads each stamp once (in a CASE branch Spark
    would parse it again for every use).
    """
    stamp = entry["datetime"]
    return F.when(_aware(stamp), F.to_timestamp(stamp))


def _fast_typed(entry: Column, ts_utc: Column) -> Column:
    """A clean entry's ``ts_utc``, ``value``, ``percentage`` and ``problem`` (see :func:`_clean`),
    given its :func:`_fast_stamp`."""
    stamp = entry["datetime"]
    stamp_problem = (
        F.when(ts_utc.isNotNull(), F.lit(None))
        .when(stamp.isNull(), F.lit("datetime None is not ISO 8601"))
        .when(
            ~_aware(stamp) & F.to_timestamp(stamp).isNotNull(),
            F.concat(F.lit("datetime '"), stamp, F.lit("' has no UTC offset")),
        )
        .otherwise(F.concat(F.lit("datetime '"), stamp, F.lit("' is not ISO 8601")))
    )
    value_problem = F.when(entry["value"].isNull(), F.lit("value is missing"))
    return F.struct(
        ts_utc.alias("ts_utc"),
        entry["value"].alias("value"),
        entry["percentage"].alias("percentage"),
        F.nullif(F.concat_ws("; ", stamp_problem, value_problem), F.lit("")).alias(PROBLEM),
    )


def _repr(text: Column, is_string: Column) -> Column:
    """Python's ``repr`` of a JSON scalar as ``json.loads`` gives it (strings quoted, null as None)."""
    return (
        F.when(text.isNull(), F.lit("None"))
        .when(is_string, F.concat(F.lit("'"), text, F.lit("'")))
        .when(text == "true", F.lit("True"))
        .when(text == "false", F.lit("False"))
        .otherwise(text)
    )


def _typed_entry(entry: Column, fields: Column) -> Column:
    """An entry's ``ts_utc``, ``value``, ``percentage`` and ``problem``, worded as parse_values does."""
    is_object = entry.startswith("{")

    def string_field(name: str) -> Column:
        return entry.rlike(f'"{name}"\\s*:\\s*"')

    stamp, stamp_is_text = fields["datetime"], string_field("datetime")
    aware = stamp_is_text & stamp.rlike(_STAMP + _OFFSET)
    naive = stamp_is_text & stamp.rlike(_STAMP + "$") & F.to_timestamp(stamp).isNotNull()
    ts_utc = F.when(aware, F.to_timestamp(stamp))

    def number(name: str) -> Column:
        text = fields[name]
        return F.when(~string_field(name) & text.rlike(_NUMBER), text.cast("double"))

    value = number("value")
    stamp_problem = (
        F.when(ts_utc.isNotNull(), F.lit(None))
        .when(naive, F.concat(F.lit("datetime "), _repr(stamp, stamp_is_text), F.lit(" has no UTC offset")))
        .otherwise(F.concat(F.lit("datetime "), _repr(stamp, stamp_is_text), F.lit(" is not ISO 8601")))
    )
    value_problem = (
        F.when(value.isNotNull(), F.lit(None))
        .when(fields["value"].isNull(), F.lit("value is missing"))
        .otherwise(
            F.concat(
                F.lit("value "), _repr(fields["value"], string_field("value")), F.lit(" is not a number")
            )
        )
    )
    problem = F.when(
        ~is_object, F.concat(F.lit("value entry is not an object: "), F.coalesce(entry, F.lit("None")))
    ).otherwise(F.nullif(F.concat_ws("; ", stamp_problem, value_problem), F.lit("")))
    return F.struct(
        F.when(is_object, ts_utc).alias("ts_utc"),
        F.when(is_object, value).alias("value"),
        F.when(is_object, number("percentage")).alias("percentage"),
        problem.alias(PROBLEM),
    )


def documents_to_rows(documents: DataFrame) -> DataFrame:
    """Flatten documents (``path``, ``content``, ``extracted_at``) into one row per value entry.

    Spark's JSON reader and functions do what ``datalake.sources.ree.parse_values`` does in Python
    (same rows, same problems), so big backfills need no Python workers. Entries that cannot be
    read keep a ``problem`` and their raw text, for quarantine. ``raw_record`` of a value row is
    the flattened row as compact JSON.
    """
    java_pattern = _NAME.pattern.replace("(?P<", "(?<")  # Java spells named groups without the P
    name = F.regexp_extract("path", java_pattern, 1)
    geo = F.regexp_extract("path", java_pattern, 2)
    sample = F.from_json("content", "data STRUCT<meta: STRUCT<sample: BOOLEAN>>")["data"]["meta"]["sample"]
    docs = documents.select(
        "path",
        "content",
        "extracted_at",
        F.nullif(name, F.lit("")).alias("dataset"),
        F.nullif(geo, F.lit("")).alias("region"),
        F.when(sample, F.lit(SAMPLE_LABEL)).otherwise(F.lit(REAL_LABEL)).alias("source"),
        F.ltrim(F.col("content")).startswith("{").alias("_object"),
        # Malformed JSON, or a part of the wrong type, sets _corrupt (a row of nulls otherwise).
        F.from_json("content", _FAST_DOCUMENT, _CORRUPT).alias("_fast"),
    )
    docs = _with_series(docs, "_fast", "_fast")
    fast = (
        F.col("_object")
        & F.col("_fast._corrupt").isNull()
        & F.forall("_fast_series", lambda s: F.forall(s["entries"], lambda e: _clean(e["fast"])))
    )
    docs = docs.withColumn("_fast_ok", fast).drop("_fast")
    # The raw path, only for documents the fast one cannot word exactly (CASE WHEN is lazy).
    raw = F.when(~F.col("_fast_ok"), F.from_json("content", _DOCUMENT, _CORRUPT))
    docs = _with_series(docs.withColumn("_raw", raw), "_raw", "_raw")
    # Like json.loads then dict access: a document that is not one JSON object is unreadable.
    readable = F.col("_fast_ok") | (F.col("_object") & F.col("_raw._corrupt").isNull())
    docs = docs.select(
        *(c for c in docs.columns if not c.startswith(("_fast", "_raw"))),
        readable.alias("_readable"),
        F.when(F.col("_fast_ok"), F.col("_fast_series")).otherwise(F.col("_raw_series")).alias("_series"),
        F.when(F.col("_fast_ok"), F.col("_fast_too_deep"))
        .otherwise(F.col("_raw_too_deep"))
        .alias("_too_deep"),
    )
    entries_of = F.aggregate("_series", F.lit(0), lambda count, s: count + F.size(s["entries"]))
    # A series with more than one value in a document makes it hourly.
    per_series = F.transform(
        "_series",
        lambda s: F.aggregate(
            F.filter("_series", lambda t: t["series_id"].eqNullSafe(s["series_id"])),
            F.lit(0),
            lambda count, t: count + F.size(t["entries"]),
        ),
    )
    grain = F.when(F.coalesce(F.array_max(per_series), F.lit(0)) > 1, "hour").otherwise("day")
    document_problem = (
        F.when(
            ~F.col("_readable"), F.lit("unreadable REData document: not a JSON object with a list of series")
        )
        .when(F.col("dataset").isNull(), F.lit("file name is not ree-<dataset>-<geo>-<date>.json"))
        .when(F.col("_too_deep"), F.lit(f"composite series nested deeper than {COMPOSITE_DEPTH} levels"))
        .when(entries_of == 0, F.lit("document holds no values"))
    )
    docs = docs.withColumns({"time_grain": grain, "_document_problem": document_problem}).select(
        "path",
        "dataset",
        "region",
        "time_grain",
        "source",
        "extracted_at",
        "_series",
        "_document_problem",
        # The one row of a document with a problem keeps its text (its path when only the name is wrong).
        F.when(
            F.col("_document_problem").isNotNull(),
            F.when(F.col("dataset").isNull() & F.col("_readable"), F.col("path")).otherwise(
                F.substring("content", 1, 2000)
            ),
        ).alias("_document_record"),
    )
    # One pass: a document with a problem explodes to one null series and one null entry (its
    # row), the others to their entries. A union of the two kinds parsed every document twice
    # (Spark recomputes each branch from the files).
    whole = F.col("_document_problem").isNotNull()
    one_null = F.array(F.lit(None))
    series = docs.select(
        *(c for c in docs.columns if c != "_series"),
        F.explode(F.when(whole, one_null).otherwise(F.col("_series"))).alias("s"),
    )
    raw_entry = F.col("_entry.raw")
    fields = F.when(
        raw_entry.isNotNull(), F.from_json(raw_entry, "datetime STRING, value STRING, percentage STRING")
    )
    typed = F.when(raw_entry.isNull(), _fast_typed(F.col("_entry.fast"), F.col("_ts"))).otherwise(
        _typed_entry(raw_entry, F.col("_fields"))
    )
    stamp = F.when(raw_entry.isNull(), _fast_stamp(F.col("_entry.fast")))
    entries = (
        series.select("*", F.explode(F.when(whole, one_null).otherwise(F.col("s.entries"))).alias("_entry"))
        .withColumns({"_fields": fields, "_ts": stamp})
        .withColumn("_typed", typed)
    )

    def of_values(column: Column) -> Column:
        return F.when(~whole, column)

    return entries.select(
        "path",
        "dataset",
        "region",
        of_values(F.col("time_grain")).alias("time_grain"),
        of_values(F.col("s.series_title")).alias("series_title"),
        of_values(F.col("s.series_kind")).alias("series_kind"),
        of_values(F.col("_typed.ts_utc")).alias("ts_utc"),
        of_values(F.col("_typed.value")).alias("value"),
        of_values(F.col("_typed.percentage")).alias("percentage"),
        of_values(F.col("source")).alias("source"),
        "extracted_at",
        F.coalesce(F.col("_document_problem"), F.col(f"_typed.{PROBLEM}")).alias(PROBLEM),
        # The pieces of raw_record (see raw_record()), not the text: a value's JSON was most of
        # a cached ten-year backfill (665 MiB), and only quarantined rows ever need it.
        of_values(F.col("s.series_id")).alias("series_id"),
        of_values(F.col("s.series_parent_id")).alias("series_parent_id"),
        of_values(F.col("_entry.fast").isNotNull()).alias("typed_entry"),
        of_values(F.col("_entry.fast.datetime")).alias("entry_stamp"),
        of_values(raw_entry).alias("raw_entry"),
        F.when(whole, F.col("_document_record")).alias("document_record"),
    )


def raw_record() -> Column:
    """``raw_record`` of a flattened value (:func:`documents_to_rows`): the row as compact JSON, or
    the text of a document with a problem.

    A typed entry's JSON is written again from its stamp's text and its numbers (a double's
    JSON is the same text either way).
    """
    typed = F.struct(F.col("entry_stamp").alias("datetime"), F.col("value"), F.col("percentage"))
    entry = F.when(F.col("typed_entry"), F.to_json(typed)).otherwise(F.col("raw_entry"))
    value_record = F.to_json(
        F.struct("series_id", "series_title", "series_kind", "series_parent_id", entry.alias("entry")),
        {"ignoreNullFields": "false"},
    )
    return F.when(F.col("document_record").isNotNull(), F.col("document_record")).otherwise(value_record)


#: The flattened value's columns :func:`raw_record` reads: what the builders' rows carry in its place.
RECORD_PIECES = (
    "series_id",
    "series_title",
    "series_kind",
    "series_parent_id",
    "typed_entry",
    "entry_stamp",
    "value",
    "percentage",
    "raw_entry",
    "document_record",
)
#: The builders' rows carry :data:`RECORD_PIECES`; the pipeline writes the text of the quarantined ones.
RAW_RECORD = RawRecord(RECORD_PIECES, raw_record)


def demand_rows(values: DataFrame) -> DataFrame:
    """``demand_hourly`` rows from flattened demand documents; other series get a problem.

    The rows carry :data:`RECORD_PIECES` in place of ``raw_record`` (:data:`RAW_RECORD`).
    """
    rows = values.filter(F.col("dataset") == "demand")
    problem = (
        F.when(F.col(PROBLEM).isNotNull(), F.col(PROBLEM))
        .when(
            F.col("series_title") != DEMAND_SERIES, F.concat(F.lit("not the demand series: "), "series_title")
        )
        .when(F.col("time_grain") != "hour", F.lit("demand is hourly; this document is not"))
    )
    return rows.select(
        F.col("ts_utc"),
        local_date().alias("local_date"),
        F.col("region"),
        # Hourly energy in MWh over one hour is the mean power in MW.
        F.col("value").alias("demand_mw"),
        F.col("source"),
        F.lit(None).cast("double").alias("tso_forecast_mw"),
        F.col("extracted_at"),
        F.year(local_date()).alias("year"),
        F.month(local_date()).alias("month"),
        problem.alias(PROBLEM),
        *RECORD_PIECES,
    ).select(*DEMAND_HOURLY.column_names, "year", "month", PROBLEM, *RECORD_PIECES)


def generation_rows(values: DataFrame) -> DataFrame:
    """``generation`` rows (one per technology and period) from flattened documents, carrying
    :data:`RECORD_PIECES` in place of ``raw_record`` (:data:`RAW_RECORD`)."""
    rows = values.filter(F.col("dataset") == "generation")
    return rows.select(
        F.col("ts_utc"),
        local_date().alias("local_date"),
        F.col("time_grain"),
        F.col("region"),
        F.col("series_title").alias("technology"),
        F.col("series_kind").alias("technology_group"),
        F.col("value").alias("energy_mwh"),
        F.col("percentage").alias("share"),
        F.col("source"),
        F.col("extracted_at"),
        F.year(local_date()).alias("year"),
        F.col(PROBLEM),
        *RECORD_PIECES,
    ).select(*GENERATION.column_names, "year", PROBLEM, *RECORD_PIECES)


def unreadable_rows(values: DataFrame) -> DataFrame:
    """Rows that belong to no dataset (unreadable files, unexpected names), for quarantine, carrying
    :data:`RECORD_PIECES` like the builders' rows."""
    return values.filter(F.col("dataset").isNull() | ~F.col("dataset").isin("demand", "generation"))
