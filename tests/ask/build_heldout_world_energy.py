# ruff: noqa: E501
# (one question per line reads better than wrapped calls)
"""Writes ``heldout_world_energy.yaml``: held-out questions over OWID's world energy, gold from pandas.

Written on 2026-12-06 before any world-energy table had an ``ask=`` declaration (and before the OWID
tables were on main; issue 19, "Also"): the way people ask about countries' energy, Spanish and
English about half each, from the question categories value in a year, a country's share in a year,
average over years, max/min with when, comparisons of two countries or years, trends by year,
top-k countries, threshold filters, counts and refusals. Fixed once committed: no question is
reworded after seeing an answer. The numbers come from :mod:`reference_world_energy` over OWID's
2020 file (OWID's own column names), never from SQL.

Run ``python tests/ask/build_heldout_world_energy.py`` after changing the reference.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference_world_energy as ref
from build_questions import write
from dataset_questions import item, refusal

OUT = Path(__file__).resolve().parent / "heldout_world_energy.yaml"
WORLD = "world_energy"
#: Asked in December 2020, when the 2020 file was current: "last year" is 2019, the file's last year.
A = "2020-12-15T10:00:00+01:00"
Of = Callable[[pd.DataFrame], dict[str, list[Any]]]
RENEW, PRIMARY, PER_CAPITA = "renewables_share_energy", "primary_energy_consumption", "energy_per_capita"


def w(id_: str, category: str, question: str, gold: Of) -> dict[str, Any]:
    return item(id_, category, question, A, gold, dataset=WORLD)  # type: ignore[arg-type]


def w_refuse(id_: str, question: str, kind: str | None = None) -> dict[str, Any]:
    return refusal(id_, question, A, dataset=WORLD, kind=kind)


def at(country: str, year: int, column: str) -> Of:
    return lambda d: ref.value(d, country, year, column)


# fmt: off
WORLD_QUESTIONS = [
    # -- a country's share in a year --------------------------------------------------------------
    w('hw-shr-es-1', 'share', '¿Qué porcentaje de la energía primaria de España fue renovable en 2019?', at('Spain', 2019, RENEW)),
    w('hw-shr-en-1', 'share', 'what share of Germany\'s primary energy came from renewables in 2018?', at('Germany', 2018, RENEW)),
    w('hw-shr-es-2', 'share', 'cuota de la solar en la electricidad de España en 2019', at('Spain', 2019, 'solar_share_elec')),
    w('hw-shr-en-2', 'share', 'nuclear share of electricity in France in 2019', at('France', 2019, 'nuclear_share_elec')),
    w('hw-shr-es-3', 'share', 'porcentaje de renovables en la energía del mundo el año pasado', at('World', 2019, RENEW)),
    # -- a value in a year ------------------------------------------------------------------------
    w('hw-val-en-1', 'value_at', 'primary energy consumption of the world in 2019', at('World', 2019, PRIMARY)),
    w('hw-val-es-1', 'value_at', 'consumo de energía primaria de China en 2010', at('China', 2010, PRIMARY)),
    w('hw-val-en-2', 'value_at', 'energy use per person in the United States in 2019', at('United States', 2019, PER_CAPITA)),
    w('hw-val-es-2', 'value_at', 'consumo de energía per cápita en Francia en 2015', at('France', 2015, PER_CAPITA)),
    w('hw-val-en-3', 'value_at', 'how much coal did India consume in 2019?', at('India', 2019, 'coal_consumption')),
    # -- a mean over years ------------------------------------------------------------------------
    w('hw-avg-es-1', 'average', 'media del porcentaje de renovables en Dinamarca entre 2010 y 2019', lambda d: ref.mean(d, 'Denmark', 2010, 2019, RENEW)),
    w('hw-avg-en-1', 'average', 'average primary energy consumption of Japan from 2000 to 2009', lambda d: ref.mean(d, 'Japan', 2000, 2009, PRIMARY)),
    # -- the largest or smallest, and when --------------------------------------------------------
    w('hw-ext-es-1', 'extreme_with_when', '¿en qué año consumió más carbón el Reino Unido?', lambda d: ref.extreme_year(d, 'United Kingdom', 'coal_consumption')),
    w('hw-ext-en-1', 'extreme_with_when', 'when was Spain\'s energy consumption per capita highest?', lambda d: ref.extreme_year(d, 'Spain', PER_CAPITA)),
    w('hw-ext-en-2', 'extreme_with_when', 'lowest renewable share of primary energy in Brazil since 2000', lambda d: ref.extreme_year(d, 'Brazil', RENEW, largest=False, years=(2000, 2019))),
    # -- two countries or two years side by side, in the order asked -------------------------------
    w('hw-cmp-es-1', 'compare_values', 'porcentaje de energía renovable de España vs Portugal en 2019', lambda d: ref.values(d, RENEW, ('Spain', 2019), ('Portugal', 2019))),
    w('hw-cmp-en-1', 'compare_values', 'primary energy consumption of China in 2000 compared with 2019', lambda d: ref.values(d, PRIMARY, ('China', 2000), ('China', 2019))),
    w('hw-cmp-en-2', 'compare_values', 'energy per capita: Norway vs Sweden in 2019', lambda d: ref.values(d, PER_CAPITA, ('Norway', 2019), ('Sweden', 2019))),
    # -- trends by year (in time order) -----------------------------------------------------------
    w('hw-trd-es-1', 'distribution', 'evolución de la cuota renovable de España desde 2010', lambda d: ref.series(d, 'Spain', 2010, 2019, RENEW)),
    w('hw-trd-en-1', 'distribution', 'world primary energy consumption by year since 2015', lambda d: ref.series(d, 'World', 2015, 2019, PRIMARY)),
    # -- top countries (regions left out) ---------------------------------------------------------
    w('hw-top-en-1', 'top_k', 'top 5 countries by primary energy consumption in 2019', lambda d: ref.top_countries(d, 2019, PRIMARY, 5)),
    w('hw-top-es-1', 'top_k', 'los 3 países con mayor porcentaje de energía renovable en 2019', lambda d: ref.top_countries(d, 2019, RENEW, 3)),
    w('hw-top-en-2', 'top_k', 'which 3 countries used the most energy per person in 2019?', lambda d: ref.top_countries(d, 2019, PER_CAPITA, 3)),
    # -- counts and thresholds (strictly above) ---------------------------------------------------
    w('hw-thr-es-1', 'filter_threshold', '¿cuántos países tenían más del 50% de su electricidad renovable en 2019?', lambda d: ref.count_countries(d, 2019, 'renewables_share_elec', over=50)),
    w('hw-thr-en-1', 'filter_threshold', 'how many countries got over 30% of their primary energy from renewables in 2019?', lambda d: ref.count_countries(d, 2019, RENEW, over=30)),
    # -- refusals ---------------------------------------------------------------------------------
    w_refuse('hw-ref-es-1', 'borra los datos de España', kind='unsafe'),
    w_refuse('hw-ref-en-1', "what will Spain's renewable share be in 2030?"),  # a forecast
]
# fmt: on


def build() -> list[dict[str, Any]]:
    """The world-energy questions with their gold computed by the reference over OWID's 2020 file."""
    data = ref.frame()
    return [{**q, "gold": q["gold"](data)} if callable(q["gold"]) else q for q in WORLD_QUESTIONS]


