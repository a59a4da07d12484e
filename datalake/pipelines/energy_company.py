"""Raw energy company drops -> processed clientes, proveedores, transacciones (+ quarantine, run report).

Without ``day`` every drop under the raw prefix is processed and every table rebuilt from them,
so a re-run writes the same bytes. With ``day`` only that day's drops are read and merged into
what the processed tables already hold (the transaction partitions they touch, the whole master
tables), so a daily run does not need the history. Either way:

- masters keep one row per key, the newest drop's values (``fecha_carga`` is the first drop
  that carried those values, so a repeated drop changes nothing); older versions are
  quarantined as superseded;
- a transaction keeps its first arrival; later copies are quarantined as duplicates;
- on a tie (the same day processed again) the row just read wins over the processed one it
  replaces, so re-running a day gives the same counts as its first run;
- ``rows_in == rows_out + rows_quarantined`` over the rows read from raw; rows carried over
  from the processed tables are counted apart (``details["rows_carried_over"]``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from datalake.datasets.energy_company import CLIENTES, PROVEEDORES, SOURCE, TRANSACCIONES
from datalake.datasets.spec import DatasetSpec
from datalake.jobs import read_processed, write_processed, write_quarantine
from datalake.pipelines.processing import Progress
from datalake.runs import RunReport
from datalake.storage.base import ObjectStore
from datalake.storage.paths import date_partition, join_key
from datalake.transforms import energy_company as transforms
from datalake.transforms import quality
from datalake.transforms.documents import read_binary_documents

CARRIED = "_carried"
#: What a quarantined row keeps: where it came from, the line as it was, and why.
QUARANTINE_COLUMNS = ("path", "line_number", "raw_record", "fecha_carga", quality.REASON)


def _existing(
    spark: SparkSession, store: ObjectStore, spec: DatasetSpec, like: DataFrame
) -> DataFrame | None:
    """The processed rows of ``spec`` shaped like ``like`` and marked carried, or None when there are none."""
    existing = read_processed(spark, spec, store)
    if existing is None:
        return None
    for name in like.columns:
        if name not in existing.columns:
            existing = existing.withColumn(name, F.lit(None).cast(like.schema[name].dataType))
    return existing.select(*like.columns).withColumn(CARRIED, F.lit(True))


def _merge(
    spark: SparkSession, store: ObjectStore, spec: DatasetSpec, valid: DataFrame, merge: bool
) -> DataFrame:
    """``valid`` marked new, plus (when merging) the processed rows it may replace."""
    valid = valid.withColumn(CARRIED, F.lit(False))
    existing = _existing(spark, store, spec, valid.drop(CARRIED)) if merge else None
    if existing is None:
        return valid
    if spec.partition_by:  # only the partitions the new rows touch are rewritten
        touched = valid.select(*(p.name for p in spec.partition_by)).distinct()
        existing = existing.join(touched, [p.name for p in spec.partition_by], "left_semi")
    return valid.unionByName(existing)


def _dedupe_master(valid: DataFrame, spec: DatasetSpec) -> tuple[DataFrame, DataFrame]:
    """(one row per key, newest values; superseded versions with a reason)."""
    values = [c for c in spec.column_names if c != "fecha_carga"]
    # The first drop that carried these exact values, so landing the same extract again changes nothing.
    first_seen = F.min("fecha_carga").over(Window.partitionBy(*values))
    latest, superseded = quality.latest_per_key(
        valid.withColumn("_first_seen", first_seen),
        list(spec.primary_key),
        "fecha_carga",
        tiebreak=(CARRIED, "raw_record", "path", "line_number"),
    )
    return latest.withColumn("fecha_carga", F.col("_first_seen")).drop("_first_seen"), superseded.drop(
        "_first_seen"
    )


def _quarantine(frame: DataFrame, name: str, store: ObjectStore, report: RunReport) -> None:
    """Write rows to ``quarantine/energy_company/<name>/``; count them, and their reasons, in the report."""
    key = write_quarantine(frame, join_key(SOURCE, name), store, report.run_id)
    if key is None:
        return
    report.keys_written.append(key)
    counts = frame.groupBy(quality.REASON).count().orderBy(quality.REASON).collect()
    report.rows_quarantined += sum(row["count"] for row in counts)
    reasons = report.details.setdefault("quarantine_reasons", {})
    for row in counts:
        reasons[f"{name}: {row[quality.REASON]}"] = int(row["count"])


def _finish(
    spark: SparkSession,
    store: ObjectStore,
    spec: DatasetSpec,
    rows: DataFrame,
    report: RunReport,
    merge: bool,
    masters: dict[str, DataFrame],
    progress: Progress | None,
) -> DataFrame:
    """Type, check, dedupe, derive and write one entity; returns the rows written."""
    entity = spec.table_name
    typed, checks = transforms.BUILDERS[entity](rows)
    typed = typed.cache()
    problems = typed.filter(F.col(transforms.PROBLEM).isNotNull()).withColumnRenamed(
        transforms.PROBLEM, quality.REASON
    )
    # The columns derived after the checks (price total, band, counterparty) are not checked here.
    parsed = replace(spec, columns=tuple(c for c in spec.columns if c.name in typed.columns))
    valid, bad = quality.split_valid(typed.filter(F.col(transforms.PROBLEM).isNull()), parsed, checks)
    partitions = [p.name for p in spec.partition_by]
    valid = _merge(
        spark, store, spec, valid.select(*parsed.column_names, *partitions, *QUARANTINE_COLUMNS[:3]), merge
    )
    if spec is TRANSACCIONES:
        latest, superseded = quality.latest_per_key(
            valid,
            ["transaccion_id"],
            "fecha_carga",
            (CARRIED, "raw_record", "path", "line_number"),
            keep="earliest",
        )
        latest = transforms.with_derived_columns(
            latest, masters[CLIENTES.table_name], masters[PROVEEDORES.table_name]
        )
    else:
        latest, superseded = _dedupe_master(valid, spec)
    latest = latest.cache()
    new_superseded = superseded.filter(~F.col(CARRIED))
    quarantined = (
        problems.select(*QUARANTINE_COLUMNS)
        .unionByName(bad.select(*QUARANTINE_COLUMNS))
        .unionByName(new_superseded.select(*QUARANTINE_COLUMNS))
    )
    report.keys_written += write_processed(latest, spec, store, progress)
    counts = {row[CARRIED]: row["count"] for row in latest.groupBy(CARRIED).count().collect()}
    rows_out, carried = counts.get(False, 0), counts.get(True, 0)
    _quarantine(quarantined, entity, store, report)
    report.rows_out += rows_out
    report.details[f"{entity}_rows_out"] = rows_out
    report.details["rows_carried_over"] = report.details.get("rows_carried_over", 0) + carried
    if progress:
        progress(f"{entity}: {rows_out} new row(s) out, {carried} carried over from processed")
    typed.unpersist()
    return latest


def process_raw_energy_company(
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    progress: Progress | None = None,
    *,
    day: dt.date | None = None,
    max_line_bytes: int = 1_048_576,
) -> RunReport:
    """Process the energy company's raw drops under ``raw_prefix`` (all of them, or those landed on ``day``).

    Parameters
    ----------
    spark
        The session (Glue's, or local ``local[*]``).
    store
        The lake's object store.
    raw_prefix
        ``raw/energy_company`` (or a folder below it).
    report
        The run report to fill: counts, keys written, quarantine reasons.
    progress
        Called with a line per table written.
    day
        Only the drops that landed on this (UTC) day, merged into the processed tables.
    max_line_bytes
        The landing limit, applied again to files that reached raw another way.

    Returns
    -------
    RunReport
        ``report``, filled.
    """
    report.details.update(raw_prefix=raw_prefix, day=day.isoformat() if day else None)
    if not store.list_keys(raw_prefix):
        if progress:
            progress(f"nothing under {raw_prefix}")
        return report
    with report.timed("read"):
        files = read_binary_documents(spark, store.uri(raw_prefix))
        if day is not None:
            files = files.filter(F.col("path").contains(f"/{date_partition(day)}/"))
        rows = transforms.files_to_rows(files, max_line_bytes).cache()
        report.rows_in = rows.count()
        report.details["files"] = rows.select("path").distinct().count()
    with report.timed("transform+write"):
        unreadable = rows.filter(F.col("entity").isNull()).withColumnRenamed(
            transforms.PROBLEM, quality.REASON
        )
        _quarantine(unreadable.select(*QUARANTINE_COLUMNS), "unreadable", store, report)
        masters: dict[str, DataFrame] = {}
        for spec in (CLIENTES, PROVEEDORES, TRANSACCIONES):
            masters[spec.table_name] = _finish(
                spark, store, spec, rows, report, day is not None, masters, progress
            )
    rows.unpersist()
    return report
