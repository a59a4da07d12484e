"""Every question the web app asks on its own (dashboard panels, the company's queries, the top
movies, the forecast's history, the example questions) is one the real /ask parser understands:
it is turned into SQL, not refused. The SQL runs on a recorder that answers one row per query."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlglot

from datalake.ask.service import ask
from datalake.settings import Settings
from ui import questions

AS_OF = dt.datetime(2024, 6, 10, 12)


class OneRow:
    """A SqlExecutor that records the SQL and answers one row of the columns it names."""

    name = "warehouse"
    dialect = "postgres"
    daily_demand_table = None

    def __init__(self) -> None:
        self.statements: list[str] = []

    def run(self, sql: str) -> tuple[list[str], list[list[Any]]]:
        self.statements.append(sql)
        columns = sqlglot.parse_one(sql, read="postgres").named_selects
        timely = ("ts", "date", "start", "time")
        return columns, [["2024-06-03T00:00:00+00:00" if c.startswith(timely) else 1 for c in columns]]


def _questions() -> list[str]:
    found: list[str] = []
    for lang in ("es", "en"):
        found += [q for panel in questions.PANELS.values() for q in panel[lang]]
        found += questions.COMPANY_QUESTIONS[lang]
        found += [questions.TOP_MOVIES_QUESTION[lang], questions.HISTORY_QUESTION[lang]]
        found += [q for qs in questions.example_questions(lang).values() for q in qs]
    return list(dict.fromkeys(found))


@pytest.mark.parametrize("question", _questions())
def test_the_parser_answers_every_question_the_app_asks(question: str, tmp_path: Path) -> None:
    recorder = OneRow()
    settings = Settings(_env_file=None, lake_root=tmp_path / "lake")
    result = ask(question, AS_OF, settings=settings, executor=recorder)
    assert recorder.statements, question
    assert result.answer and result.sql
