"""What the API served: ``forecast_requests`` (a row per response) and ``predictions`` (the hours).

The same model on the same data gives the same forecast, so the hourly values are written
once per (model version, data cut-off, hour); every response adds one row to
``forecast_requests`` naming the model, the cut-off and the horizon it served.

Actuals come from ``demand_hourly`` (national), per hour the preferred source: ree, then
entsoe, then sample. A prediction whose hour has no actual yet has no error.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import sql
from psycopg.errors import UndefinedTable

from api.services.db import Database
from datalake.datasets import FORECAST_REQUESTS, PREDICTIONS
from datalake.forecasting.data import SOURCE_PREFERENCE
from datalake.warehouse.ddl import ensure_table

logger = logging.getLogger(__name__)

MADRID = ZoneInfo("Europe/Madrid")
HOUR = dt.timedelta(hours=1)
#: Forecasts whose hours this process knows are written (so it does not send them again).
WRITTEN_MEMORY = 256

# One statement for any number of rows: columns travel as arrays.
_INSERT_HOURS = sql.SQL(
    "INSERT INTO {table} (model_version, data_cutoff, ts_utc, origin, horizon_h, p10_mw, p50_mw, p90_mw,"
    " served_by, first_served_at)"
    " SELECT * FROM unnest(%(model_version)s::text[], %(data_cutoff)s::timestamptz[], %(ts)s::timestamptz[],"
    " %(origin)s::timestamptz[], %(h)s::int[], %(p10)s::float8[], %(p50)s::float8[], %(p90)s::float8[],"
    " %(served_by)s::text[], %(served_at)s::timestamptz[])"
    " ON CONFLICT DO NOTHING"
).format(table=sql.Identifier(PREDICTIONS.warehouse_table or "predictions"))
_INSERT_REQUESTS = sql.SQL(
    "INSERT INTO {table} (request_id, served_at, model_version, data_cutoff, horizon_hours, served_by,"
    " request_source)"
    " SELECT * FROM unnest(%(request_id)s::text[], %(served_at)s::timestamptz[], %(model_version)s::text[],"
    " %(data_cutoff)s::timestamptz[], %(horizon)s::int[], %(served_by)s::text[], %(request_source)s::text[])"
    " ON CONFLICT DO NOTHING"
).format(table=sql.Identifier(FORECAST_REQUESTS.warehouse_table or "forecast_requests"))

# The preferred source's demand for each prediction's hour (one index probe per row).
_ACTUAL = sql.SQL(
    "LEFT JOIN LATERAL (SELECT d.demand_mw FROM demand_hourly d"
    " WHERE d.ts_utc = p.ts_utc AND d.region = 'national' AND d.demand_mw IS NOT NULL"
    " ORDER BY array_position({preference}, d.source::text) LIMIT 1) a ON true"
).format(preference=sql.Literal(list(SOURCE_PREFERENCE)))
_NO_ACTUAL = sql.SQL("LEFT JOIN (SELECT NULL::float8 AS demand_mw) a ON true")


@dataclass(frozen=True)
class ServedRecord:
    """One served forecast waiting to be written."""

    answer: dict[str, Any]
    served_by: str
    request_source: str
    served_at: dt.datetime
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def key(self) -> tuple[str, str, int]:
        """(model version, data cut-off, hours): what identifies the forecast's values."""
        return (self.answer["model_version"], self.answer["data_cutoff"], len(self.answer["points"]))


@dataclass(frozen=True)
class PredictionFilter:
    """Which predictions to list: by model version, by Madrid day of the forecast hour, by actual."""

    model_version: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    has_actual: bool | None = None


