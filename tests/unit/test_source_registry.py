"""The registry of sources: the wiring derives from it, and the CloudFormation templates agree with it.

moto's CloudFormation skips Glue resources, so the job list is asserted here, as data: every
registered source has exactly one Glue job running glue_jobs/to_processed.py with ``--source NAME``,
every Glue job is a registered source, and the trigger's filters are the registered raw prefixes.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from tiny_source import TINY, TinySettings, registered
from typer.testing import CliRunner

from datalake.cli import app
from datalake.deploy.iam_glue import source_contract
from datalake.deploy.package import LAMBDA_BUNDLES, lambda_bundles
from datalake.deploy.templates import REPO_ROOT, load_params, load_template
from datalake.errors import ConfigurationError
from datalake.pipelines.trigger import raw_prefix_jobs, raw_prefix_of, start_transforms
from datalake.settings import Settings
from datalake.sources import energy_landing, entsoe, ree
from datalake.sources.registry import (
    ENERGY_COMPANY,
    ENTSOE,
    GLUE_SCRIPT,
    REE,
    SOURCES,
    CodeRef,
    Freshness,
    RowOwnership,
    SourceLambda,
    SourceSpec,
    UnknownSourceError,
    get_source,
    index_sources,
    raw_prefix_sources,
    scheduled_lambdas,
)
from datalake.sources.sample import SAMPLE_LABEL

TRANSFORMS = load_template("transforms")
INGESTION = load_template("ingestion")
SETTINGS = Settings(_env_file=None)


def sub_text(value: Any) -> str:
    """The format string of a ``Fn::Sub`` (either form), or the string itself."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub[0] if isinstance(sub, list) else sub
    return str(value)


def glue_jobs() -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in TRANSFORMS["Resources"].items()
        if resource["Type"] == "AWS::Glue::Job"
    }


def job_of(source: SourceSpec) -> tuple[str, dict[str, Any]]:
    [job] = [(n, p) for n, p in glue_jobs().items() if p["DefaultArguments"].get("--source") == source.name]
    return job


# -- the registry ---------------------------------------------------------------------------------


def test_an_unknown_source_is_refused_naming_the_registered_ones() -> None:
    with pytest.raises(UnknownSourceError) as error:
        get_source("no_such_source")
    assert all(name in str(error.value) for name in SOURCES), str(error.value)
    assert get_source("ree") is REE


@pytest.mark.parametrize("source", SOURCES.values(), ids=lambda s: s.name)
def test_every_code_reference_names_a_function(source: SourceSpec) -> None:
    references = [source.flatten, source.unreadable, source.process, *(b.build for b in source.builders)]
    for reference in (r for r in references if r is not None):
        assert callable(reference.resolve()), reference.path
    assert len({b.dataset.name for b in source.builders}) == len(source.builders)


def test_the_energy_company_process_builds_with_the_registered_builders() -> None:
    from datalake.transforms.energy_company import BUILDERS

    registered_builders = {b.dataset.table_name: b.build.resolve() for b in ENERGY_COMPANY.builders}
    assert registered_builders == BUILDERS


def test_raw_prefixes_are_where_the_source_modules_write() -> None:
    assert REE.raw_prefixes == (ree.RAW_PREFIX, ree.SAMPLE_RAW_PREFIX)
    assert ENERGY_COMPANY.raw_prefixes == (energy_landing.RAW_PREFIX,)
    assert all(
        raw_prefix_of(f"{p}/x.csv") == get_source("entsoe").raw_prefix for p in entsoe.RAW_PREFIX.values()
    )


@pytest.mark.parametrize("source", SOURCES.values(), ids=lambda s: s.name)
def test_each_job_name_is_a_documented_setting(source: SourceSpec) -> None:
    assert source.job_setting in Settings.model_fields
    example = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    assert re.search(rf"^{source.job_setting.upper()}=", example, re.MULTILINE), source.job_setting


