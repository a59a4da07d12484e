"""SageMaker script-mode training entry point for the demand forecaster.

In a training job SageMaker sets ``SM_CHANNEL_TRAIN`` (the input files), ``SM_MODEL_DIR``
(packed into ``model.tar.gz``), ``SM_OUTPUT_DATA_DIR`` and the hyperparameters (``SM_HPS``,
and as ``--name value`` arguments). Run by hand, the same script works with defaults:

    python sagemaker/train.py                       # the lake's demand_hourly table
    python sagemaker/train.py --train ../shared/data/spain_demand/entsoe --max_epochs 5
    python sagemaker/train.py --train ../shared/data/spain_demand/entsoe \
        --weather ../shared/data/spain_weather/weather_features_2015_2017.csv.gz

With a ``weather`` channel (``SM_CHANNEL_WEATHER``, or ``--weather PATH``) it trains what
``datalake forecast train --weather FILE`` trains: the weather model (``WEATHER_MODEL``, the
hyperparameters applied on top), backtested with the realistic forecast error
(:func:`datalake.forecasting.pipeline.judged`). The channel holds the shared observation file
(``.csv``/``.csv.gz``, Kaggle format) or ``weather_national_hourly``'s Parquet files (read as
``--weather-table`` reads the table). The model without weather is trained too, on the same split
and hyperparameters, and written to ``fallback/`` inside the model directory: ``inference.py``
serves it when the lake has no stored weather forecast for the hours asked. Without the channel
only the model without weather is trained, as before.

The model directory it writes is ``model.tar.gz``-ready: the model files at the root and a
``code/`` folder with ``inference.py``, its requirements and the ``datalake`` package, so the
serving container needs nothing else. The backtest report goes to the output directory.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    # Run from a checkout (not installed): the repo root holds the datalake package.
    sys.path.insert(0, str(HERE.parent))

from datalake.errors import DataValidationError  # noqa: E402
from datalake.forecasting.config import WEATHER_MODEL, ForecastConfig  # noqa: E402

if TYPE_CHECKING:
    from datalake.forecasting.weather import WeatherHistory

#: Hyperparameters that are not ForecastConfig fields: the split (local days, YYYY-MM-DD).
SPLIT_PARAMETERS = ("validation_start", "test_start", "test_end")
#: Arguments that name folders rather than set the model (channels and outputs).
PATH_PARAMETERS = ("train", "weather", "model_dir", "output_data_dir")
DATA_SUFFIXES = (".csv", ".parquet")
#: The weather channel's files: the shared observation file (gzipped or not), or the table's Parquet.
WEATHER_SUFFIXES = (".csv", ".csv.gz", ".parquet")
#: Folder of the model directory holding the model without weather, beside a weather model.
FALLBACK_DIR = "fallback"


def hyperparameters(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Hyperparameters from ``SM_HPS`` (JSON), overridden by ``--name value`` arguments.

    Values are typed by the :class:`ForecastConfig` field they set; an unknown name is an
    error that names it.
    """
    environ = dict(os.environ) if environ is None else environ
    raw: dict[str, Any] = json.loads(environ.get("SM_HPS") or "{}")
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) % 2:
        raise DataValidationError("arguments", f"expected --name value pairs, got {args}")
    for flag, value in zip(args[::2], args[1::2], strict=True):
        if not flag.startswith("--"):
            raise DataValidationError("arguments", f"expected --name, got {flag!r}")
        raw[flag[2:].replace("-", "_")] = value
    fields = {f.name: f for f in dataclasses.fields(ForecastConfig)}
    typed: dict[str, Any] = {}
    for name, value in raw.items():
        if name in PATH_PARAMETERS or name in SPLIT_PARAMETERS:
            typed[name] = str(value)
        elif name in fields:
            typed[name] = _typed(name, value, type(getattr(ForecastConfig(), name)))
        else:
            known = sorted([*fields, *SPLIT_PARAMETERS, *PATH_PARAMETERS])
            raise DataValidationError(name, f"unknown hyperparameter; known: {', '.join(known)}")
    return typed


def _typed(name: str, value: Any, kind: type) -> Any:
    try:
        if kind is tuple:
            return tuple(float(v) for v in (json.loads(value) if isinstance(value, str) else value))
        if kind is bool:
            return str(value).lower() in ("1", "true", "yes")
        return kind(json.loads(value) if isinstance(value, str) and kind is not str else value)
    except (TypeError, ValueError) as error:
        raise DataValidationError(name, f"{value!r} is not a {kind.__name__}: {error}") from None


def data_files(channel: Path) -> list[Path]:
    """CSV and Parquet files under a channel directory (partition folders included), in order."""
    if channel.is_file():
        return [channel]
    files = sorted(p for p in channel.rglob("*") if p.is_file() and p.suffix.lower() in DATA_SUFFIXES)
    if not files:
        raise DataValidationError("train", f"no .csv or .parquet file under {channel}")
    return files


