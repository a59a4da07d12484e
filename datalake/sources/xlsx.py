"""The first worksheet of an XLSX workbook as rows of text, with the standard library only.

Drops may arrive as Excel workbooks (OWID publishes ``owid-energy-data.xlsx``). Neither Spark nor
Glue 5.0 reads XLSX, and the landing Lambda's bundle has no Excel library, so this module reads
the Office Open XML parts itself: ``xl/workbook.xml`` names the first sheet, its relationship
gives the sheet's part, ``xl/sharedStrings.xml`` holds the text cells. The sheet is parsed
incrementally (``iterparse``), a row at a time.

Values come back as the workbook stores them: numbers as their XML text (``1234.5``,
``1.2E-3``), which parse to the same double; text as text; booleans as ``TRUE``/``FALSE``;
error cells as their code (``#N/A``); empty cells as None. Dates are numbers (Excel serials):
callers that expect dates must convert them.

A workbook is a zip: its parts are checked against a limit on their unpacked size (a zip bomb
is refused) and XML declaring a DOCTYPE is refused (entity expansion), before anything is parsed.

:func:`write_xlsx` writes the smallest valid workbook (one sheet, inline strings), for tests and
the demo's drops.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from xml.etree import ElementTree
from xml.sax.saxutils import escape

#: The zip signature every XLSX starts with.
ZIP_MAGIC = b"PK\x03\x04"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


class WorkbookError(ValueError):
    """A file that is not a readable XLSX workbook; the message says why."""


def looks_like_xlsx(head: bytes) -> bool:
    """True when ``head`` (a file's first bytes) opens like a zip, as every XLSX does."""
    return head.startswith(ZIP_MAGIC)


def is_workbook(data: bytes) -> bool:
    """True when ``data`` is a zip holding a workbook part (an XLSX, perhaps a broken one)."""
    if not looks_like_xlsx(data):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


class _Workbook:
    """The parts of one workbook, read within a budget of unpacked bytes."""

    def __init__(self, data: bytes, max_unpacked_bytes: int) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError) as error:
            raise WorkbookError(f"not a zip archive ({error})") from None
        unpacked = sum(info.file_size for info in self.zip.infolist())
        if unpacked > max_unpacked_bytes:
            raise WorkbookError(
                f"its parts unpack to {unpacked:,} bytes; the limit is {max_unpacked_bytes:,}"
            )
        self.names = set(self.zip.namelist())

    def open(self, name: str) -> io.BufferedIOBase:
        if name not in self.names:
            raise WorkbookError(f"the workbook has no part {name}")
        stream = self.zip.open(name)
        head = stream.peek(2048)[:2048] if hasattr(stream, "peek") else b""
        if b"<!DOCTYPE" in head.upper():
            raise WorkbookError(f"{name} declares a DOCTYPE (refused: entity expansion)")
        return stream

    def parse(self, name: str) -> ElementTree.Element:
        with self.open(name) as stream:
            try:
                return ElementTree.parse(stream).getroot()
            except ElementTree.ParseError as error:
                raise WorkbookError(f"{name} is not well-formed XML ({error})") from None

    def first_sheet(self) -> str:
        """The part name of the workbook's first sheet (in the order the workbook lists them)."""
        workbook = self.parse("xl/workbook.xml")
        sheet = workbook.find(f"{_MAIN}sheets/{_MAIN}sheet")
        if sheet is None:
            raise WorkbookError("the workbook lists no sheet")
        rel_id = sheet.get(f"{_REL}id")
        rels = self.parse("xl/_rels/workbook.xml.rels")
        for rel in rels.iter(f"{_PACKAGE_REL}Relationship"):
            if rel.get("Id") == rel_id:
                target = rel.get("Target", "")
                # Targets are relative to xl/, or absolute from the package root.
                return target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
        raise WorkbookError(f"the first sheet's relationship {rel_id!r} is missing")

    def shared_strings(self) -> list[str]:
        if "xl/sharedStrings.xml" not in self.names:
            return []
        root = self.parse("xl/sharedStrings.xml")
        return [_string_item(si) for si in root.iter(f"{_MAIN}si")]


