"""The words the parser knows, folded (lower case, no accents), in Spanish and English.

Each concept is a tuple of phrases; a phrase is one or more folded tokens separated by
spaces. The parser matches them on token boundaries, after typo correction against
:data:`VOCABULARY` (every word below plus common function words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MONTHS: dict[str, int] = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    "ene": 1, "feb": 2, "abr": 4, "jun": 6, "jul": 7, "sept": 9, "sep": 9, "oct": 10, "nov": 11,
    "dic": 12, "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12, "jan": 1,
    "mar": 3, "apr": 4, "aug": 8, "dec": 12,
}  # fmt: skip
MONTH_NAMES_ES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
    "octubre", "noviembre", "diciembre",
)  # fmt: skip
MONTH_NAMES_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
WEEKDAYS: dict[str, int] = {
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip
WEEKDAY_NAMES_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
WEEKDAY_NAMES_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NUMBER_WORDS: dict[str, int] = {
    "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "quince": 15,
    "veinte": 20, "treinta": 30, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30,
}  # fmt: skip

# -- measures -------------------------------------------------------------------------------------

FORECAST = (
    "prevision", "previsiones", "prevista", "previsto", "prevision de la demanda", "prediccion",
    "predicha", "predicho", "pronostico", "pronosticada", "pronosticado", "estimacion del operador",
    "demanda esperada", "se espera", "esperada", "esperado", "preve", "prevee", "forecast", "forecasts",
    "forecasted", "predicted", "prediction", "expected", "day ahead", "projected",
)  # fmt: skip
DEMAND = (
    "demanda", "consumo", "consumida", "consumido", "consumieron", "consumio", "carga", "uso",
    "usada", "usado", "consumir", "consumimos", "consumen", "demand", "load", "consumption", "consumed",
    "needed", "need", "necesitara", "necesitaran",
    "consume", "consumes", "consuming", "usage", "used", "use",
)  # fmt: skip
GENERATION = (
    "generacion", "generada", "generado", "generaron", "genero", "generar", "produccion",
    "producida", "producido", "produjo", "produjeron", "producir", "aporto", "aportaron",
    "aportacion", "contribucion", "mix", "generation", "generated", "generate", "production",
    "produced", "produce", "output", "contribution", "contributed", "supplied",
)  # fmt: skip
SHARE = (
    "cuota", "porcentaje", "proporcion", "fraccion", "peso", "penetracion", "%", "por ciento",
    "que parte", "share", "percentage", "percent", "proportion", "fraction", "penetration", "ratio",
    "what part",
)  # fmt: skip
OPERATOR = ("del operador", "de ree", "del tso", "operador", "ree", "tso", "red electrica", "grid operator")


@dataclass(frozen=True)
class Technology:
    """A technology the parser knows: its key, its names in both languages, and its rows.

    ``names`` are the ``technology`` values of every source (REE and ENTSO-E) that mean it;
    ``group`` instead selects a ``technology_group`` (renewable, non-renewable). ``article_es``
    goes before the Spanish label in a sentence ("fue el ciclo combinado").
    """

    key: str
    label_es: str
    label_en: str
    phrases: tuple[str, ...]
    names: tuple[str, ...] = ()
    group: str | None = None
    article_es: str = "la"


TECHNOLOGIES: tuple[Technology, ...] = (
    Technology(
        "solar_pv", "solar fotovoltaica", "solar photovoltaic",
        ("solar fotovoltaica", "fotovoltaica", "fotovoltaico", "fotovoltaicas", "solar pv", "pv",
         "photovoltaic", "solar photovoltaic", "placas solares", "paneles solares", "solar panels"),
        ("Solar fotovoltaica", "Solar"),
    ),
    Technology(
        "solar_thermal", "solar térmica", "solar thermal",
        ("solar termica", "termosolar", "solar thermal", "concentrated solar"),
        ("Solar térmica",),
    ),
    Technology(
        "solar", "solar", "solar", ("solar", "sol", "solares"),
        ("Solar fotovoltaica", "Solar térmica", "Solar"),
    ),
    Technology(
        "wind", "eólica", "wind",
        ("eolica", "eolico", "eolicas", "viento", "aerogeneradores", "wind", "wind power",
         "wind energy", "wind farms"),
        ("Eólica", "Wind Onshore", "Wind Offshore"),
    ),
    Technology("nuclear", "nuclear", "nuclear", ("nuclear", "nucleares", "atomica", "atomic"), ("Nuclear",)),
    Technology(
        "hydro", "hidráulica", "hydro",
        ("hidraulica", "hidraulico", "hidroelectrica", "hidroelectrico", "hidro", "hydro",
         "hydroelectric", "hydropower", "hydraulic", "hydroelectricity"),
        ("Hidráulica", "Hydro Run-of-river and poundage", "Hydro Water Reservoir"),
    ),
    Technology(
        "pumped", "turbinación bombeo", "pumped storage",
        ("turbinacion bombeo", "turbinacion de bombeo", "bombeo", "pumped storage", "pumped hydro"),
        ("Turbinación bombeo", "Hydro Pumped Storage"),
    ),
    Technology(
        "combined_cycle", "ciclo combinado", "combined cycle",
        ("ciclo combinado", "ciclos combinados", "ccgt", "combined cycle", "combined cycles",
         "gas natural", "natural gas", "gas"),
        ("Ciclo combinado", "Fossil Gas"), article_es="el",
    ),
    Technology(
        "coal", "carbón", "coal",
        ("carbon", "lignito", "coal", "hard coal", "lignite"),
        ("Carbón", "Fossil Hard coal", "Fossil Brown coal/Lignite"), article_es="el",
    ),
    Technology(
        "cogeneration", "cogeneración", "cogeneration",
        ("cogeneracion", "cogeneration", "chp"), ("Cogeneración",),
    ),
    Technology(
        "biomass", "biomasa", "biomass", ("biomasa", "biomass", "biogas"), ("Biomasa", "Biomass"),
    ),
    Technology(
        "other_renewable", "otras renovables", "other renewables",
        ("otras renovables", "other renewables", "other renewable"),
        ("Otras renovables", "Other renewable"), article_es="las",
    ),
    Technology(
        "gas_turbine", "turbina de gas", "gas turbine",
        ("turbina de gas", "turbinas de gas", "gas turbine", "gas turbines"), ("Turbina de gas",),
    ),
    Technology(
        "steam_turbine", "turbina de vapor", "steam turbine",
        ("turbina de vapor", "turbinas de vapor", "steam turbine", "steam turbines"), ("Turbina de vapor",),
    ),
    Technology(
        "diesel", "motores diésel", "diesel engines",
        ("motores diesel", "motor diesel", "diesel", "diesel engines"), ("Motores diésel",), article_es="los",
    ),
    Technology("fuel_gas", "fuel + gas", "fuel and gas", ("fuel gas",), ("Fuel + Gas",), article_es="el"),
    Technology(
        "oil", "derivados del petróleo", "oil",
        ("petroleo", "fueloil", "fuel oil", "oil", "oil shale"), ("Fossil Oil", "Fossil Oil shale"),
        article_es="los",
    ),
    Technology(
        "waste", "residuos", "waste",
        ("residuos", "residuos renovables", "residuos no renovables", "waste", "incineracion"),
        ("Residuos renovables", "Residuos no renovables", "Waste"), article_es="los",
    ),
    Technology(
        "geothermal", "geotérmica", "geothermal", ("geotermica", "geotermia", "geothermal"), ("Geothermal",),
    ),
    Technology(
        "marine", "marina", "marine", ("mareomotriz", "energia marina", "marine", "tidal"), ("Marine",),
    ),
    Technology("hydro_wind", "hidroeólica", "hydro-wind", ("hidroeolica", "hydro wind"), ("Hidroeólica",)),
    Technology(
        "other", "otras", "other", (), ("Other", "Fossil Peat", "Fossil Coal-derived gas"), article_es="las",
    ),
    Technology(
        "non_renewable", "no renovable", "non-renewable",
        ("no renovable", "no renovables", "non renewable", "non renewables", "nonrenewable"),
        group="No-Renovable",
    ),
    Technology(
        "renewable", "renovable", "renewable",
        ("renovable", "renovables", "energia limpia", "energias limpias", "energia verde", "renewable",
         "renewables", "clean energy", "green energy"),
        group="Renovable",
    ),
    Technology(
        "fossil", "fósil", "fossil",
        ("fosil", "fosiles", "combustibles fosiles", "fossil", "fossil fuels"),
        ("Carbón", "Ciclo combinado", "Turbina de gas", "Turbina de vapor", "Motores diésel",
         "Fuel + Gas", "Fossil Gas", "Fossil Hard coal", "Fossil Brown coal/Lignite", "Fossil Oil",
         "Fossil Oil shale", "Fossil Peat", "Fossil Coal-derived gas"),
    ),
)  # fmt: skip
TOTAL_GENERATION = ("generacion total", "total generation", "toda la generacion", "all generation")
_BY_KEY = {tech.key: tech for tech in TECHNOLOGIES}
#: What a ranking of technologies ranks: the technologies no other one of this list contains, so a
#: row of any source counts once (ENTSO-E's two hydro types are one "hydro", as REE reports it).
RANKED_TECHNOLOGIES: tuple[Technology, ...] = tuple(
    _BY_KEY[key]
    for key in (
        "wind", "solar_pv", "solar_thermal", "hydro", "pumped", "nuclear", "combined_cycle", "coal",
        "cogeneration", "biomass", "other_renewable", "gas_turbine", "steam_turbine", "diesel", "fuel_gas",
        "oil", "waste", "geothermal", "marine", "hydro_wind", "other",
    )
)  # fmt: skip


def ranked_members(tech: Technology) -> tuple[Technology, ...]:
    """The ranked technologies ``tech`` covers: several for a family ("renovable", "fósil", "solar").

    A group (renewable, non-renewable) is decided per row by ``technology_group``, not by name, so
    every ranked technology may belong to it.
    """
    if tech.group is not None:
        return RANKED_TECHNOLOGIES
    return tuple(t for t in RANKED_TECHNOLOGIES if set(t.names) & set(tech.names))


def is_family(tech: Technology) -> bool:
    """Whether ``tech`` holds several ranked technologies (so "¿qué renovable...?" ranks them)."""
    return len(ranked_members(tech)) > 1


# -- aggregates -----------------------------------------------------------------------------------

MAXIMUM = (
    "maximo", "maxima", "max", "pico", "punta", "mayor", "mas alta", "mas alto", "record", "maximum",
    "peak", "highest", "largest", "biggest", "greatest", "most", "record high", "peaked", "busiest",
    "ajetreado", "ajetreada",
)  # fmt: skip
MINIMUM = (
    "minimo", "minima", "min", "valle", "menor", "mas baja", "mas bajo", "menos", "minimum", "lowest",
    "least", "smallest", "fewest", "trough", "bottom", "quietest", "calmest", "tranquilo", "tranquila",
)  # fmt: skip
# "más"/"more" mean the maximum only next to a measure: "el día con más demanda".
MORE = ("mas", "more")
AVERAGE = (
    "media", "medio", "promedio", "promedia", "promediada", "average", "mean", "avg", "averaged",
    "on average", "en promedio", "de media", "typical",
)  # fmt: skip
TOTAL = (
    "total", "totales", "suma", "sumada", "acumulada", "acumulado", "en total", "cuanta energia",
    "energia total", "how much energy", "total energy", "sum", "overall", "cumulative", "in total",
)  # fmt: skip
COMPARE = (
    "compara", "comparar", "comparacion", "comparativa", "comparado", "comparada", "compare",
    "compared", "comparison", "versus", "vs", "frente a", "frente al", "respecto a", "respecto al",
    "con respecto", "en comparacion", "contra", "against", "relative to", "diferencia", "diferencias",
    "difference", "differences", "compared to", "compared with", "cambio", "cambiado", "cambiar", "cambio la",
    "variacion", "vario", "change", "changed", "variation", "varied", "increase", "increased", "decrease",
    "decreased", "crecio", "aumento", "disminuyo", "grew",
)  # fmt: skip
TREND = (
    "tendencia", "evolucion", "evoluciono", "evolucionado", "serie", "serie temporal", "trend",
    "trends", "evolution", "evolved", "over time", "time series", "dia a dia", "day by day",
    "mes a mes", "month by month", "semana a semana", "week by week", "grafica", "grafico",
    "chart", "plot",
)  # fmt: skip
# The error of the operator's demand forecast over a period, against the actual demand, hour by
# hour: in percent (MAPE) or in MW (MAE). Checked in this order: "error medio porcentual" is a MAPE.
FORECAST_ERROR_PERCENT = (
    "mape", "error porcentual medio", "error medio porcentual", "error porcentual", "errores porcentuales",
    "mean absolute percentage error", "percentage error", "percent error", "how accurate", "accuracy",
    "precision", "exactitud", "acierto",
)  # fmt: skip
FORECAST_ERROR_ABSOLUTE = (
    "mae", "error absoluto medio", "error medio absoluto", "error absoluto", "mean absolute error",
    "absolute error", "error medio", "mean error", "forecast error", "forecast errors", "error",
    "errores",
)  # fmt: skip
# A comparison asked as a percentage change ("¿en qué porcentaje cambió...?", "percentage change"):
# the answer is one value, from the earlier period to the later. "Porcentaje" alone is a share.
PERCENT_CHANGE = (
    "en que porcentaje", "variacion porcentual", "cambio porcentual",
    "porcentaje de cambio", "porcentaje de variacion", "en porcentaje", "en tanto por ciento",
    "percentage change", "percent change", "change in percent", "in percent", "in percentage",
    "by what percentage", "by how many percent",
)  # fmt: skip
# Asking for the moment of an extreme ("con día y hora", "with the date and time"): every extreme's
# answer gives it, so these words ask for no bucket ("día" here is not "the day with the most").
WHEN_OF_EXTREME = (
    "con dia y hora", "con el dia y la hora", "con fecha y hora", "dia y hora", "fecha y hora",
    "with day and hour", "with the day and hour", "day and hour", "with date and time",
    "with the date and time", "date and time",
)  # fmt: skip
# Bucketing phrases: "por día", "each week", "per month"; the unit follows.
PER = ("por", "cada", "per", "each", "by", "a la")
GRANULARITY: dict[str, str] = {
    "hora": "hour", "horas": "hour", "horaria": "hour", "horario": "hour", "horarios": "hour",
    "hourly": "hour", "hour": "hour", "hours": "hour", "dia": "day", "dias": "day", "diaria": "day",
    "diario": "day", "diarios": "day", "diarias": "day", "jornada": "day", "daily": "day",
    "day": "day", "days": "day", "semana": "week", "semanas": "week", "semanal": "week",
    "semanales": "week", "weekly": "week", "week": "week", "weeks": "week", "mes": "month",
    "meses": "month", "mensual": "month", "mensuales": "month", "monthly": "month", "month": "month",
    "months": "month", "ano": "year", "anos": "year", "anual": "year", "yearly": "year",
    "annual": "year", "year": "year", "years": "year",
}  # fmt: skip
TOP = ("top",)

# -- regions and scope ----------------------------------------------------------------------------

PENINSULAR = ("peninsular", "peninsula", "mainland", "sistema peninsular", "iberian peninsula")
NATIONAL = ("nacional", "national", "espana", "spain", "todo el pais", "whole country", "spanish")
OTHER_REGIONS = (
    "canarias", "canary", "baleares", "balearic", "balears", "ceuta", "melilla", "andalucia",
    "cataluna", "catalunya", "catalonia", "galicia", "valencia", "pais vasco", "euskadi", "aragon",
    "castilla", "extremadura", "asturias", "murcia", "navarra", "cantabria", "rioja", "portugal",
    "francia", "france", "alemania", "germany", "italia", "italy", "marruecos", "morocco",
    "europa", "europe", "provincia", "province", "comunidad autonoma", "madrid", "barcelona",
    "sevilla", "bilbao",
)  # fmt: skip
PRICES = (
    "precio", "precios", "price", "prices", "pricing", "€", "$", "euro", "euros", "eur", "coste",
    "costes", "costo", "cost", "costs", "tarifa", "tarifas", "tariff", "pvpc", "omie", "spot",
    "factura", "bill", "mercado electrico", "electricity market", "cuesta", "cuestan",
)  # fmt: skip
EXCHANGES = (
    "exportacion", "exportaciones", "exporta", "exporto", "exportar", "exportada", "exportado",
    "exportamos", "importacion", "importaciones", "importo", "importar", "importada", "importado",
    "importamos", "intercambio", "intercambios", "interconexion", "interconexiones", "export",
    "exports", "exported", "exporting", "import", "imports", "imported", "importing",
    "interconnection", "interconnections", "cross border", "descarga", "descargar", "download",
    "csv", "excel",
)  # fmt: skip
OTHER_TOPICS = (
    "emision", "emisiones", "emissions", "emission", "co 2", "carbono", "huella", "footprint", "temperatura",
    "temperature", "clima", "weather", "lluvia", "rain", "potencia instalada", "installed capacity",
    "capacidad instalada", "capacity", "factor de capacidad", "capacity factor", "tiempo atmosferico",
)  # fmt: skip
# Parts of periods the time expressions do not read: a question using them is refused.
# Halves, fortnights and weeks of a month are read (datalake.ask.period_parts); one left unread
# (no year or month after it to cut) is refused by UNREAD_PERIOD_PARTS.
PARTIAL_PERIOD = (
    "principios", "finales", "mediados",
    "comienzos", "inicios", "beginning of", "end of", "middle of", "early", "late", "mid", "overnight",
    "navidades", "semana santa", "pascua", "easter", "puente", "festivo", "festivos", "holiday",
    "holidays",
)  # fmt: skip
# Kinds of day (local): the hours of weekends or of weekdays only ("la media de los fines de
# semana"), both side by side ("entre semana y en fin de semana", "weekday vs weekend"), or one
# value per weekday ("por día de la semana", "which weekday is busiest").
WEEKENDS = ("fines de semana", "fin de semana", "findes", "finde", "weekends", "weekend")
WORKDAYS = (
    "entre semana", "dias laborables", "dias laborales", "laborables", "laborable", "de lunes a viernes",
    "working days", "workdays", "weekdays", "monday to friday",
)  # fmt: skip
BY_WEEKDAY = (
    "por dia de la semana", "por dias de la semana", "cada dia de la semana", "dia de la semana",
    "dias de la semana", "by day of week", "by day of the week", "per day of the week",
    "each day of the week", "day of the week", "day of week", "by weekday", "per weekday", "weekday",
)  # fmt: skip
#: Local weekday names (Monday first), as answers write them.
WEEKDAY_NAMES_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
WEEKDAY_NAMES_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A part of a period the time expressions did not attach to a year or a month ("la última
# quincena", "the first half"): answering without it would answer another question.
UNREAD_PERIOD_PARTS = ("semestre", "quincena", "fortnight", "first half", "second half", "primera mitad",
    "segunda mitad", "primera semana de", "segunda semana de", "tercera semana de", "cuarta semana de",
    "ultima semana de", "first week of", "second week of", "third week of", "fourth week of", "last week of",
)  # fmt: skip
# Parts of the day, seasons and fixed-date holidays the time expressions read ("esta mañana", "el
# verano pasado", "en Navidad"); one left over in the question was not read, so it is refused.
READ_PERIOD_WORDS = (
    "manana", "tarde", "noche", "madrugada", "anoche", "morning", "afternoon", "evening", "night",
    "tonight", "invierno", "verano", "primavera", "otono", "winter", "summer", "spring", "autumn", "fall",
    "navidad", "nochevieja", "nochebuena", "reyes", "christmas", "epiphany", "new years", "new year s",
    "ano nuevo",
)  # fmt: skip
# "Which technology...", "by source": a ranking of technologies.
WHICH_TECHNOLOGY = (
    "tecnologia", "tecnologias", "technology", "technologies", "fuente", "fuentes", "source", "sources",
    "fuente de energia", "fuentes de energia", "energy source", "energy sources", "tipo de generacion",
    "tipos de generacion", "type of generation", "types of generation", "generation type", "generation types",
    "tipo de energia", "tipos de energia", "clase de energia", "kind of energy", "kinds of energy",
    "type of energy", "types of energy", "sort of energy", "energy type", "energy types",
)  # fmt: skip
# Words asking for every technology at once: a breakdown, largest first.
BREAKDOWN = (
    "ranking", "rankings", "clasificacion", "desglose", "desglosada", "desglosado", "reparto", "breakdown",
    "broken down", "split", "mix", "mix de generacion", "mix energetico", "mix electrico", "generation mix",
    "energy mix", "electricity mix", "power mix", "cada tecnologia", "cada fuente", "each technology",
    "each source", "every technology", "every source", "todas las tecnologias", "all technologies",
    "all sources", "todas las fuentes", "por tecnologia", "por tecnologias", "por fuente", "por fuentes",
    "por tipo", "por tipos", "by technology", "by technologies", "by source", "by sources", "by type",
    "per technology", "per source", "by fuel",
)  # fmt: skip
# "La principal fuente", "which technology led": the first of a ranking.
LEADING = (
    "principal", "principales", "predominante", "predominantes", "dominante", "dominantes", "mayoritaria",
    "mayoritario", "lidero", "liderado", "lidera", "lider", "lideres", "encabezo", "main", "predominant",
    "dominant", "leading", "led", "leader", "leaders", "lead", "top", "domino", "domina", "dominaron",
    "dominaba", "predomino", "predomina", "destaco", "dominated", "dominates", "dominating",
)  # fmt: skip
# "La segunda tecnología que más generó", "the third largest source": the top k down to it.
ORDINALS = {
    "primera": 1, "primer": 1, "primero": 1, "first": 1, "segunda": 2, "segundo": 2, "second": 2,
    "tercera": 3, "tercer": 3, "tercero": 3, "third": 3, "cuarta": 4, "cuarto": 4, "fourth": 4,
    "quinta": 5, "quinto": 5, "fifth": 5,
}  # fmt: skip
# "¿Quién generó más?": the subject is a technology.
WHO = ("quien", "quienes", "who")
# "De menor a mayor" or "de mayor a menor" orders a ranking; "mayor" and "menor" there ask for neither.
ASCENDING = (
    "de menor a mayor", "de menos a mas", "ascendente", "orden ascendente", "ascending", "smallest first",
    "lowest first", "least first", "from lowest to highest", "from smallest to largest", "from least to most",
)  # fmt: skip
DESCENDING = (
    "de mayor a menor", "de mas a menos", "descendente", "orden descendente", "descending", "largest first",
    "highest first", "biggest first", "from highest to lowest", "from largest to smallest",
    "from most to least",
)  # fmt: skip
# Power plants: the data has technologies, not plants.
PLANTS = ("central", "centrales", "planta", "plantas", "plant", "plants", "power plant", "power plants")
# Questions about measures the data has but answers it does not compute.
UNSUPPORTED = (
    "error", "errores", "desviacion", "desvio", "deviation", "accuracy", "precision", "exactitud", "acierto",
    "mape", "mae", "rmse", "bias", "sesgo", "correlacion", "correlation", "regresion", "regression",
)  # fmt: skip
UNSAFE = (
    "borra", "borrar", "borre", "borrad", "elimina", "eliminar", "elimine", "delete",
    "truncate", "trunca", "inserta", "insertar", "insert", "modifica", "modificar", "modify", "alter",
    "altera", "crear", "grant", "revoke", "vacia", "vaciar", "destruye", "destroy", "sobrescribe",
    "overwrite", "shutdown", "apaga", "ejecuta", "execute", "exec", "select", "union", "sleep",
    "contrasena", "password", "credenciales", "credentials",
)  # fmt: skip
#: Verbs that are ordinary words in a question ("how much did demand drop", "la energía que crea
#: la eólica") and commands only when a data object follows them ("drop table", "crea una tabla").
UNSAFE_WITH_OBJECT = ("drop", "create", "crea", "update", "actualiza", "actualizar", "remove", "quita")
UNSAFE_OBJECTS = (
    "table", "tables", "tabla", "tablas", "database", "databases", "base", "bases", "schema", "esquema",
    "data", "datos", "rows", "filas", "records", "registros", "index", "indice", "view", "vista", "user",
    "usuario", "role", "rol", "everything", "todo", "all", "demand", "demanda", "generation",
    "generacion", "predictions", "forecast", "requests",
)  # fmt: skip

# Words that carry no meaning for the parser but must not be "corrected" into keywords.
FUNCTION_WORDS = (  # noqa: SIM905
    # Spanish
    "el la los las lo un una unos unas de del al a en y o u e que cual cuales cuanto cuanta "
    "cuantos cuantas como cuando donde fue fueron era eran es son ha han hubo hay habia ser estar "
    "esta este esto estos estas ese esa eso aquel para por con sin sobre entre desde hasta segun "
    "se su sus mi me te le les nos dame dime muestra muestrame ensename quiero saber necesito "
    "puedes podrias registro registrada registrado registro alcanzo alcanzada alcanzado tuvo tuvieron "
    "cuanto ahora ultimo ultima ultimos ultimas pasado pasada anterior mismo misma siguiente "
    "proximo proxima hace antes despues durante todo toda todos todas dato datos valor valores "
    "energia electrica electricidad sistema nivel cifra fecha momento hoy ayer anteayer manana "
    "tarde noche madrugada mediodia medianoche semana mes ano trimestre semestre fin principio "
    "inicio mitad primer primero primera segundo segunda tercer tercero cuarto cual horas dias "
    "peninsula espanol espanola electrico gw mw mwh gwh twh kw kwh real reales actual registrada "
    "sido tanto muy mucho poco alta alto baja bajo nivel hora actualmente subio bajo crecio cayo "
    "cambio cambiado aumento disminuyo vez veces cual quien creo crees cree tabla table "
    # English
    "the a an of in on at to for and or what which when where how much many was were is are be "
    "been has have had did do does there their its it this that these those with without from "
    "between during since until through about tell me show give please want know need can could "
    "would yesterday today tomorrow ago last past previous next same current so far week month "
    "year quarter half start end beginning middle first second third fourth value values data "
    "figure number level energy electricity electric power system grid hour hours day days "
    "actual real recorded registered reached happened happen occur occurred noon midnight morning "
    "afternoon evening night whole all every any our spain up down change changed increase "
    "decrease rose fell higher lower than as by per o clock am pm"
).split()

_CONCEPTS = (
    FORECAST, DEMAND, GENERATION, SHARE, OPERATOR, TOTAL_GENERATION, MAXIMUM, MINIMUM, MORE,
    AVERAGE, TOTAL, COMPARE, TREND, PER, TOP, PENINSULAR, NATIONAL, OTHER_REGIONS, PRICES,
    EXCHANGES, OTHER_TOPICS, UNSAFE, UNSAFE_WITH_OBJECT, UNSAFE_OBJECTS, UNSUPPORTED, PARTIAL_PERIOD,
    READ_PERIOD_WORDS, UNREAD_PERIOD_PARTS, WHEN_OF_EXTREME, PERCENT_CHANGE, FORECAST_ERROR_PERCENT,
    WEEKENDS, WORKDAYS, BY_WEEKDAY,
    FORECAST_ERROR_ABSOLUTE, WHICH_TECHNOLOGY,
    BREAKDOWN, ASCENDING, DESCENDING, PLANTS, LEADING, WHO, tuple(ORDINALS),
)  # fmt: skip


def _words(phrases: tuple[str, ...]) -> set[str]:
    return {word for phrase in phrases for word in phrase.split()}


#: Words a typo may be corrected into: never the destructive verbs, so a misspelt word cannot turn a
#: harmless question into a refused one by accident (their exact spelling is still refused).
CORRECTION_TARGETS: frozenset[str]
VOCABULARY: frozenset[str] = frozenset(
    set(MONTHS)
    | set(WEEKDAYS)
    | set(NUMBER_WORDS)
    | set(GRANULARITY)
    | set(FUNCTION_WORDS)
    | {w for concept in _CONCEPTS for w in _words(concept)}
    | {w for tech in TECHNOLOGIES for w in _words(tech.phrases)}
)


def phrase_pattern(phrases: tuple[str, ...] | list[str]) -> re.Pattern[str]:
    """A regex matching any of ``phrases`` on token boundaries of a space-joined token string."""
    ordered = sorted(set(phrases), key=len, reverse=True)  # longest first: "no renovable" before "renovable"
    body = "|".join(re.escape(p) for p in ordered)
    return re.compile(rf"(?<![^ ])(?:{body})(?![^ ])")


CORRECTION_TARGETS = VOCABULARY - _words(UNSAFE) - _words(UNSAFE_WITH_OBJECT)
