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
