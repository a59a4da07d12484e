"""CloudFormation rules that cfn-lint, checkov and moto do not know, checked over the layer templates.

Each rule is one AWS behaviour that a template can break without any linter noticing, until a real
deploy fails (or worse, the second one): a retired RDS minor version, an export that changes with
every release while another stack imports it, an EC2 host whose user data never runs again, names
that collide between environments, data that a stack deletion takes with it. Every rule function
takes the templates (``{layer: template}``, as :func:`~datalake.deploy.templates.load_template`
reads them) and, where values matter, the parameter files (``{env: load_params(env)}``), and
returns :class:`~datalake.deploy.findings.Finding` rows that name the template, the resource and the rule.
:func:`check_templates` runs them all (``datalake deploy check`` prints what it returns).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from datalake.deploy.findings import Finding, template_file
from datalake.deploy.templates import LAYERS, load_params, load_template

Template = Mapping[str, Any]
Templates = Mapping[str, Template]
Params = Mapping[str, Mapping[str, Any]]

ENGINE_VERSIONS_FILE = Path(__file__).with_name("data") / "rds_engine_versions.json"
_CFN = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide"

#: Rule id -> (what AWS requires, where it is documented).
RULES: dict[str, tuple[str, str]] = {
    "rds-engine-version": (
        "an RDS engine version is a supported major version (RDS picks its current minor) or a pinned "
        f"minor listed, with its source and date, in {ENGINE_VERSIONS_FILE.name}; RDS refuses to create "
        "instances on retired minors",
        "https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html",
    ),
    "rds-parameter-group-family": (
        "the DB parameter group's family is the engine's major version (postgres16 for 16.x)",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/parameter-groups-overview.html",
    ),
    "versioned-export-imported": (
        "an export that another stack imports cannot change; a value that changes with the code version "
        "(a Lambda layer version, anything replaced per release) must reach other stacks another way",
        f"{_CFN}/using-cfn-stack-exports.html",
    ),
    "instance-user-data-installs-code": (
        "user data runs once, at an instance's first boot: an AWS::EC2::Instance that installs the "
        "release keeps the old code when CodeVersion changes",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html",
    ),
    "asg-creation-signal": (
        "a group that installs code waits for its instances' signals: CreationPolicy.ResourceSignal with "
        "a Count (no more than MinSize) and a Timeout",
        f"{_CFN}/aws-attribute-creationpolicy.html",
    ),
    "asg-rolling-update": (
        "a new launch template version replaces the instances through UpdatePolicy "
        "AutoScalingRollingUpdate (WaitOnResourceSignals, PauseTime, MinInstancesInService below "
        "MaxSize) or AutoScalingReplacingUpdate",
        f"{_CFN}/aws-attribute-updatepolicy.html",
    ),
    "asg-launch-template-version": (
        "the group uses the launch template's LatestVersionNumber, so a new version is a change "
        "CloudFormation rolls out ($Latest or a fixed number is not)",
        f"{_CFN}/aws-resource-ec2-launchtemplate.html",
    ),
    "launch-template-user-data-versioned": (
        "a host's user data references the code version, so each release is a new launch template "
        "version and a rolling update",
        f"{_CFN}/aws-resource-ec2-launchtemplate.html",
    ),
    "user-data-signals-exit-status": (
        "the user data stops at the first failure (set -e) and calls cfn-signal for this stack and "
        "group with the script's exit status (a trap on EXIT), so a failed install fails the deploy",
        f"{_CFN}/cfn-signal.html",
    ),
    "name-scoped-by-env": (
        "every explicit physical name contains the environment (${Env}, or a parameter whose value for "
        "each environment names it), so dev and prod never share a resource",
        f"{_CFN}/aws-properties-name.html",
    ),
    "data-store-retained": (
        "buckets, databases, tables, secrets and audit log groups keep DeletionPolicy and "
        "UpdateReplacePolicy Retain (or Snapshot where the type has snapshots)",
        f"{_CFN}/aws-attribute-deletionpolicy.html",
    ),
    "optional-resource-granted-when-set": (
        "an IAM statement whose Resource comes from a parameter that may be empty (an optional secret's "
        "ARN) is granted only under a condition that the parameter is set (Fn::If on "
        "!Not [!Equals [!Ref P, '']]): IAM refuses an empty Resource, and a role keeps no grant it "
        "cannot use",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html",
    ),
    "named-secret-deletable": (
        "a deleted secret keeps its name for its 7-30 day recovery window, so a secret with an "
        "explicit Name is either retained or left unnamed (the ARN travels instead)",
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/manage_delete-secret.html",
    ),
}


def _finding(layer: str, resource: str, rule: str, message: str) -> Finding:
    """A finding in ``layer``'s template."""
    return Finding(rule, template_file(layer), resource, message)


