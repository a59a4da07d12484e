"""spill_superseded (datalake.pipelines.kept_rows) on Spark (local[1]): ranking only the rows of
repeated keys gives every row the verdict quality.superseded gives when it ranks them all.

Rows of a seeded random frame: most keys held once, some by two to four rows (ties on the date
broken by the tiebreak), null keys, and rows already quarantined (which never supersede a valid
row nor are superseded). Checked as it runs, with every key's hash colliding with others', and
past the limit of repeated keys (every row ranked).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from spark_fixtures import local_spark

from datalake.pipelines import kept_rows
from datalake.runs import RunReport
from datalake.storage.local import LocalObjectStore
from datalake.transforms import quality

KEYS = ["id", "part"]
TIEBREAK = ("line", "row")


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = local_spark("tests-spill-superseded", "local[1]")
    yield session
    session.stop()


def flagged_rows(spark: SparkSession) -> DataFrame:
    chosen = random.Random(7)
    rows = []
    for row in range(3000):
        repeat = chosen.random() < 0.15
        key = chosen.randint(0, 60) if repeat else 1000 + row
        rows.append(
            (
                row,
                None if chosen.random() < 0.02 else key,
                chosen.choice(["a", "b"]) if repeat else "a",
                dt.date(2024, 6, chosen.randint(1, 3)),
                chosen.choice(["x", "y", "z"]),
                "bad cell" if chosen.random() < 0.05 else None,
            )
        )
    schema = "row long, id long, part string, landed date, line string, reason string"
    return spark.createDataFrame(rows, schema)


def verdicts(frame: DataFrame) -> dict[int, str | None]:
    return {row["row"]: row["reason"] for row in frame.select("row", quality.REASON).collect()}


@pytest.mark.parametrize(
    ("case", "keep"),
    [
        ("as_run", "earliest"),
        ("as_run", "latest"),
        ("colliding_hashes", "earliest"),
        ("past_the_limit", "latest"),
    ],
)
def test_ranking_only_repeated_keys_gives_every_row_the_whole_ranking_verdict(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, keep: str
) -> None:
    if case == "colliding_hashes":
        # Five hashes for every key: keys that only share a hash are ranked, each by its own key.
        monkeypatch.setattr(kept_rows, "key_hash", lambda keys: F.pmod(F.xxhash64(*keys), F.lit(5)))
    if case == "past_the_limit":
        monkeypatch.setattr(kept_rows, "MAX_REPEATED_KEYS", 0)
    rows = flagged_rows(spark)
    store = LocalObjectStore(tmp_path / "lake")
    report = RunReport(job="tests_to_processed")
    got = kept_rows.spill_superseded(
        spark, store, rows, report, "raw/tests", "rows", KEYS, "landed", tiebreak=TIEBREAK, keep=keep
    )
    expected = verdicts(quality.superseded(rows, KEYS, "landed", tiebreak=TIEBREAK, keep=keep))
    assert got.count() == rows.count()
    assert verdicts(got) == expected
    superseded = quality.superseded_reason(KEYS, "landed", keep)
    assert 100 < sum(reason == superseded for reason in expected.values()) < 600
    assert sorted(got.columns) == sorted(rows.columns)


def test_a_spill_is_one_spark_job_and_reads_back_the_rows_and_types_it_wrote(
    spark: SparkSession, tmp_path: Path
) -> None:
    rows = flagged_rows(spark)
    store = LocalObjectStore(tmp_path / "lake")
    report = RunReport(job="tests_to_processed")
    before = spark.sparkContext.statusTracker().getJobIdsForGroup(None)
    spilled = kept_rows.spill(spark, store, rows, report, "raw/tests", "rows")
    after = spark.sparkContext.statusTracker().getJobIdsForGroup(None)
    # The write alone: the schema it was written with is not inferred again by a job of its own.
    assert max(after) - max(before, default=-1) == 1
    assert [(f.name, f.dataType) for f in spilled.schema] == [(f.name, f.dataType) for f in rows.schema]
    assert sorted(spilled.collect()) == sorted(rows.collect())
