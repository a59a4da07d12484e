"""The Grafana dashboard of the warehouse: its panels' SQL, the dashboard JSON, and a macro expander.

The dashboard (``dashboards/grafana/energy.json``) is generated from :func:`build_dashboard` by
``python -m datalake.dashboards`` so that the panels' SQL reuses the project's rules (the demand
source preference, :data:`datalake.datasets.DEMAND_SOURCE_PREFERENCE`) instead of restating them;
a unit test holds the committed file to the generated one.

Grafana sends each panel's ``rawSql`` to PostgreSQL after replacing its macros (``$__timeFilter``
and the like) and template variables (``$country``). :func:`expand_macros` does the same for the
few macros the panels use, for a fixed time range, so the tests can run every panel's SQL against
the embedded PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datalake.datasets import DEMAND_SOURCE_PREFERENCE, SAMPLE_SOURCE

#: The newest classic dashboard schema (grafana/grafana, apps/dashboard/pkg/migration/schemaversion:
#: V42 and V43 migrate hidden-series overrides and formatTime transformations, neither used here).
SCHEMA_VERSION = 43
DASHBOARD_UID = "datalake-energy"
#: The provisioned data source's uid (dashboards/provisioning/datasources/warehouse.yaml).
DATASOURCE = {"type": "grafana-postgresql-datasource", "uid": "datalake-warehouse"}
DASHBOARD_PATH = Path(__file__).resolve().parents[1] / "dashboards" / "grafana" / "energy.json"

#: The price series of energy_prices_daily (EIA ids) and how the panels name them.
WTI, BRENT, HENRY_HUB = "RWTC", "RBRTE", "RNGWHHD"

# -- SQL pieces ----------------------------------------------------------------------------------------

#: One price per day and series: a real EIA price wins over a SAMPLE one of the same day.
PRICES_CTE = (
    "prices AS (\n"
    "  SELECT DISTINCT ON (date, series_id) date, series_id, series_name, price, unit\n"
    "  FROM energy_prices_daily\n"
    f"  ORDER BY date, series_id, (source = '{SAMPLE_SOURCE}')\n"
    ")"
)


def source_rank(column: str = "source") -> str:
    """A CASE ranking sources by :data:`DEMAND_SOURCE_PREFERENCE` (1 = preferred), as /ask's SQL does."""
    whens = " ".join(
        f"WHEN '{source}' THEN {rank}" for rank, source in enumerate(DEMAND_SOURCE_PREFERENCE[:-1], 1)
    )
    return f"CASE {column} {whens} ELSE {len(DEMAND_SOURCE_PREFERENCE)} END"


def no_sample_when_real(table: str) -> str:
    """SAMPLE rows only where the region has no real row at all (datalake.ask.sqlbuild's rule)."""
    real = ", ".join(f"'{s}'" for s in DEMAND_SOURCE_PREFERENCE if s != SAMPLE_SOURCE)
    return (
        f"(t.source <> '{SAMPLE_SOURCE}' OR NOT EXISTS (SELECT 1 FROM {table} real_rows "
        f"WHERE real_rows.source IN ({real}) AND real_rows.region = t.region))"
    )


def demand_sql() -> str:
    """Hourly demand and the grid operator's forecast for ``$region``, one row per hour."""
    return (
        'SELECT DISTINCT ON (t.ts_utc) t.ts_utc AS time, t.demand_mw AS "demand MW",\n'
        '  t.tso_forecast_mw AS "TSO forecast MW"\n'
        "FROM demand_hourly t\n"
        "WHERE $__timeFilter(t.ts_utc) AND t.region = '$region'\n"
        f"  AND {no_sample_when_real('demand_hourly')}\n"
        f"ORDER BY t.ts_utc, {source_rank('t.source')}"
    )


