"""Spark transforms on local[1], and the demand job end to end over a local store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest
from pyspark.sql import SparkSession

from datalake.datasets import DEMAND_HOURLY
from datalake.pipelines.demand import process_raw_demand
from datalake.runs import list_runs, record_run
from datalake.sources.sample import SAMPLE_PREFIX, generate_demand, write_sample_raw
from datalake.spark import get_spark
from datalake.storage.local import LocalObjectStore
from datalake.transforms import demand, quality


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = get_spark("tests", "local[1]")
    yield session
    session.stop()


def test_sample_rows_become_typed_utc_rows_with_local_dates(spark) -> None:
    raw = spark.createDataFrame(
        pd.DataFrame(
            {
                # 00:30 local on a summer day is 22:30 UTC of the previous day.
                "datetime": ["2024-07-01T00:00:00+02:00", "2024-10-27T02:00:00+01:00"],
                "region": [" National", "peninsular"],
                "demand_mw": ["28000.5", "25000"],
                "extracted_at": ["2024-07-02T06:00:00+00:00"] * 2,
                "source": ["sample"] * 2,
            }
        ).astype(str)
    )
    rows = demand.from_sample_csv(raw).orderBy("ts_utc").toPandas()
    assert rows["ts_utc"].tolist() == [
        pd.Timestamp("2024-06-30 22:00"),
        pd.Timestamp("2024-10-27 01:00"),
    ]
    assert rows["local_date"].astype(str).tolist() == ["2024-07-01", "2024-10-27"]
    assert rows["region"].tolist() == ["national", "peninsular"]
    assert rows["demand_mw"].tolist() == [28000.5, 25000.0]
    assert rows[["year", "month"]].values.tolist() == [[2024, 7], [2024, 10]]
    assert '"demand_mw":"28000.5"' in rows["raw_record"].iloc[0]


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


def test_demand_job_is_idempotent_and_balanced(spark, tmp_path) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    # Faults are injected on the middle day (2024-04-02), away from the spring change.
    write_sample_raw(store, dt.date(2024, 3, 30), 6)
    expected_rows = sum(len(f) for f in generate_demand(dt.date(2024, 3, 30), 6).values())
    for _ in range(2):
        with record_run("demand_to_processed", store) as report:
            process_raw_demand(spark, store, SAMPLE_PREFIX, report)
    first, second = list_runs(store, "demand_to_processed")
    assert first.status == second.status == "succeeded"
    assert (first.rows_in, first.rows_out, first.rows_quarantined) == (
        second.rows_in,
        second.rows_out,
        second.rows_quarantined,
    )
    assert first.rows_in == expected_rows
    assert first.rows_quarantined == 2  # the two injected faults
    assert first.details["quarantine_reasons"] == {"demand_hourly: demand_mw outside [0.0, 60000.0]": 2}
    processed = store.read_parquet(DEMAND_HOURLY.location)
    assert len(processed) == first.rows_out
    assert not processed.duplicated(list(DEMAND_HOURLY.primary_key)).any()
    # 2024-03-31 is the spring change: 23 local hours per region.
    spring = processed[processed["local_date"] == dt.date(2024, 3, 31)]
    assert spring.groupby("region").size().to_dict() == {"national": 23, "peninsular": 23}
    assert str(processed["ts_utc"].dtype) == "datetime64[us, UTC]"
    quarantine_keys = [k for k in first.keys_written if k.startswith("quarantine/")]
    quarantined = store.read_parquet(quarantine_keys[0])
    assert set(quarantined["reason"]) == {"demand_mw outside [0.0, 60000.0]"}
    assert quarantined["raw_record"].str.contains('"demand_mw"').all()


def test_glue_job_script_runs_locally(tmp_path) -> None:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    store = LocalObjectStore(tmp_path / "lake")
    write_sample_raw(store, dt.date(2024, 1, 8), 3)
    script = Path(__file__).resolve().parents[2] / "glue_jobs" / "demand_to_processed.py"
    env = {**os.environ, "LAKE_ROOT": str(tmp_path / "lake"), "SPARK_MASTER": "local[1]"}
    result = subprocess.run(
        [sys.executable, str(script), "--raw_prefix", SAMPLE_PREFIX],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert (report["rows_in"], report["rows_out"], report["rows_quarantined"]) == (144, 142, 2)
    assert report["status"] == "succeeded"
    assert len(store.read_parquet(DEMAND_HOURLY.location)) == 142
