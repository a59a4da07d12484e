"""The residual plot logged with each store-sales training run."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def residual_figure(actual: np.ndarray, predicted: np.ndarray, title: str) -> Figure:
    """Percentage error against predicted sales (left) and its histogram (right), open days."""
    actual = np.asarray(actual, dtype="float64")
    predicted = np.asarray(predicted, dtype="float64")
    scored = actual > 0
    error_pct = 100 * (predicted[scored] - actual[scored]) / actual[scored]
    fig, (scatter, histogram) = plt.subplots(1, 2, figsize=(10, 4))
    scatter.scatter(predicted[scored], error_pct, s=4, alpha=0.4)
    scatter.axhline(0, color="black", linewidth=0.8)
    scatter.set_xlabel("predicted sales")
    scatter.set_ylabel("error, % of actual")
    histogram.hist(np.clip(error_pct, -60, 60), bins=60)
    histogram.set_xlabel("error, % of actual (clipped at +-60)")
    histogram.set_ylabel("rows")
    fig.suptitle(title)
    fig.tight_layout()
    plt.close(fig)  # the caller logs or saves it; pyplot keeps no reference
    return fig