# -- walking templates ---------------------------------------------------------------------------

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")  # ${!Literal} is an escaped dollar


def _sub_parts(sub: Any) -> tuple[str, Mapping[str, Any]]:
    if isinstance(sub, list):
        return sub[0], sub[1]
    return sub, {}


def references(value: Any) -> Iterator[tuple[str, str | None]]:
    """Every ``(logical id or parameter, attribute)`` a value refers to through Ref, GetAtt and Sub.

    Pseudo parameters (``AWS::...``) are left out; a Sub's own variables are followed into their
    values instead of being reported.
    """
    if isinstance(value, list):
        for item in value:
            yield from references(item)
        return
    if not isinstance(value, dict):
        return
    if "Ref" in value and len(value) == 1:
        if not str(value["Ref"]).startswith("AWS::"):
            yield value["Ref"], None
        return
    if "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        name, attribute = target.split(".", 1) if isinstance(target, str) else target
        yield name, attribute
        return
    if "Fn::Sub" in value:
        text, variables = _sub_parts(value["Fn::Sub"])
        for variable in _SUB_VARIABLE.findall(text):
            if variable in variables or variable.startswith("AWS::"):
                continue
            name, _, attribute = variable.partition(".")
            yield name, attribute or None
        for item in variables.values():
            yield from references(item)
        return
    for item in value.values():
        yield from references(item)


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item)


