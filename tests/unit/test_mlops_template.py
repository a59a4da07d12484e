"""The MLOps layer (cloudformation/mlops.yaml) against AWS's own rules, which cfn-lint and moto do not know.

- the state machine's definition is valid ASL (targets, terminals, reachability, catch-alls that notify),
  checked by datalake.deploy.stepfunctions_rules, whose rules are each shown to catch a broken definition;
- each service integration's IAM, as the Step Functions guide lists it per service, is what the state
  machine's role allows, and nothing more (datalake.deploy.iam_check.check_role, both ways);
- SageMaker's names, the MLflow tracking server's properties and the schedule expression are values
  AWS accepts, in every environment's parameters;
- the Glue job the pipeline starts is the one the source registry names (its export), and the failure
  path publishes to the monitoring layer's alerts topic.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from datalake.deploy import check, stepfunctions_rules
from datalake.deploy.glue_rules import cron_problem
from datalake.deploy.iam_check import TemplateRenderer, check_role, lambda_platform_requests, role_policy
from datalake.deploy.iam_policy import Request
from datalake.deploy.iam_roles import STAND_IN_ACCOUNT, stand_in_bindings
from datalake.deploy.package import LAMBDA_BUNDLES
from datalake.deploy.stepfunctions_rules import (
    LOG_DELIVERY_ACTIONS,
    SYNC_INTEGRATION_IAM,
    definition_problems,
    failure_notification_problems,
    state_machine_violations,
    substitution_problems,
    task_requests,
)
from datalake.deploy.templates import LAYERS, REPO_ROOT, load_params, load_template
from datalake.sales_aws import FEATURES_CHANNEL, FEATURES_PREFIX, TRAINING_JOB_NAME
from datalake.sources.registry import pascal_case

MLOPS = load_template("mlops")
RESOURCES = MLOPS["Resources"]
MACHINE = RESOURCES["SalesPipeline"]["Properties"]
DEFINITION = MACHINE["Definition"]
STATES = DEFINITION["States"]
ENVIRONMENTS = ("dev", "prod")
#: The source whose Glue job the pipeline runs (the sales ETL, registered by the store-sales source).
SALES_SOURCE = "store_sales"
JOB_EXPORT = f"${{Project}}-${{Env}}-{pascal_case(SALES_SOURCE)}JobName"
#: A UUID as States.UUID() returns it (36 characters).
SAMPLE_UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@lru_cache(maxsize=2)
def renderer(env: str) -> TemplateRenderer:
    """The layer as ``datalake deploy`` renders it for ``env``; the Glue job's export gets a stand-in
    only while the transforms layer does not export it yet (the store-sales source's branch adds it)."""
    bindings = stand_in_bindings(env, "mlops", MLOPS)
    project = load_params(env)["project"]
    exports = dict(bindings.exports)
    job_export = f"{project}-{env}-{pascal_case(SALES_SOURCE)}JobName"
    exports.setdefault(job_export, f"{project}-{env}-store-sales-to-processed")
    return TemplateRenderer(MLOPS, replace(bindings, exports=exports), "mlops")


def test_the_layer_is_deployed_last_after_the_alerts_topic_it_imports() -> None:
    assert LAYERS[-1] == "mlops" and LAYERS.index("monitoring") < LAYERS.index("mlops")
    monitoring = load_template("monitoring")
    exported = monitoring["Outputs"]["AlertsTopicArn"]
    assert exported["Value"] == {"Ref": "AlertsTopic"}
    assert exported["Export"]["Name"] == {"Fn::Sub": "${Project}-${Env}-AlertsTopicArn"}
    alerts = {"Fn::ImportValue": {"Fn::Sub": "${Project}-${Env}-AlertsTopicArn"}}
    assert MACHINE["DefinitionSubstitutions"]["AlertsTopicArn"] == alerts
    assert RESOURCES["SalesPipelineFailedAlarm"]["Properties"]["AlarmActions"] == [alerts]
    for env in ENVIRONMENTS:
        assert set(load_params(env)["layers"]["mlops"]) <= set(MLOPS["Parameters"])


def test_the_etl_step_runs_the_glue_job_the_registry_names() -> None:
    # The transforms layer exports one <PascalCase source>JobName per registered source's job.
    imported = {"Fn::ImportValue": {"Fn::Sub": JOB_EXPORT}}
    assert MACHINE["DefinitionSubstitutions"]["SalesEtlJobName"] == imported
    assert STATES["RunSalesEtl"]["Parameters"] == {"JobName": "${SalesEtlJobName}"}
    transforms = load_template("transforms")
    outputs = transforms.get("Outputs", {})
    name = f"{pascal_case(SALES_SOURCE)}JobName"
    if name not in outputs:
        pytest.skip(f"transforms.yaml does not export {name} yet (the store-sales source registers it)")
    assert outputs[name]["Export"]["Name"] == {"Fn::Sub": JOB_EXPORT}


# -- ASL ---------------------------------------------------------------------------------------------


def test_the_definition_is_valid_asl_and_every_failure_notifies_then_fails() -> None:
    assert definition_problems(DEFINITION) == []
    assert failure_notification_problems(DEFINITION) == []
    assert substitution_problems(DEFINITION, MACHINE["DefinitionSubstitutions"]) == []
    assert state_machine_violations({"mlops": MLOPS}) == []
    # The order the issue asks for: ETL -> training -> evaluate and promote.
    path, name = [], DEFINITION["StartAt"]
    while name is not None:
        path.append(name)
        name = STATES[name].get("Next")
    assert path == ["RunSalesEtl", "TrainChallenger", "EvaluateAndPromote"]
    assert [STATES[n]["Resource"] for n in path] == [
        "arn:aws:states:::glue:startJobRun.sync",
        "arn:aws:states:::sagemaker:createTrainingJob.sync",
        "arn:aws:states:::lambda:invoke",
    ]
    assert STATES["NotifyFailure"]["Parameters"]["TopicArn"] == "${AlertsTopicArn}"
    assert STATES["PipelineFailed"]["Type"] == "Fail"


def _broken(edit) -> dict[str, Any]:
    definition = copy.deepcopy(DEFINITION)
    edit(definition["States"])
    return definition


BROKEN = {
    "asl-transition-target": lambda s: s["RunSalesEtl"].update(Next="TrainChalenger"),
    "asl-terminal": lambda s: s["EvaluateAndPromote"].update(Next="PipelineFailed"),
    "asl-reachable": lambda s: s.update(Orphan={"Type": "Succeed"}),
    "asl-states-all-last": lambda s: s["TrainChallenger"]["Catch"].append(
        {"ErrorEquals": ["States.Timeout"], "Next": "NotifyFailure"}
    ),
    "asl-path-fields": lambda s: s["TrainChallenger"]["ResultSelector"].update(
        {"TrainingJobName.$": "TrainingJobName"}
    ),
    "asl-state-name": lambda s: _rename(s, "PipelineFailed", "F" * 81),
}


def _rename(states: dict[str, Any], old: str, new: str) -> None:
    """Rename a state and every transition to it."""
    states[new] = states.pop(old)
    for state in states.values():
        for handler in [state, *state.get("Catch", [])]:
            if handler.get("Next") == old:
                handler["Next"] = new


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_each_asl_rule_catches_a_broken_definition(rule: str) -> None:
    assert rule in {r for r, _m in definition_problems(_broken(BROKEN[rule]))}
    assert rule in stepfunctions_rules.STEPFUNCTIONS_RULES and rule in check.RULE_DOCS


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s["TrainChallenger"].pop("Catch"),
        lambda s: s["RunSalesEtl"]["Catch"][0].update(Next="PipelineFailed"),
        lambda s: s["NotifyFailure"].update(Next="EvaluateAndPromote"),
    ],
    ids=["no-catch", "catch-skips-the-notifier", "notifier-does-not-fail"],
)
def test_an_unheard_failure_is_a_finding(edit) -> None:
    assert failure_notification_problems(_broken(edit))


