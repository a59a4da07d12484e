"""The owid source on Spark (local[1]): both column sets and an XLSX -> the three tables -> PostgreSQL.

One lake serves the module, built by ``datalake ingest landing`` and ``datalake transform owid``:

1. day 1: rows of the shared 2020 file (seven places, four years, a real ``inf``) with a value that
   is not a number, a negative quantity, a row whose year is not one and a repeated row; and
   the current codebook with one unit that contradicts its column's name. Full run, then a sync.
2. day 2: Spain's 2018-2019 rows in the current column set (renamed, reordered, a BOM), Spain's
   2019 primary energy revised; the World's 2019 row as an XLSX workbook, its renewables share
   revised. Incremental run, then a sync: three rows updated, the others untouched.
3. nothing new: nothing to do.

The expected values come from the files, read here with Python's csv module.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pandas as pd
import psycopg
import pytest
from owid_fixtures import (
    CODEBOOK,
    as_xlsx,
    current_shape,
    shared_bytes,
    subset_2020,
    table,
    to_csv,
    with_cell,
)
from processed_fixtures import published

from datalake import runtime
from datalake.datasets.owid import (
    BY_NAME,
    OWID_TABLES,
    WORLD_ENERGY,
    WORLD_ENERGY_CODEBOOK,
    WORLD_ENERGY_INDICATORS,
)
from datalake.pipelines.ingest import land_energy_drops
from datalake.pipelines.lake import sync_dataset, transform
from datalake.runs import RunReport
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

pytest_plugins = ["warehouse_fixtures"]

PLACES = ("Spain", "World", "Kosovo", "Czechia", "USSR", "Other Asia & Pacific", "Saint Helena")
YEARS = (1981, 2016, 2018, 2019)
DAY1 = dt.datetime(2024, 1, 10, 9, tzinfo=dt.UTC)
DAY2 = dt.datetime(2024, 2, 10, 9, tzinfo=dt.UTC)
SPAIN_2019_PRIMARY = 1_600.5
WORLD_2019_RENEWABLES = 12.25


def day1_file() -> bytes:
    data = subset_2020(PLACES, YEARS)
    data = with_cell(data, "Spain", 2016, "coal_consumption", "abc")
    data = with_cell(data, "Spain", 2018, "coal_production", "-5")
    header, *rows = table(data)
    year = header.index("year")
    spain_2019 = next(r for r in rows if r[1] == "Spain" and r[year] == "2019")
    world_2019 = next(r for r in rows if r[1] == "World" and r[year] == "2019")
    bad_year = [*spain_2019[:year], "20x9", *spain_2019[year + 1 :]]
    return to_csv([header, *rows, bad_year, world_2019], bom=True)


def day1_codebook() -> bytes:
    rows = table(shared_bytes(CODEBOOK))
    for row in rows:
        if row[0] == "coal_consumption":
            row[2] = "exajoules"
    return to_csv(rows)


def day2_files() -> dict[str, bytes]:
    spain = subset_2020(("Spain",), (2018, 2019))
    spain = with_cell(spain, "Spain", 2019, "primary_energy_consumption", str(SPAIN_2019_PRIMARY))
    world = subset_2020(("World",), (2019,))
    world = with_cell(world, "World", 2019, "renewables_share_energy", str(WORLD_2019_RENEWABLES))
    return {"energy-current.csv": current_shape(spain), "energy-world.xlsx": as_xlsx(world)}


def land(settings: Settings, files: dict[str, bytes], at: dt.datetime) -> RunReport:
    landing = LocalObjectStore(settings.lake_root / "landing")
    for name, data in files.items():
        landing.put_bytes(name, data)
    return land_energy_drops([(name, at) for name in files], settings=settings)


def warehouse(url: str, spec) -> pd.DataFrame:
    """A warehouse table with each row's version (``xmin``: it changes when the row is rewritten)."""
    with psycopg.connect(url) as conn:
        cursor = conn.execute(f"SELECT xmin::text AS _xmin, * FROM {spec.warehouse_table}")
        names = [c.name for c in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=names)


@pytest.fixture(scope="module")
def lake(tmp_path_factory, embedded_pg) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("owid") / "lake"
    settings = Settings(
        _env_file=None,
        lake_runtime="local",
        lake_root=root,
        spark_master="local[1]",
        database_url=embedded_pg.url,
    )
    with psycopg.connect(embedded_pg.url, autocommit=True) as conn:  # a fresh mirror of these tables
        for spec in OWID_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {spec.warehouse_table} CASCADE")
    landed = land(
        settings, {"owid-energy-data.csv": day1_file(), "owid-energy-codebook.csv": day1_codebook()}, DAY1
    )
    first = transform("owid", settings=settings)
    synced_first = {spec.name: sync_dataset(spec.name, settings) for spec in OWID_TABLES}
    before = warehouse(embedded_pg.url, WORLD_ENERGY)
    landed_again = land(settings, day2_files(), DAY2)
    second = transform("owid", settings=settings)
    synced_second = {spec.name: sync_dataset(spec.name, settings) for spec in OWID_TABLES}
    third = transform("owid", settings=settings)
    yield {
        "settings": settings,
        "landed": (landed, landed_again),
        "runs": (first, second, third),
        "synced": (synced_first, synced_second),
        "before": before,
        "after": warehouse(embedded_pg.url, WORLD_ENERGY),
        "url": embedded_pg.url,
    }


