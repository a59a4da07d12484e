"""Spanish grammar words (data only): the declared question kinds' (``WORDS``, ``COMMON``) and
the time-series parser's (``PARSER`` and the words of dates, numbers and buckets)."""

WORDS: dict[str, tuple[str, ...]] = {
    # A ranking of rows or groups: "top 5", "las 10 más", "ranking".
    "top": ("top", "ranking", "clasificación", "lista de las", "las mejores", "los mejores"),
    # Largest first / smallest first.
    "most": (
        "mayor",
        "mayores",
        "más",
        "máximo",
        "máxima",
        "mejor",
        "mejores",
        "alto",
        "alta",
        "altos",
        "altas",
        "grande",
        "grandes",
        "primeras",
        "primeros",
        "líderes",
        "lideran",
    ),
    "least": (
        "menor",
        "menores",
        "menos",
        "mínimo",
        "mínima",
        "peor",
        "peores",
        "bajo",
        "baja",
        "bajos",
        "bajas",
        "pequeño",
        "pequeños",
        "últimas",
        "últimos",
    ),
    "count": (
        "cuántas",
        "cuántos",
        "número de",
        "numero de",
        "conteo",
        "contar",
        "cuenta",
    ),
    "average": ("promedio", "media", "medio", "media de", "en promedio", "de media"),
    "sum": ("total", "suma", "en total", "sumado", "acumulado"),
    "max": ("máximo", "máxima", "el mayor", "la mayor", "récord"),
    "min": ("mínimo", "mínima", "el menor", "la menor"),
    # "por género", "de cada ciudad", "según el tipo".
    "by": (
        "por",
        "para cada",
        "de cada",
        "cada",
        "según",
        "agrupado por",
        "agrupadas por",
        "desglose por",
        "desglosado por",
        "por cada",
    ),
    "distribution": (
        "distribución",
        "reparto",
        "desglose",
        "histograma",
        "cómo se reparten",
        "cómo se distribuyen",
    ),
    # "¿Qué géneros hay?", "lista de ciudades", "géneros disponibles".
    "list": (
        "disponibles",
        "disponible",
        "existen",
        "hay",
        "lista",
        "listado",
        "enumera",
        "cuáles son",
        "qué",
        "cuales",
        "tipos de",
    ),
    "greater": (
        "mayor a",
        "mayor que",
        "mayor de",
        "más de",
        "más del",
        "superior a",
        "superiores a",
        "por encima de",
        "arriba de",
        "que supera",
        "que superan",
        "supera",
        "superan",
        "superaron",
        "superó",
        "sobrepasaron",
        "excedieron",
        "sobre",
        "mínimo de",
        "al menos",
    ),
    "less": (
        "menor a",
        "menor que",
        "menor de",
        "menos de",
        "menos del",
        "inferior a",
        "inferiores a",
        "por debajo de",
        "debajo de",
        "no más de",
        "como mucho",
        "máximo de",
    ),
    "versus": ("versus", "vs", "frente a", "contra", "comparado con", "compara", "comparar", "comparación"),
    "year": (
        "por año",
        "por años",
        "cada año",
        "anual",
        "anuales",
        "al año",
        "de cada año",
        "por ano",
        "año a año",
    ),
    "month": (
        "por mes",
        "por meses",
        "cada mes",
        "mensual",
        "mensuales",
        "al mes",
        "de cada mes",
        "mes a mes",
    ),
    # "dos horas y media": half of the unit more.
    "half": ("y media", "y medio"),
    "million": ("m", "mm", "millón", "millones", "mill"),
    "thousand": ("mil", "k", "miles"),
    "billion": ("mil millones", "b", "bn", "millardos"),
    "one": ("la película", "el cliente", "el proveedor", "cuál es la", "cuál fue la", "qué película"),
}

