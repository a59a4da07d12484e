"""Pandas answers over OWID's energy file (the gold of the held-out world-energy questions; never SQL).

Read from the 2020 vintage in the shared data, with OWID's own column names: the answers do not
depend on how the lake names its columns. A row is a country when it has an ISO code (or one of
OWID's country codes, or is a country the 2020 file lists without a code); every other row is a
region (continents, the World, BP's groupings), left out of rankings and counts of countries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

OWID_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "owid" / "owid-energy-data_2020-12.csv"
Gold = dict[str, list[Any]]
#: OWID's codes of countries ISO lacks (every other OWID_* code is a region, OWID_WRL the world).
_OWID_COUNTRY_CODES = ("OWID_KOS", "OWID_CYN", "OWID_CZS", "OWID_USS", "OWID_YGS", "OWID_SRM")
#: Countries the 2020 file lists without an ISO code.
_COUNTRIES_WITHOUT_CODE = ("Burma", "Czechia", "Czechoslovakia", "Falkland Islands", "Ivory Coast",
                           "Reunion", "USSR", "Yugoslavia")  # fmt: skip
#: English name -> the names an answer may give it (OWID's, and Spanish).
SPANISH = {
    "Spain": "España", "Portugal": "Portugal", "France": "Francia", "Germany": "Alemania",
    "United Kingdom": "Reino Unido", "United States": "Estados Unidos", "China": "China",
    "India": "India", "Japan": "Japón", "Brazil": "Brasil", "Norway": "Noruega", "Iceland": "Islandia",
    "Sweden": "Suecia", "Denmark": "Dinamarca", "Italy": "Italia", "Mexico": "México",
    "Russia": "Rusia", "Canada": "Canadá", "World": "Mundo",
}  # fmt: skip


def frame(path: Path = OWID_CSV) -> pd.DataFrame:
    """The file with country names trimmed and an ``is_country`` flag."""
    data = pd.read_csv(path, encoding="utf-8-sig")
    data["country"] = data["country"].str.strip()
    iso = data["iso_code"].fillna("")
    coded = (iso != "") & (~iso.str.startswith("OWID_") | iso.isin(_OWID_COUNTRY_CODES))
    data["is_country"] = coded | data["country"].isin(_COUNTRIES_WITHOUT_CODE)
    return data


def names(country: str) -> list[str]:
    return [country, SPANISH[country]] if country in SPANISH else [country]


def value(data: pd.DataFrame, country: str, year: int, column: str) -> Gold:
    """One country's (or region's) value in a year."""
    row = data[(data["country"] == country) & (data["year"] == year)]
    return {"values": [float(row[column].iloc[0])]}


def values(data: pd.DataFrame, column: str, *pairs: tuple[str, int]) -> Gold:
    """Values of (country, year) pairs in the order asked."""
    return {"values": [value(data, c, y, column)["values"][0] for c, y in pairs]}


def mean(data: pd.DataFrame, country: str, first: int, last: int, column: str) -> Gold:
    """The mean over the years ``[first, last]`` with a value."""
    rows = data[(data["country"] == country) & data["year"].between(first, last)]
    return {"values": [float(rows[column].mean())]}


def series(data: pd.DataFrame, country: str, first: int, last: int, column: str) -> Gold:
    """Per year with a value, in time order, with the years."""
    rows = data[(data["country"] == country) & data["year"].between(first, last) & data[column].notna()]
    rows = rows.sort_values("year")
    return {"values": [float(v) for v in rows[column]], "times": [str(y) for y in rows["year"]]}


def extreme_year(
    data: pd.DataFrame, country: str, column: str, largest: bool = True, years: tuple[int, int] | None = None
) -> Gold:
    """The largest (smallest) value of a country's series and its year (the first on a tie)."""
    rows = data[(data["country"] == country) & data[column].notna()]
    if years:
        rows = rows[rows["year"].between(*years)]
    best = rows[column].max() if largest else rows[column].min()
    year = rows.loc[rows[column] == best, "year"].min()
    return {"values": [float(best)], "times": [str(year)]}


def top_countries(data: pd.DataFrame, year: int, column: str, k: int, largest: bool = True) -> Gold:
    """The ``k`` countries (regions left out) with the largest (smallest) value in a year."""
    rows = data[data["is_country"] & (data["year"] == year) & data[column].notna()]
    rows = rows.sort_values([column, "country"], ascending=[not largest, True]).head(k)
    return {"values": [float(v) for v in rows[column]], "labels": [names(c) for c in rows["country"]]}


def count_countries(data: pd.DataFrame, year: int, column: str, over: float | None = None) -> Gold:
    """Countries with a value in a year (strictly above ``over`` where given)."""
    rows = data[data["is_country"] & (data["year"] == year) & data[column].notna()]
    if over is not None:
        rows = rows[rows[column] > over]
    return {"values": [len(rows)]}
