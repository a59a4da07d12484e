"""Time expressions in a folded question, resolved against the time of the question in Madrid.

:func:`extract_times` finds dates, months, years, quarters, relative days and weeks, ranges
("entre el 20 y el 25 de octubre", "from March 1 to March 15") and clock times ("a las 15:00",
"at 3 pm", "a mediodía") in the space-joined token string the parser works on. A date without
a year is the most recent past one. It reports the spans it used so the parser can read the
rest of the question without them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from datalake.ask import period_parts
from datalake.ask.lexicon import MONTHS, NUMBER_WORDS, WEEKDAYS
from datalake.ask.periods import (
    EPOCH,
    MADRID,
    Period,
    add_hours,
    local_hour,
    month_start,
    shift_years,
    week_start,
)

_MON = "|".join(sorted(MONTHS, key=len, reverse=True))
_DOW = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_NUM = r"\d{1,3}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_ORD = r"(?: (?:st|nd|rd|th|o|er|a))?"
_ES_DAYS = (  # noqa: SIM905
    "uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciseis "
    "diecisiete dieciocho diecinueve veinte veintiuno veintidos veintitres veinticuatro veinticinco "
    "veintiseis veintisiete veintiocho veintinueve treinta"
).split()
_EN_DAYS = (  # noqa: SIM905
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
).split()
#: Days of the month in words: "el quince de abril", "the fifteenth of April".
DAY_WORDS: dict[str, int] = {
    **{word: number for number, word in enumerate(_ES_DAYS, 1)},
    **{word: number for number, word in enumerate(_EN_DAYS, 1)},
    "primero": 1, "treinta y uno": 31, "thirtieth": 30, "thirty first": 31,
    **{f"twenty {word}": 20 + number for number, word in enumerate(_EN_DAYS[:9], 1)},
}  # fmt: skip
_DAY_WORD = "|".join(sorted(DAY_WORDS, key=len, reverse=True))
_D = rf"(?P<d>[0-3]?\d{_ORD}|{_DAY_WORD})"
_Y = r"(?P<y>(?:19|20)\d\d)"
_YREL = (
    r"(?P<yrel>el ano pasado|ano pasado|el ano anterior|ano anterior|este ano|el presente ano|"
    r"last year|this year|previous year|the previous year|the last year)"
)
_YSUF = rf"(?: (?:de |del |of |in )?(?:{_Y}|{_YREL}))?"
_QUARTERS = {
    "primer": 1,
    "primero": 1,
    "1": 1,
    "segundo": 2,
    "2": 2,
    "tercer": 3,
    "tercero": 3,
    "3": 3,
    "cuarto": 4,
    "4": 4,
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "last": 4,
    "ultimo": 4,
}
_RANGE_OPENERS = ("entre", "desde", "del", "de", "from", "between")
_RANGE_JOINERS = {
    "y": True,
    "and": True,
    "al": False,
    "a": False,
    "hasta": False,
    "to": False,
    "until": False,
    "till": False,
    "through": False,
    "thru": False,
    "-": False,
}
_FILLERS = ("el", "la", "las", "the", "dia", "de", "del", "of")


def _pattern(body: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![^ ])(?:{body})(?![^ ])")


@dataclass
class _Atom:
    start: int
    end: int
    kind: str  # day, month, year, quarter, period, daynum, weekday, shift
    year: int | None = None
    month: int | None = None
    day: int | None = None
    quarter: int | None = None
    period: Period | None = None
    year_offset: int | None = None
    day2: int | None = None  # last day of a "20-25" range  # "del año pasado": -1, "de este año": 0
    part: str | None = None  # a rule of datalake.ask.period_parts ("half_1"), for kind "part"


@dataclass(frozen=True)
class ClockTime:
    """A time of day ("a las 15:00"); ``ambiguous`` when it could be a.m. or p.m."""

    hour: int
    ambiguous: bool = False


@dataclass
class TimeExpressions:
    """What :func:`extract_times` found.

    Attributes
    ----------
    periods
        The periods, in the order the question gives them (a range is one period).
    clock
        A time of day, when one was given.
    clock_range
        ``(first_hour, end_hour)`` for "entre las 10 y las 14".
    spans
        Character spans of the token string that the expressions used.
    problem
        ``invalid_date``, ``ambiguous_date``, ``ambiguous_hour`` or None.
    shift_year
        The question said "the same period last year": the parser adds it against the other period.
    day_part
        The names (es, en) of a part of the day ("por la mañana") that set ``clock_range``.
    """

    periods: list[Period] = field(default_factory=list)
    clock: ClockTime | None = None
    clock_range: tuple[int, int] | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)
    problem: str | None = None
    shift_year: bool = False
    range_parts: list[tuple[Period, Period]] = field(default_factory=list)
    day_part: tuple[str, str] | None = None


class _Extractor:
    def __init__(self, text: str, today: dt.date, language: str) -> None:
        self.text = text
        self.today = today
        self.language = language
        self.used: list[tuple[int, int]] = []
        self.atoms: list[_Atom] = []
        self.problem: str | None = None
        #: End of the last complete hour: rolling "last N hours" windows end here.
        self.as_of_hour: dt.datetime | None = None

    def free(self, start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in self.used)

    def scan(self, pattern: re.Pattern[str], handle) -> None:  # type: ignore[no-untyped-def]
        for match in pattern.finditer(self.text):
            if not self.free(match.start(), match.end()):
                continue
            atom = handle(match)
            if atom is None:
                continue
            atom.start, atom.end = match.start(), match.end()
            self.used.append((match.start(), match.end()))
            self.atoms.append(atom)

    def invalid(self) -> None:
        self.problem = self.problem or "invalid_date"


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def _year_of(match: re.Match[str], today: dt.date) -> tuple[int | None, int | None]:
    """(explicit year, relative offset) of a match with the optional year suffix groups."""
    groups = match.groupdict()
    if groups.get("y"):
        return int(groups["y"]), None
    relative = groups.get("yrel")
    if relative:
        return None, 0 if ("este" in relative or "this" in relative or "presente" in relative) else -1
    return None, None


def _relative_periods(today: dt.date) -> list[tuple[str, Period]]:
    """Fixed relative phrases, longest first, with the period each means."""
    monday = week_start(today)
    this_month = (today.year, today.month)
    previous_month = month_start(today.year, today.month - 1)
    next_month = month_start(today.year, today.month + 1)
    last_year_day = shift_years(today, -1)
    d = dt.timedelta
    coming_saturday = monday + d(days=5 if today.weekday() < 5 else 12)
    entries: list[tuple[tuple[str, ...], Period]] = [
        (
            (
                "el mismo mes del ano pasado",
                "mismo mes del ano pasado",
                "el mismo mes del ano anterior",
                "mismo mes del ano anterior",
                "the same month last year",
                "same month last year",
                "the same month of last year",
                "same month of last year",
                "the same month a year ago",
                "same month the previous year",
                "the same month the previous year",
            ),
            Period.month(
                today.year - 1, today.month, "el mismo mes del año pasado", "the same month last year"
            ),
        ),
        (
            (
                "el mismo dia del ano pasado",
                "mismo dia del ano pasado",
                "el mismo dia del ano anterior",
                "the same day last year",
                "same day last year",
                "the same day a year ago",
            ),
            Period.day(last_year_day, "el mismo día del año pasado", "the same day last year"),
        ),
        (
            (
                "la misma semana del ano pasado",
                "misma semana del ano pasado",
                "the same week last year",
                "same week last year",
            ),
            Period.week(
                week_start(today - d(days=364)), "la misma semana del año pasado", "the same week last year"
            ),
        ),
        (
            (
                "el fin de semana pasado",
                "fin de semana pasado",
                "el pasado fin de semana",
                "pasado fin de semana",
                "el finde pasado",
                "finde pasado",
                "el ultimo finde",
                "el ultimo fin de semana",
                "last weekend",
                "the last weekend",
                "past weekend",
                "the past weekend",
                "previous weekend",
            ),
            Period.days(monday - d(days=2), monday, "el fin de semana pasado", "last weekend"),
        ),
        (
            ("este fin de semana", "este finde", "this weekend"),
            Period.days(monday + d(days=5), monday + d(days=7), "este fin de semana", "this weekend"),
        ),
        (
            (
                "el fin de semana que viene",
                "fin de semana que viene",
                "el proximo fin de semana",
                "proximo fin de semana",
                "el finde que viene",
                "finde que viene",
                "next weekend",
                "the next weekend",
                "the coming weekend",
                "this coming weekend",
            ),
            # The first weekend not begun yet: this week's on a weekday, next week's on a weekend.
            Period.days(
                coming_saturday, coming_saturday + d(days=2), "el fin de semana que viene", "next weekend"
            ),
        ),
        (
            ("antes de ayer", "anteayer", "antier", "the day before yesterday", "day before yesterday"),
            Period.day(today - d(days=2), "anteayer", "the day before yesterday"),
        ),
        (("ayer", "yesterday"), Period.day(today - d(days=1), "ayer", "yesterday")),
        (
            ("pasado manana", "the day after tomorrow", "day after tomorrow"),
            Period.day(today + d(days=2), "pasado mañana", "the day after tomorrow"),
        ),
        (
            (
                "hoy",
                "today",
                "en lo que va de dia",
                "so far today",
                "el dia de hoy",
            ),
            Period.day(today, "hoy", "today"),
        ),
        (
            (
                "la semana pasada",
                "semana pasada",
                "la ultima semana",
                "ultima semana",
                "last week",
                "the last week",
                "past week",
                "the past week",
            ),
            Period.week(monday - d(days=7), "la semana pasada", "last week"),
        ),
        (
            (
                "esta semana",
                "la semana actual",
                "semana actual",
                "en lo que va de semana",
                "this week",
                "the current week",
                "current week",
                "so far this week",
                "week to date",
            ),
            Period.week(monday, "esta semana", "this week"),
        ),
        (
            (
                "la semana que viene",
                "semana que viene",
                "la proxima semana",
                "proxima semana",
                "la semana siguiente",
                "next week",
                "the next week",
                "the coming week",
            ),
            Period.week(monday + d(days=7), "la semana que viene", "next week"),
        ),
        (
            (
                "el mes pasado",
                "mes pasado",
                "el ultimo mes",
                "ultimo mes",
                "last month",
                "the last month",
                "past month",
                "the past month",
            ),
            Period.month(previous_month.year, previous_month.month, "el mes pasado", "last month"),
        ),
        (
            (
                "este mes",
                "el mes actual",
                "mes actual",
                "el mes en curso",
                "mes en curso",
                "en lo que va de mes",
                "this month",
                "the current month",
                "current month",
                "so far this month",
                "month to date",
            ),
            Period.month(*this_month, "este mes", "this month"),
        ),
        (
            ("el mes que viene", "mes que viene", "el proximo mes", "proximo mes", "next month"),
            Period.month(next_month.year, next_month.month, "el mes que viene", "next month"),
        ),
        (
            (
                "el ano pasado",
                "ano pasado",
                "el ultimo ano",
                "last year",
                "the last year",
                "past year",
                "the past year",
            ),
            Period.year(today.year - 1, "el año pasado", "last year"),
        ),
        (
            (
                "este ano",
                "el ano actual",
                "ano actual",
                "el ano en curso",
                "en lo que va de ano",
                "en lo que llevamos de ano",
                "this year",
                "the current year",
                "current year",
                "so far this year",
                "year to date",
                "ytd",
            ),
            Period.year(today.year, "este año", "this year"),
        ),
        (
            (
                "el ano que viene",
                "ano que viene",
                "el proximo ano",
                "proximo ano",
                "next year",
                "the coming year",
            ),
            Period.year(today.year + 1, "el año que viene", "next year"),
        ),
        (
            (
                "todo el historico",
                "el historico",
                "historico",
                "historica",
                "de la historia",
                "de todos los tiempos",
                "en toda la serie",
                "toda la serie",
                "todos los datos",
                "all time",
                "of all time",
                "ever",
                "all the data",
                "all data",
                "whole history",
                "on record",
            ),
            # Unnamed: the exact label already says "en todo el histórico".
            Period(Period.day(EPOCH).start, Period.day(today + d(days=1)).start),
        ),
    ]
    out = [(phrase, period) for phrases, period in entries for phrase in phrases]
    return sorted(out, key=lambda item: len(item[0]), reverse=True)


def _most_recent_day(month: int, day: int, today: dt.date) -> dt.date | None:
    for year in range(today.year, today.year - 8, -1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    return None


def extract_times(text: str, as_of: dt.datetime, language: str) -> TimeExpressions:
    """Find and resolve the time expressions of a folded, space-joined token string.

    Parameters
    ----------
    text
        Folded tokens joined by single spaces (see :mod:`datalake.ask.text`).
    as_of
        When the question is asked (aware); "hoy" is its date in Madrid.
    language
        ``"es"`` or ``"en"``: English bare hours such as "at 3" are ambiguous.

    Returns
    -------
    TimeExpressions
    """
    now = as_of.astimezone(MADRID)
    today = now.date()
    ex = _Extractor(text, today, language)
    ex.as_of_hour = add_hours(now.replace(minute=0, second=0, microsecond=0), 0)

    _scan_period_parts(ex)
    _scan_relative_compounds(ex, today)
    _scan_seasons(ex, today)
    _scan_holidays(ex, today)
    _scan_numeric(ex)
    _scan_named_days(ex, today)
    _scan_decades_and_since(ex, today)
    _scan_quarters(ex)
    _scan_month_days(ex, today)
    _scan_weekdays(ex, today)
    _scan_months(ex, today)
    # "La semana anterior", "the month before": the one before the other period of the question,
    # or before the current one when the question has no other.
    ex.scan(
        _pattern(
            r"(?:(?:el|la) )?(?P<u>dia|semana|mes|ano) (?:anterior|previo|previa|precedente)"
            r"|(?:the )?(?:previous|preceding|prior) (?P<u2>day|week|month|year)"
            r"|(?:the )?(?P<u3>day|week|month|year) before(?! yesterday| last)"
        ),
        lambda m: _Atom(
            0,
            0,
            "previous",
            period=None,
            year=None,
            month=None,
            day=None,
            quarter={"dia": 1, "day": 1, "semana": 2, "week": 2, "mes": 3, "month": 3, "ano": 4, "year": 4}[
                m.group("u") or m.group("u2") or m.group("u3")
            ],
        ),
    )
    # "frente a la anterior", "vs the previous one": the period before the other, of its length.
    ex.scan(
        _pattern(
            r"(?:(?:la|el|al) )?(?:anterior|precedente)"
            r"|(?:the )?(?:previous|preceding|prior) one|the one before"
        ),
        lambda m: _Atom(0, 0, "previous", quarter=0),
    )
    tomorrow = Period.day(today + dt.timedelta(days=1), "mañana", "tomorrow")
    # "mañana" is also "morning": "por la mañana", "de la mañana", "esta mañana" are not tomorrow.
    ex.scan(
        re.compile(r"(?<![^ ])(?<!la )(?<!esta )(?<!pasado )(?<!after )(?:manana|tomorrow)(?![^ ])"),
        lambda m: _Atom(0, 0, "period", period=tomorrow),
    )
    for phrase, period in _relative_periods(today):
        ex.scan(_pattern(re.escape(phrase)), lambda m, p=period: _Atom(0, 0, "period", period=p))
    ex.scan(_pattern(rf"(?:el |en |in |del |de |during |durante )?(?:ano |year |the year )?{_Y}"), _year_atom)
    clock, clock_range = _scan_clock(ex)
    day_part = _scan_day_parts(ex, today)
    _scan_day_numbers(ex)
    result = _assemble(ex, today)
    result.clock, result.clock_range = clock, clock_range
    if clock_range is None and day_part is not None:
        result.clock_range, result.day_part = day_part[0], day_part[1]
        first, end = day_part[0]
        if clock is not None and clock.ambiguous:  # "yesterday morning at 9": the part says a.m.
            hour = next((h for h in (clock.hour, clock.hour + 12) if first <= h < end), None)
            result.clock = ClockTime(hour) if hour is not None else clock
    result.problem = result.problem or ex.problem
    return result


# -- scanners -------------------------------------------------------------------------------------

#: Parts of the day as local hours ``[first, end)`` with their names after a day ("ayer por la
#: tarde") and for today ("esta tarde"); every answer's label spells the hours out.
DAY_PARTS: dict[str, tuple[tuple[int, int], tuple[str, str], tuple[str, str]]] = {
    "madrugada": ((0, 6), ("de madrugada", "in the small hours"), ("esta madrugada", "early this morning")),
    "manana": ((6, 12), ("por la mañana", "in the morning"), ("esta mañana", "this morning")),
    "morning": ((6, 12), ("por la mañana", "in the morning"), ("esta mañana", "this morning")),
    "tarde": ((12, 20), ("por la tarde", "in the afternoon"), ("esta tarde", "this afternoon")),
    "afternoon": ((12, 18), ("por la tarde", "in the afternoon"), ("esta tarde", "this afternoon")),
    "evening": ((18, 24), ("por la noche", "in the evening"), ("esta noche", "this evening")),
    "noche": ((20, 24), ("por la noche", "at night"), ("esta noche", "tonight")),
    "night": ((20, 24), ("por la noche", "at night"), ("esta noche", "tonight")),
}
_PART = "|".join(DAY_PARTS)


def _scan_day_parts(ex: _Extractor, today: dt.date) -> tuple[tuple[int, int], tuple[str, str] | None] | None:
    """ "Esta mañana", "anoche", "ayer por la tarde", "yesterday evening": a range of hours of one day,
    and the names to add to the day's ("ayer por la tarde"; None when the phrase names its day).

    "Esta ..."/"this ..."/"tonight" and "anoche"/"last night" name the day; the others take the
    question's day. Two different parts in one question are ambiguous.
    """
    found: list[str] = []
    named_day = False

    def part_of(match: re.Match[str]) -> str:
        return next((p for p in (match.groupdict().get(k) for k in ("p", "p2", "p3")) if p), "night")

    def with_day(match: re.Match[str]) -> _Atom:
        nonlocal named_day
        part = part_of(match)
        found.append(part)
        named_day = True
        if match.group("last"):
            day = Period.day(today - dt.timedelta(days=1), "anoche", "last night")
        else:
            day = Period.day(today, *DAY_PARTS[part][2])
        return _Atom(0, 0, "period", period=day)

    def alone(match: re.Match[str]) -> _Atom:
        found.append(part_of(match))
        return _Atom(0, 0, "clock")

    ex.scan(_pattern(rf"(?:esta|this) (?P<p>{_PART})|tonight|(?P<last>anoche|last night)"), with_day)
    ex.scan(
        _pattern(
            rf"(?:(?:por|de|en|durante|a) )?la (?P<p>{_PART})|(?:in|during) the (?P<p2>{_PART})"
            r"|at (?P<p3>night)"
        ),
        alone,
    )
    # "ayer tarde", "yesterday morning", "monday night"; a bare "mañana" is tomorrow (scanned before).
    ex.scan(_pattern(r"(?P<p>madrugada|tarde|noche|morning|afternoon|evening|night)"), alone)
    if not found:
        return None
    if len({DAY_PARTS[p][0] for p in found}) > 1:
        ex.problem = ex.problem or "ambiguous_hour"
    hours, names, _ = DAY_PARTS[found[0]]
    return hours, None if named_day else names


#: Meteorological seasons (whole months): first month of each.
_SEASONS = {
    "primavera": 3, "spring": 3, "verano": 6, "summer": 6, "otono": 9, "autumn": 9, "fall": 9,
    "invierno": 12, "winter": 12,
}  # fmt: skip
_SEASON_NAMES = {
    3: ("la primavera", "spring"),
    6: ("el verano", "summer"),
    9: ("el otoño", "autumn"),
    12: ("el invierno", "winter"),
}


def season(first_month: int, year: int) -> Period:
    """The meteorological season from ``first_month``; winter ``year`` is Dec ``year - 1`` to February."""
    start = dt.date(year - 1, 12, 1) if first_month == 12 else dt.date(year, first_month, 1)
    return Period.days(start, month_start(start.year, start.month + 3))


def _scan_seasons(ex: _Extractor, today: dt.date) -> None:
    """ "El verano pasado", "last winter", "summer 2023", "este otoño", "en primavera"."""

    def handle(match: re.Match[str]) -> _Atom | None:
        first_month = _SEASONS[match.group("s")]
        year, offset = _year_of(match, today)
        before, after = match.group("pre"), match.group("post")
        if match.group("s") == "fall" and not (before or year or offset is not None or match.group("art")):
            return None  # "did demand fall": a verb
        name_es, name_en = _SEASON_NAMES[first_month]
        if year is None and offset is not None:
            year = today.year + offset
        if year is not None:
            label = (f"{name_es} de {year}", f"in {name_en} {year}")
        else:
            # The winter that started last December belongs to this year.
            year = today.year + (1 if first_month == 12 and today.month == 12 else 0)
            this = before in ("este", "esta", "this")
            last = bool(after) or before in ("last", "past", "previous", "el pasado", "la pasada")
            while not this and (
                season(first_month, year).start.date() > today
                or (last and season(first_month, year).end.date() > today)
            ):
                year -= 1
            if last:
                label = (f"{name_es} pasad{'a' if first_month == 3 else 'o'}", f"last {name_en}")
            elif this:
                article = "esta" if first_month == 3 else "este"
                label = (f"{article} {name_es.split()[1]}", f"this {name_en}")
            else:
                label = (name_es, f"in {name_en}")
        period = season(first_month, year)
        return _Atom(0, 0, "period", period=Period(period.start, period.end, *label))

    seasons = "|".join(_SEASONS)
    ex.scan(
        _pattern(
            rf"(?:(?:en|durante|in|during) )?(?P<art>el |la |the )?"
            r"(?:(?P<pre>este|esta|this|last|past|previous|el pasado|la pasada) )?"
            rf"(?P<s>{seasons})(?: (?P<post>pasado|pasada|anterior))?(?: of)?{_YSUF}"
        ),
        handle,
    )


#: Fixed-date holidays: (month, day), the period's names, and the phrases that say it.
_HOLIDAY_DAYS = (
    ((12, 25), ("el día de Navidad", "on Christmas Day"), ("navidad", "christmas", "christmas day")),
    ((12, 24), ("en Nochebuena", "on Christmas Eve"), ("nochebuena", "christmas eve")),
    ((12, 31), ("en Nochevieja", "on New Year's Eve"), ("nochevieja", "new year s eve", "new years eve")),
    ((1, 1), ("el día de Año Nuevo", "on New Year's Day"), ("ano nuevo", "new year s day", "new years day")),
    ((1, 6), ("el día de Reyes", "on Epiphany"), ("reyes", "epiphany")),
)
_HOLIDAYS = {phrase: (day, names) for day, names, phrases in _HOLIDAY_DAYS for phrase in phrases}


def _scan_holidays(ex: _Extractor, today: dt.date) -> None:
    """Christmas Day, Christmas Eve, New Year's Eve and Day, Epiphany: one day each.

    The holiday season ("las navidades", "the Christmas holidays") is not a day: left for the
    parser to refuse.
    """

    def handle(match: re.Match[str]) -> _Atom | None:
        (month, day), (name_es, name_en) = _HOLIDAYS[match.group("h")]
        year, offset = _year_of(match, today)
        if year is None and offset is not None:
            year = today.year + offset
        if year is None:
            latest = today - dt.timedelta(days=1) if match.group("last") or match.group("post") else today
            when = _most_recent_day(month, day, latest)
            if when is None:
                return None
        else:
            when = dt.date(year, month, day)
        return _Atom(0, 0, "period", period=Period.day(when, name_es, name_en))

    holidays = "|".join(re.escape(h) for h in sorted(_HOLIDAYS, key=len, reverse=True))
    ex.scan(
        _pattern(
            rf"(?:(?:en|on|el|the|durante|during) )*(?:dia de )?(?P<last>last |la pasada |el pasado )?"
            rf"(?P<h>{holidays})(?! holidays| week| period| season| time| break| vacation)"
            rf"(?: (?P<post>pasada|pasado|anterior))?{_YSUF}"
        ),
        handle,
    )


def _year_atom(match: re.Match[str]) -> _Atom:
    return _Atom(0, 0, "year", year=int(match.group("y")))


def _scan_relative_compounds(ex: _Extractor, today: dt.date) -> None:
    """Rolling windows ("los últimos 7 días"), "hace N días", "N weeks ago", "same period last year"."""
    ex.scan(
        _pattern(
            r"(?:el |the )?(?:mismo periodo|same period|periodo equivalente)(?: (?:del|of|de|in))?"
            r"(?: el| the)? (?:ano pasado|ano anterior|last year|previous year|a year ago|the year before)"
            r"|(?:interanual|year over year|year on year|yoy)"
        ),
        lambda m: _Atom(0, 0, "shift"),
    )

    def rolling(match: re.Match[str]) -> _Atom | None:
        count = _number(match.group("n")) if match.group("n") else 1
        unit = match.group("u")
        if count <= 0 or count > 3660:
            return None
        if unit.startswith(("hora", "hour")):
            return _Atom(0, 0, "rolling_hours", day=count)
        days = {"d": 1, "s": 7, "w": 7}.get(unit[0])
        if unit.startswith(("mes", "month")):
            first = month_start(today.year, today.month - count)
            return _Atom(0, 0, "period", period=Period.days(first, month_start(today.year, today.month)))
        if unit.startswith(("ano", "year")):
            return _Atom(
                0,
                0,
                "period",
                period=Period.days(dt.date(today.year - count, 1, 1), dt.date(today.year, 1, 1)),
            )
        if days is None:
            return None
        return _Atom(0, 0, "period", period=Period.days(today - dt.timedelta(days=days * count), today))

    ex.scan(
        _pattern(
            rf"(?:(?:en |durante )?(?:los|las) )?(?:ultimos|ultimas|pasados|pasadas) (?P<n>{_NUM}) "
            r"(?P<u>dias|semanas|meses|anos|horas)"
        ),
        rolling,
    )
    ex.scan(
        _pattern(
            rf"(?:in |over |during )?(?:the )?(?:last|past|previous) (?P<n>{_NUM}) "
            r"(?P<u>days|weeks|months|years|hours)"
        ),
        rolling,
    )

    def ago(match: re.Match[str]) -> _Atom | None:
        count = _number(match.group("n")) if match.group("n") else 1
        unit = match.group("u")
        if unit.startswith(("dia", "day")):
            return _Atom(0, 0, "period", period=Period.day(today - dt.timedelta(days=count)))
        if unit.startswith(("semana", "week")):
            return _Atom(0, 0, "period", period=Period.week(week_start(today - dt.timedelta(days=7 * count))))
        if unit.startswith(("mes", "month")):
            first = month_start(today.year, today.month - count)
            return _Atom(0, 0, "period", period=Period.month(first.year, first.month))
        return _Atom(0, 0, "period", period=Period.year(today.year - count))

    ex.scan(
        _pattern(rf"hace (?:(?P<n>{_NUM}) )?(?P<u>dias?|semanas?|mes|meses|anos?)"),
        ago,
    )
    ex.scan(
        _pattern(rf"(?:(?P<n>{_NUM})|an?) (?P<u>days?|weeks?|months?|years?) ago"),
        ago,
    )


def _scan_numeric(ex: _Extractor) -> None:
    """ISO and numeric dates: 2021-04-15, 15/04/2021, 15.04.2021, 2021-04, 04/2021, 15/04."""

    def iso(match: re.Match[str]) -> _Atom | None:
        y, m, d = int(match.group("y")), int(match.group("m")), int(match.group("d"))
        try:
            dt.date(y, m, d)
        except ValueError:
            ex.invalid()
            return None
        return _Atom(0, 0, "day", year=y, month=m, day=d)

    ex.scan(_pattern(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"), iso)

    def numeric(match: re.Match[str]) -> _Atom | None:
        a, b = int(match.group("a")), int(match.group("b"))
        year_text = match.group("y")
        year = None
        if year_text:
            year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        day, month = a, b
        if ex.language == "en" and a <= 12 and b > 12:
            day, month = b, a  # 04/15/2021: only a month-first reading is a date
        elif ex.language == "en" and a <= 12 and b <= 12 and a != b:
            ex.problem = ex.problem or "ambiguous_date"
        try:
            dt.date(year or 2000, month, day)
        except ValueError:
            ex.invalid()
            return None
        return _Atom(0, 0, "day", year=year, month=month, day=day)

    ex.scan(_pattern(r"(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<y>\d{4}|\d{2})"), numeric)
    ex.scan(_pattern(r"(?P<y>\d{4})-(?P<m>\d{1,2})|(?P<m2>\d{1,2})/(?P<y2>\d{4})"), _numeric_month(ex))
    ex.scan(_pattern(r"(?P<a>\d{1,2})/(?P<b>\d{1,2})"), numeric)


def _numeric_month(ex: _Extractor):  # type: ignore[no-untyped-def]
    def handle(match: re.Match[str]) -> _Atom | None:
        year = int(match.group("y") or match.group("y2"))
        month = int(match.group("m") or match.group("m2"))
        if not 1 <= month <= 12:
            ex.invalid()
            return None
        return _Atom(0, 0, "month", year=year, month=month)

    return handle


def _scan_month_days(ex: _Extractor, today: dt.date) -> None:
    """A day of the month alone ("el día 15", "on the 15th"): the most recent past one."""

    def month_day(match: re.Match[str]) -> _Atom | None:
        number = int(match.group("d"))
        for back in range(0, 13):
            first = month_start(today.year, today.month - back)
            try:
                day = first.replace(day=number)
            except ValueError:
                continue
            if day <= today:
                return _Atom(0, 0, "period", period=Period.day(day))
        ex.invalid()
        return None

    ex.scan(_pattern(r"(?:el )?dia (?P<d>[0-3]?\d)(?! (?:de|del) )"), month_day)
    ex.scan(_pattern(r"on the (?P<d>[0-3]?\d) (?:st|nd|rd|th)(?! of)"), month_day)


def _scan_named_days(ex: _Extractor, today: dt.date) -> None:
    """Days with a month name, in Spanish and English word orders, and day ranges like 20-25."""

    def day_range(match: re.Match[str]) -> _Atom | None:
        first, last = int(match.group("d1")), int(match.group("d2"))
        month = MONTHS[match.group("mon")]
        year, offset = _year_of(match, today)
        atom_a = _Atom(0, 0, "day", year=year, month=month, day=first, year_offset=offset)
        atom_b = _Atom(0, 0, "day", year=year, month=month, day=last, year_offset=offset)
        if not (_valid(atom_a, ex) and _valid(atom_b, ex)):
            return None
        return _Atom(0, 0, "range_days", year=year, month=month, day=first, day2=last, year_offset=offset)

    ex.scan(
        _pattern(
            rf"(?:del |from |between )?(?P<d1>[0-3]?\d)-(?P<d2>[0-3]?\d) (?:de |of )?(?P<mon>{_MON}){_YSUF}"
        ),
        day_range,
    )
    ex.scan(
        _pattern(rf"(?:del |from |between )?(?P<mon>{_MON}) (?P<d1>[0-3]?\d)-(?P<d2>[0-3]?\d){_YSUF}"),
        day_range,
    )

    def named(match: re.Match[str]) -> _Atom | None:
        year, offset = _year_of(match, today)
        atom = _Atom(
            0,
            0,
            "day",
            year=year,
            month=MONTHS[match.group("mon")],
            day=day_number(match.group("d")),
            year_offset=offset,
        )
        return atom if _valid(atom, ex) else None

    weekday = rf"(?:(?:el |on )?(?:{_DOW}) (?:the )?)?"
    ex.scan(
        _pattern(
            rf"{weekday}(?:el |the )?(?:dia )?{_D} (?:de |of )?(?:(?:el )?mes de )?(?P<mon>{_MON}){_YSUF}"
        ),
        named,
    )
    ex.scan(_pattern(rf"{weekday}(?:on )?(?P<mon>{_MON}) (?:the )?{_D}{_YSUF}"), named)


def day_number(text: str) -> int:
    """A day of the month written as digits ("15", "15 th") or words ("quince", "fifteenth")."""
    digits = text.split()[0]
    return int(digits) if digits.isdigit() else DAY_WORDS[text]


def _valid(atom: _Atom, ex: _Extractor) -> bool:
    try:
        dt.date(atom.year or 2000, atom.month or 1, atom.day or 1)
    except ValueError:
        ex.invalid()
        return False
    return True


def _scan_period_parts(ex: _Extractor) -> None:
    """ "La primera semana de", "the second half of": a part atom, cut from the period named next."""
    anchor = rf"(?:el |la |the )?(?:{_MON}|(?:19|20)\d\d|ano|year|mes|month|este|esta|this|last|pasado)"
    for language in period_parts.PART_WORDS:
        names = dict(period_parts.phrases(language))
        words = "|".join(re.escape(phrase) for phrase in names)
        articles = "|".join(re.escape(a) for a in period_parts.ARTICLES[language])
        joiners = "|".join(re.escape(j) for j in period_parts.JOINERS[language])
        ex.scan(
            # The joiner is left to the anchor, whose own pattern may start with it ("de 2024").
            _pattern(rf"(?:(?:{articles}) )?(?P<part>{words})(?= (?:{joiners}) {anchor}(?![^ ]))"),
            lambda m, names=names: _Atom(0, 0, "part", part=names[m.group("part")]),
        )


def _decade_start(digits: str) -> int:
    """ "1990" -> 1990; two digits are the nearest decade of the past century or this one ("90", "10")."""
    number = int(digits)
    return number if number >= 100 else (2000 + number if number <= 20 else 1900 + number)


def _scan_decades_and_since(ex: _Extractor, today: dt.date) -> None:
    """ "In the 1990s", "los años 90", "la década de 1980": ten years; "desde 2010", "since 2015":
    from that year to today (a range to another year is read by the ranges instead)."""

    def decade(match: re.Match[str]) -> _Atom | None:
        first = _decade_start(match.group("d"))
        if first % 10:
            return None
        period = Period.days(dt.date(first, 1, 1), dt.date(first + 10, 1, 1))
        name = (f"los años {str(first)[2:] if first < 2000 else first}", f"the {first}s")
        return _Atom(0, 0, "period", period=Period(period.start, period.end, *name))

    ex.scan(_pattern(r"(?:(?:en|in|during) )?(?:los |the )?(?P<d>(?:19|20)?\d0) s"), decade)
    ex.scan(_pattern(r"(?:en )?(?:los |la )?(?:anos|decada de(?: los)?) (?P<d>(?:19|20)?\d0)"), decade)

    def since(match: re.Match[str]) -> _Atom | None:
        first = int(match.group("y"))
        if first > today.year:
            return None
        period = Period.days(dt.date(first, 1, 1), today + dt.timedelta(days=1))
        return _Atom(
            0, 0, "period", period=Period(period.start, period.end, f"desde {first}", f"since {first}")
        )

    ex.scan(
        _pattern(
            r"(?:desde|since|a partir de) (?:el |the )?(?:ano |year )?(?P<y>(?:19|20)\d\d)"
            r"(?! (?:hasta|to|until|till|through|al|a|y|and|-) )(?! [0-3]?\d )"
        ),
        since,
    )


def _scan_quarters(ex: _Extractor) -> None:
    def quarter(match: re.Match[str]) -> _Atom:
        year, _ = _year_of(match, ex.today)
        return _Atom(0, 0, "quarter", year=year, quarter=_QUARTERS[match.group("q")])

    ordinals = "|".join(sorted(_QUARTERS, key=len, reverse=True))
    ex.scan(
        _pattern(
            rf"(?:el |en el |in the |the )?(?P<q>{ordinals}){_ORD} (?:trimestre|quarter)"
            rf"(?: (?:del|de|of))?{_YSUF}"
        ),
        quarter,
    )
    ex.scan(_pattern(rf"(?:en el |el |in )?(?:q|t) (?P<q>[1-4]){_YSUF}"), quarter)


def _scan_weekdays(ex: _Extractor, today: dt.date) -> None:
    monday = week_start(today)

    def of_last_week(match: re.Match[str]) -> _Atom:
        day = monday - dt.timedelta(days=7) + dt.timedelta(days=WEEKDAYS[match.group("w")])
        return _Atom(0, 0, "period", period=Period.day(day))

    ex.scan(
        _pattern(
            rf"(?:el |on )?(?P<w>{_DOW}) (?:de la semana pasada|de la semana anterior|of last week|last week|"
            r"of the previous week)"
        ),
        of_last_week,
    )

    def upcoming(match: re.Match[str]) -> _Atom:
        # "El jueves que viene", "next Thursday", "para el jueves": the first one after today.
        target = WEEKDAYS[match.group("w") or match.group("w2") or match.group("w3")]
        ahead = (target - today.weekday()) % 7 or 7
        return _Atom(0, 0, "period", period=Period.day(today + dt.timedelta(days=ahead)))

    ex.scan(
        _pattern(
            rf"(?:el |on )?(?:proximo|next|this coming|the coming|coming) (?P<w>{_DOW})"
            rf"|(?:el )?(?P<w2>{_DOW}) (?:que viene|proximo)|para el (?P<w3>{_DOW})"
        ),
        upcoming,
    )

    def recent(match: re.Match[str]) -> _Atom:
        target = WEEKDAYS[match.group("w")]
        back = (today.weekday() - target) % 7 or 7
        return _Atom(0, 0, "period", period=Period.day(today - dt.timedelta(days=back)))

    ex.scan(
        _pattern(
            r"(?:el |este |this |on |last |el pasado |el ultimo |the last |past )?"
            rf"(?P<w>{_DOW})(?: pasado| last)?"
        ),
        recent,
    )


def _scan_months(ex: _Extractor, today: dt.date) -> None:
    def previous(match: re.Match[str]) -> _Atom:
        month = MONTHS[match.group("mon")]
        year = today.year if month < today.month else today.year - 1
        return _Atom(0, 0, "month", year=year, month=month)

    ex.scan(
        _pattern(rf"(?:el |en |in )?(?:pasado |ultimo |last |past |previous )(?:mes de )?(?P<mon>{_MON})"),
        previous,
    )
    ex.scan(_pattern(rf"(?:el |en |in )?(?:mes de )?(?P<mon>{_MON}) pasado"), previous)

    def month(match: re.Match[str]) -> _Atom:
        year, offset = _year_of(match, today)
        return _Atom(0, 0, "month", year=year, month=MONTHS[match.group("mon")], year_offset=offset)

    ex.scan(
        _pattern(
            rf"(?:el |en |in |durante |during )?(?:(?:el )?mes de |the month of )?(?P<mon>{_MON}){_YSUF}"
        ),
        month,
    )


def _scan_clock(ex: _Extractor) -> tuple[ClockTime | None, tuple[int, int] | None]:
    found: list[ClockTime] = []
    ranges: list[tuple[int, int]] = []

    def to_24h(hour: int, part: str | None, minutes: bool) -> ClockTime | None:
        if (part in ("pm", "p m", "tarde") and hour < 12) or (part == "noche" and 7 <= hour < 12):
            hour += 12
        elif part in ("am", "a m", "manana", "madrugada") and hour == 12:
            hour = 0
        if not 0 <= hour <= 24:
            return None
        hour %= 24
        ambiguous = part is None and not minutes and ex.language == "en" and 1 <= hour <= 11
        return ClockTime(hour, ambiguous)

    part = (
        r"(?: (?:(?:de|por) la (?P<part>manana|tarde|noche|madrugada)|(?P<ampm>am|pm|a m|p m)"
        r"|o clock|h|hs|horas|hrs))?"
    )

    def clock(match: re.Match[str]) -> _Atom | None:
        hour = int(match.group("h"))
        time = to_24h(hour, match.group("part") or match.group("ampm"), bool(match.group("mm")))
        if time is None or int(match.group("mm") or 0) > 59:
            ex.problem = ex.problem or "invalid_hour"  # "a las 25:00" is no time: never ignore it
            return _Atom(0, 0, "clock")
        found.append(time)
        return _Atom(0, 0, "clock")

    def clock_range(match: re.Match[str]) -> _Atom | None:
        first = to_24h(int(match.group("h")), match.group("p1"), True)
        last = to_24h(int(match.group("h2")), match.group("p2"), True)
        if first is None or last is None or last.hour <= first.hour:
            return None
        ranges.append((first.hour, last.hour))
        return _Atom(0, 0, "clock")

    hm = r"(?P<h>[0-2]?\d)(?::(?P<mm>\d{2}))?"
    ex.scan(
        _pattern(
            r"(?:entre las|desde las|de las|between|from) (?P<h>[0-2]?\d)(?::\d{2})?(?: (?P<p1>am|pm|h))? "
            r"(?:y las|hasta las|a las|and|to|until) (?P<h2>[0-2]?\d)(?::\d{2})?(?: (?P<p2>am|pm|h))?"
        ),
        clock_range,
    )
    ex.scan(_pattern(rf"(?:a|sobre|hacia|alrededor de) (?:las|la) {hm}{part}"), clock)
    ex.scan(_pattern(rf"(?:at|around|about) {hm}{part}"), clock)
    ex.scan(_pattern(r"(?P<h>[0-2]?\d):(?P<mm>\d{2})" + part), clock)
    ex.scan(_pattern(r"(?P<h>[0-2]?\d)(?P<mm>) (?:(?P<ampm>am|pm|a m|p m)|h)(?P<part>)"), clock)
    ex.scan(
        _pattern(r"(?:a |al |at |around )?(?:mediodia|medio dia|noon|midday|the middle of the day)"),
        lambda m: found.append(ClockTime(12)) or _Atom(0, 0, "clock"),
    )
    ex.scan(
        _pattern(r"(?:a |at )?(?:medianoche|la medianoche|midnight)"),
        lambda m: found.append(ClockTime(0)) or _Atom(0, 0, "clock"),
    )
    if len(found) > 1 and len({c.hour for c in found}) > 1:
        ex.problem = ex.problem or "ambiguous_hour"
    return (found[0] if found else None), (ranges[0] if ranges else None)


def _scan_day_numbers(ex: _Extractor) -> None:
    """Bare day numbers next to range words ("entre el 20 y el 25 de octubre")."""
    for match in _pattern(r"(?P<d>[0-3]?\d)(?: (?:st|nd|rd|th))?").finditer(ex.text):
        if not ex.free(match.start(), match.end()):
            continue
        before = ex.text[: match.start()].split()[-2:]
        words = [w for w in before if w not in ("el", "the", "dia")]
        previous = words[-1] if words else (before[-1] if before else "")
        if previous in _RANGE_OPENERS or previous in _RANGE_JOINERS:
            day = int(match.group("d"))
            if 1 <= day <= 31:
                ex.atoms.append(_Atom(match.start(), match.end(), "daynum", day=day))


# -- assembly -------------------------------------------------------------------------------------


def _assemble(ex: _Extractor, today: dt.date) -> TimeExpressions:
    parts = [a for a in ex.atoms if a.kind == "part"]
    atoms = sorted((a for a in ex.atoms if a.kind not in ("clock", "part")), key=lambda a: a.start)
    result = TimeExpressions(spans=list(ex.used))
    atoms = _join_ranges(ex, atoms, result)
    # A bare day number that is not part of a range is not a date (it is "top 5", "3 días").
    atoms = [a for a in atoms if a.kind != "daynum"]
    result.spans.extend((a.start, a.end) for a in atoms if a.kind == "range_built")
    _share_years(atoms)
    for atom in atoms:
        if atom.kind == "shift":
            result.shift_year = True
            continue
        if atom.kind == "rolling_hours":
            continue
        period = atom.period if atom.kind in ("period", "range_built") else _resolve(atom, today, ex)
        if period is not None and atom.kind == "day" and _week_of(ex, atom, result):
            period = Period.week(week_start(period.start.date()))
        part = _part_before(ex, atom, parts)
        if period is not None and part is not None and part.part is not None:
            period = period_parts.RULES[part.part].apply(period)
            if period is None:  # a part this anchor cannot have ("the first week of 2024")
                ex.problem = ex.problem or "partial_period"
        if period is not None:
            result.periods.append(period)
    if parts:  # a part with nothing after it to cut
        ex.problem = ex.problem or "partial_period"
    for atom in atoms:
        if atom.kind == "rolling_hours":
            result.periods.append(_rolling_hours(ex, atom.day or 1))
    for atom in atoms:
        if atom.kind == "previous":
            result.periods.append(
                _previous(result.periods, atom.quarter if atom.quarter is not None else 2, today)
            )
    return result


def _part_before(ex: _Extractor, atom: _Atom, parts: list[_Atom]) -> _Atom | None:
    """The part atom just before ``atom`` (only joiners between: "primera semana | de | marzo"), taken."""
    joiners = {j for words in period_parts.JOINERS.values() for j in words}
    for part in parts:
        between = ex.text[part.end : atom.start].split()
        if part.end <= atom.start and set(between) <= joiners and len(between) <= 1:
            parts.remove(part)
            return part
    return None


def _week_of(ex: _Extractor, atom: _Atom, result: TimeExpressions) -> bool:
    """Whether a day is named as its week ("la semana del 8 de abril", "the week of April 8")."""
    before = ex.text[: atom.start].rstrip()
    for words in ("la semana del", "semana del", "la semana de", "semana de", "the week of", "week of"):
        if before.endswith(words) and (len(before) == len(words) or before[-len(words) - 1] == " "):
            result.spans.append((len(before) - len(words), atom.start))
            return True
    return False


def _previous(others: list[Period], unit: int, today: dt.date) -> Period:
    """The day/week/month/year before the question's other period, or before today's."""
    if not others:
        monday = week_start(today)
        previous_month = month_start(today.year, today.month - 1)
        return {
            1: Period.day(today - dt.timedelta(days=1), "el día anterior", "the day before"),
            2: Period.week(monday - dt.timedelta(days=7), "la semana anterior", "the previous week"),
            3: Period.month(
                previous_month.year, previous_month.month, "el mes anterior", "the previous month"
            ),
            4: Period.year(today.year - 1, "el año anterior", "the previous year"),
        }[unit]
    other = others[0]
    first, after = other.start.date(), (other.clipped_from or other.end).date()
    if unit == 0:  # as long as the other period: a day, a week, a month or a year before it
        days = (after - first).days
        unit = 1 if days <= 1 else 2 if days == 7 else 3 if 28 <= days <= 31 and first.day == 1 else 4
        if unit == 4 and not (first.month == 1 and first.day == 1 and days in (365, 366)):
            return Period.days(first - (after - first), first)
    if unit in (1, 2):
        step = dt.timedelta(days=1 if unit == 1 else 7)
        return Period.days(first - step, after - step)
    months = 1 if unit == 3 else 12
    return Period.days(
        month_start(first.year, first.month - months).replace(day=first.day),
        month_start(after.year, after.month - months).replace(day=min(after.day, 28))
        if after.day != 1
        else month_start(after.year, after.month - months),
    )


def _rolling_hours(ex: _Extractor, count: int) -> Period:
    assert ex.as_of_hour is not None
    return Period(add_hours(ex.as_of_hour, -count), ex.as_of_hour)


def _join_ranges(ex: _Extractor, atoms: list[_Atom], result: TimeExpressions) -> list[_Atom]:
    out: list[_Atom] = []
    i = 0
    while i < len(atoms):
        atom = atoms[i]
        if atom.kind == "range_days":
            first = _Atom(
                atom.start,
                atom.end,
                "day",
                year=atom.year,
                month=atom.month,
                day=atom.day,
                year_offset=atom.year_offset,
            )
            last = _Atom(
                atom.start,
                atom.end,
                "day",
                year=atom.year,
                month=atom.month,
                day=atom.day2,
                year_offset=atom.year_offset,
            )
            built = _range(first, last, ex)
            if built is not None:
                out.append(built)
            i += 1
            continue
        if i + 1 < len(atoms):
            nxt = atoms[i + 1]
            gap = ex.text[atom.end : nxt.start].split()
            gap = [w for w in gap if w not in _FILLERS or w in ("de", "del")]
            joiner = " ".join(w for w in gap if w not in ("el", "la", "the"))
            preceding = [w for w in ex.text[: atom.start].split() if w not in ("el", "la", "the", "dia")]
            before = preceding[-1:] or [""]
            opener = before[0] in _RANGE_OPENERS or atom_text_starts(ex, atom)
            # "y"/"and" make a range only after "entre"/"between": "marzo y abril" are two periods.
            strict_opener = before[0] in ("entre", "between") or atom_text_starts(
                ex, atom, ("entre", "between")
            )
            if (
                joiner in _RANGE_JOINERS
                and (strict_opener if _RANGE_JOINERS[joiner] else True)
                and (joiner != "a" or opener)
            ):
                built = _range(atom, nxt, ex)
                if built is not None and (
                    atom.kind in ("month", "year", "quarter") or atom.kind == nxt.kind == "period"
                ):
                    # "entre enero y febrero", "de enero a febrero": a range, or the two periods of
                    # a comparison ("¿cuánto cambió de enero a febrero?", "from summer 2023 to summer
                    # 2024"); the parser decides.
                    first, second = _resolve(atom, ex.today, ex, anchor=nxt), _resolve(nxt, ex.today, ex)
                    if first is not None and second is not None:
                        result.range_parts.append((first, second))
                if built is not None:
                    built.start = atom.start
                    if opener and before[0] and before[0] in _RANGE_OPENERS:
                        built.start = ex.text.rfind(before[0], 0, atom.start)
                    built.end = nxt.end
                    out.append(built)
                    result.spans.append((max(built.start, 0), nxt.end))
                    i += 2
                    continue
        out.append(atom)
        i += 1
    return out


def atom_text_starts(ex: _Extractor, atom: _Atom, openers: tuple[str, ...] = _RANGE_OPENERS) -> bool:
    """Whether the atom's own text begins with a range opener ("del 20-25", "from march 1")."""
    first = ex.text[atom.start : atom.end].split()[:1]
    return bool(first) and first[0] in openers


