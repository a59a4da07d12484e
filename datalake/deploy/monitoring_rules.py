"""CloudWatch's rules for alarms and dashboards, checked over the templates before a deploy.

cfn-lint checks each property's type and, for some, its range; it does not check how an alarm's
period and evaluation periods combine, where its actions go, whether the metric it watches exists,
or anything inside a dashboard's body, which is one JSON string to it (CloudFormation only fails
when ``PutDashboard`` refuses it, mid-deploy). Each rule here says what AWS requires (or, for
``alarm-metric-known`` and ``alarm-actions-to-topic``, what this project requires) and where it is
documented. :func:`monitoring_violations` names the template, the resource and the rule of every
violation; ``datalake deploy check`` runs it as the ``monitoring`` family, with
:func:`stale_monitoring_template` (the committed monitoring layer is what the registry gives).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from datalake.deploy.findings import Finding, template_file
from datalake.deploy.templates import sub_text
from datalake.pipelines.freshness import PUBLISHED_METRICS, SOURCE_DIMENSION

_CW = "https://docs.aws.amazon.com/AmazonCloudWatch/latest"
_ALARM_API = f"{_CW}/APIReference/API_PutMetricAlarm.html"
_DASHBOARD_BODY = f"{_CW}/APIReference/CloudWatch-Dashboard-Body-Structure.html"

#: Rule id -> (what it requires, where it is documented).
MONITORING_RULES: dict[str, tuple[str, str]] = {
    "alarm-period": ("an alarm's Period is 10, 20, 30 or a multiple of 60 seconds", _ALARM_API),
    "alarm-evaluation-range": (
        "Period x EvaluationPeriods is at most 604,800 s (7 days), and at most 86,400 s (1 day) for a "
        "period under an hour",
        _ALARM_API,
    ),
    "alarm-datapoints-to-alarm": ("DatapointsToAlarm is between 1 and EvaluationPeriods", _ALARM_API),
    "alarm-statistic": (
        "an alarm on one metric names exactly one of Statistic (SampleCount, Average, Sum, Minimum, "
        "Maximum) and ExtendedStatistic (p0.0-p100)",
        _ALARM_API,
    ),
    "alarm-treat-missing-data": (
        "TreatMissingData is breaching, notBreaching, ignore or missing",
        _ALARM_API,
    ),
    "alarm-actions-to-topic": (
        "every alarm notifies (AlarmActions, at most 5 per state) and only SNS topics: this template's, or "
        "one another layer exports (the monitoring layer's alerts topic)",
        f"{_CW}/monitoring/Notify_Users_Alarm_Changes.html",
    ),
    "alarm-metric-known": (
        "an alarm or dashboard watches a metric its service publishes with those dimensions, or a run "
        "metric the pipeline publishes (datalake.pipelines.freshness.PUBLISHED_METRICS, by Source) in the "
        "namespace the Glue jobs are given",
        f"{_CW}/monitoring/aws-services-cloudwatch-metrics.html",
    ),
    "dashboard-name": (
        "a dashboard's name is 1-255 characters of A-Z, a-z, 0-9, '-' and '_'",
        f"{_CW}/APIReference/API_PutDashboard.html",
    ),
    "dashboard-body": (
        "a DashboardBody is a JSON object with a widgets array of at most 500 widgets, each of a known "
        "type with properties, width 1-24 and height 1-1000 within the 24-column grid; a metric widget "
        "has a region and metrics; an alarm widget names alarms of the template",
        _DASHBOARD_BODY,
    ),
    "monitoring-template-current": (
        "cloudformation/monitoring.yaml is what the source registry gives: every scheduled Lambda's "
        "two alarms and every expected freshness's alarm (`datalake deploy monitoring` writes it; "
        "docs/adding-a-source.md)",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html",
    ),
}

PERIODS_UNDER_A_MINUTE = frozenset({10, 20, 30})
MAX_EVALUATION_S = 604_800
MAX_SHORT_PERIOD_EVALUATION_S = 86_400
STATISTICS = frozenset({"SampleCount", "Average", "Sum", "Minimum", "Maximum"})
MISSING_DATA = frozenset({"breaching", "notBreaching", "ignore", "missing"})
MAX_ACTIONS = 5
MAX_WIDGETS = 500
WIDGET_TYPES = frozenset({"metric", "text", "alarm", "log", "explorer", "custom"})
GRID_WIDTH = 24
_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d+)?|100)$")

#: Metrics AWS services publish, with the dimensions this project selects them by. A metric missing
#: here is not wrong in itself: add it with the page that documents it.
AWS_METRICS: dict[tuple[str, str], frozenset[str]] = {
    # https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
    ("AWS/Lambda", "Errors"): frozenset({"FunctionName"}),
    ("AWS/Lambda", "Invocations"): frozenset({"FunctionName"}),
    ("AWS/Lambda", "Duration"): frozenset({"FunctionName"}),
    ("AWS/Lambda", "Throttles"): frozenset({"FunctionName"}),
    # Stream event source mappings (Kinesis, DynamoDB): the age of the last record of a batch, in ms.
    ("AWS/Lambda", "IteratorAge"): frozenset({"FunctionName"}),
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible"): frozenset({"QueueName"}),
    ("AWS/SQS", "ApproximateAgeOfOldestMessage"): frozenset({"QueueName"}),
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
    ("AWS/ApiGateway", "Latency"): frozenset({"ApiId"}),
    ("AWS/ApiGateway", "IntegrationLatency"): frozenset({"ApiId"}),
    ("AWS/ApiGateway", "5xx"): frozenset({"ApiId"}),
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
    ("AWS/ApplicationELB", "TargetResponseTime"): frozenset({"LoadBalancer"}),
    ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"): frozenset({"LoadBalancer"}),
    # https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
    ("AWS/States", "ExecutionsFailed"): frozenset({"StateMachineArn"}),
    ("AWS/States", "ExecutionsTimedOut"): frozenset({"StateMachineArn"}),
}

Templates = Mapping[str, Mapping[str, Any]]


def _finding(layer: str, resource: str, rule: str, message: str) -> Finding:
    return Finding(rule, template_file(layer), resource, message)


def _resources(templates: Templates, kind: str) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for layer, template in templates.items():
        for name, resource in template.get("Resources", {}).items():
            if resource.get("Type") == kind:
                yield layer, name, resource.get("Properties", {})


def glue_metrics_namespaces(templates: Templates) -> set[str]:
    """The ``--metrics_namespace`` texts the templates' Glue jobs are given (where run metrics go)."""
    return {
        text
        for _layer, _name, props in _resources(templates, "AWS::Glue::Job")
        if (text := sub_text((props.get("DefaultArguments") or {}).get("--metrics_namespace")))
    }


