"""/ask over OWID's ``world_energy`` from its ``ask=`` declaration alone: an integer-year time axis,
measures named by their parts, and countries counted and ranked apart from regions.

The table is a few hand-written rows whose answers are known by hand. Regions (the World, Europe,
an income group) carry the largest shares, so a ranking or a count that let them in would show it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from ask_fixtures import DuckExecutor

from datalake.ask.errors import AskRefusal
from datalake.ask.kinds import years_of
from datalake.ask.periods import Period
from datalake.ask.service import ask
from datalake.datasets.owid import WORLD_ENERGY
from datalake.datasets.semantics import TimeAxis
from datalake.settings import Settings

pytestmark = pytest.mark.unit

SETTINGS = Settings(_env_file=None)
#: Asked in December 2020: "last year" is 2019.
AS_OF = dt.datetime(2020, 12, 15, 10)
_RENEW, _ELEC, _PRIMARY = (
    "renewables_share_energy_pct",
    "renewables_share_elec_pct",
    "primary_energy_consumption_twh",
)
#: country -> (iso_code, is_aggregate, {year: (renewable share of energy, of electricity, primary TWh)})
_ROWS: dict[str, tuple[str | None, bool, dict[int, tuple[float, float, float]]]] = {
    "Spain": ("ESP", False, {2000: (6.0, 17.0, 1500.0), 2010: (14.0, 33.0, 1700.0),
                             2018: (17.0, 38.0, 1650.0), 2019: (18.0, 37.0, 1600.0)}),
    "Portugal": ("PRT", False, {2010: (20.0, 52.0, 280.0), 2019: (26.0, 55.0, 260.0)}),
    "France": ("FRA", False, {2010: (9.0, 14.0, 2900.0), 2019: (12.0, 20.0, 2700.0)}),
    "Iceland": ("ISL", False, {2019: (79.0, 100.0, 60.0)}),
    "Kosovo": ("OWID_KOS", False, {2019: (30.0, 5.0, 30.0)}),
    "World": ("OWID_WRL", True, {2018: (11.0, 26.0, 160000.0), 2019: (11.5, 27.0, 162000.0)}),
    "Europe": (None, True, {2019: (95.0, 60.0, 20000.0)}),
    "High-income countries": (None, True, {2019: (90.0, 70.0, 70000.0)}),
}  # fmt: skip


def world_frame() -> pd.DataFrame:
    rows = []
    for country, (iso, aggregate, years) in _ROWS.items():
        for year, (renew, elec, primary) in years.items():
            rows.append({"country": country, "iso_code": iso, "year": year, "is_aggregate": aggregate,
                         _RENEW: renew, _ELEC: elec, _PRIMARY: primary})  # fmt: skip
    given = pd.DataFrame(rows)
    # Every other indicator is null; the drop landed on 1 December 2020.
    missing = {c: np.nan for c in WORLD_ENERGY.column_names if c not in given} | {
        "landed_on": dt.date(2020, 12, 1)
    }
    frame = pd.concat([given, pd.DataFrame(missing, index=given.index)], axis=1)
    return frame[WORLD_ENERGY.column_names].astype({"year": "int32"})


@pytest.fixture(scope="module")
def world() -> DuckExecutor:
    return DuckExecutor({"world_energy": world_frame()})


def answer(question: str, executor: DuckExecutor) -> Any:
    return ask(question, AS_OF, settings=SETTINGS, executor=executor)


def values(result: Any) -> list[Any]:
    column = result.columns.index(result.interpretation["value_column"])
    return [row[column] for row in result.rows]


def test_a_country_share_in_a_year_is_its_row_and_says_its_unit(world: DuckExecutor) -> None:
    result = answer("¿Qué porcentaje de la energía primaria de España fue renovable en 2019?", world)
    assert result.interpretation["dataset"] == "world_energy"
    assert result.interpretation["measure"] == _RENEW
    assert values(result) == [18.0]
    assert "%" in result.answer and result.interpretation["unit"] == "%"
    primary = answer("primary energy consumption of the world in 2019", world)
    assert values(primary) == [162000.0] and "TWh" in primary.answer


def test_the_measure_with_the_most_parts_named_wins(world: DuckExecutor) -> None:
    # "renewable share" alone is of primary energy; naming electricity makes it the electricity share.
    assert (
        answer("Portugal's renewable share of primary energy in 2019", world).interpretation["measure"]
        == _RENEW
    )
    electricity = answer("Portugal's renewable share of electricity, primary energy data, 2019", world)
    assert electricity.interpretation["measure"] == _ELEC and values(electricity) == [55.0]


def test_counting_countries_leaves_the_regions_out(world: DuckExecutor) -> None:
    # Over 50 % of electricity: Portugal 55 and Iceland 100; Europe (60) and the income group (70)
    # are regions, the World (27) too.
    result = answer("¿cuántos países tenían más del 50% de su electricidad renovable en 2019?", world)
    assert values(result) == [2]
    assert values(answer("how many countries are there in 2019?", world)) == [5]


def test_top_countries_leave_the_regions_out(world: DuckExecutor) -> None:
    result = answer("top 3 countries by renewable share of primary energy in 2019", world)
    assert [row[0] for row in result.rows] == ["Iceland", "Kosovo", "Portugal"]
    assert values(result) == [79.0, 30.0, 26.0]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Whole years on an integer axis: "between 2000 and 2010" takes both ends.
        ("average renewable share of primary energy in Spain between 2000 and 2010", 10.0),
        ("media de la cuota renovable de la energía primaria de España entre 2000 y 2010", 10.0),
        ("average renewable share of primary energy in Spain since 2010", (14.0 + 17.0 + 18.0) / 3),
        ("cuota renovable de la energía primaria de España desde 2018", 17.5),
        ("renewable share of primary energy in Spain last year", 18.0),
        ("renewable share of primary energy in Spain in 2018", 17.0),
    ],
)
def test_time_filters_read_whole_years(world: DuckExecutor, question: str, expected: float) -> None:
    result = answer(question, world)
    assert values(result) == [pytest.approx(expected)], result.sql
    assert "year" in result.sql and "CAST(" not in result.sql.split("WHERE")[1]


def test_a_trend_over_years_is_one_value_per_year(world: DuckExecutor) -> None:
    result = answer("Spain's renewable share of primary energy by year since 2010", world)
    assert values(result) == [14.0, 17.0, 18.0]
    assert [row[0] for row in result.rows] == [2010, 2018, 2019]
    evolution = answer("evolution of Spain's primary energy consumption since 2010", world)
    assert values(evolution) == [1700.0, 1650.0, 1600.0]


def test_an_extreme_over_years_says_its_year(world: DuckExecutor) -> None:
    highest = answer("when was Spain's primary energy consumption highest?", world)
    assert values(highest) == [1700.0] and highest.rows[0][0] == 2010
    lowest = answer("lowest renewable share of primary energy in Spain since 2000", world)
    assert values(lowest) == [6.0] and lowest.rows[0][0] == 2000


def test_two_countries_side_by_side_in_the_order_asked(world: DuckExecutor) -> None:
    result = answer("renewable share of primary energy: Portugal vs Spain in 2019", world)
    assert values(result) == [26.0, 18.0]


def test_a_forecast_is_refused(world: DuckExecutor) -> None:
    with pytest.raises(AskRefusal):
        answer("what will Spain's renewable share of primary energy be in 2030?", world)


def test_a_period_covers_every_year_it_touches() -> None:
    tz = dt.UTC
    week = Period(dt.datetime(2019, 12, 30, tzinfo=tz), dt.datetime(2020, 1, 6, tzinfo=tz))
    assert years_of(week) == (2019, 2020)
    decade = Period(dt.datetime(2010, 1, 1, tzinfo=tz), dt.datetime(2020, 1, 1, tzinfo=tz))
    assert years_of(decade) == (2010, 2019)


def test_a_yearly_axis_must_be_an_integer_column() -> None:
    semantics = WORLD_ENERGY.ask
    assert semantics is not None and semantics.time is not None and semantics.time.yearly
    wrong = dataclasses.replace(semantics, time=TimeAxis("country", grain="year"))
    with pytest.raises(ValueError, match="integer"):
        dataclasses.replace(WORLD_ENERGY, ask=wrong).check_semantics()


def test_which_country_in_the_singular_is_one_row(world: DuckExecutor) -> None:
    # "país" ends in s and is singular: one country, the regions (Europe 95 %) left out.
    one = answer("¿Qué país tuvo la mayor cuota renovable de la energía primaria en 2019?", world)
    assert [row[0] for row in one.rows] == ["Iceland"]
    several = answer("¿Qué países tuvieron la mayor cuota renovable de la energía primaria en 2019?", world)
    assert [row[0] for row in several.rows][:3] == ["Iceland", "Kosovo", "Portugal"]
