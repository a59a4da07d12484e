"""Time expressions in a folded question, resolved against the time of the question in Madrid.

:func:`extract_times` finds dates, months, years, quarters, relative days and weeks, ranges
("entre el 20 y el 25 de octubre", "from March 1 to March 15") and clock times ("a las 15:00",
"at 3 pm", "a mediodía") in the space-joined token string the parser works on. A date without
a year is the most recent past one. It reports the spans it used so the parser can read the
rest of the question without them.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from datalake.ask import period_parts
from datalake.ask.lexicon import LANGUAGES, MONTHS, NUMBER_WORDS, WEEKDAYS, joined
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
from datalake.ask.words import en, es

# -- the words, per language (datalake.ask.words), composed --------------------------------------
#
# Every word or phrase of a time expression is data in the language modules; this module joins
# the languages (a question may mix them) and builds its patterns from them. What is literal here
# is structure: digits, separators ("-", "/", ":") and the patterns' shapes.


def _words(concept: str) -> tuple[str, ...]:
    """A ``TIME`` slot's phrases in every language, in order, each once."""
    return tuple(dict.fromkeys(p for language in LANGUAGES for p in language.TIME[concept]))


def _any(concept: str) -> str:
    """A regex alternative of a ``TIME`` slot's phrases in every language, in their order."""
    return _alternation(_words(concept))


def _alternation(phrases: tuple[str, ...] | list[str]) -> str:
    """``a|b|c``; a slot no language fills never matches (``(?!)``)."""
    return "|".join(phrases) if phrases else "(?!)"


def _by_rule(table: str) -> dict[str, tuple[str, ...]]:
    """A rule -> phrases table of every language, joined: each rule's phrases, Spanish first."""
    rules: dict[str, tuple[str, ...]] = {}
    for language in LANGUAGES:
        for rule, phrases in getattr(language, table).items():
            rules[rule] = rules.get(rule, ()) + tuple(phrases)
    return rules


def _names(rule: str, **values: object) -> tuple[str, str]:
    """The (Spanish, English) names of a rule's period, with ``values`` filled in."""
    return es.TIME_NAMES[rule].format(**values), en.TIME_NAMES[rule].format(**values)


_MON = "|".join(sorted(MONTHS, key=len, reverse=True))
_DOW = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_NUM = r"\d{1,3}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_ORD = rf"(?: (?:{_alternation(_words('day_suffixes') + _words('ordinal_suffixes'))}))?"
#: Days of the month in words: "el quince de abril", "the fifteenth of April".
DAY_WORDS: dict[str, int] = joined("DAY_NUMBERS")
_DAY_WORD = "|".join(sorted(DAY_WORDS, key=len, reverse=True))
_D = rf"(?P<d>[0-3]?\d{_ORD}|{_DAY_WORD})"
_Y = r"(?P<y>(?:19|20)\d\d)"
# "Del año pasado", "of this year": a year relative to today's (last year -1, this year 0).
_YEAR_THIS = _words("year_this")
_YREL = rf"(?P<yrel>{_alternation(_words('year_last') + _YEAR_THIS)})"
_YSUF = rf"(?: (?:(?:{_any('year_joiners')}) )?(?:{_Y}|{_YREL}))?"
# Quarters by ordinal ("el primer trimestre") or by digit ("Q1", "1er trimestre").
_QUARTERS = {**joined("QUARTERS"), **{str(n): n for n in range(1, 5)}}
_RANGE_OPENERS = _words("range_openers")
# Joiner -> whether it joins only after "entre"/"between" ("marzo y abril" are two periods). The
# dash is a joiner in every language ("20-25").
_RANGE_JOINERS = {
    **{word: True for word in _words("range_and")},
    **{word: False for word in _words("range_to") + _words("range_to_after_opener")},
    "-": False,
}
# Words a range's gap may carry besides its joiner ("del 3 al 10", "from the 3rd to the 10th").
_FILLERS = _words("range_fillers")


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
        return None, 0 if relative in _YEAR_THIS else -1
    return None, None


def _day(offset: int) -> Callable[[dt.date], tuple[dt.date, dt.date]]:
    return lambda today: (today + dt.timedelta(days=offset), today + dt.timedelta(days=offset + 1))


def _week(offset: int) -> Callable[[dt.date], tuple[dt.date, dt.date]]:
    def days(today: dt.date) -> tuple[dt.date, dt.date]:
        monday = week_start(today) + dt.timedelta(days=7 * offset)
        return monday, monday + dt.timedelta(days=7)

    return days