def _string_item(si: ElementTree.Element) -> str:
    """A shared string: its text, or its rich-text runs' (phonetic hints, <rPh>, are not the value)."""
    parts = []
    for child in si:
        if child.tag == f"{_MAIN}t":
            parts.append(child.text or "")
        elif child.tag == f"{_MAIN}r":
            parts.extend(t.text or "" for t in child.iter(f"{_MAIN}t"))
    return "".join(parts)


def _cell_text(cell: ElementTree.Element, strings: list[str]) -> str | None:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{_MAIN}t"))
    value = cell.find(f"{_MAIN}v")
    if value is None or value.text is None:
        return None
    if kind == "s":
        try:
            return strings[int(value.text)]
        except (ValueError, IndexError):
            raise WorkbookError(f"cell {cell.get('r')} points at no shared string ({value.text})") from None
    if kind == "b":
        return "TRUE" if value.text == "1" else "FALSE"
    return value.text  # n (number), str (a formula's text), e (an error code such as #N/A)


def read_xlsx_rows(data: bytes, *, max_unpacked_bytes: int) -> Iterator[tuple[int, list[str | None]]]:
    """``(row number, cells)`` for each row of the first sheet that holds a value.

    Parameters
    ----------
    data
        The workbook's bytes.
    max_unpacked_bytes
        The most its parts may unpack to; more is refused (a zip bomb).

    Yields
    ------
    tuple
        The 1-based sheet row number and its cells from column A to the last with a value
        (None where a cell is empty).

    Raises
    ------
    WorkbookError
        Not a zip, no sheet, a part missing or malformed, a DOCTYPE, or over the size limit.
    """
    book = _Workbook(data, max_unpacked_bytes)
    strings = book.shared_strings()
    sheet = book.first_sheet()
    with book.open(sheet) as stream:
        try:
            for _event, element in ElementTree.iterparse(stream, events=("end",)):
                if element.tag != f"{_MAIN}row":
                    continue
                cells: dict[int, str | None] = {}
                index = 0
                for cell in element.iter(f"{_MAIN}c"):
                    # References are optional: a cell without one follows the previous cell.
                    match = _CELL_REF.match(cell.get("r", ""))
                    index = _column_index(match.group(1)) if match else index
                    cells[index] = _cell_text(cell, strings)
                    index += 1
                number = int(element.get("r") or 0)
                element.clear()  # a row at a time: the parsed tree does not grow with the sheet
                if any(value not in (None, "") for value in cells.values()):
                    width = max(cells) + 1
                    yield number, [cells.get(i) for i in range(width)]
        except ElementTree.ParseError as error:
            raise WorkbookError(f"{sheet} is not well-formed XML ({error})") from None


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _cell_xml(ref: str, value: object) -> str:
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return ""  # empty (NaN too: a missing number)
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = escape(str(value))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def write_xlsx(rows: Iterable[Sequence[object]], sheet_name: str = "Sheet1") -> bytes:
    """The smallest valid workbook holding ``rows`` in one sheet (text inline, numbers as numbers).

    Parameters
    ----------
    rows
        The rows, the header first; None or "" leaves a cell empty.
    sheet_name
        The sheet's name.

    Returns
    -------
    bytes
        The ``.xlsx`` file.
    """
    body = []
    for number, row in enumerate(rows, start=1):
        cells = "".join(_cell_xml(f"{_column_letters(i)}{number}", v) for i, v in enumerate(row))
        body.append(f'<row r="{number}">{cells}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006"
    types = "application/vnd.openxmlformats"
    parts = {
        "[Content_Types].xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{package}/content-types">'
            f'<Default Extension="rels" ContentType="{types}-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            f'ContentType="{types}-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{types}-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
            f'<sheets><sheet name="{escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>'
            + "".join(body)
            + "</sheetData></worksheet>"
        ),
    }
    buffer = io.BytesIO()
    # A fixed date: the same rows give the same bytes (deterministic drops and digests).
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()
