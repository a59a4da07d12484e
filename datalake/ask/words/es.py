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
