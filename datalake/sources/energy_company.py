"""The energy company's CSV drops: recognise, check and land them in raw, or reject them with a reason.

A drop lands in the landing bucket (``landing/`` locally). :func:`land_drop` reads it, finds its
entity from the header (matched against the dataset specs' ``source_columns``, never from the
file name), its delimiter (``;`` or ``,``) and its encoding (UTF-8 or Latin-1), and copies the
bytes unchanged to ``raw/energy_company/<entity>/year=/month=/day=/<file>`` keyed by the landing
date, or to ``rejected/energy_company/year=/month=/day=/<file>`` beside ``<file>.reason.json``.
The Glue job reads raw files with the same :func:`sniff` so both sides agree on every file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from datalake.datasets.energy_company import ENTITIES, SOURCE
from datalake.runs import RunReport, as_utc
from datalake.storage.base import ObjectStore
from datalake.storage.paths import date_partition_key, join_key

RAW_PREFIX = join_key("raw", SOURCE)
REJECTED_PREFIX = join_key("rejected", SOURCE)
DELIMITERS = (";", ",")
Encoding = Literal["utf-8", "latin-1"]
RejectReason = Literal["empty", "binary", "encoding", "line_too_long", "missing_header", "wrong_header"]

# Bytes 0x80-0x9F are control characters in Latin-1 that real text never holds (they are what
# Windows-1252 puts its curly quotes and euro sign on), so their presence means "not Latin-1".
_C1_CONTROLS = re.compile(rb"[\x80-\x9f]")
# A lead byte followed by a continuation byte: what UTF-8 accents look like. In a file that is
# not valid UTF-8 it means the text mixes UTF-8 with another encoding (or was cut mid-character).
_UTF8_PAIR = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
# Text files hold no NUL and few other control bytes (tab, newline, carriage return, form feed).
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f]")
_BINARY_SAMPLE_BYTES = 8192


class Rejected(Exception):
    """A drop the lake cannot accept; ``reason`` is one of :data:`RejectReason`."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Sniffed:
    """How to read one drop: its entity, encoding and delimiter, and its decoded text."""

    entity: str
    encoding: Encoding
    delimiter: str
    header: tuple[str, ...]
    text: str = field(repr=False)


def fold(text: str) -> str:
    """Upper case without accents or surrounding space: the key names and headers are compared on."""
    decomposed = unicodedata.normalize("NFD", text.strip().upper())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def header_name(raw: str) -> str:
    """A header cell as a column name: no BOM, no accents, lower case, spaces as underscores."""
    return re.sub(r"[\s\-]+", "_", fold(raw.replace("\ufeff", "")).lower())


def decode(data: bytes) -> tuple[str, Encoding]:
    """The text of a drop and its encoding: UTF-8 (a BOM is dropped) or else Latin-1.

    Raises
    ------
    Rejected
        ``encoding`` when the bytes are neither (invalid UTF-8 that also holds Latin-1's unused
        control range, or UTF-8 mixed with other bytes).
    """
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as error:
        position = error.start
        if _C1_CONTROLS.search(data) or _UTF8_PAIR.search(data):
            raise Rejected(
                "encoding",
                f"neither UTF-8 (invalid byte 0x{data[position]:02x} at offset {position}) "
                "nor Latin-1 text (it holds UTF-8 sequences or control bytes 0x80-0x9f)",
            ) from None
        return data.decode("latin-1"), "latin-1"


def _match_header(first_line: str) -> tuple[str, str, tuple[str, ...]]:
    """(entity, delimiter, header) of a header line; Rejected when it names no entity's columns."""
    best: tuple[int, str, str, set[str]] | None = None  # (overlap, entity, delimiter, names)
    for delimiter in DELIMITERS:
        cells = next(csv.reader([first_line], delimiter=delimiter))
        names = tuple(header_name(cell) for cell in cells)
        for entity, spec in ENTITIES.items():
            if set(names) == set(spec.source_columns) and len(names) == len(spec.source_columns):
                return entity, delimiter, names
            overlap = len(set(names) & set(spec.source_columns))
            if best is None or overlap > best[0]:
                best = (overlap, entity, delimiter, set(names))
    assert best is not None
    overlap, entity, delimiter, names = best
    if overlap == 0:
        raise Rejected(
            "missing_header",
            f"the first line names no known column ({first_line[:120]!r}); each file needs a header: "
            + "; ".join(f"{e}: {', '.join(s.source_columns)}" for e, s in ENTITIES.items()),
        )
    expected = set(ENTITIES[entity].source_columns)
    missing, unexpected = sorted(expected - names), sorted(names - expected)
    raise Rejected(
        "wrong_header",
        f"closest entity is {entity} (delimiter {delimiter!r}): missing columns {missing}, "
        f"unexpected columns {unexpected}",
    )


