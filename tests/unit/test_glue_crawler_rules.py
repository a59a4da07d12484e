"""Issue 15, finding 1: every crawler, in every template and in crawlers/*.json, keeps Glue's
documented CreateCrawler rules (datalake.deploy.glue_rules). moto skips Glue resources, so this
is the only place a crawler Glue would refuse is caught before a real deploy rolls back."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from datalake.deploy.glue_rules import (
    CRAWLER_RULES,
    CRAWLERS_DIR,
    crawler_violations,
    cron_problem,
    template_crawler_violations,
)
from datalake.deploy.templates import LAYERS, load_template

TEMPLATES = {layer: load_template(layer) for layer in LAYERS}


def every_crawler() -> list[tuple[str, str, dict[str, Any]]]:
    """(source file, resource, properties) of each crawler in the templates and crawlers/*.json."""
    found = [
        (f"cloudformation/{layer}.yaml", name, resource["Properties"])
        for layer, template in TEMPLATES.items()
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Glue::Crawler"
    ]
    for path in sorted(CRAWLERS_DIR.glob("*.json")):
        crawler = json.loads(path.read_text(encoding="utf-8"))
        found.append((f"crawlers/{path.name}", crawler["Name"], crawler))
    return found


CRAWLERS = every_crawler()


def incremental(crawler: dict[str, Any], update: str, delete: str = "LOG") -> dict[str, Any]:
    changed = copy.deepcopy(crawler)
    changed["RecrawlPolicy"] = {"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}
    changed["SchemaChangePolicy"] = {"UpdateBehavior": update, "DeleteBehavior": delete}
    return changed


def test_finding_1_the_walk_finds_all_four_crawlers() -> None:
    # The raw zone's two, in the template and in crawlers/*.json (the processed zone has none).
    assert len([c for c in CRAWLERS if c[0].endswith(".yaml")]) == 2
    assert len([c for c in CRAWLERS if c[0].endswith(".json")]) == 2


@pytest.mark.parametrize(
    ("source", "resource", "crawler"), CRAWLERS, ids=[f"{s}:{r}" for s, r, _ in CRAWLERS]
)
def test_finding_1_every_crawler_keeps_glues_documented_rules(
    source: str, resource: str, crawler: dict
) -> None:
    violations = crawler_violations(crawler, source, resource)
    assert not violations, "\n".join(str(v) for v in violations)


def test_finding_1_incremental_crawl_that_updates_the_schema_is_refused_and_named() -> None:
    template = copy.deepcopy(TEMPLATES["catalog"])
    raw = template["Resources"]["RawCrawler"]["Properties"]
    template["Resources"]["RawCrawler"]["Properties"] = incremental(raw, "UPDATE_IN_DATABASE")
    [violation] = template_crawler_violations({"catalog": template})
    assert (violation.file, violation.resource, violation.rule) == (
        "cloudformation/catalog.yaml",
        "RawCrawler",
        "crawler-incremental-needs-log",
    )
    assert "UPDATE_IN_DATABASE" in str(violation) and "LOG" in str(violation)
    # DeleteBehavior counts too, and so does a policy left out (Glue's defaults are not LOG).
    assert crawler_violations(incremental(raw, "LOG", "DEPRECATE_IN_DATABASE"), "t", "r")
    bare = incremental(raw, "LOG")
    del bare["SchemaChangePolicy"]
    assert [v.rule for v in crawler_violations(bare, "t", "r")] == ["crawler-incremental-needs-log"]
    # The documented valid form: incremental with both behaviours LOG.
    assert crawler_violations(incremental(raw, "LOG", "LOG"), "t", "r") == []


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("cron(15 6 * * ? *)", None),
        ("cron(0/5 8-17 ? * MON-FRI *)", None),
        ("cron(0 8 L * ? *)", None),
        ("rate(1 day)", "not a cron"),
        ("cron(15 6 * * ?)", "5 fields"),
        ("cron(15 6 * * * *)", "exactly one of"),
        ("cron(15 6 ? * ? *)", "exactly one of"),
        ("cron(0 24 * * ? *)", "outside 0-23"),
        ("cron(0 6 * FOO ? *)", "not a number or a name"),
        ("cron(0/2 * * * ? *)", "every 2 minute(s)"),
        ("cron(58,1 * * * ? *)", "every 3 minute(s)"),
    ],
)
def test_finding_1_schedules_follow_glues_cron_format(expression: str, fragment: str | None) -> None:
    problem = cron_problem(expression)
    if fragment is None:
        assert problem is None
    else:
        assert problem is not None and fragment in problem


def test_finding_1_configuration_and_table_level_rules() -> None:
    [(_, _, raw)] = [c for c in CRAWLERS if c[1] == "RawCrawler"]

    def rules_with(configuration: Any, update: str = "UPDATE_IN_DATABASE") -> list[str]:
        crawler = copy.deepcopy(raw)
        crawler["Configuration"] = (
            configuration if isinstance(configuration, str) else json.dumps(configuration)
        )
        crawler["SchemaChangePolicy"]["UpdateBehavior"] = update
        return [v.rule for v in crawler_violations(crawler, "t", "RawCrawler")]

    assert rules_with({"Version": 1.0, "Grouping": {"TableLevelConfiguration": 3}}) == []
    assert rules_with({"Grouping": {"TableLevelConfiguration": 3}}) == ["crawler-configuration"]
    assert rules_with("{Version: 1.0}") == ["crawler-configuration"]
    assert rules_with({"Version": 1.0, "Grouping": {"TableLevel": 3}}) == ["crawler-configuration"]
    assert rules_with(
        {"Version": 1.0, "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "Merge"}}}
    ) == ["crawler-configuration"]
    # Levels count from the bucket (raw/ is 1); a target deeper than the table level is refused.
    assert "crawler-configuration" in rules_with({"Version": 1.0, "Grouping": {"TableLevelConfiguration": 0}})
    deep = copy.deepcopy(raw)
    deep["Targets"]["S3Targets"][0]["Path"] = {
        "Fn::Sub": ["s3://${LakeBucket}/raw/ree/demand/year=2024/", {}]
    }
    assert [v.rule for v in crawler_violations(deep, "t", "r")] == ["crawler-table-level"]
    merge = {"Version": 1.0, "CrawlerOutput": {"Tables": {"AddOrUpdateBehavior": "MergeNewColumns"}}}
    assert rules_with(merge) == []
    assert rules_with(merge, update="LOG") == ["crawler-merge-new-columns-needs-update"]


def test_finding_1_every_rule_cites_its_aws_page() -> None:
    for rule, (summary, url) in CRAWLER_RULES.items():
        assert url.startswith("https://docs.aws.amazon.com/"), rule
        assert summary, rule
