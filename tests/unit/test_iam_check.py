"""The IAM check's parts (issue 15, findings 6 and 7): the policy evaluator against IAM's documented
rules, the map from API calls to IAM requests, the template renderer, the Lambda platform's requests,
and the call recorder. tests/integration/test_iam_least_privilege.py runs them over the real handlers.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from datalake.deploy.iam_calls import AwsCall, UnmappedCallError, recording_aws_calls, requests_for
from datalake.deploy.iam_check import (
    Bindings,
    TemplateRenderer,
    check_role,
    deployment_bindings,
    function_role,
    glue_job_platform_requests,
    lambda_functions,
    lambda_platform_requests,
    resource_role,
    role_policy,
)
from datalake.deploy.iam_policy import Policy, Request, UnsupportedPolicyError
from datalake.deploy.templates import LAYERS, load_template
from datalake.errors import ConfigurationError
from datalake.sources.registry import SOURCES

ACCOUNT = "123456789012"
BUCKET = "arn:aws:s3:::lake"
SECRETS = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:"


def policy(*statements: dict[str, Any]) -> Policy:
    return Policy.parse("test", [{"Version": "2012-10-17", "Statement": list(statements)}])


def allow(action: Any, resource: Any, condition: dict | None = None, sid: str = "S") -> dict[str, Any]:
    statement = {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource}
    return {**statement, "Condition": condition} if condition else statement


def s3_call(operation: str, status: int = 200, **params: Any) -> AwsCall:
    return AwsCall("s3", operation, {"Bucket": "lake", **params}, "eu-west-1", status)


# -- the evaluator ------------------------------------------------------------------------------------


def test_actions_match_case_insensitively_and_resources_case_sensitively_with_wildcards() -> None:
    rules = policy(allow("S3:get*", f"{BUCKET}/raw/*"), allow("glue:GetTable?", "arn:aws:glue:*:*:catalog"))
    assert rules.decide(Request("s3:GetObject", f"{BUCKET}/raw/ree/year=2024/a.json")).allowed  # * spans /
    assert not rules.decide(Request("s3:GetObject", f"{BUCKET}/RAW/a.json")).allowed
    assert not rules.decide(Request("s3:PutObject", f"{BUCKET}/raw/a.json")).allowed
    assert rules.decide(Request("glue:GetTables", "arn:aws:glue:eu-west-1:1:catalog")).allowed
    assert not rules.decide(Request("glue:GetTable", "arn:aws:glue:eu-west-1:1:catalog")).allowed  # ? is one


def test_an_explicit_deny_beats_any_allow_and_nothing_allowed_is_denied() -> None:
    rules = policy(
        allow("s3:*", "*", sid="All"),
        {"Sid": "NoRaw", "Effect": "Deny", "Action": "s3:PutObject", "Resource": f"{BUCKET}/raw/*"},
    )
    denied = rules.decide(Request("s3:PutObject", f"{BUCKET}/raw/a.json"))
    assert not denied.allowed and denied.reason == "explicitly denied by NoRaw"
    assert rules.decide(Request("s3:PutObject", f"{BUCKET}/processed/a.parquet")).allowed
    assert (
        policy().decide(Request("s3:GetObject", f"{BUCKET}/a")).reason
        == "no statement allows it (implicit deny)"
    )


def test_a_resource_pattern_covers_a_request_for_star_only_when_it_is_star() -> None:
    assert (
        not policy(allow("ec2:DescribeSubnets", "arn:aws:ec2:*"))
        .decide(Request("ec2:DescribeSubnets", "*"))
        .allowed
    )
    assert policy(allow("ec2:DescribeSubnets", "*")).decide(Request("ec2:DescribeSubnets", "*")).allowed


def test_prefix_conditions_admit_listings_under_the_prefix_and_a_missing_key_fails_them() -> None:
    rules = policy(allow("s3:ListBucket", BUCKET, {"StringLike": {"s3:prefix": ["_sync/*", "processed/*"]}}))
    listing = requests_for(s3_call("ListObjectsV2", Prefix="_sync/demand_hourly.json", MaxKeys=1), ACCOUNT)
    assert listing[0].context == {"s3:prefix": "_sync/demand_hourly.json", "s3:max-keys": "1"}
    assert rules.decide(listing[0]).allowed
    [elsewhere] = requests_for(s3_call("ListObjectsV2", Prefix="raw/ree/"), ACCOUNT)
    assert not rules.decide(elsewhere).allowed
    [whole_bucket] = requests_for(s3_call("ListObjectsV2"), ACCOUNT)  # no Prefix: no s3:prefix key
    assert not rules.decide(whole_bucket).allowed


def test_negated_and_if_exists_operators_pass_when_the_key_is_missing() -> None:
    negated = policy(allow("s3:ListBucket", BUCKET, {"StringNotLike": {"s3:prefix": "secret/*"}}))
    if_exists = policy(allow("s3:ListBucket", BUCKET, {"StringLikeIfExists": {"s3:prefix": "raw/*"}}))
    null = policy(allow("s3:ListBucket", BUCKET, {"Null": {"s3:prefix": "true"}}))
    bare = Request("s3:ListBucket", BUCKET)
    assert negated.decide(bare).allowed and if_exists.decide(bare).allowed and null.decide(bare).allowed
    secret = Request("s3:ListBucket", BUCKET, {"s3:prefix": "secret/x"})
    assert not negated.decide(secret).allowed and not null.decide(secret).allowed
    assert not if_exists.decide(secret).allowed


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "NotAction": "s3:DeleteObject", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": f"{BUCKET}/secret/*"},
        allow("s3:ListBucket", BUCKET, {"ForAnyValue:StringLike": {"s3:prefix": "raw/*"}}),
        allow("s3:ListBucket", BUCKET, {"NumericLessThan": {"s3:max-keys": "10"}}),
        allow("s3:GetObject", BUCKET + "/home/${aws:username}/*"),
    ],
    ids=["NotAction", "NotResource", "set operator", "numeric operator", "policy variable"],
)
def test_what_the_evaluator_cannot_judge_is_refused_not_guessed(statement: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedPolicyError):
        policy(statement)


# -- from API calls to IAM requests -------------------------------------------------------------------


def test_finding_6_a_missing_key_is_a_404_only_to_a_caller_who_may_list_the_whole_bucket() -> None:
    scoped = allow("s3:ListBucket", BUCKET, {"StringLike": {"s3:prefix": "_sync/*"}}, sid="Scoped")
    read = allow("s3:GetObject", f"{BUCKET}/_sync/*", sid="Read")
    found = requests_for(s3_call("HeadObject", Key="_sync/demand_hourly.json"), ACCOUNT)
    assert [r.action for r in found] == ["s3:GetObject"]
    missing = requests_for(s3_call("HeadObject", status=404, Key="_sync/demand_hourly.json"), ACCOUNT)
    assert [(r.action, r.resource, dict(r.context)) for r in missing][1] == ("s3:ListBucket", BUCKET, {})
    # A prefix-scoped listing grant does not make the HEAD a 404: S3 answers it 403.
    assert not policy(scoped, read).decide(missing[1]).allowed
    assert policy(allow("s3:ListBucket", BUCKET), read).decide(missing[1]).allowed


def test_copies_deletes_and_multipart_uploads_need_what_s3_authorizes_them_by() -> None:
    copy = requests_for(
        s3_call("CopyObject", Key="raw/a.csv", CopySource={"Bucket": "landing", "Key": "drops/a.csv"}),
        ACCOUNT,
    )
    assert [(r.action, r.resource) for r in copy] == [
        ("s3:GetObject", "arn:aws:s3:::landing/drops/a.csv"),
        ("s3:PutObject", f"{BUCKET}/raw/a.csv"),
    ]
    part = requests_for(s3_call("UploadPartCopy", Key="raw/a.csv", CopySource="landing/drops/a.csv"), ACCOUNT)
    assert part[0].resource == "arn:aws:s3:::landing/drops/a.csv"
    deletes = requests_for(
        s3_call("DeleteObjects", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]}), ACCOUNT
    )
    assert [(r.action, r.resource) for r in deletes] == [
        ("s3:DeleteObject", f"{BUCKET}/a"),
        ("s3:DeleteObject", f"{BUCKET}/b"),
    ]
    for operation in ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        assert requests_for(s3_call(operation, Key="k"), ACCOUNT)[0].action == "s3:PutObject"
    acl = requests_for(s3_call("PutObject", Key="k", ACL="public-read"), ACCOUNT)
    assert [r.action for r in acl] == ["s3:PutObject", "s3:PutObjectAcl"]


def test_glue_sagemaker_and_secrets_calls_name_the_arns_their_services_authorize() -> None:
    tables = requests_for(
        AwsCall("glue", "GetTables", {"DatabaseName": "datalake_processed"}, "eu-west-1"), ACCOUNT
    )
    assert [r.resource for r in tables] == [
        f"arn:aws:glue:eu-west-1:{ACCOUNT}:catalog",
        f"arn:aws:glue:eu-west-1:{ACCOUNT}:database/datalake_processed",
        f"arn:aws:glue:eu-west-1:{ACCOUNT}:table/datalake_processed/*",
    ]
    run = requests_for(AwsCall("glue", "StartJobRun", {"JobName": "ree"}, "eu-west-1"), ACCOUNT)
    assert [(r.action, r.resource) for r in run] == [
        ("glue:StartJobRun", f"arn:aws:glue:eu-west-1:{ACCOUNT}:job/ree")
    ]
    invoke = AwsCall("sagemaker-runtime", "InvokeEndpoint", {"EndpointName": "Demand-Forecast"}, "eu-west-1")
    [request] = requests_for(invoke, ACCOUNT)  # SageMaker ARNs carry names in lower case
    assert (request.action, request.resource) == (
        "sagemaker:InvokeEndpoint",
        f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:endpoint/demand-forecast",
    )
    by_name = AwsCall(
        "secretsmanager",
        "GetSecretValue",
        {"SecretId": "db"},
        "eu-west-1",
        200,
        None,
        {"ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbC"},
    )
    assert requests_for(by_name, ACCOUNT)[0].resource.endswith(":secret:db-AbC")
    with pytest.raises(UnmappedCallError, match="no known ARN"):
        requests_for(
            AwsCall("secretsmanager", "GetSecretValue", {"SecretId": "db"}, "eu-west-1", 400, "X"), ACCOUNT
        )


def test_a_call_without_a_rule_is_refused() -> None:
    with pytest.raises(UnmappedCallError, match=r"s3\.PutBucketPolicy"):
        requests_for(s3_call("PutBucketPolicy", Policy="{}"), ACCOUNT)
    with pytest.raises(UnmappedCallError, match=r"athena\.StartQueryExecution"):
        requests_for(AwsCall("athena", "StartQueryExecution", {}, "eu-west-1"), ACCOUNT)


# -- both directions ----------------------------------------------------------------------------------


def test_check_reports_denied_requests_unused_grants_and_unused_condition_values() -> None:
    rules = policy(
        allow(["s3:GetObject", "s3:PutObject"], [f"{BUCKET}/_sync/*", f"{BUCKET}/_runs/*"], sid="Objects"),
        allow("s3:ListBucket", BUCKET, {"StringLike": {"s3:prefix": ["_sync/*", "_runs/*"]}}, sid="List"),
        allow("s3:GetObject", f"{BUCKET}/boot/*", sid="Boot"),
    )
    requests = [
        Request("s3:GetObject", f"{BUCKET}/_sync/a.json"),
        Request("s3:PutObject", f"{BUCKET}/_sync/a.json"),
        Request("s3:PutObject", f"{BUCKET}/_runs/r.json"),
        Request("s3:ListBucket", BUCKET, {"s3:prefix": "_sync/a.json"}),
        Request("s3:PutObject", f"{BUCKET}/processed/p.parquet", why="a write outside the grants"),
    ]
    report = check_role(rules, requests, exempt={"Boot": "the boot script reads it"})
    assert not report.ok
    assert [str(d.request.resource) for d in report.denied] == [f"{BUCKET}/processed/p.parquet"]
    assert [str(u) for u in report.unused] == [
        f"Objects: s3:GetObject on {BUCKET}/_runs/* is granted but never used",
        "List: its condition admits StringLike s3:prefix '_runs/*', which no request used",
    ]
    assert "DENIED s3:PutObject" in report.summary() and "a write outside the grants" in report.summary()
    with pytest.raises(ConfigurationError, match="Nope"):
        check_role(rules, requests, exempt={"Nope": "?"})


# -- rendering templates ------------------------------------------------------------------------------

TEMPLATE: dict[str, Any] = {
    "Parameters": {"Env": {"Type": "String"}, "Project": {"Type": "String", "Default": "datalake"}},
    "Resources": {
        "Logs": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${Project}-${Env}-fn"}},
        },
        "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "${Project}-${Env}-dlq"}}},
        "Buffer": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "buffer"}},
        "Failures": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "failures"}},
        "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Policies": [
                    {
                        "PolicyName": "p",
                        "PolicyDocument": {
                            "Statement": [
                                {
                                    "Sid": "Logs",
                                    "Effect": "Allow",
                                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                    "Resource": {"Fn::GetAtt": ["Logs", "Arn"]},
                                },
                                {
                                    "Sid": "Lake",
                                    "Effect": "Allow",
                                    "Action": "s3:GetObject",
                                    "Resource": {
                                        "Fn::Sub": [
                                            "arn:${AWS::Partition}:s3:::${Lake}/raw/*",
                                            {
                                                "Lake": {
                                                    "Fn::ImportValue": {"Fn::Sub": "${Project}-${Env}-Lake"}
                                                }
                                            },
                                        ]
                                    },
                                },
                                {
                                    "Sid": "Secret",
                                    "Effect": "Allow",
                                    "Action": "secretsmanager:GetSecretValue",
                                    "Resource": {"Ref": "Secret"},
                                },
                            ]
                        },
                    }
                ]
            },
        },
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": {"Fn::Sub": "${Project}-${Env}-fn"},
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}},
                "VpcConfig": {"SubnetIds": ["subnet-1"]},
            },
        },
        "Mapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "FunctionName": {"Ref": "Fn"},
                "EventSourceArn": {"Fn::GetAtt": ["Buffer", "Arn"]},
            },
        },
        "Async": {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {
                "FunctionName": {"Ref": "Fn"},
                "DestinationConfig": {"OnFailure": {"Destination": {"Ref": "Failures"}}},
            },
        },
    },
}


def renderer(**bindings: Any) -> TemplateRenderer:
    values = {
        "parameters": {"Env": "dev"},
        "exports": {"datalake-dev-Lake": "lake-bucket"},
        "resources": {"Secret": "arn:aws:secretsmanager:eu-west-1:1:secret:s-AbC"},
    }
    return TemplateRenderer(TEMPLATE, Bindings(**{**values, **bindings}), "test")


def test_the_renderer_resolves_subs_imports_parameters_and_derived_arns() -> None:
    rules = role_policy(renderer(), "Role")
    resources = {s.sid: s.resources for s in rules.statements}
    assert resources == {
        "Logs": ("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/datalake-dev-fn:*",),
        "Lake": ("arn:aws:s3:::lake-bucket/raw/*",),
        "Secret": ("arn:aws:secretsmanager:eu-west-1:1:secret:s-AbC",),
    }
    assert function_role(TEMPLATE, "Fn") == "Role"


def test_the_renderer_names_what_it_cannot_resolve() -> None:
    with pytest.raises(ConfigurationError, match="datalake-dev-Lake"):
        role_policy(renderer(exports={}), "Role")
    with pytest.raises(ConfigurationError, match=r"Secret \(AWS::SecretsManager::Secret\) cannot be derived"):
        role_policy(renderer(resources={}), "Role")
    with pytest.raises(ConfigurationError, match="parameter Env has no default"):
        role_policy(renderer(parameters={}), "Role")
    with pytest.raises(ConfigurationError, match="condition Prod is not declared"):
        renderer().render({"Fn::If": ["Prod", "a", "b"]})
    with pytest.raises(ConfigurationError, match="Fn::Cidr is not evaluated"):
        renderer().render({"Fn::Cidr": ["10.0.0.0/16", 2, 8]})
    assert renderer().render(["a", {"Ref": "AWS::NoValue"}, "b"]) == ["a", "b"]


#: Conditions as api.yaml writes them: an optional secret ARN, and combinations of conditions.
CONDITIONAL = {
    "Parameters": {"Env": {"Type": "String"}, "TokenArn": {"Type": "String", "Default": ""}},
    "Conditions": {
        "HasToken": {"Fn::Not": [{"Fn::Equals": [{"Ref": "TokenArn"}, ""]}]},
        "IsProd": {"Fn::Equals": ["prod", {"Ref": "Env"}]},
        "ProdWithToken": {"Fn::And": [{"Condition": "HasToken"}, {"Condition": "IsProd"}]},
        "ProdOrToken": {"Fn::Or": [{"Condition": "HasToken"}, {"Condition": "IsProd"}]},
    },
    "Resources": {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Policies": [
                    {
                        "PolicyName": "p",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Fn::If": [
                                        "HasToken",
                                        {
                                            "Sid": "ReadToken",
                                            "Effect": "Allow",
                                            "Action": "secretsmanager:GetSecretValue",
                                            "Resource": {"Ref": "TokenArn"},
                                        },
                                        {"Ref": "AWS::NoValue"},
                                    ]
                                },
                                {
                                    "Sid": "Always",
                                    "Effect": "Allow",
                                    "Action": "s3:GetObject",
                                    "Resource": "a",
                                },
                            ],
                        },
                    }
                ]
            },
        },
        "ProdOnly": {
            "Type": "AWS::IAM::Policy",
            "Condition": "IsProd",
            "Properties": {
                "Roles": [{"Ref": "Role"}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Sid": "Prod", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "b"}
                    ],
                },
            },
        },
    },
}


@pytest.mark.parametrize(
    ("env", "token", "sids", "conditions"),
    [
        (
            "dev",
            "",
            {"Always"},
            {"HasToken": False, "IsProd": False, "ProdWithToken": False, "ProdOrToken": False},
        ),
        ("dev", f"{SECRETS}hf-AbCdEf", {"Always", "ReadToken"}, {"HasToken": True, "ProdWithToken": False}),
        ("prod", "", {"Always", "Prod"}, {"IsProd": True, "ProdWithToken": False, "ProdOrToken": True}),
        ("prod", f"{SECRETS}hf-AbCdEf", {"Always", "ReadToken", "Prod"}, {"ProdWithToken": True}),
    ],
)
def test_the_renderer_grants_a_conditional_statement_only_where_its_condition_holds(
    env: str, token: str, sids: set[str], conditions: dict[str, bool]
) -> None:
    render = TemplateRenderer(CONDITIONAL, Bindings(parameters={"Env": env, "TokenArn": token}), "test")
    assert {name: render.condition(name) for name in conditions} == conditions
    rules = role_policy(render, "Role")
    assert {s.sid for s in rules.statements} == sids
    secret = Request("secretsmanager:GetSecretValue", token or f"{SECRETS}hf-AbCdEf")
    assert rules.decide(secret).allowed is bool(token)


def test_the_platform_requests_of_a_function_follow_its_resources() -> None:
    requests = lambda_platform_requests(renderer(), "Fn")
    by_action = {r.action: r.resource for r in requests}
    assert by_action["logs:PutLogEvents"].startswith(
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/datalake-dev-fn:log-stream:"
    )
    assert by_action["sqs:SendMessage"] == "arn:aws:sqs:eu-west-1:123456789012:datalake-dev-dlq"
    assert by_action["ec2:CreateNetworkInterface"] == "*" and by_action["ec2:DescribeSubnets"] == "*"
    assert (
        by_action["sqs:ReceiveMessage"]
        == by_action["sqs:DeleteMessage"]
        == "arn:aws:sqs:eu-west-1:123456789012:buffer"
    )
    assert by_action["sns:Publish"] == "arn:aws:sns:eu-west-1:123456789012:failures"
    report = check_role(role_policy(renderer(), "Role"), requests)
    # The log grant covers the stream; the rest is missing from this role and says so.
    assert {d.request.action for d in report.denied} >= {
        "sqs:SendMessage",
        "ec2:CreateNetworkInterface",
        "sns:Publish",
    }
    assert "logs:PutLogEvents" not in {d.request.action for d in report.denied}


def layer_bindings(layer: str) -> Bindings:
    """What ``datalake deploy --env dev`` gives a layer, with stand-ins for what AWS assigns."""
    return deployment_bindings(
        "dev",
        layer,
        account=ACCOUNT,
        region="eu-west-1",
        parameters={"ReaderSecretArn": f"{SECRETS}reader-AbC"},
        exports={"datalake-dev-DatabaseSecretArn": f"{SECRETS}db-AbC"},
        resources={
            "ApiKeySecret": f"{SECRETS}key-AbC",
            "TmdbSecret": f"{SECRETS}tmdb-AbC",
            "EiaSecret": f"{SECRETS}eia-AbC",
        },
        attributes={
            "RealtimeKey.Arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0f8fad5b-d9cb-469f-a165-70867728950e"
        },
    )


def test_finding_6_every_function_lets_lambda_write_its_logs_dead_letter_and_attach_its_network() -> None:
    """Static: what the Lambda service does with each function's role is allowed, in every layer."""
    checked = 0
    for layer in LAYERS:
        template = load_template(layer)
        render = TemplateRenderer(template, layer_bindings(layer), layer)
        for function in lambda_functions(template):
            policy_of_role = role_policy(render, function_role(template, function))
            requests = lambda_platform_requests(render, function)
            denied = [f"{r.action} on {r.resource}" for r in requests if not policy_of_role.decide(r).allowed]
            assert not denied, f"{layer}.{function}: {denied}"
            checked += 1
    assert checked >= 6


