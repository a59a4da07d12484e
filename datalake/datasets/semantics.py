"""What /ask may ask of a table: its measures, dimensions and time, with their words (the semantic layer).

A :class:`Semantics` rides on a :class:`~datalake.datasets.spec.DatasetSpec` (``ask=``). The
declared question kinds (:mod:`datalake.ask.kinds`) read only these declarations, so a table
becomes answerable by declaring them: no parser code. Words are per language (``es``, ``en``),
written as people write them; matching folds case and accents and corrects typos.

Expressions are SQL over the table's own (non-personal) columns; bridge dimensions name the
table they live in and the columns that join it to the main table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Aggregation = Literal["sum", "avg", "max", "min", "count", "ratio"]


@dataclass(frozen=True)
class Words:
    """Phrases naming one thing, per language (folded when matched)."""

    es: tuple[str, ...] = ()
    en: tuple[str, ...] = ()

    def all(self) -> tuple[str, ...]:
        """Both languages' phrases."""
        return (*self.es, *self.en)


def _first(words: Words, language: str, default: str) -> str:
    phrases = words.es if language == "es" else words.en
    return phrases[0] if phrases else default


@dataclass(frozen=True)
class Condition:
    """A row filter a measure needs, stated in the answer (``vote_count >= 1000``)."""

    sql: str
    es: str
    en: str


@dataclass(frozen=True)
class Measure:
    """A number /ask may aggregate or rank by.

    Attributes
    ----------
    key
        Its name in interpretations (``budget``).
    expression
        SQL over the table's columns (``budget_usd``, ``revenue_usd - budget_usd``).
    unit
        How values are shown: ``USD``, ``COP``, ``kWh``, ``min``, ``/10`` or ``""``.
    words
        How people name it; ``superlatives`` name its largest values ("más caras" -> budget) and
        ``least`` its smallest ("más cortas" -> runtime).
    aggregations
        What may be computed over it; the first is the default when a question names none.
    when
        Rows where the measure means something (a rating needs votes); always applied.
    ranked_when
        Applied when single rows are ranked by it (the best rated need enough votes); stated.
    ratio_of
        With the ``ratio`` aggregation: the sum of ``expression`` over the sum of this (a price
        weighted by volume is total COP over total kWh).
    parts, optional_parts
        Another way to name it: one phrase of each part anywhere in the question ("porcentaje de
        la energía primaria ... renovable" is the renewable share of energy). Of the measures so
        named, the one with the most parts present wins; ``optional_parts`` count without being
        needed ("renewable share" names the share of energy, "renewable share of electricity" the
        share of electricity, whose parts include electricity).
    unit_by
        Per-row units: dimension key -> (its value -> unit) (the series Brent in USD/bbl, Henry Hub
        in USD/MMBtu); ``unit`` is what the values share when rows of several units are mixed.
    """

    key: str
    expression: str
    unit: str
    words: Words
    aggregations: tuple[Aggregation, ...] = ("sum", "avg", "max", "min")
    superlatives: Words = field(default_factory=Words)
    least: Words = field(default_factory=Words)
    when: Condition | None = None
    ranked_when: Condition | None = None
    ratio_of: str | None = None
    parts: tuple[Words, ...] = ()
    optional_parts: tuple[Words, ...] = ()
    unit_by: dict[str, dict[str, str]] = field(default_factory=dict)

    def name(self, language: str) -> str:
        """Its name in an answer: its first word in ``language``."""
        return _first(self.words, language, self.key)

    def unit_of(self, values: dict[str, list[object]]) -> str:
        """The unit of values filtered or labelled by ``values`` (dimension key -> values): the
        per-value unit when they all share one, else :attr:`unit`."""
        found = {units.get(str(v)) for key, units in self.unit_by.items() for v in values.get(key, ())}
        return found.pop() if len(found) == 1 and None not in found else self.unit


