"""/ask over ``portfolio_events`` (the currency app's transactions, issue 21) from its ``ask=`` declaration.

A few transactions known by hand answer the two questions the issue names ("how many transactions
were rejected yesterday?", "total bought in USD by user"); the held-out set
(tests/ask/heldout_portfolio.yaml, written before the declaration, gold from pandas) is scored with
every evaluation table loaded, the energy company's transactions included, whose words it shares.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from ask_fixtures import DuckExecutor

from datalake.ask import eval_frames
from datalake.ask.errors import AskRefusal
from datalake.ask.evaluation import HELDOUT_PORTFOLIO_PATH, evaluate, frames_for, load_questions
from datalake.ask.service import ask
from datalake.datasets.realtime import PORTFOLIO_EVENTS
from datalake.errors import QueryError
from datalake.settings import Settings

pytestmark = pytest.mark.unit

SETTINGS = Settings(_env_file=None)
ASK_TESTS = Path(__file__).resolve().parents[1] / "ask"
#: Thursday 3 December 2026, 10:00 in Madrid: "ayer" is Wednesday 2 December.
AS_OF = dt.datetime.fromisoformat("2026-12-03T10:00:00+01:00")
#: The held-out set's score on this commit (26 of 31): the misses name the energy company's words.
HELDOUT_FLOOR = 26

#: (user, type, amount, currency, Madrid time, status): two rejected sells on 2 December, one on 1
#: December; user-b buys the most dollars, user-a the most pesos.
_ROWS = [
    ("user-a", "buy", "100.00", "USD", "2026-12-01 09:00", "applied"),
    ("user-a", "sell", "500.00", "USD", "2026-12-01 10:00", "rejected"),
    ("user-a", "buy", "2000000.00", "COP", "2026-12-02 09:00", "applied"),
    ("user-b", "buy", "300.50", "USD", "2026-12-02 11:00", "applied"),
    ("user-b", "sell", "900.00", "USD", "2026-12-02 12:00", "rejected"),
    ("user-c", "sell", "10.00", "USD", "2026-12-02 23:30", "rejected"),  # 22:30 UTC, still the 2nd in Madrid
    ("user-c", "buy", "50.25", "USD", "2026-12-03 00:30", "applied"),  # 23:30 UTC on the 2nd: the 3rd here
]


def portfolio_frame() -> pd.DataFrame:
    rows = []
    for n, (user, kind, amount, currency, local, status) in enumerate(_ROWS):
        at = pd.Timestamp(local, tz="Europe/Madrid")
        rows.append(
            {
                "event_id": f"tx-{n}",
                "user_id": user,
                "type": kind,
                "amount": Decimal(amount),
                "currency": currency,
                "client_time": at.tz_convert("UTC"),
                "received_at": at.tz_convert("UTC"),
                "local_date": at.date(),
                "status": status,
                "reject_reason": "insufficient_balance" if status == "rejected" else None,
                "balance_after": Decimal("0.00"),
                "processed_at": at.tz_convert("UTC"),
                "extracted_at": pd.Timestamp("2026-12-03", tz="UTC"),
            }
        )
    return pd.DataFrame(rows)[PORTFOLIO_EVENTS.column_names]


@pytest.fixture(scope="module")
def portfolio() -> DuckExecutor:
    # Beside the energy company's transactions: the words they share must not send these there.
    return DuckExecutor({"portfolio_events": portfolio_frame(), **eval_frames.energy_frames()})


def answer(question: str, executor: DuckExecutor) -> Any:
    return ask(question, AS_OF, settings=SETTINGS, executor=executor)


def value(result: Any) -> Any:
    return result.rows[0][result.columns.index(result.interpretation["value_column"])]


def test_rejected_transactions_yesterday_in_both_languages(portfolio: DuckExecutor) -> None:
    for question in (
        "¿cuántas transacciones se rechazaron ayer?",
        "how many transactions were rejected yesterday?",
    ):
        result = answer(question, portfolio)
        assert result.interpretation["dataset"] == "portfolio_events", question
        assert value(result) == 2, question  # user-b's and user-c's; user-a's was the day before


def test_total_bought_in_usd_by_user(portfolio: DuckExecutor) -> None:
    for question in ("total bought in USD by user", "total comprado en dólares por usuario"):
        result = answer(question, portfolio)
        assert result.interpretation["dataset"] == "portfolio_events", question
        by_user = {row[0]: row[1] for row in result.rows}
        # Buys in dollars only: user-a's pesos are not added to its dollars.
        assert by_user == {"user-b": 300.5, "user-a": 100.0, "user-c": 50.25}, question
        assert "USD" in result.answer


def test_how_many_dollars_is_an_amount_and_a_lower_case_user_id_is_a_filter(portfolio: DuckExecutor) -> None:
    assert value(answer("how many dollars did user-b buy?", portfolio)) == 300.5
    # A rejected sale moved nothing: amounts sold count applied transactions only.
    assert value(answer("¿cuántos dólares se vendieron?", portfolio)) in (None, 0, 0.0)


def test_a_question_naming_only_shared_words_stays_with_the_energy_company(portfolio: DuckExecutor) -> None:
    # "ventas en marzo de 2024": both tables have sales; the subject declared first answers, as before.
    result = answer("¿Cuántas ventas hubo en marzo de 2024?", portfolio)
    assert result.interpretation["dataset"] == "energy_transacciones"


def test_deleting_is_refused(portfolio: DuckExecutor) -> None:
    with pytest.raises(AskRefusal) as caught:
        answer("borra las transacciones rechazadas", portfolio)
    assert caught.value.kind == "unsafe"


# -- the held-out set ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def builder() -> Iterator[ModuleType]:
    sys.path.insert(0, str(ASK_TESTS))
    try:
        import build_heldout_portfolio

        yield build_heldout_portfolio
    finally:
        sys.path.remove(str(ASK_TESTS))


def test_the_builder_writes_the_committed_set_bilingual_with_refusals(builder: ModuleType) -> None:
    questions = load_questions(HELDOUT_PORTFOLIO_PATH)
    assert builder.build() == questions  # regenerate with tests/ask/build_heldout_portfolio.py
    languages = {q["id"].split("-")[2] for q in questions}
    assert languages == {"es", "en"} and len(questions) >= 30
    assert sum(1 for q in questions if q["gold"].get("refuse")) >= 3


def test_the_heldout_set_is_answered_beside_every_other_table() -> None:
    questions = load_questions(HELDOUT_PORTFOLIO_PATH)
    frames = frames_for(questions) | eval_frames.energy_frames() | eval_frames.price_frames()
    executor = DuckExecutor(frames)
    report = evaluate(
        questions, lambda question, as_of: ask(question, as_of, settings=SETTINGS, executor=executor)
    )
    print(report.format())
    passed = sum(outcome.passed for outcome in report.outcomes)
    assert passed >= HELDOUT_FLOOR, report.format()


class EngineLike(DuckExecutor):
    """DuckDB raising the engines' own error (``QueryError``), as the lake and warehouse executors do."""

    def run(self, sql: str) -> tuple[list[str], list[list[Any]]]:
        import duckdb

        try:
            return super().run(sql)
        except duckdb.Error as error:
            raise QueryError(str(error), sql, "duckdb") from None


def test_a_lake_without_the_table_says_there_is_no_data_yet() -> None:
    # Before the realtime job has run: a user id looked up, then the table's own query, both missing.
    lake = EngineLike(eval_frames.energy_frames())
    for question in ("how many transactions did user-03 make in November?", "transacciones rechazadas ayer"):
        with pytest.raises(AskRefusal) as caught:
            answer(question, lake)
        assert caught.value.kind == "no_data", question
