"""The Kaggle TMDB 5000 movies file: check it is one, and land it unchanged in the raw zone.

``datalake ingest tmdb-csv FILE`` lands the file, byte for byte, at
``raw/tmdb/kaggle/year=YYYY/month=MM/day=DD/<file name>`` (the landing day, UTC: a drop);
``datalake transform tmdb`` then builds the movie tables from it with ``source = kaggle``
(``datalake.pipelines.tmdb``). No Spark here: only the header is read, with Python's csv module.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass
from pathlib import Path

from datalake.errors import DataValidationError
from datalake.sources.drop_names import name_problem, safe_name
from datalake.storage.base import ObjectStore
from datalake.storage.paths import date_partition_key, join_key

#: The source's raw folder and the Kaggle file's sub-folder in it.
RAW_PREFIX = "raw/tmdb"
KAGGLE_PREFIX = join_key(RAW_PREFIX, "kaggle")
#: Columns the movie tables read from the file (it has 20; homepage, tagline, ... are not used).
KAGGLE_COLUMNS = (
    "id",
    "title",
    "original_title",
    "original_language",
    "release_date",
    "runtime",
    "budget",
    "revenue",
    "popularity",
    "vote_average",
    "vote_count",
    "status",
    "overview",
    "genres",
    "keywords",
    "production_companies",
)
#: The header is read from the first bytes only (a 20-column header is well under this).
_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True)
class LandedFile:
    """One landed Kaggle file: where it came from, its raw key and its size."""

    path: str
    key: str
    size_bytes: int


def check_kaggle_header(header_text: str, where: str) -> list[str]:
    """The column names of a Kaggle TMDB 5000 file's first line; refuses any other file.

    Parameters
    ----------
    header_text
        The start of the file (at least its first line), decoded.
    where
        The file's name, for the error.

    Raises
    ------
    DataValidationError
        Naming the first column the movie tables need that the header lacks.
    """
    first = next(csv.reader(io.StringIO(header_text.lstrip("\ufeff"))), [])
    columns = [c.strip() for c in first]
    missing = [c for c in KAGGLE_COLUMNS if c not in columns]
    if missing:
        raise DataValidationError(
            missing[0],
            f"{where} is not the Kaggle TMDB 5000 movies file: its header has no {missing[0]!r} column "
            f"(expected {', '.join(KAGGLE_COLUMNS)})",
        )
    return columns


def kaggle_key(file_name: str, landed_on: dt.date) -> str:
    """``raw/tmdb/kaggle/year=/month=/day=/<file name>`` (odd characters of the name made safe)."""
    return date_partition_key(KAGGLE_PREFIX, landed_on, safe_name(file_name))


def land_kaggle_file(
    store: ObjectStore, path: str | os.PathLike[str], landed_at: dt.datetime | None = None
) -> LandedFile:
    """Check ``path`` is the Kaggle TMDB 5000 movies CSV and land it unchanged in raw.

    Parameters
    ----------
    store
        The lake's object store.
    path
        The CSV file (``tmdb_5000_movies.csv``).
    landed_at
        The landing moment (its UTC day names the partition); now when None.

    Returns
    -------
    LandedFile
        The raw key and the bytes landed. Landing the same file on the same day writes the same key.

    Raises
    ------
    DataValidationError
        When the file is not a ``.csv``, its name cannot land, or its header lacks a column.
    """
    source = Path(path)
    problem = name_problem(source.name)
    if problem or source.suffix.lower() != ".csv":
        raise DataValidationError("file", f"{source.name}: {problem or 'not a .csv file'}")
    with source.open("rb") as handle:
        head = handle.read(_HEADER_BYTES)
    check_kaggle_header(head.decode("utf-8", errors="replace"), source.name)
    landed_at = landed_at or dt.datetime.now(dt.UTC)
    key = kaggle_key(source.name, landed_at.astimezone(dt.UTC).date())
    with source.open("rb") as handle:
        store.put_stream(key, handle, content_type="text/csv")
    return LandedFile(str(source), key, source.stat().st_size)
