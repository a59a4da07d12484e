"""The words the time-series parser knows, folded (lower case, no accents), in every language.

The words are data: the grammar in :mod:`datalake.ask.words` (one module per language) and what
electricity questions are about in :mod:`datalake.datasets.electricity`. This module joins the
languages into the concepts the parser matches (a question may mix them: "la demanda peak"), and
says here what each concept is for. A phrase is one or more folded tokens separated by spaces;
the parser matches them on token boundaries, after typo correction against :data:`VOCABULARY`.
"""

from __future__ import annotations

import re

from datalake.ask.text import fold
from datalake.ask.words import en, es
from datalake.datasets.electricity import ELECTRICITY_WORDS, TECHNOLOGIES, Technology
from datalake.datasets.semantics import Words

__all__ = ["TECHNOLOGIES", "Technology"]

#: The languages the words come in (each a data module of :mod:`datalake.ask.words`).
LANGUAGES = (es, en)


def _grammar(concept: str) -> tuple[str, ...]:
    """A grammar concept's phrases in every language, folded, each once."""
    return tuple(dict.fromkeys(fold(p) for language in LANGUAGES for p in language.PARSER[concept]))


def _about(concept: str) -> tuple[str, ...]:
    """An electricity concept's phrases in every language, folded, each once."""
    words: Words = ELECTRICITY_WORDS[concept]
    return tuple(dict.fromkeys(fold(p) for p in words.es + words.en))


def joined(table: str) -> dict:  # type: ignore[type-arg]
    """One of the languages' word -> value tables, joined (``MONTHS``, ``WEEKDAYS``...)."""
    return {fold(word): value for language in LANGUAGES for word, value in getattr(language, table).items()}


MONTHS: dict[str, int] = joined("MONTHS")
MONTH_NAMES_ES, MONTH_NAMES_EN = es.MONTH_NAMES, en.MONTH_NAMES
WEEKDAYS: dict[str, int] = joined("WEEKDAYS")
#: Local weekday names (Monday first), as answers write them.
WEEKDAY_NAMES_ES, WEEKDAY_NAMES_EN = es.WEEKDAY_NAMES, en.WEEKDAY_NAMES
NUMBER_WORDS: dict[str, int] = joined("NUMBER_WORDS")


def _every_weekday() -> dict[str, int]:
    phrases: dict[str, int] = {}
    for language in LANGUAGES:
        for template in language.EVERY_WEEKDAY:
            for plural, number in language.WEEKDAY_PLURALS.items():
                day = next(d for d, n in language.WEEKDAYS.items() if n == number)
                phrases[fold(template.format(day=day, plural=plural))] = number
    return phrases


# "Los sábados de 2024", "on Mondays": the hours of that weekday only (Monday 0), never one date.
EVERY_WEEKDAY: dict[str, int] = _every_weekday()
# "La media de lunes a domingo": one value per weekday (not a range of two dates).
EVERY_DAY: tuple[str, ...] = tuple(fold(p) for language in LANGUAGES for p in language.EVERY_DAY)

# -- measures -------------------------------------------------------------------------------------

FORECAST = _about("forecast")
DEMAND = _about("demand")
GENERATION = _about("generation")
SHARE = _about("share")
OPERATOR = _about("operator")
TOTAL_GENERATION = _about("total_generation")
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

MAXIMUM = _grammar("maximum")
MINIMUM = _grammar("minimum")
# "más"/"more" mean the maximum only next to a measure: "el día con más demanda".
MORE = _grammar("more")
AVERAGE = _grammar("average")
TOTAL = _grammar("total")
COMPARE = _grammar("compare")
TREND = _grammar("trend")
# The error of the operator's demand forecast over a period, against the actual demand, hour by
# hour: in percent (MAPE) or in MW (MAE). Checked in this order: "error medio porcentual" is a MAPE.
FORECAST_ERROR_PERCENT = _grammar("forecast_error_percent")
FORECAST_ERROR_ABSOLUTE = _grammar("forecast_error_absolute")
# A comparison asked as a percentage change ("¿en qué porcentaje cambió...?", "percentage change"):
# the answer is one value, from the earlier period to the later. "Porcentaje" alone is a share.
PERCENT_CHANGE = _grammar("percent_change")
# Asking for the moment of an extreme ("con día y hora", "with the date and time"): every extreme's
# answer gives it, so these words ask for no bucket ("día" here is not "the day with the most").
WHEN_OF_EXTREME = _grammar("when_of_extreme")
# Bucketing phrases: "por día", "each week", "per month"; the unit follows.
PER = _grammar("per")
GRANULARITY: dict[str, str] = joined("GRANULARITY")
TOP = _grammar("top")

