"""The query port: SQL written once in the Athena (Trino) dialect, rendered per engine."""

from __future__ import annotations

from abc import ABC, abstractmethod

import pandas as pd
import sqlglot
from sqlglot.errors import ParseError

from datalake.errors import QueryError

SOURCE_DIALECT = "athena"


def render(sql: str, dialect: str) -> str:
    """Render Athena-dialect SQL for another engine (``duckdb``, ``postgres``, ``athena``).

    Raises QueryError with the parser's message when the SQL does not parse.
    """
    try:
        statements = sqlglot.transpile(sql, read=SOURCE_DIALECT, write=dialect)
    except ParseError as error:
        raise QueryError(str(error).splitlines()[0], sql, dialect) from None
    if len(statements) != 1:
        raise QueryError(f"expected one statement, got {len(statements)}", sql, dialect)
    return statements[0]


class QueryEngine(ABC):
    """SQL over the lake's catalog: DuckDB locally, Athena on AWS."""

    #: engine name shown to users (``duckdb``, ``athena``)
    name: str
    #: sqlglot dialect the engine speaks
    dialect: str

    @abstractmethod
    def query(self, sql: str) -> pd.DataFrame:
        """Run one Athena-dialect statement and return its rows.

        Unqualified table names resolve in the processed database. Failures raise
        QueryError carrying the engine's message and the SQL; a failure never comes
        back as an empty frame.
        """
