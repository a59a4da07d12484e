"""AWS's rules for Kinesis streams and the Lambda event source mappings that read them, checked statically.

cfn-lint checks some of these properties alone and moto accepts any value (it runs no mapping);
a mapping whose retries are unbounded, or that does not bisect and report partial failures, lets
one poison record hold its shard until the record expires. Each rule says what AWS requires (or,
for the ``-capped``, ``-alarm`` and ``-reports-`` rules, what this project requires of a stream
consumer) and where it is documented. ``datalake deploy check`` runs them as the ``streams`` family.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datalake.deploy.fanout_rules import (
    Params,
    Templates,
    _finding,
    _logical_id,
    _Resolver,
    _Resource,
    _resource,
    _resources,
)
from datalake.deploy.findings import Finding

_LAMBDA_DG = "https://docs.aws.amazon.com/lambda/latest/dg"
_ESM_API = f"{_LAMBDA_DG}/API_CreateEventSourceMapping.html"
_KINESIS = "https://docs.aws.amazon.com/streams/latest/dev"

#: Rule id -> (what it requires, where it is documented).
STREAM_RULES: dict[str, tuple[str, str]] = {
    "kinesis-esm-batch-size": ("a Kinesis mapping's BatchSize is 1 to 10,000 (default 100)", _ESM_API),
    "kinesis-esm-batching-window": ("MaximumBatchingWindowInSeconds is 0 to 300", _ESM_API),
    "kinesis-esm-parallelization": ("ParallelizationFactor is 1 to 10", _ESM_API),
    "kinesis-esm-record-age": ("MaximumRecordAgeInSeconds is -1 (forever) or 60 to 604,800", _ESM_API),
    "kinesis-esm-retries-capped": (
        "MaximumRetryAttempts is set, 0 to 10,000 (AWS's default -1 retries until the record expires, "
        "blocking its shard behind a poison record)",
        f"{_LAMBDA_DG}/kinesis-on-failure-destination.html",
    ),
    "kinesis-esm-starting-position": (
        "a stream mapping names StartingPosition TRIM_HORIZON, LATEST or AT_TIMESTAMP",
        _ESM_API,
    ),
    "kinesis-esm-bisects": (
        "BisectBatchOnFunctionError is true: a failing batch is split to isolate the bad record",
        f"{_LAMBDA_DG}/services-kinesis-errors.html",
    ),
    "kinesis-esm-reports-batch-item-failures": (
        "FunctionResponseTypes has ReportBatchItemFailures: the handlers answer batchItemFailures, "
        "which Lambda ignores without it (and retries the whole batch)",
        f"{_LAMBDA_DG}/services-kinesis-batchfailurereporting.html",
    ),
    "kinesis-esm-on-failure-destination": (
        "DestinationConfig.OnFailure names an SQS queue or SNS topic of the template, so a batch that "
        "fails after its retries is recorded, not dropped",
        f"{_LAMBDA_DG}/kinesis-on-failure-destination.html",
    ),
    "kinesis-consumer-iterator-age-alarm": (
        "every function a Kinesis mapping feeds has an alarm on its IteratorAge (the consumer's lag)",
        f"{_LAMBDA_DG}/monitoring-metrics-types.html",
    ),
    "kinesis-stream-shards": (
        "a provisioned stream has ShardCount 1 to 200 (the default per-region shard quota outside the "
        "largest regions) and RetentionPeriodHours 24 to 8,760",
        f"{_KINESIS}/service-sizes-and-limits.html",
    ),
    "kinesis-stream-encrypted": (
        "every stream has StreamEncryption with EncryptionType KMS",
        f"{_KINESIS}/server-side-encryption.html",
    ),
}

MAX_BATCH_SIZE = 10_000
MAX_BATCHING_WINDOW_S = 300
MAX_PARALLELIZATION = 10
MAX_RETRY_ATTEMPTS = 10_000
RECORD_AGE_S = (60, 604_800)
MAX_SHARDS = 200
RETENTION_HOURS = (24, 8_760)
STARTING_POSITIONS = frozenset({"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"})


def _in(value: int | None, low: int, high: int) -> bool:
    return value is not None and low <= value <= high


def stream_violations(templates: Templates, params: Params) -> list[Finding]:
    """Every stream rule ``templates`` break with these parameter values.

    Parameters
    ----------
    templates
        Layer -> template (short-form tags in their long form).
    params
        Layer -> parameter values (a parameter file's ``layers``); empty to check the defaults.

    Returns
    -------
    list of Finding
        Each names the template, the resource and the rule (see :data:`STREAM_RULES`).
    """
    resolve = _Resolver(templates, params)
    found: list[Finding] = []
    for stream in _resources(templates, "AWS::Kinesis::Stream"):
        props = stream.properties
        encryption = props.get("StreamEncryption") or {}
        if encryption.get("EncryptionType") != "KMS" or not encryption.get("KeyId"):
            found.append(_finding("kinesis-stream-encrypted", stream, "no StreamEncryption under a KMS key"))
        mode = (props.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
        shards = resolve.number(stream.layer, props.get("ShardCount"))
        retention = resolve.number(stream.layer, props.get("RetentionPeriodHours", 24))
        if mode == "PROVISIONED" and not _in(shards, 1, MAX_SHARDS):
            found.append(_finding("kinesis-stream-shards", stream, f"ShardCount {shards}"))
        if not _in(retention, *RETENTION_HOURS):
            found.append(_finding("kinesis-stream-shards", stream, f"RetentionPeriodHours {retention}"))
    fed: dict[tuple[str, str], str] = {}
    for mapping in _resources(templates, "AWS::Lambda::EventSourceMapping"):
        source = _resource(
            templates,
            mapping.layer,
            _logical_id(mapping.properties.get("EventSourceArn")),
            "AWS::Kinesis::Stream",
        )
        if source is None:
            continue  # a queue (the fanout rules) or another template's stream
        found += _mapping_violations(mapping, resolve, templates)
        function = _logical_id(mapping.properties.get("FunctionName"))
        if function:
            fed[(mapping.layer, function)] = mapping.name
    watched = {
        (alarm.layer, _logical_id(dimension.get("Value")))
        for alarm in _resources(templates, "AWS::CloudWatch::Alarm")
        if alarm.properties.get("MetricName") == "IteratorAge"
        for dimension in alarm.properties.get("Dimensions") or []
        if dimension.get("Name") == "FunctionName"
    }
    for (layer, function), mapping_name in sorted(fed.items()):
        if (layer, function) not in watched:
            mapping = _resource(templates, layer, mapping_name, "AWS::Lambda::EventSourceMapping")
            assert mapping is not None
            found.append(
                _finding(
                    "kinesis-consumer-iterator-age-alarm", mapping, f"no IteratorAge alarm on {function}"
                )
            )
    return found


def _mapping_violations(mapping: _Resource, resolve: _Resolver, templates: Templates) -> list[Finding]:
    props: Mapping[str, Any] = mapping.properties
    layer = mapping.layer
    found: list[Finding] = []

    def number(name: str, default: int | None) -> int | None:
        return resolve.number(layer, props[name]) if name in props else default

    batch = number("BatchSize", 100)
    if not _in(batch, 1, MAX_BATCH_SIZE):
        found.append(_finding("kinesis-esm-batch-size", mapping, f"BatchSize {batch}"))
    window = number("MaximumBatchingWindowInSeconds", 0)
    if not _in(window, 0, MAX_BATCHING_WINDOW_S):
        found.append(
            _finding("kinesis-esm-batching-window", mapping, f"MaximumBatchingWindowInSeconds {window}")
        )
    factor = number("ParallelizationFactor", 1)
    if not _in(factor, 1, MAX_PARALLELIZATION):
        found.append(_finding("kinesis-esm-parallelization", mapping, f"ParallelizationFactor {factor}"))
    age = number("MaximumRecordAgeInSeconds", -1)
    if age != -1 and not _in(age, *RECORD_AGE_S):
        found.append(_finding("kinesis-esm-record-age", mapping, f"MaximumRecordAgeInSeconds {age}"))
    retries = number("MaximumRetryAttempts", None)
    if not _in(retries, 0, MAX_RETRY_ATTEMPTS):
        found.append(_finding("kinesis-esm-retries-capped", mapping, f"MaximumRetryAttempts {retries}"))
    if props.get("StartingPosition") not in STARTING_POSITIONS:
        found.append(
            _finding(
                "kinesis-esm-starting-position", mapping, f"StartingPosition {props.get('StartingPosition')}"
            )
        )
    if props.get("BisectBatchOnFunctionError") not in (True, "true"):
        found.append(_finding("kinesis-esm-bisects", mapping, "BisectBatchOnFunctionError is not true"))
    if "ReportBatchItemFailures" not in (props.get("FunctionResponseTypes") or []):
        found.append(
            _finding("kinesis-esm-reports-batch-item-failures", mapping, "no ReportBatchItemFailures")
        )
    target = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    name = _logical_id(target)
    if not any(_resource(templates, layer, name, kind) for kind in ("AWS::SQS::Queue", "AWS::SNS::Topic")):
        found.append(
            _finding("kinesis-esm-on-failure-destination", mapping, f"OnFailure destination {target!r}")
        )
    return found
