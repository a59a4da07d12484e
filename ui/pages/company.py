"""Empresa / Energy company: the named queries (clients, suppliers, purchases and sales) via /ask."""

from __future__ import annotations

import streamlit as st

from ui.common import dashboard_question, language, t

#: The named queries (datalake/query/named/*.sql), asked in words.
QUESTIONS = {
    "es": [
        "¿Cuántos clientes hay por ciudad?",
        "Compras vs ventas en marzo de 2024",
        "Top 10 clientes por gasto",
        "Proveedores por tipo de energía",
        "Precio medio del kWh por tipo de transacción",
    ],
    "en": [
        "Clients per city",
        "Purchases versus sales in March 2024",
        "Top 10 clients by spend",
        "Suppliers per energy type",
        "Average kWh price per transaction type",
    ],
}


def main() -> None:
    """Draw the page: one panel per named query."""
    lang = language()
    st.title(t("co_title"))
    st.caption(t("co_intro"))
    for number, question in enumerate(QUESTIONS[lang]):
        st.subheader(question)
        dashboard_question(question, key=f"company-{number}")


main()
