"""Energía / Energy dashboards: the Grafana dashboard's views, answered by /ask and drawn with Altair."""

from __future__ import annotations

import streamlit as st

from ui.common import dashboard_question, guarded, language, t
from ui.questions import PANELS


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


guarded(main)
