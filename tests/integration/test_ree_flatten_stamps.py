"""The Spark flatten reads each value's stamp as the client's Python reading does (``parse_values``).

One document per stamp, so each takes the path its own entry decides (the typed fast path for
ISO-like stamps, the raw-text path otherwise): both paths must give Python's ``ts_utc`` and its
words for the problem.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession
from spark_fixtures import local_spark

from datalake.sources.ree import parse_values
from datalake.transforms import ree

#: Stamps Spark and Python read alike: REData's own form, other offsets, naive and impossible ones.
AGREED = [
    "2024-01-05T00:00:00.000+01:00",
    "2024-03-31T03:00:00.000+02:00",
    "2024-01-05T00:00:00.000-05:00",
    "2024-01-05T00:00:00.000+18:00",
    "2024-02-30T00:00:00.000+01:00",
    "2024-01-05T25:00:00.000+01:00",
    "2024-01-05T00:00:00Z",
    "2024-01-05 00:00:00+01",
    "2024-01-05T00:00:00.123456-03:30",
    "2024-01-05T00:00:00.5+01:00",
    "2024-01-05T00:00:00-00:30",
    "2024-01-05T00:00",
    "2024-01-05T00:00:00",
    "2024-02-30T00:00:00+01:00",
    "2024-02-30T00:00:00",
    "2024-01-05T24:00:00+01:00",
    "2024-01-05T00:00:00+25:00",
    "yesterday",
    None,
    12,
]
#: Stamps Python reads and Spark does not: Spark quarantines them (nothing is lost, nothing misread).
STRICTER = [
    "2024-01-05T00:00+0100",
    "2024-01-05T00:00:00+19:00",
    "2024-01-05T00:00:00.000+18:30",
    "2024-01-05T00:00:00.000+01:75",
    "2024-01-05",
]


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = local_spark("tests-ree-stamps", "local[1]")
    yield session
    session.stop()


def flatten(spark: SparkSession, stamps: list) -> list[tuple[dict, dict]]:
    """(Python's row, Spark's row) of a one-entry document per stamp."""
    documents = []
    for day, stamp in enumerate(stamps, start=1):
        values = [{"value": 27_500.0, "percentage": 1.0, "datetime": stamp}]
        doc = {
            "included": [
                {"id": "1293", "type": "Demanda", "attributes": {"title": "Demanda", "values": values}}
            ]
        }
        path = f"file:/lake/raw/ree/demand/ree-demand-national-2024-01-{day:02d}.json"
        documents.append((path, json.dumps(doc), dt.datetime(2024, 2, 1)))
    frame = spark.createDataFrame(documents, "path string, content string, extracted_at timestamp")
    by_path = {row["path"]: row.asDict() for row in ree.documents_to_rows(frame).collect()}
    return [(parse_values(json.loads(content))[0], by_path[path]) for path, content, _at in documents]


def test_both_paths_read_stamps_as_the_client_does(spark) -> None:
    for python, spark_row in flatten(spark, AGREED):
        expected = python["ts_utc"].replace(tzinfo=None) if python["ts_utc"] else None
        assert (spark_row["ts_utc"], spark_row["problem"]) == (expected, python["problem"]), python
        assert spark_row["value"] == 27_500.0


def test_stamps_spark_cannot_read_are_quarantined_with_their_text(spark) -> None:
    for stamp, (python, spark_row) in zip(STRICTER, flatten(spark, STRICTER), strict=True):
        assert python["ts_utc"] is not None or "no UTC offset" in python["problem"]
        assert spark_row["ts_utc"] is None
        assert spark_row["problem"] == f"datetime {stamp!r} is not ISO 8601"


def test_raw_record_carries_each_value_as_it_came(spark) -> None:
    """``raw_record``, written from the pieces the rows carry (``ree.RAW_RECORD``), is each value's
    series and entry as they came, on the typed path, the raw-text path and for a whole-document
    problem."""
    typed_entry = {"datetime": "2024-01-05T00:00:00.000+01:00", "value": 1.5e-7, "percentage": 0.25}
    odd_entry = {"datetime": "2024-01-05T01:00:00.000+01:00", "value": "12"}  # text: the raw path
    composite = {
        "id": "10",
        "type": "Renovable",
        "attributes": {
            "title": "Renovable",
            "content": [
                {"id": "11", "type": "Renovable", "attributes": {"title": "Eólica", "type": "Renovable"}}
            ],
        },
    }
    documents = []
    for day, entry in enumerate((typed_entry, odd_entry), start=1):
        composite["attributes"]["content"][0]["attributes"]["values"] = [entry]
        path = f"file:/lake/raw/ree/generation/ree-generation-national-2024-01-{day:02d}.json"
        documents.append((path, json.dumps({"included": [composite]}), dt.datetime(2024, 2, 1)))
    empty = "file:/lake/raw/ree/generation/ree-generation-national-2024-01-03.json"
    documents.append((empty, json.dumps({"included": []}), dt.datetime(2024, 2, 1)))
    frame = spark.createDataFrame(documents, "path string, content string, extracted_at timestamp")
    generation = ree.generation_rows(ree.documents_to_rows(frame))
    rows = {r["problem"]: r for r in generation.withColumn("raw_record", ree.RAW_RECORD.text()).collect()}
    assert set(rows) == {None, "value '12' is not a number", "document holds no values"}
    for problem, entry in ((None, typed_entry), ("value '12' is not a number", odd_entry)):
        record = json.loads(rows[problem]["raw_record"])
        assert json.loads(record.pop("entry")) == entry
        assert record == {
            "series_id": "11",
            "series_title": "Eólica",
            "series_kind": "Renovable",
            "series_parent_id": "10",
        }
    assert rows["document holds no values"]["raw_record"] == documents[2][1]