def _resources(templates: Templates, *kinds: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for layer, template in templates.items():
        for name, resource in template.get("Resources", {}).items():
            if not kinds or resource["Type"] in kinds:
                yield layer, name, resource


def _text(value: Any) -> str:
    """The script of a ``Fn::Base64``/``Fn::Sub`` user data (or a plain string); '' otherwise."""
    if isinstance(value, dict) and "Fn::Base64" in value:
        return _text(value["Fn::Base64"])
    if isinstance(value, dict) and "Fn::Sub" in value:
        return _sub_parts(value["Fn::Sub"])[0]
    return value if isinstance(value, str) else ""


# -- what changes with the code version ------------------------------------------------------------

#: Parameters whose value is the release (``datalake deploy package``'s code version).
CODE_VERSION_PARAMETERS = frozenset({"CodeVersion"})
#: Types CloudFormation replaces on any property change: each release is a new ARN.
REPLACED_ON_ANY_CHANGE = frozenset(
    {"AWS::Lambda::LayerVersion", "AWS::Lambda::Version", "AWS::ApiGateway::Deployment"}
)
#: Types updated in place, with the properties whose change replaces them (a new Ref/ARN). A type
#: missing here counts as replaced by any change: the rule errs towards a finding.
REPLACING_PROPERTIES: dict[str, frozenset[str]] = {
    "AWS::Lambda::Function": frozenset({"FunctionName", "PackageType"}),
    "AWS::Glue::Job": frozenset({"Name"}),
    "AWS::IAM::Role": frozenset({"RoleName", "Path"}),
    "AWS::IAM::InstanceProfile": frozenset({"InstanceProfileName", "Path"}),
    "AWS::EC2::LaunchTemplate": frozenset({"LaunchTemplateName"}),
    "AWS::AutoScaling::AutoScalingGroup": frozenset({"AutoScalingGroupName"}),
    "AWS::S3::Bucket": frozenset({"BucketName"}),
    "AWS::SSM::Parameter": frozenset({"Name"}),
    "AWS::EC2::Instance": frozenset({"ImageId", "SubnetId", "NetworkInterfaces", "AvailabilityZone"}),
}
#: Attributes that change whenever the resource is updated, though its identity stays.
ATTRIBUTES_CHANGED_BY_UPDATES = frozenset(
    {
        ("AWS::EC2::LaunchTemplate", "LatestVersionNumber"),
        ("AWS::EC2::LaunchTemplate", "DefaultVersionNumber"),
        ("AWS::SSM::Parameter", "Value"),
        ("AWS::Lambda::Version", "Version"),
    }
)


class CodeVersionTracer:
    """Decides whether a value in one template changes with the code version, and says through what.

    It follows Ref, GetAtt and Sub chains: a value depends on the code version when it refers to a
    :data:`CODE_VERSION_PARAMETERS` parameter, or to a resource that a new version replaces (or an
    attribute a new version changes).

    Parameters
    ----------
    template
        One layer's template, short forms in their long form.
    """

    def __init__(self, template: Template) -> None:
        self.parameters = template.get("Parameters", {})
        self.resources = template.get("Resources", {})
        self._seen: dict[tuple[str, str | None], list[str] | None] = {}

    def chain(self, value: Any) -> list[str] | None:
        """How ``value`` depends on the code version (outermost first), or None when it does not."""
        for name, attribute in references(value):
            found = self._reference(name, attribute)
            if found is not None:
                return found
        return None

    def _reference(self, name: str, attribute: str | None) -> list[str] | None:
        if name in self.parameters:
            return [f"parameter {name}"] if name in CODE_VERSION_PARAMETERS else None
        resource = self.resources.get(name)
        if resource is None:
            return None
        key = (name, attribute)
        if key in self._seen:
            return self._seen[key]
        self._seen[key] = None  # a reference cycle is not a dependency
        kind = resource["Type"]
        properties = resource.get("Properties", {})
        if kind in REPLACED_ON_ANY_CHANGE or (kind, attribute) in ATTRIBUTES_CHANGED_BY_UPDATES:
            watched = properties
        elif kind in REPLACING_PROPERTIES:
            watched = {k: v for k, v in properties.items() if k in REPLACING_PROPERTIES[kind]}
        else:
            watched = properties
        for prop, value in watched.items():
            inner = self.chain(value)
            if inner is not None:
                target = f"{name}.{attribute}" if attribute else name
                self._seen[key] = [f"{target} ({kind}, {prop})", *inner]
                return self._seen[key]
        return None


def _export_key(name: Any) -> str:
    """An export name as written (``${Project}-${Env}-X``), to match exports with imports."""
    if isinstance(name, dict) and "Fn::Sub" in name:
        return _sub_parts(name["Fn::Sub"])[0]
    return name if isinstance(name, str) else json.dumps(name, sort_keys=True)


def imported_exports(templates: Templates) -> dict[str, set[str]]:
    """Export name (as written) -> the layers that import it."""
    imports: dict[str, set[str]] = {}
    for layer, template in templates.items():
        for node in _nodes(template):
            if "Fn::ImportValue" in node:
                imports.setdefault(_export_key(node["Fn::ImportValue"]), set()).add(layer)
    return imports


def versioned_exports_imported(templates: Templates) -> list[Finding]:
    """Exports whose value changes with the code version while another layer imports them.

    CloudFormation refuses to update an export in use, so the first release after such an import
    fails. Each finding gives the chain from the output to the code version.
    """
    imports = imported_exports(templates)
    findings = []
    for layer, template in templates.items():
        tracer = CodeVersionTracer(template)
        for key, output in template.get("Outputs", {}).items():
            if "Export" not in output:
                continue
            importers = sorted(imports.get(_export_key(output["Export"]["Name"]), set()) - {layer})
            chain = tracer.chain(output["Value"])
            if importers and chain:
                findings.append(
                    _finding(
                        layer,
                        f"Outputs.{key}",
                        "versioned-export-imported",
                        f"imported by {', '.join(importers)}, but changes with every release: "
                        f"{' -> '.join(chain)}; pass it through a parameter or SSM, or build it in "
                        "the consumer",
                    )
                )
    return findings


# -- RDS engine versions --------------------------------------------------------------------------


def load_engine_versions(path: Path = ENGINE_VERSIONS_FILE) -> dict[str, Any]:
    """The documented RDS engine versions (majors, pinned minors), with their sources and date."""
    return json.loads(path.read_text(encoding="utf-8"))


def _parameter_values(template: Template, layer: str, name: str, params: Params) -> dict[str, str]:
    """The value a parameter takes in each environment: its params file's, else its Default."""
    declared = template.get("Parameters", {}).get(name, {})
    values = {}
    for env, document in params.items():
        if name == "Env":
            values[env] = env
        elif name == "Project":
            values[env] = document["project"]
        else:
            given = document["layers"].get(layer, {}).get(name, declared.get("Default"))
            if given is not None:
                values[env] = str(given)
    return values


def _candidate_values(template: Template, layer: str, value: Any, params: Params) -> dict[str, str]:
    """Where a property is a literal or a Ref to a parameter: every value it may take, and whence.

    A parameter's AllowedValues are all candidates (anything else fails at deploy); without them,
    the Default and the params files' values are.
    """
    if not isinstance(value, dict):
        return {"template": str(value)}
    name = value.get("Ref")
    declared = template.get("Parameters", {}).get(name) if name else None
    if declared is None:
        return {}
    if "AllowedValues" in declared:
        return {f"{name} AllowedValues": str(v) for v in declared["AllowedValues"]}
    found = {f"{name} for {env}": v for env, v in _parameter_values(template, layer, name, params).items()}
    found[f"{name} (no AllowedValues: any value passes)"] = "*"
    return found


def rds_engine_versions(
    templates: Templates, params: Params, versions: Mapping[str, Any] | None = None
) -> list[Finding]:
    """Every RDS instance's engine version is a supported major or a documented pinned minor, and its
    parameter group's family matches that major."""
    versions = versions or load_engine_versions()
    findings = []
    for layer, name, resource in _resources(templates, "AWS::RDS::DBInstance"):
        template = templates[layer]
        props = resource.get("Properties", {})
        engine = props.get("Engine")
        known = versions["engines"].get(engine)
        if known is None or "EngineVersion" not in props:
            continue
        candidates = _candidate_values(template, layer, props["EngineVersion"], params)
        if not candidates:
            findings.append(_finding(layer, name, "rds-engine-version", "neither a literal nor a parameter"))
        majors = set()
        for source, version in candidates.items():
            major = version.split(".", 1)[0]
            if version == "*":
                problem = "a parameter without AllowedValues lets any version through"
            elif version in known["majors"] or version in known["pinned_minors"]:
                majors.add(major)
                continue
            elif "." in version:
                problem = f"{version} pins a minor that {ENGINE_VERSIONS_FILE.name} does not list"
            else:
                problem = f"{version} is not a supported major ({', '.join(known['majors'])})"
            findings.append(_finding(layer, name, "rds-engine-version", f"{source}: {problem}"))
        group = props.get("DBParameterGroupName")
        group_name = group.get("Ref") if isinstance(group, dict) else None
        group_resource = template.get("Resources", {}).get(group_name) if group_name else None
        if group_resource is None:
            continue
        family = group_resource.get("Properties", {}).get("Family")
        for major in sorted(majors):
            expected = f"{known['parameter_group_family_prefix']}{major}"
            rendered = _render(family, template, layer, params, next(iter(params)), {"EngineVersion": major})
            if rendered != expected:
                findings.append(
                    _finding(
                        layer,
                        group_name,
                        "rds-parameter-group-family",
                        f"Family {rendered} does not match engine major {major} of {name} (want {expected})",
                    )
                )
    return findings


# -- EC2 hosts that install the release ------------------------------------------------------------

_ERREXIT = re.compile(r"^\s*set\s+(-[a-z]*e[a-z]*\b|-o\s+errexit)", re.MULTILINE)
_EXIT_TRAP = re.compile(r"""^\s*trap\s+(['"])(?P<body>.*?\$\?.*?)\1\s+(.*\s)?EXIT\b""", re.MULTILINE)
_SIGNAL = re.compile(r"cfn-signal\b(?P<args>[^\n]*)")


def _signal_problems(script: str, group: str) -> list[str]:
    problems = []
    script = script.replace("\\\n", " ")  # one line per command
    if not _ERREXIT.search(script):
        problems.append("no `set -e`: a failed step would not stop the script")
    signals = [" ".join(m.group("args").split()) for m in _SIGNAL.finditer(script)]
    signals = [s for s in signals if "--stack" in s]
    if not signals:
        problems.append("no cfn-signal call with --stack")
    for args in signals:
        if "${AWS::StackName}" not in args:
            problems.append(f"cfn-signal does not name this stack: {args}")
        if not re.search(rf"--resource\s+{re.escape(group)}\b", args):
            problems.append(f"cfn-signal does not name the group {group}: {args}")
        if not re.search(r"(--exit-code|-e)\s+\S", args):
            problems.append(f"cfn-signal sends no exit code: {args}")
    if not _EXIT_TRAP.search(script):
        problems.append("no `trap '... $? ...' EXIT`: a failure would exit without a signal")
    return problems


def api_hosts_roll_out_each_release(templates: Templates) -> list[Finding]:
    """EC2 hosts install each release and report it: no instance installs code from user data; every
    Auto Scaling group with user data waits for signals, rolls on a new launch template version, and
    its user data references the code version and signals its exit status."""
    findings = []
    for layer, name, resource in _resources(templates, "AWS::EC2::Instance"):
        chain = CodeVersionTracer(templates[layer]).chain(resource.get("Properties", {}).get("UserData"))
        if chain:
            findings.append(
                _finding(
                    layer,
                    name,
                    "instance-user-data-installs-code",
                    f"its user data installs the release ({' -> '.join(chain)}) but runs only at first "
                    "boot; use a launch template and an Auto Scaling group",
                )
            )
    for layer, name, resource in _resources(templates, "AWS::AutoScaling::AutoScalingGroup"):
        spec = resource.get("Properties", {}).get("LaunchTemplate") or {}
        reference = spec.get("LaunchTemplateId") or spec.get("LaunchTemplateName")
        launch_template = (
            templates[layer]["Resources"].get(reference.get("Ref")) if isinstance(reference, dict) else None
        )
        if launch_template is None or "UserData" not in launch_template["Properties"].get(
            "LaunchTemplateData", {}
        ):
            continue
        for where, rule, message in _group_problems(templates[layer], name, resource, reference["Ref"]):
            findings.append(_finding(layer, where, rule, message))
    return findings


def _group_problems(
    template: Template, name: str, group: Mapping[str, Any], launch_template: str
) -> Iterator[tuple[str, str, str]]:
    """(resource, rule, message) of each way an Auto Scaling group could keep old code or fail silently."""
    props = group.get("Properties", {})
    user_data = template["Resources"][launch_template]["Properties"]["LaunchTemplateData"]["UserData"]
    if not CodeVersionTracer(template).chain(user_data):
        yield (
            launch_template,
            "launch-template-user-data-versioned",
            "its user data never mentions CodeVersion",
        )
    version = props["LaunchTemplate"].get("Version")
    if version != {"Fn::GetAtt": [launch_template, "LatestVersionNumber"]}:
        yield name, "asg-launch-template-version", f"Version is {version!r}, not LatestVersionNumber"
    signal = group.get("CreationPolicy", {}).get("ResourceSignal", {})
    count, minimum = str(signal.get("Count", "")), str(props.get("MinSize", ""))
    if not count.isdigit() or int(count) < 1:
        yield name, "asg-creation-signal", "no CreationPolicy.ResourceSignal.Count"
    elif minimum.isdigit() and int(count) > int(minimum):
        yield name, "asg-creation-signal", f"waits for {count} signals but MinSize is {minimum}"
    if not re.fullmatch(r"PT(?=\d)(\d+H)?(\d+M)?(\d+S)?", str(signal.get("Timeout", ""))):
        yield name, "asg-creation-signal", "no ISO 8601 CreationPolicy.ResourceSignal.Timeout (PT30M)"
    update = group.get("UpdatePolicy", {})
    rolling = update.get("AutoScalingRollingUpdate")
    if rolling is None:
        if update.get("AutoScalingReplacingUpdate", {}).get("WillReplace") not in (True, "true"):
            yield name, "asg-rolling-update", "no AutoScalingRollingUpdate or AutoScalingReplacingUpdate"
    else:
        if rolling.get("WaitOnResourceSignals") not in (True, "true"):
            yield name, "asg-rolling-update", "the rolling update does not wait for signals"
        if "PauseTime" not in rolling:
            yield (
                name,
                "asg-rolling-update",
                "the rolling update has no PauseTime (how long a signal may take)",
            )
        in_service, maximum = str(rolling.get("MinInstancesInService", "0")), str(props.get("MaxSize", ""))
        if in_service.isdigit() and maximum.isdigit() and int(in_service) >= int(maximum):
            yield (
                name,
                "asg-rolling-update",
                f"MinInstancesInService {in_service} leaves no room under MaxSize",
            )
    for problem in _signal_problems(_text(user_data), name):
        yield launch_template, "user-data-signals-exit-status", problem


# -- names and retention --------------------------------------------------------------------------

#: Properties that name the resource itself where the type's own ``Name``/``<Type>Name`` does not.
NAME_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::RDS::DBInstance": ("DBInstanceIdentifier",),
    "AWS::RDS::DBCluster": ("DBClusterIdentifier",),
    "AWS::Lambda::LayerVersion": ("LayerName",),
    "AWS::Glue::Database": ("DatabaseInput.Name",),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName",),
    "AWS::EC2::SecurityGroup": ("GroupName",),
}
#: Names that live inside an already scoped parent (a workgroup, an API), not account-wide.
NESTED_NAMES = frozenset({("AWS::Athena::NamedQuery", "Name"), ("AWS::ApiGatewayV2::Stage", "StageName")})


