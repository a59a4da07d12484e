"""Películas / Movies: will a film succeed (with the factors behind it), and the top films."""

from __future__ import annotations

import datetime as dt
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from datalake.formatting import format_number
from datalake.movies.genres import GENRES
from ui.common import call, client, dashboard_question, guarded, language, t
from ui.questions import TOP_MOVIES_QUESTION

RESULT_KEY = "movie_result"
#: English genre name -> its name in each language (the API takes either).
GENRE_LABELS = {
    english: {"en": english, "es": spanish} for english, spanish in GENRES.values() if english != "Foreign"
}


def film_from_form(values: dict[str, Any]) -> dict[str, Any]:
    """The /predict body from the form's values (empty optional fields left out)."""
    film: dict[str, Any] = {
        "title": values["title"].strip(),
        "genres": list(values["genres"]),
        "release_date": values["release_date"].isoformat(),
    }
    if values.get("budget_usd"):
        film["budget_usd"] = float(values["budget_usd"])
    if values.get("runtime_min"):
        film["runtime_min"] = float(values["runtime_min"])
    if values.get("original_language", "").strip():
        film["original_language"] = values["original_language"].strip().lower()
    companies = [c.strip() for c in values.get("companies", "").split(",") if c.strip()]
    if companies:
        film["production_companies"] = companies
    if values.get("director", "").strip():
        film["director"] = values["director"].strip()
    return film


def show_prediction(result: dict[str, Any], lang: str) -> None:
    """The probability, the verdict at the model's threshold, and the factors as bars."""
    probability = result["success_probability"]
    verdict = t("mv_success") if result["success"] else t("mv_no_success")
    st.metric(t("mv_probability"), f"{format_number(100 * probability, lang, 1)} %")
    (st.success if result["success"] else st.info)(verdict)
    st.caption(
        t(
            "mv_threshold",
            threshold=format_number(result["threshold"], lang, 2),
            version=result["model_version"],
        )
    )
    factors = result.get("factors") or []
    if factors:
        st.markdown(f"**{t('mv_factors')}**")
        frame = pd.DataFrame(factors)
        frame["points"] = 100 * frame["effect"]
        st.altair_chart(
            alt.Chart(frame)
            .mark_bar()
            .encode(
                alt.X("points:Q", title="Δ p (%)"),
                alt.Y("factor:N", sort=None, title=None),
                color=alt.condition("datum.points > 0", alt.value("#2ca02c"), alt.value("#d62728")),
                tooltip=["factor", "direction", "points"],
            ),
            width="stretch",
        )


def main() -> None:
    """Draw the page."""
    lang = language()
    st.title(t("mv_title"))
    st.subheader(t("mv_predict"))
    st.caption(t("mv_rule"))
    with st.form("movie"):
        title = st.text_input(t("mv_film_title"), value="Luz de invierno")
        left, right = st.columns(2)
        budget = left.number_input(
            t("mv_budget"), min_value=0, max_value=2_000_000_000, value=40_000_000, step=1_000_000
        )
        runtime = right.number_input(t("mv_runtime"), min_value=0, max_value=600, value=118)
        genres = st.multiselect(
            t("mv_genres"),
            list(GENRE_LABELS),
            default=["Action", "Adventure"],
            format_func=lambda g: GENRE_LABELS[g][lang],
        )
        release = left.date_input(t("mv_release"), value=dt.date(2027, 7, 16))
        original_language = right.text_input(t("mv_lang"), value="es", max_chars=3)
        companies = st.text_input(t("mv_companies"), value="")
        director = st.text_input(t("mv_director"), value="")
        submitted = st.form_submit_button(t("mv_submit"))
    if submitted:
        if not genres or not title.strip():
            st.warning(t("mv_need_genre"))
        else:
            film = film_from_form(
                {
                    "title": title,
                    "budget_usd": budget,
                    "runtime_min": runtime,
                    "genres": genres,
                    "release_date": release,
                    "original_language": original_language,
                    "companies": companies,
                    "director": director,
                }
            )
            st.session_state[RESULT_KEY] = call(lambda: client().predict_movie(film))
    if st.session_state.get(RESULT_KEY):
        show_prediction(st.session_state[RESULT_KEY], lang)
    st.divider()
    st.subheader(t("mv_top"))
    dashboard_question(TOP_MOVIES_QUESTION[lang], key="top-movies")


guarded(main)