def test_an_unknown_or_unused_substitution_is_a_finding() -> None:
    substitutions = {**MACHINE["DefinitionSubstitutions"], "Unused": "x"}
    substitutions.pop("TrainingImage")
    assert substitution_problems(DEFINITION, substitutions) == [
        "${TrainingImage} has no DefinitionSubstitutions entry",
        "DefinitionSubstitutions Unused is never used",
    ]


def test_deploy_check_runs_the_stepfunctions_family() -> None:
    family = next(f for f in check.RULE_FAMILIES if f.name == "stepfunctions")
    broken = copy.deepcopy(MLOPS)
    broken["Resources"]["SalesPipeline"]["Properties"]["Definition"]["StartAt"] = "Nowhere"
    inputs = check.CheckInputs(env="dev", templates={"mlops": broken}, params=load_params("dev"))
    findings = list(family.run(inputs))
    assert {f.rule for f in findings} == {"asl-start-at", "asl-reachable"}
    assert {(f.file, f.resource) for f in findings} == {("cloudformation/mlops.yaml", "SalesPipeline")}


# -- IAM of the integrations -------------------------------------------------------------------------


def _sample_parameters(state: dict[str, Any], rendered: dict[str, Any]) -> dict[str, Any]:
    """A task's Parameters with substitutions applied and .$ fields given a sample value."""
    values = dict(rendered)
    text = json.dumps(state.get("Parameters", {}))
    text = re.sub(r"\$\{(\w+)\}", lambda m: str(values[m.group(1)]), text)
    parameters = json.loads(text)
    stopping = parameters.get("StoppingCondition", {})
    if "MaxRuntimeInSeconds.$" in stopping:
        number = re.fullmatch(r"States\.StringToJson\('(.+)'\)", stopping.pop("MaxRuntimeInSeconds.$"))
        assert number, stopping
        stopping["MaxRuntimeInSeconds"] = json.loads(number.group(1))
    if "TrainingJobName.$" in parameters:
        expression = parameters.pop("TrainingJobName.$")
        prefix = re.fullmatch(r"States\.Format\('(.+)-\{\}', States\.UUID\(\)\)", expression)
        assert prefix, expression
        parameters["TrainingJobName"] = f"{prefix.group(1)}-{SAMPLE_UUID}"
    return parameters


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_state_machine_role_allows_what_each_integration_needs_and_nothing_else(env: str) -> None:
    render = renderer(env)
    substitutions = render.render(MACHINE["DefinitionSubstitutions"], ".SalesPipeline")
    bindings = render.bindings
    requests: list[Request] = []
    for name, state in STATES.items():
        if state.get("Type") != "Task":
            continue
        assert state["Resource"] in SYNC_INTEGRATION_IAM, f"{name}: add {state['Resource']} with its IAM page"
        requests += task_requests(
            state, _sample_parameters(state, substitutions), bindings.account, bindings.region
        )
    # LoggingConfiguration's log delivery (no resource-level permissions).
    requests += [
        Request(action, "*", {}, stepfunctions_rules.LOG_DELIVERY_DOCS) for action in LOG_DELIVERY_ACTIONS
    ]
    report = check_role(role_policy(render, "SalesPipelineRole"), requests)
    assert report.ok, report.summary()
    # The table's own rows: what each .sync page lists (a change here is a change of AWS's docs).
    actions = {resource: {a for a, _r in grants} for resource, (_doc, grants) in SYNC_INTEGRATION_IAM.items()}
    assert actions["arn:aws:states:::glue:startJobRun.sync"] == {
        "glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"
    }  # fmt: skip
    assert actions["arn:aws:states:::sagemaker:createTrainingJob.sync"] == {
        "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
        "events:PutTargets", "events:PutRule", "events:DescribeRule", "iam:PassRole",
    }  # fmt: skip


