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

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from datalake.ask import lexicon as lx
from datalake.ask.errors import AskRefusal
from datalake.ask.periods import Period
from datalake.ask.text import Speller, fold, tokens
from datalake.ask.timeexpr import TIME_WORDS, extract_times
from datalake.ask.words import COMMON_WORDS, GRAMMAR
from datalake.datasets import ask_datasets
from datalake.datasets.semantics import Aggregation, Dimension, Measure, Semantics, Words
from datalake.datasets.spec import DatasetSpec

#: Subjects' names in a clarifying refusal.
SUBJECT_NAMES = {
    "movies": ("las películas (TMDB)", "movies (TMDB)"),
    "energy_company": ("la empresa de energía (clientes, proveedores, transacciones)",
                       "the energy company (clients, suppliers, transactions)"),
    "energy_prices": ("los precios de la energía (WTI, Brent, Henry Hub)",
                      "energy prices (WTI, Brent, Henry Hub)"),
    "world_energy": ("la energía en el mundo por país y año (Our World in Data)",
                     "world energy by country and year (Our World in Data)"),
    "portfolio": ("las transacciones de la app de divisas (compras y ventas de USD y COP)",
                  "the currency app's transactions (buys and sells of USD and COP)"),
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
    anchors: re.Pattern[str] | None
    words: re.Pattern[str] | None

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
        The period named, filtering the table's time column (from the first to the last when
        several are named).
    periods
        Several periods compared ("2014 vs 2015"): rows of each, one bucket each.
    k
        Rows asked for ("top 5"); None when not said.
    order
        ``desc`` or ``asc``; None when not said.
    thresholds
        "mayor a 100M", "with at least 1000 votes": each bound to the measure it follows or names.
    counting, listing, distribution, superlative, single
        Words asking to count, to list a dimension's values, for a distribution, for a
        superlative measure ("más caras"), or for one row ("la película").
    personal
        A personal dimension the question groups or ranks by (refused).
    entity_named
        The question names the table's rows ("películas"): "highest budget movies" lists films.
    unknown_counted
        "cuántas entradas": a word counted that names nothing of the table (refused).
    versus
        Two or more values of this dimension are compared ("compras vs ventas"): in the order named.
    how_much
        Words asking for an amount ("cuánto", "how much", "total") without naming the measure.
    counts_rows
        The count words name the table's rows right after them ("how many days of Brent prices").
    latest
        The newest time the data holds is asked for ("the latest Henry Hub price"), no period named.
    difference
        Two values compared are subtracted, time by time ("the Brent-WTI spread").
    """

    language: str
    table: Table
    measures: tuple[Measure, ...] = ()
    aggregation: Aggregation | None = None
    group: Dimension | None = None
    time_group: str | None = None
    filters: tuple[tuple[Dimension, tuple[str, ...]], ...] = ()
    period: Period | None = None
    periods: tuple[Period, ...] = ()
    k: int | None = None
    order: str | None = None
    thresholds: tuple[Threshold, ...] = ()
    counting: bool = False
    listing: bool = False
    distribution: bool = False
    superlative: bool = False
    single: bool = False
    personal: Dimension | None = None
    entity_named: bool = False
    unknown_counted: str | None = None
    versus: Dimension | None = None
    how_much: bool = False
    counts_rows: bool = False
    latest: bool = False
    difference: bool = False

    @property
    def semantics(self) -> Semantics:
        """The table's declarations."""
        return self.table.semantics


@dataclass(frozen=True)
class Threshold:
    """``measure op value`` ("presupuesto mayor a 100M"); no measure: the request's first."""

    op: str
    value: float
    measure: Measure | None = None
    start: int = 0
    end: int = 0
    unit: str | None = None  # "min" when said in hours ("más de 2 horas")


# -- compiled words ---------------------------------------------------------------------------------


def _pattern(phrases: tuple[str, ...] | list[str], *, plural: bool = True) -> re.Pattern[str] | None:
    """Any of ``phrases`` on token boundaries, folded; a declared word also in the plural ("solar",
    "solares"), a grammar phrase only as written ("which movie" is not "which movies")."""
    folded = sorted({" ".join(tokens(fold(p))) for p in phrases} - {""}, key=len, reverse=True)
    if not folded:
        return None
    body = "|".join(re.escape(p) for p in folded)
    return re.compile(rf"(?<![^ ])(?:{body}){'(?:e?s)?' if plural else ''}(?![^ ])")


