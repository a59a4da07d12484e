"""Issue 15, finding 6: the roles AWS services run as, checked both ways from the templates.

Glue jobs (what Glue does before the script, and the script's reads and writes of the lake), the
crawlers, the SageMaker execution role (the launcher's training job and registered-version
endpoint, and the ml stack's model) and Athena's users. Each check passes on the templates, and
fails, naming the request or the grant, on a policy broken on purpose.
tests/integration/test_iam_service_roles.py holds the derived requests to the code that makes them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from datalake.deploy.check import RULE_DOCS, RULE_FAMILIES, CheckInputs, run_check
from datalake.deploy.iam_calls import AthenaCatalog, AwsCall, UnmappedCallError, requests_for
from datalake.deploy.iam_check import RoleReport, TemplateRenderer, requests_of_calls
from datalake.deploy.iam_glue import crawler_requests, glue_job_data_requests, job_contract
from datalake.deploy.iam_policy import UnsupportedPolicyError
from datalake.deploy.iam_roles import (
    IAM_RULES,
    athena_query_calls,
    check_athena_users,
    check_crawler_roles,
    check_glue_job_roles,
    check_sagemaker_role,
    service_role_findings,
    stand_in_bindings,
)
from datalake.deploy.iam_sagemaker import image_requests, role_requests_of_calls
from datalake.deploy.templates import load_template
from datalake.errors import ConfigurationError
from datalake.sources.registry import SOURCES

ACCOUNT = "123456789012"
Check = Callable[..., list[RoleReport]]


def statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The statements of a role's first inline policy, to edit in place."""
    return template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


def statement(template: dict[str, Any], role: str, sid: str) -> dict[str, Any]:
    [found] = [s for s in statements(template, role) if s.get("Sid") == sid]
    return found


def broken(layer: str) -> dict[str, Any]:
    return copy.deepcopy(load_template(layer))


def denied(reports: list[RoleReport]) -> list[str]:
    return [f"{d.request.action} {d.request.resource}" for r in reports for d in r.denied]


def unused(reports: list[RoleReport]) -> list[str]:
    return [str(u) for r in reports for u in r.unused]


@pytest.mark.parametrize("env", ["dev", "prod"])
@pytest.mark.parametrize(
    "check", [check_glue_job_roles, check_crawler_roles, check_sagemaker_role, check_athena_users]
)
def test_finding_6_each_service_role_allows_what_its_service_does_and_nothing_more(
    check: Check, env: str
) -> None:
    reports = check(env)
    assert all(r.ok for r in reports), "\n".join(r.summary() for r in reports)
    if check is not check_athena_users:  # no function runs the lake engine on AWS
        assert reports and all(len(r.requests) > 10 for r in reports)


def test_finding_6_service_role_findings_name_the_template_role_and_rule() -> None:
    template = broken("ml")
    statement(template, "SageMakerExecutionRole", "PullPyTorchImages")["Resource"] = (
        "arn:aws:ecr:eu-west-1:763104351884:repository/tensorflow-*"
    )
    findings = service_role_findings("dev", {"ml": template})
    assert findings and {(f.file, f.resource) for f in findings} == {
        ("cloudformation/ml.yaml", "SageMakerExecutionRole")
    }
    assert {f.rule for f in findings} == {"iam-sagemaker-role-denied", "iam-sagemaker-role-unused"}
    assert any(
        "ecr:BatchGetImage on arn:aws:ecr:eu-west-1:763104351884:repository/pytorch-training" in f.message
        for f in findings
    )
    assert service_role_findings("dev") == []


# -- Glue jobs -------------------------------------------------------------------------------------


def test_finding_6_a_glue_job_role_that_cannot_prune_old_runs_or_read_every_raw_prefix_is_denied() -> None:
    template = broken("transforms")
    publish = statement(template, "GlueJobRole", "WriteProcessedRunsAndQuarantine")
    publish["Action"] = [a for a in publish["Action"] if a != "s3:DeleteObject"]
    statement(template, "GlueJobRole", "ReadRaw")["Resource"]["Fn::Sub"][0] = (
        "arn:${AWS::Partition}:s3:::${LakeBucket}/raw/ree/*"
    )
    lost = denied(check_glue_job_roles("dev", {"transforms": template}))
    lake = "arn:aws:s3:::datalake-dev-lake-123456789012"
    assert f"s3:DeleteObject {lake}/processed/demand_hourly/_runs/*" in lost
    assert f"s3:DeleteObject {lake}/processed/energy_company/clientes/_runs/*" in lost
    # The ENTSO-E and energy company prefixes, and the REE sample prefix the trigger also runs it on.
    for prefix in ("raw/entsoe", "raw/energy_company", "raw/ree_sample"):
        assert f"s3:GetObject {lake}/{prefix}/*" in lost, lost
    assert f"s3:GetObject {lake}/raw/ree/*" not in lost


