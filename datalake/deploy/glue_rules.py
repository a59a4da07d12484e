"""AWS Glue's documented rules for crawlers and jobs, checked over the templates and ``crawlers/*.json``.

moto skips Glue resources and cfn-lint only checks their types, so a crawler that Glue's
``CreateCrawler`` rejects rolls the catalog stack back on the first real deploy and nowhere
before, and a job whose code Glue cannot import fails only when it first runs. Each rule here
cites the page that documents it; :func:`check_glue` runs them all and names the file, the
resource and the rule of every violation (``datalake deploy check`` can print them as they are).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from datalake.deploy.findings import Finding, template_file
from datalake.deploy.templates import LAYERS, REPO_ROOT, load_template, sub_text

CRAWLERS_DIR = REPO_ROOT / "crawlers"
_GLUE_DG = "https://docs.aws.amazon.com/glue/latest/dg"
_CFN = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference"

#: Rule id -> (what Glue requires, where AWS documents it).
CRAWLER_RULES: dict[str, tuple[str, str]] = {
    "crawler-incremental-needs-log": (
        "RecrawlBehavior CRAWL_NEW_FOLDERS_ONLY forces UpdateBehavior and DeleteBehavior to LOG",
        f"{_GLUE_DG}/incremental-crawls.html",
    ),
    "crawler-event-mode-needs-queue": (
        "RecrawlBehavior CRAWL_EVENT_MODE needs an EventQueueArn on every S3 target",
        f"{_GLUE_DG}/crawler-s3-event-notifications.html",
    ),
    "crawler-allowed-values": (
        "RecrawlBehavior, UpdateBehavior and DeleteBehavior take only their documented values",
        f"{_CFN}/aws-properties-glue-crawler-schemachangepolicy.html",
    ),
    "crawler-schedule-cron": (
        "a schedule is cron(Minutes Hours Day-of-month Month Day-of-week Year): six fields, one of the "
        "two day fields '?', and no rate faster than every 5 minutes",
        f"{_GLUE_DG}/monitor-data-warehouse-schedule.html",
    ),
    "crawler-configuration": (
        'Configuration is a JSON object with "Version": 1.0 and only the documented keys and values',
        f"{_GLUE_DG}/crawler-configuration.html",
    ),
    "crawler-table-level": (
        "TableLevelConfiguration is a positive integer counted from the bucket (the top folder is 1), "
        "no shallower than any S3 target path",
        f"{_GLUE_DG}/crawler-table-level.html",
    ),
    "crawler-merge-new-columns-needs-update": (
        'Tables.AddOrUpdateBehavior "MergeNewColumns" only acts with UpdateBehavior UPDATE_IN_DATABASE '
        "(LOG leaves the schema untouched, so the setting would promise what never happens)",
        f"{_GLUE_DG}/crawler-schema-changes-prevent.html",
    ),
}

_PYTHON_LIBRARIES = f"{_GLUE_DG}/aws-glue-programming-python-libraries.html"
#: Rule id -> (what Glue requires of a job, where AWS documents it).
JOB_RULES: dict[str, tuple[str, str]] = {
    "job-extra-py-files-importable": (
        "--extra-py-files lists .py files and .zip archives only: PySpark puts only .py/.zip/.egg files "
        "on its Python workers' path, so a wheel there imports on the driver and fails in mapInPandas",
        f"{_PYTHON_LIBRARIES}#aws-glue-programming-python-libraries-zipping",
    ),
    "job-requirements-file-needs-r": (
        "a requirements file in --additional-python-modules needs --python-modules-installer-option -r",
        f"{_PYTHON_LIBRARIES}#addl-python-modules-support",
    ),
    "job-keeps-glue-spark": (
        "--additional-python-modules never installs pyspark, py4j or awsglue: they are Glue's Spark runtime",
        f"{_PYTHON_LIBRARIES}#glue-modules-provided",
    ),
}
#: Parts of Glue's Spark runtime that pip must never replace.
GLUE_RUNTIME_DISTRIBUTIONS = frozenset({"pyspark", "py4j", "awsglue"})

RECRAWL_BEHAVIORS = frozenset({"CRAWL_EVERYTHING", "CRAWL_NEW_FOLDERS_ONLY", "CRAWL_EVENT_MODE"})
UPDATE_BEHAVIORS = frozenset({"LOG", "UPDATE_IN_DATABASE"})
DELETE_BEHAVIORS = frozenset({"LOG", "DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE"})
# What Glue assumes when the policy leaves a behaviour out (CreateCrawler's defaults).
DEFAULT_UPDATE_BEHAVIOR = "UPDATE_IN_DATABASE"
DEFAULT_DELETE_BEHAVIOR = "DEPRECATE_IN_DATABASE"
#: The documented keys of the Configuration JSON and, for enumerations, their only value.
_CONFIGURATION_KEYS: dict[str, Any] = {
    "Version": float,
    "CreatePartitionIndex": bool,
    "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas", "TableLevelConfiguration": int},
    "CrawlerOutput": {
        "Partitions": {"AddOrUpdateBehavior": "InheritFromTable"},
        "Tables": {"AddOrUpdateBehavior": "MergeNewColumns", "TableThreshold": int},
    },
}


# -- schedules ------------------------------------------------------------------------------------

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_DAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
#: Per field: (name, lowest, highest, names, extra wildcards besides , - * /).
_CRON_FIELDS = (
    ("Minutes", 0, 59, {}, ""),
    ("Hours", 0, 23, {}, ""),
    ("Day-of-month", 1, 31, {}, "?LW"),
    ("Month", 1, 12, _MONTHS, ""),
    ("Day-of-week", 1, 7, _DAYS, "?L"),
    ("Year", 1970, 2199, {}, ""),
)


def _cron_value(text: str, low: int, high: int, names: Mapping[str, int]) -> int:
    value = names.get(text.upper()) if names else None
    if value is None:
        if not text.isdigit():
            raise ValueError(f"{text!r} is not a number{' or a name' if names else ''}")
        value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}-{high}")
    return value


def _cron_field(text: str, low: int, high: int, names: Mapping[str, int], extra: str) -> set[int]:
    """The values one cron field selects (``?`` and ``L``/``W`` forms select none we count)."""
    if text == "?":
        if "?" not in extra:
            raise ValueError("'?' is not allowed here")
        return set()
    values: set[int] = set()
    for item in text.split(","):
        if item == "L" or (item.endswith(("L", "W")) and item[:-1].isdigit()):
            if item[-1] not in extra:
                raise ValueError(f"{item!r} is not allowed here")
            continue
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"{item!r} has no valid increment")
        if base == "*":
            first, last = low, high
        elif "-" in base:
            start, _, end = base.partition("-")
            first, last = _cron_value(start, low, high, names), _cron_value(end, low, high, names)
        else:
            first = _cron_value(base, low, high, names)
            last = high if step else first
        values |= set(range(first, last + 1, step or 1))
    return values


def cron_problem(expression: str) -> str | None:
    """Why Glue would refuse ``expression`` as a schedule, or None when it is valid."""
    match = re.fullmatch(r"cron\((.*)\)", expression.strip())
    if not match:
        return f"{expression!r} is not a cron(...) expression (Glue schedules take no rate())"
    fields = match.group(1).split()
    if len(fields) != 6:
        return f"{expression!r} has {len(fields)} fields; Glue cron has 6 (Minutes ... Year)"
    selected = []
    for text, (name, low, high, names, extra) in zip(fields, _CRON_FIELDS, strict=True):
        try:
            selected.append(_cron_field(text, low, high, names, extra))
        except ValueError as error:
            return f"{expression!r}: {name} {text!r}: {error}"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return f"{expression!r}: exactly one of Day-of-month and Day-of-week must be '?'"
    minutes, hours = sorted(selected[0]), selected[1]
    gaps = [b - a for a, b in itertools.pairwise(minutes)]
    if any(h + 1 in hours for h in hours) or hours >= {0, 23}:  # runs in consecutive hours
        gaps.append(60 - minutes[-1] + minutes[0])
    if gaps and min(gaps) < 5:
        return f"{expression!r} runs every {min(gaps)} minute(s); Glue's minimum is 5"
    return None


# -- crawlers -------------------------------------------------------------------------------------


def _schedule(crawler: Mapping[str, Any]) -> str | None:
    schedule = crawler.get("Schedule")
    if isinstance(schedule, Mapping):  # CloudFormation: {ScheduleExpression: ...}
        schedule = schedule.get("ScheduleExpression")
    return schedule if isinstance(schedule, str) else None


def _path_depth(path: str) -> int:
    """Folders below the bucket in an ``s3://bucket/a/b/`` path (here 2)."""
    return max(len([p for p in path.removeprefix("s3://").split("/") if p]) - 1, 0)


