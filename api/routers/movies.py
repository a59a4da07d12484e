"""/predict: will a film be a success? One film, or a list of up to 1,000."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import Field

from api import examples
from api.deps import ClientDep, MoviesDep, RequestSourceDep
from api.movie_schemas import (
    FILM_EXAMPLE,
    PREDICTION_EXAMPLE,
    MovieIn,
    MoviePrediction,
    MoviePredictions,
    MoviesIn,
)
from datalake.movies.serving import MAX_FILMS

router = APIRouter(tags=["predict"])

FilmsBody = Annotated[
    MovieIn | MoviesIn | Annotated[list[MovieIn], Field(min_length=1, max_length=MAX_FILMS)],
    Body(
        openapi_examples={
            "one film": {"value": FILM_EXAMPLE},
            "a list": {"value": [FILM_EXAMPLE, {**FILM_EXAMPLE, "title": "Otra", "genres": ["Drama"]}]},
        }
    ),
]


def _predict(movies: MoviesDep, source: str, body: Any) -> dict[str, Any]:
    single = isinstance(body, MovieIn)
    films = [body] if single else (body.movies if isinstance(body, MoviesIn) else body)
    answers = movies.predict([film.model_dump() for film in films], request_source=source)
    return answers[0] if single else {"predictions": answers}


_DOC = dict(
    response_model=MoviePrediction | MoviePredictions,
    responses=examples.responses(
        401,
        422,
        429,
        503,
        ok={
            "content": {
                "application/json": {
                    "examples": {
                        "one film": {"value": PREDICTION_EXAMPLE},
                        "a list": {"value": {"predictions": [PREDICTION_EXAMPLE]}},
                    }
                }
            }
        },
    ),
)


@router.post("/predict", summary="Probability that a film will be a success (before release)", **_DOC)
def predict(
    movies: MoviesDep, source: RequestSourceDep, _client: ClientDep, body: FilmsBody
) -> dict[str, Any]:
    """Success = at least twice its budget in revenue and an audience rating of 6 or more.

    Send one film, ``{"movies": [...]}`` or a JSON list (up to 1,000). Genres may be English
    or Spanish ("Acción" is Action). Each answer gives ``success_probability``, ``success``
    (at the model's ``threshold``), ``model_version`` and the ``factors`` that moved the
    probability most. Every answer is logged; ``/historical-predictions?model=movie-success``
    lists them with the outcome once the lake's movies table knows it.
    """
    return _predict(movies, source, body)


@router.post("/predict/movie-success", summary="The same as POST /predict", **_DOC)
def predict_movie_success(
    movies: MoviesDep, source: RequestSourceDep, _client: ClientDep, body: FilmsBody
) -> dict[str, Any]:
    """The movie success classifier by name (``/predict`` serves it by default)."""
    return _predict(movies, source, body)