def test_a_missing_grant_or_a_broader_one_fails_the_role_check() -> None:
    render = renderer("dev")
    substitutions = render.render(MACHINE["DefinitionSubstitutions"], ".SalesPipeline")
    train = STATES["TrainChallenger"]
    requests = task_requests(train, _sample_parameters(train, substitutions), STAND_IN_ACCOUNT, "eu-west-1")
    policy = role_policy(render, "SalesPipelineRole")
    # Passing the role to another service is denied (the iam:PassedToService condition).
    [pass_role] = [r for r in requests if r.action == "iam:PassRole"]
    other = Request(pass_role.action, pass_role.resource, {"iam:PassedToService": "ec2.amazonaws.com"})
    assert not policy.decide(other).allowed
    # A training job outside the layer's name prefix is denied.
    assert not policy.decide(
        Request("sagemaker:CreateTrainingJob", requests[0].resource.replace("-sales-", "-x-"))
    ).allowed
    # Another Glue job is denied.
    assert not policy.decide(
        Request(
            "glue:StartJobRun", f"arn:aws:glue:eu-west-1:{STAND_IN_ACCOUNT}:job/datalake-dev-ree-to-processed"
        )
    ).allowed


# -- names and values AWS accepts --------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_training_job_names_fit_sagemakers_limit_and_the_roles_prefix(env: str) -> None:
    render = renderer(env)
    prefix = render.render(MACHINE["DefinitionSubstitutions"]["TrainingJobPrefix"])
    name = f"{prefix}-{SAMPLE_UUID}"
    assert len(name) <= 63 and TRAINING_JOB_NAME.match(name), name
    [statement] = [
        s
        for s in render.render(RESOURCES["SalesPipelineRole"]["Properties"]["Policies"][0]["PolicyDocument"])[
            "Statement"
        ]
        if s["Sid"] == "RunTrainingJob"
    ]
    assert re.fullmatch(
        statement["Resource"].replace("*", ".*"),
        f"arn:aws:sagemaker:eu-west-1:{STAND_IN_ACCOUNT}:training-job/{name}",
    )
    assert not TRAINING_JOB_NAME.match("x" * 64) and not TRAINING_JOB_NAME.match("-leading")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_tracking_server_properties_are_ones_sagemaker_accepts(env: str) -> None:
    props = renderer(env).render(RESOURCES["MlflowTrackingServer"]["Properties"], ".MlflowTrackingServer")
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-mlflowtrackingserver.html
    assert props["TrackingServerSize"] in {"Small", "Medium", "Large"}
    assert set(MLOPS["Parameters"]["TrackingServerSize"]["AllowedValues"]) == {"Small", "Medium", "Large"}
    assert re.fullmatch(r"s3://[a-z0-9.-]{3,63}/mlflow", props["ArtifactStoreUri"]), props["ArtifactStoreUri"]
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}", props["TrackingServerName"])
    # Its role reads and writes only its prefix of the artifacts bucket.
    bucket = props["ArtifactStoreUri"].removeprefix("s3://").split("/")[0]
    policy = role_policy(renderer(env), "MlflowRole")
    assert policy.decide(Request("s3:PutObject", f"arn:aws:s3:::{bucket}/mlflow/1/run/model.pkl")).allowed
    assert not policy.decide(Request("s3:GetObject", f"arn:aws:s3:::{bucket}/code/x/lambda/a.zip")).allowed
    assert policy.decide(
        Request("s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": "mlflow/1/"})
    ).allowed
    assert not policy.decide(
        Request("s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": "code/"})
    ).allowed


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_mlflow_tracking_uri_is_the_servers_arn_for_the_training_job_and_the_promote_lambda(env: str) -> None:
    render = renderer(env)
    arn = render.render({"Fn::GetAtt": ["MlflowTrackingServer", "TrackingServerArn"]})
    assert (
        arn == f"arn:aws:sagemaker:eu-west-1:{STAND_IN_ACCOUNT}:mlflow-tracking-server/datalake-{env}-mlflow"
    )
    substitutions = render.render(MACHINE["DefinitionSubstitutions"])
    environment = STATES["TrainChallenger"]["Parameters"]["Environment"]
    assert (
        environment["MLFLOW_TRACKING_URI"] == "${TrackingServerArn}"
        and substitutions["TrackingServerArn"] == arn
    )
    variables = render.render(RESOURCES["SalesPromoteFunction"]["Properties"]["Environment"]["Variables"])
    assert variables["MLFLOW_TRACKING_URI"] == arn
    assert re.fullmatch(r"arn:aws:sagemaker:[a-z0-9-]+:\d{12}:mlflow-tracking-server/.+", arn)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_training_job_follows_the_script_mode_contract(env: str) -> None:
    render = renderer(env)
    parameters = _sample_parameters(
        STATES["TrainChallenger"], render.render(MACHINE["DefinitionSubstitutions"])
    )
    hyper = parameters["HyperParameters"]
    assert hyper["sagemaker_program"] == "sales_train.py"
    assert (REPO_ROOT / "sagemaker" / hyper["sagemaker_program"]).is_file()
    assert re.fullmatch(
        r"s3://[^/]+/code/[^/]+/sagemaker/sourcedir\.tar\.gz", hyper["sagemaker_submit_directory"]
    )
    assert all(isinstance(v, str) for v in hyper.values())  # CreateTrainingJob takes string values only
    [channel] = parameters["InputDataConfig"]
    assert channel["ChannelName"] == FEATURES_CHANNEL
    assert channel["DataSource"]["S3DataSource"]["S3Uri"].endswith(f"/{FEATURES_PREFIX}/")
    # The training role may read exactly that channel and the code, and write the outputs.
    policy = role_policy(render, "SalesTrainingRole")
    lake_uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
    bucket = lake_uri.removeprefix("s3://").split("/")[0]
    assert policy.decide(
        Request("s3:GetObject", f"arn:aws:s3:::{bucket}/{FEATURES_PREFIX}/_latest.json")
    ).allowed
    assert not policy.decide(
        Request("s3:GetObject", f"arn:aws:s3:::{bucket}/processed/demand_hourly/x.parquet")
    ).allowed
    code = hyper["sagemaker_submit_directory"].removeprefix("s3://")
    assert policy.decide(Request("s3:GetObject", f"arn:aws:s3:::{code}")).allowed
    output = parameters["OutputDataConfig"]["S3OutputPath"].removeprefix("s3://")
    assert policy.decide(Request("s3:PutObject", f"arn:aws:s3:::{output}/job/output/model.tar.gz")).allowed
    # CreateTrainingJob's numbers are JSON numbers: a substituted "1800" would be refused at run time.
    assert 60 <= parameters["StoppingCondition"]["MaxRuntimeInSeconds"] <= 86400
    assert isinstance(parameters["ResourceConfig"]["InstanceCount"], int)
    assert isinstance(parameters["ResourceConfig"]["VolumeSizeInGB"], int)