def _configuration_problems(value: Any, expected: Any, where: str) -> Iterable[str]:
    if isinstance(expected, dict):
        if not isinstance(value, dict):
            yield f"{where} must be an object"
            return
        for key, item in value.items():
            if key not in expected:
                yield f"{where}.{key} is not a documented key ({', '.join(expected)})"
            else:
                yield from _configuration_problems(item, expected[key], f"{where}.{key}")
    elif isinstance(expected, str):
        if value != expected:
            yield f"{where} is {value!r}; the only documented value is {expected!r}"
    elif expected is int and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        yield f"{where} must be a positive integer, not {value!r}"
    elif expected is bool and not isinstance(value, bool):
        yield f"{where} must be true or false, not {value!r}"


def crawler_violations(crawler: Mapping[str, Any], source: str, resource: str) -> list[Finding]:
    """Every rule ``crawler`` breaks, in either shape: an ``AWS::Glue::Crawler``'s properties or a
    ``CreateCrawler`` request (``crawlers/*.json``).

    Parameters
    ----------
    crawler
        The crawler's properties.
    source, resource
        Where it comes from (a template or definition file) and its logical id or name, for the report.
    """
    found: list[Finding] = []

    def broken(rule: str, message: str) -> None:
        found.append(Finding(rule, source, resource, message))

    recrawl = (crawler.get("RecrawlPolicy") or {}).get("RecrawlBehavior", "CRAWL_EVERYTHING")
    policy = crawler.get("SchemaChangePolicy") or {}
    update = policy.get("UpdateBehavior", DEFAULT_UPDATE_BEHAVIOR)
    delete = policy.get("DeleteBehavior", DEFAULT_DELETE_BEHAVIOR)
    for name, value, allowed in (
        ("RecrawlBehavior", recrawl, RECRAWL_BEHAVIORS),
        ("UpdateBehavior", update, UPDATE_BEHAVIORS),
        ("DeleteBehavior", delete, DELETE_BEHAVIORS),
    ):
        if value not in allowed:
            broken("crawler-allowed-values", f"{name} {value!r} is not one of {sorted(allowed)}")
    if recrawl == "CRAWL_NEW_FOLDERS_ONLY" and (update, delete) != ("LOG", "LOG"):
        broken(
            "crawler-incremental-needs-log",
            f"RecrawlBehavior CRAWL_NEW_FOLDERS_ONLY with UpdateBehavior {update} and DeleteBehavior "
            f"{delete}: Glue accepts incremental crawls only with both LOG",
        )
    s3_targets = (crawler.get("Targets") or {}).get("S3Targets") or []
    if recrawl == "CRAWL_EVENT_MODE" and not all(t.get("EventQueueArn") for t in s3_targets):
        broken(
            "crawler-event-mode-needs-queue", "CRAWL_EVENT_MODE with an S3 target that has no EventQueueArn"
        )

    schedule = _schedule(crawler)
    if schedule is not None and (problem := cron_problem(schedule)):
        broken("crawler-schedule-cron", problem)

    raw_configuration = crawler.get("Configuration")
    if raw_configuration is None or not isinstance(raw_configuration, str):
        return found  # absent, or an intrinsic this check cannot read
    try:
        configuration = json.loads(raw_configuration)
    except json.JSONDecodeError as error:
        broken("crawler-configuration", f"Configuration is not JSON: {error}")
        return found
    if not isinstance(configuration, dict) or configuration.get("Version") != 1.0:
        broken("crawler-configuration", 'Configuration needs "Version": 1.0')
    for problem in _configuration_problems(configuration, _CONFIGURATION_KEYS, "Configuration"):
        broken("crawler-configuration", problem)
    grouping = configuration.get("Grouping") if isinstance(configuration, dict) else None
    level = grouping.get("TableLevelConfiguration") if isinstance(grouping, dict) else None
    if level is not None:
        for target in s3_targets:
            path = sub_text(target.get("Path"))
            if path is None:
                continue
            depth = _path_depth(path)
            if isinstance(level, int) and not isinstance(level, bool) and level < max(depth, 1):
                broken(
                    "crawler-table-level",
                    f"TableLevelConfiguration {level} is above the target {path} (depth {depth} from the "
                    "bucket): its tables could never be inside the crawled folder",
                )
    tables = (
        (configuration.get("CrawlerOutput") or {}).get("Tables") if isinstance(configuration, dict) else None
    )
    if (
        isinstance(tables, dict)
        and tables.get("AddOrUpdateBehavior") == "MergeNewColumns"
        and update == "LOG"
    ):
        broken(
            "crawler-merge-new-columns-needs-update",
            "Tables.AddOrUpdateBehavior MergeNewColumns with UpdateBehavior LOG: no column is ever added",
        )
    return found


