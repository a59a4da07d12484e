"""Lake-wide operations behind the CLI: crawl, sync to the warehouse, status, and the demo flow."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from datalake import runtime
from datalake.catalog.base import Catalog
from datalake.catalog.crawler import CrawlReport, LocalCrawler
from datalake.catalog.processed import (
    CurrentPartition,
    catalog_for,
    current_partitions,
    current_table,
    data_files,
    register_processed,
)
from datalake.datasets import DATASETS, get_dataset
from datalake.datasets.spec import DatasetSpec
from datalake.errors import QueryError
from datalake.publishing import is_publish_marker, read_publish_marker
from datalake.runs import RunReport, latest_runs, record_run
from datalake.settings import Settings, get_settings
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key

if TYPE_CHECKING:
    import boto3

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


def zone_database(zone: str, settings: Settings) -> str:
    """The catalog database of a zone."""
    return {"raw": settings.raw_database, "processed": settings.processed_database}[zone]


#: The energy company's folder in each zone has its own databases and crawlers (crawlers/energy_*.json).
ENERGY_FOLDER = "energy_company"


def crawl_zones(
    zones: list[str], settings: Settings | None = None, progress: Progress = _quiet
) -> list[CrawlReport]:
    """Catalog zones: the raw zone is crawled, as the crawlers in crawlers/ do on AWS; the processed
    zone's tables are the dataset specs' (the jobs register them and their partitions when they
    publish), so ``processed`` brings each published table's definition in line with its spec.

    The raw zone is two crawls: the lake's tables (``energy_company/`` excluded) into
    ``raw_database``, and the energy company's into ``energy_raw_database``. Raw CSV drops are
    catalogued as text: their values are checked by the Glue job, not here.
    """
    settings = settings or get_settings()
    store = runtime.object_store("lake", settings)
    catalog = runtime.catalog(settings)
    crawler = LocalCrawler(store, catalog, progress)
    reports = []
    for zone in zones:
        if zone == "processed":
            reports += register_processed(catalog, store, DATASETS.values(), settings)
            continue
        energy = join_key(zone, ENERGY_FOLDER)
        reports.append(crawler.crawl(zone, zone_database(zone, settings), exclude=(energy,)))
        reports.append(crawler.crawl(energy, settings.energy_raw_database, csv_as_text=True))
    return reports


SYNC_LEDGER_PREFIX = "_sync"


def _published_partitions(
    store: ObjectStore, spec: DatasetSpec, settings: Settings
) -> dict[str, CurrentPartition]:
    """A processed dataset's current partitions by Hive path, as the catalog points at them."""
    catalog = catalog_for(store, settings)
    return {p.path: p for p in current_partitions(catalog, store, spec, settings)}


def _ledger_entry(entry: Any) -> dict[str, str]:
    """A sync ledger entry: ``{"location", "sha256"}``; an older ledger kept the checksum alone."""
    if isinstance(entry, dict):
        return entry
    return {"sha256": entry} if isinstance(entry, str) else {}


def _content_digest(payloads: list[bytes]) -> str:
    """One checksum of a partition's files whatever their names and order (each run names its files)."""
    digests = sorted(hashlib.sha256(data).hexdigest() for data in payloads)
    return hashlib.sha256("".join(digests).encode()).hexdigest()


def _partition_frame(spec: DatasetSpec, payloads: list[bytes]) -> pd.DataFrame:
    """The rows of a partition's files (the spec's columns; empty when it has none)."""
    if not payloads:
        return spec.arrow_schema().empty_table().to_pandas()
    tables = [pq.read_table(io.BytesIO(data)) for data in payloads]
    return pa.concat_tables(tables, promote_options="default").to_pandas()


