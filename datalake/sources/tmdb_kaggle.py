"""The Kaggle TMDB 5000 files: check each is one, and land it unchanged in the raw zone.

The dataset is two files: the movies (``tmdb_5000_movies.csv``) and their credits
(``tmdb_5000_credits.csv``: ``movie_id, title, cast, crew``), told apart by their headers.
``datalake ingest tmdb-csv FILE...`` lands each, byte for byte, at
``raw/tmdb/kaggle/year=YYYY/month=MM/day=DD/<file name>`` (the landing day, UTC: a drop);
``datalake transform tmdb`` then builds the movie tables from them with ``source = kaggle``
(``datalake.pipelines.tmdb``); the credits fill ``movie_people``. No Spark here: only the
header is read, with Python's csv module.
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
#: Columns of the Kaggle credits file (``title`` is there too; the movies file's is the one used).
KAGGLE_CREDITS_COLUMNS = ("movie_id", "cast", "crew")
#: What :func:`kaggle_file_kind` calls each of the two files.
MOVIES_FILE, CREDITS_FILE = "movies", "credits"
#: The header is read from the first bytes only (a 20-column header is well under this).
_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True)
class LandedFile:
    """One landed Kaggle file: where it came from, its raw key, its size and which file it is."""

    path: str
    key: str
    size_bytes: int
    kind: str = MOVIES_FILE


def kaggle_file_kind(columns: list[str] | tuple[str, ...]) -> str | None:
    """``movies``, ``credits`` or None: which Kaggle TMDB 5000 file a header (its column names) is."""
    present = {c.strip() for c in columns}
    if set(KAGGLE_CREDITS_COLUMNS) <= present and "id" not in present:
        return CREDITS_FILE
    if set(KAGGLE_COLUMNS) <= present:
        return MOVIES_FILE
    return None


def check_kaggle_header(header_text: str, where: str) -> list[str]:
    """The column names of a Kaggle TMDB 5000 file's first line (movies or credits); refuses any other.

    Parameters
    ----------
    header_text
        The start of the file (at least its first line), decoded.
    where
        The file's name, for the error.

    Raises
    ------
    DataValidationError
        Naming the first column the header lacks of the file it looks more like (the credits
        file when it has a ``cast`` or ``crew`` column and no ``id``, else the movies file).
    """
    first = next(csv.reader(io.StringIO(header_text.lstrip("\ufeff"))), [])
    columns = [c.strip() for c in first]
    if kaggle_file_kind(columns) is not None:
        return columns
    # The column named is the first one missing from the file it looks more like.
    looks_like_credits = bool({"cast", "crew"} & set(columns)) and "id" not in columns
    expected = KAGGLE_CREDITS_COLUMNS if looks_like_credits else KAGGLE_COLUMNS
    missing = [c for c in expected if c not in columns]
    raise DataValidationError(
        missing[0],
        f"{where} is not a Kaggle TMDB 5000 file: its header has no {missing[0]!r} column "
        f"(the {CREDITS_FILE if looks_like_credits else MOVIES_FILE} file has {', '.join(expected)})",
    )


def kaggle_key(file_name: str, landed_on: dt.date) -> str:
    """``raw/tmdb/kaggle/year=/month=/day=/<file name>`` (odd characters of the name made safe)."""
    return date_partition_key(KAGGLE_PREFIX, landed_on, safe_name(file_name))


def land_kaggle_file(
    store: ObjectStore, path: str | os.PathLike[str], landed_at: dt.datetime | None = None
) -> LandedFile:
    """Check ``path`` is a Kaggle TMDB 5000 CSV (movies or credits) and land it unchanged in raw.

    Parameters
    ----------
    store
        The lake's object store.
    path
        The CSV file (``tmdb_5000_movies.csv`` or ``tmdb_5000_credits.csv``, told by its header).
    landed_at
        The landing moment (its UTC day names the partition); now when None.

    Returns
    -------
    LandedFile
        The raw key, the bytes landed and the file's kind (``movies`` or ``credits``). Landing
        the same file on the same day writes the same key.

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
    columns = check_kaggle_header(head.decode("utf-8", errors="replace"), source.name)
    landed_at = landed_at or dt.datetime.now(dt.UTC)
    key = kaggle_key(source.name, landed_at.astimezone(dt.UTC).date())
    with source.open("rb") as handle:
        store.put_stream(key, handle, content_type="text/csv")
    return LandedFile(str(source), key, source.stat().st_size, kaggle_file_kind(columns) or MOVIES_FILE)
