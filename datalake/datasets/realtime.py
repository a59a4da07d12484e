"""The real-time lake side (issue 21): ``portfolio_events``, one row per transaction the users posted.

The stream processor writes each transaction as it arrived on the ``transactions`` stream to
``raw/realtime/transactions/`` and what applying it did to ``raw/realtime/outcomes/``
(``applied``, ``rejected`` with its reason, or ``duplicate``); the realtime job joins the two by
``event_id``: a transaction's status is the outcome that took effect (applied or rejected), a
redelivery's ``duplicate`` never overrides it, and a transaction whose outcome is not in the lake
yet is ``pending``.
"""

from __future__ import annotations

from datalake.datasets.semantics import Condition, Dimension, Measure, Semantics, TimeAxis, Words
from datalake.datasets.spec import ColumnSpec, DatasetSpec, QualityRule

#: What an apply outcome may say (datalake.realtime.ports.ApplyStatus) and the job's own ``pending``.
STATUSES = ("applied", "rejected", "duplicate", "pending")
TYPES = ("buy", "sell")
CURRENCIES = ("USD", "COP")
#: Amounts are positive and at most 1e12 (datalake.realtime.events.Amount).
MAX_AMOUNT = 1e12

# -- what /ask may ask (the semantic layer) ----------------------------------------------------------

PORTFOLIO_SEMANTICS = Semantics(
    subject="portfolio",
    # A row is one transaction a user posted through the app: "¿cuántas transacciones...?" counts rows.
    entity=Words(
        ("transacción", "transacciones", "operación", "operaciones"),
        ("transaction", "transactions", "trade", "trades"),
    ),
    entity_names=Words(("transacción", "transacciones"), ("transaction", "transactions")),
    subject_words=Words(
        ("cartera", "carteras", "portafolio", "portafolios", "app de trading", "divisas"),
        ("portfolio", "portfolios", "trading app", "currency trading"),
    ),
    key=("event_id",),
    # A listing names each transaction by its user ("the 3 largest purchases": three users' rows).
    label="user_id",
    order="amount",
    measures=(
        Measure(
            "amount",
            "amount",
            # In the transaction's currency: an answer states the currency asked about.
            "",
            Words(
                ("importe", "importes", "monto", "montos", "cantidad", "dinero"),
                ("amount", "amounts", "value", "money"),
            ),
            aggregations=("sum", "avg", "max", "min"),
            # A rejected transaction moved nothing: amounts bought or sold are the applied ones.
            when=Condition(
                "status = 'applied'", "solo las transacciones aplicadas", "applied transactions only"
            ),
            unit_by={"currency": {"USD": "USD", "COP": "COP"}},
            # No superlatives of its own: "las 5 compras más grandes" is the energy company's question
            # as much as this table's, and the words alone cannot tell which.
        ),
    ),
    dimensions=(
        Dimension(
            "status",
            "status",
            Words(("estado", "estados", "resultado"), ("status", "statuses", "outcome")),
            values={
                "applied": Words(
                    ("aplicada", "aplicadas", "aplicado", "aceptada", "aceptadas"),
                    ("applied", "accepted", "successful"),
                ),
                "rejected": Words(
                    ("rechazada", "rechazadas", "rechazado", "rechazados", "rechazaron", "rechazó"),
                    ("rejected", "declined", "refused"),
                ),
                "pending": Words(("pendiente", "pendientes"), ("pending",)),
                "duplicate": Words(("duplicada", "duplicadas", "duplicado"), ("duplicate", "duplicates")),
            },
        ),
        Dimension(
            "type",
            "type",
            Words(("tipo", "tipo de transacción", "tipo de operación"), ("type", "transaction type")),
            values={
                "buy": Words(
                    (
                        "compra",
                        "compras",
                        "compró",
                        "compraron",
                        "comprado",
                        "comprada",
                        "compradas",
                        "comprados",
                    ),
                    ("buy", "buys", "bought", "purchase", "purchases"),
                ),
                "sell": Words(
                    ("venta", "ventas", "vendió", "vendieron", "vendido", "vendida", "vendidas", "vendidos"),
                    ("sell", "sells", "sold", "sale", "sales"),
                ),
            },
        ),
        Dimension(
            "currency",
            "currency",
            Words(("moneda", "monedas", "divisa"), ("currency", "currencies")),
            values={
                "USD": Words(("dólares", "dólar", "usd"), ("dollars", "dollar", "usd")),
                "COP": Words(
                    ("pesos", "peso", "cop", "pesos colombianos"), ("pesos", "cop", "colombian pesos")
                ),
            },
        ),
        Dimension(
            "reason",
            "reject_reason",
            Words(("motivo", "motivos", "razón", "causa"), ("reason", "reasons", "cause")),
            values={
                "insufficient_balance": Words(
                    ("saldo insuficiente", "falta de saldo", "sin saldo"),
                    ("insufficient balance", "insufficient funds", "not enough balance"),
                ),
            },
        ),
        Dimension("user", "user_id", Words(("usuario", "usuarios"), ("user", "users")), open=True),
    ),
    time=TimeAxis(
        "local_date",
        words=Words(("fecha", "cuándo", "qué día"), ("date", "when", "which day")),
        observed=True,
    ),
    examples=Words(
        ("¿Cuántas transacciones se rechazaron ayer?", "Total comprado en dólares por usuario"),
        ("How many transactions were rejected yesterday?", "Total bought in USD by user"),
    ),
)

PORTFOLIO_EVENTS = DatasetSpec(
    name="portfolio_events",
    description="Users' buy/sell transactions from the real-time stream, one row per event_id, with "
    "the outcome the portfolio store recorded for it (applied, rejected with its reason, pending).",
    columns=(
        ColumnSpec("event_id", "string", False, "Transaction id (user + idempotency key): a retry keeps it"),
        ColumnSpec("user_id", "string", False, "The app user's id (pseudonymous)"),
        ColumnSpec("type", "string", False, "buy (credits amount of currency) or sell (debits it)"),
        ColumnSpec("amount", "decimal(18,2)", False, "Amount bought or sold, in currency (exact, cents)"),
        ColumnSpec("currency", "string", False, "Currency moved: USD or COP"),
        ColumnSpec("client_time", "timestamp", False, "When the user acted (the app's clock), UTC"),
        ColumnSpec("received_at", "timestamp", False, "When the API accepted it, UTC"),
        ColumnSpec("local_date", "date", False, "Europe/Madrid day of received_at"),
        ColumnSpec("status", "string", False, "applied, rejected, duplicate or pending (no outcome yet)"),
        ColumnSpec(
            "reject_reason", "string", True, "Why it was rejected (insufficient_balance); null otherwise"
        ),
        ColumnSpec(
            "balance_after", "decimal(18,2)", True, "The user's balance in currency after it, in currency"
        ),
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
    askable=True,
    ask=PORTFOLIO_SEMANTICS,
)