@functools.cache
def _words_pattern(words: Words) -> re.Pattern[str] | None:
    return _pattern(words.all())


@functools.cache
def _grammar(concept: str) -> re.Pattern[str]:
    pattern = _pattern([p for language in GRAMMAR.values() for p in language[concept]], plural=False)
    assert pattern is not None
    return pattern


def _declared_words(semantics: Semantics, *, time: bool = True) -> list[str]:
    """Every phrase the table declares; without ``time``, the phrases that may anchor it (its
    time words, "año", "fecha", name no subject)."""
    words = [*semantics.entity.all(), *semantics.subject_words.all()]
    for measure in semantics.measures:
        words += [*measure.words.all(), *measure.superlatives.all(), *measure.least.all()]
        # Parts are everyday words ("share", "consumo"): read for anchors (time=False) they would
        # take electricity's questions, so they only count once a subject is chosen.
        if time:
            words += [p for part in (*measure.parts, *measure.optional_parts) for p in part.all()]
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
                anchors=_pattern(anchors),
                words=_pattern(_declared_words(semantics)),
            )
        )
    return tuple(compiled)


@functools.cache
def _speller() -> Speller:
    grammar = [p for language in GRAMMAR.values() for phrases in language.values() for p in phrases]
    declared = [w for table in tables() for w in _declared_words(table.semantics)]
    targets = _folded_words(grammar + declared)
    common = _folded_words([w for language in COMMON_WORDS.values() for w in language])
    # Two edits only in long words: "dentro" is not a typo of "dinero", "pelicuas" is of "peliculas".
    return Speller(lx.VOCABULARY | TIME_WORDS | targets | common, targets | TIME_WORDS, two_edits_from=8)


_NAME = re.compile(r"(?<=[\s(\"'«“])[A-ZÁÉÍÓÚÑÜ][^\W\d_]+")


def known_word(word: str) -> bool:
    """Whether a folded word is one the parser knows (grammar, declared, time or everyday words)."""
    return word in _speller().vocabulary


def read_text(question: str) -> str:
    """The question folded, with signs as words and typos corrected against the declared words
    (names are left as written: a capitalised word inside the question is not a typo)."""
    names = {fold(w) for w in _NAME.findall(question)}
    text = fold(question).replace(">=", " al menos ").replace(">", " mayor a ").replace("<", " menor a ")
    text = re.sub(r"(\d)[.,](\d{3})(?!\d)", r"\1\2", text)  # 100.000 / 100,000: thousands
    text = re.sub(r"(\d)[.,](\d{3})(?!\d)", r"\1\2", text)
    text = re.sub(r"(\d),(\d)", r"\1.\2", text)  # 1,5 millones: a decimal comma
    text = re.sub(r"(\d)([a-z])", r"\1 \2", text)  # 100m -> 100 m
    return " ".join(t if t in names else _speller().correct(t) for t in tokens(text.replace("$", " ")))


# -- routing ----------------------------------------------------------------------------------------


def anchored_subjects(text: str) -> dict[str, list[Table]]:
    """Subjects whose anchor words ``text`` uses, with their tables (best evidence first)."""
    found: dict[str, list[Table]] = {}
    for table in tables():
        if table.anchors is not None and table.anchors.search(text):
            found.setdefault(table.semantics.subject, []).append(table)
    return found


def orders_a_change(text: str) -> bool:
    """The question opens with an order to change data ("update the budget of Avatar to 0")."""
    found = _grammar("write").match(text.strip())
    return found is not None


def named_subjects(text: str, subjects: dict[str, list[Table]]) -> list[str]:
    """Of ``subjects``, those the question names by their rows or their own words ("películas",
    "la empresa de energía"), not only by a measure or a value they share with others."""
    return [
        subject
        for subject, found in subjects.items()
        if any(c.role in ("entity", "subject") for table in found for c in claims(text, table))
    ]


def strongest_subject(text: str, subjects: dict[str, list[Table]]) -> str | None:
    """The subject whose tables' words the question uses clearly more than any other's, or None.

    On equal scores, the subject whose words cover more of the question wins ("¿cuántos dólares se
    compraron?" names a price measure, "dólares", and two things of the currency app's transactions,
    "dólares" and "compraron"); equal on both: None.
    """
    scores = sorted(
        ((max(_strength(text, t) for t in tables() if t.semantics.subject == s), s) for s in subjects),
        reverse=True,
    )
    return scores[0][1] if len(scores) == 1 or scores[0][0] > scores[1][0] else None


