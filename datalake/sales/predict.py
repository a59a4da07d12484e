"""Predict store sales with the registered champion: the function ``POST /predict/sales`` calls.

Rows give ``store_id``, ``date``, ``promo``, ``state_holiday``, ``school_holiday`` and optionally
``open``. A closed day predicts 0 and says so. An unknown store, an impossible date or a bad value
raise :class:`ValueError` naming the field, which the API turns into a 422.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from datalake import tracking
from datalake.sales import MAX_PREDICT_ROWS, MODEL_NAME
from datalake.sales.features import STATE_HOLIDAY_CODES
from datalake.sales.model import SalesModel
from datalake.settings import Settings, get_settings

#: The most rows one call takes (the API's batch limit).
MAX_ROWS = MAX_PREDICT_ROWS
_REQUIRED = ("store_id", "date", "promo", "state_holiday", "school_holiday")


class RowError(ValueError):
    """A row the model cannot predict; ``field`` names the culprit (``rows[3].date``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class LoadedModel:
    """A registered model version loaded in memory."""

    model: SalesModel
    version: str
    alias: str


#: Loaded versions per (tracking store, version), oldest first. A long-lived API process sees the
#: alias move with each promotion: without a bound every version ever served would stay in memory.
_cache: dict[tuple[str, str], LoadedModel] = {}
MAX_LOADED_VERSIONS = 3
_lock = threading.Lock()


def load_alias(alias: str = "champion", settings: Settings | None = None) -> LoadedModel:
    """The version behind ``alias`` in the MLflow registry, loaded once per version.

    Raises
    ------
    LookupError
        When no version carries the alias (run ``datalake run sales-retrain`` first).
    """
    from mlflow.exceptions import MlflowException

    from datalake.sales.retrain import load_registered

    settings = settings or get_settings()
    client = tracking.client(settings)
    try:
        version = client.get_model_version_by_alias(MODEL_NAME, alias)
    except MlflowException:
        raise LookupError(
            f"no {MODEL_NAME} model has the alias {alias!r}; run `datalake run sales-retrain`"
        ) from None
    key = (tracking.tracking_uri(settings), str(version.version))
    with _lock:
        if key not in _cache:
            with tempfile.TemporaryDirectory() as scratch:
                model = load_registered(client, version, Path(scratch))
            _cache[key] = LoadedModel(model, str(version.version), alias)
            while len(_cache) > MAX_LOADED_VERSIONS:
                del _cache[next(iter(_cache))]
        loaded = _cache[key]
    return LoadedModel(loaded.model, loaded.version, alias)


def _flag(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return value.strip().lower() in ("1", "true")
    raise RowError(field, f"{value!r} is not a true/false flag")


def _date(value: Any, field: str) -> pd.Timestamp:
    if isinstance(value, dt.datetime):
        return pd.Timestamp(value.date())
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    try:
        return pd.Timestamp(dt.date.fromisoformat(str(value).strip()))
    except ValueError:
        raise RowError(field, f"{value!r} is not a date (YYYY-MM-DD)") from None


def validate_rows(rows: Sequence[Mapping[str, Any]], known_stores: set[int]) -> pd.DataFrame:
    """Rows as a typed frame, or a :class:`RowError` naming the first bad field."""
    if not rows:
        raise RowError("rows", "no rows to predict")
    if len(rows) > MAX_ROWS:
        raise RowError("rows", f"{len(rows):,} rows; at most {MAX_ROWS:,} per call")
    typed = []
    for index, row in enumerate(rows):
        where = f"rows[{index}]"
        for name in _REQUIRED:
            if row.get(name) is None:
                raise RowError(f"{where}.{name}", "missing")
        try:
            store_id = int(row["store_id"])
        except (TypeError, ValueError):
            raise RowError(f"{where}.store_id", f"{row['store_id']!r} is not a store number") from None
        if store_id not in known_stores:
            raise RowError(f"{where}.store_id", f"unknown store {store_id}")
        holiday = str(row["state_holiday"]).strip()
        if holiday not in STATE_HOLIDAY_CODES:
            raise RowError(f"{where}.state_holiday", f"{holiday!r}; expected one of 0, a, b, c")
        is_open = row.get("open")
        typed.append(
            {
                "store_id": store_id,
                "date": _date(row["date"], f"{where}.date"),
                "promo": _flag(row["promo"], f"{where}.promo"),
                "state_holiday": holiday,
                "school_holiday": _flag(row["school_holiday"], f"{where}.school_holiday"),
                "open": True if is_open is None else _flag(is_open, f"{where}.open"),
            }
        )
    return pd.DataFrame(typed)


def predict_sales(
    rows: Sequence[Mapping[str, Any]],
    loaded: LoadedModel | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Predicted sales per row, with the model version and alias that made them.

    Parameters
    ----------
    rows
        Mappings with ``store_id``, ``date``, ``promo``, ``state_holiday``, ``school_holiday`` and
        optionally ``open`` (true when absent).
    loaded
        The model to use; the registered champion when omitted.
    settings
        Lake settings.

    Returns
    -------
    dict
        ``predictions`` (store_id, date, predicted_sales, closed) in the rows' order,
        ``model_version`` and ``model_alias``.

    Raises
    ------
    RowError
        A ValueError naming the first bad field (unknown store, impossible date, bad flag).
    """
    loaded = loaded or load_alias("champion", settings)
    frame = validate_rows(rows, set(loaded.model.stores["store_id"].astype(int)))
    predicted = loaded.model.predict_rows(frame)
    predictions = [
        {
            "store_id": int(store_id),
            "date": day.date().isoformat(),
            "predicted_sales": round(float(value), 2),
            "closed": not bool(is_open),
        }
        for store_id, day, value, is_open in zip(
            frame["store_id"], frame["date"], predicted, frame["open"], strict=True
        )
    ]
    return {"predictions": predictions, "model_version": loaded.version, "model_alias": loaded.alias}
