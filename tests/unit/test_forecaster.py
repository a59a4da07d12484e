"""The transformer forecaster on small synthetic series: shapes, causality, training, save/load, registry."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from forecast_fixtures import FIRST_HOUR, TINY, synthetic_series

from datalake.errors import DataValidationError, ObjectNotFoundError
from datalake.forecasting.backtest import check_no_lookahead
from datalake.forecasting.config import ForecastConfig
from datalake.forecasting.data import DemandSeries
from datalake.forecasting.forecaster import TransformerForecaster
from datalake.forecasting.model import DemandTransformer, token_features, token_width
from datalake.forecasting.pipeline import Split, train_forecaster
from datalake.models import ModelRegistry
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore


def test_config_round_trips_and_refuses_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(TINY.to_json())
    assert ForecastConfig.load(path) == TINY
    with pytest.raises(ValueError, match="unknown forecaster config keys"):
        ForecastConfig.from_dict({"d_model": 8, "layers": 2})
    with pytest.raises(ValueError, match="multiple of patch_hours"):
        ForecastConfig(output_hours=30)


def test_quantiles_are_ordered_and_attention_is_causal() -> None:
    torch.manual_seed(0)
    model = DemandTransformer(TINY).eval()
    for parameter in model.head.parameters():  # the head starts at zero; give it something to say
        torch.nn.init.normal_(parameter, std=0.5)
    rng = np.random.default_rng(0)
    values = rng.normal(size=(2, TINY.context_hours)).astype(np.float32)
    calendar = rng.normal(size=(2, TINY.context_hours + TINY.output_hours, 12)).astype(np.float32)
    features, anchor, _ = token_features(values, calendar, TINY)
    assert features.shape == (2, TINY.context_patches, token_width(TINY))
    with torch.no_grad():
        out = model(torch.from_numpy(features), torch.from_numpy(anchor))
        assert out.shape == (2, TINY.context_patches, TINY.output_hours, 3)
        assert (out[..., 0] <= out[..., 1]).all() and (out[..., 1] <= out[..., 2]).all()
        changed = torch.from_numpy(features).clone()
        changed[:, 5] += 10.0  # a later token must not move the outputs of earlier ones
        again = model(changed, torch.from_numpy(anchor))
    assert torch.equal(out[:, :5], again[:, :5])
    assert not torch.equal(out[:, 5:], again[:, 5:])


def test_forecasts_have_every_horizon_and_read_only_the_past(trained: TransformerForecaster) -> None:
    series = synthetic_series()
    origins = pd.date_range("2024-04-10 11:00", periods=5, freq="17h", tz="UTC")
    quantiles = trained.forecast(series, origins, 100)  # three steps: rolls past output_hours
    assert quantiles.shape == (5, 100, 3) and np.isfinite(quantiles).all()
    assert (quantiles[..., 0] <= quantiles[..., 1]).all() and (quantiles[..., 1] <= quantiles[..., 2]).all()
    # The anchor alone is a fair forecast of this series: three epochs must not make it absurd.
    actual = np.stack([series.reindex(pd.date_range(o, periods=100, freq="h")).to_numpy() for o in origins])
    assert np.nanmean(np.abs(quantiles[..., 1] - actual) / actual) < 0.08
    check_no_lookahead(trained, series, origins, 36, "transformer")
    with pytest.raises(DataValidationError, match="hours of history"):
        trained.forecast(series, [FIRST_HOUR + pd.Timedelta(hours=24)], 1)


def test_a_saved_model_directory_describes_itself_and_forecasts_the_same(
    trained: TransformerForecaster, tmp_path: Path
) -> None:
    trained.metrics = {"note": "test"}
    directory = trained.save(tmp_path / "model")
    assert {p.name for p in directory.iterdir()} == {
        "config.json",
        "weights.pt",
        "normalisation.json",
        "training.json",
        "metrics.json",
    }
    loaded = TransformerForecaster.load(directory)
    assert (
        loaded.config == TINY and loaded.training == trained.training and loaded.metrics == {"note": "test"}
    )
    series = synthetic_series()
    origins = [pd.Timestamp("2024-04-20 10:00", tz="UTC")]
    np.testing.assert_array_equal(loaded.forecast(series, origins, 48), trained.forecast(series, origins, 48))
    (directory / "weights.pt").unlink()
    with pytest.raises(DataValidationError, match=r"no weights\.pt"):
        TransformerForecaster.load(directory)


def test_registry_keeps_versions_and_a_champion(trained: TransformerForecaster, tmp_path: Path) -> None:
    registry = ModelRegistry(LocalObjectStore(tmp_path / "artifacts"))
    assert registry.champion() is None and registry.versions() == []
    first = registry.register(trained.save(tmp_path / "m1"), {"day_ahead_mape_pct": 2.0})
    second = registry.register(trained.save(tmp_path / "m2"), {"day_ahead_mape_pct": 1.5})
    assert [v["version"] for v in registry.versions()] == sorted([first, second])
    registry.promote(second, "better")
    assert registry.champion()["version"] == second
    fetched = registry.fetch(second, tmp_path / "fetched")
    assert TransformerForecaster.load(fetched).config == TINY
    with pytest.raises(ObjectNotFoundError, match="no demand_forecaster version"):
        registry.promote("v0-nope", "typo")


def test_training_promotes_the_first_model_and_judges_the_next(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    series = DemandSeries(demand_mw=synthetic_series(), tso_forecast_mw=None, description="synthetic")
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=tmp_path / "lake")
    split = Split(dt.date(2024, 3, 15), dt.date(2024, 4, 1), dt.date(2024, 4, 28))
    first = train_forecaster(series, TINY, split, settings, show_bar=False)
    assert first["details"]["promoted"] and first["details"]["decision"].startswith("first model")
    assert first["details"]["champion_scores"] is None
    second = train_forecaster(series, TINY, split, settings, show_bar=False)
    details = second["details"]
    assert details["champion_before"] == first["details"]["version"]
    # Same seed, same data: the challenger ties the champion, and a tie keeps the champion.
    assert details["challenger_scores"] == details["champion_scores"]
    assert not details["promoted"]
    registry = ModelRegistry(LocalObjectStore(tmp_path / "lake" / "_artifacts"))
    assert registry.champion()["version"] == first["details"]["version"]
    assert len(registry.versions()) == 2
    assert "weekly_delta" in details["baselines"]["next_hour"]


def test_band_is_calibrated_on_validation_to_its_nominal_coverage(trained: TransformerForecaster) -> None:
    scale = trained.normalisation["band_scale"]
    assert len(scale["low"]) == len(scale["high"]) == TINY.output_hours and scale["origins"] >= 20
    series = synthetic_series()
    origins = pd.date_range("2024-03-15", "2024-04-28", freq="6h", tz="UTC")
    actual = np.stack([series.reindex(pd.date_range(o, periods=24, freq="h")).to_numpy() for o in origins])
    calibrated = trained.forecast(series, origins, 24)
    inside = (actual >= calibrated[..., 0]) & (actual <= calibrated[..., 2])
    assert 0.74 <= inside.mean() <= 0.86  # 80 % nominal, on the days that set the factors
    raw = copy.deepcopy(trained)
    raw.normalisation.pop("band_scale")
    uncalibrated = raw.forecast(series, origins, 24)
    np.testing.assert_allclose(uncalibrated[..., 1], calibrated[..., 1])
    assert not np.allclose(uncalibrated[..., 0], calibrated[..., 0])


def test_rolled_steps_never_narrow_the_band(trained: TransformerForecaster) -> None:
    series = synthetic_series()
    origins = pd.date_range("2024-04-01", periods=6, freq="13h", tz="UTC")
    out_hours = TINY.output_hours
    quantiles = trained.forecast(series, origins, 3 * out_hours)
    width = quantiles[..., 2] - quantiles[..., 0]
    for boundary in (out_hours, 2 * out_hours):
        # The first hour of a rolled step carries the last hour's uncertainty and adds its own.
        assert (width[:, boundary] > width[:, boundary - 1]).all()
    single = trained.forecast(series, origins, out_hours)
    np.testing.assert_allclose(quantiles[:, :out_hours], single)