def _strength(text: str, table: Table) -> tuple[int, int]:
    """(:func:`table_score`, characters of the question its claims cover)."""
    found = claims(text, table)
    weights = {"entity": 2, "subject": 2, "measure": 2, "superlative": 2, "least": 2}
    return sum(weights.get(c.role, 1) for c in found), sum(c.end - c.start for c in found)


def mentioned_subjects(text: str) -> dict[str, list[Table]]:
    """Subjects any of whose words (anchors or shared with electricity) ``text`` uses."""
    found: dict[str, list[Table]] = {}
    for table in tables():
        if table.words is not None and table.words.search(text):
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

    # Earlier tables win ties: the registry lists the main table before its bridges.
    return max(candidates, key=lambda table: (table_score(text, table), -tables().index(table)))


def table_score(text: str, table: Table) -> int:
    """How much of ``text`` names ``table``: rows, subject and measures count double."""
    weights = {
        "entity": 2,
        "subject": 2,
        "measure": 2,
        "superlative": 2,
        "least": 2,
        "dimension": 1,
        "value": 1,
    }
    return sum(weights[c.role] for c in claims(text, table))


@dataclass(frozen=True)
class Claim:
    """A span of the question that names something of a table (longest phrases claim first)."""

    start: int
    end: int
    role: str  # entity, subject, measure, superlative, least, dimension or value
    measure: Measure | None = None
    dimension: Dimension | None = None
    value: str | None = None


def claims(text: str, table: Table) -> list[Claim]:
    """What ``text`` names of ``table``, in order; a word belongs to one phrase only, the longest
    ("tipo de energía" is the dimension, not the measure "energía")."""
    found = [
        Claim(m.start(), m.end(), role, **owner)  # type: ignore[arg-type]
        for pattern, role, owner in _claim_patterns(table.name)
        for m in pattern.finditer(text)
    ]
    found.extend(_composed_claims(text, table))
    kept: list[Claim] = []
    for claim in sorted(found, key=lambda c: (c.start - c.end, c.start)):
        if all(claim.end <= k.start or claim.start >= k.end for k in kept):
            kept.append(claim)
    return sorted(kept, key=lambda c: c.start)


@functools.cache
def _claim_patterns(table_name: str) -> tuple[tuple[re.Pattern[str], str, dict[str, Any]], ...]:
    """Each phrase pattern of a table with the role and owner of what it names (compiled once: a
    question is read against every table's words, and hashing the declarations each time costs
    more than the matching)."""
    semantics = next(t.semantics for t in tables() if t.name == table_name)
    listed: list[tuple[Words, str, dict[str, Any]]] = [
        (semantics.entity, "entity", {}),
        (semantics.subject_words, "subject", {}),
    ]
    for measure in semantics.measures:
        listed += [
            (measure.words, "measure", {"measure": measure}),
            (measure.superlatives, "superlative", {"measure": measure}),
            (measure.least, "least", {"measure": measure}),
        ]
    for dimension in semantics.dimensions:
        listed.append((dimension.words, "dimension", {"dimension": dimension}))
        for value in dimension.values:
            listed.append((_value_words(dimension, value), "value", {"dimension": dimension, "value": value}))
    return tuple(
        (p, role, owner) for words, role, owner in listed if (p := _words_pattern(words)) is not None
    )


@functools.cache
def _part_patterns(
    table_name: str,
) -> tuple[tuple[Measure, tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]], ...]:
    """The measures declared by parts, with their required and optional parts compiled."""
    semantics = next(t.semantics for t in tables() if t.name == table_name)
    return tuple(
        (
            m,
            tuple(_words_pattern(p) for p in m.parts),  # type: ignore[misc]
            tuple(_words_pattern(p) for p in m.optional_parts),  # type: ignore[misc]
        )
        for m in semantics.measures
        if m.parts
    )


def _composed_claims(text: str, table: Table) -> list[Claim]:
    """The measure named by its parts (:attr:`~datalake.datasets.semantics.Measure.parts`): of the
    measures whose every required part the question uses, the one using the most parts (the most
    specific: "renewable share of electricity" is the electricity share, "renewable share" the
    energy one); the first declared on a tie. One claim per part found."""
    best: tuple[int, list[Claim]] | None = None
    for measure, required, optional in _part_patterns(table.name):
        spans = []
        for pattern in required:
            match = pattern.search(text)
            if match is None:
                break
            spans.append(match)
        else:
            for pattern in optional:
                match = pattern.search(text)
                if match is not None:
                    spans.append(match)
            if best is None or len(spans) > best[0]:
                best = (len(spans), [Claim(m.start(), m.end(), "measure", measure=measure) for m in spans])
    return best[1] if best is not None else []