#: Everyday words the typo corrector leaves alone.
COMMON: tuple[str, ...] = (
    "dentro",
    "fuera",
    "cerca",
    "antes",
    "después",
    "durante",
    "mientras",
    "aproximadamente",
    "tenemos",
    "tiene",
    "tienen",
    "tenía",
    "tenían",
    "tuvo",
    "tuvieron",
    "hay",
    "hubo",
    "son",
    "fue",
    "fueron",
    "hizo",
    "hicieron",
    "hecho",
    "dame",
    "dime",
    "muestra",
    "muéstrame",
    "enseña",
    "quiero",
    "saber",
    "cuál",
    "cuáles",
    "quién",
    "quiénes",
    "dónde",
    "cuándo",
    "cómo",
    "nuestro",
    "nuestra",
    "nuestros",
    "nuestras",
    "todas",
    "todos",
    "estas",
    "estos",
    "entre",
    "desde",
    "hasta",
    "sobre",
    "según",
    "sale",
    "salió",
    "salieron",
    "estrenó",
    "estrenaron",
    "estrenada",
    "estrenadas",
    "producida",
    "producidas",
    "dirigida",
    "vendidas",
    "vendidos",
    "entradas",
    "cines",
    "vemos",
    "podemos",
    "puedes",
    "ciudad",
    "mejor",
    "peor",
    "lista",
)

WORDS |= {
    "greater": WORDS["greater"]
    + (
        "más largas que",
        "más larga que",
        "más caras que",
    ),
    "less": WORDS["less"]
    + (
        "más cortas que",
        "más corta que",
        "más baratas que",
    ),
    "all_time": ("de todos los tiempos", "de la historia", "de siempre", "jamás"),
    # One value per time bucket: "evolución de la cuota renovable desde 2010".
    "trend": (
        "evolución",
        "tendencia",
        "a lo largo del tiempo",
        "año a año",
        "serie",
        "cómo ha evolucionado",
    ),
    "how_much": ("cuánto", "cuánta", "cuántos pesos", "total", "en total", "suma"),
    # "¿Qué año...?", "¿en qué mes...?": one bucket of time, ranked.
    "which_year": (
        "qué año",
        "en qué año",
        "cuál año",
        "cuál fue el año",
        "qué años",
        "cuáles años",
        "en qué años",
    ),
    "which_month": (
        "qué mes",
        "en qué mes",
        "cuál mes",
        "cuál fue el mes",
        "qué meses",
        "cuáles meses",
        "en qué meses",
    ),
    # "¿Qué ciudad...?": one group, ranked.
    "which": ("qué", "cuál", "cuáles", "en qué"),
    # El último dato que hay: "¿cuál es el último precio del Brent?".
    "latest": ("último", "última", "más reciente", "último dato", "último disponible"),
    # Dos valores de una dimensión restados día a día: "el diferencial Brent-WTI".
    "difference": ("diferencia", "diferencial", "brecha", "spread"),
    "hours": ("horas", "hora", "h"),
    # Orders to change data: never answered, whatever follows.
    "write": (
        "actualiza",
        "actualizar",
        "cambia",
        "cambiar",
        "modifica",
        "modificar",
        "borra",
        "borrar",
        "elimina",
        "eliminar",
        "inserta",
        "insertar",
        "añade",
        "añadir",
        "pon",
        "sube",
        "baja",
    ),
}


# -- the time-series parser's grammar (datalake.ask.lexicon composes the languages) ----------

