"""Our World in Data's energy files: recognise and read one by its header, land it, or fetch it.

Two kinds of file (:data:`ENERGY`, :data:`CODEBOOK`) arrive as drops in the landing zone, as CSV
or XLSX, like the energy company's extracts, or are fetched from OWID's published URLs
(:func:`fetch_owid`, which drops them in the landing zone). The landing
(``datalake.sources.energy_landing``) hands every drop that opens like a workbook, or whose
header names OWID's columns, to :func:`check_csv_drop` or :func:`check_xlsx_drop`, and copies it
unchanged to ``raw/owid/<kind>/year=/month=/day=/<stem>.<digest>.<csv|xlsx>`` (the landing day,
UTC: a drop), or rejects it with a reason under ``rejected/owid/``.

Files are read by header name (:func:`read_header`): columns in any order, a UTF-8 BOM
tolerated, the 2020 column set and the current one both accepted, a renamed column taken under
its current name (:data:`~datalake.datasets.owid.RENAMED_COLUMNS`), a missing indicator left
null and an unknown column ignored (and reported). :func:`parse_file` is the one reading of a
whole file, used by the Glue job (``datalake.transforms.owid``) on the raw copy, so the landing
and the job agree on every file. No Spark here: the landing Lambda imports this module.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import httpx

from datalake.datasets.owid import BY_NAME, CODEBOOK_COLUMNS, KEY_COLUMNS, RENAMED_COLUMNS, SOURCE
from datalake.errors import SourceError
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
from datalake.storage.base import ObjectStore
from datalake.storage.paths import date_partition_key, join_key

RAW_PREFIX = join_key("raw", SOURCE)
REJECTED_PREFIX = join_key("rejected", SOURCE)
#: The two kinds of OWID file, and their folders under raw/owid/.
ENERGY, CODEBOOK = "energy", "codebook"
Kind = Literal["energy", "codebook"]
#: The energy data's identity columns, which every data file has.
REQUIRED = KEY_COLUMNS


@dataclass(frozen=True)
class Header:
    """A header read by name: each position's column (None: ignored) and what was done to it."""

    kind: Kind
    columns: tuple[str | None, ...]
    #: ``(old name, current name)`` of each renamed column.
    renamed: tuple[tuple[str, str], ...] = ()
    #: Columns the lake does not read (a newer OWID column, a typo): ignored, and reported.
    unknown: tuple[str, ...] = ()
    #: Indicators of the lake's schema the file lacks (another vintage): null.
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedFile:
    """A whole file: its format, header and data rows ``(line, cells by header name, raw record)``.

    A row whose cell count differs from the header's has ``problem`` set and no cells.
    """

    format: Format
    header: Header
    rows: list[ParsedRow] = field(default_factory=list)


def read_header(cells: list[str | None]) -> Header:
    """Which OWID file a header is, and the column at each position.

    Raises
    ------
    Rejected
        ``missing_header`` when it names neither the data file's identity columns nor the
        codebook's; ``wrong_header`` when it names a column twice (a renamed column and its
        current name count as one).
    """
    names = [header_cell(cell or "") for cell in cells]
    current = [RENAMED_COLUMNS.get(name, name) for name in names]
    repeated = sorted({name for name in current if name and current.count(name) > 1})
    if set(CODEBOOK_COLUMNS) <= set(names):
        kind: Kind = CODEBOOK
        known = set(CODEBOOK_COLUMNS)
    elif set(REQUIRED) <= set(current):
        kind = ENERGY
        known = set(REQUIRED) | set(BY_NAME)
    else:
        raise Rejected(
            "missing_header",
            f"the header names neither OWID's energy data ({', '.join(REQUIRED)} and indicators) "
            f"nor its codebook ({', '.join(CODEBOOK_COLUMNS)}): {', '.join(names[:8])}"
            + (", ..." if len(names) > 8 else ""),
        )
    if repeated:
        raise Rejected("wrong_header", f"column(s) named twice: {', '.join(repeated)}")
    columns = tuple(name if name in known else None for name in current)
    renamed = tuple((old, RENAMED_COLUMNS[old]) for old in names if old in RENAMED_COLUMNS)
    unknown = tuple(name for name, column in zip(names, columns, strict=True) if column is None)
    missing = tuple(name for name in BY_NAME if name not in current) if kind == ENERGY else ()
    return Header(kind, columns, renamed, unknown, missing)


