"""Store-sales ETL and retraining against a real local MLflow store (SQLite under a temporary lake).

Synthetic stores keep each test short; one slow test runs on a subset of the shared Rossmann data.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sales_fixtures import rossmann_tables, synthetic_sales, synthetic_stores

from datalake import tracking
from datalake.sales import ETL_EXPERIMENT, MODEL_NAME, TRAIN_EXPERIMENT, etl
from datalake.sales.etl import run_sales_etl
from datalake.sales.predict import load_alias, predict_sales
from datalake.sales.retrain import retrain_sales_model
from datalake.settings import Settings

#: Small trees: these tests check the pipeline, not the model's accuracy.
QUICK = {"max_iter": 40, "max_leaf_nodes": 15, "learning_rate": 0.2}
#: A challenger worse by construction: one tiny boosting step stays at the store x weekday x promo
#: reference and misses the synthetic school-holiday lift.
WEAK = {"max_iter": 1, "max_leaf_nodes": 2, "learning_rate": 0.01}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A lake whose sales_etl tables are four synthetic stores."""
    tables = (synthetic_sales(stores=4, days=420), synthetic_stores(4))
    monkeypatch.setattr(etl, "read_rossmann_files", lambda folder: tables)
    return Settings(lake_root=tmp_path / "lake")


def _etl(settings: Settings) -> dict:
    return run_sales_etl(settings, files=Path("synthetic"), progress=lambda _: None)["details"]


def test_etl_logs_digest_counts_and_split_dates_and_a_rerun_keeps_the_digest(lake: Settings) -> None:
    first = _etl(lake)
    second = _etl(lake)
    assert first["dataset_version"] == second["dataset_version"]
    client = tracking.client(lake)
    experiment = client.get_experiment_by_name(ETL_EXPERIMENT)
    run = client.get_run(first["mlflow_run_id"])
    assert run.info.experiment_id == experiment.experiment_id
    assert run.data.params["dataset_version"] == first["dataset_version"]
    assert run.data.params["split_test_start"] == first["split_dates"]["test_start"]
    assert run.data.metrics["rows"] == 4 * 420
    assert run.data.metrics["rows_test"] == 4 * 42
    # Artifacts live under the lake root, beside the SQLite database.
    assert run.info.artifact_uri.startswith((lake.lake_root / "mlflow" / "artifacts").resolve().as_uri())
    assert (lake.lake_root / "mlflow" / "mlflow.db").is_file()
    manifest = json.loads(Path(client.download_artifacts(run.info.run_id, "manifest.json")).read_text())
    assert manifest["version"] == first["dataset_version"]


def test_first_model_is_champion_a_rerun_adds_no_version_and_only_a_better_one_is_promoted(
    lake: Settings,
) -> None:
    _etl(lake)
    quiet = {"progress": lambda _: None}
    first = retrain_sales_model(lake, params=QUICK, **quiet)["details"]
    assert first["promoted"] and first["decision"].startswith("first model")
    again = retrain_sales_model(lake, params=QUICK, **quiet)["details"]
    assert not again["trained"] and again["version"] == first["version"]
    client = tracking.client(lake)
    assert len(client.search_model_versions(f"name='{MODEL_NAME}'")) == 1

    weak = retrain_sales_model(lake, params=WEAK, **quiet)["details"]
    assert not weak["promoted"] and weak["rmspe_test"] > weak["rmspe_test_champion"]
    assert weak["rmspe_test_champion"] == pytest.approx(first["rmspe_test"])
    assert client.get_model_version_by_alias(MODEL_NAME, "champion").version == first["version"]
    assert client.get_model_version_by_alias(MODEL_NAME, "challenger").version == weak["version"]

    stronger = retrain_sales_model(lake, params={**QUICK, "max_iter": 120}, **quiet)["details"]
    assert stronger["promoted"] == (stronger["rmspe_test"] < first["rmspe_test"])
    champion = client.get_model_version_by_alias(MODEL_NAME, "champion").version
    assert champion == (stronger["version"] if stronger["promoted"] else first["version"])

    run = client.get_run(first["mlflow_run_id"])
    assert run.info.experiment_id == client.get_experiment_by_name(TRAIN_EXPERIMENT).experiment_id
    assert run.data.params["max_iter"] == "40"
    assert run.data.metrics["rmspe_test"] == pytest.approx(first["rmspe_test"])
    logged = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {"features.json", "residuals.png", "model"} <= logged
    assert [i.path for i in client.list_artifacts(run.info.run_id, "model")] == [
        "model/store_sales_model.joblib"
    ]

    loaded = load_alias("champion", lake)
    answer = predict_sales(
        [{"store_id": 1, "date": "2024-02-20", "promo": True, "state_holiday": "0", "school_holiday": False}],
        loaded,
    )
    assert answer["model_version"] == str(champion) and answer["predictions"][0]["predicted_sales"] > 0


def test_retrain_without_features_says_to_run_the_etl(lake: Settings) -> None:
    with pytest.raises(FileNotFoundError, match="sales-etl"):
        retrain_sales_model(lake, params=QUICK, progress=lambda _: None)


@pytest.mark.slow  # the UI server imports MLflow and migrates its store: 25-55 s here
def test_mlflow_ui_starts_answers_http_and_stops(lake: Settings) -> None:
    port = _free_port()
    process = tracking.start_ui(lake, port=port)
    try:
        deadline = time.monotonic() + 150
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert status == 200, f"the MLflow UI did not answer (exit code {process.poll()})"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode is not None


