"""Periods: half-open local-time spans ``[start, end)`` and their exact labels in both languages.

Every bound is an aware ``Europe/Madrid`` datetime on the hour; :attr:`Period.start_utc` and
:attr:`Period.end_utc` are what the SQL compares ``ts_utc`` with. Days are local days, so a
daylight-saving day has 23 or 25 hours, and a month ends where the next one starts: its last
day is never lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from datalake.ask.lexicon import MONTH_NAMES_EN, MONTH_NAMES_ES, WEEKDAY_NAMES_EN, WEEKDAY_NAMES_ES

MADRID = ZoneInfo("Europe/Madrid")
UTC = dt.UTC
HOUR = dt.timedelta(hours=1)
#: "All data" starts here: before any series the lake holds.
EPOCH = dt.date(2000, 1, 1)


def local_midnight(day: dt.date) -> dt.datetime:
    """Start of a local day (midnight always exists in Madrid: its changes are at 02:00/03:00)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=MADRID)


def local_hour(day: dt.date, hour: int) -> dt.datetime | None:
    """Start of a local hour; None for the hour skipped by the spring change.

    The repeated hour of the autumn change is its first occurrence (``fold=0``).
    """
    moment = dt.datetime(day.year, day.month, day.day, hour, tzinfo=MADRID)
    if moment.astimezone(UTC).astimezone(MADRID).hour != hour:
        return None
    return moment


def add_hours(moment: dt.datetime, hours: int) -> dt.datetime:
    """``moment`` plus real elapsed hours (through UTC, so DST changes are counted right)."""
    return (moment.astimezone(UTC) + hours * HOUR).astimezone(MADRID)


def month_start(year: int, month: int) -> dt.date:
    """First day of a month, with months beyond 12 or below 1 rolling into other years."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return dt.date(year, month, 1)


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def shift_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Period:
    """A half-open span of local time.

    Attributes
    ----------
    start, end
        Aware ``Europe/Madrid`` datetimes; ``end`` is excluded.
    name_es, name_en
        How the question named it when that was relative ("ayer", "last week"), else None.
    clipped_from
        The end before it was cut at the time of the question (periods that are still running,
        such as "hoy" or "este mes", end at the last complete hour).
    """

    start: dt.datetime
    end: dt.datetime
    name_es: str | None = None
    name_en: str | None = None
    clipped_from: dt.datetime | None = None

    @classmethod
    def days(
        cls, first: dt.date, last_excluded: dt.date, name_es: str | None = None, name_en: str | None = None
    ) -> Period:
        """Whole local days ``[first, last_excluded)``."""
        return cls(local_midnight(first), local_midnight(last_excluded), name_es, name_en)

    @classmethod
    def day(cls, day: dt.date, name_es: str | None = None, name_en: str | None = None) -> Period:
        """One local day."""
        return cls.days(day, day + dt.timedelta(days=1), name_es, name_en)

    @classmethod
    def month(cls, year: int, month: int, name_es: str | None = None, name_en: str | None = None) -> Period:
        """One calendar month."""
        return cls.days(month_start(year, month), month_start(year, month + 1), name_es, name_en)

    @classmethod
    def year(cls, year: int, name_es: str | None = None, name_en: str | None = None) -> Period:
        """One calendar year."""
        return cls.days(dt.date(year, 1, 1), dt.date(year + 1, 1, 1), name_es, name_en)

    @classmethod
    def week(cls, monday: dt.date, name_es: str | None = None, name_en: str | None = None) -> Period:
        """One ISO week (Monday to Sunday)."""
        return cls.days(monday, monday + dt.timedelta(days=7), name_es, name_en)

    @property
    def start_utc(self) -> dt.datetime:
        """``start`` in UTC."""
        return self.start.astimezone(UTC)

    @property
    def end_utc(self) -> dt.datetime:
        """``end`` in UTC."""
        return self.end.astimezone(UTC)

    @property
    def hours(self) -> int:
        """Hours in the span (23 or 25 for a daylight-saving day)."""
        return int((self.end_utc - self.start_utc) / HOUR)

    @property
    def is_hour(self) -> bool:
        """Whether the span is exactly one hour."""
        return self.hours == 1

    def clip(self, as_of: dt.datetime) -> Period:
        """This period ending no later than the last complete hour before ``as_of``."""
        # Compared in UTC: two Madrid times in the repeated autumn hour compare by wall clock.
        limit = as_of.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        if self.end_utc <= limit:
            return self
        return replace(self, end=max(limit, self.start_utc).astimezone(MADRID), clipped_from=self.end)

    @property
    def is_empty(self) -> bool:
        """Whether the span holds no hour (a period cut before it began)."""
        return self.start_utc >= self.end_utc

    def shifted_years(self, years: int) -> Period:
        """The same local dates and hours ``years`` later (for "the same period last year")."""
        end = self.clipped_from or self.end

        def move(moment: dt.datetime) -> dt.datetime:
            day = shift_years(moment.date(), years)
            return local_hour(day, moment.hour) or local_midnight(day)

        moved = Period(move(self.start), move(end))
        return moved if self.clipped_from is None else replace(moved, end=move(self.end))

    def as_dict(self, language: str) -> dict[str, str]:
        """``start``, ``end`` (ISO 8601 with the Madrid offset) and ``label`` in ``language``."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label(language)}

    def label(self, language: str) -> str:
        """The exact period in words, with a leading preposition ("el 15 de abril de 2024", "in 2024")."""
        if self.start.date() == EPOCH:  # "all the data": say where it ends, once
            return _exact_label(self.start, self.end, language)
        exact = _exact_label(self.start, self.clipped_from or self.end, language)
        name = self.name_es if language == "es" else self.name_en
        text = f"{name} ({_bare(exact)})" if name else exact
        if self.clipped_from is not None:
            until = _moment(self.end, language)
            text += f", hasta {until}" if language == "es" else f", up to {until}"
        return text

    def short_label(self, language: str) -> str:
        """A compact label for chart axes and comparison rows ("abril de 2024 (hasta 17/04 14:00)")."""
        text = _bare(_exact_label(self.start, self.clipped_from or self.end, language))
        if self.clipped_from is not None:
            text += f" ({'hasta' if language == 'es' else 'to'} {self.end:%d/%m %H:%M})"
        return text


