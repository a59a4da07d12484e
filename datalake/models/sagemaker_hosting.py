"""Serve a registered forecaster version from a SageMaker endpoint (plain boto3; no SDK needed).

One deployment = a model (built from the version's model package), an endpoint config naming it,
and the endpoint created or switched to that config. Models and configs are immutable in
SageMaker, so each deployment gets new ones named after the package version and the time; the
endpoint keeps its name (``FORECAST_ENDPOINT``) and SageMaker swaps the fleet blue/green.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from datalake import aws
from datalake.errors import ConfigurationError, LakeError
from datalake.settings import Settings, get_settings

if TYPE_CHECKING:
    import boto3

    from datalake.models import Registry

VARIANT = "AllTraffic"
DEFAULT_ENDPOINT = "datalake-demand-forecast"
_MAX_NAME = 63  # SageMaker model / endpoint config names


@dataclass(frozen=True)
class Deployment:
    """What a deployment created and which version the endpoint now serves."""

    endpoint_name: str
    endpoint_config_name: str
    model_name: str
    model_package_arn: str
    version: str
    action: str  # "created" or "updated"


def deployment_name(endpoint: str, package_version: int | None, now: dt.datetime | None = None) -> str:
    """A new model / endpoint-config name, ``<endpoint>-v<package version>-<UTC time>-<4 hex>``.

    The random tail keeps two deployments in the same second apart (SageMaker refuses a name
    twice); the result has at most 63 characters.
    """
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d%H%M%S")
    suffix = f"-v{package_version or 0}-{stamp}-{uuid.uuid4().hex[:4]}"
    base = re.sub(r"[^A-Za-z0-9-]", "-", endpoint)[: _MAX_NAME - len(suffix)].rstrip("-")
    return base + suffix


def serving_environment(settings: Settings) -> dict[str, str]:
    """Lake settings the serving code reads (it fetches recent demand when a request has none).

    SageMaker sets ``AWS_REGION`` in the container itself.
    """
    env = {"LAKE_RUNTIME": "aws"}
    if settings.database_secret_arn:
        env["DATABASE_SECRET_ARN"] = settings.database_secret_arn
    return env


def model_network(settings: Settings) -> dict[str, Any]:
    """``VpcConfig`` of the endpoint's model: the private subnets, where RDS can be reached.

    Raises
    ------
    ConfigurationError
        The model reads the warehouse (``DATABASE_SECRET_ARN``) but no subnets or security groups
        are set: outside the VPC it could fetch the secret but never reach the private database,
        and every forecast without its own history would fail.
    """
    subnets = _ids(settings.sagemaker_subnet_ids)
    groups = _ids(settings.sagemaker_security_group_ids)
    if subnets and groups:
        return {"VpcConfig": {"Subnets": subnets, "SecurityGroupIds": groups}}
    if subnets or groups or settings.database_secret_arn:
        raise ConfigurationError(
            "the forecast endpoint reads the private warehouse but has no VPC configuration",
            hint="set SAGEMAKER_SUBNET_IDS (PrivateSubnetIds) and SAGEMAKER_SECURITY_GROUP_IDS "
            "(AppSecurityGroupId) from the network stack's outputs",
        )
    return {}


def _ids(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def deploy(
    registry: Registry,
    version: str | None = None,
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
    *,
    endpoint_name: str | None = None,
    instance_type: str | None = None,
    role_arn: str | None = None,
    wait: bool = False,
) -> Deployment:
    """Point the forecast endpoint at a registered version (the champion by default).

    Parameters
    ----------
    registry
        A SageMaker registry (versions must be model packages).
    version
        Version to serve; the champion when omitted. It must be ``Approved``: the registry's
        approval is the gate between a trained model and traffic.
    settings, boto3_session
        Lake settings and the session AWS calls go through.
    endpoint_name, instance_type, role_arn
        Overrides of ``FORECAST_ENDPOINT``, ``SAGEMAKER_INFERENCE_INSTANCE_TYPE`` and
        ``SAGEMAKER_ROLE_ARN``.
    wait
        Wait until the endpoint is ``InService``.

    Returns
    -------
    Deployment
        The names created and whether the endpoint was created or updated.
    """
    settings = settings or get_settings()
    role = role_arn or settings.sagemaker_role_arn
    if not role:
        raise ConfigurationError("no SageMaker execution role", hint="set SAGEMAKER_ROLE_ARN or pass --role")
    record = registry.get(version) if version else registry.champion()
    if record is None:
        raise LakeError(
            "no champion to deploy", hint="promote a version first (launch.py register --promote)"
        )
    if record.get("approval_status") != "Approved":
        raise LakeError(
            f"version {record['version']} is {record.get('approval_status')}, not Approved",
            hint="promote it first; only approved versions get traffic",
        )
    endpoint = endpoint_name or settings.forecast_endpoint or DEFAULT_ENDPOINT
    container = {
        "ModelPackageName": record["model_package_arn"],
        "Environment": serving_environment(settings),
    }
    return serve_container(
        container,
        endpoint,
        record["version"],
        settings,
        boto3_session,
        package_version=record.get("model_package_version"),
        instance_type=instance_type,
        role_arn=role,
        network=model_network(settings),
        wait=wait,
        source=record["model_package_arn"],
    )


def serve_container(
    container: dict[str, Any],
    endpoint: str,
    version: str,
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
    *,
    package_version: int | None = None,
    instance_type: str | None = None,
    role_arn: str | None = None,
    network: dict[str, Any] | None = None,
    wait: bool = False,
    source: str = "",
) -> Deployment:
    """Create a model of ``container``, an endpoint config naming it, and create or switch ``endpoint``.

    Shared by the registry's versions (a model package) and the store-sales champion (an image and a
    ``ModelDataUrl``, :func:`datalake.sales.hosting.deploy_champion`).

    Parameters
    ----------
    container
        The model's ``PrimaryContainer``.
    endpoint
        Endpoint name; created when missing, else updated (blue/green).
    version
        The model version served (tagged ``datalake:model-version``).
    settings, boto3_session
        Lake settings and the session AWS calls go through.
    package_version
        Number in the new names (the model package's; 0 when there is none).
    instance_type, role_arn
        Overrides of ``SAGEMAKER_INFERENCE_INSTANCE_TYPE`` and ``SAGEMAKER_ROLE_ARN``.
    network
        ``VpcConfig`` of the model (:func:`model_network`), or nothing.
    wait
        Wait until the endpoint is ``InService``.
    source
        What the model was built from (a model package ARN, an archive URI), for the answer.
    """
    settings = settings or get_settings()
    role = role_arn or settings.sagemaker_role_arn
    if not role:
        raise ConfigurationError("no SageMaker execution role", hint="set SAGEMAKER_ROLE_ARN or pass --role")
    name = deployment_name(endpoint, package_version)
    tags = [{"Key": "datalake:model-version", "Value": version}]
    client = aws.client("sagemaker", boto3_session, settings)
    client.create_model(
        ModelName=name,
        ExecutionRoleArn=role,
        PrimaryContainer=container,
        Tags=tags,
        **(network or {}),
    )
    client.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": VARIANT,
                "ModelName": name,
                "InitialInstanceCount": 1,
                "InstanceType": instance_type or settings.sagemaker_inference_instance_type,
                "InitialVariantWeight": 1.0,
            }
        ],
        Tags=tags,
    )
    if _endpoint_exists(client, endpoint):
        client.update_endpoint(EndpointName=endpoint, EndpointConfigName=name)
        action = "updated"
    else:
        client.create_endpoint(EndpointName=endpoint, EndpointConfigName=name, Tags=tags)
        action = "created"
    if wait:
        client.get_waiter("endpoint_in_service").wait(EndpointName=endpoint)
    return Deployment(endpoint, name, name, source, version, action)


def _endpoint_exists(client: Any, endpoint: str) -> bool:
    try:
        client.describe_endpoint(EndpointName=endpoint)
    except ClientError as error:
        # SageMaker answers a missing endpoint with a ValidationException ("Could not find").
        if error.response.get("Error", {}).get("Code") == "ValidationException":
            return False
        raise
    return True
