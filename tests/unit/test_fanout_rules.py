"""Issue 15, finding 10 (fan-out), statically: the queues between the lake's object events and the
sync and Glue trigger Lambdas keep AWS's rules, and each rule fires, naming the template, the resource
and the rule, when a template or parameter file breaks it (cfn-lint checks each number alone and moto
accepts any, so nothing else would notice before a deploy)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from datalake.deploy.fanout_rules import FANOUT_RULES, check_fanout, fanout_violations
from datalake.deploy.templates import LAYERS, load_params, load_template
from datalake.sources.registry import SOURCES

TEMPLATES = {layer: load_template(layer) for layer in LAYERS}
INGESTION = "cloudformation/ingestion.yaml"


def _resources(templates: dict[str, Any], layer: str = "ingestion") -> dict[str, Any]:
    return templates[layer]["Resources"]


def _props(templates: dict[str, Any], name: str, layer: str = "ingestion") -> dict[str, Any]:
    return _resources(templates, layer)[name]["Properties"]


def _number(layer: str, value: Any, params: dict[str, dict[str, str]]) -> int:
    """A literal or a parameter's value (the env's file, else the default), read apart from the rules."""
    if isinstance(value, dict):
        name = value["Ref"]
        return int(params.get(layer, {}).get(name, TEMPLATES[layer]["Parameters"][name]["Default"]))
    return int(value)


@pytest.mark.parametrize("env", [None, "dev", "prod"])
def test_finding_10_fanout_rules_hold_for_every_environment(env: str | None) -> None:
    assert check_fanout(env) == []


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_finding_10_queue_visibility_is_six_times_the_consumer_timeout(env: str) -> None:
    params = load_params(env)["layers"]
    mappings = [
        r["Properties"]
        for r in _resources(TEMPLATES).values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    assert {m["EventSourceArn"]["Fn::GetAtt"][0] for m in mappings} == {
        "SyncWarehouseQueue",
        "StartTransformQueue",
    }
    for mapping in mappings:
        queue = _props(TEMPLATES, mapping["EventSourceArn"]["Fn::GetAtt"][0])
        function = _props(TEMPLATES, mapping["FunctionName"]["Ref"])
        timeout = _number("ingestion", function["Timeout"], params)
        assert _number("ingestion", queue["VisibilityTimeout"], params) >= 6 * timeout


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_finding_10_glue_trigger_retries_outlast_a_glue_job_run(env: str) -> None:
    params = load_params(env)["layers"]
    queue = _props(TEMPLATES, "StartTransformQueue")
    tries = _number("ingestion", queue["RedrivePolicy"]["maxReceiveCount"], params)
    window_s = (tries - 1) * _number("ingestion", queue["VisibilityTimeout"], params)
    jobs = [
        r["Properties"] for r in _resources(TEMPLATES, "transforms").values() if r["Type"] == "AWS::Glue::Job"
    ]
    assert len(jobs) == len(SOURCES)  # one job per registered source
    for job in jobs:
        run_s = _number("transforms", job["Timeout"], params) * 60 * (job.get("MaxRetries", 0) + 1)
        assert window_s > run_s, f"{job['Name']}: tries span {window_s} s, a run may take {run_s} s"
    # ...and the queue keeps a message through all its tries, then the DLQ keeps it longer still.
    retention = _number("ingestion", queue["MessageRetentionPeriod"], params)
    assert retention > tries * _number("ingestion", queue["VisibilityTimeout"], params)
    dlq = _props(TEMPLATES, queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0])
    assert dlq["MessageRetentionPeriod"] > retention


def _set(name: str, path: str, value: Any, layer: str = "ingestion") -> Callable[[dict], None]:
    """A mutation setting ``path`` (dots) of resource ``name``'s properties; None deletes it."""

    def mutate(templates: dict) -> None:
        target = _props(templates, name, layer)
        *parents, last = path.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value

    return mutate


def _target_function(templates: dict) -> None:
    # The layout before the fix: the processed object rule invoked the function directly.
    _props(templates, "ProcessedObjectCreatedRule")["Targets"][0]["Arn"] = {
        "Fn::GetAtt": ["SyncWarehouseFunction", "Arn"]
    }