def current(settings: Settings, spec) -> pd.DataFrame:
    return published(LocalObjectStore(settings.lake_root), spec)


def expected_values(data: bytes) -> dict[tuple[str, int], dict[str, float]]:
    """The numbers of each (country, year) of a file, by world_energy column, read with csv alone."""
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    out = {}
    for row in rows:
        if not row["year"].isdigit():
            continue
        values = {}
        for name, text in row.items():
            indicator = BY_NAME.get({"fossil_cons_per_capita": "fossil_elec_per_capita"}.get(name, name))
            if indicator is not None and text.strip():
                try:
                    values[indicator.column] = float(text)
                except ValueError:
                    continue
        out.setdefault((row["country"].strip(), int(row["year"])), values)
    return out


@pytest.mark.slow
def test_every_drop_lands_and_every_run_balances(lake) -> None:
    day1, day2 = lake["landed"]
    assert day1.details["accepted"] == {"owid_energy": 1, "owid_codebook": 1}
    assert day2.details["accepted"] == {"owid_energy": 2}
    first, second, third = lake["runs"]
    assert all(r.status == "succeeded" and r.balanced for r in (first, second, third))
    rows_day1 = len(table(day1_file())) - 1
    assert (first.rows_in, first.rows_quarantined) == (rows_day1 + 130, 3)
    assert first.details["columns_renamed"] and not first.details["columns_ignored"]
    assert (second.details["mode"], second.rows_in, second.rows_out, second.rows_quarantined) == (
        "incremental",
        3,
        3,
        0,
    )
    assert second.details["world_energy_rows_superseded_carried"] == 3
    assert third.rows_in == 0 and third.details["raw_partitions_changed_count"] == 0


@pytest.mark.slow
def test_bad_rows_and_bad_values_are_quarantined_with_their_reasons(lake) -> None:
    settings, (first, _second, _third) = lake["settings"], lake["runs"]
    reasons = first.details["quarantine_reasons"]
    assert reasons["world_energy: year: not a year '20x9'"] == 1
    [repeat] = [r for r in reasons if "repeats the country and year of line" in r]
    assert reasons[repeat] == 1
    [unit] = [r for r in reasons if r.startswith("world_energy_codebook: codebook_unit")]
    assert "'exajoules' for coal_consumption, whose column coal_consumption_twh" in unit
    assert first.details["value_quarantine_reasons"] == {
        "coal_consumption_twh: not a number": 1,
        "coal_production_twh outside [0.0, None]": 1,
        "energy_cons_change_pct: not finite": 1,  # Saint Helena 1981: OWID's own "inf"
    }
    values = first.details["values"]
    assert values["in"] == values["out"] + values["quarantined"] and values["quarantined"] == 3
    store = LocalObjectStore(settings.lake_root)
    [key] = [k for k in first.keys_written if k.startswith("quarantine/owid/world_energy_values/")]
    bad = store.read_parquet(key).set_index("indicator")
    assert (
        bad.loc["coal_consumption", "raw_value"] == "abc"
        and bad.loc["coal_consumption", "country"] == "Spain"
    )


@pytest.mark.slow
def test_world_energy_holds_typed_values_one_row_per_place_and_year(lake) -> None:
    settings = lake["settings"]
    world = current(settings, WORLD_ENERGY)
    assert not world.duplicated(["country", "year"]).any()
    assert set(world["country"]) == set(PLACES)
    assert world["year"].dtype.kind == "i" and world["coal_consumption_twh"].dtype == "float64"
    expected = expected_values(subset_2020(PLACES, YEARS))
    revised = {("Spain", 2018), ("Spain", 2019), ("World", 2019)}
    for row in world.to_dict("records"):
        place = (row["country"], row["year"])
        if place in revised:
            continue
        for column, value in expected[place].items():
            if (place, column) in {(("Spain", 2016), "coal_consumption_twh")} or value == float("inf"):
                assert pd.isna(row[column]), (place, column)  # quarantined, left null
            else:
                assert row[column] == pytest.approx(value, rel=1e-12), (place, column)
    flags = dict(zip(world["country"], world["is_aggregate"], strict=False))
    assert flags == {
        "Spain": False,
        "Kosovo": False,  # OWID_KOS: a country OWID coded itself
        "Czechia": False,  # no code in the 2020 file, but a country
        "USSR": False,  # likewise, a country of its time
        "Saint Helena": False,
        "World": True,  # OWID_WRL
        "Other Asia & Pacific": True,  # no code: a region
    }


