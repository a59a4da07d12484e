"""Train the demand forecaster on SageMaker, register the model, deploy the endpoint (extra ``aws``).

    python sagemaker/launch.py train [--channel s3://...] [--weather-channel lake|s3://...]
                                     [--hp max_epochs=20 ...] [--no-wait]
    python sagemaker/launch.py register --job JOB_NAME [--promote --reason TEXT]
    python sagemaker/launch.py deploy [--version VERSION] [--wait]
    python sagemaker/launch.py all [train options] [--promote] [--wait-endpoint]

``train`` runs ``train.py`` in a ``ModelTrainer`` job (v3 SDK) on the processed ``demand_hourly``
Parquet by default (any s3:// prefix of Parquet or ENTSO-E CSV files works); the code bundle
carries the ``datalake`` package (see ``datalake.models.sagemaker_training``). With
``--weather-channel`` (``lake``: a manifest of ``weather_national_hourly``'s current files) the job
trains the weather model, with the model without weather inside it as the fallback. ``register`` adds
the job's ``model.tar.gz`` to the Model Registry group as ``PendingManualApproval``; ``--promote``
approves it (the champion). ``deploy`` serves the champion (or ``--version``, if approved) from
``FORECAST_ENDPOINT``. ``all`` chains the three and promotes when asked to, or when the group has
no champion yet (the first model, as the local pipeline does). Settings come from the environment
(``SAGEMAKER_ROLE_ARN``, instance types, images, ``MODEL_PACKAGE_GROUP``, ``FORECAST_ENDPOINT``).
Each command prints one JSON object. ``--model movie-success`` does the same for the movie
success classifier: ``movie_success_train.py`` on a Kaggle-format CSV (``--channel`` required),
its own registry group (``<MODEL_PACKAGE_GROUP>-movie-success``), deployed to ``--endpoint``.
``deploy --model store-sales`` packs the store-sales model's MLflow champion with
``sales_inference.py`` and serves it on ``SALES_ENDPOINT`` (``datalake.sales.hosting``), which
``POST /predict/sales`` calls on AWS.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if importlib.util.find_spec("datalake") is None:
    # Not installed: use the checkout's package. Only then, because the SDK's ``sagemaker`` is a
    # pkgutil namespace that adopts any ``sagemaker/`` folder on sys.path (this one) as a portion.
    sys.path.insert(0, str(HERE.parent))

from datalake import movies  # noqa: E402
from datalake.datasets.weather import WEATHER_NATIONAL_HOURLY  # noqa: E402
from datalake.errors import DataValidationError, LakeError  # noqa: E402
from datalake.models import model_registry  # noqa: E402
from datalake.models import sagemaker_hosting as hosting  # noqa: E402
from datalake.models import sagemaker_training as training  # noqa: E402
from datalake.settings import Settings, get_settings  # noqa: E402


def parse_hyperparameters(pairs: list[str]) -> dict[str, Any]:
    """``name=value`` pairs; values that parse as JSON (numbers, lists, booleans) keep their type."""
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise DataValidationError("--hp", f"expected name=value, got {pair!r}")
        try:
            out[name] = json.loads(value)
        except json.JSONDecodeError:
            out[name] = value
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="launch.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = argparse.ArgumentParser(add_help=False)
    train.add_argument(
        "--channel",
        help="s3:// prefix (or .manifest) of the training data (default: a manifest of the current "
        "files of processed demand_hourly, as the catalog points at them)",
    )
    train.add_argument(
        "--weather-channel",
        metavar="URI|lake",
        help="the forecaster's weather channel: an s3:// prefix (or .manifest) of the shared observation "
        "file or of weather_national_hourly Parquet, or 'lake' (a manifest of weather_national_hourly's "
        "current files); trains the weather model with the model without weather as its fallback",
    )
    train.add_argument("--hp", action="append", default=[], metavar="NAME=VALUE", help="hyperparameter")
    train.add_argument("--instance-type", help="training instance (SAGEMAKER_TRAINING_INSTANCE_TYPE)")
    train.add_argument("--output-path", help="s3:// prefix for job outputs (default: artifacts bucket)")
    train.add_argument("--image", help="training image URI (default: resolved PyTorch image)")
    train.add_argument("--max-runtime", type=int, default=3600, help="seconds before SageMaker stops the job")
    train.add_argument("--no-wait", action="store_true", help="return once the job is started")
    train.add_argument("--no-logs", action="store_true", help="do not stream the job's logs while waiting")

    promote = argparse.ArgumentParser(add_help=False)
    promote.add_argument("--promote", action="store_true", help="approve the new version (champion)")
    promote.add_argument("--reason", default="promoted from launch.py", help="approval description")

    deploy = argparse.ArgumentParser(add_help=False)
    deploy.add_argument(
        "--endpoint",
        help="endpoint name (FORECAST_ENDPOINT; with --model movie-success, MOVIE_SUCCESS_ENDPOINT)",
    )
    deploy.add_argument("--endpoint-instance-type", help="SAGEMAKER_INFERENCE_INSTANCE_TYPE override")
    deploy.add_argument("--wait-endpoint", action="store_true", help="wait until the endpoint is InService")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--role", help="execution role ARN (SAGEMAKER_ROLE_ARN)")
    common.add_argument(
        "--model",
        choices=sorted([*FAMILIES, SALES_MODEL]),
        default="demand-forecaster",
        help="model family: movie-success trains movie_success_train.py on a Kaggle-format CSV "
        "(--channel required) into its own registry group, and deploys to --endpoint; store-sales "
        "(deploy only: the mlops state machine trains it) packs the MLflow champion and serves it "
        "on SALES_ENDPOINT",
    )

    commands.add_parser("train", parents=[common, train], help="run a training job")
    register = commands.add_parser("register", parents=[common, promote], help="register a job's model")
    register.add_argument("--job", required=True, help="name of a completed training job")
    deploy_cmd = commands.add_parser("deploy", parents=[common, deploy], help="serve a version")
    deploy_cmd.add_argument("--version", help="version to serve (default: the champion)")
    commands.add_parser("all", parents=[common, train, promote, deploy], help="train, register, deploy")
    return parser


#: Model family -> (registry name, training entry script, base job name).
FAMILIES = {
    "demand-forecaster": ("demand_forecaster", "train.py", training.BASE_JOB_NAME),
    "movie-success": (movies.MODEL_NAME, "movie_success_train.py", movies.BASE_JOB_NAME),
}


#: Deployed here, trained by the mlops state machine (its champion is an MLflow registry alias).
SALES_MODEL = "store-sales"


def _deploy_sales(args: argparse.Namespace, settings: Settings, session: Any) -> dict[str, Any]:
    """Pack the MLflow champion of the store-sales model and serve it on SALES_ENDPOINT."""
    from datalake.sales.hosting import deploy_champion

    deployment = deploy_champion(
        settings,
        session,
        endpoint_name=args.endpoint,
        instance_type=args.endpoint_instance_type,
        role_arn=args.role,
        wait=args.wait_endpoint,
        scripts_dir=HERE,
    )
    return dataclasses.asdict(deployment)


def _family(args: argparse.Namespace) -> tuple[str, str, str]:
    return FAMILIES[getattr(args, "model", "demand-forecaster")]


def _train(args: argparse.Namespace, settings: Settings, session: Any) -> training.TrainingResult:
    _, entry_script, base_job_name = _family(args)
    if entry_script != "train.py" and not args.channel:
        raise DataValidationError("--channel", f"{args.model} trains on a CSV: give its s3:// URI")
    weather = args.weather_channel
    if weather and entry_script != "train.py":
        raise DataValidationError("--weather-channel", f"{args.model} trains without weather")
    if weather == "lake":
        weather = training.default_channel(settings, session, WEATHER_NATIONAL_HOURLY)
    request = training.TrainingRequest(
        entry_script=entry_script,
        base_job_name=base_job_name,
        weather_channel_uri=weather,
        channel_uri=args.channel or training.default_channel(settings, session),
        hyperparameters=parse_hyperparameters(args.hp),
        instance_type=args.instance_type,
        role_arn=args.role,
        output_path=args.output_path,
        image_uri=args.image,
        max_runtime_s=args.max_runtime,
    )
    return training.train(
        request, settings, session, wait=not args.no_wait, logs=not args.no_logs, scripts_dir=HERE
    )


def _register(job_name: str, args: argparse.Namespace, settings: Settings, session: Any) -> dict[str, Any]:
    registry = model_registry(settings, session, name=_family(args)[0])
    version = training.register_training_job(job_name, registry, settings, session)
    promote = args.promote or (args.command == "all" and registry.champion() is None)
    if promote:
        reason = args.reason if args.promote else "first model: no champion yet"
        registry.promote(version, reason)
    return {"version": version, "promoted": promote, "record": registry.get(version)}


def _deploy(
    args: argparse.Namespace, settings: Settings, session: Any, version: str | None
) -> dict[str, Any]:
    name = _family(args)[0]
    endpoint = args.endpoint
    if name != "demand_forecaster":
        endpoint = endpoint or settings.movie_success_endpoint
        if not endpoint:
            raise DataValidationError(
                "--endpoint", f"{args.model} needs an endpoint name of its own (or MOVIE_SUCCESS_ENDPOINT)"
            )
    deployment = hosting.deploy(
        model_registry(settings, session, name=name),
        version,
        settings,
        session,
        endpoint_name=endpoint,
        instance_type=args.endpoint_instance_type,
        role_arn=args.role,
        wait=args.wait_endpoint,
    )
    return dataclasses.asdict(deployment)


def main(argv: list[str] | None = None, settings: Settings | None = None, boto3_session: Any = None) -> dict:
    """Run one launcher command and return (and print) its JSON summary.

    Parameters
    ----------
    argv
        Command-line arguments; ``sys.argv[1:]`` when omitted.
    settings
        Lake settings; from the environment when omitted. They must select ``LAKE_RUNTIME=aws``.
    boto3_session
        Session every AWS call goes through.

    Returns
    -------
    dict
        What the command did (job, version, endpoint).
    """
    args = _parser().parse_args(argv)
    settings = settings or get_settings()
    if settings.lake_runtime != "aws":
        settings = settings.model_copy(update={"lake_runtime": "aws"})  # SageMaker is AWS-only
    summary: dict[str, Any] = {"command": args.command}
    try:
        if args.model == SALES_MODEL:
            if args.command != "deploy" or getattr(args, "version", None):
                raise DataValidationError(
                    "--model",
                    "store-sales is trained and promoted by the mlops state machine: launch.py only "
                    "deploys its MLflow champion (`deploy --model store-sales`)",
                )
            summary["deployment"] = _deploy_sales(args, settings, boto3_session)
            print(json.dumps(summary, indent=2, default=str))
            return summary
        if args.command in ("train", "all"):
            job = _train(args, settings, boto3_session)
            summary["training"] = dataclasses.asdict(job)
            if args.command == "all" and job.status != "Completed":
                raise LakeError(f"training job {job.job_name} is {job.status}; not registering it")
        if args.command in ("register", "all"):
            job_name = args.job if args.command == "register" else summary["training"]["job_name"]
            summary["registered"] = _register(job_name, args, settings, boto3_session)
        if args.command in ("deploy", "all"):
            summary["deployment"] = _deploy(args, settings, boto3_session, getattr(args, "version", None))
    except LakeError as error:
        hint = f" ({error.hint})" if error.hint else ""
        print(f"error: {error}{hint}", file=sys.stderr)
        raise SystemExit(1) from error
    print(json.dumps(summary, indent=2, default=str))
    return summary


if __name__ == "__main__":
    main()