def test_the_promote_lambda_is_packaged_and_reads_only_training_outputs() -> None:
    props = RESOURCES["SalesPromoteFunction"]["Properties"]
    assert props["Code"]["S3Key"] == {"Fn::Sub": "code/${CodeVersion}/lambda/sales_promote.zip"}
    assert LAMBDA_BUNDLES["sales_promote"] == ("lambdas/sales_promote", "")
    policy = role_policy(renderer("dev"), "SalesPromoteRole")
    bucket = f"datalake-dev-artifacts-{STAND_IN_ACCOUNT}"
    assert policy.decide(
        Request("s3:GetObject", f"arn:aws:s3:::{bucket}/sagemaker/sales/j/output/model.tar.gz")
    ).allowed
    assert not policy.decide(Request("s3:GetObject", f"arn:aws:s3:::{bucket}/mlflow/x")).allowed


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_schedule_expression_is_valid_and_starts_the_state_machine(env: str) -> None:
    render = renderer(env)
    props = RESOURCES["SalesPipelineSchedule"]["Properties"]
    rule = render.render({k: props[k] for k in ("ScheduleExpression", "State")}, ".SalesPipelineSchedule")
    expression = rule["ScheduleExpression"]
    assert cron_problem(expression) is None, cron_problem(expression)
    assert re.fullmatch(MLOPS["Parameters"]["ScheduleExpression"]["AllowedPattern"], expression)
    assert rule["State"] in ("ENABLED", "DISABLED")
    [target] = RESOURCES["SalesPipelineSchedule"]["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": "SalesPipeline"} and target["RoleArn"] == {
        "Fn::GetAtt": ["ScheduleRole", "Arn"]
    }
    role = RESOURCES["ScheduleRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    assert role["Statement"] == [
        {
            "Sid": "StartPipeline",
            "Effect": "Allow",
            "Action": "states:StartExecution",
            "Resource": {"Ref": "SalesPipeline"},
        }
    ]


