"""Parts of a period: halves, fortnights and the weeks of a month ("el primer semestre de 2024",
"the last week of February 2024", "la segunda quincena de marzo").

The words are per-language data (:data:`PART_WORDS`); what each part means is a named rule
(:data:`RULES`) over the period it qualifies (its *anchor*: a year or a month, however the
question names it). A part with no anchor, or an anchor of another length, is not read, and the
parser refuses the question rather than guess.

Conventions (stated in every answer, which spells the days out): a half of a year is six
calendar months; a half of a month is a fortnight, days 1-15 and 16 to the end; the n-th week
of a month is its days 7n-6 to 7n; the last week is its last seven days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from datalake.ask.periods import Period, month_start

#: Folded words naming each part, per language (the question's tokens are folded: no accents).
PART_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "es": {
        "half_1": ("primer semestre", "primera mitad"),
        "half_2": ("segundo semestre", "segunda mitad"),
        "fortnight_1": ("primera quincena",),
        "fortnight_2": ("segunda quincena",),
        "week_1": ("primera semana",),
        "week_2": ("segunda semana",),
        "week_3": ("tercera semana",),
        "week_4": ("cuarta semana",),
        "week_last": ("ultima semana",),
    },
    "en": {
        "half_1": ("first half",),
        "half_2": ("second half",),
        "fortnight_1": ("first fortnight",),
        "fortnight_2": ("second fortnight",),
        "week_1": ("first week",),
        "week_2": ("second week",),
        "week_3": ("third week",),
        "week_4": ("fourth week",),
        "week_last": ("last week",),
    },
}
#: Words that join a part to its anchor ("de marzo", "of 2024").
JOINERS: dict[str, tuple[str, ...]] = {"es": ("de", "del"), "en": ("of",)}
#: Articles a part may carry in front ("la primera semana", "in the first half").
ARTICLES: dict[str, tuple[str, ...]] = {
    "es": ("en la", "en el", "la", "el", "durante la", "durante el"),
    "en": ("in the", "during the", "the"),
}


def _is_year(anchor: Period) -> bool:
    first, last = anchor.start.date(), anchor.end.date()
    return first.month == first.day == 1 and last == dt.date(first.year + 1, 1, 1)


def _is_month(anchor: Period) -> bool:
    first, last = anchor.start.date(), anchor.end.date()
    return first.day == 1 and last == month_start(first.year, first.month + 1)


def _months(anchor: Period, first: int, count: int) -> Period:
    start = anchor.start.date()
    return Period.days(
        month_start(start.year, start.month + first), month_start(start.year, start.month + first + count)
    )


def _days(anchor: Period, first: int, last_excluded: int | None) -> Period:
    start = anchor.start.date()
    end = anchor.end.date() if last_excluded is None else start + dt.timedelta(days=last_excluded)
    return Period.days(start + dt.timedelta(days=first), min(end, anchor.end.date()))


@dataclass(frozen=True)
class PartRule:
    """A named part: how it cuts a year anchor and a month anchor (None: that anchor is not read)."""

    name: str
    of_year: Callable[[Period], Period] | None
    of_month: Callable[[Period], Period] | None

    def apply(self, anchor: Period) -> Period | None:
        """The part of ``anchor``; None when the anchor is neither a whole year nor a whole month
        this part can cut."""
        if _is_year(anchor) and self.of_year is not None:
            return self.of_year(anchor)
        if _is_month(anchor) and self.of_month is not None:
            return self.of_month(anchor)
        return None


RULES: dict[str, PartRule] = {
    rule.name: rule
    for rule in (
        PartRule("half_1", lambda p: _months(p, 0, 6), lambda p: _days(p, 0, 15)),
        PartRule("half_2", lambda p: _months(p, 6, 6), lambda p: _days(p, 15, None)),
        PartRule("fortnight_1", None, lambda p: _days(p, 0, 15)),
        PartRule("fortnight_2", None, lambda p: _days(p, 15, None)),
        *(
            PartRule(f"week_{n}", None, lambda p, n=n: _days(p, 7 * (n - 1), 7 * n))  # type: ignore[misc]
            for n in range(1, 5)
        ),
        PartRule(
            "week_last",
            None,
            lambda p: Period.days(p.end.date() - dt.timedelta(days=7), p.end.date()),
        ),
    )
}


def phrases(language: str) -> list[tuple[str, str]]:
    """``(phrase, rule name)`` for ``language``, longest phrase first."""
    pairs = [(phrase, name) for name, words in PART_WORDS[language].items() for phrase in words]
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def all_words() -> tuple[str, ...]:
    """Every part phrase of every language (a question that keeps one unread is refused)."""
    return tuple(sorted({phrase for words in PART_WORDS.values() for ws in words.values() for phrase in ws}))