def _month(offset: int, years: int = 0) -> Callable[[dt.date], tuple[dt.date, dt.date]]:
    return lambda today: (
        month_start(today.year + years, today.month + offset),
        month_start(today.year + years, today.month + offset + 1),
    )


def _year(offset: int) -> Callable[[dt.date], tuple[dt.date, dt.date]]:
    return lambda today: (dt.date(today.year + offset, 1, 1), dt.date(today.year + offset + 1, 1, 1))


def _weekend(today: dt.date, offset: int) -> tuple[dt.date, dt.date]:
    saturday = week_start(today) + dt.timedelta(days=5 + 7 * offset)
    return saturday, saturday + dt.timedelta(days=2)


def _same_week_last_year(today: dt.date) -> tuple[dt.date, dt.date]:
    monday = week_start(today - dt.timedelta(days=364))  # 52 weeks back: the same weekdays
    return monday, monday + dt.timedelta(days=7)


def _same_day_last_year(today: dt.date) -> tuple[dt.date, dt.date]:
    day = shift_years(today, -1)
    return day, day + dt.timedelta(days=1)


#: Relative periods by name: the days ``[first, last_excluded)`` each means on a given day. The
#: phrases that say them are per-language data (``RELATIVE_PERIODS``), their names ``TIME_NAMES``.
RELATIVE_RULES: dict[str, Callable[[dt.date], tuple[dt.date, dt.date]]] = {
    "same_month_year-1": _month(0, years=-1),
    "same_day_year-1": _same_day_last_year,
    "same_week_year-1": _same_week_last_year,
    "weekend-1": lambda today: _weekend(today, -1),
    "weekend": lambda today: _weekend(today, 0),
    # The first weekend not begun yet: this week's on a weekday, next week's on a weekend.
    "weekend+1": lambda today: _weekend(today, 0 if today.weekday() < 5 else 1),
    "day-2": _day(-2),
    "day-1": _day(-1),
    "day+1": _day(1),
    "day+2": _day(2),
    "day": _day(0),
    "week-1": _week(-1),
    "week": _week(0),
    "week+1": _week(1),
    "month-1": _month(-1),
    "month": _month(0),
    "month+1": _month(1),
    "year-1": _year(-1),
    "year": _year(0),
    "year+1": _year(1),
    # Unnamed: the exact label already says "en todo el histórico".
    "all_time": lambda today: (EPOCH, today + dt.timedelta(days=1)),
}
_RELATIVE_PHRASES = _by_rule("RELATIVE_PERIODS")


def relative_period(rule: str, today: dt.date) -> Period:
    """The period a relative rule (:data:`RELATIVE_RULES`) means on ``today``, with its names."""
    first, last_excluded = RELATIVE_RULES[rule](today)
    names = _names(rule) if rule in es.TIME_NAMES else (None, None)
    return Period.days(first, last_excluded, *names)


@functools.lru_cache(maxsize=8)
def _relative_periods(today: dt.date) -> tuple[tuple[str, re.Pattern[str], Period], ...]:
    """Fixed relative phrases, longest first, with their pattern and the period each means.

    Cached per day: about 150 periods, the same for every question asked that day (they cost
    more than the rest of reading most questions).
    """
    out = [
        (phrase, _pattern(re.escape(phrase)), relative_period(rule, today))
        for rule, phrases in _RELATIVE_PHRASES.items()
        for phrase in phrases
    ]
    return tuple(sorted(out, key=lambda item: len(item[0]), reverse=True))


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
    _scan_previous(ex)
    _scan_tomorrow(ex, today)
    for phrase, pattern, period in _relative_periods(today):
        if phrase in text:  # the pattern matches the phrase itself: most are not in the question
            ex.scan(pattern, lambda m, p=period: _Atom(0, 0, "period", period=p))
    ex.scan(
        _pattern(rf"(?:(?:{_any('year_atom_before')}) )?(?:(?:{_any('year_atom_word')}) )?{_Y}"), _year_atom
    )
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


# -- scanners ---------------------------------------------------------------------------------

_UNIT_ORDER = {"day": 1, "week": 2, "month": 3, "year": 4}


def _first_group(match: re.Match[str], prefix: str) -> str | None:
    """The first matched group named ``prefix`` + a number (one per language's alternative)."""
    return next((v for k, v in match.groupdict().items() if k.startswith(prefix) and v), None)


