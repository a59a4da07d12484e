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

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if (HERE / "datalake").is_dir() and str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
elif (HERE.parent / "datalake").is_dir() and str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from datalake.models import inference_http  # noqa: E402
from datalake.models.inference_http import read_json, write_json  # noqa: E402
from datalake.sales import MAX_PREDICT_ROWS  # noqa: E402
from datalake.sales.hosting import load_packed  # noqa: E402
from datalake.sales.predict import LoadedModel, RowError, predict_sales  # noqa: E402


class InferenceError(inference_http.InferenceError):
    """An error answered with ``status_code`` and a JSON body ``{"error", "field", "reason"}``.

    ``reason`` is the bare reason: the API's endpoint backend answers a 400 naming a field as its
    422 with that reason (``api/services/endpoints.py``).
    """

    reason_in_body = True


def model_fn(model_dir: str) -> LoadedModel:
    """Load the champion SageMaker unpacked from ``model.tar.gz`` (with its MLflow version and alias)."""
    return load_packed(Path(model_dir))


def input_fn(request_body: str | bytes, request_content_type: str | None) -> list[dict[str, Any]]:
    """The rows of a JSON request; any other content type is refused with a 415."""
    payload = read_json(request_body, request_content_type, InferenceError)
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
    return write_json(prediction, accept, InferenceError)