# -- regions and scope ----------------------------------------------------------------------------

PENINSULAR = _about("peninsular")
NATIONAL = _about("national")
OTHER_REGIONS = _about("other_regions")
PRICES = _about("prices")
EXCHANGES = _about("exchanges")
OTHER_TOPICS = _about("other_topics")
# Parts of periods the time expressions do not read: a question using them is refused.
# Halves, fortnights and weeks of a month are read (datalake.ask.period_parts); one left unread
# (no year or month after it to cut) is refused by UNREAD_PERIOD_PARTS.
PARTIAL_PERIOD = _grammar("partial_period")
# Kinds of day (local): the hours of weekends or of weekdays only ("la media de los fines de
# semana"), both side by side ("entre semana y en fin de semana", "weekday vs weekend"), or one
# value per weekday ("por día de la semana", "which weekday is busiest").
WEEKENDS = _grammar("weekends")
WORKDAYS = _grammar("workdays")
BY_WEEKDAY = _grammar("by_weekday")
# A part of a period the time expressions did not attach to a year or a month ("la última
# quincena", "the first half"): answering without it would answer another question.
UNREAD_PERIOD_PARTS = _grammar("unread_period_parts")
# Parts of the day, seasons and fixed-date holidays the time expressions read ("esta mañana", "el
# verano pasado", "en Navidad"); one left over in the question was not read, so it is refused.
READ_PERIOD_WORDS = _grammar("read_period_words")
# "Which technology...", "by source": a ranking of technologies.
WHICH_TECHNOLOGY = _about("which_technology")
# Words asking for every technology at once: a breakdown, largest first.
BREAKDOWN = _grammar("breakdown")
# "La principal fuente", "which technology led": the first of a ranking.
LEADING = _grammar("leading")
# "La segunda tecnología que más generó", "the third largest source": the top k down to it.
ORDINALS: dict[str, int] = joined("ORDINALS")
# "¿Quién generó más?": the subject is a technology.
WHO = _grammar("who")
# "De menor a mayor" or "de mayor a menor" orders a ranking; "mayor" and "menor" there ask for neither.
ASCENDING = _grammar("ascending")
DESCENDING = _grammar("descending")
# Power plants: the data has technologies, not plants.
PLANTS = _about("plants")
# Questions about measures the data has but answers it does not compute.
UNSUPPORTED = _grammar("unsupported")
UNSAFE = _grammar("unsafe")
#: Verbs that are ordinary words in a question ("how much did demand drop", "la energía que crea
#: la eólica") and commands only when a data object follows them ("drop table", "crea una tabla").
UNSAFE_WITH_OBJECT = _grammar("unsafe_with_object")
UNSAFE_OBJECTS = _grammar("unsafe_objects")

# Words that carry no meaning for the parser but must not be "corrected" into keywords.
FUNCTION_WORDS: tuple[str, ...] = es.FUNCTION_WORDS + en.FUNCTION_WORDS

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
    | _words(tuple(EVERY_WEEKDAY))
)


def phrase_pattern(phrases: tuple[str, ...] | list[str]) -> re.Pattern[str]:
    """A regex matching any of ``phrases`` on token boundaries of a space-joined token string."""
    ordered = sorted(set(phrases), key=len, reverse=True)  # longest first: "no renovable" before "renovable"
    body = "|".join(re.escape(p) for p in ordered)
    return re.compile(rf"(?<![^ ])(?:{body})(?![^ ])")


CORRECTION_TARGETS = VOCABULARY - _words(UNSAFE) - _words(UNSAFE_WITH_OBJECT)
