"""Ventas / Sales: a store's daily sales from a form or a CSV, with a chart, a CSV to take away,
and the history of predictions with their errors once the day's sales are known."""

from __future__ import annotations

import datetime as dt
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from datalake.formatting import format_number
from ui.common import call, client, guarded, language, people_frame, t, when

RESULT_KEY = "sales_result"
#: Results up to this many rows are drawn as a plain table, bigger ones as a scrolling grid.
TABLE_ROWS = 100
HOLIDAYS = ("0", "a", "b", "c")
HOLIDAY_NAMES = {
    "a": {"es": "Festivo público", "en": "Public holiday"},
    "b": {"es": "Semana Santa", "en": "Easter"},
    "c": {"es": "Navidad", "en": "Christmas"},
}


def result_frame(answer: dict[str, Any]) -> pd.DataFrame:
    """The predictions as a frame (numbers kept as numbers, for the chart and the CSV)."""
    frame = pd.DataFrame(answer["predictions"], columns=["store_id", "date", "predicted_sales", "closed"])
    frame["model_version"] = answer.get("model_version", "")
    return frame


def sales_chart(frame: pd.DataFrame) -> alt.Chart:
    """Bars per store for one day; a line per store over the days otherwise."""
    data = frame.assign(date=pd.to_datetime(frame["date"]), store=frame["store_id"].astype(str))
    y = alt.Y("predicted_sales:Q", title=f"{t('sl_result')} (€)")
    color = alt.Color("store:N", title=t("sl_store"))
    tooltip = ["store", "date", "predicted_sales", "closed"]
    if data["date"].nunique() == 1:
        x = alt.X("store:N", title=t("sl_store"))
        return alt.Chart(data).mark_bar().encode(x, y, color=color, tooltip=tooltip)
    x = alt.X("date:T", title=t("sl_date"))
    return alt.Chart(data).mark_line(point=True).encode(x, y, color=color, tooltip=tooltip)


def show_result(answer: dict[str, Any], lang: str) -> None:
    """The predictions: total, table, chart and a download."""
    frame = result_frame(answer)
    st.subheader(t("sl_result"))
    st.metric(t("sl_total"), f"{format_number(float(frame['predicted_sales'].sum()), lang, 2)} €")
    shown = frame[["store_id", "date", "predicted_sales", "closed"]]
    table = people_frame(list(shown.columns), shown.astype(object).values.tolist(), lang)
    if len(table) <= TABLE_ROWS:  # a plain table reads (and prints) best; a grid scrolls big uploads
        st.table(table.set_index(table.columns[0]))  # the store, instead of a row number
    else:
        st.dataframe(table, hide_index=True, width="stretch", key="sales-result-table")
    st.altair_chart(sales_chart(frame), width="stretch")
    st.download_button(
        t("download_csv"),
        frame.to_csv(index=False).encode(),
        file_name="sales_predictions.csv",
        mime="text/csv",
        key="sales-download",
    )


def show_history(lang: str) -> None:
    """The latest logged store-sales predictions, with the actual and the error once known."""
    st.subheader(t("sl_history"))
    page = call(lambda: client().historical(model="store-sales", limit=100), spinner=False)
    if page is None:
        return
    if not page.get("items"):
        st.caption(t("sl_no_history"))
        return
    names = ["served_at", "store_id", "date", "predicted_sales", "actual_sales", "error", "ape_pct"]
    rows = [[when(i.get(n)) if n == "served_at" else i.get(n) for n in names] for i in page["items"]]
    st.dataframe(people_frame(names, rows, lang), hide_index=True, width="stretch", key="sales-history")
    summary = {k: v for k, v in (page.get("summary") or {}).items() if v is not None}
    if summary:
        st.caption(
            " · ".join(
                f"{k}: {format_number(v, lang, 2) if isinstance(v, float) else v}" for k, v in summary.items()
            )
        )


def main() -> None:
    """Draw the page."""
    lang = language()
    st.title(t("sl_title"))
    # Labels computed now: a format_func may run outside the page's run (its session unknown).
    holiday_labels = {h: t("sl_holiday_none") if h == "0" else HOLIDAY_NAMES[h][lang] for h in HOLIDAYS}
    with st.form("sales"):
        st.markdown(f"**{t('sl_form')}**")
        left, right = st.columns(2)
        store = left.number_input(t("sl_store"), min_value=1, max_value=1_000_000, value=1, step=1)
        day = right.date_input(t("sl_date"), value=dt.date.today() + dt.timedelta(days=1))
        holiday = left.selectbox(
            t("sl_state_holiday"),
            HOLIDAYS,
            format_func=holiday_labels.__getitem__,
        )
        promo = right.checkbox(t("sl_promo"))
        school = right.checkbox(t("sl_school_holiday"))
        is_open = right.checkbox(t("sl_open"), value=True)
        submitted = st.form_submit_button(t("sl_submit"))
    if submitted:
        row = {
            "store_id": int(store),
            "date": day.isoformat(),
            "promo": promo,
            "state_holiday": holiday,
            "school_holiday": school,
            "open": is_open,
        }
        st.session_state[RESULT_KEY] = call(lambda: client().predict_sales([row]))
    upload = st.file_uploader(t("sl_upload"), type=["csv"], help=t("sl_upload_help"), key="sales-upload")
    if upload is not None and st.session_state.get("sales_upload_id") != upload.file_id:
        # One request per uploaded file, not one per rerun.
        st.session_state["sales_upload_id"] = upload.file_id
        content = upload.getvalue()
        st.session_state[RESULT_KEY] = call(lambda: client().predict_sales_csv(upload.name, content))
    if st.session_state.get(RESULT_KEY):
        show_result(st.session_state[RESULT_KEY], lang)
    st.divider()
    show_history(lang)


guarded(main)