@pytest.mark.slow
def test_a_newer_drop_revises_its_rows_and_keeps_the_others(lake) -> None:
    world = current(lake["settings"], WORLD_ENERGY).set_index(["country", "year"])
    original = expected_values(subset_2020(PLACES, YEARS))
    spain, world_2019 = world.loc[("Spain", 2019)], world.loc[("World", 2019)]
    assert spain["primary_energy_consumption_twh"] == SPAIN_2019_PRIMARY
    assert spain["landed_on"] == DAY2.date() and world_2019["landed_on"] == DAY2.date()
    assert world_2019["renewables_share_energy_pct"] == WORLD_2019_RENEWABLES
    # The revised 2018 row replaced the day-1 row whose coal production was quarantined.
    assert (
        world.loc[("Spain", 2018), "coal_production_twh"] == original[("Spain", 2018)]["coal_production_twh"]
    )
    # The renamed column of the current set reached the same column.
    assert spain["fossil_elec_per_capita_kwh"] == original[("Spain", 2019)]["fossil_elec_per_capita_kwh"]
    assert world.loc[("Spain", 2016), "landed_on"] == DAY1.date()
    assert len(world) == len(original)


@pytest.mark.slow
def test_the_long_form_and_the_codebook(lake) -> None:
    settings = lake["settings"]
    world = current(settings, WORLD_ENERGY)
    long = current(settings, WORLD_ENERGY_INDICATORS)
    columns = [i.column for i in BY_NAME.values()]
    assert len(long) == int(world[columns].notna().sum().sum())
    spain = long.query("country == 'Spain' and year == 2019").set_index("indicator")
    assert spain.loc["primary_energy_consumption", "value"] == SPAIN_2019_PRIMARY
    assert spain.loc["primary_energy_consumption", "unit"] == "TWh"
    assert spain.loc["renewables_share_energy", "unit"] == "%"
    assert not long.query("country == 'World'")["is_aggregate"].eq(False).any()
    codebook = current(settings, WORLD_ENERGY_CODEBOOK).set_index("indicator")
    assert len(codebook) == 129 and "coal_consumption" not in codebook.index  # its unit was wrong
    assert codebook.loc["renewables_share_energy", "column_name"] == "renewables_share_energy_pct"
    assert codebook.loc["population", "unit"] == "people"
    assert codebook.loc["oil_production", "source"].startswith("Energy Institute")
    assert pd.isna(codebook.loc["country", "unit"]) and codebook.loc["country", "column_name"] == "country"


@pytest.mark.slow
def test_duckdb_ranks_countries_without_the_aggregates(lake) -> None:
    engine = runtime.query_engine(lake["settings"])
    answer = engine.query(
        "SELECT country FROM world_energy WHERE year = 2019 AND NOT is_aggregate "
        "ORDER BY primary_energy_consumption_twh DESC NULLS LAST LIMIT 1"
    )
    assert answer["country"].tolist() == ["Spain"]


@pytest.mark.slow
def test_the_sync_upserts_changed_rows_and_leaves_the_others_untouched(lake) -> None:
    first, second = lake["synced"]
    rows = len(lake["before"])
    assert first["world_energy"].details["inserted"] == rows
    sync = second["world_energy"].details
    # Not a replace-on-load: 3 rows updated in place, none deleted or inserted, the rest not rewritten.
    assert (sync["inserted"], sync["updated"], sync["deleted"], sync["unchanged"]) == (0, 3, 0, rows - 3)
    before = lake["before"].set_index(["country", "year"])
    after = lake["after"].set_index(["country", "year"])
    assert sorted(after.index) == sorted(before.index)
    rewritten = sorted(i for i in after.index if after.loc[i, "_xmin"] != before.loc[i, "_xmin"])
    assert rewritten == [("Spain", 2018), ("Spain", 2019), ("World", 2019)]
    assert after.loc[("Spain", 2019), "primary_energy_consumption_twh"] == SPAIN_2019_PRIMARY
    # The long form: the values of the three revised rows are written again (their landed_on
    # moved), Spain's 2018 coal production is new (day 1's was quarantined), nothing else moves.
    long = second["world_energy_indicators"].details
    columns = [i.column for i in BY_NAME.values()]
    revised = int(after.loc[rewritten, columns].notna().sum().sum())
    total = int(after[columns].notna().sum().sum())
    assert (long["inserted"], long["updated"], long["deleted"], long["unchanged"]) == (
        1,
        revised - 1,
        0,
        total - revised,
    )
