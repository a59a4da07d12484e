"""Friendly film descriptions in, success probabilities and their main factors out.

Shared by the API (in-process) and the SageMaker handler (``sagemaker/inference_movie_success.py``).
A film is a dict: ``title``, ``budget_usd``, ``runtime_min``, ``genres`` (English or Spanish
names), ``original_language``, ``release_date`` and optionally ``keywords``,
``production_companies``, ``director`` and ``cast``. Validation errors name the field.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from datalake.errors import DataValidationError, ObjectNotFoundError
from datalake.movies import MODEL_NAME
from datalake.movies.genres import GENRES, genre_name, known_genres
from datalake.movies.tables import normalise

if TYPE_CHECKING:
    from datalake.movies.model import MovieSuccessModel
    from datalake.settings import Settings

#: Films one request may carry.
MAX_FILMS = 1000
_GENRE_IDS = {english: genre_id for genre_id, (english, _) in GENRES.items()}


def canonical_genres(names: list[str], field: str = "genres") -> list[str]:
    """English TMDB genre names for ``names``; an unknown one is an error listing the known ones."""
    out = []
    for position, name in enumerate(names):
        english = genre_name(name) if isinstance(name, str) else None
        if english is None:
            raise DataValidationError(
                f"{field}[{position}]", f"unknown genre {name!r}; known: {', '.join(known_genres())}"
            )
        if english not in out:
            out.append(english)
    return out


def films_to_tables(films: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    """Processed-table frames for request films (ids -1, -2, ...: never a TMDB id)."""
    movies, genres, keywords, companies, people = [], [], [], [], []
    for position, film in enumerate(films):
        movie_id = -(position + 1)
        release = film["release_date"]
        movies.append(
            {
                "movie_id": movie_id,
                "title": film["title"],
                "original_title": film["title"],
                "original_language": film.get("original_language"),
                "release_date": pd.Timestamp(release),
                "release_year": release.year,
                "runtime_min": film.get("runtime_min"),
                "budget_usd": film.get("budget_usd"),
                # Post-release columns are unknown for a film being predicted.
                "revenue_usd": None,
                "popularity": None,
                "vote_average": None,
                "vote_count": None,
                "status": "Planned",
                "collection_id": None,
                "overview": None,
                "source": "request",
                "extracted_at": None,
            }
        )
        genres += [
            {"movie_id": movie_id, "genre_id": _GENRE_IDS[name], "genre_name": name}
            for name in canonical_genres(film.get("genres") or [], f"films[{position}].genres")
        ]
        keywords += [
            {"movie_id": movie_id, "keyword_id": None, "keyword_name": k} for k in film.get("keywords") or []
        ]
        companies += [
            {"movie_id": movie_id, "company_id": None, "company_name": c}
            for c in film.get("production_companies") or []
        ]
        if film.get("director"):
            people.append(
                {
                    "movie_id": movie_id,
                    "person_id": None,
                    "person_name": film["director"],
                    "role": "director",
                    "cast_order": None,
                }
            )
        people += [
            {
                "movie_id": movie_id,
                "person_id": None,
                "person_name": name,
                "role": "cast",
                "cast_order": order,
            }
            for order, name in enumerate(film.get("cast") or [])
        ]
    frames = {
        "movies": pd.DataFrame(movies),
        "genres": pd.DataFrame(genres, columns=["movie_id", "genre_id", "genre_name"]),
        "keywords": pd.DataFrame(keywords, columns=["movie_id", "keyword_id", "keyword_name"]),
        "companies": pd.DataFrame(companies, columns=["movie_id", "company_id", "company_name"]),
        "people": pd.DataFrame(
            people, columns=["movie_id", "person_id", "person_name", "role", "cast_order"]
        ),
    }
    return normalise(frames)


def predict_films(model: MovieSuccessModel, films: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One answer per film: probability, verdict, threshold, version and the top factors.

    Parameters
    ----------
    model
        The served model.
    films
        Validated films (``release_date`` a :class:`datetime.date`).

    Returns
    -------
    list[dict]
        ``title``, ``release_date``, ``success_probability``, ``success``, ``threshold``,
        ``model_version`` and ``factors`` (the groups that moved the probability most).
    """
    if not films:
        raise DataValidationError("films", "give at least one film")
    if len(films) > MAX_FILMS:
        raise DataValidationError("films", f"{len(films):,} films; at most {MAX_FILMS:,} per request")
    tables = films_to_tables(films)
    features = model.features(tables)
    probabilities = model.probabilities(features)
    factors = model.factors(features)
    answers = []
    for film, probability, pushed in zip(films, probabilities, factors, strict=True):
        value = float(probability)
        if not math.isfinite(value):
            raise DataValidationError("films", "the model gave no probability for a film")
        answers.append(
            {
                "title": film["title"],
                "release_date": film["release_date"].isoformat(),
                "success_probability": round(value, 4),
                "success": value >= model.threshold,
                "threshold": round(model.threshold, 4),
                "model_version": model.version,
                "factors": pushed,
            }
        )
    return answers


def parse_film(payload: Any, field: str = "film") -> dict[str, Any]:
    """Validate one film dict (the SageMaker handler's parser; the API validates with pydantic)."""
    if not isinstance(payload, dict):
        raise DataValidationError(field, f"expected a JSON object, got {type(payload).__name__}")
    title = payload.get("title")
    if not isinstance(title, str) or not title.strip():
        raise DataValidationError(f"{field}.title", "required, a non-empty text")
    try:
        release = dt.date.fromisoformat(str(payload.get("release_date")))
    except ValueError:
        raise DataValidationError(f"{field}.release_date", "required, YYYY-MM-DD") from None
    film = {**payload, "title": title.strip(), "release_date": release}
    for name in ("budget_usd", "runtime_min"):
        value = payload.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
        ):
            raise DataValidationError(f"{field}.{name}", f"must be a positive number, got {value!r}")
    genres = payload.get("genres")
    if not isinstance(genres, list) or not genres:
        raise DataValidationError(f"{field}.genres", "required, a non-empty list of genre names")
    film["genres"] = canonical_genres(genres, f"{field}.genres")
    return film


def load_champion(destination: Path, settings: Settings | None = None) -> MovieSuccessModel:
    """The registry's movie-success champion, copied to ``destination`` and loaded.

    Raises
    ------
    ObjectNotFoundError
        When no model has been promoted yet (the hint says how to train one).
    """
    from datalake.models import model_registry

    registry = model_registry(settings, name=MODEL_NAME)
    record = registry.champion()
    if record is None:
        raise ObjectNotFoundError(
            "no movie_success model trained yet: run `datalake train movie-success --input "
            "tmdb_5000_movies.csv` (or `--table movies`) first"
        )
    # scikit-learn is imported only to load a model: the API Lambda's layer leaves it out.
    from datalake.movies.model import MovieSuccessModel

    return MovieSuccessModel.load(registry.fetch(record["version"], Path(destination)))
