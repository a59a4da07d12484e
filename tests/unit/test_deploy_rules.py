"""The static rules of datalake/deploy/rules.py (issue 15, findings 2, 3, 8 and 9): each passes over the
shipped templates and parameter files, and each catches the mistake it exists for in a broken copy,
so a passing run means the rule looked, not that it was blind."""

from __future__ import annotations

import copy
import datetime as dt
import re
import subprocess
from pathlib import Path
from typing import Any

from datalake.deploy import rules
from datalake.deploy.findings import Finding
from datalake.deploy.rules import load_engine_versions, load_layers

TEMPLATES, PARAMS = load_layers()


def broken() -> dict[str, dict[str, Any]]:
    """A deep copy of the templates to break."""
    return copy.deepcopy(TEMPLATES)


def shown(findings: list[Finding]) -> str:
    return "\n".join(map(str, findings))


# -- finding 2: RDS engine version -------------------------------------------------------------------


def test_finding_2_rds_engine_is_a_major_version_with_a_matching_parameter_group_family() -> None:
    findings = rules.rds_engine_versions(TEMPLATES, PARAMS)
    assert not findings, shown(findings)
    warehouse = TEMPLATES["warehouse"]
    database = warehouse["Resources"]["Database"]["Properties"]
    assert database["EngineVersion"] == {"Ref": "EngineVersion"}
    assert database["AutoMinorVersionUpgrade"] is True  # RDS keeps the minor current
    assert warehouse["Parameters"]["EngineVersion"]["AllowedValues"] == ["16"]

    # The retired minor the template used to pin, given as a Default without AllowedValues.
    templates = broken()
    templates["warehouse"]["Parameters"]["EngineVersion"] = {"Type": "String", "Default": "16.4"}
    found = rules.rds_engine_versions(templates, PARAMS)
    assert {(f.layer, f.resource, f.rule) for f in found} == {("warehouse", "Database", "rds-engine-version")}
    assert "16.4 pins a minor" in shown(found) and "without AllowedValues" in shown(found)
    # A minor the fixture documents as creatable passes; an unsupported major does not.
    parameter = templates["warehouse"]["Parameters"]["EngineVersion"]
    parameter["AllowedValues"] = ["16", "16.11"]
    assert rules.rds_engine_versions(templates, PARAMS) == []
    parameter["AllowedValues"] = ["9"]
    assert "9 is not a supported major" in shown(rules.rds_engine_versions(templates, PARAMS))
    # A new major without a new parameter group family.
    parameter["AllowedValues"] = ["17"]
    [finding] = rules.rds_engine_versions(templates, PARAMS)
    assert (finding.resource, finding.rule) == ("DatabaseParameters", "rds-parameter-group-family")
    assert "postgres16" in finding.message and "postgres17" in finding.message


def test_finding_2_engine_version_fixture_names_its_sources_and_date() -> None:
    versions = load_engine_versions()
    retrieved = dt.date.fromisoformat(versions["retrieved"])
    assert dt.date(2026, 1, 1) <= retrieved <= dt.date.today()
    assert versions["sources"] and all(s.strip() for s in versions["sources"])
    assert any(s.startswith("https://docs.aws.amazon.com/AmazonRDS/") for s in versions["sources"])
    postgres = versions["engines"]["postgres"]
    assert all(re.fullmatch(r"\d+", m) for m in postgres["majors"])
    for minor in postgres["pinned_minors"]:
        assert re.fullmatch(r"\d+\.\d+", minor) and minor.split(".")[0] in postgres["majors"], minor
    assert "16.4" not in postgres["pinned_minors"]  # retired: RDS refuses new instances on it


# -- finding 3: exports that change with every release -----------------------------------------------


def _export(template: dict[str, Any], key: str, value: Any) -> None:
    template.setdefault("Outputs", {})[key] = {
        "Value": value,
        "Export": {"Name": {"Fn::Sub": f"${{Project}}-${{Env}}-{key}"}},
    }


def _import(key: str) -> dict[str, Any]:
    return {"Fn::ImportValue": {"Fn::Sub": f"${{Project}}-${{Env}}-{key}"}}


