"""Estado / Status: the API's checks, the champion models, each source's freshness and last run,
the catalog's tables, the latest job runs and the latest served predictions."""

from __future__ import annotations

from typing import Any

import streamlit as st

from datalake.formatting import format_number
from ui.client import ApiError
from ui.common import call, client, guarded, language, people_frame, t, when

#: The checks that are models, and what to call them.
MODEL_CHECKS = {
    "model": {"es": "Previsión de demanda", "en": "Demand forecaster"},
    "movie_success": {"es": "Éxito de películas", "en": "Movie success"},
    "store_sales": {"es": "Ventas de tiendas", "en": "Store sales"},
}
#: The other checks, by name.
CHECK_NAMES = {
    "database": {"es": "Base de datos", "en": "Database"},
    "catalog": {"es": "Catálogo", "en": "Catalog"},
}
#: /historical-predictions' model values: the forecaster (None), the movie and the sales models.
RUN_MODELS = {None: "model", "movie-success": "movie_success", "store-sales": "store_sales"}


def _detail(check: dict[str, Any]) -> str:
    skip = {"ok", "latency_ms", "tables"}
    return ", ".join(f"{k}={v}" for k, v in check.items() if k not in skip and v not in (None, ""))


def _uptime(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min {rest % 60} s"


def latest_runs(lang: str) -> list[list[Any]]:
    """Per model: the newest logged prediction (when it was served, its version, the data it saw)."""
    rows = []
    for model, check in RUN_MODELS.items():
        try:
            page = client().historical(model=model, limit=1)
        except ApiError:
            continue
        items = page.get("items") or []
        newest = items[0] if items else {}
        rows.append(
            [
                MODEL_CHECKS[check][lang],
                page.get("total", 0),
                when(newest.get("served_at") or newest.get("first_served_at")),
                newest.get("model_version", ""),
                when(newest.get("data_cutoff")),
            ]
        )
    return rows


def _verdict(source: dict[str, Any]) -> str:
    if source.get("stale") is None:
        return t("st_no_expectation")
    return f"✗ {t('st_stale')}" if source["stale"] else f"✓ {t('st_fresh')}"


def sources_section(lake: dict[str, Any], lang: str) -> None:
    """Each source's last success and freshness, the catalog's tables and each job's newest run."""
    st.subheader(t("st_sources"))
    sources = lake["sources"]
    stale = [s["source"] for s in sources if s.get("stale")]
    if stale:
        st.warning(t("st_stale_count", count=len(stale), names=", ".join(stale)), icon=":material/schedule:")
    rows = [
        [
            s["source"],
            ", ".join(s.get("scheduled") or []) or "-",
            s.get("last_success") or t("st_never"),
            s.get("newest") or "-",
            s.get("age_hours"),
            s.get("expected_lag_hours"),
            _verdict(s),
        ]
        for s in sources
    ]
    columns = ["source", "schedule", "last_success", "newest", "age_h", "expected_lag_h", "fresh"]
    st.dataframe(people_frame(columns, rows, lang), hide_index=True, width="stretch", key="sources")
    tables = lake["tables"]
    st.markdown(
        f"**{t('st_tables')}** ({format_number(len(tables), lang)}): "
        + ", ".join(f"`{table['table']}`" for table in tables)
    )
    st.subheader(t("st_jobs"))
    jobs = [
        [
            r["job"],
            r["status"],
            r["started_at"],
            r["rows_in"],
            r["rows_out"],
            r["rows_quarantined"],
            r.get("seconds"),
        ]
        for r in lake["runs"]
    ]
    columns = ["job", "status", "started_at", "rows_in", "rows_out", "rows_quarantined", "seconds"]
    st.dataframe(people_frame(columns, jobs, lang), hide_index=True, width="stretch", key="jobs")


def main() -> None:
    """Draw the page."""
    lang = language()
    st.title(t("st_title"))
    report = call(lambda: client().health_details())
    if report is None:
        return
    checks: dict[str, dict[str, Any]] = report["readiness"]["checks"]
    liveness = report["liveness"]
    if report["readiness"]["ready"]:
        st.success(t("st_ready"), icon=":material/check_circle:")
    else:
        st.warning(t("st_degraded"), icon=":material/warning:")
    st.caption(t("st_version", version=liveness["version"], uptime=_uptime(liveness["uptime_s"])))

    st.subheader(t("st_models"))
    models = [
        [MODEL_CHECKS[name][lang], "✓" if check.get("ok") else "✗", _detail(check), check.get("latency_ms")]
        for name, check in checks.items()
        if name in MODEL_CHECKS
    ]
    names = [t("st_check"), t("st_ok"), t("st_detail"), t("st_latency")]
    st.dataframe(people_frame(names, models, lang), hide_index=True, width="stretch", key="models")

    lake = call(lambda: client().lake_status())
    if lake is not None:
        sources_section(lake, lang)
    else:
        catalog = checks.get("catalog", {})
        tables = catalog.get("tables") or []
        st.markdown(
            f"**{t('st_tables')}** ({format_number(len(tables), lang)}): "
            + ", ".join(f"`{n}`" for n in tables)
        )
    others = [
        [
            CHECK_NAMES.get(name, {}).get(lang, name),
            "✓" if check.get("ok") else "✗",
            _detail(check),
            check.get("latency_ms"),
        ]
        for name, check in checks.items()
        if name not in MODEL_CHECKS
    ]
    st.dataframe(people_frame(names, others, lang), hide_index=True, width="stretch", key="checks")

    st.subheader(t("st_runs"))
    with st.spinner(t("loading")):
        runs = latest_runs(lang)
    run_names = ["model", "predictions", "served_at", "model_version", "data_cutoff"]
    st.dataframe(people_frame(run_names, runs, lang), hide_index=True, width="stretch", key="runs")


guarded(main)
