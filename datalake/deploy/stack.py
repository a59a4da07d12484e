"""Create or update one layer's stack through a change set, show the changes, wait, report.

``datalake deploy stack --env dev [--layer X]`` calls :func:`deploy_layers`. Everything goes
through :func:`datalake.aws.client`, so ``AWS_ENDPOINT_URL`` (moto in the tests) is honoured.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError, WaiterError

from datalake import aws
from datalake.deploy.package import read_manifest
from datalake.deploy.templates import LAYERS, load_params, load_template, stack_name, template_path
from datalake.errors import ConfigurationError, LakeError
from datalake.settings import Settings, get_settings

Progress = Callable[[str], None]
#: CloudFormation refuses a TemplateBody larger than this; larger templates need a TemplateURL.
MAX_TEMPLATE_BODY_BYTES = 51_200
#: The most a template read from S3 (TemplateURL) may weigh.
MAX_TEMPLATE_URL_BYTES = 1_000_000
#: Where templates too large for a TemplateBody are uploaded, in the artifacts bucket.
TEMPLATES_PREFIX = "cloudformation"
#: Stack states that a change set cannot update; the stack has to be deleted first.
UNRECOVERABLE_STATES = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"})
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


class DeployError(LakeError):
    """A stack operation failed; ``failures`` holds ``(resource, type, status, reason)`` rows."""

    def __init__(self, message: str, failures: Sequence[tuple[str, str, str, str]] = (), hint: str = ""):
        details = "".join(f"\n  {res} ({kind}) {status}: {reason}" for res, kind, status, reason in failures)
        super().__init__(message + details, hint=hint or None)
        self.failures = list(failures)


@dataclass
class LayerResult:
    """What one layer's deployment did."""

    layer: str
    stack: str
    action: str  # "create", "update" or "unchanged"
    changes: list[dict[str, str]] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)


def _quiet(_: str) -> None:
    pass


def layer_parameters(
    layer: str, env: str, params: dict[str, Any], code_version: str | None
) -> list[dict[str, str]]:
    """The ``Parameters`` of a layer's change set: Project, Env, its params and ``CodeVersion``.

    Raises
    ------
    ConfigurationError
        When the template needs a ``CodeVersion`` and none was packaged or given.
    """
    declared = load_template(layer).get("Parameters", {})
    values = {"Project": params["project"], "Env": env, **params["layers"].get(layer, {})}
    if "CodeVersion" in declared and "CodeVersion" not in values:
        if not code_version:
            raise ConfigurationError(
                f"the {layer} layer needs a code version",
                hint="run `datalake deploy package` first, or pass --code-version",
            )
        values["CodeVersion"] = code_version
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items() if k in declared]


def stack_status(cfn: Any, name: str) -> str | None:
    """The stack's status, or None when there is no such stack."""
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return stacks[0]["StackStatus"] if stacks else None


def stack_outputs(cfn: Any, name: str) -> dict[str, str]:
    """The stack's outputs as ``{OutputKey: OutputValue}``."""
    [stack] = cfn.describe_stacks(StackName=name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def failed_events(cfn: Any, name: str, since: dt.datetime | None = None) -> list[tuple[str, str, str, str]]:
    """The resources that failed in the stack's latest operation, oldest first (the cause first).

    Returns
    -------
    list of (logical id, resource type, status, reason)
    """
    rows = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=name):
        for event in page["StackEvents"]:
            if since and event["Timestamp"] < since:
                break
            if event.get("ResourceStatus", "").endswith("_FAILED"):
                rows.append(
                    (
                        event["LogicalResourceId"],
                        event.get("ResourceType", ""),
                        event["ResourceStatus"],
                        event.get("ResourceStatusReason", ""),
                    )
                )
    return list(reversed(rows))


