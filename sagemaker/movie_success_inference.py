"""SageMaker inference handlers for the movie success classifier: JSON in, JSON out.

Packed into the model's ``code/`` as ``inference.py`` by ``movie_success_train.py``.
Request (``application/json``): one film, ``{"movies": [...]}`` or a list (up to 1,000), with
``title``, ``budget_usd``, ``runtime_min``, ``genres`` (English or Spanish), ``original_language``,
``release_date`` and optionally ``keywords``, ``production_companies``, ``director``, ``cast``.
Response: ``{"predictions": [...]}`` with ``success_probability``, ``success``, ``threshold``,
``model_version`` and ``factors``. A content type other than JSON gets a 415, an ``Accept``
other than JSON a 406, a bad film a 400 naming the field.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if (HERE / "datalake").is_dir() and str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
elif (HERE.parent / "datalake").is_dir() and str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from datalake.errors import DataValidationError  # noqa: E402
from datalake.models.inference_http import InferenceError, read_json, write_json  # noqa: E402
from datalake.movies import serving  # noqa: E402
from datalake.movies.model import MovieSuccessModel  # noqa: E402


def model_fn(model_dir: str) -> MovieSuccessModel:
    """Load the model directory SageMaker unpacked from ``model.tar.gz``."""
    return MovieSuccessModel.load(model_dir)


def input_fn(request_body: str | bytes, request_content_type: str | None) -> list[dict[str, Any]]:
    """Parse and validate the films; any other content type is refused with a 415."""
    payload = read_json(request_body, request_content_type)
    films = payload.get("movies") if isinstance(payload, dict) and "movies" in payload else payload
    films = films if isinstance(films, list) else [films]
    if len(films) > serving.MAX_FILMS:
        raise InferenceError(400, f"{len(films):,} films; at most {serving.MAX_FILMS:,}", "movies")
    try:
        return [serving.parse_film(film, f"movies[{n}]") for n, film in enumerate(films)]
    except DataValidationError as error:
        raise InferenceError(400, error.reason, error.field) from None


def predict_fn(films: list[dict[str, Any]], model: MovieSuccessModel) -> dict[str, Any]:
    """One answer per film."""
    try:
        return {"predictions": serving.predict_films(model, films)}
    except DataValidationError as error:
        raise InferenceError(400, error.reason, error.field) from None


def output_fn(prediction: dict[str, Any], accept: str | None) -> tuple[str, str]:
    """Serialise to JSON; an ``Accept`` that rules JSON out gets a 406."""
    return write_json(prediction, accept)
