"""datalake.transforms.expressions on Spark: the SQL-built columns give what the Column-built ones gave,
in one call to the JVM, whatever the text they quote."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from py4j import clientserver
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from spark_fixtures import local_spark

from datalake.transforms import owid
from datalake.transforms.expressions import (
    explode_structs,
    literal_map,
    sql_count,
    sql_double,
    sql_name,
    sql_named,
    sql_string,
    text_or_null,
)

#: Text a quoting mistake would break: quotes, backslashes (Spark's parser reads escapes), a
#: regex, line breaks, accents and other scripts, SQL comment and keyword look-alikes, nothing.
AWKWARD = [
    "plain",
    "it's",
    'say "hi"',
    "back\\slash",
    "\\'",
    "ends with \\",
    r"^[+-]?(\d+(\.\d*)?)$",
    "two\nlines\ttab",
    "BOGOTÁ D.C.",
    "Zürich – 東京",
    "-- not a comment",
    "/* nor this */",
    "') OR 1=1 --",
    "",
    " ",
]


@pytest.fixture(scope="module")
def spark() -> SparkSession:
    return local_spark("tests-expressions", "local[1]")


@contextmanager
def jvm_calls() -> Iterator[list[int]]:
    """Counts the calls Python makes to the JVM inside the block (an expression of any width is a few:
    finding the functions class, the call itself)."""
    count = [0]
    send = clientserver.ClientServerConnection.send_command

    def counted(self, command):  # type: ignore[no-untyped-def]
        count[0] += 1
        return send(self, command)

    clientserver.ClientServerConnection.send_command = counted
    try:
        yield count
    finally:
        clientserver.ClientServerConnection.send_command = send


def test_literal_map_looks_up_what_create_map_does_for_any_text(spark: SparkSession) -> None:
    pairs = {key: f"value of {key}" for key in AWKWARD} | {"no value": None}
    frame = spark.createDataFrame([(key,) for key in [*pairs, "missing", None]], "key string")
    built = F.create_map(*(F.lit(x) for pair in sorted(pairs.items()) for x in pair))
    rows = frame.select(
        "key", literal_map(pairs)[F.col("key")].alias("ours"), built[F.col("key")].alias("theirs")
    ).collect()
    assert len(rows) == len(pairs) + 2
    for row in rows:
        assert row["ours"] == row["theirs"] == pairs.get(row["key"]), row["key"]
    assert (
        frame.select(literal_map({})[F.col("key")].alias("nothing")).distinct().collect()[0]["nothing"]
        is None
    )


def test_a_wide_map_or_struct_list_costs_a_few_calls_to_the_jvm(spark: SparkSession) -> None:
    pairs = {f"indicator_{n}": f"unit {n}" for n in range(300)}
    with jvm_calls() as calls:
        literal_map(pairs)
    assert calls[0] <= 5, calls[0]
    with jvm_calls() as calls:
        F.create_map(*(F.lit(x) for pair in sorted(pairs.items()) for x in pair))
    assert calls[0] >= 600  # what it replaces: a call per key and per value, at least
    with jvm_calls() as calls:
        explode_structs(
            [{"name": sql_string(key), "unit": sql_string(value)} for key, value in pairs.items()]
        )
    assert calls[0] <= 5, calls[0]


def test_quoted_names_and_texts_read_back_exactly(spark: SparkSession) -> None:
    names = ["plain", "with space", "dot.ted", "back`tick", "ñandú"]
    frame = spark.createDataFrame([tuple(f"  {name}  " for name in names)], names)
    row = frame.select(*(text_or_null(name).alias(f"c{n}") for n, name in enumerate(names))).first()
    assert [row[f"c{n}"] for n in range(len(names))] == names
    texts = spark.range(1).select(*(sql_named(sql_string(t), f"t{n}") for n, t in enumerate(AWKWARD))).first()
    assert [texts[f"t{n}"] for n in range(len(AWKWARD))] == AWKWARD


def test_text_or_null_trims_spaces_as_trim_does_and_leaves_nothing_null(spark: SparkSession) -> None:
    values = ["  x  ", "x", "   ", "", None, "\tx\t", " a b "]
    frame = spark.createDataFrame([(v,) for v in values], "v string")
    rows = frame.select(
        text_or_null("v").alias("ours"), F.nullif(F.trim(F.col("v")), F.lit("")).alias("theirs")
    ).collect()
    assert (
        [r["ours"] for r in rows]
        == [r["theirs"] for r in rows]
        == ["x", "x", None, None, None, "\tx\t", "a b"]
    )


def test_explode_structs_gives_the_rows_explode_of_structs_gives(spark: SparkSession) -> None:
    frame = spark.createDataFrame([(1, 2.5, None), (2, None, -1.0)], "id int, a double, b double")
    columns = {"a": "unit 'a'", "b": "unit \\b"}
    ours = frame.select(
        "id",
        explode_structs(
            [
                {"column": sql_string(c), "value": sql_name(c), "unit": sql_string(u)}
                for c, u in columns.items()
            ]
        ).alias("cell"),
    ).select("id", "cell.*")
    theirs = frame.select(
        "id",
        F.explode(
            F.array(
                *(
                    F.struct(F.lit(c).alias("column"), F.col(c).alias("value"), F.lit(u).alias("unit"))
                    for c, u in columns.items()
                )
            )
        ).alias("cell"),
    ).select("id", "cell.*")
    assert ours.schema == theirs.schema
    assert sorted(ours.collect()) == sorted(theirs.collect())
    assert len(ours.collect()) == 4
    with pytest.raises(ValueError, match="no struct"):
        explode_structs([])


def test_sql_double_is_typed_and_refuses_what_is_not_finite(spark: SparkSession) -> None:
    row = (
        spark.range(1).select(sql_named(sql_double(None), "none"), sql_named(sql_double(0.5), "half")).first()
    )
    assert row["none"] is None and row["half"] == 0.5
    assert spark.range(1).select(sql_named(sql_double(None), "x")).schema["x"].dataType.typeName() == "double"
    for bad in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(ValueError, match="not a finite number"):
            sql_double(bad)


@pytest.mark.parametrize("minimum", [None, 0.0])
def test_owid_value_ok_is_exactly_where_value_problem_finds_nothing(spark: SparkSession, minimum) -> None:
    """The two readings of an OWID value (one SQL, one Column) agree on every kind of text."""
    texts = ["1", "-1", "0", "1e5", "-2.5E-3", ".5", "5.", "+3", "inf", "-Infinity", "NaN", "nan", "abc",
             "1,000", "1 000", "0x10", "1e400", "-1e400", "--1", "1e", "e5", "٣"]  # fmt: skip
    frame = spark.createDataFrame([(t,) for t in texts], "raw string").withColumn(
        "number", F.col("raw").cast("double")
    )
    rows = frame.select(
        "raw",
        F.expr(owid.value_ok("raw", "number", minimum)).alias("ok"),
        owid.value_problem(F.col("raw"), F.lit("some_column"), F.lit(minimum).cast("double")).alias(
            "problem"
        ),
    ).collect()
    verdicts = {r["raw"]: (bool(r["ok"]), r["problem"]) for r in rows}
    for raw, (ok, problem) in verdicts.items():
        assert ok == (problem is None), (raw, ok, problem)
    assert verdicts["1e5"][0] and verdicts[".5"][0] and not verdicts["inf"][0] and not verdicts["1,000"][0]
    assert verdicts["-1"][0] is (minimum is None)


def test_sql_count_counts_the_conditions_that_hold_and_a_null_one_as_false(spark: SparkSession) -> None:
    frame = spark.createDataFrame([(1, "x"), (None, "y"), (None, None)], "a int, b string")
    counted = sql_count(["a IS NOT NULL", "b IS NOT NULL", "a > 0", "b = 'y'"])
    assert [r["n"] for r in frame.select(sql_named(counted, "n")).collect()] == [3, 2, 0]
    with pytest.raises(ValueError, match="no condition"):
        sql_count([])
