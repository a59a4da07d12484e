"""What a text drop is made of, learnt in one streaming pass over its bytes (memory: one chunk).

:func:`scan_chunks` gathers the facts the landing checks decide on: size and SHA-256, the first
bytes (binary or not), the first line over the limit, where UTF-8 first fails, whether the bytes
hold evidence against Latin-1, and the first lines that carry text (the header and one row).
It never decides: ``datalake.sources.energy_company.read_scan`` does, the same way for a drop
streamed from the landing bucket and for a raw file the Glue job holds whole.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

#: How much of a drop is held at once (256 KiB: a few MiB of work memory, whatever the size).
CHUNK_BYTES = 1 << 18
SAMPLE_BYTES = 8192
BOM = codecs.BOM_UTF8
# Bytes 0x80-0x9F are control characters in Latin-1 that real text never holds (they are what
# Windows-1252 puts its curly quotes and euro sign on), so their presence means "not Latin-1".
_C1_CONTROLS = re.compile(rb"[\x80-\x9f]")
# A lead byte followed by a continuation byte: what UTF-8 accents look like. In a file that is
# not valid UTF-8 it means the text mixes UTF-8 with another encoding (or was cut mid-character).
_UTF8_PAIR = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
# What bytes.strip() removes: a drop of only these bytes holds no text.
_ASCII_SPACE = b" \t\n\r\x0b\x0c"


@dataclass(frozen=True)
class LongLine:
    """The first line longer than the limit: 1-based number, byte offset, length without ``\\n``."""

    number: int
    offset: int
    length: int


@dataclass
class TextScan:
    """Facts about one drop's bytes (see :func:`scan_chunks`)."""

    size: int = 0
    sha256: str = ""
    #: The limit ``long_line`` was measured against.
    max_line_bytes: int = 0
    #: The first :data:`SAMPLE_BYTES` bytes.
    sample: bytes = b""
    #: Nothing but ASCII whitespace (``bytes.strip()`` leaves nothing).
    blank: bool = True
    long_line: LongLine | None = None
    #: Offset and value of the first byte that is not UTF-8 (a cut character at the end included).
    utf8_error: tuple[int, int] | None = None
    #: Latin-1's unused C1 range or UTF-8 sequences somewhere: the bytes are not plain Latin-1.
    not_latin1: bool = False
    #: The first lines that may carry text, as bytes without ``\\n`` (see :func:`scan_chunks`).
    head: list[bytes] = field(default_factory=list)


def _blank_as(line: bytes, encoding: str, first: bool) -> bool:
    """True when ``line`` decodes to whitespace only (a line that does not decode is not blank)."""
    if encoding == "utf-8" and first:
        encoding = "utf-8-sig"
    try:
        return not line.decode(encoding).strip()
    except UnicodeDecodeError:
        return False