def deploy_layer(
    layer: str,
    env: str,
    params: dict[str, Any],
    code_version: str | None = None,
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
    progress: Progress = _quiet,
    now: dt.datetime | None = None,
) -> LayerResult:
    """Create or update one layer's stack through a change set and wait for it.

    Parameters
    ----------
    layer
        One of :data:`~datalake.deploy.templates.LAYERS`.
    env
        ``dev`` or ``prod``: the ``Env`` parameter and the stack name.
    params
        :func:`~datalake.deploy.templates.load_params`' result.
    code_version
        The ``CodeVersion`` of layers that run packaged code.
    settings, boto3_session
        Region and endpoint (``AWS_ENDPOINT_URL``), and the session to call through.
    progress
        Called with each line worth showing (the changes, the waits).

    Returns
    -------
    LayerResult
        The action taken, the changes and the stack's outputs.

    Raises
    ------
    DeployError
        When the change set or the stack operation fails; it names each failed resource and why.
    """
    settings = settings or get_settings()
    cfn = aws.client("cloudformation", boto3_session, settings)
    name = stack_name(params["project"], env, layer)
    body = template_path(layer).read_text(encoding="utf-8")
    source = template_source(layer, env, body, settings, boto3_session, progress)
    status = stack_status(cfn, name)
    if status in UNRECOVERABLE_STATES:
        raise DeployError(
            f"stack {name} is {status}",
            failed_events(cfn, name),
            hint=f"delete it (aws cloudformation delete-stack --stack-name {name}) and deploy again",
        )
    # A stack that only ever had a change set created (REVIEW_IN_PROGRESS) is still created.
    change_type = "CREATE" if status in (None, "REVIEW_IN_PROGRESS") else "UPDATE"
    now = now or dt.datetime.now(dt.UTC)
    change_set = f"{name}-{now:%Y%m%d%H%M%S}"
    progress(f"{name}: creating change set ({change_type.lower()})")
    cfn.create_change_set(
        StackName=name,
        ChangeSetName=change_set,
        ChangeSetType=change_type,
        **source,
        Parameters=layer_parameters(layer, env, params, code_version),
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Tags=[{"Key": "project", "Value": params["project"]}, {"Key": "env", "Value": env}],
    )
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=name, ChangeSetName=change_set, WaiterConfig={"Delay": 5, "MaxAttempts": 120}
        )
    except WaiterError as error:
        described = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        reason = described.get("StatusReason", str(error))
        if any(text in reason for text in _NO_CHANGES):
            cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
            progress(f"{name}: no changes")
            return LayerResult(layer, name, "unchanged", outputs=stack_outputs(cfn, name))
        raise DeployError(f"change set for {name} failed: {reason}") from None
    changes = describe_changes(cfn, name, change_set)
    for change in changes:
        replacement = " (replacement)" if change["replacement"] == "True" else ""
        progress(f"  {change['action']:<7} {change['resource']} {change['type']}{replacement}")
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    progress(f"{name}: executing, waiting for {change_type.lower()} to complete")
    waiter = "stack_create_complete" if change_type == "CREATE" else "stack_update_complete"
    try:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 360})
    except WaiterError:
        raise DeployError(
            f"{change_type.lower()} of {name} failed ({stack_status(cfn, name)})",
            # Only this operation's events: those after the change set was asked for.
            failed_events(cfn, name, since=now - dt.timedelta(minutes=1)),
        ) from None
    outputs = stack_outputs(cfn, name)
    progress(f"{name}: {change_type.lower()} complete")
    return LayerResult(layer, name, change_type.lower(), changes, outputs)


def describe_changes(cfn: Any, name: str, change_set: str) -> list[dict[str, str]]:
    """The resource changes of a change set, one dict per resource (all pages)."""
    changes: list[dict[str, str]] = []
    token: str | None = None
    while True:
        kwargs = {"StackName": name, "ChangeSetName": change_set, **({"NextToken": token} if token else {})}
        page = cfn.describe_change_set(**kwargs)
        for change in page.get("Changes", []):
            resource = change.get("ResourceChange", {})
            changes.append(
                {
                    "action": resource.get("Action", ""),
                    "resource": resource.get("LogicalResourceId", ""),
                    "type": resource.get("ResourceType", ""),
                    "replacement": str(resource.get("Replacement", "")),
                }
            )
        token = page.get("NextToken")
        if not token:
            return changes


