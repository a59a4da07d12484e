"""`datalake deploy package` and `deploy stack` against moto's CloudFormation, over HTTP.

moto gaps this works around, each asserted rather than trusted:
- stacks made through change sets get no outputs (so no exports): the storage layer goes through the
  real change-set path and its buckets are found by name; the ingestion layer is then created with
  ``create_stack`` next to a stub stack exporting what the catalog, transforms, warehouse and network
  layers would (moto skips Glue resources and cannot run RDS dynamic references);
- moto never fails a stack: the failure report is tested in tests/unit/test_deploy.py.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
from pathlib import Path
from urllib.parse import unquote

import boto3
import pytest

from datalake.deploy.package import package
from datalake.deploy.stack import deploy_layers
from datalake.deploy.templates import load_params, load_template
from datalake.pipelines.trigger import raw_prefix_jobs
from datalake.settings import Settings

ACCOUNT = "123456789012"  # moto's account id
PREFIX = "datalake-dev"


def _client(service: str, settings: Settings):
    return boto3.client(service, endpoint_url=settings.aws_endpoint_url, region_name=settings.aws_region)


@pytest.fixture
def deployed_storage(moto_settings: Settings) -> dict[str, str]:
    lines: list[str] = []
    [result] = deploy_layers("dev", ["storage"], settings=moto_settings, progress=lines.append)
    assert result.action == "create"
    assert any("Add" in line and "LakeBucket" in line for line in lines)  # the change set was shown
    return {kind: f"{PREFIX}-{kind}-{ACCOUNT}" for kind in ("landing", "lake", "artifacts", "access-logs")}


def test_storage_layer_creates_the_encrypted_buckets(
    moto_settings: Settings, deployed_storage: dict[str, str]
) -> None:
    # moto's AWS::S3::Bucket applies the name and the encryption only; versioning, the public access
    # block, logging, lifecycle, notifications and AWS::S3::BucketPolicy are silently ignored, so
    # tests/unit/test_cloudformation.py asserts those from the template.
    s3 = _client("s3", moto_settings)
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert set(deployed_storage.values()) <= names
    for bucket in deployed_storage.values():
        [rule] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    cfn = _client("cloudformation", moto_settings)
    created = {
        r["LogicalResourceId"]
        for r in cfn.list_stack_resources(StackName=f"{PREFIX}-storage")["StackResourceSummaries"]
    }
    assert {"LandingBucket", "LakeBucket", "ArtifactsBucket", "AccessLogsBucket"} <= created


def test_a_second_deploy_without_changes_is_a_no_op(
    moto_settings: Settings, deployed_storage: dict[str, str]
) -> None:
    lines: list[str] = []
    [again] = deploy_layers("dev", ["storage"], settings=moto_settings, progress=lines.append)
    # moto answers an unchanged template with an empty change set rather than a failed one.
    assert again.action in ("unchanged", "update")
    assert not [c for c in again.changes if c["action"] in ("Add", "Remove")]


def test_package_then_ingestion_layer_on_moto(
    moto_settings: Settings, deployed_storage: dict[str, str], tmp_path: Path
) -> None:
    artifacts = deployed_storage["artifacts"]
    lines: list[str] = []
    manifest = package(
        artifacts, with_dependencies=False, settings=moto_settings, progress=lines.append, build_dir=tmp_path
    )
    version = manifest["code_version"]
    s3 = _client("s3", moto_settings)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=artifacts, Prefix=f"code/{version}/")["Contents"]}
    assert f"code/{version}/lambda/ree_daily.zip" in keys
    assert f"code/{version}/lambda/layer-core.zip" in keys
    assert f"code/{version}/glue/to_processed.py" in keys
    assert any(k.endswith(".whl") for k in keys)
    assert f"code/{version}/sagemaker/sourcedir.tar.gz" in keys
    assert len(manifest["uploaded"]) == len(keys)
    assert any(line.startswith("uploaded s3://") for line in lines)
    # Stand-ins for what moto cannot build: the dependencies layer (pip from PyPI) and the
    # handler issue 6 adds, when it is not in this tree yet.
    for missing in ("lambda/layer-dependencies.zip", "lambda/ingest_csv.zip"):
        if f"code/{version}/{missing}" not in keys:
            s3.put_object(Bucket=artifacts, Key=f"code/{version}/{missing}", Body=_empty_zip())

    cfn = _client("cloudformation", moto_settings)
    transforms = load_template("transforms")
    exports = {
        "LakeBucketName": deployed_storage["lake"],
        "LandingBucketName": deployed_storage["landing"],
        "ArtifactsBucketName": artifacts,
        "RawDatabaseName": "datalake_raw",
        "ProcessedDatabaseName": "datalake_processed",
        "EnergyRawDatabaseName": "energy_raw_db",
        "EnergyProcessedDatabaseName": "energy_processed_db",
        # What the transforms layer exports: one job name per Glue job (ReeJobName, ...).
        **{
            name: transforms["Parameters"][name]["Default"]
            for name in transforms["Outputs"]
            if name.endswith("JobName")
        },
        "DatabaseSecretArn": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:datalake/dev/db-AbCdEf",
        "PrivateSubnetIds": "subnet-0a,subnet-0b",
        "AppSecurityGroupId": "sg-0app",
    }
    stub = {
        "Resources": {
            "Marker": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": "/test/stub-exports", "Type": "String", "Value": "x"},
            }
        },
        "Outputs": {k: {"Value": v, "Export": {"Name": f"{PREFIX}-{k}"}} for k, v in exports.items()},
    }
    cfn.create_stack(StackName="stub-exports", TemplateBody=json.dumps(stub))
    # The warehouse stack writes the reader secret's ARN to SSM; the ingestion stack reads it there.
    reader_secret = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:ReaderSecret-AbCdEf"
    reader_parameter = "/datalake/dev/warehouse/reader-secret-arn"
    _client("ssm", moto_settings).put_parameter(Name=reader_parameter, Type="String", Value=reader_secret)
    cfn.create_stack(
        StackName=f"{PREFIX}-ingestion",
        # moto's YAML reader cannot resolve `!ImportValue` over a nested `Fn::Sub`; the same template
        # in its long (JSON) form is what CloudFormation sees anyway.
        TemplateBody=json.dumps(load_template("ingestion")),
        Parameters=[
            {"ParameterKey": "Env", "ParameterValue": "dev"},
            {"ParameterKey": "CodeVersion", "ParameterValue": version},
            {"ParameterKey": "LogRetentionDays", "ParameterValue": "30"},
            {"ParameterKey": "ReaderSecretArn", "ParameterValue": reader_parameter},
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    [stack] = cfn.describe_stacks(StackName=f"{PREFIX}-ingestion")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"

    lam = _client("lambda", moto_settings)
    config = lam.get_function_configuration(FunctionName=f"{PREFIX}-ree-daily")
    assert config["Handler"] == "handler.lambda_handler"
    assert config["Runtime"] == "python3.11"
    # The function runs the bundle `package` built (moto ignores DeadLetterConfig: asserted from the
    # template in tests/unit/test_cloudformation.py).
    bundle = next(a for a in manifest["artifacts"] if a["key"] == "lambda/ree_daily.zip")
    digest = base64.b64encode(hashlib.sha256(Path(bundle["path"]).read_bytes()).digest()).decode()
    assert config["CodeSha256"] == digest
    env = config["Environment"]["Variables"]
    assert env["LAKE_RUNTIME"] == "aws" and env["LAKE_BUCKET"] == deployed_storage["lake"]
    assert env["REE_GLUE_JOB"] == "datalake-ree-to-processed"
    sync = lam.get_function_configuration(FunctionName=f"{PREFIX}-sync-warehouse")
    assert sync["VpcConfig"]["SubnetIds"] == ["subnet-0a", "subnet-0b"]
    assert sync["Environment"]["Variables"]["READER_SECRET_ARN"] == reader_secret

    sqs = _client("sqs", moto_settings)
    events = _client("events", moto_settings)
    for suffix in ("ree-daily", "ree-backfill", "ingest-csv", "start-transform", "sync-warehouse"):
        url = sqs.get_queue_url(QueueName=f"{PREFIX}-{suffix}-dlq")["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["SqsManagedSseEnabled"] == "true"

    # Issue 15, finding 10: the lake's object events wait in queues drained by event source mappings.
    queues = {}
    for suffix in ("start-transform", "sync-warehouse"):
        url = sqs.get_queue_url(QueueName=f"{PREFIX}-{suffix}")["QueueUrl"]
        queues[suffix] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        redrive = json.loads(queues[suffix]["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"].endswith(f":{PREFIX}-{suffix}-dlq")
        assert queues[suffix]["SqsManagedSseEnabled"] == "true"
    assert (
        queues["start-transform"]["VisibilityTimeout"],
        queues["sync-warehouse"]["VisibilityTimeout"],
    ) == (
        "360",
        "5400",
    )
    for suffix, function in (("start-transform", "start-transform"), ("sync-warehouse", "sync-warehouse")):
        [mapping] = lam.list_event_source_mappings(FunctionName=f"{PREFIX}-{function}")["EventSourceMappings"]
        assert mapping["EventSourceArn"] == queues[suffix]["QueueArn"]
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}
    starter = lam.get_function_configuration(FunctionName=f"{PREFIX}-start-transform")
    assert starter["Timeout"] == 60
    for rule_name, suffix in (
        ("raw-to-glue", "start-transform"),
        ("processed-to-warehouse", "sync-warehouse"),
    ):
        [target] = events.list_targets_by_rule(Rule=f"{PREFIX}-{rule_name}")["Targets"]
        assert target["Arn"] == queues[suffix]["QueueArn"] and "InputTransformer" not in target

    iam = _client("iam", moto_settings)
    document = iam.get_role_policy(RoleName=f"{PREFIX}-start-transform", PolicyName="start-transform")[
        "PolicyDocument"
    ]
    # moto returns the inline policy as the repr of a Python dict rather than URL-encoded JSON.
    document = ast.literal_eval(unquote(document)) if isinstance(document, str) else document
    [glue] = [s for s in document["Statement"] if "glue:StartJobRun" in s["Action"]]
    assert sorted(glue["Resource"]) == sorted(
        f"arn:aws:glue:eu-west-1:{ACCOUNT}:job/{name}" for k, name in exports.items() if k.endswith("JobName")
    )
    sync_policy = iam.get_role_policy(RoleName=f"{PREFIX}-sync-warehouse", PolicyName="sync-warehouse")[
        "PolicyDocument"
    ]
    sync_policy = ast.literal_eval(unquote(sync_policy)) if isinstance(sync_policy, str) else sync_policy
    [reader] = [s for s in sync_policy["Statement"] if s.get("Sid") == "ReadReaderPassword"]
    assert reader["Resource"] == reader_secret

    logs = _client("logs", moto_settings)
    groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{PREFIX}-")["logGroups"]
    # One log group per function of the ingestion layer, each with its retention.
    resources = load_template("ingestion")["Resources"].values()
    functions = [r for r in resources if r["Type"] == "AWS::Lambda::Function"]
    assert len(groups) == len(functions) >= 8 and {g["retentionInDays"] for g in groups} == {30}
    # The TMDB functions. moto's CloudFormation skips AWS::SecretsManager::Secret, so the Ref of their
    # secret comes out empty and the variable is dropped: the template tests hold TMDB_SECRET_ARN.
    tmdb = lam.get_function_configuration(FunctionName=f"{PREFIX}-tmdb-backfill")["Environment"]["Variables"]
    assert tmdb["TMDB_SAMPLE"] == "false" and tmdb["LAKE_BUCKET"] == deployed_storage["lake"]
    assert "TMDB_SECRET_ARN" not in tmdb  # the gap above, asserted so that a fixed moto shows up here
    assert events.describe_rule(Name=f"{PREFIX}-tmdb-daily")["ScheduleExpression"] == "cron(0 9 * * ? *)"

    daily = events.describe_rule(Name=f"{PREFIX}-ree-daily")
    assert daily["ScheduleExpression"] == "cron(30 5 * * ? *)"
    raw_rule = events.describe_rule(Name=f"{PREFIX}-raw-to-glue")
    assert json.loads(raw_rule["EventPattern"])["detail"]["object"]["key"] == [
        {"prefix": f"{prefix}/"} for prefix in raw_prefix_jobs()
    ]


def _empty_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.txt", "stand-in for a bundle moto cannot build here")
    return buffer.getvalue()


def test_finding_8_api_host_group_on_moto(moto_settings: Settings) -> None:
    """The EC2 API host's launch template, Auto Scaling group and target group, as moto creates them.

    moto's CloudFormation has no AWS::SecretsManager::Secret (the API key secret is skipped, its
    placeholder left in the user data), ignores CreationPolicy and UpdatePolicy (it neither waits for
    cfn-signal nor rolls instances) and does not version a launch template on a stack update. Those
    are asserted from the template in tests/unit/test_deploy_rules.py (the rules, and the user data's
    signal code run by bash); this test checks what moto does build: the group, its instance in the
    target group, and the user data rendered for one release.
    """
    ec2 = _client("ec2", moto_settings)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24", AvailabilityZone=f"eu-west-1{zone}")[
            "Subnet"
        ]["SubnetId"]
        for i, zone in enumerate("ab")
    ]
    host_group = ec2.create_security_group(GroupName="api-host", Description="host", VpcId=vpc)["GroupId"]
    exports = {
        "ArtifactsBucketName": f"{PREFIX}-artifacts-{ACCOUNT}",
        "DatabaseSecretArn": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:DatabaseSecret-AbCdEf",
        "VpcCidr": "10.40.0.0/16",
        "VpcId": vpc,
        "PublicSubnetIds": ",".join(subnets),
        "ApiHostSecurityGroupId": host_group,
        "ProcessedDatabaseName": "datalake_dev_processed",
        "RawDatabaseName": "datalake_dev_raw",
        "EnergyRawDatabaseName": "energy_dev_raw_db",
        "EnergyProcessedDatabaseName": "energy_dev_processed_db",
    }
    stub = {
        "Resources": {
            "Marker": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": "/test/stub-api-exports", "Type": "String", "Value": "x"},
            }
        },
        "Outputs": {k: {"Value": v, "Export": {"Name": f"{PREFIX}-{k}"}} for k, v in exports.items()},
    }
    cfn = _client("cloudformation", moto_settings)
    cfn.create_stack(StackName="stub-api-exports", TemplateBody=json.dumps(stub))
    reader_parameter = "/datalake/dev/warehouse/reader-secret-arn"
    _client("ssm", moto_settings).put_parameter(
        Name=reader_parameter,
        Type="String",
        Value=f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:R-AbCdEf",
    )
    # The EC2 part of the api template (moto cannot validate the rest: ApiGatewayV2, WAFv2).
    api = load_template("api")
    host = ("ApiKeySecret", "ApiHostRole", "ApiHostProfile", "ApiLaunchTemplate", "ApiAutoScalingGroup")
    template = {
        "Parameters": api["Parameters"],
        "Conditions": api["Conditions"],
        "Resources": {name: api["Resources"][name] for name in (*host, "ApiTargetGroup")},
    }
    cfn.create_stack(
        StackName=f"{PREFIX}-api",
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "Env", "ParameterValue": "dev"},
            {"ParameterKey": "CodeVersion", "ParameterValue": "0123456789ab"},
            {"ParameterKey": "ReaderSecretArn", "ParameterValue": reader_parameter},
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    [stack] = cfn.describe_stacks(StackName=f"{PREFIX}-api")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"

    [group] = _client("autoscaling", moto_settings).describe_auto_scaling_groups()["AutoScalingGroups"]
    assert (group["MinSize"], group["MaxSize"], group["DesiredCapacity"]) == (1, 2, 1)
    assert group["HealthCheckType"] == "EC2"
    assert sorted(group["VPCZoneIdentifier"].split(",")) == sorted(subnets)
    elbv2 = _client("elbv2", moto_settings)
    [target_group] = elbv2.describe_target_groups()["TargetGroups"]
    assert group["TargetGroupARNs"] == [target_group["TargetGroupArn"]]
    [instance] = group["Instances"]
    targets = elbv2.describe_target_health(TargetGroupArn=target_group["TargetGroupArn"])
    assert [t["Target"] for t in targets["TargetHealthDescriptions"]] == [
        {"Id": instance["InstanceId"], "Port": 8000}
    ]
    # The group runs the launch template's latest version, whose user data installs this release.
    versions = ec2.describe_launch_template_versions(
        LaunchTemplateId=group["LaunchTemplate"]["LaunchTemplateId"]
    )
    latest = max(versions["LaunchTemplateVersions"], key=lambda v: v["VersionNumber"])
    assert group["LaunchTemplate"]["Version"] == str(latest["VersionNumber"])
    data = latest["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["IamInstanceProfile"]["Arn"].split("/")[-1].startswith(f"{PREFIX}-api-ApiHostProfile")
    assert data["NetworkInterfaces"][0]["Groups"] == [host_group]
    script = base64.b64decode(data["UserData"]).decode()
    assert f"s3://{PREFIX}-artifacts-{ACCOUNT}/code/0123456789ab/dist/" in script
    assert f'--stack "{PREFIX}-api"' in script and "--resource ApiAutoScalingGroup" in script
    lines = script.splitlines()
    assert "Environment=FORWARDED_ALLOW_IPS=10.40.0.0/16" in lines
    assert "Environment=PROCESSED_DATABASE=datalake_dev_processed" in lines
    assert f"Environment=DATABASE_SECRET_ARN={exports['DatabaseSecretArn']}" in lines


def test_a_template_over_the_body_limit_is_read_from_the_artifacts_bucket(moto_settings: Settings) -> None:
    from datalake.deploy.stack import MAX_TEMPLATE_BODY_BYTES, template_source
    from datalake.deploy.templates import template_path

    # The storage stack's output names the artifacts bucket (created directly: moto gives change-set
    # stacks no outputs).
    artifacts = f"{PREFIX}-artifacts-{ACCOUNT}"
    s3 = _client("s3", moto_settings)
    s3.create_bucket(Bucket=artifacts, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    cfn = _client("cloudformation", moto_settings)
    storage = {
        "Resources": {
            "Marker": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": "/test/storage-outputs", "Type": "String", "Value": "x"},
            }
        },
        "Outputs": {"ArtifactsBucketName": {"Value": artifacts}},
    }
    cfn.create_stack(StackName=f"{PREFIX}-storage", TemplateBody=json.dumps(storage))
    body = template_path("ingestion").read_text(encoding="utf-8")
    assert len(body.encode()) > MAX_TEMPLATE_BODY_BYTES  # the TMDB extractors took it over
    lines: list[str] = []
    source = template_source("ingestion", "dev", body, moto_settings, progress=lines.append)
    [url] = source.values()
    assert list(source) == ["TemplateURL"] and url.startswith(
        f"https://{artifacts}.s3.eu-west-1.amazonaws.com/"
    )
    key = url.split(".amazonaws.com/", 1)[1]
    assert s3.get_object(Bucket=artifacts, Key=key)["Body"].read() == body.encode()
    # (moto's validate_template cannot parse this YAML's nested short forms, so the bytes are the check.)
    assert len(lines) == 1 and f"s3://{artifacts}/{key}" in lines[0]
    small = template_source("warehouse", "dev", template_path("warehouse").read_text(), moto_settings)
    assert list(small) == ["TemplateBody"]


def _stand_in_tracking_server(template: dict, arn_parameter: str) -> dict:
    """The mlops template without its MLflow tracking server (moto's CloudFormation has none): each
    ``GetAtt MlflowTrackingServer.TrackingServerArn`` becomes a parameter holding a stand-in ARN."""
    target = {"Fn::GetAtt": ["MlflowTrackingServer", "TrackingServerArn"]}

    def swap(value: object) -> object:
        if value == target:
            return {"Ref": arn_parameter}
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    stripped = json.loads(json.dumps(template))
    stripped["Resources"].pop("MlflowTrackingServer")
    stripped["Parameters"][arn_parameter] = {"Type": "String"}
    return swap(stripped)  # type: ignore[return-value]


def test_mlops_layer_on_moto_and_its_rendered_state_machine(moto_settings: Settings) -> None:
    """The MLOps layer as moto builds it, and its state machine definition as deployed.

    moto gaps, each asserted so that a fixed moto shows up here: no AWS::SageMaker::MlflowTrackingServer
    (a stand-in ARN takes its GetAtt), no AWS::CloudWatch::Alarm (skipped), and an
    AWS::StepFunctions::StateMachine written with ``Definition`` gets an empty definition. The
    definition is therefore rendered with the deployed resources' names and ARNs and created through
    the Step Functions API, which must accept and return it; its rules (ASL, IAM per integration, names)
    are tested in tests/unit/test_mlops_template.py.
    """
    from datalake.deploy.iam_check import Bindings, TemplateRenderer

    s3 = _client("s3", moto_settings)
    artifacts, lake = f"{PREFIX}-artifacts-{ACCOUNT}", f"{PREFIX}-lake-{ACCOUNT}"
    for bucket in (artifacts, lake):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    version = "0123456789ab"
    for key in ("lambda/sales_promote.zip", "lambda/layer-core.zip", "lambda/layer-dependencies.zip"):
        s3.put_object(Bucket=artifacts, Key=f"code/{version}/{key}", Body=_empty_zip())
    topic = _client("sns", moto_settings).create_topic(Name=f"{PREFIX}-alerts")["TopicArn"]
    exports = {
        "ArtifactsBucketName": artifacts,
        "LakeBucketName": lake,
        "RawDatabaseName": "datalake_dev_raw",
        "ProcessedDatabaseName": "datalake_dev_processed",
        "EnergyRawDatabaseName": "energy_dev_raw_db",
        "EnergyProcessedDatabaseName": "energy_dev_processed_db",
        "StoreSalesJobName": f"{PREFIX}-store-sales-to-processed",
        "AlertsTopicArn": topic,
    }
    stub = {
        "Resources": {
            "Marker": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": "/test/stub-mlops-exports", "Type": "String", "Value": "x"},
            }
        },
        "Outputs": {k: {"Value": v, "Export": {"Name": f"{PREFIX}-{k}"}} for k, v in exports.items()},
    }
    cfn = _client("cloudformation", moto_settings)
    cfn.create_stack(StackName="stub-mlops-exports", TemplateBody=json.dumps(stub))
    server_arn = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:mlflow-tracking-server/{PREFIX}-mlflow"
    mlops = load_template("mlops")
    params = load_params("dev")["layers"]["mlops"]
    cfn.create_stack(
        StackName=f"{PREFIX}-mlops",
        TemplateBody=json.dumps(_stand_in_tracking_server(mlops, "StandInTrackingServerArn")),
        Parameters=[
            {"ParameterKey": "Env", "ParameterValue": "dev"},
            {"ParameterKey": "CodeVersion", "ParameterValue": version},
            {"ParameterKey": "StandInTrackingServerArn", "ParameterValue": server_arn},
            *({"ParameterKey": k, "ParameterValue": v} for k, v in params.items()),
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    [stack] = cfn.describe_stacks(StackName=f"{PREFIX}-mlops")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["MlflowTrackingUri"] == server_arn

    lam = _client("lambda", moto_settings)
    promote = lam.get_function_configuration(FunctionName=f"{PREFIX}-sales-promote")
    assert promote["Environment"]["Variables"]["MLFLOW_TRACKING_URI"] == server_arn
    assert promote["Role"].endswith(f":role/{PREFIX}-sales-promote")
    events = _client("events", moto_settings)
    rule = events.describe_rule(Name=f"{PREFIX}-sales-pipeline")
    assert (
        rule["ScheduleExpression"] == params["ScheduleExpression"]
        and rule["State"] == params["ScheduleState"]
    )
    [target] = events.list_targets_by_rule(Rule=f"{PREFIX}-sales-pipeline")["Targets"]
    assert target["Arn"] == outputs["SalesPipelineArn"]
    assert target["RoleArn"].endswith(f":role/{PREFIX}-sales-schedule")

    sfn = _client("stepfunctions", moto_settings)
    deployed = sfn.describe_state_machine(stateMachineArn=outputs["SalesPipelineArn"])
    assert deployed["roleArn"].endswith(f":role/{PREFIX}-sales-pipeline")
    assert deployed["definition"] == ""  # moto's gap: it reads DefinitionString only
    cloudwatch = _client("cloudwatch", moto_settings)
    assert cloudwatch.describe_alarms(AlarmNamePrefix=f"{PREFIX}-sales")["MetricAlarms"] == []  # skipped

    # The definition as CloudFormation would render it with these resources.
    iam = _client("iam", moto_settings)
    renderer = TemplateRenderer(
        mlops,
        Bindings(
            parameters={"Project": "datalake", "Env": "dev", "CodeVersion": version, **params},
            exports={f"{PREFIX}-{k}": v for k, v in exports.items()},
            attributes={
                "MlflowTrackingServer.TrackingServerArn": server_arn,
                "SalesTrainingRole.Arn": iam.get_role(RoleName=f"{PREFIX}-sales-training")["Role"]["Arn"],
                "SalesPromoteFunction.Arn": promote["FunctionArn"],
            },
            account=ACCOUNT,
        ),
        "mlops",
    )
    machine = mlops["Resources"]["SalesPipeline"]["Properties"]
    substitutions = renderer.render(machine["DefinitionSubstitutions"])
    text = json.dumps(machine["Definition"])
    for name, value in substitutions.items():
        text = text.replace("${" + name + "}", str(value))
    assert "${" not in text.replace("States.Format('", "")  # every placeholder has its value
    created = sfn.create_state_machine(
        name=f"{PREFIX}-sales-pipeline-rendered", definition=text, roleArn=deployed["roleArn"]
    )
    described = sfn.describe_state_machine(stateMachineArn=created["stateMachineArn"])
    definition = json.loads(described["definition"])
    train = definition["States"]["TrainChallenger"]["Parameters"]
    assert train["RoleArn"] == iam.get_role(RoleName=f"{PREFIX}-sales-training")["Role"]["Arn"]
    assert (
        train["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
        == f"s3://{lake}/features/store_sales/"
    )
    assert train["Environment"]["MLFLOW_TRACKING_URI"] == server_arn
    assert definition["States"]["RunSalesEtl"]["Parameters"]["JobName"] == exports["StoreSalesJobName"]
    assert definition["States"]["NotifyFailure"]["Parameters"]["TopicArn"] == topic
    assert definition["States"]["EvaluateAndPromote"]["Parameters"]["FunctionName"] == promote["FunctionArn"]
