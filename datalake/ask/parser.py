"""The deterministic semantic parser: a Spanish or English question in, an :class:`Intent` out.

It reads the question as folded tokens (accents, case and look-alike letters do not matter;
typos are corrected against the known words), finds the time expressions first, then the
measure, technology, region and aggregate in what is left. Anything it cannot place, or
can place two ways, is refused with an :class:`AskRefusal`: it never answers a different
question from the one asked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from datalake.ask import lexicon as lx
from datalake.ask.errors import AskRefusal
from datalake.ask.intent import WEEKDAY_KEYS, Intent
from datalake.ask.periods import EPOCH, MADRID, Period, add_hours, local_hour, month_start
from datalake.ask.suggestions import suggestions
from datalake.ask.text import Speller, fold, tokens
from datalake.ask.timeexpr import TIME_WORDS, TimeExpressions, extract_times, hour_period
from datalake.datasets import all_table_names

_P = lx.phrase_pattern
_FORECAST, _DEMAND, _GENERATION, _SHARE = _P(lx.FORECAST), _P(lx.DEMAND), _P(lx.GENERATION), _P(lx.SHARE)
_TOTAL_GENERATION = _P(lx.TOTAL_GENERATION)
_MAX, _MIN, _MORE = _P(lx.MAXIMUM), _P(lx.MINIMUM), _P(lx.MORE)
_AVG, _TOTAL, _COMPARE, _TREND = _P(lx.AVERAGE), _P(lx.TOTAL), _P(lx.COMPARE), _P(lx.TREND)
_PENINSULAR, _OTHER_REGIONS = _P(lx.PENINSULAR), _P(lx.OTHER_REGIONS)
_UNSUPPORTED = _P(lx.UNSUPPORTED)
_PRICES, _EXCHANGES, _OTHER_TOPICS, _UNSAFE = (
    _P(lx.PRICES),
    _P(lx.EXCHANGES),
    _P(lx.OTHER_TOPICS),
    _P(lx.UNSAFE),
)
_UNSAFE_COMMAND = re.compile(
    rf"{_P(lx.UNSAFE_WITH_OBJECT).pattern} (?:(?:the|a|an|la|el|las|los|una|un|all|todas|todos) )*"
    rf"{_P(lx.UNSAFE_OBJECTS).pattern}"
)
_TECH_BY_PHRASE = {phrase: tech for tech in lx.TECHNOLOGIES for phrase in tech.phrases}
_TECH = _P(tuple(_TECH_BY_PHRASE))
# The measured demand, named against the forecast ("real", "actual"; Spanish "actual" is "current").
_ACTUAL = {
    "es": _P(("real", "reales", "demanda real", "registrada", "observada", "medida")),
    "en": _P(("real", "actual", "actual demand", "observed", "measured", "recorded")),
}
# Superlatives name an inner peak in a comparison; comparatives ("mayor", "more") only compare.
_PEAK_WORDS = _P(("pico", "punta", "maximo", "maxima", "max", "maximum", "peak", "record", "peaked"))
_LOW_WORDS = _P(("minimo", "minima", "min", "minimum", "valle", "trough"))
_GRAN_ADJECTIVE = re.compile(
    r"(?<![^ ])(?P<g>horaria|horario|horarios|hourly|diaria|diario|diarios|diarias|daily|semanal|semanales|"
    r"weekly|mensual|mensuales|monthly|anual|anuales|yearly|annual)(?![^ ])"
)
_GRAN_PER = re.compile(
    r"(?<![^ ])(?:por|cada|per|each|by|a la|al|en cada|for each|broken down by) (?:el |la |the )?"
    r"(?P<g>hora|horas|dia|dias|semana|semanas|mes|meses|ano|anos|hour|hours|day|days|week|weeks|month|months|"
    r"year|years)(?![^ ])"
)
_GRAN_NOUN = re.compile(
    r"(?<![^ ])(?P<g>hora|horas|dia|dias|jornada|semana|semanas|mes|meses|ano|anos|hour|hours|day|days|week|"
    r"weeks|month|months|year|years)(?![^ ])"
)
_NUMBER = rf"\d{{1,3}}|{'|'.join(w for w, n in lx.NUMBER_WORDS.items() if n >= 2)}"
_TOP_K = re.compile(rf"(?<![^ ])top (?P<n>{_NUMBER})(?![^ ])")
_K_UNIT = re.compile(
    rf"(?<![^ ])(?P<n>{_NUMBER})(?: [a-z]+){{0,3}}? "
    r"(?P<g>horas|dias|semanas|meses|anos|hours|days|weeks|months|"
    r"years|picos|peaks|valores|values|momentos)(?![^ ])"
)
_THRESHOLD = re.compile(
    r"(?<![^ ])(?:(?:mas|menos|more|less|fewer) (?:de|than)|above|below|over|under|superior a|inferior a|"
    r"por encima de|por debajo de|exceed|exceeded|supero|superaron) \d"
)
# Period qualifiers the parser does not resolve: answering without them would answer another question.
_PARTIAL_PERIOD, _READ_PERIOD_WORDS = _P(lx.PARTIAL_PERIOD), _P(lx.READ_PERIOD_WORDS)
_UNREAD_PERIOD_PARTS = _P(lx.UNREAD_PERIOD_PARTS)
_WHEN_OF_EXTREME = _P(lx.WHEN_OF_EXTREME)
_PERCENT_CHANGE = _P(lx.PERCENT_CHANGE)
_ERROR_PERCENT, _ERROR_ABSOLUTE = _P(lx.FORECAST_ERROR_PERCENT), _P(lx.FORECAST_ERROR_ABSOLUTE)
_WEEKENDS, _WORKDAYS, _BY_WEEKDAY = _P(lx.WEEKENDS), _P(lx.WORKDAYS), _P(lx.BY_WEEKDAY)
_EVERY_WEEKDAY, _EVERY_DAY = _P(tuple(lx.EVERY_WEEKDAY)), _P(lx.EVERY_DAY)
# -- rankings of technologies ---------------------------------------------------------------------
_TECHNOLOGY_WORD = _P(lx.WHICH_TECHNOLOGY)
_BREAKDOWN = _P(lx.BREAKDOWN)
# "El peso de la nuclear en el mix" is a share of one technology: "mix" only ranks when no family is named.
_BREAKDOWN_STRONG = _P(tuple(p for p in lx.BREAKDOWN if "mix" not in p.split()))
_ASCENDING, _DESCENDING = _P(lx.ASCENDING), _P(lx.DESCENDING)
_PLANTS = _P(lx.PLANTS)
_FAMILY = "|".join(
    re.escape(p)
    for p in sorted({p for t in lx.TECHNOLOGIES if lx.is_family(t) for p in t.phrases}, key=len, reverse=True)
)
_WHICH = (
    r"(?:que|cual|cuales|which|what)(?: (?:fue|fueron|es|son|was|were|is|are))?(?: (?:de|of))?"
    r"(?: (?:las|los|la|el|the))?"
)
_KIND = (
    r"(?: (?:tecnologias?|fuentes?|fuentes? de energia|energias?|tipos? de|technology|technologies|sources?"
    r"|energy|kind of|type of))?"
)
# "¿Qué renovable generó más?", "which of the renewables": the family is what is ranked. Not "what
# renewable share/generation...", which asks for the family's own share or energy.
_WHICH_FAMILY = re.compile(
    rf"(?<![^ ]){_WHICH}{_KIND} (?:{_FAMILY})(?![^ ])"
    r"(?! (?:cuota|porcentaje|proporcion|share|percentage|proportion|generacion|produccion|generation|"
    r"production|output|energia|energy|power|electricity))"
)
# "La renovable que más generó", "the renewable that produced the most", "el mix renovable".
_FAMILY_THAT = re.compile(
    rf"(?<![^ ])(?:{_FAMILY}) (?:que|that|which)(?: [a-z]+){{0,3}} (?:mas|menos|more|most|least|less)(?![^ ])"
    rf"|(?<![^ ])mix (?:de )?(?:la |las |lo )?(?:{_FAMILY})(?![^ ])|(?<![^ ])(?:{_FAMILY}) mix(?![^ ])"
)
_WHICH_PLANT = re.compile(
    rf"(?<![^ ]){_WHICH} (?:centrales|central|plantas|planta|power plants|power plant|plants|plant)(?![^ ])"
    r"|(?<![^ ])(?:central|planta|plant) (?:que|that|which)(?![^ ])"
)
_PLURAL_RANKED = _P(
    ("tecnologias", "fuentes", "technologies", "sources", "renovables", "renewables", "cuales")
)
_SINGULAR_RANKED = _P(
    ("tecnologia", "fuente", "technology", "source", "cual de", "which of", "which one", "la que", "the one")
)
_EACH = _P(("cada", "each", "every"))
_LEADING, _WHO = _P(lx.LEADING), _P(lx.WHO)
_ORDINAL = re.compile(rf"(?<![^ ])(?P<o>{'|'.join(lx.ORDINALS)})(?![^ ])")
# "¿Qué energía se generó más?", "what kind of energy": the kind is a technology.
_WHICH_ENERGY = re.compile(
    r"(?<![^ ])(?:que|cual|which|what)(?: (?:tipo|tipos|clase) de| (?:kind|type|sort) of)? (?:energia|energy)"
    r"(?![^ ])"
)
# "The top renewable", "la principal renovable" (not "top renewable hours": those rank hours).
_LEADING_FAMILY = re.compile(
    rf"(?<![^ ])(?:top|main|leading|biggest|largest|principal|principales) (?:{_FAMILY})(?![^ ])"
    r"(?! (?:horas?|dias?|semanas?|meses|hours?|days?|weeks?|months?|cuota|share|generation|generacion))"
)
# "las 3 tecnologías", "the five largest sources", "3 renovables": how many a ranking lists.
_RANK_K = re.compile(
    rf"(?<![^ ])(?P<n>{_NUMBER})(?: [a-z]+){{0,2}}? "
    rf"(?:tecnologias|fuentes|technologies|sources|{_FAMILY})(?![^ ])"
)
# Words of a time series: a ranking covers its whole period ("gráfico"/"chart" only ask for a picture).
_EVOLUTION = _P(tuple(p for p in lx.TREND if p not in ("grafica", "grafico", "chart", "plot")))
_JOINED = _P(("y", "e", "o", "u", "and", "or"))
_RECORD = _P(("record", "records", "historico", "historica", "ever", "all time"))
_NOW = _P(
    (
        "ahora",
        "ahora mismo",
        "en este momento",
        "actualmente",
        "now",
        "right now",
        "currently",
        "at the moment",
        "demanda actual",
        "current demand",
        "la actual",
        "latest",
        "ultima hora",
        "the last hour",
        "la ultima hora",
    )
)
_SQL_SYNTAX = re.compile(
    r";|--|/\*|\*/|\b(?:select|insert|delete|truncate|alter|grant|revoke|union|exec|execute|"
    r"pg_sleep|sleep|pragma)\b\s*[\w(*'\"]|"
    # Words that are also plain English/Spanish ("demand dropped", "create") count only as SQL.
    r"\bdrop\s+(?:table|database|schema|view|index|user|role|function)\b|\bupdate\s+\w+\s+set\b|"
    r"\bcreate\s+(?:or\s+replace\s+)?(?:table|database|schema|view|index|user|role|function|temp)\b|"
    r"\bcopy\s+\w+\s+(?:from|to)\b|\bmerge\s+into\b|\battach\s+(?:database\s+)?['\"]|\b(?:or|and)\b\s+['\"]?\w+['\"]?\s*=\s*"
    r"['\"]?\w+|['\"]\s*(?:or|and)\b|=\s*['\"]|\bfrom\s+(?:pg_|information_schema\b|"
    # A table the lake knows by an identifier nobody writes in prose ("demand_hourly"): the
    # registry's names, not a list kept here ("from movies" is plain English).
    + "|".join(sorted((re.escape(n) for n in all_table_names() if "_" in n), key=len, reverse=True))
    + r"\b)",
    re.IGNORECASE,
)

_ES_MARKERS = frozenset(
    [
        "el",
        "la",
        "los",
        "las",
        "del",
        "de",
        "que",
        "cual",
        "cuanto",
        "cuanta",
        "cuantos",
        "fue",
        "fueron",
        "en",
        "y",
        "hoy",
        "ayer",
        "anteayer",
        "semana",
        "mes",
        "ano",
        "demanda",
        "generacion",
        "consumo",
        "produccion",
        "hubo",
        "es",
        "hay",
        "mayor",
        "menor",
        "media",
        "dia",
        "dias",
        "horas",
        "hora",
        "pasado",
        "pasada",
        "eolica",
        "hidraulica",
        "renovable",
        "renovables",
        "compara",
        "prevision",
        "cuota",
        "porcentaje",
        "maximo",
        "minimo",
        "entre",
        "desde",
        "hasta",
        "a",
        "las",
        "al",
        "por",
        "con",
        "como",
        "donde",
        "cuando",
        "dame",
        "dime",
        "muestra",
        "quiero",
        "este",
        "esta",
        "ultimo",
        "ultimos",
        "ultimas",
    ]
)
_EN_MARKERS = frozenset(
    [
        "the",
        "what",
        "which",
        "was",
        "were",
        "is",
        "how",
        "much",
        "many",
        "of",
        "in",
        "on",
        "at",
        "yesterday",
        "today",
        "last",
        "week",
        "month",
        "year",
        "demand",
        "generation",
        "consumption",
        "production",
        "there",
        "highest",
        "lowest",
        "average",
        "day",
        "days",
        "hours",
        "hour",
        "past",
        "previous",
        "wind",
        "hydro",
        "renewable",
        "renewables",
        "compare",
        "forecast",
        "share",
        "percentage",
        "peak",
        "maximum",
        "minimum",
        "between",
        "from",
        "to",
        "show",
        "me",
        "give",
        "tell",
        "this",
        "during",
        "did",
        "does",
        "when",
        "by",
        "per",
        "trend",
    ]
)

_REASONS: dict[str, tuple[str, str]] = {
    "unsafe": (
        "Solo respondo preguntas de lectura sobre los datos; no ejecuto órdenes ni SQL.",
        "I only answer read-only questions about the data; I do not run commands or SQL.",
    ),
    "prices": (
        "No hay datos de precios: solo demanda, generación por tecnología y la previsión del operador.",
        "There is no price data: only demand, generation by technology and the operator's forecast.",
    ),
    "exchanges": (
        "Los intercambios internacionales y las exportaciones de datos quedan fuera de esta consulta.",
        "Cross-border exchanges and data exports are out of scope for this endpoint.",
    ),
    "topic": (
        "Ese tema (emisiones, clima, capacidad instalada) no está en los datos.",
        "That topic (emissions, weather, installed capacity) is not in the data.",
    ),
    "region": (
        "Solo hay datos del sistema nacional y del peninsular, no de otras regiones o países.",
        "There is data for the national and the peninsular system only, not for other regions or countries.",
    ),
    "no_measure": (
        "No he entendido qué medida se pide (demanda, generación, cuota renovable o previsión del operador).",
        "I could not tell which measure is asked for (demand, generation, a share or the operator forecast).",
    ),
    "two_measures": (
        "La pregunta mezcla varias medidas; pregunta por una cada vez.",
        "The question mixes several measures; ask about one at a time.",
    ),
    "two_technologies": (
        "La pregunta nombra varias tecnologías; pregunta por una cada vez.",
        "The question names several technologies; ask about one at a time.",
    ),
    "share_of_what": (
        "No queda claro de qué tecnología se pide la cuota (por ejemplo, renovable o eólica).",
        "It is not clear which technology's share is asked for (renewable or wind, for example).",
    ),
    "forecast_technology": (
        "Solo hay previsión del operador para la demanda, no para la generación.",
        "The operator's forecast covers demand only, not generation.",
    ),
    "no_period": (
        "Falta el periodo: di por ejemplo «ayer», «la semana pasada» o «en marzo de 2024».",
        "The period is missing: say for example 'yesterday', 'last week' or 'in March 2024'.",
    ),
    "too_many_periods": (
        "La pregunta nombra más de dos periodos; puedo comparar dos como mucho.",
        "The question names more than two periods; I can compare two at most.",
    ),
    "compare_needs_two": (
        "Para comparar necesito dos periodos, por ejemplo «enero frente a febrero de 2024».",
        "A comparison needs two periods, for example 'January vs February 2024'.",
    ),
    "max_and_min": (
        "La pregunta pide a la vez el máximo y el mínimo; pregunta por uno cada vez.",
        "The question asks for both the maximum and the minimum; ask for one at a time.",
    ),
    "ambiguous_date": (
        "La fecha es ambigua (día/mes); escríbela como 15/04/2021 o 2021-04-15.",
        "The date is ambiguous (day/month); write it as 2021-04-15 or 15 April 2021.",
    ),
    "invalid_date": (
        "La fecha no existe o no la he podido interpretar.",
        "The date does not exist or could not be read.",
    ),
    "invalid_hour": (
        "Esa hora no existe; usa por ejemplo «a las 15:00».",
        "That time of day does not exist; use for example 'at 15:00'.",
    ),
    "ambiguous_hour": (
        "La hora es ambigua; indica por ejemplo «a las 15:00» o «at 3 pm».",
        "The time of day is ambiguous; say for example 'at 15:00' or 'at 3 pm'.",
    ),
    "hour_needs_day": (
        "Una hora o parte del día necesita un solo día («ayer a las 15:00», «ayer por la tarde»).",
        "A time or part of the day needs a single day ('yesterday at 15:00', 'yesterday evening').",
    ),
    "missing_hour": (
        "Esa hora no existe ese día (cambio al horario de verano).",
        "That hour does not exist on that day (the spring daylight-saving change).",
    ),
    "future": (
        "Ese periodo aún no ha ocurrido; solo la previsión del operador puede tener datos del futuro.",
        "That period has not happened yet; only the operator's forecast can have future data.",
    ),
    "threshold": (
        "No respondo a recuentos por umbral («horas con más de X MW»).",
        "I do not answer threshold counts ('hours above X MW').",
    ),
    "unsupported": (
        "No calculo errores de previsión ni estadísticas así; sí demanda, generación, cuotas y previsión.",
        "I do not compute forecast errors or such statistics; only demand, generation, shares and forecast.",
    ),
    "partial_period": (
        "No interpreto esa parte de un periodo (principios o finales de mes, quincenas, las navidades, "
        "festivos móviles); indica fechas u horas concretas.",
        "I do not read that part of a period (early/late in a month, fortnights, the holiday season, "
        "moveable holidays); give dates or hours.",
    ),
    "stray_number": (
        "Hay un número en la pregunta que no sé interpretar como fecha, hora o cantidad.",
        "The question has a number I cannot read as a date, a time or a count.",
    ),
    "plants": (
        "No hay datos por central, solo por tecnología; pregunta por ejemplo "
        "«¿qué tecnología generó más ayer?».",
        "There is no data per power plant, only per technology; ask e.g. "
        "'which technology generated the most yesterday?'.",
    ),
    "demand_by_technology": (
        "La demanda no se desglosa por tecnología; la generación sí («generación por tecnología ayer»).",
        "Demand is not split by technology; generation is ('generation by technology yesterday').",
    ),
    "rank_compare": (
        "Ordeno las tecnologías dentro de un periodo, no en dos periodos a la vez; pregunta por cada uno.",
        "I rank technologies within one period, not across two at once; ask about each period.",
    ),
    "rank_series": (
        "No doy la serie de cada tecnología; pide el ranking de un periodo o la evolución de una tecnología.",
        "I do not give a series per technology; ask for one period's ranking or one technology's trend.",
    ),
    "bad_k": (
        "El número de resultados pedido debe estar entre 1 y 100.",
        "The number of results asked for must be between 1 and 100.",
    ),
    "too_many_points": (
        "La serie pedida tiene demasiados puntos; pide una granularidad mayor (por día, semana o mes).",
        "The series asked for has too many points; ask for a coarser one (by day, week or month).",
    ),
    "actual_vs_forecast": (
        "No comparo demanda real con prevista en una sola pregunta; pregunta por cada una.",
        "I do not compare actual and forecast demand in one question; ask about each.",
    ),
}


def refusal(code: str, language: str, kind: str, topic: str | None = None) -> AskRefusal:
    """An :class:`AskRefusal` with the reason for ``code`` and suggestions, in ``language``."""
    es, en = _REASONS[code]
    return AskRefusal(
        es if language == "es" else en, suggestions=suggestions(language, topic), language=language, kind=kind
    )


_SPELLER = Speller(lx.VOCABULARY | TIME_WORDS, lx.CORRECTION_TARGETS | TIME_WORDS)


@dataclass(frozen=True)
class Reading:
    """A question as the parser reads it: folded, tokenised, typo-corrected."""

    text: str
    language: str


def read(question: str) -> Reading:
    """Fold, tokenise and correct ``question``; guess its language.

    Parameters
    ----------
    question
        The raw question.

    Returns
    -------
    Reading
    """
    words = [_SPELLER.correct(t) for t in tokens(fold(question))]
    return Reading(" ".join(words), detect_language(words))


def detect_language(words: list[str]) -> str:
    """``"en"`` when more tokens are English markers than Spanish ones, else ``"es"``."""
    spanish = sum(w in _ES_MARKERS for w in words)
    english = sum(w in _EN_MARKERS for w in words)
    return "en" if english > spanish else "es"


def refuse_unsafe(question: str, reading: Reading) -> None:
    """Refuse SQL, commands and requests to change or leak data, whatever the question is about.

    Raises
    ------
    AskRefusal
        ``unsafe``.
    """
    text = reading.text
    if _SQL_SYNTAX.search(fold(question)) or _UNSAFE.search(text) or _UNSAFE_COMMAND.search(text):
        raise refusal("unsafe", reading.language, "unsafe")


def parse(question: str, as_of: dt.datetime) -> Intent:
    """Understand a question asked at ``as_of``.

    Parameters
    ----------
    question
        Spanish or English text.
    as_of
        When it is asked (aware); relative periods are resolved in Europe/Madrid from it.

    Returns
    -------
    Intent

    Raises
    ------
    AskRefusal
        Not understood, ambiguous, out of scope, or unsafe.
    """
    reading = read(question)
    text, language = reading.text, reading.language
    refuse_unsafe(question, reading)
    if _PRICES.search(text):
        raise refusal("prices", language, "out_of_scope")
    if _EXCHANGES.search(text):
        raise refusal("exchanges", language, "out_of_scope")
    if _OTHER_TOPICS.search(text):
        raise refusal("topic", language, "out_of_scope")
    madrid_time = re.sub(r"(?:hora|horario) (?:de |peninsular de )?madrid|madrid time", " ", text)
    if _OTHER_REGIONS.search(madrid_time):
        raise refusal("region", language, "out_of_scope")
    if _THRESHOLD.search(text):
        raise refusal("threshold", language, "not_understood")
    # The operator's forecast error is answered; other statistics are not.
    error_statistic = (
        "mape" if _ERROR_PERCENT.search(text) else ("mae" if _ERROR_ABSOLUTE.search(text) else None)
    )
    if _UNSUPPORTED.search(_drop(text, _ERROR_PERCENT, _ERROR_ABSOLUTE)):
        raise refusal("unsupported", language, "not_understood")

    if _PARTIAL_PERIOD.search(text):
        raise refusal("partial_period", language, "ambiguous")
    # "Los sábados de 2024" keeps one weekday's hours; "de lunes a domingo" asks for each weekday.
    # Neither is a date, so they are read before the time expressions.
    every = _EVERY_WEEKDAY.search(text)
    one_weekday = WEEKDAY_KEYS[lx.EVERY_WEEKDAY[every.group(0)]] if every else None
    each_weekday = bool(_EVERY_DAY.search(text))
    text = _drop(text, _EVERY_WEEKDAY, _EVERY_DAY)
    times = extract_times(text, as_of, language)
    rest = _without(text, times.spans)
    if times.problem:
        raise refusal(times.problem, language, "ambiguous")
    # A part of the day, season or holiday the time expressions did not read ("la tarde" of a
    # month): answering without it would answer another question.
    if _READ_PERIOD_WORDS.search(rest) or _UNREAD_PERIOD_PARTS.search(rest):
        raise refusal("partial_period", language, "ambiguous")
    if _stray_numbers(rest):
        raise refusal("stray_number", language, "not_understood")
    # Read before the measure: "porcentaje" here is the change's unit, not a share.
    percent_change = bool(_PERCENT_CHANGE.search(rest))
    rest = _drop(rest, _WHEN_OF_EXTREME, _PERCENT_CHANGE)
    if error_statistic is not None:
        rest = _drop(rest, _ERROR_PERCENT, _ERROR_ABSOLUTE)
    rest, days, group = _kinds_of_day(rest)
    days = days or one_weekday
    group = group or ("weekday" if each_weekday and days is None else None)
    versus = _versus(rest, language) if error_statistic is None else None
    if versus is not None:
        measure, technology, ranking = versus[0], versus[1], False
    elif error_statistic is not None and not any(
        p.search(rest) for p in (_FORECAST, _DEMAND, _GENERATION, _SHARE)
    ):
        # "forecast error (MAE) last month": the error's words named the forecast they score.
        measure, technology, ranking = "forecast", None, False
    else:
        measure, technology, ranking = _measure(rest, text, language)
    if error_statistic is not None:
        if measure not in ("forecast", "demand") or ranking:  # only the demand forecast is scored
            raise refusal("unsupported", language, "not_understood")
        measure = "forecast"
    topic = (
        "forecast"
        if measure == "forecast"
        else ("generation" if measure in ("generation", "share") else "demand")
    )
    region = "peninsular" if _PENINSULAR.search(rest) else "national"
    periods, measure = _periods(times, rest, as_of, measure, language, topic, percent_change)
    if error_statistic is not None:
        if len(periods) != 1:
            raise refusal("unsupported", language, "not_understood")
        return Intent(
            language=language,
            measure="forecast",
            aggregate="error",
            periods=tuple(periods),
            region=region,
            inner=error_statistic,  # type: ignore[arg-type]
            days=days,  # type: ignore[arg-type]
        )
    if versus is not None:
        if len(periods) != 1 or group is not None:
            raise refusal(
                "two_technologies" if versus[1] else "actual_vs_forecast", language, "ambiguous", topic
            )
        return Intent(
            language=language,
            measure=measure,  # type: ignore[arg-type]
            aggregate="compare",
            periods=tuple(periods),
            technology=technology,
            region=region,
            inner="average" if _AVG.search(rest) else "total",
            against=versus[2],
            days=days,  # type: ignore[arg-type]
        )
    if (days or group) and ranking:
        raise refusal("rank_compare", language, "ambiguous", "generation")
    if group is not None:
        return _grouped(rest, language, measure, technology, region, periods, group, topic)
    if ranking:
        return _rank(rest, language, measure, technology, region, periods)
    shaped = _shape(rest, language, measure, technology, region, periods, times, topic, percent_change)
    return replace(shaped, days=days)


def _kinds_of_day(rest: str) -> tuple[str, str | None, str | None]:
    """``rest`` without its kind-of-day words, the hours kept (``days``) and the grouping asked for.

    Weekends and weekdays named together are compared side by side (``daytype``); a weekday
    grouping ("por día de la semana", "which weekday") gives one value per weekday.
    """
    weekends, workdays = bool(_WEEKENDS.search(rest)), bool(_WORKDAYS.search(rest))
    by_weekday = bool(_BY_WEEKDAY.search(rest))
    cleaned = _drop(rest, _WEEKENDS, _WORKDAYS, _BY_WEEKDAY)
    if weekends and (workdays or by_weekday):
        return cleaned, None, "daytype"
    if by_weekday:
        return cleaned, None, "weekday"
    if weekends or workdays:
        return cleaned, ("weekends" if weekends else "weekdays"), None
    return rest, None, None


def _grouped(
    rest: str,
    language: str,
    measure: str,
    technology: lx.Technology | None,
    region: str,
    periods: list[Period],
    group: str,
    topic: str,
) -> Intent:
    """One value per weekday or per kind of day: the hourly mean (a total when asked), or the top one."""
    if len(periods) != 1:
        raise refusal("compare_needs_two", language, "ambiguous", topic)
    wants_min = bool(_MIN.search(rest))
    extreme = wants_min or bool(_MAX.search(rest) or _MORE.search(rest))
    total = bool(_TOTAL.search(rest)) and not _AVG.search(rest)
    return Intent(
        language=language,
        measure=measure,  # type: ignore[arg-type]
        aggregate="group",
        periods=tuple(periods),
        technology=technology,
        region=region,
        inner="total" if total else "average",
        k=1 if extreme else None,
        order="asc" if wants_min else "desc",
        group=group,  # type: ignore[arg-type]
    )


def _rank(
    rest: str,
    language: str,
    measure: str,
    technology: lx.Technology | None,
    region: str,
    periods: list[Period],
) -> Intent:
    """A ranking of technologies over one period: the winner, the top k, or all of them (k None)."""
    if len(periods) != 1 or _COMPARE.search(rest):
        raise refusal("rank_compare", language, "ambiguous", "generation")
    period = periods[0]
    bucket = _GRAN_PER.search(rest) or _GRAN_ADJECTIVE.search(rest)
    if _EVOLUTION.search(rest) or (bucket and period.hours > _MAX_HOURS[_granularity(bucket.group("g"))]):
        # "generación diaria por tecnología ayer" is one day: one ranking. Over a month it is a series.
        raise refusal("rank_series", language, "ambiguous", "generation")
    ordering = _ASCENDING.search(rest) or _DESCENDING.search(rest)
    plain = _without(rest, [ordering.span()]) if ordering else rest
    wants_min = bool(_MIN.search(plain))
    wants_max = bool(_MAX.search(plain) or _MORE.search(plain) or _LEADING.search(plain))
    if wants_min and wants_max:
        raise refusal("max_and_min", language, "ambiguous", "generation")
    order = "asc" if (_ASCENDING.search(rest) if ordering else wants_min) else "desc"
    counted = _TOP_K.search(plain) or _RANK_K.search(plain)
    k = _count(counted.group("n")) if counted else None
    ordinal = _ORDINAL.search(plain)
    if k is None and ordinal and lx.ORDINALS[ordinal.group("o")] > 1:
        k = lx.ORDINALS[ordinal.group("o")]  # "the second largest": the list down to the second
    if k is not None and not 1 <= k <= 100:
        raise refusal("bad_k", language, "ambiguous", "generation")
    plural = _PLURAL_RANKED.search(plain) and not _SINGULAR_RANKED.search(plain)
    if k is None and (wants_min or wants_max) and not plural and not _BREAKDOWN_STRONG.search(plain):
        k = 1  # "¿qué tecnología generó más?": the winner
    inner = "average" if _AVG.search(plain) and measure == "generation" else "total"
    return Intent(
        language=language,
        measure=measure,  # type: ignore[arg-type]
        aggregate="rank",
        periods=(period,),
        technology=technology,
        region=region,
        inner=inner,  # type: ignore[arg-type]
        k=k,
        order=order,  # type: ignore[arg-type]
    )


def _stray_numbers(rest: str) -> bool:
    """Numbers left after the time expressions that count nothing ("top 5", "3 días" do): unread dates."""
    counts = (*_TOP_K.finditer(rest), *_K_UNIT.finditer(rest), *_RANK_K.finditer(rest))
    counted = " ".join(m.group(0) for m in counts)
    leftover = [t for t in rest.split() if t[0].isdigit()]
    return any(number not in counted.split() for number in leftover)


def _drop(text: str, *patterns: re.Pattern[str]) -> str:
    """``text`` without what ``patterns`` match (applied in order), spaces collapsed."""
    for pattern in patterns:
        text = pattern.sub(" ", text)
    return " ".join(text.split())


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        for i in range(max(start, 0), min(end, len(chars))):
            chars[i] = " "
    return " ".join("".join(chars).split())


def _measure(rest: str, text: str, language: str) -> tuple[str, lx.Technology | None, bool]:
    """The measure, its technology, and whether technologies are ranked (the technology then filters)."""
    techs = {_TECH_BY_PHRASE[m.group(0)] for m in _TECH.finditer(rest)}
    techs = _merge_solar(techs)
    if len(techs) > 1:
        raise refusal("two_technologies", language, "ambiguous", "generation")
    technology = next(iter(techs), None)
    ranking = _is_ranking(rest, technology)
    if _PLANTS.search(rest) and (technology is None or ranking or _WHICH_PLANT.search(rest)):
        raise refusal("plants", language, "out_of_scope", "generation")
    share = bool(_SHARE.search(rest))
    forecast = bool(_FORECAST.search(rest))
    demand = bool(_DEMAND.search(rest))
    generation = bool(_GENERATION.search(rest) or _TOTAL_GENERATION.search(rest))
    if forecast and (technology is not None or generation or ranking):
        raise refusal("forecast_technology", language, "out_of_scope", "forecast")
    if ranking:
        if demand and not generation:
            raise refusal("demand_by_technology", language, "ambiguous", "generation")
        return ("share" if share else "generation"), technology, True
    if forecast:
        if _ACTUAL[language].search(rest):
            raise refusal("actual_vs_forecast", language, "ambiguous", "forecast")
        return "forecast", None, False
    if share:
        if technology is None:
            raise refusal("share_of_what", language, "ambiguous", "generation")
        return "share", technology, False
    if demand and (generation or technology is not None):
        raise refusal("two_measures", language, "ambiguous")
    if generation or technology is not None:
        return "generation", technology, False
    if demand:
        return "demand", None, False
    raise refusal("no_measure", language, "not_understood")


def _versus(rest: str, language: str) -> tuple[str, lx.Technology | None, lx.Technology | str] | None:
    """Two things compared over one period: ``("generation", first, second)`` for two technologies
    ("nuclear vs wind", "¿más solar o eólica?"), ``("demand", None, "forecast")`` for the actual
    demand against the operator's forecast; None otherwise (rankings and shares are not pairs)."""
    if _FORECAST.search(rest) and _ACTUAL[language].search(rest):
        return "demand", None, "forecast"
    ordered: list[lx.Technology] = []
    for match in _TECH.finditer(rest):
        tech = _TECH_BY_PHRASE[match.group(0)]
        if tech not in ordered:
            ordered.append(tech)
    ordered = [t for t in ordered if t in _merge_solar(set(ordered))]
    if len(ordered) != 2 or _SHARE.search(rest) or _TECHNOLOGY_WORD.search(rest) or _DEMAND.search(rest):
        return None
    return "generation", ordered[0], ordered[1]