Templates = Mapping[str, Mapping[str, Any]]


def _resource_violations(
    kind: str,
    check: Callable[[Mapping[str, Any], str, str], list[Finding]],
    templates: Templates | None,
) -> list[Finding]:
    """``check`` over the properties of every resource of type ``kind`` (all layers by default)."""
    templates = templates if templates is not None else {layer: load_template(layer) for layer in LAYERS}
    return [
        violation
        for layer, template in templates.items()
        for name, resource in (template.get("Resources") or {}).items()
        if resource.get("Type") == kind
        for violation in check(resource.get("Properties") or {}, template_file(layer), name)
    ]


def template_crawler_violations(templates: Templates | None = None) -> list[Finding]:
    """The violations of every ``AWS::Glue::Crawler`` in ``templates`` (layer -> template; all by default)."""
    return _resource_violations("AWS::Glue::Crawler", crawler_violations, templates)


def definition_violations(folder: Path = CRAWLERS_DIR) -> list[Finding]:
    """The violations of every crawler definition (``crawlers/*.json``, ``CreateCrawler`` requests)."""
    found = []
    for path in sorted(folder.glob("*.json")):
        crawler = json.loads(path.read_text(encoding="utf-8"))
        found += crawler_violations(crawler, f"crawlers/{path.name}", crawler.get("Name", path.stem))
    return found


