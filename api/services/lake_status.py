"""GET /status: each registered source's last run and freshness, each job's latest run, and the
catalog's tables, read the way ``datalake status`` reads them (no row counts: those scan data)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from datalake import runtime
from datalake.pipelines.freshness import source_statuses
from datalake.pipelines.lake import catalog_tables
from datalake.runs import latest_runs
from datalake.settings import Settings


def lake_status(settings: Settings, catalog_factory: Callable[[], Any] | None = None) -> dict[str, Any]:
    """The report behind GET /status.

    Parameters
    ----------
    settings
        The API's settings (runtime, lake root or bucket, databases).
    catalog_factory
        The catalog to read (the runtime's by default; tests pass their own).

    Returns
    -------
    dict
        ``sources`` (one per registered source: schedule, last success, last run status,
        newest data, age in hours, expected lag, stale), ``runs`` (each job's newest run) and
        ``tables`` (database, table, partitions, format).
    """
    catalog = catalog_factory() if catalog_factory else runtime.catalog(settings)
    store = runtime.object_store("lake", settings)
    sources = []
    for status in source_statuses(settings, store=store, catalog=catalog):
        reading = status.freshness
        sources.append(
            {
                "source": status.source,
                "scheduled": list(status.scheduled),
                "last_success": status.last_success,
                "last_run_status": status.last_run_status,
                "table": reading.table if reading else None,
                "newest": reading.newest if reading else None,
                "age_hours": None
                if reading is None or reading.age_hours is None
                else round(reading.age_hours, 1),
                "expected_lag_hours": reading.expected_lag_hours if reading else None,
                "stale": reading.stale if reading else None,
            }
        )
    runs = [
        {
            "job": run.job,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "status": run.status,
            "rows_in": run.rows_in,
            "rows_out": run.rows_out,
            "rows_quarantined": run.rows_quarantined,
            "seconds": run.timings_s.get("total"),
        }
        for run in latest_runs(store)
    ]
    tables = sorted(catalog_tables(catalog), key=lambda table: (table["database"], table["table"]))
    return {"runtime": settings.lake_runtime, "sources": sources, "runs": runs, "tables": tables}