def _range(first: _Atom, last: _Atom, ex: _Extractor) -> _Atom | None:
    """One period from two atoms; the first takes the month and year the second gives."""
    today = ex.today
    if first.kind == "daynum":
        if last.kind != "day":
            return None
        first = _Atom(
            first.start,
            first.end,
            "day",
            year=last.year,
            month=last.month,
            day=first.day,
            year_offset=last.year_offset,
        )
    if last.kind == "daynum":
        if first.kind != "day":
            return None
        last = _Atom(
            last.start,
            last.end,
            "day",
            year=first.year,
            month=first.month,
            day=last.day,
            year_offset=first.year_offset,
        )
    if first.kind != last.kind and not {first.kind, last.kind} <= {"day", "month", "year", "period"}:
        return None
    if first.year is None and first.year_offset is None and first.kind in ("day", "month"):
        first.year_offset = last.year_offset
        first.year = last.year
    a = first.period if first.kind == "period" else _resolve(first, today, ex, anchor=last)
    b = last.period if last.kind == "period" else _resolve(last, today, ex)
    if a is None or b is None:
        return None
    if a.start_utc >= b.end_utc:
        if first.kind in ("day", "month") and first.year == last.year and last.year is not None:
            ex.invalid()
            return None
        # "del 28 de diciembre al 3 de enero" without years: the first is in the year before.
        a = _resolve(
            _Atom(0, 0, first.kind, year=(b.start.year - 1), month=first.month, day=first.day), today, ex
        )
        if a is None or a.start_utc >= b.end_utc:
            ex.invalid()
            return None
    return _Atom(first.start, last.end, "range_built", period=Period(a.start, b.end))


