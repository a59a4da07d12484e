"""SageMaker inference handlers for the demand forecaster: JSON in, JSON out.

Request (``application/json``)::

    {"horizon_hours": 24}                      # the newest data comes from the warehouse
    {"days": 7}
    {"horizon_hours": 48, "history": {"start": "2017-06-01T00:00:00+02:00", "demand_mw": [...]}}

Response: ``model_version``, ``data_cutoff``, ``origin`` and hourly ``points`` with
``p10_mw`` / ``p50_mw`` / ``p90_mw``. A content type other than JSON gets a 415, an
``Accept`` other than JSON a 406, a bad request a 400 naming the field.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if (HERE / "datalake").is_dir() and str(HERE) not in sys.path:
    # In the serving container the datalake package travels in code/ beside this file.
    sys.path.insert(0, str(HERE))
elif (HERE.parent / "datalake").is_dir() and str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from datalake.errors import DataValidationError, LakeError  # noqa: E402
from datalake.forecasting import serving  # noqa: E402
from datalake.models.inference_http import InferenceError, read_json, write_json  # noqa: E402

#: Folder of a weather model's directory holding the model without weather (train.py writes it).
FALLBACK_DIR = "fallback"


def model_fn(model_dir: str) -> serving.ServedModel:
    """Load the model directory SageMaker unpacked from ``model.tar.gz``.

    A weather model comes with the model without weather in ``fallback/``: it answers when the
    lake has no stored weather forecast for the hours asked (the answer's ``covariates`` says so).
    """
    served = serving.load_served_model(model_dir)
    fallback = Path(model_dir) / FALLBACK_DIR
    if served.needs_weather and fallback.is_dir():
        served.fallback = serving.load_served_model(fallback)
    return served


def input_fn(request_body: str | bytes, request_content_type: str | None) -> serving.ForecastRequest:
    """Parse a JSON request; any other content type is refused with a 415."""
    payload = read_json(request_body, request_content_type)
    try:
        return serving.parse_request(payload)
    except DataValidationError as error:
        raise InferenceError(400, error.reason, error.field) from None


def predict_fn(request: serving.ForecastRequest, model: serving.ServedModel) -> dict[str, Any]:
    """Forecast from the request's history, or from the warehouse's newest hours when it has none."""
    try:
        if request.history is not None:
            history = request.history
        else:
            from datalake.forecasting.data import load_recent

            history = load_recent(model.history_hours).demand_mw
        # A weather model reads the stored forecasts issued by now; without them it cannot answer.
        weather = serving.live_weather() if model.needs_weather else None
        return serving.forecast(model, history, request.horizon_hours, weather)
    except DataValidationError as error:
        if error.field == "weather":  # the lake's weather is missing: not the caller's fault
            raise InferenceError(503, error.reason, error.field) from None
        raise InferenceError(400, error.reason, error.field) from None
    except LakeError as error:
        # The endpoint's data is not there (no table, database down): not the caller's fault.
        raise InferenceError(503, str(error)) from None


def output_fn(prediction: dict[str, Any], accept: str | None) -> tuple[str, str]:
    """Serialise to JSON; an ``Accept`` that rules JSON out gets a 406."""
    return write_json(prediction, accept)
