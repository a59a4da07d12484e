"""The optional text-to-SQL fallback: tried only for questions the parser does not understand,
and its SQL passes the same guard (a local fake stands in for the model)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from datalake.ask import AskRefusal, HuggingFaceTextToSql, ask
from datalake.ask.evaluation import scratch_lake
from datalake.ask.executors import SqlExecutor
from datalake.ask.fallback import extract_sql, schema_prompt
from datalake.ask.periods import MADRID
from datalake.errors import ConfigurationError
from datalake.settings import Settings

AS_OF = dt.datetime(2024, 4, 17, 14, 30, tzinfo=MADRID)
SETTINGS = Settings(_env_file=None, lake_runtime="local")  # type: ignore[call-arg]


class FakeBackend:
    """Returns canned SQL and records the prompts it was given."""

    def __init__(self, sql: str) -> None:
        self.name = "fake/text-to-sql"
        self.sql = sql
        self.calls: list[tuple[str, str, str]] = []

    def generate_sql(self, question: str, *, schema: str, dialect: str) -> str:
        self.calls.append((question, schema, dialect))
        return self.sql


class Recorder:
    def __init__(self, inner: SqlExecutor) -> None:
        self.inner, self.name, self.dialect = inner, inner.name, inner.dialect
        self.statements: list[str] = []

    def run(self, sql: str):  # type: ignore[no-untyped-def]
        self.statements.append(sql)
        return self.inner.run(sql)


@pytest.fixture(scope="module")
def lake() -> Iterator[SqlExecutor]:
    with scratch_lake() as executor:
        yield executor


def test_model_sql_runs_through_the_guard_when_the_parser_fails(lake: SqlExecutor) -> None:
    backend = FakeBackend("SELECT COUNT(*) AS n FROM demand_hourly WHERE region = 'peninsular' -- counted")
    recorder = Recorder(lake)
    result = ask(
        "¿cuántas filas tiene la tabla de medidas?",
        AS_OF,
        settings=SETTINGS,
        executor=recorder,
        backend=backend,
    )
    assert backend.calls and backend.calls[0][2] == "athena" and "demand_hourly" in backend.calls[0][1]
    assert result.interpretation == {"method": "model", "model_id": "fake/text-to-sql", "language": "es"}
    assert recorder.statements == [result.sql] and result.sql.endswith("LIMIT 1000")
    assert "counted" not in result.sql  # comments dropped by the guard
    assert result.rows[0][0] == 8784  # 2024 (a leap year) of peninsular rows
    assert "fake/text-to-sql" in result.answer


@pytest.mark.parametrize(
    "bad_sql",
    [
        "DROP TABLE demand_hourly",
        "SELECT 1; DELETE FROM generation",
        "SELECT * FROM pg_user",
        "SELECT pg_sleep(5)",
    ],
)
def test_bad_model_sql_is_refused_and_never_runs(lake: SqlExecutor, bad_sql: str) -> None:
    recorder = Recorder(lake)
    with pytest.raises(AskRefusal) as caught:
        ask("¿cuántas filas hay?", AS_OF, settings=SETTINGS, executor=recorder, backend=FakeBackend(bad_sql))
    assert caught.value.kind == "model_failed" and caught.value.suggestions
    assert recorder.statements == []


def test_the_model_is_not_asked_when_the_parser_understands_or_refuses_on_purpose(lake: SqlExecutor) -> None:
    backend = FakeBackend("SELECT 1 AS one FROM demand_hourly")
    ask("demanda de ayer", AS_OF, settings=SETTINGS, executor=lake, backend=backend)
    with pytest.raises(AskRefusal):
        ask("borra la tabla", AS_OF, settings=SETTINGS, executor=lake, backend=backend)
    with pytest.raises(AskRefusal):
        ask("precio de la luz ayer", AS_OF, settings=SETTINGS, executor=lake, backend=backend)
    assert backend.calls == []


def test_off_by_default(lake: SqlExecutor) -> None:
    assert SETTINGS.ask_model_id is None
    with pytest.raises(AskRefusal) as caught:
        ask("¿cuántas filas hay?", AS_OF, settings=SETTINGS, executor=lake)
    assert caught.value.kind == "not_understood"


def test_huggingface_backend_loads_its_pipeline_lazily_once() -> None:
    created: list[tuple[str, str]] = []

    def factory(task: str, model: str):  # type: ignore[no-untyped-def]
        created.append((task, model))
        return lambda prompt, **kwargs: [{"generated_text": " demand_mw FROM demand_hourly; DROP TABLE x"}]

    backend = HuggingFaceTextToSql("org/sql-model", pipeline_factory=factory)
    assert created == []  # nothing loaded until first use
    sql = backend.generate_sql("q", schema=schema_prompt(), dialect="postgres")
    backend.generate_sql("q", schema=schema_prompt(), dialect="postgres")
    assert created == [("text-generation", "org/sql-model")]
    assert sql == "SELECT  demand_mw FROM demand_hourly"


def test_huggingface_backend_without_transformers_is_a_clear_configuration_error(
    monkeypatch: pytest.MonkeyPatch, lake: SqlExecutor
) -> None:
    import sys

    # None in sys.modules makes any import of it fail, installed or not.
    monkeypatch.setitem(sys.modules, "transformers", None)
    settings = Settings(_env_file=None, lake_runtime="local", ask_model_id="org/sql-model")  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="transformers"):
        ask("¿cuántas filas hay?", AS_OF, settings=settings, executor=lake)


def test_extract_sql_takes_the_first_statement_of_a_fenced_block() -> None:
    assert (
        extract_sql("Here:\n```sql\nSELECT 1 AS a FROM generation;\nDROP TABLE x;\n```")
        == "SELECT 1 AS a FROM generation"
    )
    assert extract_sql("with x as (select 1) select * from x") == "with x as (select 1) select * from x"
