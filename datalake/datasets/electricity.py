"""What electricity questions are about, in each language: the measures' and topics' words, and
the generation technologies with their names in the data.

Data only (folded phrases: lower case, no accents); :mod:`datalake.ask.lexicon` composes the
languages for the time-series parser of ``demand_hourly`` and ``generation``.
"""

from __future__ import annotations

from dataclasses import dataclass

from datalake.datasets.semantics import Words

#: Concept -> its phrases per language. ``forecast``, ``demand``, ``generation`` and ``share`` are
#: the measures; ``operator`` names the forecast's author; the regions, prices, exchanges and other
#: topics are what the lake does not hold (a question about them is refused as out of scope).
ELECTRICITY_WORDS: dict[str, Words] = {
    "forecast": Words(
        es=(
            "prevision", "previsiones", "prevista", "previsto", "prevision de la demanda", "prediccion",
            "predicha", "predicho", "pronostico", "pronosticada", "pronosticado", "estimacion del operador",
            "demanda esperada", "se espera", "esperada", "esperado", "preve", "prevee",
        ),
        en=(
            "forecast", "forecasts", "forecasted", "predicted", "prediction", "expected", "day ahead",
            "projected",
        ),
    ),
    "demand": Words(
        es=(
            "demanda", "consumo", "consumida", "consumido", "consumieron", "consumio", "carga", "uso",
            "usada", "usado", "consumir", "consumimos", "consumen", "necesitara", "necesitaran",
        ),
        en=(
            "demand", "load", "consumption", "consumed", "needed", "need", "consume", "consumes",
            "consuming", "usage", "used", "use",
        ),
    ),
    "generation": Words(
        es=(
            "generacion", "generada", "generado", "generaron", "genero", "generar", "produccion",
            "producida", "producido", "produjo", "produjeron", "producir", "aporto", "aportaron",
            "aportacion", "contribucion", "mix",
        ),
        en=(
            "mix", "generation", "generated", "generate", "production", "produced", "produce", "output",
            "contribution", "contributed", "supplied",
        ),
    ),
    "share": Words(
        es=(
            "cuota", "porcentaje", "proporcion", "fraccion", "peso", "penetracion", "%", "por ciento",
            "que parte",
        ),
        en=(
            "%", "share", "percentage", "percent", "proportion", "fraction", "penetration", "ratio",
            "what part",
        ),
    ),
    "operator": Words(
        es=(
            "del operador", "de ree", "del tso", "operador", "ree", "tso", "red electrica",
        ),
        en=(
            "ree", "tso", "grid operator",
        ),
    ),
    "total_generation": Words(
        es=(
            "generacion total", "toda la generacion",
        ),
        en=(
            "total generation", "all generation",
        ),
    ),
    "peninsular": Words(
        es=(
            "peninsular", "peninsula", "sistema peninsular",
        ),
        en=(
            "peninsular", "peninsula", "mainland", "iberian peninsula",
        ),
    ),
    "national": Words(
        es=(
            "nacional", "espana", "todo el pais",
        ),
        en=(
            "national", "spain", "whole country", "spanish",
        ),
    ),
    "other_regions": Words(
        es=(
            "canarias", "baleares", "balears", "ceuta", "melilla", "andalucia", "cataluna", "catalunya",
            "galicia", "valencia", "pais vasco", "euskadi", "aragon", "castilla", "extremadura", "asturias",
            "murcia", "navarra", "cantabria", "rioja", "portugal", "francia", "alemania", "italia",
            "marruecos", "europa", "provincia", "comunidad autonoma", "madrid", "barcelona", "sevilla",
            "bilbao",
        ),
        en=(
            "canary", "balearic", "ceuta", "melilla", "catalonia", "galicia", "valencia", "extremadura",
            "asturias", "murcia", "navarra", "cantabria", "rioja", "portugal", "france", "germany", "italy",
            "morocco", "europe", "province", "madrid", "barcelona", "bilbao",
        ),
    ),
    "prices": Words(
        es=(
            "precio", "precios", "€", "$", "euros", "eur", "coste", "costes", "costo", "tarifa", "tarifas",
            "pvpc", "factura", "mercado electrico", "cuesta", "cuestan",
        ),
        en=(
            "price", "prices", "pricing", "€", "$", "euro", "eur", "cost", "costs", "tariff", "omie",
            "spot",
            "bill", "electricity market",
        ),
    ),
    "exchanges": Words(
        es=(
            "exportacion", "exportaciones", "exporta", "exporto", "exportar", "exportada", "exportado",
            "exportamos", "importacion", "importaciones", "importo", "importar", "importada", "importado",
            "importamos", "intercambio", "intercambios", "interconexion", "interconexiones", "descarga",
            "descargar", "csv", "excel",
        ),
        en=(
            "export", "exports", "exported", "exporting", "import", "imports", "imported", "importing",
            "interconnection", "interconnections", "cross border", "download", "csv", "excel",
        ),
    ),
    "other_topics": Words(
        es=(
            "emision", "emisiones", "co 2", "carbono", "huella", "temperatura", "clima", "lluvia",
            "potencia instalada", "capacidad instalada", "factor de capacidad", "tiempo atmosferico",
        ),
        en=(
            "emissions", "emission", "co 2", "footprint", "temperature", "weather", "rain",
            "installed capacity", "capacity", "capacity factor",
        ),
    ),
    "which_technology": Words(
        es=(
            "tecnologia", "tecnologias", "fuente", "fuentes", "fuente de energia", "fuentes de energia",
            "tipo de generacion", "tipos de generacion", "tipo de energia", "tipos de energia",
            "clase de energia",
        ),
        en=(
            "technology", "technologies", "source", "sources", "energy source", "energy sources",
            "type of generation", "types of generation", "generation type", "generation types",
            "kind of energy", "kinds of energy", "type of energy", "types of energy", "sort of energy",
            "energy type", "energy types",
        ),
    ),
    "plants": Words(
        es=(
            "central", "centrales", "planta", "plantas",
        ),
        en=(
            "plant", "plants", "power plant", "power plants",
        ),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Technology:
    """A generation technology: its key, its names in both languages, its words and its rows.

    ``names`` are the ``technology`` values of every source (REE and ENTSO-E) that mean it;
    ``group`` instead selects a ``technology_group`` (renewable, non-renewable). ``article_es``
    goes before the Spanish label in a sentence ("fue el ciclo combinado").
    """

    key: str
    label_es: str
    label_en: str
    words: Words
    names: tuple[str, ...] = ()
    group: str | None = None
    article_es: str = "la"

    @property
    def phrases(self) -> tuple[str, ...]:
        """Its phrases in every language (Spanish first, each once)."""
        return tuple(dict.fromkeys(self.words.es + self.words.en))


TECHNOLOGIES: tuple[Technology, ...] = (
    Technology(
        "solar_pv",
        "solar fotovoltaica",
        "solar photovoltaic",
        Words(
            es=(
                "solar fotovoltaica",
                "fotovoltaica",
                "fotovoltaico",
                "fotovoltaicas",
                "placas solares",
                "paneles solares",
            ),
            en=("solar pv", "pv", "photovoltaic", "solar photovoltaic", "solar panels"),
        ),
        names=("Solar fotovoltaica", "Solar"),
    ),
    Technology(
        "solar_thermal",
        "solar térmica",
        "solar thermal",
        Words(es=("solar termica", "termosolar"), en=("solar thermal", "concentrated solar")),
        names=("Solar térmica",),
    ),
    Technology(
        "solar",
        "solar",
        "solar",
        Words(es=("solar", "sol", "solares"), en=("solar",)),
        names=("Solar fotovoltaica", "Solar térmica", "Solar"),
    ),
    Technology(
        "wind",
        "eólica",
        "wind",
        Words(
            es=("eolica", "eolico", "eolicas", "viento", "aerogeneradores"),
            en=("wind", "wind power", "wind energy", "wind farms"),
        ),
        names=("Eólica", "Wind Onshore", "Wind Offshore"),
    ),
    Technology(
        "nuclear",
        "nuclear",
        "nuclear",
        Words(es=("nuclear", "nucleares", "atomica"), en=("nuclear", "atomic")),
        names=("Nuclear",),
    ),
    Technology(
        "hydro",
        "hidráulica",
        "hydro",
        Words(
            es=("hidraulica", "hidraulico", "hidroelectrica", "hidroelectrico", "hidro"),
            en=("hydro", "hydroelectric", "hydropower", "hydraulic", "hydroelectricity"),
        ),
        names=("Hidráulica", "Hydro Run-of-river and poundage", "Hydro Water Reservoir"),
    ),
    Technology(
        "pumped",
        "turbinación bombeo",
        "pumped storage",
        Words(
            es=("turbinacion bombeo", "turbinacion de bombeo", "bombeo"),
            en=("pumped storage", "pumped hydro"),
        ),
        names=("Turbinación bombeo", "Hydro Pumped Storage"),
    ),
    Technology(
        "combined_cycle",
        "ciclo combinado",
        "combined cycle",
        Words(
            es=("ciclo combinado", "ciclos combinados", "gas natural", "gas"),
            en=("ccgt", "combined cycle", "combined cycles", "natural gas", "gas"),
        ),
        names=("Ciclo combinado", "Fossil Gas"),
        article_es="el",
    ),
    Technology(
        "coal",
        "carbón",
        "coal",
        Words(es=("carbon", "lignito"), en=("coal", "hard coal", "lignite")),
        names=("Carbón", "Fossil Hard coal", "Fossil Brown coal/Lignite"),
        article_es="el",
    ),
    Technology(
        "cogeneration",
        "cogeneración",
        "cogeneration",
        Words(es=("cogeneracion",), en=("cogeneration", "chp")),
        names=("Cogeneración",),
    ),
    Technology(
        "biomass",
        "biomasa",
        "biomass",
        Words(es=("biomasa", "biogas"), en=("biomass", "biogas")),
        names=("Biomasa", "Biomass"),
    ),
    Technology(
        "other_renewable",
        "otras renovables",
        "other renewables",
        Words(es=("otras renovables",), en=("other renewables", "other renewable")),
        names=("Otras renovables", "Other renewable"),
        article_es="las",
    ),
    Technology(
        "gas_turbine",
        "turbina de gas",
        "gas turbine",
        Words(es=("turbina de gas", "turbinas de gas"), en=("gas turbine", "gas turbines")),
        names=("Turbina de gas",),
    ),
    Technology(
        "steam_turbine",
        "turbina de vapor",
        "steam turbine",
        Words(es=("turbina de vapor", "turbinas de vapor"), en=("steam turbine", "steam turbines")),
        names=("Turbina de vapor",),
    ),
    Technology(
        "diesel",
        "motores diésel",
        "diesel engines",
        Words(es=("motores diesel", "motor diesel", "diesel"), en=("diesel", "diesel engines")),
        names=("Motores diésel",),
        article_es="los",
    ),
    Technology(
        "fuel_gas",
        "fuel + gas",
        "fuel and gas",
        Words(es=(), en=("fuel gas",)),
        names=("Fuel + Gas",),
        article_es="el",
    ),
    Technology(
        "oil",
        "derivados del petróleo",
        "oil",
        Words(es=("petroleo", "fueloil"), en=("fuel oil", "oil", "oil shale")),
        names=("Fossil Oil", "Fossil Oil shale"),
        article_es="los",
    ),
    Technology(
        "waste",
        "residuos",
        "waste",
        Words(
            es=("residuos", "residuos renovables", "residuos no renovables", "incineracion"), en=("waste",)
        ),
        names=("Residuos renovables", "Residuos no renovables", "Waste"),
        article_es="los",
    ),
    Technology(
        "geothermal",
        "geotérmica",
        "geothermal",
        Words(es=("geotermica", "geotermia"), en=("geothermal",)),
        names=("Geothermal",),
    ),
    Technology(
        "marine",
        "marina",
        "marine",
        Words(es=("mareomotriz", "energia marina"), en=("marine", "tidal")),
        names=("Marine",),
    ),
    Technology(
        "hydro_wind",
        "hidroeólica",
        "hydro-wind",
        Words(es=("hidroeolica",), en=("hydro wind",)),
        names=("Hidroeólica",),
    ),
    Technology(
        "other",
        "otras",
        "other",
        Words(es=(), en=()),
        names=("Other", "Fossil Peat", "Fossil Coal-derived gas"),
        article_es="las",
    ),
    Technology(
        "non_renewable",
        "no renovable",
        "non-renewable",
        Words(es=("no renovable", "no renovables"), en=("non renewable", "non renewables", "nonrenewable")),
        group="No-Renovable",
    ),
    Technology(
        "renewable",
        "renovable",
        "renewable",
        Words(
            es=("renovable", "renovables", "energia limpia", "energias limpias", "energia verde"),
            en=("renewable", "renewables", "clean energy", "green energy"),
        ),
        group="Renovable",
    ),
    Technology(
        "fossil",
        "fósil",
        "fossil",
        Words(es=("fosil", "fosiles", "combustibles fosiles"), en=("fossil", "fossil fuels")),
        names=(
            "Carbón",
            "Ciclo combinado",
            "Turbina de gas",
            "Turbina de vapor",
            "Motores diésel",
            "Fuel + Gas",
            "Fossil Gas",
            "Fossil Hard coal",
            "Fossil Brown coal/Lignite",
            "Fossil Oil",
            "Fossil Oil shale",
            "Fossil Peat",
            "Fossil Coal-derived gas",
        ),
    ),
)
