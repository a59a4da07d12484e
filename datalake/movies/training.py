"""Train a movie-success challenger, score it and the champion on the same test years, promote the better."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from datalake import runtime
from datalake.models import model_registry
from datalake.movies import MODEL_NAME
from datalake.movies.evaluation import YearSplit, fit_model, score_model
from datalake.movies.model import MovieSuccessModel
from datalake.movies.tables import MovieTables
from datalake.runs import record_run
from datalake.settings import Settings, get_settings

#: The promotion decision: ROC-AUC on the test years; PR-AUC breaks ties.
DECISION_METRICS = ("roc_auc", "pr_auc")


def _better(challenger: dict[str, float], champion: dict[str, float]) -> bool:
    return tuple(challenger[m] for m in DECISION_METRICS) > tuple(champion[m] for m in DECISION_METRICS)


def train_movie_success(
    tables: MovieTables,
    data_description: str,
    split: YearSplit | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Fit a challenger, score the champion on the same split, register and maybe promote.

    Parameters
    ----------
    tables
        The movie tables (lake or Kaggle CSV).
    data_description
        Where the data came from, for the run report and the version record.
    split
        Years to train, validate and test on (train <= 2010, test 2011+ by default).
    settings
        Lake settings; the process-wide ones when omitted.

    Returns
    -------
    dict
        The ``movie_success_train`` run report: version, promoted, decision, the challenger's
        report (test scores of the model and both baselines) and the champion's test scores.
    """
    settings = settings or get_settings()
    split = split or YearSplit()
    registry = model_registry(settings, name=MODEL_NAME)
    store = runtime.object_store("lake", settings)
    with record_run("movie_success_train", store, data=data_description, split=split.describe()) as report:
        with report.timed("train"):
            challenger, evaluation = fit_model(tables, split)
        scores = evaluation["test"]["model"]
        champion_record = registry.champion()
        champion_scores = None
        if champion_record is not None:
            with report.timed("score_champion"), tempfile.TemporaryDirectory() as scratch:
                champion = MovieSuccessModel.load(registry.fetch(champion_record["version"], Path(scratch)))
                champion_scores = score_model(champion, tables, split)
        with tempfile.TemporaryDirectory() as scratch:
            version = registry.register(
                challenger.save(Path(scratch)),
                scores,
                {"data": data_description, "split": split.describe(), "threshold": challenger.threshold},
            )
        if champion_scores is None:
            promoted, reason = True, "first model: no champion yet"
        elif _better(scores, champion_scores):
            promoted, reason = True, "challenger better on test ROC-AUC (PR-AUC breaks ties)"
        else:
            promoted, reason = False, "champion kept: challenger not better on test ROC-AUC"
        if promoted:
            registry.promote(version, reason)
        if settings.mlflow_track_training:
            from datalake import tracking

            with report.timed("mlflow"):
                report.details["mlflow_run_id"] = tracking.log_training_run(
                    "movie-success",
                    f"movie-success-{version}",
                    {"data": data_description, "split": split.describe(), "registry_version": version},
                    {**scores, **{f"champion_{k}": v for k, v in (champion_scores or {}).items()}},
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