def _is_ranking(rest: str, technology: lx.Technology | None) -> bool:
    """Whether the question ranks technologies: "¿qué tecnología generó más?", "mix de ayer",
    "¿qué renovable produjo más?" (a family of technologies is then what is ranked)."""
    if technology is None:
        superlative = _MAX.search(rest) or _MIN.search(rest) or _MORE.search(rest) or _LEADING.search(rest)
        asks_which = _WHO.search(rest) or _WHICH_ENERGY.search(rest)
        return bool(_TECHNOLOGY_WORD.search(rest) or _BREAKDOWN.search(rest) or (asks_which and superlative))
    if not lx.is_family(technology):
        return False
    if (
        _WHICH_FAMILY.search(rest)
        or _FAMILY_THAT.search(rest)
        or _LEADING_FAMILY.search(rest)
        or _BREAKDOWN_STRONG.search(rest)
    ):
        return True
    counted = _RANK_K.search(rest) and not _K_UNIT.search(rest)
    superlative = _MAX.search(rest) or _MIN.search(rest) or _MORE.search(rest) or _TOP_K.search(rest)
    return bool(counted or (_TECHNOLOGY_WORD.search(rest) and (superlative or _EACH.search(rest))))


def _merge_solar(techs: set[lx.Technology]) -> set[lx.Technology]:
    """ "solar" next to "fotovoltaica" said twice is one technology, the narrower one."""
    keys = {t.key for t in techs}
    if "solar" in keys and keys & {"solar_pv", "solar_thermal"}:
        return {t for t in techs if t.key != "solar"}
    return techs