def name_properties(kind: str) -> tuple[str, ...]:
    """The property paths that give a resource of ``kind`` its physical name."""
    own = ("Name", f"{kind.rsplit('::', 1)[-1]}Name", *NAME_PROPERTIES.get(kind, ()))
    return tuple(p for p in dict.fromkeys(own) if (kind, p) not in NESTED_NAMES)


def _lookup(props: Mapping[str, Any], path: str) -> Any:
    value: Any = props
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _render(
    value: Any,
    template: Template,
    layer: str,
    params: Params,
    env: str,
    overrides: Mapping[str, str] | None = None,
) -> str:
    """A value as deployed in ``env``: parameters from the params file (or their Default), the rest
    (resources, pseudo parameters, other functions) as ``<placeholders>``."""
    overrides = overrides or {}
    if isinstance(value, str | int | float):
        return str(value)
    if not isinstance(value, dict):
        return "<?>"
    if "Ref" in value:
        name = value["Ref"]
        if name in overrides:
            return overrides[name]
        if name in template.get("Parameters", {}):
            return _parameter_values(template, layer, name, {env: params[env]}).get(env, f"<{name}>")
        return f"<{name}>"
    if "Fn::Sub" in value:
        text, variables = _sub_parts(value["Fn::Sub"])

        def replace(match: re.Match[str]) -> str:
            variable = match.group(1)
            if variable in variables:
                return _render(variables[variable], template, layer, params, env, overrides)
            if "." in variable:
                return f"<{variable}>"
            return _render({"Ref": variable}, template, layer, params, env, overrides)

        return _SUB_VARIABLE.sub(replace, text)
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        if isinstance(parts, list):
            return separator.join(_render(p, template, layer, params, env, overrides) for p in parts)
    return f"<{next(iter(value), '?')}>"