#: Concept -> folded phrases (Spanish). What each concept does is said where :mod:`datalake.ask.lexicon`
#: names it.
PARSER: dict[str, tuple[str, ...]] = {
    "ascending": (
        "de menor a mayor", "de menos a mas", "ascendente", "orden ascendente",
    ),
    "average": (
        "media", "medio", "promedio", "promedia", "promediada", "en promedio", "de media",
    ),
    "breakdown": (
        "ranking", "clasificacion", "desglose", "desglosada", "desglosado", "reparto", "mix",
        "mix de generacion", "mix energetico", "mix electrico", "cada tecnologia", "cada fuente",
        "todas las tecnologias", "todas las fuentes", "por tecnologia", "por tecnologias", "por fuente",
        "por fuentes", "por tipo", "por tipos",
    ),
    "by_weekday": (
        "por dia de la semana", "por dias de la semana", "cada dia de la semana", "dia de la semana",
        "dias de la semana",
    ),
    "compare": (
        "compara", "comparar", "comparacion", "comparativa", "comparado", "comparada", "versus", "vs",
        "frente a", "frente al", "respecto a", "respecto al", "con respecto", "en comparacion", "contra",
        "diferencia", "diferencias", "cambio", "cambiado", "cambiar", "cambio la", "variacion", "vario",
        "crecio", "aumento", "disminuyo",
    ),
    "descending": (
        "de mayor a menor", "de mas a menos", "descendente", "orden descendente",
    ),
    "forecast_error_absolute": (
        "mae", "error absoluto medio", "error medio absoluto", "error absoluto", "error medio", "error",
        "errores",
    ),
    "forecast_error_percent": (
        "mape", "error porcentual medio", "error medio porcentual", "error porcentual",
        "errores porcentuales", "precision", "exactitud", "acierto",
    ),
    "leading": (
        "principal", "principales", "predominante", "predominantes", "dominante", "dominantes",
        "mayoritaria", "mayoritario", "lidero", "liderado", "lidera", "lider", "lideres", "encabezo", "top",
        "domino", "domina", "dominaron", "dominaba", "predomino", "predomina", "destaco",
    ),
    "maximum": (
        "maximo", "maxima", "max", "pico", "punta", "mayor", "mas alta", "mas alto", "record", "ajetreado",
        "ajetreada",
    ),
    "minimum": (
        "minimo", "minima", "min", "valle", "menor", "mas baja", "mas bajo", "menos", "tranquilo",
        "tranquila",
    ),
    "more": (
        "mas",
    ),
    "partial_period": (
        "principios", "finales", "mediados", "comienzos", "inicios", "navidades", "semana santa", "pascua",
        "puente", "festivo", "festivos",
    ),
    "per": (
        "por", "cada", "a la",
    ),
    "percent_change": (
        "en que porcentaje", "variacion porcentual", "cambio porcentual", "porcentaje de cambio",
        "porcentaje de variacion", "en porcentaje", "en tanto por ciento", "en %",
    ),
    "read_period_words": (
        "manana", "tarde", "noche", "madrugada", "anoche", "invierno", "verano", "primavera", "otono",
        "navidad", "nochevieja", "nochebuena", "reyes", "ano nuevo",
    ),
    "top": (
        "top",
    ),
    "total": (
        "total", "totales", "suma", "sumada", "acumulada", "acumulado", "en total", "cuanta energia",
        "energia total",
    ),
    "trend": (
        "tendencia", "evolucion", "evoluciono", "evolucionado", "serie", "serie temporal", "dia a dia",
        "mes a mes", "semana a semana", "grafica", "grafico",
    ),
    "unread_period_parts": (
        "semestre", "quincena", "primera mitad", "segunda mitad", "primera semana de", "segunda semana de",
        "tercera semana de", "cuarta semana de", "ultima semana de",
    ),
    "unsafe": (
        "borra", "borrar", "borre", "borrad", "elimina", "eliminar", "elimine", "trunca", "inserta",
        "insertar", "modifica", "modificar", "altera", "crear", "vacia", "vaciar", "destruye", "sobrescribe",
        "apaga", "ejecuta", "contrasena", "credenciales",
    ),
    "unsafe_objects": (
        "tabla", "tablas", "base", "bases", "esquema", "datos", "filas", "registros", "indice", "vista",
        "usuario", "rol", "todo", "demanda", "generacion",
    ),
    "unsafe_with_object": (
        "crea", "actualiza", "actualizar", "quita",
    ),
    "unsupported": (
        "error", "errores", "desviacion", "desvio", "precision", "exactitud", "acierto", "mape", "mae",
        "sesgo", "correlacion", "regresion",
    ),
    "weekends": (
        "fines de semana", "fin de semana", "findes", "finde",
    ),
    "when_of_extreme": (
        "con dia y hora", "con el dia y la hora", "con fecha y hora", "dia y hora", "fecha y hora",
    ),
    "who": (
        "quien", "quienes",
    ),
    "workdays": (
        "entre semana", "dias laborables", "dias laborales", "laborables", "laborable", "de lunes a viernes",
    ),
}  # fmt: skip
#: Month names and abbreviations -> month number.
MONTHS: dict[str, int] = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
    "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12, "ene": 1, "feb": 2,
    "abr": 4, "jun": 6, "jul": 7, "sept": 9, "sep": 9, "oct": 10, "nov": 11, "dic": 12, "mar": 3,
}  # fmt: skip
#: Weekday names -> Monday 0.
WEEKDAYS: dict[str, int] = {
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6,
}  # fmt: skip
#: Numbers in words.
NUMBER_WORDS: dict[str, int] = {
    "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "quince": 15, "veinte": 20, "treinta": 30,
}  # fmt: skip
#: Ordinals up to the fifth.
ORDINALS: dict[str, int] = {
    "primera": 1, "primer": 1, "primero": 1, "segunda": 2, "segundo": 2, "tercera": 3, "tercer": 3,
    "tercero": 3, "cuarta": 4, "cuarto": 4, "quinta": 5, "quinto": 5,
}  # fmt: skip
#: Bucket words -> the bucket (hour, day, week, month, year).
GRANULARITY: dict[str, str] = {
    "hora": "hour", "horas": "hour", "horaria": "hour", "horario": "hour", "horarios": "hour", "dia": "day",
    "dias": "day", "diaria": "day", "diario": "day", "diarios": "day", "diarias": "day", "jornada": "day",
    "semana": "week", "semanas": "week", "semanal": "week", "semanales": "week", "mes": "month",
    "meses": "month", "mensual": "month", "mensuales": "month", "ano": "year", "anos": "year",
    "anual": "year",
}  # fmt: skip
#: Words that carry no meaning for the parser but must not be "corrected" into keywords.
FUNCTION_WORDS: tuple[str, ...] = (
    "el", "la", "los", "las", "lo", "un", "una", "unos", "unas", "de", "del", "al", "a", "en", "y", "o", "u",
    "e", "que", "cual", "cuales", "cuanto", "cuanta", "cuantos", "cuantas", "como", "cuando", "donde", "fue",
    "fueron", "era", "eran", "es", "son", "ha", "han", "hubo", "hay", "habia", "ser", "estar", "esta",
    "este", "esto", "estos", "estas", "ese", "esa", "eso", "aquel", "para", "por", "con", "sin", "sobre",
    "entre", "desde", "hasta", "segun", "se", "su", "sus", "mi", "me", "te", "le", "les", "nos", "dame",
    "dime", "muestra", "muestrame", "ensename", "quiero", "saber", "necesito", "puedes", "podrias",
    "registro", "registrada", "registrado", "registro", "alcanzo", "alcanzada", "alcanzado", "tuvo",
    "tuvieron", "cuanto", "ahora", "ultimo", "ultima", "ultimos", "ultimas", "pasado", "pasada", "anterior",
    "mismo", "misma", "siguiente", "proximo", "proxima", "hace", "antes", "despues", "durante", "todo",
    "toda", "todos", "todas", "dato", "datos", "valor", "valores", "energia", "electrica", "electricidad",
    "sistema", "nivel", "cifra", "fecha", "momento", "hoy", "ayer", "anteayer", "manana", "tarde", "noche",
    "madrugada", "mediodia", "medianoche", "semana", "mes", "ano", "trimestre", "semestre", "fin",
    "principio", "inicio", "mitad", "primer", "primero", "primera", "segundo", "segunda", "tercer",
    "tercero", "cuarto", "cual", "horas", "dias", "peninsula", "espanol", "espanola", "electrico", "gw",
    "mw", "mwh", "gwh", "twh", "kw", "kwh", "real", "reales", "actual", "registrada", "sido", "tanto", "muy",
    "mucho", "poco", "alta", "alto", "baja", "bajo", "nivel", "hora", "actualmente", "subio", "bajo",
    "crecio", "cayo", "cambio", "cambiado", "aumento", "disminuyo", "vez", "veces", "cual", "quien", "creo",
    "crees", "cree", "tabla", "table",
)  # fmt: skip
#: Every day of the week named as a span ("la media de lunes a domingo"): one value per weekday.
EVERY_DAY: tuple[str, ...] = ("de lunes a domingo", "todos los dias de la semana")
#: One weekday every week ("los sábados", "cada lunes"): ``{day}`` a weekday, ``{plural}`` its plural.
EVERY_WEEKDAY: tuple[str, ...] = ("los {plural}", "todos los {plural}", "cada {day}")
WEEKDAY_PLURALS: dict[str, int] = {
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabados": 5, "domingos": 6,
}  # fmt: skip
#: Month and weekday names (Monday first) as answers write them.
MONTH_NAMES: tuple[str, ...] = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
    "noviembre", "diciembre",
)  # fmt: skip
WEEKDAY_NAMES: tuple[str, ...] = (
    "lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo",
)  # fmt: skip