def _periods(
    times: TimeExpressions,
    rest: str,
    as_of: dt.datetime,
    measure: str,
    language: str,
    topic: str,
    percent_change: bool = False,
) -> tuple[list[Period], str]:
    """The question's periods, cut at the last complete hour for measured data, and the measure.

    Demand asked about a period that has not started yet can only be the operator's forecast:
    the measure becomes ``forecast`` (the answer says so).
    """
    periods = list(times.periods)
    if len(periods) == 1 and times.range_parts and (_COMPARE.search(rest) or percent_change):
        # "la diferencia entre enero y febrero": the two ends of the range are the compared periods.
        periods = list(times.range_parts[0])
    if times.shift_year:
        if len(periods) != 1:
            raise refusal("compare_needs_two", language, "ambiguous", topic)
        periods.append(periods[0].shifted_years(-1))
    now_hour = as_of.astimezone(MADRID).replace(minute=0, second=0, microsecond=0)
    if times.clock is not None or times.clock_range is not None:
        if times.clock is not None and times.clock.ambiguous:
            raise refusal("ambiguous_hour", language, "ambiguous", topic)
        if not periods:
            periods = [_default_day_for_hour(times, now_hour, measure)]
        if any(p.hours > 25 for p in periods):
            raise refusal("hour_needs_day", language, "ambiguous", topic)
        periods = [_at_clock(p, times, language, topic) for p in periods]
    if not periods and _NOW.search(rest):
        periods = [Period(add_hours(now_hour, -1), now_hour, "ahora", "now")]
    if not periods and _RECORD.search(rest):  # "el récord de demanda": over all the data
        periods = [Period(Period.day(EPOCH).start, Period.day(now_hour.date() + dt.timedelta(days=1)).start)]
    if not periods:
        raise refusal("no_period", language, "ambiguous", topic)
    if len(periods) > 2:
        raise refusal("too_many_periods", language, "ambiguous", topic)
    if len(periods) == 2 and not _COMPARE.search(rest) and not _JOINED.search(rest):
        # "Christmas Eve demand last year": a period inside the other narrows it, it is not compared
        # (unless the question joins them: "en 2023 y en marzo").
        a, b = periods
        if a.start_utc >= b.start_utc and a.end_utc <= b.end_utc:
            periods = [a]
        elif b.start_utc >= a.start_utc and b.end_utc <= a.end_utc:
            periods = [b]
    if measure == "demand" and all(p.clip(as_of).is_empty for p in periods):
        return periods, "forecast"
    if measure != "forecast":
        clipped = [p.clip(as_of) for p in periods]
        if any(p.is_empty for p in clipped):
            raise refusal("future", language, "no_data", "forecast")
        periods = _same_elapsed(clipped)
    return periods, measure