# -- reading a request ------------------------------------------------------------------------------

_NUMBER = rf"(?:\d+(?:\.\d+)?|{'|'.join(w for w, n in lx.NUMBER_WORDS.items() if n >= 2)})"


def _value_words(dimension: Dimension, value: str) -> Words:
    # Only the declared names: a stored code ("de", "en") or a stored word that is also grammar
    # ("promedio", a price band) is not how people name the value.
    return dimension.values.get(value, Words())


def _number(text: str) -> float:
    return float(text) if text[0].isdigit() else float(lx.NUMBER_WORDS[text])


def _alternatives(concept: str) -> str:
    """A grammar concept's phrases in both languages, folded, as regex alternatives (longest first)."""
    phrases = {" ".join(tokens(fold(p))) for lang in GRAMMAR.values() for p in lang[concept]}
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


@functools.cache
def _threshold_after_measure_pattern() -> re.Pattern[str]:
    """ "superó la temperatura media los 25 grados": the comparator, up to four words naming the
    measure (checked against the table by :func:`_names_a_measure`), then the number."""
    return re.compile(
        rf"(?<![^ ])(?:(?P<gt>{_alternatives('greater')})|(?P<lt>{_alternatives('less')})) "
        rf"(?P<mid>(?:[^ ]+ ){{1,4}}?)(?:(?:los|las|the|de|a) )?(?P<n>{_NUMBER})(?![^ ])"
    )


#: Words that may stand around a measure's name between a comparator and its number.
_MEASURE_ARTICLES = frozenset({"la", "el", "los", "las", "the", "a", "de", "del", "of"})


def _names_a_measure(words: str, table: Table) -> bool:
    """``words`` name a measure of ``table`` and nothing else (articles aside)."""
    named = claims(words, table)
    rest = words
    for claim in named:
        if claim.measure is None:
            return False
        rest = _blank(rest, claim.start, claim.end)
    return bool(named) and set(rest.split()) <= _MEASURE_ARTICLES


@functools.cache
def _threshold_pattern() -> re.Pattern[str]:
    return re.compile(
        rf"(?<![^ ])(?:(?P<gt>{_alternatives('greater')})|(?P<lt>{_alternatives('less')})) "
        rf"(?:(?:de|a|que|than|of|los|las|the) )?(?:usd |dolares |dollars |cop |pesos )?(?P<n>{_NUMBER})"
        rf"(?: (?P<b>{_alternatives('billion')})| (?P<m>{_alternatives('million')})"
        rf"| (?P<t>{_alternatives('thousand')}))?"
        rf"(?: (?P<half_before>{_alternatives('half')}))?(?: (?P<hours>{_alternatives('hours')}))?"
        rf"(?: (?P<half_after>{_alternatives('half')}))?"
        r"(?![^ ])"
    )


def _blank(text: str, start: int, end: int) -> str:
    """``text`` with ``[start, end)`` made spaces: positions of what follows stay put."""
    return text[:start] + " " * (end - start) + text[end:]


def _thresholds(text: str, table: Table | None = None) -> tuple[list[Threshold], str]:
    """The thresholds of ``text`` ("más de 100", "superó la temperatura los 25"), their words blanked."""
    found = []
    for match in _threshold_pattern().finditer(text):
        value = _number(match["n"]) + (0.5 if match["half_before"] or match["half_after"] else 0)
        value *= 1e9 if match["b"] else 1e6 if match["m"] else 1e3 if match["t"] else 1
        op = ">" if match["gt"] else "<"
        if match["gt"] and re.search(r"al menos|at least|minimo de", match.group(0)):
            op = ">="
        if match["lt"] and re.search(r"at most|como mucho|maximo de|no mas de", match.group(0)):
            op = "<="
        # "3 horas" of a measure in minutes is 180; the unit is checked once the measure is known.
        minutes = "min" if match["hours"] else None
        found.append(Threshold(op, value * (60 if minutes else 1), None, match.start(), match.end(), minutes))
    for threshold in found:
        text = _blank(text, threshold.start, threshold.end)
    if table is not None:
        for match in list(_threshold_after_measure_pattern().finditer(text)):
            if not _names_a_measure(match["mid"], table):
                continue
            # The number alone is the threshold's span: the measure's words stay for binding.
            op = ">" if match["gt"] else "<"
            found.append(Threshold(op, _number(match["n"]), None, match.start("n"), match.end("n")))
            text = _blank(_blank(text, match.start(), match.start("mid")), match.start("n"), match.end("n"))
    return found, text


