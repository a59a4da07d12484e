"""What every page shares: the language, the API client, error messages, tables and charts."""

from __future__ import annotations

import datetime as dt
import logging
import math
import numbers
import os
import re
from collections.abc import Callable
from typing import Any, TypeVar

import altair as alt
import pandas as pd
import streamlit as st

from datalake.formatting import format_cell, format_number
from ui.client import ApiClient, ApiError
from ui.i18n import COLUMN_LABELS, LANGUAGE_NAMES, LANGUAGES, YES_NO, browser_language, text

logger = logging.getLogger("ui")
T = TypeVar("T")
#: ISO 8601 text with a time of day, as the API writes moments (``2024-06-09T22:00:00Z``).
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
LANGUAGE_KEY = "lang"
SWITCH_KEY = "lang_switch"


def default_language() -> str:
    """The browser's language (``es`` or ``en``), from its locale or Accept-Language header."""
    try:
        locale = st.context.locale
        accept = st.context.headers.get("Accept-Language")
    except Exception:  # no browser (a bare script run): Spanish
        return "es"
    return browser_language(locale, accept)


def language() -> str:
    """The language the person chose, else the browser's."""
    if st.session_state.get(LANGUAGE_KEY) not in LANGUAGES:
        st.session_state[LANGUAGE_KEY] = default_language()
    return st.session_state[LANGUAGE_KEY]


def _switch_language() -> None:
    st.session_state[LANGUAGE_KEY] = st.session_state[SWITCH_KEY]


def language_toggle() -> str:
    """The Español/English switch in the sidebar; returns the language in force.

    The choice lives in its own key, not the widget's: Streamlit drops a widget's state on some
    page switches, and the language must survive them.
    """
    current = language()
    st.sidebar.radio(
        text("language", current),
        LANGUAGES,
        index=LANGUAGES.index(current),
        key=SWITCH_KEY,
        format_func=LANGUAGE_NAMES.__getitem__,
        horizontal=True,
        on_change=_switch_language,
    )
    return st.session_state[LANGUAGE_KEY]


def t(key: str, **values: object) -> str:
    """:func:`ui.i18n.text` in the language in force."""
    return text(key, language(), **values)


@st.cache_resource(show_spinner=False)
def _client(base_url: str | None, api_key: str | None) -> ApiClient:
    return ApiClient(base_url, api_key)


def client() -> ApiClient:
    """The API client for API_BASE_URL and API_KEY (one per process and setting)."""
    return _client(os.environ.get("API_BASE_URL"), os.environ.get("API_KEY"))


def show_error(error: ApiError) -> None:
    """Say in a sentence what went wrong (never a traceback)."""
    if error.kind == "down":
        st.error(t("err_down", url=client().base_url), icon=":material/cloud_off:")
    elif error.kind == "slow":
        st.warning(t("err_slow"), icon=":material/hourglass_empty:")
    elif error.kind == "unavailable":
        st.warning(t("err_unavailable", detail=error.detail), icon=":material/construction:")
    elif error.kind == "refused":
        st.warning(t("err_refused", detail=error.detail), icon=":material/block:")
    elif error.kind == "server":
        st.error(t("err_server", status=error.status), icon=":material/error:")
    else:
        st.error(t("err_bad_answer"), icon=":material/error:")


def guarded(page: Callable[[], None]) -> None:
    """Run a page's ``main``; anything it did not expect is logged and said in a sentence.

    Streamlit's rerun and stop signals are BaseExceptions, so they pass through.
    """
    try:
        page()
    except Exception:
        logger.exception("page failed")
        st.error(t("err_unexpected"), icon=":material/error:")


def call(action: Callable[[], T], *, spinner: bool = True) -> T | None:
    """Run one API call under a spinner; on failure show why and return None."""
    try:
        if spinner:
            with st.spinner(t("loading")):
                return action()
        return action()
    except ApiError as error:
        show_error(error)
        return None


def cell(value: Any, column: str, lang: str) -> str:
    """One table cell for people: :func:`datalake.formatting.format_cell`, in ``lang``'s separators;
    an API timestamp (ISO text with a time) as Madrid wall time."""
    if isinstance(value, str) and _ISO_MOMENT.match(value):
        return when(value)
    if isinstance(value, bool):
        yes, no = YES_NO.get(lang, YES_NO["en"])
        return yes if value else no
    if lang == "en" or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return format_cell(value, column)
    english = format_cell(value, column)
    if isinstance(value, numbers.Integral) and "," not in english:  # a label column (year, store_id)
        return english
    number = float(value)
    if not math.isfinite(number):
        return english
    digits = len(english.split(".")[1]) if "." in english else 0
    return format_number(number, "es", digits)


def people_frame(columns: list[str], rows: list[list[Any]], lang: str) -> pd.DataFrame:
    """The rows as text formatted for people (thousands separators, at most two decimals).

    Known columns get a header in ``lang`` (:data:`ui.i18n.COLUMN_LABELS`); columns of API moments
    are shown in Madrid time, so their header says so (``ts_utc`` becomes ``Hora (Madrid)``).
    """
    moments = {
        column
        for index, column in enumerate(columns)
        if any(
            isinstance(row[index], str) and _ISO_MOMENT.match(row[index]) for row in rows if index < len(row)
        )
    }
    headers = []
    for column in columns:
        name = column.removesuffix("_utc") if column in moments else column
        label = COLUMN_LABELS.get(name, {}).get(lang)
        headers.append(label or (f"{name} (Madrid)" if column in moments else column))
    return pd.DataFrame(
        [[cell(value, column, lang) for value, column in zip(row, columns, strict=False)] for row in rows],
        columns=headers,
    )


