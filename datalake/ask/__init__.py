"""Natural-language questions about the lake's data: question -> parser -> SQL AST -> guard -> answer.

The public interface (the API's ``/ask`` codes against it):

- :func:`ask` answers a Spanish or English question, returning an :class:`AskResult`;
- :class:`AskRefusal` says why a question was not answered, with questions that would be;
- :func:`guard_sql` is the one gate every SQL statement passes, raising :class:`UnsafeQueryError`;
- :class:`TextToSqlBackend` is the optional model fallback's port.
"""

from __future__ import annotations

from datalake.ask.errors import AskRefusal, UnsafeQueryError
from datalake.ask.executors import LakeExecutor, SqlExecutor, WarehouseExecutor, make_executor
from datalake.ask.fallback import HuggingFaceTextToSql, TextToSqlBackend
from datalake.ask.guard import guard_sql
from datalake.ask.intent import Intent
from datalake.ask.parser import parse
from datalake.ask.service import AskResult, ask

__all__ = [
    "AskRefusal",
    "AskResult",
    "HuggingFaceTextToSql",
    "Intent",
    "LakeExecutor",
    "SqlExecutor",
    "TextToSqlBackend",
    "UnsafeQueryError",
    "WarehouseExecutor",
    "ask",
    "guard_sql",
    "make_executor",
    "parse",
]
