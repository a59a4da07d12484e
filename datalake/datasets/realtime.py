"""The real-time lake side (issue 21): ``portfolio_events``, one row per transaction the users posted.

The stream processor writes each transaction as it arrived on the ``transactions`` stream to
``raw/realtime/transactions/`` and what applying it did to ``raw/realtime/outcomes/``
(``applied``, ``rejected`` with its reason, or ``duplicate``); the realtime job joins the two by
``event_id``: a transaction's status is the outcome that took effect (applied or rejected), a
redelivery's ``duplicate`` never overrides it, and a transaction whose outcome is not in the lake
yet is ``pending``.
"""

from __future__ import annotations

from datalake.datasets.spec import ColumnSpec, DatasetSpec, QualityRule

#: What an apply outcome may say (datalake.realtime.ports.ApplyStatus) and the job's own ``pending``.
STATUSES = ("applied", "rejected", "duplicate", "pending")
TYPES = ("buy", "sell")
CURRENCIES = ("USD", "COP")
#: Amounts are positive and at most 1e12 (datalake.realtime.events.Amount).
MAX_AMOUNT = 1e12

PORTFOLIO_EVENTS = DatasetSpec(
    name="portfolio_events",
    description="Users' buy/sell transactions from the real-time stream, one row per event_id, with "
    "the outcome the portfolio store recorded for it (applied, rejected with its reason, pending).",
    columns=(
        ColumnSpec("event_id", "string", False, "Transaction id (user + idempotency key): a retry keeps it"),
        ColumnSpec("user_id", "string", False, "The app user's id (pseudonymous)"),
        ColumnSpec("type", "string", False, "buy (credits amount of currency) or sell (debits it)"),
        ColumnSpec("amount", "double", False, "Amount bought or sold, in currency"),
        ColumnSpec("currency", "string", False, "Currency moved: USD or COP"),
        ColumnSpec("client_time", "timestamp", False, "When the user acted (the app's clock), UTC"),
        ColumnSpec("received_at", "timestamp", False, "When the API accepted it, UTC"),
        ColumnSpec("local_date", "date", False, "Europe/Madrid day of received_at"),
        ColumnSpec("status", "string", False, "applied, rejected, duplicate or pending (no outcome yet)"),
        ColumnSpec("reason", "string", True, "Why it was rejected (insufficient_balance); null otherwise"),
        ColumnSpec("balance_after", "double", True, "The user's balance in currency after it, in currency"),
        ColumnSpec("processed_at", "timestamp", True, "When the stream processor applied it, UTC"),
        ColumnSpec("extracted_at", "timestamp", False, "When its raw line landed in the lake, UTC"),
    ),
    primary_key=("event_id",),
    time_column="received_at",
    partition_by=(ColumnSpec("year", "int", False), ColumnSpec("month", "int", False)),
    partition_source="local_date",
    warehouse_table="portfolio_events",
    indexes=(("user_id",), ("local_date", "status")),
    quality_rules=(
        QualityRule("amount", "range", 0.01, MAX_AMOUNT),
        QualityRule("type", "allowed_values", allowed=TYPES),
        QualityRule("currency", "allowed_values", allowed=CURRENCIES),
        QualityRule("status", "allowed_values", allowed=STATUSES),
    ),
    source="realtime",
)