def check_crawlers(templates: Templates | None = None) -> list[Finding]:
    """Every crawler rule over the templates (all layers by default) and every crawler definition;
    empty when all hold."""
    return template_crawler_violations(templates) + definition_violations()


# -- jobs -----------------------------------------------------------------------------------------


def job_violations(job: Mapping[str, Any], source: str, resource: str) -> list[Finding]:
    """Every rule an ``AWS::Glue::Job``'s properties break (its Python code and modules)."""
    found: list[Finding] = []
    arguments = job.get("DefaultArguments") or {}
    extra_files = sub_text(arguments.get("--extra-py-files"))
    for path in (extra_files or "").split(","):
        if path and not path.strip().endswith((".py", ".zip")):
            found.append(
                Finding(
                    "job-extra-py-files-importable", source, resource, f"--extra-py-files has {path.strip()}"
                )
            )
    modules = sub_text(arguments.get("--additional-python-modules"))
    installer = sub_text(arguments.get("--python-modules-installer-option")) or ""
    if modules and modules.strip().endswith(".txt") and "-r" not in installer.split():
        found.append(
            Finding(
                "job-requirements-file-needs-r",
                source,
                resource,
                f"--additional-python-modules {modules} without --python-modules-installer-option -r",
            )
        )
    for item in (modules or "").split(","):
        name = re.split(r"[=<>~!\[; ]", item.strip(), maxsplit=1)[0].lower().replace("_", "-")
        if name in GLUE_RUNTIME_DISTRIBUTIONS:
            found.append(
                Finding(
                    "job-keeps-glue-spark", source, resource, f"--additional-python-modules installs {item}"
                )
            )
    return found


def template_job_violations(templates: Templates | None = None) -> list[Finding]:
    """The violations of every ``AWS::Glue::Job`` in ``templates`` (layer -> template; all by default)."""
    return _resource_violations("AWS::Glue::Job", job_violations, templates)


def check_glue(templates: Templates | None = None) -> list[Finding]:
    """Every Glue rule (crawlers and jobs) over the templates (all layers by default) and the crawler
    definitions."""
    return check_crawlers(templates) + template_job_violations(templates)
