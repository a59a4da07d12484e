"""AWS's rules for the queues between the lake's object events and its Lambdas, checked statically.

A backfill writes hundreds of objects, so the raw and processed object events go through SQS
queues that Lambda event source mappings drain in batches, a few at a time. Whether that works
depends on numbers spread over several resources and templates (the queue's visibility timeout and
redrive policy, the function's timeout, the mapping's settings, the Glue job's timeout), and nothing
short of AWS checks them together: cfn-lint checks each property alone, and moto accepts any value.
Each rule here says what AWS requires or advises and where it documents it. :func:`check_fanout`
runs them over the templates with an environment's parameters and names the template, the resource
and the rule of every violation (``datalake deploy check`` can print them as they are).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from datalake.deploy.findings import Finding
from datalake.deploy.templates import LAYERS, load_params, load_template

_LAMBDA_DG = "https://docs.aws.amazon.com/lambda/latest/dg"
_SQS_DG = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide"
_CFN = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference"

#: Rule id -> (what AWS requires or advises, where it says so).
FANOUT_RULES: dict[str, tuple[str, str]] = {
    "sqs-visibility-six-times-timeout": (
        "a queue a Lambda function consumes has a visibility timeout of at least six times the "
        "function's timeout (Lambda refuses a mapping whose function timeout exceeds it)",
        f"{_LAMBDA_DG}/services-sqs-configure.html",
    ),
    "sqs-redrive-to-dead-letter-queue": (
        "a consumed queue has a RedrivePolicy naming a dead-letter queue and a maxReceiveCount of 1-1000, "
        "so a message that keeps failing is kept aside rather than retried until it expires",
        f"{_SQS_DG}/sqs-dead-letter-queues.html",
    ),
    "sqs-dead-letter-queue-outlives-source": (
        "a dead-letter queue keeps messages longer than its source queue: a moved message keeps its "
        "original enqueue time, so a shorter retention deletes it early",
        f"{_SQS_DG}/sqs-dead-letter-queues.html",
    ),
    "sqs-retention-outlasts-retries": (
        "a consumed queue keeps a message longer than all its tries (maxReceiveCount x visibility "
        "timeout), or the message expires, silently, before reaching the dead-letter queue",
        f"{_SQS_DG}/sqs-dead-letter-queues.html",
    ),
    "sqs-encrypted": (
        "every queue is encrypted at rest (SqsManagedSseEnabled or a KmsMasterKeyId)",
        f"{_SQS_DG}/sqs-server-side-encryption.html",
    ),
    "esm-maximum-concurrency": (
        "an SQS event source mapping caps its concurrency with ScalingConfig.MaximumConcurrency, 2-1000",
        f"{_LAMBDA_DG}/services-sqs-scaling.html",
    ),
    "esm-reports-batch-item-failures": (
        "an SQS event source mapping of these handlers has FunctionResponseTypes ReportBatchItemFailures: "
        "without it Lambda ignores batchItemFailures and one bad message replays its whole batch",
        f"{_LAMBDA_DG}/services-sqs-errorhandling.html",
    ),
    "esm-batching-window": (
        "an SQS BatchSize above 10 needs MaximumBatchingWindowInSeconds of at least 1; at most 10000 for "
        "a standard queue, and the window at most 300 seconds",
        f"{_LAMBDA_DG}/services-sqs-parameters.html",
    ),
    "glue-trigger-retries-outlast-job": (
        "a queue whose consumer starts Glue jobs retries a message for longer than a job run: "
        "(maxReceiveCount - 1) x visibility timeout > Timeout x (MaxRetries + 1) minutes of the "
        "slowest job, or a message for a busy job reaches the dead-letter queue while the job still runs",
        f"{_CFN}/aws-resource-glue-job.html",
    ),
    "lake-object-events-through-queue": (
        "an EventBridge rule on the lake's object events (a key prefix) targets an SQS queue, never a "
        "function: a backfill's hundreds of events would otherwise run as hundreds of concurrent invocations",
        f"{_LAMBDA_DG}/services-sqs-scaling.html",
    ),
    "fanout-resolvable": (
        "the numbers these rules compare are literals, parameters or references to resources of the "
        "same template, so that they can be checked before a deploy",
        f"{_CFN}/intrinsic-function-reference.html",
    ),
}

# What AWS assumes when a property is left out.
LAMBDA_DEFAULT_TIMEOUT_S = 3
SQS_DEFAULT_VISIBILITY_TIMEOUT_S = 30
SQS_DEFAULT_RETENTION_S = 345_600
GLUE_DEFAULT_TIMEOUT_MIN = 2_880
VISIBILITY_TIMEOUT_FACTOR = 6

Templates = Mapping[str, Mapping[str, Any]]
Params = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class _Resource:
    layer: str
    name: str
    properties: Mapping[str, Any]

    @property
    def source(self) -> str:
        return f"cloudformation/{self.layer}.yaml"


class _Resolver:
    """Turns template values into numbers: literals, and ``Ref`` to a parameter (its value in the
    environment's parameter file, else its Default)."""

    def __init__(self, templates: Templates, params: Params) -> None:
        self.templates = templates
        self.params = params

    def number(self, layer: str, value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return int(value)
        if isinstance(value, str):
            try:
                return int(float(value))
            except ValueError:
                return None
        if isinstance(value, Mapping) and set(value) == {"Ref"}:
            name = value["Ref"]
            given = (self.params.get(layer) or {}).get(name)
            if given is not None:
                return self.number(layer, given)
            declared = (self.templates[layer].get("Parameters") or {}).get(name) or {}
            return self.number(layer, declared.get("Default"))
        return None


def _finding(rule: str, resource: _Resource, message: str) -> Finding:
    """A broken rule at ``resource`` (prints as ``<template>: <resource>: [<rule>] <message>``)."""
    return Finding(rule, resource.source, resource.name, message)


def _logical_id(value: Any) -> str | None:
    """The resource a ``Ref`` or ``Fn::GetAtt`` names."""
    if isinstance(value, Mapping):
        if set(value) == {"Ref"} and isinstance(value["Ref"], str):
            return value["Ref"]
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            return target[0] if isinstance(target, list) else str(target).split(".", 1)[0]
    return None


def _resources(templates: Templates, kind: str) -> Iterator[_Resource]:
    for layer, template in templates.items():
        for name, resource in (template.get("Resources") or {}).items():
            if resource.get("Type") == kind:
                yield _Resource(layer, name, resource.get("Properties") or {})


def _resource(templates: Templates, layer: str, name: str | None, kind: str) -> _Resource | None:
    resource = (templates[layer].get("Resources") or {}).get(name) if name else None
    if not resource or resource.get("Type") != kind:
        return None
    return _Resource(layer, name, resource.get("Properties") or {})  # type: ignore[arg-type]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_actions(templates: Templates, layer: str, role_ref: Any) -> set[str]:
    """Every action the role's inline policies and the template's policies attached to it allow."""
    role_name = _logical_id(role_ref)
    template = templates[layer].get("Resources") or {}
    documents = [
        p.get("PolicyDocument") or {}
        for p in ((template.get(role_name) or {}).get("Properties") or {}).get("Policies", [])
    ]
    for resource in template.values():
        props = resource.get("Properties") or {}
        if resource.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and any(
            _logical_id(r) == role_name for r in _as_list(props.get("Roles") or [])
        ):
            documents.append(props.get("PolicyDocument") or {})
    return {
        action
        for document in documents
        for statement in _as_list(document.get("Statement") or [])
        if statement.get("Effect") == "Allow"
        for action in _as_list(statement.get("Action") or [])
    }


def _slowest_glue_run_s(templates: Templates, resolve: _Resolver) -> tuple[int, str] | None:
    """The longest a Glue job run can hold its job (Timeout x (MaxRetries + 1)), and which job it is."""
    spans = []
    for job in _resources(templates, "AWS::Glue::Job"):
        timeout = job.properties.get("Timeout")
        minutes = GLUE_DEFAULT_TIMEOUT_MIN if timeout is None else resolve.number(job.layer, timeout)
        retries = resolve.number(job.layer, job.properties.get("MaxRetries", 0))
        if minutes is not None and retries is not None:
            spans.append((minutes * 60 * (retries + 1), f"{job.source} {job.name}"))
    return max(spans) if spans else None


def _queue_violations(
    templates: Templates, resolve: _Resolver, mapping: _Resource, queue: _Resource, function: _Resource
) -> list[Finding]:
    found: list[Finding] = []

    def broken(rule: str, where: _Resource, message: str) -> None:
        found.append(_finding(rule, where, message))

    layer = queue.layer
    visibility = resolve.number(
        layer, queue.properties.get("VisibilityTimeout", SQS_DEFAULT_VISIBILITY_TIMEOUT_S)
    )
    retention = resolve.number(layer, queue.properties.get("MessageRetentionPeriod", SQS_DEFAULT_RETENTION_S))
    timeout = resolve.number(layer, function.properties.get("Timeout", LAMBDA_DEFAULT_TIMEOUT_S))
    for label, value in (("VisibilityTimeout", visibility), ("MessageRetentionPeriod", retention)):
        if value is None:
            broken("fanout-resolvable", queue, f"{label} {queue.properties.get(label)!r} cannot be resolved")
    if timeout is None:
        broken(
            "fanout-resolvable",
            function,
            f"Timeout {function.properties.get('Timeout')!r} cannot be resolved",
        )
    if visibility is not None and timeout is not None and visibility < VISIBILITY_TIMEOUT_FACTOR * timeout:
        broken(
            "sqs-visibility-six-times-timeout",
            queue,
            f"VisibilityTimeout {visibility} s is less than {VISIBILITY_TIMEOUT_FACTOR} x {function.name}'s "
            f"Timeout {timeout} s = {VISIBILITY_TIMEOUT_FACTOR * timeout} s",
        )

    redrive = queue.properties.get("RedrivePolicy")
    dlq = _resource(
        templates, layer, _logical_id((redrive or {}).get("deadLetterTargetArn")), "AWS::SQS::Queue"
    )
    receives = resolve.number(layer, (redrive or {}).get("maxReceiveCount"))
    if not isinstance(redrive, Mapping) or dlq is None or receives is None or not 1 <= receives <= 1000:
        broken(
            "sqs-redrive-to-dead-letter-queue",
            queue,
            f"RedrivePolicy {redrive!r} does not name a queue of this template "
            "with a maxReceiveCount of 1-1000",
        )
        return found
    dlq_retention = resolve.number(
        layer, dlq.properties.get("MessageRetentionPeriod", SQS_DEFAULT_RETENTION_S)
    )
    if retention is not None and dlq_retention is not None and dlq_retention <= retention:
        broken(
            "sqs-dead-letter-queue-outlives-source",
            dlq,
            f"MessageRetentionPeriod {dlq_retention} s is not longer than {queue.name}'s {retention} s",
        )
    window = resolve.number(layer, mapping.properties.get("MaximumBatchingWindowInSeconds", 0)) or 0
    if visibility is not None and retention is not None and retention <= receives * visibility + window:
        broken(
            "sqs-retention-outlasts-retries",
            queue,
            f"MessageRetentionPeriod {retention} s does not outlast {receives} tries x VisibilityTimeout "
            f"{visibility} s (+ {window} s batching window)",
        )
    if "glue:StartJobRun" in _role_actions(templates, function.layer, function.properties.get("Role")):
        slowest = _slowest_glue_run_s(templates, resolve)
        if slowest is not None and visibility is not None:
            run_s, job = slowest
            window_s = (receives - 1) * visibility
            if window_s <= run_s:
                broken(
                    "glue-trigger-retries-outlast-job",
                    queue,
                    f"{function.name} starts Glue jobs: its messages are tried for "
                    f"(maxReceiveCount {receives} - 1) x VisibilityTimeout {visibility} s = {window_s} s, "
                    f"not longer than a run of {job} ({run_s} s)",
                )
    return found


def _mapping_violations(resolve: _Resolver, mapping: _Resource) -> list[Finding]:
    found: list[Finding] = []

    def broken(rule: str, message: str) -> None:
        found.append(_finding(rule, mapping, message))

    props = mapping.properties
    concurrency = (props.get("ScalingConfig") or {}).get("MaximumConcurrency")
    limit = resolve.number(mapping.layer, concurrency) if concurrency is not None else None
    if limit is None or not 2 <= limit <= 1000:
        broken(
            "esm-maximum-concurrency",
            f"ScalingConfig.MaximumConcurrency is {concurrency!r} (resolved {limit})",
        )
    if "ReportBatchItemFailures" not in (props.get("FunctionResponseTypes") or []):
        broken(
            "esm-reports-batch-item-failures",
            f"FunctionResponseTypes is {props.get('FunctionResponseTypes')!r}",
        )
    size = resolve.number(mapping.layer, props.get("BatchSize", 10))
    window = resolve.number(mapping.layer, props.get("MaximumBatchingWindowInSeconds", 0))
    if size is None or window is None:
        broken(
            "fanout-resolvable",
            f"BatchSize {props.get('BatchSize')!r} or the batching window cannot be resolved",
        )
    elif not 1 <= size <= 10_000 or (size > 10 and window < 1) or not 0 <= window <= 300:
        broken("esm-batching-window", f"BatchSize {size} with MaximumBatchingWindowInSeconds {window}")
    return found


def _rule_targets_violations(templates: Templates) -> list[Finding]:
    found = []
    for rule in _resources(templates, "AWS::Events::Rule"):
        pattern = rule.properties.get("EventPattern") or {}
        key_filter = ((pattern.get("detail") or {}).get("object") or {}).get("key")
        if "aws.s3" not in (pattern.get("source") or []) or not key_filter:
            continue
        for target in rule.properties.get("Targets") or []:
            kind = (
                (templates[rule.layer].get("Resources") or {}).get(_logical_id(target.get("Arn"))) or {}
            ).get("Type")
            if kind != "AWS::SQS::Queue":
                found.append(
                    _finding(
                        "lake-object-events-through-queue",
                        rule,
                        f"target {target.get('Id')!r} is {kind or target.get('Arn')!r}, "
                        "not an AWS::SQS::Queue",
                    )
                )
    return found


def fanout_violations(templates: Templates, params: Params) -> list[Finding]:
    """Every fan-out rule ``templates`` break with these parameter values.

    Parameters
    ----------
    templates
        Layer -> template (short-form tags in their long form, as :func:`load_template` gives them).
    params
        Layer -> parameter values that override the templates' defaults (a parameter file's
        ``layers``); empty to check the defaults.

    Returns
    -------
    list of Finding
        Each names the template, the resource and the rule (see :data:`FANOUT_RULES`); empty when all hold.
    """
    resolve = _Resolver(templates, params)
    found: list[Finding] = []
    for queue in _resources(templates, "AWS::SQS::Queue"):
        encrypted = queue.properties.get("SqsManagedSseEnabled") in (True, "true") or queue.properties.get(
            "KmsMasterKeyId"
        )
        if not encrypted:
            found.append(_finding("sqs-encrypted", queue, "neither SSE-SQS nor a KMS key"))
    for mapping in _resources(templates, "AWS::Lambda::EventSourceMapping"):
        queue = _resource(
            templates, mapping.layer, _logical_id(mapping.properties.get("EventSourceArn")), "AWS::SQS::Queue"
        )
        if queue is None:
            continue  # a stream or another template's queue: not one of these rules' subjects
        function = _resource(
            templates,
            mapping.layer,
            _logical_id(mapping.properties.get("FunctionName")),
            "AWS::Lambda::Function",
        )
        if function is None:
            found.append(
                _finding(
                    "fanout-resolvable",
                    mapping,
                    f"FunctionName {mapping.properties.get('FunctionName')!r} "
                    "is not a function of this template",
                )
            )
            continue
        found += _mapping_violations(resolve, mapping)
        found += _queue_violations(templates, resolve, mapping, queue, function)
    found += _rule_targets_violations(templates)
    return found


def check_fanout(env: str | None = None) -> list[Finding]:
    """Every fan-out rule over the layer templates, with ``cloudformation/params/<env>.json`` when given.

    Parameters
    ----------
    env
        An environment with a parameter file (``dev``, ``prod``); None checks the templates' defaults.
    """
    templates = {layer: load_template(layer) for layer in LAYERS}
    params = load_params(env)["layers"] if env else {}
    return fanout_violations(templates, params)