# -- labels ---------------------------------------------------------------------------------------


def _bare(label: str) -> str:
    for prefix in ("el ", "en ", "on ", "in ", "la ", "the "):
        if label.startswith(prefix):
            return label[len(prefix) :]
    return label


def day_text(day: dt.date, language: str, weekday: bool = True, year: bool = True) -> str:
    """``lunes 15 de abril de 2024`` / ``Monday 15 April 2024``."""
    if language == "es":
        text = f"{day.day} de {MONTH_NAMES_ES[day.month - 1]}" + (f" de {day.year}" if year else "")
        return f"{WEEKDAY_NAMES_ES[day.weekday()]} {text}" if weekday else text
    text = f"{day.day} {MONTH_NAMES_EN[day.month - 1]}" + (f" {day.year}" if year else "")
    return f"{WEEKDAY_NAMES_EN[day.weekday()]} {text}" if weekday else text


def _moment(moment: dt.datetime, language: str) -> str:
    moment = moment.astimezone(MADRID)
    clock = f"{moment.hour:02d}:{moment.minute:02d}"
    if language == "es":
        return f"las {clock} del {day_text(moment.date(), 'es', weekday=False)}"
    return f"{clock} on {day_text(moment.date(), 'en', weekday=False)}"


def hour_text(moment: dt.datetime, language: str) -> str:
    """``el lunes 15 de abril de 2024 a las 15:00`` / ``on Monday 15 April 2024 at 15:00`` (Madrid)."""
    moment = moment.astimezone(MADRID)
    clock = f"{moment.hour:02d}:00"
    if language == "es":
        return f"el {day_text(moment.date(), 'es')} a las {clock}"
    return f"on {day_text(moment.date(), 'en')} at {clock}"


def _exact_label(start: dt.datetime, end: dt.datetime, language: str) -> str:
    es = language == "es"
    first, after = start.date(), end.date()
    at_midnight = start.hour == 0 and end.hour == 0 and start.minute == 0 and end.minute == 0
    if first == EPOCH:
        until = _moment(end, language) if not at_midnight else None
        last_day = after - dt.timedelta(days=1)
        if es:
            return f"en todo el histórico (hasta {until or 'el ' + day_text(last_day, 'es', weekday=False)})"
        return f"over all the data (up to {until or day_text(last_day, 'en', weekday=False)})"
    if int((end.astimezone(UTC) - start.astimezone(UTC)) / HOUR) == 1:
        return hour_text(start, language)
    if not at_midnight:
        if es:
            return f"entre {_moment(start, 'es')} y {_moment(end, 'es')}"
        return f"from {_moment(start, 'en')} to {_moment(end, 'en')}"
    last = after - dt.timedelta(days=1)
    if after - first == dt.timedelta(days=1):
        return f"el {day_text(first, 'es')}" if es else f"on {day_text(first, 'en')}"
    if first.day == 1 and after == month_start(first.year, first.month + 1):
        month = MONTH_NAMES_ES[first.month - 1] if es else MONTH_NAMES_EN[first.month - 1]
        return f"en {month} de {first.year}" if es else f"in {month} {first.year}"
    if first == dt.date(first.year, 1, 1) and after == dt.date(first.year + 1, 1, 1):
        return f"en {first.year}" if es else f"in {first.year}"
    span = _day_span(first, last, language)
    if first.weekday() == 0 and after - first == dt.timedelta(days=7):
        return f"la semana {span}" if es else f"the week {span.replace('from', 'of', 1)}"
    return span


def _day_span(first: dt.date, last: dt.date, language: str) -> str:
    if language == "es":
        if first.year == last.year and first.month == last.month:
            return f"del {first.day} al {last.day} de {MONTH_NAMES_ES[last.month - 1]} de {last.year}"
        if first.year == last.year:
            first_text = day_text(first, "es", weekday=False, year=False)
            return f"del {first_text} al {day_text(last, 'es', weekday=False)}"
        return f"del {day_text(first, 'es', weekday=False)} al {day_text(last, 'es', weekday=False)}"
    if first.year == last.year and first.month == last.month:
        return f"from {first.day} to {last.day} {MONTH_NAMES_EN[last.month - 1]} {last.year}"
    if first.year == last.year:
        first_text = day_text(first, "en", weekday=False, year=False)
        return f"from {first_text} to {day_text(last, 'en', weekday=False)}"
    return f"from {day_text(first, 'en', weekday=False)} to {day_text(last, 'en', weekday=False)}"
