"""Rollups the warehouse keeps of a table, rewritten in the same transaction as each load of it.

``demand_daily`` holds ``demand_hourly`` per Europe/Madrid day and region: the sum and the hour
count of the demand and of the operator's forecast, each hour taken from its preferred source
(:data:`datalake.datasets.DEMAND_SOURCE_PREFERENCE`, the rule /ask's hourly SQL applies), with
the generated sample rows summed apart. /ask reads it for totals and means over whole days,
weeks, months and years: ten years are 3,650 rows a region instead of 87,600 (the hourly source
pick alone took 67 ms of a 5-year question on the benchmark's warehouse).

The days a load touches (those of the rows it staged, and its replace scope) are deleted from
the rollup and recomputed from the table, inside the load's transaction: readers see the table
and its rollup change together, and a failed load leaves both as they were.

The bridge totals (:data:`datalake.datasets.BRIDGE_TOTALS`: ``movies_by_genre``,
``movies_by_company``) hold a table per value of a bridge dimension; any load of the table or of
its bridge recomputes them whole, in the same transaction (a movie's genres can move it between
groups; the benchmark's 4,803 movies take milliseconds).
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg import sql

from datalake.datasets import (
    BRIDGE_TOTALS,
    DATASETS,
    DEMAND_DAILY,
    DEMAND_HOURLY,
    DEMAND_SOURCE_PREFERENCE,
    SAMPLE_SOURCE,
)
from datalake.datasets.rollups import BridgeTotals
from datalake.datasets.spec import DatasetSpec
from datalake.warehouse.ddl import ensure_table, table_identifier
from datalake.warehouse.scope import RowScope

logger = logging.getLogger(__name__)

#: Table -> the rollups kept of it.
ROLLUPS: dict[str, tuple[DatasetSpec, ...]] = {DEMAND_HOURLY.name: (DEMAND_DAILY,)}

#: Table -> the bridge totals (datalake.datasets.rollups) that read it: the main table and the bridge.
BRIDGE_ROLLUPS: dict[str, tuple[BridgeTotals, ...]] = {}
for _totals in BRIDGE_TOTALS:
    _bridge = next(
        s.name for s in DATASETS.values() if (s.warehouse_table or s.name) == _totals.dimension.table
    )
    for _name in dict.fromkeys((_totals.main.name, _bridge)):
        BRIDGE_ROLLUPS[_name] = (*BRIDGE_ROLLUPS.get(_name, ()), _totals)


def refresh_rollups(
    conn: psycopg.Connection[Any],
    spec: DatasetSpec,
    schema: str,
    staging: sql.Identifier | None,
    scope: RowScope | None,
    *,
    rebuild: bool = False,
) -> None:
    """Recompute the rollups of ``spec`` for the days a load touched (call inside its transaction).

    Parameters
    ----------
    conn
        The loading connection, with the load's transaction open.
    spec
        The loaded dataset; nothing happens unless :data:`ROLLUPS` lists rollups of it.
    schema
        Schema of the table and its rollups.
    staging
        The load's staging table (its rows' days are touched); None when nothing was staged.
    scope
        The replaced scope (all its days are touched), or None for an upsert.
    rebuild
        Recompute every day: the table was just created, so rollup rows of a table dropped
        before may be left.
    """
    for rollup in ROLLUPS.get(spec.name, ()):
        created = ensure_table(conn, rollup, schema).created
        # A rollup created now starts with every day of the table (a warehouse loaded before it existed).
        days = sql.SQL("TRUE") if created or rebuild else _touched_days(staging, scope)
        _refresh_demand_daily(conn, schema, days)
    for totals in BRIDGE_ROLLUPS.get(spec.name, ()):
        _refresh_bridge_totals(conn, schema, totals)


def _refresh_bridge_totals(conn: psycopg.Connection[Any], schema: str, totals: BridgeTotals) -> None:
    """Recompute every row of a bridge rollup from its two tables (empty while one is missing).

    Whole, not by touched rows: a movie's genres may move it between groups, and the join of a
    catalogue's movies to their genres is one pass (the benchmark's 4,803 movies: milliseconds).
    """
    ensure_table(conn, totals.spec, schema)
    target = table_identifier(totals.spec, schema)
    conn.execute(sql.SQL("DELETE FROM {}").format(target))
    bridge_name = totals.dimension.table
    assert bridge_name is not None
    main_name = totals.main.warehouse_table or totals.main.name
    present = conn.execute(
        "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL"
        " AND to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL",
        (schema, main_name, schema, bridge_name),
    ).fetchone()
    if not (present and present[0]):
        return
    inserted = conn.execute(
        sql.SQL("INSERT INTO {target} ({columns}) ").format(
            target=target, columns=sql.SQL(", ").join(sql.Identifier(c.name) for c in totals.spec.columns)
        )
        + sql.SQL(totals.select_sql()).format(  # type: ignore[arg-type]  # text from the declarations
            main=sql.Identifier(schema, main_name), bridge=sql.Identifier(schema, bridge_name)
        )
    ).rowcount
    logger.debug("%s: %d rows recomputed", totals.table, inserted)


def _touched_days(staging: sql.Identifier | None, scope: RowScope | None) -> sql.Composable:
    """The condition on ``local_date`` (of the table aliased ``t``) holding the days a load touched."""
    conditions: list[sql.Composable] = []
    if staging is not None:
        conditions.append(sql.SQL("t.local_date IN (SELECT DISTINCT local_date FROM {})").format(staging))
    if scope is not None:
        conditions.append(scope.predicate("t"))
    return sql.SQL(" OR ").join(conditions) if conditions else sql.SQL("FALSE")


def _refresh_demand_daily(conn: psycopg.Connection[Any], schema: str, days: sql.Composable) -> None:
    rank = sql.SQL("CASE {} ELSE {} END").format(
        sql.SQL(" ").join(
            sql.SQL("WHEN t.source = {} THEN {}").format(sql.Literal(source), sql.Literal(number))
            for number, source in enumerate(DEMAND_SOURCE_PREFERENCE[:-1], 1)
        ),
        sql.Literal(len(DEMAND_SOURCE_PREFERENCE)),
    )

    def pick(column: str) -> sql.Composable:
        # Per hour and tier, the preferred source having a value (the hourly SQL's ROW_NUMBER).
        return sql.SQL(
            "ROW_NUMBER() OVER (PARTITION BY t.region, t.ts_utc, t.source = {sample} "
            "ORDER BY t.{column} IS NULL, {rank})"
        ).format(sample=sql.Literal(SAMPLE_SOURCE), column=sql.Identifier(column), rank=rank)

    names = {
        "hourly": table_identifier(DEMAND_HOURLY, schema),
        "daily": table_identifier(DEMAND_DAILY, schema),
        "days": days,
        "sample": sql.Literal(SAMPLE_SOURCE),
        "demand_pick": pick("demand_mw"),
        "forecast_pick": pick("tso_forecast_mw"),
    }
    conn.execute(sql.SQL("DELETE FROM {daily} AS t WHERE {days}").format(**names))
    inserted = conn.execute(
        sql.SQL(
            "INSERT INTO {daily} (local_date, region, sample, demand_mwh, demand_hours,"
            " tso_forecast_mwh, tso_forecast_hours)"
            " SELECT local_date, region, sample,"
            " SUM(demand_mw) FILTER (WHERE demand_pick = 1),"
            " COUNT(demand_mw) FILTER (WHERE demand_pick = 1),"
            " SUM(tso_forecast_mw) FILTER (WHERE forecast_pick = 1),"
            " COUNT(tso_forecast_mw) FILTER (WHERE forecast_pick = 1)"
            " FROM (SELECT t.local_date, t.region, t.source = {sample} AS sample, t.demand_mw,"
            " t.tso_forecast_mw, {demand_pick} AS demand_pick, {forecast_pick} AS forecast_pick"
            " FROM {hourly} AS t WHERE {days}) AS picked"
            " GROUP BY local_date, region, sample"
        ).format(**names)
    ).rowcount
    logger.debug("%s: %d day rows recomputed", DEMAND_DAILY.warehouse_table, inserted)