class _Scanner:
    """The state of one pass; feed chunks in order, then :meth:`finish`."""

    def __init__(self, max_line_bytes: int, head_lines: int, digest: bool) -> None:
        self.max_line_bytes = max_line_bytes
        self.head_lines = head_lines
        self.scan = TextScan(max_line_bytes=max_line_bytes)
        self.hash = hashlib.sha256() if digest else None
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.last_byte = b""  # so a UTF-8 pair cut between two chunks is still seen
        self.line_number = 1  # of the line being read
        self.line_start = 0  # its byte offset
        self.line_length = 0  # its bytes so far
        self.head_line: bytearray | None = bytearray()  # None once the head is complete
        self.head_lines_ended = 0
        self.texts_in_head = 0

    def feed(self, chunk: bytes) -> None:
        scan = self.scan
        if not chunk:
            return
        if self.hash:
            self.hash.update(chunk)
        if len(scan.sample) < SAMPLE_BYTES:
            scan.sample += chunk[: SAMPLE_BYTES - len(scan.sample)]
        if scan.blank and chunk.strip(_ASCII_SPACE):
            scan.blank = False
        self._check_encoding(chunk)
        self._split_lines(chunk)
        scan.size += len(chunk)

    def _check_encoding(self, chunk: bytes) -> None:
        scan = self.scan
        if scan.utf8_error is None:
            pending = self.utf8.getstate()[0]
            try:
                self.utf8.decode(chunk)
            except UnicodeDecodeError as error:
                data = pending + chunk
                scan.utf8_error = (scan.size - len(pending) + error.start, data[error.start])
        if not scan.not_latin1:
            scan.not_latin1 = bool(_C1_CONTROLS.search(chunk) or _UTF8_PAIR.search(self.last_byte + chunk))
            self.last_byte = chunk[-1:]

    def _split_lines(self, chunk: bytes) -> None:
        parts = chunk.split(b"\n")
        *complete, rest = parts
        if complete and self.scan.long_line is None:
            self._check_lengths(complete)
        if self.head_line is not None:
            self._collect_head(parts)
        if complete:
            self.line_number += len(complete)
            self.line_start = self.scan.size + len(chunk) - len(rest)
            self.line_length = len(rest)
        else:
            self.line_length += len(rest)

    def _check_lengths(self, complete: list[bytes]) -> None:
        """Record the first complete line over the limit (the first part continues the open line)."""
        first = self.line_length + len(complete[0])
        if first <= self.max_line_bytes and max(map(len, complete)) <= self.max_line_bytes:
            return
        offset, number = self.line_start, self.line_number
        for index, part in enumerate(complete):
            length = first if index == 0 else len(part)
            if length > self.max_line_bytes:
                self.scan.long_line = LongLine(number, offset, length)
                return
            offset += length + 1
            number += 1

    def _collect_head(self, parts: list[bytes]) -> None:
        """Keep lines until ``head_lines`` of them carry text in both encodings.

        Lines blank in both encodings are dropped; a line blank in only one (a lone NBSP) is kept,
        so the caller, which knows the encoding by then, finds the same first lines as a whole read.
        A line over the limit ends the head: such a drop is rejected before its header matters.
        """
        assert self.head_line is not None
        for index, part in enumerate(parts):
            self.head_line += part
            if len(self.head_line) > self.max_line_bytes:
                self.head_line = None
                return
            if index == len(parts) - 1:
                return  # the line goes on in the next chunk
            self._end_head_line()
            if self.head_line is None:
                return

    def _end_head_line(self) -> None:
        assert self.head_line is not None
        line = bytes(self.head_line)
        self.head_line = bytearray()
        first = self.head_lines_ended == 0  # where a UTF-8 BOM may open the file
        self.head_lines_ended += 1
        blank = [_blank_as(line, encoding, first) for encoding in ("utf-8", "latin-1")]
        if all(blank):
            return
        self.scan.head.append(line)
        if not any(blank):
            self.texts_in_head += 1
            if self.texts_in_head >= self.head_lines:
                self.head_line = None

    def finish(self) -> TextScan:
        scan = self.scan
        if scan.utf8_error is None:
            pending = self.utf8.getstate()[0]
            try:
                self.utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                scan.utf8_error = (scan.size - len(pending), pending[0])
        if scan.long_line is None and self.line_length > self.max_line_bytes:
            scan.long_line = LongLine(self.line_number, self.line_start, self.line_length)
        if self.head_line:  # the last line, with no newline after it
            self._end_head_line()
        if self.hash:
            scan.sha256 = self.hash.hexdigest()
        return scan


def scan_chunks(
    chunks: Iterable[bytes], max_line_bytes: int, *, head_lines: int = 2, digest: bool = True
) -> TextScan:
    """Scan a drop given as consecutive chunks of bytes (any sizes); holds one chunk at a time.

    Parameters
    ----------
    chunks
        The drop's bytes, in order.
    max_line_bytes
        Lines longer than this (bytes, without the ``\\n``) are reported in ``long_line``.
    head_lines
        How many lines with text to keep in ``head`` (lines are split on ``\\n`` only).
    digest
        Compute the SHA-256 (off for readers that only need the facts).

    Returns
    -------
    TextScan
        The facts; the same whatever the chunk sizes.
    """
    scanner = _Scanner(max_line_bytes, head_lines, digest)
    for chunk in chunks:
        scanner.feed(chunk)
    return scanner.finish()


def read_chunks(stream: BinaryIO, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """A binary stream as chunks of at most ``chunk_bytes``."""
    while chunk := stream.read(chunk_bytes):
        yield chunk


def split_chunks(data: bytes, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Bytes already in memory as chunks, so a scan of them holds one chunk more, not the whole again."""
    view = memoryview(data)
    for start in range(0, len(data), chunk_bytes):
        yield bytes(view[start : start + chunk_bytes])
