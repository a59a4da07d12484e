"""Reading a question against the declared semantic layer: which table it asks about, and what.

Tables that declare :class:`~datalake.datasets.semantics.Semantics` are answerable without
parser code. This module folds and corrects the question against their words and the
per-language grammar (:mod:`datalake.ask.words`), picks the table the question names, and
reads what it asks into a :class:`Request`: measures, the dimension grouped by, the values
filtered on, a period, a number of rows, an order and a threshold. The question kinds
(:mod:`datalake.ask.kinds`) turn a request into SQL, a sentence and a chart.

Routing (:func:`route`): a question goes to a declared subject when it uses one of that
subject's *anchor* words (words the electricity parser does not know: "película",
"proveedores", "compras"); to the electricity parser when it names none; and it is refused
with the readings listed when it anchors in two subjects.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from datalake.ask import lexicon as lx
from datalake.ask.errors import AskRefusal
from datalake.ask.periods import Period
from datalake.ask.text import Speller, fold, tokens
from datalake.ask.timeexpr import TIME_WORDS, extract_times
from datalake.ask.words import GRAMMAR
from datalake.datasets import ask_datasets
from datalake.datasets.semantics import Aggregation, Dimension, Measure, Semantics, Words
from datalake.datasets.spec import DatasetSpec

#: Subjects' names in a clarifying refusal.
SUBJECT_NAMES = {
    "movies": ("las películas (TMDB)", "movies (TMDB)"),
    "energy_company": ("la empresa de energía (clientes, proveedores, transacciones)",
                       "the energy company (clients, suppliers, transactions)"),
    "electricity": ("la electricidad en España (demanda y generación)",
                    "Spanish electricity (demand and generation)"),
}  # fmt: skip
#: The grouping a time axis offers, by grammar concept.
TIME_GROUPS = ("year", "month")


@dataclass(frozen=True)
class Table:
    """A declared table, its words compiled."""

    spec: DatasetSpec
    semantics: Semantics
    entity: re.Pattern[str]
    subject: re.Pattern[str] | None
    anchors: re.Pattern[str] | None

    @property
    def name(self) -> str:
        """The table name its SQL uses (the warehouse's, which the lake's views mirror)."""
        return self.spec.warehouse_table or self.spec.name


@dataclass(frozen=True)
class Request:
    """What a question asks of one declared table.

    Attributes
    ----------
    language
        ``es`` or ``en``.
    table
        The table asked about.
    measures
        The measures named, in the question's order.
    aggregation
        The aggregation a word asked for (``promedio``: avg), None when none did.
    group
        The dimension rows are grouped by; None for none.
    time_group
        ``year`` or ``month`` when grouped by time ("por año").
    filters
        Dimension -> the stored values named ("comedia": Comedy).
    period
        The period named, filtering the table's time column.
    k
        Rows asked for ("top 5"); None when not said.
    order
        ``desc`` or ``asc``; None when not said.
    threshold
        ``(">", 1e8)`` for "mayor a 100M", applied to the first measure.
    counting, listing, distribution, superlative, single
        Words asking to count, to list a dimension's values, for a distribution, for a
        superlative measure ("más caras"), or for one row ("la película").
    personal
        A personal dimension the question groups or ranks by (refused).
    entity_named
        The question names the table's rows ("películas"): "highest budget movies" lists films.
    """

    language: str
    table: Table
    measures: tuple[Measure, ...] = ()
    aggregation: Aggregation | None = None
    group: Dimension | None = None
    time_group: str | None = None
    filters: tuple[tuple[Dimension, tuple[str, ...]], ...] = ()
    period: Period | None = None
    k: int | None = None
    order: str | None = None
    threshold: tuple[str, float] | None = None
    counting: bool = False
    listing: bool = False
    distribution: bool = False
    superlative: bool = False
    single: bool = False
    personal: Dimension | None = None
    entity_named: bool = False

    @property
    def semantics(self) -> Semantics:
        """The table's declarations."""
        return self.table.semantics


# -- compiled words ---------------------------------------------------------------------------------


def _pattern(phrases: tuple[str, ...] | list[str]) -> re.Pattern[str] | None:
    folded = tuple({" ".join(tokens(fold(p))) for p in phrases} - {""})
    return lx.phrase_pattern(folded) if folded else None


@functools.cache
def _words_pattern(words: Words) -> re.Pattern[str] | None:
    return _pattern(words.all())


@functools.cache
def _grammar(concept: str) -> re.Pattern[str]:
    pattern = _pattern([p for language in GRAMMAR.values() for p in language[concept]])
    assert pattern is not None
    return pattern


