"""Raw stream events -> ``portfolio_events``: each transaction joined with the outcome that took effect.

The stream processor writes micro-batches under ``raw/realtime/<stream>/year=/month=/day=/`` as JSON
Lines: ``transactions/`` holds each transaction's bytes exactly as on the stream (a
:class:`~datalake.realtime.events.TransactionEvent`), ``outcomes/`` what applying it did
(``{"event_id", "user_id", "currency", "type", "amount", "status", "reason", "balance_after",
"processed_at"}``), ``prices/`` the price events (the trade advisor's; no processed table reads them).

What a value is (``rows_in``): every transaction line, and every line that cannot be used (not JSON,
no event id, an outcome whose transaction line is not in the lake). An outcome line that joins its
transaction is part of that transaction's row, not a value of its own. Each value ends in
``portfolio_events`` or in quarantine with its reason, so ``rows_in == rows_out + rows_quarantined``.

A transaction's status is the outcome that took effect: ``applied`` or ``rejected`` (the earliest by
``processed_at``; a later ``duplicate`` from a redelivery never overrides it); ``duplicate`` when only
duplicates were recorded; ``pending`` when no outcome is in the lake yet. A line repeated (a
redelivery, a retried post with the same idempotency key) is quarantined as a duplicate of the first
received, which is the one that took effect.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from datalake.datasets.realtime import PORTFOLIO_EVENTS
from datalake.transforms.documents import local_date

PROBLEM = "problem"
TRANSACTIONS, OUTCOMES = "transactions", "outcomes"
_TRANSACTION = (
    "kind STRING, event_id STRING, user_id STRING, type STRING, amount STRING, currency STRING, "
    "client_time STRING, received_at STRING, idempotency_key STRING"
)
_OUTCOME = (
    "event_id STRING, user_id STRING, currency STRING, type STRING, amount STRING, status STRING, "
    "reason STRING, balance_after STRING, processed_at STRING"
)
#: Money as the events write it: a decimal string with at most 2 places (cents), that decimal(18,2) holds.
_MONEY = r"^\s*-?\d{1,16}(\.\d{1,2})?\s*$"
_MONEY_TYPE = "decimal(18,2)"
_OUTCOME_STATUSES = ("applied", "rejected", "duplicate")


def _timestamp(column: str) -> Column:
    # ISO 8601 with an offset or Z (pydantic writes "2026-12-03T09:00:00Z"); the session zone is UTC.
    return F.to_timestamp(F.col(column))


def _is_object(line: str = "line") -> Column:
    return F.ltrim(F.col(line)).startswith("{")


def event_lines(documents: DataFrame) -> DataFrame:
    """Raw files (``path``, ``content``, ``extracted_at``) -> one row per non-empty line, with its
    ``stream`` folder (``transactions``, ``outcomes``, ``prices``) and 1-based ``line_no``."""
    stream = F.regexp_extract("path", r"/realtime/([^/]+)/", 1)
    return (
        documents.select(
            "path",
            stream.alias("stream"),
            "extracted_at",
            F.posexplode(F.split("content", "\n")).alias("line_index", "line"),
        )
        .filter(F.trim("line") != "")
        .select("path", "stream", "extracted_at", (F.col("line_index") + 1).alias("line_no"), "line")
    )


def effective_outcomes(outcome_lines: DataFrame) -> DataFrame:
    """Outcome lines -> one row per ``event_id``: the outcome that took effect and how many lines."""
    parsed = outcome_lines.select(F.from_json("line", _OUTCOME).alias("o")).select("o.*")
    usable = parsed.filter(F.col("event_id").isNotNull() & F.col("status").isin(*_OUTCOME_STATUSES))
    # Applied or rejected took effect; a duplicate only says a redelivery changed nothing.
    priority = F.when(F.col("status") == "duplicate", 1).otherwise(0)
    window = Window.partitionBy("event_id").orderBy(priority, _timestamp("processed_at").asc_nulls_last())
    return (
        usable.withColumn("_rank", F.row_number().over(window))
        .filter(F.col("_rank") == 1)
        .select(
            "event_id",
            F.col("status").alias("outcome_status"),
            F.col("reason").alias("outcome_reason"),
            F.col("balance_after").alias("outcome_balance_after"),
            F.col("processed_at").alias("outcome_processed_at"),
        )
    )


def lines_to_values(documents: DataFrame) -> DataFrame:
    """Raw files -> the values of a run: transaction lines joined with their outcome, and the lines
    that cannot be used, each with a ``problem``.

    Columns: ``path``, ``stream``, ``extracted_at``, the transaction's fields as text, the outcome's,
    ``ts_utc`` (when the API received it: its Madrid day is the value's day), ``problem`` and
    ``raw_record`` (the line).
    """
    lines = event_lines(documents).filter(F.col("stream").isin(TRANSACTIONS, OUTCOMES))
    outcome_lines = lines.filter(F.col("stream") == OUTCOMES)
    outcomes = effective_outcomes(outcome_lines)

    tx_lines = lines.filter(F.col("stream") == TRANSACTIONS)
    tx = tx_lines.select(
        "path", "stream", "extracted_at", "line", F.from_json("line", _TRANSACTION).alias("t")
    )
    tx_problem = (
        F.when(~_is_object() | F.col("t").isNull(), F.lit("transaction line is not a JSON object"))
        .when(F.col("t.kind").isNull() | (F.col("t.kind") != "transaction"), F.lit("not a transaction event"))
        .when(F.col("t.event_id").isNull(), F.lit("transaction line has no event_id"))
    )
    transactions = tx.select(
        "path",
        "stream",
        "extracted_at",
        *(F.col(f"t.{name}").alias(name) for name in ("event_id", "user_id", "type", "amount", "currency")),
        F.col("t.client_time").alias("client_time_text"),
        F.col("t.received_at").alias("received_at_text"),
        tx_problem.alias(PROBLEM),
        F.col("line").alias("raw_record"),
    ).join(outcomes, "event_id", "left")

    # Outcome lines that are no value of a transaction row: unreadable, or their transaction is absent.
    parsed = outcome_lines.select(
        "path", "stream", "extracted_at", "line", F.from_json("line", _OUTCOME).alias("o")
    )
    known = transactions.filter(F.col(PROBLEM).isNull()).select("event_id").distinct()
    outcome_problem = (
        F.when(~_is_object() | F.col("o").isNull(), F.lit("outcome line is not a JSON object"))
        .when(F.col("o.event_id").isNull(), F.lit("outcome line has no event_id"))
        .when(
            ~F.coalesce(F.col("o.status"), F.lit("")).isin(*_OUTCOME_STATUSES),
            F.format_string("outcome status %s is not applied, rejected or duplicate", F.col("o.status")),
        )
        .when(F.col("_known").isNull(), F.lit("outcome without its transaction line in the lake"))
    )
    stray = (
        parsed.join(
            known.select(F.col("event_id").alias("_event_id"), F.lit(True).alias("_known")),
            F.col("o.event_id") == F.col("_event_id"),
            "left",
        )
        .select(
            "path",
            "stream",
            "extracted_at",
            F.col("o.event_id").alias("event_id"),
            F.col("o.processed_at").alias("outcome_processed_at"),
            outcome_problem.alias(PROBLEM),
            F.col("line").alias("raw_record"),
        )
        .filter(F.col(PROBLEM).isNotNull())
    )
    values = transactions.unionByName(stray, allowMissingColumns=True)
    received = _timestamp("received_at_text")
    return values.withColumn(
        "ts_utc", F.coalesce(received, _timestamp("outcome_processed_at"), F.col("extracted_at"))
    )


def portfolio_event_rows(values: DataFrame) -> DataFrame:
    """``portfolio_events`` rows from the transaction lines; a field that cannot be read, or a line
    repeating an event already received, gets a ``problem``."""
    rows = values.filter(F.col(PROBLEM).isNull() & (F.col("stream") == TRANSACTIONS))
    received, client = _timestamp("received_at_text"), _timestamp("client_time_text")
    amount = F.when(F.col("amount").rlike(_MONEY), F.trim("amount").cast(_MONEY_TYPE))
    balance = F.when(
        F.col("outcome_balance_after").rlike(_MONEY), F.trim("outcome_balance_after").cast(_MONEY_TYPE)
    )
    day = local_date("_received")
    # The first received line of an event took effect; later ones are redeliveries or retried posts.
    first = Window.partitionBy("event_id").orderBy(
        F.col("_received").asc_nulls_last(), F.col("extracted_at"), F.col("raw_record")
    )
    problem = F.concat_ws(
        "; ",
        F.when(
            F.col("amount").isNotNull() & amount.isNull(),
            F.format_string("amount '%s' is not a decimal number with at most 2 places", F.col("amount")),
        ),
        F.when(
            F.col("received_at_text").isNotNull() & F.col("_received").isNull(),
            F.format_string("received_at '%s' is not an ISO 8601 time", F.col("received_at_text")),
        ),
        F.when(
            F.col("client_time_text").isNotNull() & client.isNull(),
            F.format_string("client_time '%s' is not an ISO 8601 time", F.col("client_time_text")),
        ),
        F.when(
            F.row_number().over(first) > 1,
            F.lit("duplicate event_id: a redelivery or retried post of a transaction already kept"),
        ),
    )
    return (
        rows.withColumn("_received", received)
        .select(
            "event_id",
            "user_id",
            "type",
            amount.alias("amount"),
            "currency",
            client.alias("client_time"),
            F.col("_received").alias("received_at"),
            day.alias("local_date"),
            F.coalesce(F.col("outcome_status"), F.lit("pending")).alias("status"),
            # Only a rejection's reason: a duplicate's ("already_applied") says what another delivery did.
            F.when(F.col("outcome_status") == "rejected", F.col("outcome_reason")).alias("reject_reason"),
            balance.alias("balance_after"),
            _timestamp("outcome_processed_at").alias("processed_at"),
            "extracted_at",
            F.year(day).alias("year"),
            F.month(day).alias("month"),
            F.nullif(problem, F.lit("")).alias(PROBLEM),
            "raw_record",
        )
        .select(*PORTFOLIO_EVENTS.column_names, "year", "month", PROBLEM, "raw_record")
    )


def unreadable_lines(values: DataFrame) -> DataFrame:
    """The lines no row came from (not JSON, no event id, an outcome without its transaction)."""
    return values.filter(F.col(PROBLEM).isNotNull())