def test_a_name_or_raw_prefix_registered_twice_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="registered twice"):
        index_sources(REE, REE)
    with pytest.raises(ConfigurationError, match="raw/ree_sample: both ree and copy"):
        index_sources(
            REE,
            SourceSpec(
                **{
                    **REE.__dict__,
                    "name": "copy",
                    "raw_prefixes": ("raw/ree_sample",),
                    "owned_values": {"raw/ree_sample": ("copied",)},
                }
            ),
        )
    # The trigger maps an object to raw/<its first folder>, so a prefix is exactly that.
    with pytest.raises(ConfigurationError, match="raw/<folder>"):
        SourceSpec(**{**REE.__dict__, "raw_prefixes": ("raw/ree/demand",)})
    with pytest.raises(ConfigurationError, match=r"package\.module:function"):
        CodeRef("documents_to_rows")


def test_each_raw_prefix_owns_its_source_values_in_the_shared_tables() -> None:
    # The labels the sources' parsers put in the `source` column.
    assert REE.ownership(ree.RAW_PREFIX) == RowOwnership("raw/ree", "source", (ree.REAL_LABEL,))
    assert REE.ownership(f"{ree.SAMPLE_RAW_PREFIX}/demand") == RowOwnership(
        "raw/ree_sample", "source", (SAMPLE_LABEL,)
    )
    assert ENTSOE.ownership("raw/entsoe") == RowOwnership("raw/entsoe", "source", (entsoe.SOURCE_LABEL,))
    assert ENERGY_COMPANY.ownership("raw/energy_company") is None  # the only writer of its tables
    with pytest.raises(ConfigurationError, match="source ree reads raw/ree, raw/ree_sample"):
        REE.ownership("raw/entsoe")


def test_a_table_shared_without_declared_owners_is_refused() -> None:
    undeclared = SourceSpec(**{**ENTSOE.__dict__, "owned_values": {}})
    with pytest.raises(
        ConfigurationError, match="demand_hourly is written from raw/ree, raw/ree_sample, raw/entsoe"
    ):
        index_sources(REE, undeclared)
    claims_sample = SourceSpec(**{**ENTSOE.__dict__, "owned_values": {"raw/entsoe": ("entsoe", "sample")}})
    with pytest.raises(
        ConfigurationError, match="source='sample' is claimed by both raw/ree_sample and raw/entsoe"
    ):
        index_sources(REE, claims_sample)
    with pytest.raises(ConfigurationError, match="owned_values must name each raw prefix"):
        SourceSpec(**{**REE.__dict__, "owned_values": {"raw/ree": ("ree",)}})
    with pytest.raises(ConfigurationError, match="'ree' is claimed by both raw/ree and raw/ree_sample"):
        SourceSpec(**{**REE.__dict__, "owned_values": {"raw/ree": ("ree",), "raw/ree_sample": ("ree",)}})
    with pytest.raises(ConfigurationError, match="owner_column 'origin' is not a column of demand_hourly"):
        SourceSpec(**{**REE.__dict__, "owner_column": "origin"})


def test_options_and_raw_prefixes_are_checked_by_the_source() -> None:
    assert ENERGY_COMPANY.parse_options({"day": "2024-06-03"}) == {"day": dt.date(2024, 6, 3)}
    assert ENERGY_COMPANY.parse_options({"day": ""}) == {}  # Glue's default: not given
    with pytest.raises(ConfigurationError, match="--day: 'June' is not valid"):
        ENERGY_COMPANY.parse_options({"day": "June"})
    with pytest.raises(ConfigurationError, match="--day: source ree takes no option"):
        REE.process_keywords(SETTINGS, {"day": dt.date(2024, 6, 3)})
    keywords = ENERGY_COMPANY.process_keywords(SETTINGS, {"day": dt.date(2024, 6, 3)})
    assert keywords == {"day": dt.date(2024, 6, 3), "max_line_bytes": SETTINGS.csv_max_line_bytes}
    assert REE.check_raw_prefix(None) == "raw/ree"
    assert REE.check_raw_prefix("raw/ree_sample/") == "raw/ree_sample"
    with pytest.raises(ConfigurationError, match="source ree reads raw/ree, raw/ree_sample"):
        REE.check_raw_prefix("raw/entsoe")


