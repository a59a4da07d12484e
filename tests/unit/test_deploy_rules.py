"""The static rules of datalake/deploy/rules.py (issue 15, findings 2, 3, 8 and 9): each passes over the
shipped templates and parameter files, and each catches the mistake it exists for in a broken copy,
so a passing run means the rule looked, not that it was blind."""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

from datalake.deploy import rules
from datalake.deploy.rules import Finding, load_engine_versions, load_layers

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
    assert {(f.template, f.resource, f.rule) for f in found} == {
        ("warehouse", "Database", "rds-engine-version")
    }
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
    assert (finding.template, finding.resource, finding.rule) == (
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
