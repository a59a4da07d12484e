"""The monitoring layer (cloudformation/monitoring.yaml): written from the source registry, held to the
ingestion and transforms layers it watches, and to CloudWatch's rules (datalake.deploy.monitoring_rules).

moto's CloudFormation skips alarms, topic policies and subscriptions, so the template is checked here
as data: every scheduled Lambda has both alarms on its real function and dead-letter queue, every
expected freshness its alarm on the metric the Glue jobs publish in the namespace their role may
publish to, every alarm notifies the alerts topic, and the dashboard's body is JSON whose widgets
read metrics that exist.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from daily_fixtures import scheduled_source, with_sources
from typer.testing import CliRunner

from datalake.cli import app
from datalake.deploy import monitoring
from datalake.deploy.check import RULE_DOCS, RULE_FAMILIES
from datalake.deploy.monitoring_rules import (
    MONITORING_RULES,
    monitoring_violations,
    rendered_body,
    stale_monitoring_template,
)
from datalake.deploy.templates import LAYERS, load_params, load_template, sub_text
from datalake.pipelines.freshness import DATA_AGE_METRIC, PUBLISHED_METRICS, RUN_SECONDS_METRIC
from datalake.sources.registry import SOURCES, Freshness, SourceLambda, SourceSpec, scheduled_lambdas

TEMPLATES = {layer: load_template(layer) for layer in LAYERS}
MONITORING = TEMPLATES["monitoring"]["Resources"]
INGESTION = TEMPLATES["ingestion"]["Resources"]
TRANSFORMS = TEMPLATES["transforms"]["Resources"]


def text(value: Any) -> str:
    """A literal or a ``Fn::Sub``'s text (anything else fails the test)."""
    found = sub_text(value)
    assert found is not None, value
    return found


def alarms(metric: str) -> dict[str, dict[str, Any]]:
    return {
        name: r["Properties"]
        for name, r in MONITORING.items()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["MetricName"] == metric
    }


def dimension(alarm: dict[str, Any], name: str) -> str:
    [value] = [text(d["Value"]) for d in alarm["Dimensions"] if d["Name"] == name]
    return value


def ingestion_function(function: SourceLambda) -> dict[str, Any]:
    """The ingestion layer's AWS::Lambda::Function running ``lambdas/<name>/`` (by its bundle)."""
    [props] = [
        r["Properties"]
        for r in INGESTION.values()
        if r["Type"] == "AWS::Lambda::Function"
        and text(r["Properties"]["Code"]["S3Key"]).endswith(f"/lambda/{function.name}.zip")
    ]
    return props


# -- derived from the registry ----------------------------------------------------------------------


def test_the_committed_template_is_what_the_registry_gives() -> None:
    text = monitoring.TEMPLATE.read_text(encoding="utf-8")
    assert text == monitoring.render(monitoring.monitoring_template()), (
        "cloudformation/monitoring.yaml is out of date: run `datalake deploy monitoring`"
    )
    assert stale_monitoring_template(TEMPLATES) == []
    result = CliRunner().invoke(app, ["deploy", "monitoring", "--check"])
    assert result.exit_code == 0 and "up to date" in result.output, result.output


