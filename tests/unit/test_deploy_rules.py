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
