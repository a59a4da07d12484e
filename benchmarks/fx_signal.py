"""Walk-forward backtest of the USD/COP buy/sell signal against always-hold, momentum and buy-and-hold.

For each series (the official TRM 1991-2025, the 5-minute spot quotes' daily closes 2020-2026,
or the SAMPLE random walk when ../shared/data is absent), two windows, both walked forward with a
refit every ``--step-days`` on the previous ``--train-days`` labelled days:

1. development: everything before the final ``--final-years``. The model's parameters (C and
   class weights, see ``datalake/fxsignal/model.py``) and the 0.3 % threshold were chosen here;
2. final test: the last ``--final-years``, run once with those choices (never tuned on).

Units: accuracy and directional accuracy are shares of days / of calls (non-hold signals), with
a +-2 standard-error band for the latter; P&L is the sum of daily log returns of a one-unit
position (long dollars on buy, short on sell, flat on hold) in percent of the notional, net of
``--cost-bps`` basis points per unit of position change; Sharpe is annualised (252 days).

    OMP_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/fx_signal.py
    ... benchmarks/fx_signal.py --source sample          # without the shared data

A caveat the figures carry: the TRM of day d is an average of day d-1's trades, so its daily
changes are autocorrelated and a "trade at the TRM" is not executable; momentum looks better on
it than on the spot closes. The spot series is the fairer test, but covers only six years.
"""

from __future__ import annotations

import argparse
import math
import time

import pandas as pd

from datalake.fxsignal.backtest import (
    STRATEGIES,
    WalkForward,
    final_test_start,
    score_backtest,
    walk_forward_signals,
)
from datalake.fxsignal.features import MIN_HISTORY
from datalake.fxsignal.model import class_shares
from datalake.fxsignal.series import SHARED_FX, load_history

TRAIN_DAYS = {"trm": 1000, "spot_m5": 500, "sample": 500}


def band(scores: dict) -> str:
    """Directional accuracy with +-2 standard errors (binomial), or n/a without calls."""
    if not scores["calls"]:
        return "n/a (no calls)"
    p = scores["directional_accuracy"]
    return f"{p:.3f} +- {2 * math.sqrt(p * (1 - p) / scores['calls']):.3f}"


def print_window(name: str, signals: pd.DataFrame, config: WalkForward) -> dict:
    """Print one window's table; returns the scores."""
    scores = score_backtest(signals, config.cost_bps)
    first, last = signals.index[0].date(), signals.index[-1].date()
    shares = class_shares(signals["label"])
    print(f"  {name}: {first}..{last}, {len(signals):,} days, {signals['fitted_on'].nunique()} refits")
    print(f"    label shares: sell {shares['sell']:.3f}, hold {shares['hold']:.3f}, buy {shares['buy']:.3f}")
    header = (
        f"    {'strategy':<17}{'accuracy':>9}{'calls':>7}  {'directional acc.':<18}"
        f"{'gross %':>9}{'costs %':>9}{'net %':>9}{'net %/yr':>10}{'Sharpe':>8}{'trades':>8}"
    )
    print(header)
    for strategy in STRATEGIES:
        s = scores[strategy]
        sharpe = "n/a" if s["net_sharpe"] is None else f"{s['net_sharpe']:.2f}"
        print(
            f"    {strategy:<17}{s['accuracy']:>9.3f}{s['calls']:>7}  {band(s):<18}{s['gross_pnl_pct']:>9.2f}"
            f"{s['cost_pct']:>9.2f}{s['net_pnl_pct']:>9.2f}{s['net_annualised_pct']:>10.2f}{sharpe:>8}{s['trades']:>8}"
        )
    return scores


def verdict(scores: dict) -> str:
    """Whether the model beat each baseline on the final window (accuracy and net P&L)."""
    model = scores["model"]
    parts = []
    for baseline in ("always_hold", "momentum", "buy_and_hold_usd"):
        other = scores[baseline]
        acc = "beats" if model["accuracy"] > other["accuracy"] else "does NOT beat"
        pnl = "beats" if model["net_pnl_pct"] > other["net_pnl_pct"] else "does NOT beat"
        parts.append(f"{baseline}: accuracy {acc}, net P&L {pnl}")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=("available", "trm", "spot_m5", "sample"), default="available")
    parser.add_argument("--final-years", type=float, default=3.0)
    parser.add_argument("--cost-bps", type=float, default=10.0)
    parser.add_argument("--step-days", type=int, default=21)
    parser.add_argument(
        "--train-days", type=int, default=None, help="default: 1000 for the TRM, 500 otherwise"
    )
    args = parser.parse_args(argv)
    if args.source == "available":
        present = [
            s
            for s, glob in (("trm", "trm_*.csv"), ("spot_m5", "usdcop_m5_*.csv.gz"))
            if any(SHARED_FX.glob(glob))
        ]
        sources = present or ["sample"]
    else:
        sources = [args.source]
    results = {}
    for source in sources:
        started = time.perf_counter()
        rates = load_history(source)
        train_days = args.train_days or TRAIN_DAYS[source]
        config = WalkForward(train_days=train_days, step_days=args.step_days, cost_bps=args.cost_bps)
        final_start = final_test_start(rates, args.final_years)
        label = rates.attrs["source"]
        print(f"{label}: {rates.index[0].date()}..{rates.index[-1].date()}, {len(rates):,} daily rates")
        print(
            f"  walk-forward: refit every {config.step_days} days on the last {train_days} labelled days; "
            f"threshold {100 * config.threshold:.1f} %; "
            f"costs {config.cost_bps:g} bp per unit of position change"
        )
        dev_start = rates.index[train_days + MIN_HISTORY]
        dev_end = rates.index[rates.index < final_start][-1]
        development = walk_forward_signals(rates, dev_start, dev_end, config)
        dev_scores = print_window("development (choices made here)", development, config)
        final = walk_forward_signals(rates, final_start, None, config)
        final_scores = print_window("FINAL TEST (run once, never tuned on)", final, config)
        print(f"  final: the model {verdict(final_scores)}")
        print(f"  ({time.perf_counter() - started:.1f} s)\n")
        results[label] = {"development": dev_scores, "final": final_scores}
    return results


if __name__ == "__main__":
    main()