def _bind(thresholds: list[Threshold], named: list[Claim], semantics: Semantics) -> tuple[Threshold, ...]:
    """Each threshold's measure: one named right after it ("1000 votes"), else the nearest before,
    else the one measure in the threshold's unit ("más de 2 horas": the runtime)."""
    bound = []
    measures = [c for c in named if c.measure is not None]
    for threshold in thresholds:
        after = [c for c in measures if 0 <= c.start - threshold.end <= 2]
        before = [c for c in measures if c.end <= threshold.start]
        claim = after[0] if after else (before[-1] if before else None)
        measure = claim.measure if claim else None
        in_unit = [m for m in semantics.measures if threshold.unit and m.unit == threshold.unit]
        if measure is None and len(in_unit) == 1:
            measure = in_unit[0]
        bound.append(dataclasses.replace(threshold, measure=measure))
    return tuple(bound)


_TOP_K = re.compile(
    rf"(?<![^ ])(?:top|las|los|the|primeras|primeros|first|mejores|best|which|what|que|cuales) "
    rf"(?P<n>{_NUMBER})(?![^ ])"
)
_K_BEFORE_ENTITY = re.compile(rf"(?<![^ ])(?P<n>{_NUMBER}) (?=[a-z])")


def _is_year(number: str) -> bool:
    return number.isdigit() and 1900 <= int(number) <= 2100


def _top_k(text: str, table: Table) -> tuple[int | None, str]:
    # A year is never a count of rows: "the 2015 movies", "the 1990s".
    found = next((m for m in _TOP_K.finditer(text) if not _is_year(m["n"])), None)
    if found is None:
        # "5 películas", "3 géneros", "5 most popular": a number before the rows, a dimension or a
        # superlative.
        for match in _K_BEFORE_ENTITY.finditer(text):
            if _is_year(match["n"]):
                continue
            after = text[match.end() :]
            named = [
                table.entity,
                _grammar("most"),
                _grammar("least"),
                *(_words_pattern(d.words) for d in table.semantics.dimensions),
                *(_words_pattern(m.superlatives) for m in table.semantics.measures),
                *(_words_pattern(m.least) for m in table.semantics.measures),
            ]
            if any(p is not None and p.match(after) for p in named):
                found = match
                break
    if found is None:
        return None, text
    return int(_number(found["n"])), _blank(text, found.start("n"), found.end("n"))


def _aggregation(text: str) -> Aggregation | None:
    for concept, aggregation in (("average", "avg"), ("max", "max"), ("min", "min"), ("sum", "sum")):
        if _grammar(concept).search(text):
            return aggregation  # type: ignore[return-value]
    return None


