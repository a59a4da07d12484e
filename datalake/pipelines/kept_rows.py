"""Parsed rows kept between incremental runs, and publishing only the partitions whose rows changed.

For jobs whose tables are a function of every raw file ever landed (drops: the energy company's
CSV files, TMDB's extracts, where the newest extraction of a key wins whatever day it landed):
a run parses only the raw partitions that changed since its last successful run
(:mod:`datalake.pipelines.ledger`), keeps their parsed rows in a hidden state folder
(``_state/<job>/<raw prefix>/run=<run id>/part=<sha1 of the partition>/``, which the ledger entry
of each partition names), and computes the tables from the parsed rows of every partition, those
just parsed and those kept: the rows a full run parses, so the same tables, row for row.
:func:`publish_changed` then rewrites only the processed partitions whose rows differ.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, NamedTuple

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.utils import AnalysisException

from datalake.datasets.spec import DatasetSpec
from datalake.jobs import delete_processed_partitions, write_counted_tables, write_processed
from datalake.pipelines.ledger import Ledger, RunPlan, list_raw_partitions, plan_run
from datalake.pipelines.processing import RAW_PARTITION, Progress, read_current, spark_uri, with_raw_partition
from datalake.runs import RunReport
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key
from datalake.transforms import quality
from datalake.transforms.documents import read_binary_documents
from datalake.transforms.expressions import sql_column, sql_name

#: Where the parsed rows of each raw partition are kept between runs (hidden: no reader lists it).
STATE_PREFIX = "_state"
#: True on the rows a run parsed, False on those kept from earlier runs.
NEW = "_new"


def state_root(job: str, raw_prefix: str) -> str:
    """``_state/<job>/<raw prefix>``: the parsed rows of each raw partition, one folder per run."""
    return join_key(STATE_PREFIX, job, join_key(raw_prefix))


def _part_id(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()


def plan_kept_run(
    store: ObjectStore,
    report: RunReport,
    raw_prefix: str,
    progress: Progress | None,
    *,
    full: bool = False,
    only_days: set[dt.date] | None = None,
) -> tuple[Ledger, RunPlan] | None:
    """The ledger and plan of a run over ``raw_prefix`` (said in ``report`` and to ``progress``).

    None when no raw partition changed or went since the last run: there is nothing to do (a
    full run over an empty prefix still records its ledger).
    """
    report.details["raw_prefix"] = raw_prefix
    ledger = Ledger.load(store, report.job, raw_prefix)
    plan = plan_run(ledger, list_raw_partitions(store, raw_prefix), full=full, only_days=only_days)
    report.details.update(plan.details(plan.changed))
    if progress:
        progress(
            f"{plan.mode} run ({plan.reason}): {len(plan.changed)} raw partition(s) to parse, "
            f"{len(plan.deleted)} gone, {len(plan.skipped)} kept as they were"
        )
    if not plan.changed and not plan.deleted:
        if plan.mode == "full":
            ledger.commit(store, plan)
        if progress:
            progress(f"nothing to do under {raw_prefix}")
        return None
    return ledger, plan


def parse_changed(
    spark: SparkSession,
    store: ObjectStore,
    raw_prefix: str,
    plan: RunPlan,
    parse: Callable[[DataFrame], DataFrame],
    schema: T.StructType,
) -> DataFrame:
    """``parse`` of the raw files (``path``, ``content`` bytes) in the plan's changed partitions, with
    ``_raw_partition``; no rows of ``schema`` when none changed."""
    keys = [key for name in sorted(plan.changed) for key in plan.partitions[name].keys]
    if not keys:
        return spark.createDataFrame([], schema).withColumn(RAW_PARTITION, F.lit(None).cast("string"))
    files = read_binary_documents(spark, [spark_uri(store, key) for key in keys])
    return with_raw_partition(parse(files), raw_prefix)


def fingerprints(frame: DataFrame, spec: DatasetSpec) -> dict[tuple, tuple[int, object]]:
    """Per partition of ``frame`` (one entry ``()`` when unpartitioned): (rows, sum of row hashes)."""
    return _fingerprints([(spec, frame)])[0]


def _fingerprints(frames: Sequence[tuple[DatasetSpec, DataFrame]]) -> list[dict[tuple, tuple[int, object]]]:
    """:func:`fingerprints` of each frame, all computed by one Spark job.

    Each job has a fixed cost (planning, task launch, a round trip to the driver) that dominates
    small runs: a run comparing three tables with what is published made six such jobs. The
    frames' rows are tagged with their frame's number and unioned, each frame's partition values
    in columns of their own (so no value is cast to another frame's type), and one aggregate
    counts and hashes them all.
    """
    # slot name -> (frame number, partition column), in the union's column order.
    slots = {
        f"_p{i}_{j}": (i, p.name)
        for i, (spec, _frame) in enumerate(frames)
        for j, p in enumerate(spec.partition_by)
    }
    # Other frames' slots are nulls of the slot's own type: the union casts no value.
    types = {slot: frames[i][1].schema[name].dataType for slot, (i, name) in slots.items()}
    tagged: list[DataFrame] = []
    for i, (spec, frame) in enumerate(frames):
        # One SQL expression: a wide table's column list as Columns is a call to the JVM per name.
        row_hash = sql_column(
            f"CAST(xxhash64({', '.join(map(sql_name, spec.column_names))}) AS DECIMAL(38,0))"
        )
        tagged.append(
            frame.select(
                F.lit(i).alias("_frame"),
                *(
                    (F.col(name) if owner == i else F.lit(None).cast(types[slot])).alias(slot)
                    for slot, (owner, name) in slots.items()
                ),
                row_hash.alias("_hash"),
            )
        )
    found: list[dict[tuple, tuple[int, object]]] = [{} for _ in frames]
    if not tagged:
        return found
    union = tagged[0]
    for more in tagged[1:]:
        union = union.union(more)
    sums = union.groupBy("_frame", *types).agg(F.count(F.lit(1)).alias("_n"), F.sum("_hash").alias("_h"))
    own_slots = [[slot for slot, (owner, _name) in slots.items() if owner == i] for i in range(len(frames))]
    for row in sums.collect():
        i = row["_frame"]
        found[i][tuple(row[slot] for slot in own_slots[i])] = (row["_n"], row["_h"])
    return found


class VerdictCounts(NamedTuple):
    """What :func:`count_verdict` counted in a table's verdict."""

    rows_out: int
    carried: int
    #: This run's quarantined rows per reason (what :func:`quarantine_counted` would count).
    quarantined: dict[str, int]
    #: This run's values in the table (``present``'s sum over its rows in the table; 0 without).
    values_out: int


def count_verdict(
    verdict: DataFrame, keys: list[str], report: RunReport, name: str, present: Column | None = None
) -> VerdictCounts:
    """Rows of this run in the table, kept rows carried over and superseded (into ``details`` as
    ``<name>_rows_out``, ``<name>_rows_carried_over``, ``<name>_rows_superseded_carried``), and
    this run's quarantined rows per reason, all from one aggregate of a verdict whose rows carry
    :data:`NEW` and the quality reason (a kept row superseded by a newer landing of its ``keys``
    carries :func:`~datalake.transforms.quality.superseded_reason`).
    """
    superseded = quality.superseded_reason(keys, "landed_on")
    counts = (
        verdict.groupBy(NEW, quality.REASON)
        .agg(
            F.count(F.lit(1)).alias("count"), F.sum(F.lit(0) if present is None else present).alias("_values")
        )
        .collect()
    )
    rows_out = carried = replaced = values_out = 0
    quarantined: dict[str, int] = {}
    for r in counts:
        reason, new = r[quality.REASON], r[NEW]
        if reason is None and new:
            rows_out, values_out = r["count"], r["_values"] or 0
        elif reason is None and new is False:
            carried = r["count"]
        elif reason == superseded and new is False:
            replaced = r["count"]
        elif reason is not None and new:
            quarantined[reason] = r["count"]
    report.details[f"{name}_rows_out"] = rows_out
    report.details[f"{name}_rows_carried_over"] = carried
    report.details[f"{name}_rows_superseded_carried"] = replaced
    return VerdictCounts(rows_out, carried, quarantined, values_out)


class Published(NamedTuple):
    """A table :func:`publish_tables` published: the keys of the files written, and its rows now."""

    keys: list[str]
    rows: int


def publish_changed(
    spark: SparkSession,
    store: ObjectStore,
    spec: DatasetSpec,
    latest: DataFrame,
    progress: Progress | None,
    *,
    rows: int | None = None,
    partition_rows: Mapping[tuple, int] | None = None,
) -> list[str]:
    """Rewrite the partitions of ``spec`` whose rows differ from ``latest``'s; remove those it has none of.

    ``rows`` (``latest``'s row count), when the caller knows it, spares a pass over ``latest``
    for a new table with no row; ``partition_rows`` (its rows per tuple of partition values, or
    per :func:`~datalake.jobs.slice_columns`) spares the count of a new table (see
    :func:`publish_tables`). :func:`publish_tables`
    publishes several tables, saying their rows.
    """
    published = publish_tables(
        spark, store, [(spec, latest)], progress, rows=[rows], partition_rows=[partition_rows]
    )
    return published[0].keys


def publish_tables(
    spark: SparkSession,
    store: ObjectStore,
    tables: Sequence[tuple[DatasetSpec, DataFrame]],
    progress: Progress | None,
    *,
    rows: Sequence[int | None] | None = None,
    partition_rows: Sequence[Mapping[tuple, int] | None] | None = None,
) -> list[Published]:
    """:func:`publish_changed` of each ``(spec, latest)``, in order; returns each table's keys and rows.

    The tables already published are compared with their ``latest`` rows by one Spark job for
    all (:func:`_fingerprints`), whose counts are also the rows each table has now; the new tables
    are written as they are (every partition is new: a hash of every row was 29 s of a 10 M-row
    first run), counted together by the writes' own pass, and one with no row is not published.
    ``rows`` (each ``latest``'s row count, None where unknown) spares that pass for a new
    table known to have no row; ``partition_rows`` (each ``latest``'s rows per tuple of partition
    values, or per :func:`~datalake.jobs.slice_columns` to cut its files without a sample; None
    where unknown) spares it for a new table, whose write then checks its required columns in
    passing (:func:`~datalake.jobs.write_counted_tables`).
    """
    known = list(rows) if rows is not None else [None] * len(tables)
    per_partition = list(partition_rows) if partition_rows is not None else [None] * len(tables)
    frames = [
        latest.select(*spec.column_names, *(p.name for p in spec.partition_by)) for spec, latest in tables
    ]
    currents = [read_current(spark, store, spec) for spec, _latest in tables]
    compared = [i for i, current in enumerate(currents) if current is not None]
    pairs = [(tables[i][0], frame) for i in compared for frame in (frames[i], currents[i])]
    sums = iter(_fingerprints(pairs))
    fingerprinted = {i: (next(sums), next(sums)) for i in compared}
    # The new tables are counted together, then written (write_counted_tables).
    new = [i for i in range(len(tables)) if i not in fingerprinted and known[i] != 0]
    written = dict(
        zip(
            new,
            write_counted_tables(
                [(frames[i], tables[i][0]) for i in new],
                store,
                progress,
                skip_empty=True,
                counted=[per_partition[i] for i in new],
            ),
            strict=True,
        )
    )
    published: list[Published] = []
    for i, (spec, _latest) in enumerate(tables):
        if i in written:
            published.append(Published(written[i].keys, written[i].rows))
        elif i not in fingerprinted:  # new, and known to have no row
            published.append(Published([], 0))
        else:
            wanted, now = fingerprinted[i]
            keys = _publish_changed_partitions(spark, store, spec, frames[i], wanted, now, progress)
            published.append(Published(keys, sum(n for n, _h in wanted.values())))
    return published


def _publish_changed_partitions(
    spark: SparkSession,
    store: ObjectStore,
    spec: DatasetSpec,
    frame: DataFrame,
    wanted: dict[tuple, tuple[int, object]],
    now: dict[tuple, tuple[int, object]],
    progress: Progress | None,
) -> list[str]:
    """Write the partitions whose fingerprints differ (``wanted``: ``frame``'s; ``now``: published)."""
    names = [p.name for p in spec.partition_by]
    changed = sorted(values for values, fingerprint in wanted.items() if now.get(values) != fingerprint)
    keys: list[str] = []
    if changed and names:
        partitions = spark.createDataFrame(changed, frame.select(*names).schema)
        keys = write_processed(frame.join(F.broadcast(partitions), names, "left_semi"), spec, store, progress)
    elif changed or (not names and now and not wanted):
        # An unpartitioned table whose last rows went (every movie tombstoned) is published
        # empty: it has no partition to unpublish, and readers must stop seeing the old rows.
        keys = write_processed(frame, spec, store, progress)
    gone = [dict(zip(names, values, strict=True)) for values in sorted(set(now) - set(wanted))]
    for path in delete_processed_partitions(spec, store, gone):
        if progress:
            progress(f"{spec.name}/{path or '(whole table)'}: removed (no rows left)")
    return keys


def read_kept(
    spark: SparkSession, store: ObjectStore, paths: list[str], schema: T.StructType
) -> DataFrame | None:
    """The parsed rows (of ``schema``) kept under the state folders ``paths``; None when there are none."""
    if not paths:
        return None
    try:
        return spark.read.schema(schema).parquet(*(spark_uri(store, p) for p in sorted(paths)))
    except AnalysisException as error:
        raise RuntimeError(
            f"the parsed rows an earlier run kept under {STATE_PREFIX}/ are missing ({error}); "
            "run again with full=True (--full) to parse every raw file"
        ) from error


def kept_parsed(
    spark: SparkSession, store: ObjectStore, ledger: Ledger, plan: RunPlan, schema: T.StructType
) -> DataFrame | None:
    """The parsed rows (of ``schema``) earlier runs kept, of the partitions this run leaves as they are."""
    if plan.mode == "full":
        return None
    paths = [
        ledger.entries[name]["state"]
        for name in plan.skipped
        if name in ledger.entries and ledger.entries[name].get("state")
    ]
    return read_kept(spark, store, paths, schema)


def keep_parsed(
    store: ObjectStore, parsed: DataFrame, report: RunReport, raw_prefix: str, plan: RunPlan
) -> dict[str, dict[str, str | None]]:
    """Write this run's parsed rows under a new run folder; returns each changed partition's ledger extra.

    The executors write the rows, one folder per raw partition; which partitions had rows is read
    from the folders written, so ``parsed`` is computed once (it need not be cached: a caller can
    read the rows back with :func:`read_kept`, Parquet being cheaper to scan than to hold).
    """
    run_folder = join_key(state_root(report.job, raw_prefix), f"run={report.run_id}")
    by_part = parsed.withColumn("part", F.sha1(RAW_PARTITION)).drop(RAW_PARTITION)
    by_part.write.partitionBy("part").parquet(spark_uri(store, run_folder))
    below = [key[len(run_folder) + 1 :] for key in store.list_keys(run_folder, include_hidden=True)]
    written = {rest.split("/", 1)[0] for rest in below if rest.startswith("part=")}
    return {
        name: {"state": join_key(run_folder, part) if (part := f"part={_part_id(name)}") in written else None}
        for name in plan.changed
    }


def spill(
    spark: SparkSession, store: ObjectStore, frame: DataFrame, report: RunReport, raw_prefix: str, name: str
) -> DataFrame:
    """``frame`` written once by the executors, as Parquet in this run's scratch folder, and read back.

    For a frame several jobs read that is too big to cache: ten million rows of the energy company's
    verdicts did not fit a 2 GB driver's cache beside the sort that followed (the JVM ran out of
    heap), while Parquet on disk costs one write and column-pruned scans. The scratch folder
    (``_state/<job>/<raw prefix>/scratch=<run id>/``) is not in the ledger, so
    :func:`drop_unreferenced_state` removes it when the run ends (or after a run that failed).
    """
    key = join_key(state_root(report.job, raw_prefix), f"scratch={report.run_id}", name)
    frame.write.mode("overwrite").parquet(spark_uri(store, key))
    # Read with the schema it was written with: inferring it would be a Spark job of its own.
    return spark.read.schema(frame.schema).parquet(spark_uri(store, key))


#: Past this many keys held by more than one row, :func:`spill_superseded` ranks every row.
MAX_REPEATED_KEYS = 2_000_000
_KEY_HASH = "_key_hash"


def key_hash(keys: Sequence[str]) -> Column:
    """A long per tuple of key values (equal tuples, nulls included, hash alike): :func:`spill_superseded`."""
    return F.xxhash64(*keys)


def spill_superseded(
    spark: SparkSession,
    store: ObjectStore,
    flagged: DataFrame,
    report: RunReport,
    raw_prefix: str,
    name: str,
    keys: list[str],
    newest_by: str,
    *,
    tiebreak: tuple[str, ...] = (),
    keep: Literal["latest", "earliest"] = "latest",
) -> DataFrame:
    """:func:`~datalake.transforms.quality.superseded` of ``flagged`` rows whose keys seldom repeat,
    spilled (:func:`spill`) instead of ranked whole.

    Ranking every row shuffles and sorts every row by its key: 28 s of ten million transactions,
    about 0.7 % of which repeat an id. Here the rows are written as they are, the hashes of the keys
    that more than one valid row holds are found (an aggregate of one long per row), and only the
    rows with those hashes are ranked (a hash shared by two keys only ranks more rows, each by its
    own key); the others hold their key alone and keep their verdict. Past
    :data:`MAX_REPEATED_KEYS` such keys (a broadcast the driver holds), every row is ranked.
    """
    written = spill(spark, store, flagged.withColumn(_KEY_HASH, key_hash(keys)), report, raw_prefix, name)
    repeated = (
        written.filter(F.col(quality.REASON).isNull())
        .groupBy(_KEY_HASH)
        .count()
        .filter(F.col("count") > 1)
        .select(_KEY_HASH)
    )
    repeated = spill(spark, store, repeated, report, raw_prefix, f"{name}_repeated_keys")

    def ranked(rows: DataFrame) -> DataFrame:
        verdicts = quality.superseded(rows.drop(_KEY_HASH), keys, newest_by, tiebreak=tiebreak, keep=keep)
        return spill(spark, store, verdicts, report, raw_prefix, f"{name}_ranked")

    if repeated.count() > MAX_REPEATED_KEYS:
        return ranked(written)
    alone = written.join(F.broadcast(repeated), _KEY_HASH, "left_anti").drop(_KEY_HASH)
    return alone.unionByName(ranked(written.join(F.broadcast(repeated), _KEY_HASH, "left_semi")))


def drop_unreferenced_state(store: ObjectStore, job: str, raw_prefix: str, ledger: Ledger) -> None:
    """Remove the kept rows the ledger no longer points at (superseded, or left by failed runs)."""
    root = state_root(job, raw_prefix)
    kept = {entry["state"] for entry in ledger.entries.values() if entry.get("state")}
    kept_runs = {path.rsplit("/part=", 1)[0] for path in kept}
    folders: set[str] = set()
    for key in store.list_keys(root, include_hidden=True):
        run, _, rest = key[len(root) + 1 :].partition("/")
        part = rest.split("/", 1)[0]
        run_folder = join_key(root, run)
        if run_folder not in kept_runs:
            folders.add(run_folder)
        elif part.startswith("part=") and join_key(run_folder, part) not in kept:
            folders.add(join_key(run_folder, part))
    for folder in sorted(folders):
        store.delete_prefix(folder)