def _share_years(atoms: list[_Atom]) -> None:
    """In "enero y febrero de 2024" the year written once belongs to both."""
    dated = [a for a in atoms if a.kind in ("day", "month", "quarter")]
    years = {a.year for a in dated if a.year is not None}
    offsets = {a.year_offset for a in dated if a.year_offset is not None}
    if len(dated) > 1 and len(years) == 1 and not offsets:
        for atom in dated:
            atom.year = atom.year or next(iter(years))
    elif len(dated) > 1 and len(offsets) == 1 and not years:
        for atom in dated:
            if atom.year_offset is None:
                atom.year_offset = next(iter(offsets))


def _resolve(atom: _Atom, today: dt.date, ex: _Extractor, anchor: _Atom | None = None) -> Period | None:
    year = atom.year
    if year is None and atom.year_offset is not None:
        year = today.year + atom.year_offset
    if atom.kind == "year":
        return Period.year(atom.year or today.year)
    if atom.kind == "month":
        assert atom.month is not None
        if year is None:
            year = today.year if atom.month <= today.month else today.year - 1
        return Period.month(year, atom.month)
    if atom.kind == "quarter":
        quarter = atom.quarter or 1
        first_month = 3 * (quarter - 1) + 1
        if year is None:
            year = today.year if month_start(today.year, first_month) <= today else today.year - 1
        return Period.days(month_start(year, first_month), month_start(year, first_month + 3))
    if atom.kind == "day":
        assert atom.month is not None and atom.day is not None
        if year is None:
            day = _most_recent_day(atom.month, atom.day, today)
            if day is None:
                ex.invalid()
                return None
        else:
            try:
                day = dt.date(year, atom.month, atom.day)
            except ValueError:
                ex.invalid()
                return None
        return Period.day(day)
    if atom.kind == "period":
        return atom.period
    return None