def test_finding_6_a_glue_job_role_with_a_prefix_scoped_listing_fails_sparks_folder_status() -> None:
    """Hadoop asks for a folder's status with a HEAD of its key, which is no object: a 404 only to a
    role that may list the whole bucket (a 403, which fails the read, to a prefix-scoped one)."""
    template = broken("transforms")
    statement(template, "GlueJobRole", "ListLake")["Condition"] = {
        # Every prefix the jobs list by name, so only the folder HEADs (no prefix) are lost.
        "StringLike": {
            "s3:prefix": ["raw/*", "processed/*", "quarantine/*", "_ledger/*", "_state/*", "features/*"]
        }
    }
    lost = [d for r in check_glue_job_roles("dev", {"transforms": template}) for d in r.denied]
    assert lost and all(d.request.action == "s3:ListBucket" and not d.request.context for d in lost)
    assert any("is a 404 only to a role that may list the bucket" in d.request.why for d in lost)


def test_finding_6_a_glue_job_role_grant_no_job_uses_is_reported() -> None:
    template = broken("transforms")
    reports = statement(template, "GlueJobRole", "WriteRunReports")
    reports["Action"] = ["s3:PutObject", "s3:GetObject"]
    assert unused(check_glue_job_roles("dev", {"transforms": template})) == [
        f"WriteRunReports: s3:GetObject on arn:aws:s3:::datalake-dev-lake-123456789012/{p} "
        "is granted but never used"
        for p in (f"_runs/{source.run_name}/*" for source in SOURCES.values())
    ]


def test_the_store_sales_job_writes_the_features_dataset_only_with_features_true() -> None:
    lake = "arn:aws:s3:::datalake-dev-lake-123456789012"
    # Without its grant, the job's features write (Spark's parts, the driver's manifest) is denied...
    template = broken("transforms")
    statements(template, "GlueJobRole").remove(statement(template, "GlueJobRole", "WriteSalesFeatures"))
    lost = denied(check_glue_job_roles("dev", {"transforms": template}))
    for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"):
        assert f"{action} {lake}/features/store_sales/*" in lost, lost
    # ...and a job that does not pass --features true needs none of it.
    template = broken("transforms")
    del template["Resources"]["StoreSalesJob"]["Properties"]["DefaultArguments"]["--features"]
    assert unused(check_glue_job_roles("dev", {"transforms": template})) == [
        f"WriteSalesFeatures: {action} on {lake}/features/store_sales/* is granted but never used"
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
    ]


def test_every_glue_job_has_its_sources_contract_and_writes_only_under_its_own_names() -> None:
    transforms = load_template("transforms")
    render = TemplateRenderer(transforms, stand_in_bindings("dev", "transforms"), "transforms")
    jobs = [name for name, r in transforms["Resources"].items() if r["Type"] == "AWS::Glue::Job"]
    assert sorted(job_contract(render, job).run_name for job in jobs) == sorted(
        f"{name}_to_processed" for name in SOURCES
    )
    render = TemplateRenderer(transforms, stand_in_bindings("dev", "transforms"), "transforms")
    requests = glue_job_data_requests(render, "EnergyCompanyJob")
    writes = sorted({r.resource.split("/", 1)[1] for r in requests if r.action == "s3:PutObject"})
    assert writes == [
        # Incremental runs: the ledger of its raw prefix and the parsed rows it keeps between runs.
        "_ledger/energy_company_to_processed/raw/energy_company.json",
        "_runs/energy_company_to_processed/*",
        "_state/energy_company_to_processed/raw/energy_company/*",
        "processed/_published/energy_clientes/*",
        "processed/_published/energy_proveedores/*",
        "processed/_published/energy_transacciones/*",
        "processed/energy_company/clientes/_runs/*",
        "processed/energy_company/proveedores/_runs/*",
        "processed/energy_company/transacciones/_runs/*",
        "quarantine/energy_company/clientes/*",
        "quarantine/energy_company/proveedores/*",
        "quarantine/energy_company/transacciones/*",
        "quarantine/energy_company/unreadable/*",
    ]