def generation_sql() -> str:
    """Generation by technology for ``$region`` at grain ``$grain``.

    Long rows (time, metric, value): in the time-series format Grafana's SQL data sources make
    one series per ``metric``.
    """
    return (
        "WITH picked AS (\n"
        "  SELECT DISTINCT ON (t.ts_utc, t.technology) t.ts_utc, t.technology, t.energy_mwh\n"
        "  FROM generation t\n"
        "  WHERE $__timeFilter(t.ts_utc) AND t.region = '$region' AND t.time_grain = '$grain'\n"
        "    AND coalesce(t.technology_group, '') <> 'total'\n"
        f"    AND {no_sample_when_real('generation')}\n"
        f"  ORDER BY t.ts_utc, t.technology, {source_rank('t.source')}\n"
        ")\n"
        "SELECT ts_utc AS time, technology AS metric, energy_mwh AS value FROM picked ORDER BY 1, 2"
    )


def price_change_sql(days: int | None) -> str:
    """The latest price of ``$series`` up to the range's end, or its change (%) over ``days`` days.

    The change compares the latest price with the last one on or before ``days`` days earlier
    (a day: the previous trading day; markets close at weekends and on holidays).
    """
    latest = (
        f"WITH {PRICES_CTE},\n"
        "latest AS (\n"
        "  SELECT date, price FROM prices\n"
        "  WHERE series_id = '$series' AND date <= $__timeTo()::date ORDER BY date DESC LIMIT 1\n"
        ")\n"
    )
    if days is None:
        return latest + 'SELECT latest.date::timestamptz AS time, latest.price AS "price" FROM latest'
    earlier = "p.date < latest.date" if days == 1 else f"p.date <= latest.date - {days}"
    return (
        latest + "SELECT latest.date::timestamptz AS time,\n"
        '  round((100 * (latest.price / before.price - 1))::numeric, 2)::float8 AS "change %"\n'
        "FROM latest CROSS JOIN LATERAL (\n"
        f"  SELECT p.price FROM prices p WHERE p.series_id = '$series' AND {earlier}\n"
        "  ORDER BY p.date DESC LIMIT 1\n"
        ") before"
    )


#: world_energy's primary-energy consumption by source (TWh), in the stacking order of the panel.
PRIMARY_ENERGY_SOURCES = {
    "coal": "coal_consumption_twh",
    "oil": "oil_consumption_twh",
    "gas": "gas_consumption_twh",
    "nuclear": "nuclear_consumption_twh",
    "hydro": "hydro_consumption_twh",
    "wind": "wind_consumption_twh",
    "solar": "solar_consumption_twh",
    "biofuels": "biofuel_consumption_twh",
    "other renewables": "other_renewable_consumption_twh",
}
#: OWID panels are yearly: a year is in the range when its 1 January is.
OWID_YEARS = (
    "year BETWEEN extract(year FROM $__timeFrom()::timestamptz)"
    " AND extract(year FROM $__timeTo()::timestamptz)"
)


def primary_mix_sql() -> str:
    """Primary-energy consumption by source (TWh) of ``$country`` (the panel repeats per country)."""
    columns = ",\n  ".join(f'{column} AS "{label}"' for label, column in PRIMARY_ENERGY_SOURCES.items())
    return (
        f"SELECT make_date(year, 1, 1)::timestamptz AS time,\n  {columns}\n"
        f"FROM world_energy\nWHERE country IN ($country) AND {OWID_YEARS}\nORDER BY 1"
    )


# -- panels ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """One panel: its type, title, SQL (with Grafana macros), size and display options."""

    kind: str
    title: str
    sql: str
    width: int = 12
    height: int = 8
    fmt: str = "time_series"
    unit: str = ""
    description: str = ""
    #: Grafana's panel-level relative time ("40y"): the yearly OWID panels look further back.
    time_from: str | None = None
    repeat: str | None = None
    stacked: bool = False
    bars: bool = False


