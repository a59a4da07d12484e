"""``datalake run sales-retrain``: train a challenger, score it and the champion, promote the better.

Both models are scored on the same latest test window (the last six weeks of the features dataset)
with RMSPE on open days. The registry is MLflow's: the model ``store-sales`` has versions, and the
aliases ``challenger`` (the newest trained) and ``champion`` (the one that serves). The first model
becomes champion; later ones only when their test RMSPE is lower.

A version is tagged with its training key (dataset digest + parameters): a rerun with the same data
and settings finds it and trains nothing, so it creates no second version.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from datalake import runtime, tracking
from datalake.runs import record_run
from datalake.sales import CHALLENGER, CHAMPION, MODEL_NAME, TRAIN_EXPERIMENT, promotion_decision
from datalake.sales.dataset import FeatureDataset, read_feature_dataset
from datalake.sales.features import FeatureConfig
from datalake.sales.metrics import baseline_predictions, rmspe
from datalake.sales.model import DEFAULT_PARAMS, MODEL_FILE, SalesModel
from datalake.sales.plots import residual_figure
from datalake.sales.search import SEARCHES, SearchResult, optuna_search
from datalake.settings import Settings, get_settings
from datalake.storage.base import ObjectStore

#: Bump when the model code changes what the same data and parameters produce.
MODEL_FORMAT = 1
#: The model file's folder inside each MLflow run's artifacts.
ARTIFACT_PATH = "model"
#: Seconds the optional parameter search may start trials for (``--budget-s``).
DEFAULT_SEARCH_BUDGET_S = 120.0


def training_key(dataset_version: str, params: dict[str, Any]) -> str:
    """What makes a training run the same run: dataset digest, parameters and model format."""
    text = json.dumps({"dataset": dataset_version, "params": params, "format": MODEL_FORMAT}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def feature_config(dataset: FeatureDataset) -> FeatureConfig:
    """The feature settings a dataset was built with (from its manifest)."""
    features = dataset.manifest["settings"]["features"]
    return FeatureConfig(
        horizon_days=features["horizon_days"],
        lags_days=tuple(features["lags_days"]),
        rolling_days=tuple(features["rolling_days"]),
        store_year_offset=features["store_year_offset"],
        # Datasets written before the setting existed used the dates' own calendar.
        date_year_offset=features.get("date_year_offset", 0),
    )


def fit_challenger(dataset: FeatureDataset, params: dict[str, Any] | None = None) -> SalesModel:
    """Fit on the dataset's train split; the model keeps the train split's sales as its history."""
    sales = dataset.sales_rows()
    history = sales[sales["split"] == "train"]
    return SalesModel.fit(dataset.part("train"), history, dataset.stores, feature_config(dataset), params)


def score_on_test(model: SalesModel, dataset: FeatureDataset) -> tuple[float, np.ndarray, pd.DataFrame]:
    """RMSPE of ``model`` on the dataset's test window, open days only, from raw rows.

    Returns
    -------
    tuple
        The RMSPE, the predictions of the open test rows and those rows.
    """
    sales = dataset.sales_rows()
    test = sales[(sales["split"] == "test") & sales["open"]]
    predicted = model.predict_rows(test)
    return rmspe(test["sales"], predicted), predicted, test


def _log_search(found: SearchResult, budget_s: float) -> None:
    """The search in the challenger's MLflow run: its settings, every trial and the best one."""
    import mlflow

    mlflow.log_params(
        {
            "search": "optuna",
            "search_budget_s": budget_s,
            "search_validation_start": str(found.validation_start),
            "search_validation_end": str(found.validation_end),
        }
    )
    mlflow.log_metrics(
        {
            "search_trials": len(found.trials),
            "search_seconds": found.seconds,
            "rmspe_validation_best": found.best_rmspe,
            "rmspe_validation_default": found.default_rmspe,
        }
    )
    for trial in found.trials:
        mlflow.log_metric("rmspe_validation_trial", trial["rmspe_validation"], step=trial["number"])
    mlflow.log_dict({"best_params": found.best_params, "trials": found.trials}, "optuna_search.json")


def _registered_version(client: Any, key: str) -> Any | None:
    for version in client.search_model_versions(f"name='{MODEL_NAME}'"):
        if version.tags.get("training_key") == key:
            return version
    return None


def _alias_version(client: Any, alias: str) -> Any | None:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(MODEL_NAME, alias)
    except MlflowException:
        return None


