# ruff: noqa: E501
# (one measure or country per line reads better than wrapped calls)
"""What /ask may ask of ``world_energy`` (OWID): its measures, the country dimension and its years.

Data only, read by :mod:`datalake.ask.declared` like every other table's declarations. OWID's
indicators are named by combining words ("porcentaje de la energía primaria ... renovable",
"nuclear share of electricity", "energy use per person"), so most measures are declared by
their *parts* (:attr:`~datalake.datasets.semantics.Measure.parts`): a source, what is measured
(share, consumption, generation, per person) and of what (energy, electricity). The measures
and their units come from the indicator list (:data:`datalake.datasets.owid.BY_NAME`).

Rows are countries and regions; a question about "países"/"countries" counts and ranks
countries only (``entity_when``: ``NOT is_aggregate``). The time axis is the integer ``year``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datalake.datasets.semantics import Dimension, Measure, Semantics, TimeAxis, Words

# -- the parts measures are named by ------------------------------------------------------------------

SHARE = Words(
    ("porcentaje", "cuota", "proporción", "%", "por ciento", "fracción"),
    ("share", "percentage", "percent", "proportion", "%", "fraction"),
)
ENERGY = Words(
    ("energía primaria", "energía", "consumo energético", "consumo de energía primaria"),
    ("primary energy", "energy"),
)
ELECTRICITY = Words(
    ("electricidad", "eléctrica", "eléctrico", "mix eléctrico"),
    ("electricity", "electric", "electrical", "power"),
)
CONSUMPTION = Words(
    ("consumo", "consumió", "consume", "consumen", "consumieron", "consumido", "uso", "usó", "utilizó"),
    ("consumption", "consume", "consumed", "consumes", "use", "used", "uses", "usage"),
)
PER_PERSON = Words(
    ("per cápita", "por persona", "por habitante"),
    ("per capita", "per person", "per head", "per inhabitant"),
)
GENERATION = Words(
    ("generación", "generó", "generaron", "producción", "produjo", "produjeron"),
    ("generation", "generated", "generate", "produced", "production"),
)

#: Energy sources: OWID's column stem -> how people name it.
SOURCES: dict[str, Words] = {
    "renewables": Words(
        ("renovable", "renovables", "energía renovable", "energías renovables", "fuentes renovables"),
        ("renewable", "renewables", "renewable energy"),
    ),
    "solar": Words(("solar", "fotovoltaica"), ("solar",)),
    "wind": Words(("eólica", "eólico", "viento"), ("wind",)),
    "hydro": Words(("hidráulica", "hidroeléctrica", "hidro"), ("hydro", "hydropower", "hydroelectric")),
    "nuclear": Words(("nuclear",), ("nuclear",)),
    "coal": Words(("carbón",), ("coal",)),
    "gas": Words(("gas", "gas natural"), ("gas", "natural gas")),
    "oil": Words(("petróleo", "crudo"), ("oil", "petroleum")),
    "fossil": Words(("fósil", "fósiles", "combustibles fósiles"), ("fossil", "fossil fuel", "fossil fuels")),
    "low_carbon": Words(("bajas en carbono", "baja en carbono"), ("low carbon", "low-carbon")),
    "biofuel": Words(("biocombustible", "biocombustibles"), ("biofuel", "biofuels")),
}
#: The source's names as a measure's name in answers (es, en).
_SOURCE_NAMES = {
    "renewables": ("renovable", "renewable"),
    "solar": ("solar", "solar"),
    "wind": ("eólica", "wind"),
    "hydro": ("hidráulica", "hydro"),
    "nuclear": ("nuclear", "nuclear"),
    "coal": ("carbón", "coal"),
    "gas": ("gas", "gas"),
    "oil": ("petróleo", "oil"),
    "fossil": ("fósil", "fossil"),
    "low_carbon": ("baja en carbono", "low-carbon"),
    "biofuel": ("biocombustibles", "biofuel"),
}
#: OWID's consumption column per source (fossil fuels have their own name).
_CONSUMPTION_COLUMN = {"fossil": "fossil_fuel_consumption"}


def _measure(
    by_name: Mapping[str, Any],
    name: str,
    es: str,
    en: str,
    parts: tuple[Words, ...],
    optional: tuple[Words, ...] = (),
    aggregations: tuple[str, ...] | None = None,
) -> Measure:
    """The indicator ``name`` (OWID's), with its column and unit from the indicator list."""
    indicator = by_name[name]
    unit = indicator.unit.short
    # A share or a per-person figure is averaged, never added up; a quantity in TWh is added.
    default = ("avg", "max", "min") if unit in ("%", "kWh per person") else ("sum", "avg", "max", "min")
    return Measure(
        indicator.column,
        indicator.column,
        unit,
        Words((es,), (en,)),
        aggregations=aggregations or default,  # type: ignore[arg-type]
        parts=parts,
        optional_parts=optional,
    )


def _source_measures(by_name: Mapping[str, Any]) -> tuple[Measure, ...]:
    measures = []
    for source, words in SOURCES.items():
        es, en = _SOURCE_NAMES[source]
        measures += [
            _measure(by_name, f"{source}_share_energy", f"cuota {es} de la energía primaria",
                     f"{en} share of primary energy", (SHARE, words), (ENERGY,)),
            _measure(by_name, f"{source}_share_elec", f"cuota {es} de la electricidad",
                     f"{en} share of electricity", (SHARE, words, ELECTRICITY)),
            _measure(by_name, _CONSUMPTION_COLUMN.get(source, f"{source}_consumption"), f"consumo de energía {es}",
                     f"{en} consumption", (words, CONSUMPTION), (ENERGY,)),
            _measure(by_name, f"{source}_electricity", f"generación eléctrica {es}",
                     f"{en} electricity generation", (words, ELECTRICITY, GENERATION)),
        ]  # fmt: skip
    return tuple(measures)


def _measures(by_name: Mapping[str, Any]) -> tuple[Measure, ...]:
    return (
    *_source_measures(by_name),
    _measure(by_name, "primary_energy_consumption", "consumo de energía primaria", "primary energy consumption",
             (ENERGY, CONSUMPTION)),
    _measure(by_name, "energy_per_capita", "energía primaria per cápita", "primary energy per person",
             (ENERGY, PER_PERSON), (CONSUMPTION,)),
    _measure(by_name, "electricity_generation", "generación de electricidad", "electricity generation",
             (ELECTRICITY, GENERATION)),
    _measure(by_name, "electricity_demand", "demanda de electricidad", "electricity demand",
             (ELECTRICITY, Words(("demanda",), ("demand",)))),
    _measure(by_name, "per_capita_electricity", "electricidad per cápita", "electricity per person",
             (ELECTRICITY, PER_PERSON), (GENERATION,)),
    _measure(by_name, "carbon_intensity_elec", "intensidad de carbono de la electricidad",
             "carbon intensity of electricity", (Words(("intensidad de carbono",), ("carbon intensity",)),)),
    _measure(by_name, "greenhouse_gas_emissions", "emisiones de gases de efecto invernadero", "greenhouse gas emissions",
             (Words(("emisiones", "gases de efecto invernadero"), ("emissions", "greenhouse gas")),)),
    _measure(by_name, "population", "población", "population", (Words(("población", "habitantes"), ("population",)),)),
)  # fmt: skip


#: OWID's English names -> Spanish names (and the English ones people use besides OWID's).
_COUNTRIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "World": (("el mundo", "mundo", "mundial", "global"), ("the world", "world", "global", "worldwide")),
    "Europe": (("europa",), ("europe",)),
    "Africa": (("áfrica",), ("africa",)),
    "Asia": (("asia",), ("asia",)),
    "North America": (("norteamérica", "américa del norte"), ("north america",)),
    "South America": (("sudamérica", "américa del sur", "suramérica"), ("south america",)),
    "Oceania": (("oceanía",), ("oceania",)),
    "European Union (27)": (("unión europea", "ue"), ("european union", "eu")),
    "Spain": (("españa",), ("spain",)),
    "Portugal": (("portugal",), ("portugal",)),
    "France": (("francia",), ("france",)),
    "Germany": (("alemania",), ("germany",)),
    "Italy": (("italia",), ("italy",)),
    "United Kingdom": (("reino unido", "gran bretaña"), ("united kingdom", "uk", "britain", "great britain")),
    "Ireland": (("irlanda",), ("ireland",)),
    "Netherlands": (("países bajos", "holanda"), ("netherlands", "holland")),
    "Belgium": (("bélgica",), ("belgium",)),
    "Switzerland": (("suiza",), ("switzerland",)),
    "Austria": (("austria",), ("austria",)),
    "Denmark": (("dinamarca",), ("denmark",)),
    "Norway": (("noruega",), ("norway",)),
    "Sweden": (("suecia",), ("sweden",)),
    "Finland": (("finlandia",), ("finland",)),
    "Iceland": (("islandia",), ("iceland",)),
    "Poland": (("polonia",), ("poland",)),
    "Greece": (("grecia",), ("greece",)),
    "Russia": (("rusia",), ("russia",)),
    "Ukraine": (("ucrania",), ("ukraine",)),
    "Turkey": (("turquía",), ("turkey",)),
    "United States": (("estados unidos", "eeuu", "ee uu", "usa"), ("united states", "usa")),
    "Canada": (("canadá",), ("canada",)),
    "Mexico": (("méxico",), ("mexico",)),
    "Brazil": (("brasil",), ("brazil",)),
    "Argentina": (("argentina",), ("argentina",)),
    "Chile": (("chile",), ("chile",)),
    "Colombia": (("colombia",), ("colombia",)),
    "Peru": (("perú",), ("peru",)),
    "Venezuela": (("venezuela",), ("venezuela",)),
    "China": (("china",), ("china",)),
    "India": (("india",), ("india",)),
    "Japan": (("japón",), ("japan",)),
    "South Korea": (("corea del sur",), ("south korea", "korea")),
    "Indonesia": (("indonesia",), ("indonesia",)),
    "Australia": (("australia",), ("australia",)),
    "New Zealand": (("nueva zelanda",), ("new zealand",)),
    "Saudi Arabia": (("arabia saudí", "arabia saudita"), ("saudi arabia",)),
    "Iran": (("irán",), ("iran",)),
    "Qatar": (("catar", "qatar"), ("qatar",)),
    "United Arab Emirates": (("emiratos árabes unidos",), ("united arab emirates", "uae")),
    "Egypt": (("egipto",), ("egypt",)),
    "Morocco": (("marruecos",), ("morocco",)),
    "South Africa": (("sudáfrica",), ("south africa",)),
    "Nigeria": (("nigeria",), ("nigeria",)),
    "Singapore": (("singapur",), ("singapore",)),
}


