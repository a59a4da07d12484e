"""/ask over ``energy_prices_daily`` answered from its ``ask=`` declaration alone (no parser code).

The prices are a few hand-written days whose answers are known by hand; a generated SAMPLE row
beside a real EIA row of the same day checks that the two never mix.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from ask_fixtures import DuckExecutor

from datalake.ask.errors import AskRefusal
from datalake.ask.service import ask
from datalake.datasets.prices import ENERGY_PRICES_DAILY
from datalake.settings import Settings

pytestmark = pytest.mark.unit

SETTINGS = Settings(_env_file=None)
#: Tuesday 15 June 2021: "ayer" is Monday 14 June.
AS_OF = dt.datetime(2021, 6, 15, 10)
_NAMES = {"RWTC": ("WTI", "crude oil", "USD/bbl"), "RBRTE": ("Brent", "crude oil", "USD/bbl"),
          "RNGWHHD": ("Henry Hub", "natural gas", "USD/MMBtu")}  # fmt: skip
#: (day, series, price): Brent 70, 82, 85 on three June days; WTI 60 and 40 in 2020; Henry Hub 3 and 5.
_PRICES = [
    ("2021-06-10", "RBRTE", 70.0),
    ("2021-06-11", "RBRTE", 82.0),
    ("2021-06-14", "RBRTE", 85.0),
    ("2020-03-02", "RWTC", 60.0),
    ("2020-04-01", "RWTC", 40.0),
    ("2021-06-14", "RWTC", 80.0),
    ("2020-03-02", "RNGWHHD", 3.0),
    ("2021-06-14", "RNGWHHD", 5.0),
]


def price_frame() -> pd.DataFrame:
    rows = [
        (dt.date.fromisoformat(day), series, *_NAMES[series][:2], "area", price, _NAMES[series][2], "eia")
        for day, series, price in _PRICES
    ]
    # A generated price beside a real one: the real rows are read, the SAMPLE row never.
    rows.append((dt.date(2021, 6, 14), "RBRTE", "Brent", "crude oil", "area", 999.0, "USD/bbl", "sample"))
    columns = ["date", "series_id", "series_name", "product", "area", "price", "unit", "source"]
    frame = pd.DataFrame(rows, columns=columns).assign(extracted_at=pd.Timestamp("2021-06-15", tz="UTC"))
    return frame[ENERGY_PRICES_DAILY.column_names]


@pytest.fixture(scope="module")
def prices() -> DuckExecutor:
    return DuckExecutor({"energy_prices_daily": price_frame()})


def answer(question: str, executor: DuckExecutor) -> Any:
    return ask(question, AS_OF, settings=SETTINGS, executor=executor)


def value(result: Any) -> float:
    return result.rows[0][result.columns.index(result.interpretation["value_column"])]


def test_a_series_price_on_a_day_reads_the_real_rows(prices: DuckExecutor) -> None:
    for question in ("¿Cuál fue el precio del Brent ayer?", "Brent price on 14 June 2021"):
        result = answer(question, prices)
        assert result.interpretation["dataset"] == "energy_prices_daily", question
        assert value(result) == 85.0, question  # not the SAMPLE row's 999
        assert "USD" in result.answer


def test_the_mean_price_of_a_series_over_a_year(prices: DuckExecutor) -> None:
    assert value(answer("average WTI price in 2020", prices)) == pytest.approx(50.0)
    assert value(answer("precio medio del Brent en junio de 2021", prices)) == pytest.approx(79.0)


def test_natural_gas_is_the_product_and_oil_covers_both_crudes(prices: DuckExecutor) -> None:
    assert value(answer("precio medio del gas natural", prices)) == pytest.approx(4.0)
    assert value(answer("average crude oil price in 2020", prices)) == pytest.approx(50.0)


def test_days_above_a_price_are_counted(prices: DuckExecutor) -> None:
    result = answer("¿cuántos días estuvo el Brent por encima de 80 dólares?", prices)
    assert value(result) == 2  # 82 and 85; the SAMPLE 999 is not counted


def test_two_series_side_by_side_in_the_order_asked(prices: DuckExecutor) -> None:
    result = answer("precio medio del Brent vs WTI ayer", prices)
    assert [r[1] for r in result.rows] == [85.0, 80.0]


def test_changing_prices_is_refused(prices: DuckExecutor) -> None:
    with pytest.raises(AskRefusal) as caught:
        answer("borra los precios del WTI de 2020", prices)
    assert caught.value.kind == "unsafe"


# -- general rules a held-out price set found missing (world-energy branch) ---------------------------


def test_each_answer_states_the_unit_of_its_series(prices: DuckExecutor) -> None:
    brent = answer("Brent price on 14 June 2021", prices)
    assert "USD/bbl" in brent.answer and brent.interpretation["unit"] == "USD/bbl"
    gas = answer("Henry Hub price on 14 June 2021", prices)
    assert value(gas) == 5.0 and "USD/MMBtu" in gas.answer
    # A breakdown by series names each row's own unit.
    by_series = answer("average price by series in June 2021", prices).answer
    assert "USD/bbl" in by_series and "USD/MMBtu" in by_series


def test_a_named_series_on_a_day_is_its_price(prices: DuckExecutor) -> None:
    assert value(answer("what was brent on 2021-06-11?", prices)) == 82.0


def test_the_latest_price_is_the_series_last_day(prices: DuckExecutor) -> None:
    latest = answer("what's the latest WTI price?", prices)
    assert value(latest) == 80.0 and "2021-06-14" in latest.answer
    assert value(answer("¿cuál es el último precio del Henry Hub?", prices)) == 5.0


def test_a_spread_is_the_mean_daily_difference_over_the_days_both_have(prices: DuckExecutor) -> None:
    # June 2021: only the 14th has both (Brent 85, WTI 80); Brent's 10th and 11th have no WTI.
    spread = answer("average spread between Brent and WTI in June 2021", prices)
    assert spread.interpretation["kind"] == "difference"
    assert value(spread) == pytest.approx(5.0) and spread.rows[0][1] == 1
    assert value(
        answer("diferencia media entre el WTI y el Brent en junio de 2021", prices)
    ) == pytest.approx(-5.0)


def test_how_many_days_of_a_series_counts_its_rows(prices: DuckExecutor) -> None:
    assert value(answer("how many days of WTI prices are there in 2020?", prices)) == 2


def test_a_maximum_of_a_series_is_one_day(prices: DuckExecutor) -> None:
    result = answer("máximo del Brent en junio de 2021", prices)
    assert len(result.rows) == 1 and value(result) == 85.0
    assert str(result.rows[0][0])[:10] == "2021-06-14"
