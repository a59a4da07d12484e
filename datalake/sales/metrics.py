"""RMSPE (the Rossmann competition's metric) and the per-store x weekday x promo mean baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The baseline's keys: what a planner would average without a model.
BASELINE_KEYS = ["store_id", "day_of_week", "promo"]


def rmspe(actual: np.ndarray | pd.Series, predicted: np.ndarray | pd.Series) -> float:
    """Root mean squared percentage error over rows with actual sales > 0 (as the competition scores).

    Raises
    ------
    ValueError
        When no row has positive sales (the metric is undefined).
    """
    actual = np.asarray(actual, dtype="float64")
    predicted = np.asarray(predicted, dtype="float64")
    scored = actual > 0
    if not scored.any():
        raise ValueError("RMSPE needs at least one row with sales > 0")
    ratio = (actual[scored] - predicted[scored]) / actual[scored]
    return float(np.sqrt(np.mean(ratio**2)))


def baseline_predictions(train: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Mean open-day sales per store x weekday x promo on ``train``, looked up for ``rows``.

    A combination never seen in training falls back to the store's mean; a closed row predicts 0.
    """

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        date = pd.to_datetime(frame["date"])
        return pd.DataFrame(
            {
                "store_id": frame["store_id"].to_numpy(),
                "day_of_week": date.dt.dayofweek.to_numpy() + 1,
                "promo": frame["promo"].astype(int).to_numpy(),
            }
        )

    known = train[train["open"].astype(bool) & (train["sales"] > 0)]
    keys = keyed(known).assign(sales=known["sales"].to_numpy())
    means = keys.groupby(BASELINE_KEYS)["sales"].mean().rename("by_key").reset_index()
    store_means = keys.groupby("store_id")["sales"].mean().rename("by_store").reset_index()
    looked_up = (
        keyed(rows).merge(means, on=BASELINE_KEYS, how="left").merge(store_means, on="store_id", how="left")
    )
    predicted = looked_up["by_key"].fillna(looked_up["by_store"]).fillna(0.0).to_numpy()
    return np.where(rows["open"].astype(bool).to_numpy(), predicted, 0.0)
