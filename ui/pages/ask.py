"""Preguntar / Ask: a chat over /ask with the answer, the table, a chart when one fits and the SQL."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.client import ApiError
from ui.common import chart_from_data, client, guarded, language, show_error, show_table, t
from ui.questions import SUBJECT_NAMES, example_questions

CHAT_KEY = "ask_chat"
PENDING_KEY = "ask_pending"


def ask_now(question: str) -> dict[str, Any]:
    """One chat turn: the answer with its chart data, or the refusal, or the failure."""
    turn: dict[str, Any] = {"question": question}
    try:
        with st.spinner(t("loading")):
            answer = client().ask(question)
            turn["answer"] = answer
            if len(answer.get("rows") or []) > 1:
                try:
                    turn["chart"] = client().ask_chart(question)
                except ApiError:
                    turn["chart"] = None
    except ApiError as error:
        turn["error"] = error
    return turn


def _queue(question: str) -> None:
    st.session_state[PENDING_KEY] = question


def show_turn(turn: dict[str, Any], index: int) -> None:
    """One question and what came back, as chat messages."""
    with st.chat_message("user"):
        st.markdown(turn["question"])
    with st.chat_message("assistant"):
        error: ApiError | None = turn.get("error")
        if error is not None and error.kind == "refused" and error.suggestions:
            st.info(f"{t('ask_refused')} {error.detail}")
            st.caption(t("ask_try"))
            for number, suggestion in enumerate(error.suggestions):
                st.button(suggestion, key=f"suggest-{index}-{number}", on_click=_queue, args=(suggestion,))
            return
        if error is not None:
            show_error(error)
            return
        answer = turn["answer"]
        st.markdown(f"**{answer['answer']}**")
        chart = chart_from_data(turn["chart"]) if turn.get("chart") else None
        if chart is not None:
            st.altair_chart(chart, width="stretch")
        if answer.get("rows") and (len(answer["rows"]) > 1 or len(answer.get("columns") or []) > 1):
            show_table(answer["columns"], answer["rows"], key=f"table-{index}")
        with st.expander(t("sql")):
            st.code(answer.get("sql") or "", language="sql")


def main() -> None:
    """Draw the page."""
    lang = language()
    st.title(t("ask_title"))
    st.caption(t("ask_intro"))
    with st.expander(t("ask_examples"), expanded=not st.session_state.get(CHAT_KEY)):
        for subject, questions in example_questions(lang).items():
            st.markdown(f"**{SUBJECT_NAMES.get(subject, {}).get(lang, subject)}**")
            columns = st.columns(len(questions))
            for number, (column, question) in enumerate(zip(columns, questions, strict=True)):
                column.button(question, key=f"example-{subject}-{number}", on_click=_queue, args=(question,))
    chat: list[dict[str, Any]] = st.session_state.setdefault(CHAT_KEY, [])
    typed = st.chat_input(t("ask_placeholder"))
    question = typed or st.session_state.pop(PENDING_KEY, None)
    if question and question.strip():
        chat.append(ask_now(question.strip()))
    for index, turn in enumerate(chat):
        show_turn(turn, index)
    if chat:
        st.button(t("ask_clear"), on_click=chat.clear)


guarded(main)