def _same_elapsed(periods: list[Period]) -> list[Period]:
    """A running period compared with a finished one: cut the finished one at the same point.

    "Este mes frente al mismo mes del año pasado" on the 17th compares the 1st-17th of both.
    """
    if len(periods) != 2 or (periods[0].clipped_from is None) == (periods[1].clipped_from is None):
        return periods
    running, other = (
        (periods[0], periods[1]) if periods[0].clipped_from is not None else (periods[1], periods[0])
    )
    if running.start.day == other.start.day and running.start.hour == other.start.hour:
        # Periods aligned on the calendar ("this month" and "last month", "2024" and "2023"): cut
        # the other at the same date and hour, months or years earlier (leap days make durations lie).
        months = (other.start.year - running.start.year) * 12 + other.start.month - running.start.month
        target = running.end.date()
        moved = month_start(target.year, target.month + months)
        last_day = (month_start(moved.year, moved.month + 1) - dt.timedelta(days=1)).day
        wall = dt.datetime.combine(moved.replace(day=min(target.day, last_day)), dt.time(running.end.hour))
    else:
        elapsed = running.end.replace(tzinfo=None) - running.start.replace(tzinfo=None)
        wall = other.start.replace(tzinfo=None) + elapsed
    end = local_hour(wall.date(), wall.hour) or add_hours(Period.day(wall.date()).start, wall.hour)
    if end.astimezone(dt.UTC) >= other.end_utc:
        return periods
    cut = replace(other, end=end, clipped_from=other.end)
    return [running, cut] if periods[0] is running else [cut, running]


