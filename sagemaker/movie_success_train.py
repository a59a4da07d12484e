"""SageMaker script-mode training entry point for the movie success classifier.

The same contract as ``train.py``: ``SM_CHANNEL_TRAIN`` (a Kaggle-format TMDB movies CSV, or a
folder holding one, and optionally the Kaggle credits CSV, recognised by its header, whose
directors and top cast feed the people track records), ``SM_MODEL_DIR``, ``SM_OUTPUT_DATA_DIR``
and the hyperparameters (``SM_HPS``, and ``--name value`` arguments): ``validation_start`` and
``train_end`` (years).
Run by hand it trains on the lake's processed movie tables when no channel is given:

    python sagemaker/movie_success_train.py --train ../shared/data/tmdb/tmdb_5000_movies.csv

The model directory is ``model.tar.gz``-ready: ``model.joblib``, ``metrics.json`` and ``code/``
whose ``inference.py`` is ``movie_success_inference.py`` (the name SageMaker's serving
container and the registry's ``SAGEMAKER_PROGRAM`` expect), with the ``datalake`` package.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from datalake.errors import DataValidationError  # noqa: E402

HYPERPARAMETERS = ("validation_start", "train_end")
PATHS = ("train", "model_dir", "output_data_dir")
INFERENCE_SOURCE = "movie_success_inference.py"


def hyperparameters(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """``SM_HPS`` (JSON) overridden by ``--name value`` arguments; years are whole numbers."""
    environ = dict(os.environ) if environ is None else environ
    raw: dict[str, Any] = json.loads(environ.get("SM_HPS") or "{}")
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) % 2:
        raise DataValidationError("arguments", f"expected --name value pairs, got {args}")
    for flag, value in zip(args[::2], args[1::2], strict=True):
        if not flag.startswith("--"):
            raise DataValidationError("arguments", f"expected --name, got {flag!r}")
        raw[flag[2:].replace("-", "_")] = value
    typed: dict[str, Any] = {}
    for name, value in raw.items():
        if name in PATHS:
            typed[name] = str(value)
        elif name in HYPERPARAMETERS:
            try:
                typed[name] = int(value)
            except (TypeError, ValueError):
                raise DataValidationError(name, f"{value!r} is not a year") from None
        else:
            known = ", ".join(sorted((*HYPERPARAMETERS, *PATHS)))
            raise DataValidationError(name, f"unknown hyperparameter; known: {known}")
    return typed


def csv_file(channel: Path) -> Path:
    """The channel's movies CSV (the channel itself when it is a file); a credits CSV is not one."""
    return channel_files(channel)[0]


def channel_files(channel: Path) -> tuple[Path, Path | None]:
    """(the movies CSV, the credits CSV or None) of a channel, told apart by their headers.

    A channel that is a file is the movies CSV; its credits are the ``tmdb_5000_credits.csv``
    beside it, when there is one.
    """
    from datalake.movies.tables import is_kaggle_credits, kaggle_credits_path

    if channel.is_file():
        return channel, kaggle_credits_path(channel)
    files = sorted(channel.rglob("*.csv"))
    credits = [f for f in files if is_kaggle_credits(f)]
    movies = [f for f in files if f not in credits]
    if not movies:
        raise DataValidationError("train", f"no movies .csv file under {channel}")
    return movies[0], credits[0] if credits else None


def package_code(model_dir: Path) -> Path:
    """``code/``: the datalake package, requirements and this model's handler as ``inference.py``."""
    from datalake.models.bundle import INFERENCE_SCRIPT, build_source_bundle

    code = model_dir / "code"
    if code.exists():
        shutil.rmtree(code)
    build_source_bundle(code, HERE)
    shutil.copy2(HERE / INFERENCE_SOURCE, code / INFERENCE_SCRIPT)
    return code


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train, score on the test years, write the model and the report; returns the report."""
    from datalake.movies.evaluation import YearSplit, fit_model, format_report
    from datalake.movies.tables import people_summary, read_kaggle_csv, read_lake_tables
    from datalake.settings import get_settings

    params = hyperparameters(argv)
    local_root = get_settings().lake_root / "_sagemaker" / "movie_success"
    model_dir = Path(params.pop("model_dir", None) or os.environ.get("SM_MODEL_DIR") or local_root / "model")
    output_dir = Path(
        params.pop("output_data_dir", None) or os.environ.get("SM_OUTPUT_DATA_DIR") or local_root / "output"
    )
    channel = params.pop("train", None) or os.environ.get("SM_CHANNEL_TRAIN")
    if channel:
        movies_csv, credits_csv = channel_files(Path(channel))
        tables = read_kaggle_csv(movies_csv, credits_csv)
        print(f"movies: {movies_csv}; credits: {credits_csv or 'none in the channel'}", flush=True)
    else:
        tables = read_lake_tables()
    print(f"films: {len(tables.movies):,}; {people_summary(tables)}", flush=True)
    model, report = fit_model(tables, YearSplit(**params))
    model.save(model_dir)
    package_code(model_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "evaluation.json").write_text(json.dumps(report, indent=2, default=str))
    print(format_report(report), flush=True)
    print(f"model written to {model_dir}, report to {output_dir / 'evaluation.json'}", flush=True)
    return report


if __name__ == "__main__":
    main()