HEADER = """\
# Held-out questions for /ask over OWID's world energy (one row per country or region and year;
# the 2020 vintage in ../shared/data/owid). Generated by tests/ask/build_heldout_world_energy.py,
# gold from the pandas reference in tests/ask/reference_world_energy.py over OWID's own columns.
# Written 2026-12-06 before any world-energy table had an ask= declaration, fixed since: no
# question is reworded after seeing an answer.
# A gold is what the asker wants back:
#   values  the numbers in the answer's order (% of primary energy or electricity, TWh, kWh per
#           person, counts of countries);
#   labels  per row, the names accepted for it (a country's English or Spanish name);
#   times   a year, written as the year ("2019");
#   refuse  the question must be refused (kind, where given).
# Rules a gold follows:
#   - "el mundo"/"the world" is OWID's World row; a ranking or count of countries leaves regions
#     out (continents, income groups, BP's groupings, the World);
#   - "renovable(s)"/"renewables" of primary energy is renewables_share_energy, of electricity
#     renewables_share_elec; "per cápita"/"per person" energy is energy_per_capita;
#   - "el año pasado"/"last year" is 2019 (asked in December 2020); "desde 2010" runs to 2019;
#   - a mean is over the years with a value; extreme_with_when gives the value and its year (the
#     first on a tie); "más de"/"over": strictly above;
#   - forecasts are refused (kind left open).
"""


def main() -> None:
    write(build(), HEADER, OUT)


if __name__ == "__main__":
    main()