class PredictionStore:
    """Writes ``forecast_requests`` and ``predictions``, and reads predictions back with their errors.

    :meth:`enqueue` hands a served forecast to a writer thread that writes whatever has
    piled up every ``flush_interval_s``, in one transaction: the request does not wait for
    the database, and a busy API writes one transaction for many responses. Under Lambda
    the route flushes before the invocation ends (a frozen container runs no thread). What
    is queued when a process dies is lost; a full queue drops new records (and says so).

    Parameters
    ----------
    database
        The pool.
    flush_interval_s
        How long the writer collects records before writing them.
    max_pending
        Records the queue holds at most.
    """

    def __init__(
        self, database: Database, *, flush_interval_s: float = 0.2, max_pending: int = 10_000
    ) -> None:
        self.database = database
        self.flush_interval_s = flush_interval_s
        self._ready = False
        self._lock = threading.Lock()
        self._queue: queue.Queue[ServedRecord] = queue.Queue(maxsize=max_pending)
        self._writer: threading.Thread | None = None
        self._written_keys: OrderedDict[tuple[str, str, int], None] = OrderedDict()
        #: Responses written, and dropped (full queue or failed write), since the process started.
        self.written = 0
        self.dropped = 0

    def ensure(self) -> None:
        """Create both tables (and the index on the forecast hour) once per process."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            with self.database.connection() as conn:
                ensure_table(conn, PREDICTIONS)
                ensure_table(conn, FORECAST_REQUESTS)
                conn.execute("CREATE INDEX IF NOT EXISTS predictions_ts_utc_idx ON predictions (ts_utc)")
                conn.execute(
                    "CREATE INDEX IF NOT EXISTS forecast_requests_forecast_idx"
                    " ON forecast_requests (model_version, data_cutoff)"
                )
            self._ready = True

    # -- writing ---------------------------------------------------------------------------------

    def log(
        self,
        answer: dict[str, Any],
        *,
        served_by: str,
        request_source: str,
        served_at: dt.datetime | None = None,
    ) -> int:
        """Write one served forecast now; returns the prediction rows it added.

        Parameters
        ----------
        answer
            What :func:`datalake.forecasting.serving.forecast` (or the endpoint) returned.
        served_by
            ``in_process`` or ``endpoint:<name>``.
        request_source
            ``http`` (uvicorn) or ``apigateway`` (Lambda).
        served_at
            When it was served; now by default.
        """
        record = ServedRecord(answer, served_by, request_source, served_at or dt.datetime.now(dt.UTC))
        return self._write([record])

    def enqueue(
        self,
        answer: dict[str, Any],
        *,
        served_by: str,
        request_source: str,
        served_at: dt.datetime | None = None,
    ) -> bool:
        """Queue a served forecast for the writer thread; False when the queue is full (dropped)."""
        record = ServedRecord(answer, served_by, request_source, served_at or dt.datetime.now(dt.UTC))
        self._start_writer()
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1
            logger.error(
                "forecast log queue full (%d): dropped the forecast served at %s",
                self._queue.maxsize,
                record.served_at.isoformat(),
            )
            return False
        return True

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far is written (or dropped); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._queue.all_tasks_done.wait(left)
        return True

    def close(self) -> None:
        """Write what is queued (process shutdown); the daemon writer then idles."""
        self.flush()

    def _start_writer(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            return
        with self._lock:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._drain, name="forecast-log-writer", daemon=True)
                self._writer.start()

    def _drain(self) -> None:
        while True:
            first = self._queue.get()
            # Collect for a moment: one transaction for everything that arrives meanwhile.
            time.sleep(self.flush_interval_s)
            batch = [first]
            while len(batch) < 5000:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(batch)
            except Exception as error:  # the writer must outlive a database outage
                self.dropped += len(batch)
                logger.error("could not log %d served forecast(s): %s", len(batch), error)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _write(self, records: list[ServedRecord]) -> int:
        self.ensure()
        requests = _columns(("request_id", "served_at", "model_version", "data_cutoff", "horizon",
                             "served_by", "request_source"))  # fmt: skip
        hours = _columns(("model_version", "data_cutoff", "ts", "origin", "h", "p10", "p50", "p90",
                          "served_by", "served_at"))  # fmt: skip
        new_keys = []
        for record in records:
            answer = record.answer
            cutoff = dt.datetime.fromisoformat(answer["data_cutoff"])
            for name, value in (
                ("request_id", record.request_id),
                ("served_at", record.served_at),
                ("model_version", answer["model_version"]),
                ("data_cutoff", cutoff),
                ("horizon", len(answer["points"])),
                ("served_by", record.served_by),
                ("request_source", record.request_source),
            ):
                requests[name].append(value)
            if record.key in self._written_keys or record.key in new_keys:
                continue  # its hours are in the table already
            new_keys.append(record.key)
            origin = dt.datetime.fromisoformat(answer["origin"])
            for point in answer["points"]:
                stamp = dt.datetime.fromisoformat(point["ts_utc"])
                for name, value in (
                    ("model_version", answer["model_version"]),
                    ("data_cutoff", cutoff),
                    ("ts", stamp),
                    ("origin", origin),
                    ("h", round((stamp - cutoff) / HOUR)),
                    ("p10", float(point["p10_mw"])),
                    ("p50", float(point["p50_mw"])),
                    ("p90", float(point["p90_mw"])),
                    ("served_by", record.served_by),
                    ("served_at", record.served_at),
                ):
                    hours[name].append(value)
        with self.database.connection() as conn, conn.transaction():
            added = conn.execute(_INSERT_HOURS, hours).rowcount if hours["ts"] else 0
            conn.execute(_INSERT_REQUESTS, requests)
        for key in new_keys:
            self._written_keys[key] = None
            while len(self._written_keys) > WRITTEN_MEMORY:
                self._written_keys.popitem(last=False)
        self.written += len(records)
        return added

    # -- reading ---------------------------------------------------------------------------------

    def page(self, where: PredictionFilter, *, limit: int, offset: int) -> dict[str, Any]:
        """One page of predictions (newest data cut-off first), with actuals and errors.

        Returns
        -------
        dict
            ``items`` (``model_version``, ``data_cutoff``, ``ts_utc``, ``ts_local``,
            ``horizon_h``, ``p10_mw``/``p50_mw``/``p90_mw``, ``served_by``, ``first_served_at``,
            ``times_served``, ``actual_mw``, ``error_mw`` = p50 - actual, ``ape_pct``,
            ``in_band``), ``total`` (matching rows), and ``summary`` over every matching row
            with an actual (``with_actual``, ``mae_mw``, ``mape_pct``, ``band_coverage``).
        """
        self.ensure()
        self.flush(timeout=5.0)  # this process's own recent forecasts are listed too
        conditions, params = _conditions(where)
        with self.database.connection() as conn:
            has_actuals = conn.execute("SELECT to_regclass('public.demand_hourly') IS NOT NULL").fetchone()
            actual = _ACTUAL if has_actuals and has_actuals[0] else _NO_ACTUAL
            if where.has_actual is not None:
                conditions.append(
                    sql.SQL("a.demand_mw IS NOT NULL" if where.has_actual else "a.demand_mw IS NULL")
                )
            clause = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
            base = sql.SQL("FROM predictions p {actual}{clause}").format(actual=actual, clause=clause)
            try:
                rows = conn.execute(
                    sql.SQL(
                        "SELECT p.model_version, p.data_cutoff, p.ts_utc, p.horizon_h, p.p10_mw, p.p50_mw,"
                        " p.p90_mw, p.served_by, p.first_served_at, a.demand_mw,"
                        " (SELECT count(*) FROM forecast_requests r WHERE r.model_version = p.model_version"
                        "  AND r.data_cutoff = p.data_cutoff AND r.horizon_hours >= p.horizon_h) {base}"
                        " ORDER BY p.data_cutoff DESC, p.model_version, p.ts_utc"
                        " LIMIT %(limit)s OFFSET %(offset)s"
                    ).format(base=base),
                    {**params, "limit": limit, "offset": offset},
                ).fetchall()
                total, with_actual, mae, mape, covered = conn.execute(
                    sql.SQL(
                        "SELECT count(*), count(a.demand_mw), avg(abs(p.p50_mw - a.demand_mw)),"
                        " avg(abs(p.p50_mw - a.demand_mw) / a.demand_mw) * 100,"
                        " avg(CASE WHEN a.demand_mw BETWEEN p.p10_mw AND p.p90_mw THEN 1.0 ELSE 0.0 END)"
                        " FILTER (WHERE a.demand_mw IS NOT NULL) {base}"
                    ).format(base=base),
                    params,
                ).fetchone() or (0, 0, None, None, None)
            except UndefinedTable:  # dropped under us; ensure() runs again next time
                self._ready = False
                self._written_keys.clear()
                rows, total, with_actual, mae, mape, covered = [], 0, 0, None, None, None
        return {
            "items": [_item(row) for row in rows],
            "total": int(total),
            "summary": {
                "with_actual": int(with_actual),
                "mae_mw": _rounded(mae, 1),
                "mape_pct": _rounded(mape, 2),
                "band_coverage": _rounded(covered, 3),
            },
        }


def madrid_day_start(day: dt.date) -> dt.datetime:
    """The UTC instant a Madrid calendar day starts."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=MADRID).astimezone(dt.UTC)