def read_request(
    text: str,
    table: Table,
    language: str,
    as_of: dt.datetime,
    named: Sequence[tuple[Dimension, Any, str]] = (),
) -> Request:
    """What ``text`` (see :func:`read_text`) asks of ``table``; ``named`` are values only the data
    knows that the question names (dimension, value, their folded words).

    Raises
    ------
    AskRefusal
        A date that does not exist or is ambiguous.
    """
    semantics = table.semantics
    for _, _, words in named:  # "Marvel Studios" is a company, not the word "studios"
        text = re.sub(rf"(?<![^ ]){re.escape(words)}(?![^ ])", lambda m: " " * len(m.group(0)), text)
    thresholds, text = _thresholds(text, table)
    k, text = _top_k(text, table)
    all_time = bool(_grammar("all_time").search(text))
    period, periods, text = _periods(text, table, language, as_of)
    if all_time:  # "of all time": every row, whatever the time words said
        period, periods = None, ()
    if period is not None and period.start > as_of:
        raise _future_refusal(table, period, language)
    if semantics.time is not None and semantics.time.observed:
        # Observations end at the time of asking: "este año" is the year so far, as the parser
        # reads running periods of demand (data after an evaluation's as_of did not exist then).
        period = _so_far(period, as_of)
        periods = tuple(_so_far(p, as_of) for p in periods)
    data_values = named
    named = claims(text, table)
    measures: list[Measure] = []
    for claim in named:
        if claim.measure is not None and claim.measure not in measures:
            measures.append(claim.measure)
    # "¿cuántos dólares se compraron?": the count words name a value that is a measure's unit (the
    # currency USD of an amount): an amount in that unit is asked for, not a count of rows.
    counted_unit = _counted_unit(text, named, semantics)
    if counted_unit is not None and counted_unit not in measures:
        measures.append(counted_unit)
    superlative = any(c.role == "superlative" for c in named)
    least = any(c.role == "least" for c in named)
    filters: dict[str, tuple[Dimension, list[Any]]] = {}

    def add_filter(dimension: Dimension, value: Any) -> None:
        values = filters.setdefault(dimension.key, (dimension, []))[1]
        if value not in values:
            values.append(value)

    for dimension, value, _ in data_values:
        add_filter(dimension, value)
    group: Dimension | None = None
    personal: Dimension | None = None
    by = _grammar("by")
    entities = [c for c in named if c.role == "entity"]
    ranked = k is not None or bool(_grammar("top").search(text) or _grammar("most").search(text))
    single = bool(_grammar("one").search(text)) or any(_one_row(text, c, named) for c in entities)
    for claim in named:
        dimension = claim.dimension
        if dimension is None:
            continue
        if claim.role == "value" and not dimension.personal:
            add_filter(dimension, claim.value)
            continue
        before = " ".join(text[: claim.start].split()[-2:])
        if dimension.personal:
            # "top clients by spend", "los clientes que más gastan": rows would be people.
            if by.search(before) or (not entities and (ranked or measures)):
                personal = dimension
            continue
        if group is None:
            which = bool(_grammar("which").search(before))
            # "los 3 géneros con más películas": the dimension, named before the rows, is listed.
            first = not entities or claim.start < entities[0].start
            grouped = bool(by.search(before) or (k is not None and first) or which)
            listed = bool(_grammar("list").search(text) or _grammar("distribution").search(text))
            if grouped or listed or _grammar("count").search(text):
                group = dimension
                # "which city has the most clients": one group.
                single = single or (which and _singular(text, claim) and ranked)
    if not entities and group is None and ranked and not _grammar("count").search(text):
        # "las 5 compras más grandes", "which 3 comedies made the most money": a value names the rows.
        entities = [c for c in named if c.role == "value" and not c.dimension.personal]  # type: ignore[union-attr]
        single = single or any(_one_row(text, c, named) for c in entities)
    time_group = _time_group(text, by)
    if time_group is None and len(periods) > 1:
        time_group = _bucket_of(periods)
    # "la película con más votos" is one film; "movie releases" is not ("movie" qualifies a noun).
    # Only the table's own rows named in the singular ("la película"): a value before a measure
    # ("the highest average Brent price") names no row.
    singular_row = any(_one_row(text, c, named) for c in entities if c.role == "entity")
    squeezed = " ".join(text.split())  # "which 2 months": the number was blanked
    if not singular_row and (
        _grammar("which_year").search(squeezed) or _grammar("which_month").search(squeezed)
    ):
        # "¿Qué año tuvo más estrenos?" ranks years; "¿en qué año se estrenó la película con más
        # votos?" asks for one film, whose date the answer gives.
        time_group = "year" if _grammar("which_year").search(squeezed) else "month"
        single = single or (ranked and k in (None, 1))
    aggregation = _aggregation(text)
    if semantics.time is not None and semantics.time.yearly:
        time_group, one_year = _yearly_time_group(
            squeezed,
            semantics,
            time_group,
            period,
            rows_named=any(c.role == "entity" for c in named) or group is not None,
            extreme=not thresholds and (ranked or superlative or least or aggregation in ("max", "min")),
        )
        single = single or one_year
    # "¿qué país tuvo la mayor cuota...?", "which country used the most...": one row.
    single = single or any(
        c.role == "entity"
        and _singular(text, c)
        and _grammar("which").search(" ".join(text[: c.start].split()[-1:]))
        for c in named
    )
    if (
        aggregation in ("max", "min")
        and k is None
        and group is None
        and time_group is None
        and not any(c.role == "entity" and not _singular(text, c) for c in named)
    ):
        # "máximo del Henry Hub en 2021", "lowest WTI price in 2020": one row, not a top ten.
        single = True
    order = None
    if (least or _grammar("least").search(text) or aggregation == "min") and not thresholds:
        order = "asc"
    elif superlative or ranked:
        order = "desc"
    # Values of the dimension grouped by are kept only when two or more are named (compras vs ventas).
    chosen = tuple((d, tuple(v)) for d, v in filters.values() if d != group or len(v) > 1)
    versus = next((d for d, v in chosen if len(v) > 1), None)
    return Request(
        language=language,
        table=table,
        measures=tuple(measures),
        aggregation=aggregation,
        group=group,
        time_group=time_group if semantics.time is not None else None,
        filters=chosen,
        period=period,
        periods=periods if len(periods) > 1 else (),
        k=k,
        order=order,
        thresholds=_bind(thresholds, named, semantics),
        counting=bool(_grammar("count").search(text)) and counted_unit is None,
        counts_rows=_counts_rows(text, named),
        latest=semantics.time is not None and period is None and bool(_grammar("latest").search(text)),
        difference=bool(_grammar("difference").search(text)),
        listing=bool(_grammar("list").search(text)),
        distribution=bool(_grammar("distribution").search(text)),
        superlative=superlative or least,
        single=single,
        personal=personal,
        entity_named=bool(entities),
        unknown_counted=_unknown_counted(text, named),
        versus=versus,
        how_much=bool(_grammar("how_much").search(text) or _aggregation(text)) or counted_unit is not None,
    )


