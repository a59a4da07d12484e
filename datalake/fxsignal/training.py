"""Fit the buy/sell challenger, score it and the champion on the same holdout days, promote the better.

The challenger is fitted on every labelled day before the holdout (the last ``holdout_days``
days), and both models are scored there with their signals held fixed (no refit inside the
holdout): net P&L of the one-day long/flat/short strategy after costs decides, accuracy breaks
ties. The registered model is that fit, so its recorded scores are out of sample. The champion's
``trained_until`` is recorded too: a champion trained past the holdout's start would be scored
partly on days it saw (the decision says so).
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from datalake.errors import DataValidationError
from datalake.fxsignal import MODEL_NAME
from datalake.fxsignal.backtest import daily_frame, score_signals
from datalake.fxsignal.features import DEFAULT_THRESHOLD, FEATURE_COLUMNS
from datalake.fxsignal.model import HISTORY_TAIL, FxSignalModel, class_shares, fit_signal_model
from datalake.settings import Settings, get_settings

#: The promotion decision: net P&L after costs on the holdout; accuracy breaks ties.
DECISION_METRICS = ("net_pnl_pct", "accuracy")


@dataclass(frozen=True)
class HoldoutSplit:
    """The last ``holdout_days`` labelled days are the holdout; the rest (at most ``train_days``) train."""

    holdout_days: int = 126
    train_days: int = 1000
    threshold: float = DEFAULT_THRESHOLD
    cost_bps: float = 10.0

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def holdout_start(rates: pd.Series, split: HoldoutSplit) -> pd.Timestamp:
    """The first holdout day (the last labelled days; the series' last day has no label)."""
    labelled = rates.index[:-1]
    if len(labelled) <= split.holdout_days + 60:
        raise DataValidationError(
            "rates",
            f"{len(rates)} days: too few for a {split.holdout_days}-day holdout and a training window",
        )
    return labelled[-split.holdout_days]


def score_model(
    model: FxSignalModel, rates: pd.Series, start: pd.Timestamp, cost_bps: float
) -> dict[str, Any]:
    """The model's fixed signals on the labelled days from ``start`` on, scored with costs."""
    frame = daily_frame(rates, model.threshold)
    days = frame[(frame.index >= start)].dropna(subset=[*FEATURE_COLUMNS, "label"])
    signals = model.signals(days[list(FEATURE_COLUMNS)])
    return score_signals(signals, days["label"], days["next_return"], cost_bps)


def fit_challenger(
    rates: pd.Series, split: HoldoutSplit, params: dict[str, Any] | None = None
) -> tuple[FxSignalModel, dict[str, Any]]:
    """Fit on the days before the holdout and score on it; returns the model and its evaluation."""
    start = holdout_start(rates, split)
    # The rate of the holdout's first day is the label of the last training day: known at its start.
    before = rates[rates.index <= start].iloc[-(split.train_days + 22) :]
    model = fit_signal_model(before, split.threshold, params)
    # The holdout's rates are known (only not trained on): serving starts from the latest ones.
    model.history = rates.iloc[-HISTORY_TAIL:].astype(float).copy()
    scores = score_model(model, rates, start, split.cost_bps)
    labels = daily_frame(rates, split.threshold)["label"].dropna()
    evaluation = {
        "source": rates.attrs.get("source", "unknown"),
        "holdout_start": start.date().isoformat(),
        "holdout_end": rates.index[-2].date().isoformat(),
        "trained_until": model.trained_until,
        "split": split.describe(),
        "params": model.params,
        "holdout": scores,
        "holdout_class_shares": class_shares(labels[labels.index >= start]),
    }
    model.metrics = evaluation
    return model, evaluation


def _better(challenger: dict[str, Any], champion: dict[str, Any]) -> bool:
    return tuple(challenger[m] for m in DECISION_METRICS) > tuple(champion[m] for m in DECISION_METRICS)


def train_fx_signal(
    rates: pd.Series,
    data_description: str,
    split: HoldoutSplit | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Fit a challenger, score the champion on the same holdout, register and maybe promote.

    Parameters
    ----------
    rates
        Daily USD/COP rates (:func:`datalake.fxsignal.series.load_history`).
    data_description
        Where the rates came from, for the run report and the version record.
    split
        Holdout, training window, threshold and costs.
    settings
        Lake settings; the process-wide ones when omitted.

    Returns
    -------
    dict
        The ``fx_signal_train`` run report: version, promoted, decision, the challenger's
        evaluation and the champion's holdout scores.
    """
    from datalake import runtime
    from datalake.models import model_registry
    from datalake.runs import record_run

    settings = settings or get_settings()
    split = split or HoldoutSplit()
    registry = model_registry(settings, name=MODEL_NAME)
    store = runtime.object_store("lake", settings)
    with record_run("fx_signal_train", store, data=data_description, split=split.describe()) as report:
        with report.timed("train"):
            challenger, evaluation = fit_challenger(rates, split)
        start = pd.Timestamp(evaluation["holdout_start"])
        champion_record = registry.champion()
        champion_scores, champion_saw_holdout = None, False
        if champion_record is not None:
            with report.timed("score_champion"), tempfile.TemporaryDirectory() as scratch:
                champion = FxSignalModel.load(registry.fetch(champion_record["version"], Path(scratch)))
                champion_scores = score_model(champion, rates, start, split.cost_bps)
                champion_saw_holdout = pd.Timestamp(champion.trained_until) > start
        with tempfile.TemporaryDirectory() as scratch:
            version = registry.register(
                challenger.save(Path(scratch)),
                evaluation["holdout"],
                {
                    "data": data_description,
                    "split": split.describe(),
                    "trained_until": challenger.trained_until,
                },
            )
        if champion_scores is None:
            promoted, reason = True, "first model: no champion yet"
        elif _better(evaluation["holdout"], champion_scores):
            promoted, reason = True, "challenger better on holdout net P&L (accuracy breaks ties)"
        else:
            promoted, reason = False, "champion kept: challenger not better on holdout net P&L"
        if champion_saw_holdout:
            reason += "; the champion was trained on part of the holdout (its scores are optimistic)"
        if promoted:
            registry.promote(version, reason)
        if settings.mlflow_track_training:
            from datalake import tracking

            with report.timed("mlflow"):
                report.details["mlflow_run_id"] = tracking.log_training_run(
                    "fx-signal",
                    f"fx-signal-{version}",
                    {"data": data_description, "split": split.describe(), "registry_version": version},
                    {
                        **evaluation["holdout"],
                        **{f"champion_{k}": v for k, v in (champion_scores or {}).items()},
                    },
                    settings,
                    tags={"promoted": str(promoted).lower(), "registry": "datalake.models"},
                )
        report.details.update(
            version=version,
            promoted=promoted,
            decision=reason,
            champion_before=champion_record["version"] if champion_record else None,
            champion_scores=champion_scores,
            evaluation=evaluation,
        )
    return report.to_dict()
