"""What SageMaker does with an execution role: training jobs and the models behind endpoints.

SageMaker acts with the role passed in ``CreateTrainingJob`` (``RoleArn``) and ``CreateModel``
(``ExecutionRoleArn``). Its requests follow from those requests, as AWS documents them for each
API ("SageMaker execution roles"): read every input channel (list its prefix, get its files),
write the job's outputs under ``OutputDataConfig.S3OutputPath``, pull the image from ECR, write
the logs and metrics, attach network interfaces for a ``VpcConfig``; a model's container also
gets its ``ModelDataUrl``, and the serving code reads the database secret its environment names.

The launcher (``sagemaker/launch.py``) calls SageMaker with the user's own credentials; only the
resources it passes the role for count here. :func:`role_requests_of_calls` derives them from a
recording of the launcher; :func:`launcher_role_requests` from the launcher's defaults, without
running it (tests/integration/test_iam_service_roles.py holds the two equal).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from datalake.deploy.iam_calls import AwsCall, metric_data_request
from datalake.deploy.iam_policy import Request
from datalake.errors import ConfigurationError
from datalake.models import FORECASTER
from datalake.models.archive import MODEL_ARCHIVE
from datalake.models.sagemaker_hosting import VARIANT
from datalake.models.sagemaker_training import (
    BASE_JOB_NAME,
    MANIFESTS_FOLDER,
    SAGEMAKER_PREFIX,
    WEATHER_CHANNEL,
)
from datalake.storage.paths import join_key

#: Lists the keys under ``(bucket, prefix)``; None stands every key under it (``prefix*``).
ObjectLister = Callable[[str, str], list[str]] | None

#: What SageMaker does to attach a job's or a model's network interfaces in a VPC (no resource-level
#: permissions: AWS's "CreateModel API: Execution role permissions" with VpcConfig).
SAGEMAKER_VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
)
#: Pulling an image: the token has no resource-level permissions, the layers are the repository's.
ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")
#: Where training jobs and endpoints log, and the CloudWatch namespaces of their instance metrics.
TRAINING_LOG_GROUP, TRAINING_NAMESPACE = "/aws/sagemaker/TrainingJobs", "/aws/sagemaker/TrainingJobs"
ENDPOINT_LOG_GROUP, ENDPOINT_NAMESPACE = "/aws/sagemaker/Endpoints", "/aws/sagemaker/Endpoints"
#: The environment variable the serving code reads the warehouse's credentials from.
DATABASE_SECRET_VARIABLE = "DATABASE_SECRET_ARN"
#: The AWS Deep Learning Containers' registry (most commercial regions) and the forecaster's images.
DLC_ACCOUNT = "763104351884"
TRAINING_REPOSITORY, INFERENCE_REPOSITORY = "pytorch-training", "pytorch-inference"

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9._/-]+?)(?::[\w.-]+|@sha256:[0-9a-f]{64})?$"
)


def _split(uri: str, where: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ConfigurationError(f"{where}: {uri!r} is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def image_requests(image: str, why: str, partition: str = "aws") -> list[Request]:
    """The ECR requests of pulling ``image`` (``<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>``)."""
    match = _ECR_IMAGE.match(image)
    if match is None:
        raise ConfigurationError(f"{why}: {image!r} is not an ECR image URI")
    repository = f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repository']}"
    return [
        Request("ecr:GetAuthorizationToken", "*", {}, why),
        *(Request(action, repository, {}, why) for action in ECR_PULL_ACTIONS),
    ]


def channel_requests(
    uri: str, why: str, partition: str = "aws", objects: ObjectLister = None
) -> list[Request]:
    """Reading an ``S3Prefix`` channel: list the prefix, get every object under it."""
    bucket, prefix = _split(uri, why)
    keys = objects(bucket, prefix) if objects else [f"{prefix}*"]
    return [
        Request("s3:ListBucket", f"arn:{partition}:s3:::{bucket}", {"s3:prefix": prefix}, why),
        *(Request("s3:GetObject", f"arn:{partition}:s3:::{bucket}/{key}", {}, why) for key in keys),
    ]


def manifest_channel_requests(
    uri: str, why: str, partition: str = "aws", objects: ObjectLister = None
) -> list[Request]:
    """Reading a ``ManifestFile`` channel: get the manifest, then each object it names.

    The launcher writes a table's manifests in the table's folder
    (``<table>/_manifests/<time>.manifest``, see ``default_channel``) and names files of that
    table only, so the objects read are under ``<table>/``.
    """
    bucket, key = _split(uri, why)
    table, found, _name = key.partition(f"/{MANIFESTS_FOLDER}/")
    if not found:
        raise ConfigurationError(f"{why}: manifest {uri} is not in a table's {MANIFESTS_FOLDER}/ folder")
    keys = objects(bucket, f"{table}/") if objects else [f"{table}/*"]
    return [
        Request("s3:GetObject", f"arn:{partition}:s3:::{bucket}/{key}", {}, f"{why} (the manifest)"),
        *(Request("s3:GetObject", f"arn:{partition}:s3:::{bucket}/{k}", {}, why) for k in keys),
    ]


def _log_requests(
    group: str, stream: str, why: str, region: str, account: str, partition: str
) -> list[Request]:
    arn = f"arn:{partition}:logs:{region}:{account}:log-group:{group}"
    return [
        Request("logs:CreateLogGroup", arn, {}, why),
        Request("logs:DescribeLogStreams", f"{arn}:*", {}, why),
        Request("logs:CreateLogStream", f"{arn}:log-stream:{stream}", {}, why),
        Request("logs:PutLogEvents", f"{arn}:log-stream:{stream}", {}, why),
    ]


def training_job_requests(
    job: Mapping[str, Any], region: str, account: str, partition: str = "aws", objects: ObjectLister = None
) -> list[Request]:
    """What SageMaker does with ``RoleArn`` to run one ``CreateTrainingJob`` request.

    Parameters
    ----------
    job
        The request's parameters (``TrainingJobName``, ``InputDataConfig``, ``OutputDataConfig``,
        ``AlgorithmSpecification.TrainingImage``, ``VpcConfig``).
    region, account, partition
        Where the job runs.
    objects
        Lists a channel's keys; every key under each channel when None.

    Returns
    -------
    list of Request
        Read every channel, write ``<output>/<job>/output/model.tar.gz`` and ``output.tar.gz``, pull
        the image, write the job's logs and metrics, and attach network interfaces in a VPC.
    """
    name = str(job["TrainingJobName"])
    why = f"SageMaker runs training job {name}"
    requests: list[Request] = []
    for channel in job.get("InputDataConfig", []):
        source = channel["DataSource"].get("S3DataSource")
        data_type = None if source is None else source.get("S3DataType", "S3Prefix")
        if data_type not in ("S3Prefix", "ManifestFile"):
            raise ConfigurationError(
                f"{why}: channel {channel['ChannelName']} is not an S3Prefix or ManifestFile channel"
            )
        reader = channel_requests if data_type == "S3Prefix" else manifest_channel_requests
        requests += reader(
            str(source["S3Uri"]), f"{why}: channel {channel['ChannelName']}", partition, objects
        )
    output = str(job["OutputDataConfig"]["S3OutputPath"]).rstrip("/")
    if job["OutputDataConfig"].get("KmsKeyId"):
        raise ConfigurationError(f"{why}: KMS-encrypted outputs are not modelled by the IAM check")
    bucket, prefix = _split(output, why)
    requests += [
        Request(
            "s3:PutObject",
            f"arn:{partition}:s3:::{bucket}/{join_key(prefix, name, 'output', archive)}",
            {},
            why,
        )
        for archive in (MODEL_ARCHIVE, "output.tar.gz")
    ]
    requests += image_requests(str(job["AlgorithmSpecification"]["TrainingImage"]), why, partition)
    requests += _log_requests(
        TRAINING_LOG_GROUP, f"{name}/algo-1-1700000000", why, region, account, partition
    )
    requests.append(metric_data_request(TRAINING_NAMESPACE, why))
    if job.get("VpcConfig"):
        requests += [Request(action, "*", {}, why) for action in SAGEMAKER_VPC_ACTIONS]
    return requests


def model_requests(
    container: Mapping[str, Any],
    endpoints: Iterable[str],
    region: str,
    account: str,
    partition: str = "aws",
    *,
    vpc: bool = False,
    why: str = "SageMaker hosts a model",
) -> list[Request]:
    """What SageMaker (and the serving code) do with ``ExecutionRoleArn`` to host one model.

    Parameters
    ----------
    container
        The model's container: ``Image``, ``ModelDataUrl``, ``Environment`` (the model package's
        container when ``CreateModel`` names a package).
    endpoints
        The endpoints that serve it (their log groups).
    region, account, partition
        Where it runs.
    vpc
        Whether the model has a ``VpcConfig``.
    why
        Names the model in reports.

    Returns
    -------
    list of Request
        Pull the image, get ``ModelDataUrl``, write each endpoint's logs and instance metrics,
        attach network interfaces in a VPC, and read ``DATABASE_SECRET_ARN`` (the serving code
        fetches recent demand from the warehouse with the role's credentials).
    """
    requests = image_requests(str(container["Image"]), why, partition)
    if container.get("ModelDataUrl"):
        bucket, key = _split(str(container["ModelDataUrl"]), why)
        requests.append(Request("s3:GetObject", f"arn:{partition}:s3:::{bucket}/{key}", {}, why))
    for endpoint in endpoints:
        group = f"{ENDPOINT_LOG_GROUP}/{endpoint}"
        requests += _log_requests(group, f"{VARIANT}/i-0123456789abcdef0", why, region, account, partition)
    requests.append(metric_data_request(ENDPOINT_NAMESPACE, why))
    if vpc:
        requests += [Request(action, "*", {}, why) for action in SAGEMAKER_VPC_ACTIONS]
    secret = (container.get("Environment") or {}).get(DATABASE_SECRET_VARIABLE)
    if secret:
        requests.append(
            Request(
                "secretsmanager:GetSecretValue",
                str(secret),
                {},
                f"{why}: the serving code reads the warehouse",
            )
        )
    return requests


def role_requests_of_calls(
    calls: Iterable[AwsCall],
    role_arn: str,
    account: str,
    partition: str = "aws",
    objects: ObjectLister = None,
) -> list[Request]:
    """What SageMaker does with ``role_arn`` for the jobs and models a recording created with it.

    Parameters
    ----------
    calls
        The launcher's recorded calls (``CreateTrainingJob``, ``CreateModelPackage``,
        ``CreateModel``, ``CreateEndpointConfig``, ``CreateEndpoint``/``UpdateEndpoint``).
    role_arn
        The execution role to check; jobs and models passed another role are left out.
    account, partition
        Of the ARNs.
    objects
        Lists a channel's keys (when the recording ends the channels' files are in place).

    Returns
    -------
    list of Request
        :func:`training_job_requests` of each job and :func:`model_requests` of each model, with
        the endpoints that serve it.

    Raises
    ------
    ConfigurationError
        For a model naming a package the recording did not create.
    """
    calls = [c for c in calls if c.service == "sagemaker" and c.error_code is None]
    packages = {
        str(c.response["ModelPackageArn"]): c.params["InferenceSpecification"]["Containers"][0]
        for c in calls
        if c.operation == "CreateModelPackage" and "ModelPackageArn" in c.response
    }
    configs = {
        str(c.params["EndpointConfigName"]): {v["ModelName"] for v in c.params["ProductionVariants"]}
        for c in calls
        if c.operation == "CreateEndpointConfig"
    }
    served: dict[str, set[str]] = {}
    for call in calls:
        if call.operation in ("CreateEndpoint", "UpdateEndpoint"):
            for model in configs.get(str(call.params["EndpointConfigName"]), ()):
                served.setdefault(model, set()).add(str(call.params["EndpointName"]))
    requests: list[Request] = []
    for call in calls:
        if call.operation == "CreateTrainingJob" and call.params.get("RoleArn") == role_arn:
            requests += training_job_requests(call.params, call.region, account, partition, objects)
        if call.operation == "CreateModel" and call.params.get("ExecutionRoleArn") == role_arn:
            container = dict(call.params["PrimaryContainer"])
            package = container.pop("ModelPackageName", None)
            if package is not None:
                if package not in packages:
                    raise ConfigurationError(
                        f"{call}: model package {package} was not created in the recording"
                    )
                container = {
                    **packages[package],
                    **container,
                    "Environment": {
                        **(packages[package].get("Environment") or {}),
                        **(container.get("Environment") or {}),
                    },
                }
            name = str(call.params["ModelName"])
            requests += model_requests(
                container,
                sorted(served.get(name, ())),
                call.region,
                account,
                partition,
                vpc=bool(call.params.get("VpcConfig")),
                why=f"SageMaker hosts model {name}",
            )
    return requests


#: Stand-ins for what the launcher names at run time: a job (``<base job name>-<UTC time>``, as the
#: SDK names it) and a registered version.
LAUNCHER_JOB_NAME = f"{BASE_JOB_NAME}-20240101000000"
LAUNCHER_VERSION = "v20240101T000000-000000"
#: Stands in for the manifest the launcher writes (``<UTC time>.manifest``, see ``default_channel``).
LAUNCHER_MANIFEST = "20240101T000000Z.manifest"


def dlc_image(repository: str, region: str) -> str:
    """A PyTorch Deep Learning Container image URI of ``repository`` in ``region`` (any tag)."""
    return f"{DLC_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{repository}:latest"


def _launcher_training(
    job: str,
    base_job_name: str,
    train_uri: str,
    data_type: str,
    artifacts_bucket: str,
    region: str,
    weather_manifest: str | None = None,
) -> dict[str, Any]:
    """The ``CreateTrainingJob`` request the launcher makes: the train channel (and the forecaster's
    weather manifest, with ``--weather-channel lake``), the source bundle and the SDK's drivers staged
    under ``sagemaker/<base job name>/<job>/input/``, outputs under ``sagemaker/training/``."""
    staged = f"s3://{artifacts_bucket}/{join_key(SAGEMAKER_PREFIX, base_job_name, job, 'input')}"
    weather = (
        [
            {
                "ChannelName": WEATHER_CHANNEL,
                "DataSource": {"S3DataSource": {"S3Uri": weather_manifest, "S3DataType": "ManifestFile"}},
            }
        ]
        if weather_manifest
        else []
    )
    return {
        "TrainingJobName": job,
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3Uri": train_uri, "S3DataType": data_type}},
            },
            *weather,
            {"ChannelName": "code", "DataSource": {"S3DataSource": {"S3Uri": f"{staged}/code"}}},
            {"ChannelName": "sm_drivers", "DataSource": {"S3DataSource": {"S3Uri": f"{staged}/sm_drivers"}}},
        ],
        "OutputDataConfig": {
            "S3OutputPath": f"s3://{artifacts_bucket}/{join_key(SAGEMAKER_PREFIX, 'training')}"
        },
        "AlgorithmSpecification": {"TrainingImage": dlc_image(TRAINING_REPOSITORY, region)},
    }


def launcher_role_requests(
    lake_bucket: str,
    artifacts_bucket: str,
    endpoint: str,
    region: str,
    account: str,
    partition: str = "aws",
    *,
    database_secret_arn: str | None = None,
) -> list[Request]:
    """What the launcher's train (with the weather channel) and deploy make SageMaker do with the role.

    ``launch.py train --weather-channel lake`` trains on a manifest of ``processed/demand_hourly/``'s
    current files (in its ``_manifests/`` folder) and one of ``processed/weather_national_hourly/``'s
    (the weather model; without the option the job reads demand only, a subset) with the source
    bundle and the SDK's drivers uploaded under ``sagemaker/<base job name>/<job>/input/`` and the
    outputs under ``sagemaker/training/``;
    ``launch.py deploy`` hosts a registered version, whose archive is
    ``models/<name>/versions/<version>/model.tar.gz``, on ``endpoint``; a model that reads the
    warehouse runs in the VPC (the launcher refuses it otherwise: RDS is private).

    Parameters
    ----------
    lake_bucket, artifacts_bucket
        The buckets the launcher's settings name.
    endpoint
        ``FORECAST_ENDPOINT``.
    region, account, partition
        Where it runs.
    database_secret_arn
        ``DATABASE_SECRET_ARN`` when the launcher's settings have it (it goes into the model's
        environment).
    """
    from datalake.datasets import DEMAND_HOURLY
    from datalake.datasets.weather import WEATHER_NATIONAL_HOURLY

    manifest = f"s3://{lake_bucket}/{DEMAND_HOURLY.location}/{MANIFESTS_FOLDER}/{LAUNCHER_MANIFEST}"
    weather = f"s3://{lake_bucket}/{WEATHER_NATIONAL_HOURLY.location}/{MANIFESTS_FOLDER}/{LAUNCHER_MANIFEST}"
    training = _launcher_training(
        LAUNCHER_JOB_NAME, BASE_JOB_NAME, manifest, "ManifestFile", artifacts_bucket, region, weather
    )
    version = join_key("models", FORECASTER, "versions", LAUNCHER_VERSION, MODEL_ARCHIVE)
    container = {
        "Image": dlc_image(INFERENCE_REPOSITORY, region),
        "ModelDataUrl": f"s3://{artifacts_bucket}/{version}",
        "Environment": {DATABASE_SECRET_VARIABLE: database_secret_arn} if database_secret_arn else {},
    }
    return training_job_requests(training, region, account, partition) + model_requests(
        container,
        [endpoint],
        region,
        account,
        partition,
        vpc=database_secret_arn is not None,
        why="SageMaker hosts a registered version",
    )


#: Stands in for the job name ``launch.py --model movie-success`` gives a training job.
MOVIE_LAUNCHER_JOB_NAME = "datalake-movie-success-20240101000000"
#: The Kaggle-format CSV the movie-success family trains on, where ``ingest tmdb-csv`` lands it.
MOVIE_TRAINING_CSV = "tmdb_5000_movies.csv"


def movie_success_launcher_requests(
    lake_bucket: str,
    artifacts_bucket: str,
    endpoint: str,
    region: str,
    account: str,
    partition: str = "aws",
) -> list[Request]:
    """What ``launch.py all --model movie-success`` makes SageMaker do with the execution role.

    The classifier trains on the Kaggle-format CSV in ``raw/tmdb/kaggle/`` (its ``--channel``),
    with the source bundle staged under ``sagemaker/<base job name>/<job>/input/``, and its
    registered versions are hosted from ``models/movie_success/versions/<version>/``. It reads no
    warehouse, so it needs no VPC.

    Parameters
    ----------
    lake_bucket, artifacts_bucket
        The buckets the launcher's settings name.
    endpoint
        The ``--endpoint`` the classifier is served on.
    region, account, partition
        Where it runs.
    """
    from datalake import movies
    from datalake.sources.tmdb_kaggle import KAGGLE_PREFIX

    csv = f"s3://{lake_bucket}/{join_key(KAGGLE_PREFIX, MOVIE_TRAINING_CSV)}"
    training = _launcher_training(
        MOVIE_LAUNCHER_JOB_NAME, movies.BASE_JOB_NAME, csv, "S3Prefix", artifacts_bucket, region
    )
    version = join_key("models", movies.MODEL_NAME, "versions", LAUNCHER_VERSION, MODEL_ARCHIVE)
    container = {
        "Image": dlc_image(INFERENCE_REPOSITORY, region),
        "ModelDataUrl": f"s3://{artifacts_bucket}/{version}",
    }
    return training_job_requests(training, region, account, partition) + model_requests(
        container,
        [endpoint],
        region,
        account,
        partition,
        why="SageMaker hosts a registered movie-success version",
    )


def sales_launcher_requests(
    artifacts_bucket: str,
    endpoint: str,
    region: str,
    account: str,
    partition: str = "aws",
) -> list[Request]:
    """What ``launch.py deploy --model store-sales`` makes SageMaker do with the execution role.

    The MLflow champion is packed into ``models/store-sales/versions/<version>/model.tar.gz`` in the
    artifacts bucket (:func:`datalake.sales.hosting.deploy_champion`) and hosted from there on
    ``endpoint`` (``SALES_ENDPOINT``). It reads no warehouse, so it needs no VPC.

    Parameters
    ----------
    artifacts_bucket
        The bucket the launcher's settings name.
    endpoint
        ``SALES_ENDPOINT``.
    region, account, partition
        Where it runs.
    """
    from datalake.sales.hosting import archive_key

    container = {
        "Image": dlc_image(INFERENCE_REPOSITORY, region),
        "ModelDataUrl": f"s3://{artifacts_bucket}/{archive_key(LAUNCHER_SALES_VERSION)}",
    }
    return model_requests(
        container, [endpoint], region, account, partition, why="SageMaker hosts the store-sales champion"
    )


#: Stands in for the MLflow version ``launch.py deploy --model store-sales`` packs.
LAUNCHER_SALES_VERSION = "7"