def _yearly_time_group(
    text: str,
    semantics: Semantics,
    time_group: str | None,
    period: Period | None,
    *,
    rows_named: bool,
    extreme: bool,
) -> tuple[str | None, bool]:
    """The time buckets of a table whose time is whole years, and whether one bucket is asked for.

    Named rules: there are no months in yearly data; "when" (the axis' own words) with a
    superlative asks which year ("when was Spain's use per person highest?"); a maximum or minimum
    of one series over several years is answered with its year ("lowest share since 2000"); a
    trend over several years ("evolución ... desde 2010") is one value per year.
    """
    if time_group == "month":
        time_group = None
    if time_group is not None or rows_named:
        return time_group, False
    years = period is None or period.end.year - period.start.year > 1 or period.end.month > 1
    time = semantics.time
    asks_when = (
        time is not None and (pattern := _words_pattern(time.words)) is not None and pattern.search(text)
    )
    if extreme and (asks_when or years):
        return "year", True
    if years and _grammar("trend").search(text):
        return "year", False
    return None, False


def _so_far(period: Period | None, as_of: dt.datetime) -> Period | None:
    """A relative period still running at ``as_of`` ("este año") cut at the end of that day (the
    rows are days). A named one ("en 2021") is the whole calendar period, as written."""
    if period is None or (period.name_es is None and period.name_en is None):
        return period
    day_after = Period.day(as_of.astimezone(period.start.tzinfo).date()).end
    if period.end <= day_after:
        return period
    return dataclasses.replace(period, end=day_after, clipped_from=period.end)


def _future_refusal(table: Table, period: Period, language: str) -> AskRefusal:
    """A declared table holds what happened: "what will Avatar 3 gross next year?" is a forecast
    nothing here makes (only electricity demand has a forecaster)."""
    subject = SUBJECT_NAMES.get(table.semantics.subject, (table.semantics.subject,) * 2)
    if language == "es":
        when = period.name_es or "ese periodo"
        reason = f"Los datos de {subject[0]} solo cubren lo ya ocurrido: no hay previsiones para {when}."
    else:
        when = period.name_en or "that period"
        reason = f"The data of {subject[1]} covers only what has happened: there is no forecast for {when}."
    return AskRefusal(reason, language=language, kind="out_of_scope")


def _singular(text: str, claim: Claim) -> bool:
    """The claim's words are singular ("movie", "ciudad"): a declared singular name ("país"), else
    plural words end in s in both languages."""
    words = text[claim.start : claim.end]
    return words in _singular_names() or not words.endswith("s")


@functools.cache
def _singular_names() -> frozenset[str]:
    """Every table's rows' singular names, folded ("pais" ends in s and is one country)."""
    names = [n for t in tables() for n in (t.semantics.entity_names.es[:1] + t.semantics.entity_names.en[:1])]
    return frozenset(" ".join(tokens(fold(n))) for n in names)


