"""The classifier: a multinomial logistic regression over the past-only features, and its files.

A linear model on purpose: daily exchange-rate moves are mostly noise, and a flexible model
fits that noise (the walk-forward backtest is the judge, see ``benchmarks/fx_signal.py``).
The model directory also keeps the last :data:`HISTORY_TAIL` rates it was trained on, so a
request may carry only the rates since then (the trade advisor's recent price events).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from datalake.errors import ConfigurationError, DataValidationError
from datalake.fxsignal import SIGNALS
from datalake.fxsignal.features import DEFAULT_THRESHOLD, FEATURE_COLUMNS, MIN_HISTORY, labelled_frame

MODEL_FILE = "model.joblib"
METRICS_FILE = "metrics.json"
#: Rates kept with the model: three times the longest window, so short gaps in what a caller sends
#: since training are covered.
HISTORY_TAIL = 3 * MIN_HISTORY
#: Inverse L2 strength and class weighting, chosen on the development walk-forward only (TRM
#: 1996-2022 and spot 2022, before the final three years; C in 0.01/0.1/1, weights none/balanced):
#: C=0.01 unweighted had the best or second-best net P&L on both at the highest accuracy.
DEFAULT_PARAMS: dict[str, Any] = {"C": 0.01, "class_weight": None}
#: Fewer labelled rows than this cannot train (every class needs examples).
MIN_TRAINING_ROWS = 60


def signal_pipeline(**params: Any) -> Pipeline:
    """Scale, then a multinomial logistic regression (``C``, ``class_weight`` from ``params``)."""
    merged = {**DEFAULT_PARAMS, **params}
    return Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "logistic",
                LogisticRegression(C=merged["C"], class_weight=merged["class_weight"], max_iter=2000),
            ),
        ]
    )


@dataclass
class FxSignalModel:
    """A fitted pipeline, the label threshold it learnt, and the latest rates known when it was built.

    ``history`` may run past ``trained_until`` (the last rate the fit used): the registered model
    is fitted before its holdout, but carries the holdout's rates too, so that a request needs only
    the rates since the data ended.
    """

    pipeline: Pipeline
    threshold: float
    history: pd.Series
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    version: str = "unregistered"
    trained_until: str = ""

    def probabilities(self, features: pd.DataFrame) -> pd.DataFrame:
        """P(sell), P(hold), P(buy) per row (a class missing from training gets 0)."""
        raw = self.pipeline.predict_proba(features[list(FEATURE_COLUMNS)].to_numpy())
        frame = pd.DataFrame(0.0, index=features.index, columns=list(SIGNALS))
        for position, name in enumerate(self.pipeline.classes_):
            frame[name] = raw[:, position]
        return frame

    def signals(self, features: pd.DataFrame) -> pd.Series:
        """The most probable class per row."""
        return self.probabilities(features).idxmax(axis=1)

    def save(self, model_dir: Path) -> Path:
        """Write ``model.joblib`` and ``metrics.json`` into ``model_dir``; returns it."""
        model_dir = Path(model_dir)
        model_dir.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {
                "pipeline": self.pipeline,
                "threshold": self.threshold,
                "history": self.history,
                "params": self.params,
                "trained_until": self.trained_until,
                "feature_columns": list(FEATURE_COLUMNS),
                # A pickled pipeline is only supported on the scikit-learn that pickled it.
                "sklearn_version": sklearn.__version__,
            },
            model_dir / MODEL_FILE,
        )
        (model_dir / METRICS_FILE).write_text(json.dumps(self.metrics, indent=2, default=str))
        return model_dir

    @classmethod
    def load(cls, model_dir: Path | str) -> FxSignalModel:
        """Load a model directory (``version.json``, when present, names the version)."""
        model_dir = Path(model_dir)
        path = model_dir / MODEL_FILE
        if not path.is_file():
            raise DataValidationError("model_dir", f"{model_dir} has no {MODEL_FILE}")
        saved = joblib.load(path)
        if saved["feature_columns"] != list(FEATURE_COLUMNS):
            raise DataValidationError("model_dir", f"{model_dir} was trained on other features; retrain")
        if saved["sklearn_version"] != sklearn.__version__:
            raise ConfigurationError(
                f"the model in {model_dir} was saved with scikit-learn {saved['sklearn_version']} and this "
                f"process runs {sklearn.__version__}; install that version or retrain"
            )
        metrics_path = model_dir / METRICS_FILE
        version_path = model_dir / "version.json"
        return cls(
            saved["pipeline"],
            saved["threshold"],
            saved["history"],
            saved["params"],
            json.loads(metrics_path.read_text()) if metrics_path.is_file() else {},
            json.loads(version_path.read_text())["version"] if version_path.is_file() else "unregistered",
            saved["trained_until"],
        )


def fit_signal_model(
    rates: pd.Series, threshold: float = DEFAULT_THRESHOLD, params: dict[str, Any] | None = None
) -> FxSignalModel:
    """Fit on every labelled day of ``rates`` (features from the past, label from the next day).

    Parameters
    ----------
    rates
        Daily rates, sorted; the last day has no label and is not trained on (it is kept in the
        model's history).
    threshold
        The label's move threshold (log return).
    params
        Overrides of :data:`DEFAULT_PARAMS`.

    Raises
    ------
    DataValidationError
        Fewer than :data:`MIN_TRAINING_ROWS` labelled days, or only one class among them.
    """
    params = {**DEFAULT_PARAMS, **(params or {})}
    frame = labelled_frame(rates, threshold)
    if len(frame) < MIN_TRAINING_ROWS:
        raise DataValidationError(
            "rates", f"{len(frame)} labelled days; at least {MIN_TRAINING_ROWS} are needed to train"
        )
    if frame["label"].nunique() < 2:
        raise DataValidationError(
            "rates", f"every labelled day is {frame['label'].iloc[0]!r}: nothing to learn"
        )
    pipeline = signal_pipeline(**params)
    pipeline.fit(frame[list(FEATURE_COLUMNS)].to_numpy(), frame["label"].to_numpy())
    history = rates.iloc[-HISTORY_TAIL:].astype(float).copy()
    history.attrs = dict(rates.attrs)
    return FxSignalModel(
        pipeline, float(threshold), history, params, trained_until=rates.index[-1].date().isoformat()
    )


def class_shares(labels: pd.Series) -> dict[str, float]:
    """Share of each class (``sell``, ``hold``, ``buy``), rounded to 4 places."""
    counts = labels.value_counts(normalize=True)
    return {name: round(float(counts.get(name, 0.0)), 4) for name in SIGNALS}


def as_float(value: Any) -> float | None:
    """A JSON-safe float (None for NaN or infinity)."""
    number = float(value)
    return number if np.isfinite(number) else None
