"""Step Functions' rules for state machines, checked over the templates before a deploy.

cfn-lint checks a ``Definition`` against the ASL JSON schema (field names and types); it does not
follow transitions, so a ``Next`` to a missing state, an unreachable state, a ``States.ALL`` that is
not last, or a task whose failure nobody hears about only show up when ``CreateStateMachine`` refuses
the definition mid-deploy, or at 3 a.m. when the step fails. The rules here say what the Amazon States
Language requires (https://states-language.net/spec.html, and the Step Functions developer guide)
and, for ``task-failure-notifies``, what this project requires: every task's catch-all goes to a
state that publishes to SNS and then fails the execution (so the ``ExecutionsFailed`` alarm fires too).

:data:`SYNC_INTEGRATION_IAM` lists what each service integration this project uses needs from the
state machine's role, from the Step Functions guide's IAM page of each service; :func:`task_requests`
turns a rendered task into those :class:`~datalake.deploy.iam_policy.Request` rows, for
:func:`~datalake.deploy.iam_check.check_role`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from datalake.deploy.findings import Finding, template_file
from datalake.deploy.iam_policy import Request

_SFN_DG = "https://docs.aws.amazon.com/step-functions/latest/dg"
_SPEC = "https://states-language.net/spec.html"

#: Rule id -> (what it requires, where it is documented).
STEPFUNCTIONS_RULES: dict[str, tuple[str, str]] = {
    "asl-start-at": ("StartAt names a state of States", f"{_SPEC}#toplevelfields"),
    "asl-transition-target": (
        "every Next, Default, Choices[].Next and Catch[].Next names a state of the same States",
        f"{_SPEC}#transition",
    ),
    "asl-terminal": (
        "a Task, Pass, Wait, Parallel or Map state has exactly one of Next and End: true; Succeed and "
        "Fail states have neither; a Choice state has Choices and no End",
        f"{_SPEC}#transition",
    ),
    "asl-reachable": (
        "every state is reachable from StartAt, and some terminal state is",
        f"{_SPEC}#transition",
    ),
    "asl-states-all-last": (
        "States.ALL appears alone in its ErrorEquals, in the last retrier or catcher",
        f"{_SPEC}#error-names",
    ),
    "asl-state-name": ("a state's name is at most 80 characters", f"{_SPEC}#states-fields"),
    "asl-path-fields": (
        "a field ending in .$ holds a path ($...) or an intrinsic function (States.*)",
        f"{_SPEC}#payload-template",
    ),
    "asl-substitutions": (
        "every ${Name} in a Definition has a DefinitionSubstitutions entry, and every entry is used",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-stepfunctions-statemachine.html",
    ),
    "task-failure-notifies": (
        "every Task (but the notifier) catches States.ALL into an sns:publish Task that ends in a Fail state",
        f"{_SFN_DG}/concepts-error-handling.html",
    ),
}

#: A ``.sync`` (or request-response) integration -> (the Step Functions guide's IAM page, the grants
#: it needs as (action, resource template)). Resource templates name the task's rendered parameters
#: (``{JobName}``) and the pseudo parameters (``{partition}``, ``{region}``, ``{account}``).
SYNC_INTEGRATION_IAM: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "arn:aws:states:::glue:startJobRun.sync": (
        f"{_SFN_DG}/glue-iam.html",
        tuple(
            (action, "arn:{partition}:glue:{region}:{account}:job/{JobName}")
            for action in ("glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun")
        ),
    ),
    "arn:aws:states:::sagemaker:createTrainingJob.sync": (
        f"{_SFN_DG}/sagemaker-iam.html",
        (
            *(
                (action, "arn:{partition}:sagemaker:{region}:{account}:training-job/{TrainingJobName}")
                for action in (
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopTrainingJob",
                )
            ),
            # .sync waits on the training job's state changes through this managed rule.
            *(
                (
                    action,
                    "arn:{partition}:events:{region}:{account}:rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule",
                )
                for action in ("events:PutTargets", "events:PutRule", "events:DescribeRule")
            ),
            ("iam:PassRole", "{RoleArn}"),
        ),
    ),
    "arn:aws:states:::lambda:invoke": (
        f"{_SFN_DG}/lambda-iam.html",
        (("lambda:InvokeFunction", "{FunctionName}"),),
    ),
    "arn:aws:states:::sns:publish": (f"{_SFN_DG}/sns-iam.html", (("sns:Publish", "{TopicArn}"),)),
}
#: What a state machine's LoggingConfiguration needs (these calls have no resource-level permissions).
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
LOG_DELIVERY_DOCS = f"{_SFN_DG}/cw-logs.html"
SNS_PUBLISH = "arn:aws:states:::sns:publish"
MAX_STATE_NAME = 80
_SUBSTITUTION = re.compile(r"\$\{([^}]+)\}")
_NON_TERMINAL = frozenset({"Task", "Pass", "Wait", "Parallel", "Map"})


def _transitions(state: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every (field, target) a state may go to."""
    if "Next" in state:
        yield "Next", state["Next"]
    if "Default" in state:
        yield "Default", state["Default"]
    for i, choice in enumerate(state.get("Choices") or []):
        if "Next" in choice:
            yield f"Choices[{i}].Next", choice["Next"]
    for i, catcher in enumerate(state.get("Catch") or []):
        yield f"Catch[{i}].Next", catcher.get("Next")