def _one_row(text: str, claim: Claim, named: list[Claim]) -> bool:
    """The rows are named in the singular with an article ("la película más larga", "the most
    popular movie"), or right after a measure's superlative as headlines drop the article
    ("hottest day in Valencia in 2016"), not as a noun's qualifier ("movie releases") or a verb
    ("we trade")."""
    before = text[: claim.start].split()[-3:]
    qualifier = any(0 < c.start - claim.end <= 1 and c.role in ("entity", "subject") for c in named)
    headline = any(0 < claim.start - c.end <= 1 and c.role in ("superlative", "least") for c in named)
    article = bool({"la", "el", "the", "una", "un", "a", "our", "nuestra", "nuestro"} & set(before))
    return _singular(text, claim) and not qualifier and (article or headline)


def _periods(
    text: str, table: Table, language: str, as_of: dt.datetime
) -> tuple[Period | None, tuple[Period, ...], str]:
    """The period named (first to last) and each period when several are, with their words blanked."""
    if table.semantics.time is None:
        return None, (), text
    times = extract_times(text, as_of, language)
    if times.problem:
        raise AskRefusal(
            "La fecha de la pregunta no es válida o es ambigua." if language == "es"
            else "The question's date is not valid or is ambiguous.",
            language=language,
            kind="ambiguous",
        )  # fmt: skip
    if not times.periods:
        return None, (), text
    for start, end in times.spans:
        text = _blank(text, start, end)
    first = times.periods[0]
    ordered = tuple(sorted(times.periods, key=lambda p: p.start))
    span = Period(ordered[0].start, max(p.end for p in ordered), first.name_es, first.name_en)
    return span, (ordered if len(ordered) > 1 else ()), text


def _bucket_of(periods: tuple[Period, ...]) -> str | None:
    """``year`` or ``month`` when every period compared is a whole one."""
    if all(p.start.month == 1 and p.start.day == 1 and p.end.year == p.start.year + 1 and p.end.month == 1
           for p in periods):  # fmt: skip
        return "year"
    if all(p.start.day == 1 and p.end.day == 1 for p in periods):
        return "month"
    return None


def _time_group(text: str, by: re.Pattern[str]) -> str | None:
    found = next((c for c in TIME_GROUPS if _grammar(c).search(text)), None)
    if found is not None:
        return found
    # "distribución de películas por año de estreno"
    year_words = _words_pattern(Words(("año", "años"), ("year", "years")))
    match = year_words.search(text) if year_words else None
    if match is not None and by.search(" ".join(text[: match.start()].split()[-1:])):
        return "year"
    return None


def _counted_unit(text: str, named: list[Claim], semantics: Semantics) -> Measure | None:
    """The measure whose unit the count words name right after them: a value of a dimension the
    measure's ``unit_by`` maps to a unit ("how many dollars": USD of the amount); None otherwise."""
    found = _grammar("count").search(text)
    if found is None:
        return None
    following = [c for c in named if c.start >= found.end()]
    if not following or following[0].role != "value" or text[found.end() : following[0].start].strip():
        return None
    claim = following[0]
    if len(following) > 1 and not text[claim.end : following[1].start].strip():
        return None  # "how many USD purchases": the currency qualifies the rows counted
    assert claim.dimension is not None
    return next(
        (m for m in semantics.measures if claim.value in m.unit_by.get(claim.dimension.key, {})), None
    )


def _counts_rows(text: str, named: list[Claim]) -> bool:
    """The count words are followed by the table's rows ("how many days of Brent prices", "cuántos
    países"): rows are counted even when a measure is named after them."""
    found = _grammar("count").search(text)
    if found is None:
        return False
    following = [c for c in named if c.start >= found.end()]
    return (
        bool(following)
        and following[0].role == "entity"
        and not text[found.end() : following[0].start].strip()
    )


def _unknown_counted(text: str, named: list[Claim]) -> str | None:
    """The noun after "cuántas"/"how many" when it names nothing the table has ("entradas")."""
    found = _grammar("count").search(text)
    if found is None:
        return None
    rest = text[found.end() :].split()
    fillers = {"de", "las", "los", "el", "la", "the", "of", "en", "in", "total", "distintas", "distintos"}
    word = next((w for w in rest if w not in fillers), None)
    if word is None:
        return None
    position = text.index(word, found.end())
    if any(c.start <= position < c.end for c in named) or word.isdigit():
        return None
    return word


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
