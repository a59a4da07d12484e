"""The processed movie tables as pandas frames: from the lake (through the catalog) or a Kaggle CSV.

Both sources give the same :class:`MovieTables`, with the processed tables' columns (see the
``movies`` dataset specs): ``movies`` plus the four bridges. The Kaggle movies file has no
credits: its ``people`` bridge comes from the Kaggle credits file (``tmdb_5000_credits.csv``)
when one is given or lies beside it, and is empty otherwise. It has no collection, so
``collection_id`` is null.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from datalake.errors import DataValidationError, UnknownDatasetError
from datalake.sources.tmdb_kaggle import CREDITS_FILE, KAGGLE_CREDITS_COLUMNS, kaggle_file_kind

logger = logging.getLogger(__name__)

MOVIE_COLUMNS = (
    "movie_id",
    "title",
    "original_title",
    "original_language",
    "release_date",
    "release_year",
    "runtime_min",
    "budget_usd",
    "revenue_usd",
    "popularity",
    "vote_average",
    "vote_count",
    "status",
    "collection_id",
    "overview",
    "source",
    "extracted_at",
)
BRIDGE_COLUMNS = {
    "genres": ("movie_id", "genre_id", "genre_name"),
    "keywords": ("movie_id", "keyword_id", "keyword_name"),
    "companies": ("movie_id", "company_id", "company_name"),
    "people": ("movie_id", "person_id", "person_name", "role", "cast_order"),
}
#: Processed table of each frame.
TABLE_NAMES = {
    "movies": "movies",
    "genres": "movie_genres",
    "keywords": "movie_keywords",
    "companies": "movie_companies",
    "people": "movie_people",
}


@dataclass(frozen=True)
class MovieTables:
    """The movies table and its bridges (director and top cast in ``people``)."""

    movies: pd.DataFrame
    genres: pd.DataFrame
    keywords: pd.DataFrame
    companies: pd.DataFrame
    people: pd.DataFrame

    def subset(self, movie_ids: pd.Series | np.ndarray | list[int]) -> MovieTables:
        """Only the given movies, in every frame."""
        wanted = set(int(m) for m in movie_ids)
        return MovieTables(
            **{name: frame[frame["movie_id"].isin(wanted)] for name, frame in self.frames().items()}
        )

    def frames(self) -> dict[str, pd.DataFrame]:
        return {
            "movies": self.movies,
            "genres": self.genres,
            "keywords": self.keywords,
            "companies": self.companies,
            "people": self.people,
        }


def normalise(tables: Mapping[str, pd.DataFrame]) -> MovieTables:
    """Typed frames with exactly the contract's columns; a missing column is an error naming it.

    Dates become ``datetime64`` (day precision), budgets and revenues of 0 become NaN (unknown,
    as the processed tables store them), and ids become ``int64``.
    """
    movies = _columns(tables["movies"], MOVIE_COLUMNS, "movies")
    movies["movie_id"] = movies["movie_id"].astype("int64")
    movies["release_date"] = pd.to_datetime(movies["release_date"], errors="coerce").dt.normalize()
    if movies["release_date"].dt.tz is not None:
        movies["release_date"] = movies["release_date"].dt.tz_localize(None)
    for column in ("runtime_min", "budget_usd", "revenue_usd", "popularity", "vote_average", "vote_count"):
        movies[column] = pd.to_numeric(movies[column], errors="coerce").astype("float64")
    for column in ("budget_usd", "revenue_usd"):
        movies.loc[movies[column] <= 0, column] = np.nan
    movies["release_year"] = movies["release_date"].dt.year.astype("Int64")
    movies = movies.drop_duplicates("movie_id", keep="last").reset_index(drop=True)
    bridges = {}
    for name, columns in BRIDGE_COLUMNS.items():
        frame = _columns(tables.get(name, pd.DataFrame(columns=list(columns))), columns, TABLE_NAMES[name])
        frame["movie_id"] = frame["movie_id"].astype("int64")
        bridges[name] = frame.drop_duplicates().reset_index(drop=True)
    return MovieTables(movies=movies, **bridges)


def _columns(frame: pd.DataFrame, columns: tuple[str, ...], table: str) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{table}.{missing[0]}", f"missing column (has: {', '.join(frame.columns)})"
        )
    return frame[list(columns)].copy()


def _json_list(text: object, field: str, row: int) -> list[dict]:
    if not isinstance(text, str) or not text.strip():
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataValidationError(f"{field}[row {row}]", f"not a JSON list: {error}") from None
    return value if isinstance(value, list) else []


#: The Kaggle credits file's name: read from beside the movies file when no credits file is named.
KAGGLE_CREDITS_NAME = "tmdb_5000_credits.csv"


def kaggle_credits_path(movies: Path | str, credits: Path | str | None = None) -> Path | None:
    """The credits file to read with the Kaggle movies file ``movies``, or None.

    ``credits`` when given (it must exist); otherwise :data:`KAGGLE_CREDITS_NAME` beside
    ``movies`` when that file is there.
    """
    if credits is not None:
        path = Path(credits)
        if not path.is_file():
            raise DataValidationError("credits", f"no credits file at {path}")
        return path
    sibling = Path(movies).with_name(KAGGLE_CREDITS_NAME)
    return sibling if sibling.is_file() else None


def is_kaggle_credits(path: Path | str) -> bool:
    """Whether a CSV's header is the Kaggle credits file's (``movie_id``, ``cast``, ``crew``)."""
    with Path(path).open(encoding="utf-8", errors="replace", newline="") as handle:
        header = next(csv.reader([handle.readline().lstrip("\ufeff")]), [])
    return kaggle_file_kind(header) == CREDITS_FILE


def read_kaggle_credits(path: Path | str, movie_ids: pd.Series | None = None) -> pd.DataFrame:
    """The Kaggle credits file as ``people`` bridge rows, by the API path's rules.

    Each movie's directors (crew whose job is ``Director``) and its first
    :data:`~datalake.sources.tmdb_raw.DEFAULT_TOP_CAST` cast members by ``order`` are kept,
    trimmed by the same function as the API extracts (:func:`~datalake.sources.tmdb_raw.trim_credits`);
    a person credited twice in one role keeps the higher billing, as ``movie_people`` does.

    Parameters
    ----------
    path
        A CSV with the columns ``movie_id``, ``cast`` and ``crew`` (JSON-in-text lists).
    movie_ids
        The films to keep; credits of any other film are left out (and counted in a log line).

    Returns
    -------
    pandas.DataFrame
        ``movie_id``, ``person_id``, ``person_name``, ``role`` (``director``/``cast``), ``cast_order``.

    Raises
    ------
    DataValidationError
        When a column is missing, or a ``cast``/``crew`` cell is not a JSON list of people with an
        ``id``: the field names the column and row, the message the file.
    """
    # Imported here: the serving container reads tables without the TMDB client's dependencies.
    from datalake.sources.tmdb_raw import DEFAULT_TOP_CAST, trim_credits

    path = Path(path)
    raw = pd.read_csv(path, dtype={"cast": "string", "crew": "string"}, keep_default_na=False)
    missing = [c for c in KAGGLE_CREDITS_COLUMNS if c not in raw.columns]
    if missing:
        raise DataValidationError(
            missing[0], f"{path.name} is not a Kaggle TMDB credits file: no {missing[0]!r} column"
        )
    ids = pd.to_numeric(raw["movie_id"], errors="coerce")
    if ids.isna().any():
        row = int(ids.isna().to_numpy().argmax())
        raise DataValidationError(
            f"movie_id[row {row}]", f"{path.name}: not a movie id {raw['movie_id'].iloc[row]!r}"
        )
    if movie_ids is not None:
        known = ids.isin(set(int(m) for m in movie_ids))
        if not known.all():
            logger.info(
                "%s: credits of %d film(s) not in the movies file left out", path.name, int((~known).sum())
            )
    else:
        known = pd.Series(True, index=raw.index)
    rows: list[tuple[int, object, object, str, object]] = []
    for row in np.flatnonzero(known.to_numpy()):
        movie_id = int(ids.iloc[row])
        people = {
            field: _people_list(raw[field].iloc[row], field, int(row), path.name)
            for field in ("cast", "crew")
        }
        trimmed = trim_credits({"credits": people}, DEFAULT_TOP_CAST)["credits"]
        rows.extend((movie_id, p["id"], p.get("name"), "director", None) for p in trimmed["crew"])
        rows.extend((movie_id, p["id"], p.get("name"), "cast", p.get("order")) for p in trimmed["cast"])
    people = pd.DataFrame(rows, columns=list(BRIDGE_COLUMNS["people"]))
    people["cast_order"] = pd.to_numeric(people["cast_order"], errors="coerce").astype("Int64")
    # One row per (film, role, person), the higher billing first (people_rows in the transform).
    people = people.sort_values(
        ["movie_id", "role", "person_id", "cast_order", "person_name"], kind="mergesort"
    )
    return people.drop_duplicates(["movie_id", "role", "person_id"]).reset_index(drop=True)


def _people_list(text: object, field: str, row: int, file_name: str) -> list[dict]:
    """One ``cast``/``crew`` cell: a JSON list of objects each with an ``id`` (an empty cell is none)."""
    if pd.isna(text) or not str(text).strip():
        return []
    where = f"{field}[row {row}]"
    try:
        value = json.loads(str(text))
    except json.JSONDecodeError as error:
        raise DataValidationError(where, f"{file_name}: not a JSON list: {error}") from None
    if not isinstance(value, list):
        raise DataValidationError(where, f"{file_name}: not a JSON list (a {type(value).__name__})")
    for n, person in enumerate(value):
        if not isinstance(person, dict) or person.get("id") is None:
            raise DataValidationError(f"{where}[{n}]", f"{file_name}: a person needs an 'id'")
    return value


def read_kaggle_csv(path: Path | str, credits: Path | str | None = None) -> MovieTables:
    """The Kaggle "TMDB 5000" movies file (and its credits file) as processed-table frames.

    Parameters
    ----------
    path
        A CSV with the Kaggle columns (``id``, ``budget``, ``genres`` as JSON text, ...).
    credits
        The Kaggle credits CSV (``movie_id``, ``cast``, ``crew``). When None, a
        ``tmdb_5000_credits.csv`` beside ``path`` is read if there is one
        (:func:`kaggle_credits_path` says which file that is).

    Returns
    -------
    MovieTables
        ``source="kaggle"``; ``people`` holds each film's directors and top-billed cast from the
        credits file (:func:`read_kaggle_credits`), and is empty without one; ``collection_id``
        is null.
    """
    raw = pd.read_csv(path)
    required = ("id", "title", "budget", "revenue", "release_date", "genres", "runtime", "vote_average")
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise DataValidationError(missing[0], f"not a Kaggle TMDB movies file: no {missing[0]!r} column")
    movies = pd.DataFrame(
        {
            "movie_id": raw["id"],
            "title": raw["title"],
            "original_title": raw.get("original_title", raw["title"]),
            "original_language": raw.get("original_language"),
            "release_date": raw["release_date"],
            "release_year": None,
            "runtime_min": raw["runtime"],
            "budget_usd": raw["budget"],
            "revenue_usd": raw["revenue"],
            "popularity": raw.get("popularity"),
            "vote_average": raw["vote_average"],
            "vote_count": raw.get("vote_count"),
            "status": raw.get("status"),
            "collection_id": None,
            "overview": raw.get("overview"),
            "source": "kaggle",
            "extracted_at": None,
        }
    )
    bridges: dict[str, pd.DataFrame] = {}
    for name, column in (
        ("genres", "genres"),
        ("keywords", "keywords"),
        ("companies", "production_companies"),
    ):
        _, id_column, name_column = BRIDGE_COLUMNS[name]
        rows = []
        if column in raw.columns:
            for row, (movie_id, text) in enumerate(zip(raw["id"], raw[column], strict=True)):
                rows.extend(
                    (movie_id, item.get("id"), item.get("name"))
                    for item in _json_list(text, column, row)
                    if isinstance(item, dict)
                )
        bridges[name] = pd.DataFrame(rows, columns=["movie_id", id_column, name_column])
    credits_path = kaggle_credits_path(path, credits)
    if credits_path is not None:
        bridges["people"] = read_kaggle_credits(credits_path, raw["id"])
    return normalise({"movies": movies, **bridges})


def people_summary(tables: MovieTables) -> str:
    """One line: how many films have a director and how many a credited cast (the people features' reach)."""
    films = len(tables.movies)
    with_role = {
        role: tables.people.loc[tables.people["role"] == role, "movie_id"].nunique()
        for role in ("director", "cast")
    }
    if not with_role["director"] and not with_role["cast"]:
        return f"credits: none (0 of {films:,} films have a director or cast; no people track records)"
    return (
        f"credits: {with_role['director']:,} of {films:,} films have a director, "
        f"{with_role['cast']:,} a credited cast"
    )


def read_lake_tables(
    store: object = None,
    catalog: object = None,
    settings: object = None,
    specs: Mapping[str, object] | None = None,
    source: str | None = None,
) -> MovieTables:
    """The lake's current movie tables, read where the catalog points (never by listing folders).

    The tables hold each source's movies apart (``source`` is part of their keys: the Kaggle
    snapshot, the SAMPLE TMDB and the API never mix), so one source is read: ``source``, or the
    first present of :data:`SOURCE_PREFERENCE`.

    Parameters
    ----------
    store, catalog, settings
        The processed zone's object store, its catalog and the lake settings; the configured
        runtime's when omitted.
    specs
        Dataset spec per processed table name (``movies``, ``movie_genres``, ...); the dataset
        registry's when omitted.
    source
        ``tmdb``, ``kaggle`` or ``sample``; the first present of :data:`SOURCE_PREFERENCE` when None.

    Returns
    -------
    MovieTables
        Every current row of the five tables.
    """
    from datalake import runtime
    from datalake.catalog.processed import catalog_for, read_current
    from datalake.datasets import DATASETS
    from datalake.settings import get_settings

    settings = settings or get_settings()
    store = store or runtime.object_store("lake", settings)
    catalog = catalog or catalog_for(store, settings)  # type: ignore[arg-type]
    specs = specs or DATASETS
    frames = {}
    for name, table in TABLE_NAMES.items():
        spec = specs.get(table)
        if spec is None:
            raise UnknownDatasetError(
                f"no dataset spec {table!r}: the movies tables are not declared in this build",
                hint="the tmdb source declares them (datalake/datasets/movies.py)",
            )
        frames[name] = read_current(store, catalog, spec, settings)  # type: ignore[arg-type]
    if frames["movies"].empty:
        raise DataValidationError(
            "movies", "the processed movies table has no rows: run `datalake transform tmdb` first"
        )
    return normalise(one_source(frames, source))


#: The source the lake's tables are trained on when none is named: the live API, then the Kaggle
#: snapshot, then the SAMPLE TMDB.
SOURCE_PREFERENCE = ("tmdb", "kaggle", "sample")


def one_source(frames: Mapping[str, pd.DataFrame], source: str | None = None) -> dict[str, pd.DataFrame]:
    """The rows of one source in every frame (frames without a ``source`` column are kept whole)."""
    movies = frames["movies"]
    if "source" not in movies.columns:
        return dict(frames)
    present = set(movies["source"].dropna())
    if source is None:
        source = next((s for s in SOURCE_PREFERENCE if s in present), None) or min(present)
    elif source not in present:
        raise DataValidationError(
            "source", f"no movies of source {source!r} in the lake (it has: {', '.join(sorted(present))})"
        )
    return {
        name: frame[frame["source"] == source] if "source" in frame.columns else frame
        for name, frame in frames.items()
    }