def metric_problem(namespace: str | None, metric: str, dimensions: set[str], own: set[str]) -> str | None:
    """Why ``(namespace, metric, dimensions)`` names no known metric, or None when it does.

    ``own`` holds the namespaces the pipeline publishes its run metrics to.
    """
    if namespace in own:
        if metric not in PUBLISHED_METRICS:
            return f"{metric} is not a run metric the pipeline publishes ({', '.join(PUBLISHED_METRICS)})"
        if dimensions != {SOURCE_DIMENSION}:
            return f"run metrics have one dimension, {SOURCE_DIMENSION}, not {sorted(dimensions)}"
        return None
    known = AWS_METRICS.get((str(namespace), metric))
    if known is None:
        return f"{namespace} {metric} is neither a known AWS metric nor a run metric in {sorted(own)}"
    if dimensions != known:
        return f"{namespace} {metric} is selected by {sorted(known)}, not {sorted(dimensions)}"
    return None


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def exported_topics(templates: Templates) -> list[Any]:
    """The ``Fn::ImportValue`` arguments that name an SNS topic some layer exports (its ``Ref``)."""
    exported = []
    for template in templates.values():
        topics = {n for n, r in template.get("Resources", {}).items() if r.get("Type") == "AWS::SNS::Topic"}
        for output in (template.get("Outputs") or {}).values():
            value = output.get("Value")
            if "Export" in output and isinstance(value, dict) and value.get("Ref") in topics:
                exported.append(output["Export"]["Name"])
    return exported


