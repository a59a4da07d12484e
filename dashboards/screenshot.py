"""Render dashboard panels from the test data as PNGs for docs/dashboards.md.

Starts an embedded PostgreSQL, loads the dashboard tests' frames (tests/integration/dashboard_data.py:
SAMPLE prices and electricity; four countries of the shared 2020 OWID file), runs the panels' SQL
expanded for the tests' time range, and draws the rows with the chart code of /ask-visual
(api.services.charts.render_png).
It is a picture of what the panels query, drawn by the project, not a capture of Grafana.

    PYTHONPATH=$PWD python dashboards/screenshot.py   # docs/dashboard-*.png (OWID: once its spec is here)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))  # the tests' data builders

from dashboard_data import OWID_LOADED, TIME_FROM, TIME_TO, load_dashboard_tables  # noqa: E402

from api.services.charts import render_png  # noqa: E402
from datalake.dashboards import all_panels, expand_macros  # noqa: E402
from datalake.settings import Settings  # noqa: E402
from datalake.warehouse import EmbeddedPostgres, connect  # noqa: E402

#: Panel title -> the chart: which columns, the unit, and how to label it.
SHOTS = {
    "WTI and Brent (USD/bbl)": (
        "dashboard-wti-brent.png",
        {"kind": "line", "x": "time", "y": ["WTI", "Brent"], "unit": "USD/bbl", "x_label": "day (UTC)"},
    ),
    "Renewables share of primary energy: Spain and the world (%)": (
        "dashboard-renewables-share.png",
        {
            "kind": "line",
            "x": "time",
            "y": ["Spain", "World"],
            "unit": "% of primary energy",
            "x_label": "year",
        },
    ),
    "Spain: hourly demand ($region)": (
        "dashboard-demand.png",
        {"kind": "line", "x": "time", "y": ["demand MW", "TSO forecast MW"], "unit": "MW", "x_label": "hour"},
    ),
}
VALUES = {"series": "RWTC", "region": "peninsular", "grain": "day", "country": ["Spain"]}


def main() -> None:
    """Write each panel of :data:`SHOTS` as a PNG under docs/."""
    root = Path(tempfile.mkdtemp(prefix="datalake-dash-"))
    server = EmbeddedPostgres(root / "_pg")
    server.start()
    try:
        settings = Settings(_env_file=None, database_url=server.url)
        with connect(server.url, settings=settings, autocommit=True) as conn:
            load_dashboard_tables(conn, "public")
            for panel in all_panels():
                if panel.title not in SHOTS or ("world_energy" in panel.sql and not OWID_LOADED):
                    continue
                name, chart = SHOTS[panel.title]
                # The OWID panels look 40 years back (the panel's timeFrom), as Grafana would.
                since = TIME_TO.replace(year=TIME_TO.year - 40) if panel.time_from == "40y" else TIME_FROM
                cursor = conn.execute(expand_macros(panel.sql, since, TIME_TO, VALUES))  # type: ignore[arg-type]
                title = panel.title.replace("$region", str(VALUES["region"])) + (
                    " (OWID, 2020 file)" if "world_energy" in panel.sql else " (SAMPLE data)"
                )
                result = SimpleNamespace(
                    question=title,
                    language="en",
                    answer="",
                    columns=[c.name for c in cursor.description or []],
                    rows=cursor.fetchall(),
                    chart={**chart, "title": title, "y_label": chart["unit"]},
                )
                (REPO / "docs" / name).write_bytes(render_png(result, width_in=9.0, height_in=3.6))
                print(f"wrote docs/{name} ({len(result.rows)} rows)")
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