def hour_period(day_period: Period, hour: int) -> Period | None:
    """The one-hour period at ``hour`` of a one-day period; None when the hour does not exist."""
    start = local_hour(day_period.start.date(), hour)
    if start is None:
        return None
    return Period(start, add_hours(start, 1), day_period.name_es, day_period.name_en)


_PATTERN_WORDS = [
    "hace",
    "ago",
    "ultimos",
    "ultimas",
    "pasados",
    "pasadas",
    "pasado",
    "pasada",
    "last",
    "past",
    "previous",
    "dias",
    "semanas",
    "meses",
    "anos",
    "horas",
    "dia",
    "semana",
    "mes",
    "ano",
    "hora",
    "days",
    "weeks",
    "months",
    "years",
    "hours",
    "day",
    "week",
    "month",
    "year",
    "entre",
    "desde",
    "del",
    "de",
    "al",
    "hasta",
    "from",
    "between",
    "and",
    "to",
    "until",
    "through",
    "till",
    "thru",
    "trimestre",
    "quarter",
    "primer",
    "primero",
    "segundo",
    "tercer",
    "tercero",
    "cuarto",
    "first",
    "second",
    "third",
    "fourth",
    "mediodia",
    "medio",
    "medianoche",
    "noon",
    "midnight",
    "midday",
    "manana",
    "tomorrow",
    "tarde",
    "noche",
    "madrugada",
    "am",
    "pm",
    "clock",
    "sobre",
    "hacia",
    "alrededor",
    "around",
    "about",
    "at",
    "las",
    "la",
    "el",
    "mismo",
    "misma",
    "periodo",
    "equivalente",
    "same",
    "period",
    "interanual",
    "year",
    "over",
    "on",
    "yoy",
    "este",
    "esta",
    "this",
    "ultimo",
    "durante",
    "during",
    "in",
    "en",
    "of",
    "the",
    "st",
    "nd",
    "rd",
    "th",
    "er",
    "anoche",
    "tonight",
    "morning",
    "afternoon",
    "evening",
    "night",
    "madrugada",
    "esta",
    "navidad",
    "nochebuena",
    "nochevieja",
    "nuevo",
    "reyes",
    "christmas",
    "eve",
    "epiphany",
    "new",
    "s",
    "primavera",
    "verano",
    "otono",
    "invierno",
    "spring",
    "summer",
    "autumn",
    "fall",
    "winter",
]
#: Every word a time expression uses: the typo corrector must know them (or it would "fix" them).
TIME_WORDS: frozenset[str] = frozenset(
    {word for phrase, _ in _relative_periods(dt.date(2024, 1, 1)) for word in phrase.split()}
    | set(_PATTERN_WORDS)
    | {word for phrase in DAY_WORDS for word in phrase.split()}
    | set(MONTHS)
    | set(WEEKDAYS)
    | {word for phrase in period_parts.all_words() for word in phrase.split()}
)