BREAKS: list[tuple[str, Callable[[dict], None], dict, str, str]] = [
    # (id, mutation, parameter overrides, resource named, rule)
    ("visibility-below-6x", _set("SyncWarehouseQueue", "VisibilityTimeout", 5399), {}, "SyncWarehouseQueue",
     "sqs-visibility-six-times-timeout"),
    ("function-timeout-param-raised", lambda t: None, {"ingestion": {"FunctionTimeout": "901"}},
     "SyncWarehouseQueue", "sqs-visibility-six-times-timeout"),
    ("trigger-timeout-raised", _set("StartTransformFunction", "Timeout", 61), {}, "StartTransformQueue",
     "sqs-visibility-six-times-timeout"),
    ("default-visibility", _set("SyncWarehouseQueue", "VisibilityTimeout", None), {}, "SyncWarehouseQueue",
     "sqs-visibility-six-times-timeout"),
    ("no-redrive", _set("SyncWarehouseQueue", "RedrivePolicy", None), {}, "SyncWarehouseQueue",
     "sqs-redrive-to-dead-letter-queue"),
    ("redrive-count-zero", _set("SyncWarehouseQueue", "RedrivePolicy.maxReceiveCount", 0), {},
     "SyncWarehouseQueue", "sqs-redrive-to-dead-letter-queue"),
    ("dlq-expires-first", _set("SyncWarehouseDeadLetterQueue", "MessageRetentionPeriod", 345600), {},
     "SyncWarehouseDeadLetterQueue", "sqs-dead-letter-queue-outlives-source"),
    ("expires-before-last-try", _set("SyncWarehouseQueue", "MessageRetentionPeriod", 27000), {},
     "SyncWarehouseQueue", "sqs-retention-outlasts-retries"),
    ("unencrypted", _set("StartTransformQueue", "SqsManagedSseEnabled", False), {}, "StartTransformQueue",
     "sqs-encrypted"),
    ("concurrency-below-2", _set("SyncWarehouseEventSource", "ScalingConfig.MaximumConcurrency", 1), {},
     "SyncWarehouseEventSource", "esm-maximum-concurrency"),
    ("concurrency-param-1", lambda t: None, {"ingestion": {"SyncMaximumConcurrency": "1"}},
     "SyncWarehouseEventSource", "esm-maximum-concurrency"),
    ("no-scaling-config", _set("StartTransformEventSource", "ScalingConfig", None), {},
     "StartTransformEventSource", "esm-maximum-concurrency"),
    ("no-partial-batch-response", _set("SyncWarehouseEventSource", "FunctionResponseTypes", None), {},
     "SyncWarehouseEventSource", "esm-reports-batch-item-failures"),
    ("big-batch-no-window", _set("SyncWarehouseEventSource", "MaximumBatchingWindowInSeconds", None), {},
     "SyncWarehouseEventSource", "esm-batching-window"),
    ("glue-timeout-param-raised", lambda t: None, {"transforms": {"JobTimeoutMinutes": "180"}},
     "StartTransformQueue", "glue-trigger-retries-outlast-job"),
    ("glue-job-retries", _set("EntsoeJob", "MaxRetries", 2, layer="transforms"), {}, "StartTransformQueue",
     "glue-trigger-retries-outlast-job"),
    ("glue-default-timeout", _set("ReeJob", "Timeout", None, layer="transforms"), {}, "StartTransformQueue",
     "glue-trigger-retries-outlast-job"),
    ("fewer-tries", _set("StartTransformQueue", "RedrivePolicy.maxReceiveCount", 10), {},
     "StartTransformQueue", "glue-trigger-retries-outlast-job"),
    ("rule-invokes-function", _target_function, {}, "ProcessedObjectCreatedRule",
     "lake-object-events-through-queue"),
    ("imported-visibility", _set("SyncWarehouseQueue", "VisibilityTimeout", {"Fn::ImportValue": "x"}), {},
     "SyncWarehouseQueue", "fanout-resolvable"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutate", "params", "resource", "rule"), [b[1:] for b in BREAKS], ids=[b[0] for b in BREAKS]
)
def test_finding_10_each_broken_rule_names_template_resource_and_rule(
    mutate: Callable[[dict], None], params: dict, resource: str, rule: str
) -> None:
    templates = copy.deepcopy(TEMPLATES)
    mutate(templates)
    found = fanout_violations(templates, params)
    assert [(v.resource, v.rule) for v in found] == [(resource, rule)], [str(v) for v in found]
    [violation] = found
    # Every rule names a resource of the ingestion template (a Glue job's timeout counts against its queue).
    assert str(violation).startswith(f"{INGESTION}: {resource}: [{rule}] ")


def test_every_fanout_rule_has_a_break_and_a_documentation_link() -> None:
    assert {b[4] for b in BREAKS} == set(FANOUT_RULES)
    assert all(url.startswith("https://docs.aws.amazon.com/") for _, url in FANOUT_RULES.values())
