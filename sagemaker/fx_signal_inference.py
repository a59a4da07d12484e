"""SageMaker inference handlers for the USD/COP buy/sell signal: JSON in, JSON out.

Packed into the model's ``code/`` as ``inference.py`` by ``fx_signal_train.py``.
Request (``application/json``): ``{"rates": [{"date": "YYYY-MM-DD", "rate": 4012.5}, ...]}``, the
daily rates since the model's training ended (it keeps the last ones it saw). Response:
``{"signal": "buy"|"sell"|"hold", "probabilities", "as_of", "rate_cop_per_usd", "threshold",
"model_version", "trained_until"}``. A content type other than JSON gets a 415, an ``Accept``
other than JSON a 406, a bad or gappy series a 400 naming the field.
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

import pandas as pd  # noqa: E402

from datalake.errors import DataValidationError  # noqa: E402
from datalake.fxsignal import serving  # noqa: E402
from datalake.fxsignal.model import FxSignalModel  # noqa: E402
from datalake.models.inference_http import InferenceError, read_json, write_json  # noqa: E402


def model_fn(model_dir: str) -> FxSignalModel:
    """Load the model directory SageMaker unpacked from ``model.tar.gz``."""
    return FxSignalModel.load(model_dir)


def input_fn(request_body: str | bytes, request_content_type: str | None) -> pd.Series:
    """Parse and validate the rates; any other content type is refused with a 415."""
    payload = read_json(request_body, request_content_type)
    try:
        return serving.parse_rates(payload)
    except DataValidationError as error:
        raise InferenceError(400, error.reason, error.field) from None


def predict_fn(rates: pd.Series, model: FxSignalModel) -> dict[str, Any]:
    """The signal for the latest day; a series with a hole in its feature window is a 400."""
    try:
        return serving.advise(model, rates)
    except DataValidationError as error:
        raise InferenceError(400, error.reason, error.field) from None


def output_fn(prediction: dict[str, Any], accept: str | None) -> tuple[str, str]:
    """Serialise to JSON; an ``Accept`` that rules JSON out gets a 406."""
    return write_json(prediction, accept)
