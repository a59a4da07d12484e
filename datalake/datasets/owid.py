"""Our World in Data's energy dataset: the indicators the lake reads, and its three processed tables.

OWID publishes the dataset as one wide file (``owid-energy-data.csv`` or ``.xlsx``: a row per
country or region and year, a column per indicator) and a codebook (``owid-energy-codebook.csv``:
``column, description, unit, source``). The columns changed between vintages
(../shared/data/SOURCES.md, "column drift"): the current file has 130 columns, the 2020 file 117,
and one 2020 column was renamed (:data:`RENAMED_COLUMNS`). The lake reads the union: every
indicator of the current codebook, filled with null where a vintage lacks it.

The indicator list below is the schema (names and units), not data: the descriptions and sources
come from the codebook drop into ``world_energy_codebook``, and a test holds the units here to
the shared codebook's. Column names carry their unit (``coal_consumption_twh``,
``coal_share_elec_pct``) unless OWID's name already ends with it (``coal_cons_change_twh``).

Aggregates: OWID mixes countries with regions (World, continents, income groups, its
institutional groupings such as "Europe (EI)"). :func:`datalake.transforms.owid.aggregate_flag`
flags them from the rule data here (``is_aggregate``), so country rankings and sums leave them out.
"""

from __future__ import annotations

from dataclasses import dataclass

from datalake.datasets.owid_semantics import world_energy_semantics
from datalake.datasets.spec import ColumnSpec, DatasetSpec, QualityRule

#: Where OWID's files live in every zone: raw/owid/, quarantine/owid/, rejected/owid/.
SOURCE = "owid"
#: The identity columns of each row of the data file.
KEY_COLUMNS = ("country", "year", "iso_code")
#: The codebook file's header.
CODEBOOK_COLUMNS = ("column", "description", "unit", "source")
#: Old name -> current name. OWID's changelog (2022-08-09): ``fossil_cons_per_capita`` held
#: electricity per capita and was renamed ``fossil_elec_per_capita``.
RENAMED_COLUMNS = {"fossil_cons_per_capita": "fossil_elec_per_capita"}


@dataclass(frozen=True)
class Unit:
    """One of the codebook's units: how the codebook writes it, its short form, the column suffix."""

    codebook: str
    short: str
    suffix: str | None


TWH = Unit("terawatt-hours", "TWh", "twh")
PCT = Unit("%", "%", "pct")
KWH_PER_CAPITA = Unit("kilowatt-hours", "kWh per person", "kwh")
KWH_PER_PERSON = Unit("kilowatt-hours per person", "kWh per person", "kwh")
KWH_PER_DOLLAR = Unit("kilowatt-hours per $", "kWh per international-$", "kwh_per_intl_usd")
PEOPLE = Unit("people", "people", None)
GDP_DOLLARS = Unit("international-$ in 2011 prices", "international-$ (2011 prices)", "intl_usd_2011")
GRAMS_CO2E_PER_KWH = Unit("grams of CO₂ equivalents per kilowatt-hour", "gCO2e/kWh", "gco2e_per_kwh")
MEGATONNES_CO2E = Unit("million tonnes CO₂ equivalents", "MtCO2e", "mtco2e")


@dataclass(frozen=True)
class Indicator:
    """One indicator: OWID's current column name, its unit, and whether it may be negative."""

    name: str
    unit: Unit
    signed: bool = False

    @property
    def column(self) -> str:
        """Its column in ``world_energy``: the name with its unit suffix (once)."""
        suffix = self.unit.suffix
        if suffix is None or self.name.endswith(f"_{suffix}"):
            return self.name
        return f"{self.name}_{suffix}"


def _indicators(unit: Unit, names: str) -> tuple[Indicator, ...]:
    # Year-on-year changes and net imports are signed; every other quantity is zero or more.
    return tuple(
        Indicator(
            name, unit, signed=name.endswith(("_change_pct", "_change_twh")) or "net_elec_imports" in name
        )
        for name in names.split()
    )


