"""The store-sales regressor: gradient-boosted trees on log sales, with what it needs to predict.

A fitted :class:`SalesModel` carries its sales history (for lags and rolling means), its historic
means and the stores table, so it predicts from raw rows (store, date, promo, holidays) alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from datalake.sales.features import FeatureConfig, build_features, feature_columns, historic_means

#: The file a saved model lives in.
MODEL_FILE = "store_sales_model.joblib"
#: Hyperparameters, chosen on the validation window (see benchmarks/sales_model.py), never on the test one.
DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.1,
    "max_iter": 200,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 50,
    "l2_regularization": 1.0,
    "random_state": 0,
}
#: Columns the trees split as categories rather than as ordered numbers.
CATEGORICAL = ("state_holiday", "store_type", "assortment")
#: History columns the model keeps (a few MB for 100 stores x 2.5 years).
HISTORY_COLUMNS = ["store_id", "date", "sales", "customers", "open", "promo"]


def reference_log_sales(features: pd.DataFrame) -> np.ndarray:
    """log1p of the store x weekday x promo mean (the store's mean where that is unknown).

    The trees learn the log ratio of sales to this reference: the store's level comes for free and
    every split is spent on what moves sales around it (calendar, holidays, competition, Promo2).
    """
    reference = features["mean_store_dow_promo"].fillna(features["mean_store"])
    return np.log1p(reference.fillna(0.0).to_numpy(dtype="float64"))


def training_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Open days with sales: closed days predict 0 by rule, and the metric skips zero sales."""
    return frame[frame["open"].astype(bool) & (frame["sales"] > 0)]


@dataclass
class SalesModel:
    """A fitted regressor plus the history, means and stores its features come from."""

    estimator: HistGradientBoostingRegressor
    config: FeatureConfig
    columns: list[str]
    history: pd.DataFrame
    stores: pd.DataFrame
    means: dict[str, pd.DataFrame]
    params: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        features: pd.DataFrame,
        history: pd.DataFrame,
        stores: pd.DataFrame,
        config: FeatureConfig | None = None,
        params: dict[str, Any] | None = None,
    ) -> SalesModel:
        """Fit on ``features`` (rows with feature columns, ``sales`` and ``open``).

        Parameters
        ----------
        features
            Training rows with their features (built from ``history``) and target.
        history
            The sales known at training time: the model keeps them for lags and means.
        stores
            The stores table.
        config
            The feature settings ``features`` was built with.
        params
            HistGradientBoostingRegressor parameters (``DEFAULT_PARAMS`` by default).
        """
        kept = history[HISTORY_COLUMNS].copy()
        kept["date"] = pd.to_datetime(kept["date"])
        config = (config or FeatureConfig()).resolved(kept)
        params = {**DEFAULT_PARAMS, **(params or {})}
        rows = training_rows(features)
        # A feature never known in training (a 364-day lag on less than a year of data) is dropped:
        # the trees cannot bin a column that is all missing.
        columns = [column for column in feature_columns(config) if rows[column].notna().any()]
        estimator = HistGradientBoostingRegressor(
            categorical_features=[column in CATEGORICAL for column in columns],
            early_stopping=False,
            **params,
        )
        started = time.perf_counter()
        # Log sales: the squared error on logs tracks the percentage error RMSPE scores.
        target = np.log1p(rows["sales"].to_numpy()) - reference_log_sales(rows)
        estimator.fit(rows[columns].to_numpy(dtype="float64"), target)
        seconds = time.perf_counter() - started
        return cls(
            estimator=estimator,
            config=config,
            columns=columns,
            history=kept.reset_index(drop=True),
            stores=stores.reset_index(drop=True),
            means=historic_means(kept, config.date_year_offset),
            params=params,
            info={"fit_seconds": round(seconds, 2), "training_rows": len(rows)},
        )

    def features(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The model's features for raw rows (store_id, date, promo, state_holiday, school_holiday)."""
        return build_features(rows, self.stores, self.history, self.config, self.means)[self.columns]

    def predict_features(self, features: pd.DataFrame) -> np.ndarray:
        """Predicted sales for rows whose features are already built (all treated as open)."""
        log_ratio = self.estimator.predict(features[self.columns].to_numpy(dtype="float64"))
        return np.expm1(log_ratio + reference_log_sales(features))

    def predict_rows(self, rows: pd.DataFrame) -> np.ndarray:
        """Predicted sales for raw rows; a row with ``open`` false predicts 0."""
        predicted = self.predict_features(self.features(rows))
        if "open" in rows.columns:
            is_open = rows["open"].fillna(True).astype(bool).to_numpy()
            predicted = np.where(is_open, predicted, 0.0)
        return predicted

    @property
    def history_end(self) -> pd.Timestamp:
        """The last day of sales the model knows."""
        return pd.Timestamp(self.history["date"].max())

    def save(self, folder: Path) -> Path:
        """Write the model to ``folder/MODEL_FILE`` (joblib); returns the file."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / MODEL_FILE
        joblib.dump(self, path, compress=3)
        return path

    @staticmethod
    def load(path: Path) -> SalesModel:
        """Read a model written by :meth:`save` (a file, or the folder holding it)."""
        path = path / MODEL_FILE if path.is_dir() else path
        model = joblib.load(path)
        if not isinstance(model, SalesModel):
            raise TypeError(f"{path} holds a {type(model).__name__}, not a SalesModel")
        return model
