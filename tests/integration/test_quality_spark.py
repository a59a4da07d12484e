"""The quality rules and the revision dedupe in Spark (local[1]), against the pandas reading of the spec."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest
from pyspark.sql import SparkSession
from spark_fixtures import local_spark

from datalake.datasets import DEMAND_HOURLY
from datalake.transforms import quality


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = local_spark("tests", "local[1]")
    yield session
    session.stop()


def test_quality_split_matches_the_pandas_rules(spark) -> None:
    # Arrow turns the pandas NaN into a null; pandas counts NaN as missing too.
    frame = pd.DataFrame(
        {
            "ts_utc": pd.to_datetime(["2024-01-01T00:00"] * 4),
            "local_date": [dt.date(2024, 1, 1)] * 4,
            "region": ["national", "peninsular", "mars", None],
            "demand_mw": [30_000.0, -1.0, 25_000.0, float("nan")],
            "source": ["sample"] * 4,
            "tso_forecast_mw": [None] * 4,
            "extracted_at": pd.to_datetime(["2024-01-02T00:00"] * 4),
        }
    )
    frame["tso_forecast_mw"] = frame["tso_forecast_mw"].astype("float64")
    valid, bad = quality.split_valid(spark.createDataFrame(frame), DEMAND_HOURLY)
    assert valid.count() + bad.count() == 4
    _pandas_valid, pandas_bad = DEMAND_HOURLY.split_valid(frame)
    assert sorted(pandas_bad["reason"]) == sorted(r["reason"] for r in bad.collect())
    assert [r["region"] for r in valid.collect()] == ["national"]
    reasons = sorted(r["reason"] for r in bad.collect())
    assert reasons == [
        "demand_mw is null; region is null",
        "demand_mw outside [0.0, 60000.0]",
        "region not in ['national', 'peninsular']",
    ]


def test_latest_revision_wins_and_superseded_rows_are_kept(spark) -> None:
    df = spark.createDataFrame(
        [("h1", 1, 10.0), ("h1", 2, 11.0), ("h2", 1, 20.0)], ["hour", "extracted", "demand_mw"]
    )
    latest, superseded = quality.latest_per_key(df, ["hour"], "extracted")
    assert sorted((r["hour"], r["demand_mw"]) for r in latest.collect()) == [
        ("h1", 11.0),
        ("h2", 20.0),
    ]
    [old] = superseded.collect()
    assert (old["demand_mw"], old["reason"].startswith("superseded")) == (10.0, True)


def test_ties_on_extraction_time_pick_the_same_winner_whatever_the_input_order(spark) -> None:
    rows = [("h1", 1, "b", 10.0), ("h1", 1, "a", 11.0), ("h2", 1, "z", 20.0)]
    winners = set()
    for ordered in (rows, rows[::-1]):
        df = spark.createDataFrame(ordered, ["hour", "extracted", "raw_record", "demand_mw"]).repartition(2)
        latest, superseded = quality.latest_per_key(df, ["hour"], "extracted", tiebreak=("raw_record",))
        winners.add(tuple(sorted((r["hour"], r["demand_mw"]) for r in latest.collect())))
        assert superseded.count() == 1
    assert winners == {(("h1", 11.0), ("h2", 20.0))}


def test_one_frame_of_verdicts_equals_the_split_then_the_dedupe(spark) -> None:
    """``judge`` is split_valid then latest_per_key in one frame; a broken row never supersedes a good one."""
    at = pd.to_datetime
    frame = pd.DataFrame(
        {
            "ts_utc": at(["2024-01-01T00:00"] * 4 + ["2024-01-01T01:00"] * 2),
            "local_date": [dt.date(2024, 1, 1)] * 6,
            "region": ["national", "national", "national", "peninsular", "national", "national"],
            # The newest revision of 00:00 national is out of range: the next newest wins.
            "demand_mw": [30_000.0, 31_000.0, -5.0, 25_000.0, 29_000.0, 29_500.0],
            "source": ["sample"] * 6,
            "tso_forecast_mw": [float("nan")] * 6,
            "extracted_at": at(
                ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-02", "2024-01-02", "2024-01-02"]
            ),
            "problem": [None, None, None, None, "unparsable value 'x'", None],
        }
    )
    df = spark.createDataFrame(frame)
    keys = list(DEMAND_HOURLY.primary_key)
    judged = quality.judge(df, DEMAND_HOURLY, keys, "extracted_at", problem="problem")
    assert "problem" not in judged.columns
    verdicts = sorted((r["demand_mw"], r["reason"]) for r in judged.collect())
    valid, bad = quality.split_valid(df.filter("problem is null").drop("problem"), DEMAND_HOURLY)
    latest, superseded = quality.latest_per_key(valid, keys, "extracted_at")
    expected = sorted(
        [(r["demand_mw"], None) for r in latest.collect()]
        + [(r["demand_mw"], r["reason"]) for r in bad.unionByName(superseded).collect()]
        + [(29_000.0, "unparsable value 'x'")]
    )
    assert verdicts == expected
    kept = sorted(demand for demand, reason in verdicts if reason is None)
    assert kept == [25_000.0, 29_500.0, 31_000.0]