#: Every indicator of OWID's current codebook (owid/energy-data @ 873ea63d, 2025-05-30), by unit.
INDICATORS: tuple[Indicator, ...] = (
    *_indicators(PEOPLE, "population"),
    *_indicators(GDP_DOLLARS, "gdp"),
    *_indicators(
        PCT,
        """biofuel_cons_change_pct biofuel_share_elec biofuel_share_energy coal_cons_change_pct
        coal_prod_change_pct coal_share_elec coal_share_energy electricity_share_energy
        energy_cons_change_pct fossil_cons_change_pct fossil_share_elec fossil_share_energy
        gas_cons_change_pct gas_prod_change_pct gas_share_elec gas_share_energy hydro_cons_change_pct
        hydro_share_elec hydro_share_energy low_carbon_cons_change_pct low_carbon_share_elec
        low_carbon_share_energy net_elec_imports_share_demand nuclear_cons_change_pct nuclear_share_elec
        nuclear_share_energy oil_cons_change_pct oil_prod_change_pct oil_share_elec oil_share_energy
        other_renewables_cons_change_pct other_renewables_share_elec other_renewables_share_elec_exc_biofuel
        other_renewables_share_energy renewables_cons_change_pct renewables_share_elec
        renewables_share_energy solar_cons_change_pct solar_share_elec solar_share_energy
        wind_cons_change_pct wind_share_elec wind_share_energy""",
    ),
    *_indicators(
        TWH,
        """biofuel_cons_change_twh biofuel_consumption biofuel_electricity coal_cons_change_twh
        coal_consumption coal_electricity coal_prod_change_twh coal_production electricity_demand
        electricity_generation energy_cons_change_twh fossil_cons_change_twh fossil_electricity
        fossil_fuel_consumption gas_cons_change_twh gas_consumption gas_electricity gas_prod_change_twh
        gas_production hydro_cons_change_twh hydro_consumption hydro_electricity low_carbon_cons_change_twh
        low_carbon_consumption low_carbon_electricity net_elec_imports nuclear_cons_change_twh
        nuclear_consumption nuclear_electricity oil_cons_change_twh oil_consumption oil_electricity
        oil_prod_change_twh oil_production other_renewable_consumption other_renewable_electricity
        other_renewable_exc_biofuel_electricity other_renewables_cons_change_twh primary_energy_consumption
        renewables_cons_change_twh renewables_consumption renewables_electricity solar_cons_change_twh
        solar_consumption solar_electricity wind_cons_change_twh wind_consumption wind_electricity""",
    ),
    *_indicators(
        KWH_PER_CAPITA,
        """biofuel_cons_per_capita biofuel_elec_per_capita coal_cons_per_capita coal_elec_per_capita
        coal_prod_per_capita electricity_demand_per_capita fossil_elec_per_capita fossil_energy_per_capita
        gas_elec_per_capita gas_energy_per_capita gas_prod_per_capita hydro_elec_per_capita
        hydro_energy_per_capita low_carbon_elec_per_capita low_carbon_energy_per_capita
        nuclear_elec_per_capita nuclear_energy_per_capita oil_elec_per_capita oil_energy_per_capita
        oil_prod_per_capita other_renewables_elec_per_capita other_renewables_elec_per_capita_exc_biofuel
        other_renewables_energy_per_capita per_capita_electricity renewables_elec_per_capita
        renewables_energy_per_capita solar_elec_per_capita solar_energy_per_capita wind_elec_per_capita
        wind_energy_per_capita""",
    ),
    *_indicators(GRAMS_CO2E_PER_KWH, "carbon_intensity_elec"),
    *_indicators(KWH_PER_PERSON, "energy_per_capita"),
    *_indicators(KWH_PER_DOLLAR, "energy_per_gdp"),
    *_indicators(MEGATONNES_CO2E, "greenhouse_gas_emissions"),
)
#: OWID's name -> the indicator.
BY_NAME = {indicator.name: indicator for indicator in INDICATORS}

#: ``quarantine/<folder>/`` of the job: bad rows of each table, bad values, unreadable files.
QUARANTINE_FOLDERS = {
    "energy": f"{SOURCE}/world_energy",
    "codebook": f"{SOURCE}/world_energy_codebook",
    "values": f"{SOURCE}/world_energy_values",
    "unreadable": f"{SOURCE}/unreadable",
}

# -- aggregates --------------------------------------------------------------------------------------

#: Regions by name whatever code a vintage gives them (continents, income groups, the world).
AGGREGATE_NAMES = (
    "World",
    "Africa",
    "Asia",
    "Europe",
    "North America",
    "South America",
    "Oceania",
    "European Union (27)",
    "High-income countries",
    "Upper-middle-income countries",
    "Lower-middle-income countries",
    "Low-income countries",
)
#: OWID's own codes for countries that ISO 3166-1 lacks, now or historically (every other
#: ``OWID_*`` code is a region: ``OWID_WRL`` the world, ``OWID_EU27``, ...).
OWID_COUNTRY_CODES = ("OWID_KOS", "OWID_CYN", "OWID_CZS", "OWID_USS", "OWID_YGS", "OWID_SRM")
#: Countries a vintage lists without an ISO code (the 2020 file's BP names); every other row
#: without a code is a region ("Other Asia & Pacific", "Europe (EI)", "ASEAN (Ember)", ...).
COUNTRIES_WITHOUT_CODE = (
    "Burma",
    "Czechia",
    "Czechoslovakia",
    "Falkland Islands",
    "Ivory Coast",
    "Reunion",
    "USSR",
    "Yugoslavia",
)