def _terminal(state: Mapping[str, Any]) -> bool:
    return state.get("Type") in ("Succeed", "Fail") or state.get("End") is True


def _path_fields(value: Any, where: str) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and key.endswith(".$"):
                if not (isinstance(item, str) and (item.startswith("$") or item.startswith("States."))):
                    yield f"{where}.{key} is {item!r}"
            else:
                yield from _path_fields(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _path_fields(item, f"{where}[{i}]")


def definition_problems(definition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(rule, message)`` of every ASL rule a state machine definition breaks (its top level)."""
    problems: list[tuple[str, str]] = []
    states: Mapping[str, Any] = definition.get("States") or {}
    start = definition.get("StartAt")
    if start not in states:
        problems.append(("asl-start-at", f"StartAt {start!r} is not a state"))
    for name, state in states.items():
        if len(name) > MAX_STATE_NAME:
            problems.append(("asl-state-name", f"{name[:40]}... has {len(name)} characters"))
        kind = state.get("Type")
        for field, target in _transitions(state):
            if target not in states:
                problems.append(("asl-transition-target", f"{name}.{field} {target!r} is not a state"))
        has_next, has_end = "Next" in state, state.get("End") is True
        if kind in _NON_TERMINAL and has_next == has_end:
            problems.append(("asl-terminal", f"{name} ({kind}) needs exactly one of Next and End"))
        if kind in ("Succeed", "Fail") and (has_next or "End" in state):
            problems.append(("asl-terminal", f"{name} ({kind}) takes neither Next nor End"))
        if kind == "Choice" and (not state.get("Choices") or "End" in state):
            problems.append(("asl-terminal", f"{name} (Choice) needs Choices and no End"))
        for field in ("Retry", "Catch"):
            handlers = state.get(field) or []
            for i, handler in enumerate(handlers):
                errors = handler.get("ErrorEquals") or []
                if "States.ALL" in errors and (len(errors) > 1 or i != len(handlers) - 1):
                    problems.append(
                        ("asl-states-all-last", f"{name}.{field}[{i}]: States.ALL must be alone and last")
                    )
        problems += [("asl-path-fields", problem) for problem in _path_fields(state, name)]
    reached, frontier = set(), [start] if start in states else []
    while frontier:
        name = frontier.pop()
        if name in reached:
            continue
        reached.add(name)
        frontier += [target for _f, target in _transitions(states[name]) if target in states]
    for name in states:
        if name not in reached:
            problems.append(("asl-reachable", f"{name} is not reachable from StartAt"))
    if reached and not any(_terminal(states[name]) for name in reached):
        problems.append(("asl-reachable", "no terminal state is reachable"))
    return problems


def failure_notification_problems(definition: Mapping[str, Any]) -> list[str]:
    """Tasks whose failures go unheard: each Task but the SNS notifiers needs a ``States.ALL`` catcher
    into an ``sns:publish`` Task whose every way out is a Fail state."""
    states: Mapping[str, Any] = definition.get("States") or {}
    problems = []
    for name, state in states.items():
        if state.get("Type") != "Task" or state.get("Resource") == SNS_PUBLISH:
            continue
        catch_all = [c for c in state.get("Catch") or [] if "States.ALL" in (c.get("ErrorEquals") or [])]
        if not catch_all:
            problems.append(f"{name} has no Catch on States.ALL")
            continue
        notifier = states.get(catch_all[0].get("Next"), {})
        if notifier.get("Type") != "Task" or notifier.get("Resource") != SNS_PUBLISH:
            problems.append(
                f"{name} catches States.ALL into {catch_all[0].get('Next')!r}, not an sns:publish task"
            )
            continue
        exits = [target for _f, target in _transitions(notifier)]
        if not exits or any(states.get(target, {}).get("Type") != "Fail" for target in exits):
            problems.append(f"{name}'s notifier {catch_all[0].get('Next')} does not end in a Fail state")
    return problems


def substitution_problems(definition: Any, substitutions: Mapping[str, Any]) -> list[str]:
    """``${Name}`` placeholders without a substitution, and substitutions no placeholder uses."""
    used: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            used.update(_SUBSTITUTION.findall(value))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(definition)
    return [
        f"${{{name}}} has no DefinitionSubstitutions entry" for name in sorted(used - set(substitutions))
    ] + [f"DefinitionSubstitutions {name} is never used" for name in sorted(set(substitutions) - used)]


def state_machine_violations(templates: Mapping[str, Mapping[str, Any]]) -> list[Finding]:
    """Every rule of :data:`STEPFUNCTIONS_RULES` the templates' state machines break."""
    found: list[Finding] = []
    for layer, template in templates.items():
        for name, resource in (template.get("Resources") or {}).items():
            if resource.get("Type") != "AWS::StepFunctions::StateMachine":
                continue
            props = resource.get("Properties") or {}
            definition = props.get("Definition")
            if not isinstance(definition, Mapping):
                found.append(
                    Finding("asl-substitutions", template_file(layer), name, "write Definition as an object")
                )
                continue
            problems = definition_problems(definition)
            problems += [("task-failure-notifies", p) for p in failure_notification_problems(definition)]
            substitutions = props.get("DefinitionSubstitutions") or {}
            problems += [("asl-substitutions", p) for p in substitution_problems(definition, substitutions)]
            found += [Finding(rule, template_file(layer), name, message) for rule, message in problems]
    return found


def task_requests(
    state: Mapping[str, Any], parameters: Mapping[str, Any], account: str, region: str, partition: str = "aws"
) -> list[Request]:
    """What the state machine's role must be allowed for one Task state (:data:`SYNC_INTEGRATION_IAM`).

    Parameters
    ----------
    state
        The Task state (its ``Resource``).
    parameters
        Its ``Parameters`` rendered to concrete values; a ``.$`` field is given as its plain name
        with a sample value (``TrainingJobName``).
    account, region, partition
        The pseudo parameters.

    Raises
    ------
    KeyError
        For an integration this table does not cover (add it with its IAM page).
    """
    docs, grants = SYNC_INTEGRATION_IAM[str(state["Resource"])]
    values = {"account": account, "region": region, "partition": partition, **parameters}
    requests = []
    for action, resource in grants:
        context = {"iam:PassedToService": "sagemaker.amazonaws.com"} if action == "iam:PassRole" else {}
        requests.append(Request(action, resource.format(**values), context, f"{state['Resource']} ({docs})"))
    return requests