def prices_panels() -> list[Panel]:
    """WTI against Brent, their spread, monthly averages, the latest price and its changes, Henry Hub."""
    return [
        Panel(
            "timeseries",
            "WTI and Brent (USD/bbl)",
            f"WITH {PRICES_CTE}\n"
            "SELECT date::timestamptz AS time,\n"
            f"  max(price) FILTER (WHERE series_id = '{WTI}') AS \"WTI\",\n"
            f"  max(price) FILTER (WHERE series_id = '{BRENT}') AS \"Brent\"\n"
            f"FROM prices WHERE $__timeFilter(date) AND series_id IN ('{WTI}', '{BRENT}')\n"
            "GROUP BY date ORDER BY date",
            unit="currencyUSD",
            description="Daily spot prices (EIA; SAMPLE rows only where no EIA price exists for the day).",
        ),
        Panel(
            "timeseries",
            "Brent minus WTI (USD/bbl)",
            f"WITH {PRICES_CTE}\n"
            'SELECT b.date::timestamptz AS time, b.price - w.price AS "Brent - WTI"\n'
            f"FROM prices b JOIN prices w ON w.date = b.date AND w.series_id = '{WTI}'\n"
            f"WHERE b.series_id = '{BRENT}' AND $__timeFilter(b.date)\nORDER BY 1",
            unit="currencyUSD",
            description="Days with both prices only.",
        ),
        Panel(
            "timeseries",
            "Monthly average prices",
            f"WITH {PRICES_CTE}\n"
            "SELECT date_trunc('month', date)::timestamptz AS time,\n"
            f"  avg(price) FILTER (WHERE series_id = '{WTI}') AS \"WTI USD/bbl\",\n"
            f"  avg(price) FILTER (WHERE series_id = '{BRENT}') AS \"Brent USD/bbl\",\n"
            f"  avg(price) FILTER (WHERE series_id = '{HENRY_HUB}') AS \"Henry Hub USD/MMBtu\"\n"
            "FROM prices WHERE $__timeFilter(date)\nGROUP BY 1 ORDER BY 1",
            width=24,
            bars=True,
            description="Mean of the month's trading days.",
        ),
        Panel("stat", "${series:text}: latest price", price_change_sql(None), width=6, height=4),
        Panel(
            "stat",
            "${series:text}: change over a day",
            price_change_sql(1),
            width=6,
            height=4,
            unit="percent",
        ),
        Panel(
            "stat",
            "${series:text}: change over a week",
            price_change_sql(7),
            width=6,
            height=4,
            unit="percent",
        ),
        Panel(
            "stat",
            "${series:text}: change over a year",
            price_change_sql(365),
            width=6,
            height=4,
            unit="percent",
        ),
        Panel(
            "timeseries",
            "Henry Hub natural gas (USD/MMBtu)",
            f"WITH {PRICES_CTE}\n"
            'SELECT date::timestamptz AS time, price AS "Henry Hub"\n'
            f"FROM prices WHERE series_id = '{HENRY_HUB}' AND $__timeFilter(date)\nORDER BY 1",
            width=24,
            unit="currencyUSD",
        ),
    ]


def electricity_panels() -> list[Panel]:
    """Spain's hourly demand and its generation mix."""
    preference = " > ".join(DEMAND_SOURCE_PREFERENCE)
    return [
        Panel(
            "timeseries",
            "Spain: hourly demand ($region)",
            demand_sql(),
            width=24,
            unit="suffix: MW",  # Grafana's custom suffix: its "watt" would rescale MW values as W
            description=f"One row per hour, by source preference {preference}; "
            "SAMPLE only where the region has no real row.",
        ),
        Panel(
            "timeseries",
            "Spain: generation mix ($region, per $grain)",
            generation_sql(),
            width=24,
            unit="suffix: MWh",
            stacked=True,
            bars=True,
            description=f"Energy by technology, MWh, by source preference {preference}.",
        ),
    ]


def owid_panels() -> list[Panel]:
    """The OWID primary-energy mix per chosen country, and the renewables share of Spain and the world."""
    return [
        Panel(
            "timeseries",
            "Primary energy by source: $country (TWh)",
            primary_mix_sql(),
            width=12,
            stacked=True,
            time_from="40y",
            repeat="country",
            description="OWID energy dataset, primary-energy consumption by source.",
        ),
        Panel(
            "timeseries",
            "Renewables share of primary energy: Spain and the world (%)",
            "SELECT make_date(year, 1, 1)::timestamptz AS time,\n"
            "  max(renewables_share_energy_pct) FILTER (WHERE country = 'Spain') AS \"Spain\",\n"
            "  max(renewables_share_energy_pct) FILTER (WHERE country = 'World') AS \"World\"\n"
            f"FROM world_energy WHERE country IN ('Spain', 'World') AND {OWID_YEARS}\n"
            "GROUP BY year ORDER BY year",
            width=24,
            time_from="40y",
            unit="percent",
        ),
    ]


