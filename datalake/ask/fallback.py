"""The optional text-to-SQL model, tried only when the parser does not understand a question.

A backend turns a question and a schema description into one SQL statement. Whatever it
returns goes through the same guard as the parser's SQL (:func:`datalake.ask.guard.guard_sql`);
SQL the guard refuses is a refusal, never an answer. The Hugging Face backend loads a
``transformers`` pipeline lazily from the model id in ``ASK_MODEL_ID``; it is off by default
and ``transformers`` is not a dependency of the lake.
"""

from __future__ import annotations

import importlib
import re
import threading
from functools import lru_cache
from typing import Any, Protocol

from datalake.datasets import ask_datasets
from datalake.errors import ConfigurationError


class TextToSqlBackend(Protocol):
    """Turns a question into one SQL SELECT."""

    #: Shown in the answer's interpretation (a model id).
    name: str

    def generate_sql(self, question: str, *, schema: str, dialect: str) -> str:
        """One SQL statement in ``dialect`` answering ``question`` over ``schema``."""
        ...


def schema_prompt() -> str:
    """The tables a model may query, as ``CREATE TABLE``-like text from the dataset specs.

    The same list as the guard's allow-list: /ask's datasets, without their personal columns.
    """
    lines = []
    for spec in ask_datasets():
        columns = ", ".join(f"{c.name} {c.type}" for c in spec.columns if not c.personal)
        lines.append(f"-- {spec.description}\nCREATE TABLE {spec.warehouse_table} ({columns});")
    lines.append(
        "-- ts_utc is the UTC hour start; local_date is the Europe/Madrid day;"
        " demand_mw summed over hours is MWh."
    )
    return "\n".join(lines)


_FENCE = re.compile(r"```(?:sql)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def extract_sql(text: str) -> str:
    """The SQL in a model's output: the fenced block if any, from the first SELECT/WITH, one statement."""
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    start = re.search(r"\b(select|with)\b", text, re.IGNORECASE)
    if start:
        text = text[start.start() :]
    # Everything after the first semicolon is dropped; the guard refuses a second statement anyway.
    return text.split(";", 1)[0].strip()


class HuggingFaceTextToSql:
    """A ``transformers`` text-generation (or text2text) pipeline loaded on first use.

    Parameters
    ----------
    model_id
        A Hugging Face model id or a local directory.
    max_new_tokens
        Generation length cap.
    pipeline_factory
        ``transformers.pipeline`` or a stand-in with its signature (for tests).
    """

    def __init__(
        self, model_id: str, *, max_new_tokens: int = 256, pipeline_factory: Any | None = None
    ) -> None:
        if not model_id.strip():
            raise ConfigurationError("ASK_MODEL_ID is empty", hint="set a Hugging Face model id or unset it")
        self.name = model_id
        self.max_new_tokens = max_new_tokens
        self._factory = pipeline_factory
        self._pipeline: Any | None = None
        self._task: str | None = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._pipeline is not None:
                return self._pipeline
            factory = self._factory
            task = "text-generation"
            if factory is None:
                try:
                    transformers = importlib.import_module("transformers")
                except ImportError:
                    raise ConfigurationError(
                        f"ASK_MODEL_ID={self.name} needs the transformers package, which is not installed",
                        hint="pip install transformers (and a torch build), or unset ASK_MODEL_ID",
                    ) from None
                factory = transformers.pipeline
                config = transformers.AutoConfig.from_pretrained(self.name)
                # Encoder-decoder models (T5-style text-to-SQL) generate through text2text.
                if getattr(config, "is_encoder_decoder", False):
                    task = "text2text-generation"
            self._task = task
            self._pipeline = factory(task, model=self.name)
            return self._pipeline

    def generate_sql(self, question: str, *, schema: str, dialect: str) -> str:
        """Prompt the model with the schema and the question; the SQL of its first answer."""
        pipeline = self._load()
        prompt = (
            f"{schema}\n-- Dialect: {dialect}. Answer with one SELECT statement only.\n"
            f"-- Question: {question}\nSELECT"
        )
        kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "do_sample": False}
        if self._task == "text-generation":
            kwargs["return_full_text"] = False
        outputs = pipeline(prompt, **kwargs)
        text = outputs[0].get("generated_text", "") if outputs else ""
        text = text if re.match(r"\s*(select|with)\b", text, re.IGNORECASE) else "SELECT " + text
        return extract_sql(text)


@lru_cache(maxsize=4)
def huggingface_backend(model_id: str) -> HuggingFaceTextToSql:
    """One backend per model id per process (the pipeline is loaded once, on first use)."""
    return HuggingFaceTextToSql(model_id)