def sync_dataset(
    name: str,
    settings: Settings | None = None,
    progress: Progress = _quiet,
    partitions: list[str] | None = None,
    force: bool = False,
) -> RunReport:
    """Mirror a processed dataset's partitions into PostgreSQL and grant the read-only role.

    Each partition's sync replaces exactly that partition's rows in one transaction (see
    :func:`~datalake.warehouse.sync.replace_rows`): new rows inserted, changed ones updated, rows
    no longer in its files (newly quarantined ones, say) deleted, equal ones left as they are.
    An unpartitioned table is replaced whole the same way. A partition's files are those in the
    folder the catalog points it at (never the table's other run folders), and only partitions
    the catalog points somewhere new since their last sync are read (a ledger of locations under
    ``_sync/``: published folders never change), and loaded when their bytes differ from the last
    synced ones (a re-run that wrote the same files loads nothing), unless ``force``;
    ``partitions`` narrows the set further, as the Lambda does with the partitions a publish
    switched. A partition synced before that the catalog no longer has (a run unpublished it:
    its raw is gone) loses its warehouse rows, in one transaction too.
    """
    from datalake.warehouse.connection import connection, password_verifier, reader_password
    from datalake.warehouse.roles import ensure_reader_role
    from datalake.warehouse.scope import check_in_scope, partition_scope
    from datalake.warehouse.sync import analyze_table, replace_rows

    settings = settings or get_settings()
    spec = get_dataset(name)
    store = runtime.object_store("lake", settings)
    ledger_key = join_key(SYNC_LEDGER_PREFIX, f"{name}.json")
    ledger: dict[str, Any] = store.get_json(ledger_key) if store.exists(ledger_key) else {}
    with record_run(f"sync_{name}", store, table=spec.warehouse_table) as report:
        # /ask logs in as the reader: its password (READER_SECRET_ARN on AWS) is set at every
        # sync, read first so that a secret the role cannot read fails before any upsert.
        password = reader_password(settings)
        published = _published_partitions(store, spec, settings)
        wanted = sorted(published if partitions is None else set(partitions) & set(published))
        totals = {"inserted": 0, "updated": 0, "deleted": 0, "unchanged": 0, "duplicates_superseded": 0}
        skipped = 0
        with connection(settings, autocommit=True) as conn:
            for partition in wanted:
                location = published[partition].location
                synced = _ledger_entry(ledger.get(partition))
                if not force and synced.get("location") == location:
                    skipped += 1
                    continue
                with report.timed("read"):
                    payloads = [store.get_bytes(key) for key in data_files(store, published[partition])]
                digest = _content_digest(payloads)
                if not force and synced.get("sha256") == digest:
                    # A run that wrote the same bytes again (a re-run): nothing to load.
                    ledger[partition] = {"location": location, "sha256": digest}
                    store.put_json(ledger_key, ledger)
                    skipped += 1
                    continue
                frame = _partition_frame(spec, payloads)
                report.rows_in += len(frame)
                scope = partition_scope(spec, partition)
                check_in_scope(spec, partition, scope, frame)
                with report.timed("upsert"):
                    result = replace_rows(conn, spec, frame[spec.column_names], scope)
                # Rows repeating a key within a load are superseded by its last row, and counted.
                report.rows_out += result.inserted + result.updated + result.unchanged
                report.rows_quarantined += result.duplicates
                totals["inserted"] += result.inserted
                totals["updated"] += result.updated
                totals["deleted"] += result.deleted
                totals["unchanged"] += result.unchanged
                totals["duplicates_superseded"] += result.duplicates
                ledger[partition] = {"location": location, "sha256": digest}
                store.put_json(ledger_key, ledger)
                report.keys_written.append(f"{spec.warehouse_table}/{partition}")
                progress(
                    f"{name}/{partition or '(whole table)'}: {result.inserted} inserted, "
                    f"{result.updated} updated, {result.deleted} deleted, {result.unchanged} unchanged"
                )
            gone = sorted(p for p in ledger if p not in published and (partitions is None or p in partitions))
            for partition in gone:
                with report.timed("upsert"):
                    result = replace_rows(
                        conn,
                        spec,
                        _partition_frame(spec, [])[spec.column_names],
                        partition_scope(spec, partition),
                    )
                totals["deleted"] += result.deleted
                del ledger[partition]
                store.put_json(ledger_key, ledger)
                report.keys_written.append(f"{spec.warehouse_table}/{partition}")
                progress(f"{name}/{partition}: unpublished, {result.deleted} deleted")
            if totals["inserted"] + totals["updated"] + totals["deleted"]:
                # Fresh statistics now, not at autovacuum's next pass: the first /ask after a
                # big load would otherwise be planned for the table's old size (a nested loop
                # over what the planner thinks is one row).
                with report.timed("analyze"):
                    analyze_table(conn, spec)
            # The verifier, not the clear text, goes into ALTER ROLE: nothing for a server log to keep.
            verifier = password_verifier(conn, settings.reader_role, password) if password else None
            ensure_reader_role(conn, settings.reader_role, verifier, schema="public", login=True)
        report.details.update(
            totals,
            partitions_synced=len(wanted) - skipped,
            partitions_skipped=skipped,
            partitions_removed=len(gone),
        )
        progress(f"{name}: {len(wanted) - skipped} partition(s) synced, {skipped} already up to date")
    return report


