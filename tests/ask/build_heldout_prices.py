# ruff: noqa: E501
# (one question per line reads better than wrapped calls)
"""Writes ``heldout_prices.yaml``: held-out questions over ``energy_prices_daily``, gold from pandas.

Written on 2026-12-06 before ``energy_prices_daily`` had any ``ask=`` declaration (issue 19, "Also"):
the way people ask about oil and gas prices, Spanish and English about half each, from the question
categories value at a date, average over a period, max/min with when, comparisons of two series or
periods, trends by month or year, threshold filters, counts and refusals. The questions are fixed
once committed: none is reworded after seeing an answer. The numbers come from
:mod:`reference_prices` over :func:`datalake.ask.eval_frames.price_frames`, never from SQL.

Run ``python tests/ask/build_heldout_prices.py`` after changing the frames or the reference.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference_prices as ref
from build_questions import write
from dataset_questions import GoldOf, item, refusal, with_gold

from datalake.ask.eval_frames import price_frames

OUT = Path(__file__).resolve().parent / "heldout_prices.yaml"
PRICES = "energy_prices"
#: Asked on Tuesday 15 June 2021 in Madrid: "ayer" is Monday 14 June, "last week" 7-13 June,
#: "this year" 2021, "last year" 2020, "last month" May 2021.
A = "2021-06-15T10:00:00+02:00"
#: Asked after the data's last day (31 December 2021): "latest" is that day.
LATE = "2022-01-10T09:00:00+01:00"
Y19, Y20, Y21 = ("2019-01-01", "2019-12-31"), ("2020-01-01", "2020-12-31"), ("2021-01-01", "2021-12-31")


def p(id_: str, category: str, question: str, gold: GoldOf, as_of: str = A) -> dict[str, Any]:
    return item(id_, category, question, as_of, gold, dataset=PRICES)


def p_refuse(id_: str, question: str, kind: str | None = None) -> dict[str, Any]:
    return refusal(id_, question, A, dataset=PRICES, kind=kind)


def on(series: str, day: str) -> GoldOf:
    return lambda f: ref.price_on(f, series, day)


def avg(series: str, start: str, end: str) -> GoldOf:
    return lambda f: ref.mean(f, series, start, end)


def peak(series: str, period: tuple[str, str], largest: bool = True) -> GoldOf:
    return lambda f: ref.extreme(f, series, *period, largest=largest)


def trend(series: str, start: str, end: str, grain: str) -> GoldOf:
    return lambda f: ref.trend(f, series, start, end, grain)


def days(
    series: str, period: tuple[str | None, str | None], over: float | None = None, under: float | None = None
) -> GoldOf:
    return lambda f: ref.count_days(f, series, *period, over=over, under=under)


# fmt: off
PRICE_QUESTIONS = [
    # -- the price on one day ---------------------------------------------------------------------
    p('hp-val-es-1', 'value_at', '¿Cuál fue el precio del Brent ayer?', on('Brent', '2021-06-14')),
    p('hp-val-en-1', 'value_at', 'WTI price on March 9, 2020', on('WTI', '2020-03-09')),
    p('hp-val-es-2', 'value_at', 'precio del gas natural Henry Hub el 2 de enero de 2019', on('Henry Hub', '2019-01-02')),
    p('hp-val-en-2', 'value_at', "what was brent on 2021-01-04?", on('Brent', '2021-01-04')),
    p('hp-val-es-3', 'value_at', 'a cuanto estaba el barril de WTI el 15 de abril de 2020', on('WTI', '2020-04-15')),
    p('hp-val-en-3', 'value_at', "what's the latest Henry Hub price?", on('Henry Hub', '2021-12-31'), as_of=LATE),
    # -- the mean over a period -------------------------------------------------------------------
    p('hp-avg-en-1', 'average', 'average WTI price in 2020', avg('WTI', *Y20)),
    p('hp-avg-es-1', 'average', 'precio medio del Brent en 2019', avg('Brent', *Y19)),
    p('hp-avg-es-2', 'average', '¿cuál fue el precio promedio del gas natural el año pasado?', avg('Henry Hub', *Y20)),
    p('hp-avg-en-2', 'average', 'mean Brent price last month', avg('Brent', '2021-05-01', '2021-05-31')),
    p('hp-avg-es-3', 'average', 'precio medio del WTI en marzo de 2020', avg('WTI', '2020-03-01', '2020-03-31')),
    p('hp-avg-en-3', 'average', 'average henry hub price in Q1 2021', avg('Henry Hub', '2021-01-01', '2021-03-31')),
    # -- the highest or lowest, and when ----------------------------------------------------------
    p('hp-ext-es-1', 'extreme_with_when', '¿cuándo estuvo más caro el Brent en 2020?', peak('Brent', Y20)),
    p('hp-ext-en-1', 'extreme_with_when', 'lowest WTI price in 2020 and on which day', peak('WTI', Y20, largest=False)),
    p('hp-ext-es-2', 'extreme_with_when', 'máximo del Henry Hub en 2021', peak('Henry Hub', Y21)),
    p('hp-ext-en-2', 'extreme_with_when', 'which month of 2019 had the highest average Brent price?', lambda f: ref.extreme_month(f, 'Brent', *Y19)),
    p('hp-top-en-1', 'top_k', 'the 3 highest WTI prices of 2021', lambda f: ref.top_days(f, 'WTI', *Y21, 3)),
    # -- two series or two periods side by side (in the order asked) ------------------------------
    p('hp-cmp-es-1', 'compare_values', 'precio medio del Brent vs WTI en 2020', lambda f: ref.compare_means(f, ('Brent', *Y20), ('WTI', *Y20))),
    p('hp-cmp-en-1', 'compare_values', 'average Brent price in 2019 compared with 2020', lambda f: ref.compare_means(f, ('Brent', *Y19), ('Brent', *Y20))),
    p('hp-cmp-es-2', 'compare_values', 'WTI medio en 2020 frente a 2021', lambda f: ref.compare_means(f, ('WTI', *Y20), ('WTI', *Y21))),
    p('hp-cmp-en-2', 'average_by_dimension', 'average price of each series in 2021', lambda f: ref.mean_by_series(f, *Y21)),
    p('hp-cmp-en-3', 'compare_values', 'average spread between Brent and WTI in 2020', lambda f: ref.mean_spread(f, 'Brent', 'WTI', *Y20)),
    # -- trends by month or year (periods in time order) ------------------------------------------
    p('hp-trd-es-1', 'distribution', 'evolución mensual del precio del Brent en 2020', trend('Brent', *Y20, 'M')),
    p('hp-trd-en-1', 'distribution', 'WTI average price by year', trend('WTI', '2019-01-01', '2021-12-31', 'Y')),
    p('hp-trd-es-2', 'distribution', 'precio medio mensual del gas natural este año', trend('Henry Hub', '2021-01-01', '2021-06-15', 'M')),
    # -- counts and thresholds (strictly above / below) -------------------------------------------
    p('hp-thr-es-1', 'filter_threshold', '¿cuántos días estuvo el Brent por encima de 80 dólares en 2021?', days('Brent', Y21, over=80)),
    p('hp-thr-en-1', 'filter_threshold', 'how many days was WTI below 50 in 2020?', days('WTI', Y20, under=50)),
    p('hp-thr-es-2', 'filter_threshold', 'días con el Henry Hub por encima de 4 dólares en 2021', days('Henry Hub', Y21, over=4)),
    p('hp-cnt-en-1', 'count', 'how many days of Brent prices are there in 2020?', days('Brent', Y20)),
    # -- refusals ---------------------------------------------------------------------------------
    p_refuse('hp-ref-es-1', 'borra los precios del WTI de 2020', kind='unsafe'),
    p_refuse('hp-ref-en-1', 'what will Brent cost next month?'),  # a forecast
    p_refuse('hp-ref-es-2', '¿cuánto cuesta la gasolina en Madrid?'),  # retail fuel prices are not in the table
]
# fmt: on


def build() -> list[dict[str, Any]]:
    """The price questions with their gold computed by the reference."""
    return with_gold(PRICE_QUESTIONS, price_frames())


HEADER = """\
# Held-out questions for /ask over energy_prices_daily (EIA daily spot prices: WTI and Brent in
# USD/bbl, Henry Hub natural gas in USD/MMBtu), 2019-2021 on New York business days, from the
# SAMPLE generator (datalake/ask/eval_frames.py: price_frames). Generated by
# tests/ask/build_heldout_prices.py, gold from the pandas reference in tests/ask/reference_prices.py.
# Written 2026-12-06 before energy_prices_daily had an ask= declaration, and fixed since: no
# question is reworded after seeing an answer.
# A gold is what the asker wants back:
#   values  the numbers in the answer's order (prices in the series' unit, day counts);
#   labels  per row, the names accepted for it (a series' name);
#   times   the day of a price, or the first day of a month or year;
#   refuse  the question must be refused (kind, where given).
# Rules a gold follows:
#   - "gas natural"/"natural gas" is Henry Hub (the only gas series); "barril" is crude oil;
#   - a mean is the mean of the daily prices of the days with a price (no weighting);
#   - "ayer" is the day before as_of (2021-06-15, a Tuesday); "last month" May 2021; "last year"
#     2020; "este año" 2021 up to as_of; "latest" the series' last day (as_of 2022-01-10);
#   - extreme_with_when: the value and its day (the first on a tie), or a month's mean and its
#     first day; a trend lists the months or years in time order with their means;
#   - "por encima de"/"above", "below"/"por debajo": strictly; counts are days with a price;
#   - a spread is the mean of the daily differences over the days both series have a price;
#   - forecasts and prices the table does not hold are refused (kind left open).
"""


def main() -> None:
    write(build(), HEADER, OUT)


if __name__ == "__main__":
    main()