def test_finding_3_no_export_that_changes_with_the_code_version_is_imported() -> None:
    findings = rules.versioned_exports_imported(TEMPLATES)
    assert not findings, shown(findings)
    # The API Lambda's layers are its own stack's, built from the same release as its code.
    api = TEMPLATES["api"]["Resources"]
    for layer in api["ApiFunction"]["Properties"]["Layers"]:
        resource = api[layer["Ref"]]
        assert resource["Type"] == "AWS::Lambda::LayerVersion"
        assert resource["Properties"]["Content"]["S3Key"]["Fn::Sub"].startswith("code/${CodeVersion}/lambda/")
    assert "Export" not in TEMPLATES["ingestion"]["Outputs"]["CoreLayerArn"]

    # What the templates did before: ingestion exported its layer version, the api imported it.
    templates = broken()
    _export(templates["ingestion"], "CoreLayerArn", {"Ref": "CoreLayer"})
    templates["api"]["Resources"]["ApiFunction"]["Properties"]["Layers"][0] = _import("CoreLayerArn")
    [finding] = rules.versioned_exports_imported(templates)
    assert (finding.layer, finding.resource, finding.rule) == (
        "ingestion",
        "Outputs.CoreLayerArn",
        "versioned-export-imported",
    )
    assert "imported by api" in finding.message
    assert "CoreLayer (AWS::Lambda::LayerVersion, Content) -> parameter CodeVersion" in finding.message


def test_finding_3_the_rule_follows_ref_getatt_and_sub_chains() -> None:
    templates = broken()
    ingestion = templates["ingestion"]
    resources = ingestion["Resources"]
    # Two hops: an SSM parameter whose value is the layer version, exported through its Value.
    resources["LayerArnParameter"] = {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Name": "/x", "Type": "String", "Value": {"Fn::Sub": "${CoreLayer}"}},
    }
    _export(ingestion, "ThroughSsmValue", {"Fn::GetAtt": ["LayerArnParameter", "Value"]})
    # ...its name does not change with the release, so exporting it is fine.
    _export(ingestion, "SsmName", {"Ref": "LayerArnParameter"})
    # A function is updated in place: its ARN stays when its code changes.
    _export(ingestion, "FunctionArn", {"Fn::GetAtt": ["ReeDailyFunction", "Arn"]})
    # A Sub that names the version directly, and one through its variable map.
    _export(ingestion, "CodePrefix", {"Fn::Sub": "code/${CodeVersion}/"})
    _export(ingestion, "Mapped", {"Fn::Sub": ["${X}", {"X": {"Ref": "DependenciesLayer"}}]})
    # A type the rule has no table for counts as replaced by any change that reaches it.
    resources["Unknown"] = {"Type": "AWS::Example::Thing", "Properties": {"Key": {"Ref": "CodeVersion"}}}
    _export(ingestion, "UnknownThing", {"Fn::GetAtt": ["Unknown", "Id"]})
    for key in ("ThroughSsmValue", "SsmName", "FunctionArn", "CodePrefix", "Mapped", "UnknownThing"):
        templates["api"]["Resources"][f"Uses{key}"] = {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": f"/{key}", "Type": "String", "Value": _import(key)},
        }
    found = {f.resource: f.message for f in rules.versioned_exports_imported(templates)}
    assert set(found) == {
        "Outputs.ThroughSsmValue",
        "Outputs.CodePrefix",
        "Outputs.Mapped",
        "Outputs.UnknownThing",
    }
    assert (
        "LayerArnParameter.Value (AWS::SSM::Parameter, Value) -> CoreLayer"
        in found["Outputs.ThroughSsmValue"]
    )
    # An export nobody imports may change freely.
    del templates["api"]["Resources"]["UsesCodePrefix"]
    assert "Outputs.CodePrefix" not in {f.resource for f in rules.versioned_exports_imported(templates)}


# -- finding 8: the EC2 API host installs every release and says whether it worked ------------------