def load_registered(client: Any, version: Any, scratch: Path) -> SalesModel:
    """Download a registered version's model file and load it."""
    import mlflow

    local = mlflow.artifacts.download_artifacts(
        artifact_uri=f"runs:/{version.run_id}/{ARTIFACT_PATH}", dst_path=str(scratch)
    )
    return SalesModel.load(Path(local) / MODEL_FILE)


def retrain_sales_model(
    settings: Settings | None = None,
    dataset_version: str | None = None,
    params: dict[str, Any] | None = None,
    progress: Callable[[str], None] = print,
    search: str = "none",
    budget_s: float = DEFAULT_SEARCH_BUDGET_S,
) -> dict[str, Any]:
    """Train, compare with the champion on the same test window, register and maybe promote.

    Parameters
    ----------
    settings
        Lake settings (the process-wide ones when omitted).
    dataset_version
        The features version to train on (the latest written when omitted).
    params
        Regressor parameters over :data:`DEFAULT_PARAMS`.
    progress
        Where to report each step.
    search
        ``optuna``: search the parameters on the validation window first (:mod:`datalake.sales.search`),
        then train with the best; ``none``: train with ``params``.
    budget_s
        The search's time budget in seconds.

    Returns
    -------
    dict
        The ``sales_retrain`` run report: version, promoted, decision, both models' test RMSPE,
        the baseline's, training seconds (the search's included), and the search's figures.
    """
    if search not in SEARCHES:
        raise ValueError(f"search: expected one of {', '.join(SEARCHES)}, got {search!r}")
    settings = settings or get_settings()
    store = runtime.object_store("lake", settings)
    return _train_and_register(
        store, settings, dataset_version, params, progress, promote=True, search=search, budget_s=budget_s
    )


def register_challenger(store: ObjectStore, settings: Settings) -> dict[str, Any]:
    """The SageMaker training job's seam (:func:`datalake.sales_aws.train_in_container`).

    Trains a challenger on the latest features version in ``store`` (the job's channel), scores it
    and the current champion on the same test window, logs the MLflow run and registers the version
    with the alias ``challenger``, without promoting it: the promote step decides, with the rule
    :func:`~datalake.sales.promotion_decision`. A rerun on the same data registers nothing new.

    Returns
    -------
    dict
        ``version``, ``rmspe_test``, ``champion_version``, ``rmspe_test_champion`` (None without a
        champion, or when the version is the champion), ``dataset_version``, ``mlflow_run_id``.
    """
    details = _train_and_register(store, settings, None, None, print, promote=False)["details"]
    champion = details.get("champion_before")
    return {
        "version": str(details["version"]),
        "rmspe_test": details["rmspe_test"],
        "champion_version": None if champion is None else str(champion),
        "rmspe_test_champion": None if champion is None else details["rmspe_test_champion"],
        "dataset_version": details["dataset_version"],
        "mlflow_run_id": details["mlflow_run_id"],
    }


def _champion_rmspe(client: Any, champion: Any, dataset: FeatureDataset) -> float:
    """The champion's RMSPE on ``dataset``'s test window."""
    with tempfile.TemporaryDirectory() as scratch:
        model = load_registered(client, champion, Path(scratch))
        return score_on_test(model, dataset)[0]