def alarm_violations(templates: Templates) -> list[Finding]:
    """Every alarm rule (:data:`MONITORING_RULES`) the templates' ``AWS::CloudWatch::Alarm`` break."""
    found: list[Finding] = []
    own = glue_metrics_namespaces(templates)
    imported_topics = exported_topics(templates)
    for layer, name, props in _resources(templates, "AWS::CloudWatch::Alarm"):
        topics = {
            n for n, r in templates[layer].get("Resources", {}).items() if r.get("Type") == "AWS::SNS::Topic"
        }

        def report(rule: str, message: str, layer: str = layer, name: str = name) -> None:
            found.append(_finding(layer, name, rule, message))

        period, evaluations = _number(props.get("Period")), _number(props.get("EvaluationPeriods"))
        if period is None or not (period in PERIODS_UNDER_A_MINUTE or (period > 0 and period % 60 == 0)):
            report("alarm-period", f"Period {props.get('Period')!r}")
        if period is not None and evaluations is not None:
            limit = MAX_SHORT_PERIOD_EVALUATION_S if period < 3600 else MAX_EVALUATION_S
            if evaluations < 1 or period * evaluations > limit:
                report(
                    "alarm-evaluation-range",
                    f"{period:g} s x {evaluations:g} = {period * evaluations:,.0f} s (at most {limit:,} s)",
                )
        datapoints = _number(props.get("DatapointsToAlarm", evaluations))
        if datapoints is None or evaluations is None or not 1 <= datapoints <= evaluations:
            report(
                "alarm-datapoints-to-alarm",
                f"DatapointsToAlarm {props.get('DatapointsToAlarm')!r} of {props.get('EvaluationPeriods')!r}",
            )
        statistic, extended = props.get("Statistic"), props.get("ExtendedStatistic")
        if (statistic is None) == (extended is None) or (
            statistic not in STATISTICS if statistic is not None else not _PERCENTILE.match(str(extended))
        ):
            report("alarm-statistic", f"Statistic {statistic!r}, ExtendedStatistic {extended!r}")
        if props.get("TreatMissingData", "missing") not in MISSING_DATA:
            report("alarm-treat-missing-data", f"TreatMissingData {props.get('TreatMissingData')!r}")
        actions = {
            key: props.get(key) or [] for key in ("AlarmActions", "OKActions", "InsufficientDataActions")
        }
        if not actions["AlarmActions"]:
            report("alarm-actions-to-topic", "no AlarmActions: the alarm notifies nobody")
        for key, targets in actions.items():
            if len(targets) > MAX_ACTIONS:
                report("alarm-actions-to-topic", f"{key} has {len(targets)} actions (at most {MAX_ACTIONS})")
            for target in targets:
                own_topic = isinstance(target, dict) and target.get("Ref") in topics
                imported = isinstance(target, dict) and target.get("Fn::ImportValue") in imported_topics
                if not (own_topic or imported):
                    report(
                        "alarm-actions-to-topic",
                        f"{key} target {target!r} is neither an SNS topic of {layer} nor an exported one",
                    )
        namespace = sub_text(props.get("Namespace"))
        dimensions = {str(d.get("Name")) for d in props.get("Dimensions") or []}
        problem = metric_problem(namespace, str(props.get("MetricName")), dimensions, own)
        if problem:
            report("alarm-metric-known", problem)
    return found


_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def rendered_body(value: Any) -> tuple[str, set[str]] | None:
    """A DashboardBody's text with every ``${...}`` variable replaced by a placeholder, and the
    ``<LogicalId>.Arn`` attributes it names; None when it is neither a string nor a ``Fn::Sub``."""
    text = sub_text(value)
    if text is None:
        return None
    arns = {m[: -len(".Arn")] for m in _VARIABLE.findall(text) if m.endswith(".Arn")}
    return _VARIABLE.sub(lambda m: f"<{m.group(1)}>", text), arns


def _metric_rows(metrics: list[Any]) -> Iterator[tuple[str, str, set[str]]]:
    """``(namespace, metric, dimension names)`` of each row of a metric widget (``"."`` repeats above)."""
    previous: list[Any] = []
    for row in metrics:
        values = [v for v in row if not isinstance(v, dict)] if isinstance(row, list) else []
        values = [previous[i] if v == "." and i < len(previous) else v for i, v in enumerate(values)]
        previous = values
        if len(values) < 2 or len(values) % 2:
            yield str(values), "", {"<malformed row>"}
            continue
        yield str(values[0]), str(values[1]), {str(v) for v in values[2::2]}


