"""``datalake run daily``: every scheduled source's daily step from the registry, one failing source
never stopping the others, the run report recording the failure, and the alert posted to a real
incoming-webhook server on loopback (in Slack's and Teams' {"text": ...} shape), whose failure breaks
nothing and whose secret path never shows. The sources run their labelled SAMPLE extracts, offline;
the transforms are stand-ins here (the Spark runs: tests/integration)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from daily_fixtures import TOKEN_PATH, scheduled_source, webhook, with_sources
from pydantic import SecretStr
from typer.testing import CliRunner

from datalake import cli
from datalake.alerts import post_alert, redact_url
from datalake.cli import app
from datalake.errors import ConfigurationError
from datalake.pipelines.daily import DailySteps, run_daily, scheduled_steps
from datalake.runs import RunReport, list_runs
from datalake.settings import Settings, get_settings
from datalake.sources.registry import SOURCES, SourceLambda, SourceSpec
from datalake.storage.local import LocalObjectStore

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2024, 10, 28, 5, 30, tzinfo=dt.UTC)
BROKEN = "daily_fixtures:api_down_step"


def settings_with(lake_settings: Settings, url: str | None = None, timeout_s: float = 5.0) -> Settings:
    return lake_settings.model_copy(
        update={"alert_webhook_url": SecretStr(url) if url else None, "alert_webhook_timeout_s": timeout_s}
    )


def daily_report(settings: Settings) -> RunReport:
    [report] = list_runs(LocalObjectStore(settings.lake_root), "run_daily")
    return report


#: The registry's scheduled Lambdas, in registration order: (source, function).
SCHEDULED = [(s.name, f.name) for s in SOURCES.values() for f in s.scheduled_lambdas]


def test_every_scheduled_lambda_of_the_registry_runs_its_daily_step(lake_settings: Settings) -> None:
    lines: list[str] = []
    run = run_daily(NOW, True, lake_settings, lines.append, steps=None)
    # Nothing listed by hand: what the registry schedules runs, REE, TMDB and EIA among them.
    assert [(o.source, o.function) for o in run.outcomes] == SCHEDULED
    assert {("ree", "ree_daily"), ("tmdb", "tmdb_daily"), ("eia", "eia_daily")} <= set(SCHEDULED)
    assert [o.status for o in run.outcomes] == ["succeeded"] * len(SCHEDULED)
    assert [[r.job for r in o.runs] for o in run.outcomes] == [[f"ingest_{f}_sample"] for _s, f in SCHEDULED]
    assert run.lake_steps == [] and run.alert is None  # extracts only; nothing failed
    report = daily_report(lake_settings)
    n = len(SCHEDULED)
    assert (report.status, report.rows_in, report.rows_out, report.rows_quarantined) == ("succeeded", n, n, 0)
    assert [o["status"] for o in report.details["outcomes"]] == ["succeeded"] * n
    assert run.report_uri.endswith(f"/_runs/run_daily/{Path(run.report_uri).name}")
    assert report.keys_written and all(
        k.startswith(("raw/ree_sample/", "raw/tmdb/", "raw/eia_sample/", "raw/weather/sample_forecast/"))
        for k in report.keys_written
    )


def test_one_failing_source_never_stops_the_others_and_the_alert_says_which(
    lake_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines: list[str] = []
    with webhook() as hook, with_sources(monkeypatch, scheduled_source("prices", BROKEN)):
        settings = settings_with(lake_settings, hook.url)
        run = run_daily(NOW, True, settings, lines.append, steps=None)
    # The failing source ran first; every other scheduled source still ran and succeeded.
    assert [(o.source, o.status) for o in run.outcomes] == [
        ("prices", "failed"),
        *[(source, "succeeded") for source, _f in SCHEDULED],
    ]
    failed = run.outcomes[0]
    assert failed.step == "extract" and failed.runs == []
    assert failed.error == "SourceError: prices API: 503 Service Unavailable after 4 attempts"
    # The report records the failure, marked failed with the reason, each outcome kept.
    report = daily_report(settings)
    n = len(SCHEDULED)
    assert report.status == "failed" and (report.rows_in, report.rows_out, report.rows_quarantined) == (
        n + 1,
        n,
        1,
    )
    assert report.error == (
        "DailyRunFailed: 1 failed: prices: SourceError: prices API: 503 Service Unavailable after 4 attempts"
    )
    assert [o["status"] for o in report.details["outcomes"]] == ["failed"] + ["succeeded"] * n
    # One alert, in the incoming-webhook shape: a JSON object with one "text", posted to the URL.
    [posted] = hook.received
    assert posted["path"] == TOKEN_PATH and posted["content_type"] == "application/json"
    assert list(posted["json"]) == ["text"]
    text = posted["json"]["text"]
    assert (
        text.splitlines()[0]
        == f"datalake daily run at 2024-10-28T05:30+00:00 (local runtime): 1 of {n + 1} step(s) failed"
    )
    assert "- prices (prices_daily) FAILED at extract: SourceError: prices API: 503" in text
    assert "- ree (ree_daily) succeeded in" in text and run.report_uri in text
    assert run.alert is not None and run.alert.delivered and run.alert.status == 200
    assert report.details["alert"] == {
        "target": f"{hook.base}/…",
        "delivered": True,
        "status": 200,
        "error": None,
    }
    # The URL's secret part is in no log line and nowhere in the stored report.
    documents = [p.read_text() for p in (settings.lake_root / "_runs" / "run_daily").glob("*.json")]
    for where in (*lines, *documents):
        assert "xoxb-very-secret-token" not in where and TOKEN_PATH not in where


@pytest.mark.parametrize(
    ("status", "delay_s", "timeout_s", "why"),
    [
        (500, 0.0, 5.0, "HTTP 500: invalid_token"),
        (200, 2.0, 0.5, "ReadTimeout"),
    ],
    ids=["server-error", "too-slow"],
)
def test_a_webhook_that_fails_breaks_nothing_and_is_recorded(
    lake_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    delay_s: float,
    timeout_s: float,
    why: str,
) -> None:
    with webhook(status, delay_s) as hook, with_sources(monkeypatch, scheduled_source("prices", BROKEN)):
        settings = settings_with(lake_settings, hook.url, timeout_s)
        run = run_daily(NOW, True, settings, steps=None, sources=["prices", "ree"])
    assert [(o.source, o.status) for o in run.outcomes] == [("prices", "failed"), ("ree", "succeeded")]
    assert run.alert is not None and not run.alert.delivered and why in (run.alert.error or "")
    recorded = daily_report(settings).details["alert"]
    assert recorded["delivered"] is False and why in recorded["error"]
    assert TOKEN_PATH not in json.dumps(recorded)


def test_an_unreachable_webhook_is_recorded_without_its_secret(lake_settings: Settings) -> None:
    with webhook() as hook:
        closed = hook.url  # the server is gone once the block ends: nothing listens on its port
    delivery = post_alert(SecretStr(closed), "test", timeout_s=2.0)
    assert not delivery.delivered and delivery.error and delivery.error.startswith("ConnectError")
    assert delivery.target == redact_url(closed) and TOKEN_PATH not in str(delivery)
    assert (
        redact_url("https://user:pw@hooks.slack.com:8443/services/T/B/x?sig=abc")
        == "https://hooks.slack.com:8443/…"
    )


def test_transforms_follow_the_prefixes_each_extract_wrote_and_a_bad_run_fails_only_its_source(
    lake_settings: Settings,
) -> None:
    calls: list[tuple[str, str]] = []
    lake_calls: list[str] = []

    def transform(name: str, prefix: str, settings: Settings, progress: object) -> RunReport:
        calls.append((name, prefix))
        # TMDB's run loses a record: the run is unbalanced, so its source fails at that step.
        report = RunReport(job=f"{name}_to_processed", status="unbalanced" if name == "tmdb" else "succeeded")
        report.keys_written = [f"processed/{name}/x.parquet"]
        return report

    def sync(settings: Settings, progress: object) -> list[RunReport]:
        lake_calls.append("sync")
        raise RuntimeError("warehouse down")

    steps = DailySteps(transform=transform, crawl=lambda s, p: lake_calls.append("crawl"), sync=sync)
    run = run_daily(NOW, True, lake_settings, steps=steps)
    # The S3 trigger's rule: a job run per raw prefix the extract wrote (the sample prefixes here).
    sample_prefix = {
        "ree": "raw/ree_sample",
        "tmdb": "raw/tmdb",
        "eia": "raw/eia_sample",
        "weather": "raw/weather",
    }
    assert calls == [(source, sample_prefix[source]) for source, _f in SCHEDULED]
    outcomes = {o.source: o for o in run.outcomes}
    ree, tmdb = outcomes["ree"], outcomes["tmdb"]
    assert ree.status == "succeeded" and [r.job for r in ree.runs] == [
        "ingest_ree_daily_sample",
        "ree_to_processed",
    ]
    assert (tmdb.status, tmdb.step) == ("failed", "transform raw/tmdb")
    assert tmdb.error and tmdb.error.startswith("IncompleteRunError: tmdb_to_processed ended unbalanced")
    # Crawl and sync run once, after every source; the sync's failure is reported, not raised.
    assert lake_calls == ["crawl", "sync"]
    assert [(s.name, s.status, s.error) for s in run.lake_steps] == [
        ("crawl", "succeeded", None),
        ("sync", "failed", "RuntimeError: warehouse down"),
    ]
    assert daily_report(lake_settings).status == "failed" and run.alert is None  # no webhook set


def test_sources_are_chosen_by_name_among_the_scheduled_ones() -> None:
    assert [f.name for _s, f in scheduled_steps(["tmdb"])] == ["tmdb_daily"]
    assert len(scheduled_steps()) == sum(len(s.scheduled_lambdas) for s in SOURCES.values())
    with pytest.raises(ConfigurationError, match="no scheduled Lambda for source entsoe"):
        scheduled_steps(["entsoe"])


def test_the_cli_summarises_each_source_and_exits_1_when_one_failed(
    lake_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKE_ROOT", str(lake_settings.lake_root))
    runner = CliRunner()
    # The console's width is fixed when it is made (COLUMNS at import): set it, as xdist workers vary.
    monkeypatch.setattr(cli.console, "width", 200)
    args = ["run", "daily", "--sample", "--extract-only", "--now", NOW.isoformat()]
    ok = runner.invoke(app, [*args, "--source", "ree"], env={"COLUMNS": "200"})
    assert ok.exit_code == 0, ok.output
    assert "1 of 1 source(s) succeeded; run report file://" in ok.output
    [row] = [line for line in ok.output.splitlines() if "ree_daily" in line and "succeeded" in line]
    assert "ingest_ree_daily_sample" in row and "12" in row  # 12 (dataset, region, day) files
    with webhook() as hook, with_sources(monkeypatch, scheduled_source("prices", BROKEN)):
        monkeypatch.setenv("ALERT_WEBHOOK_URL", hook.url)
        get_settings.cache_clear()  # the command reads the process-wide settings
        failed = runner.invoke(app, [*args, "--source", "prices"], env={"COLUMNS": "200"})
    assert failed.exit_code == 1, failed.output
    assert "0 of 1 source(s) succeeded, 1 step(s) failed" in failed.output
    assert "extract: SourceError: prices API: 503" in failed.output
    assert f"alert posted to {hook.base}/… (HTTP 200)" in failed.output and TOKEN_PATH not in failed.output
    assert len(hook.received) == 1
    refused = runner.invoke(app, [*args, "--source", "entsoe"], env={"COLUMNS": "200"}, terminal_width=200)
    assert refused.exit_code == 2 and "no scheduled Lambda for source entsoe" in refused.output


def _scheduled_event(function_name: str) -> Path:
    """The recorded EventBridge event of the schedule invoking ``<project>-<env>-<function_name>``."""
    events = sorted((REPO / "tests" / "events").glob("eventbridge_scheduled_*.json"))
    found = [
        path
        for path in events
        if any(
            r.endswith(f":rule/datalake-dev-{function_name}")
            for r in json.loads(path.read_text())["resources"]
        )
    ]
    assert len(found) == 1, f"no recorded scheduled event of {function_name} in tests/events/ ({found})"
    return found[0]


@pytest.mark.parametrize(
    ("source", "function"),
    [(s, f) for s in SOURCES.values() for f in s.scheduled_lambdas],
    ids=lambda v: getattr(v, "name", ""),
)
def test_each_daily_step_lands_what_its_lambda_lands_on_its_scheduled_event(
    source: SourceSpec,
    function: SourceLambda,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    load_lambda: Callable[[str], ModuleType],
) -> None:
    event = json.loads(_scheduled_event(function.function_name).read_text())
    moment = dt.datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    # Every *_sample setting on: the handlers read the process-wide settings, offline.
    for name in Settings.model_fields:
        if name.endswith("_sample"):
            monkeypatch.setenv(name.upper(), "true")
    keys: dict[str, set[str]] = {}
    for how in ("lambda", "daily"):
        lake = tmp_path / how
        monkeypatch.setenv("LAKE_ROOT", str(lake))
        get_settings.cache_clear()
        if how == "lambda":
            load_lambda(function.name).lambda_handler(event, None)
        else:
            assert function.daily is not None
            function.daily(moment, sample=True, settings=get_settings())
        keys[how] = {str(p.relative_to(lake)) for p in (lake / "raw").rglob("*") if p.is_file()}
    assert keys["lambda"] and keys["daily"] == keys["lambda"]