# -- the CloudFormation job list -----------------------------------------------------------------


def test_every_glue_job_runs_the_one_script_for_a_registered_source() -> None:
    jobs = glue_jobs()
    assert jobs
    by_source: dict[str, list[str]] = {}
    for name, props in jobs.items():
        assert sub_text(props["Command"]["ScriptLocation"]).endswith(f"/glue/{GLUE_SCRIPT}"), name
        source = props["DefaultArguments"].get("--source")
        assert source in SOURCES, f"{name}: --source {source!r} is not a registered source"
        by_source.setdefault(source, []).append(name)
    assert {s: len(names) for s, names in by_source.items()} == dict.fromkeys(SOURCES, 1)
    assert (REPO_ROOT / "glue_jobs" / GLUE_SCRIPT).is_file()


@pytest.mark.parametrize("source", SOURCES.values(), ids=lambda s: s.name)
def test_each_sources_job_has_its_arguments_name_and_concurrency(source: SourceSpec) -> None:
    logical_id, props = job_of(source)
    arguments = props["DefaultArguments"]
    assert {k: arguments[k] for k in source.job_arguments} == source.job_arguments
    # One run per raw prefix at a time: the trigger starts one per prefix.
    assert props["ExecutionProperty"]["MaxConcurrentRuns"] >= source.max_concurrent_runs
    # The job's name parameter defaults to the settings' local default for it.
    parameter = props["Name"]["Ref"]
    assert TRANSFORMS["Parameters"][parameter]["Default"] == Settings.model_fields[source.job_setting].default
    for env in ("dev", "prod"):  # each environment names its own job (never the local default)
        named = load_params(env)["layers"]["transforms"][parameter]
        assert named.startswith(f"datalake-{env}-") and named != SETTINGS.model_dump()[source.job_setting]
    exported = [o for o in TRANSFORMS["Outputs"].values() if o["Value"] == {"Ref": logical_id}]
    assert len(exported) == 1, f"{logical_id} is not exported for the trigger"


