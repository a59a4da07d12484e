"""Energía / Energy dashboards: the Grafana dashboard's views, answered by /ask and drawn with Altair."""

from __future__ import annotations

import streamlit as st

from ui.common import dashboard_question, language, t

#: Panel questions per tab, in each language (the same views as dashboards/).
PANELS: dict[str, dict[str, list[str]]] = {
    "en_spain": {
        "es": ["Demanda horaria de la última semana", "¿Qué tecnología generó más energía el mes pasado?"],
        "en": ["Hourly demand last week", "Which technology generated the most last month?"],
    },
    "en_prices": {
        "es": ["Precio medio del Brent por mes en 2020", "Precio medio del WTI en 2020"],
        "en": ["Average Brent price per month in 2020", "Average WTI price in 2020"],
    },
    "en_world": {
        "es": [
            "Top 5 países por consumo de energía primaria en 2019",
            "¿Qué porcentaje de la energía primaria de España fue renovable en 2019?",
        ],
        "en": [
            "Top 5 countries by primary energy consumption in 2019",
            "Nuclear share of electricity in France in 2019",
        ],
    },
}


def main() -> None:
    """Draw the page: one tab per dashboard, one panel per question."""
    lang = language()
    st.title(t("en_title"))
    tabs = st.tabs([t(name) for name in PANELS])
    for tab, (name, questions) in zip(tabs, PANELS.items(), strict=True):
        with tab:
            for number, question in enumerate(questions[lang]):
                st.caption(question)
                dashboard_question(question, key=f"{name}-{number}")


main()
