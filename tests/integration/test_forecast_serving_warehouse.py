"""A horizon-only forecast request reads the newest hours from the real (embedded) warehouse."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
import torch
from forecast_fixtures import TINY, demand_rows, synthetic_series

from datalake.datasets import DEMAND_HOURLY
from datalake.errors import ConfigurationError, DataValidationError
from datalake.forecasting.data import load_recent
from datalake.forecasting.forecaster import TransformerForecaster
from datalake.settings import Settings
from datalake.warehouse.sync import upsert_frame

pytest_plugins = ["warehouse_fixtures"]
REPO = Path(__file__).resolve().parents[2]


def test_horizon_only_request_forecasts_from_the_warehouse_newest_hours(
    pg_settings: Settings, pg_conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    torch.set_num_threads(1)
    series = synthetic_series(days=40)
    real = series.iloc[:-5]
    pg_conn.execute("DROP TABLE IF EXISTS demand_hourly")
    with pytest.raises(ConfigurationError, match="no demand_hourly table"):
        load_recent(24, pg_settings)
    upsert_frame(pg_conn, DEMAND_HOURLY, demand_rows(real, "ree"))
    # Sample rows run 5 h further; with real rows present they must be ignored, cut-off included.
    upsert_frame(pg_conn, DEMAND_HOURLY, demand_rows(series * 2, "sample"))
    # The newest real hour has no demand (NULL is not allowed there): drop it to make a gap instead.
    gap = real.index[-30]
    pg_conn.execute("DELETE FROM demand_hourly WHERE ts_utc = %s AND source = 'ree'", (gap.to_pydatetime(),))

    recent = load_recent(TINY.context_hours, pg_settings)
    assert recent.demand_mw.index[-1] == real.index[-1]
    assert len(recent.demand_mw) == TINY.context_hours and recent.missing_hours == 1
    assert recent.demand_mw.max() < series.max() + 1  # no doubled sample values
    with pytest.raises(DataValidationError, match="no demand for region 'peninsular'"):
        load_recent(24, pg_settings, region="peninsular")

    forecaster = TransformerForecaster(TINY)
    model_dir = forecaster.save(tmp_path / "model")
    monkeypatch.setenv("DATABASE_URL", pg_settings.database_url or "")
    from datalake.settings import get_settings

    get_settings.cache_clear()
    spec = importlib.util.spec_from_file_location("sm_inference", REPO / "sagemaker" / "inference.py")
    assert spec and spec.loader
    inference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(inference)
    model = inference.model_fn(str(model_dir))
    request = inference.input_fn('{"days": 1}', "application/json")
    answer = json.loads(inference.output_fn(inference.predict_fn(request, model), None)[0])
    assert answer["data_cutoff"] == real.index[-1].isoformat()
    assert answer["missing_hours_filled"] == 1 and len(answer["points"]) == 24
    expected = forecaster.forecast(recent.demand_mw, [real.index[-1] + pd.Timedelta(hours=1)], 24)[0]
    assert [p["p50_mw"] for p in answer["points"]] == [round(float(v), 1) for v in expected[:, 1]]
