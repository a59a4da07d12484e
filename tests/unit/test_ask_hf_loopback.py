"""/ask's Hugging Face backend against a loopback server that speaks the chat-completions shape.

A real ``http.server`` on 127.0.0.1 answers ``POST /v1/chat/completions`` (OpenAI-compatible
JSON, as Hugging Face's router and TGI do) with whatever the test scripts: good SQL, malicious
SQL, no SQL, 429, 500/503, a malformed body or a reply slower than the timeout. Each case is
checked through :func:`datalake.ask.ask` and through the FastAPI app for its HTTP status. No
test reaches past the loopback: every outgoing connection and name lookup is recorded and must
be 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from api_fixtures import fake_services
from fastapi.testclient import TestClient
from huggingface_hub import constants as hf_constants
from typer.testing import CliRunner

from api.main import create_app
from datalake.ask import AskRefusal, ask
from datalake.ask.evaluation import load_questions, scratch_lake
from datalake.ask.executors import SqlExecutor
from datalake.ask.parser import parse
from datalake.ask.periods import MADRID
from datalake.ask.sqlbuild import build_query
from datalake.cli import app
from datalake.errors import ModelUnavailableError
from datalake.settings import Settings, get_settings

AS_OF = dt.datetime(2024, 4, 17, 14, 30, tzinfo=MADRID)
MODEL = "test-org/sql-coder"
TOKEN = "hf_loopback_token"
#: Not understood by the parser: parser+hf sends it to the model.
UNKNOWN = "¿cuántas filas peninsulares hay en 2024?"
GOOD_SQL = "SELECT COUNT(*) AS n FROM demand_hourly WHERE region = 'peninsular'"


@dataclass
class Reply:
    """What the server answers next: a chat completion with ``content``, or ``raw`` bytes."""

    status: int = 200
    content: str | None = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class ChatServer:
    """A loopback chat-completions server; tests set :attr:`reply` and read :attr:`requests`."""

    def __init__(self) -> None:
        self.reply = Reply(content="SELECT 1")
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()  # ends a slow reply's wait at teardown
        chat = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                headers = {name.lower(): value for name, value in self.headers.items()}
                chat.requests.append({"path": self.path, "headers": headers, "body": body})
                reply = chat.reply
                if reply.delay_s:
                    chat.release.wait(reply.delay_s)
                payload = reply.raw if reply.raw is not None else json.dumps(completion(reply, body)).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (the timeout case)
                    pass

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def completion(reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
    """The body of a chat completion, or of an error (the shape Hugging Face's servers use)."""
    if reply.status >= 400:
        return {"error": reply.content or "error", "error_type": "test"}
    return {
        "id": "chatcmpl-loopback",
        "object": "chat.completion",
        "created": 1_713_360_000,
        "model": request.get("model"),
        "system_fingerprint": "loopback",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record every connection and name lookup; anything but the loopback fails the test."""
    reached: list[str] = []
    connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def recording_connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            reached.append(str(address[0]))
        return connect(self, address)

    def recording_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        reached.append(str(host))
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    monkeypatch.setattr(socket, "getaddrinfo", recording_getaddrinfo)
    # huggingface_hub's user agent otherwise fetches a list of agent harnesses from the Hub.
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    yield reached
    assert set(reached) <= {"127.0.0.1"}, f"a test reached past the loopback: {sorted(set(reached))}"


@pytest.fixture(scope="module")
def server() -> Iterator[ChatServer]:
    with ChatServer() as chat:
        yield chat


@pytest.fixture(autouse=True)
def fresh_server(server: ChatServer) -> ChatServer:
    server.requests.clear()
    server.reply = Reply(content="SELECT 1")
    return server


@pytest.fixture(scope="module")
def lake() -> Iterator[SqlExecutor]:
    with scratch_lake() as executor:
        yield executor


class Recorder:
    """The lake executor, keeping every statement it was given."""

    def __init__(self, inner: SqlExecutor) -> None:
        self.inner, self.name, self.dialect = inner, inner.name, inner.dialect
        self.statements: list[str] = []

    def run(self, sql: str) -> Any:
        self.statements.append(sql)
        return self.inner.run(sql)


def hf_settings(server: ChatServer, **overrides: Any) -> Settings:
    values = {
        "lake_runtime": "local",
        "ask_engine": "lake",
        "ask_backend": "parser+hf",
        "ask_model_id": MODEL,
        "ask_hf_base_url": server.url,
        "ask_hf_timeout_s": 5.0,
        "hf_token": TOKEN,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# -- through ask() ----------------------------------------------------------------------------------


def test_good_sql_is_guarded_run_and_answered_as_hf_model(server: ChatServer, lake: SqlExecutor) -> None:
    server.reply = Reply(content=f"Here is the query:\n```sql\n{GOOD_SQL};\n```")
    recorder = Recorder(lake)
    result = ask(UNKNOWN, AS_OF, settings=hf_settings(server), executor=recorder)

    assert result.engine == f"hf:{MODEL}" and result.interpretation["executor"] == "lake"
    assert result.sql == f"{GOOD_SQL} LIMIT 1000" and recorder.statements == [result.sql]
    assert result.columns == ["n"] and result.rows == [[8784]]  # 2024's hours, peninsular
    [request] = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
    body = request["body"]
    assert body["model"] == MODEL and body["temperature"] == 0 and body["max_tokens"] == 768
    system, user = body["messages"]
    assert (system["role"], user) == ("system", {"role": "user", "content": UNKNOWN})
    assert "CREATE TABLE demand_hourly" in system["content"] and "Europe/Madrid" in system["content"]
    assert system["content"].endswith("2024-04-17 14:30 (Wednesday), Europe/Madrid, UTC+02:00.")


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (
            "```sql\nSELECT 1 AS one FROM demand_hourly; DROP TABLE demand_hourly;\n```",
            "exactly one statement",
        ),
        ("SELECT passwd FROM pg_shadow", "table 'pg_shadow' is not allowed"),
        ("```sql\nSELECT * FROM forecast_requests\n```", "table 'forecast_requests' is not allowed"),
        ("```sql\nSELECT * FROM predictions\n```", "table 'predictions' is not allowed"),
        ("```sql\nDELETE FROM generation\n```", "only SELECT is allowed, not DELETE"),
        ("UPDATE demand_hourly SET demand_mw = 0", "only SELECT is allowed, not UPDATE"),
        ("```sql\nSELECT * FROM information_schema.tables\n```", "qualified table names are not allowed"),
    ],
)
def test_malicious_sql_is_refused_naming_the_rule_and_never_runs(
    server: ChatServer, lake: SqlExecutor, content: str, rule: str
) -> None:
    server.reply = Reply(content=content)
    recorder = Recorder(lake)
    with pytest.raises(AskRefusal) as caught:
        ask(UNKNOWN, AS_OF, settings=hf_settings(server), executor=recorder)
    assert caught.value.kind == "model_unsafe" and rule in caught.value.reason
    assert recorder.statements == [] and len(server.requests) == 1


@pytest.mark.parametrize("content", ["Lo siento, no puedo ayudar con eso.", "", "```\n42\n```"])
def test_garbage_is_refused_as_no_sql(server: ChatServer, lake: SqlExecutor, content: str) -> None:
    server.reply = Reply(content=content)
    recorder = Recorder(lake)
    with pytest.raises(AskRefusal) as caught:
        ask(UNKNOWN, AS_OF, settings=hf_settings(server), executor=recorder)
    assert caught.value.kind == "model_no_sql"
    assert f"El modelo {MODEL} no ha escrito ninguna consulta SQL" in caught.value.reason
    assert recorder.statements == []


@pytest.mark.parametrize(
    ("reply", "reason", "retry_after"),
    [
        (Reply(429, "Rate limit reached", headers={"Retry-After": "7"}), "rate limited (HTTP 429", 7),
        (Reply(500, "CUDA out of memory"), "server error (HTTP 500: CUDA out of memory)", None),
        (Reply(503, "Model is loading"), "server error (HTTP 503: Model is loading)", None),
        (Reply(401, "Invalid credentials"), "the token was refused (HTTP 401", None),
        (Reply(200, raw=b"<html>not json</html>"), "malformed reply", None),
        (Reply(200, content="SELECT 1", delay_s=30.0), "no answer within 0.5 s", None),
    ],
    ids=["429", "500", "503", "401", "malformed", "timeout"],
)
def test_a_model_that_does_not_answer_is_model_unavailable(
    server: ChatServer, lake: SqlExecutor, reply: Reply, reason: str, retry_after: int | None
) -> None:
    server.reply = reply
    settings = hf_settings(server, ask_hf_timeout_s=0.5)
    with pytest.raises(ModelUnavailableError) as caught:
        ask(UNKNOWN, AS_OF, settings=settings, executor=lake)
    assert str(caught.value).startswith(f"the text-to-SQL model {MODEL} is unavailable: ")
    assert reason in str(caught.value) and caught.value.retry_after_s == retry_after
    assert server.url not in str(caught.value)  # no address in the reason


def test_parser_plus_hf_never_asks_the_model_what_the_parser_answers_or_refuses(
    server: ChatServer, lake: SqlExecutor
) -> None:
    settings = hf_settings(server)
    answered = ask("demanda total de ayer", AS_OF, settings=settings, executor=lake)
    assert answered.engine == "lake" and answered.interpretation["measure"] == "demand"
    for question in ("borra la tabla demand_hourly", "demanda de ayer; DROP TABLE generation; --"):
        with pytest.raises(AskRefusal) as caught:
            ask(question, AS_OF, settings=settings, executor=lake)
        assert caught.value.kind == "unsafe"
    assert server.requests == []


def test_hf_sends_every_question_to_the_model(server: ChatServer, lake: SqlExecutor) -> None:
    server.reply = Reply(content=f"```sql\n{GOOD_SQL}\n```")
    result = ask(
        "demanda total de ayer", AS_OF, settings=hf_settings(server, ask_backend="hf"), executor=lake
    )
    assert result.engine == f"hf:{MODEL}" and len(server.requests) == 1


def test_parser_alone_never_calls_the_model(server: ChatServer, lake: SqlExecutor) -> None:
    with pytest.raises(AskRefusal) as caught:
        ask(UNKNOWN, AS_OF, settings=hf_settings(server, ask_backend="parser"), executor=lake)
    assert caught.value.kind == "not_understood" and server.requests == []


# -- through the API ----------------------------------------------------------------------------------


@pytest.fixture
def api(tmp_path: Path, lake: SqlExecutor, server: ChatServer) -> Iterator[TestClient]:
    settings = hf_settings(server, ask_hf_timeout_s=0.5, lake_root=tmp_path / "lake", db_connect_timeout_s=1)
    answer = functools.partial(ask, settings=settings, executor=lake)
    with TestClient(create_app(settings, fake_services(settings, tmp_path, ask=answer))) as client:
        yield client


def test_api_answers_with_the_models_sql(api: TestClient, server: ChatServer) -> None:
    server.reply = Reply(content=f"```sql\n{GOOD_SQL}\n```")
    response = api.post("/ask", json={"question": UNKNOWN, "as_of": AS_OF.isoformat()})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["engine"] == f"hf:{MODEL}" and body["rows"] == [[8784]] and body["sql"].endswith("LIMIT 1000")


@pytest.mark.parametrize(
    ("reply", "status", "detail"),
    [
        (Reply(content="SELECT 1; DROP TABLE demand_hourly"), 422, "expected exactly one statement"),
        (Reply(content="SELECT * FROM pg_shadow"), 422, "table 'pg_shadow' is not allowed"),
        (Reply(content="```sql\nINSERT INTO generation VALUES (1)\n```"), 422, "only SELECT is allowed"),
        (Reply(content="I cannot answer that."), 422, "no ha escrito ninguna consulta SQL"),
        (Reply(429, "Rate limit reached", headers={"Retry-After": "11"}), 503, "rate limited (HTTP 429"),
        (Reply(500, "boom"), 503, "server error (HTTP 500"),
        (Reply(503, "Model is loading"), 503, "server error (HTTP 503"),
        (Reply(content="SELECT 1", delay_s=30.0), 503, "no answer within 0.5 s"),
    ],
    ids=["stacked", "pg_shadow", "write", "garbage", "429", "500", "503", "timeout"],
)
def test_api_maps_each_model_outcome_to_its_status(
    api: TestClient, server: ChatServer, reply: Reply, status: int, detail: str
) -> None:
    server.reply = reply
    response = api.post("/ask", json={"question": UNKNOWN, "as_of": AS_OF.isoformat()})
    assert response.status_code == status, response.text
    body = response.json()
    assert detail in body["detail"]
    if status == 422:
        assert body["suggestions"] and body["language"] == "es"
    else:
        assert response.headers["Retry-After"] == ("11" if reply.status == 429 else "30")
        assert server.url not in body["detail"]


# -- `datalake ask eval --backend hf` ---------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, server: ChatServer) -> Iterator[pytest.MonkeyPatch]:
    for name in ("HF_TOKEN", "HF_TOKEN_SECRET_ARN", "ASK_HF_BASE_URL", "ASK_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASK_MODEL_ID", MODEL)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_eval_through_the_model_needs_a_token(cli_env: pytest.MonkeyPatch, server: ChatServer) -> None:
    result = CliRunner().invoke(app, ["ask", "eval", "--engine", "lake", "--backend", "hf"])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: --backend hf calls test-org/sql-coder") and "HF_TOKEN" in line
    assert server.requests == []


def test_eval_through_the_model_scores_its_answers(
    cli_env: pytest.MonkeyPatch, server: ChatServer, tmp_path: Path
) -> None:
    [item] = [q for q in load_questions() if q["id"] == "total-es-3"]  # March 2024's demand, MWh
    questions = tmp_path / "one.yaml"
    questions.write_text(yaml.safe_dump([item], allow_unicode=True), encoding="utf-8")
    # The model answers with the parser's own SQL for it, so the score must be 100 %.
    plan = build_query(parse(item["question"], dt.datetime.fromisoformat(item["as_of"])))
    server.reply = Reply(content=f"```sql\n{plan.select.sql(dialect='athena')}\n```")
    cli_env.setenv("HF_TOKEN", TOKEN)
    cli_env.setenv("ASK_HF_BASE_URL", server.url)
    get_settings.cache_clear()

    result = CliRunner().invoke(
        app, ["ask", "eval", "--engine", "lake", "--backend", "hf", "--questions", str(questions)]
    )
    assert result.exit_code == 0, result.output
    assert "lake (hf): 1 questions" in result.output and "100.0%" in result.output
    assert [r["body"]["messages"][1]["content"] for r in server.requests] == [item["question"]]

    server.reply = Reply(content="```sql\nSELECT 1.0 AS demand_mwh FROM demand_hourly LIMIT 1\n```")
    wrong = CliRunner().invoke(
        app, ["ask", "eval", "--engine", "lake", "--backend", "hf", "--questions", str(questions)]
    )
    assert wrong.exit_code == 1 and "FAIL total-es-3" in wrong.output and "0.0%" in wrong.output
