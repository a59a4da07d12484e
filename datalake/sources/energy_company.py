"""The energy company's CSV drops: recognise and check one, or say why the lake cannot take it.

A drop's entity comes from its header (matched against the dataset specs' ``source_columns``,
never from the file name), with its delimiter (``;`` or ``,``) and its encoding (UTF-8 or
Latin-1). :func:`read_scan` decides on the facts a streaming :func:`~datalake.sources.text_scan.scan_chunks`
gathered: the landing (``datalake.sources.energy_landing``) streams drops from the bucket, and the
Glue job reads raw files with :func:`sniff`, which scans the same way, so both sides agree on every file.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from datalake.datasets.energy_company import ENTITIES
from datalake.sources.text_scan import BOM, TextScan, scan_chunks, split_chunks

DELIMITERS = (";", ",")
Encoding = Literal["utf-8", "latin-1"]
RejectReason = Literal[
    "empty",
    "binary",
    "encoding",
    "line_too_long",
    "missing_header",
    "wrong_header",
    "too_large",
    "bad_name",
    "symlink",
    "not_a_file",
    "bad_workbook",
]

# Text files hold no NUL and few other control bytes (tab, newline, carriage return, form feed).
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f]")


class Rejected(Exception):
    """A drop the lake cannot accept; ``reason`` is one of :data:`RejectReason`."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Reading:
    """How to read one drop: its entity, encoding, delimiter and header."""

    entity: str
    encoding: Encoding
    delimiter: str
    header: tuple[str, ...]


@dataclass(frozen=True)
class Sniffed(Reading):
    """A drop's reading and its decoded (NFC) text."""

    text: str = field(default="", repr=False)


def fold(text: str) -> str:
    """Upper case without accents or surrounding space: the key names and headers are compared on."""
    decomposed = unicodedata.normalize("NFD", text.strip().upper())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def header_name(raw: str) -> str:
    """A header cell as a column name: no BOM, no accents, lower case, spaces as underscores."""
    return re.sub(r"[\s\-]+", "_", fold(raw.replace("\ufeff", "")).lower())


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


def _encoding(scan: TextScan) -> Encoding:
    """UTF-8 when every byte is, else Latin-1 unless the bytes hold evidence against it."""
    if scan.utf8_error is None:
        return "utf-8"
    if scan.not_latin1:
        offset, value = scan.utf8_error
        raise Rejected(
            "encoding",
            f"neither UTF-8 (invalid byte 0x{value:02x} at offset {offset}) "
            "nor Latin-1 text (it holds UTF-8 sequences or control bytes 0x80-0x9f)",
        )
    return "latin-1"


def _text_lines(scan: TextScan, encoding: Encoding) -> list[str]:
    """The head's lines that carry text once decoded, NFC (a BOM opening the file is dropped)."""
    lines = []
    for index, raw in enumerate(scan.head):
        first = index == 0 and encoding == "utf-8" and scan.sample.startswith(BOM)
        line = raw.decode("utf-8-sig" if first else encoding)
        if line.strip():
            lines.append(unicodedata.normalize("NFC", line))
    return lines


def checked_lines(scan: TextScan) -> tuple[Encoding, list[str]]:
    """The checks every text drop passes, and its encoding and first lines with text (NFC).

    Raises
    ------
    Rejected
        ``empty`` (no bytes or no line with text), ``binary``, ``line_too_long`` or ``encoding``.
    """
    if scan.blank:
        raise Rejected("empty", f"the file has {scan.size} byte(s) and no text")
    sample = scan.sample
    if b"\x00" in sample or len(_CONTROL.findall(sample)) > len(sample) // 100:
        raise Rejected("binary", "the file holds NUL or control bytes; a CSV extract is text")
    if scan.long_line:
        long = scan.long_line
        raise Rejected(
            "line_too_long",
            f"line {long.number} (byte offset {long.offset}) has {long.length:,} bytes; "
            f"the limit is {scan.max_line_bytes:,} (csv_max_line_bytes)",
        )
    encoding = _encoding(scan)
    lines = _text_lines(scan, encoding)
    if not lines:
        raise Rejected("empty", f"the file has {scan.size} byte(s) and no line with text")
    return encoding, lines


def read_scan(scan: TextScan) -> Reading:
    """Decide on a scanned drop: how to read it, or why it cannot be read.

    Parameters
    ----------
    scan
        What :func:`~datalake.sources.text_scan.scan_chunks` found in the drop's bytes.

    Returns
    -------
    Reading
        Entity, encoding, delimiter and header.

    Raises
    ------
    Rejected
        With the reason: ``empty`` (no bytes, or a header and no rows), ``binary``, ``encoding``,
        ``line_too_long``, ``missing_header`` or ``wrong_header``.
    """
    encoding, lines = checked_lines(scan)
    entity, delimiter, header = _match_header(lines[0].rstrip("\r\n"))
    if len(lines) < 2:
        raise Rejected("empty", f"a {entity} header and no data rows")
    return Reading(entity, encoding, delimiter, header)


def sniff(data: bytes, max_line_bytes: int) -> Sniffed:
    """Check a drop held in memory (a raw file the Glue job read) and say how to read it.

    The same checks as the landing's streamed ones (:func:`read_scan`), plus the decoded text.

    Parameters
    ----------
    data
        The file's bytes, as they landed.
    max_line_bytes
        The longest line accepted, in bytes (``csv_max_line_bytes``).

    Returns
    -------
    Sniffed
        Entity, encoding, delimiter, header and decoded text (NFC).

    Raises
    ------
    Rejected
        As :func:`read_scan`.
    """
    reading = read_scan(scan_chunks(split_chunks(data), max_line_bytes, digest=False))
    text = data.decode("utf-8-sig" if reading.encoding == "utf-8" else "latin-1")
    # One normalisation of the whole text, so every cell is NFC (composed accents) once parsed.
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return Sniffed(reading.entity, reading.encoding, reading.delimiter, reading.header, text)


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
