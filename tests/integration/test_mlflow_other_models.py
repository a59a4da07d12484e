"""The forecaster's and the movie classifier's training runs also land in the lake's MLflow store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import torch
from forecast_fixtures import TINY, synthetic_series
from movie_fixtures import synthetic_tables

from datalake import tracking
from datalake.forecasting.data import DemandSeries
from datalake.forecasting.pipeline import Split, train_forecaster
from datalake.movies.evaluation import YearSplit
from datalake.movies.training import train_movie_success
from datalake.settings import Settings


@pytest.mark.slow  # two trainings and a fresh MLflow store: about 100 s on this shared machine
def test_forecaster_and_movie_training_runs_are_logged_to_mlflow(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    settings = Settings(
        _env_file=None, lake_runtime="local", lake_root=tmp_path / "lake", mlflow_track_training=True
    )
    series = DemandSeries(demand_mw=synthetic_series(), tso_forecast_mw=None, description="synthetic")
    split = Split(dt.date(2024, 3, 15), dt.date(2024, 4, 1), dt.date(2024, 4, 28))
    forecast = train_forecaster(series, TINY, split, settings, show_bar=False)["details"]
    movies = train_movie_success(synthetic_tables(), "synthetic", YearSplit(2006, 2010), settings)["details"]

    client = tracking.client(settings)
    run = client.get_run(forecast["mlflow_run_id"])
    assert run.info.experiment_id == client.get_experiment_by_name("demand-forecaster").experiment_id
    assert run.data.params["registry_version"] == forecast["version"]
    assert run.data.params["d_model"] == str(TINY.d_model)
    assert run.data.metrics["day_ahead_mape_pct"] == forecast["challenger_scores"]["day_ahead_mape_pct"]
    assert run.data.tags["promoted"] == "true"

    run = client.get_run(movies["mlflow_run_id"])
    assert run.info.experiment_id == client.get_experiment_by_name("movie-success").experiment_id
    assert run.data.params["registry_version"] == movies["version"]
    assert run.data.metrics["roc_auc"] == movies["evaluation"]["test"]["model"]["roc_auc"]