def _scan_previous(ex: _Extractor) -> None:
    """ "La semana anterior", "the month before": the one before the other period of the question,
    or before the current one when the question has no other; "frente a la anterior", "vs the
    previous one": the period before the other, of its length."""
    forms = []
    for i, language in enumerate(LANGUAGES):
        words = language.TIME
        units = _alternation([w for w, unit in language.TIME_UNITS.items() if unit != "hour"])
        article = rf"(?:(?:{_alternation(words['previous_unit_article'])}) )?"
        forms += [
            rf"{article}(?P<u{i}a>{units}) (?:{_alternation(words['previous_after_unit'])})",
            rf"{article}(?:{_alternation(words['previous_before_unit'])}) (?P<u{i}b>{units})",
            rf"{article}(?P<u{i}c>{units}) (?:{_alternation(words['before_after_unit'])})"
            rf"(?! (?:{_alternation(words['not_after_before'])}))",
        ]
    units = joined("TIME_UNITS")
    ex.scan(
        _pattern("|".join(forms)),
        lambda m: _Atom(0, 0, "previous", quarter=_UNIT_ORDER[units[_first_group(m, "u") or ""]]),
    )
    ex.scan(_pattern(_any("previous_one")), lambda m: _Atom(0, 0, "previous", quarter=0))


def _scan_tomorrow(ex: _Extractor, today: dt.date) -> None:
    """ "Mañana", "tomorrow"; the Spanish word is also "morning": "por la mañana", "esta mañana" are
    not tomorrow (nor is "pasado mañana", a relative period)."""
    tomorrow = relative_period("day+1", today)
    not_after = "".join(rf"(?<!{word} )" for word in _words("not_tomorrow_after"))
    ex.scan(
        re.compile(rf"(?<![^ ]){not_after}(?:{_any('tomorrow')})(?![^ ])"),
        lambda m: _Atom(0, 0, "period", period=tomorrow),
    )


#: Parts of the day by name: local hours ``[first, end)``; every answer's label spells them out.
#: Their words are per-language data (``DAY_PARTS``), their names ``TIME_NAMES``: after a day
#: (``morning``: "ayer por la mañana") and for today (``morning_today``: "esta mañana").
DAY_PART_HOURS: dict[str, tuple[int, int]] = {
    "small_hours": (0, 6),
    "morning": (6, 12),
    "long_afternoon": (12, 20),
    "afternoon": (12, 18),
    "evening": (18, 24),
    "night": (20, 24),
}
#: A part of the day's word -> its hours, its names after a day and its names for today.
DAY_PARTS: dict[str, tuple[tuple[int, int], tuple[str, str], tuple[str, str]]] = {
    word: (DAY_PART_HOURS[rule], _names(rule), _names(f"{rule}_today"))
    for rule, words in _by_rule("DAY_PARTS").items()
    for word in words
}
_PART = "|".join(DAY_PARTS)
# The part that "tonight", "anoche" and "at night" name.
_NIGHT = next(word for word in DAY_PARTS if DAY_PARTS[word][0] == DAY_PART_HOURS["night"])


def _scan_day_parts(ex: _Extractor, today: dt.date) -> tuple[tuple[int, int], tuple[str, str] | None] | None:
    """ "Esta mañana", "anoche", "ayer por la tarde", "yesterday evening": a range of hours of one day,
    and the names to add to the day's ("ayer por la tarde"; None when the phrase names its day).

    "Esta ..."/"this ..."/"tonight" and "anoche"/"last night" name the day; the others take the
    question's day. Two different parts in one question are ambiguous.
    """
    found: list[str] = []
    named_day = False

    def part_of(match: re.Match[str]) -> str:
        return match.groupdict().get("p") or _NIGHT

    def with_day(match: re.Match[str]) -> _Atom:
        nonlocal named_day
        part = part_of(match)
        found.append(part)
        named_day = True
        if match.group("prev"):
            day = Period.day(today - dt.timedelta(days=1), *_names("last_night"))
        else:
            day = Period.day(today, *DAY_PARTS[part][2])
        return _Atom(0, 0, "period", period=day)

    def alone(match: re.Match[str]) -> _Atom:
        found.append(part_of(match))
        return _Atom(0, 0, "clock")

    ex.scan(
        _pattern(
            rf"(?:{_any('day_part_this')}) (?P<p>{_PART})|{_any('tonight')}|(?P<prev>{_any('last_night')})"
        ),
        with_day,
    )
    ex.scan(_pattern(rf"(?:(?:{_any('day_part_before')}) (?P<p>{_PART})|{_any('at_night')})"), alone)
    # "ayer tarde", "yesterday morning", "monday night"; a bare "mañana" is tomorrow (scanned before).
    not_alone = _words("day_part_not_alone")
    ex.scan(_pattern(rf"(?P<p>{_alternation([p for p in DAY_PARTS if p not in not_alone])})"), alone)
    if not found:
        return None
    if len({DAY_PARTS[p][0] for p in found}) > 1:
        ex.problem = ex.problem or "ambiguous_hour"
    hours, names, _ = DAY_PARTS[found[0]]
    return hours, None if named_day else names


