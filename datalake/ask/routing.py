"""Which reader answers a question: the declared semantic layer or the electricity parser.

A question that uses a declared subject's anchor words (see :mod:`datalake.ask.declared`) goes
to that subject's best table; one that anchors in two subjects is refused with the readings
listed. Anything else goes to the electricity parser; when it does not understand the question,
the declared subjects whose other words the question uses get a second chance (one: it answers;
several: the readings are listed).
"""

from __future__ import annotations

from dataclasses import dataclass

from datalake.ask import lexicon as lx
from datalake.ask.declared import (
    Table,
    anchored_subjects,
    best_table,
    claims,
    clarify,
    language_of,
    mentioned_subjects,
    named_subjects,
    orders_a_change,
    read_text,
    strongest_subject,
    tables,
)
from datalake.ask.errors import AskRefusal
from datalake.ask.parser import read, refusal, refuse_unsafe
from datalake.ask.suggestions import suggestions


@dataclass(frozen=True)
class Routed:
    """A question for the declared layer: its table, its corrected text and its language."""

    table: Table
    text: str
    language: str
    #: Tables of other subjects the question's words name just as much (the earlier-declared
    #: subject was chosen): their answer is taken when the chosen table's finds nothing.
    alternatives: tuple[Table, ...] = ()


def route(question: str) -> Routed | None:
    """The declared table ``question`` is about, or None for the electricity parser.

    Raises
    ------
    AskRefusal
        Unsafe, or about two declared subjects at once (``ambiguous``, the readings listed).
    """
    text = read_text(question)
    subjects = anchored_subjects(text)
    if subjects and _OTHER_TOPICS.search(text) and not any(_asks_a_measure(text, t) for t in _all(subjects)):
        # "the weather in Bogotá": a topic no dataset holds, whatever place or row it names.
        return None
    return _routed(question, text, subjects)


def route_after_refusal(question: str, refusal: AskRefusal) -> Routed | None:
    """A second chance for a question the electricity parser did not understand, when a declared
    subject's words are in it. (Out of its scope stays refused: "el precio de la luz" is not the
    energy company's price.)

    Raises
    ------
    AskRefusal
        The electricity parser found it ambiguous and a declared subject could answer it too:
        both readings are listed.
    """
    if refusal.kind not in ("not_understood", "ambiguous", "out_of_scope"):
        return None
    text = read_text(question)
    subjects = mentioned_subjects(text)
    if refusal.kind == "out_of_scope":
        # "precio promedio del kWh por tipo de energía" is out of electricity's scope but a declared
        # table's measure with its dimension; "el precio de la luz" names a measure only: refused.
        subjects = {
            subject: found
            for subject, found in subjects.items()
            if any(_asks_a_measure(text, t) and _names_more(text, t) for t in found)
        }
    if refusal.kind == "ambiguous":
        if not subjects:
            return None
        language = language_of(text, refusal.language)
        raise clarify(["electricity", *sorted(subjects)], language, suggestions(language))
    return _routed(question, text, subjects)


def route_when_empty(question: str) -> Routed | None:
    """A second reading of a question the electricity tables hold nothing for ("cuota de la solar en
    la electricidad de España en 2019" on a lake whose hours start in 2023): the one declared
    subject that the question asks a measure of and names a value, a dimension or the rows of.

    Raises
    ------
    AskRefusal
        Unsafe (as every routing does).
    """
    text = read_text(question)
    subjects = {
        subject: found
        for subject, found in mentioned_subjects(text).items()
        if any(_asks_a_measure(text, t) and _names_more(text, t) for t in found)
    }
    return _routed(question, text, subjects) if len(subjects) == 1 else None


_OTHER_TOPICS = lx.phrase_pattern(lx.OTHER_TOPICS)


def _all(subjects: dict[str, list[Table]]) -> list[Table]:
    return [table for found in subjects.values() for table in found]


def _asks_a_measure(text: str, table: Table) -> bool:
    return any(c.role in ("measure", "superlative", "least") for c in claims(text, table))


def _alike(text: str, subjects: list[str], roles: tuple[str, ...] | None = None) -> bool:
    """Whether the question's words (of ``roles``; every role when None) name the same spans of it in
    each subject's tables."""
    spans = [
        {
            (c.start, c.end)
            for table in tables()
            if table.semantics.subject == subject
            for c in claims(text, table)
            if roles is None or c.role in roles
        }
        for subject in subjects
    ]
    return all(found == spans[0] for found in spans[1:])


def _names_more(text: str, table: Table) -> bool:
    """Besides a measure, the question names the table's rows, a dimension or one of its values."""
    return any(c.role in ("entity", "subject", "dimension", "value") for c in claims(text, table))


def _routed(question: str, text: str, subjects: dict[str, list[Table]]) -> Routed | None:
    if not subjects:
        return None
    reading = read(question)
    refuse_unsafe(question, reading)
    language = language_of(text, reading.language)
    if orders_a_change(text):
        raise refusal("unsafe", language, "unsafe")
    if len(subjects) > 1:
        # One subject named by its rows or its own words wins; none named: the clearly stronger one.
        named = named_subjects(text, subjects)
        if len(named) > 1 and _alike(text, named, roles=("entity", "subject")):
            # The same words name each one's rows ("transacciones" of the energy company and of the
            # currency app): the naming tells them apart no more than it would unsaid.
            named = []
        subject = named[0] if len(named) == 1 else None if named else strongest_subject(text, subjects)
        tied: list[str] = []
        if subject is None and not named and _alike(text, list(subjects)):
            # Every word names the same things in each ("¿cuántas ventas hubo en marzo?"): the subject
            # declared first answers, as it did before the others were declared; naming something only
            # a later one has (a status, a currency, a user) routes there. When its answer finds
            # nothing, the others' are tried (datalake.ask.service).
            subject, *tied = subjects
        if subject is None:
            raise clarify(sorted(subjects), language, suggestions(language))
    else:
        (subject,) = subjects
        tied = []
    table = best_table(text, [t for t in tables() if t.semantics.subject == subject])
    others = tuple(best_table(text, [t for t in tables() if t.semantics.subject == s]) for s in tied)
    return Routed(table, text, language, others)
