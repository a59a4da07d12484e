"""Rossmann store-sales drops: recognise and read one by its header, and where it lands.

Two kinds of file (:data:`~datalake.datasets.store_sales.SALES`,
:data:`~datalake.datasets.store_sales.STORES`) arrive as drops in the landing zone, as CSV or XLSX,
like the energy company's extracts and OWID's files. The landing
(``datalake.sources.energy_landing``) hands every drop whose header names Rossmann's columns
(:func:`is_store_sales_header`) to :func:`check_csv_drop` or :func:`check_xlsx_drop`, and copies it
unchanged to ``raw/store_sales/<kind>/year=/month=/day=/<stem>.<digest>.<csv|xlsx>`` (the landing
day, UTC: a drop), or rejects it with a reason under ``rejected/store_sales/``.

Files are read by header name (:func:`read_header`): columns in any order, any case, a UTF-8 BOM
tolerated, an unknown column ignored (and reported). :func:`parse_file` is the one reading of a
whole file, used by the Glue job (``datalake.transforms.store_sales``) on the raw copy, so the
landing and the job agree on every file. No Spark here: the landing Lambda imports this module.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from datalake.datasets.store_sales import (
    SALES,
    SALES_HEADER,
    SALES_KEY_COLUMNS,
    SOURCE,
    STORES,
    STORES_HEADER,
    STORES_KEY_COLUMNS,
)
from datalake.runs import as_utc
from datalake.sources.energy_company import Rejected, checked_lines
from datalake.sources.header_files import (
    Format,
    ParsedRow,
    data_row,
    file_rows,
    header_cell,
    keyed_name,
    scanned_header,
    xlsx_rows,
)
from datalake.sources.text_scan import TextScan
from datalake.storage.paths import date_partition_key, join_key

RAW_PREFIX = join_key("raw", SOURCE)
REJECTED_PREFIX = join_key("rejected", SOURCE)
Kind = Literal["sales", "stores"]
#: Columns a file of each kind may lack: the given day of week is not read (it is recomputed).
OPTIONAL = {SALES: ("dayofweek",), STORES: ()}


@dataclass(frozen=True)
class Header:
    """A header read by name: its kind, each position's field (None: ignored), the ignored names."""

    kind: Kind
    fields: tuple[str | None, ...]
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedFile:
    """A whole file: its format, header and data rows."""

    format: Format
    header: Header
    rows: list[ParsedRow] = field(default_factory=list)


def _kind_of(names: set[str]) -> Kind | None:
    if set(SALES_KEY_COLUMNS) <= names:
        return SALES
    if set(STORES_KEY_COLUMNS) <= names:
        return STORES
    return None


def is_store_sales_header(cells: Sequence[str | None]) -> bool:
    """True when a header row names Rossmann's sales columns or its store columns."""
    return _kind_of({header_cell(cell or "") for cell in cells}) is not None


def read_header(cells: list[str | None]) -> Header:
    """Which Rossmann file a header is, and the field at each position.

    Raises
    ------
    Rejected
        ``missing_header`` when it names neither kind's identity columns, or lacks a column of
        its kind; ``wrong_header`` when it names a column twice.
    """
    names = [header_cell(cell or "") for cell in cells]
    kind = _kind_of(set(names))
    if kind is None:
        raise Rejected(
            "missing_header",
            f"the header names neither Rossmann's sales ({', '.join(SALES_KEY_COLUMNS)}) nor its "
            f"stores ({', '.join(STORES_KEY_COLUMNS)}): {', '.join(names[:8])}",
        )
    known = SALES_HEADER if kind == SALES else STORES_HEADER
    missing = [name for name in known if name not in names and name not in OPTIONAL[kind]]
    if missing:
        raise Rejected("missing_header", f"a {kind} file without column(s) {', '.join(missing)}")
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        raise Rejected("wrong_header", f"column(s) named twice: {', '.join(repeated)}")
    fields = tuple(known.get(name) for name in names)
    unknown = tuple(name for name, f in zip(names, fields, strict=True) if f is None)
    return Header(kind, fields, unknown)


def parse_file(data: bytes) -> ParsedFile:
    """Read a whole Rossmann file (CSV or XLSX, told by its first bytes) by its header.

    Parameters
    ----------
    data
        The file's bytes, as they landed.

    Returns
    -------
    ParsedFile
        Its format, header and data rows (blank rows skipped).

    Raises
    ------
    Rejected
        ``empty`` (no header, or no data row), ``encoding``, ``bad_workbook``, ``missing_header``
        or ``wrong_header``.
    """
    form, rows = file_rows(data)
    first = next(rows, None)
    if first is None:
        raise Rejected("empty", "the file has no line with text")
    header = read_header(first[1])
    parsed = [data_row(header.fields, line, cells, pad=form == "xlsx") for line, cells in rows]
    if not parsed:
        raise Rejected("empty", f"a {header.kind} header and no data rows")
    return ParsedFile(form, header, parsed)


# -- landing -----------------------------------------------------------------------------------------


def is_store_sales_csv(scan: TextScan) -> bool:
    """True when a scanned text drop's first line names Rossmann's sales or store columns."""
    return is_store_sales_header(scanned_header(scan))


def is_store_sales_workbook(data: bytes) -> bool:
    """True when a workbook's first row names Rossmann's columns (only that row is read)."""
    try:
        first = next(xlsx_rows(data), None)
    except Rejected:
        return False
    return first is not None and is_store_sales_header(first[1])


def check_csv_drop(scan: TextScan) -> Kind:
    """The kind of a Rossmann CSV drop, from the landing's scan (its first lines), or why it is refused.

    Raises
    ------
    Rejected
        The text checks of every CSV drop (``empty``, ``binary``, ``line_too_long``,
        ``encoding``), then :func:`read_header`'s, then ``empty`` when no data row follows.
    """
    _encoding, lines = checked_lines(scan)
    header = read_header(next(csv.reader([lines[0].rstrip("\r\n")])))
    if len(lines) < 2:
        raise Rejected("empty", f"a {header.kind} header and no data rows")
    return header.kind


def check_xlsx_drop(data: bytes) -> Kind:
    """The kind of a Rossmann XLSX drop (its first sheet's header and one data row), or why it is refused.

    Raises
    ------
    Rejected
        ``bad_workbook``, ``empty``, ``missing_header`` or ``wrong_header``.
    """
    rows = xlsx_rows(data)
    first = next(rows, None)
    if first is None:
        raise Rejected("empty", "the workbook's first sheet has no row with a value")
    header = read_header(first[1])
    if next(rows, None) is None:
        raise Rejected("empty", f"a {header.kind} header and no data rows")
    return header.kind


def raw_key(kind: Kind, landed_at: dt.datetime, name: str, digest: str, form: Format) -> str:
    """``raw/store_sales/<kind>/year=/month=/day=/<stem>.<digest>.<form>`` for the UTC landing date."""
    return date_partition_key(
        join_key(RAW_PREFIX, kind), as_utc(landed_at).date(), keyed_name(name, digest, form)
    )


def rejected_key(landed_at: dt.datetime, name: str, digest: str, form: Format) -> str:
    """``rejected/store_sales/year=/month=/day=/<stem>.<digest>.<form>`` for the UTC landing date."""
    return date_partition_key(REJECTED_PREFIX, as_utc(landed_at).date(), keyed_name(name, digest, form))
