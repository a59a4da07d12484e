"""The realtime layer (cloudformation/realtime.yaml) against AWS's rules and the code it deploys.

- wiring: the layer sits after the monitoring layer whose alerts topic it imports, its functions'
  code is what ``datalake deploy package`` builds, the table is the one the adapter creates;
- AWS's rules for streams and their event source mappings (datalake.deploy.stream_rules), each
  shown to catch a broken template;
- encryption, point-in-time recovery, alarms on iterator age and on every queue's depth;
- IAM both ways: each role allows what its function's code and the Lambda service do with it, and
  nothing it does not use (datalake.deploy.iam_check.check_role).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from functools import lru_cache
from typing import Any

import pytest

from datalake.deploy import check
from datalake.deploy.iam_check import TemplateRenderer, check_role, lambda_platform_requests, role_policy
from datalake.deploy.iam_policy import Request
from datalake.deploy.iam_roles import STAND_IN_ACCOUNT, stand_in_bindings
from datalake.deploy.package import LAMBDA_BUNDLES
from datalake.deploy.stream_rules import STREAM_RULES, stream_violations
from datalake.deploy.templates import LAYERS, load_params, load_template, sub_text
from datalake.realtime.aws import BY_CURRENCY_INDEX, portfolio_table_definition

REALTIME = load_template("realtime")
RESOURCES = REALTIME["Resources"]
ENVIRONMENTS = ("dev", "prod")
ALERTS = {"Fn::ImportValue": {"Fn::Sub": "${Project}-${Env}-AlertsTopicArn"}}
KEY_ARN = f"arn:aws:kms:eu-west-1:{STAND_IN_ACCOUNT}:key/0f8fad5b-d9cb-469f-a165-70867728950e"
REGION = "eu-west-1"


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r.get("Properties", {}) for name, r in RESOURCES.items() if r["Type"] == kind}


@lru_cache(maxsize=2)
def renderer(env: str) -> TemplateRenderer:
    """The layer as ``datalake deploy`` renders it, with stand-ins for the API id and the key's ARN."""
    bindings = stand_in_bindings(env, "realtime", REALTIME)
    project = load_params(env)["project"]
    exports = {**bindings.exports, f"{project}-{env}-HttpApiId": "a1b2c3d4e5"}
    attributes = {**bindings.attributes, "RealtimeKey.Arn": KEY_ARN}
    return TemplateRenderer(REALTIME, replace(bindings, exports=exports, attributes=attributes), "realtime")


# -- wiring ------------------------------------------------------------------------------------------


def test_the_layer_comes_after_the_exports_it_imports_and_has_parameters_per_environment() -> None:
    assert LAYERS.index("api") < LAYERS.index("monitoring") < LAYERS.index("realtime")
    api, monitoring = load_template("api"), load_template("monitoring")
    assert api["Outputs"]["HttpApiId"]["Export"]["Name"] == {"Fn::Sub": "${Project}-${Env}-HttpApiId"}
    assert monitoring["Outputs"]["AlertsTopicArn"]["Export"]["Name"] == {
        "Fn::Sub": "${Project}-${Env}-AlertsTopicArn"
    }
    for env in ENVIRONMENTS:
        values = load_params(env)["layers"]["realtime"]
        assert set(values) <= set(REALTIME["Parameters"])
        assert values["SignalEndpointName"] == f"datalake-{env}-fx-signal"
    assert load_params("prod")["layers"]["realtime"]["TableDeletionProtection"] == "true"


def test_every_function_runs_a_packaged_bundle_with_the_runtime_its_handler_needs() -> None:
    functions = of_type("AWS::Lambda::Function")
    keys = {name: sub_text(props["Code"]["S3Key"]) for name, props in functions.items()}
    assert keys == {
        "TxIngestorFunction": "code/${CodeVersion}/lambda/tx_ingestor.zip",
        "StreamProcessorFunction": "code/${CodeVersion}/lambda/stream_processor.zip",
        "PriceCollectorFunction": "code/${CodeVersion}/lambda/price_collector.zip",
        "TradeAdvisorFunction": "code/${CodeVersion}/lambda/trade_advisor.zip",
    }
    for name, key in keys.items():
        bundle = key.rsplit("/", 1)[1].removesuffix(".zip")
        assert LAMBDA_BUNDLES[bundle] == (f"lambdas/{bundle}", ""), name
        props = functions[name]
        assert props["Handler"] == "handler.lambda_handler" and props["Runtime"] == "python3.11"
        assert props["Layers"] == [{"Ref": "CoreLayer"}, {"Ref": "DependenciesLayer"}]
        variables = props["Environment"]["Variables"]
        assert variables["LAKE_RUNTIME"] == "aws"
        # The stream names the adapter derives (<prefix>-transactions) are the streams' names.
        assert variables["REALTIME_STREAM_PREFIX"] == {"Fn::Sub": "${Project}-${Env}"}
    assert sub_text(RESOURCES["TransactionsStream"]["Properties"]["Name"]) == "${Project}-${Env}-transactions"
    assert sub_text(RESOURCES["PricesStream"]["Properties"]["Name"]) == "${Project}-${Env}-prices"
    processor = functions["StreamProcessorFunction"]["Environment"]["Variables"]
    assert processor["PORTFOLIOS_TABLE"] == {"Ref": "PortfoliosTable"}
    assert processor["DEAD_LETTER_QUEUE_URL"] == {"Ref": "DeadLettersQueue"}
    advisor = functions["TradeAdvisorFunction"]["Environment"]["Variables"]
    assert advisor["NOTIFICATIONS_TOPIC_ARN"] == {"Ref": "NotificationsTopic"}
    assert advisor["SIGNAL_ENDPOINT"] == {"Ref": "SignalEndpointName"}