def _names_env(name: str, env: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(env)}(?![A-Za-z0-9])", name, re.IGNORECASE) is not None


def names_scoped_by_env(templates: Templates, params: Params) -> list[Finding]:
    """Every explicit physical name, as deployed in each environment, names that environment."""
    findings = []
    for layer, name, resource in _resources(templates):
        props = resource.get("Properties", {})
        for path in name_properties(resource["Type"]):
            value = _lookup(props, path)
            if value is None:
                continue
            rendered = {env: _render(value, templates[layer], layer, params, env) for env in params}
            unscoped = {env: text for env, text in rendered.items() if not _names_env(text, env)}
            if unscoped:
                shown = ", ".join(f"{env}: {text}" for env, text in sorted(unscoped.items()))
                findings.append(
                    _finding(
                        layer, name, "name-scoped-by-env", f"{path} does not name its environment ({shown})"
                    )
                )
    return findings


#: Types that hold data a stack deletion or replacement would lose, and the policies that keep it.
DATA_STORE_POLICIES: dict[str, frozenset[str]] = {
    "AWS::S3::Bucket": frozenset({"Retain"}),
    "AWS::RDS::DBInstance": frozenset({"Retain", "Snapshot"}),
    "AWS::RDS::DBCluster": frozenset({"Retain", "Snapshot"}),
    "AWS::DynamoDB::Table": frozenset({"Retain", "Snapshot"}),
    "AWS::EFS::FileSystem": frozenset({"Retain"}),
    "AWS::SecretsManager::Secret": frozenset({"Retain"}),
}
#: Where services write audit records into a log group (a WAF's requests, rejected flows, API access).
AUDIT_LOG_DESTINATIONS: dict[str, tuple[str, ...]] = {
    "AWS::WAFv2::LoggingConfiguration": ("LogDestinationConfigs",),
    "AWS::EC2::FlowLog": ("LogGroupName", "LogDestination"),
    "AWS::ApiGatewayV2::Stage": ("AccessLogSettings.DestinationArn",),
    "AWS::ApiGateway::Stage": ("AccessLogSetting.DestinationArn",),
    "AWS::CloudTrail::Trail": ("CloudWatchLogsLogGroupArn",),
}


