"""Load-test the API on loopback: p50/p99 latency and requests/s for /ask and /forecast.

For each data size (one year and ten years of hourly SAMPLE demand, with daily SAMPLE
generation by technology), the benchmark loads a scratch warehouse (the embedded
PostgreSQL, or DATABASE_URL when set: its demand_hourly, generation and predictions tables
are replaced), promotes a forecaster of the default size as champion in a scratch lake,
starts ``uvicorn --factory api.main:create_app`` on 127.0.0.1 and sends requests from
keep-alive clients: one at a time (latency) and several at once (throughput).

The forecaster's weights are untrained (its latency is that of a trained one; its numbers
mean nothing). Forecasts are cached per (model, data cut-off, horizon), so the first request
of each horizon is the one that computes: it is reported apart, as "first".

    .venv/bin/python benchmarks/api.py                        # 1 and 10 years
    .venv/bin/python benchmarks/api.py --years 1 --requests 300 --concurrency 1 8
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
ASK_QUESTIONS: list[tuple[str, str]] = [
    ("POST", "¿Cuál fue la demanda máxima ayer?"),
    ("POST", "What was the average demand last week?"),
    ("GET", "Demanda media del mes pasado"),
    ("POST", "¿Cuánta energía eólica se generó el mes pasado?"),
    ("GET", "Wind generation last week"),
    ("GET", "Which day had the highest demand last month?"),
    ("POST", "Demanda horaria de ayer"),
    ("GET", "Average demand in the last 5 years by year"),
    ("POST", "¿Qué tecnología generó más el mes pasado?"),
    ("GET", "Generation mix last week"),
    # The declared datasets (issue 18): the Kaggle TMDB 5000 movies and the energy company.
    ("POST", "¿Top 10 películas mejor valoradas?"),
    ("GET", "Top 5 genres by popularity"),
    ("POST", "¿Películas con presupuesto mayor a 100M?"),
    ("GET", "¿Cuántas películas produjo Pixar?"),
    ("POST", "compras vs ventas en marzo de 2024"),
]
FORECASTS: list[dict[str, Any]] = [{"days": 1}, {"days": 7}, {"hours": 1}, {"days": 14}]
TECHNOLOGIES = {
    "Eólica": ("Renovable", 150_000.0),
    "Nuclear": ("No-Renovable", 140_000.0),
    "Solar fotovoltaica": ("Renovable", 90_000.0),
    "Ciclo combinado": ("No-Renovable", 110_000.0),
    "Hidráulica": ("Renovable", 70_000.0),
    "Cogeneración": ("No-Renovable", 40_000.0),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- data ---------------------------------------------------------------------------------------------


def sample_demand(first_day: dt.date, days: int, seed: int = 7) -> pd.DataFrame:
    """Hourly SAMPLE demand rows (national and peninsular) from the demo's demand shape."""
    from datalake.sources.ree_sample import _spanish_holidays
    from datalake.sources.sample import PENINSULAR_SHARE, demand_shape_mw

    start = pd.Timestamp(first_day, tz="Europe/Madrid").tz_convert("UTC")
    end = pd.Timestamp(first_day + dt.timedelta(days=days), tz="Europe/Madrid").tz_convert("UTC")
    hours = pd.date_range(start, end, freq="h", inclusive="left", name="ts_utc")
    local = hours.tz_convert("Europe/Madrid")
    rng = np.random.default_rng(seed)
    shape = np.array(
        [demand_shape_mw(moment, _spanish_holidays(moment.year)) for moment in local.to_pydatetime()]
    )
    national = shape * (1 + rng.normal(0, 0.015, len(shape)))
    frames = []
    for region, values in (("national", national), ("peninsular", national * PENINSULAR_SHARE)):
        frames.append(
            pd.DataFrame(
                {
                    "ts_utc": hours,
                    "local_date": local.date,
                    "region": region,
                    "demand_mw": np.round(values, 1),
                    "source": "sample",
                    "tso_forecast_mw": np.round(values * (1 + rng.normal(0, 0.01, len(values))), 1),
                    "extracted_at": pd.Timestamp("2025-01-01", tz="UTC"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def sample_generation(first_day: dt.date, days: int, seed: int = 11) -> pd.DataFrame:
    """Daily SAMPLE generation by technology (national)."""
    rng = np.random.default_rng(seed)
    day_list = [first_day + dt.timedelta(days=i) for i in range(days)]
    starts = pd.DatetimeIndex([pd.Timestamp(d, tz="Europe/Madrid").tz_convert("UTC") for d in day_list])
    rows = []
    for technology, (group, level) in TECHNOLOGIES.items():
        energy = level * (1 + rng.normal(0, 0.2, days)).clip(0.2)
        rows.append(
            pd.DataFrame(
                {
                    "ts_utc": starts,
                    "local_date": day_list,
                    "time_grain": "day",
                    "region": "national",
                    "technology": technology,
                    "technology_group": group,
                    "energy_mwh": np.round(energy, 1),
                    "share": np.nan,
                    "source": "sample",
                    "extracted_at": pd.Timestamp("2025-01-01", tz="UTC"),
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    frame["share"] = frame["energy_mwh"] / frame.groupby("ts_utc")["energy_mwh"].transform("sum")
    return frame


def load_warehouse(url: str, years: int, last_day: dt.date) -> dict[str, Any]:
    from datalake.datasets import DEMAND_HOURLY, GENERATION
    from datalake.settings import Settings
    from datalake.warehouse import connect, upsert_frame

    settings = Settings(_env_file=None, database_url=url, db_statement_timeout_ms=600_000)
    first_day = dt.date(last_day.year - years, last_day.month, last_day.day) + dt.timedelta(days=1)
    days = (last_day - first_day).days + 1
    began = time.perf_counter()
    demand = sample_demand(first_day, days)
    generation = sample_generation(first_day, days)
    from datalake.ask.eval_frames import energy_frames, movie_frames
    from datalake.datasets import DATASETS

    declared = {**movie_frames(), **energy_frames()}
    with connect(url, settings=settings, autocommit=True) as conn:
        for table in ("demand_hourly", "demand_daily", "generation", "predictions", *declared):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        upsert_frame(conn, DEMAND_HOURLY, demand, statement_timeout_ms=0)
        upsert_frame(conn, GENERATION, generation, statement_timeout_ms=0)
        for name, frame in declared.items():
            upsert_frame(conn, DATASETS[name], frame, statement_timeout_ms=0)
        # demand_daily: the rollup the load of demand_hourly keeps (datalake.warehouse.rollups).
        for table in ("demand_hourly", "demand_daily", "generation", *declared):
            conn.execute(f"ANALYZE {table}")
    return {
        "years": years,
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        "demand_rows": len(demand),
        "generation_rows": len(generation),
        "movies": len(declared["movies"]),
        "load_s": round(time.perf_counter() - began, 1),
    }


def promote_champion(lake_root: Path) -> str:
    import torch

    from datalake import runtime
    from datalake.forecasting.config import ForecastConfig
    from datalake.forecasting.forecaster import TransformerForecaster
    from datalake.models import ModelRegistry
    from datalake.settings import Settings

    torch.manual_seed(0)
    settings = Settings(_env_file=None, lake_root=lake_root)
    with tempfile.TemporaryDirectory() as scratch:
        directory = TransformerForecaster(ForecastConfig()).save(Path(scratch) / "model")
        registry = ModelRegistry(runtime.object_store("artifacts", settings))
        version = registry.register(directory, {"note": "benchmark: untrained weights"})
    registry.promote(version, "benchmark")
    return version


# -- server and load ----------------------------------------------------------------------------------


@contextlib.contextmanager
def api_server(env: dict[str, str], workers: int) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the API did not start (exit {process.poll()})")
            time.sleep(0.2)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def run_load(
    base: str, path: str, requests_: list[tuple[str, dict[str, Any]]], total: int, concurrency: int
) -> dict[str, Any]:
    """``total`` requests from ``concurrency`` keep-alive clients; latency percentiles and rate."""
    latencies: list[float] = []
    by_request: dict[int, list[float]] = {}
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while True:
                with lock:
                    number = next(counter, None)
                if number is None:
                    return
                which = number % len(requests_)
                method, kwargs = requests_[which]
                began = time.perf_counter()
                response = client.request(method, path, **kwargs)
                response.read()
                elapsed = time.perf_counter() - began
                with lock:
                    latencies.append(elapsed)
                    by_request.setdefault(which, []).append(elapsed * 1000)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    ms = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "concurrency": concurrency,
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(ms.mean()), 2),
        "max_ms": round(float(ms.max()), 2),
        "rps": round(len(latencies) / wall, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        # Which request makes the tail: p50/p99 of each distinct request, in list order.
        "per_request": [
            {"p50_ms": round(float(np.percentile(v, 50)), 2), "p99_ms": round(float(np.percentile(v, 99)), 2)}
            for _, v in sorted(by_request.items())
        ],
    }


def first_requests(base: str) -> dict[str, float]:
    """The first request of each forecast horizon computes it (cache miss): its latency in ms."""
    out = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for params in FORECASTS:
            began = time.perf_counter()
            response = client.get("/forecast", params=params)
            label = "&".join(f"{k}={v}" for k, v in params.items())
            out[label] = round((time.perf_counter() - began) * 1000, 1)
            if response.status_code != 200:
                raise SystemExit(f"/forecast?{label} answered {response.status_code}: {response.text[:300]}")
    return out


def ask_requests(as_of: str) -> list[tuple[str, dict[str, Any]]]:
    """The questions as requests, asked at ``as_of`` (the day after the data ends, so they find data)."""
    return [
        (
            method,
            {"json": {"question": q, "as_of": as_of}}
            if method == "POST"
            else {"params": {"q": q, "as_of": as_of}},
        )
        for method, q in ASK_QUESTIONS
    ]


def ask_available(base: str, requests_: list[tuple[str, dict[str, Any]]]) -> str | None:
    """None when /ask answers every question with rows; else why not."""
    for method, kwargs in requests_:
        response = httpx.request(method, f"{base}/ask", timeout=30, **kwargs)
        if response.status_code != 200:
            return f"{response.status_code}: {response.text[:200]}"
        if not response.json()["rows"]:
            return f"no rows for {kwargs}: the benchmark would time empty answers"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--years", type=int, nargs="+", default=[1, 10], help="Years of hourly data to serve."
    )
    parser.add_argument("--requests", type=int, default=1000, help="Requests per endpoint and concurrency.")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4], help="Concurrent clients.")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes.")
    parser.add_argument("--last-day", default="2024-12-31", help="Newest Madrid day of the data.")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="datalake-bench-api-"))
    server = None
    results: dict[str, Any] = {"cpu_count": os.cpu_count(), "workers": args.workers, "runs": []}
    try:
        url = os.environ.get("DATABASE_URL")
        if not url:
            from datalake.warehouse.server import EmbeddedPostgres

            server = EmbeddedPostgres(scratch / "_pg")
            url = server.start()
        version = promote_champion(scratch / "lake")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("API_", "LAKE_"))},
            "LAKE_RUNTIME": "local",
            "LAKE_ROOT": str(scratch / "lake"),
            "DATABASE_URL": url,
            "API_RATE_LIMIT_PER_MINUTE": "0",
            "API_REFRESH_S": "30",
            "API_FORECAST_BACKEND": "local",
        }
        for years in args.years:
            data = load_warehouse(url, years, dt.date.fromisoformat(args.last_day))
            print(
                f"\n== {years} year(s) of hourly SAMPLE data: {data['demand_rows']:,} demand rows, "
                f"{data['generation_rows']:,} generation rows (loaded in {data['load_s']} s); "
                f"champion {version} ==",
                flush=True,
            )
            run: dict[str, Any] = {"data": data, "endpoints": {}}
            with api_server(env, args.workers) as base:
                run["forecast_first_ms"] = first_requests(base)
                print(f"first /forecast per horizon (computes, then cached): {run['forecast_first_ms']} ms")
                as_of = f"{dt.date.fromisoformat(args.last_day) + dt.timedelta(days=1)}T12:00:00+01:00"
                questions = ask_requests(as_of)
                unavailable = ask_available(base, questions)
                plan = [("/forecast", [("GET", {"params": p}) for p in FORECASTS])]
                if unavailable:
                    print(f"/ask skipped: {unavailable}")
                    run["ask_skipped"] = unavailable
                else:
                    plan.insert(0, ("/ask", questions))
                for path, requests_ in plan:
                    run_load(base, path, requests_, min(50, args.requests), 2)  # warm-up
                    for concurrency in args.concurrency:
                        figures = run_load(base, path, requests_, args.requests, concurrency)
                        run["endpoints"].setdefault(path, []).append(figures)
                        print(
                            f"{path:<10} c={concurrency:<3} p50 {figures['p50_ms']:>7.2f} ms   "
                            f"p99 {figures['p99_ms']:>7.2f} ms   {figures['rps']:>7.1f} req/s   "
                            f"statuses {figures['statuses']}",
                            flush=True,
                        )
                        if concurrency == 1:
                            for (_method, kwargs), each in zip(
                                requests_, figures["per_request"], strict=True
                            ):
                                label = kwargs.get("json", kwargs.get("params", {}))
                                label = label.get("question") or label.get("q") or label
                                print(f"{'':13}{each['p50_ms']:>7.2f} / {each['p99_ms']:>7.2f} ms  {label}")
            results["runs"].append(run)
        goals = {"/ask": 50.0, "/forecast": 30.0}
        print("\ngoal: p99 under 50 ms for /ask and 30 ms for /forecast (one client at a time)")
        for run in results["runs"]:
            for path, figures in run["endpoints"].items():
                single = min(figures, key=lambda f: f["concurrency"])
                verdict = "met" if single["p99_ms"] < goals[path] else "NOT met"
                print(f"  {run['data']['years']:>2} y  {path:<10} p99 {single['p99_ms']:.2f} ms: {verdict}")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
