"""I/O shared by the job scripts: job arguments, and writing processed and quarantined rows."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import sys
from collections.abc import Callable, Mapping, MutableMapping, Sequence

import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame

from datalake.datasets.spec import DatasetSpec
from datalake.settings import Settings, get_settings
from datalake.storage.base import ObjectStore
from datalake.storage.paths import hive_path, join_key

QUARANTINE_PREFIX = "quarantine"


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


def write_processed(
    df: DataFrame,
    spec: DatasetSpec,
    store: ObjectStore,
    progress: Callable[[str], None] | None = None,
) -> list[str]:
    """Replace each partition that ``df`` touches, atomically, with one sorted Parquet file.

    Partitions the frame does not touch are left alone, so re-running a window rewrites
    the same keys and nothing else.
    """
    partition_names = [p.name for p in spec.partition_by]
    frame = df.select(*spec.column_names, *partition_names).toPandas()
    schema = spec.arrow_schema()
    keys: list[str] = []
    groups = frame.groupby(partition_names, sort=True) if partition_names else [((), frame)]
    for values, rows in groups:
        values = values if isinstance(values, tuple) else (values,)
        partition = hive_path(dict(zip(partition_names, values, strict=True)))
        if spec.time_column:
            rows = rows.sort_values([spec.time_column, *spec.primary_key])
        table = pa.Table.from_pandas(rows[spec.column_names], schema=schema, preserve_index=False)
        keys += store.replace_partition(spec.location, partition, {"part-00000.parquet": table})
        if progress:
            progress(f"{spec.name}/{partition}: {len(rows)} rows")
    return keys


def delete_processed_partitions(
    spec: DatasetSpec, store: ObjectStore, partitions: Sequence[Mapping[str, object]]
) -> list[str]:
    """Remove whole partitions of a processed table (``{"year": 2024, "month": 3}``; ``{}``: the table).

    For a run whose rewrite left a partition with no rows (its raw was deleted): a frame
    cannot touch a partition it has no row for. Returns the partition paths removed.
    """
    removed = []
    for values in partitions:
        path = hive_path(dict(values))
        if store.list_keys(join_key(spec.location, path)):
            store.delete_prefix(join_key(spec.location, path))
            removed.append(path)
    return removed


def write_quarantine(df: DataFrame | pd.DataFrame, name: str, store: ObjectStore, run_id: str) -> str | None:
    """Write quarantined rows (every column as text, plus ``reason``) of one dataset (or source) and run.

    ``df`` may be a pandas frame already collected (to count it without a second Spark job).
    """
    frame: pd.DataFrame = df if isinstance(df, pd.DataFrame) else df.toPandas()
    if frame.empty:
        return None
    frame = frame.astype("string")
    day = dt.datetime.now(dt.UTC).date().isoformat()
    key = join_key(QUARANTINE_PREFIX, name, f"run_date={day}", f"{run_id}.parquet")
    store.write_parquet(key, frame)
    return key