# -- the processed tables ----------------------------------------------------------------------------

#: OWID's series start in 1900 (current file) and its projections stop well before 2100.
FIRST_YEAR, LAST_YEAR = 1800, 2100

_COUNTRY = ColumnSpec("country", "string", False, "Country or region, as OWID names it")
_ISO = ColumnSpec(
    "iso_code", "string", True, "ISO 3166-1 alpha-3 code; OWID_* for OWID's own; null for most regions"
)
_YEAR = ColumnSpec("year", "int", False, "Year of observation")
_AGGREGATE = ColumnSpec(
    "is_aggregate", "boolean", False, "A region (World, continent, income group, grouping), not a country"
)
_LANDED_ON = ColumnSpec(
    "landed_on", "date", False, "Landing day of the drop the row comes from (its OWID vintage)"
)


def _range(indicator: Indicator) -> QualityRule | None:
    return None if indicator.signed else QualityRule(indicator.column, "range", 0.0, None)


WORLD_ENERGY = DatasetSpec(
    name="world_energy",
    description=(
        "OWID energy: one row per country or region and year, a typed column per indicator "
        "(unit in its name); regions flagged is_aggregate."
    ),
    columns=(
        _COUNTRY,
        _ISO,
        _YEAR,
        _AGGREGATE,
        *(ColumnSpec(i.column, "double", True, f"{i.name}, {i.unit.short}") for i in INDICATORS),
        _LANDED_ON,
    ),
    primary_key=("country", "year"),
    warehouse_table="world_energy",
    # Readable by the reader role (the dashboards, /ask's guard and its text-to-SQL backend).
    askable=True,
    # What /ask may ask of it: the indicators by their words, countries apart from regions.
    ask=world_energy_semantics(BY_NAME),
    indexes=(("iso_code", "year"),),
    quality_rules=(
        QualityRule("year", "range", FIRST_YEAR, LAST_YEAR),
        *(rule for rule in map(_range, INDICATORS) if rule is not None),
    ),
    source=SOURCE,
)

WORLD_ENERGY_INDICATORS = DatasetSpec(
    name="world_energy_indicators",
    description="OWID energy in long form: one row per country or region, year and indicator with a value.",
    columns=(
        _COUNTRY,
        _ISO,
        _YEAR,
        _AGGREGATE,
        ColumnSpec("indicator", "string", False, "OWID's column name (the codebook's `column`)"),
        ColumnSpec("value", "double", False, "The value, in `unit`"),
        ColumnSpec("unit", "string", False, "Unit of the value (TWh, %, kWh per person, ...)"),
        _LANDED_ON,
    ),
    primary_key=("country", "year", "indicator"),
    warehouse_table="world_energy_indicators",
    # Readable by the reader role (the dashboards, /ask's guard and its text-to-SQL backend).
    askable=True,
    indexes=(("indicator", "year"),),
    source=SOURCE,
)

WORLD_ENERGY_CODEBOOK = DatasetSpec(
    name="world_energy_codebook",
    description="OWID's codebook: description, unit and source of each column of the energy dataset.",
    columns=(
        ColumnSpec("indicator", "string", False, "OWID's column name"),
        ColumnSpec("column_name", "string", True, "Its column in world_energy (null: not read by the lake)"),
        ColumnSpec("unit", "string", True, "The lake's unit (null for the identity columns)"),
        ColumnSpec("codebook_unit", "string", True, "The unit as the codebook writes it"),
        ColumnSpec("description", "string", True, "What it measures"),
        ColumnSpec("source", "string", True, "Where OWID took it from"),
        _LANDED_ON,
    ),
    primary_key=("indicator",),
    warehouse_table="world_energy_codebook",
    # Readable by the reader role (the dashboards, /ask's guard and its text-to-SQL backend).
    askable=True,
    source=SOURCE,
)

OWID_TABLES = (WORLD_ENERGY, WORLD_ENERGY_INDICATORS, WORLD_ENERGY_CODEBOOK)