def test_post_transactions_is_a_route_of_the_api_stack_to_the_ingestor() -> None:
    api_id = {"Fn::ImportValue": {"Fn::Sub": "${Project}-${Env}-HttpApiId"}}
    route = RESOURCES["TransactionsRoute"]["Properties"]
    integration = RESOURCES["TransactionsIntegration"]["Properties"]
    assert route["RouteKey"] == "POST /transactions" and route["ApiId"] == api_id
    assert route["Target"] == {"Fn::Sub": "integrations/${TransactionsIntegration}"}
    assert integration["IntegrationUri"] == {"Fn::GetAtt": ["TxIngestorFunction", "Arn"]}
    # The ingestor parses payload 2.0 (tests/events/apigw_http_v2_post_transactions.json).
    assert integration["PayloadFormatVersion"] == "2.0" and integration["ApiId"] == api_id
    permission = renderer("dev").render(
        RESOURCES["TxIngestorPermission"]["Properties"], ".TxIngestorPermission"
    )
    assert permission["SourceArn"].endswith(":a1b2c3d4e5/*/POST/transactions")
    assert permission["Principal"] == "apigateway.amazonaws.com"


def test_the_table_is_the_one_the_adapter_creates_with_recovery_and_encryption() -> None:
    table = RESOURCES["PortfoliosTable"]
    props = table["Properties"]
    definition = portfolio_table_definition("x")
    assert props["KeySchema"] == definition["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(
        definition["AttributeDefinitions"], key=str
    )
    [index] = props["GlobalSecondaryIndexes"]
    assert index == definition["GlobalSecondaryIndexes"][0] and index["IndexName"] == BY_CURRENCY_INDEX
    assert props["BillingMode"] == definition["BillingMode"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Fn::GetAtt": ["RealtimeKey", "Arn"]},
    }
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["DeletionPolicy"] == "Retain"


def test_streams_topic_and_record_queue_are_under_the_customer_managed_key() -> None:
    key = {"Fn::GetAtt": ["RealtimeKey", "Arn"]}
    for name in ("TransactionsStream", "PricesStream"):
        assert RESOURCES[name]["Properties"]["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": key}
    assert RESOURCES["NotificationsTopic"]["Properties"]["KmsMasterKeyId"] == key
    assert RESOURCES["DeadLettersQueue"]["Properties"]["KmsMasterKeyId"] == key
    assert RESOURCES["RealtimeKey"]["Properties"]["EnableKeyRotation"] is True


# -- AWS's stream rules ------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_streams_and_mappings_keep_aws_rules(env: str) -> None:
    templates = {layer: load_template(layer) for layer in LAYERS}
    assert stream_violations(templates, load_params(env)["layers"]) == []
    mappings = of_type("AWS::Lambda::EventSourceMapping")
    assert {m["EventSourceArn"]["Fn::GetAtt"][0] for m in mappings.values()} == {
        "TransactionsStream",
        "PricesStream",
    }
    for props in mappings.values():
        assert props["BisectBatchOnFunctionError"] is True
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["MaximumRetryAttempts"] == {"Ref": "ProcessorMaximumRetryAttempts"}
    assert int(REALTIME["Parameters"]["ProcessorMaximumRetryAttempts"]["MaxValue"]) <= 10


def _broken(edit) -> dict[str, dict[str, Any]]:
    template = copy.deepcopy(REALTIME)
    edit(template["Resources"])
    return {"realtime": template}


