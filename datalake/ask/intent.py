"""What a question asks, once understood: the parser's output and the SQL builder's input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from datalake.ask.lexicon import Technology
from datalake.ask.periods import Period

#: Intent.days for one weekday, Monday first.
WEEKDAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: The local weekdays (Monday 0) each value of :attr:`Intent.days` keeps.
DAYS_KEPT: dict[str, frozenset[int]] = {
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
    **{key: frozenset({number}) for number, key in enumerate(WEEKDAY_KEYS)},
}

Measure = Literal["demand", "forecast", "generation", "share"]
Aggregate = Literal[
    "instant", "total", "average", "max", "min", "top", "compare", "trend", "rank", "error", "group"
]
Inner = Literal["total", "average", "max", "min", "instant", "mae", "mape"]
Granularity = Literal["hour", "day", "week", "month", "year"]


@dataclass(frozen=True)
class Intent:
    """One understood question.

    Attributes
    ----------
    language
        ``"es"`` or ``"en"``: the answer is written in it.
    measure
        ``demand`` (MW per hour), ``forecast`` (the grid operator's day-ahead demand forecast),
        ``generation`` (MWh, optionally of one technology) or ``share`` (a technology's share of
        generation).
    aggregate
        What to compute over the period(s); ``rank`` orders technologies against each other;
        ``error`` scores the operator's forecast against the actual demand, hour by hour;
        ``group`` gives one value per local weekday or per kind of day (see ``group``).
    periods
        One period, or two for a comparison.
    technology
        For generation and share; None is all generation. In a ranking, the family ranked
        (renewable, fossil, solar...; None ranks every technology).
    region
        ``national`` or ``peninsular``.
    granularity
        The buckets of a trend, a top-k or a maximum by day/week/month; None means hours.
    inner
        How each bucket or compared period is summarised (total energy, mean, peak); for an
        ``error``, the statistic asked for (``mae`` in MW or ``mape`` in percent).
    k
        How many rows a top-k returns; in a ranking, None lists every technology.
    order
        ``desc`` (largest first) or ``asc``.
    against
        A comparison of two things over one period: a second technology (``technology`` is the
        first), or ``forecast`` for the actual demand against the operator's forecast.
    days
        Only the hours of local ``weekdays`` (Monday to Friday), ``weekends`` or one weekday
        (``monday``... ``sunday``, "los sábados"); None: every day (see :data:`DAYS_KEPT`).
    group
        For ``group``: ``weekday`` (Monday to Sunday) or ``daytype`` (weekdays, then weekends);
        with ``k`` the top groups only (the busiest weekday).
    change
        For a comparison: ``percent`` answers the change from the earlier period to the later one,
        in percent, as one value (``change_pct``); None answers both values and their difference.
    """

    language: str
    measure: Measure
    aggregate: Aggregate
    periods: tuple[Period, ...]
    technology: Technology | None = None
    region: str = "national"
    granularity: Granularity | None = None
    inner: Inner = "total"
    k: int | None = None
    order: Literal["desc", "asc"] = "desc"
    change: Literal["percent"] | None = None
    against: Technology | Literal["forecast"] | None = None
    days: str | None = None
    group: Literal["weekday", "daytype"] | None = None

    @property
    def period(self) -> Period:
        """The (first) period."""
        return self.periods[0]

    def as_dict(self) -> dict[str, Any]:
        """The interpretation shown to users: plain JSON types, labels in the question's language.

        A ranking adds ``ranked`` (``technology``: what is ordered); its ``technology`` is the
        family ranked, None for all.
        """
        ranked = {"ranked": "technology"} if self.aggregate == "rank" else {}
        return {
            "method": "parser",
            "language": self.language,
            "measure": self.measure,
            "aggregate": self.aggregate,
            "period": self.period.as_dict(self.language),
            "periods": [p.as_dict(self.language) for p in self.periods],
            "technology": self.technology.key if self.technology else None,
            "region": self.region,
            "granularity": self.granularity,
            "inner": self.inner,
            "k": self.k,
            "order": self.order,
            "change": self.change,
            "against": self.against if isinstance(self.against, str | None) else self.against.key,
            "days": self.days,
            "group": self.group,
        } | ranked