def _declared_words(semantics: Semantics, *, time: bool = True) -> list[str]:
    """Every phrase the table declares; without ``time``, the phrases that may anchor it (its
    time words, "año", "fecha", name no subject)."""
    words = [*semantics.entity.all(), *semantics.subject_words.all()]
    for measure in semantics.measures:
        words += [*measure.words.all(), *measure.superlatives.all()]
    for dimension in semantics.dimensions:
        words += dimension.words.all()
        for value in dimension.values:
            words += _value_words(dimension, value).all()
    if time and semantics.time is not None:
        words += semantics.time.words.all()
    return words


def _folded_words(phrases: list[str]) -> set[str]:
    return {w for p in phrases for w in tokens(fold(p))}


@functools.cache
def tables() -> tuple[Table, ...]:
    """Every declared table, its words compiled (in registry order)."""
    electricity = lx.VOCABULARY | TIME_WORDS
    compiled = []
    for spec in ask_datasets():
        semantics = spec.ask
        if semantics is None:
            continue
        # A phrase anchors the subject when it names the table's rows, a measure, a dimension or a
        # value (not its time) and one of its words is not the electricity parser's.
        anchors = [p for p in _declared_words(semantics, time=False) if _folded_words([p]) - electricity]
        compiled.append(
            Table(
                spec=spec,
                semantics=semantics,
                entity=_words_pattern(semantics.entity),  # type: ignore[arg-type]
                subject=_words_pattern(semantics.subject_words),
                anchors=_pattern(anchors),
            )
        )
    return tuple(compiled)


@functools.cache
def _speller() -> Speller:
    grammar = [p for language in GRAMMAR.values() for phrases in language.values() for p in phrases]
    declared = [w for table in tables() for w in _declared_words(table.semantics)]
    targets = _folded_words(grammar + declared)
    return Speller(lx.VOCABULARY | TIME_WORDS | targets, targets | TIME_WORDS)


def read_text(question: str) -> str:
    """The question folded, with signs as words and typos corrected against the declared words."""
    text = fold(question).replace(">=", " al menos ").replace(">", " mayor a ").replace("<", " menor a ")
    text = re.sub(r"(\d)[.,](\d{3})(?!\d)", r"\1\2", text)  # 100.000 / 100,000: thousands
    text = re.sub(r"(\d)[.,](\d{3})(?!\d)", r"\1\2", text)
    text = re.sub(r"(\d),(\d)", r"\1.\2", text)  # 1,5 millones: a decimal comma
    text = re.sub(r"(\d)([a-z])", r"\1 \2", text)  # 100m -> 100 m
    return " ".join(_speller().correct(t) for t in tokens(text.replace("$", " ")))


# -- routing ----------------------------------------------------------------------------------------


def anchored_subjects(text: str) -> dict[str, list[Table]]:
    """Subjects whose anchor words ``text`` uses, with their tables (best evidence first)."""
    found: dict[str, list[Table]] = {}
    for table in tables():
        if table.anchors is not None and table.anchors.search(text):
            found.setdefault(table.semantics.subject, []).append(table)
    return found


def mentioned_subjects(text: str) -> dict[str, list[Table]]:
    """Subjects any of whose words (anchors or shared with electricity) ``text`` uses."""
    found: dict[str, list[Table]] = {}
    for table in tables():
        pattern = _pattern(_declared_words(table.semantics))
        if pattern is not None and pattern.search(text):
            found.setdefault(table.semantics.subject, []).append(table)
    return found


def clarify(subjects: list[str], language: str, suggestions: list[str]) -> AskRefusal:
    """The refusal of a question that could mean several subjects: it lists the readings."""
    es = language == "es"
    names = [SUBJECT_NAMES.get(s, (s, s))[0 if es else 1] for s in subjects]
    listed = (" o " if es else " or ").join(names)
    reason = (
        f"La pregunta puede referirse a {listed}; di a cuál, por ejemplo nombrando el dato."
        if es
        else f"The question could be about {listed}; say which, for example by naming the data."
    )
    return AskRefusal(reason, suggestions=suggestions, language=language, kind="ambiguous")


def best_table(text: str, candidates: list[Table]) -> Table:
    """The table whose words ``text`` uses most: its entity and measures count double (they name
    what is asked), dimensions and values once."""

    def score(table: Table) -> tuple[int, int]:
        weights = {"entity": 2, "measure": 2, "superlative": 2, "dimension": 1, "value": 1}
        points = sum(weights[c.role] for c in claims(text, table))
        # Earlier tables win ties: the registry lists the main table before its bridges.
        return points, -tables().index(table)

    return max(candidates, key=score)


@dataclass(frozen=True)
class Claim:
    """A span of the question that names something of a table (longest phrases claim first)."""

    start: int
    end: int
    role: str  # entity, measure, superlative, dimension or value
    measure: Measure | None = None
    dimension: Dimension | None = None
    value: str | None = None