def _default_day_for_hour(times: TimeExpressions, now_hour: dt.datetime, measure: str) -> Period:
    """A time of day without a day: today's, or yesterday's when today's has not ended yet."""
    today = now_hour.date()
    last_hour = times.clock.hour + 1 if times.clock is not None else (times.clock_range or (0, 0))[1]
    ended = now_hour.astimezone(dt.UTC) >= add_hours(Period.day(today).start, last_hour).astimezone(dt.UTC)
    if measure == "forecast" or ended:
        return Period.day(today, "hoy", "today")
    return Period.day(today - dt.timedelta(days=1), "ayer", "yesterday")


def _at_clock(day: Period, times: TimeExpressions, language: str, topic: str) -> Period:
    if times.clock is not None:
        period = hour_period(day, times.clock.hour)
        if period is None:
            raise refusal("missing_hour", language, "ambiguous", topic)
        return period
    assert times.clock_range is not None
    first, last = times.clock_range
    start = hour_period(day, first)
    end_hour = hour_period(day, last) if last < 24 else None
    end = Period.day(day.start.date()).end if last == 24 else (end_hour.start if end_hour else None)
    if start is None or end is None:
        raise refusal("missing_hour", language, "ambiguous", topic)
    name_es, name_en = day.name_es, day.name_en
    if times.day_part is not None and name_es and name_en:  # "ayer por la tarde", "yesterday evening"
        name_es, name_en = f"{name_es} {times.day_part[0]}", f"{name_en} {times.day_part[1]}"
    return Period(start.start, end, name_es, name_en)