BROKEN = {
    "kinesis-esm-batch-size": lambda r: r["TradeAdvisorPricesMapping"]["Properties"].update(BatchSize=10_001),
    "kinesis-esm-batching-window": lambda r: r["TradeAdvisorPricesMapping"]["Properties"].update(
        MaximumBatchingWindowInSeconds=301
    ),
    "kinesis-esm-parallelization": lambda r: r["TradeAdvisorPricesMapping"]["Properties"].update(
        ParallelizationFactor=11
    ),
    "kinesis-esm-record-age": lambda r: r["TradeAdvisorPricesMapping"]["Properties"].update(
        MaximumRecordAgeInSeconds=59
    ),
    "kinesis-esm-retries-capped": lambda r: r["TradeAdvisorPricesMapping"]["Properties"].update(
        MaximumRetryAttempts=-1
    ),
    "kinesis-esm-starting-position": lambda r: r["TradeAdvisorPricesMapping"]["Properties"].pop(
        "StartingPosition"
    ),
    "kinesis-esm-bisects": lambda r: r["TradeAdvisorPricesMapping"]["Properties"].pop(
        "BisectBatchOnFunctionError"
    ),
    "kinesis-esm-reports-batch-item-failures": lambda r: r["TradeAdvisorPricesMapping"]["Properties"].update(
        FunctionResponseTypes=[]
    ),
    "kinesis-esm-on-failure-destination": lambda r: r["TradeAdvisorPricesMapping"]["Properties"].pop(
        "DestinationConfig"
    ),
    "kinesis-consumer-iterator-age-alarm": lambda r: r.pop("TradeAdvisorIteratorAgeAlarm"),
    "kinesis-stream-shards": lambda r: r["PricesStream"]["Properties"].update(ShardCount=0),
    "kinesis-stream-encrypted": lambda r: r["PricesStream"]["Properties"].pop("StreamEncryption"),
}


@pytest.mark.parametrize("rule", sorted(STREAM_RULES))
def test_each_stream_rule_catches_a_broken_template(rule: str) -> None:
    found = stream_violations(_broken(BROKEN[rule]), {})
    assert {f.rule for f in found} == {rule}, found
    assert {f.file for f in found} == {"cloudformation/realtime.yaml"}
    assert rule in check.RULE_DOCS


def test_a_parameter_value_beyond_aws_limits_is_a_finding() -> None:
    templates = {"realtime": REALTIME}
    found = stream_violations(
        templates, {"realtime": {"ProcessorBatchSize": "20000", "TransactionsShardCount": "0"}}
    )
    assert {(f.rule, f.resource) for f in found} == {
        ("kinesis-esm-batch-size", "StreamProcessorTransactionsMapping"),
        ("kinesis-stream-shards", "TransactionsStream"),
    }


def test_deploy_check_runs_the_streams_family() -> None:
    family = next(f for f in check.RULE_FAMILIES if f.name == "streams")
    broken = _broken(BROKEN["kinesis-esm-retries-capped"])
    inputs = check.CheckInputs(env="dev", templates=broken, params=load_params("dev"))
    assert {f.rule for f in family.run(inputs)} == {"kinesis-esm-retries-capped"}


# -- alarms --------------------------------------------------------------------------------------


def test_iterator_age_and_every_queue_depth_alarm_to_the_alerts_topic() -> None:
    alarms = of_type("AWS::CloudWatch::Alarm")
    assert all(a["AlarmActions"] == [ALERTS] for a in alarms.values())
    watched: dict[tuple[str, str], str] = {}
    for name, alarm in alarms.items():
        [dimension] = alarm["Dimensions"]
        value = dimension["Value"]
        target = value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]
        watched[(alarm["MetricName"], target)] = name
    consumers = {m["FunctionName"]["Ref"] for m in of_type("AWS::Lambda::EventSourceMapping").values()}
    for function in consumers:
        assert ("IteratorAge", function) in watched, function
    for queue in of_type("AWS::SQS::Queue"):
        assert ("ApproximateNumberOfMessagesVisible", queue) in watched, queue
    age = alarms[watched[("IteratorAge", "StreamProcessorFunction")]]
    assert age["Threshold"] == {"Ref": "IteratorAgeAlarmMilliseconds"} and age["Statistic"] == "Maximum"


# -- IAM, both ways --------------------------------------------------------------------------------


def _arn(render: TemplateRenderer, logical_id: str) -> str:
    return str(render.render({"Fn::GetAtt": [logical_id, "Arn"]}, f".{logical_id}"))


