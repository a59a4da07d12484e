"""SageMaker inference handlers for the store-sales champion: JSON in, JSON out.

Packed into the model's ``code/`` as ``inference.py`` by ``launch.py deploy --model store-sales``
(:func:`datalake.sales.hosting.package_champion`), beside the model file and ``version.json`` (the
MLflow version and alias it was packed from). Request (``application/json``): one row,
``{"rows": [...]}`` or a list (up to 10,000), each with ``store_id``, ``date``, ``promo``,
``state_holiday``, ``school_holiday`` and optionally ``open``. Response: what
:func:`datalake.sales.predict.predict_sales` returns, ``predictions`` (store_id, date,
predicted_sales, closed) in the rows' order, ``model_version`` and ``model_alias``. A content type
other than JSON gets a 415, an ``Accept`` other than JSON a 406, a bad row a 400 whose JSON body
names the field (``rows[3].store_id``), which the API answers as its 422.
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

from datalake.sales import MAX_PREDICT_ROWS  # noqa: E402
from datalake.sales.hosting import load_packed  # noqa: E402
from datalake.sales.predict import LoadedModel, RowError, predict_sales  # noqa: E402

JSON = "application/json"

try:
    from sagemaker_inference.errors import BaseInferenceToolkitError as _ToolkitError
except ImportError:  # outside the container

    class _ToolkitError(Exception):  # type: ignore[no-redef]
        def __init__(self, status_code: int, message: str, phrase: str) -> None:
            super().__init__(status_code, message, phrase)
            self.status_code, self.message, self.phrase = status_code, message, phrase


class InferenceError(_ToolkitError):
    """An error answered with ``status_code`` and a JSON body ``{"error", "field", "reason"}``."""

    def __init__(self, status_code: int, reason: str, field: str | None = None) -> None:
        body = json.dumps(
            {"error": reason if field is None else f"{field}: {reason}", "field": field, "reason": reason}
        )
        super().__init__(status_code, body, body)
        self.reason, self.field = reason, field


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def model_fn(model_dir: str) -> LoadedModel:
    """Load the champion SageMaker unpacked from ``model.tar.gz`` (with its MLflow version and alias)."""
    return load_packed(Path(model_dir))


def input_fn(request_body: str | bytes, request_content_type: str | None) -> list[dict[str, Any]]:
    """The rows of a JSON request; any other content type is refused with a 415."""
    if _media_type(request_content_type) != JSON:
        raise InferenceError(
            415, f"unsupported content type {request_content_type!r}; send {JSON}", "Content-Type"
        )
    try:
        text = request_body.decode("utf-8") if isinstance(request_body, bytes) else request_body
        payload = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InferenceError(400, f"not valid UTF-8 JSON: {error}", "body") from None
    rows = payload.get("rows") if isinstance(payload, dict) and "rows" in payload else payload
    rows = rows if isinstance(rows, list) else [rows]
    if len(rows) > MAX_PREDICT_ROWS:
        raise InferenceError(400, f"{len(rows):,} rows; at most {MAX_PREDICT_ROWS:,} per call", "rows")
    if not all(isinstance(row, dict) for row in rows):
        raise InferenceError(400, "each row is a JSON object", "rows")
    return rows


def predict_fn(rows: list[dict[str, Any]], model: LoadedModel) -> dict[str, Any]:
    """Predicted sales per row (0 on a closed day), with the version and alias that made them."""
    try:
        return predict_sales(rows, model)
    except RowError as error:
        raise InferenceError(400, str(error).removeprefix(f"{error.field}: "), error.field) from None


def output_fn(prediction: dict[str, Any], accept: str | None) -> tuple[str, str]:
    """Serialise to JSON; an ``Accept`` that rules JSON out gets a 406."""
    if _media_type(accept) not in ("", "*/*", "application/*", JSON):
        raise InferenceError(406, f"cannot answer in {accept!r}; accept {JSON}", "Accept")
    return json.dumps(prediction), JSON
