"""A real DuckDB holding given frames, as /ask's executor (the declared datasets' tests)."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from datalake.ask.executors import json_value


class DuckExecutor:
    """A real DuckDB holding the given tables; records what ran."""

    name = "duckdb-test"
    dialect = "duckdb"

    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        self.connection = duckdb.connect()
        for table, frame in frames.items():
            self.connection.register("frame", frame)
            self.connection.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
            self.connection.unregister("frame")
        self.statements: list[str] = []

    def run(self, sql: str) -> tuple[list[str], list[list[Any]]]:
        self.statements.append(sql)
        cursor = self.connection.execute(sql)
        return [d[0] for d in cursor.description], [[json_value(v) for v in r] for r in cursor.fetchall()]
