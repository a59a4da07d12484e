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

#: ``ree-<dataset>-<geo>-<YYYY-MM-DD>.json``, as ``datalake.sources.ree.raw_key`` names files.
_NAME = re.compile(r"ree-(?P<dataset>[a-z_]+)-(?P<geo>[a-z_]+)-\d{4}-\d{2}-\d{2}\.json$")
DEMAND_SERIES = "Demanda"
PROBLEM = "problem"

#: How deep composite series (``attributes.content``) are read; deeper parts are quarantined.
COMPOSITE_DEPTH = 3
_SERIES_FIELDS = "id STRING, type STRING, groupId STRING"


def _series_schema(depth: int) -> str:
    """A series element's schema, its ``content`` nested ``depth - 1`` more times (raw text at the end)."""
    content = "ARRAY<STRING>" if depth == 1 else f"ARRAY<{_series_schema(depth - 1)}>"
    attributes = f"STRUCT<title: STRING, type: STRING, `values`: ARRAY<STRING>, content: {content}>"
    return f"STRUCT<id: STRING, type: STRING, groupId: STRING, attributes: {attributes}>"


#: The envelope's series, values kept as raw JSON text (typed below, entry by entry).
_DOCUMENT = f"included ARRAY<{_series_schema(COMPOSITE_DEPTH)}>, _corrupt STRING"
# A stamp ``datetime.fromisoformat`` reads: date, time, then (aware) Z or a UTC offset.
_STAMP = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
_OFFSET = r"(Z|[+-]\d{2}(:?\d{2})?)$"
_NUMBER = r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$|^-?Infinity$|^NaN$"


def _as_rows(level: str) -> Column:
    """A level's ``(child, parent)`` pairs as ``(id, title, kind, parent, entries)`` structs."""
    return F.transform(
        F.coalesce(F.col(level), F.array()),
        lambda pair: F.struct(
            pair["child"]["id"].alias("series_id"),
            pair["child"]["attributes"]["title"].alias("series_title"),
            pair["child"]["attributes"]["type"].alias("series_kind"),
            pair["parent"].alias("series_parent_id"),
            pair["child"]["attributes"]["values"].alias("entries"),
        ),
    )


def _with_series(docs: DataFrame) -> DataFrame:
    """Add ``_series`` (every series, composite parts included) and ``_too_deep``.

    One level per step: Spark evaluates higher-order functions without code generation, so a
    level written inside the next would be computed again for each use.
    """
    top = F.transform(
        F.coalesce(F.col("_doc.included"), F.array()),
        lambda s: F.struct(s.alias("child"), F.lit(None).cast("string").alias("parent")),
    )
    docs = docs.withColumn("_level1", top)
    for depth in range(2, COMPOSITE_DEPTH + 1):
        children = F.flatten(
            F.transform(
                F.col(f"_level{depth - 1}"),
                lambda pair: F.transform(
                    F.coalesce(pair["child"]["attributes"]["content"], F.array()),
                    lambda c: F.struct(c.alias("child"), pair["child"]["id"].alias("parent")),
                ),
            )
        )
        docs = docs.withColumn(f"_level{depth}", children)
    deepest = f"_level{COMPOSITE_DEPTH}"
    too_deep = F.exists(
        F.col(deepest), lambda pair: F.size(F.coalesce(pair["child"]["attributes"]["content"], F.array())) > 0
    )
    levels = [f"_level{depth}" for depth in range(1, COMPOSITE_DEPTH + 1)]
    return docs.withColumns(
        {"_series": F.concat(*(_as_rows(level) for level in levels)), "_too_deep": too_deep}
    ).drop(*levels)


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
    naive = stamp_is_text & stamp.rlike(_STAMP + "$")
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
        # Malformed JSON, or a part of the wrong type, sets _corrupt (a row of nulls otherwise).
        F.from_json("content", _DOCUMENT, {"columnNameOfCorruptRecord": "_corrupt"}).alias("_doc"),
    )
    # Like json.loads then dict access: a document that is not one JSON object is unreadable.
    readable = F.ltrim(F.col("content")).startswith("{") & F.col("_doc._corrupt").isNull()
    docs = _with_series(docs.withColumn("_readable", readable)).drop("_doc")
    entries_of = F.aggregate(
        "_series", F.lit(0), lambda count, s: count + F.size(F.coalesce(s["entries"], F.array()))
    )
    # A series with more than one value in a document makes it hourly.
    per_series = F.transform(
        "_series",
        lambda s: F.aggregate(
            F.filter("_series", lambda t: t["series_id"].eqNullSafe(s["series_id"])),
            F.lit(0),
            lambda count, t: count + F.size(F.coalesce(t["entries"], F.array())),
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
    docs = docs.withColumns({"time_grain": grain, "_document_problem": document_problem})
    whole = docs.filter(F.col("_document_problem").isNotNull()).select(
        "path",
        "dataset",
        "region",
        F.lit(None).cast("string").alias("time_grain"),
        F.lit(None).cast("string").alias("series_title"),
        F.lit(None).cast("string").alias("series_kind"),
        F.lit(None).cast("timestamp").alias("ts_utc"),
        F.lit(None).cast("double").alias("value"),
        F.lit(None).cast("double").alias("percentage"),
        F.lit(None).cast("string").alias("source"),
        "extracted_at",
        F.col("_document_problem").alias(PROBLEM),
        F.when(F.col("dataset").isNull() & F.col("_readable"), F.col("path"))
        .otherwise(F.substring("content", 1, 2000))
        .alias("raw_record"),
    )
    series = docs.filter(F.col("_document_problem").isNull()).select(
        "path", "dataset", "region", "time_grain", "source", "extracted_at", F.explode("_series").alias("s")
    )
    entries = (
        series.select("*", F.explode("s.entries").alias("_entry"))
        .withColumn("_fields", F.from_json("_entry", "datetime STRING, value STRING, percentage STRING"))
        .withColumn("_typed", _typed_entry(F.col("_entry"), F.col("_fields")))
    )
    values = entries.select(
        "path",
        "dataset",
        "region",
        "time_grain",
        F.col("s.series_title").alias("series_title"),
        F.col("s.series_kind").alias("series_kind"),
        F.col("_typed.ts_utc").alias("ts_utc"),
        F.col("_typed.value").alias("value"),
        F.col("_typed.percentage").alias("percentage"),
        "source",
        "extracted_at",
        F.col(f"_typed.{PROBLEM}").alias(PROBLEM),
        F.to_json(
            F.struct(
                F.col("s.series_id").alias("series_id"),
                F.col("s.series_title").alias("series_title"),
                F.col("s.series_kind").alias("series_kind"),
                F.col("s.series_parent_id").alias("series_parent_id"),
                F.col("_entry").alias("entry"),
            ),
            {"ignoreNullFields": "false"},
        ).alias("raw_record"),
    )
    return values.unionByName(whole)


def demand_rows(values: DataFrame) -> DataFrame:
    """``demand_hourly`` rows from flattened demand documents; other series get a problem."""
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
        F.col("raw_record"),
    ).select(*DEMAND_HOURLY.column_names, "year", "month", PROBLEM, "raw_record")


def generation_rows(values: DataFrame) -> DataFrame:
    """``generation`` rows (one per technology and period) from flattened documents."""
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
        F.col("raw_record"),
    ).select(*GENERATION.column_names, "year", PROBLEM, "raw_record")


def unreadable_rows(values: DataFrame) -> DataFrame:
    """Rows that belong to no dataset (unreadable files, unexpected names), for quarantine."""
    return values.filter(F.col("dataset").isNull() | ~F.col("dataset").isin("demand", "generation"))
