"""A throwaway source for the registry's tests: JSON lists of station readings under ``raw/tiny``.

It is what docs/adding-a-source.md asks of a new source, in one file: a dataset spec, pure
DataFrame -> DataFrame transforms, and one :class:`SourceSpec`. :func:`registered` adds it to the
registry for one test, with no other edit, to show the CLI, the trigger, the job script and the
bundles pick it up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from datalake.datasets.spec import ColumnSpec, DatasetSpec, QualityRule
from datalake.settings import Settings
from datalake.sources import registry
from datalake.sources.registry import CodeRef, DatasetBuilder, SourceLambda, SourceSpec
from datalake.storage.base import ObjectStore
from datalake.storage.paths import date_partition_key

READINGS = DatasetSpec(
    name="tiny_readings",
    description="Daily readings of a few stations (a test source)",
    columns=(
        ColumnSpec("station", "string", False, "Station code"),
        ColumnSpec("day", "date", False, "Day of the reading"),
        ColumnSpec("reading", "double", False, "The reading, 0..100"),
        ColumnSpec("extracted_at", "timestamp", False, "When the raw file was written, UTC"),
    ),
    primary_key=("station", "day"),
    time_column="day",
    partition_by=(ColumnSpec("year", "int", False),),
    partition_source="day",
    quality_rules=(QualityRule("reading", "range", 0, 100),),
    source="tiny",
)

_ITEM = T.StructType(
    [
        T.StructField("station", T.StringType()),
        T.StructField("day", T.StringType()),
        T.StructField("reading", T.DoubleType()),
    ]
)


def readings_to_rows(documents: DataFrame) -> DataFrame:
    """Raw files (``path``, ``content``, ``extracted_at``) -> one row per reading; a file that is no
    JSON list of readings is one row with a ``problem``."""
    items = F.from_json("content", T.ArrayType(_ITEM))
    return (
        documents.select("path", "extracted_at", "content", items.alias("items"))
        .select("path", "extracted_at", "content", "items", F.explode_outer("items").alias("item"))
        .select(
            "path",
            "extracted_at",
            F.col("item.station").alias("station"),
            F.col("item.day").alias("day"),
            F.col("item.reading").alias("reading"),
            F.when(F.col("items").isNull(), F.col("content"))
            .otherwise(F.to_json("item"))
            .alias("raw_record"),
            F.when(F.col("items").isNull(), F.lit("not a JSON list of readings")).alias("problem"),
        )
    )


def readings_rows(values: DataFrame) -> DataFrame:
    """``tiny_readings`` rows from the readings that could be read."""
    day = F.to_date("day")
    return values.filter(F.col("problem").isNull()).select(
        "station",
        day.alias("day"),
        "reading",
        "extracted_at",
        F.year(day).alias("year"),
        F.when(day.isNull(), F.lit("day is not YYYY-MM-DD")).alias("problem"),
        "raw_record",
    )


def reading_day(values: DataFrame) -> F.Column:
    """The day a reading is about (incremental runs recompute by it)."""
    return F.to_date("day")


def unreadable_rows(values: DataFrame) -> DataFrame:
    """The files no dataset took."""
    return values.filter(F.col("problem").isNotNull())


TINY = SourceSpec(
    name="tiny",
    description="Raw station readings (JSON lists) -> processed tiny_readings",
    raw_prefixes=("raw/tiny",),
    file_format="json",
    file_pattern="*.json",
    flatten=CodeRef("tiny_source:readings_to_rows"),
    builders=(DatasetBuilder(CodeRef("tiny_source:readings_rows"), READINGS),),
    unreadable=CodeRef("tiny_source:unreadable_rows"),
    problem_source="tiny_unreadable",
    value_day=CodeRef("tiny_source:reading_day"),
    job_setting="tiny_glue_job",
    lambdas=(SourceLambda("tiny_extract", "TinySchedule", "daily: fetch yesterday's readings"),),
)


class TinySettings(Settings):
    """The settings with the job name field a new source adds (``<name>_glue_job``)."""

    tiny_glue_job: str = "datalake-tiny-to-processed"


@contextmanager
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[SourceSpec]:
    """The registry with :data:`TINY` added, for the length of a ``with`` block."""
    with monkeypatch.context() as patch:
        patch.setattr(registry, "SOURCES", registry.index_sources(*registry.SOURCES.values(), TINY))
        yield TINY


def land_readings(store: ObjectStore) -> None:
    """Two days of readings (one out of range), one revised reading, and one file that is no list."""
    import datetime as dt

    day = dt.date(2024, 3, 1)
    files = {
        "a": [
            {"station": "MAD", "day": "2024-03-01", "reading": 12.5},
            {"station": "BCN", "day": "2024-03-01", "reading": 140.0},  # out of range
        ],
        "b": [{"station": "MAD", "day": "2024-03-02", "reading": 13.0}],
    }
    for name, items in files.items():
        store.put_bytes(
            date_partition_key("raw/tiny/readings", day, f"{name}.json"), json.dumps(items).encode()
        )
    store.put_bytes(date_partition_key("raw/tiny/readings", day, "broken.json"), b'{"station": "MAD"')