def _granularity(word: str) -> str:
    if word in lx.GRANULARITY:
        return lx.GRANULARITY[word]
    stem = {"hor": "hour", "dia": "day", "sem": "week", "men": "month", "anu": "year"}
    return stem.get(word[:3], "day")


def _shape(
    rest: str,
    language: str,
    measure: str,
    technology: lx.Technology | None,
    region: str,
    periods: list[Period],
    times: TimeExpressions,
    topic: str,
    percent_change: bool = False,
) -> Intent:
    def intent(**fields) -> Intent:  # type: ignore[no-untyped-def]
        chosen = periods
        granularity = fields.get("granularity")
        if fields["aggregate"] in ("max", "min", "top", "average") and granularity not in (None, "hour"):
            # Ranking or averaging buckets compares whole days/weeks/months only: a partial one at
            # either end (today so far, a week cut by the month) would win every "lowest".
            chosen = [whole_buckets(periods[0], granularity)]
        return Intent(
            language=language,
            measure=measure,
            technology=technology,
            region=region,  # type: ignore[arg-type]
            periods=tuple(chosen),
            **fields,
        )

    wants_min = bool(_MIN.search(rest))
    # "top" ranks largest first unless the question asks for the lowest ("top 3 lowest days").
    wants_max = bool(_MAX.search(rest)) or (" top " in f" {rest} " and not wants_min)
    wants_avg = bool(_AVG.search(rest))
    adjective = _GRAN_ADJECTIVE.search(rest)
    per = _GRAN_PER.search(rest)
    bucket = _granularity((per or adjective).group("g")) if (per or adjective) else None
    trend_word = bool(_TREND.search(rest))
    period = periods[0]

    if len(periods) == 2 or _COMPARE.search(rest) or percent_change:
        if len(periods) != 2:
            raise refusal("compare_needs_two", language, "ambiguous", topic)
        inner = "total"
        if _PEAK_WORDS.search(rest) and not _LOW_WORDS.search(rest):
            inner = "max"
        elif _LOW_WORDS.search(rest) and not _PEAK_WORDS.search(rest):
            inner = "min"
        elif wants_avg:
            inner = "average"
        elif all(p.is_hour for p in periods):
            inner = "instant"
        return intent(aggregate="compare", inner=inner, change="percent" if percent_change else None)

    top = _TOP_K.search(rest)
    k_unit = _K_UNIT.search(rest)
    k = None
    if top:
        k = _count(top.group("n"))
    elif k_unit and (wants_max or wants_min or _MORE.search(rest)):
        k = _count(k_unit.group("n"))
    if k is not None and not 1 <= k <= 100:
        raise refusal("bad_k", language, "ambiguous", topic)
    if wants_max and wants_min and not trend_word:
        raise refusal("max_and_min", language, "ambiguous", topic)
    extreme = wants_max or wants_min or bool(_MORE.search(rest))
    order = "asc" if wants_min else "desc"
    noun = _GRAN_NOUN.search(rest)

    if k is not None and k > 1:
        unit = k_unit.group("g") if k_unit else (noun.group("g") if noun else "hora")
        granularity = _fit(_granularity(unit), period)
        inner = "average" if wants_avg and granularity != "hour" else "total"
        return intent(aggregate="top", granularity=granularity, k=k, order=order, inner=inner)

    # "Por mes", "per month" asks for the series, one value per bucket, even of averages ("la
    # demanda media por mes en 2023"); an adjective ("la demanda media diaria") asks for one value.
    if trend_word or (bucket and not extreme and (not wants_avg or per is not None)):
        granularity = bucket or (_granularity(noun.group("g")) if noun else _default_trend_grain(period))
        granularity = _fit(granularity, period)
        if _points(period, granularity) > 1000:
            raise refusal("too_many_points", language, "ambiguous", topic)
        inner = "average" if wants_avg else ("max" if wants_max else ("min" if wants_min else "total"))
        return intent(aggregate="trend", granularity=granularity, inner=inner)

    if extreme and not period.is_hour:
        unit = (noun.group("g") if noun else None) or (adjective.group("g") if adjective else None)
        granularity = _fit(_granularity(unit), period) if unit else "hour"
        inner = "average" if wants_avg and granularity != "hour" else "total"
        if measure == "share":
            inner = "total"
        return intent(
            aggregate="max" if order == "desc" else "min",
            granularity=granularity,
            inner=inner,
            k=1,
            order=order,
        )

    if wants_avg and not period.is_hour and measure != "share":
        granularity = _fit(bucket, period) if bucket and bucket != "hour" else "hour"
        return intent(aggregate="average", granularity=granularity, inner="average")

    if period.is_hour:
        return intent(aggregate="instant", granularity="hour", inner="instant")
    return intent(aggregate="total", inner="total")


