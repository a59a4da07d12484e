"""/ask's optional text-to-SQL model: which questions reach it, the call, and the SQL it may run.

``ASK_BACKEND`` says who writes the SQL:

- ``parser`` (the default): the rule parser alone; no model is ever called;
- ``parser+hf``: the model answers only the questions the parser does not understand
  (``not_understood``), never the ones it refused on purpose (unsafe, out of scope, ambiguous);
- ``hf``: every question goes to the model.

The model (``ASK_MODEL_ID``) is called through ``huggingface_hub.InferenceClient`` chat
completion: Hugging Face's Inference Providers router by default, or the OpenAI-compatible
server of ``ASK_HF_BASE_URL``. Its instructions are /ask's semantic layer
(:func:`datalake.ask.model_prompt.system_prompt`). The SQL is read from its reply (a fenced
block, else a statement starting a line) and goes through the same guard as the parser's
(:func:`datalake.ask.guard.guard_sql`: one SELECT, allow-listed tables and columns, LIMIT
clamped), then the same executor (the reader role, the statement timeout). A reply without SQL,
or with SQL the guard refuses, is an :class:`AskRefusal` naming why (422); a model that does not
answer (timeout, rate limit, server error) is a :class:`ModelUnavailableError` (503).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Protocol

from datalake.ask.errors import AskRefusal, UnsafeQueryError
from datalake.ask.executors import Rows, SqlExecutor
from datalake.ask.guard import guard_sql
from datalake.ask.model_prompt import NO_SQL, system_prompt
from datalake.errors import ConfigurationError, ModelUnavailableError, QueryError
from datalake.settings import Settings

logger = logging.getLogger(__name__)


class TextToSqlBackend(Protocol):
    """A model that answers a question with SQL (in its reply's text)."""

    #: The model id (shown in the interpretation).
    name: str
    #: Shown as the answer's engine: ``hf:<model id>``.
    engine: str

    def complete(self, question: str, *, prompt: str) -> str:
        """The model's reply to ``question`` after the instructions ``prompt``.

        Raises :class:`~datalake.errors.ModelUnavailableError` when no reply comes.
        """
        ...


# -- reading SQL out of a reply ----------------------------------------------------------------

_THINKING = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(.*?)(?:```|\Z)", re.DOTALL)
_SQL_FENCES = ("sql", "postgresql", "postgres", "trino", "presto", "duckdb")
#: Words a statement starts with: a write counts as SQL, so the guard names its rule.
_STATEMENT = (
    r"select|with|insert|update|delete|merge|upsert|replace|drop|create|alter|truncate|grant|revoke"
    r"|copy|call|exec|execute|set|reset|pragma|attach|detach|install|load|vacuum|analyze|do|begin"
    r"|start|commit|rollback|lock|listen|notify|show|describe|explain|prepare|deallocate|unload|values"
)
_LINE_STATEMENT = re.compile(rf"^[ \t]*(?:{_STATEMENT})\b", re.IGNORECASE | re.MULTILINE)
_STARTS_STATEMENT = re.compile(rf"\s*(?:\(\s*)*(?:{_STATEMENT})\b", re.IGNORECASE)


def extract_sql(reply: str) -> str | None:
    """The SQL in a model's reply, or None when it holds none.

    The first fenced block (a ``sql`` one first) is taken whole: a second statement in it is
    the guard's to refuse. Without a fence, the SQL starts at the first line that starts a
    statement; after a semicolon, what follows is kept when it starts another statement (the
    guard refuses it) and dropped as prose otherwise. Reasoning in ``<think>`` tags is skipped.

    Parameters
    ----------
    reply
        The model's text.

    Returns
    -------
    str or None
    """
    text = _THINKING.sub("", reply or "")
    blocks = [_fenced(block) for block in _FENCE.findall(text)]
    if blocks:
        sql_blocks = [body for language, body in blocks if language in _SQL_FENCES]
        statement = (sql_blocks or [body for _, body in blocks])[0].strip()
        return statement if _STARTS_STATEMENT.match(statement) else None
    start = _LINE_STATEMENT.search(text)
    if start is None:
        return None
    statement = text[start.start() :].strip()
    first, semicolon, rest = statement.partition(";")
    if semicolon and not _STARTS_STATEMENT.match(rest):
        statement = first  # what follows is prose, not SQL
    return statement.strip() or None


def _fenced(block: str) -> tuple[str, str]:
    """(language, body) of a fenced block; a one-line block (```SELECT 1```) has no language."""
    info, newline, body = block.partition("\n")
    if not newline or _STARTS_STATEMENT.match(info):
        return "", block
    return info.strip().lower(), body


# -- the Hugging Face backend --------------------------------------------------------------------


class HuggingFaceTextToSql:
    """A chat-completion model reached through ``huggingface_hub.InferenceClient``.

    Parameters
    ----------
    model_id
        The Hugging Face model id (``ASK_MODEL_ID``), sent as the request's ``model``.
    base_url
        An OpenAI-compatible server (``.../v1/chat/completions`` is appended); None for Hugging
        Face's Inference Providers router.
    token
        The access token, or a function returning it (read on the first call, once); None
        lets ``huggingface_hub`` look for one and is refused without ``base_url``.
    timeout_s
        Give up on a reply after this long.
    max_tokens
        The most tokens of one reply.
    """

    def __init__(
        self,
        model_id: str,
        *,
        base_url: str | None = None,
        token: str | Callable[[], str | None] | None = None,
        timeout_s: float = 30.0,
        max_tokens: int = 768,
    ) -> None:
        if not model_id.strip():
            raise ConfigurationError("ASK_MODEL_ID is empty", hint="set a Hugging Face model id")
        self.name = model_id.strip()
        self.engine = f"hf:{self.name}"
        self.base_url = base_url or None
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self._token = token
        self._client: Any | None = None
        self._lock = threading.Lock()

    def _inference_client(self) -> Any:
        with self._lock:
            if self._client is not None:
                return self._client
            token = self._token() if callable(self._token) else self._token
            if not token and self.base_url is None:
                raise ConfigurationError(
                    f"ASK_BACKEND calls the model {self.name} on Hugging Face, which needs HF_TOKEN",
                    hint="set HF_TOKEN or HF_TOKEN_SECRET_ARN (or ASK_HF_BASE_URL, or ASK_BACKEND=parser)",
                )
            try:
                from huggingface_hub import InferenceClient
            except ImportError:
                raise ConfigurationError(
                    "ASK_BACKEND needs the huggingface_hub package, which is not installed",
                    hint="pip install huggingface_hub, or ASK_BACKEND=parser",
                ) from None
            self._client = InferenceClient(
                base_url=self.base_url, token=token or None, timeout=self.timeout_s
            )
            return self._client

    def complete(self, question: str, *, prompt: str) -> str:
        """The model's reply (greedy, at most ``max_tokens``); see :class:`TextToSqlBackend`."""
        client = self._inference_client()
        messages = [{"role": "system", "content": prompt}, {"role": "user", "content": question}]
        try:
            output = client.chat_completion(
                messages, model=self.name, max_tokens=self.max_tokens, temperature=0.0
            )
            content = output.choices[0].message.content
        except Exception as error:  # the remote call's failures, whatever the client raises
            raise self._unavailable(error) from error
        return content if isinstance(content, str) else ""

    def _unavailable(self, error: Exception) -> ModelUnavailableError:
        """The 503 a failed call becomes: its reason in words, never the server's address."""
        from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError, OfflineModeIsEnabled

        retry_after, hint = None, None
        if isinstance(error, InferenceTimeoutError | TimeoutError):
            reason = f"no answer within {self.timeout_s:g} s"
        elif isinstance(error, HfHubHTTPError) and getattr(error, "response", None) is not None:
            status = error.response.status_code
            said = " ".join(str(error.server_message or "").split())[:200]
            reason = {
                429: "rate limited",
                401: "the token was refused",
                403: "the token was refused",
                404: "no such model",
            }.get(status, "server error" if status >= 500 else "request refused")
            reason += f" (HTTP {status}{': ' + said if said else ''})"
            retry_after = _seconds(error.response.headers.get("Retry-After"))
            if status in (401, 403):
                hint = "check HF_TOKEN or HF_TOKEN_SECRET_ARN"
            elif status == 404:
                hint = "check ASK_MODEL_ID (and ASK_HF_BASE_URL)"
        elif isinstance(error, OfflineModeIsEnabled):
            reason, hint = "HF_HUB_OFFLINE is set", "unset HF_HUB_OFFLINE, or ASK_BACKEND=parser"
        elif isinstance(error, ValueError | KeyError | IndexError | AttributeError | TypeError):
            reason = f"malformed reply ({type(error).__name__})"
        else:
            reason = f"cannot reach it ({type(error).__name__})"
        logger.warning("text-to-SQL model %s unavailable: %s (%r)", self.name, reason, error)
        return ModelUnavailableError(
            f"the text-to-SQL model {self.name} is unavailable: {reason}",
            retry_after_s=retry_after,
            hint=hint,
        )


def _seconds(header: str | None) -> int | None:
    """A Retry-After of whole seconds (an HTTP date is ignored)."""
    value = (header or "").strip()
    return min(int(value), 3_600) if value.isdigit() else None


def hf_token(settings: Settings, boto3_session: Any | None = None) -> str | None:
    """The Hugging Face token: ``HF_TOKEN_SECRET_ARN`` (Secrets Manager) when set, else ``HF_TOKEN``.

    The secret holds the bare token or JSON with ``hf_token`` (or ``token``).

    Raises
    ------
    ConfigurationError
        When the secret cannot be read or holds no token; the message names the ARN, never a value.
    """
    arn = settings.hf_token_secret_arn
    if arn:
        import json

        from datalake import aws

        text = aws.secret_string(arn, "Hugging Face token", "HF_TOKEN_SECRET_ARN", settings, boto3_session)
        text = text.strip()
        if text.startswith("{"):
            try:
                payload = json.loads(text)
                text = str(payload.get("hf_token") or payload.get("token") or "").strip()
            except (ValueError, AttributeError):
                text = ""
        if not text:
            raise ConfigurationError(
                f"the Hugging Face token secret {arn} is empty",
                hint="store the token, or JSON with hf_token (HF_TOKEN_SECRET_ARN)",
            )
        return text
    token = settings.hf_token.get_secret_value().strip() if settings.hf_token else ""
    return token or None


@lru_cache(maxsize=8)
def huggingface_backend(settings: Settings) -> HuggingFaceTextToSql:
    """One backend per settings per process (the token is read on its first call, once)."""
    return HuggingFaceTextToSql(
        settings.ask_model_id,
        base_url=settings.ask_hf_base_url,
        token=lambda: hf_token(settings),
        timeout_s=settings.ask_hf_timeout_s,
        max_tokens=settings.ask_hf_max_tokens,
    )


def configured_backend(settings: Settings) -> TextToSqlBackend | None:
    """The model ``ASK_BACKEND`` names; None for ``parser``."""
    return None if settings.ask_backend == "parser" else huggingface_backend(settings)


# -- from a reply to rows ----------------------------------------------------------------------------


def run_model_query(
    question: str,
    backend: TextToSqlBackend,
    executor: SqlExecutor,
    *,
    as_of: dt.datetime,
    max_rows: int,
    language: str,
    suggestions: list[str],
) -> tuple[str, list[str], Rows]:
    """Ask the model for SQL, guard it, run it; or refuse the question saying why.

    Parameters
    ----------
    question
        As asked.
    backend
        The model.
    executor
        Where the guarded SQL runs (its dialect is the one the prompt asks for).
    as_of
        When the question is asked (aware): the prompt's "now".
    max_rows
        The guard's LIMIT.
    language, suggestions
        Of the refusal, should there be one.

    Returns
    -------
    tuple[str, list[str], Rows]
        The guarded SQL, its columns and rows.

    Raises
    ------
    AskRefusal
        ``model_no_sql``: the reply holds no SQL; ``model_unsafe``: the guard refused it (the
        reason names the rule); ``model_query_failed``: the engine refused or cancelled it (a
        statement timeout included).
    ModelUnavailableError
        No reply (timeout, rate limit, server error).
    ConfigurationError
        No token, or no ``huggingface_hub``.
    """

    def refusal(es: str, en: str, kind: str) -> AskRefusal:
        return AskRefusal(
            es if language == "es" else en, suggestions=suggestions, language=language, kind=kind
        )

    reply = backend.complete(question, prompt=system_prompt(executor.dialect, as_of))
    sql = extract_sql(reply)
    if sql is None:
        said = " ".join(reply.split()).removeprefix(f"{NO_SQL}:").strip()[:200] or "nothing"
        logger.info("model %s wrote no SQL for %r: %s", backend.name, question, said)
        raise refusal(
            f"El modelo {backend.name} no ha escrito ninguna consulta SQL (respondió: {said}).",
            f"The model {backend.name} wrote no SQL query (it replied: {said}).",
            "model_no_sql",
        )
    try:
        guarded = guard_sql(sql, executor.dialect, max_limit=max_rows)
    except UnsafeQueryError as error:
        logger.warning("model %s wrote SQL the guard refused (%s): %s", backend.name, error.reason, sql)
        raise refusal(
            f"La consulta del modelo {backend.name} no es segura y no se ha ejecutado: {error.reason}.",
            f"The query of the model {backend.name} is not safe and did not run: {error.reason}.",
            "model_unsafe",
        ) from None
    try:
        columns, rows = executor.run(guarded)
    except QueryError as error:
        # The model's query, not the engine, is at fault: the caller's 422, with the engine's words.
        said = " ".join(error.engine_message.split())[:200]
        raise refusal(
            f"La consulta del modelo {backend.name} ha fallado en el motor: {said}.",
            f"The query of the model {backend.name} failed in the engine: {said}.",
            "model_query_failed",
        ) from None
    return guarded, columns, rows
