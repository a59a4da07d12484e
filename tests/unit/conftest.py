"""Unit fixtures: a tiny forecaster trained once per module on a synthetic series, and a lake whose
store-sales champion is a quick model on three synthetic stores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from forecast_fixtures import TINY, fit_on_synthetic, synthetic_series

from datalake.forecasting.forecaster import TransformerForecaster
from datalake.settings import Settings

#: Small trees: the tests of the store-sales API and endpoint check the serving, not the model's accuracy.
QUICK_SALES_PARAMS = {"max_iter": 40, "max_leaf_nodes": 15, "learning_rate": 0.2}
#: Synthetic stores in the champion's lake.
SALES_STORES = 3


@pytest.fixture(scope="module")
def trained() -> TransformerForecaster:
    torch.set_num_threads(1)
    series = synthetic_series()
    forecaster = TransformerForecaster(TINY)
    summary = fit_on_synthetic(forecaster, series)
    assert summary.epochs == 3 and np.isfinite(summary.best_validation_loss)
    return forecaster


@pytest.fixture(scope="module")
def champion_lake(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A lake with a registered store-sales champion (ETL + one quick retrain on synthetic stores).

    Module-scoped: each test module that asks for it gets a lake of its own.
    """
    # Imported here: only the store-sales modules need scikit-learn and MLflow.
    from sales_fixtures import synthetic_sales, synthetic_stores

    from datalake.sales import etl
    from datalake.sales.etl import run_sales_etl
    from datalake.sales.retrain import retrain_sales_model

    root = tmp_path_factory.mktemp("sales-champion")
    # This lake's own store, whatever MLFLOW_TRACKING_URI an earlier test left (mlflow exports it).
    settings = Settings(
        _env_file=None, lake_root=root / "lake", db_connect_timeout_s=1, mlflow_tracking_uri=None
    )
    tables = (synthetic_sales(stores=SALES_STORES, days=420), synthetic_stores(SALES_STORES))
    # mlflow.set_tracking_uri also exports MLFLOW_TRACKING_URI: leave the environment as it was.
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.setattr(etl, "read_rossmann_files", lambda folder: tables)
        run_sales_etl(settings, files=Path("synthetic"), progress=lambda _: None)
        report = retrain_sales_model(settings, params=QUICK_SALES_PARAMS, progress=lambda _: None)
    assert report["details"]["promoted"]
    return settings