# -- crawlers --------------------------------------------------------------------------------------


def test_finding_6_a_crawler_role_missing_a_database_or_target_is_denied_and_an_extra_grant_unused() -> None:
    template = broken("catalog")
    catalog = statement(template, "CrawlerRole", "CatalogTheRawDatabases")
    catalog["Resource"] = [r for r in catalog["Resource"] if "EnergyRawDatabaseName" not in str(r)]
    catalog["Action"].append("glue:DeleteTable")
    listing = statement(template, "CrawlerRole", "ListRawPrefixes")
    listing["Condition"]["StringLike"]["s3:prefix"] = ["raw/energy_company/*", "raw/energy_company/"]
    reports = check_crawler_roles("dev", {"catalog": template})
    lost = denied(reports)
    assert "glue:CreateTable arn:aws:glue:eu-west-1:123456789012:table/energy_dev_raw_db/*" in lost
    assert "glue:BatchCreatePartition arn:aws:glue:eu-west-1:123456789012:table/energy_dev_raw_db/*" in lost
    assert "s3:ListBucket arn:aws:s3:::datalake-dev-lake-123456789012" in lost  # raw/ not listable
    assert not any("datalake_dev_raw" in item and "glue:" in item for item in lost)
    extra = unused(reports)
    # DeleteBehavior LOG: no crawler deletes a table.
    assert any(u.startswith("CatalogTheRawDatabases: glue:DeleteTable on ") for u in extra), extra


def test_crawler_requests_follow_the_schema_change_policy_and_refuse_kms() -> None:
    template = broken("catalog")
    raw = template["Resources"]["RawCrawler"]["Properties"]
    render = TemplateRenderer(template, stand_in_bindings("dev", "catalog"), "catalog")
    actions = {r.action for r in crawler_requests(render, "RawCrawler")}
    assert {"glue:UpdateTable", "glue:BatchUpdatePartition"} <= actions and "glue:DeleteTable" not in actions
    raw["SchemaChangePolicy"] = {"UpdateBehavior": "LOG", "DeleteBehavior": "DELETE_FROM_DATABASE"}
    actions = {r.action for r in crawler_requests(render, "RawCrawler")}
    assert "glue:UpdateTable" not in actions and {"glue:DeleteTable", "glue:BatchDeletePartition"} <= actions
    encryption = template["Resources"]["GlueSecurityConfiguration"]["Properties"]["EncryptionConfiguration"]
    encryption["CloudWatchEncryption"] = {
        "CloudWatchEncryptionMode": "SSE-KMS",
        "KmsKeyArn": "arn:aws:kms:eu-west-1:1:key/k",
    }
    with pytest.raises(UnsupportedPolicyError, match="KMS encryption"):
        crawler_requests(render, "RawCrawler")


# -- SageMaker -------------------------------------------------------------------------------------


def test_finding_6_a_sagemaker_role_without_the_registry_archives_or_the_vpc_calls_is_denied() -> None:
    template = broken("ml")
    policy = statements(template, "SageMakerExecutionRole")
    policy[:] = [
        s
        for s in policy
        if s["Sid"] not in ("ServeRegisteredModels", "NoResourceLevelPermissionsVpcNetworkInterfaces")
    ]
    lost = denied(check_sagemaker_role("dev", {"ml": template}))
    assert (
        "s3:GetObject arn:aws:s3:::datalake-dev-artifacts-123456789012/models/demand_forecaster/versions/"
        "v20240101T000000-000000/model.tar.gz"
    ) in lost
    assert "ec2:CreateNetworkInterface *" in lost  # the ml stack's model runs in the VPC