def sync_processed_keys(keys: list[str], settings: Settings | None = None) -> list[RunReport]:
    """Sync the partitions that publishes switched (the S3-event path).

    ``keys`` are objects created in the lake; publish markers
    (``processed/_published/<dataset>/<run>.json``, see :mod:`datalake.publishing`) name a dataset
    and the partitions a run switched, and each is synced from where the catalog points now.
    Other keys (a run's data files, written before its publish) are ignored: until the catalog
    points at them they are not the lake's data.
    """
    settings = settings or get_settings()
    store = runtime.object_store("lake", settings)
    touched: dict[str, set[str]] = {}
    for key in filter(is_publish_marker, keys):
        dataset, partitions = read_publish_marker(store, key)
        if get_dataset(dataset).warehouse_table:  # a table read from the lake only has no mirror
            touched.setdefault(get_dataset(dataset).name, set()).update(partitions)
    return [
        sync_dataset(dataset, settings, partitions=sorted(parts))
        for dataset, parts in sorted(touched.items())
    ]


def _run_job(
    job: str,
    process: Callable[..., RunReport],
    raw_prefix: str,
    settings: Settings | None,
    progress: Progress,
    full: bool = False,
    finish: Callable[[ObjectStore, RunReport, float], None] | None = None,
    boto3_session: boto3.session.Session | None = None,
) -> RunReport:
    """Run one Spark job and record it; a failure (a JVM that died included) is recorded, then raised.

    ``full`` makes the job ignore its ledger and reprocess every raw file. ``finish`` is called
    after a run that succeeded, before its report is written, with the store, the report and the
    seconds the run took (the run metrics).

    The session starts inside the recorded block, so a JVM that cannot start is a failed run too.
    """
    import time

    from datalake.spark import job_session
    from datalake.spark_failures import jvm_failures

    settings = settings or get_settings()
    store = runtime.object_store("lake", settings, boto3_session)
    started = time.perf_counter()
    with record_run(job, store, raw_prefix=raw_prefix) as report, jvm_failures():
        spark = job_session(job, settings)
        process(spark, store, raw_prefix, report, progress, full=full)
        if finish is not None:
            finish(store, report, time.perf_counter() - started)
    return report


def transform(
    source_name: str,
    raw_prefix: str | None = None,
    settings: Settings | None = None,
    progress: Progress = _quiet,
    full: bool = False,
    boto3_session: boto3.session.Session | None = None,
    **options: Any,
) -> RunReport:
    """Run a registered source's Glue job logic on Spark: raw files -> processed tables.

    The run ends by measuring how fresh the source is now (``details["freshness"]`` of its
    report) and, on the aws runtime, publishing that and the run's seconds as CloudWatch metrics
    (:func:`datalake.pipelines.freshness.record_run_metrics`).

    Parameters
    ----------
    source_name
        A registered source (:data:`datalake.sources.registry.SOURCES`): ``ree``, ``entsoe``, ...
    raw_prefix
        One of the source's raw prefixes (or a folder below one); its first when None.
    settings
        Lake settings; the process-wide ones when None.
    progress
        Called with a line per table written.
    full
        Reprocess every raw file, ignoring what earlier runs already processed.
    boto3_session
        Session for S3, Glue and CloudWatch on the aws runtime.
    **options
        The source's own options, typed (the energy company's ``day``).

    Returns
    -------
    RunReport
        The ``<source>_to_processed`` run: rows in, out and quarantined, keys written.

    Raises
    ------
    UnknownSourceError, ConfigurationError
        For a source that is not registered, a raw prefix it does not read, or an option it lacks.
    """
    from functools import partial

    from datalake.pipelines.freshness import record_run_metrics
    from datalake.pipelines.source_jobs import process_source
    from datalake.sources.registry import get_source

    source = get_source(source_name)
    prefix = source.check_raw_prefix(raw_prefix)
    settings = settings or get_settings()
    keywords = source.process_keywords(settings, options)
    process = partial(process_source, source, **keywords)

    def finish(store: ObjectStore, report: RunReport, seconds: float) -> None:
        record_run_metrics(
            source, report, seconds, settings, store=store, boto3_session=boto3_session, progress=progress
        )

    return _run_job(source.run_name, process, prefix, settings, progress, full, finish, boto3_session)


