"""The figures of docs/movie-success.md: the label by year and budget band, and the model's test curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

from datalake.movies.label import outcomes
from datalake.movies.tables import MovieTables

#: Budget bands, USD (edges), labelled for people.
BUDGET_BANDS = (0, 5e6, 2e7, 5e7, 1e8, np.inf)
BAND_LABELS = ("< $5M", "$5-20M", "$20-50M", "$50-100M", ">= $100M")


def label_frame(tables: MovieTables) -> pd.DataFrame:
    """Labelled films with ``release_year``, ``budget_band`` and ``success``."""
    known = outcomes(tables.movies)
    frame = tables.movies.join(known.drop(columns="movie_id"))
    frame = frame[frame["labelled"]].copy()
    frame["budget_band"] = pd.cut(frame["budget_usd"], BUDGET_BANDS, labels=BAND_LABELS, right=False)
    return frame


def plot_label_by_year(tables: MovieTables, path: Path, first_year: int = 1980) -> Path:
    """Success rate and labelled films per release year (bars: films; line: rate)."""
    frame = label_frame(tables)
    frame = frame[frame["release_year"] >= first_year]
    by_year = frame.groupby("release_year")["success"].agg(["mean", "count"])
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.bar(by_year.index, by_year["count"], color="#c8d6e5", label="labelled films")
    ax.set_xlabel("release year")
    ax.set_ylabel("labelled films")
    ax.axvline(2010.5, color="grey", linestyle="--")
    ax.text(2010.7, by_year["count"].max() * 0.95, "test years →", fontsize=9)
    rate = ax.twinx()
    rate.plot(by_year.index, by_year["mean"] * 100, color="#c0392b", marker="o", markersize=3)
    rate.set_ylabel("success rate, %")
    rate.set_ylim(0, 100)
    ax.set_title("Success (revenue >= 2x budget and rating >= 6) by release year")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_label_by_budget(tables: MovieTables, path: Path) -> Path:
    """Success rate, and each half of the rule alone, per budget band."""
    frame = label_frame(tables)
    frame["roi_ok"] = frame["roi"] >= 2
    frame["rating_ok"] = frame["rating"] >= 6
    grouped = frame.groupby("budget_band", observed=False)[["success", "roi_ok", "rating_ok"]].mean() * 100
    counts = frame.groupby("budget_band", observed=False).size()
    fig, ax = plt.subplots(figsize=(8, 4))
    positions = np.arange(len(grouped))
    for offset, (column, name) in zip(
        (-0.27, 0, 0.27),
        (("success", "success"), ("roi_ok", "revenue >= 2x budget"), ("rating_ok", "rating >= 6")),
        strict=True,
    ):
        ax.bar(positions + offset, grouped[column], width=0.27, label=name)
    ax.set_xticks(positions, [f"{band}\n({n:,} films)" for band, n in counts.items()])
    ax.set_ylabel("% of labelled films")
    ax.set_ylim(0, 100)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("The label by budget band")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_model_curves(curves: dict[str, np.ndarray], truth: np.ndarray, path: Path) -> Path:
    """ROC and precision-recall curves on the test years, one line per method."""
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for name, probability in curves.items():
        fpr, tpr, _ = roc_curve(truth, probability)
        precision, recall, _ = precision_recall_curve(truth, probability)
        roc_ax.plot(fpr, tpr, label=name)
        pr_ax.plot(recall, precision, label=name)
    roc_ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, test years 2011+")
    pr_ax.axhline(truth.mean(), color="grey", linestyle=":")
    pr_ax.set(xlabel="recall", ylabel="precision", title="Precision-recall, test years 2011+")
    roc_ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
