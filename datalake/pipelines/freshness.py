"""How fresh each source's processed data is, and the run metrics a processing run publishes.

A source that declares :class:`~datalake.sources.registry.Freshness` is stale when the newest value
of its table's date column (its own rows only, where it shares the table) is older than its
expected lag. Every processing run ends by measuring that (:func:`record_run_metrics`): the run
report keeps the reading on every runtime, and on the aws runtime the reading and the run's
duration also go to CloudWatch as custom metrics, which the freshness alarms and the operations
dashboard read (cloudformation/monitoring.yaml). ``datalake status`` reads the same way, now.

Reading the newest value touches the catalog and the newest partitions' Parquet files only (one or
two columns), never Spark: the Glue driver and the CLI both do it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from datalake import aws, runtime
from datalake.catalog.base import Catalog
from datalake.catalog.processed import CurrentPartition, current_partitions, data_files
from datalake.runs import RunReport, as_utc, failure_reason, utc_now
from datalake.settings import Settings
from datalake.sources.registry import SourceSpec
from datalake.storage.base import ObjectStore
from datalake.storage.paths import parse_partition

if TYPE_CHECKING:
    import boto3

Progress = Callable[[str], None]

#: Hours between a source's newest processed value and the end of its processing run.
DATA_AGE_METRIC = "DataAgeHours"
#: Seconds a processing run took (the Glue job's duration as the job itself measured it).
RUN_SECONDS_METRIC = "ProcessingSeconds"
#: The one dimension of both: the source's registered name.
SOURCE_DIMENSION = "Source"
#: Every metric a processing run publishes: alarms and dashboards may read these and no others.
PUBLISHED_METRICS = (DATA_AGE_METRIC, RUN_SECONDS_METRIC)


@dataclass(frozen=True)
class FreshnessReading:
    """How fresh one source's processed data was at ``checked_at``.

    Attributes
    ----------
    source, table, column
        The source, and the table and column its freshness is read from.
    newest
        The newest value (ISO date or UTC timestamp), None when the table holds none of its rows.
    age_hours
        Hours from ``newest`` (a date counts from its start, UTC) to ``checked_at``; None with it.
    expected_lag_hours
        The source's expected lag.
    checked_at
        When it was read (UTC, ISO).
    """

    source: str
    table: str
    column: str
    newest: str | None
    age_hours: float | None
    expected_lag_hours: int
    checked_at: str

    @property
    def stale(self) -> bool:
        """Older than the expected lag, or no data at all."""
        return self.age_hours is None or self.age_hours > self.expected_lag_hours

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stale": self.stale}


def _as_instant(value: Any) -> dt.datetime:
    """A date (its start, UTC) or a timestamp (naive ones are UTC, as the lake stores them)."""
    if isinstance(value, dt.datetime):
        return as_utc(value)
    return dt.datetime.combine(value, dt.time(0), dt.UTC)


def _partition_order(partition: CurrentPartition) -> tuple[Any, ...]:
    """A partition's values as numbers where they are (``month=10`` after ``month=9``)."""
    values = parse_partition(partition.path).values()
    return tuple((0, int(v)) if v.lstrip("-").isdigit() else (1, v) for v in values)


def _newest_in(
    store: ObjectStore, partition: CurrentPartition, column: str, owner: tuple[str, Sequence[str]] | None
) -> Any:
    """The newest value of ``column`` among one partition's rows (of ``owner``'s values when given)."""
    newest = None
    for key in data_files(store, partition):
        columns = [column, owner[0]] if owner else [column]
        table = pq.read_table(io.BytesIO(store.get_bytes(key)), columns=columns)
        if owner:
            table = table.filter(pc.is_in(table[owner[0]], value_set=pa.array(list(owner[1]))))
        found = pc.max(table[column]).as_py() if table.num_rows else None
        if found is not None and (newest is None or _as_instant(found) > _as_instant(newest)):
            newest = found
    return newest


def newest_value(source: SourceSpec, store: ObjectStore, catalog: Catalog, settings: Settings) -> Any:
    """The newest value of the source's freshness column among its rows, as published now.

    A table partitioned by that column is read from its newest partition back, stopping at the
    first holding one of the source's rows; any other table is read whole (that one column).

    Returns
    -------
    datetime.date, datetime.datetime or None
        None when the source declares no freshness, or the table holds none of its rows yet.
    """
    freshness = source.freshness
    if freshness is None:
        return None
    spec = freshness.dataset
    owner = (source.owner_column, source.owner_values) if source.owner_values else None
    partitions = current_partitions(catalog, store, spec, settings)
    by_date = bool(spec.partition_by) and spec.partition_source == freshness.column
    if by_date:
        # The partition values derive from the column: the newest partition holding a row wins.
        for partition in sorted(partitions, key=_partition_order, reverse=True):
            found = _newest_in(store, partition, freshness.column, owner)
            if found is not None:
                return found
        return None
    found = [_newest_in(store, p, freshness.column, owner) for p in partitions]
    return max((value for value in found if value is not None), key=_as_instant, default=None)


def read_freshness(
    source: SourceSpec,
    store: ObjectStore,
    catalog: Catalog,
    settings: Settings,
    now: dt.datetime | None = None,
) -> FreshnessReading | None:
    """How fresh ``source`` is at ``now`` (the clock by default); None when it declares no freshness."""
    freshness = source.freshness
    if freshness is None:
        return None
    now = as_utc(now or utc_now())
    newest = newest_value(source, store, catalog, settings)
    age = None if newest is None else round((now - _as_instant(newest)) / dt.timedelta(hours=1), 2)
    return FreshnessReading(
        source=source.name,
        table=freshness.dataset.name,
        column=freshness.column,
        newest=None if newest is None else newest.isoformat(),
        age_hours=age,
        expected_lag_hours=freshness.expected_lag_hours,
        checked_at=now.isoformat(timespec="seconds"),
    )