def parse_file(data: bytes) -> ParsedFile:
    """Read a whole OWID file (CSV or XLSX, told by its first bytes) by its header.

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
    parsed = [data_row(header.columns, line, cells, pad=form == "xlsx") for line, cells in rows]
    if not parsed:
        raise Rejected("empty", f"an OWID {header.kind} header and no data rows")
    return ParsedFile(form, header, parsed)


# -- landing -----------------------------------------------------------------------------------------


def is_owid_csv(scan: TextScan) -> bool:
    """True when a scanned text drop's header names OWID's columns (its data file's, or its codebook's).

    Workbooks are OWID's whatever their header (:func:`~datalake.sources.xlsx.is_workbook`): the
    energy company drops CSV only.
    """
    names = {RENAMED_COLUMNS.get(header_cell(cell), header_cell(cell)) for cell in scanned_header(scan)}
    return set(REQUIRED) <= names or set(CODEBOOK_COLUMNS) <= names


def check_csv_drop(scan: TextScan) -> Kind:
    """The kind of an OWID CSV drop, from the landing's scan (its first lines), or why it is refused.

    Raises
    ------
    Rejected
        The text checks of every CSV drop (``empty``, ``binary``, ``line_too_long``,
        ``encoding``), then :func:`read_header`'s, then ``empty`` when no data row follows.
    """
    encoding, lines = checked_lines(scan)
    header = read_header(next(csv.reader([lines[0].rstrip("\r\n")])))
    if len(lines) < 2:
        raise Rejected("empty", f"an OWID {header.kind} header and no data rows ({encoding})")
    return header.kind


def check_xlsx_drop(data: bytes) -> Kind:
    """The kind of an OWID XLSX drop (its first sheet's header and one data row), or why it is refused.

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
        raise Rejected("empty", f"an OWID {header.kind} header and no data rows")
    return header.kind


def raw_key(kind: Kind, landed_at: dt.datetime, name: str, digest: str, form: Format) -> str:
    """``raw/owid/<kind>/year=/month=/day=/<stem>.<digest>.<form>`` for the UTC landing date."""
    return date_partition_key(
        join_key(RAW_PREFIX, kind), as_utc(landed_at).date(), keyed_name(name, digest, form)
    )


def rejected_key(landed_at: dt.datetime, name: str, digest: str, form: Format) -> str:
    """``rejected/owid/year=/month=/day=/<stem>.<digest>.<form>`` for the UTC landing date."""
    return date_partition_key(REJECTED_PREFIX, as_utc(landed_at).date(), keyed_name(name, digest, form))


# -- fetching the published files ---------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """One published file fetched: its URL, the landing key it was dropped at, its size."""

    url: str
    landing_key: str
    size_bytes: int


#: Statuses worth another try (the server or a proxy is busy), as the other clients treat them.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def fetch_owid(
    landing: ObjectStore,
    urls: list[str],
    *,
    client: httpx.Client,
    max_bytes: int,
    attempts: int = 3,
    backoff_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Fetched]:
    """Download OWID's published files and drop each in the landing zone as ``owid/<file name>``.

    The landing then checks and lands them like any drop (the S3 event on AWS, the caller
    locally), so a fetched file and a dropped one take the same path to raw.

    Parameters
    ----------
    landing
        The landing zone's store.
    urls
        The files to fetch (``OWID_ENERGY_URL``, ``OWID_CODEBOOK_URL``).
    client
        The HTTP client (its timeout applies to each request).
    max_bytes
        The largest file taken (``LANDING_MAX_BYTES``); a larger one fails the fetch.
    attempts, backoff_s, sleep
        Tries per URL on a transport error or a 429/5xx, and the pause before each retry
        (doubling).

    Returns
    -------
    list of Fetched
        One per URL, in order.

    Raises
    ------
    SourceError
        Naming the URL and the cause (unreachable, an HTTP status, too large) after the retries.
    """
    fetched = []
    for url in urls:
        data = _download(client, url, max_bytes, attempts, backoff_s, sleep)
        name = url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or "owid-download"
        key = join_key("owid", name)
        landing.put_bytes(key, data)
        fetched.append(Fetched(url, key, len(data)))
    return fetched


def _download(
    client: httpx.Client,
    url: str,
    max_bytes: int,
    attempts: int,
    backoff_s: float,
    sleep: Callable[[float], None],
) -> bytes:
    problem, status = "", None
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            sleep(backoff_s * 2 ** (attempt - 2))
        try:
            with client.stream("GET", url) as response:
                status = response.status_code
                if status in RETRY_STATUSES:
                    problem = f"HTTP {status}"
                    continue
                if status != 200:
                    raise SourceError(f"GET {url}: HTTP {status} (not retried)", url=url, status=status)
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise SourceError(
                            f"GET {url}: over {max_bytes:,} bytes (LANDING_MAX_BYTES); not taken",
                            url=url,
                            status=status,
                        )
                return bytes(body)
        except httpx.TransportError as error:
            problem, status = f"unreachable ({type(error).__name__}: {error})", None
    raise SourceError(
        f"GET {url}: {problem} after {attempts} attempt(s)",
        url=url,
        status=status,
        retryable=True,
        attempts=attempts,
    )
