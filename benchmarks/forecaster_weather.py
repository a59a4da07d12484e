"""The weather model against the model without weather, the baselines and the grid operator.

Development split of the shared 2015-2017 data: train 2015-2016, stop early on H1 2017
(validation), score on H2 2017 (test). Tune on ``--window validation`` only.

Trains the two models (or loads saved ones), then backtests next hour and day ahead:

- the model without weather;
- the weather model with observed weather (a perfect forecast: the optimistic bound);
- the weather model with observed weather plus the realistic forecast error (ForecastError);

the weather model (WEATHER_MODEL) includes its gradient-boosted residual stack
(datalake/forecasting/boosted.py), trained and timed with it;

beside the naive baselines and the TSO's day-ahead forecast, all scored on the same hours.

    OMP_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/forecaster_weather.py \\
        --window test --save-models /tmp/models --png docs/forecaster-error-profile.png
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
DEMAND = SHARED / "spain_demand" / "entsoe"
WEATHER = SHARED / "spain_weather" / "weather_features_2015_2017.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--window", choices=("validation", "test"), default="validation")
    parser.add_argument("--weather-model", type=Path, help="A saved weather model: skip its training.")
    parser.add_argument("--plain-model", type=Path, help="A saved model without weather: skip its training.")
    parser.add_argument("--save-models", type=Path, help="Save trained models under this folder.")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: the machine is shared).")
    parser.add_argument("--png", type=Path, help="Write the day-ahead error by hour and month here.")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from datalake.forecasting.backtest import TsoDayAhead, day_ahead_errors, run_backtest
    from datalake.forecasting.config import WEATHER_MODEL, ForecastConfig
    from datalake.forecasting.data import load_series
    from datalake.forecasting.forecaster import TransformerForecaster
    from datalake.forecasting.pipeline import default_split, fit_on_split
    from datalake.forecasting.plot import plot_error_profile
    from datalake.forecasting.weather import ForecastError, read_weather_file

    series = load_series(sorted(DEMAND.glob("Total Load - Day Ahead _ Actual_*.csv")))
    weather = read_weather_file(WEATHER)
    split = default_split(series)
    figures: dict[str, object] = {
        "threads": args.threads,
        "cpu_count": os.cpu_count(),
        "data": series.description,
        "weather": weather.description,
        "split": str(split),
        "window": args.window,
    }
    models: dict[str, TransformerForecaster] = {}
    for label, given, config in (
        ("plain", args.plain_model, ForecastConfig()),
        ("weather", args.weather_model, WEATHER_MODEL),
    ):
        if given is not None:
            models[label] = TransformerForecaster.load(given)
            continue
        began = time.perf_counter()
        model, training = fit_on_split(
            series, split, config, show_bar=False, weather=weather if config.weather else None
        )
        minutes = (time.perf_counter() - began) / 60
        figures[f"{label}_training"] = {
            "minutes_with_calibration": round(minutes, 2),
            "epochs": training.epochs,
            "best_epoch": training.best_epoch,
            "stopped": training.stopped,
        }
        if model.stack is not None:  # the residual stack's rows and fit time (inside the minutes above)
            figures[f"{label}_training"]["residual_stack"] = model.stack.notes
        print(
            f"{label}: trained in {minutes:.1f} min ({training.epochs} epochs, {training.stopped})",
            flush=True,
        )
        if args.save_models:
            model.save(args.save_models / label)
        models[label] = model

    if args.window == "validation":
        first, last = split.validation_start, split.test_start - dt.timedelta(days=1)
    else:
        first, last = split.test_start, split.test_end
    runs = {
        "without weather": models["plain"],
        "weather, observed": models["weather"].with_weather(weather.with_error(None)),
        "weather, realistic error": models["weather"].with_weather(weather.with_error(ForecastError())),
    }
    table: dict[str, dict[str, float]] = {}
    for name, method in runs.items():
        report = run_backtest(series, method, first, last, "model")
        for task, body in report["tasks"].items():
            for method_name, scores in body["methods"].items():
                row = name if method_name == "model" else method_name
                table.setdefault(row, {})[f"{task}_mape_pct"] = round(scores["mape_pct"], 3)
                if method_name == "model":
                    table[row][f"{task}_coverage_pct"] = round(scores["coverage_p10_p90_pct"], 1)
    figures["mape"] = table
    print(f"{args.window} {first} .. {last}")
    for row, scores in table.items():
        print(f"  {row:<26} " + "  ".join(f"{k} {v}" for k, v in scores.items()))
    if args.png:
        compared = {**runs, "tso_day_ahead": TsoDayAhead(series.tso_forecast_mw)}
        errors = day_ahead_errors(series, compared, first, last)
        plot_error_profile(
            errors, args.png, f"Day-ahead MAPE, {first} .. {last} (origin 12:00 Madrid on D-1)"
        )
        print(f"wrote {args.png}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
