"""SageMaker script-mode training entry point for the store-sales model.

The same contract as ``train.py``: the framework container runs ``python sales_train.py`` from the
code channel (``sagemaker_program`` / ``sagemaker_submit_directory``), with ``SM_CHANNEL_FEATURES``
(``/opt/ml/input/data/features``: the lake's ``features/store_sales/`` prefix, every version and
``_latest.json``), ``SM_MODEL_DIR`` (``/opt/ml/model``, packed into ``model.tar.gz``) and
``SM_OUTPUT_DATA_DIR``. ``MLFLOW_TRACKING_URI`` (the tracking server's ARN on AWS) is where the run
is logged and the challenger registered. The logic is :func:`datalake.sales_aws.train_in_container`;
it writes ``evaluation.json`` beside the model for the promote step. Run by hand:

    python sagemaker/sales_train.py --features .lake/features/store_sales --model-dir /tmp/model
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from datalake.sales_aws import FEATURES_CHANNEL, train_in_container  # noqa: E402

CHANNEL_ROOT = Path("/opt/ml/input/data")


def parse_args(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> argparse.Namespace:
    """Paths from ``--name value`` arguments, else the ``SM_*`` variables, else SageMaker's folders."""
    environ = dict(os.environ) if environ is None else environ
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    channel = environ.get(f"SM_CHANNEL_{FEATURES_CHANNEL.upper()}") or str(CHANNEL_ROOT / FEATURES_CHANNEL)
    parser.add_argument("--features", type=Path, default=Path(channel))
    parser.add_argument("--model-dir", type=Path, default=Path(environ.get("SM_MODEL_DIR", "/opt/ml/model")))
    parser.add_argument(
        "--output-data-dir", type=Path, default=Path(environ.get("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"))
    )
    return parser.parse_args(sys.argv[1:] if argv is None else argv)


def main(argv: list[str] | None = None) -> dict:
    """Train and register a challenger; returns (and prints) its evaluation."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as staging:
        evaluation = train_in_container(
            args.features,
            args.model_dir,
            args.output_data_dir,
            Path(staging),
            training_job_name=os.environ.get("TRAINING_JOB_NAME", ""),
        )
    print(json.dumps(evaluation.to_dict()), flush=True)
    return evaluation.to_dict()


if __name__ == "__main__":
    main()