def world_energy_semantics(by_name: Mapping[str, Any]) -> Semantics:
    """The declarations of ``world_energy``, its measures' columns and units from ``by_name``
    (OWID's indicator name -> :class:`~datalake.datasets.owid.Indicator`)."""
    return Semantics(
    subject="world_energy",
    # A row is a country (or a region) in a year; "¿cuántos países...?" counts countries.
    entity=Words(("país", "países"), ("country", "countries")),
    entity_names=Words(("país", "países"), ("country", "countries")),
        # Words only OWID's table answers (the electricity tables have neither primary energy nor people).
        subject_words=Words(
            ("energía mundial", "energía primaria", "per cápita", "our world in data", "owid"),
            ("world energy", "primary energy", "per capita", "per person", "our world in data", "owid"),
        ),
    key=("country", "year"),
    label="country",
    order="primary_energy_consumption_twh",
    measures=_measures(by_name),
    dimensions=(
        Dimension(
            "country",
            "country",
            Words(("nación", "naciones", "región", "regiones"), ("nation", "nations", "region", "regions")),
            values={name: Words(es, en) for name, (es, en) in _COUNTRIES.items()},
        ),
    ),
    time=TimeAxis(
        "year",
        words=Words(("cuándo", "en qué año", "qué año"), ("when", "which year", "what year", "in which year")),
        grain="year",
    ),
    entity_when="NOT is_aggregate",
    examples=Words(
        ("¿Qué porcentaje de la energía primaria de España fue renovable en 2019?",
         "Consumo de energía primaria del mundo por año desde 2010"),
        ("Top 5 countries by primary energy consumption in 2019", "Nuclear share of electricity in France in 2019"),
    ),
)  # fmt: skip
