"""Raw energy company drops -> processed clientes, proveedores, transacciones (+ quarantine, run report).

The tables are a function of every drop ever landed: masters keep one row per key, the newest
drop's values (``fecha_carga`` is the first drop that carried those values, so a repeated drop
changes nothing), a transaction keeps its first arrival, and the price bands and counterparty
flags of the transactions are relative to the whole table. A merge of new drops into the
processed rows cannot give the same tables: a landing day that arrives late or is landed again
with other rows, or a drop that is deleted, changes which row wins for keys whose other copies
are only in drops the merge did not read, and the bands of rows it did not touch.

So a run parses only the drops whose raw partition (``<entity>/year=/month=/day=``, the
landing day) changed since its last successful run (:mod:`datalake.pipelines.ledger`), and
keeps their parsed rows (the CSV lines, as text) in a hidden state folder
(``_state/<job>/<raw prefix>/run=<run id>/part=<sha1 of the partition>/``; the ledger entry of
each partition says where its rows are). The tables are then computed from the parsed rows of
every partition, those just parsed and those kept from earlier runs: the same rows a full run
parses, so the same tables, row for row. Parsing is the costly part and is done once per drop;
the dedupe and derived columns run on Parquet. Only the processed partitions whose rows differ
are rewritten (a per-partition count and hash comparison), and partitions left with no row are
removed.

Nothing of a table's size is cached: the parsed rows are written as the run's state and read back
from there, and each entity's verdicts are written once to the run's scratch folder
(:func:`datalake.pipelines.kept_rows.spill`). Ten million transactions did not fit a 2 GB driver
as cached frames; from Parquet they do, and Glue's executors write each piece.

- ``day``: the drops of that landing day are parsed again (changed or not), every other
  partition is taken as the ledger has it (changes to them wait for the next run);
- ``full``: every drop is parsed again and the state and ledger are rebuilt; a job with no
  ledger yet runs full;
- ``rows_in == rows_out + rows_quarantined`` over the rows parsed by this run: ``rows_out``
  counts those that are in the tables, quarantine holds those that are not (bad, duplicate or
  superseded), with their reason. Rows of earlier drops are counted apart:
  ``details["rows_carried_over"]`` (in the tables) and ``details["rows_superseded_carried"]``
  (an earlier drop's row that a newly parsed one replaced; it was good, and is not quarantined).
  Over runs, each parsed row is quarantined by the run that parsed it, so a full run's
  quarantine equals the incremental runs' quarantines of the rows parsed last, except the rows
  of earlier drops that later drops superseded (quarantined by a full run, counted apart here).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from datalake.datasets.energy_company import CLIENTES, PROVEEDORES, SOURCE, TRANSACCIONES
from datalake.datasets.spec import DatasetSpec
from datalake.jobs import slice_columns, slice_names
from datalake.pipelines.kept_rows import (
    NEW,
    drop_unreferenced_state,
    keep_parsed,
    kept_parsed,
    plan_kept_run,
    publish_changed,
    read_kept,
    spill,
    spill_superseded,
)
from datalake.pipelines.ledger import RunPlan
from datalake.pipelines.processing import (
    RAW_PARTITION,
    Progress,
    quarantine_counted,
)
from datalake.runs import RunReport
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key
from datalake.transforms import energy_company as transforms
from datalake.transforms import quality

#: The tiebreak between rows of one landing day (after ``fecha_carga``), so reruns pick the same row.
TIEBREAK = ("raw_record", "path", "line_number")
#: What a quarantined row keeps: where it came from, the line as it was, and why.
QUARANTINE_COLUMNS = ("path", "line_number", "raw_record", "fecha_carga", quality.REASON)
#: A master row's first drop with its exact values: its ``fecha_carga`` in the table.
FIRST_SEEN = "_first_seen"


def _quarantine(
    frame: DataFrame, name: str, store: ObjectStore, report: RunReport, counts: dict[str, int] | None = None
) -> None:
    """Write rows to ``quarantine/energy_company/<name>/``, counted in the report by reason.

    ``counts`` (rows per reason), when already known, spares the pass that counts them.
    """
    quarantine_counted(frame, join_key(SOURCE, name), store, report, name, counts=counts)


def _finish(
    spark: SparkSession,
    store: ObjectStore,
    spec: DatasetSpec,
    rows: DataFrame,
    report: RunReport,
    raw_prefix: str,
    is_new: F.Column,
    masters: dict[str, DataFrame],
    progress: Progress | None,
) -> DataFrame:
    """Type, check, dedupe, derive and write one entity from every parsed row; returns the rows written.

    ``is_new`` tells the rows this run parsed: only theirs are quarantined and counted out.
    Every row's verdict (its parse problem, failed checks, or superseded by another row of its
    key) is one frame, written once to the run's scratch folder (:func:`spill`): the counts, the
    table and the quarantine are read from there.
    """
    entity = spec.table_name
    typed, checks = transforms.BUILDERS[entity](rows)
    typed = typed.withColumn(NEW, is_new)
    # The columns derived after the checks (price total, band, counterparty) are not checked here.
    parsed = replace(spec, columns=tuple(c for c in spec.columns if c.name in typed.columns))
    partitions = [p.name for p in spec.partition_by]
    if spec is TRANSACCIONES:
        # A transaction keeps its first arrival: a later copy of it changes nothing.
        keys, keep, extra = ["transaccion_id"], "earliest", []
    else:
        # A master keeps its newest values, dated by the first drop that carried those exact
        # values, so landing the same extract again changes nothing. Rows with equal values
        # share their verdict (the checks read only those values), so valid rows meet only valid.
        values = [c for c in parsed.column_names if c != "fecha_carga"]
        typed = typed.withColumn(FIRST_SEEN, F.min("fecha_carga").over(Window.partitionBy(*values)))
        keys, keep, extra = list(spec.primary_key), "latest", [FIRST_SEEN]
    flagged = quality.flagged(typed, parsed, checks, problem=transforms.PROBLEM)
    # Only what the counts, the table and the quarantine read: the raw_* copies of the parsed
    # columns served the checks alone, and Spark prunes them before the verdicts are written.
    needed = [*parsed.column_names, *partitions, NEW, *extra, *QUARANTINE_COLUMNS]
    # Each verdict is written once to the run's scratch folder (spill) and scanned three times
    # (counts, table, quarantine), column-pruned each time.
    if spec is TRANSACCIONES:
        # Copies of a transaction are rare (and every drop repeats the masters): only the rows of
        # repeated ids are ranked.
        verdict = spill_superseded(
            spark,
            store,
            flagged.select(*dict.fromkeys(needed)),
            report,
            raw_prefix,
            entity,
            keys,
            "fecha_carga",
            tiebreak=TIEBREAK,
            keep=keep,
        )
    else:
        judged = quality.superseded(flagged, keys, "fecha_carga", tiebreak=TIEBREAK, keep=keep)
        # The line's text served the ranking's tiebreak; from here only a quarantined row keeps it
        # (the largest column, unique per row: a tenth of the verdict's bytes left for the rows kept).
        judged = judged.select(*dict.fromkeys(needed)).withColumn(
            "raw_record", F.when(F.col(quality.REASON).isNotNull(), F.col("raw_record"))
        )
        verdict = spill(spark, store, judged, report, raw_prefix, entity)
    superseded = quality.superseded_reason(keys, "fecha_carga", keep)
    # Every count this entity reports, from one small aggregate (a row per origin and reason):
    # each Spark job has a fixed cost (planning, code generation, scheduling), so three count
    # jobs per entity became one.
    # Per partition too: the kept rows' counts per partition are what the write of a new table
    # would otherwise count in a pass of its own.
    # Per day of the time column as well: the write cuts its files' ranges from those counts.
    tallies: dict[tuple[bool, str | None], int] = {}
    per_slice: dict[tuple, int] = {}
    # A master's published date is its first drop with its values (FIRST_SEEN), not this row's.
    slices = slice_columns(spec, F.col(FIRST_SEEN) if extra else None)
    names = slice_names(spec)
    for row in verdict.groupBy(NEW, quality.REASON, *slices).count().collect():
        verdict_key = (row[NEW], row[quality.REASON])
        tallies[verdict_key] = tallies.get(verdict_key, 0) + int(row["count"])
        if row[quality.REASON] is None:
            values = tuple(row[name] for name in names)
            per_slice[values] = per_slice.get(values, 0) + int(row["count"])
    replaced = tallies.get((False, superseded), 0)
    # The derived columns add columns, never rows (every kept row has the tipo_energia the price
    # band joins on: it is required), so the rows written are the kept verdicts.
    rows_out, carried = tallies.get((True, None), 0), tallies.get((False, None), 0)
    quarantine_counts = {reason: n for (new, reason), n in tallies.items() if new and reason is not None}
    kept = verdict.filter(F.col(quality.REASON).isNull()).select(
        *parsed.column_names, *partitions, NEW, *extra
    )
    if spec is TRANSACCIONES:
        latest = transforms.with_derived_columns(
            kept, masters[CLIENTES.table_name], masters[PROVEEDORES.table_name]
        )
    else:
        latest = kept.withColumn("fecha_carga", F.col(FIRST_SEEN)).drop(FIRST_SEEN)
    report.keys_written += publish_changed(
        spark, store, spec, latest, progress, rows=rows_out + carried, partition_rows=per_slice
    )
    quarantined = verdict.filter(F.col(NEW) & F.col(quality.REASON).isNotNull()).select(*QUARANTINE_COLUMNS)
    _quarantine(quarantined, entity, store, report, quarantine_counts)
    report.rows_out += rows_out
    report.details[f"{entity}_rows_out"] = rows_out
    report.details["rows_carried_over"] = report.details.get("rows_carried_over", 0) + carried
    report.details["rows_superseded_carried"] = report.details.get("rows_superseded_carried", 0) + replaced
    if progress:
        progress(f"{entity}: {rows_out} new row(s) out, {carried} carried over from earlier drops")
    return latest


def _parse(
    spark: SparkSession, store: ObjectStore, raw_prefix: str, plan: RunPlan, max_line_bytes: int
) -> DataFrame:
    """The rows of the changed drops (``transforms.ROWS`` plus ``_raw_partition``), parsed."""
    if plan.mode == "full":
        keys = store.list_keys(raw_prefix)
    else:
        keys = [key for name in sorted(plan.changed) for key in plan.partitions[name].keys]
    if not keys:
        empty = spark.createDataFrame([], transforms.ROWS)
        return empty.withColumn(RAW_PARTITION, F.lit(None).cast("string"))
    # The raw partition comes with each file's reading (once per file, not from each row's path).
    return transforms.drops_to_rows(spark, store, keys, max_line_bytes, raw_prefix)


def process_raw_energy_company(
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    report: RunReport,
    progress: Progress | None = None,
    *,
    day: dt.date | None = None,
    max_line_bytes: int = 1_048_576,
    full: bool = False,
) -> RunReport:
    """Process the energy company's drops under ``raw_prefix`` changed since the last successful run.

    Parameters
    ----------
    spark
        The session (Glue's, or local ``local[*]``).
    store
        The lake's object store.
    raw_prefix
        ``raw/energy_company`` (or a folder below it).
    report
        The run report to fill: counts, keys written, quarantine reasons, the plan (``details``:
        ``mode``, raw partitions changed, deleted, read and skipped). ``report.job`` names the ledger.
    progress
        Called with a line per table written.
    day
        Parse the drops that landed on this (UTC) day again, changed or not, and only those.
    max_line_bytes
        The landing limit, applied again to files that reached raw another way.
    full
        Ignore the ledger: parse every drop and rebuild the tables, the kept rows and the ledger.

    Returns
    -------
    RunReport
        ``report``, filled.
    """
    report.details["day"] = day.isoformat() if day else None
    planned = plan_kept_run(
        store, report, raw_prefix, progress, full=full, only_days={day} if day is not None else None
    )
    if planned is None:
        return report
    ledger, plan = planned
    with report.timed("read"):
        # Parsed once, written by the executors as this run's state, and read back from there: a
        # cache of ten million parsed lines does not fit a 2 GB driver beside the work that follows.
        state = keep_parsed(
            store, _parse(spark, store, raw_prefix, plan, max_line_bytes), report, raw_prefix, plan
        )
        written = [extra["state"] for extra in state.values() if extra["state"]]
        parsed = read_kept(spark, store, written, transforms.ROWS)
        if parsed is None:
            parsed = spark.createDataFrame([], transforms.ROWS)
        # Rows in, the files read and the unreadable files' reasons: one aggregate, a row per file
        # (and per reason of a file that could not be read), instead of three passes.
        unreadable_reason = F.when(F.col("entity").isNull(), F.col(transforms.PROBLEM))
        per_file = (
            parsed.groupBy(
                "path", F.col("entity").isNull().alias("_unreadable"), unreadable_reason.alias("_why")
            )
            .count()
            .collect()
        )
        report.rows_in = sum(int(row["count"]) for row in per_file)
        new_paths = sorted({row["path"] for row in per_file})
        report.details["files"] = len(new_paths)
        unreadable_counts: dict[str, int] = {}
        for row in per_file:
            if row["_unreadable"]:
                unreadable_counts[row["_why"]] = unreadable_counts.get(row["_why"], 0) + int(row["count"])
        kept = kept_parsed(spark, store, ledger, plan, transforms.ROWS)
        rows = parsed if kept is None else parsed.unionByName(kept)
    # The rows parsed now and those kept are told apart by their files (partitions never share one).
    is_new = F.lit(True) if kept is None else F.col("path").isin(new_paths)
    with report.timed("transform+write"):
        unreadable = parsed.filter(F.col("entity").isNull()).withColumnRenamed(
            transforms.PROBLEM, quality.REASON
        )
        _quarantine(unreadable.select(*QUARANTINE_COLUMNS), "unreadable", store, report, unreadable_counts)
        masters: dict[str, DataFrame] = {}
        for spec in (CLIENTES, PROVEEDORES, TRANSACCIONES):
            masters[spec.table_name] = _finish(
                spark, store, spec, rows, report, raw_prefix, is_new, masters, progress
            )
    # Only now, with every table published: a run that died before this leaves the ledger as it was.
    ledger.commit(store, plan, state)
    drop_unreferenced_state(store, report.job, raw_prefix, ledger)
    return report