@pytest.mark.parametrize(
    ("source", "function"), scheduled_lambdas(), ids=lambda v: v.name if hasattr(v, "name") else ""
)
def test_every_scheduled_lambda_has_an_errors_and_a_dead_letter_alarm_on_its_own_resources(
    source: SourceSpec, function: SourceLambda
) -> None:
    props = ingestion_function(function)
    [errors] = [
        a for a in alarms("Errors").values() if dimension(a, "FunctionName") == text(props["FunctionName"])
    ]
    assert errors["Namespace"] == "AWS/Lambda" and errors["Statistic"] == "Sum"
    # The queue its failed events go to: the function's own DeadLetterConfig (also its rule's).
    queue = props["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
    rule_targets = INGESTION[function.rule]["Properties"]["Targets"]
    assert all(t["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0] == queue for t in rule_targets)
    queue_name = text(INGESTION[queue]["Properties"]["QueueName"])
    [letters] = [
        a
        for a in alarms("ApproximateNumberOfMessagesVisible").values()
        if dimension(a, "QueueName") == queue_name
    ]
    assert letters["Namespace"] == "AWS/SQS"
    for alarm in (errors, letters):
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert alarm["AlarmActions"] == [{"Ref": "AlertsTopic"}] == alarm["OKActions"]
    # The names follow the ingestion layer's convention, which the generator relies on.
    assert text(props["FunctionName"]) == monitoring.function_name(function)
    assert queue_name == monitoring.dead_letter_queue_name(function)


def test_no_alarm_watches_a_function_that_is_not_scheduled() -> None:
    watched = {dimension(a, "FunctionName") for a in alarms("Errors").values()}
    assert watched == {monitoring.function_name(f) for _s, f in scheduled_lambdas()}
    assert len(alarms("ApproximateNumberOfMessagesVisible")) == len(scheduled_lambdas()) >= 2


def _job_namespaces() -> set[str]:
    return {
        text(r["Properties"]["DefaultArguments"]["--metrics_namespace"])
        for r in TRANSFORMS.values()
        if r["Type"] == "AWS::Glue::Job"
    }


def test_every_glue_job_publishes_its_run_metrics_where_its_role_may() -> None:
    jobs = [r for r in TRANSFORMS.values() if r["Type"] == "AWS::Glue::Job"]
    assert len(jobs) == len(SOURCES)
    assert all("--metrics_namespace" in r["Properties"]["DefaultArguments"] for r in jobs)
    policy = TRANSFORMS["GlueJobRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    [grant] = [s for s in policy if s["Action"] == "cloudwatch:PutMetricData"]
    assert grant["Resource"] == "*"  # PutMetricData has no resource-level permissions...
    # ...so the namespace condition is the whole scope: exactly the jobs' namespace.
    assert set(grant["Condition"]) == {"StringEquals"}
    assert {text(grant["Condition"]["StringEquals"]["cloudwatch:namespace"])} == _job_namespaces()
    assert _job_namespaces() == {monitoring.METRICS_NAMESPACE}


@pytest.mark.parametrize(
    "source", [s for s in SOURCES.values() if s.freshness is not None], ids=lambda s: s.name
)
def test_every_expected_freshness_has_its_alarm_on_the_metric_the_jobs_publish(source: SourceSpec) -> None:
    assert source.freshness is not None
    [alarm] = [a for a in alarms(DATA_AGE_METRIC).values() if dimension(a, "Source") == source.name]
    assert {text(alarm["Namespace"])} == _job_namespaces()
    lag = source.freshness.expected_lag_hours
    # The window is the lag, within the 7 days CloudWatch evaluates.
    window_s = min(lag, 168) * 3600
    assert (alarm["Threshold"], alarm["Period"], alarm["Statistic"]) == (lag, window_s, "Minimum")
    # No processing run in the window is no evidence of fresh data: missing data breaches.
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["AlarmActions"] == [{"Ref": "AlertsTopic"}]


def test_sources_without_an_expected_lag_have_no_freshness_alarm() -> None:
    watched = {dimension(a, "Source") for a in alarms(DATA_AGE_METRIC).values()}
    assert watched == {s.name for s in SOURCES.values() if s.freshness is not None}
    # Drops made by hand have no expected lag.
    assert {"ree", "tmdb", "eia"} <= watched and not watched & {"entsoe", "energy_company"}


def test_the_alerts_topic_takes_an_optional_email_and_only_this_stacks_alarms() -> None:
    template = TEMPLATES["monitoring"]
    assert text(MONITORING["AlertsTopic"]["Properties"]["TopicName"]) == "${Project}-${Env}-alerts"
    assert template["Parameters"]["AlertEmail"]["Default"] == ""
    subscription = MONITORING["AlertsEmailSubscription"]
    assert subscription["Condition"] == "HasAlertEmail"
    assert template["Conditions"]["HasAlertEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]
    }
    assert subscription["Properties"]["Protocol"] == "email"
    [statement] = MONITORING["AlertsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (
        statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        and statement["Action"] == "sns:Publish"
    )
    assert text(statement["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(":alarm:${Project}-${Env}-*")
    for env in ("dev", "prod"):
        assert load_params(env)["layers"]["monitoring"] == {"AlertEmail": ""}


def test_the_dashboard_shows_runs_dead_letters_job_seconds_freshness_and_api_latency() -> None:
    props = MONITORING["OperationsDashboard"]["Properties"]
    rendered = rendered_body(props["DashboardBody"])
    assert rendered is not None
    body = json.loads(rendered[0])
    metrics = [
        tuple(v for v in row if not isinstance(v, dict))
        for widget in body["widgets"]
        if widget["type"] == "metric"
        for row in widget["properties"]["metrics"]
    ]
    namespace = "<Project>/<Env>"
    for _source, function in scheduled_lambdas():
        name = monitoring.function_name(function).replace("${Project}-${Env}", "<Project>-<Env>")
        assert ("AWS/Lambda", "Invocations", "FunctionName", name) in metrics
        assert ("AWS/Lambda", "Errors", "FunctionName", name) in metrics
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"{name}-dlq") in metrics
    for source in SOURCES.values():  # every Glue job's duration
        assert (namespace, RUN_SECONDS_METRIC, "Source", source.name) in metrics
        if source.freshness is not None:
            assert (namespace, DATA_AGE_METRIC, "Source", source.name) in metrics
    assert ("AWS/ApiGateway", "Latency", "ApiId", "<ApiId>") in metrics
    assert ("AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", "<LoadBalancer>") in metrics
    # The API's identifiers come from the api layer's exports.
    variables = props["DashboardBody"]["Fn::Sub"][1]
    api_exports = {text(o["Export"]["Name"]) for o in TEMPLATES["api"]["Outputs"].values() if "Export" in o}
    for variable in ("ApiId", "LoadBalancer"):
        assert text(variables[variable]["Fn::ImportValue"]) in api_exports
    [alarm_widget] = [w for w in body["widgets"] if w["type"] == "alarm"]
    every_alarm = {n for n, r in MONITORING.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert {
        a.removeprefix("<").removesuffix(".Arn>") for a in alarm_widget["properties"]["alarms"]
    } == every_alarm


def test_a_newly_registered_source_gets_its_alarms_and_dashboard_lines_from_its_declaration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = scheduled_source("prices", "daily_fixtures:api_down_step")
    from datalake.datasets import DEMAND_HOURLY

    prices = dataclasses.replace(
        base,
        builders=SOURCES["ree"].builders[:1],
        freshness=Freshness(DEMAND_HOURLY, "local_date", dt.timedelta(hours=36)),
    )
    with with_sources(monkeypatch, prices):
        template = monitoring.monitoring_template()
        assert stale_monitoring_template({**TEMPLATES}) != []  # the committed file lacks them now
    resources = template["Resources"]
    assert {"PricesDailyErrorsAlarm", "PricesDailyDeadLetterAlarm", "PricesFreshnessAlarm"} <= set(resources)
    freshness = resources["PricesFreshnessAlarm"]["Properties"]
    assert (freshness["Threshold"], freshness["Period"]) == (36, 129_600)
    # Weekly data (a lag over 7 days) is watched over CloudWatch's longest window, 7 days.
    weekly = dataclasses.replace(
        prices, freshness=Freshness(DEMAND_HOURLY, "local_date", dt.timedelta(days=12))
    )
    [alarm] = monitoring.freshness_alarm(weekly).values()
    assert (alarm["Properties"]["Threshold"], alarm["Properties"]["Period"]) == (288, 604_800)
    assert "prices-daily-dlq" in text(resources["OperationsDashboard"]["Properties"]["DashboardBody"])
    assert monitoring_violations({**TEMPLATES, "monitoring": template}) == []


# -- CloudWatch's rules ----------------------------------------------------------------------------


def test_the_templates_break_no_monitoring_rule_and_deploy_check_runs_them() -> None:
    assert monitoring_violations(TEMPLATES) == []
    assert "monitoring" in [family.name for family in RULE_FAMILIES]
    assert set(MONITORING_RULES) <= set(RULE_DOCS)


def _alarm(template: dict[str, Any], name: str = "ReeDailyErrorsAlarm") -> dict[str, Any]:
    return template["Resources"][name]["Properties"]


def _body(template: dict[str, Any]) -> dict[str, Any]:
    sub = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    return {"sub": sub, "body": json.loads(sub[0])}


def _set_body(template: dict[str, Any], body: dict[str, Any]) -> None:
    template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0] = json.dumps(
        body
    )


def _widget_change(change: Callable[[list[dict[str, Any]]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(template: dict[str, Any]) -> None:
        body = _body(template)["body"]
        change(body["widgets"])
        _set_body(template, body)

    return apply


BROKEN: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "period of 90 s": (lambda t: _alarm(t).update(Period=90), "alarm-period"),
    "8 days of daily periods": (
        lambda t: _alarm(t).update(Period=86_400, EvaluationPeriods=8),
        "alarm-evaluation-range",
    ),
    "over a day of 5-minute periods": (
        lambda t: _alarm(t).update(EvaluationPeriods=289),
        "alarm-evaluation-range",
    ),
    "3 of 1 datapoints": (lambda t: _alarm(t).update(DatapointsToAlarm=3), "alarm-datapoints-to-alarm"),
    "a median statistic": (lambda t: _alarm(t).update(Statistic="Median"), "alarm-statistic"),
    "both statistics": (lambda t: _alarm(t).update(ExtendedStatistic="p99"), "alarm-statistic"),
    "missing data 'zero'": (lambda t: _alarm(t).update(TreatMissingData="zero"), "alarm-treat-missing-data"),
    "no alarm action": (lambda t: _alarm(t).update(AlarmActions=[]), "alarm-actions-to-topic"),
    "an action that is no topic": (
        lambda t: _alarm(t).update(AlarmActions=["arn:aws:sns:eu-west-1:123456789012:elsewhere"]),
        "alarm-actions-to-topic",
    ),
    "a misspelt Lambda metric": (lambda t: _alarm(t).update(MetricName="Error"), "alarm-metric-known"),
    "a queue metric by function": (
        lambda t: _alarm(t, "ReeDailyDeadLetterAlarm")["Dimensions"][0].update(Name="FunctionName"),
        "alarm-metric-known",
    ),
    "a run metric the code does not publish": (
        lambda t: _alarm(t, "ReeFreshnessAlarm").update(MetricName="DataAgeDays"),
        "alarm-metric-known",
    ),
    "a run metric in another namespace": (
        lambda t: _alarm(t, "ReeFreshnessAlarm").update(Namespace="datalake/other"),
        "alarm-metric-known",
    ),
    "a dashboard name with a space": (
        lambda t: t["Resources"]["OperationsDashboard"]["Properties"].update(
            DashboardName={"Fn::Sub": "${Project} ${Env} operations"}
        ),
        "dashboard-name",
    ),
    "a body that is no JSON": (
        lambda t: _body(t)["sub"].__setitem__(0, _body(t)["sub"][0].rstrip("}")),
        "dashboard-body",
    ),
    "a widget 30 columns wide": (_widget_change(lambda w: w[1].update(width=30)), "dashboard-body"),
    "a widget past the grid's edge": (_widget_change(lambda w: w[2].update(x=20)), "dashboard-body"),
    "a metric widget without a region": (
        _widget_change(lambda w: w[1]["properties"].pop("region")),
        "dashboard-body",
    ),
    "a graphed metric that does not exist": (
        _widget_change(
            lambda w: w[1]["properties"]["metrics"].append(["AWS/Lambda", "Crashes", "FunctionName", "f"])
        ),
        "alarm-metric-known",
    ),
    "an alarm widget naming a missing alarm": (
        _widget_change(lambda w: w[-1]["properties"]["alarms"].append("<GoneAlarm.Arn>")),
        "dashboard-body",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_rule_names_a_broken_alarm_or_dashboard(case: str) -> None:
    break_it, rule = BROKEN[case]
    template = copy.deepcopy(TEMPLATES["monitoring"])
    break_it(template)
    found = monitoring_violations({**TEMPLATES, "monitoring": template})
    assert [f.rule for f in found] == [rule], [str(f) for f in found]
    assert found[0].file == "cloudformation/monitoring.yaml"
    assert rule in MONITORING_RULES and PUBLISHED_METRICS
