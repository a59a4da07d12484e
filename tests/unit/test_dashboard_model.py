"""The Grafana dashboard file: current, valid as Grafana's model, reading only what the specs declare;
the provisioning files; and the macro expander the integration test runs the panels through."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import sqlglot
import yaml
from sqlglot import exp

from datalake.dashboards import (
    DASHBOARD_PATH,
    DATASOURCE,
    DEMAND_SOURCE_PREFERENCE,
    SCHEMA_VERSION,
    VARIABLES,
    all_panels,
    dashboard_text,
    expand_macros,
    source_rank,
)
from datalake.datasets import DATASETS

pytestmark = pytest.mark.unit

PROVISIONING = Path(__file__).resolve().parents[2] / "dashboards" / "provisioning"
FROM = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
TO = dt.datetime(2020, 2, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
VALUES: dict[str, str | list[str]] = {
    "series": "RWTC",
    "region": "national",
    "grain": "day",
    "country": ["Spain"],
}
TABLES = {spec.warehouse_table: spec for spec in DATASETS.values() if spec.warehouse_table}


def dashboard() -> dict:
    return json.loads(DASHBOARD_PATH.read_text())


def test_the_committed_dashboard_is_the_generated_one() -> None:
    assert DASHBOARD_PATH.read_text() == dashboard_text(), "run: python -m datalake.dashboards"


def test_the_dashboard_is_a_grafana_model() -> None:
    model = dashboard()
    assert model["uid"] and model["schemaVersion"] == SCHEMA_VERSION
    panels = model["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert {"h", "w", "x", "y"} <= grid.keys() and grid["x"] + grid["w"] <= 24, panel["title"]
        # No two panels cover the same cell of the grid.
        covered = {(grid["x"] + i, grid["y"] + j) for i in range(grid["w"]) for j in range(grid["h"])}
        assert not covered & cells, panel["title"]
        cells |= covered
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == DATASOURCE
        assert panel["targets"] and all(t["rawSql"].strip() and t["refId"] for t in panel["targets"])
    defined = {v["name"] for v in model["templating"]["list"]}
    for panel in panels:
        used = set(re.findall(r"\$\{?(?!__)(\w+)", json.dumps(panel)))
        assert used <= defined, (panel["title"], used - defined)
        assert panel.get("repeat", next(iter(defined))) in defined


def test_the_provisioned_data_source_is_the_dashboards_and_takes_its_connection_from_the_environment() -> (
    None
):
    [source] = yaml.safe_load((PROVISIONING / "datasources" / "warehouse.yaml").read_text())["datasources"]
    assert {"uid": source["uid"], "type": source["type"]} == DATASOURCE
    # Every connection setting is an environment variable; the password only in secureJsonData.
    for value in (
        source["url"],
        source["user"],
        source["jsonData"]["database"],
        source["jsonData"]["sslmode"],
    ):
        assert re.fullmatch(r"\$\{[A-Z_]+\}", value), value
    assert source["secureJsonData"]["password"] == "$READER_PASSWORD"
    [provider] = yaml.safe_load((PROVISIONING / "dashboards" / "datalake.yaml").read_text())["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].startswith("${")


def _read_columns(query: str) -> dict[str, set[str]]:
    """Table -> the columns ``query`` reads from it (aliases and CTE outputs resolved away)."""
    tree = sqlglot.parse_one(query, dialect="postgres")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    aliases = {a.alias for a in tree.find_all(exp.Alias)}
    tables = {t.alias_or_name: t.name for t in tree.find_all(exp.Table) if t.name not in ctes}
    read: dict[str, set[str]] = {name: set() for name in tables.values()}
    for column in tree.find_all(exp.Column):
        if column.table in tables:
            read[tables[column.table]].add(column.name)
        elif not column.table and column.name not in aliases:
            # Unqualified: a column of one of the query's tables (or of a CTE, which reads them).
            owners = [t for t in read if t in TABLES and column.name in {c.name for c in TABLES[t].columns}]
            # A table no spec declares gets it, and fails below as no dataset's table.
            owners = owners or [t for t in read if t not in TABLES]
            assert owners, f"column {column.name} is in none of {sorted(read)}"
            for owner in owners:
                read[owner].add(column.name)
    return read


@pytest.mark.parametrize("panel", all_panels(), ids=lambda p: p.title)
def test_every_table_and_column_a_panel_reads_is_in_the_dataset_specs(panel) -> None:
    query = expand_macros(panel.sql, FROM, TO, VALUES)
    read = _read_columns(query)
    if "world_energy" in read and "world_energy" not in TABLES:
        pytest.skip("the OWID spec (world_energy) is not on this branch yet")
    assert read, panel.title
    for table, columns in read.items():
        assert table in TABLES, f"{panel.title}: {table} is no dataset's warehouse table"
        assert columns <= {c.name for c in TABLES[table].columns}, (table, columns)


@pytest.mark.parametrize("variable", [v for v in VARIABLES if v.query], ids=lambda v: v.name)
def test_every_variable_query_reads_spec_columns(variable) -> None:
    read = _read_columns(variable.query)
    if "world_energy" in read and "world_energy" not in TABLES:
        pytest.skip("the OWID spec (world_energy) is not on this branch yet")
    for table, columns in read.items():
        assert columns <= {c.name for c in TABLES[table].columns}, (table, columns)


# -- the macro expander -------------------------------------------------------------------------------


def test_time_macros_expand_to_utc_rfc3339_literals() -> None:
    text = "WHERE $__timeFilter(t.ts_utc) AND d <= $__timeTo()::date AND d >= $__timeFrom()"
    assert expand_macros(text, FROM, TO, {}) == (
        "WHERE t.ts_utc BETWEEN '2020-01-01T00:00:00Z' AND '2020-02-01T11:30:00Z'"
        " AND d <= '2020-02-01T11:30:00Z'::date AND d >= '2020-01-01T00:00:00Z'"
    )


def test_variables_single_values_as_they_are_lists_quoted() -> None:
    text = "region = '$region' AND country IN ($country) AND s = '${series}'"
    values = {"region": "national", "country": ["Spain", "Côte d'Ivoire"], "series": "RWTC"}
    assert expand_macros(text, FROM, TO, values) == (
        "region = 'national' AND country IN ('Spain','Côte d''Ivoire') AND s = 'RWTC'"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("$__timeGroup(ts, '1h')", "unsupported Grafana macro"),
        ("x = '$nope'", "no value for template variable"),
        ("x IN (${series:csv})", "unsupported variable format"),
    ],
)
def test_what_it_cannot_expand_is_an_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        expand_macros(text, FROM, TO, {})


def test_the_demand_panels_rank_sources_by_the_projects_preference() -> None:
    ranking = source_rank()
    positions = [ranking.find(f"'{s}'") for s in DEMAND_SOURCE_PREFERENCE[:-1]]
    assert positions == sorted(positions) and -1 not in positions
    for panel in all_panels():
        if "demand_hourly" in panel.sql or "FROM generation" in panel.sql:
            assert source_rank("t.source") in panel.sql, panel.title