def claims(text: str, table: Table) -> list[Claim]:
    """What ``text`` names of ``table``, in order; a word belongs to one phrase only, the longest
    ("tipo de energía" is the dimension, not the measure "energía")."""
    semantics = table.semantics
    found: list[Claim] = []

    def add(words: Words, role: str, **owner: object) -> None:
        pattern = _words_pattern(words)
        if pattern is not None:
            found.extend(Claim(m.start(), m.end(), role, **owner) for m in pattern.finditer(text))  # type: ignore[arg-type]

    add(semantics.entity, "entity")
    for measure in semantics.measures:
        add(measure.words, "measure", measure=measure)
        add(measure.superlatives, "superlative", measure=measure)
    for dimension in semantics.dimensions:
        add(dimension.words, "dimension", dimension=dimension)
        for value in dimension.values:
            add(_value_words(dimension, value), "value", dimension=dimension, value=value)
    kept: list[Claim] = []
    for claim in sorted(found, key=lambda c: (c.start - c.end, c.start)):
        if all(claim.end <= k.start or claim.start >= k.end for k in kept):
            kept.append(claim)
    return sorted(kept, key=lambda c: c.start)


# -- reading a request ------------------------------------------------------------------------------

_NUMBER = rf"(?:\d+(?:\.\d+)?|{'|'.join(w for w, n in lx.NUMBER_WORDS.items() if n >= 2)})"


def _match(words: Words, text: str) -> re.Match[str] | None:
    pattern = _words_pattern(words)
    return pattern.search(text) if pattern is not None else None


def _value_words(dimension: Dimension, value: str) -> Words:
    # Only the declared names: a stored code ("de", "en") or a stored word that is also grammar
    # ("promedio", a price band) is not how people name the value.
    return dimension.values.get(value, Words())


def _number(text: str) -> float:
    return float(text) if text[0].isdigit() else float(lx.NUMBER_WORDS[text])


@functools.cache
def _threshold_pattern() -> re.Pattern[str]:
    def alternatives(concept: str) -> str:
        phrases = {" ".join(tokens(fold(p))) for lang in GRAMMAR.values() for p in lang[concept]}
        return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))

    return re.compile(
        rf"(?<![^ ])(?:(?P<gt>{alternatives('greater')})|(?P<lt>{alternatives('less')})) "
        rf"(?:(?:de|a|que|than|of) )?(?:usd |dolares |dollars |cop |pesos )?(?P<n>{_NUMBER})"
        rf"(?: (?P<b>{alternatives('billion')})| (?P<m>{alternatives('million')})"
        rf"| (?P<t>{alternatives('thousand')}))?"
        r"(?![^ ])"
    )


def _threshold(text: str) -> tuple[tuple[str, float] | None, str]:
    found = _threshold_pattern().search(text)
    if found is None:
        return None, text
    value = _number(found["n"])
    value *= 1e9 if found["b"] else 1e6 if found["m"] else 1e3 if found["t"] else 1
    op = ">" if found["gt"] else "<"
    if found["gt"] and re.search(r"al menos|at least|minimo de", found.group(0)):
        op = ">="
    return (op, value), text[: found.start()] + " " + text[found.end() :]


_TOP_K = re.compile(
    rf"(?<![^ ])(?:top|las|los|the|primeras|primeros|first|mejores|best) (?P<n>{_NUMBER})(?![^ ])"
)
_K_BEFORE_ENTITY = re.compile(rf"(?<![^ ])(?P<n>{_NUMBER}) (?=[a-z])")


def _top_k(text: str, table: Table) -> tuple[int | None, str]:
    found = _TOP_K.search(text)
    if found is None:
        # "5 películas", "3 géneros": a number right before the entity or a dimension's words.
        for match in _K_BEFORE_ENTITY.finditer(text):
            after = text[match.end() :]
            named = [table.entity, *(_words_pattern(d.words) for d in table.semantics.dimensions)]
            if any(p is not None and p.match(after) for p in named):
                found = match
                break
    if found is None:
        return None, text
    k = int(_number(found["n"]))
    return k, text[: found.start("n")] + " " + text[found.end("n") :]


def _aggregation(text: str) -> Aggregation | None:
    for concept, aggregation in (("average", "avg"), ("max", "max"), ("min", "min"), ("sum", "sum")):
        if _grammar(concept).search(text):
            return aggregation  # type: ignore[return-value]
    return None


