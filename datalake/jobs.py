"""I/O shared by the job scripts: job arguments, and reading and writing processed and quarantined rows."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import math
import os
import re
import sys
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any, NamedTuple, NoReturn
from urllib.parse import unquote

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructField, StructType

from datalake.catalog.base import Catalog
from datalake.catalog.processed import catalog_for, current_partitions
from datalake.datasets.spec import DatasetSpec
from datalake.errors import DataValidationError
from datalake.publishing import new_run_id, publish_run, run_prefix, unpublish_partitions
from datalake.settings import Settings, get_settings
from datalake.storage.base import ObjectStore
from datalake.storage.paths import hive_path, join_key

QUARANTINE_PREFIX = "quarantine"
#: Below this many rows a one-file write computes its rows in one task (no shuffle job); above,
#: the rows are computed in parallel and then brought to the one writer.
_ONE_TASK_ROWS = 200_000


def apply_settings_arguments(
    argv: Sequence[str], environ: MutableMapping[str, str] | None = None
) -> dict[str, str]:
    """Turn ``--<setting> value`` job arguments into the settings' environment variables.

    Glue jobs have no environment variables, so the templates pass lake settings as job arguments
    (``--lake_runtime aws --lake_bucket ...``). A variable already in the environment wins, and the
    cached settings are dropped so the next :func:`~datalake.settings.get_settings` sees them.

    Parameters
    ----------
    argv
        The job's command line (``sys.argv``).
    environ
        Where to set them; ``os.environ`` by default.

    Returns
    -------
    dict
        The variables set, ``{NAME: value}``.
    """
    environ = os.environ if environ is None else environ
    fields = set(Settings.model_fields)
    applied: dict[str, str] = {}
    for flag, value in itertools.pairwise(argv):
        name = flag[2:].lower() if flag.startswith("--") else ""
        if name in fields and not value.startswith("--") and name.upper() not in environ:
            environ[name.upper()] = value
            applied[name.upper()] = value
    if applied:
        get_settings.cache_clear()
    return applied


def resolve_args(
    names: Sequence[str], defaults: dict[str, str], argv: Sequence[str] | None = None
) -> dict[str, str]:
    """Job arguments: Glue's ``getResolvedOptions`` on Glue, argparse everywhere else.

    Glue passes ``--NAME value`` pairs; locally the same flags work, and ``defaults``
    fill what is not given. Arguments named after a setting (``--lake_bucket``) become its
    environment variable first (:func:`apply_settings_arguments`).
    """
    argv = list(sys.argv if argv is None else argv)
    apply_settings_arguments(argv)
    try:
        from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
    except ImportError:
        parser = argparse.ArgumentParser()
        for name in names:
            parser.add_argument(f"--{name}", default=defaults.get(name), required=name not in defaults)
        parsed, _unknown = parser.parse_known_args(argv[1:])
        return {name: getattr(parsed, name) for name in names}
    given = [n for n in names if f"--{n}" in argv]
    resolved = getResolvedOptions(argv, given)
    return {**{n: defaults[n] for n in names if n in defaults}, **resolved}


def exit_job(code: int) -> NoReturn:
    """End a job script with ``code``.

    When this process started Spark's JVM itself (``python glue_jobs/to_processed.py``), it ends
    without the interpreter's teardown once the run report is written and printed: a native
    thread pool torn down at exit aborted about one local run in ten (SIGABRT, "terminate called
    without an active exception") after all its work was committed, and the caller saw a failed
    job. The JVM child exits when its stdin closes. Under a launcher that owns the JVM (Glue,
    spark-submit: it hands the gateway over in ``PYSPARK_GATEWAY_PORT``) the script ends normally,
    as the launcher expects.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        os._exit(code)
    sys.exit(code)


def spark_location(location: str) -> str:
    """A store URI or catalog location as Spark's Hadoop paths take it.

    Hadoop reads a path's ``=`` as it is: a local location's percent-escapes (``file://`` URIs
    quote ``=`` as ``%3D``) would name another folder.
    """
    return unquote(location) if location.startswith("file:") else location


def _ordering(spec: DatasetSpec) -> list[str]:
    """Columns a processed file is sorted by: partition columns, the time column, the key."""
    names = [p.name for p in spec.partition_by]
    names += [spec.time_column] if spec.time_column else []
    names += list(spec.primary_key)
    return list(dict.fromkeys(names))


#: The column a table's rows are counted by beside its partition columns (:func:`slice_columns`).
SLICE_DAY = "_slice_day"
#: How far past its share of rows one file's range may run before the ranges come from a sample.
_CUT_SLACK = 1.5


def slice_columns(spec: DatasetSpec, time: Column | None = None) -> list[Column]:
    """What a table's rows are counted by before its write: its partition columns, then the day of
    its time column (``time``, when given, stands for it).

    With rows counted per day, :func:`_write_frame` cuts the files' ranges on the driver instead of
    sampling them: Spark's range partitioner computes every row of the frame to take its sample
    (21 s of a 10 M-row write). Keys of counts are tuples in :func:`slice_names` order.
    """
    columns = [F.col(p.name) for p in spec.partition_by]
    if _sliced_by_day(spec):
        columns.append(F.to_date(time if time is not None else F.col(str(spec.time_column))).alias(SLICE_DAY))
    return columns


def slice_names(spec: DatasetSpec) -> list[str]:
    """The names of :func:`slice_columns`' columns, in order."""
    return [p.name for p in spec.partition_by] + ([SLICE_DAY] if _sliced_by_day(spec) else [])


def _sliced_by_day(spec: DatasetSpec) -> bool:
    if not spec.time_column:
        return False
    [time] = [c for c in spec.columns if c.name == spec.time_column]
    return time.type in ("date", "timestamp")


def _per_partition(spec: DatasetSpec, counts: Mapping[tuple[Any, ...], int]) -> dict[tuple[Any, ...], int]:
    """Rows per tuple of partition values, from counts per partition (and day, :func:`slice_columns`)."""
    width = len(spec.partition_by)
    summed: dict[tuple[Any, ...], int] = {}
    for key, rows in counts.items():
        summed[key[:width]] = summed.get(key[:width], 0) + rows
    return summed


def _file_cuts(
    spec: DatasetSpec, counts: Mapping[tuple[Any, ...], int], files: int
) -> list[tuple[Any, ...]] | None:
    """Where each file's range starts (after the first), from rows counted per :func:`slice_columns`.

    Each slice goes to the file its first row falls in when the rows are dealt out ``files`` ways
    in order. None when the counts are not per day, or a file would run past its share by more
    than half (a day holding more rows than a file: only a sample of the rows can cut it).
    """
    width = len(spec.partition_by) + 1
    if files < 2 or not _sliced_by_day(spec) or any(len(key) != width for key in counts):
        return None
    share = sum(counts.values()) / files
    # Nulls first, as Spark sorts and compares them.
    ordered = sorted(counts.items(), key=lambda kv: [(value is not None, value) for value in kv[0]])
    cuts: list[tuple[Any, ...]] = []
    sizes = [0] * files
    before = 0
    for key, rows in ordered:
        file = min(files - 1, int(before // share))
        if file > len(cuts):
            cuts.append(key)
        sizes[len(cuts)] += rows
        before += rows
    if max(sizes) > _CUT_SLACK * share:
        return None
    return cuts


def _placed_by_cuts(frame: DataFrame, spec: DatasetSpec, cuts: list[tuple[Any, ...]]) -> DataFrame | None:
    """``frame`` shuffled into ``len(cuts) + 1`` tasks, one contiguous range of slices each.

    A hash shuffle sends a value ``v`` to task ``pmod(hash(v), n)`` (Spark's own partitioning), so
    each range gets a value Spark itself hashes to that range's task; None when a small search
    finds none for some task.
    """
    tasks = len(cuts) + 1
    session = frame.sparkSession
    homes: dict[int, int] = {}
    for row in (
        session.range(64 * tasks).select("id", F.expr(f"pmod(hash(id), {tasks})").alias("task")).collect()
    ):
        homes.setdefault(int(row["task"]), int(row["id"]))
    if len(homes) < tasks:
        return None
    names = slice_names(spec)
    columns = slice_columns(spec)
    types = {
        name: frame.select(column).schema[0].dataType for name, column in zip(names, columns, strict=True)
    }
    here = F.struct(*(column.alias(name) for name, column in zip(names, columns, strict=True)))
    # Structs compare field by field with nulls first, as Spark sorts them: a null day goes first.
    index = sum(
        (
            F.when(
                here
                >= F.struct(*(F.lit(v).cast(types[n]).alias(n) for n, v in zip(names, cut, strict=True))),
                1,
            ).otherwise(0)
            for cut in cuts
        ),
        F.lit(0),
    )
    home = F.element_at(F.array(*(F.lit(homes[task]).cast("long") for task in range(tasks))), index + 1)
    return frame.withColumn("_home", home).repartition(tasks, "_home").drop("_home")


def spec_frame(df: DataFrame, spec: DatasetSpec) -> DataFrame:
    """``df``'s spec columns and partition columns, cast to the spec's types (Glue spelling is Spark's)."""
    return df.select(*(F.col(c.name).cast(c.type).alias(c.name) for c in (*spec.columns, *spec.partition_by)))


def count_and_check_required_tables(
    tables: Sequence[tuple[DataFrame, DatasetSpec]],
) -> list[dict[tuple[Any, ...], int]]:
    """The rows of each frame per partition, refusing nulls in the required columns: one Spark
    job for all the frames.

    Each job has a fixed cost that dominates small runs. The frames' rows are tagged with their
    frame's number and unioned, each frame's partition values and null counts in columns of their
    own (no value is cast to another frame's type), and one aggregate counts them all.

    Returns
    -------
    list[dict]
        Per frame, rows per tuple of its spec's partition values and the day of its time column
        (:func:`slice_columns`; ``()`` for an unpartitioned table without one; empty when there
        is no row).

    Raises
    ------
    DataValidationError
        Naming the first required column holding nulls and how many (the quality checks should
        have quarantined those rows: writing them would break the files' declared schema).
    """
    # column name -> (frame number, column): each frame's partition values and day (slice_columns).
    slots = {
        f"_p{i}_{j}": (i, column)
        for i, (_df, spec) in enumerate(tables)
        for j, column in enumerate(slice_columns(spec))
    }
    types = {slot: tables[i][0].select(column).schema[0].dataType for slot, (i, column) in slots.items()}
    # column name -> (frame number, required column): 1 on a row where that column is null.
    nulls = {
        f"_n{i}_{k}": (i, c.name)
        for i, (_df, spec) in enumerate(tables)
        for k, c in enumerate(c for c in (*spec.columns, *spec.partition_by) if not c.nullable)
    }
    tagged = [
        frame.select(
            F.lit(i).alias("_frame"),
            *(
                (column if owner == i else F.lit(None).cast(types[slot])).alias(slot)
                for slot, (owner, column) in slots.items()
            ),
            *(
                (F.col(name).isNull().cast("long") if owner == i else F.lit(0).cast("long")).alias(slot)
                for slot, (owner, name) in nulls.items()
            ),
        )
        for i, (frame, _spec) in enumerate(tables)
    ]
    counted: list[dict[tuple[Any, ...], int]] = [{} for _ in tables]
    if not tagged:
        return counted
    union = tagged[0]
    for more in tagged[1:]:
        union = union.union(more)
    # One small row per frame and partition: the count, and the nulls of each required column.
    groups = union.groupBy("_frame", *slots).agg(
        F.count(F.lit(1)).alias("_rows"), *(F.sum(slot).alias(slot) for slot in nulls)
    )
    rows = groups.collect()
    for i, (_frame, spec) in enumerate(tables):
        mine = [row for row in rows if row["_frame"] == i]
        for slot, (owner, name) in nulls.items():
            found = sum(row[slot] for row in mine) if owner == i else 0
            if found:
                raise DataValidationError(name, f"{found} null value(s) in a required column of {spec.name}")
        partition_slots = [slot for slot, (owner, _column) in slots.items() if owner == i]
        counted[i] = {tuple(row[slot] for slot in partition_slots): int(row["_rows"]) for row in mine}
    return counted


def with_spec_nullability(frame: DataFrame, spec: DatasetSpec) -> DataFrame:
    """``frame`` with the spec's nullability in its schema, so the files declare required columns.

    Spark keeps a cast column nullable; the schema is set on the JVM side, over the plan's own
    binary rows (no row passes through Python, and none is converted to a JVM ``Row`` and back:
    that conversion was a third of a million-row write), once the required columns are known to
    hold no null (:func:`count_and_check_required_tables`, or :func:`required_or_fail` in the
    same pass).
    """
    columns = (*spec.columns, *spec.partition_by)
    schema = StructType([StructField(c.name, frame.schema[c.name].dataType, c.nullable) for c in columns])
    session = frame.sparkSession
    jschema = session._jsparkSession.parseDataType(schema.json())
    rows = frame.select(*(c.name for c in columns))._jdf.queryExecution().toRdd()
    return DataFrame(session._jsparkSession.internalCreateDataFrame(rows, jschema, False), session)


#: How a null in a required column ends a write that checks in passing (:func:`required_or_fail`).
_REQUIRED_NULL = "null value in a required column of"


def required_or_fail(frame: DataFrame, spec: DatasetSpec) -> DataFrame:
    """``frame`` whose required columns raise an error, ending the job, where a row holds a null.

    The check of :func:`count_and_check_required_tables` made in the write's own pass, for a
    caller that already knows the rows per partition: :func:`write_counted_tables` turns the error
    into :class:`~datalake.errors.DataValidationError`, and nothing is published.
    """
    checked = {
        c.name: F.when(
            F.col(c.name).isNull(), F.raise_error(F.lit(f"{c.name}: {_REQUIRED_NULL} {spec.name}"))
        ).otherwise(F.col(c.name))
        for c in (*spec.columns, *spec.partition_by)
        if not c.nullable
    }
    return frame.withColumns(checked)


def write_processed(
    df: DataFrame,
    spec: DatasetSpec,
    store: ObjectStore,
    progress: Callable[[str], None] | None = None,
    *,
    catalog: Catalog | None = None,
    settings: Settings | None = None,
    run_id: str | None = None,
) -> list[str]:
    """Write ``df`` from the executors to a new run folder of ``spec``, then publish it.

    Spark's Parquet writer writes ``<spec.location>/_runs/<run id>/<partition path>/part-*.parquet``
    (no row passes through the driver: only the row count and the written keys reach it). Files
    are contiguous ranges of (partition columns, time column, primary key), sorted within, about
    ``settings.processed_rows_per_file`` rows each (at most twice that: the ranges come from a
    sample) and at least one per partition touched. Then
    :func:`~datalake.publishing.publish_run` points the catalog's partitions at the new folder:
    partitions the frame does not touch keep theirs, so re-running a window replaces the same
    partitions and nothing else, and a run that dies before the switch changes nothing readers see.

    Parameters
    ----------
    df
        Rows with the spec's columns and partition columns (others are dropped).
    spec
        The dataset: schema, partitions, ordering, location.
    store
        The lake's object store (Spark writes to its URIs: ``file://`` locally, ``s3://`` on Glue).
    progress
        Called with a line per partition written.
    catalog
        The catalog to publish to; the one beside ``store`` when None (:func:`catalog_for`).
    settings
        File size, retention and database names; the process-wide settings when None.
    run_id
        The run folder's name; a new one when None.

    Returns
    -------
    list[str]
        The keys of the files written.
    """
    [written] = write_counted_tables(
        [(df, spec)], store, progress, catalog=catalog, settings=settings, run_id=run_id
    )
    return written.keys


class Written(NamedTuple):
    """What :func:`write_counted_tables` wrote of one table: the keys of the files published, and the rows."""

    keys: list[str]
    rows: int


def write_counted_tables(
    tables: Sequence[tuple[DataFrame, DatasetSpec]],
    store: ObjectStore,
    progress: Callable[[str], None] | None = None,
    *,
    catalog: Catalog | None = None,
    settings: Settings | None = None,
    run_id: str | None = None,
    skip_empty: bool = False,
    counted: Sequence[Mapping[tuple[Any, ...], int] | None] | None = None,
) -> list[Written]:
    """:func:`write_processed` of each ``(df, spec)``, in order, saying how many rows each wrote;
    every frame is counted (and its required columns checked) by one Spark job before any is written.

    ``skip_empty``: a frame with no row is neither written nor published (``Written([], 0)``),
    which spares a caller the job that would look for a first row beforehand.

    ``counted``: per frame, its rows per tuple of partition values when the caller already counted
    them (from an aggregate of its own), else None; counted per :func:`slice_columns` (the day
    too), they also cut the files' ranges without a sample. Those frames are neither cached nor
    counted again: their required columns are checked by the write's own pass
    (:func:`required_or_fail`). A million rows' cache and count were a fifth of the energy
    company job.

    Each job has a fixed cost that dominates small runs: TMDB's five new tables counted one by
    one made eight jobs more than counted together.
    """
    settings = settings or get_settings()
    catalog = catalog or catalog_for(store, settings)
    known = list(counted) if counted is not None else [None] * len(tables)
    frames = [
        (
            spec_frame(df, spec)
            if rows is not None
            else spec_frame(df, spec).persist(StorageLevel.MEMORY_AND_DISK),
            spec,
        )
        for (df, spec), rows in zip(tables, known, strict=True)
    ]
    written: list[Written] = []
    try:
        unknown = [i for i, rows in enumerate(known) if rows is None]
        found = iter(count_and_check_required_tables([frames[i] for i in unknown]))
        counts = [dict(rows) if rows is not None else next(found) for rows in known]
        for i, ((frame, spec), per_slice) in enumerate(zip(frames, counts, strict=True)):
            rows = sum(per_slice.values())
            if skip_empty and not rows:
                written.append(Written([], 0))
                continue
            table_run = run_id or new_run_id()
            checked = frame if known[i] is None else required_or_fail(frame, spec)
            try:
                _write_frame(checked, spec, per_slice, store, settings, table_run, progress)
            except Exception as error:
                null_column = re.search(rf"(\w+): {_REQUIRED_NULL}", str(error))
                if known[i] is None or null_column is None:
                    raise
                raise DataValidationError(null_column.group(1), f"{_REQUIRED_NULL} {spec.name}") from None
            frame.unpersist()
            publication = publish_run(spec, store, catalog, table_run, settings)
            if progress:
                progress(
                    f"{spec.name}: {rows:,} rows in {len(publication.keys)} file(s), "
                    f"run {table_run} published ({publication.created} partition(s) new, "
                    f"{publication.switched} switched)"
                )
            written.append(Written(list(publication.keys), rows))
    finally:
        for frame, _spec in frames:
            frame.unpersist()
    return written


def _write_frame(
    frame: DataFrame,
    spec: DatasetSpec,
    counts: Mapping[tuple[Any, ...], int],
    store: ObjectStore,
    settings: Settings,
    run_id: str,
    progress: Callable[[str], None] | None,
) -> None:
    """Write ``frame`` (:func:`spec_frame`'s, counted per partition or per :func:`slice_columns`)
    to the run folder ``run_id`` of ``spec``."""
    ordering = _ordering(spec)
    rows = sum(counts.values())
    files = max(1, math.ceil(rows / settings.processed_rows_per_file))
    laid_out = with_spec_nullability(frame, spec)
    cuts = _file_cuts(spec, counts, files)
    placed = _placed_by_cuts(laid_out, spec, cuts) if cuts is not None else None
    if placed is not None:
        laid_out = placed
    elif files > 1:
        laid_out = laid_out.repartitionByRange(files, *ordering)
    elif rows < _ONE_TASK_ROWS:
        # One small file needs no ranges: its shuffle into one partition was a Spark job of its own.
        laid_out = laid_out.coalesce(1)
    else:
        # A big one does: coalescing would compute every row of it in one task, on one core.
        laid_out = laid_out.repartition(1)
    (
        laid_out.sortWithinPartitions(*ordering)
        .write.mode("errorifexists")
        # Ranges come from a sample or from day counts, so one may run over the target: twice it is the cap.
        .option("maxRecordsPerFile", 2 * settings.processed_rows_per_file)
        .partitionBy(*(p.name for p in spec.partition_by))
        .parquet(spark_location(store.uri(run_prefix(spec, run_id))))
    )
    if progress and spec.partition_by:
        names = [p.name for p in spec.partition_by]
        per_partition = _per_partition(spec, counts)
        in_order = sorted(per_partition.items(), key=lambda kv: [(v is None, v) for v in kv[0]])
        for values, count in in_order:
            progress(f"{spec.name}/{hive_path(dict(zip(names, values, strict=True)))}: {count:,} rows")


def read_processed(
    spark: SparkSession,
    spec: DatasetSpec,
    store: ObjectStore,
    *,
    catalog: Catalog | None = None,
    settings: Settings | None = None,
) -> DataFrame | None:
    """The current rows of a processed dataset, read from where the catalog points.

    Only the published folders are read (never the superseded runs beside them); the partition
    columns come from the partitions' paths. None before the first publish (or with no data).
    """
    settings = settings or get_settings()
    catalog = catalog or catalog_for(store, settings)
    current = current_partitions(catalog, store, spec, settings)
    if not current:
        return None
    schema = ", ".join(f"`{c.name}` {c.type}" for c in spec.columns)
    frame = spark.read.schema(schema).parquet(*(spark_location(p.location) for p in current))
    if not spec.partition_by:
        return frame
    # Partition folders of different runs share no base path, so Spark cannot discover their
    # columns; each file's path holds them (``.../year=2024/month=3/part-...``).
    path = F.input_file_name()
    return frame.select(
        *spec.column_names,
        *(
            F.regexp_extract(path, f"/{p.name}=([^/]+)/", 1).cast(p.type).alias(p.name)
            for p in spec.partition_by
        ),
    )


def delete_processed_partitions(
    spec: DatasetSpec,
    store: ObjectStore,
    partitions: Sequence[Mapping[str, object]],
    *,
    catalog: Catalog | None = None,
    settings: Settings | None = None,
) -> list[str]:
    """Unpublish whole partitions of a processed table (``{"year": 2024, "month": 3}``).

    For a run whose rewrite left a partition with no rows (its raw was deleted): a frame
    cannot touch a partition it has no row for, so the partition leaves the catalog instead
    (:func:`~datalake.publishing.unpublish_partitions`). Returns the partition paths removed.
    """
    settings = settings or get_settings()
    catalog = catalog or catalog_for(store, settings)
    paths = [hive_path(dict(values)) for values in partitions if values]
    return unpublish_partitions(spec, store, catalog, paths, settings)


def write_quarantine(
    df: DataFrame, name: str, store: ObjectStore, run_id: str, rows: int | None = None
) -> str | None:
    """Write quarantined rows (every column as text, plus ``reason``) of one dataset (or source) and run.

    The executors write ``quarantine/<name>/run_date=<day>/<run_id>/part-*.parquet``; returns that
    folder's key, or None when there are no rows. ``rows``, when the caller has counted them,
    spares the pass that looks for a first row.
    """
    if rows == 0 or (rows is None and df.isEmpty()):
        return None
    day = dt.datetime.now(dt.UTC).date().isoformat()
    key = join_key(QUARANTINE_PREFIX, name, f"run_date={day}", run_id)
    as_text = df.select(*(F.col(f"`{c}`").cast("string").alias(c) for c in df.columns))
    as_text.write.mode("overwrite").parquet(spark_location(store.uri(key)))
    return key