def sync_all(
    settings: Settings | None = None, progress: Progress = _quiet, force: bool = False
) -> list[RunReport]:
    """Sync every dataset served from the warehouse (``warehouse_table`` set) that has processed data
    (only partitions not yet synced, unless ``force``)."""
    settings = settings or get_settings()
    store = runtime.object_store("lake", settings)
    catalog = catalog_for(store, settings)
    return [
        sync_dataset(name, settings, progress, force=force)
        for name, spec in sorted(DATASETS.items())
        if spec.warehouse_table and current_table(catalog, spec, settings) is not None
    ]


def catalog_tables(
    catalog: Catalog, engine: Any = None, uncounted: Collection[str] = ()
) -> list[dict[str, Any]]:
    """Every table of every database: format, partition count, location, and its row count when
    ``engine`` is given (``"-"`` without one, or for the databases in ``uncounted``: counting
    scans the data, and a raw zone's JSON is read file by file)."""
    tables = []
    for database in catalog.list_databases():
        for name in catalog.list_tables(database):
            table = catalog.get_table(database, name)
            rows: int | str = "-"
            if engine is not None and database not in uncounted:
                try:
                    rows = int(engine.query(f'SELECT count(*) AS n FROM "{database}"."{name}"').iloc[0, 0])
                except QueryError as error:
                    # Raw CSV drops mix encodings and delimiters that one DuckDB scan cannot read.
                    rows = f"unreadable ({error.engine_message.splitlines()[0][:60]})"
            tables.append(
                {
                    "database": database,
                    "table": name,
                    "format": table.format,
                    "partitions": len(catalog.list_partitions(database, name)),
                    "rows": rows,
                    "location": table.location,
                }
            )
    return tables


def lake_status(
    settings: Settings | None = None, count_rows: bool = True, count_raw: bool = True
) -> dict[str, Any]:
    """Tables with partitions and row counts (the raw zones' too unless ``count_raw`` is False),
    each job's latest run, each source's last success and freshness, and the warehouse state."""
    settings = settings or get_settings()
    catalog = runtime.catalog(settings)
    engine = runtime.query_engine(settings) if count_rows else None
    raw = () if count_raw else (settings.raw_database, settings.energy_raw_database)
    tables = catalog_tables(catalog, engine, raw)
    from datalake.pipelines.freshness import source_statuses

    store = runtime.object_store("lake", settings)
    return {
        "runtime": settings.lake_runtime,
        "lake": store.uri(),
        "tables": tables,
        "runs": latest_runs(store),
        "sources": source_statuses(settings, store=store, catalog=catalog),
        "warehouse": _warehouse_state(settings),
    }


def _warehouse_state(settings: Settings) -> str:
    if settings.database_url:
        from datalake.warehouse.connection import describe_target

        return f"external {describe_target(settings.database_url)}"
    if settings.lake_runtime == "aws":
        return "RDS (credentials from Secrets Manager)"
    from datalake.warehouse.server import EmbeddedPostgres

    state = EmbeddedPostgres(settings.pg_data_dir).status()
    return (
        f"embedded, {'running at ' + state['url'] if state['running'] else 'stopped'} ({state['data_dir']})"
    )
