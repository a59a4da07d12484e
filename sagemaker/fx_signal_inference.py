"""SageMaker inference handlers for the USD/COP buy/sell signal: JSON in, JSON out.

Packed into the model's ``code/`` as ``inference.py`` by ``fx_signal_train.py``.
Request (``application/json``): ``{"rates": [{"date": "YYYY-MM-DD", "rate": 4012.5}, ...]}``, the
daily rates since the model's training ended (it keeps the last ones it saw). Response:
``{"signal": "buy"|"sell"|"hold", "probabilities", "as_of", "rate_cop_per_usd", "threshold",
"model_version", "trained_until"}``. A content type other than JSON gets a 415, an ``Accept``
other than JSON a 406, a bad or gappy series a 400 naming the field.
"""

from __future__ import annotations

import json
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

JSON = "application/json"

try:
    from sagemaker_inference.errors import BaseInferenceToolkitError as _ToolkitError
except ImportError:  # outside the container

    class _ToolkitError(Exception):  # type: ignore[no-redef]
        def __init__(self, status_code: int, message: str, phrase: str) -> None:
            super().__init__(status_code, message, phrase)
            self.status_code, self.message, self.phrase = status_code, message, phrase


class InferenceError(_ToolkitError):
    """An error answered with ``status_code`` and a JSON body ``{"error", "field"}``."""

    def __init__(self, status_code: int, reason: str, field: str | None = None) -> None:
        body = json.dumps({"error": reason if field is None else f"{field}: {reason}", "field": field})
        super().__init__(status_code, body, body)
        self.reason, self.field = reason, field


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def model_fn(model_dir: str) -> FxSignalModel:
    """Load the model directory SageMaker unpacked from ``model.tar.gz``."""
    return FxSignalModel.load(model_dir)


def input_fn(request_body: str | bytes, request_content_type: str | None) -> pd.Series:
    """Parse and validate the rates; any other content type is refused with a 415."""
    if _media_type(request_content_type) != JSON:
        raise InferenceError(
            415, f"unsupported content type {request_content_type!r}; send {JSON}", "Content-Type"
        )
    try:
        text = request_body.decode("utf-8") if isinstance(request_body, bytes) else request_body
        payload = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InferenceError(400, f"not valid UTF-8 JSON: {error}", "body") from None
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
    if _media_type(accept) not in ("", "*/*", "application/*", JSON):
        raise InferenceError(406, f"cannot answer in {accept!r}; accept {JSON}", "Accept")
    return json.dumps(prediction), JSON
