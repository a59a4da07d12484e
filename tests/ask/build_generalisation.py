# ruff: noqa: E501
# (one question per line reads better than wrapped calls)
"""Writes ``generalisation.yaml``: questions from the kinds a held-out set found missing.

Two held-out sets of electricity questions, written by people who never saw the parser, missed
in clusters; each cluster is a kind of question, not a phrase (issue 18):

- grouping by weekday or weekend, and the busiest weekday;
- periods: halves (semestre), the first or last week of a month, a fortnight (quincena);
- two measures (actual against the operator's forecast) or two technologies in one question;
- the operator's forecast error (MAPE, MAE) over a period;
- the percentage change between two periods;
- a trend: one value per bucket, not one average;
- the demand peak ("pico") over a season or a year: the hourly maximum in MW, with its hour.

These questions were written from those kinds, phrased as people ask, before any parser change,
and stay fixed once written: the parser is changed to answer them, never the other way round.
Gold values come from the pandas reference (``reference.py``), never from the code under test.
A gold holds only what the asker wants back (values in order, times, a weekday's name), not how
the parser should name its interpretation.

Run ``python tests/ask/build_generalisation.py`` after changing the dataset.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_questions import A, B, day, days, month, t, write, year
from reference import (
    answer,
    busiest_weekday,
    forecast_error,
    measures_side_by_side,
    percent_change,
    weekday_means,
    weekend_mean,
    workday_weekend_means,
)

from datalake.ask.evaluation import sample_frames

OUT = Path(__file__).resolve().parent / "generalisation.yaml"
Gold = Callable[[dict[str, Any]], dict[str, list[Any]]]


def g(id_: str, category: str, question: str, as_of: str, gold: Gold) -> dict[str, Any]:
    return {"id": id_, "category": category, "question": question, "as_of": as_of, "gold": gold}


def spec(measure: str, periods: list, **more: Any) -> dict[str, Any]:
    return {"measure": measure, "periods": [list(p) for p in periods], **more}


def avg(measure: str, *periods: tuple[str, str], **more: Any) -> Gold:
    return lambda frames: answer(frames, spec(measure, list(periods), aggregate="average", **more))


def total(measure: str, *periods: tuple[str, str], **more: Any) -> Gold:
    return lambda frames: answer(frames, spec(measure, list(periods), aggregate="total", **more))


def peak(*periods: tuple[str, str]) -> Gold:
    return lambda frames: answer(
        frames, spec("demand", list(periods), aggregate="max", granularity="hour", k=1)
    )


def trend(measure: str, granularity: str, inner: str, *periods: tuple[str, str], **more: Any) -> Gold:
    return lambda frames: answer(
        frames, spec(measure, list(periods), aggregate="trend", granularity=granularity, inner=inner, **more)
    )


def by(
    function: Callable[..., dict[str, list[Any]]], measure: str, *periods: tuple[str, str], **more: Any
) -> Gold:
    return lambda frames: function(frames, spec(measure, list(periods), **more))


def side_by_side(*parts: tuple[str, str, dict[str, Any]], periods: list) -> Gold:
    """(measure, aggregate, extra) per value, over the same periods."""
    return lambda frames: measures_side_by_side(
        frames, [spec(measure, periods, aggregate=aggregate, **extra) for measure, aggregate, extra in parts]
    )


def change(
    measure: str, aggregate: str, before: tuple[str, str], after: tuple[str, str], **more: Any
) -> Gold:
    return lambda frames: percent_change(
        frames,
        spec(measure, [before], aggregate=aggregate, **more),
        spec(measure, [after], aggregate=aggregate, **more),
    )


def error(statistic: str, *periods: tuple[str, str]) -> Gold:
    return lambda frames: forecast_error(frames, spec("demand", list(periods), statistic=statistic))


def weekends(y: int, m: int) -> Gold:
    return by(weekend_mean, "demand", month(y, m))


SUMMER_2023 = days(2023, 6, 1, 2023, 9, 1)
WINTER_2024 = days(2023, 12, 1, 2024, 3, 1)
AUTUMN_2023 = days(2023, 9, 1, 2023, 12, 1)
# fmt: off
QUESTIONS = [
    # -- by weekday, or weekdays against weekends -------------------------------------------------
    g('g-wd-es-1', 'weekday', '¿Cuál fue la demanda media de los fines de semana en marzo de 2024?', A, weekends(2024, 3)),
    g('g-wd-en-1', 'weekday', 'average demand on weekends last month', A, weekends(2024, 3)),
    g('g-wd-es-2', 'weekday', 'la media de los fines de semana de la demanda en febrero de 2024', A, weekends(2024, 2)),
    g('g-wd-es-3', 'weekday', 'demanda media entre semana y en fin de semana en 2023', A, by(workday_weekend_means, 'demand', year(2023))),
    g('g-wd-en-2', 'weekday', 'weekday vs weekend demand in February 2024', A, by(workday_weekend_means, 'demand', month(2024, 2))),
    g('g-wd-es-4', 'weekday', '¿Qué día de la semana hubo más demanda en 2023?', A, by(busiest_weekday, 'demand', year(2023))),
    g('g-wd-en-3', 'weekday', 'which day of the week is busiest? (average demand, 2023)', A, by(busiest_weekday, 'demand', year(2023))),
    g('g-wd-es-5', 'weekday', 'demanda media por dia de la semana en enero de 2024', A, by(weekday_means, 'demand', month(2024, 1))),
    g('g-wd-en-4', 'weekday', 'average wind generation by day of week in 2023', A, by(weekday_means, 'generation', year(2023), technology='wind')),
    # -- halves, weeks of a month, fortnights -----------------------------------------------------
    g('g-per-es-1', 'periods', 'demanda media del primer semestre de 2024', B, avg('demand', days(2024, 1, 1, 2024, 7, 1))),
    g('g-per-en-1', 'periods', 'average demand in the second half of 2023', A, avg('demand', days(2023, 7, 1, 2024, 1, 1))),
    g('g-per-es-2', 'periods', 'generación eólica total en el segundo semestre de 2023', A, total('generation', days(2023, 7, 1, 2024, 1, 1), technology='wind')),
    g('g-per-es-3', 'periods', '¿Cuál fue la demanda total la primera semana de marzo de 2024?', A, total('demand', days(2024, 3, 1, 2024, 3, 8))),
    g('g-per-en-2', 'periods', 'total wind generation in the last week of February 2024', A, total('generation', days(2024, 2, 23, 2024, 3, 1), technology='wind')),
    g('g-per-es-4', 'periods', 'demanda media en la segunda quincena de marzo de 2024', A, avg('demand', days(2024, 3, 16, 2024, 4, 1))),
    g('g-per-en-3', 'periods', 'average demand in the first fortnight of January 2024', A, avg('demand', days(2024, 1, 1, 2024, 1, 16))),
    g('g-per-es-5', 'periods', 'demanda total de la ultima semana de diciembre de 2023', A, total('demand', days(2023, 12, 25, 2024, 1, 1))),
    # Added 2026-12-06 before the fix: a Spanish clock range with a bare "de ... a ..." was refused.
    g('g-per-es-6', 'periods', 'demanda media de 10:00 a 14:00 del 5 de marzo de 2024', A, avg('demand', (t(2024, 3, 5, 10), t(2024, 3, 5, 14)))),
    # -- two measures or two technologies in one question -----------------------------------------
    g('g-two-es-1', 'two_measures', 'demanda media real y prevista por el operador ayer', A, side_by_side(('demand', 'average', {}), ('forecast', 'average', {}), periods=[day(2024, 4, 16)])),
    g('g-two-en-1', 'two_measures', 'actual vs forecast average demand on 2024-03-05', A, side_by_side(('demand', 'average', {}), ('forecast', 'average', {}), periods=[day(2024, 3, 5)])),
    g('g-two-es-2', 'two_measures', 'compara la generación nuclear y eólica en marzo de 2024', A, side_by_side(('generation', 'total', {'technology': 'nuclear'}), ('generation', 'total', {'technology': 'wind'}), periods=[month(2024, 3)])),
    g('g-two-en-2', 'two_measures', 'nuclear vs wind generation in 2023', A, side_by_side(('generation', 'total', {'technology': 'nuclear'}), ('generation', 'total', {'technology': 'wind'}), periods=[year(2023)])),
    g('g-two-es-3', 'two_measures', '¿se generó más solar o eólica en julio de 2023?', A, side_by_side(('generation', 'total', {'technology': 'solar'}), ('generation', 'total', {'technology': 'wind'}), periods=[month(2023, 7)])),
    # -- the operator's forecast error ------------------------------------------------------------
    g('g-err-es-1', 'forecast_error', '¿Cuál fue el MAPE de la previsión de demanda del operador en marzo de 2024?', A, error('mape', month(2024, 3))),
    g('g-err-en-1', 'forecast_error', "MAE of the TSO's demand forecast last week", A, error('mae', days(2024, 4, 8, 2024, 4, 15))),
    g('g-err-es-2', 'forecast_error', 'error absoluto medio de la prevision de demanda en 2023', A, error('mae', year(2023))),
    g('g-err-en-2', 'forecast_error', "how accurate was the grid operator's forecast in January 2024? give me the MAPE", A, error('mape', month(2024, 1))),
    g('g-err-es-3', 'forecast_error', 'error porcentual medio de la previsión de REE ayer', A, error('mape', day(2024, 4, 16))),
    # -- percentage change between two periods ----------------------------------------------------
    g('g-pct-es-1', 'percent_change', '¿En qué porcentaje cambió la demanda media de enero a febrero de 2024?', A, change('demand', 'average', month(2024, 1), month(2024, 2))),
    g('g-pct-en-1', 'percent_change', 'percentage change in solar generation from the first half of 2023 to the first half of 2024', B, change('generation', 'total', days(2023, 1, 1, 2023, 7, 1), days(2024, 1, 1, 2024, 7, 1), technology='solar')),
    g('g-pct-es-2', 'percent_change', 'variación porcentual de la demanda media de marzo de 2024 respecto a marzo de 2023', A, change('demand', 'average', month(2023, 3), month(2024, 3))),
    g('g-pct-en-2', 'percent_change', 'how much did wind generation grow in Q1 2024 compared with Q1 2023, in percent?', A, change('generation', 'total', days(2023, 1, 1, 2023, 4, 1), days(2024, 1, 1, 2024, 4, 1), technology='wind')),
    # -- a trend is a series: one value per bucket ------------------------------------------------
    g('g-tr-es-1', 'trend', 'demanda media por mes en 2023', A, trend('demand', 'month', 'average', year(2023))),
    g('g-tr-en-1', 'trend', 'monthly wind generation in 2023', A, trend('generation', 'month', 'total', year(2023), technology='wind')),
    g('g-tr-es-2', 'trend', 'demanda total por día la primera semana de enero de 2024', A, trend('demand', 'day', 'total', days(2024, 1, 1, 2024, 1, 8))),
    g('g-tr-en-2', 'trend', 'average demand per month in the first half of 2024', B, trend('demand', 'month', 'average', days(2024, 1, 1, 2024, 7, 1))),
    # -- the peak: the hourly maximum in MW, with its hour, over any period ------------------------
    g('g-pk-es-1', 'peak', '¿Cuál fue el pico de demanda del verano de 2023?', A, peak(SUMMER_2023)),
    g('g-pk-en-1', 'peak', 'peak demand in winter 2024', A, peak(WINTER_2024)),
    g('g-pk-es-2', 'peak', 'pico de demanda en 2023, con día y hora', A, peak(year(2023))),
    g('g-pk-en-2', 'peak', 'when was demand highest in July 2024?', B, peak(month(2024, 7))),
    g('g-pk-es-3', 'peak', 'pico de demanda del otoño pasado', A, peak(AUTUMN_2023)),
]
# fmt: on


def build() -> list[dict[str, Any]]:
    """The questions with gold values computed by the reference."""
    frames = sample_frames()
    out = []
    for item in QUESTIONS:
        computed = item["gold"](frames)
        gold: dict[str, Any] = {
            "values": [None if v is None else round(float(v), 6) for v in computed["values"]]
        }
        for key in ("times", "labels"):
            if key in computed:
                gold[key] = computed[key]
        out.append({**item, "gold": gold})
    return out


def main() -> None:
    questions = build()
    header = (
        "# Generalisation questions for /ask: the kinds a held-out set found missing, written before\n"
        "# the parser was changed and kept fixed. Generated by tests/ask/build_generalisation.py (gold\n"
        "# values from the pandas reference in tests/ask/reference.py). A gold is what the asker wants\n"
        "# back: values in order (MW, MWh, or % for errors and changes), times (UTC hours, local dates\n"
        "# of buckets) and, for a weekday, its accepted names. Forecast errors compare the operator's\n"
        "# forecast with the lake's actual demand, hour by hour.\n"
    )
    write(questions, header, OUT)


if __name__ == "__main__":
    main()
