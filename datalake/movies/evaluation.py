"""Time-based evaluation: train on earlier release years, choose on validation years, test on later ones.

Every choice (the threshold) is made on validation years inside the training years; the test
years are scored once. Baselines: the majority class, and a logistic regression on budget,
runtime, genres and release month.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, f1_score, roc_auc_score

from datalake.errors import DataValidationError
from datalake.movies import history
from datalake.movies.features import BASELINE_FEATURES, FEATURE_COLUMNS, build_features
from datalake.movies.label import outcomes
from datalake.movies.model import (
    ADDITIVE_C,
    SPLINE_COLUMNS,
    SPLINE_KNOTS,
    UNUSED_COLUMNS,
    MovieSuccessModel,
    classifier_pipeline,
    logistic_pipeline,
)
from datalake.movies.tables import MovieTables


@dataclass(frozen=True)
class YearSplit:
    """Train on release years <= ``train_end``, of which years > ``validation_start - 1`` validate."""

    validation_start: int = 2006
    train_end: int = 2010

    def describe(self) -> str:
        return (
            f"train <= {self.train_end} (fit <= {self.validation_start - 1}, validate "
            f"{self.validation_start}-{self.train_end}), test >= {self.train_end + 1}"
        )


@dataclass(frozen=True)
class LabelledFrame:
    """Features and labels of the labelled films, with their release years."""

    features: pd.DataFrame
    success: pd.Series
    year: pd.Series

    def rows(self, first: int | None = None, last: int | None = None) -> pd.Series:
        keep = pd.Series(True, index=self.year.index)
        if first is not None:
            keep &= self.year >= first
        if last is not None:
            keep &= self.year <= last
        return keep


def labelled_frame(tables: MovieTables) -> LabelledFrame:
    """Features (as of each release, from earlier films only) and labels of the labelled films."""
    stream = history.events(tables)
    features = build_features(tables, stream)
    known = outcomes(tables.movies).set_index("movie_id")
    keep = known["labelled"] & features["release_year"].reindex(known.index).notna()
    ids = known.index[keep]
    return LabelledFrame(
        features.loc[ids],
        known.loc[ids, "success"].astype(int),
        features.loc[ids, "release_year"].astype(int),
    )


def scores(success: pd.Series | np.ndarray, probability: np.ndarray, threshold: float) -> dict[str, float]:
    """ROC-AUC, PR-AUC (average precision), F1 at ``threshold`` and the Brier score."""
    truth = np.asarray(success, dtype=int)
    if len(np.unique(truth)) < 2:
        raise DataValidationError("success", "the scored films are all one class: no AUC can be computed")
    return {
        "roc_auc": round(float(roc_auc_score(truth, probability)), 4),
        "pr_auc": round(float(average_precision_score(truth, probability)), 4),
        "f1": round(float(f1_score(truth, probability >= threshold, zero_division=0)), 4),
        "brier": round(float(brier_score_loss(truth, probability)), 4),
        "threshold": round(float(threshold), 4),
        "films": len(truth),
        "success_rate": round(float(truth.mean()), 4),
    }


def best_f1_threshold(success: pd.Series, probability: np.ndarray) -> float:
    """The probability cut that maximises F1 (ties: the higher cut), on the rows given."""
    grid = np.round(np.arange(0.10, 0.905, 0.01), 2)
    f1s = [f1_score(success, probability >= cut, zero_division=0) for cut in grid]
    best = max(f1s)
    return float(max(cut for cut, f1 in zip(grid, f1s, strict=True) if f1 == best))


def fit_model(
    tables: MovieTables, split: YearSplit | None = None
) -> tuple[MovieSuccessModel, dict[str, Any]]:
    """Fit the challenger and its baselines on the split, score them on the test years.

    The threshold is the best-F1 cut of a model fitted before ``validation_start`` and scored on
    the validation years; the final model is then refitted on every training year.

    Returns
    -------
    tuple
        The fitted model (threshold, stream and metrics set) and the report: ``split``,
        ``counts``, ``validation`` and ``test`` scores of ``model``, ``logistic_baseline`` and
        ``majority_baseline``.
    """
    split = split or YearSplit()
    frame = labelled_frame(tables)
    fit_rows = frame.rows(last=split.validation_start - 1)
    validation_rows = frame.rows(split.validation_start, split.train_end)
    train_rows = frame.rows(last=split.train_end)
    test_rows = frame.rows(first=split.train_end + 1)
    for name, rows in (("validation", validation_rows), ("training", fit_rows), ("test", test_rows)):
        if frame.success[rows].nunique() < 2:
            raise DataValidationError(
                "release_year",
                f"the {name} years of {split.describe()} hold {int(rows.sum())} labelled films "
                "of one class or none: not enough to train and judge a model",
            )
    X, y = frame.features, frame.success
    columns = list(FEATURE_COLUMNS)
    chooser = classifier_pipeline().fit(X.loc[fit_rows, columns], y[fit_rows])
    validation_probability = chooser.predict_proba(X.loc[validation_rows, columns])[:, 1]
    threshold = best_f1_threshold(y[validation_rows], validation_probability)

    pipeline = classifier_pipeline().fit(X.loc[train_rows, columns], y[train_rows])
    logistic = logistic_pipeline().fit(X.loc[train_rows, list(BASELINE_FEATURES)], y[train_rows])
    logistic_validation = logistic_pipeline().fit(X.loc[fit_rows, list(BASELINE_FEATURES)], y[fit_rows])
    logistic_threshold = best_f1_threshold(
        y[validation_rows],
        logistic_validation.predict_proba(X.loc[validation_rows, list(BASELINE_FEATURES)])[:, 1],
    )
    majority = float(y[train_rows].mean() >= 0.5)
    base_rate = float(y[train_rows].mean())

    test_y = y[test_rows]
    model_probability = pipeline.predict_proba(X.loc[test_rows, columns])[:, 1]
    logistic_probability = logistic.predict_proba(X.loc[test_rows, list(BASELINE_FEATURES)])[:, 1]
    # The majority baseline predicts the training success rate for every film (one class).
    majority_probability = np.full(len(test_y), base_rate)
    report: dict[str, Any] = {
        "split": {**asdict(split), "description": split.describe()},
        "counts": {
            "labelled_films": len(y),
            "train": int(train_rows.sum()),
            "validation": int(validation_rows.sum()),
            "test": int(test_rows.sum()),
        },
        "validation": {"model": scores(y[validation_rows], validation_probability, threshold)},
        "test": {
            "model": scores(test_y, model_probability, threshold),
            "logistic_baseline": scores(test_y, logistic_probability, logistic_threshold),
            "majority_baseline": {
                **scores(test_y, majority_probability, 0.5),
                "roc_auc": 0.5,
                "pr_auc": round(float(test_y.mean()), 4),
                "f1": round(float(f1_score(test_y, np.full(len(test_y), majority), zero_division=0)), 4),
                "predicts": "success" if majority else "no success",
            },
        },
        "hyperparameters": {
            "trees": pipeline.named_steps["blend"].named_estimators_["trees"].get_params(),
            "additive": {
                "C": ADDITIVE_C,
                "spline_knots": SPLINE_KNOTS,
                "spline_columns": list(SPLINE_COLUMNS),
            },
            "unused_columns": list(UNUSED_COLUMNS),
        },
    }
    reference = X.loc[train_rows, columns].median()
    model = MovieSuccessModel(pipeline, threshold, history.events(tables), reference, report)
    return model, report


def score_model(
    model: MovieSuccessModel, tables: MovieTables, split: YearSplit | None = None
) -> dict[str, float]:
    """A trained model's scores on the test years of ``tables`` (the champion's side of the duel)."""
    split = split or YearSplit()
    frame = labelled_frame(tables)
    test_rows = frame.rows(first=split.train_end + 1)
    # The champion's features come from today's tables (its own stream may be older).
    features = build_features(tables, history.events(tables)).loc[frame.features.index[test_rows]]
    return scores(frame.success[test_rows], model.probabilities(features), model.threshold)


def format_report(report: dict[str, Any]) -> str:
    """The test scores as a fixed-width table, one line per method, plus the split and counts."""
    lines = [
        f"split: {report['split']['description']}",
        "labelled films: {labelled_films:,} (train {train:,}, of which validation {validation:,}; "
        "test {test:,})".format(**report["counts"]),
        f"{'method':<20} {'ROC-AUC':>8} {'PR-AUC':>8} {'F1':>6} {'Brier':>6} {'threshold':>9}",
    ]
    for method, figures in report["test"].items():
        lines.append(
            f"{method:<20} {figures['roc_auc']:>8.3f} {figures['pr_auc']:>8.3f} {figures['f1']:>6.3f} "
            f"{figures['brier']:>6.3f} {figures['threshold']:>9.2f}"
        )
    return "\n".join(lines)