def whole_buckets(period: Period, granularity: str) -> Period:
    """The part of ``period`` made of whole local days, ISO weeks, months or years (itself if none fits)."""
    first, after = period.start.date(), period.end.date()
    if period.start_utc != Period.day(first).start_utc:
        first += dt.timedelta(days=1)

    def floor(day: dt.date) -> dt.date:
        if granularity == "week":
            return day - dt.timedelta(days=day.weekday())
        if granularity == "month":
            return day.replace(day=1)
        if granularity == "year":
            return day.replace(month=1, day=1)
        return day

    start = floor(first)
    if start < first:
        start = _next_bucket(start, granularity)
    end = floor(after)
    if start >= end:
        return period
    trimmed = Period.days(start, end, period.name_es, period.name_en)
    if trimmed.start_utc == period.start_utc and trimmed.end_utc == period.end_utc:
        return period
    return replace(trimmed, name_es=period.name_es, name_en=period.name_en, clipped_from=None)


def _next_bucket(day: dt.date, granularity: str) -> dt.date:
    if granularity == "week":
        return day + dt.timedelta(days=7)
    if granularity == "month":
        return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if granularity == "year":
        return day.replace(year=day.year + 1)
    return day + dt.timedelta(days=1)


def _count(word: str) -> int:
    return int(word) if word.isdigit() else lx.NUMBER_WORDS[word]


_ORDER = {"hour": 0, "day": 1, "week": 2, "month": 3, "year": 4}
#: The most hours one bucket can hold (daylight-saving days have 25, leap years 8784).
_MAX_HOURS = {"hour": 1, "day": 25, "week": 169, "month": 745, "year": 8785}


def _fit(granularity: str, period: Period) -> str:
    """A bucket smaller than the period: "el día de mayor demanda" within one day is the hour."""
    if period.hours > _MAX_HOURS[granularity]:
        return granularity
    for candidate in ("year", "month", "week", "day"):
        if _ORDER[candidate] < _ORDER[granularity] and period.hours > _MAX_HOURS[candidate]:
            return candidate
    return "hour"


def _default_trend_grain(period: Period) -> str:
    hours = period.hours
    if hours <= 72:
        return "hour"
    if hours <= 24 * 93:
        return "day"
    if hours <= 24 * 366 * 3:
        return "month"
    return "year"


def _points(period: Period, granularity: str) -> float:
    return period.hours / {"hour": 1, "day": 24, "week": 168, "month": 730, "year": 8760}[granularity]