@pytest.mark.parametrize("source", SOURCES.values(), ids=lambda s: s.name)
def test_the_trigger_knows_each_sources_job_and_may_start_it(source: SourceSpec) -> None:
    logical_id, _props = job_of(source)
    [export] = [
        o["Export"]["Name"] for o in TRANSFORMS["Outputs"].values() if o["Value"] == {"Ref": logical_id}
    ]
    function = INGESTION["Resources"]["StartTransformFunction"]["Properties"]
    variable = function["Environment"]["Variables"][source.job_setting.upper()]
    assert sub_text(variable["Fn::ImportValue"]) == sub_text(export)
    role = INGESTION["Resources"]["StartTransformRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    [grant] = [s for s in role["Statement"] if "glue:StartJobRun" in s["Action"]]
    imported = [r["Fn::Sub"][1] for r in grant["Resource"]]
    assert any(sub_text(v["Fn::ImportValue"]) == sub_text(export) for i in imported for v in i.values())
    assert len(grant["Resource"]) == len(SOURCES)


def test_the_glue_role_writes_the_run_reports_of_exactly_the_registered_sources() -> None:
    policy = TRANSFORMS["Resources"]["GlueJobRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    [reports] = [s for s in policy["Statement"] if s["Sid"] == "WriteRunReports"]
    runs = {
        sub_text(r).split("/_runs/")[1].removesuffix("/*")
        for r in reports["Resource"]
        if "/_runs/" in sub_text(r)
    }
    assert runs == {source.run_name for source in SOURCES.values()}


def test_the_raw_object_rule_filters_exactly_the_registered_raw_prefixes() -> None:
    rule = INGESTION["Resources"]["RawObjectCreatedRule"]["Properties"]
    filters = rule["EventPattern"]["detail"]["object"]["key"]
    # The trailing / keeps raw/ree from matching raw/ree_sample's objects twice.
    assert sorted(f["prefix"] for f in filters) == sorted(f"{p}/" for p in raw_prefix_sources())
    assert raw_prefix_jobs() == {p: s.job_setting for p, s in raw_prefix_sources().items()}


@pytest.mark.parametrize(
    ("source", "function"),
    [(s, f) for s in SOURCES.values() for f in s.lambdas],
    ids=lambda v: v.name if hasattr(v, "name") else "",
)
def test_each_source_lambda_is_bundled_and_invoked_by_its_rule(source: SourceSpec, function: Any) -> None:
    assert LAMBDA_BUNDLES[function.name] == (function.folder, "")
    assert (REPO_ROOT / function.folder / "handler.py").is_file()
    resources = INGESTION["Resources"]
    [logical_id] = [
        name
        for name, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function"
        and sub_text(r["Properties"]["Code"]["S3Key"]).endswith(f"/lambda/{function.name}.zip")
    ]
    rule = resources[function.rule]
    assert rule["Type"] == "AWS::Events::Rule", function.rule
    assert {"Fn::GetAtt": [logical_id, "Arn"]} in [t["Arn"] for t in rule["Properties"]["Targets"]]


# -- one registration, wired everywhere -----------------------------------------------------------


def test_a_source_registered_once_reaches_the_cli_trigger_job_and_bundles(
    monkeypatch: pytest.MonkeyPatch, moto_settings: Settings
) -> None:
    from datalake import aws

    assert "tiny" not in SOURCES
    with registered(monkeypatch):
        assert get_source("tiny") is TINY
        # The trigger: its raw prefix starts its job, named by its setting.
        assert raw_prefix_of("raw/tiny/readings/year=2024/month=03/day=01/a.json") == "raw/tiny"
        assert raw_prefix_jobs()["raw/tiny"] == "tiny_glue_job"
        settings = TinySettings(
            **{k: getattr(moto_settings, k) for k in ("lake_runtime", "aws_endpoint_url", "aws_region")},
            _env_file=None,
        )
        glue = aws.client("glue", settings=settings)
        glue.create_job(
            Name=settings.tiny_glue_job,
            Role="arn:aws:iam::123456789012:role/datalake-glue",
            Command={"Name": "glueetl", "ScriptLocation": f"s3://artifacts/glue/{GLUE_SCRIPT}"},
        )
        moment = dt.datetime(2024, 3, 2, 6, tzinfo=dt.UTC)
        report = start_transforms(
            [("raw/tiny/readings/year=2024/month=03/day=01/a.json", moment)], settings, glue=glue
        )
        [started] = report.started
        assert (started.job, started.raw_prefix) == (settings.tiny_glue_job, "raw/tiny")
        [run] = glue.get_job_runs(JobName=settings.tiny_glue_job)["JobRuns"]
        assert run["Arguments"] == {"--raw_prefix": "raw/tiny"}
        # The Lambda bundles and the IAM contract of its job.
        assert lambda_bundles()["tiny_extract"] == ("lambdas/tiny_extract", "")
        contract = source_contract(TINY)
        assert (contract.run_name, contract.quarantines) == (
            "tiny_to_processed",
            ("tiny_readings", "tiny_unreadable"),
        )
        # The CLI takes it and checks its raw prefixes and options (the run itself:
        # tests/integration/test_source_registry_spark.py).
        refused = CliRunner().invoke(app, ["transform", "tiny", "--raw-prefix", "raw/ree"])
        assert refused.exit_code == 2 and "source tiny reads raw/tiny" in refused.output, refused.output
        refused = CliRunner().invoke(app, ["transform", "tiny", "--day", "2024-03-01"])
        assert refused.exit_code == 2 and "source tiny takes no option" in refused.output, refused.output
    assert "tiny" not in SOURCES and "raw/tiny" not in raw_prefix_jobs()
    unknown = CliRunner().invoke(app, ["transform", "tiny"])
    assert unknown.exit_code == 2 and "unknown source 'tiny'" in unknown.output, unknown.output


def test_the_cli_passes_a_sources_own_options_and_refuses_bad_values() -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["transform", "energy_company", "--day", "June", "--full"])
    assert bad.exit_code == 2 and "--day: 'June' is not valid" in bad.output, bad.output
    missing = runner.invoke(app, ["transform", "energy_company", "--day"])
    assert missing.exit_code == 2 and "--day: needs a value" in missing.output, missing.output
    listed = runner.invoke(app, ["transform", "--help"], env={"COLUMNS": "200"})
    assert all(f"- {name}:" in listed.output for name in SOURCES), listed.output


# -- schedules and freshness (issue 19) -----------------------------------------------------------


def _schedule_targets() -> dict[str, str]:
    """``{logical id of a function: its rule}`` for every EventBridge schedule of the ingestion layer."""
    resources = INGESTION["Resources"]
    return {
        target["Arn"]["Fn::GetAtt"][0]: name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Events::Rule" and "ScheduleExpression" in resource["Properties"]
        for target in resource["Properties"]["Targets"]
    }


@pytest.mark.parametrize(
    ("source", "function"),
    [(s, f) for s in SOURCES.values() for f in s.lambdas],
    ids=lambda v: v.name if hasattr(v, "name") else "",
)
def test_a_source_lambda_declares_its_daily_step_exactly_when_a_schedule_invokes_it(
    source: SourceSpec, function: SourceLambda
) -> None:
    rule = INGESTION["Resources"][function.rule]["Properties"]
    on_schedule = "ScheduleExpression" in rule
    fix = "a schedule: declare daily=CodeRef(...), its local run" if on_schedule else "no schedule"
    assert on_schedule == function.scheduled, (
        f"{function.name} (source {source.name}): {function.rule} is {fix}"
    )
    if function.scheduled:
        assert function.daily is not None and callable(function.daily.resolve()), function.daily
        assert function.function_name == function.name.replace("_", "-")


def test_every_scheduled_function_is_a_registered_source_lambda() -> None:
    functions = {
        name: sub_text(resource["Properties"]["Code"]["S3Key"]).rsplit("/", 1)[1].removesuffix(".zip")
        for name, resource in INGESTION["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    scheduled = {functions[logical_id] for logical_id in _schedule_targets()}
    assert scheduled == {function.name for _source, function in scheduled_lambdas()}
    assert scheduled >= {"ree_daily", "tmdb_daily"}


def test_freshness_is_declared_on_a_published_date_column_in_whole_hours() -> None:
    from datalake.datasets import DEMAND_HOURLY, GENERATION

    assert REE.freshness == Freshness(DEMAND_HOURLY, "local_date", dt.timedelta(hours=48))
    assert get_source("tmdb").freshness is not None and get_source("tmdb").freshness.column == "extracted_at"
    # Files dropped by hand have no expected cadence.
    assert ENTSOE.freshness is None and ENERGY_COMPANY.freshness is None
    with pytest.raises(ConfigurationError, match=r"demand_hourly\.region is a string, not a date"):
        Freshness(DEMAND_HOURLY, "region", dt.timedelta(hours=48))
    with pytest.raises(ConfigurationError, match="'day' is not a column of demand_hourly"):
        Freshness(DEMAND_HOURLY, "day", dt.timedelta(hours=48))
    for lag in (dt.timedelta(minutes=90), dt.timedelta(days=32), dt.timedelta(0)):
        with pytest.raises(ConfigurationError, match="whole hours, 1 to 744"):
            Freshness(DEMAND_HOURLY, "local_date", lag)
    with pytest.raises(ConfigurationError, match="freshness reads generation, which it does not publish"):
        SourceSpec(
            **{
                **ENTSOE.__dict__,
                "builders": ENTSOE.builders[:1],
                "freshness": Freshness(GENERATION, "local_date", dt.timedelta(hours=24)),
            }
        )
