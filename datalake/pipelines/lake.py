"""Lake-wide operations behind the CLI: crawl, sync to the warehouse, status, and the demo flow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd

from datalake import runtime
from datalake.catalog.crawler import CrawlReport, LocalCrawler
from datalake.datasets import get_dataset
from datalake.runs import RunReport, list_runs, record_run
from datalake.settings import Settings, get_settings

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


def sync_dataset(name: str, settings: Settings | None = None, progress: Progress = _quiet) -> RunReport:
    """Upsert a processed dataset into PostgreSQL and grant the read-only role on it."""
    from datalake.warehouse.connection import connection
    from datalake.warehouse.roles import ensure_reader_role
    from datalake.warehouse.sync import upsert_frame

    settings = settings or get_settings()
    spec = get_dataset(name)
    store = runtime.object_store("lake", settings)
    with record_run(f"sync_{name}", store, table=spec.warehouse_table) as report:
        with report.timed("read"):
            frame = store.read_parquet(spec.location)
            report.rows_in = len(frame)
        progress(f"{name}: {len(frame)} rows read from {store.uri(spec.location)}")
        with report.timed("upsert"), connection(settings, autocommit=True) as conn:
            result = upsert_frame(conn, spec, frame[spec.column_names])
            ensure_reader_role(conn, settings.reader_role)
        # Rows repeating a key within the load are superseded by its last row, not lost silently.
        report.rows_out = result.inserted + result.updated + result.unchanged
        report.rows_quarantined = result.duplicates
        report.details.update(
            inserted=result.inserted,
            updated=result.updated,
            unchanged=result.unchanged,
            duplicates_superseded=result.duplicates,
        )
        progress(
            f"{name}: {result.inserted} inserted, {result.updated} updated, {result.unchanged} unchanged"
        )
    return report


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