def _user_data(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    data = templates["api"]["Resources"]["ApiLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    return data["UserData"]["Fn::Base64"]


def test_finding_8_api_host_is_an_auto_scaling_group_that_rolls_each_release_on_signals() -> None:
    findings = rules.api_hosts_roll_out_each_release(TEMPLATES)
    assert not findings, shown(findings)
    assert not list(rules._resources(TEMPLATES, "AWS::EC2::Instance"))
    api = TEMPLATES["api"]["Resources"]
    group = api["ApiAutoScalingGroup"]
    assert group["CreationPolicy"]["ResourceSignal"] == {"Count": 1, "Timeout": "PT40M"}
    rolling = group["UpdatePolicy"]["AutoScalingRollingUpdate"]
    assert rolling["WaitOnResourceSignals"] is True and rolling["MinInstancesInService"] == 1
    props = group["Properties"]
    assert (props["MinSize"], props["MaxSize"]) == ("1", "2")
    assert props["TargetGroupARNs"] == [{"Ref": "ApiTargetGroup"}]
    assert props["LaunchTemplate"]["Version"] == {"Fn::GetAtt": ["ApiLaunchTemplate", "LatestVersionNumber"]}
    # Everything the instance had: the same role, IMDSv2, an encrypted volume, the unit and its settings.
    data = api["ApiLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert data["IamInstanceProfile"] == {"Arn": {"Fn::GetAtt": ["ApiHostProfile", "Arn"]}}
    assert api["ApiHostProfile"]["Properties"]["Roles"] == [{"Ref": "ApiHostRole"}]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    script = _user_data(TEMPLATES)["Fn::Sub"][0]
    for line in (
        "Environment=LAKE_RUNTIME=aws",
        "Environment=DATABASE_SECRET_ARN=${DatabaseSecretArn}",
        "Environment=API_KEY_SECRET_ARN=${ApiKeySecret}",
        "Environment=READER_SECRET_ARN=${ReaderSecretArn}",
        "Environment=API_RATE_LIMIT_PER_MINUTE=${ApiRateLimitPerMinute}",
        "Environment=FORWARDED_ALLOW_IPS=${VpcCidr}",
        "Environment=FORECAST_ENDPOINT=${EndpointName}",
        "Environment=ASK_BACKEND=${AskBackend}",
        "Environment=HF_TOKEN_SECRET_ARN=${HfTokenSecretArn}",
        "ExecStart=/opt/datalake/venv/bin/datalake serve --host 0.0.0.0 --port ${ApiPort} --workers 2",
        "systemctl enable --now datalake-api.service",
    ):
        assert line in script.splitlines(), line
    # It waits for the app before it signals: the last command is the readiness wait.
    assert script.rstrip().endswith("--url http://127.0.0.1:${ApiPort} --timeout 900")
    assert "-m datalake.deploy.host_ready" in script


def test_finding_8_the_rule_catches_hosts_that_keep_old_code_or_fail_silently() -> None:
    # The template before: an instance whose user data installs the release at first boot only.
    templates = broken()
    data = templates["api"]["Resources"]["ApiLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    templates["api"]["Resources"]["OldHost"] = {
        "Type": "AWS::EC2::Instance",
        "Properties": {"ImageId": {"Ref": "ImageId"}, "UserData": data["UserData"]},
    }
    found = rules.api_hosts_roll_out_each_release(templates)
    assert [(f.resource, f.rule) for f in found] == [("OldHost", "instance-user-data-installs-code")]

    templates = broken()
    group = templates["api"]["Resources"]["ApiAutoScalingGroup"]
    del group["CreationPolicy"], group["UpdatePolicy"]
    group["Properties"]["LaunchTemplate"]["Version"] = "$Latest"
    script = _user_data(templates)["Fn::Sub"]
    script[0] = (
        script[0]
        .replace("trap 'signal $?' EXIT", "")
        .replace("--resource ApiAutoScalingGroup", "--resource SomethingElse")
        .replace("${CodeVersion}", "latest")
    )
    found = {(f.resource, f.rule, f.message) for f in rules.api_hosts_roll_out_each_release(templates)}
    rules_found = {(resource, rule) for resource, rule, _ in found}
    assert rules_found == {
        ("ApiLaunchTemplate", "launch-template-user-data-versioned"),
        ("ApiAutoScalingGroup", "asg-launch-template-version"),
        ("ApiAutoScalingGroup", "asg-creation-signal"),
        ("ApiAutoScalingGroup", "asg-rolling-update"),
        ("ApiLaunchTemplate", "user-data-signals-exit-status"),
    }
    messages = "\n".join(m for _, _, m in found)
    assert "no `trap '... $? ...' EXIT`" in messages
    assert "does not name the group ApiAutoScalingGroup" in messages

    # A rolling update with no room for the new instance, a signal count above MinSize, no exit code.
    templates = broken()
    group = templates["api"]["Resources"]["ApiAutoScalingGroup"]
    group["UpdatePolicy"]["AutoScalingRollingUpdate"]["MinInstancesInService"] = 2
    group["CreationPolicy"]["ResourceSignal"]["Count"] = 3
    script = _user_data(templates)["Fn::Sub"]
    script[0] = script[0].replace('--exit-code "$1" ', "").replace("set -euxo pipefail", "set -ux")
    messages = shown(rules.api_hosts_roll_out_each_release(templates))
    assert "MinInstancesInService 2 leaves no room under MaxSize" in messages
    assert "waits for 3 signals but MinSize is 1" in messages
    assert "cfn-signal sends no exit code" in messages
    assert "no `set -e`" in messages


def test_finding_8_user_data_signals_the_exit_status_of_the_install(tmp_path: Path) -> None:
    """The template's own signalling code, run: a failing step signals its status, success signals 0."""
    script = _user_data(TEMPLATES)["Fn::Sub"][0]
    prelude, trap, _ = script.partition("trap 'signal $?' EXIT\n")
    assert trap, "the user data sets no EXIT trap"
    record = tmp_path / "signals"
    stub = tmp_path / "cfn-signal"
    stub.write_text(f'#!/bin/sh\necho "$@" >> {record}\n')
    stub.chmod(0o755)
    rendered = (
        (prelude + trap)
        .replace("/opt/aws/bin/cfn-signal", str(stub))
        .replace("${AWS::StackName}", "datalake-dev-api")
        .replace("${AWS::Region}", "eu-west-1")
        .replace("${CodeVersion}", "0123456789ab")
    )
    assert "${" not in rendered

    def run(steps: str) -> tuple[int, str]:
        record.unlink(missing_ok=True)
        result = subprocess.run(["bash", "-c", rendered + steps], capture_output=True, text=True, timeout=60)
        return result.returncode, record.read_text().strip()

    status, signal = run("echo installing\nsh -c 'exit 7'\necho after-the-failure\n")
    assert status == 7
    assert (
        signal == "--exit-code 7 --stack datalake-dev-api --resource ApiAutoScalingGroup --region eu-west-1"
    )
    assert "after-the-failure" not in run("false\necho after-the-failure\n")[1]
    status, signal = run("echo installed\n")
    assert status == 0 and signal.startswith("--exit-code 0 --stack datalake-dev-api")


# -- finding 9: names per environment, data and secrets that outlive their stack ----------------------


def test_finding_9_every_physical_name_names_its_environment() -> None:
    findings = rules.names_scoped_by_env(TEMPLATES, PARAMS)
    assert not findings, shown(findings)
    group = TEMPLATES["ml"]["Resources"]["ModelPackageGroup"]["Properties"]["ModelPackageGroupName"]
    names = {env: rules._render(group, TEMPLATES["ml"], "ml", PARAMS, env) for env in PARAMS}
    assert names == {"dev": "datalake-dev-demand-forecaster", "prod": "datalake-prod-demand-forecaster"}

    templates = broken()
    # The finding: dev and prod shared one model package group.
    templates["ml"]["Resources"]["ModelPackageGroup"]["Properties"]["ModelPackageGroupName"] = (
        "datalake-forecaster"
    )
    # A name from a parameter: right in prod's params file, the shared default in dev's.
    templates["catalog"]["Parameters"]["RawDatabaseName"]["Default"] = "datalake_raw"
    params = copy.deepcopy(PARAMS)
    del params["dev"]["layers"]["catalog"]["RawDatabaseName"]
    # "prod" inside another word does not name the environment.
    params["prod"]["layers"]["transforms"]["ReeJobName"] = "datalake-production-ree"
    # A name inside an already scoped parent (a workgroup's named query) is not checked.
    query = next(iter(rules._resources(templates, "AWS::Athena::NamedQuery")))[2]
    query["Properties"]["Name"] = "shared_query_name"
    found = {(f.layer, f.resource): f.message for f in rules.names_scoped_by_env(templates, params)}
    assert set(found) == {("ml", "ModelPackageGroup"), ("catalog", "RawDatabase"), ("transforms", "ReeJob")}
    assert "dev: datalake-forecaster, prod: datalake-forecaster" in found[("ml", "ModelPackageGroup")]
    assert found[("catalog", "RawDatabase")].endswith("(dev: datalake_raw)")
    assert found[("transforms", "ReeJob")].endswith("(prod: datalake-production-ree)")


def test_finding_9_data_stores_secrets_and_audit_logs_are_retained_and_no_secret_is_named() -> None:
    findings = rules.data_stores_retained(TEMPLATES) + rules.named_secrets_retained(TEMPLATES)
    assert not findings, shown(findings)
    kept = {
        (layer, name, resource["Type"], resource.get("DeletionPolicy"))
        for layer, name, resource in rules._resources(TEMPLATES)
        if resource.get("DeletionPolicy") in ("Retain", "Snapshot")
    }
    assert kept == {
        ("storage", "AccessLogsBucket", "AWS::S3::Bucket", "Retain"),
        ("storage", "LandingBucket", "AWS::S3::Bucket", "Retain"),
        ("storage", "LakeBucket", "AWS::S3::Bucket", "Retain"),
        ("storage", "ArtifactsBucket", "AWS::S3::Bucket", "Retain"),
        ("warehouse", "Database", "AWS::RDS::DBInstance", "Snapshot"),
        ("warehouse", "DatabaseSecret", "AWS::SecretsManager::Secret", "Retain"),
        ("warehouse", "ReaderSecret", "AWS::SecretsManager::Secret", "Retain"),
        ("api", "ApiKeySecret", "AWS::SecretsManager::Secret", "Retain"),
        ("ingestion", "TmdbSecret", "AWS::SecretsManager::Secret", "Retain"),
        ("ingestion", "EiaSecret", "AWS::SecretsManager::Secret", "Retain"),
        ("realtime", "PortfoliosTable", "AWS::DynamoDB::Table", "Retain"),
        ("realtime", "RealtimeKey", "AWS::KMS::Key", "Retain"),
        ("network", "FlowLogGroup", "AWS::Logs::LogGroup", "Retain"),
        ("api", "WafLogGroup", "AWS::Logs::LogGroup", "Retain"),
        ("api", "ApiAccessLogGroup", "AWS::Logs::LogGroup", "Retain"),
    }
    # A kept resource with a fixed name would block the next deploy of its stack: secrets and the
    # audit logs have none (WAF's needs its prefix, so it ends with the stack's id).
    for layer, name, _, _ in kept - {k for k in kept if k[2] in ("AWS::S3::Bucket", "AWS::RDS::DBInstance")}:
        props = TEMPLATES[layer]["Resources"][name]["Properties"]
        assert "Name" not in props, f"{layer}.{name}"
        if "LogGroupName" in props:
            assert "AWS::StackId" in str(props["LogGroupName"]), f"{layer}.{name}"

    templates = broken()
    storage = templates["storage"]["Resources"]
    del storage["LakeBucket"]["DeletionPolicy"]
    templates["warehouse"]["Resources"]["Database"]["UpdateReplacePolicy"] = "Delete"
    # What the templates had: a named secret that a deletion puts in its recovery window.
    secret = templates["api"]["Resources"]["ApiKeySecret"]
    secret["Properties"]["Name"] = {"Fn::Sub": "${Project}/${Env}/api-key"}
    del secret["DeletionPolicy"], secret["UpdateReplacePolicy"]
    # An audit log is found by what writes to it: here the VPC flow log.
    del templates["network"]["Resources"]["FlowLogGroup"]["UpdateReplacePolicy"]
    found = {(f.resource, f.rule, f.message.split(";")[0]) for f in rules.data_stores_retained(templates)}
    assert found == {
        ("LakeBucket", "data-store-retained", "DeletionPolicy is Delete"),
        ("Database", "data-store-retained", "UpdateReplacePolicy is Delete"),
        ("ApiKeySecret", "data-store-retained", "DeletionPolicy is Delete"),
        ("ApiKeySecret", "data-store-retained", "UpdateReplacePolicy is Delete"),
        ("FlowLogGroup", "data-store-retained", "UpdateReplacePolicy is Delete"),
    }
    [named] = rules.named_secrets_retained(templates)
    assert (named.layer, named.resource, named.rule) == ("api", "ApiKeySecret", "named-secret-deletable")
    # A named secret that is kept passes that rule.
    secret["DeletionPolicy"] = secret["UpdateReplacePolicy"] = "Retain"
    assert rules.named_secrets_retained(templates) == []


# -- grants on optional parameters (/ask's Hugging Face token) --------------------------------------------


def _api_role_statements(templates: dict[str, dict[str, Any]], role: str) -> list[Any]:
    return templates["api"]["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


def _hf_grant(statements: list[Any]) -> dict[str, Any]:
    [grant] = [s for s in statements if "Fn::If" in s]
    return grant


def test_an_optional_secret_is_granted_only_under_the_condition_that_it_is_set() -> None:
    assert rules.optional_resources_granted_when_set(TEMPLATES, PARAMS) == []
    # The shipped grant: both API roles, behind HasHfToken, which tests HfTokenSecretArn.
    for role in ("ApiHostRole", "ApiFunctionRole"):
        condition, statement, otherwise = _hf_grant(_api_role_statements(TEMPLATES, role))["Fn::If"]
        assert (condition, statement["Resource"], otherwise) == (
            "HasHfToken",
            {"Ref": "HfTokenSecretArn"},
            {"Ref": "AWS::NoValue"},
        )

    # Unconditional: an empty HfTokenSecretArn would be an empty Resource (IAM refuses the policy).
    templates = broken()
    statements = _api_role_statements(templates, "ApiFunctionRole")
    grant = _hf_grant(statements)
    statements[statements.index(grant)] = grant["Fn::If"][1]
    [found] = rules.optional_resources_granted_when_set(templates, PARAMS)
    assert (found.layer, found.resource, found.rule) == (
        "api",
        "ApiFunctionRole",
        "optional-resource-granted-when-set",
    )
    assert "ReadHfToken" in found.message and "HfTokenSecretArn" in found.message

    # Behind a condition about another parameter: still unguarded.
    templates = broken()
    templates["api"]["Conditions"]["HasHfToken"] = {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]
    }
    found = rules.optional_resources_granted_when_set(templates, PARAMS)
    assert {f.resource for f in found} == {"ApiHostRole", "ApiFunctionRole"}

    # A Resource list that adds the optional ARN to a required one needs the guard on that item.
    templates = broken()
    statements = _api_role_statements(templates, "ApiHostRole")
    [reader] = [s for s in statements if s.get("Sid") == "ReadReaderPassword"]
    reader["Resource"] = [{"Ref": "ReaderSecretArn"}, {"Ref": "HfTokenSecretArn"}]
    assert {f.resource for f in rules.optional_resources_granted_when_set(templates, PARAMS)} == {
        "ApiHostRole"
    }
    reader["Resource"][1] = {"Fn::If": ["HasHfToken", {"Ref": "HfTokenSecretArn"}, {"Ref": "AWS::NoValue"}]}
    assert rules.optional_resources_granted_when_set(templates, PARAMS) == []

    # A parameter that is empty in one environment's params file counts as optional too.
    params = copy.deepcopy(PARAMS)
    params["dev"]["layers"]["api"]["ReaderSecretArn"] = ""
    found = rules.optional_resources_granted_when_set(TEMPLATES, params)
    assert {f.resource for f in found} == {"ApiHostRole", "ApiFunctionRole"}
    assert all("ReaderSecretArn" in f.message for f in found)


def test_every_static_rule_passes_over_the_shipped_templates() -> None:
    """What `datalake deploy check` will run: every rule, all layers, dev and prod parameters."""
    findings = rules.check_templates()
    assert not findings, shown(findings)
    assert len(rules.TEMPLATE_RULES) + len(rules.PARAMS_RULES) == 7
    assert all(url.startswith("https://") for _, url in rules.RULES.values())