def read_weather_channel(channel: Path) -> WeatherHistory:
    """The weather of a channel: the shared observation file, or ``weather_national_hourly`` Parquet.

    Parameters
    ----------
    channel
        A file, or a folder (partition folders included) holding one observation CSV, or the
        table's Parquet files (their rows as the table has them: ``ts_utc``, ``kind``,
        ``issued_at``, ``temperature_c``, ...).

    Returns
    -------
    WeatherHistory
        As ``datalake forecast train`` reads ``--weather FILE`` or ``--weather-table``.

    Raises
    ------
    DataValidationError
        No weather file, several observation files, or CSV and Parquet mixed (field ``weather``).
    """
    import pandas as pd

    from datalake.forecasting.weather import from_national, read_weather_file

    if channel.is_file():
        files = [channel]
    else:
        files = sorted(
            p for p in channel.rglob("*") if p.is_file() and p.name.lower().endswith(WEATHER_SUFFIXES)
        )
    parquet = [p for p in files if p.suffix.lower() == ".parquet"]
    csv = [p for p in files if p not in parquet]
    if not files:
        raise DataValidationError("weather", f"no .csv, .csv.gz or .parquet file under {channel}")
    if (parquet and csv) or len(csv) > 1:
        raise DataValidationError(
            "weather",
            f"expected one observation CSV or the table's Parquet files under {channel}, got "
            f"{len(csv)} CSV and {len(parquet)} Parquet file(s)",
        )
    if csv:
        return read_weather_file(csv[0])
    rows = pd.concat([pd.read_parquet(p) for p in parquet], ignore_index=True)
    # As read_weather_table reads the table: stored forecasts by issue, observations before them.
    return from_national(
        rows, mode="issued", description=f"weather_national_hourly ({len(parquet)} Parquet file(s))"
    )


def package_code(model_dir: Path) -> Path:
    """Write ``code/`` (the scripts, requirements.txt, the datalake package) into the model dir."""
    from datalake.models.bundle import build_source_bundle

    code = model_dir / "code"
    if code.exists():
        shutil.rmtree(code)
    return build_source_bundle(code, HERE)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train, backtest on the test window, write the model and the report; returns the report.

    With a weather channel the report is the weather model's (judged with the realistic forecast
    error), and ``backtest.json`` also holds the fallback's under ``fallback``.
    """
    from datalake.forecasting.data import load_series
    from datalake.forecasting.pipeline import Split, default_split
    from datalake.settings import get_settings

    params = hyperparameters(argv)

    settings = get_settings()
    local_root = settings.lake_root / "_sagemaker"
    model_dir = Path(params.pop("model_dir", None) or os.environ.get("SM_MODEL_DIR") or local_root / "model")
    output_dir = Path(
        params.pop("output_data_dir", None) or os.environ.get("SM_OUTPUT_DATA_DIR") or local_root / "output"
    )
    channel = params.pop("train", None) or os.environ.get("SM_CHANNEL_TRAIN")
    weather_channel = params.pop("weather", None) or os.environ.get("SM_CHANNEL_WEATHER")
    series = load_series(data_files(Path(channel))) if channel else load_series(table="demand_hourly")
    print(f"series: {series.description}", flush=True)
    weather = read_weather_channel(Path(weather_channel)) if weather_channel else None
    if weather is not None:
        print(
            f"weather: {weather.description}, {weather.start:%Y-%m-%d} .. {weather.end:%Y-%m-%d}", flush=True
        )
    split = default_split(series)
    chosen = {name: dt.date.fromisoformat(params.pop(name)) for name in SPLIT_PARAMETERS if name in params}
    split = dataclasses.replace(split, **chosen) if chosen else split
    assert isinstance(split, Split)
    # The same configurations as `datalake forecast train`: WEATHER_MODEL with weather, the
    # default without; the job's hyperparameters override either.
    plain = ForecastConfig(**params)
    model_dir.mkdir(parents=True, exist_ok=True)
    if weather is None:
        backtest = _train_one(series, split, plain, None, model_dir)
    else:
        backtest = _train_one(series, split, dataclasses.replace(WEATHER_MODEL, **params), weather, model_dir)
        fallback_dir = model_dir / FALLBACK_DIR
        if fallback_dir.exists():
            shutil.rmtree(fallback_dir)
        backtest["fallback"] = _train_one(series, split, plain, None, fallback_dir)
    package_code(model_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "backtest.json").write_text(json.dumps(backtest, indent=2, default=str))
    print(f"model written to {model_dir}, report to {output_dir / 'backtest.json'}", flush=True)
    return backtest


def _train_one(
    series: Any, split: Any, config: ForecastConfig, weather: WeatherHistory | None, model_dir: Path
) -> dict[str, Any]:
    """Train one model on the split, backtest it as the registry judges it, save it to ``model_dir``.

    The metrics it saves are the ones ``train_forecaster`` registers, ``weather`` included, so a
    version registered from the job says whether it needs weather (serving picks a fallback by it).
    """
    from datalake.forecasting.backtest import format_backtest, run_backtest
    from datalake.forecasting.pipeline import backtest_scores, fit_on_split, judged

    # SageMaker captures stdout line by line: log epochs as lines instead of a live bar.
    forecaster, training = fit_on_split(
        series, split, config, progress=print, show_bar=False, weather=weather
    )
    # A weather model is judged with the realistic forecast error, as the local pipeline does.
    backtest = run_backtest(series, judged(forecaster, weather), split.test_start, split.test_end, "model")
    forecaster.metrics = {
        "backtest_window": [str(split.test_start), str(split.test_end)],
        **backtest_scores(backtest, "model"),
        "weather": forecaster.needs_weather,
        "weather_error": "realistic" if forecaster.needs_weather else None,
    }
    model_dir.mkdir(parents=True, exist_ok=True)
    forecaster.save(model_dir)
    print(format_backtest(backtest), flush=True)
    print(
        f"{'weather model' if forecaster.needs_weather else 'model without weather'}: trained "
        f"{training.epochs} epochs in {training.seconds} s ({training.stopped}); written to {model_dir}",
        flush=True,
    )
    return backtest


if __name__ == "__main__":
    main()
