# ruff: noqa: E501
# (one question per line reads better than wrapped calls)
"""Writes ``questions.yaml``: the evaluation questions with gold values from the pandas reference.

Run ``python tests/ask/build_questions.py`` after changing a question or the dataset. Each
question states what it means (measure, aggregate, exact local periods, ...) by hand here;
the numbers come from :mod:`reference` over :func:`datalake.ask.evaluation.sample_frames`.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference import answer

from datalake.ask.evaluation import sample_frames

MADRID = ZoneInfo("Europe/Madrid")
OUT = Path(__file__).resolve().parent / "questions.yaml"

# Times of asking: a Wednesday in spring, a Tuesday in autumn, the Monday after the October 2023
# change (yesterday had 25 hours) and the Monday after the March 2024 change (23 hours).
A = "2024-04-17T14:30:00+02:00"
B = "2024-11-05T09:15:00+01:00"
C = "2023-10-30T12:00:00+01:00"
D = "2024-04-01T10:00:00+02:00"


def t(y: int, m: int, d: int, h: int = 0) -> str:
    """A local time (ISO with the Madrid offset)."""
    return dt.datetime(y, m, d, h, tzinfo=MADRID).isoformat()


def day(y: int, m: int, d: int) -> tuple[str, str]:
    first = dt.date(y, m, d)
    after = first + dt.timedelta(days=1)
    return t(y, m, d), t(after.year, after.month, after.day)


def hour(y: int, m: int, d: int, h: int) -> tuple[str, str]:
    start = dt.datetime(y, m, d, h, tzinfo=MADRID)
    end = (start.astimezone(dt.UTC) + dt.timedelta(hours=1)).astimezone(MADRID)
    return start.isoformat(), end.isoformat()


def days(y: int, m: int, d: int, y2: int, m2: int, d2: int) -> tuple[str, str]:
    """Local days from the first to the second date, the second excluded."""
    return t(y, m, d), t(y2, m2, d2)


def month(y: int, m: int) -> tuple[str, str]:
    after = (y + 1, 1) if m == 12 else (y, m + 1)
    return t(y, m, 1), t(after[0], after[1], 1)


def year(y: int) -> tuple[str, str]:
    return t(y, 1, 1), t(y + 1, 1, 1)


def q(id_: str, category: str, question: str, as_of: str, **spec: Any) -> dict[str, Any]:
    return {"id": id_, "category": category, "question": question, "as_of": as_of, "spec": spec}


def refuse(id_: str, question: str, as_of: str = A, kind: str | None = None) -> dict[str, Any]:
    gold: dict[str, Any] = {"refuse": True}
    if kind:
        gold["kind"] = kind
    return {"id": id_, "category": "refusal", "question": question, "as_of": as_of, "gold": gold}


def P(*periods: tuple[str, str]) -> list[tuple[str, str]]:
    return list(periods)


A_TODAY_END = t(2024, 4, 17, 14)  # last complete hour before A
# fmt: off
QUESTIONS = [
    # -- a value at an instant ------------------------------------------------------------------
    q('instant-es-1', 'instant', '¿Cuál fue la demanda ayer a las 15:00?', A, measure='demand', aggregate='instant', periods=P(hour(2024, 4, 16, 15))),
    q('instant-en-1', 'instant', 'What was the demand yesterday at noon?', A, measure='demand', aggregate='instant', periods=P(hour(2024, 4, 16, 12))),
    q('instant-es-2', 'instant', 'demanda el 15 de abril de 2024 a las 9 de la mañana', A, measure='demand', aggregate='instant', periods=P(hour(2024, 4, 15, 9))),
    q('instant-en-2', 'instant', 'Demand on 2024-03-05 at 8 pm', A, measure='demand', aggregate='instant', periods=P(hour(2024, 3, 5, 20))),
    q('instant-es-3', 'instant', '¿Cuánta eólica se generaba anteayer a mediodía?', A, measure='generation', aggregate='instant', technology='wind', periods=P(hour(2024, 4, 15, 12))),
    q('instant-es-4', 'instant', 'cuota renovable ayer a las 13:00', A, measure='share', aggregate='instant', technology='renewable', periods=P(hour(2024, 4, 16, 13))),
    q('instant-es-5', 'instant', '¿Qué demanda había el 29 de octubre de 2023 a las 2:00?', A, measure='demand', aggregate='instant', periods=P(('2023-10-29T02:00:00+02:00', '2023-10-29T02:00:00+01:00'))),
    q('instant-en-3', 'instant', 'What was nuclear output on 15/04/2024 at 3 pm?', A, measure='generation', aggregate='instant', technology='nuclear', periods=P(hour(2024, 4, 15, 15))),
    # -- total energy ---------------------------------------------------------------------------
    q('total-es-1', 'total', '¿Cuál fue la demanda total ayer?', A, measure='demand', aggregate='total', periods=P(day(2024, 4, 16))),
    q('total-es-2', 'total', 'demanda de ayer', C, measure='demand', aggregate='total', periods=P(day(2023, 10, 29))),
    q('total-en-1', 'total', 'Total electricity demand last week', A, measure='demand', aggregate='total', periods=P(days(2024, 4, 8, 2024, 4, 15))),
    q('total-es-3', 'total', '¿Cuánta energía se consumió en marzo de 2024?', A, measure='demand', aggregate='total', periods=P(month(2024, 3))),
    q('total-es-4', 'total', 'consumo eléctrico en 2023', A, measure='demand', aggregate='total', periods=P(year(2023))),
    q('total-en-2', 'total', 'How much energy did Spain consume in September 2023?', A, measure='demand', aggregate='total', periods=P(month(2023, 9))),
    q('total-es-5', 'total', 'demanda el 31 de marzo de 2024', A, measure='demand', aggregate='total', periods=P(day(2024, 3, 31))),
    q('total-es-6', 'total', 'demanda total el mes pasado en la península', A, measure='demand', aggregate='total', region='peninsular', periods=P(month(2024, 3))),
    q('total-es-7', 'generation', '¿Cuánta energía eólica se generó el mes pasado?', A, measure='generation', aggregate='total', technology='wind', periods=P(month(2024, 3))),
    q('total-es-8', 'generation', 'generación solar fotovoltaica en el primer trimestre de 2024', A, measure='generation', aggregate='total', technology='solar_pv', periods=P(days(2024, 1, 1, 2024, 4, 1))),
    q('total-en-3', 'generation', 'total generation in December 2023', A, measure='generation', aggregate='total', technology=None, periods=P(month(2023, 12))),
    q('total-es-9', 'generation', 'generación nuclear en 2023', A, measure='generation', aggregate='total', technology='nuclear', periods=P(year(2023))),
    q('total-en-4', 'generation', 'hydro generation in 2023', A, measure='generation', aggregate='total', technology='hydro', periods=P(year(2023))),
    q('total-es-10', 'generation', 'generación de ciclo combinado la semana pasada', A, measure='generation', aggregate='total', technology='combined_cycle', periods=P(days(2024, 4, 8, 2024, 4, 15))),
    q('total-es-11', 'generation', '¿cuánta energía renovable se produjo ayer?', A, measure='generation', aggregate='total', technology='renewable', periods=P(day(2024, 4, 16))),
    q('total-es-12', 'generation', 'generación eólica en diciembre de 2022', A, measure='generation', aggregate='total', technology='wind', periods=P(month(2022, 12))),
    q('total-es-13', 'total', 'demanda en diciembre de 2022', A, measure='demand', aggregate='total', periods=P(month(2022, 12))),
    # -- averages ---------------------------------------------------------------------------------
    q('avg-en-1', 'average', 'What was the average demand last week?', A, measure='demand', aggregate='average', periods=P(days(2024, 4, 8, 2024, 4, 15))),
    q('avg-es-1', 'average', 'demanda media en febrero de 2024', A, measure='demand', aggregate='average', periods=P(month(2024, 2))),
    q('avg-es-2', 'average', 'demanda media diaria en marzo de 2024', A, measure='demand', aggregate='average', granularity='day', periods=P(month(2024, 3))),
    q('avg-es-3', 'average', 'promedio de generación eólica ayer', A, measure='generation', aggregate='average', technology='wind', periods=P(day(2024, 4, 16))),
    q('avg-en-2', 'average', 'average hourly demand in 2023', A, measure='demand', aggregate='average', periods=P(year(2023))),
    q('avg-es-4', 'average', 'consumo medio el mes pasado', B, measure='demand', aggregate='average', periods=P(month(2024, 10))),
    # -- maximum / minimum and when ---------------------------------------------------------------
    q('max-es-1', 'extreme', '¿Cuál fue el pico de demanda la semana pasada y cuándo ocurrió?', A, measure='demand', aggregate='max', granularity='hour', k=1, periods=P(days(2024, 4, 8, 2024, 4, 15))),
    q('max-es-2', 'extreme', 'demanda máxima en 2023', A, measure='demand', aggregate='max', granularity='hour', k=1, periods=P(year(2023))),
    q('min-en-1', 'extreme', 'What was the lowest demand yesterday?', A, measure='demand', aggregate='min', granularity='hour', k=1, order='asc', periods=P(day(2024, 4, 16))),
    q('max-es-3', 'extreme', '¿Qué día de marzo de 2024 tuvo la mayor demanda?', A, measure='demand', aggregate='max', granularity='day', k=1, periods=P(month(2024, 3))),
    q('min-en-2', 'extreme', 'the day with the least wind generation in February 2024', A, measure='generation', aggregate='min', granularity='day', technology='wind', k=1, order='asc', periods=P(month(2024, 2))),
    q('max-es-4', 'extreme', '¿cuál fue el mes con más demanda en 2023?', A, measure='demand', aggregate='max', granularity='month', k=1, periods=P(year(2023))),
    q('min-es-1', 'extreme', 'la hora con menor cuota renovable ayer', A, measure='share', aggregate='min', granularity='hour', technology='renewable', k=1, order='asc', periods=P(day(2024, 4, 16))),
    q('max-en-1', 'extreme', 'peak solar generation last month', A, measure='generation', aggregate='max', granularity='hour', technology='solar', k=1, periods=P(month(2024, 3))),
    q('min-es-2', 'extreme', 'mínimo de demanda en la península en enero de 2024', A, measure='demand', aggregate='min', granularity='hour', region='peninsular', k=1, order='asc', periods=P(month(2024, 1))),
    q('max-en-2', 'extreme', 'highest demand ever', A, measure='demand', aggregate='max', granularity='hour', k=1, periods=P((t(2000, 1, 1), A_TODAY_END))),
    q('min-es-3', 'extreme', '¿Qué semana de 2023 tuvo la menor demanda?', A, measure='demand', aggregate='min', granularity='week', k=1, order='asc', periods=P(days(2023, 1, 2, 2024, 1, 1))),
    q('min-es-4', 'extreme', 'el día de menor demanda del año pasado', A, measure='demand', aggregate='min', granularity='day', k=1, order='asc', periods=P(year(2023))),
    # -- top-k --------------------------------------------------------------------------------------
    q('top-es-1', 'top_k', 'top 3 días con más demanda en marzo de 2024', A, measure='demand', aggregate='top', granularity='day', k=3, periods=P(month(2024, 3))),
    q('top-es-2', 'top_k', 'Los 5 días de mayor generación eólica en 2023', A, measure='generation', aggregate='top', granularity='day', technology='wind', k=5, periods=P(year(2023))),
    q('top-en-1', 'top_k', 'the 3 hours with the highest demand last week', A, measure='demand', aggregate='top', granularity='hour', k=3, periods=P(days(2024, 4, 8, 2024, 4, 15))),
    q('top-es-3', 'top_k', 'las 3 horas de menor demanda ayer', A, measure='demand', aggregate='top', granularity='hour', k=3, order='asc', periods=P(day(2024, 4, 16))),
    q('top-en-2', 'top_k', 'top 2 months with the most solar generation in 2023', A, measure='generation', aggregate='top', granularity='month', technology='solar', k=2, periods=P(year(2023))),
    q('top-es-4', 'top_k', 'los 4 días con mayor cuota renovable el mes pasado', A, measure='share', aggregate='top', granularity='day', technology='renewable', k=4, periods=P(month(2024, 3))),
    # -- comparisons --------------------------------------------------------------------------------
    q('cmp-es-1', 'compare', 'Compara la demanda de enero con la de febrero de 2024', A, measure='demand', aggregate='compare', periods=P(month(2024, 1), month(2024, 2))),
    q('cmp-en-1', 'compare', 'demand this month vs the same month last year', A, measure='demand', aggregate='compare', periods=P((t(2024, 4, 1), A_TODAY_END), (t(2023, 4, 1), t(2023, 4, 17, 14)))),
    q('cmp-es-2', 'compare', '¿Fue mayor la demanda en julio o en agosto de 2023?', A, measure='demand', aggregate='compare', periods=P(month(2023, 7), month(2023, 8))),
    q('cmp-en-2', 'compare', 'compare wind generation in March 2024 versus March 2023', A, measure='generation', aggregate='compare', technology='wind', periods=P(month(2024, 3), month(2023, 3))),
    q('cmp-es-3', 'compare', 'demanda media de ayer frente a anteayer', A, measure='demand', aggregate='compare', inner='average', periods=P(day(2024, 4, 16), day(2024, 4, 15))),
    q('cmp-es-4', 'compare', 'cuota renovable en 2023 vs 2024', A, measure='share', aggregate='compare', technology='renewable', periods=P((t(2023, 1, 1), t(2023, 4, 17, 14)), (t(2024, 1, 1), A_TODAY_END))),
    q('cmp-es-5', 'compare', 'compara el pico de demanda de enero de 2024 con el de enero de 2023', A, measure='demand', aggregate='compare', inner='max', periods=P(month(2024, 1), month(2023, 1))),
    q('cmp-es-6', 'compare', 'demanda de esta semana comparada con la semana pasada', A, measure='demand', aggregate='compare', periods=P((t(2024, 4, 15), A_TODAY_END), (t(2024, 4, 8), t(2024, 4, 10, 14)))),
    # -- trends -------------------------------------------------------------------------------------
    q('trend-es-1', 'trend', 'evolución diaria de la demanda en marzo de 2024', A, measure='demand', aggregate='trend', granularity='day', periods=P(month(2024, 3))),
    q('trend-en-1', 'trend', 'monthly trend of wind generation in 2023', A, measure='generation', aggregate='trend', granularity='month', technology='wind', periods=P(year(2023))),
    q('trend-es-2', 'trend', 'demanda por semana en febrero de 2024', A, measure='demand', aggregate='trend', granularity='week', periods=P(month(2024, 2))),
    q('trend-es-3', 'trend', 'tendencia mensual de la cuota renovable en 2023', A, measure='share', aggregate='trend', granularity='month', technology='renewable', periods=P(year(2023))),
    q('trend-es-4', 'trend', 'evolución horaria de la demanda ayer', A, measure='demand', aggregate='trend', granularity='hour', periods=P(day(2024, 4, 16))),
    q('trend-en-2', 'trend', 'daily demand last week', A, measure='demand', aggregate='trend', granularity='day', periods=P(days(2024, 4, 8, 2024, 4, 15))),
    # -- the grid operator's forecast -----------------------------------------------------------------
    q('fc-es-1', 'forecast', '¿Cuál es la previsión de demanda del operador para mañana?', A, measure='forecast', aggregate='total', periods=P(day(2024, 4, 18))),
    q('fc-en-1', 'forecast', 'REE forecast for tomorrow at 8 pm', A, measure='forecast', aggregate='instant', periods=P(hour(2024, 4, 18, 20))),
    q('fc-es-2', 'forecast', 'previsión de demanda máxima para mañana', A, measure='forecast', aggregate='max', granularity='hour', k=1, periods=P(day(2024, 4, 18))),
    q('fc-en-2', 'forecast', "What was the TSO's forecast demand yesterday at noon?", A, measure='forecast', aggregate='instant', periods=P(hour(2024, 4, 16, 12))),
    q('fc-es-3', 'forecast', 'demanda prevista la semana que viene', A, measure='forecast', aggregate='total', periods=P(days(2024, 4, 22, 2024, 4, 29))),
    q('fc-es-4', 'forecast', 'demanda mañana', A, measure='forecast', aggregate='total', periods=P(day(2024, 4, 18))),
    q('fc-es-5', 'forecast', '¿Qué demanda se espera mañana a las 20:00?', A, measure='forecast', aggregate='instant', periods=P(hour(2024, 4, 18, 20))),
    q('fc-es-6', 'forecast', '¿Cuál fue la demanda prevista ayer?', A, measure='forecast', aggregate='total', periods=P(day(2024, 4, 16))),
    # -- paraphrases --------------------------------------------------------------------------------
    q('para-es-1', 'paraphrase', '¿Cuánta electricidad se consumió la semana pasada?', A, measure='demand', aggregate='total', periods=P(days(2024, 4, 8, 2024, 4, 15))),
    q('para-en-1', 'paraphrase', 'How much electricity was used last month?', A, measure='demand', aggregate='total', periods=P(month(2024, 3))),
    q('para-es-2', 'paraphrase', 'Cual fue la carga del sistema el 15 de abril de 2024', A, measure='demand', aggregate='total', periods=P(day(2024, 4, 15))),
    q('para-es-3', 'paraphrase', '¿A qué hora fue el pico de demanda ayer?', A, measure='demand', aggregate='max', granularity='hour', k=1, periods=P(day(2024, 4, 16))),
    q('para-en-2', 'paraphrase', 'At what time did demand peak yesterday?', A, measure='demand', aggregate='max', granularity='hour', k=1, periods=P(day(2024, 4, 16))),
    q('para-es-4', 'paraphrase', '¿Cuándo se registró la demanda mínima el mes pasado?', A, measure='demand', aggregate='min', granularity='hour', k=1, order='asc', periods=P(month(2024, 3))),
    q('para-en-3', 'paraphrase', 'How much wind power was generated yesterday?', A, measure='generation', aggregate='total', technology='wind', periods=P(day(2024, 4, 16))),
    q('para-es-5', 'paraphrase', '¿Qué peso tuvo la nuclear en el mix de 2023?', A, measure='share', aggregate='total', technology='nuclear', periods=P(year(2023))),
    q('para-en-4', 'paraphrase', 'What percentage of electricity came from wind in March?', A, measure='share', aggregate='total', technology='wind', periods=P(month(2024, 3))),
    q('para-es-6', 'paraphrase', '¿Se consumió más en julio que en agosto de 2023?', A, measure='demand', aggregate='compare', periods=P(month(2023, 7), month(2023, 8))),
    q('para-en-5', 'paraphrase', 'demand in March 2024 compared with the previous month', A, measure='demand', aggregate='compare', periods=P(month(2024, 3), month(2024, 2))),
    q('para-es-7', 'paraphrase', 'consumo diario en enero de 2024', A, measure='demand', aggregate='trend', granularity='day', periods=P(month(2024, 1))),
    q('para-en-6', 'paraphrase', 'what were the three days with the lowest demand last month', A, measure='demand', aggregate='top', granularity='day', k=3, order='asc', periods=P(month(2024, 3))),
    q('para-es-8', 'paraphrase', '¿Cuánto carbón se quemó en 2023?', A, measure='generation', aggregate='total', technology='coal', periods=P(year(2023))),
    q('para-en-7', 'paraphrase', 'demand last Friday at 9 am', A, measure='demand', aggregate='instant', periods=P(hour(2024, 4, 12, 9))),
    q('para-es-9', 'paraphrase', '¿Qué mes de 2023 tuvo la mayor cuota renovable?', A, measure='share', aggregate='max', granularity='month', technology='renewable', k=1, periods=P(year(2023))),
    q('para-es-10', 'paraphrase', 'demanda del quince de abril de 2024', A, measure='demand', aggregate='total', periods=P(day(2024, 4, 15))),
    q('para-en-8', 'paraphrase', 'How much did demand change between January and February 2024?', A, measure='demand', aggregate='compare', periods=P(month(2024, 1), month(2024, 2))),
    q('para-es-11', 'paraphrase', '¿Cuánta energía eólica se generó la semana pasada frente a la anterior?', A, measure='generation', aggregate='compare', technology='wind', periods=P(days(2024, 4, 8, 2024, 4, 15), days(2024, 4, 1, 2024, 4, 8))),
    q('para-en-9', 'paraphrase', 'demand in the week of April 8, 2024', A, measure='demand', aggregate='total', periods=P(days(2024, 4, 8, 2024, 4, 15))),
    q('para-en-10', 'paraphrase', '5 highest demand hours in March 2024', A, measure='demand', aggregate='top', granularity='hour', k=5, periods=P(month(2024, 3))),
    q('para-es-12', 'paraphrase', '¿En qué día de la semana pasada hubo menos demanda?', A, measure='demand', aggregate='min', granularity='day', k=1, order='asc', periods=P(days(2024, 4, 8, 2024, 4, 15))),
    # -- typos, missing or extra accents, case ----------------------------------------------------------
    q('typo-es-1', 'typos', 'demnada total de ayer', A, measure='demand', aggregate='total', periods=P(day(2024, 4, 16))),
    q('typo-es-2', 'typos', 'generacion eolica el mes pasado', A, measure='generation', aggregate='total', technology='wind', periods=P(month(2024, 3))),
    q('typo-es-3', 'typos', 'cual fue el pico de demanda en febrero', A, measure='demand', aggregate='max', granularity='hour', k=1, periods=P(month(2024, 2))),
    q('typo-es-4', 'typos', 'DEMANDA MÁXIMA EN ENERO DE 2024', A, measure='demand', aggregate='max', granularity='hour', k=1, periods=P(month(2024, 1))),
    q('typo-es-5', 'typos', 'porcentaje renovables ayer', A, measure='share', aggregate='total', technology='renewable', periods=P(day(2024, 4, 16))),
    q('typo-en-1', 'typos', 'whats the avrage demand yesterday', A, measure='demand', aggregate='average', periods=P(day(2024, 4, 16))),
    q('typo-es-6', 'typos', 'hidraulica en 2023', A, measure='generation', aggregate='total', technology='hydro', periods=P(year(2023))),
    q('typo-es-7', 'typos', 'generación solar fotovoltáica en marzo', A, measure='generation', aggregate='total', technology='solar_pv', periods=P(month(2024, 3))),
    q('typo-es-8', 'typos', 'produción nuclear la semana pasada', A, measure='generation', aggregate='total', technology='nuclear', periods=P(days(2024, 4, 8, 2024, 4, 15))),
    q('typo-en-2', 'typos', 'wind generaton on 2024-03-10', A, measure='generation', aggregate='total', technology='wind', periods=P(day(2024, 3, 10))),
    q('typo-es-9', 'typos', 'la demanda  del  15/04/2024', A, measure='demand', aggregate='total', periods=P(day(2024, 4, 15))),
    q('typo-es-10', 'typos', 'demamda media de la semana pasda', A, measure='demand', aggregate='average', periods=P(days(2024, 4, 8, 2024, 4, 15))),
    # -- time expressions ---------------------------------------------------------------------------
    q('time-es-1', 'time', 'demanda entre el 20 y el 25 de octubre', B, measure='demand', aggregate='total', periods=P(days(2024, 10, 20, 2024, 10, 26))),
    q('time-es-2', 'time', 'demanda en septiembre de 2017', A, measure='demand', aggregate='total', periods=P(month(2017, 9))),
    q('time-en-1', 'time', 'demand in 2016', A, measure='demand', aggregate='total', periods=P(year(2016))),
    q('time-es-3', 'time', 'demanda hace 3 días', A, measure='demand', aggregate='total', periods=P(day(2024, 4, 14))),
    q('time-es-4', 'time', 'demanda anteayer', A, measure='demand', aggregate='total', periods=P(day(2024, 4, 15))),
    q('time-es-5', 'time', 'demanda el lunes pasado', A, measure='demand', aggregate='total', periods=P(day(2024, 4, 15))),
    q('time-en-2', 'time', 'demand over the last 7 days', A, measure='demand', aggregate='total', periods=P(days(2024, 4, 10, 2024, 4, 17))),
    q('time-es-6', 'time', 'demanda del 1 al 15 de marzo de 2024', A, measure='demand', aggregate='total', periods=P(days(2024, 3, 1, 2024, 3, 16))),
    q('time-es-7', 'time', 'demanda el mismo mes del año pasado', A, measure='demand', aggregate='total', periods=P(month(2023, 4))),
    q('time-es-8', 'time', 'demanda este año', A, measure='demand', aggregate='total', periods=P((t(2024, 1, 1), A_TODAY_END))),
    q('time-en-3', 'time', 'demand last weekend', A, measure='demand', aggregate='total', periods=P(days(2024, 4, 13, 2024, 4, 15))),
    q('time-es-9', 'time', 'demanda en el primer trimestre de 2024', A, measure='demand', aggregate='total', periods=P(days(2024, 1, 1, 2024, 4, 1))),
    q('time-es-10', 'time', 'demanda media en las últimas 24 horas', A, measure='demand', aggregate='average', periods=P((t(2024, 4, 16, 14), A_TODAY_END))),
    q('time-en-4', 'time', 'demand on October 29, 2023', A, measure='demand', aggregate='total', periods=P(day(2023, 10, 29))),
    q('time-en-5', 'time', "yesterday's demand", D, measure='demand', aggregate='total', periods=P(day(2024, 3, 31))),
    q('time-en-6', 'time', 'wind generation between October 20 and 25', B, measure='generation', aggregate='total', technology='wind', periods=P(days(2024, 10, 20, 2024, 10, 26))),
    # -- parts of the day, seasons (meteorological) and fixed-date holidays ----------------------------
    q('time-es-11', 'time', 'demanda esta mañana', A, measure='demand', aggregate='total', periods=P((t(2024, 4, 17, 6), t(2024, 4, 17, 12)))),
    q('time-en-7', 'time', 'demand last night', A, measure='demand', aggregate='total', periods=P((t(2024, 4, 16, 20), t(2024, 4, 17)))),
    q('time-es-12', 'time', '¿Cuál fue la demanda máxima ayer por la tarde?', A, measure='demand', aggregate='max', granularity='hour', k=1, periods=P((t(2024, 4, 16, 12), t(2024, 4, 16, 20)))),
    q('time-es-13', 'time', 'demanda el fin de semana pasado', A, measure='demand', aggregate='total', periods=P(days(2024, 4, 13, 2024, 4, 15))),
    q('time-es-14', 'time', 'demanda media el verano pasado', A, measure='demand', aggregate='average', periods=P(days(2023, 6, 1, 2023, 9, 1))),
    q('time-en-8', 'time', 'What was the peak demand last summer?', A, measure='demand', aggregate='max', granularity='hour', k=1, periods=P(days(2023, 6, 1, 2023, 9, 1))),
    q('time-es-15', 'time', 'generación eólica en Navidad', A, measure='generation', aggregate='total', technology='wind', periods=P(day(2023, 12, 25))),
    q('time-en-9', 'time', 'demand on Christmas day', A, measure='demand', aggregate='total', periods=P(day(2023, 12, 25))),
    q('time-es-17', 'time', 'generación solar el finde pasado', A, measure='generation', aggregate='total', technology='solar', periods=P(days(2024, 4, 13, 2024, 4, 15))),
    q('time-en-10', 'time', 'demand yesterday morning at 9', A, measure='demand', aggregate='instant', periods=P(hour(2024, 4, 16, 9))),
    q('time-es-16', 'time', '¿Qué tecnología generó más el invierno pasado?', A, measure='generation', aggregate='rank', technology=None, k=1, order='desc', periods=P(days(2023, 12, 1, 2024, 3, 1))),
    # -- rankings of technologies (the winner, the top k, or every technology, largest first) ----------
    q('rank-es-1', 'ranking', '¿Qué tecnología generó más energía ayer?', A, measure='generation', aggregate='rank', technology=None, k=1, order='desc', periods=P(day(2024, 4, 16))),
    q('rank-en-1', 'ranking', 'Which technology generated the most last month?', A, measure='generation', aggregate='rank', technology=None, k=1, order='desc', periods=P(month(2024, 3))),
    q('rank-es-2', 'ranking', '¿Cuál fue la fuente que más produjo en 2023?', A, measure='generation', aggregate='rank', technology=None, k=1, order='desc', periods=P(year(2023))),
    q('rank-en-2', 'ranking', 'Which source produced the most electricity yesterday?', D, measure='generation', aggregate='rank', technology=None, k=1, order='desc', periods=P(day(2024, 3, 31))),
    q('rank-es-3', 'ranking', 'top 3 tecnologías por generación el mes pasado', A, measure='generation', aggregate='rank', technology=None, k=3, order='desc', periods=P(month(2024, 3))),
    q('rank-es-4', 'ranking', 'ranking de tecnologías en octubre', B, measure='generation', aggregate='rank', technology=None, k=None, order='desc', periods=P(month(2024, 10))),
    q('rank-es-5', 'ranking', 'generación por tecnología la semana pasada', A, measure='generation', aggregate='rank', technology=None, k=None, order='desc', periods=P(days(2024, 4, 8, 2024, 4, 15))),
    q('rank-es-6', 'ranking', 'mix de generación de ayer', C, measure='generation', aggregate='rank', technology=None, k=None, order='desc', periods=P(day(2023, 10, 29))),
    q('rank-en-3', 'ranking', 'What was the generation mix in 2022?', A, measure='generation', aggregate='rank', technology=None, k=None, order='desc', periods=P(year(2022))),
    q('rank-es-7', 'ranking', '¿Qué renovable generó más ayer?', A, measure='generation', aggregate='rank', technology='renewable', k=1, order='desc', periods=P(day(2024, 4, 16))),
    q('rank-en-4', 'ranking', 'Which renewable produced the most last week?', A, measure='generation', aggregate='rank', technology='renewable', k=1, order='desc', periods=P(days(2024, 4, 8, 2024, 4, 15))),
    q('rank-es-8', 'ranking', '¿qué tecnología generó menos ayer?', A, measure='generation', aggregate='rank', technology=None, k=1, order='asc', periods=P(day(2024, 4, 16))),
    q('rank-es-9', 'ranking', '¿Qué tecnología tuvo mayor cuota ayer?', A, measure='share', aggregate='rank', technology=None, k=1, order='desc', periods=P(day(2024, 4, 16))),
    q('rank-en-5', 'ranking', 'share of each technology last month', A, measure='share', aggregate='rank', technology=None, k=None, order='desc', periods=P(month(2024, 3))),
    q('rank-es-10', 'ranking', 'que tecnologia genero mas en diciembre de 2023', A, measure='generation', aggregate='rank', technology=None, k=1, order='desc', periods=P(month(2023, 12))),
    q('rank-es-11', 'ranking', 'cual fue la tecnologia con mayor porcentaje en marzo', A, measure='share', aggregate='rank', technology=None, k=1, order='desc', periods=P(month(2024, 3))),
    q('rank-es-12', 'ranking', 'las 3 tecnolgías que menos generaron en febrero de 2024', A, measure='generation', aggregate='rank', technology=None, k=3, order='asc', periods=P(month(2024, 2))),
    q('rank-en-6', 'ranking', 'wich tecnology produced the most energy on 2024-03-10', A, measure='generation', aggregate='rank', technology=None, k=1, order='desc', periods=P(day(2024, 3, 10))),
    q('rank-en-7', 'ranking', 'top 5 sources of generation in Q1 2024', A, measure='generation', aggregate='rank', technology=None, k=5, order='desc', periods=P(days(2024, 1, 1, 2024, 4, 1))),
    q('rank-es-13', 'ranking', '¿Cuál de las renovables produjo más el año pasado?', A, measure='generation', aggregate='rank', technology='renewable', k=1, order='desc', periods=P(year(2023))),
    q('rank-en-8', 'ranking', 'the renewable that generated the least last month', A, measure='generation', aggregate='rank', technology='renewable', k=1, order='asc', periods=P(month(2024, 3))),
    q('rank-es-14', 'ranking', 'desglose de la generación renovable por tecnología en 2023', A, measure='generation', aggregate='rank', technology='renewable', k=None, order='desc', periods=P(year(2023))),
    q('rank-en-9', 'ranking', 'share of each renewable technology yesterday', A, measure='share', aggregate='rank', technology='renewable', k=None, order='desc', periods=P(day(2024, 4, 16))),
    q('rank-es-15', 'ranking', '¿Qué fósil generó más en 2023?', A, measure='generation', aggregate='rank', technology='fossil', k=1, order='desc', periods=P(year(2023))),
    q('rank-es-16', 'ranking', 'ranking de tecnologías de menor a mayor la semana pasada', A, measure='generation', aggregate='rank', technology=None, k=None, order='asc', periods=P(days(2024, 4, 8, 2024, 4, 15))),
    q('rank-en-10', 'ranking', 'average generation by technology yesterday', A, measure='generation', aggregate='rank', technology=None, k=None, order='desc', inner='average', periods=P(day(2024, 4, 16))),
    q('rank-es-17', 'ranking', 'mix de generación peninsular ayer', A, measure='generation', aggregate='rank', technology=None, region='peninsular', k=None, order='desc', periods=P(day(2024, 4, 16))),
    q('rank-es-18', 'ranking', 'qué tecnología generaba más ayer a las 15:00', A, measure='generation', aggregate='rank', technology=None, k=1, order='desc', periods=P(hour(2024, 4, 16, 15))),
    q('rank-en-11', 'ranking', 'What were the three technologies with the biggest share in 2023?', A, measure='share', aggregate='rank', technology=None, k=3, order='desc', periods=P(year(2023))),
    q('rank-es-19', 'ranking', 'Reparto de la generación por fuentes en el primer trimestre de 2024', A, measure='generation', aggregate='rank', technology=None, k=None, order='desc', periods=P(days(2024, 1, 1, 2024, 4, 1))),
    q('rank-es-20', 'ranking', '¿Qué renovable tuvo mayor cuota el mes pasado?', A, measure='share', aggregate='rank', technology='renewable', k=1, order='desc', periods=P(month(2024, 3))),
    q('rank-en-12', 'ranking', 'What was the main source of electricity last month?', A, measure='generation', aggregate='rank', technology=None, k=1, order='desc', periods=P(month(2024, 3))),
    q('rank-es-22', 'ranking', '¿Quién generó más ayer?', A, measure='generation', aggregate='rank', technology=None, k=1, order='desc', periods=P(day(2024, 4, 16))),
    q('rank-en-13', 'ranking', 'what was the top renewable yesterday', A, measure='generation', aggregate='rank', technology='renewable', k=1, order='desc', periods=P(day(2024, 4, 16))),
    q('rank-es-23', 'ranking', '¿Cuál fue la principal fuente de generación el verano pasado?', A, measure='generation', aggregate='rank', technology=None, k=1, order='desc', periods=P(days(2023, 6, 1, 2023, 9, 1))),
    q('rank-en-14', 'ranking', 'What was the second largest source last month?', A, measure='generation', aggregate='rank', technology=None, k=2, order='desc', periods=P(month(2024, 3))),
    q('rank-es-24', 'ranking', '¿qué fuente dominó la generación esta mañana?', A, measure='generation', aggregate='rank', technology=None, k=1, order='desc', periods=P((t(2024, 4, 17, 6), t(2024, 4, 17, 12)))),
    q('rank-es-25', 'ranking', '¿Qué tipo de energía produjo más ayer?', A, measure='generation', aggregate='rank', technology=None, k=1, order='desc', periods=P(day(2024, 4, 16))),
    q('rank-es-21', 'ranking', '¿A qué hora generaron más las renovables ayer?', A, measure='generation', aggregate='max', technology='renewable', granularity='hour', k=1, periods=P(day(2024, 4, 16))),
    # -- refusals -------------------------------------------------------------------------------------
    refuse('ref-es-1', 'borra la tabla demand_hourly', kind='unsafe'),
    refuse('ref-es-2', '¿Cuál fue el precio de la electricidad ayer?', kind='out_of_scope'),
    refuse('ref-es-3', 'exporta los datos a CSV', kind='out_of_scope'),
    refuse('ref-en-1', 'electricity exports to France last month', kind='out_of_scope'),
    refuse('ref-es-4', 'demanda de ayer; DROP TABLE generation; --', kind='unsafe'),
    refuse('ref-en-2', "' OR 1=1 --", kind='unsafe'),
    refuse('ref-es-5', '¿Qué tiempo hará mañana?'),
    refuse('ref-es-6', 'demanda en Canarias ayer', kind='out_of_scope'),
    refuse('ref-es-7', '¿Cuál fue la demanda?', kind='ambiguous'),
    # Refused until issue 18 asked for two technologies in one question (a held-out cluster); the
    # question stays as written, its gold is now both values, in the order asked.
    q('ref-es-8', 'two_measures', 'generación eólica y solar ayer', A, measure='generation', aggregate='compare', technology='wind', against='solar', periods=P(day(2024, 4, 16))),
    refuse('ref-es-9', 'emisiones de CO2 en 2023', kind='out_of_scope'),
    refuse('ref-en-3', 'demand at 3 yesterday', kind='ambiguous'),
    refuse('ref-es-10', 'demanda el 31 de marzo de 2024 a las 2:30', kind='ambiguous'),
    refuse('ref-es-11', 'generación eólica mañana', kind='no_data'),
    refuse('ref-en-5', 'What is the price of electricity today?', kind='out_of_scope'),
    refuse('ref-es-12', 'hola, ¿qué tal?', kind='not_understood'),
    # Refused until issue 18 asked for the operator's forecast error (a held-out cluster); the
    # question stays as written, its gold is now the answer.
    q('ref-en-6', 'forecast_error', 'demand forecast error yesterday', A, measure='forecast', aggregate='error', inner='mae', periods=P(day(2024, 4, 16))),
    refuse('ref-es-13', 'demanda a las 25:00 de ayer', kind='ambiguous'),
    refuse('ref-en-4', 'select * from demand_hourly', kind='unsafe'),
    refuse('ref-es-14', '¿Qué central generó más ayer?', kind='out_of_scope'),
    refuse('ref-es-15', 'demanda por tecnología ayer', kind='ambiguous'),
    refuse('ref-es-16', 'generación diaria por tecnología el mes pasado', kind='ambiguous'),
    refuse('ref-es-17', '¿qué tecnología generó más en enero frente a febrero de 2024?', kind='ambiguous'),
    refuse('ref-en-7', 'Which technology had the highest price yesterday?', kind='out_of_scope'),
    refuse('ref-en-8', 'emissions by technology last year', kind='out_of_scope'),
    refuse('ref-es-18', 'previsión de generación por tecnología para mañana', kind='out_of_scope'),
    refuse('ref-es-19', 'demanda en las navidades de 2023', kind='ambiguous'),
    refuse('ref-en-9', 'demand at Easter 2024', kind='ambiguous'),
]
# fmt: on


def build() -> list[dict[str, Any]]:
    """The questions with gold values computed by the reference."""
    frames = sample_frames()
    out = []
    for item in QUESTIONS:
        if "spec" not in item:
            out.append(item)
            continue
        spec = dict(item["spec"])
        spec["periods"] = [list(p) for p in spec["periods"]]
        computed = answer(frames, spec)
        gold: dict[str, Any] = {
            k: spec[k]
            for k in ("measure", "aggregate", "technology", "region", "granularity", "k", "order")
            if k in spec
        }
        gold["period"] = spec["periods"][0]
        gold["values"] = [None if v is None else round(float(v), 6) for v in computed["values"]]
        if "times" in computed and spec["aggregate"] in ("instant", "max", "min", "top", "trend"):
            gold["times"] = computed["times"]
        if "technologies" in computed:
            gold["technologies"] = computed["technologies"]
        out.append({"id": item["id"], "category": item["category"], "question": item["question"],
                    "as_of": item["as_of"], "gold": gold})  # fmt: skip
    return out


def main() -> None:
    questions = build()
    header = (
        "# The /ask evaluation set: questions with gold answers on the fixed dataset of\n"
        "# datalake.ask.evaluation.sample_frames(). Generated by tests/ask/build_questions.py (gold values\n"
        "# from the pandas reference in tests/ask/reference.py); edit the questions there and re-run it.\n"
        "# Values are in the unit of the answer's value column (MW, MWh, or a 0..1 share); times are UTC\n"
        "# hour starts (ISO 8601) or local dates of the buckets.\n"
    )
    write(questions, header, OUT)


def write(questions: list[dict[str, Any]], header: str, out: Path) -> None:
    """The questions as YAML under their comment header."""
    out.write_text(
        header + yaml.safe_dump(questions, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8"
    )
    print(f"wrote {len(questions)} questions to {out}")


if __name__ == "__main__":
    main()
