"""Train a challenger, judge it and the champion on the same backtest window, promote the better one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from datalake import runtime
from datalake.errors import DataValidationError
from datalake.forecasting.backtest import run_backtest
from datalake.forecasting.config import ForecastConfig
from datalake.forecasting.data import DemandSeries
from datalake.forecasting.forecaster import TrainingSummary, TransformerForecaster
from datalake.forecasting.weather import ForecastError, WeatherHistory
from datalake.models import model_registry
from datalake.runs import record_run
from datalake.settings import Settings, get_settings

MADRID = "Europe/Madrid"
#: The promotion decision: day-ahead is the harder, operational task; next hour breaks ties.
DECISION_METRICS = (("day_ahead", "mape_pct"), ("next_hour", "mape_pct"))
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Split:
    """Local days: train before ``validation_start``, validate until ``test_start``, test to ``test_end``."""

    validation_start: dt.date
    test_start: dt.date
    test_end: dt.date

    def instant(self, day: dt.date) -> pd.Timestamp:
        return pd.Timestamp(day.isoformat(), tz=MADRID).tz_convert("UTC")


def default_split(series: DemandSeries) -> Split:
    """The last full local day ends the test window; test is its last 184 days, validation the 181 before.

    On the shared 2015-2017 data this is train 2015-2016, validate H1 2017, test H2 2017.
    """
    last = (series.end.tz_convert(MADRID) + pd.Timedelta(hours=1)).date() - dt.timedelta(days=1)
    test_start = last - dt.timedelta(days=183)
    return Split(test_start - dt.timedelta(days=181), test_start, last)


def backtest_scores(report: dict[str, Any], method: str) -> dict[str, float | None]:
    """Flat ``<task>_<metric>`` scores of one method in a :func:`run_backtest` report."""
    return {
        f"{task}_{metric}": report["tasks"][task]["methods"][method][metric]
        for task in ("next_hour", "day_ahead")
        for metric in ("mape_pct", "mae_mw", "rmse_mw", "coverage_p10_p90_pct")
    }


def _better(challenger: dict[str, float | None], champion: dict[str, float | None]) -> bool:
    key = [(challenger[f"{t}_{m}"], champion[f"{t}_{m}"]) for t, m in DECISION_METRICS]
    return tuple(c for c, _ in key) < tuple(c for _, c in key)


def fit_on_split(
    series: DemandSeries,
    split: Split,
    config: ForecastConfig | None = None,
    progress: Progress | None = None,
    show_bar: bool = True,
    weather: WeatherHistory | None = None,
) -> tuple[TransformerForecaster, TrainingSummary]:
    """A new forecaster trained before ``split.validation_start``, stopped early on the validation days.

    A weather model (``config.weather``) trains on ``weather``'s observations.
    """
    if not split.validation_start < split.test_start <= split.test_end:
        raise DataValidationError("split", f"days out of order: {split}")
    forecaster = TransformerForecaster(config)
    training = forecaster.fit(
        series.demand_mw,
        (series.start, split.instant(split.validation_start)),
        (split.instant(split.validation_start), split.instant(split.test_start)),
        progress=progress,
        show_bar=show_bar,
        weather=weather,
    )
    return forecaster, training


def judged(forecaster: TransformerForecaster, weather: WeatherHistory | None) -> Any:
    """What the promotion backtest runs: a weather model with the realistic forecast error.

    The decision is made as the model will be used, with forecast (not observed) weather.
    A model without weather ignores it.
    """
    if not forecaster.needs_weather:
        return forecaster
    if weather is None:
        raise DataValidationError("weather", "a weather model is judged with weather: give --weather")
    return forecaster.with_weather(weather.with_error(ForecastError(seed=forecaster.config.seed)))


def _log_to_mlflow(
    settings: Settings,
    challenger: TransformerForecaster,
    training: Any,
    scores: dict[str, float | None],
    champion_scores: dict[str, float | None] | None,
    version: str,
    promoted: bool,
    split: Split,
) -> str | None:
    """The training run's params and metrics in MLflow's ``demand-forecaster`` experiment."""
    from datalake import tracking

    metrics: dict[str, float | None] = {**scores, "epochs": getattr(training, "epochs", None)}
    metrics["train_seconds"] = getattr(training, "seconds", None)
    if champion_scores:
        metrics.update({f"champion_{name}": value for name, value in champion_scores.items()})
    return tracking.log_training_run(
        "demand-forecaster",
        f"forecaster-{version}",
        {**dataclasses.asdict(challenger.config), "split": str(split), "registry_version": version},
        metrics,
        settings,
        tags={"promoted": str(promoted).lower(), "registry": "datalake.models"},
    )


def train_forecaster(
    series: DemandSeries,
    config: ForecastConfig | None = None,
    split: Split | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    show_bar: bool = True,
    weather: WeatherHistory | None = None,
) -> dict[str, Any]:
    """Train a challenger, backtest it and the champion on the test window, and promote the better.

    The first model becomes champion. The decision and both scores go into the
    ``forecast_train`` run report, which is returned as a dict. With ``weather``, weather
    models (the challenger, or a champion) are judged with the realistic forecast error
    (:func:`judged`); a weather champion cannot be judged without weather.
    """
    settings = settings or get_settings()
    split = split or default_split(series)
    registry = model_registry(settings)
    store = runtime.object_store("lake", settings)
    with record_run("forecast_train", store, data=series.description, split=str(split)) as report:
        with report.timed("train"):
            challenger, training = fit_on_split(series, split, config, progress, show_bar, weather)
        with report.timed("backtest"):
            backtest = run_backtest(
                series, judged(challenger, weather), split.test_start, split.test_end, "challenger"
            )
            scores = backtest_scores(backtest, "challenger")
            champion_record = registry.champion()
            champion_scores = None
            if champion_record is not None:
                with tempfile.TemporaryDirectory() as scratch:
                    champion = TransformerForecaster.load(
                        registry.fetch(champion_record["version"], Path(scratch))
                    )
                    champion_report = run_backtest(
                        series, judged(champion, weather), split.test_start, split.test_end, "champion"
                    )
                champion_scores = backtest_scores(champion_report, "champion")
        challenger.metrics = {
            "backtest_window": [str(split.test_start), str(split.test_end)],
            **scores,
            # Serving reads it: a weather champion falls back to the newest model without weather.
            "weather": challenger.needs_weather,
            "weather_error": "realistic" if challenger.needs_weather else None,
        }
        with tempfile.TemporaryDirectory() as scratch:
            version = registry.register(
                challenger.save(Path(scratch)),
                challenger.metrics,
                {
                    "data": series.description,
                    "training": {k: v for k, v in vars(training).items() if k != "history"},
                },
            )
        if champion_scores is None:
            promoted, reason = True, "first model: no champion yet"
        elif _better(scores, champion_scores):
            promoted, reason = True, "challenger better on day-ahead MAPE (next-hour MAPE breaks ties)"
        else:
            promoted, reason = False, "champion kept: challenger not better on day-ahead MAPE"
        if promoted:
            registry.promote(version, reason)
        if settings.mlflow_track_training:
            with report.timed("mlflow"):
                report.details["mlflow_run_id"] = _log_to_mlflow(
                    settings, challenger, training, scores, champion_scores, version, promoted, split
                )
        # Hours read for training are details, not rows in: a training run outputs a model, not rows,
        # so counting them in would mark every run unbalanced in `datalake status`.
        report.details.update(
            hours_with_demand=int(series.demand_mw.notna().sum()),
            weather=None if weather is None else weather.description,
            version=version,
            promoted=promoted,
            decision=reason,
            champion_before=champion_record["version"] if champion_record else None,
            challenger_scores=scores,
            champion_scores=champion_scores,
            baselines={
                task: {m: v for m, v in result["methods"].items() if m != "challenger"}
                for task, result in backtest["tasks"].items()
            },
            training={k: v for k, v in vars(training).items() if k != "history"},
        )
    return report.to_dict()