def role_requests(env: str) -> dict[str, list[Request]]:
    """What each function's code calls (datalake.realtime.aws, the handlers, trm and advisor modules)."""
    render = renderer(env)
    lake = render.bindings.exports[f"datalake-{env}-LakeBucketName"]
    alerts = render.bindings.exports[f"datalake-{env}-AlertsTopicArn"]
    table = _arn(render, "PortfoliosTable")
    day = "year=2026/month=12/day=06/shardId-000000000000-1-9.jsonl"
    endpoint = f"arn:aws:sagemaker:{REGION}:{STAND_IN_ACCOUNT}:endpoint/datalake-{env}-fx-signal"
    return {
        "TxIngestorRole": [
            *lambda_platform_requests(render, "TxIngestorFunction"),
            Request("kinesis:PutRecords", _arn(render, "TransactionsStream")),
            Request("kms:GenerateDataKey", KEY_ARN),
        ],
        "StreamProcessorRole": [
            *lambda_platform_requests(render, "StreamProcessorFunction"),
            *(Request("s3:PutObject", f"arn:aws:s3:::{lake}/raw/realtime/{kind}/{day}") for kind in
              ("transactions", "prices", "outcomes")),
            *(Request(f"dynamodb:{action}", table) for action in
              ("GetItem", "PutItem", "UpdateItem", "ConditionCheckItem")),
            Request("sqs:SendMessage", _arn(render, "DeadLettersQueue")),
            # SendMessage to a queue under a KMS key.
            Request("kms:GenerateDataKey", KEY_ARN),
        ],
        "PriceCollectorRole": [
            *lambda_platform_requests(render, "PriceCollectorFunction"),
            Request("kinesis:PutRecords", _arn(render, "PricesStream")),
            Request("kms:GenerateDataKey", KEY_ARN),
            *(Request(f"s3:{a}", f"arn:aws:s3:::{lake}/_state/price_collector/datos.gov.co.json") for a in
              ("GetObject", "PutObject")),
            Request("s3:ListBucket", f"arn:aws:s3:::{lake}", {"s3:prefix": "_state/price_collector/x.json"}),
            Request("sns:Publish", alerts),
        ],
        "TradeAdvisorRole": [
            *lambda_platform_requests(render, "TradeAdvisorFunction"),
            Request("s3:GetObject", f"arn:aws:s3:::{lake}/raw/realtime/prices/{day}"),
            Request("s3:ListBucket", f"arn:aws:s3:::{lake}", {"s3:prefix": "raw/realtime/prices/year=2026/"}),
            *(Request(f"s3:{a}", f"arn:aws:s3:::{lake}/_realtime_state/trade_advisor/last.json") for a in
              ("GetObject", "PutObject")),
            Request("s3:ListBucket", f"arn:aws:s3:::{lake}", {"s3:prefix": "_realtime_state/trade_advisor/"}),
            Request("dynamodb:Query", f"{table}/index/{BY_CURRENCY_INDEX}"),
            *(Request(f"dynamodb:{action}", table) for action in
              ("BatchGetItem", "GetItem", "PutItem", "UpdateItem")),
            Request("sagemaker:InvokeEndpoint", endpoint),
            Request("sns:Publish", str(render.render({"Ref": "NotificationsTopic"}, ".NotificationsTopic"))),
            Request("kms:GenerateDataKey", KEY_ARN),
        ],
    }  # fmt: skip


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize(
    "role", ["TxIngestorRole", "StreamProcessorRole", "PriceCollectorRole", "TradeAdvisorRole"]
)
def test_each_realtime_role_allows_its_calls_and_nothing_else(env: str, role: str) -> None:
    requests = role_requests(env)[role]
    report = check_role(role_policy(renderer(env), role), requests)
    assert report.ok, report.summary()


def test_the_mappings_platform_requests_include_reading_decrypting_and_the_destination() -> None:
    render = renderer("dev")
    platform = {(r.action, r.resource) for r in lambda_platform_requests(render, "StreamProcessorFunction")}
    for stream in ("TransactionsStream", "PricesStream"):
        assert ("kinesis:GetRecords", _arn(render, stream)) in platform
    assert ("kms:Decrypt", KEY_ARN) in platform
    assert ("sqs:SendMessage", _arn(render, "StreamProcessorFailureQueue")) in platform


def test_a_broader_or_missing_grant_fails_the_role_check() -> None:
    render = renderer("dev")
    policy = role_policy(render, "TxIngestorRole")
    # The ingestor cannot put on the prices stream, nor read the transactions it puts.
    assert not policy.decide(Request("kinesis:PutRecords", _arn(render, "PricesStream"))).allowed
    assert not policy.decide(Request("kinesis:GetRecords", _arn(render, "TransactionsStream"))).allowed
    # The processor writes only under raw/realtime/.
    lake = render.bindings.exports["datalake-dev-LakeBucketName"]
    processor = role_policy(render, "StreamProcessorRole")
    assert not processor.decide(Request("s3:PutObject", f"arn:aws:s3:::{lake}/processed/x.parquet")).allowed
    # A request the role does not allow is reported.
    extra = [
        *role_requests("dev")["TxIngestorRole"],
        Request("dynamodb:PutItem", _arn(render, "PortfoliosTable")),
    ]
    assert not check_role(policy, extra).ok