def test_finding_6_a_sagemaker_role_grant_no_job_or_model_uses_is_reported() -> None:
    template = broken("ml")
    metrics = statement(template, "SageMakerExecutionRole", "NoResourceLevelPermissionsMetrics")
    metrics["Condition"]["StringLike"]["cloudwatch:namespace"] = ["/aws/sagemaker/*", "Custom/*"]
    extra = unused(check_sagemaker_role("dev", {"ml": template}))
    assert extra == [
        "NoResourceLevelPermissionsMetrics: its condition admits StringLike cloudwatch:namespace 'Custom/*', "
        "which no request used"
    ]


def sagemaker_call(operation: str, response: dict[str, str] | None = None, **params: Any) -> AwsCall:
    return AwsCall("sagemaker", operation, params, "eu-west-1", 200, response=response or {})


def test_the_role_requests_of_a_recording_follow_the_job_the_package_and_the_endpoint() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/datalake-dev-sagemaker"
    image = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.6-cpu-py312"
    package = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package/g/1"
    calls = [
        sagemaker_call(
            "CreateTrainingJob",
            TrainingJobName="job-1",
            RoleArn=role,
            InputDataConfig=[
                {
                    "ChannelName": "train",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": "s3://lake/processed/demand_hourly/",
                        }
                    },
                }
            ],
            OutputDataConfig={"S3OutputPath": "s3://artifacts/sagemaker/training"},
            AlgorithmSpecification={"TrainingImage": image.replace("inference", "training")},
        ),
        sagemaker_call(
            "CreateModelPackage",
            {"ModelPackageArn": package},
            InferenceSpecification={
                "Containers": [{"Image": image, "ModelDataUrl": "s3://artifacts/models/m/v/model.tar.gz"}]
            },
        ),
        sagemaker_call(
            "CreateModel",
            ModelName="m1",
            ExecutionRoleArn=role,
            PrimaryContainer={
                "ModelPackageName": package,
                "Environment": {"DATABASE_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbC"},
            },
        ),
        sagemaker_call(
            "CreateModel",
            ModelName="other",
            ExecutionRoleArn="arn:aws:iam::1:role/other",
            PrimaryContainer={"Image": "1.dkr.ecr.eu-west-1.amazonaws.com/x:1"},
        ),
        sagemaker_call(
            "CreateEndpointConfig", EndpointConfigName="c1", ProductionVariants=[{"ModelName": "m1"}]
        ),
        sagemaker_call("CreateEndpoint", EndpointName="forecast", EndpointConfigName="c1"),
    ]
    requests = role_requests_of_calls(
        calls, role, ACCOUNT, objects=lambda bucket, prefix: [f"{prefix}a.parquet"]
    )
    pairs = {(r.action, r.resource) for r in requests}
    assert ("s3:GetObject", "arn:aws:s3:::lake/processed/demand_hourly/a.parquet") in pairs
    assert ("s3:PutObject", "arn:aws:s3:::artifacts/sagemaker/training/job-1/output/model.tar.gz") in pairs
    assert ("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:763104351884:repository/pytorch-training") in pairs
    assert (
        "s3:GetObject",
        "arn:aws:s3:::artifacts/models/m/v/model.tar.gz",
    ) in pairs  # the package's archive
    assert ("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbC") in pairs
    assert any(
        r.resource.endswith(
            "log-group:/aws/sagemaker/Endpoints/forecast:log-stream:AllTraffic/i-0123456789abcdef0"
        )
        for r in requests
    )
    assert not any("repository/x" in r.resource for r in requests)  # another role's model
    assert not any(r.action.startswith("ec2:") for r in requests)  # no VpcConfig
    with pytest.raises(ConfigurationError, match="is not an ECR image URI"):
        image_requests("docker.io/library/python:3.11", "test")


# -- Athena ----------------------------------------------------------------------------------------

ATHENA = AthenaCatalog(
    table_locations={
        ("processed", "demand_hourly"): "s3://lake/processed/demand_hourly/",
        ("energy", "clientes"): "s3://lake/processed/energy_company/clientes",
    },
    partitioned=frozenset({("processed", "demand_hourly")}),
    workgroup_outputs={"lake": "s3://artifacts/athena-results/"},
)