def sniff(data: bytes, max_line_bytes: int) -> Sniffed:
    """Check a drop and say how to read it.

    Parameters
    ----------
    data
        The file's bytes, as they landed.
    max_line_bytes
        The longest line accepted, in bytes (``csv_max_line_bytes``).

    Returns
    -------
    Sniffed
        Entity, encoding, delimiter, header and decoded text.

    Raises
    ------
    Rejected
        With the reason: ``empty`` (no bytes, or a header and no rows), ``binary``, ``encoding``,
        ``line_too_long``, ``missing_header`` or ``wrong_header``.
    """
    if not data.strip():
        raise Rejected("empty", f"the file has {len(data)} byte(s) and no text")
    sample = data[:_BINARY_SAMPLE_BYTES]
    if b"\x00" in sample or len(_CONTROL.findall(sample)) > len(sample) // 100:
        raise Rejected("binary", "the file holds NUL or control bytes; a CSV extract is text")
    lengths = [len(line) for line in data.split(b"\n")]
    if max(lengths) > max_line_bytes:
        number = next(i for i, length in enumerate(lengths) if length > max_line_bytes)
        raise Rejected(
            "line_too_long",
            f"line {number + 1} (byte offset {sum(lengths[:number]) + number}) has {lengths[number]:,} "
            f"bytes; the limit is {max_line_bytes:,} (csv_max_line_bytes)",
        )
    text, encoding = decode(data)
    # One normalisation of the whole text, so every cell is NFC (composed accents) once parsed.
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    lines = (line for line in io.StringIO(text) if line.strip())
    entity, delimiter, header = _match_header(next(lines).rstrip("\r\n"))
    if next(lines, None) is None:
        raise Rejected("empty", f"a {entity} header and no data rows")
    return Sniffed(entity, encoding, delimiter, header, text)


def read_rows(sniffed: Sniffed) -> Iterator[tuple[int, str, list[str]]]:
    """``(line number, raw record, cells)`` for each data row (the text is NFC already).

    The raw record is the row's cells joined by the file's delimiter, kept for quarantine.
    Blank lines are skipped; a row whose cell count differs from the header's is still yielded
    (the caller quarantines it).
    """
    reader = csv.reader(io.StringIO(sniffed.text), delimiter=sniffed.delimiter)
    header_seen = False
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if not header_seen:
            header_seen = True
            continue
        yield reader.line_num, sniffed.delimiter.join(cells), cells


@dataclass(frozen=True)
class LandingOutcome:
    """Where one drop went."""

    source_key: str
    landed_at: dt.datetime
    key: str
    entity: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    reason: str | None = None
    detail: str | None = None

    @property
    def accepted(self) -> bool:
        return self.reason is None


def raw_key(entity: str, landed_at: dt.datetime, name: str) -> str:
    """``raw/energy_company/<entity>/year=/month=/day=/<name>`` for the UTC landing date."""
    return date_partition_key(join_key(RAW_PREFIX, entity), as_utc(landed_at).date(), name)


def rejected_key(landed_at: dt.datetime, name: str) -> str:
    """``rejected/energy_company/year=/month=/day=/<name>`` for the UTC landing date."""
    return date_partition_key(REJECTED_PREFIX, as_utc(landed_at).date(), name)


def land_drop(
    landing: ObjectStore,
    lake: ObjectStore,
    source_key: str,
    landed_at: dt.datetime,
    max_line_bytes: int,
) -> LandingOutcome:
    """Copy one landing object unchanged to raw, or to rejected with ``<file>.reason.json``.

    The destination key depends only on the landing date and the file name, so landing the
    same drop again overwrites the same object. The landing object is left in place.

    Parameters
    ----------
    landing, lake
        The landing bucket's store and the lake's.
    source_key
        Key of the drop in the landing bucket (URL-decoded).
    landed_at
        When the drop landed (the S3 event time, or the file's modification time locally).
    max_line_bytes
        The longest line accepted.

    Returns
    -------
    LandingOutcome
        The raw or rejected key, with the entity and reading, or the reason and its detail.
    """
    data = landing.get_bytes(source_key)
    name = source_key.rsplit("/", 1)[-1]
    try:
        sniffed = sniff(data, max_line_bytes)
    except Rejected as rejection:
        key = rejected_key(landed_at, name)
        lake.put_bytes(key, data)
        lake.put_json(
            f"{key}.reason.json",
            {
                "reason": rejection.reason,
                "detail": rejection.detail,
                "source_key": source_key,
                "landed_at": as_utc(landed_at).isoformat(),
                "bytes": len(data),
            },
        )
        return LandingOutcome(source_key, landed_at, key, reason=rejection.reason, detail=rejection.detail)
    key = raw_key(sniffed.entity, landed_at, name)
    lake.put_bytes(key, data, "text/csv")
    return LandingOutcome(source_key, landed_at, key, sniffed.entity, sniffed.encoding, sniffed.delimiter)


def land_drops(
    landing: ObjectStore,
    lake: ObjectStore,
    drops: Iterable[tuple[str, dt.datetime]],
    max_line_bytes: int,
    report: RunReport,
    progress: Callable[[str], None] | None = None,
) -> list[LandingOutcome]:
    """Land several drops and fill ``report``: in = drops, out = accepted, quarantined = rejected."""
    outcomes = []
    for source_key, landed_at in drops:
        outcome = land_drop(landing, lake, source_key, landed_at, max_line_bytes)
        outcomes.append(outcome)
        report.rows_in += 1
        report.keys_written.append(outcome.key)
        if outcome.accepted:
            report.rows_out += 1
            accepted = report.details.setdefault("accepted", {})
            accepted[outcome.entity] = accepted.get(outcome.entity, 0) + 1
        else:
            report.rows_quarantined += 1
            rejected = report.details.setdefault("rejected", {})
            rejected[outcome.reason] = rejected.get(outcome.reason, 0) + 1
            report.details.setdefault("rejections", []).append(
                {"source_key": source_key, "reason": outcome.reason, "detail": outcome.detail}
            )
        if progress:
            where = outcome.entity if outcome.accepted else f"rejected ({outcome.reason}: {outcome.detail})"
            progress(f"{source_key} -> {where}")
    return outcomes