def _widget_problems(widget: Any, alarms: set[str], own: set[str]) -> Iterator[str]:
    if not isinstance(widget, dict):
        yield f"a widget is {type(widget).__name__}, not an object"
        return
    kind, props = widget.get("type"), widget.get("properties")
    if kind not in WIDGET_TYPES:
        yield f"widget type {kind!r} is not one of {sorted(WIDGET_TYPES)}"
    if not isinstance(props, dict):
        yield f"a {kind} widget has no properties"
        return
    width, height = widget.get("width", 6), widget.get("height", 6)
    x = widget.get("x", 0)
    if not (isinstance(width, int) and 1 <= width <= GRID_WIDTH):
        yield f"width {width!r} (1-{GRID_WIDTH})"
    elif not (isinstance(x, int) and x >= 0 and x + width <= GRID_WIDTH):
        yield f"x {x!r} + width {width} leaves the {GRID_WIDTH}-column grid"
    if not (isinstance(height, int) and 1 <= height <= 1000):
        yield f"height {height!r} (1-1000)"
    if kind == "metric":
        if not props.get("region"):
            yield f"metric widget {props.get('title')!r} has no region"
        if not props.get("metrics"):
            yield f"metric widget {props.get('title')!r} has no metrics"
        for namespace, metric, dimensions in _metric_rows(props.get("metrics") or []):
            problem = metric_problem(namespace, metric, dimensions, own)
            if problem:
                yield f"[alarm-metric-known] {props.get('title')!r}: {problem}"
    if kind == "alarm":
        for arn in props.get("alarms") or []:
            match = re.fullmatch(r"<(\w+)\.Arn>", str(arn))
            if not match or match.group(1) not in alarms:
                yield f"alarm widget names {arn!r}, not an alarm of the template"


def dashboard_violations(templates: Templates) -> list[Finding]:
    """Every dashboard rule the templates' ``AWS::CloudWatch::Dashboard`` break (name, body, metrics)."""
    found: list[Finding] = []
    # The body is compared once rendered: ${Project}/${Env} reads <Project>/<Env> there.
    own = {_VARIABLE.sub(lambda m: f"<{m.group(1)}>", v) for v in glue_metrics_namespaces(templates)}
    for layer, name, props in _resources(templates, "AWS::CloudWatch::Dashboard"):
        dashboard = sub_text(props.get("DashboardName"))
        plain = _VARIABLE.sub("x", dashboard or "")
        if not dashboard or not re.fullmatch(r"[A-Za-z0-9_-]{1,255}", plain):
            found.append(
                _finding(layer, name, "dashboard-name", f"DashboardName {props.get('DashboardName')!r}")
            )
        rendered = rendered_body(props.get("DashboardBody"))
        if rendered is None:
            found.append(_finding(layer, name, "dashboard-body", "DashboardBody is not text"))
            continue
        text, _arns = rendered
        try:
            body = json.loads(text)
        except ValueError as error:
            found.append(_finding(layer, name, "dashboard-body", f"not JSON once rendered: {error}"))
            continue
        widgets = body.get("widgets") if isinstance(body, dict) else None
        if not isinstance(widgets, list) or len(widgets) > MAX_WIDGETS:
            found.append(
                _finding(layer, name, "dashboard-body", f"widgets must be a list of at most {MAX_WIDGETS}")
            )
            continue
        alarms = {
            n
            for n, r in templates[layer].get("Resources", {}).items()
            if r.get("Type") == "AWS::CloudWatch::Alarm"
        }
        for widget in widgets:
            for problem in _widget_problems(widget, alarms, own):
                rule, _, message = problem.partition("] ") if problem.startswith("[") else ("", "", problem)
                found.append(_finding(layer, name, rule[1:] or "dashboard-body", message))
    return found


def monitoring_violations(templates: Templates) -> list[Finding]:
    """Every alarm and dashboard rule over ``templates`` (``{layer: template}``, long-form intrinsics)."""
    return alarm_violations(templates) + dashboard_violations(templates)


def stale_monitoring_template(templates: Templates) -> list[Finding]:
    """The monitoring layer differs from what the registry gives (``datalake deploy monitoring``)."""
    from datalake.deploy.monitoring import LAYER, monitoring_template

    if LAYER not in templates or templates[LAYER] == monitoring_template():
        return []
    return [
        Finding(
            "monitoring-template-current",
            template_file(LAYER),
            "(template)",
            "is not what the source registry gives (a scheduled Lambda or a freshness expectation "
            "changed): run `datalake deploy monitoring` and commit the file",
        )
    ]