def audit_log_groups(template: Template) -> set[str]:
    """The log groups of a template that a WAF, a flow log, an API stage or a trail writes to."""
    resources = template.get("Resources", {})
    found = set()
    for resource in resources.values():
        for path in AUDIT_LOG_DESTINATIONS.get(resource["Type"], ()):
            for name, _ in references(_lookup(resource.get("Properties", {}), path)):
                if resources.get(name, {}).get("Type") == "AWS::Logs::LogGroup":
                    found.add(name)
    return found


def data_stores_retained(templates: Templates) -> list[Finding]:
    """Buckets, databases, tables, secrets and audit log groups survive a stack deletion or replacement."""
    findings = []
    for layer, template in templates.items():
        audit = audit_log_groups(template)
        for name, resource in template.get("Resources", {}).items():
            allowed = DATA_STORE_POLICIES.get(resource["Type"])
            if allowed is None and name in audit:
                allowed = frozenset({"Retain"})
            if allowed is None:
                continue
            for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
                given = resource.get(policy, "Delete")
                if given not in allowed:
                    findings.append(
                        _finding(
                            layer,
                            name,
                            "data-store-retained",
                            f"{policy} is {given}; {'an audit log' if name in audit else resource['Type']} "
                            f"needs {' or '.join(sorted(allowed))}",
                        )
                    )
    return findings


