"""The SAMPLE OWID generator: the current file's shape, labelled, reproducible, plausible and consistent."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from datalake.datasets.owid import AGGREGATE_NAMES, BY_NAME, CODEBOOK_COLUMNS
from datalake.sources.owid import parse_file
from datalake.sources.owid_sample import (
    AGGREGATES,
    CODEBOOK_FILE,
    ENERGY_FILE,
    SAMPLE_SOURCE,
    generate_owid_drops,
)

COUNTRIES = ("Spain", "Colombia", "United States", "China", "Germany", "France", "India", "Brazil")


@pytest.fixture(scope="module")
def drops(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate_owid_drops(tmp_path_factory.mktemp("owid") / "landing")


@pytest.fixture(scope="module")
def energy(drops: list[Path]) -> pd.DataFrame:
    return pd.read_csv(drops[0], keep_default_na=False, na_values=[""])


def test_writes_two_labelled_files_the_landing_reads_as_owid(drops: list[Path], tmp_path: Path) -> None:
    assert [p.name for p in drops] == [ENERGY_FILE, CODEBOOK_FILE]
    assert all("SAMPLE" in p.name for p in drops)
    energy, codebook = (parse_file(p.read_bytes()) for p in drops)
    assert (energy.header.kind, codebook.header.kind) == ("energy", "codebook")
    # The current column set, nothing ignored, renamed or missing; every row well formed.
    assert not energy.header.unknown and not energy.header.renamed and not energy.header.missing
    assert not any(row.problem for row in energy.rows + codebook.rows)
    again = generate_owid_drops(tmp_path)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in drops]  # seeded: same bytes
    other = generate_owid_drops(tmp_path / "other", seed=3)
    assert other[0].read_bytes() != drops[0].read_bytes()


def test_the_codebook_describes_every_column_with_its_unit_and_a_sample_source(drops: list[Path]) -> None:
    book = pd.read_csv(drops[1], keep_default_na=False)
    assert tuple(book.columns) == CODEBOOK_COLUMNS
    header = pd.read_csv(drops[0], nrows=0).columns.tolist()
    assert book["column"].tolist() == header
    assert header[:5] == ["country", "year", "iso_code", "population", "gdp"]
    assert header[5:] == sorted(header[5:])  # the current file's order
    assert set(header[3:]) == set(BY_NAME)
    assert (book["source"] == SAMPLE_SOURCE).all() and book["description"].str.startswith("SAMPLE").all()
    units = dict(zip(book["column"], book["unit"], strict=True))
    assert all(units[name] == indicator.unit.codebook for name, indicator in BY_NAME.items())


def test_places_years_and_aggregates(energy: pd.DataFrame) -> None:
    places = set(energy["country"])
    assert set(COUNTRIES) <= places and len(places - set(AGGREGATES)) >= 12
    assert "World" in places and set(AGGREGATES) - {"Non-OECD (EI)"} <= set(AGGREGATE_NAMES)
    assert energy.groupby("country")["year"].agg(["min", "max", "count"]).eq([2000, 2023, 24]).all().all()
    assert not energy.duplicated(["country", "year"]).any()
    assert energy.loc[energy["country"] == "World", "iso_code"].eq("OWID_WRL").all()
    assert energy.loc[energy["country"] == "Spain", "iso_code"].eq("ESP").all()


def test_magnitudes_are_plausible_and_the_columns_agree(energy: pd.DataFrame) -> None:
    at = energy.set_index(["country", "year"])
    world, spain = at.loc[("World", 2022)], at.loc[("Spain", 2022)]
    assert 140_000 < world["primary_energy_consumption"] < 200_000  # TWh
    assert 25_000 < world["electricity_generation"] < 35_000
    assert 7.5e9 < world["population"] < 8.5e9
    assert 1_200 < spain["primary_energy_consumption"] < 1_700
    assert 20 < spain["renewables_share_energy"] < 35 and spain["coal_share_energy"] < 5
    assert at.loc[("China", 2022), "coal_share_energy"] > 50
    assert at.loc[("France", 2022), "nuclear_share_elec"] > 55
    assert at.loc[("Colombia", 2022), "hydro_share_elec"] > 55
    # Identities OWID's columns obey (to the 3 decimals written).
    shares = energy[[f"{s}_share_energy" for s in ("fossil", "low_carbon")]].sum(axis=1)
    assert ((shares - 100).abs() < 0.01).all()
    per_capita = energy["primary_energy_consumption"] * 1e9 / energy["population"]
    assert ((per_capita / energy["energy_per_capita"] - 1).abs() < 1e-3).all()
    parts = energy[[f"{s}_electricity" for s in ("fossil", "low_carbon")]].sum(axis=1)
    assert ((parts / energy["electricity_generation"] - 1).abs() < 1e-3).all()
    spain_rows = energy[energy["country"] == "Spain"].set_index("year")
    change = spain_rows["primary_energy_consumption"].diff()
    assert (change - spain_rows["energy_cons_change_twh"]).dropna().abs().max() < 0.01
    # Every indicator is filled (but GDP, which OWID's source ends in 2022, the first year's changes
    # and, as OWID leaves them, a % change from a year at zero); only signed indicators go negative.
    latest = energy[energy["year"] == 2022]
    whole = [name for name in BY_NAME if not name.endswith("_change_pct")]
    assert latest[whole].notna().all().all()
    assert latest.loc[latest["country"] == "World", list(BY_NAME)].notna().all().all()
    colombia = energy[energy["country"] == "Colombia"]
    assert (colombia["nuclear_consumption"] == 0).all() and colombia["nuclear_cons_change_pct"].isna().all()
    assert energy.loc[energy["year"] == 2023, "gdp"].isna().all()
    unsigned = [name for name, indicator in BY_NAME.items() if not indicator.signed]
    assert (energy[unsigned].fillna(0) >= 0).all().all()
