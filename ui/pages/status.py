"""Estado / Status: the API's checks, the champion models, the catalog's tables and the latest runs."""

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

    st.subheader(t("st_sources"))
    catalog = checks.get("catalog", {})
    tables = catalog.get("tables") or []
    st.markdown(
        f"**{t('st_tables')}** ({format_number(len(tables), lang)}): " + ", ".join(f"`{n}`" for n in tables)
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