def _columns(names: tuple[str, ...]) -> dict[str, list[Any]]:
    return {name: [] for name in names}


def _conditions(where: PredictionFilter) -> tuple[list[sql.Composable], dict[str, Any]]:
    conditions: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if where.model_version:
        conditions.append(sql.SQL("p.model_version = %(model)s"))
        params["model"] = where.model_version
    if where.date_from:
        conditions.append(sql.SQL("p.ts_utc >= %(start)s"))
        params["start"] = madrid_day_start(where.date_from)
    if where.date_to and where.date_to < dt.date.max:  # the last representable day bounds nothing
        conditions.append(sql.SQL("p.ts_utc < %(end)s"))
        params["end"] = madrid_day_start(where.date_to + dt.timedelta(days=1))
    return conditions, params


def _rounded(value: Any, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def _item(row: tuple[Any, ...]) -> dict[str, Any]:
    version, cutoff, ts, horizon, p10, p50, p90, served_by, first_served_at, actual, times_served = row
    error = None if actual is None else p50 - actual
    return {
        "model_version": version,
        "data_cutoff": cutoff,
        "ts_utc": ts,
        "ts_local": ts.astimezone(MADRID),
        "horizon_h": horizon,
        "p10_mw": p10,
        "p50_mw": p50,
        "p90_mw": p90,
        "served_by": served_by,
        "first_served_at": first_served_at,
        "times_served": int(times_served),
        "actual_mw": actual,
        "error_mw": None if error is None else round(error, 1),
        "ape_pct": None if error is None or not actual else round(abs(error) / actual * 100, 2),
        "in_band": None if actual is None else bool(p10 <= actual <= p90),
    }