def named_secrets_retained(templates: Templates) -> list[Finding]:
    """No secret is both explicitly named and deletable (its name would block a redeploy for 7-30 days)."""
    return [
        _finding(
            layer,
            name,
            "named-secret-deletable",
            "has an explicit Name and may be deleted: drop the Name (pass the ARN) or retain it",
        )
        for layer, name, resource in _resources(templates, "AWS::SecretsManager::Secret")
        if "Name" in resource.get("Properties", {})
        and {resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")} != {"Retain"}
    ]


# -- grants on optional parameters -----------------------------------------------------------------


def _parameters_set_by(template: Template, expression: Any) -> set[str]:
    """The parameters a condition expression requires to be non-empty (``!Not [!Equals [!Ref P, ""]]``,
    through ``Condition`` and ``Fn::And``)."""
    if not isinstance(expression, dict) or len(expression) != 1:
        return set()
    [(key, argument)] = expression.items()
    if key == "Condition":
        return _parameters_set_by(template, template.get("Conditions", {}).get(argument))
    if key == "Fn::And":
        return set().union(*(_parameters_set_by(template, inner) for inner in argument))
    if key == "Fn::Not":
        [inner] = argument
        if isinstance(inner, dict) and list(inner) == ["Fn::Equals"]:
            operands = inner["Fn::Equals"]
            refs = [o["Ref"] for o in operands if isinstance(o, dict) and list(o) == ["Ref"]]
            if len(refs) == 1 and "" in operands:
                return {str(refs[0])}
    return set()


def _statements_with_guards(
    value: Any, guards: frozenset[str]
) -> Iterator[tuple[dict[str, Any], frozenset[str]]]:
    """Each statement under ``value`` with the conditions whose true branch holds it."""
    if isinstance(value, list):
        for item in value:
            yield from _statements_with_guards(item, guards)
    elif isinstance(value, dict) and list(value) == ["Fn::If"]:
        name, if_true, if_false = value["Fn::If"]
        yield from _statements_with_guards(if_true, guards | {name})
        yield from _statements_with_guards(if_false, guards)
    elif isinstance(value, dict) and "Effect" in value:
        yield value, guards


def _guarded_references(value: Any, guards: frozenset[str]) -> Iterator[tuple[str, frozenset[str]]]:
    """Each parameter or resource a Resource value refers to, with the conditions that guard it."""
    if isinstance(value, list):
        for item in value:
            yield from _guarded_references(item, guards)
    elif isinstance(value, dict) and list(value) == ["Fn::If"]:
        name, if_true, if_false = value["Fn::If"]
        yield from _guarded_references(if_true, guards | {name})
        yield from _guarded_references(if_false, guards)
    else:
        for name, _ in references(value):
            yield name, guards


def _may_be_empty(template: Template, layer: str, name: str, params: Params) -> bool:
    declared = template.get("Parameters", {}).get(name)
    if declared is None:
        return False
    if str(declared.get("Default", "x")) == "":
        return True
    return any(str(p["layers"].get(layer, {}).get(name, "x")) == "" for p in params.values())


def optional_resources_granted_when_set(templates: Templates, params: Params) -> list[Finding]:
    """Every IAM statement naming a parameter that may be empty sits under a condition that it is set."""
    findings = []
    for layer, name, resource in _resources(
        templates, "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"
    ):
        template = templates[layer]
        props = resource.get("Properties", {})
        documents = [policy.get("PolicyDocument", {}) for policy in props.get("Policies", [])]
        if "PolicyDocument" in props:
            documents.append(props["PolicyDocument"])
        # A policy resource's own Condition guards every statement in it.
        outer = frozenset({resource["Condition"]} if "Condition" in resource else ())
        for document in documents:
            for statement, guards in _statements_with_guards(document.get("Statement", []), outer):
                for parameter, inner in _guarded_references(statement.get("Resource"), guards):
                    if not _may_be_empty(template, layer, parameter, params):
                        continue
                    conditions = template.get("Conditions", {})
                    if any(parameter in _parameters_set_by(template, conditions.get(c)) for c in inner):
                        continue
                    findings.append(
                        _finding(
                            layer,
                            name,
                            "optional-resource-granted-when-set",
                            f"statement {statement.get('Sid', '?')} grants on {parameter}, which may be "
                            f"empty, outside a condition that {parameter} is set",
                        )
                    )
    return findings


# -- all of them ----------------------------------------------------------------------------------

TemplateRule = Callable[[Templates], list[Finding]]
ParamsRule = Callable[[Templates, Params], list[Finding]]
TEMPLATE_RULES: tuple[TemplateRule, ...] = (
    versioned_exports_imported,
    api_hosts_roll_out_each_release,
    data_stores_retained,
    named_secrets_retained,
)
PARAMS_RULES: tuple[ParamsRule, ...] = (
    rds_engine_versions,
    names_scoped_by_env,
    optional_resources_granted_when_set,
)
ENVIRONMENTS = ("dev", "prod")


def load_layers() -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Every layer's template and every environment's parameters."""
    return {layer: load_template(layer) for layer in LAYERS}, {env: load_params(env) for env in ENVIRONMENTS}


def check_templates(templates: Templates | None = None, params: Params | None = None) -> list[Finding]:
    """Every rule over the templates (all layers by default) and the params files (dev and prod)."""
    if templates is None or params is None:
        loaded_templates, loaded_params = load_layers()
        templates = loaded_templates if templates is None else templates
        params = loaded_params if params is None else params
    findings = [f for rule in TEMPLATE_RULES for f in rule(templates)]
    findings += [f for rule in PARAMS_RULES for f in rule(templates, params)]
    return findings