def read_request(text: str, table: Table, language: str, as_of: dt.datetime) -> Request:
    """What ``text`` (see :func:`read_text`) asks of ``table``.

    Raises
    ------
    AskRefusal
        A date that does not exist or is ambiguous.
    """
    semantics = table.semantics
    threshold, text = _threshold(text)
    k, text = _top_k(text, table)
    times = extract_times(text, as_of, language) if semantics.time is not None else None
    if times is not None and times.problem:
        raise AskRefusal(
            "La fecha de la pregunta no es válida o es ambigua." if language == "es"
            else "The question's date is not valid or is ambiguous.",
            language=language,
            kind="ambiguous",
        )  # fmt: skip
    period = None
    if times is not None and times.periods:
        first, last = times.periods[0], times.periods[-1]
        period = Period(first.start, last.end, first.name_es, first.name_en)
        for start, end in sorted(times.spans, reverse=True):
            text = text[:start] + " " * (end - start) + text[end:]
        text = " ".join(text.split())
    named = claims(text, table)
    measures: list[Measure] = []
    superlative = False
    for claim in named:
        if claim.measure is not None and claim.measure not in measures:
            measures.append(claim.measure)
        superlative |= claim.role == "superlative"
    filters: dict[str, tuple[Dimension, list[str]]] = {}
    group: Dimension | None = None
    personal: Dimension | None = None
    by = _grammar("by")
    entity_named = any(c.role == "entity" for c in named)
    ranked = k is not None or bool(_grammar("top").search(text) or _grammar("most").search(text))
    for claim in named:
        dimension = claim.dimension
        if dimension is None:
            continue
        if claim.role == "value" and not dimension.personal:
            values = filters.setdefault(dimension.key, (dimension, []))[1]
            if claim.value not in values:
                values.append(claim.value)  # type: ignore[arg-type]
            continue
        before = " ".join(text[: claim.start].split()[-2:])
        if dimension.personal:
            # "top clients by spend", "los clientes que más gastan": rows would be people.
            if by.search(before) or (not entity_named and (ranked or measures)):
                personal = dimension
            continue
        if group is None:
            grouped = bool(by.search(before) or (k is not None and not entity_named))
            listed = bool(_grammar("list").search(text) or _grammar("distribution").search(text))
            if grouped or listed or _grammar("count").search(text):
                group = dimension
    time_group = next((c for c in TIME_GROUPS if _grammar(c).search(text)), None)
    if time_group is None and semantics.time is not None and semantics.time.year_column:
        # "distribución de películas por año de estreno"
        year_words = _words_pattern(Words(("año", "años"), ("year", "years")))
        found = year_words.search(text) if year_words else None
        if found is not None and by.search(" ".join(text[: found.start()].split()[-1:])):
            time_group = "year"
    order = None
    if _grammar("least").search(text) and not threshold:
        order = "asc"
    elif _grammar("most").search(text) or _grammar("top").search(text) or k is not None:
        order = "desc"
    # Values of the dimension grouped by are kept only when two or more are named (compras vs ventas).
    chosen = tuple((d, tuple(v)) for d, v in filters.values() if d != group or len(v) > 1)
    return Request(
        language=language,
        table=table,
        measures=tuple(measures),
        aggregation=_aggregation(text),
        group=group,
        time_group=time_group if semantics.time is not None else None,
        filters=chosen,
        period=period,
        k=k,
        order=order,
        threshold=threshold,
        counting=bool(_grammar("count").search(text)),
        listing=bool(_grammar("list").search(text)),
        distribution=bool(_grammar("distribution").search(text)),
        superlative=superlative,
        single=bool(_grammar("one").search(text)),
        personal=personal,
        entity_named=entity_named,
    )


@functools.cache
def _language_words() -> dict[str, frozenset[str]]:
    words: dict[str, set[str]] = {"es": set(), "en": set()}
    for language in ("es", "en"):
        words[language] |= _folded_words([p for phrases in GRAMMAR[language].values() for p in phrases])
        for table in tables():
            semantics = table.semantics
            phrases = [*getattr(semantics.entity, language), *getattr(semantics.subject_words, language)]
            for measure in semantics.measures:
                phrases += [*getattr(measure.words, language), *getattr(measure.superlatives, language)]
            for dimension in semantics.dimensions:
                phrases += getattr(dimension.words, language)
            words[language] |= _folded_words(phrases)
    shared = words["es"] & words["en"]
    return {language: frozenset(w - shared) for language, w in words.items()}


def language_of(text: str, markers: str) -> str:
    """``es`` or ``en``: the electricity parser's guess (``markers``) unless the declared words say
    otherwise more often."""
    found = text.split()
    words = _language_words()
    spanish = sum(w in words["es"] for w in found)
    english = sum(w in words["en"] for w in found)
    if spanish == english:
        return markers
    return "en" if english > spanish else "es"
