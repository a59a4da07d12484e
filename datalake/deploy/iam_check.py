"""Least privilege, checked: a role's policy from the templates against the requests its code makes.

Three parts:

- :class:`TemplateRenderer` renders a template's intrinsic functions (``Ref``, ``Fn::Sub``,
  ``Fn::GetAtt``, ``Fn::ImportValue``, ``Fn::Join``, ``Fn::Select``, ``Fn::Split``, and ``Fn::If``
  on the template's ``Conditions``) with :class:`Bindings` (parameters, exports, physical names)
  instead of a deployed stack;
  :func:`role_policy` gives a role's inline policies as a :class:`~datalake.deploy.iam_policy.Policy`.
- :func:`lambda_platform_requests` derives what the Lambda service does with a function's role
  (write its logs, dead-letter failed events, attach its VPC network interfaces, poll its queues),
  so those grants are checked like the code's own calls.
- :func:`check_role` evaluates every request (the code's recorded calls, through
  :func:`~datalake.deploy.iam_calls.requests_for`, plus the platform's) and reports both
  directions: requests the policy denies, and grants that no request used.

moto's IAM mode cannot do this: it matches resources only for S3, SQS, IAM and STS (every other
service is checked against ``*``) and it ignores ``Condition`` blocks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from datalake.deploy.iam_calls import AthenaCatalog, AwsCall, requests_for
from datalake.deploy.iam_policy import (
    Policy,
    Request,
    Statement,
    UnsupportedPolicyError,
    action_matches,
    resource_matches,
)
from datalake.deploy.templates import LAYERS, load_params, load_template
from datalake.errors import ConfigurationError

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_NO_VALUE = object()  # what Ref AWS::NoValue renders to: the enclosing item is dropped

#: What Lambda's service does with a VPC function's role: attach and release its network
#: interfaces (AWSLambdaVPCAccessExecutionRole; none of these has resource-level permissions).
LAMBDA_VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
#: What Lambda's service does with the role of a function an SQS event source mapping feeds.
LAMBDA_SQS_POLLER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
#: What Lambda's service does with the role of a function a Kinesis event source mapping feeds
#: (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-permissions.html; shared-throughput
#: consumers, so no SubscribeToShard).
LAMBDA_KINESIS_POLLER_ACTIONS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
#: A stand-in log stream: Lambda names streams ``<date>/[<version>]<id>``.
_LOG_STREAM = "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef"


@dataclass(frozen=True)
class Bindings:
    """The values a deployed stack would give a template's references.

    Attributes
    ----------
    parameters
        Template parameters by name (an ``AWS::SSM::Parameter::Value<...>`` parameter takes the
        value stored in the SSM parameter); a parameter not given takes its ``Default``.
    exports
        Values of the other stacks' exports, by export name (``datalake-dev-LakeBucketName``).
    resources
        ``Ref`` values of resources whose physical id cannot be derived from the template (a
        secret's ARN, which carries a random suffix).
    attributes
        ``Fn::GetAtt`` values as ``"Logical.Attribute"``, for those that cannot be derived.
    account, region, partition
        The pseudo parameters.
    """

    parameters: Mapping[str, str] = field(default_factory=dict)
    exports: Mapping[str, str] = field(default_factory=dict)
    resources: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)
    account: str = "123456789012"
    region: str = "eu-west-1"
    partition: str = "aws"


class TemplateRenderer:
    """Renders one template's intrinsic functions with :class:`Bindings`.

    Parameters
    ----------
    template
        The template as data (:func:`datalake.deploy.templates.load_template`).
    bindings
        Parameter, export and physical-name values.
    name
        Names the template in errors (its layer).
    """

    def __init__(self, template: Mapping[str, Any], bindings: Bindings, name: str = "template") -> None:
        self.template = template
        self.bindings = bindings
        self.name = name
        self.resources: Mapping[str, Any] = template.get("Resources", {})

    def render(self, value: Any, where: str = "") -> Any:
        """``value`` with every intrinsic function replaced by what it evaluates to.

        Raises
        ------
        ConfigurationError
            For a reference with no value (an unbound export, parameter or physical id) or an
            intrinsic function this renderer does not evaluate (``Fn::GetAZs``, ``Fn::Cidr``...).
        """
        if isinstance(value, list):
            items = [self.render(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return [v for v in items if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(key, argument)] = value.items()
            if key == "Ref":
                return self._ref(str(argument), where)
            if key.startswith("Fn::"):
                return self._function(key, argument, where)
        rendered = {k: self.render(v, f"{where}.{k}") for k, v in value.items()}
        return {k: v for k, v in rendered.items() if v is not _NO_VALUE}

    def _fail(self, where: str, message: str) -> ConfigurationError:
        return ConfigurationError(f"{self.name}{where}: {message}")

    def _function(self, key: str, argument: Any, where: str) -> Any:
        if key == "Fn::Sub":
            return self._sub(argument, where)
        if key == "Fn::GetAtt":
            parts = argument.split(".", 1) if isinstance(argument, str) else list(argument)
            return self._attribute(str(parts[0]), str(self.render(parts[1], where)), where)
        if key == "Fn::ImportValue":
            export = str(self.render(argument, where))
            if export not in self.bindings.exports:
                raise self._fail(where, f"no value bound for export {export!r} (Bindings.exports)")
            return self.bindings.exports[export]
        if key == "Fn::Join":
            delimiter, items = argument
            return str(delimiter).join(str(v) for v in self.render(items, where))
        if key == "Fn::Select":
            index, items = argument
            return self.render(items, where)[int(self.render(index, where))]
        if key == "Fn::Split":
            delimiter, text = argument
            return str(self.render(text, where)).split(str(delimiter))
        if key == "Fn::If":
            # A grant behind a condition (an optional secret) exists only where the condition holds.
            name, if_true, if_false = argument
            return self.render(if_true if self.condition(str(name), where) else if_false, where)
        raise self._fail(where, f"{key} is not evaluated by the IAM check")

    def condition(self, name: str, where: str = "") -> bool:
        """Whether the template's condition ``name`` holds with these bindings.

        Raises
        ------
        ConfigurationError
            When the template declares no such condition, or it uses a function other than
            ``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or`` and ``Condition``.
        """
        conditions = self.template.get("Conditions", {})
        if name not in conditions:
            raise self._fail(where, f"condition {name} is not declared")
        return self._holds(conditions[name], f"{where}(condition {name})")

    def _holds(self, expression: Any, where: str) -> bool:
        if isinstance(expression, dict) and len(expression) == 1:
            [(key, argument)] = expression.items()
            if key == "Condition":
                return self.condition(str(argument), where)
            if key == "Fn::Equals":
                left, right = (self.render(value, where) for value in argument)
                return str(left) == str(right)  # CloudFormation compares the values as strings
            if key == "Fn::Not":
                [inner] = argument
                return not self._holds(inner, where)
            if key == "Fn::And":
                return all(self._holds(inner, where) for inner in argument)
            if key == "Fn::Or":
                return any(self._holds(inner, where) for inner in argument)
        raise self._fail(where, f"{expression!r} is not a condition the IAM check evaluates")

    def _sub(self, argument: Any, where: str) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {name: self.render(v, f"{where}.{name}") for name, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is written as ${Literal}
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if "." in name and not name.startswith("AWS::"):
                resource, attribute = name.split(".", 1)
                return str(self._attribute(resource, attribute, where))
            return str(self._ref(name, where))

        return _SUB_VARIABLE.sub(replace, text)

    def _ref(self, name: str, where: str) -> Any:
        bindings = self.bindings
        pseudo = {
            "AWS::AccountId": bindings.account,
            "AWS::Region": bindings.region,
            "AWS::Partition": bindings.partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if bindings.partition == "aws-cn" else "amazonaws.com",
        }
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in bindings.parameters:
            return bindings.parameters[name]
        parameter = self.template.get("Parameters", {}).get(name)
        if parameter is not None:
            if "Default" not in parameter:
                raise self._fail(where, f"parameter {name} has no default and no value (Bindings.parameters)")
            return str(parameter["Default"])
        if name in bindings.resources:
            return bindings.resources[name]
        if name in self.resources:
            return self._derived(name, "Ref", where)
        raise self._fail(where, f"Ref {name} names no parameter or resource")

    def _attribute(self, resource: str, attribute: str, where: str) -> Any:
        key = f"{resource}.{attribute}"
        if key in self.bindings.attributes:
            return self.bindings.attributes[key]
        if resource not in self.resources:
            raise self._fail(where, f"GetAtt {key} names no resource")
        return self._derived(resource, attribute, where)

    def _derived(self, logical_id: str, attribute: str, where: str) -> str:
        """A physical name or ARN that follows from a resource's own properties."""
        resource = self.resources[logical_id]
        kind = resource["Type"]
        name_property, ref, arn = _DERIVED.get(kind, ("", "", ""))
        value: Any = resource.get("Properties", {})
        for part in name_property.split(".") if name_property else [None]:
            value = value.get(part) if isinstance(value, dict) and part else None
        if value is None:
            raise self._fail(
                where,
                f"{attribute} of {logical_id} ({kind}) cannot be derived from the template; bind it "
                f"(Bindings.{'resources' if attribute == 'Ref' else 'attributes'})",
            )
        name = str(self.render(value, f".{logical_id}.{name_property}"))
        b = self.bindings
        fields = {"name": name, "p": b.partition, "r": b.region, "a": b.account}
        if attribute == "Ref" and ref:
            return ref.format(**fields)
        if attribute in ("Arn", "TopicArn", "TrackingServerArn") and arn:
            return arn.format(**fields)
        if attribute in ("QueueName", "TopicName"):
            return name
        raise self._fail(where, f"GetAtt {logical_id}.{attribute} ({kind}) is not derived; bind it")


#: Resource type -> (property holding its name, Ref format, Arn format).
_DERIVED: dict[str, tuple[str, str, str]] = {
    "AWS::Logs::LogGroup": ("LogGroupName", "{name}", "arn:{p}:logs:{r}:{a}:log-group:{name}:*"),
    "AWS::SQS::Queue": (
        "QueueName",
        "https://sqs.{r}.amazonaws.com/{a}/{name}",
        "arn:{p}:sqs:{r}:{a}:{name}",
    ),
    "AWS::SNS::Topic": ("TopicName", "arn:{p}:sns:{r}:{a}:{name}", "arn:{p}:sns:{r}:{a}:{name}"),
    "AWS::Lambda::Function": ("FunctionName", "{name}", "arn:{p}:lambda:{r}:{a}:function:{name}"),
    "AWS::IAM::Role": ("RoleName", "{name}", "arn:{p}:iam::{a}:role/{name}"),
    "AWS::S3::Bucket": ("BucketName", "{name}", "arn:{p}:s3:::{name}"),
    "AWS::Glue::Job": ("Name", "{name}", ""),
    "AWS::Glue::Database": ("DatabaseInput.Name", "{name}", ""),
    "AWS::Events::Rule": ("Name", "{name}", "arn:{p}:events:{r}:{a}:rule/{name}"),
    "AWS::Kinesis::Stream": ("Name", "{name}", "arn:{p}:kinesis:{r}:{a}:stream/{name}"),
    "AWS::DynamoDB::Table": ("TableName", "{name}", "arn:{p}:dynamodb:{r}:{a}:table/{name}"),
    "AWS::SageMaker::MlflowTrackingServer": (
        "TrackingServerName",
        "{name}",
        "arn:{p}:sagemaker:{r}:{a}:mlflow-tracking-server/{name}",
    ),
    "AWS::StepFunctions::StateMachine": (
        "StateMachineName",
        "arn:{p}:states:{r}:{a}:stateMachine:{name}",
        "arn:{p}:states:{r}:{a}:stateMachine:{name}",
    ),
}


def derived_exports(env: str, account: str, region: str, partition: str = "aws") -> dict[str, str]:
    """The exports of every layer that follow from the templates and ``params/<env>.json`` alone.

    Bucket, database and job names do; ids and ARNs that AWS assigns (subnets, secrets) do not and
    are left out, for the caller to bind.

    Parameters
    ----------
    env
        ``dev`` or ``prod``: whose parameter file to read.
    account, region, partition
        The pseudo parameters.

    Returns
    -------
    dict
        ``{export name: value}``.
    """
    return dict(_derived_exports(env, account, region, partition))


@lru_cache(maxsize=len(LAYERS))
def parsed_template(layer: str) -> Mapping[str, Any]:
    """A layer's template file, parsed once per process; read-only (parsing YAML is a check's cost)."""
    return load_template(layer)


@lru_cache(maxsize=8)
def parsed_params(env: str) -> Mapping[str, Any]:
    """``params/<env>.json``, validated against the templates once per process; read-only."""
    return load_params(env)


@lru_cache(maxsize=32)
def _derived_exports(env: str, account: str, region: str, partition: str) -> tuple[tuple[str, str], ...]:
    """:func:`derived_exports`, once per process (rendering every layer is most of a check's time)."""
    params = parsed_params(env)
    exports: dict[str, str] = {}
    for layer in LAYERS:
        template = parsed_template(layer)
        parameters = {"Project": params["project"], "Env": env, **params["layers"].get(layer, {})}
        renderer = TemplateRenderer(
            template, Bindings(parameters, {}, {}, {}, account, region, partition), layer
        )
        for output in template.get("Outputs", {}).values():
            if "Export" not in output:
                continue
            try:
                name = renderer.render(output["Export"]["Name"])
                value = renderer.render(output["Value"])
            except ConfigurationError:
                continue  # assigned by AWS at deploy time (or behind a condition): bind it
            exports[str(name)] = str(value)
    return tuple(exports.items())


def deployment_bindings(
    env: str,
    layer: str,
    *,
    account: str,
    region: str,
    partition: str = "aws",
    code_version: str = "check",
    parameters: Mapping[str, str] | None = None,
    exports: Mapping[str, str] | None = None,
    resources: Mapping[str, str] | None = None,
    attributes: Mapping[str, str] | None = None,
) -> Bindings:
    """Bindings for one layer as ``datalake deploy`` would deploy it to ``env``.

    Parameters come from ``params/<env>.json`` (plus ``Project``, ``Env``, ``CodeVersion``), exports
    from :func:`derived_exports`; the keyword arguments add or override values (what AWS assigns:
    secret ARNs, subnet ids, the value an SSM-typed parameter resolves to).

    Returns
    -------
    Bindings
    """
    params = parsed_params(env)
    layer_parameters = {
        "Project": params["project"],
        "Env": env,
        "CodeVersion": code_version,
        **params["layers"].get(layer, {}),
        **(parameters or {}),
    }
    return Bindings(
        parameters=layer_parameters,
        exports={**derived_exports(env, account, region, partition), **(exports or {})},
        resources=dict(resources or {}),
        attributes=dict(attributes or {}),
        account=account,
        region=region,
        partition=partition,
    )


def role_policy(renderer: TemplateRenderer, role: str) -> Policy:
    """Every policy a template attaches to one role, rendered, as one :class:`Policy`.

    Parameters
    ----------
    renderer
        The role's template with its bindings.
    role
        The role's logical id.

    Returns
    -------
    Policy
        The inline ``Policies`` and every ``AWS::IAM::Policy`` whose ``Roles`` list the role.

    Raises
    ------
    UnsupportedPolicyError
        For managed policies or a permissions boundary: their documents are not in the template.
    """
    resource = renderer.resources.get(role)
    if resource is None or resource["Type"] != "AWS::IAM::Role":
        raise ConfigurationError(f"{renderer.name}: {role} is not an AWS::IAM::Role")
    props = resource.get("Properties", {})
    name = f"{renderer.name}.{role}"
    for unsupported in ("ManagedPolicyArns", "PermissionsBoundary"):
        if props.get(unsupported):
            raise UnsupportedPolicyError(f"{name}: {unsupported} cannot be checked from the template")
    documents = [
        renderer.render(policy["PolicyDocument"], f".{role}.Policies.{policy.get('PolicyName')}")
        for policy in props.get("Policies", [])
    ]
    for logical_id, other in renderer.resources.items():
        if "Condition" in other and not renderer.condition(other["Condition"], f".{logical_id}"):
            continue  # not created with these parameters
        if other["Type"] == "AWS::IAM::Policy" and {"Ref": role} in other["Properties"].get("Roles", []):
            documents.append(renderer.render(other["Properties"]["PolicyDocument"], f".{logical_id}"))
    return Policy.parse(name, documents)


def lambda_functions(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's Lambda functions by logical id (their raw properties)."""
    return {
        name: resource.get("Properties", {})
        for name, resource in template.get("Resources", {}).items()
        if resource["Type"] == "AWS::Lambda::Function"
    }


def resource_role(template: Mapping[str, Any], resource: str) -> str:
    """The logical id of the role a function or job runs as (its ``Role: !GetAtt <Role>.Arn``).

    Raises
    ------
    ConfigurationError
        When ``Role`` is not a ``GetAtt`` of a role in the same template (an ARN from elsewhere
        cannot be checked here).
    """
    role = template["Resources"][resource].get("Properties", {}).get("Role")
    if not (isinstance(role, dict) and "Fn::GetAtt" in role):
        raise ConfigurationError(f"{resource}: Role is not a GetAtt of a role in the template")
    target = role["Fn::GetAtt"]
    return str((target.split(".", 1) if isinstance(target, str) else target)[0])


def function_role(template: Mapping[str, Any], function: str) -> str:
    """The logical id of the role a Lambda function runs as (see :func:`resource_role`)."""
    return resource_role(template, function)


def _targets(reference: Any, function: str) -> bool:
    """Whether a FunctionName property (Ref, GetAtt or name) refers to the function."""
    return reference in (
        {"Ref": function},
        {"Fn::GetAtt": [function, "Arn"]},
        {"Fn::GetAtt": f"{function}.Arn"},
    )


def _delivery_request(arn: str, why: str) -> Request:
    """The request that sends an event to a destination ARN (queue, topic, function, bus)."""
    service = arn.split(":")[2] if arn.count(":") >= 5 else ""
    action = {
        "sqs": "sqs:SendMessage",
        "sns": "sns:Publish",
        "lambda": "lambda:InvokeFunction",
        "events": "events:PutEvents",
    }.get(service)
    if action is None:
        raise ConfigurationError(f"{why}: destination {arn!r} is not a queue, topic, function or event bus")
    return Request(action, arn, {}, why)


def lambda_platform_requests(renderer: TemplateRenderer, function: str) -> list[Request]:
    """What the Lambda service does with a function's role, derived from the function's resources.

    Parameters
    ----------
    renderer
        The function's template with its bindings.
    function
        The function's logical id.

    Returns
    -------
    list of Request
        Create a log stream and put events in the function's log group; send failed asynchronous
        events to its dead-letter queue or topic and to the on-failure/on-success destinations of
        its ``EventInvokeConfig``; attach network interfaces when it runs in a VPC; read and delete
        messages of the SQS queues its event source mappings poll.

    Raises
    ------
    ConfigurationError
        For an event source mapping of a kind this function does not model (Kinesis, DynamoDB).
    """
    props = lambda_functions(renderer.template)[function]
    where = f".{function}"
    name = renderer.render(props.get("FunctionName", {"Ref": function}), where)
    log_group = renderer.render(
        (props.get("LoggingConfig") or {}).get("LogGroup", f"/aws/lambda/{name}"), where
    )
    b = renderer.bindings
    stream = f"arn:{b.partition}:logs:{b.region}:{b.account}:log-group:{log_group}:log-stream:{_LOG_STREAM}"
    requests = [
        Request("logs:CreateLogStream", stream, {}, f"Lambda writes {function}'s logs"),
        Request("logs:PutLogEvents", stream, {}, f"Lambda writes {function}'s logs"),
    ]
    dead_letter = (props.get("DeadLetterConfig") or {}).get("TargetArn")
    if dead_letter:
        arn = renderer.render(dead_letter, f"{where}.DeadLetterConfig")
        requests.append(_delivery_request(arn, f"Lambda dead-letters {function}'s failed events"))
    if props.get("VpcConfig"):
        why = f"Lambda attaches {function}'s network interfaces in the VPC"
        requests += [Request(action, "*", {}, why) for action in LAMBDA_VPC_ACTIONS]
    for logical_id, resource in renderer.resources.items():
        other = resource.get("Properties", {})
        if not _targets(other.get("FunctionName"), function):
            continue
        if resource["Type"] == "AWS::Lambda::EventInvokeConfig":
            destinations = other.get("DestinationConfig") or {}
            for outcome in ("OnFailure", "OnSuccess"):
                target = (destinations.get(outcome) or {}).get("Destination")
                if target:
                    arn = renderer.render(target, f".{logical_id}.{outcome}")
                    requests.append(_delivery_request(arn, f"Lambda sends {function}'s {outcome} events"))
        if resource["Type"] == "AWS::Lambda::EventSourceMapping":
            source = renderer.render(other.get("EventSourceArn"), f".{logical_id}")
            why = f"Lambda polls {source} for {function} ({logical_id})"
            if ":kinesis:" in str(source):
                requests += _kinesis_poller_requests(renderer, logical_id, other, str(source), why)
                continue
            if ":sqs:" not in str(source):
                raise ConfigurationError(
                    f"{renderer.name}.{logical_id}: event source {source!r} is not modelled"
                )
            requests += [Request(action, str(source), {}, why) for action in LAMBDA_SQS_POLLER_ACTIONS]
    return requests


def _kinesis_poller_requests(
    renderer: TemplateRenderer, mapping: str, props: Mapping[str, Any], source: str, why: str
) -> list[Request]:
    """A Kinesis mapping's reads, its stream key's decryption and its on-failure destination."""
    requests = [Request(action, source, {}, why) for action in LAMBDA_KINESIS_POLLER_ACTIONS]
    reference = props.get("EventSourceArn")
    stream_id = (
        reference["Fn::GetAtt"][0] if isinstance(reference, dict) and "Fn::GetAtt" in reference else None
    )
    stream = renderer.resources.get(stream_id or "", {})
    key = (stream.get("Properties", {}).get("StreamEncryption") or {}).get("KeyId")
    if key is not None:
        rendered = str(renderer.render(key, f".{stream_id}.StreamEncryption"))
        if rendered != "alias/aws/kinesis":  # the AWS managed key needs no grant
            requests.append(Request("kms:Decrypt", rendered, {}, f"{why}: the records are encrypted"))
    target = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    if target:
        arn = str(renderer.render(target, f".{mapping}.DestinationConfig"))
        requests.append(_delivery_request(arn, f"Lambda sends {mapping}'s failed batches"))
    return requests


#: Glue job arguments that name S3 objects Glue fetches with the job's role before the script runs.
GLUE_CODE_ARGUMENTS = ("--extra-py-files", "--extra-files", "--extra-jars", "--additional-python-modules")


def _s3_object_arn(uri: str, partition: str) -> str:
    return f"arn:{partition}:s3:::{uri.removeprefix('s3://')}"


def glue_job_platform_requests(renderer: TemplateRenderer, job: str) -> list[Request]:
    """What the Glue service does with a job's role before and around its script.

    Parameters
    ----------
    renderer
        The job's template with its bindings.
    job
        The ``AWS::Glue::Job``'s logical id.

    Returns
    -------
    list of Request
        Read the script and every ``s3://`` object of ``--extra-py-files``, ``--extra-files``,
        ``--extra-jars`` and ``--additional-python-modules``; read, write and list ``--TempDir``;
        write ``--spark-event-logs-path``; create and write the job's log groups
        (``/aws-glue/jobs/output`` and ``/error``, or ``--custom-logGroup-prefix``), which a new
        account does not have yet.
    """
    props = renderer.resources[job]["Properties"]
    where = f".{job}"
    b = renderer.bindings
    script = str(renderer.render(props["Command"]["ScriptLocation"], where))
    arguments = {k: str(v) for k, v in renderer.render(props.get("DefaultArguments") or {}, where).items()}
    requests = [
        Request("s3:GetObject", _s3_object_arn(script, b.partition), {}, f"Glue fetches {job}'s script")
    ]
    for argument in GLUE_CODE_ARGUMENTS:
        for item in arguments.get(argument, "").split(","):
            if item.strip().startswith("s3://"):
                why = f"Glue fetches {job}'s {argument}"
                requests.append(Request("s3:GetObject", _s3_object_arn(item.strip(), b.partition), {}, why))
    if arguments.get("--TempDir", "").startswith("s3://"):
        bucket, _, prefix = arguments["--TempDir"].removeprefix("s3://").partition("/")
        objects = f"arn:{b.partition}:s3:::{bucket}/{prefix.rstrip('/')}/spill"
        why = f"Spark on Glue keeps {job}'s temporary files in --TempDir"
        requests += [
            Request(a, objects, {}, why) for a in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
        ]
        requests.append(
            Request("s3:ListBucket", f"arn:{b.partition}:s3:::{bucket}", {"s3:prefix": prefix}, why)
        )
    if arguments.get("--spark-event-logs-path", "").startswith("s3://"):
        path = arguments["--spark-event-logs-path"].rstrip("/")
        why = f"Glue writes {job}'s Spark UI event logs"
        requests.append(Request("s3:PutObject", _s3_object_arn(f"{path}/eventlog", b.partition), {}, why))
    group_prefix = arguments.get("--custom-logGroup-prefix", "/aws-glue/jobs").rstrip("/")
    logs = f"arn:{b.partition}:logs:{b.region}:{b.account}:log-group"
    for group in (f"{group_prefix}/output", f"{group_prefix}/error"):
        why = f"Glue writes {job}'s logs to {group}"
        stream = f"{logs}:{group}:log-stream:jr_0123456789abcdef-driver"
        requests += [
            Request("logs:CreateLogGroup", f"{logs}:{group}", {}, why),
            Request("logs:CreateLogStream", stream, {}, why),
            Request("logs:PutLogEvents", stream, {}, why),
        ]
    return requests


@dataclass(frozen=True)
class Denial:
    """A request the policy does not allow."""

    request: Request
    reason: str

    def __str__(self) -> str:
        context = f" with {dict(self.request.context)}" if self.request.context else ""
        return (
            f"{self.request.action} on {self.request.resource}{context} [{self.request.why}]: {self.reason}"
        )


@dataclass(frozen=True)
class UnusedGrant:
    """An (action, resource) of an ``Allow`` statement, or a value its condition admits, unused.

    ``condition`` is empty for an (action, resource) pair no request used, and names the
    operator, key and value (``StringLike s3:prefix '_runs/*'``) for a condition value no allowed
    request carried.
    """

    sid: str
    action: str
    resource: str
    condition: str = ""

    def __str__(self) -> str:
        if self.condition:
            return f"{self.sid}: its condition admits {self.condition}, which no request used"
        return f"{self.sid}: {self.action} on {self.resource} is granted but never used"


@dataclass
class RoleReport:
    """The verdict on one role: denied requests and unused grants.

    Attributes
    ----------
    role
        The policy's name (``<layer>.<Role>``).
    requests
        Every request checked (deduplicated).
    denied
        Requests the policy does not allow: the code would fail there on AWS.
    unused
        Grants no request used: more than the code needs.
    exempt
        Statements left out of the unused check, with why they are used outside the checked paths.
    """

    role: str
    requests: list[Request]
    denied: list[Denial]
    unused: list[UnusedGrant]
    exempt: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every request is allowed and every grant is used."""
        return not self.denied and not self.unused

    def summary(self) -> str:
        """A multi-line report naming each denied request and each unused grant."""
        lines = [f"{self.role}: {len(self.requests)} request(s) checked"]
        lines += [f"  DENIED {d}" for d in self.denied]
        lines += [f"  UNUSED {u}" for u in self.unused]
        return "\n".join(lines)


def requests_of_calls(
    calls: Iterable[AwsCall], account: str, partition: str = "aws", athena: AthenaCatalog | None = None
) -> list[Request]:
    """The IAM requests of recorded calls, each (action, resource, context) once, in call order.

    ``athena`` (table locations, result locations) is needed when the calls start Athena queries;
    later calls on a query are authorized on the workgroup its ``StartQueryExecution`` named.
    """
    calls = list(calls)
    workgroups = {
        str(call.response["QueryExecutionId"]): str(call.params.get("WorkGroup") or "primary")
        for call in calls
        if (call.service, call.operation) == ("athena", "StartQueryExecution")
        and "QueryExecutionId" in call.response
    }
    return _unique(
        request
        for call in calls
        for request in requests_for(call, account, partition, athena=athena, query_workgroups=workgroups)
    )


def _unique(requests: Iterable[Request]) -> list[Request]:
    seen: dict[tuple[str, str, tuple[tuple[str, Any], ...]], Request] = {}
    for request in requests:
        key = (request.action.lower(), request.resource, tuple(sorted(request.context.items())))
        seen.setdefault(key, request)
    return list(seen.values())


def check_role(
    policy: Policy, requests: Iterable[Request], exempt: Mapping[str, str] | None = None
) -> RoleReport:
    """Check one role both ways: every request allowed, every grant used.

    Parameters
    ----------
    policy
        The role's policy (:func:`role_policy`).
    requests
        What its code and its platform do with it (:func:`requests_of_calls`,
        :func:`lambda_platform_requests`).
    exempt
        ``{Sid: why}`` of statements used outside the checked paths (an EC2 host's boot script);
        they are still evaluated for the requests, only not reported as unused.

    Returns
    -------
    RoleReport
        ``ok`` when nothing is denied and nothing granted goes unused.
    """
    exempt = dict(exempt or {})
    unknown = sorted(set(exempt) - {s.sid for s in policy.statements})
    if unknown:
        raise ConfigurationError(f"{policy.name}: exempt statements {unknown} are not in the policy")
    checked = _unique(requests)
    denied: list[Denial] = []
    used: set[tuple[str, str, str]] = set()
    for request in checked:
        decision = policy.decide(request)
        if not decision.allowed:
            denied.append(Denial(request, decision.reason))
            continue
        for statement in policy.statements:
            if statement.effect == "Allow" and statement.matches(request):
                used |= _grants_used(statement, request)
    unused = []
    for statement in policy.statements:
        if statement.effect != "Allow" or statement.sid in exempt:
            continue
        unused += [
            UnusedGrant(statement.sid, action, resource)
            for action in statement.actions
            for resource in statement.resources
            if (statement.sid, action, resource) not in used
        ]
        unused += [
            UnusedGrant(statement.sid, "", "", value)
            for value in _condition_values(statement)
            if (statement.sid, "condition", value) not in used
        ]
    return RoleReport(policy.name, checked, denied, unused, exempt)


def _grants_used(statement: Statement, request: Request) -> set[tuple[str, str, str]]:
    """The (sid, action, resource) pairs and the condition values of an allowing statement a request used."""
    used = {
        (statement.sid, action, resource)
        for action in statement.actions
        for resource in statement.resources
        if action_matches(action, request.action) and resource_matches(resource, request.resource)
    }
    for operator, keys in statement.conditions.items():
        compare = _POSITIVE_MATCHES.get(operator.removesuffix("IfExists"))
        for key, values in keys.items() if compare else ():
            actual = request.context_values(key) or ()
            used |= {
                (statement.sid, "condition", f"{operator} {key} {value!r}")
                for value in values
                if any(compare(value, a) for a in actual)
            }
    return used


def _condition_values(statement: Statement) -> list[str]:
    """Each value a positive string or ARN condition admits, as ``Operator key 'value'``."""
    return [
        f"{operator} {key} {value!r}"
        for operator, keys in statement.conditions.items()
        if operator.removesuffix("IfExists") in _POSITIVE_MATCHES
        for key, values in keys.items()
        for value in values
    ]


#: Positive condition operators whose every value should admit some request, and how they compare.
_POSITIVE_MATCHES: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda expected, actual: expected == actual,
    "StringEqualsIgnoreCase": lambda expected, actual: expected.lower() == actual.lower(),
    "StringLike": resource_matches,
    "ArnEquals": resource_matches,
    "ArnLike": resource_matches,
}
