"""Empresa / Energy company: the named queries (clients, suppliers, purchases and sales) via /ask."""

from __future__ import annotations

import streamlit as st

from ui.common import dashboard_question, guarded, language, t
from ui.questions import COMPANY_QUESTIONS


def main() -> None:
    """Draw the page: one panel per named query."""
    lang = language()
    st.title(t("co_title"))
    st.caption(t("co_intro"))
    for number, question in enumerate(COMPANY_QUESTIONS[lang]):
        st.subheader(question)
        dashboard_question(question, key=f"company-{number}")


guarded(main)
