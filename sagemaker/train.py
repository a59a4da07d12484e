"""SageMaker script-mode training entry point for the demand forecaster.

In a training job SageMaker sets ``SM_CHANNEL_TRAIN`` (the input files), ``SM_MODEL_DIR``
(packed into ``model.tar.gz``), ``SM_OUTPUT_DATA_DIR`` and the hyperparameters (``SM_HPS``,
and as ``--name value`` arguments). Run by hand, the same script works with defaults:

    python sagemaker/train.py                       # the lake's demand_hourly table
    python sagemaker/train.py --train ../shared/data/spain_demand/entsoe --max_epochs 5

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
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    # Run from a checkout (not installed): the repo root holds the datalake package.
    sys.path.insert(0, str(HERE.parent))

from datalake.errors import DataValidationError  # noqa: E402
from datalake.forecasting.config import ForecastConfig  # noqa: E402

#: Hyperparameters that are not ForecastConfig fields: the split (local days, YYYY-MM-DD).
SPLIT_PARAMETERS = ("validation_start", "test_start", "test_end")
DATA_SUFFIXES = (".csv", ".parquet")


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
        if name in ("train", "model_dir", "output_data_dir") or name in SPLIT_PARAMETERS:
            typed[name] = str(value)
        elif name in fields:
            typed[name] = _typed(name, value, type(getattr(ForecastConfig(), name)))
        else:
            known = sorted([*fields, *SPLIT_PARAMETERS, "train", "model_dir", "output_data_dir"])
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


def package_code(model_dir: Path) -> Path:
    """Write ``code/`` (the scripts, requirements.txt, the datalake package) into the model dir."""
    from datalake.models.bundle import build_source_bundle

    code = model_dir / "code"
    if code.exists():
        shutil.rmtree(code)
    return build_source_bundle(code, HERE)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train, backtest on the test window, write the model and the report; returns the report."""
    from datalake.forecasting.backtest import format_backtest, run_backtest
    from datalake.forecasting.data import load_series
    from datalake.forecasting.pipeline import Split, backtest_scores, default_split, fit_on_split
    from datalake.settings import get_settings

    params = hyperparameters(argv)
    settings = get_settings()
    local_root = settings.lake_root / "_sagemaker"
    model_dir = Path(params.pop("model_dir", None) or os.environ.get("SM_MODEL_DIR") or local_root / "model")
    output_dir = Path(
        params.pop("output_data_dir", None) or os.environ.get("SM_OUTPUT_DATA_DIR") or local_root / "output"
    )
    channel = params.pop("train", None) or os.environ.get("SM_CHANNEL_TRAIN")
    series = load_series(data_files(Path(channel))) if channel else load_series(table="demand_hourly")
    print(f"series: {series.description}", flush=True)
    split = default_split(series)
    chosen = {name: dt.date.fromisoformat(params.pop(name)) for name in SPLIT_PARAMETERS if name in params}
    split = dataclasses.replace(split, **chosen) if chosen else split
    assert isinstance(split, Split)
    config = ForecastConfig(**params)
    # SageMaker captures stdout line by line: log epochs as lines instead of a live bar.
    forecaster, training = fit_on_split(series, split, config, progress=print, show_bar=False)
    backtest = run_backtest(series, forecaster, split.test_start, split.test_end, "model")
    forecaster.metrics = {
        "backtest_window": [str(split.test_start), str(split.test_end)],
        **backtest_scores(backtest, "model"),
    }
    model_dir.mkdir(parents=True, exist_ok=True)
    forecaster.save(model_dir)
    package_code(model_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "backtest.json").write_text(json.dumps(backtest, indent=2, default=str))
    print(format_backtest(backtest), flush=True)
    print(
        f"trained {training.epochs} epochs in {training.seconds} s ({training.stopped}); "
        f"model written to {model_dir}, report to {output_dir / 'backtest.json'}",
        flush=True,
    )
    return backtest


if __name__ == "__main__":
    main()
