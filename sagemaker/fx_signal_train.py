"""SageMaker script-mode training entry point for the USD/COP buy/sell signal.

The same contract as ``train.py``: ``SM_CHANNEL_TRAIN`` (a TRM export CSV, a 5-minute spot
``.csv.gz``, or a folder holding one), ``SM_MODEL_DIR``, ``SM_OUTPUT_DATA_DIR`` and the
hyperparameters (``SM_HPS``, and ``--name value`` arguments): ``threshold`` (the label's move, a
log return), ``holdout_days``, ``train_days``, ``cost_bps``, ``C`` (the regression's inverse L2
strength) and, without a channel, ``source`` (``auto``: ``../shared/data/fx`` when present, else
the SAMPLE series). Run by hand:

    python sagemaker/fx_signal_train.py --train ../shared/data/fx/trm_datos_gov_co_export_20250824.csv

The model directory is ``model.tar.gz``-ready: ``model.joblib`` (with the last rates it was
trained on), ``metrics.json`` and ``code/`` whose ``inference.py`` is ``fx_signal_inference.py``,
with the ``datalake`` package. ``evaluation.json`` (the holdout scores) goes to the output folder.
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

#: Hyperparameters and their types.
HYPERPARAMETERS: dict[str, type] = {
    "threshold": float,
    "holdout_days": int,
    "train_days": int,
    "cost_bps": float,
    "C": float,
    "source": str,
}
PATHS = ("train", "model_dir", "output_data_dir")
INFERENCE_SOURCE = "fx_signal_inference.py"


def hyperparameters(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """``SM_HPS`` (JSON) overridden by ``--name value`` arguments, typed; an unknown name is an error."""
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
                typed[name] = HYPERPARAMETERS[name](value)
            except (TypeError, ValueError):
                raise DataValidationError(
                    name, f"{value!r} is not a {HYPERPARAMETERS[name].__name__}"
                ) from None
        else:
            known = ", ".join(sorted((*HYPERPARAMETERS, *PATHS)))
            raise DataValidationError(name, f"unknown hyperparameter; known: {known}")
    return typed


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
    """Train on the channel's rates, score the holdout, write the model and the report; returns the report."""
    from datalake.fxsignal.series import load_history, read_channel
    from datalake.fxsignal.training import HoldoutSplit, fit_challenger
    from datalake.settings import get_settings

    params = hyperparameters(argv)
    local_root = get_settings().lake_root / "_sagemaker" / "fx_signal"
    model_dir = Path(params.pop("model_dir", None) or os.environ.get("SM_MODEL_DIR") or local_root / "model")
    output_dir = Path(
        params.pop("output_data_dir", None) or os.environ.get("SM_OUTPUT_DATA_DIR") or local_root / "output"
    )
    channel = params.pop("train", None) or os.environ.get("SM_CHANNEL_TRAIN")
    rates = read_channel(Path(channel)) if channel else load_history(params.pop("source", "auto"))
    params.pop("source", None)
    model_params = {"C": params.pop("C")} if "C" in params else None
    span = f"{rates.index[0].date()}..{rates.index[-1].date()}"
    print(f"rates: {rates.attrs.get('source')} {span} ({len(rates):,} days)", flush=True)
    model, evaluation = fit_challenger(rates, HoldoutSplit(**params), model_params)
    model.save(model_dir)
    package_code(model_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "evaluation.json").write_text(json.dumps(evaluation, indent=2, default=str))
    print(json.dumps(evaluation["holdout"]), flush=True)
    print(f"model written to {model_dir}, report to {output_dir / 'evaluation.json'}", flush=True)
    return evaluation


if __name__ == "__main__":
    main()
