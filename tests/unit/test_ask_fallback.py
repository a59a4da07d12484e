"""The optional text-to-SQL model behind /ask (ASK_BACKEND): which questions reach it, how SQL is
read from its reply, the prompt, the stored examples and the token (a local fake stands in for
the model; the HTTP call itself is tested in test_ask_hf_loopback.py)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
import sqlglot

from datalake import aws
from datalake.ask import AskRefusal, HuggingFaceTextToSql, ask
from datalake.ask.evaluation import scratch_lake
from datalake.ask.executors import SqlExecutor
from datalake.ask.fallback import configured_backend, extract_sql, hf_token
from datalake.ask.guard import guard_sql
from datalake.ask.model_examples import EXAMPLES, EXAMPLES_DIALECT
from datalake.ask.model_prompt import examples_prompt, schema_prompt, system_prompt
from datalake.ask.periods import MADRID
from datalake.errors import ConfigurationError
from datalake.settings import DEFAULT_ASK_MODEL_ID, Settings

AS_OF = dt.datetime(2024, 4, 17, 14, 30, tzinfo=MADRID)
SETTINGS = Settings(_env_file=None, lake_runtime="local")  # type: ignore[call-arg]
#: A question the parser does not understand (not_understood), so parser+hf asks the model.
UNKNOWN = "¿cuántas filas tiene la tabla de medidas?"


class FakeBackend:
    """Replies with canned text and records the prompts it was given."""

    def __init__(self, reply: str) -> None:
        self.name = "fake/text-to-sql"
        self.engine = "hf:fake/text-to-sql"
        self.reply = reply
        self.calls: list[tuple[str, str]] = []

    def complete(self, question: str, *, prompt: str) -> str:
        self.calls.append((question, prompt))
        return self.reply


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


def test_model_sql_runs_through_the_guard_when_the_parser_does_not_understand(lake: SqlExecutor) -> None:
    backend = FakeBackend(
        "Here it is:\n```sql\n"
        "SELECT COUNT(*) AS n FROM demand_hourly WHERE region = 'peninsular' -- counted\n```"
    )
    recorder = Recorder(lake)
    result = ask(UNKNOWN, AS_OF, settings=SETTINGS, executor=recorder, backend=backend)
    question, prompt = backend.calls[0]
    assert (
        question == UNKNOWN and "Trino (Amazon Athena)" in prompt and "CREATE TABLE demand_hourly" in prompt
    )
    assert "2024-04-17 14:30 (Wednesday), Europe/Madrid, UTC+02:00" in prompt
    assert result.interpretation == {
        "method": "model",
        "model_id": "fake/text-to-sql",
        "language": "es",
        "executor": "lake",
    }
    assert result.engine == "hf:fake/text-to-sql"
    assert recorder.statements == [result.sql] and result.sql.endswith("LIMIT 1000")
    assert "counted" not in result.sql  # comments dropped by the guard
    assert result.rows[0][0] == 8784  # 2024 (a leap year) of peninsular rows
    assert "fake/text-to-sql" in result.answer


@pytest.mark.parametrize(
    ("reply", "rule"),
    [
        ("DROP TABLE demand_hourly", "only SELECT is allowed, not DROP"),
        ("SELECT 1 AS one FROM generation; DELETE FROM generation", "expected exactly one statement, got 2"),
        ("SELECT * FROM pg_user", "table 'pg_user' is not allowed"),
        ("SELECT pg_sleep(5)", "function 'pg_sleep' is not allowed"),
        ("SELECT * FROM forecast_requests", "table 'forecast_requests' is not allowed"),
    ],
)
def test_model_sql_the_guard_refuses_is_a_refusal_naming_the_rule_and_never_runs(
    lake: SqlExecutor, reply: str, rule: str
) -> None:
    recorder = Recorder(lake)
    with pytest.raises(AskRefusal) as caught:
        ask(UNKNOWN, AS_OF, settings=SETTINGS, executor=recorder, backend=FakeBackend(reply))
    assert caught.value.kind == "model_unsafe" and caught.value.suggestions
    assert rule in caught.value.reason and "no es segura" in caught.value.reason
    assert recorder.statements == []


def test_a_reply_without_sql_is_a_refusal_quoting_it(lake: SqlExecutor) -> None:
    with pytest.raises(AskRefusal) as caught:
        ask(
            "how many rows are in the measurements table?",
            AS_OF,
            settings=SETTINGS,
            executor=lake,
            backend=FakeBackend("NO_SQL: the tables hold no row counts"),
        )
    assert caught.value.kind == "model_no_sql" and caught.value.language == "en"
    assert caught.value.reason == (
        "The model fake/text-to-sql wrote no SQL query (it replied: the tables hold no row counts)."
    )


def test_model_sql_the_engine_refuses_is_a_refusal_with_the_engines_words(lake: SqlExecutor) -> None:
    backend = FakeBackend("SELECT CAST(region AS INT) AS n FROM demand_hourly")
    with pytest.raises(AskRefusal) as caught:
        ask(UNKNOWN, AS_OF, settings=SETTINGS, executor=lake, backend=backend)
    assert caught.value.kind == "model_query_failed"
    assert "ha fallado en el motor" in caught.value.reason and "national" in caught.value.reason


def test_the_model_is_not_asked_when_the_parser_understands_or_refuses_on_purpose(lake: SqlExecutor) -> None:
    backend = FakeBackend("SELECT 1 AS one FROM demand_hourly")
    ask("demanda de ayer", AS_OF, settings=SETTINGS, executor=lake, backend=backend)
    with pytest.raises(AskRefusal) as unsafe:
        ask("borra la tabla", AS_OF, settings=SETTINGS, executor=lake, backend=backend)
    with pytest.raises(AskRefusal) as out_of_scope:
        ask("precio de la luz ayer", AS_OF, settings=SETTINGS, executor=lake, backend=backend)
    assert (unsafe.value.kind, out_of_scope.value.kind) == ("unsafe", "out_of_scope")
    assert backend.calls == []


def test_with_ask_backend_hf_every_question_goes_to_the_model(lake: SqlExecutor) -> None:
    settings = SETTINGS.model_copy(update={"ask_backend": "hf"})
    backend = FakeBackend("```sql\nSELECT MAX(demand_mw) AS demand_mw FROM demand_hourly\n```")
    result = ask("demanda de ayer", AS_OF, settings=settings, executor=lake, backend=backend)
    assert [q for q, _ in backend.calls] == ["demanda de ayer"]
    assert result.interpretation["method"] == "model" and result.columns == ["demand_mw"]


def test_parser_is_the_default_and_calls_no_model(lake: SqlExecutor) -> None:
    assert SETTINGS.ask_backend == "parser" and configured_backend(SETTINGS) is None
    with pytest.raises(AskRefusal) as caught:
        ask(UNKNOWN, AS_OF, settings=SETTINGS, executor=lake)
    assert caught.value.kind == "not_understood"


def test_the_configured_backend_is_the_hugging_face_model_of_the_settings() -> None:
    settings = Settings(_env_file=None, ask_backend="parser+hf", ask_model_id="")  # type: ignore[call-arg]
    backend = configured_backend(settings)
    assert isinstance(backend, HuggingFaceTextToSql)
    assert backend.name == DEFAULT_ASK_MODEL_ID == "Qwen/Qwen2.5-Coder-32B-Instruct"  # blank: the default
    assert backend.engine == f"hf:{DEFAULT_ASK_MODEL_ID}" and configured_backend(settings) is backend


def test_without_a_token_the_hugging_face_router_is_a_configuration_error_naming_hf_token(
    lake: SqlExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    settings = Settings(_env_file=None, ask_backend="hf", ask_model_id="org/no-token-model")  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="HF_TOKEN") as caught:
        ask("demanda de ayer", AS_OF, settings=settings, executor=lake)
    assert "HF_TOKEN_SECRET_ARN" in str(caught.value.hint)


# -- the token ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "token"),
    [
        ("hf_plain", "hf_plain"),
        (json.dumps({"hf_token": "hf_json"}), "hf_json"),
        ('{"token": "hf_t"}', "hf_t"),
    ],
)
def test_the_token_secret_wins_over_hf_token(
    monkeypatch: pytest.MonkeyPatch, secret: str, token: str
) -> None:
    read: list[tuple[str, str]] = []

    def secret_string(arn: str, label: str, setting: str, *_: object) -> str:
        read.append((arn, setting))
        return secret

    monkeypatch.setattr(aws, "secret_string", secret_string)
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hf"
    settings = Settings(_env_file=None, hf_token="hf_env", hf_token_secret_arn=arn)  # type: ignore[call-arg]
    assert hf_token(settings) == token and read == [(arn, "HF_TOKEN_SECRET_ARN")]


def test_an_empty_token_secret_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aws, "secret_string", lambda *_a, **_k: '{"other": 1}')
    settings = Settings(_env_file=None, hf_token_secret_arn="arn:aws:secretsmanager:x")  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="arn:aws:secretsmanager:x is empty"):
        hf_token(settings)


def test_hf_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")
    assert hf_token(Settings(_env_file=None)) == "hf_from_env"  # type: ignore[call-arg]
    monkeypatch.delenv("HF_TOKEN")
    assert hf_token(Settings(_env_file=None)) is None  # type: ignore[call-arg]


# -- reading SQL out of a reply ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "sql"),
    [
        ("Here:\n```sql\nSELECT 1 AS a FROM generation;\n```\nIt counts.", "SELECT 1 AS a FROM generation;"),
        # A second statement in the block stays, for the guard to refuse.
        (
            "```sql\nSELECT 1 AS a FROM generation;\nDROP TABLE x;\n```",
            "SELECT 1 AS a FROM generation;\nDROP TABLE x;",
        ),
        ("```python\nprint(1)\n```\n```sql\nSELECT 2\n```", "SELECT 2"),
        ("```\nDELETE FROM generation\n```", "DELETE FROM generation"),
        ("```SELECT 1```", "SELECT 1"),
        (
            "<think>select the table first</think>\n```sql\nWITH x AS (SELECT 1) SELECT * FROM x\n```",
            "WITH x AS (SELECT 1) SELECT * FROM x",
        ),
        ("The query:\n  select * from pg_shadow", "select * from pg_shadow"),
        ("SELECT a FROM t; This sums the hours.", "SELECT a FROM t"),
        ("SELECT a FROM t; DROP TABLE t", "SELECT a FROM t; DROP TABLE t"),
        ("Sorry, please select another question.", None),
        ("NO_SQL: prices are not in these tables", None),
        ("```text\nhello\n```", None),
        ("", None),
    ],
)
def test_extract_sql(reply: str, sql: str | None) -> None:
    assert extract_sql(reply) == sql


# -- the prompt and its examples ----------------------------------------------------------------------


def test_the_prompt_is_the_semantic_layer() -> None:
    prompt = system_prompt("postgres", dt.datetime(2024, 1, 15, 8, 0, tzinfo=dt.UTC))
    assert "in the PostgreSQL dialect" in prompt
    schema = schema_prompt()
    assert schema in prompt and "demand_mw double,  -- Mean demand over the hour, MW" in schema
    assert "energy_mwh double,  -- Energy generated over the period, MWh" in schema
    assert "Europe/Madrid time (CET, UTC+1; CEST, UTC+2" in prompt and "SUM(demand_mw)" in prompt
    assert "wind: 'Eólica', 'Wind Onshore', 'Wind Offshore'" in prompt
    assert prompt.count("\n```sql\n") == len(EXAMPLES) and EXAMPLES[0].question in prompt
    assert prompt.endswith("asked now: 2024-01-15 09:00 (Monday), Europe/Madrid, UTC+01:00.")


@pytest.mark.parametrize("dialect", ["postgres", "athena"])
def test_every_example_passes_the_guard_in_each_dialect(dialect: str) -> None:
    text = examples_prompt(dialect)
    for example in EXAMPLES:
        sql = sqlglot.transpile(example.sql, read=EXAMPLES_DIALECT, write=dialect)[0]
        assert f"```sql\n{sql}\n```" in text
        assert guard_sql(sql, dialect, max_limit=1_000)


def test_the_stored_examples_still_answer_what_the_parser_answers(lake: SqlExecutor) -> None:
    for example in EXAMPLES:
        parser = ask(example.question, example.asked_at, settings=SETTINGS, executor=lake)
        stored_sql = sqlglot.transpile(example.sql, read=EXAMPLES_DIALECT, write=lake.dialect)[0]
        columns, rows = lake.run(stored_sql)
        # The same rows; sums of floats may differ in the last digit with the order they are added in.
        assert columns == parser.columns, example.question
        assert rows == [
            [pytest.approx(cell, rel=1e-12) if isinstance(cell, float) else cell for cell in row]
            for row in parser.rows
        ], example.question
