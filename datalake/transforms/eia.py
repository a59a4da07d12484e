"""EIA raw day files -> typed rows of ``energy_prices_daily``.

Each raw file (``datalake.sources.eia.write_fetch``) holds one route's rows of one day in EIA's
envelope, plus a ``datalake`` block saying where and when they came from. The rows are read with
Spark's JSON functions: every row is kept as its raw text, then typed field by field, so a row
that cannot be read keeps its text and the reason for quarantine. Prices arrive as text ("96.02",
since API 2.1.6); the series the lake knows get its names (WTI, Brent, Henry Hub) and units
(USD/bbl, USD/MMBtu), others EIA's own words.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from datalake.datasets.prices import ENERGY_PRICES_DAILY
from datalake.sources.eia import FREQUENCY, KNOWN_SERIES, REAL_LABEL, UNITS
from datalake.sources.sample import SAMPLE_LABEL
from datalake.transforms.expressions import literal_map

PROBLEM = "problem"
_DOCUMENT = (
    "response STRUCT<frequency: STRING, data: ARRAY<STRING>>, sample BOOLEAN, "
    "datalake STRUCT<source: STRING, route: STRING, day: STRING, fetched_at: STRING>, _corrupt STRING"
)
_ROW = (
    "period STRING, series STRING, `series-description` STRING, `product-name` STRING, "
    "duoarea STRING, `area-name` STRING, value STRING, units STRING"
)
_DAY = r"^\d{4}-\d{2}-\d{2}$"
_NUMBER = r"^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$"


def documents_to_rows(documents: DataFrame) -> DataFrame:
    """Raw files (``path``, ``content``, ``extracted_at``) -> one row per EIA data row.

    A file that cannot be read (not a JSON object, no ``datalake.route``, no rows) is one row with
    a ``problem`` and the start of its text as ``raw_record``. ``extracted_at`` is when the client
    fetched the rows (``datalake.fetched_at``), else the file's time.
    """
    doc = F.from_json("content", _DOCUMENT, {"columnNameOfCorruptRecord": "_corrupt"})
    docs = documents.select("path", "content", "extracted_at", doc.alias("d"))
    readable = F.ltrim("content").startswith("{") & F.col("d._corrupt").isNull()
    data = F.coalesce(F.col("d.response.data"), F.array())
    problem = (
        F.when(~readable, F.lit("unreadable EIA file: not a JSON object"))
        .when(
            F.col("d.datalake.route").isNull(),
            F.lit("no datalake.route: not written by datalake.sources.eia"),
        )
        .when(F.size(data) == 0, F.lit("the file holds no rows"))
    )
    fetched = F.coalesce(F.to_timestamp("d.datalake.fetched_at"), F.col("extracted_at"))
    sample = F.coalesce(F.col("d.sample"), F.lit(False)) | (F.col("d.datalake.source") == SAMPLE_LABEL)
    rows = docs.select(
        "path",
        "content",
        F.col("d.datalake.route").alias("route"),
        F.col("d.response.frequency").alias("frequency"),
        F.when(sample, F.lit(SAMPLE_LABEL)).otherwise(F.lit(REAL_LABEL)).alias("source"),
        fetched.alias("extracted_at"),
        problem.alias(PROBLEM),
        # One row per data row; a file with a problem is one row with none.
        F.explode_outer(F.when(problem.isNull(), data)).alias("raw_row"),
    )
    fields = F.from_json("raw_row", _ROW)
    return rows.select(
        "path",
        "route",
        "frequency",
        "source",
        "extracted_at",
        fields["period"].alias("period"),
        fields["series"].alias("series_id"),
        fields["series-description"].alias("series_description"),
        fields["product-name"].alias("product_name"),
        fields["duoarea"].alias("duoarea"),
        fields["area-name"].alias("area_name"),
        fields["value"].alias("value"),
        fields["units"].alias("units"),
        F.ltrim("raw_row").startswith("{").alias("row_is_object"),
        F.col(PROBLEM),
        F.coalesce(F.col("raw_row"), F.substring("content", 1, 2000)).alias("raw_record"),
    )


def price_day(values: DataFrame) -> Column:
    """The day each row is about (its ``period``), which incremental runs recompute by."""
    return F.when(F.col("period").rlike(_DAY), F.to_date("period"))


def price_rows(values: DataFrame) -> DataFrame:
    """``energy_prices_daily`` rows from the rows of readable files; unreadable rows get a ``problem``."""
    rows = values.filter(F.col(PROBLEM).isNull())
    day = price_day(rows)
    price = F.when(F.col("value").rlike(_NUMBER), F.trim("value").cast("double"))
    unit = F.coalesce(literal_map(UNITS)[F.upper(F.trim("units"))], F.trim("units"))
    known = KNOWN_SERIES
    expected_unit = literal_map({k: s.unit for k, s in known.items()})[F.col("series_id")]
    area_named = F.when(F.col("area_name") != "NA", F.col("area_name")).otherwise(F.col("duoarea"))
    problem = F.concat_ws(
        "; ",
        F.when(~F.col("row_is_object"), F.concat(F.lit("row is not a JSON object: "), F.col("raw_record"))),
        F.when(
            F.col("row_is_object") & (F.coalesce(F.col("frequency"), F.lit("")) != FREQUENCY),
            F.format_string("frequency %s is not daily", F.coalesce(F.col("frequency"), F.lit("missing"))),
        ),
        F.when(
            F.col("row_is_object") & day.isNull(),
            F.format_string(
                "period %s is not a day (YYYY-MM-DD)", F.coalesce(F.col("period"), F.lit("missing"))
            ),
        ),
        F.when(F.col("row_is_object") & F.col("series_id").isNull(), F.lit("series is missing")),
        F.when(F.col("row_is_object") & F.col("value").isNull(), F.lit("value is missing")),
        F.when(
            F.col("row_is_object") & F.col("value").isNotNull() & price.isNull(),
            F.format_string("value '%s' is not a number", F.col("value")),
        ),
        F.when(
            F.col("row_is_object") & expected_unit.isNotNull() & (unit != expected_unit),
            F.format_string("units '%s' are not %s's %s", F.col("units"), F.col("series_id"), expected_unit),
        ),
    )
    return rows.select(
        day.alias("date"),
        F.col("series_id"),
        F.coalesce(
            literal_map({k: s.name for k, s in known.items()})[F.col("series_id")],
            F.col("series_description"),
        ).alias("series_name"),
        F.coalesce(
            literal_map({k: s.product for k, s in known.items()})[F.col("series_id")], F.col("product_name")
        ).alias("product"),
        F.coalesce(literal_map({k: s.area for k, s in known.items()})[F.col("series_id")], area_named).alias(
            "area"
        ),
        price.alias("price"),
        F.coalesce(expected_unit, unit).alias("unit"),
        F.col("source"),
        F.col("extracted_at"),
        F.year(day).alias("year"),
        F.nullif(problem, F.lit("")).alias(PROBLEM),
        F.col("raw_record"),
    ).select(*ENERGY_PRICES_DAILY.column_names, "year", PROBLEM, "raw_record")


def unreadable_rows(values: DataFrame) -> DataFrame:
    """The files no row came from (unreadable, not the client's, empty), with their ``problem``."""
    return values.filter(F.col(PROBLEM).isNotNull())