#: Meteorological seasons by name (whole months): first month of each. Their words are
#: per-language data (``SEASONS``), their names ``TIME_NAMES``.
SEASON_MONTHS: dict[str, int] = {"spring": 3, "summer": 6, "autumn": 9, "winter": 12}
_SEASONS = {word: rule for rule, words in _by_rule("SEASONS").items() for word in words}


def season(first_month: int, year: int) -> Period:
    """The meteorological season from ``first_month``; winter ``year`` is Dec ``year - 1`` to February."""
    start = dt.date(year - 1, 12, 1) if first_month == 12 else dt.date(year, first_month, 1)
    return Period.days(start, month_start(start.year, start.month + 3))


def _scan_seasons(ex: _Extractor, today: dt.date) -> None:
    """ "El verano pasado", "last winter", "summer 2023", "este otoño", "en primavera"."""
    this_words, verbs = _words("season_this"), _words("season_verbs")
    last_words = _words("season_last")

    def handle(match: re.Match[str]) -> _Atom | None:
        rule = _SEASONS[match.group("s")]
        first_month = SEASON_MONTHS[rule]
        year, offset = _year_of(match, today)
        before, after = match.group("pre"), match.group("post")
        if match.group("s") in verbs and not (before or year or offset is not None or match.group("art")):
            return None  # "did demand fall": a verb
        if year is None and offset is not None:
            year = today.year + offset
        if year is not None:
            label = _names(f"{rule}_of_year", year=year)
        else:
            # The winter that started last December belongs to this year.
            year = today.year + (1 if first_month == 12 and today.month == 12 else 0)
            this = before in this_words
            last = bool(after) or before in last_words
            while not this and (
                season(first_month, year).start.date() > today
                or (last and season(first_month, year).end.date() > today)
            ):
                year -= 1
            label = _names(f"{rule}_last" if last else f"{rule}_this" if this else rule)
        period = season(first_month, year)
        return _Atom(0, 0, "period", period=Period(period.start, period.end, *label))

    ex.scan(
        _pattern(
            rf"(?:(?:{_any('season_in')}) )?(?P<art>(?:{_any('articles')}) )?"
            rf"(?:(?P<pre>{_alternation(this_words + last_words)}) )?"
            rf"(?P<s>{_alternation(list(_SEASONS))})(?: (?P<post>{_any('last_after')}))?"
            rf"(?: (?:{_any('season_of')}))?{_YSUF}"
        ),
        handle,
    )


#: Fixed-date holidays by name: (month, day). Their phrases are per-language data (``HOLIDAYS``),
#: their names ``TIME_NAMES``.
HOLIDAY_DATES: dict[str, tuple[int, int]] = {
    "christmas_day": (12, 25),
    "christmas_eve": (12, 24),
    "new_years_eve": (12, 31),
    "new_years_day": (1, 1),
    "epiphany": (1, 6),
}
_HOLIDAYS = {phrase: rule for rule, phrases in _by_rule("HOLIDAYS").items() for phrase in phrases}


def _scan_holidays(ex: _Extractor, today: dt.date) -> None:
    """Christmas Day, Christmas Eve, New Year's Eve and Day, Epiphany: one day each.

    The holiday season ("las navidades", "the Christmas holidays") is not a day: left for the
    parser to refuse.
    """

    def handle(match: re.Match[str]) -> _Atom | None:
        rule = _HOLIDAYS[match.group("h")]
        month, day = HOLIDAY_DATES[rule]
        year, offset = _year_of(match, today)
        if year is None and offset is not None:
            year = today.year + offset
        if year is None:
            latest = today - dt.timedelta(days=1) if match.group("prev") or match.group("post") else today
            when = _most_recent_day(month, day, latest)
            if when is None:
                return None
        else:
            when = dt.date(year, month, day)
        return _Atom(0, 0, "period", period=Period.day(when, *_names(rule)))

    holidays = "|".join(re.escape(h) for h in sorted(_HOLIDAYS, key=len, reverse=True))
    ex.scan(
        _pattern(
            rf"(?:(?:{_any('holiday_before')}) )*(?:(?:{_any('holiday_day_of')}) )?"
            rf"(?P<prev>(?:{_any('holiday_last')}) )?"
            rf"(?P<h>{holidays})(?! (?:{_any('holiday_season')}))"
            rf"(?: (?P<post>{_any('last_after')}))?{_YSUF}"
        ),
        handle,
    )