@dataclass(frozen=True)
class Variable:
    """A template variable: a query over the warehouse, or a custom list."""

    name: str
    label: str
    query: str
    custom: Sequence[str] = ()
    default: Sequence[str] = ()
    multi: bool = False


VARIABLES = (
    Variable(
        "series",
        "Price series",
        "SELECT DISTINCT series_id AS __value, series_name AS __text FROM energy_prices_daily ORDER BY 1",
        default=(WTI,),
    ),
    Variable("region", "Electricity region", "", custom=("national", "peninsular"), default=("national",)),
    Variable("grain", "Generation grain", "", custom=("day", "hour"), default=("day",)),
    Variable(
        "country",
        "Countries (OWID)",
        "SELECT DISTINCT country FROM world_energy WHERE NOT is_aggregate OR country = 'World' ORDER BY 1",
        default=("Spain", "World"),
        multi=True,
    ),
)


def all_panels() -> list[Panel]:
    """Every panel, in the dashboard's order."""
    return [*prices_panels(), *electricity_panels(), *owid_panels()]


# -- the dashboard JSON ----------------------------------------------------------------------------------


def _field_config(panel: Panel) -> dict[str, Any]:
    custom: dict[str, Any] = {}
    if panel.kind == "timeseries":
        custom = {
            "drawStyle": "bars" if panel.bars else "line",
            "fillOpacity": 80 if panel.stacked else 10,
            "stacking": {"mode": "normal" if panel.stacked else "none", "group": "A"},
            "showPoints": "never",
            "spanNulls": False,
        }
    return {"defaults": {"unit": panel.unit, "custom": custom}, "overrides": []}


def _panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    target = {
        "refId": "A",
        "datasource": DATASOURCE,
        "editorMode": "code",
        "format": panel.fmt,
        "rawQuery": True,
        "rawSql": panel.sql,
    }
    body: dict[str, Any] = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "targets": [target],
        "fieldConfig": _field_config(panel),
        "options": {},
    }
    if panel.kind == "stat":
        body["options"] = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "none",
            "textMode": "value",
        }
    else:
        body["options"] = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}}
    if panel.time_from:
        body["timeFrom"] = panel.time_from
    if panel.repeat:
        body["repeat"] = panel.repeat
        body["repeatDirection"] = "h"
        body["maxPerRow"] = 2
    return body


def _row_json(title: str, panel_id: int, y: int) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "row",
        "title": title,
        "collapsed": False,
        "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
        "panels": [],
    }


def _variable_json(variable: Variable) -> dict[str, Any]:
    default = list(variable.default)
    current = {
        "text": default if variable.multi else default[0],
        "value": default if variable.multi else default[0],
    }
    if variable.custom:
        return {
            "name": variable.name,
            "label": variable.label,
            "type": "custom",
            "query": ",".join(variable.custom),
            "current": current,
            "options": [
                {"text": value, "value": value, "selected": value in default} for value in variable.custom
            ],
            "multi": variable.multi,
            "includeAll": False,
        }
    return {
        "name": variable.name,
        "label": variable.label,
        "type": "query",
        "datasource": DATASOURCE,
        "definition": variable.query,
        "query": variable.query,
        "refresh": 1,  # on dashboard load
        "sort": 1,
        "current": current,
        "options": [],
        "multi": variable.multi,
        "includeAll": False,
    }