# -- time expressions (datalake.ask.timeexpr composes the languages and names the rules) -----

#: Days of the month in words -> the day ("el quince de abril").
DAY_NUMBERS: dict[str, int] = {
    "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9,
    "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16,
    "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiuno": 21, "veintidos": 22,
    "veintitres": 23, "veinticuatro": 24, "veinticinco": 25, "veintiseis": 26, "veintisiete": 27,
    "veintiocho": 28, "veintinueve": 29, "treinta": 30, "primero": 1, "treinta y uno": 31,
}  # fmt: skip
#: Ordinals of a quarter -> the quarter ("el primer trimestre"; "el último trimestre" is the fourth).
QUARTERS: dict[str, int] = {
    "primer": 1, "primero": 1, "segundo": 2, "tercer": 3, "tercero": 3, "cuarto": 4, "ultimo": 4,
}  # fmt: skip
#: Relative periods: a rule of :data:`datalake.ask.timeexpr.RELATIVE_RULES` -> the phrases that say it.
RELATIVE_PERIODS: dict[str, tuple[str, ...]] = {
    "same_month_year-1": (
        "el mismo mes del ano pasado", "mismo mes del ano pasado", "el mismo mes del ano anterior",
        "mismo mes del ano anterior",
    ),
    "same_day_year-1": (
        "el mismo dia del ano pasado", "mismo dia del ano pasado", "el mismo dia del ano anterior",
    ),
    "same_week_year-1": ("la misma semana del ano pasado", "misma semana del ano pasado"),
    "weekend-1": (
        "el fin de semana pasado", "fin de semana pasado", "el pasado fin de semana", "pasado fin de semana",
        "el finde pasado", "finde pasado", "el ultimo finde", "el ultimo fin de semana",
    ),
    "weekend": ("este fin de semana", "este finde"),
    "weekend+1": (
        "el fin de semana que viene", "fin de semana que viene", "el proximo fin de semana",
        "proximo fin de semana", "el finde que viene", "finde que viene",
    ),
    "day-2": ("antes de ayer", "anteayer", "antier"),
    "day-1": ("ayer",),
    "day+2": ("pasado manana",),
    "day": ("hoy", "en lo que va de dia", "el dia de hoy"),
    "week-1": ("la semana pasada", "semana pasada", "la ultima semana", "ultima semana"),
    "week": ("esta semana", "la semana actual", "semana actual", "en lo que va de semana"),
    "week+1": (
        "la semana que viene", "semana que viene", "la proxima semana", "proxima semana",
        "la semana siguiente",
    ),
    "month-1": ("el mes pasado", "mes pasado", "el ultimo mes", "ultimo mes"),
    "month": (
        "este mes", "el mes actual", "mes actual", "el mes en curso", "mes en curso", "en lo que va de mes",
    ),
    "month+1": ("el mes que viene", "mes que viene", "el proximo mes", "proximo mes"),
    "year-1": ("el ano pasado", "ano pasado", "el ultimo ano"),
    "year": (
        "este ano", "el ano actual", "ano actual", "el ano en curso", "en lo que va de ano",
        "en lo que llevamos de ano",
    ),
    "year+1": ("el ano que viene", "ano que viene", "el proximo ano", "proximo ano"),
    "all_time": (
        "todo el historico", "el historico", "historico", "historica", "de la historia",
        "de todos los tiempos", "en toda la serie", "toda la serie", "todos los datos",
    ),
}  # fmt: skip
#: Parts of the day (a rule of :data:`datalake.ask.timeexpr.DAY_PART_HOURS`) -> its words. The
#: Spanish "tarde" runs to 8 pm (``long_afternoon``), longer than the English afternoon.
DAY_PARTS: dict[str, tuple[str, ...]] = {
    "small_hours": ("madrugada",), "morning": ("manana",), "long_afternoon": ("tarde",), "night": ("noche",),
}  # fmt: skip
#: Seasons -> their words.
SEASONS: dict[str, tuple[str, ...]] = {
    "spring": ("primavera",), "summer": ("verano",), "autumn": ("otono",), "winter": ("invierno",),
}  # fmt: skip
#: Fixed-date holidays -> the phrases that say them.
HOLIDAYS: dict[str, tuple[str, ...]] = {
    "christmas_day": ("navidad",), "christmas_eve": ("nochebuena",), "new_years_eve": ("nochevieja",),
    "new_years_day": ("ano nuevo",), "epiphany": ("reyes",),
}  # fmt: skip
#: Units of time, singular and plural -> the unit ("hace 3 días", "las últimas 24 horas").
TIME_UNITS: dict[str, str] = {
    "dia": "day", "semana": "week", "mes": "month", "ano": "year", "hora": "hour",
}  # fmt: skip
TIME_UNITS_PLURAL: dict[str, str] = {
    "dias": "day", "semanas": "week", "meses": "month", "anos": "year", "horas": "hour",
}  # fmt: skip
#: Clock words -> what they make of the hour: ``am`` (12 is midnight), ``pm`` (add 12 before
#: noon), ``night`` (add 12 from 7). "A las 9 de la noche" is 21:00.
CLOCK_PARTS: dict[str, str] = {"manana": "am", "tarde": "pm", "noche": "night", "madrugada": "am"}
#: The words of each slot of the time expressions' patterns, in the order the patterns try them
#: (:mod:`datalake.ask.timeexpr` says what each slot is, where its scanner uses it).
TIME: dict[str, tuple[str, ...]] = {
    "article": ("el",),
    "articles": ("el", "la"),
    "ordinal_suffixes": ("o", "er", "a"),
    "day_suffixes": (),
    "year_last": ("el ano pasado", "ano pasado", "el ano anterior", "ano anterior"),
    "year_this": ("este ano", "el presente ano"),
    "year_joiners": ("de", "del"),
    "range_openers": ("entre", "desde", "del", "de"),
    "range_between": ("entre",),
    "range_and": ("y",),
    "range_to": ("al", "hasta"),
    "range_to_after_opener": ("a",),
    "range_fillers": ("el", "la", "las", "dia"),
    "range_opener_fillers": ("el", "la", "dia"),
    "day_number_fillers": ("el", "dia"),
    "previous_unit_article": ("el", "la"),
    "previous_after_unit": ("anterior", "previo", "previa", "precedente"),
    "previous_before_unit": (),
    "before_after_unit": (),
    "not_after_before": (),
    "previous_one": (
        "la anterior", "el anterior", "al anterior", "anterior", "la precedente", "el precedente",
        "al precedente", "precedente",
    ),
    "tomorrow": ("manana",),
    "not_tomorrow_after": ("la", "esta", "pasado"),
    "year_atom_before": ("el", "en", "del", "de", "durante"),
    "year_atom_word": ("ano",),
    "day_part_this": ("esta",),
    "day_part_before": ("por la", "de la", "en la", "durante la", "a la", "la"),
    "day_part_not_alone": ("manana",),
    "tonight": (),
    "last_night": ("anoche",),
    "at_night": (),
    "season_in": ("en", "durante"),
    "season_this": ("este", "esta"),
    "season_last": ("el pasado", "la pasada"),
    "last_after": ("pasado", "pasada", "anterior"),
    "season_of": (),
    "season_verbs": (),
    "holiday_before": ("en", "el", "durante"),
    "holiday_day_of": ("dia de",),
    "holiday_last": ("la pasada", "el pasado"),
    "holiday_season": (),
    "same_period": ("mismo periodo", "periodo equivalente"),
    "same_period_of": ("del", "de"),
    "same_period_year_before": ("ano pasado", "ano anterior"),
    "year_on_year": ("interanual",),
    "rolling_before": ("en los", "en las", "durante los", "durante las", "los", "las"),
    "rolling_last": ("ultimos", "ultimas", "pasados", "pasadas"),
    "ago_before": ("hace",),
    "ago_after": (),
    "ago_one": (),
    "day_of_month_before": ("el dia", "dia"),
    "day_of_month_not_before": ("de", "del"),
    "day_of_month_on": (),
    "day_of_month_not_after_suffix": (),
    "named_range_openers": ("del",),
    "named_day_of": ("de",),
    "weekday_article": ("el",),
    "day_the": (),
    "named_day_word": ("dia",),
    "named_day_month_of": ("el mes de", "mes de"),
    "named_day_on": (),
    "part_anchors": ("ano", "mes", "este", "esta", "pasado"),
    "decade_in": ("en",),
    "decade_article": ("los",),
    "decade_suffix": (),
    "decade_of_in": ("en",),
    "decade_of_article": ("los", "la"),
    "decade_of": ("anos", "decada de los", "decada de"),
    "since": ("desde", "a partir de"),
    "since_year_word": ("ano",),
    "since_not_before": ("hasta", "al", "a", "y"),
    "quarter_before": ("el", "en el"),
    "quarter": ("trimestre",),
    "quarter_of": ("del", "de"),
    "quarter_short_before": ("en el", "el"),
    "quarter_letters": ("t",),
    "of_last_week": ("de la semana pasada", "de la semana anterior"),
    "next_before_weekday": ("proximo",),
    "next_article_after_weekday": ("el",),
    "next_after_weekday": ("que viene", "proximo"),
    "for_weekday": ("para el",),
    "recent_before_weekday": ("el", "este", "el pasado", "el ultimo"),
    "recent_after_weekday": ("pasado",),
    "month_last_article": ("el", "en"),
    "month_last_before": ("pasado", "ultimo"),
    "month_of": ("mes de",),
    "month_last_after": ("pasado",),
    "month_before": ("el", "en", "durante"),
    "month_of_named": ("el mes de", "mes de"),
    "clock_day_part_of": ("de la", "por la"),
    "clock_hour_words": ("h", "hs", "horas"),
    "clock_range_from": ("entre las", "desde las", "de las"),
    "clock_range_to": ("y las", "hasta las", "a las"),
    "clock_range_suffixes": ("h",),
    # "de 10:00 a 14:00": bare "de ... a ..." only with the minutes written (else "de 3 a 5" is days).
    "clock_range_from_minutes": ("de",),
    "clock_range_to_minutes": ("a",),
    "clock_at": ("a", "sobre", "hacia", "alrededor de"),
    "clock_at_article": ("las", "la"),
    "clock_suffixes": ("h",),
    "noon_at": ("a", "al"),
    "noon": ("mediodia", "medio dia"),
    "midnight_at": ("a",),
    "midnight": ("medianoche", "la medianoche"),
    "week_of": ("la semana del", "semana del", "la semana de", "semana de"),
    # Words of the patterns the phrases above do not all show; the typo corrector must know them.
    "pattern_words": (
        "hace", "ultimos", "ultimas", "pasados", "pasadas", "pasado", "pasada", "dias", "semanas", "meses",
        "anos", "horas", "dia", "semana", "mes", "ano", "hora", "entre", "desde", "del", "de", "al", "hasta",
        "trimestre", "primer", "primero", "segundo", "tercer", "tercero", "cuarto", "mediodia", "medio",
        "medianoche", "manana", "tarde", "noche", "madrugada", "sobre", "hacia", "alrededor", "las", "la",
        "el", "mismo", "misma", "periodo", "equivalente", "interanual", "este", "esta", "ultimo", "durante",
        "en", "er", "anoche", "navidad", "nochebuena", "nochevieja", "nuevo", "reyes", "primavera", "verano",
        "otono", "invierno",
    ),
}  # fmt: skip
#: Names of the periods in answers (not folded): a rule -> its name, ``{year}``... filled in.
TIME_NAMES: dict[str, str] = {
    "same_month_year-1": "el mismo mes del año pasado",
    "same_day_year-1": "el mismo día del año pasado",
    "same_week_year-1": "la misma semana del año pasado",
    "weekend-1": "el fin de semana pasado",
    "weekend": "este fin de semana",
    "weekend+1": "el fin de semana que viene",
    "day-2": "anteayer",
    "day-1": "ayer",
    "day+1": "mañana",
    "day+2": "pasado mañana",
    "day": "hoy",
    "week-1": "la semana pasada",
    "week": "esta semana",
    "week+1": "la semana que viene",
    "month-1": "el mes pasado",
    "month": "este mes",
    "month+1": "el mes que viene",
    "year-1": "el año pasado",
    "year": "este año",
    "year+1": "el año que viene",
    "previous_day": "el día anterior",
    "previous_week": "la semana anterior",
    "previous_month": "el mes anterior",
    "previous_year": "el año anterior",
    "small_hours": "de madrugada",
    "small_hours_today": "esta madrugada",
    "morning": "por la mañana",
    "morning_today": "esta mañana",
    "long_afternoon": "por la tarde",
    "long_afternoon_today": "esta tarde",
    "afternoon": "por la tarde",
    "afternoon_today": "esta tarde",
    "evening": "por la noche",
    "evening_today": "esta noche",
    "night": "por la noche",
    "night_today": "esta noche",
    "last_night": "anoche",
    "spring": "la primavera",
    "spring_this": "esta primavera",
    "spring_last": "la primavera pasada",
    "spring_of_year": "la primavera de {year}",
    "summer": "el verano",
    "summer_this": "este verano",
    "summer_last": "el verano pasado",
    "summer_of_year": "el verano de {year}",
    "autumn": "el otoño",
    "autumn_this": "este otoño",
    "autumn_last": "el otoño pasado",
    "autumn_of_year": "el otoño de {year}",
    "winter": "el invierno",
    "winter_this": "este invierno",
    "winter_last": "el invierno pasado",
    "winter_of_year": "el invierno de {year}",
    "christmas_day": "el día de Navidad",
    "christmas_eve": "en Nochebuena",
    "new_years_eve": "en Nochevieja",
    "new_years_day": "el día de Año Nuevo",
    "epiphany": "el día de Reyes",
    "decade": "los años {short_decade}",
    "since": "desde {year}",
}
