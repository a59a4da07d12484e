"""Request and response bodies of /predict (the movie success classifier)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from datalake.errors import DataValidationError
from datalake.movies.serving import MAX_FILMS, canonical_genres

FILM_EXAMPLE = {
    "title": "Luz de invierno",
    "budget_usd": 40_000_000,
    "runtime_min": 118,
    "genres": ["Acción", "Aventura"],
    "original_language": "es",
    "release_date": "2027-07-16",
    "keywords": ["sequel", "based on novel"],
    "production_companies": ["Warner Bros."],
    "director": "Ana Ruiz",
    "cast": ["Actor Uno", "Actriz Dos"],
}

PREDICTION_EXAMPLE = {
    "title": "Luz de invierno",
    "release_date": "2027-07-16",
    "success_probability": 0.4213,
    "success": True,
    "threshold": 0.21,
    "model_version": "v20261205T072226-a689fd",
    "factors": [
        {"factor": "budget", "effect": -0.061, "direction": "against success"},
        {"factor": "keywords", "effect": 0.048, "direction": "towards success"},
        {"factor": "genres", "effect": 0.021, "direction": "towards success"},
    ],
}


class MovieIn(BaseModel):
    """A film before release: what /predict may use (never revenue, votes or popularity)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [FILM_EXAMPLE]})

    title: str = Field(min_length=1, max_length=500)
    budget_usd: float | None = Field(None, gt=0, le=2e9, description="Production budget, USD.")
    runtime_min: float | None = Field(None, gt=0, le=1000, description="Running time, minutes.")
    genres: list[str] = Field(min_length=1, max_length=20, description="TMDB genres, English or Spanish.")
    original_language: str | None = Field(None, min_length=2, max_length=3, description="ISO 639-1, e.g. en")
    release_date: dt.date = Field(description="Planned release date, YYYY-MM-DD.")
    keywords: list[str] = Field(default_factory=list, max_length=200)
    production_companies: list[str] = Field(default_factory=list, max_length=50)
    director: str | None = Field(None, max_length=200)
    cast: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("genres")
    @classmethod
    def _known_genres(cls, names: list[str]) -> list[str]:
        try:
            return canonical_genres(names)
        except DataValidationError as error:
            raise ValueError(error.reason) from None


class MoviesIn(BaseModel):
    """Several films at once (up to 1,000)."""

    model_config = ConfigDict(extra="forbid")

    movies: list[MovieIn] = Field(min_length=1, max_length=MAX_FILMS)


class Factor(BaseModel):
    factor: str = Field(description="Feature group: budget, genres, production companies, ...")
    effect: float = Field(description="Probability minus that of a typical film for this group.")
    direction: str


class MoviePrediction(BaseModel):
    title: str
    release_date: dt.date
    success_probability: float = Field(ge=0, le=1)
    success: bool = Field(description="success_probability >= threshold")
    threshold: float
    model_version: str
    factors: list[Factor]


class MoviePredictions(BaseModel):
    predictions: list[MoviePrediction]


class MovieHistoricalItem(BaseModel):
    request_id: str
    position: int
    served_at: dt.datetime
    model_version: str
    title: str
    release_date: dt.date
    success_probability: float
    success: bool
    threshold: float
    actual_success: bool | None = Field(
        description="From the lake's movies table once revenue and rating exist."
    )
    correct: bool | None


class MovieHistoricalPage(BaseModel):
    items: list[MovieHistoricalItem]
    total: int
    limit: int
    offset: int
    next_offset: int | None
    summary: dict[str, Any]