def test_an_athena_query_needs_the_workgroup_the_tables_catalog_and_files_and_the_result_location() -> None:
    sql = 'WITH d AS (SELECT * FROM demand_hourly) SELECT * FROM d JOIN "energy"."clientes" c ON true'
    calls = athena_query_calls(sql, "processed", "lake", "s3://artifacts/athena-results/", "eu-west-1")
    requests = requests_of_calls(calls, ACCOUNT, athena=ATHENA)
    glue = f"arn:aws:glue:eu-west-1:{ACCOUNT}"
    pairs = {(r.action, r.resource) for r in requests}
    workgroup = f"arn:aws:athena:eu-west-1:{ACCOUNT}:workgroup/lake"
    assert {
        (f"athena:{op}", workgroup)
        for op in ("GetWorkGroup", "StartQueryExecution", "GetQueryExecution", "GetQueryResults")
    } <= pairs
    assert ("glue:GetPartitions", f"{glue}:table/processed/demand_hourly") in pairs
    assert ("glue:GetTable", f"{glue}:table/energy/clientes") in pairs
    assert ("glue:GetPartitions", f"{glue}:table/energy/clientes") not in pairs  # not partitioned
    assert not any(r.resource.endswith("/d") for r in requests)  # a CTE is no table
    assert ("s3:GetObject", "arn:aws:s3:::lake/processed/energy_company/clientes/*") in pairs
    listings = [r.context for r in requests if r.action == "s3:ListBucket"]
    assert {"s3:prefix": "processed/energy_company/clientes/"} in listings
    results = "arn:aws:s3:::artifacts/athena-results/00000000-0000-0000-0000-000000000000.csv"
    assert {
        ("s3:PutObject", results),
        ("s3:PutObject", f"{results}.metadata"),
        ("s3:GetObject", results),
    } <= pairs


def test_an_athena_call_the_map_cannot_place_is_refused() -> None:
    start = AwsCall(
        "athena",
        "StartQueryExecution",
        {
            "QueryString": "SELECT * FROM nowhere",
            "QueryExecutionContext": {"Database": "processed"},
            "WorkGroup": "lake",
        },
        "eu-west-1",
        200,
    )
    with pytest.raises(UnmappedCallError, match="with the caller's credentials"):
        requests_for(start, ACCOUNT)
    with pytest.raises(UnmappedCallError, match=r"no location known for table processed\.nowhere"):
        requests_for(start, ACCOUNT, athena=ATHENA)
    orphan = AwsCall("athena", "GetQueryResults", {"QueryExecutionId": "q-1"}, "eu-west-1", 200)
    with pytest.raises(UnmappedCallError, match="its workgroup is unknown"):
        requests_for(orphan, ACCOUNT)


def test_finding_6_a_function_switched_to_the_lake_engine_needs_athena_in_its_role() -> None:
    """No function runs /ask on Athena (ASK_ENGINE is the warehouse on AWS); one switched to the
    lake engine without Athena grants is reported, request by request."""
    template = broken("api")
    variables = template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    variables.update(ASK_ENGINE="lake", ATHENA_WORKGROUP={"Fn::Sub": "${Project}-${Env}"})
    [report] = check_athena_users("dev", {"api": template})
    lost = {d.request.action for d in report.denied}
    assert {"athena:StartQueryExecution", "athena:GetQueryResults", "s3:PutObject"} <= lost
    assert "arn:aws:athena:eu-west-1:123456789012:workgroup/datalake-dev" in {
        d.request.resource for d in report.denied
    }


def test_the_service_roles_run_as_a_deploy_check_family() -> None:
    """``datalake deploy check`` runs these checks: a crawler role missing a database fails it, naming
    the template, the role and the rule, which the check's rule list documents."""
    template = broken("catalog")
    catalog = statement(template, "CrawlerRole", "CatalogTheRawDatabases")
    catalog["Resource"] = [r for r in catalog["Resource"] if "EnergyRawDatabaseName" not in str(r)]
    inputs = CheckInputs.load("dev", Path("/nonexistent/manifest.json"))
    inputs.templates["catalog"] = template
    [family] = [f for f in RULE_FAMILIES if f.name == "iam-service-roles"]
    report = run_check(inputs, families=[family])
    assert not report.passed
    found = {(f.rule, f.file, f.resource) for r in report.results for f in r.findings}
    assert found == {("iam-crawler-role-denied", "cloudformation/catalog.yaml", "CrawlerRole")}
    assert set(IAM_RULES) <= set(RULE_DOCS)
