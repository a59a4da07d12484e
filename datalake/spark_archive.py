"""A class-data archive of the classes a local Spark JVM loads, so each new JVM starts sooner.

Every local run (a ``datalake`` command, a job subprocess) starts a fresh JVM that loads and
verifies about 10,000 classes from Spark's jars before its first job. Java's class-data sharing
(a dynamic CDS archive, JDK 13+) maps them from a file instead. ``datalake doctor`` (which
``make demo`` and ``make test`` run first) builds the archive once per Java and PySpark install,
with a short workload of the operators the lake's jobs use; local sessions then map it
(:func:`archive_java_options`). An archive that no longer matches (another JDK build, other jars)
is ignored by the JVM, and the name of the file changes with either anyway. Glue's JVMs are
Glue's: nothing here applies there.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

#: The archive's options are quiet: a mismatch only means no sharing, never an error or a warning.
QUIET = "-Xlog:cds=off -Xlog:cds+dynamic=off"


def archive_path(java: str) -> Path:
    """Where the archive for ``java`` (its real path) and this PySpark's jars lives.

    ``$XDG_CACHE_HOME/datalake/`` (``~/.cache/datalake/``); the name carries a digest of the java
    binary (path, size, modification time) and of PySpark's version and jars folder, so a JDK or
    PySpark upgrade asks for a new archive rather than mapping a stale one.
    """
    import pyspark

    real = os.path.realpath(java)
    jars = Path(pyspark.__file__).parent / "jars"
    java_stat, jars_stat = os.stat(real), os.stat(jars)
    facts = (real, java_stat.st_size, java_stat.st_mtime_ns, pyspark.__version__, jars, jars_stat.st_mtime_ns)
    stamp = "|".join(map(str, facts))
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "datalake" / f"spark-classes-{hashlib.sha1(stamp.encode()).hexdigest()[:16]}.jsa"


def archive_java_options(path: Path | None) -> str:
    """The JVM options that map the archive at ``path``; none when it is missing (or its path has
    a space, which Spark's option string would split)."""
    if path is None or not path.is_file() or any(c.isspace() for c in str(path)):
        return ""
    return f"-XX:SharedArchiveFile={path} {QUIET}"


#: A short run of the operators the lake's jobs use (Parquet and text I/O, partitioned writes,
#: aggregates, windows, joins, explode, maps, regular expressions, Arrow both ways, a pandas UDF):
#: the classes it loads are those the archive holds.
_WORKLOAD = """
import sys
from pathlib import Path
import pandas as pd
from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F
from datalake.spark import get_spark, stop_jvm

folder = Path(sys.argv[2])
builder = SparkSession.builder.config("spark.driver.defaultJavaOptions", sys.argv[1])
spark = get_spark("class-archive", "local[2]", "1g", builder=builder)
rows = spark.range(0, 3000).selectExpr(
    "id", "id % 7 AS k", "cast(id AS string) AS s",
    "date_add(to_date('2024-01-01'), cast(id % 40 AS int)) AS d",
    "to_timestamp('2024-01-01 00:00:00') + make_interval(0, 0, 0, 0, cast(id % 24 AS int)) AS ts",
)
rows.write.partitionBy("k").mode("overwrite").parquet(str(folder / "parquet"))
back = spark.read.schema(rows.schema).parquet(str(folder / "parquet"))
ranked = back.withColumn("n", F.row_number().over(Window.partitionBy("k").orderBy(F.desc("ts"), "s")))
totals = back.groupBy("k", F.year("d").alias("year")).agg(
    F.count(F.lit(1)).alias("rows"), F.countDistinct("s").alias("texts"), F.sum(F.xxhash64("s")).alias("h"),
    F.min("d"), F.max("ts"), F.avg("id"),
)
joined = ranked.filter("n = 1").join(F.broadcast(totals), "k", "left_semi").join(totals, "k")
texts = joined.select(
    "k", F.explode(F.array(F.struct(F.lit("a").alias("x"), F.col("s").alias("y")))).alias("cell"),
    F.create_map(F.lit("k"), F.col("s"))["k"].alias("m"), F.regexp_extract("s", r"(\\d+)", 1).alias("digits"),
    F.when(F.col("s").rlike("^1"), F.format_string("%s!", "s")).alias("flag"), F.sha1("s").alias("sha"),
).select("k", "cell.*", "m", "digits", "flag", "sha")
texts.write.mode("overwrite").parquet(str(folder / "texts"))
(folder / "lines.csv").write_text("a;b\\n1;x\\n2;y\\n")
spark.read.text(str(folder / "lines.csv")).select(F.split("value", ";").alias("cells")).collect()
spark.read.format("binaryFile").load(str(folder / "lines.csv")).select("path", "content").collect()

def doubled(batches):
    for batch in batches:
        yield batch.assign(id=batch["id"] * 2)

back.select("id", "s").mapInPandas(doubled, "id long, s string").toPandas()
spark.createDataFrame(pd.DataFrame({"a": [1, 2], "b": ["x", None]})).unionByName(
    spark.createDataFrame([(3, "z")], "a long, b string")
).orderBy("a").collect()
stop_jvm(timeout_s=600)  # the JVM writes the archive as it exits
"""


def build_archive(path: Path, *, timeout_s: float = 900) -> float:
    """Build the archive at ``path`` (replacing one there) by the workload in a fresh process.

    Returns the seconds it took. The JVM writes the archive as it exits, to a file of its own that
    replaces ``path`` only when complete, so a build that fails or runs concurrently never leaves
    a partial archive behind.

    Raises
    ------
    RuntimeError
        When the workload fails or the JVM writes no archive (its last lines in the message).
    """
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="datalake-class-archive-") as scratch:
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_SUBMIT", "SPARK_"))}
        environment["PYSPARK_PYTHON"] = sys.executable
        result = subprocess.run(
            [sys.executable, "-c", _WORKLOAD, f"-XX:ArchiveClassesAtExit={partial} {QUIET}", scratch],
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    if result.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        last = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise RuntimeError(
            f"the class archive was not written (exit {result.returncode}): {' | '.join(last)}"
        )
    partial.replace(path)
    return time.perf_counter() - started


def ensure_archive(path: Path, *, rebuild: bool = False) -> tuple[Path, float | None]:
    """The archive at ``path`` (:func:`archive_path`), built when missing (or when ``rebuild``); with
    the seconds the build took (None when it was there). Older archives beside it (other installs'
    digests) are kept."""
    if path.is_file() and not rebuild:
        return path, None
    return path, build_archive(path)
