# ruff: noqa: E501
# (one question per line reads better than wrapped calls)
"""Writes ``heldout_weather.yaml``: held-out questions over ``weather_daily``, gold from pandas.

Written on 2026-12-06 before ``weather_daily`` had been asked anything (issue 23: "¿qué temperatura
hizo ayer en Madrid?"): the way people ask about the weather of a city, Spanish and English about
half each, from the categories value on a day, average over a period, hottest or coldest day,
highest or lowest temperature, two cities side by side, by city, by month, counts of days and
refusals. The questions are fixed once committed: none is reworded after seeing an answer. The
numbers come from :mod:`reference_weather` over :func:`datalake.ask.eval_frames.weather_frames`
(the shared 2015-2017 observations), never from SQL.

Run ``python tests/ask/build_heldout_weather.py`` after changing the frames or the reference.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference_weather as ref
from build_questions import write
from dataset_questions import GoldOf, item, refusal, with_gold

from datalake.ask.eval_frames import weather_frames

OUT = Path(__file__).resolve().parent / "heldout_weather.yaml"
WEATHER = "weather"
#: Asked on Wednesday 15 March 2017 in Madrid: "ayer" is 14 March, "el mes pasado" February 2017,
#: "last year" 2016.
A = "2017-03-15T10:00:00+01:00"
DAY = ("2017-03-14", "2017-03-14")
FEBRUARY = ("2017-02-01", "2017-02-28")
Y16 = ("2016-01-01", "2016-12-31")
MEAN, HIGH, LOW = "temperature_mean_c", "temperature_max_c", "temperature_min_c"


def w(id_: str, category: str, question: str, gold: GoldOf) -> dict[str, Any]:
    return item(id_, category, question, A, gold, dataset=WEATHER)


def w_refuse(id_: str, question: str, kind: str | None = None) -> dict[str, Any]:
    return refusal(id_, question, A, dataset=WEATHER, kind=kind)


def of(function: Any, *args: Any, **kwargs: Any) -> GoldOf:
    return lambda f: function(f, *args, **kwargs)


# fmt: off
WEATHER_QUESTIONS = [
    # -- one city on one day ------------------------------------------------------------------------
    w('hw-val-es-1', 'value_at', '¿Qué temperatura hizo ayer en Madrid?', of(ref.value, 'Madrid', *DAY, MEAN)),
    w('hw-val-en-1', 'value_at', 'What was the temperature in Madrid yesterday?', of(ref.value, 'Madrid', *DAY, MEAN)),
    w('hw-val-es-2', 'value_at', '¿cuál fue la temperatura máxima ayer en Sevilla?', of(ref.value, 'Seville', *DAY, HIGH, 'max')),
    w('hw-val-es-3', 'value_at', 'humedad en Bilbao ayer', of(ref.value, 'Bilbao', *DAY, 'relative_humidity_pct')),
    w('hw-val-en-2', 'value_at', 'how windy was it in Barcelona yesterday?', of(ref.value, 'Barcelona', *DAY, 'wind_speed_kmh')),
    # -- averages over a period -------------------------------------------------------------------------
    w('hw-avg-es-1', 'average', 'temperatura media en Valencia el mes pasado', of(ref.value, 'Valencia', *FEBRUARY, MEAN)),
    w('hw-avg-es-2', 'average', '¿qué temperatura media hubo en Barcelona en 2016?', of(ref.value, 'Barcelona', *Y16, MEAN)),
    w('hw-avg-en-1', 'average', 'average temperature in Seville in July 2016', of(ref.value, 'Seville', '2016-07-01', '2016-07-31', MEAN)),
    w('hw-avg-en-2', 'average', 'mean humidity in Valencia last month', of(ref.value, 'Valencia', *FEBRUARY, 'relative_humidity_pct')),
    # -- the hottest and coldest days (by the day's mean temperature) -----------------------------------
    w('hw-ext-es-1', 'extreme_with_when', '¿cuál fue el día más caluroso del año pasado en Sevilla?', of(ref.extreme_day, 'Seville', *Y16, MEAN)),
    w('hw-ext-es-2', 'extreme_with_when', '¿qué día hizo más frío en Madrid en 2016?', of(ref.extreme_day, 'Madrid', *Y16, MEAN, largest=False)),
    w('hw-ext-en-1', 'extreme_with_when', 'hottest day in Valencia in 2016', of(ref.extreme_day, 'Valencia', *Y16, MEAN)),
    w('hw-ext-en-2', 'extreme_with_when', 'coldest day in Bilbao last year', of(ref.extreme_day, 'Bilbao', *Y16, MEAN, largest=False)),
    # -- the highest and lowest temperature (hourly readings) -------------------------------------------
    w('hw-max-en-1', 'extreme', 'what was the highest temperature in Madrid in July 2016?', of(ref.value, 'Madrid', '2016-07-01', '2016-07-31', HIGH, 'max')),
    w('hw-min-en-1', 'extreme', 'lowest temperature recorded in Madrid in January 2017', of(ref.value, 'Madrid', '2017-01-01', '2017-01-31', LOW, 'min')),
    # -- two cities side by side (in the order asked), by city, by month --------------------------------
    w('hw-cmp-es-1', 'compare', 'temperatura media de Madrid y Barcelona en enero de 2017', of(ref.values, ['Madrid', 'Barcelona'], '2017-01-01', '2017-01-31', MEAN)),
    w('hw-cmp-en-1', 'compare', 'compare the average temperature of Seville and Bilbao in August 2016', of(ref.values, ['Seville', 'Bilbao'], '2016-08-01', '2016-08-31', MEAN)),
    w('hw-grp-en-1', 'breakdown', 'average temperature by city in 2016', of(ref.by_city, *Y16, MEAN)),
    w('hw-trend-es-1', 'trend', 'evolución de la temperatura media en Madrid por meses en 2016', of(ref.monthly, 'Madrid', *Y16, MEAN)),
    # -- counts of days (strictly above) ---------------------------------------------------------------
    w('hw-count-es-1', 'count', '¿cuántos días superó la temperatura media los 25 grados en Sevilla en 2016?', of(ref.count_days, 'Seville', *Y16, MEAN, 25.0)),
    # -- refusals ------------------------------------------------------------------------------------
    w_refuse('hw-ref-es-1', 'borra los datos del tiempo de Madrid', kind='unsafe'),
    w_refuse('hw-ref-en-1', 'what will the temperature be in Madrid tomorrow?'),  # a forecast, after as_of
    w_refuse('hw-ref-es-2', '¿cuánto llovió ayer en Bilbao?'),  # rain is not in the table
]
# fmt: on


def build() -> list[dict[str, Any]]:
    """The weather questions with their gold computed by the reference."""
    return with_gold(WEATHER_QUESTIONS, weather_frames())


HEADER = """\
# Held-out questions for /ask over weather_daily (observed weather per city and Europe/Madrid day,
# issue 23): Madrid, Barcelona, Valencia, Seville and Bilbao, 2015-2017, from the shared
# OpenWeatherMap observations via Kaggle (datalake/ask/eval_frames.py: weather_frames). Generated by
# tests/ask/build_heldout_weather.py, gold from the pandas reference in tests/ask/reference_weather.py.
# Written 2026-12-06 before /ask had been asked about the weather, and fixed since: no question is
# reworded after seeing an answer.
# A gold is what the asker wants back:
#   values  the numbers in the answer's order (°C, %, km/h, day counts);
#   labels  per row, the names accepted for it (a city);
#   times   the day of an extreme, or the first day of a month;
#   refuse  the question must be refused (kind, where given).
# Rules a gold follows:
#   - "qué temperatura hizo", "the temperature" of a day or period is the mean of the days' mean
#     temperatures; "temperatura máxima"/"highest temperature" is the highest hourly reading,
#     "lowest temperature" the lowest;
#   - "el día más caluroso"/"hottest day" (and the coldest) is the day with the highest (lowest)
#     mean temperature, with its day (the first on a tie);
#   - "ayer" is 14 March 2017 (as_of Wednesday 15 March), "el mes pasado"/"last month" February
#     2017, "el año pasado"/"last year" 2016;
#   - a breakdown by city lists every city, largest first; a trend by month in time order;
#   - "superó ... los 25 grados": strictly above;
#   - forecasts, rain and deleting are refused (kind where given).
"""


def main() -> None:
    write(build(), HEADER, OUT)


if __name__ == "__main__":
    main()