def deploy_layers(
    env: str,
    layers: Sequence[str] | None = None,
    code_version: str | None = None,
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
    progress: Progress = _quiet,
) -> list[LayerResult]:
    """Deploy ``layers`` (all of them by default) in :data:`LAYERS` order, stopping at the first failure.

    ``code_version`` defaults to the one the last ``datalake deploy package`` recorded.
    """
    params = load_params(env)
    chosen = [layer for layer in LAYERS if layers is None or layer in layers]
    unknown = sorted(set(layers or ()) - set(LAYERS))
    if unknown:
        raise ConfigurationError(
            f"unknown layer(s) {', '.join(unknown)}", hint=f"one of: {', '.join(LAYERS)}"
        )
    if code_version is None:
        manifest = read_manifest()
        code_version = manifest.get("code_version") if manifest else None
    return [
        deploy_layer(layer, env, params, code_version, settings, boto3_session, progress) for layer in chosen
    ]


def template_source(
    layer: str,
    env: str,
    body: str,
    settings: Settings,
    boto3_session: boto3.session.Session | None = None,
    progress: Progress = _quiet,
) -> dict[str, str]:
    """How a change set gets the template: ``TemplateBody``, or ``TemplateURL`` when it is too large.

    A template over :data:`MAX_TEMPLATE_BODY_BYTES` is uploaded to the artifacts bucket (the storage
    stack's) under ``cloudformation/<layer>-<digest>.yaml``, named by its content, and read from there.

    Raises
    ------
    ConfigurationError
        When it is over :data:`MAX_TEMPLATE_URL_BYTES`, or the storage stack is not deployed.
    """
    data = body.encode()
    if len(data) <= MAX_TEMPLATE_BODY_BYTES:
        return {"TemplateBody": body}
    if len(data) > MAX_TEMPLATE_URL_BYTES:
        raise ConfigurationError(
            f"{layer}.yaml is {len(data)} bytes, over CloudFormation's {MAX_TEMPLATE_URL_BYTES} "
            "for a template read from S3",
            hint="split the layer",
        )
    bucket = bucket_from_storage_stack(env, settings, boto3_session)
    key = f"{TEMPLATES_PREFIX}/{layer}-{hashlib.sha256(data).hexdigest()[:16]}.yaml"
    aws.client("s3", boto3_session, settings).put_object(Bucket=bucket, Key=key, Body=data)
    progress(
        f"{layer}.yaml is {len(data):,} bytes (over {MAX_TEMPLATE_BODY_BYTES:,}): read from s3://{bucket}/{key}"
    )
    return {"TemplateURL": f"https://{bucket}.s3.{settings.aws_region}.amazonaws.com/{key}"}


def bucket_from_storage_stack(
    env: str,
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
) -> str:
    """The artifacts bucket the ``env`` storage stack created (its ``ArtifactsBucketName`` output).

    Raises
    ------
    ConfigurationError
        When the storage layer is not deployed yet.
    """
    params = load_params(env)
    name = stack_name(params["project"], env, "storage")
    cfn = aws.client("cloudformation", boto3_session, settings or get_settings())
    if stack_status(cfn, name) is None:
        raise ConfigurationError(
            f"stack {name} does not exist",
            hint=f"deploy it first: datalake deploy stack --env {env} --layer storage",
        )
    outputs = stack_outputs(cfn, name)
    if "ArtifactsBucketName" not in outputs:
        raise ConfigurationError(f"stack {name} has no ArtifactsBucketName output", hint="pass --bucket")
    return outputs["ArtifactsBucketName"]