@dataclass(frozen=True)
class Dimension:
    """A column rows are grouped or filtered by.

    Attributes
    ----------
    key
        Its name in interpretations (``genre``).
    column
        The column (in ``table``, or in the main table when ``table`` is None).
    words
        How people name it ("género", "genre").
    values
        Stored value (text, or True/False for a flag) -> how people name it; only these are matched.
    table
        A bridge table holding the dimension, joined on ``join`` (one row per main row and value).
    join
        Columns the bridge table shares with the main table.
    personal
        Values are personal data: never grouped, listed or filtered on (the answer says why).
    open
        Values come from the data, named with their capitals ("Pixar"; :mod:`datalake.ask.vocabulary`).
    """

    key: str
    column: str
    words: Words
    values: dict[str | bool, Words] = field(default_factory=dict)
    table: str | None = None
    join: tuple[str, ...] = ()
    personal: bool = False
    open: bool = False

    def name(self, language: str) -> str:
        """Its name in an answer: its first word in ``language``."""
        return _first(self.words, language, self.key)

    def value_name(self, value: str | bool, language: str) -> str:
        """A stored value as an answer in ``language`` shows it (capitalised)."""
        name = _first(self.values.get(value, Words()), language, str(value))
        return name[:1].upper() + name[1:]


@dataclass(frozen=True)
class TimeAxis:
    """The table's time: the column periods filter on, and a year column for "por año".

    ``grain`` is ``day`` for a date column, ``year`` for an integer year column (OWID's ``year``):
    periods then filter whole years (a period touching part of a year takes that year), time
    buckets are years only, and the axis' ``words`` ("cuándo", "when") ask which year.
    ``observed`` says whether a running period ends at the question's time.
    """

    column: str
    year_column: str | None = None
    words: Words = field(default_factory=Words)
    grain: Literal["day", "year"] = "day"
    #: No row is dated after the moment it is asked about (prices, transactions): a running
    #: period ("este año", "this month") is what has happened of it so far. False where rows run
    #: ahead (films announced for later this year, weather forecasts).
    observed: bool = False

    @property
    def yearly(self) -> bool:
        """Whether the column holds integer years."""
        return self.grain == "year"


@dataclass(frozen=True)
class SourceChoice:
    """Rows come from several sources that must not be added up: read the best one present."""

    column: str
    preference: tuple[str, ...]


@dataclass(frozen=True)
class Semantics:
    """What /ask may ask of one table.

    Attributes
    ----------
    subject
        The family it belongs to (``movies``, ``energy_company``): what a clarifying refusal names
        and the evaluation reports by.
    entity
        What one row is ("película", "movie"); ``entity_names`` (singular, plural) for answers.
    label
        The column naming a row in a listing (``title``); None: rows are only counted.
    key
        Columns identifying a row (counted distinct through bridges).
    measures, dimensions, time
        See the classes.
    order
        The measure rows are listed by when a question names none.
    row_limit
        The most rows a listing returns when a question names no number.
    source
        See :class:`SourceChoice`.
    subject_words
        Words that name the subject without naming this table (``cine``, ``energy company``).
    examples
        Questions it answers, offered with refusals (per language).
    entity_when
        SQL a row must meet to be one of the table's rows when a question names them ("países":
        a country, not a region such as the World or Europe); applied then, and never otherwise.
    """

    subject: str
    entity: Words
    entity_names: Words
    key: tuple[str, ...]
    measures: tuple[Measure, ...] = ()
    dimensions: tuple[Dimension, ...] = ()
    time: TimeAxis | None = None
    label: str | None = None
    order: str | None = None
    row_limit: int = 10
    source: SourceChoice | None = None
    subject_words: Words = field(default_factory=Words)
    examples: Words = field(default_factory=Words)
    entity_when: str | None = None

    def entity_name(self, language: str, plural: bool = True) -> str:
        """ "películas" / "movie"."""
        names = self.entity_names.es if language == "es" else self.entity_names.en
        return names[1 if plural else 0]

    @property
    def label_dimension(self) -> Dimension:
        """The label as a dimension: a question may name rows by it ("Avatar o Titanic")."""
        assert self.label is not None
        return Dimension(self.label, self.label, Words(), open=True)

    def measure(self, key: str) -> Measure:
        """The measure called ``key``."""
        return next(m for m in self.measures if m.key == key)