@pytest.mark.slow
def test_retrain_on_ten_rossmann_stores_beats_the_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = rossmann_tables(stores=list(range(1, 11)))
    monkeypatch.setattr(etl, "read_rossmann_files", lambda folder: tables)
    settings = Settings(lake_root=tmp_path / "lake")
    _etl(settings)
    details = retrain_sales_model(settings, params={"max_iter": 150}, progress=lambda _: None)["details"]
    assert details["promoted"]
    assert details["rmspe_test"] < details["rmspe_baseline"]


@pytest.fixture(autouse=True)
def _no_tracking_uri(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local SQLite store, whatever the developer's environment says."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield


def test_the_training_job_registers_a_challenger_and_leaves_the_promotion_to_the_promote_step(
    lake: Settings, tmp_path: Path
) -> None:
    from datalake.sales_aws import promote_training_output, train_in_container

    _etl(lake)
    weak = retrain_sales_model(lake, params=WEAK, progress=lambda _: None)["details"]
    client = tracking.client(lake)
    channel = lake.lake_root / "features" / "store_sales"  # what SageMaker copies into the channel

    def job(name: str) -> Any:
        return train_in_container(
            channel,
            tmp_path / name / "model",
            tmp_path / name / "out",
            tmp_path / name / "staging",
            settings=lake,
        )

    evaluation = job("first")
    assert evaluation.dataset_version == weak["dataset_version"]
    assert evaluation.champion_version == str(weak["version"])
    assert evaluation.rmspe_test_champion == pytest.approx(weak["rmspe_test"])
    assert evaluation.rmspe_test < evaluation.rmspe_test_champion  # default trees beat one weak step
    # Registered as challenger, not promoted: the champion is the promote step's call.
    assert str(client.get_model_version_by_alias(MODEL_NAME, "challenger").version) == evaluation.version
    assert str(client.get_model_version_by_alias(MODEL_NAME, "champion").version) == str(weak["version"])
    assert client.get_run(evaluation.mlflow_run_id).data.metrics["rmspe_test"] == pytest.approx(
        evaluation.rmspe_test
    )

    outcome = promote_training_output(evaluation, client)
    assert outcome["promoted"] and outcome["champion"] == evaluation.version
    # A rerun on the same data trains nothing, registers no version and finds its version champion.
    again = job("again")
    assert again.version == evaluation.version and again.champion_version is None
    assert len(client.search_model_versions(f"name='{MODEL_NAME}'")) == 2
    assert promote_training_output(again, client)["decision"] == "already champion"


def test_the_optuna_search_tunes_on_the_validation_window_only_and_starts_from_the_defaults(
    lake: Settings,
) -> None:
    import datetime as dt

    from datalake.sales.dataset import read_feature_dataset
    from datalake.sales.model import DEFAULT_PARAMS
    from datalake.sales.retrain import feature_config
    from datalake.sales.search import optuna_search, validation_parts
    from datalake.storage.local import LocalObjectStore

    _etl(lake)
    dataset = read_feature_dataset(LocalObjectStore(lake.lake_root))
    dates = {k: dt.date.fromisoformat(v) for k, v in dataset.manifest["split_dates"].items()}
    config = feature_config(dataset)
    fit_rows, history, validation, _ = validation_parts(dataset, config)
    # Trials learn from the days before the validation window and are scored on it: the test window
    # is in neither, and no validation day is in what a trial learns from.
    assert history["date"].max().date() < dates["validation_start"]
    assert pd.to_datetime(fit_rows["date"]).max().date() < dates["validation_start"]
    assert validation["date"].min().date() >= dates["validation_start"]
    assert validation["date"].max().date() < dates["test_start"]

    found = optuna_search(dataset, config, DEFAULT_PARAMS, budget_s=600, max_trials=3)
    assert [t["number"] for t in found.trials] == [0, 1, 2]
    assert found.trials[0]["params"] == DEFAULT_PARAMS  # the defaults first
    assert found.best_rmspe == min(t["rmspe_validation"] for t in found.trials) <= found.default_rmspe
    assert len({json.dumps(t["params"], sort_keys=True) for t in found.trials}) == 3
    again = optuna_search(dataset, config, DEFAULT_PARAMS, budget_s=600, max_trials=3)
    assert again.best_params == found.best_params  # a seeded sampler


def test_retrain_with_a_search_trains_the_best_parameters_and_logs_the_trials(lake: Settings) -> None:
    _etl(lake)
    quiet = {"progress": lambda _: None}
    # A zero budget runs the defaults' trial only: the challenger is the defaults' model.
    searched = retrain_sales_model(lake, search="optuna", budget_s=0, **quiet)["details"]
    assert searched["search_trials"] == 1
    assert searched["rmspe_validation_best"] == searched["rmspe_validation_default"]
    plain = retrain_sales_model(lake, **quiet)["details"]
    assert not plain["trained"] and plain["version"] == searched["version"]  # the same training key
    client = tracking.client(lake)
    run = client.get_run(searched["mlflow_run_id"])
    assert run.data.params["search"] == "optuna" and run.data.metrics["search_trials"] == 1
    logged = json.loads(Path(client.download_artifacts(run.info.run_id, "optuna_search.json")).read_text())
    assert len(logged["trials"]) == 1 and logged["best_params"] == logged["trials"][0]["params"]
    with pytest.raises(ValueError, match="search"):
        retrain_sales_model(lake, search="grid", **quiet)