def show_table(columns: list[str], rows: list[list[Any]], *, key: str | None = None) -> None:
    """A table formatted for people, or a note when empty."""
    if not rows:
        st.caption(t("no_rows"))
        return
    st.dataframe(people_frame(columns, rows, language()), hide_index=True, width="stretch", key=key)


def _x_values(values: list[Any]) -> tuple[list[Any], str]:
    """The chart's x as times when they parse as ISO dates, else as labels."""
    if values and all(isinstance(v, str) for v in values):
        try:
            parsed = pd.to_datetime(values, utc=True, format="ISO8601").tz_convert("Europe/Madrid")
            return list(parsed.tz_localize(None)), "T"
        except (ValueError, TypeError):
            pass
    if values and all(isinstance(v, int | float) for v in values):
        return values, "O" if all(isinstance(v, int) and 1800 < v < 2200 for v in values) else "Q"
    return [str(v) for v in values], "N"


def chart_from_data(data: dict[str, Any]) -> alt.Chart | None:
    """An Altair chart from /ask-visual's JSON (line, bars, an optional band); None for one value."""
    kind = data.get("kind")
    series = data.get("series") or []
    x_values = data.get("x") or []
    if kind not in ("line", "bar") or not series or not x_values:
        return None
    x, x_type = _x_values(list(x_values))
    frames = [
        pd.DataFrame({"x": x, "value": s.get("values") or [], "series": s.get("name", "")})
        for s in series
        if len(s.get("values") or []) == len(x)
    ]
    if not frames:
        return None
    frame = pd.concat(frames, ignore_index=True)
    x_title = data.get("x_label") or ""
    if x_type == "T":  # the times were turned into Madrid wall time above
        x_title = x_title.replace("(UTC)", "(Madrid)")
    y_title = data.get("y_label") or ""
    color = alt.Color("series:N", legend=alt.Legend(title=None)) if len(frames) > 1 else alt.value("#1f77b4")
    if kind == "bar":
        horizontal = data.get("orientation") == "horizontal"
        category = (
            alt.X("x:N", title=x_title, sort=None)
            if not horizontal
            else alt.Y("x:N", title=x_title, sort=None)
        )
        measure = alt.Y("value:Q", title=y_title) if not horizontal else alt.X("value:Q", title=y_title)
        chart = (
            alt.Chart(frame)
            .mark_bar()
            .encode(category, measure, color=color, tooltip=["x", "series", "value"])
        )
    else:
        chart = (
            alt.Chart(frame)
            .mark_line()
            .encode(
                alt.X(f"x:{x_type}", title=x_title),
                # A line's level matters less than its shape: no axis forced down to 0.
                alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False)),
                color=color,
            )
        )
        band = data.get("band")
        if band and len(band.get("low") or []) == len(x):
            band_frame = pd.DataFrame({"x": x, "low": band["low"], "high": band["high"]})
            area = (
                alt.Chart(band_frame)
                .mark_area(opacity=0.25)
                .encode(alt.X(f"x:{x_type}"), y="low:Q", y2="high:Q")
            )
            chart = area + chart
    return chart.properties(title=data.get("title") or "")


def show_answer_chart(question: str, *, as_of: str | None = None) -> None:
    """Draw /ask-visual's chart for ``question`` when one fits (a single number gets none)."""
    try:
        data = client().ask_chart(question, as_of)
    except ApiError:
        return  # the answer and table are shown already; a chart is a bonus
    chart = chart_from_data(data)
    if chart is not None:
        st.altair_chart(chart, width="stretch")


#: Seconds a dashboard panel's answer is reused: switching tabs or language does not ask again.
PANEL_TTL_S = 60


@st.cache_data(ttl=PANEL_TTL_S, show_spinner=False)
def _panel(base_url: str, api_key: str | None, question: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """/ask's answer and /ask-visual's chart data for a panel (failures raise: never cached)."""
    api = _client(base_url, api_key)
    answer = api.ask(question)
    if len(answer.get("rows") or []) < 2:
        return answer, None
    try:
        return answer, api.ask_chart(question)
    except ApiError:  # the sentence is there; the chart is a bonus
        return answer, None


def dashboard_question(question: str, *, key: str) -> None:
    """A dashboard panel: a question's sentence and chart (or table), or why there is none."""
    try:
        with st.spinner(t("loading")):
            answer, chart_data = _panel(os.environ.get("API_BASE_URL"), os.environ.get("API_KEY"), question)
    except ApiError as error:
        if error.kind == "refused" and error.detail:  # /ask's reason (no data yet, ...), said kindly
            st.info(error.detail, icon=":material/info:")
        else:
            show_error(error)
        return
    st.markdown(f"**{answer['answer']}**")
    chart = chart_from_data(chart_data) if chart_data else None
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    elif len(answer.get("rows") or []) > 1:
        show_table(answer["columns"], answer["rows"], key=key)


def when(moment: str | None) -> str:
    """An API timestamp as Madrid wall time for people (``2024-06-09 23:00``)."""
    if not moment:
        return ""
    try:
        parsed = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return moment
    if parsed.tzinfo is not None:
        from zoneinfo import ZoneInfo

        parsed = parsed.astimezone(ZoneInfo("Europe/Madrid"))
    return parsed.strftime("%Y-%m-%d %H:%M")
