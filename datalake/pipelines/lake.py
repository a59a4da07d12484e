"""Lake-wide operations behind the CLI: crawl, sync to the warehouse, status, and the demo flow."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable
from typing import Any

import pandas as pd

from datalake import runtime
from datalake.catalog.crawler import CrawlReport, LocalCrawler
from datalake.datasets import DATASETS, get_dataset
from datalake.runs import RunReport, list_runs, record_run
from datalake.settings import Settings, get_settings
from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key, split_table_key

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


def zone_database(zone: str, settings: Settings) -> str:
    """The catalog database of a zone."""
    return {"raw": settings.raw_database, "processed": settings.processed_database}[zone]


def crawl_zones(
    zones: list[str], settings: Settings | None = None, progress: Progress = _quiet
) -> list[CrawlReport]:
    """Run the local crawler over zones (on AWS the Glue crawlers do this; see crawlers/)."""
    settings = settings or get_settings()
    crawler = LocalCrawler(runtime.object_store("lake", settings), runtime.catalog(settings), progress)
    return [crawler.crawl(zone, zone_database(zone, settings)) for zone in zones]


SYNC_LEDGER_PREFIX = "_sync"


def _partition_files(store: ObjectStore, location: str) -> dict[str, list[str]]:
    """Data files of a processed table, grouped by partition path."""
    grouped: dict[str, list[str]] = {}
    for key in store.list_keys(location):
        if key.endswith(".parquet"):
            _root, partition, _name = split_table_key(key)
            grouped.setdefault(partition, []).append(key)
    return grouped


def sync_dataset(
    name: str,
    settings: Settings | None = None,
    progress: Progress = _quiet,
    partitions: list[str] | None = None,
    force: bool = False,
) -> RunReport:
    """Upsert a processed dataset's partitions into PostgreSQL and grant the read-only role.

    Only partitions whose files changed since their last sync are loaded (a ledger of file
    checksums under ``_sync/``), unless ``force``; ``partitions`` narrows the set further,
    as the S3-triggered Lambda does with the partitions an event touched.
    """
    from datalake.warehouse.connection import connection
    from datalake.warehouse.roles import ensure_reader_role
    from datalake.warehouse.sync import upsert_frame

    settings = settings or get_settings()
    spec = get_dataset(name)
    store = runtime.object_store("lake", settings)
    ledger_key = join_key(SYNC_LEDGER_PREFIX, f"{name}.json")
    ledger: dict[str, str] = store.get_json(ledger_key) if store.exists(ledger_key) else {}
    with record_run(f"sync_{name}", store, table=spec.warehouse_table) as report:
        files = _partition_files(store, spec.location)
        wanted = sorted(files if partitions is None else set(partitions) & set(files))
        totals = {"inserted": 0, "updated": 0, "unchanged": 0, "duplicates_superseded": 0}
        skipped = 0
        with connection(settings, autocommit=True) as conn:
            for partition in wanted:
                with report.timed("read"):
                    payloads = {key: store.get_bytes(key) for key in files[partition]}
                checksum = hashlib.sha256(b"".join(payloads[k] for k in sorted(payloads))).hexdigest()
                if not force and ledger.get(partition) == checksum:
                    skipped += 1
                    continue
                frame = pd.concat([pd.read_parquet(io.BytesIO(b)) for b in payloads.values()])
                report.rows_in += len(frame)
                with report.timed("upsert"):
                    result = upsert_frame(conn, spec, frame[spec.column_names])
                # Rows repeating a key within a load are superseded by its last row, and counted.
                report.rows_out += result.inserted + result.updated + result.unchanged
                report.rows_quarantined += result.duplicates
                for field_name, value in (
                    ("inserted", result.inserted),
                    ("updated", result.updated),
                    ("unchanged", result.unchanged),
                    ("duplicates_superseded", result.duplicates),
                ):
                    totals[field_name] += value
                ledger[partition] = checksum
                store.put_json(ledger_key, ledger)
                report.keys_written.append(f"{spec.warehouse_table}/{partition}")
                progress(
                    f"{name}/{partition}: {result.inserted} inserted, {result.updated} updated, "
                    f"{result.unchanged} unchanged"
                )
            ensure_reader_role(conn, settings.reader_role)
        report.details.update(totals, partitions_synced=len(wanted) - skipped, partitions_skipped=skipped)
        progress(f"{name}: {len(wanted) - skipped} partition(s) synced, {skipped} already up to date")
    return report


def sync_processed_keys(keys: list[str], settings: Settings | None = None) -> list[RunReport]:
    """Sync the partitions that new processed objects belong to (the S3-event path)."""
    touched: dict[str, set[str]] = {}
    for key in keys:
        root, partition, name = split_table_key(key)
        dataset = root.removeprefix("processed/")
        if root.startswith("processed/") and dataset in DATASETS and name.endswith(".parquet"):
            touched.setdefault(dataset, set()).add(partition)
    return [
        sync_dataset(dataset, settings, partitions=sorted(parts))
        for dataset, parts in sorted(touched.items())
    ]


def lake_status(settings: Settings | None = None, count_rows: bool = True) -> dict[str, Any]:
    """Tables with partitions and row counts, the latest runs, and the warehouse state."""
    settings = settings or get_settings()
    catalog = runtime.catalog(settings)
    engine = runtime.query_engine(settings) if count_rows else None
    tables = []
    for database in catalog.list_databases():
        for name in catalog.list_tables(database):
            table = catalog.get_table(database, name)
            rows: int | str = "-"
            if engine is not None:
                rows = int(engine.query(f'SELECT count(*) AS n FROM "{database}"."{name}"').iloc[0, 0])
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
    return {
        "runtime": settings.lake_runtime,
        "lake": runtime.object_store("lake", settings).uri(),
        "tables": tables,
        "runs": list_runs(runtime.object_store("lake", settings), limit=10),
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


def run_demo(
    start: dt.date, days: int, settings: Settings | None = None, console: Any = None
) -> dict[str, Any]:
    """The smoke flow on generated sample data; returns what it showed."""
    from datalake.pipelines.demand import process_raw_demand
    from datalake.sources.sample import SAMPLE_PREFIX, write_sample_raw
    from datalake.spark import check_java, get_spark

    settings = settings or get_settings()
    log: Progress = console.log if console is not None else _quiet
    check_java()  # fail before writing anything when Spark cannot start
    store = runtime.object_store("lake", settings)

    log(f"1/6 writing {days} days of generated SAMPLE demand to {store.uri(SAMPLE_PREFIX)}")
    with record_run("ingest_sample", store, start=start.isoformat(), days=days) as ingest:
        ingest.keys_written = write_sample_raw(store, start, days)
        ingest.rows_in = ingest.rows_out = len(ingest.keys_written)
    log(f"    {len(ingest.keys_written)} raw files")

    log("2/6 crawling the raw zone")
    crawl_zones(["raw"], settings, log)[0].raise_for_conflicts()

    log("3/6 Spark: raw -> processed demand_hourly (typed, checked, deduplicated)")
    spark = get_spark("demand_to_processed", settings.spark_master)
    with record_run("demand_to_processed", store, raw_prefix=SAMPLE_PREFIX) as job:
        process_raw_demand(spark, store, SAMPLE_PREFIX, job, progress=log)
    log(f"    {job.rows_in} in, {job.rows_out} out, {job.rows_quarantined} quarantined")

    log("4/6 crawling the processed zone")
    crawl_zones(["processed"], settings, log)[0].raise_for_conflicts()

    log("5/6 DuckDB over the catalog")
    daily: pd.DataFrame = runtime.query_engine(settings).query(
        "SELECT local_date, count(*) AS hours, round(avg(demand_mw), 1) AS avg_demand_mw, "
        "round(max(demand_mw), 1) AS peak_demand_mw FROM demand_hourly "
        "WHERE region = 'national' GROUP BY local_date ORDER BY local_date"
    )

    log("6/6 syncing demand_hourly into PostgreSQL")
    synced = sync_dataset("demand_hourly", settings, log)
    line = (
        f"{ingest.rows_out} raw files, {job.rows_out} rows processed, {job.rows_quarantined} quarantined, "
        f"{len(daily)} days queried, {synced.details['inserted']} inserted / "
        f"{synced.details['unchanged']} unchanged in PostgreSQL"
    )
    return {"daily": daily, "ingest": ingest, "job": job, "sync": synced, "line": line}