def _train_and_register(
    store: ObjectStore,
    settings: Settings,
    dataset_version: str | None,
    params: dict[str, Any] | None,
    progress: Callable[[str], None],
    promote: bool,
    search: str = "none",
    budget_s: float = DEFAULT_SEARCH_BUDGET_S,
) -> dict[str, Any]:
    """:func:`retrain_sales_model` (``promote``) or :func:`register_challenger` (the aliases left to
    the promote step but ``challenger``)."""
    import mlflow

    params = {**DEFAULT_PARAMS, **(params or {})}
    client = tracking.client(settings)
    with record_run("sales_retrain", store) as report:
        dataset = read_feature_dataset(store, dataset_version)
        found: SearchResult | None = None
        if search == "optuna":
            progress(f"optuna: searching the parameters on the validation window for up to {budget_s:g} s")
            with report.timed("search"):
                found = optuna_search(dataset, feature_config(dataset), params, budget_s)
            params = found.best_params
            progress(
                f"optuna: {len(found.trials)} trial(s) in {found.seconds:g} s; validation RMSPE "
                f"{found.best_rmspe:.4f} (defaults {found.default_rmspe:.4f})"
            )
            report.details.update(
                search="optuna",
                search_trials=len(found.trials),
                search_seconds=found.seconds,
                rmspe_validation_best=found.best_rmspe,
                rmspe_validation_default=found.default_rmspe,
                best_params=params,
            )
        key = training_key(dataset.version, params)
        report.details.update(dataset_version=dataset.version, training_key=key)
        if not client.search_registered_models(f"name='{MODEL_NAME}'"):
            client.create_registered_model(MODEL_NAME, description="Daily sales per store, six weeks ahead.")
        same = _registered_version(client, key)
        if same is not None:
            champion = _alias_version(client, CHAMPION)
            progress(f"version {same.version} was trained on the same data and settings: nothing to train")
            report.details.update(
                version=same.version,
                promoted=False,
                trained=False,
                decision=f"same data and settings as version {same.version}: nothing trained",
                champion=champion.version if champion else None,
            )
            if not promote:  # the promote step compares both models' scores on this window
                rival = champion if champion is not None and champion.version != same.version else None
                report.details.update(
                    rmspe_test=float(same.tags["rmspe_test"]),
                    mlflow_run_id=same.run_id,
                    champion_before=rival.version if rival else None,
                    rmspe_test_champion=_champion_rmspe(client, rival, dataset) if rival else None,
                )
            return report.to_dict()
        progress(
            f"training a challenger on features {dataset.version} ({dataset.manifest['rows_train']:,} rows)"
        )
        started = time.perf_counter()
        with report.timed("train"):
            challenger = fit_challenger(dataset, params)
        train_seconds = time.perf_counter() - started
        with report.timed("score"):
            challenger_rmspe, predicted, test = score_on_test(challenger, dataset)
            sales = dataset.sales_rows()
            baseline_rmspe = rmspe(
                test["sales"], baseline_predictions(sales[sales["split"] == "train"], test)
            )
        champion_version = _alias_version(client, CHAMPION)
        champion_rmspe = None
        if champion_version is not None:
            with report.timed("score_champion"):
                champion_rmspe = _champion_rmspe(client, champion_version, dataset)
        split_dates = dataset.manifest["split_dates"]
        experiment = tracking.experiment_id(TRAIN_EXPERIMENT, settings)
        with mlflow.start_run(experiment_id=experiment, run_name=f"challenger-{key}") as run:
            mlflow.log_params(
                {
                    **params,
                    "dataset_version": dataset.version,
                    "training_key": key,
                    "test_start": split_dates["test_start"],
                    "test_end": split_dates["test_end"],
                    **{f"feature_{k}": v for k, v in feature_config(dataset).describe().items()},
                }
            )
            metrics = {
                "rmspe_test": challenger_rmspe,
                "rmspe_baseline_store_dow_promo": baseline_rmspe,
                "train_seconds": train_seconds,
                "training_rows": challenger.info["training_rows"],
                "test_rows_open": len(test),
            }
            if champion_rmspe is not None:
                metrics["rmspe_test_champion"] = champion_rmspe
            mlflow.log_metrics(metrics)
            mlflow.log_dict({"features": challenger.columns}, "features.json")
            if found is not None:
                _log_search(found, budget_s)
            figure = residual_figure(test["sales"].to_numpy(), predicted, f"store-sales challenger {key}")
            mlflow.log_figure(figure, "residuals.png")
            with tempfile.TemporaryDirectory() as scratch:
                mlflow.log_artifact(str(challenger.save(Path(scratch))), ARTIFACT_PATH)
            run_id = run.info.run_id
        version = client.create_model_version(
            MODEL_NAME,
            source=f"runs:/{run_id}/{ARTIFACT_PATH}",
            run_id=run_id,
            tags={
                "training_key": key,
                "dataset_version": dataset.version,
                "rmspe_test": f"{challenger_rmspe:.5f}",
            },
        ).version
        client.set_registered_model_alias(MODEL_NAME, CHALLENGER, version)
        promoted, reason = promotion_decision(challenger_rmspe, champion_version, champion_rmspe)
        if not promote:
            promoted, reason = False, f"registered as challenger; the promote step decides ({reason})"
        if promoted:
            client.set_registered_model_alias(MODEL_NAME, CHAMPION, version)
        client.set_model_version_tag(MODEL_NAME, version, "decision", reason)
        progress(f"version {version}: {'PROMOTED' if promoted else 'not promoted'} ({reason})")
        report.details.update(
            version=version,
            trained=True,
            promoted=promoted,
            decision=reason,
            champion_before=champion_version.version if champion_version else None,
            rmspe_test=challenger_rmspe,
            rmspe_test_champion=champion_rmspe,
            rmspe_baseline=baseline_rmspe,
            train_seconds=round(train_seconds, 2),
            mlflow_run_id=run_id,
        )
    return report.to_dict()