def test_the_alarm_watches_failed_executions_and_may_publish_to_the_alerts_topic() -> None:
    alarm = RESOURCES["SalesPipelineFailedAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/States", "ExecutionsFailed")
    assert alarm["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": "SalesPipeline"}}]
    assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    # The alerts topic's policy lets CloudWatch publish for alarms named <project>-<env>-*.
    assert alarm["AlarmName"]["Fn::Sub"].startswith("${Project}-${Env}-")
    from datalake.deploy.monitoring_rules import alarm_violations

    templates = {"monitoring": load_template("monitoring"), "mlops": MLOPS}
    assert [f for f in alarm_violations(templates) if f.layer == "mlops"] == []
    # Without the monitoring layer's export the imported topic is not a known topic.
    assert {f.rule for f in alarm_violations({"mlops": MLOPS})} == {"alarm-actions-to-topic"}


def test_every_mlflow_action_granted_exists() -> None:
    cfnlint = pytest.importorskip("cfnlint")

    known = json.loads(
        (Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json").read_text()
    )
    actions = {a.lower() for a in known["sagemaker-mlflow"]["Actions"]}
    granted = {
        action.split(":", 1)[1].lower()
        for resource in RESOURCES.values()
        if resource["Type"] == "AWS::IAM::Role"
        for policy in resource["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        if action.startswith("sagemaker-mlflow:")
    }
    assert granted and granted <= actions, granted - actions


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_promote_role_allows_its_calls_and_nothing_else(env: str) -> None:
    """Both ways: Lambda's own writes, the archive read and datalake.sales_aws.promote_training_output's
    MLflow calls (get_registered_model, set_registered_model_alias, set_model_version_tag)."""
    render = renderer(env)
    server = render.render({"Fn::GetAtt": ["MlflowTrackingServer", "TrackingServerArn"]})
    bucket = render.bindings.exports[f"datalake-{env}-ArtifactsBucketName"]
    job = f"datalake-{env}-sales-{SAMPLE_UUID}"
    requests = [
        *lambda_platform_requests(render, "SalesPromoteFunction"),
        Request("s3:GetObject", f"arn:aws:s3:::{bucket}/sagemaker/sales/{job}/output/model.tar.gz"),
        *(
            Request(f"sagemaker-mlflow:{action}", server)
            for action in ("GetRegisteredModel", "SetRegisteredModelAlias", "SetModelVersionTag")
        ),
    ]
    report = check_role(role_policy(render, "SalesPromoteRole"), requests)
    assert report.ok, report.summary()


def test_the_code_bundle_holds_the_script_the_training_job_runs(tmp_path: Path) -> None:
    from datalake.models.bundle import build_source_bundle

    program = STATES["TrainChallenger"]["Parameters"]["HyperParameters"]["sagemaker_program"]
    bundle = build_source_bundle(tmp_path / "code", REPO_ROOT / "sagemaker")
    assert (bundle / program).is_file() and (bundle / "datalake" / "sales_aws.py").is_file()
    # The script imports only what the bundle carries (its logic is datalake.sales_aws).
    assert "from datalake.sales_aws import" in (bundle / program).read_text()
