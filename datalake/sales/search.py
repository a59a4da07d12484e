"""An optional Optuna search of the sales regressor's parameters, under a time budget.

The search never sees the test window: each trial fits on the training rows before the validation
window (the six weeks before the test window, :class:`~datalake.sales.split.TimeSplit`), with
features built from those rows only, and is scored (RMSPE, open days) on the validation window.
The retraining then fits the best parameters on the whole training split and scores them on the
test window as any other challenger, so the champion/challenger rule is unchanged.

The first trial is :data:`~datalake.sales.model.DEFAULT_PARAMS`, so the best is never worse than
the defaults on the validation window. No trial starts once the time spent plus the longest
trial so far would pass the budget (a fit cannot be stopped halfway), so a search ends within its
budget unless one trial runs much longer than every earlier one.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from datalake.sales.dataset import FeatureDataset, feature_rows
from datalake.sales.features import FeatureConfig, build_features
from datalake.sales.metrics import rmspe
from datalake.sales.model import SalesModel
from datalake.sales.split import before, between

#: The searches ``datalake run sales-retrain --search`` takes.
SEARCHES = ("none", "optuna")


@dataclass(frozen=True)
class SearchResult:
    """What a search found, and every trial it ran.

    Attributes
    ----------
    best_params
        The parameters of the best trial (all of them, defaults included).
    best_rmspe
        Its RMSPE on the validation window.
    default_rmspe
        The first trial's (the default parameters').
    trials
        One entry per finished trial: ``number``, ``params``, ``rmspe_validation``, ``seconds``.
    seconds
        The search's wall time.
    validation_start, validation_end
        The validation window.
    """

    best_params: dict[str, Any]
    best_rmspe: float
    default_rmspe: float
    trials: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    validation_start: dt.date | None = None
    validation_end: dt.date | None = None


def suggest_params(trial: Any, base: dict[str, Any]) -> dict[str, Any]:
    """One trial's parameters: ``base`` with the searched ones drawn from their ranges."""
    return {
        **base,
        "learning_rate": trial.suggest_float("learning_rate", 0.03, 0.3, log=True),
        "max_iter": trial.suggest_int("max_iter", 100, 600, step=50),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 15, 127),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 10, 200, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 1e-3, 10.0, log=True),
    }


def validation_parts(
    dataset: FeatureDataset, config: FeatureConfig
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What every trial fits and scores on: nothing from the test window, nothing of the validation
    window in the features a trial learns from.

    Returns
    -------
    tuple of DataFrame
        The fit rows' features (with ``sales`` and ``open``), their history (the training rows before
        the validation window), the validation window's open rows and their features.
    """
    dates = dataset.manifest["split_dates"]
    validation_start = dt.date.fromisoformat(dates["validation_start"])
    sales = dataset.sales_rows()
    train = sales[sales["split"] == "train"].drop(columns="split")
    history = before(train, validation_start).reset_index(drop=True)
    fit_rows = feature_rows(history, dataset.stores, history, config, validation_start)
    validation = between(train, validation_start)
    validation = validation[validation["open"] & (validation["sales"] > 0)].reset_index(drop=True)
    return fit_rows, history, validation, build_features(validation, dataset.stores, history, config)


def optuna_search(
    dataset: FeatureDataset,
    config: FeatureConfig,
    base_params: dict[str, Any],
    budget_s: float,
    seed: int = 0,
    max_trials: int | None = None,
) -> SearchResult:
    """Search the regressor's parameters on the validation window for at most ``budget_s`` seconds.

    Parameters
    ----------
    dataset
        The features version (its train split and split dates).
    config
        The feature settings it was built with.
    base_params
        The parameters the first trial uses, and the ones no trial changes (``random_state``).
    budget_s
        Seconds after which no new trial starts.
    seed
        The sampler's seed (TPE).
    max_trials
        At most this many trials (tests); None: as many as the budget allows.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.perf_counter()
    fit_rows, history, validation, validation_features = validation_parts(dataset, config)
    trials: list[dict[str, Any]] = []

    def objective(trial: optuna.Trial) -> float:
        began = time.perf_counter()
        params = suggest_params(trial, base_params)
        model = SalesModel.fit(fit_rows, history, dataset.stores, config, params)
        score = rmspe(validation["sales"], model.predict_features(validation_features))
        trials.append(
            {
                "number": trial.number,
                "params": params,
                "rmspe_validation": score,
                "seconds": round(time.perf_counter() - began, 2),
            }
        )
        return score

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    searched = ("learning_rate", "max_iter", "max_leaf_nodes", "min_samples_leaf", "l2_regularization")
    study.enqueue_trial({name: base_params[name] for name in searched})
    study.optimize(objective, n_trials=1)  # the defaults, whatever the budget

    def room_for_another() -> bool:
        return time.perf_counter() - started + max(t["seconds"] for t in trials) <= budget_s

    def stop_at_budget(study: optuna.Study, _trial: optuna.trial.FrozenTrial) -> None:
        if not room_for_another():
            study.stop()

    more = None if max_trials is None else max_trials - 1
    if (more is None or more > 0) and room_for_another():
        study.optimize(objective, n_trials=more, callbacks=[stop_at_budget])
    best = min(trials, key=lambda t: (t["rmspe_validation"], t["number"]))
    return SearchResult(
        best_params=best["params"],
        best_rmspe=best["rmspe_validation"],
        default_rmspe=trials[0]["rmspe_validation"],
        trials=trials,
        seconds=round(time.perf_counter() - started, 2),
        validation_start=validation["date"].min().date() if len(validation) else None,
        validation_end=validation["date"].max().date() if len(validation) else None,
    )