def test_finding_6_every_glue_job_may_fetch_its_code_and_write_its_logs() -> None:
    """Static: Glue reads the script and the packages the arguments name, and writes the job's logs,
    with the job's role (the jobs' own reads and writes: tests/unit/test_iam_service_roles.py)."""
    template = load_template("transforms")
    render = TemplateRenderer(template, layer_bindings("transforms"), "transforms")
    jobs = [name for name, r in template["Resources"].items() if r["Type"] == "AWS::Glue::Job"]
    assert len(jobs) == len(SOURCES)  # one per registered source
    for job in jobs:
        requests = glue_job_platform_requests(render, job)
        assert any(r.resource.endswith(".py") for r in requests), job  # the script
        assert any(r.action == "logs:PutLogEvents" for r in requests), job
        rules = role_policy(render, resource_role(template, job))
        denied = [f"{r.action} on {r.resource} ({r.why})" for r in requests if not rules.decide(r).allowed]
        assert not denied, f"{job}: {denied}"


def test_glue_packages_outside_the_release_prefix_are_denied() -> None:
    template = load_template("transforms")
    job = template["Resources"]["ReeJob"]
    arguments = {
        **job["Properties"]["DefaultArguments"],
        "--additional-python-modules": "s3://elsewhere/x.whl,httpx==0.28.1",
    }
    moved = {
        **template,
        "Resources": {
            **template["Resources"],
            "ReeJob": {**job, "Properties": {**job["Properties"], "DefaultArguments": arguments}},
        },
    }
    render = TemplateRenderer(moved, layer_bindings("transforms"), "transforms")
    rules = role_policy(render, "GlueJobRole")
    denied = [r.resource for r in glue_job_platform_requests(render, "ReeJob") if not rules.decide(r).allowed]
    assert denied == ["arn:aws:s3:::elsewhere/x.whl"]  # a pinned PyPI module is not an S3 object


# -- the recorder -------------------------------------------------------------------------------------


def test_the_recorder_sees_clients_of_sessions_made_inside_the_block_and_calls_that_never_got_an_answer() -> (
    None
):
    unreachable = "http://127.0.0.1:9"  # the discard port: nothing answers
    config = Config(retries={"max_attempts": 1}, connect_timeout=1)
    with recording_aws_calls() as calls:
        client = boto3.session.Session(region_name="eu-west-1").client(
            "glue", endpoint_url=unreachable, config=config
        )
        with pytest.raises(EndpointConnectionError):
            client.get_tables(DatabaseName="datalake_processed")
    [call] = calls
    assert (call.service, call.operation, call.error_code) == ("glue", "GetTables", "EndpointConnectionError")
    assert call.params == {"DatabaseName": "datalake_processed"} and call.region == "eu-west-1"
    with pytest.raises(EndpointConnectionError):  # outside the block: not recorded, and restored
        client.get_tables(DatabaseName="x")
    assert len(calls) == 1
