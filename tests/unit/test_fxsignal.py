"""The USD/COP buy/sell signal: series, past-only features, walk-forward, registry, SageMaker handlers."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import joblib
import numpy as np
import pandas as pd
import pytest

from datalake.errors import ConfigurationError, DataValidationError, ObjectNotFoundError
from datalake.fxsignal import serving
from datalake.fxsignal.backtest import WalkForward, score_backtest, score_signals, walk_forward_signals
from datalake.fxsignal.features import MIN_HISTORY, build_features, label_moves, labelled_frame
from datalake.fxsignal.model import MODEL_FILE, FxSignalModel, fit_signal_model
from datalake.fxsignal.series import (
    SHARED_FX,
    load_history,
    read_channel,
    read_spot_m5,
    read_trm_csv,
    sample_series,
)
from datalake.fxsignal.training import HoldoutSplit, train_fx_signal

REPO = Path(__file__).resolve().parents[2]
TRM_FILE = SHARED_FX / "trm_datos_gov_co_export_20250824.csv"
SPOT_FILE = SHARED_FX / "usdcop_m5_ohlcv_twelvedata_20260122.csv.gz"


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"sm_fx_{name}", REPO / "sagemaker" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_trm(path: Path, rates: pd.Series) -> Path:
    """A TRM export in the datos.gov.co format (newest first, "$4,008.70", dd/mm/yyyy)."""
    rows = ['"VALOR","UNIDAD","VIGENCIADESDE","VIGENCIAHASTA"']
    for day, rate in list(rates.items())[::-1]:
        rows.append(f'"${rate:,.2f}","COP","{day:%d/%m/%Y}","{day:%d/%m/%Y}"')
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def planted() -> pd.Series:
    """A SAMPLE series with persistent daily moves (AR 0.5): there is something to learn."""
    return sample_series(days=700, seed=3, momentum=0.5)


# -- series --------------------------------------------------------------------------------------


def test_sample_series_is_seeded_labelled_and_on_business_days() -> None:
    first, again, other = sample_series(300), sample_series(300), sample_series(300, seed=8)
    assert first.attrs["source"] == "SAMPLE" and first.equals(again) and not first.equals(other)
    assert (first.index.dayofweek < 5).all() and first.index.is_monotonic_increasing
    assert first.min() > 2000 and first.max() < 8000


def test_trm_export_is_parsed_and_sorted_and_a_bad_value_names_its_column(tmp_path: Path) -> None:
    rates = pd.Series(
        [4008.7, 4034.18, 3999.0], index=pd.to_datetime(["2025-08-21", "2025-08-22", "2025-08-23"])
    )
    read = read_trm_csv(write_trm(tmp_path / "trm.csv", rates))
    assert read.index.is_monotonic_increasing and read.attrs["source"] == "trm"
    assert read.tolist() == [4008.7, 4034.18, 3999.0]
    assert read_channel(tmp_path).equals(read)  # a folder channel finds the export
    (tmp_path / "bad.csv").write_text('"VALOR","VIGENCIADESDE"\n"$4,0x8.70","23/08/2025"\n')
    with pytest.raises(DataValidationError) as bad:
        read_trm_csv(tmp_path / "bad.csv")
    assert bad.value.field == "VALOR"


def test_spot_bars_keep_only_twelvedata_rows_and_the_last_close_of_each_day(tmp_path: Path) -> None:
    lines = [
        "time,symbol,open,high,low,close,volume,source,created_at,updated_at",
        "2024-01-02 08:00:00+00:00,USD/COP,1,1,1,9999.0,0,twelvedata_backfill,x,x",  # mislabelled clock
        "2024-01-02 13:00:00+00:00,USD/COP,1,1,1,3900.0,0,twelvedata,x,x",
        "2024-01-02 17:55:00+00:00,USD/COP,1,1,1,3910.0,0,twelvedata,x,x",
        "2024-01-03 13:00:00+00:00,USD/COP,1,1,1,3920.0,0,twelvedata,x,x",
    ]
    path = tmp_path / "usdcop_m5_ohlcv_twelvedata_x.csv.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    read = read_spot_m5(path)
    assert read.to_dict() == {pd.Timestamp("2024-01-02"): 3910.0, pd.Timestamp("2024-01-03"): 3920.0}
    assert read.attrs["source"] == "spot_m5"


def test_without_the_shared_files_auto_falls_back_to_the_sample_and_a_named_source_is_an_error(
    tmp_path: Path,
) -> None:
    assert load_history("auto", data_dir=tmp_path).attrs["source"] == "SAMPLE"
    with pytest.raises(DataValidationError, match="no trm_datos"):
        load_history("trm", data_dir=tmp_path)


@pytest.mark.skipif(not TRM_FILE.is_file(), reason=f"{TRM_FILE} absent (../shared/data is optional)")
def test_the_shared_trm_export_reads_as_documented() -> None:
    trm = load_history("trm")
    assert len(trm) == 8098 and trm.index.is_unique
    assert (trm.index[0].date().isoformat(), trm.index[-1].date().isoformat()) == ("1991-12-02", "2025-08-23")
    assert trm.min() == 620.62 and trm.max() == 5061.21 and trm.iloc[-1] == 4008.70
    assert load_history("auto").equals(trm)


@pytest.mark.skipif(not SPOT_FILE.is_file(), reason=f"{SPOT_FILE} absent (../shared/data is optional)")
def test_the_shared_spot_file_gives_daily_closes_near_the_trm() -> None:
    spot = load_history("spot_m5")
    assert spot.index[0] >= pd.Timestamp("2020-01-02") and spot.index[-1] <= pd.Timestamp("2026-01-15")
    assert 1400 < len(spot) <= 1565
    trm = load_history("trm")
    both = pd.concat([spot, trm], axis=1, join="inner").dropna()
    # SOURCES.md: the two agree within 0.15 % on average; a daily close vs the same day's TRM a bit less well.
    assert (both.iloc[:, 0] / both.iloc[:, 1] - 1).abs().median() < 0.01


# -- features and label --------------------------------------------------------------------------


def test_features_use_only_past_rates_and_labels_follow_the_threshold() -> None:
    rates = sample_series(120)
    features = build_features(rates)
    changed = rates.copy()
    changed.iloc[80:] *= 1.3  # the future changes
    assert features.iloc[:80].equals(build_features(changed).iloc[:80])
    assert (
        features.iloc[: MIN_HISTORY - 1].isna().any(axis=1).all()
        and features.iloc[MIN_HISTORY:].notna().all().all()
    )
    moves = pd.Series([0.004, -0.004, 0.003, -0.001, np.nan])
    assert label_moves(moves, 0.003).tolist()[:4] == ["buy", "sell", "hold", "hold"]
    assert pd.isna(label_moves(moves, 0.003).iloc[4])
    frame = labelled_frame(rates)
    assert frame.index[-1] == rates.index[-2]  # the last day has no next day: no label
    holed = rates.drop(rates.index[60:70])  # two weeks missing: day 59's next rate is no next-day move
    assert (
        rates.index[59] not in labelled_frame(holed).index and rates.index[58] in labelled_frame(holed).index
    )
    assert np.isclose(
        frame["next_return"].iloc[0], np.log(rates.iloc[MIN_HISTORY] / rates.iloc[MIN_HISTORY - 1])
    )


# -- backtest ------------------------------------------------------------------------------------


def test_scores_follow_the_positions_with_costs_per_unit_of_turnover() -> None:
    signals = pd.Series(["buy", "buy", "sell", "hold"])
    labels = pd.Series(["buy", "sell", "sell", "buy"])
    returns = pd.Series([0.01, -0.02, -0.01, 0.005])
    scores = score_signals(signals, labels, returns, cost_bps=10)
    # positions 1, 1, -1, 0: gross 0.01 - 0.02 + 0.01 + 0 = 0; turnover 1 + 0 + 2 + 1 = 4 units.
    assert scores["gross_pnl_pct"] == 0.0 and scores["cost_pct"] == 0.4 and scores["net_pnl_pct"] == -0.4
    assert scores["accuracy"] == 0.5 and scores["calls"] == 3 and scores["directional_accuracy"] == 0.6667
    assert scores["trades"] == 3
    hold = score_signals(pd.Series(["hold"] * 4), labels, returns, cost_bps=10)
    assert hold["net_pnl_pct"] == 0 and hold["directional_accuracy"] is None and hold["net_sharpe"] is None


def test_walk_forward_never_sees_the_future_and_retrains_each_step(planted: pd.Series) -> None:
    config = WalkForward(train_days=250, step_days=40)
    start = planted.index[300]
    signals = walk_forward_signals(planted, start, config=config)
    cut = planted.index[450]
    changed = planted.copy()
    changed[changed.index > cut] *= np.exp(
        np.random.default_rng(1).normal(0, 0.05, (changed.index > cut).sum())
    )
    again = walk_forward_signals(changed, start, config=config)
    # Signals up to the day before the cut depend on nothing after it (their label's rate is the cut).
    before = signals.index < cut
    assert signals.loc[before, "model"].equals(again.loc[before, "model"])
    assert not signals.loc[~before, "next_return"].equals(again.loc[~before, "next_return"])
    assert signals["fitted_on"].nunique() == int(np.ceil(len(signals) / 40))
    assert (signals["fitted_on"] <= signals.index).all()
    with pytest.raises(DataValidationError, match="need 250"):
        walk_forward_signals(planted, planted.index[100], config=config)


def test_on_a_series_with_persistent_moves_the_model_beats_always_hold(planted: pd.Series) -> None:
    config = WalkForward(train_days=250, step_days=40)
    scores = score_backtest(walk_forward_signals(planted, planted.index[300], config=config), config.cost_bps)
    assert scores["model"]["accuracy"] > scores["always_hold"]["accuracy"]
    assert scores["model"]["directional_accuracy"] > 0.55 and scores["model"]["net_pnl_pct"] > 0
    assert scores["always_hold"]["net_pnl_pct"] == 0 and scores["buy_and_hold_usd"]["trades"] == 1


# -- model, registry -----------------------------------------------------------------------------


def test_model_round_trip_keeps_its_history_and_refuses_another_scikit_learn(tmp_path: Path) -> None:
    rates = sample_series(300)
    model = fit_signal_model(rates)
    loaded = FxSignalModel.load(model.save(tmp_path / "m"))
    assert loaded.history.equals(model.history) and loaded.trained_until == rates.index[-1].date().isoformat()
    features = build_features(rates).dropna()
    assert loaded.probabilities(features).equals(model.probabilities(features))
    saved = joblib.load(tmp_path / "m" / MODEL_FILE)
    joblib.dump({**saved, "sklearn_version": "0.0.1"}, tmp_path / "m" / MODEL_FILE)
    with pytest.raises(ConfigurationError, match=r"0\.0\.1"):
        FxSignalModel.load(tmp_path / "m")
    with pytest.raises(DataValidationError, match="at least 60"):
        fit_signal_model(rates.iloc[:70])


def test_first_model_is_promoted_and_an_equal_challenger_is_not(lake_settings) -> None:  # type: ignore[no-untyped-def]
    rates = sample_series(500)
    split = HoldoutSplit(holdout_days=100, train_days=300)
    first = train_fx_signal(rates, "SAMPLE", split, lake_settings)
    assert first["details"]["promoted"] and first["status"] == "succeeded"
    holdout = first["details"]["evaluation"]["holdout"]
    assert (
        holdout["days"] == 100
        and first["details"]["evaluation"]["holdout_start"] == rates.index[-101].date().isoformat()
    )
    second = train_fx_signal(rates, "SAMPLE", split, lake_settings)
    assert not second["details"]["promoted"] and second["details"]["champion_scores"] == holdout
    assert second["details"]["champion_before"] == first["details"]["version"]
    assert "optimistic" not in second["details"]["decision"]  # same cut: the champion saw no holdout day


# -- serving and the SageMaker scripts -------------------------------------------------------------


def test_rates_requests_are_validated_naming_the_field() -> None:
    with pytest.raises(DataValidationError) as missing:
        serving.parse_rates({})
    assert missing.value.field == "rates"
    with pytest.raises(DataValidationError) as bad_date:
        serving.parse_rates({"rates": [{"date": "2025-13-01", "rate": 4000}]})
    assert bad_date.value.field == "rates[0].date"
    with pytest.raises(DataValidationError) as bad_rate:
        serving.parse_rates(
            {"rates": [{"date": "2025-01-02", "rate": 4000}, {"date": "2025-01-03", "rate": -1}]}
        )
    assert bad_rate.value.field == "rates[1].rate"
    parsed = serving.parse_rates(
        [{"date": "2025-01-03", "rate": "4001.5"}, {"date": "2025-01-02", "rate": 4000}]
    )
    assert parsed.index.is_monotonic_increasing and parsed.tolist() == [4000.0, 4001.5]


def test_advice_merges_recent_rates_over_the_bundled_tail_and_refuses_a_gap() -> None:
    rates = sample_series(400)
    model = fit_signal_model(rates.iloc[:300])
    recent = rates.iloc[300:330]
    answer = serving.advise(model, recent)
    assert (
        answer["as_of"] == rates.index[329].date().isoformat()
        and answer["rate_cop_per_usd"] == rates.iloc[329]
    )
    assert (
        answer["signal"] in ("buy", "sell", "hold") and abs(sum(answer["probabilities"].values()) - 1) < 1e-3
    )
    expected = model.signals(build_features(rates.iloc[:330]).iloc[[-1]]).iloc[0]
    assert answer["signal"] == expected
    # Only the newest rates, months after training: the feature window has a hole.
    with pytest.raises(DataValidationError, match="no rate for"):
        serving.advise(model, rates.iloc[380:])


def test_sagemaker_train_and_inference_handlers_on_the_sample(tmp_path: Path) -> None:
    train = load_script("fx_signal_train")
    with pytest.raises(DataValidationError, match="unknown hyperparameter"):
        train.hyperparameters(["--depth", "3"], {})
    assert train.hyperparameters(["--threshold", "0.004"], {"SM_HPS": '{"holdout_days": "50"}'}) == {
        "holdout_days": 50,
        "threshold": 0.004,
    }
    folders = ["--model-dir", str(tmp_path / "model"), "--output-data-dir", str(tmp_path / "out")]
    evaluation = train.main(["--source", "sample", *folders, "--holdout-days", "100", "--train-days", "500"])
    assert evaluation["source"] == "SAMPLE" and evaluation["holdout"]["days"] == 100
    tail = sample_series()
    assert evaluation["trained_until"] == tail.index[-101].date().isoformat()  # fitted before the holdout
    assert json.loads((tmp_path / "out" / "evaluation.json").read_text())["holdout"] == evaluation["holdout"]
    assert (tmp_path / "model" / "code" / "inference.py").read_text() == (
        REPO / "sagemaker" / "fx_signal_inference.py"
    ).read_text()

    inference = load_script("fx_signal_inference")
    model = inference.model_fn(str(tmp_path / "model"))
    assert model.history.index[-1] == tail.index[-1]  # but it carries the holdout's rates
    body = json.dumps(serving.rates_payload(tail.iloc[-5:]))
    answer, content_type = inference.output_fn(
        inference.predict_fn(inference.input_fn(body, "application/json; charset=utf-8"), model), "*/*"
    )
    assert (
        content_type == "application/json"
        and json.loads(answer)["as_of"] == tail.index[-1].date().isoformat()
    )
    for call, status in (
        (lambda: inference.input_fn(body, "text/csv"), 415),
        (lambda: inference.output_fn({}, "text/html"), 406),
        (lambda: inference.input_fn('{"rates": [{"date": "x", "rate": 1}]}', "application/json"), 400),
        (
            lambda: inference.predict_fn(
                serving.parse_rates({"rates": [{"date": "2031-01-02", "rate": 4000}]}), model
            ),
            400,
        ),
    ):
        with pytest.raises(inference.InferenceError) as error:
            call()
        assert error.value.status_code == status


def test_cli_trains_the_signal_and_keeps_the_champion_on_a_tie(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from datalake.cli import app
    from datalake.fxsignal.serving import load_champion
    from datalake.settings import get_settings

    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    runner = CliRunner()
    first = runner.invoke(app, ["train", "fx-signal", "--source", "sample"])
    assert first.exit_code == 0, first.output
    assert "training fx_signal on SAMPLE" in first.output and "PROMOTED (first model" in first.output
    second = runner.invoke(app, ["train", "fx-signal", "--source", "sample"])
    assert second.exit_code == 0 and "not promoted (champion kept" in second.output
    champion = load_champion(tmp_path / "fetched")
    assert champion.version in first.output and champion.history.index[-1] == sample_series().index[-1]
    get_settings.cache_clear()


def test_the_in_process_signal_serves_the_champion_and_picks_up_a_promotion(
    tmp_path: Path, lake_settings
) -> None:  # type: ignore[no-untyped-def]
    from datalake.fxsignal import MODEL_NAME
    from datalake.models import model_registry

    registry = model_registry(lake_settings, name=MODEL_NAME)
    rates = sample_series(300)
    source = serving.InProcessSignal(settings=lake_settings, clock=lambda: now[0])
    now = [0.0]
    with pytest.raises(ObjectNotFoundError, match="no fx_signal model trained yet"):
        source.signal(rates.iloc[-5:])
    first = registry.register(fit_signal_model(rates).save(tmp_path / "a"), {})
    registry.promote(first, "test")
    assert source.signal(rates.iloc[-5:])["model_version"] == first
    second = registry.register(fit_signal_model(rates, params={"C": 1.0}).save(tmp_path / "b"), {})
    registry.promote(second, "test")
    assert source.signal(rates.iloc[-5:])["model_version"] == first  # checked again only after API_REFRESH_S
    now[0] = lake_settings.api_refresh_s + 1
    assert source.signal(rates.iloc[-5:])["model_version"] == second


def test_the_benchmark_runs_both_windows_on_the_sample(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("bench_fx_signal", REPO / "benchmarks" / "fx_signal.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    results = bench.main(["--source", "sample", "--final-years", "2"])
    printed = capsys.readouterr().out
    assert "SAMPLE: 2019-01-01..2024-09-30, 1,500 daily rates" in printed and "FINAL TEST" in printed
    final = results["SAMPLE"]["final"]
    assert final["always_hold"]["net_pnl_pct"] == 0 and final["model"]["days"] > 400
    # The final window starts two years before the end, after the development window.
    assert final["model"]["days"] + results["SAMPLE"]["development"]["model"]["days"] < 1500