def build_dashboard() -> dict[str, Any]:
    """The dashboard as Grafana's JSON model: rows of panels laid out on its 24-column grid.

    Returns
    -------
    dict
        The model, ready for ``json.dumps`` (the provisioned file).
    """
    sections = (
        ("Energy prices (EIA)", prices_panels()),
        ("Spain's electricity", electricity_panels()),
        ("World energy (OWID)", owid_panels()),
    )
    panels: list[dict[str, Any]] = []
    next_id, y = 1, 0
    for title, section in sections:
        panels.append(_row_json(title, next_id, y))
        next_id, y = next_id + 1, y + 1
        x, row_height = 0, 0
        for panel in section:
            if x + panel.width > 24:
                x, y, row_height = 0, y + row_height, 0
            panels.append(_panel_json(panel, next_id, x, y))
            next_id += 1
            x += panel.width
            row_height = max(row_height, panel.height)
        y += row_height
    return {
        "uid": DASHBOARD_UID,
        "title": "Datalake: energy prices, Spain's electricity, world energy",
        "description": "Generated by `python -m datalake.dashboards`; do not edit by hand.",
        "tags": ["datalake", "energy"],
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "timezone": "utc",
        "time": {"from": "now-5y", "to": "now"},
        "refresh": "",
        "templating": {"list": [_variable_json(v) for v in VARIABLES]},
        "annotations": {"list": []},
        "links": [],
        "panels": panels,
    }


def dashboard_text() -> str:
    """The dashboard file's text (sorted keys off: Grafana's own order; a final newline)."""
    return json.dumps(build_dashboard(), indent=2, ensure_ascii=False) + "\n"


# -- macros ------------------------------------------------------------------------------------------

_MACRO = re.compile(r"\$(__\w+)\(([^)]*)\)")
_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")


def _grafana_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("'%Y-%m-%dT%H:%M:%SZ'")


def expand_macros(
    sql: str, time_from: dt.datetime, time_to: dt.datetime, variables: Mapping[str, str | Sequence[str]]
) -> str:
    """``sql`` as Grafana's PostgreSQL data source would send it, for one time range and variable values.

    Supports the macros the dashboard uses, written as Grafana writes them:

    - ``$__timeFilter(col)`` -> ``col BETWEEN '<from>' AND '<to>'`` (RFC 3339, UTC);
    - ``$__timeFrom()`` / ``$__timeTo()`` -> ``'<from>'`` / ``'<to>'``;

    and template variables ``$name`` / ``${name}`` (no ``:format``): a single value is substituted
    as it is (the SQL quotes it: ``'$region'``), a list (a multi-value variable) as a quoted,
    comma-separated list (``'Spain','World'``), as Grafana does for SQL data sources.

    Parameters
    ----------
    sql
        A panel's ``rawSql``.
    time_from, time_to
        The dashboard's time range (aware datetimes).
    variables
        Variable name -> value (a string) or values (a sequence).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        A macro this expander does not know, or a variable without a value: the panel would
        reach PostgreSQL with a ``$`` in it.
    """

    def macro(match: re.Match[str]) -> str:
        name, argument = match.group(1), match.group(2).strip()
        if name == "__timeFilter":
            return f"{argument} BETWEEN {_grafana_time(time_from)} AND {_grafana_time(time_to)}"
        if name == "__timeFrom":
            return _grafana_time(time_from)
        if name == "__timeTo":
            return _grafana_time(time_to)
        raise ValueError(f"unsupported Grafana macro ${name}({argument})")

    def variable(match: re.Match[str]) -> str:
        name, fmt = match.group(1) or match.group(3), match.group(2)
        if fmt is not None:
            # ${var:format} changes the quoting; the panels' SQL uses none, so none is emulated.
            raise ValueError(f"unsupported variable format ${{{name}:{fmt}}}")
        if name not in variables:
            raise ValueError(f"no value for template variable ${name}")
        value = variables[name]
        if isinstance(value, str):
            return value
        return ",".join("'" + v.replace("'", "''") + "'" for v in value)

    return _VARIABLE.sub(variable, _MACRO.sub(macro, sql))


def main(argv: Sequence[str] | None = None) -> int:
    """Write the dashboard file (``--check``: only say whether the committed one is current)."""
    args = list(sys.argv[1:] if argv is None else argv)
    text = dashboard_text()
    if "--check" in args:
        current = DASHBOARD_PATH.exists() and DASHBOARD_PATH.read_text() == text
        print(f"{DASHBOARD_PATH}: {'current' if current else 'stale, run python -m datalake.dashboards'}")
        return 0 if current else 1
    DASHBOARD_PATH.parent.mkdir(parents=True, exist_ok=True)
    DASHBOARD_PATH.write_text(text)
    print(f"wrote {DASHBOARD_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
