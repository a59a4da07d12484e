"""The least a Spark job must do to make the transacciones table: the floor under the energy company job.

Not library code. Reads the raw transacciones CSV drops with Spark's CSV reader, normalises and
types the columns (trim, upper case, numbers, dates), keeps the first copy of each transaction
(the same SHA-256 id), and writes Parquet partitioned by year and month, sorted within files of
``processed_rows_per_file`` rows: no parse checks or quarantine, no masters, price bands or
counterparty flags, no state for incremental runs, no catalog; it counts its lines, as any job
that reports its rows does. ``benchmarks/energy_company.py
--floor`` times it in a process of its own (JVM start included, as for the job), so its ratio to
DuckDB says how much of a target any Spark job of this table can meet on the machine.

    .venv/bin/python benchmarks/spark_floor.py RAW_TRANSACCIONES_FOLDER OUT_FOLDER
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from pyspark.sql import Window
from pyspark.sql import functions as F

from datalake.datasets.energy_company import TRANSACCIONES
from datalake.settings import Settings
from datalake.spark import job_session


def run(raw: Path, out: Path, driver_memory: str = "2g") -> int:
    """Write the floor's transacciones under ``out``; returns the rows written."""
    settings = Settings(
        _env_file=None, lake_runtime="local", lake_root=out, spark_driver_memory=driver_memory
    )
    spark = job_session("spark-floor", settings)
    # Every drop below the folder, without reading year=/month=/day= folders as columns.
    lines = spark.read.options(header=True, recursiveFileLookup=True).csv(str(raw))
    typed = lines.select(
        F.upper(F.trim("tipo_transaccion")).alias("tipo_transaccion"),
        F.upper(F.trim("nombre_cliente_proveedor")).alias("nombre_cliente_proveedor"),
        F.upper(F.trim("tipo_energia")).alias("tipo_energia"),
        F.regexp_replace("cantidad_comprada_kwh", ",", ".").cast("double").alias("cantidad_comprada_kwh"),
        F.regexp_replace("precio_kwh_cop", ",", ".").cast("double").alias("precio_kwh_cop"),
        F.to_date("fecha_transaccion").alias("fecha_transaccion"),
        F.input_file_name().alias("path"),
    )
    source = [F.col(c).cast("string") for c in TRANSACCIONES.source_columns]
    typed = typed.withColumn("transaccion_id", F.sha2(F.concat_ws("|", *source), 256))
    first = Window.partitionBy("transaccion_id").orderBy("path")
    kept = typed.withColumn("_n", F.row_number().over(first)).filter("_n = 1").drop("_n", "path")
    kept = kept.withColumns({"year": F.year("fecha_transaccion"), "month": F.month("fecha_transaccion")})
    rows = lines.count()
    ordering = ["year", "month", "fecha_transaccion", "transaccion_id"]
    files = max(1, math.ceil(rows / settings.processed_rows_per_file))
    laid_out = kept.repartitionByRange(files, *ordering) if files > 1 else kept.repartition(1)
    laid_out.sortWithinPartitions(*ordering).write.mode("overwrite").partitionBy("year", "month").parquet(
        str(out / "transacciones")
    )
    return rows


if __name__ == "__main__":
    print(f"{run(Path(sys.argv[1]), Path(sys.argv[2])):,} lines read")
