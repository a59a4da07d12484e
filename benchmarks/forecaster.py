"""Time the demand forecaster on CPU: training on the shared years, and single-request latency.

Training uses the development split (train 2015-2016, stop early on H1 2017). Latency is
one request at a time through the SageMaker handlers (input_fn -> predict_fn -> output_fn,
history in the request, so no database in the loop) for 1, 24 and 168 hours ahead.

    .venv/bin/python benchmarks/forecaster.py                  # train, then latency
    .venv/bin/python benchmarks/forecaster.py --model DIR      # latency of a saved model only
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "spain_demand" / "entsoe"
HORIZONS = (1, 24, 168)


def load_inference():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("sm_inference", REPO / "sagemaker" / "inference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, help="A saved model directory: skip training.")
    parser.add_argument("--requests", type=int, default=200, help="Requests per horizon.")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads.")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from datalake.forecasting.data import load_series
    from datalake.forecasting.pipeline import Split, fit_on_split

    files = sorted(SHARED.glob("Total Load - Day Ahead _ Actual_*.csv"))
    if not files:
        raise SystemExit(f"no ENTSO-E exports under {SHARED} (see ../shared/data/SOURCES.md)")
    series = load_series(files)
    figures: dict[str, object] = {
        "threads": args.threads,
        "cpu_count": os.cpu_count(),
        "data": series.description,
    }
    scratch = tempfile.TemporaryDirectory()
    model_dir = args.model
    if model_dir is None:
        import datetime as dt

        split = Split(dt.date(2017, 1, 1), dt.date(2017, 7, 1), dt.date(2017, 12, 31))
        began = time.perf_counter()
        forecaster, training = fit_on_split(series, split)
        figures["training"] = {
            "seconds": round(time.perf_counter() - began, 1),
            "epochs": training.epochs,
            "best_epoch": training.best_epoch,
            "stopped": training.stopped,
            "parameters": training.parameters,
        }
        print(
            f"training: {figures['training']['seconds']} s wall, {training.epochs} epochs"
            f" (best {training.best_epoch}, {training.stopped}), {training.parameters:,} parameters",
            flush=True,
        )
        model_dir = forecaster.save(Path(scratch.name) / "model")

    inference = load_inference()
    began = time.perf_counter()
    model = inference.model_fn(str(model_dir))
    figures["model_load_ms"] = round((time.perf_counter() - began) * 1000, 1)
    demand = series.demand_mw
    context = model.context_hours
    rng = np.random.default_rng(0)
    ends = demand.index[rng.integers(context + 1, len(demand) - 1, size=args.requests)]
    latency: dict[str, dict[str, float]] = {}
    for horizon in HORIZONS:
        times = []
        for end in ends:
            window = demand[(demand.index >= end - pd.Timedelta(hours=context)) & (demand.index < end)]
            body = json.dumps(
                {
                    "horizon_hours": horizon,
                    "history": {
                        "start": window.index[0].isoformat(),
                        "demand_mw": [None if np.isnan(v) else round(float(v), 1) for v in window],
                    },
                }
            )
            began = time.perf_counter()
            request = inference.input_fn(body, "application/json")
            inference.output_fn(inference.predict_fn(request, model), "application/json")
            times.append((time.perf_counter() - began) * 1000)
        latency[f"{horizon}h"] = {
            "p50_ms": round(float(np.percentile(times, 50)), 2),
            "p99_ms": round(float(np.percentile(times, 99)), 2),
            "requests": len(times),
        }
        print(
            f"latency {horizon:>3} h ahead: p50 {latency[f'{horizon}h']['p50_ms']:.1f} ms, "
            f"p99 {latency[f'{horizon}h']['p99_ms']:.1f} ms ({len(times)} requests, {args.threads} threads)",
            flush=True,
        )
    figures["latency"] = latency
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    scratch.cleanup()


if __name__ == "__main__":
    main()
