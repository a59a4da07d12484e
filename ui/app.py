"""The web app's entry point: ``streamlit run ui/app.py`` (or ``datalake ui``).

A multipage app over the API: ask, forecast, energy dashboards, movies, sales, the energy
company's queries and the system status, in Spanish or English.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run ui/app.py` puts ui/ on the path, not the repository: the `ui` and `datalake`
# packages are imported from there.
_REPO = str(Path(__file__).resolve().parents[1])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

import streamlit as st  # noqa: E402

from ui.common import client, language_toggle, t  # noqa: E402

PAGES = Path(__file__).resolve().parent / "pages"


def main() -> None:
    """Set the page, the language switch and the navigation, then run the chosen page."""
    st.set_page_config(page_title="Datalake", page_icon=":material/bolt:", layout="wide")
    language_toggle()
    st.sidebar.caption(t("api_at", url=client().base_url))
    pages = [
        st.Page(
            str(PAGES / "ask.py"), title=t("page_ask"), icon=":material/chat:", url_path="ask", default=True
        ),
        st.Page(
            str(PAGES / "forecast.py"),
            title=t("page_forecast"),
            icon=":material/show_chart:",
            url_path="forecast",
        ),
        st.Page(str(PAGES / "energy.py"), title=t("page_energy"), icon=":material/bolt:", url_path="energy"),
        st.Page(str(PAGES / "movies.py"), title=t("page_movies"), icon=":material/movie:", url_path="movies"),
        st.Page(
            str(PAGES / "sales.py"), title=t("page_sales"), icon=":material/storefront:", url_path="sales"
        ),
        st.Page(
            str(PAGES / "company.py"), title=t("page_company"), icon=":material/factory:", url_path="company"
        ),
        st.Page(
            str(PAGES / "status.py"),
            title=t("page_status"),
            icon=":material/monitor_heart:",
            url_path="status",
        ),
    ]
    st.navigation(pages).run()


main()