def metric_data(source: str, reading: FreshnessReading | None, run_seconds: float) -> list[dict[str, Any]]:
    """The ``MetricData`` of one processing run: its duration, and its source's data age when known."""
    dimensions = [{"Name": SOURCE_DIMENSION, "Value": source}]
    data: list[dict[str, Any]] = [
        {"MetricName": RUN_SECONDS_METRIC, "Dimensions": dimensions, "Value": run_seconds, "Unit": "Seconds"}
    ]
    if reading is not None and reading.age_hours is not None:
        data.append(
            {
                "MetricName": DATA_AGE_METRIC,
                "Dimensions": dimensions,
                "Value": reading.age_hours,
                "Unit": "None",
            }
        )
    return data


def publish_metrics(
    data: list[dict[str, Any]],
    settings: Settings,
    boto3_session: boto3.session.Session | None = None,
    client: Any | None = None,
) -> None:
    """Put ``data`` in CloudWatch under ``settings.metrics_namespace`` (the namespace IAM allows)."""
    client = client or aws.client("cloudwatch", boto3_session, settings)
    client.put_metric_data(Namespace=settings.metrics_namespace, MetricData=data)


def record_run_metrics(
    source: SourceSpec,
    report: RunReport,
    run_seconds: float,
    settings: Settings,
    *,
    store: ObjectStore | None = None,
    boto3_session: boto3.session.Session | None = None,
    progress: Progress | None = None,
) -> None:
    """End a processing run: its source's freshness into the report; on AWS, both metrics to CloudWatch.

    The run's data is published by then, so a failure here fails nothing: it is recorded as
    ``details["metrics_error"]``, and the metric that did not arrive makes the freshness alarm
    fire (it treats missing data as breaching).

    Parameters
    ----------
    source
        The source the run processed.
    report
        Its run report (``details["freshness"]`` gets the reading, when the source declares one).
    run_seconds
        How long the run took so far.
    settings
        Lake settings: the runtime decides whether CloudWatch is called.
    store
        The lake; the runtime's when None.
    boto3_session
        Session for S3, Glue and CloudWatch on the aws runtime.
    progress
        Called with one line saying how fresh the source is.
    """
    try:
        store = store or runtime.object_store("lake", settings, boto3_session)
        reading = read_freshness(source, store, runtime.catalog(settings, boto3_session), settings)
        if reading is not None:
            report.details["freshness"] = reading.to_dict()
            if progress:
                progress(freshness_line(reading))
        if settings.lake_runtime == "aws":
            publish_metrics(metric_data(source.name, reading, round(run_seconds, 3)), settings, boto3_session)
            report.details["metrics_namespace"] = settings.metrics_namespace
    except Exception as error:  # the run's data stands; the missing metric raises the alarm
        report.details["metrics_error"] = failure_reason(error)
        if progress:
            progress(f"{source.name}: run metrics not recorded ({report.details['metrics_error']})")


def freshness_line(reading: FreshnessReading) -> str:
    """One line: the newest value, its age against the expected lag, and whether that is stale."""
    if reading.age_hours is None:
        return f"{reading.source}: no rows in {reading.table} yet (stale)"
    verdict = "STALE" if reading.stale else "fresh"
    return (
        f"{reading.source}: newest {reading.table}.{reading.column} {reading.newest}, "
        f"{reading.age_hours:,.1f} h old (expected within {reading.expected_lag_hours} h): {verdict}"
    )


@dataclass(frozen=True)
class SourceStatus:
    """One source's line of ``datalake status``.

    Attributes
    ----------
    source
        The registered source.
    scheduled
        Its scheduled Lambdas (empty: its data arrives by hand or by event).
    last_success
        When its newest succeeded processing run (``<name>_to_processed``) finished (UTC, ISO), or None.
    last_run_status
        The status of its newest processing run of all (``failed`` after a success shows here).
    freshness
        How fresh it is now; None when it declares no expected lag.
    """

    source: str
    scheduled: tuple[str, ...]
    last_success: str | None
    last_run_status: str | None
    freshness: FreshnessReading | None


def source_statuses(
    settings: Settings,
    *,
    store: ObjectStore | None = None,
    catalog: Catalog | None = None,
    now: dt.datetime | None = None,
    runs_read: int = 50,
) -> list[SourceStatus]:
    """Every registered source's last successful processing run, newest data and freshness.

    Parameters
    ----------
    settings
        Lake settings.
    store, catalog
        The lake and its catalog; the runtime's when None.
    now
        The time ages are counted to; the clock by default.
    runs_read
        How many of a source's newest run reports are read looking for its last success.
    """
    from datalake.runs import list_runs
    from datalake.sources import registry

    store = store or runtime.object_store("lake", settings)
    catalog = catalog or runtime.catalog(settings)
    statuses = []
    for source in registry.SOURCES.values():
        runs = list_runs(store, source.run_name, limit=runs_read)
        succeeded = next((r for r in runs if r.status == "succeeded"), None)
        statuses.append(
            SourceStatus(
                source=source.name,
                scheduled=tuple(function.name for function in source.scheduled_lambdas),
                last_success=(succeeded.finished_at or succeeded.started_at) if succeeded else None,
                last_run_status=runs[0].status if runs else None,
                freshness=read_freshness(source, store, catalog, settings, now),
            )
        )
    return statuses
