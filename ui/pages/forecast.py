"""Previsión / Forecast: the p10-p90 band after the data cut-off, the model, and how good it has been."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from datalake.formatting import format_number
from ui.client import ApiError
from ui.common import call, client, guarded, language, people_frame, t, when
from ui.questions import HISTORY_QUESTION

#: /forecast serves 1 to 14 days (MAX_HORIZON_HOURS // 24 in the API).
MAX_DAYS = 14
#: Days of actual demand drawn before the forecast (whole days, ending the day before the cut-off).
HISTORY_DAYS = 7


def history(lang: str, cutoff: str) -> pd.DataFrame:
    """The week of actual demand before the cut-off, from /ask-visual (empty when unavailable)."""
    try:
        data = client().ask_chart(HISTORY_QUESTION[lang], as_of=cutoff)
    except ApiError:
        return pd.DataFrame(columns=["time", "demand_mw"])
    series = data.get("series") or []
    if data.get("kind") != "line" or not series or len(series[0].get("values") or []) != len(data["x"]):
        return pd.DataFrame(columns=["time", "demand_mw"])
    times = pd.to_datetime(data["x"], utc=True, format="ISO8601")
    frame = pd.DataFrame({"time": times, "demand_mw": series[0]["values"]}).dropna()
    # Only the days just before the cut-off belong beside the forecast.
    end = pd.to_datetime(cutoff, utc=True)
    frame = frame[(frame["time"] <= end) & (frame["time"] > end - pd.Timedelta(days=HISTORY_DAYS + 1))]
    return frame.assign(time=frame["time"].dt.tz_convert("Europe/Madrid").dt.tz_localize(None))


def band_chart(points: list[dict[str, Any]], past: pd.DataFrame) -> alt.LayerChart:
    """History as a grey line, then the p50 line inside its shaded p10-p90 band."""
    frame = pd.DataFrame(points)
    frame["time"] = (
        pd.to_datetime(frame["ts_utc"], utc=True).dt.tz_convert("Europe/Madrid").dt.tz_localize(None)
    )
    x = alt.X("time:T", title=t("fc_time"))
    band = (
        alt.Chart(frame)
        .mark_area(opacity=0.3, color="#ff7f0e")
        .encode(
            x,
            # Demand never nears 0 MW: a zero-based axis would flatten the band.
            alt.Y("p10_mw:Q", title=t("fc_demand"), scale=alt.Scale(zero=False)),
            y2="p90_mw:Q",
            tooltip=["time", "p10_mw", "p50_mw", "p90_mw"],
        )
    )
    median = alt.Chart(frame).mark_line(color="#ff7f0e").encode(x, y="p50_mw:Q")
    layers: list[alt.Chart] = [band, median]
    if not past.empty:
        layers.insert(0, alt.Chart(past).mark_line(color="#555").encode(x, y="demand_mw:Q"))
    return alt.layer(*layers)


def accuracy(lang: str) -> None:
    """The summary of served forecasts whose hour has an actual, and the latest of them."""
    st.subheader(t("fc_accuracy"))
    page = call(lambda: client().historical(has_actual="true", limit=200), spinner=False)
    if page is None:
        return
    summary = page.get("summary") or {}
    if not summary.get("with_actual"):
        st.caption(t("fc_no_accuracy"))
        return
    columns = st.columns(4)
    columns[0].metric(t("fc_scored"), format_number(summary["with_actual"], lang))
    if summary.get("mae_mw") is not None:
        columns[1].metric(t("fc_mae"), f"{format_number(summary['mae_mw'], lang)} MW")
    if summary.get("mape_pct") is not None:
        columns[2].metric(t("fc_mape"), f"{format_number(summary['mape_pct'], lang, 2)} %")
    if summary.get("band_coverage") is not None:
        columns[3].metric(t("fc_coverage"), f"{format_number(100 * summary['band_coverage'], lang, 1)} %")
    names = ["ts_local", "model_version", "p50_mw", "actual_mw", "error_mw", "ape_pct", "in_band"]
    rows = [
        [when(item.get("ts_local")) if n == "ts_local" else item.get(n) for n in names]
        for item in page["items"]
    ]
    st.dataframe(people_frame(names, rows[:48], lang), hide_index=True, width="stretch")


def main() -> None:
    """Draw the page."""
    lang = language()
    st.title(t("fc_title"))
    days = st.slider(t("fc_days"), min_value=1, max_value=MAX_DAYS, value=2, key="fc_days")
    answer = call(lambda: client().forecast(days))
    if answer is not None and answer.get("points"):
        columns = st.columns(3)
        columns[0].metric(t("fc_model"), answer["model_version"])
        columns[1].metric(t("fc_cutoff"), when(answer["data_cutoff"]))
        peak = max(point["p50_mw"] for point in answer["points"])
        columns[2].metric(t("fc_peak"), f"{format_number(peak, lang)} MW")
        with st.spinner(t("loading")):
            past = history(lang, answer["data_cutoff"])
        if past.empty:
            st.caption(t("fc_no_history"))
        st.altair_chart(band_chart(answer["points"], past), width="stretch")
        st.caption(f"{t('fc_band')} · {len(answer['points'])} h · {answer.get('served_by', '')}")
    accuracy(lang)


guarded(main)