def _year_atom(match: re.Match[str]) -> _Atom:
    return _Atom(0, 0, "year", year=int(match.group("y")))


def _scan_relative_compounds(ex: _Extractor, today: dt.date) -> None:
    """Rolling windows ("los últimos 7 días"), "hace N días", "N weeks ago", "same period last year"."""
    article = _any("article")
    ex.scan(
        _pattern(
            rf"(?:(?:{article}) )?(?:{_any('same_period')})(?: (?:{_any('same_period_of')}))?"
            rf"(?: (?:{article}))? (?:{_any('same_period_year_before')})"
            rf"|(?:{_any('year_on_year')})"
        ),
        lambda m: _Atom(0, 0, "shift"),
    )

    def rolling(match: re.Match[str], units: dict[str, str]) -> _Atom | None:
        count = _number(match.group("n")) if match.group("n") else 1
        unit = units[match.group("u")]
        if count <= 0 or count > 3660:
            return None
        if unit == "hour":
            return _Atom(0, 0, "rolling_hours", day=count)
        if unit == "month":
            first = month_start(today.year, today.month - count)
            return _Atom(0, 0, "period", period=Period.days(first, month_start(today.year, today.month)))
        if unit == "year":
            return _Atom(
                0,
                0,
                "period",
                period=Period.days(dt.date(today.year - count, 1, 1), dt.date(today.year, 1, 1)),
            )
        days = 1 if unit == "day" else 7
        return _Atom(0, 0, "period", period=Period.days(today - dt.timedelta(days=days * count), today))

    def ago(match: re.Match[str], units: dict[str, str]) -> _Atom | None:
        count = _number(match.group("n")) if match.group("n") else 1
        unit = units[match.group("u")]
        if unit == "day":
            return _Atom(0, 0, "period", period=Period.day(today - dt.timedelta(days=count)))
        if unit == "week":
            return _Atom(0, 0, "period", period=Period.week(week_start(today - dt.timedelta(days=7 * count))))
        if unit == "month":
            first = month_start(today.year, today.month - count)
            return _Atom(0, 0, "period", period=Period.month(first.year, first.month))
        return _Atom(0, 0, "period", period=Period.year(today.year - count))

    # Each language's own units and word order: "los últimos 3 días", "the last 3 days".
    for language in LANGUAGES:
        words, plural = language.TIME, language.TIME_UNITS_PLURAL
        ex.scan(
            _pattern(
                rf"(?:(?:{_alternation(words['rolling_before'])}) )?(?:{_alternation(words['rolling_last'])})"
                rf" (?P<n>{_NUM}) (?P<u>{_alternation(list(plural))})"
            ),
            lambda m, plural=plural: rolling(m, plural),
        )
    for language in LANGUAGES:
        # "Hace 3 días" (the word first, the count optional) or "3 days ago", "a week ago".
        words = language.TIME
        units = {
            word: unit
            for word, unit in (language.TIME_UNITS | language.TIME_UNITS_PLURAL).items()
            if unit != "hour"
        }
        unit_words = _alternation(sorted(units, key=len, reverse=True))
        if words["ago_before"]:
            body = rf"(?:{_alternation(words['ago_before'])}) (?:(?P<n>{_NUM}) )?(?P<u>{unit_words})"
        else:
            body = (
                rf"(?:(?P<n>{_NUM})|(?:{_alternation(words['ago_one'])})) (?P<u>{unit_words})"
                rf" (?:{_alternation(words['ago_after'])})"
            )
        ex.scan(_pattern(body), lambda m, units=units: ago(m, units))


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
        year_text = match.groupdict().get("y")  # "15/04" has no year group
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

    # "El día 15" (not "el día 15 de marzo"), "on the 15th" (not "the 15th of March").
    ex.scan(
        _pattern(
            rf"(?:{_any('day_of_month_before')}) (?P<d>[0-3]?\d)(?! (?:{_any('day_of_month_not_before')}) )"
        ),
        month_day,
    )
    ex.scan(
        _pattern(
            rf"(?:{_any('day_of_month_on')}) (?P<d>[0-3]?\d) (?:{_any('day_suffixes')})"
            rf"(?! (?:{_any('day_of_month_not_after_suffix')}))"
        ),
        month_day,
    )


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

    openers, of = _any("named_range_openers"), _any("named_day_of")
    ex.scan(
        _pattern(
            rf"(?:(?:{openers}) )?(?P<d1>[0-3]?\d)-(?P<d2>[0-3]?\d) (?:(?:{of}) )?(?P<mon>{_MON}){_YSUF}"
        ),
        day_range,
    )
    ex.scan(
        _pattern(rf"(?:(?:{openers}) )?(?P<mon>{_MON}) (?P<d1>[0-3]?\d)-(?P<d2>[0-3]?\d){_YSUF}"),
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

    the = _any("day_the")
    weekday = rf"(?:(?:(?:{_any('weekday_article')}) )?(?:{_DOW}) (?:(?:{the}) )?)?"
    ex.scan(
        _pattern(
            rf"{weekday}(?:(?:{_any('article')}) )?(?:(?:{_any('named_day_word')}) )?{_D} (?:(?:{of}) )?"
            rf"(?:(?:{_any('named_day_month_of')}) )?(?P<mon>{_MON}){_YSUF}"
        ),
        named,
    )
    ex.scan(
        _pattern(rf"{weekday}(?:(?:{_any('named_day_on')}) )?(?P<mon>{_MON}) (?:(?:{the}) )?{_D}{_YSUF}"),
        named,
    )


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
    anchor = rf"(?:(?:{_any('articles')}) )?(?:{_MON}|(?:19|20)\d\d|{_any('part_anchors')})"
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
        name = _names("decade", decade=first, short_decade=str(first)[2:] if first < 2000 else first)
        return _Atom(0, 0, "period", period=Period(period.start, period.end, *name))

    ex.scan(
        _pattern(
            rf"(?:(?:{_any('decade_in')}) )?(?:(?:{_any('decade_article')}) )?"
            rf"(?P<d>(?:19|20)?\d0) (?:{_any('decade_suffix')})"
        ),
        decade,
    )
    ex.scan(
        _pattern(
            rf"(?:(?:{_any('decade_of_in')}) )?(?:(?:{_any('decade_of_article')}) )?"
            rf"(?:{_any('decade_of')}) (?P<d>(?:19|20)?\d0)"
        ),
        decade,
    )

    def since(match: re.Match[str]) -> _Atom | None:
        first = int(match.group("y"))
        if first > today.year:
            return None
        period = Period.days(dt.date(first, 1, 1), today + dt.timedelta(days=1))
        return _Atom(0, 0, "period", period=Period(period.start, period.end, *_names("since", year=first)))

    ex.scan(
        _pattern(
            rf"(?:{_any('since')}) (?:(?:{_any('article')}) )?(?:(?:{_any('since_year_word')}) )?"
            rf"(?P<y>(?:19|20)\d\d)(?! (?:{_any('since_not_before')}|-) )(?! [0-3]?\d )"
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
            rf"(?:(?:{_any('quarter_before')}) )?(?P<q>{ordinals}){_ORD} (?:{_any('quarter')})"
            rf"(?: (?:{_any('quarter_of')}))?{_YSUF}"
        ),
        quarter,
    )
    ex.scan(
        _pattern(
            rf"(?:(?:{_any('quarter_short_before')}) )?(?:{_any('quarter_letters')}) (?P<q>[1-4]){_YSUF}"
        ),
        quarter,
    )


def _scan_weekdays(ex: _Extractor, today: dt.date) -> None:
    monday = week_start(today)

    def of_last_week(match: re.Match[str]) -> _Atom:
        day = monday - dt.timedelta(days=7) + dt.timedelta(days=WEEKDAYS[match.group("w")])
        return _Atom(0, 0, "period", period=Period.day(day))

    article = _any("weekday_article")
    ex.scan(_pattern(rf"(?:(?:{article}) )?(?P<w>{_DOW}) (?:{_any('of_last_week')})"), of_last_week)

    def upcoming(match: re.Match[str]) -> _Atom:
        # "El jueves que viene", "next Thursday", "para el jueves": the first one after today.
        target = WEEKDAYS[match.group("w") or match.group("w2") or match.group("w3")]
        ahead = (target - today.weekday()) % 7 or 7
        return _Atom(0, 0, "period", period=Period.day(today + dt.timedelta(days=ahead)))

    ex.scan(
        _pattern(
            rf"(?:(?:{article}) )?(?:{_any('next_before_weekday')}) (?P<w>{_DOW})"
            rf"|(?:(?:{_any('next_article_after_weekday')}) )?(?P<w2>{_DOW}) (?:{_any('next_after_weekday')})"
            rf"|(?:{_any('for_weekday')}) (?P<w3>{_DOW})"
        ),
        upcoming,
    )

    def recent(match: re.Match[str]) -> _Atom:
        target = WEEKDAYS[match.group("w")]
        back = (today.weekday() - target) % 7 or 7
        return _Atom(0, 0, "period", period=Period.day(today - dt.timedelta(days=back)))

    ex.scan(
        _pattern(
            rf"(?:(?:{_any('recent_before_weekday')}) )?"
            rf"(?P<w>{_DOW})(?: (?:{_any('recent_after_weekday')}))?"
        ),
        recent,
    )


def _scan_months(ex: _Extractor, today: dt.date) -> None:
    def previous(match: re.Match[str]) -> _Atom:
        month = MONTHS[match.group("mon")]
        year = today.year if month < today.month else today.year - 1
        return _Atom(0, 0, "month", year=year, month=month)

    ex.scan(
        _pattern(
            rf"(?:(?:{_any('month_last_article')}) )?(?:{_any('month_last_before')}) "
            rf"(?:(?:{_any('month_of')}) )?(?P<mon>{_MON})"
        ),
        previous,
    )
    ex.scan(
        _pattern(
            rf"(?:(?:{_any('month_last_article')}) )?(?:(?:{_any('month_of')}) )?(?P<mon>{_MON})"
            rf" (?:{_any('month_last_after')})"
        ),
        previous,
    )

    def month(match: re.Match[str]) -> _Atom:
        year, offset = _year_of(match, today)
        return _Atom(0, 0, "month", year=year, month=MONTHS[match.group("mon")], year_offset=offset)

    ex.scan(
        _pattern(
            rf"(?:(?:{_any('month_before')}) )?(?:(?:{_any('month_of_named')}) )?(?P<mon>{_MON}){_YSUF}"
        ),
        month,
    )


#: Clock words -> ``am``/``pm``/``night`` (what they make of the hour; see ``CLOCK_PARTS``).
_CLOCK_PARTS: dict[str, str] = joined("CLOCK_PARTS")
# Parts of the day after "de la"/"por la" ("a las 9 de la noche"), and "am"/"pm" after an hour: the
# same table, told apart by whether the word is a part of the day.
_day_part_clock = [word for word in _CLOCK_PARTS if word in DAY_PARTS]
_ampm = [word for word in _CLOCK_PARTS if word not in DAY_PARTS]


def _scan_clock(ex: _Extractor) -> tuple[ClockTime | None, tuple[int, int] | None]:
    found: list[ClockTime] = []
    ranges: list[tuple[int, int]] = []

    def to_24h(hour: int, part: str | None, minutes: bool) -> ClockTime | None:
        meaning = _CLOCK_PARTS.get(part or "")
        if (meaning == "pm" and hour < 12) or (meaning == "night" and 7 <= hour < 12):
            hour += 12
        elif meaning == "am" and hour == 12:
            hour = 0
        if not 0 <= hour <= 24:
            return None
        hour %= 24
        ambiguous = part is None and not minutes and ex.language == "en" and 1 <= hour <= 11
        return ClockTime(hour, ambiguous)

    # "A las 9 de la noche", "at 3 pm", "a las 15 h".
    part = (
        rf"(?: (?:(?:{_any('clock_day_part_of')}) (?P<part>{_alternation(_day_part_clock)})"
        rf"|(?P<ampm>{_alternation(_ampm)})|{_any('clock_hour_words')}))?"
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
    suffix = _any("clock_range_suffixes")
    ex.scan(
        _pattern(
            rf"(?:{_any('clock_range_from')}) (?P<h>[0-2]?\d)(?::\d{{2}})?(?: (?P<p1>{suffix}))? "
            rf"(?:{_any('clock_range_to')}) (?P<h2>[0-2]?\d)(?::\d{{2}})?(?: (?P<p2>{suffix}))?"
        ),
        clock_range,
    )
    ex.scan(  # "de 10:00 a 14:00": a bare range needs its minutes
        _pattern(
            rf"(?:{_any('clock_range_from_minutes')}) (?P<h>[0-2]?\d):\d{{2}}(?: (?P<p1>{suffix}))? "
            rf"(?:{_any('clock_range_to_minutes')}) (?P<h2>[0-2]?\d):\d{{2}}(?: (?P<p2>{suffix}))?"
        ),
        clock_range,
    )
    for language in LANGUAGES:  # "a las 3", "at 3": each language's own words, in its order
        at, article = _alternation(language.TIME["clock_at"]), language.TIME["clock_at_article"]
        before = rf"(?:{at}) (?:{_alternation(article)}) " if article else rf"(?:{at}) "
        ex.scan(_pattern(rf"{before}{hm}{part}"), clock)
    ex.scan(_pattern(r"(?P<h>[0-2]?\d):(?P<mm>\d{2})" + part), clock)
    ex.scan(
        _pattern(
            rf"(?P<h>[0-2]?\d)(?P<mm>) (?:(?P<ampm>{_alternation(_ampm)})|{_any('clock_suffixes')})(?P<part>)"
        ),
        clock,
    )
    ex.scan(
        _pattern(rf"(?:(?:{_any('noon_at')}) )?(?:{_any('noon')})"),
        lambda m: found.append(ClockTime(12)) or _Atom(0, 0, "clock"),
    )
    ex.scan(
        _pattern(rf"(?:(?:{_any('midnight_at')}) )?(?:{_any('midnight')})"),
        lambda m: found.append(ClockTime(0)) or _Atom(0, 0, "clock"),
    )
    if len(found) > 1 and len({c.hour for c in found}) > 1:
        ex.problem = ex.problem or "ambiguous_hour"
    return (found[0] if found else None), (ranges[0] if ranges else None)


_DAY_NUMBER_FILLERS = _words("day_number_fillers")


def _scan_day_numbers(ex: _Extractor) -> None:
    """Bare day numbers next to range words ("entre el 20 y el 25 de octubre")."""
    for match in _pattern(rf"(?P<d>[0-3]?\d)(?: (?:{_any('day_suffixes')}))?").finditer(ex.text):
        if not ex.free(match.start(), match.end()):
            continue
        before = ex.text[: match.start()].split()[-2:]
        words = [w for w in before if w not in _DAY_NUMBER_FILLERS]
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
    for words in _words("week_of"):
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
            1: Period.day(today - dt.timedelta(days=1), *_names("previous_day")),
            2: Period.week(monday - dt.timedelta(days=7), *_names("previous_week")),
            3: Period.month(previous_month.year, previous_month.month, *_names("previous_month")),
            4: Period.year(today.year - 1, *_names("previous_year")),
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


_ARTICLES = _words("articles")
_OPENER_FILLERS = _words("range_opener_fillers")
_RANGE_BETWEEN = _words("range_between")
# "De enero a febrero": the Spanish "a" joins a range only after an opener ("a" is also "to" a place).
_JOINERS_AFTER_OPENER = _words("range_to_after_opener")


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
            gap = [w for w in gap if w not in _FILLERS]
            joiner = " ".join(w for w in gap if w not in _ARTICLES)
            preceding = [w for w in ex.text[: atom.start].split() if w not in _OPENER_FILLERS]
            before = preceding[-1:] or [""]
            opener = before[0] in _RANGE_OPENERS or atom_text_starts(ex, atom)
            # "y"/"and" make a range only after "entre"/"between": "marzo y abril" are two periods.
            strict_opener = before[0] in _RANGE_BETWEEN or atom_text_starts(ex, atom, _RANGE_BETWEEN)
            if (
                joiner in _RANGE_JOINERS
                and (strict_opener if _RANGE_JOINERS[joiner] else True)
                and (joiner not in _JOINERS_AFTER_OPENER or opener)
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


#: Every word a time expression uses: the typo corrector must know them (or it would "fix" them).
TIME_WORDS: frozenset[str] = frozenset(
    {word for phrase, *_ in _relative_periods(dt.date(2024, 1, 1)) for word in phrase.split()}
    | set(_words("pattern_words"))
    | {word for phrase in DAY_WORDS for word in phrase.split()}
    | set(MONTHS)
    | set(WEEKDAYS)
    | {word for phrase in period_parts.all_words() for word in phrase.split()}
)
