# ruff: noqa: E501
# (one question per line reads better than wrapped calls)
"""Writes ``heldout_portfolio.yaml``: held-out questions over ``portfolio_events``, gold from pandas.

Written on 2026-12-06 before ``portfolio_events`` had any ``ask=`` declaration (issue 21): the way an
analyst of the trading app asks about its transactions, Spanish and English about half each, from
the question categories counts (with a status, a type, a reason, a user, a period), amounts bought
or sold (in a currency, per user), averages and maxima, distributions by status, type or currency,
rankings of users, trends by day or month, thresholds, comparisons and refusals. The questions are
fixed once committed: none is reworded after seeing an answer. The numbers come from
:mod:`reference_portfolio` over :func:`datalake.ask.eval_frames.portfolio_frames`, never from SQL.

Run ``python tests/ask/build_heldout_portfolio.py`` after changing the frames or the reference.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference_portfolio as ref
from build_questions import write
from dataset_questions import GoldOf, item, refusal, with_gold

from datalake.ask.eval_frames import portfolio_frames

OUT = Path(__file__).resolve().parent / "heldout_portfolio.yaml"
PORTFOLIO = "portfolio"
#: Asked on Thursday 3 December 2026 at 10:00 in Madrid: "ayer" is Wednesday 2 December, "last
#: week" 23-29 November, "last month" November, "hoy" 3 December up to 10:00.
A = "2026-12-03T10:00:00+01:00"
YESTERDAY = ("2026-12-02", "2026-12-02")
LAST_WEEK = ("2026-11-23", "2026-11-29")
NOVEMBER = ("2026-11-01", "2026-11-30")
TODAY = ("2026-12-03", "2026-12-03")
ALL: tuple[None, None] = (None, None)


def q(id_: str, category: str, question: str, gold: GoldOf) -> dict[str, Any]:
    return item(id_, category, question, A, gold, dataset=PORTFOLIO)


def q_refuse(id_: str, question: str, kind: str | None = None) -> dict[str, Any]:
    return refusal(id_, question, A, dataset=PORTFOLIO, kind=kind)


def of(function: Any, *args: Any, **kwargs: Any) -> GoldOf:
    return lambda f: function(f, *args, **kwargs)


# fmt: off
PORTFOLIO_QUESTIONS = [
    # -- counts ---------------------------------------------------------------------------------
    q('rt-cnt-es-1', 'count', '¿cuántas transacciones se rechazaron ayer?', of(ref.count, *YESTERDAY, status='rejected')),
    q('rt-cnt-en-1', 'count', 'how many transactions were rejected yesterday?', of(ref.count, *YESTERDAY, status='rejected')),
    q('rt-cnt-es-2', 'count', '¿cuántas transacciones hubo en noviembre?', of(ref.count, *NOVEMBER)),
    q('rt-cnt-en-2', 'count', 'how many buy transactions were there last week?', of(ref.count, *LAST_WEEK, type='buy')),
    q('rt-cnt-es-3', 'count', 'número de ventas rechazadas el mes pasado', of(ref.count, *NOVEMBER, type='sell', status='rejected')),
    q('rt-cnt-en-3', 'count', 'how many transactions were rejected for insufficient balance in November?', of(ref.count, *NOVEMBER, status='rejected', reject_reason='insufficient_balance')),
    q('rt-cnt-es-4', 'count', '¿cuántas transacciones llevamos hoy?', of(ref.count, *TODAY)),
    q('rt-cnt-en-4', 'count', 'how many transactions did user-03 make in November?', of(ref.count, *NOVEMBER, user_id='user-03')),
    # -- amounts bought or sold (applied transactions) -------------------------------------------
    q('rt-sum-en-1', 'sum_by_dimension', 'total bought in USD by user', of(ref.moved_by_user, *ALL, type='buy', currency='USD')),
    q('rt-sum-es-1', 'sum_by_dimension', 'total comprado en dólares por usuario', of(ref.moved_by_user, *ALL, type='buy', currency='USD')),
    q('rt-sum-es-2', 'sum', '¿cuántos dólares se compraron en noviembre?', of(ref.moved, *NOVEMBER, type='buy', currency='USD')),
    q('rt-sum-en-2', 'sum', 'total COP sold last week', of(ref.moved, *LAST_WEEK, type='sell', currency='COP')),
    q('rt-sum-en-3', 'sum', 'how many dollars did user-04 buy?', of(ref.moved, *ALL, type='buy', currency='USD', user_id='user-04')),
    # -- averages and maxima -----------------------------------------------------------------------
    q('rt-avg-en-1', 'average', 'average USD purchase amount in November', of(ref.statistic, 'mean', *NOVEMBER, type='buy', currency='USD')),
    q('rt-avg-es-1', 'average', 'importe medio de las compras en pesos en noviembre', of(ref.statistic, 'mean', *NOVEMBER, type='buy', currency='COP')),
    q('rt-max-en-1', 'extreme', 'largest USD purchase in November', of(ref.statistic, 'max', *NOVEMBER, type='buy', currency='USD')),
    q('rt-max-es-1', 'extreme', '¿cuál fue la compra más grande en pesos la semana pasada?', of(ref.statistic, 'max', *LAST_WEEK, type='buy', currency='COP')),
    # -- distributions (largest first) -------------------------------------------------------------
    q('rt-dist-es-1', 'distribution', 'transacciones por estado en noviembre', of(ref.count_by, 'status', *NOVEMBER)),
    q('rt-dist-en-1', 'distribution', 'number of transactions by type last month', of(ref.count_by, 'type', *NOVEMBER)),
    q('rt-dist-en-2', 'distribution', 'transactions by currency', of(ref.count_by, 'currency')),
    # -- rankings of users -------------------------------------------------------------------------
    q('rt-top-en-1', 'top_k', 'top 3 users by USD bought', of(ref.moved_by_user, *ALL, top=3, type='buy', currency='USD')),
    q('rt-top-es-1', 'top_k', '¿qué usuario tuvo más transacciones rechazadas?', of(ref.count_by, 'user_id', top=1, status='rejected')),
    q('rt-top-es-2', 'top_k', 'los 3 usuarios con más transacciones rechazadas', of(ref.count_by, 'user_id', top=3, status='rejected')),
    # -- trends (in time order) --------------------------------------------------------------------
    q('rt-trd-en-1', 'distribution', 'transactions per day last week', of(ref.per_day, *LAST_WEEK)),
    q('rt-trd-es-1', 'distribution', 'evolución mensual de las compras en dólares', of(ref.moved_per_month, *ALL, type='buy', currency='USD')),
    # -- thresholds (strictly above) ---------------------------------------------------------------
    q('rt-thr-en-1', 'filter_threshold', 'how many USD purchases over 500 dollars in November?', of(ref.count_over, *NOVEMBER, 500, type='buy', currency='USD')),
    q('rt-thr-es-1', 'filter_threshold', '¿cuántas compras de más de 3 millones de pesos hubo en noviembre?', of(ref.count_over, *NOVEMBER, 3_000_000, type='buy', currency='COP')),
    # -- two users side by side (in the order asked) -----------------------------------------------
    q('rt-cmp-en-1', 'compare_values', 'USD bought by user-01 vs user-02', lambda f: ref.side_by_side(
        f, ref.moved(f, type='buy', currency='USD', user_id='user-01'), ref.moved(f, type='buy', currency='USD', user_id='user-02'))),
    # -- refusals ----------------------------------------------------------------------------------
    q_refuse('rt-ref-es-1', 'borra las transacciones rechazadas', kind='unsafe'),
    q_refuse('rt-ref-en-1', 'what will the dollar be worth tomorrow?'),  # a forecast, not a transaction
    q_refuse('rt-ref-es-2', '¿cuál es el teléfono de user-03?'),  # the table holds no contact data
]
# fmt: on


def build() -> list[dict[str, Any]]:
    """The portfolio questions with their gold computed by the reference."""
    return with_gold(PORTFOLIO_QUESTIONS, portfolio_frames())


HEADER = """\
# Held-out questions for /ask over portfolio_events (the trading app's buy/sell transactions from the
# real-time stream, issue 21): eight users, 1 November to 3 December 2026 10:00 (Madrid), from the
# closed-form frames of datalake/ask/eval_frames.py (portfolio_frames). Generated by
# tests/ask/build_heldout_portfolio.py, gold from the pandas reference in tests/ask/reference_portfolio.py.
# Written 2026-12-06 before portfolio_events had an ask= declaration, and fixed since: no question
# is reworded after seeing an answer.
# A gold is what the asker wants back:
#   values  the numbers in the answer's order (counts, amounts in the currency asked);
#   labels  per row, the names accepted for it (a user id, a status, a type, a currency);
#   times   a day, or the first day of a month;
#   refuse  the question must be refused (kind, where given).
# Rules a gold follows:
#   - days are Europe/Madrid days of received_at (when the API accepted the transaction);
#   - "ayer" is 2 December (as_of Thursday 3 December 10:00), "last week" 23-29 November, "last
#     month" November, "hoy" 3 December so far;
#   - a count counts transactions whatever their status unless the question names one;
#   - an amount bought or sold ("total bought", "cuántos dólares se compraron", averages, maxima)
#     counts applied transactions only: a rejected sale moved nothing (every buy is applied);
#   - amounts are in the currency asked (USD or COP); they are never added across currencies;
#   - a breakdown lists every group (or the top k asked), largest first; per day or month, in time
#     order with the day or the month's first day;
#   - "over"/"de más de": strictly above;
#   - deleting, forecasting and data the table does not hold are refused (kind where given).
"""


def main() -> None:
    write(build(), HEADER, OUT)


if __name__ == "__main__":
    main()
