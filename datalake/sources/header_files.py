"""Drops read by header name, as CSV or XLSX: the reading OWID's and Rossmann's files share.

Each source keeps its own header rules (:func:`datalake.sources.owid.read_header`,
:func:`datalake.sources.store_sales.read_header`); the bytes -> rows -> cells-by-name reading, the
raw names and the XLSX limits are here once. No Spark here: the landing Lambda imports it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from datalake.sources.energy_company import Rejected
from datalake.sources.text_scan import BOM, TextScan
from datalake.sources.xlsx import WorkbookError, looks_like_xlsx, read_xlsx_rows

Format = Literal["csv", "xlsx"]
#: Hex digits of the drop's SHA-256 in its raw name (as the energy company's drops).
DIGEST_CHARS = 16
#: A workbook's parts may unpack to this many times the drop's size (OWID's XLSX: about 10x,
#: Rossmann's sales workbook about 9x).
UNPACK_RATIO = 40
#: What a workbook is served as.
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ParsedRow:
    """One data row: its line (sheet row), its cells by column name, the raw record, its problem."""

    line_number: int
    cells: dict[str, str]
    raw_record: str
    problem: str | None = None


def header_cell(raw: str) -> str:
    """A header cell as a name: no BOM, no surrounding space, lower case."""
    return raw.replace("\ufeff", "").strip().lower()


def data_row(columns: Sequence[str | None], line: int, cells: list[str | None], pad: bool) -> ParsedRow:
    """A data row by column name (``columns``: the header's, None where ignored); a cell count other
    than the header's is the row's problem.

    ``pad``: the format leaves trailing empty cells out (XLSX), so a short row is not an error.
    """
    raw = ",".join(cell or "" for cell in cells)
    width = len(columns)
    if len(cells) > width or (len(cells) < width and not pad):
        return ParsedRow(line, {}, raw, f"line {line}: {len(cells)} field(s), the header has {width}")
    values = {
        name: value.strip()
        for name, value in zip(columns, cells, strict=False)
        if name is not None and value is not None and value.strip() != ""
    }
    return ParsedRow(line, values, raw)


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM dropped), else Latin-1 when no byte says otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if any(0x80 <= byte <= 0x9F for byte in data):
            raise Rejected(
                "encoding", f"neither UTF-8 (invalid byte at offset {error.start}) nor Latin-1 text"
            ) from None
        return data.decode("latin-1")


def csv_rows(data: bytes) -> Iterator[tuple[int, list[str | None]]]:
    """A CSV's rows with text, each with its line number."""
    reader = csv.reader(io.StringIO(decode_text(data), newline=""))
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield reader.line_num, list(cells)


def xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str | None]]]:
    """A workbook's first sheet's rows, each with its row number; an unreadable one is ``bad_workbook``."""
    try:
        yield from read_xlsx_rows(data, max_unpacked_bytes=max(len(data) * UNPACK_RATIO, 1 << 20))
    except WorkbookError as error:
        raise Rejected("bad_workbook", f"not a readable XLSX workbook: {error}") from None


def file_rows(data: bytes) -> tuple[Format, Iterator[tuple[int, list[str | None]]]]:
    """A whole file's format (told by its first bytes) and its rows with text.

    Raises
    ------
    Rejected
        ``empty`` when the file holds no text.
    """
    if not data.strip():
        raise Rejected("empty", f"the file has {len(data)} byte(s) and no text")
    form: Format = "xlsx" if looks_like_xlsx(data) else "csv"
    return form, xlsx_rows(data) if form == "xlsx" else csv_rows(data)


def scanned_header(scan: TextScan) -> list[str]:
    """The cells of a scanned text drop's first line (empty when it has none)."""
    if not scan.head:
        return []
    first = scan.head[0].decode("utf-8-sig" if scan.sample.startswith(BOM) else "latin-1", "replace")
    return next(csv.reader([first]), [])


def keyed_name(name: str, digest: str, form: Format) -> str:
    """``owid-energy-data.csv`` -> ``owid-energy-data.<digest>.csv`` (the extension its format's)."""
    stem = name.rsplit(".", 1)[0] if name.lower().endswith((".csv", ".xlsx")) else name
    return f"{stem}.{digest[:DIGEST_CHARS]}.{form}"
