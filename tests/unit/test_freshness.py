"""How fresh a source is: its newest processed value among its own rows, its age, the stale verdict,
and what a processing run records (the run report) and publishes (CloudWatch, on the aws runtime).

Tables are published as the jobs publish them, without Spark (processed_fixtures.publish_frames).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pandas as pd
import pytest
from processed_fixtures import demand_day, publish_frames
from typer.testing import CliRunner

from datalake import cli
from datalake.catalog.local import LocalCatalog
from datalake.cli import app
from datalake.datasets import DEMAND_HOURLY
from datalake.datasets.spec import ColumnSpec, DatasetSpec
from datalake.pipelines.freshness import (
    DATA_AGE_METRIC,
    RUN_SECONDS_METRIC,
    freshness_line,
    metric_data,
    newest_value,
    read_freshness,
    record_run_metrics,
    source_statuses,
)
from datalake.runs import RunReport, report_key
from datalake.settings import Settings
from datalake.sources.registry import REE, SOURCES, CodeRef, DatasetBuilder, Freshness, SourceSpec
from datalake.storage.local import LocalObjectStore

NOW = dt.datetime(2024, 4, 12, 6, 0, tzinfo=dt.UTC)


def rows(day: str, source: str) -> pd.DataFrame:
    """20 hours from the day's UTC midnight: all on that Madrid day (later hours are the next one)."""
    frame = demand_day(day, 25_000.0, hours=20)
    frame["source"] = source
    return frame


@pytest.fixture
def lake(lake_settings: Settings) -> LocalObjectStore:
    return LocalObjectStore(lake_settings.lake_root)


def test_the_newest_day_is_the_sources_own_in_the_newest_partition_holding_one(
    lake: LocalObjectStore, lake_settings: Settings
) -> None:
    # ENTSO-E's rows are newer (May), REE's own stop on 10 April: the table's newest day is not REE's.
    publish_frames(
        lake,
        DEMAND_HOURLY,
        {
            "year=2024/month=3": rows("2024-03-30", "ree"),
            "year=2024/month=4": [rows("2024-04-09", "ree"), rows("2024-04-10", "sample")],
            "year=2024/month=5": rows("2024-05-02", "entsoe"),
        },
        settings=lake_settings,
    )
    catalog = LocalCatalog(lake)
    # sample rows are REE's too (raw/ree_sample is one of its prefixes).
    assert newest_value(REE, lake, catalog, lake_settings) == dt.date(2024, 4, 10)
    reading = read_freshness(REE, lake, catalog, lake_settings, NOW)
    assert reading is not None
    # 2024-04-10 counts from its start: 2 days and 6 hours before NOW.
    assert (reading.newest, reading.age_hours, reading.expected_lag_hours) == ("2024-04-10", 54.0, 48)
    assert reading.stale
    fresh = read_freshness(REE, lake, catalog, lake_settings, dt.datetime(2024, 4, 11, 12, tzinfo=dt.UTC))
    assert fresh is not None and fresh.age_hours == 36.0 and not fresh.stale
    assert freshness_line(reading) == (
        "ree: newest demand_hourly.local_date 2024-04-10, 54.0 h old (expected within 48 h): STALE"
    )


def test_month_ten_is_newer_than_month_nine(lake: LocalObjectStore, lake_settings: Settings) -> None:
    # Partition values compare as numbers: "month=9" sorts after "month=10" as text.
    publish_frames(
        lake,
        DEMAND_HOURLY,
        {"year=2024/month=9": rows("2024-09-20", "ree"), "year=2024/month=10": rows("2024-10-02", "ree")},
        settings=lake_settings,
    )
    assert newest_value(REE, lake, LocalCatalog(lake), lake_settings) == dt.date(2024, 10, 2)


def test_no_rows_of_the_source_is_stale_and_says_so(lake: LocalObjectStore, lake_settings: Settings) -> None:
    catalog = LocalCatalog(lake)
    before = read_freshness(REE, lake, catalog, lake_settings, NOW)
    assert before is not None and (before.newest, before.age_hours, before.stale) == (None, None, True)
    publish_frames(
        lake, DEMAND_HOURLY, {"year=2024/month=4": rows("2024-04-11", "entsoe")}, settings=lake_settings
    )
    after = read_freshness(REE, lake, catalog, lake_settings, NOW)
    assert after is not None and after.newest is None and after.stale
    assert freshness_line(after) == "ree: no rows in demand_hourly yet (stale)"


EVENTS = DatasetSpec(
    name="test_events",
    description="Unpartitioned events with an extraction time (a test table)",
    columns=(
        ColumnSpec("event_id", "bigint", False, "Id"),
        ColumnSpec("extracted_at", "timestamp", False, "When it was fetched, UTC"),
    ),
    primary_key=("event_id",),
    source="test",
)
EVENT_SOURCE = SourceSpec(
    name="events",
    description="a test source",
    raw_prefixes=("raw/events",),
    file_format="json",
    file_pattern="*.json",
    flatten=CodeRef("x.y:f"),
    builders=(DatasetBuilder(CodeRef("x.y:g"), EVENTS),),
    unreadable=CodeRef("x.y:h"),
    problem_source="events",
    job_setting="events_glue_job",
    freshness=Freshness(EVENTS, "extracted_at", dt.timedelta(hours=6)),
)


def test_an_unpartitioned_table_is_read_whole_by_its_timestamp(
    lake: LocalObjectStore, lake_settings: Settings
) -> None:
    extracted = pd.to_datetime(["2024-04-12T01:30Z", "2024-04-11T23:00Z", "2024-04-10T08:00Z"])
    publish_frames(
        lake,
        EVENTS,
        {
            "": [
                pd.DataFrame({"event_id": [1, 2], "extracted_at": extracted[:2]}),
                pd.DataFrame({"event_id": [3], "extracted_at": extracted[2:]}),
            ]
        },
        settings=lake_settings,
    )
    reading = read_freshness(EVENT_SOURCE, lake, LocalCatalog(lake), lake_settings, NOW)
    assert reading is not None
    assert (reading.newest, reading.age_hours, reading.stale) == ("2024-04-12T01:30:00+00:00", 4.5, False)


def test_a_local_run_records_its_freshness_in_its_report_and_calls_no_aws(
    lake: LocalObjectStore, lake_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datalake import aws

    def no_aws(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the local runtime called AWS")

    monkeypatch.setattr(aws, "client", no_aws)
    publish_frames(
        lake, DEMAND_HOURLY, {"year=2024/month=4": rows("2024-04-11", "ree")}, settings=lake_settings
    )
    report = RunReport(job="ree_to_processed")
    lines: list[str] = []
    record_run_metrics(REE, report, 12.5, lake_settings, store=lake, progress=lines.append)
    recorded = report.details["freshness"]
    assert (recorded["source"], recorded["newest"], recorded["expected_lag_hours"]) == (
        "ree",
        "2024-04-11",
        48,
    )
    assert recorded["stale"] is (recorded["age_hours"] > 48)
    assert "metrics_error" not in report.details and "metrics_namespace" not in report.details
    assert lines and lines[0].startswith("ree: newest demand_hourly.local_date 2024-04-11")


class FailingCloudWatch:
    def put_metric_data(self, **_kwargs: Any) -> None:
        raise PermissionError("AccessDenied: cloudwatch:PutMetricData")


def test_metrics_that_cannot_be_published_are_recorded_and_fail_nothing(
    lake: LocalObjectStore, lake_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datalake import aws, runtime

    aws_settings = lake_settings.model_copy(update={"lake_runtime": "aws"})
    monkeypatch.setattr(aws, "client", lambda *_a, **_k: FailingCloudWatch())
    monkeypatch.setattr(runtime, "catalog", lambda *_a, **_k: LocalCatalog(lake))
    report = RunReport(job="ree_to_processed")
    record_run_metrics(REE, report, 3.0, aws_settings, store=lake)  # no exception
    assert report.details["metrics_error"] == "PermissionError: AccessDenied: cloudwatch:PutMetricData"
    assert report.details["freshness"]["stale"] is True  # read before the failed put


def test_metric_data_is_the_runs_seconds_and_the_age_when_known(
    lake: LocalObjectStore, lake_settings: Settings
) -> None:
    empty = read_freshness(EVENT_SOURCE, lake, LocalCatalog(lake), lake_settings, NOW)
    assert empty is not None and empty.age_hours is None
    assert [m["MetricName"] for m in metric_data("events", empty, 7.25)] == [RUN_SECONDS_METRIC]
    known = dataclasses.replace(empty, newest="2024-04-12", age_hours=6.0)
    data = metric_data("events", known, 7.25)
    assert [(m["MetricName"], m["Value"], m["Unit"]) for m in data] == [
        (RUN_SECONDS_METRIC, 7.25, "Seconds"),
        (DATA_AGE_METRIC, 6.0, "None"),
    ]
    assert all(m["Dimensions"] == [{"Name": "Source", "Value": "events"}] for m in data)


def _report(store: LocalObjectStore, job: str, started: str, status: str) -> None:
    report = RunReport(job=job, started_at=started, status=status, finished_at=started[:17] + "59+00:00")
    store.put_json(report_key(report), report.to_dict())


def test_status_shows_each_sources_last_success_newest_data_and_staleness(
    lake: LocalObjectStore, lake_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_frames(
        lake, DEMAND_HOURLY, {"year=2024/month=4": rows("2024-04-11", "ree")}, settings=lake_settings
    )
    _report(lake, "ree_to_processed", "2024-04-11T05:40:00.000001+00:00", "succeeded")
    _report(lake, "ree_to_processed", "2024-04-12T05:40:00.000001+00:00", "failed")
    statuses = {s.source: s for s in source_statuses(lake_settings, store=lake, now=NOW)}
    assert list(statuses) == list(SOURCES)  # every registered source, in registration order
    ree = statuses["ree"]
    assert (ree.scheduled, ree.last_success, ree.last_run_status) == (
        ("ree_daily",),
        "2024-04-11T05:40:59+00:00",
        "failed",
    )
    assert ree.freshness is not None and (ree.freshness.newest, ree.freshness.age_hours) == (
        "2024-04-11",
        30.0,
    )
    assert not ree.freshness.stale
    tmdb = statuses["tmdb"]
    assert tmdb.last_success is None and tmdb.freshness is not None and tmdb.freshness.stale  # no movies yet
    assert statuses["entsoe"].freshness is None and statuses["entsoe"].scheduled == ()

    # The command: one line per source, formatted (the clock is now: April 2024 is long stale).
    monkeypatch.setenv("LAKE_ROOT", str(lake_settings.lake_root))
    # The console's width is fixed when it is made (COLUMNS at import): set it, as xdist workers vary.
    monkeypatch.setattr(cli.console, "width", 200)
    result = CliRunner().invoke(app, ["status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 6}
    assert "2024-04-11 05:40 (last run failed)" in lines["ree"] and "2024-04-11" in lines["ree"]
    assert "STALE" in lines["ree"] and "48 h" in lines["ree"] and "ree_daily" in lines["ree"]
    assert "never" in lines["tmdb"] and "none" in lines["tmdb"] and "STALE" in lines["tmdb"]
    assert "no expectation" in lines["entsoe"] and "no expectation" in lines["energy_company"]


def test_status_counts_the_raw_zone_only_when_asked(lake: LocalObjectStore, lake_settings: Settings) -> None:
    from datalake.pipelines.lake import crawl_zones, lake_status
    from datalake.sources.ree import SAMPLE_RAW_PREFIX, write_raw
    from datalake.sources.ree_sample import sample_document

    publish_frames(
        lake, DEMAND_HOURLY, {"year=2024/month=4": rows("2024-04-11", "ree")}, settings=lake_settings
    )
    day = dt.date(2024, 4, 11)
    for geo in ("national", "peninsular"):
        write_raw(lake, "demand", day, sample_document("demand", day, day), geo, prefix=SAMPLE_RAW_PREFIX)
    crawl_zones(["raw", "processed"], lake_settings)

    def counts(**options: bool) -> dict[tuple[str, str], Any]:
        return {
            (t["database"], t["table"]): t["rows"] for t in lake_status(lake_settings, **options)["tables"]
        }

    raw, processed = ("datalake_raw", "ree_sample_demand"), ("datalake_processed", "demand_hourly")
    assert (counts()[raw], counts()[processed]) == (2, 20)  # a document per file; the hours
    # The demo's status: the processed rows only, the raw table listed with "-" (not read).
    assert (counts(count_raw=False)[raw], counts(count_raw=False)[processed]) == ("-", 20)


def test_status_formats_counts_for_people(
    lake: LocalObjectStore, lake_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    months = [(year, month) for year in range(2020, 2025) for month in range(1, 13)]
    frames = {f"year={y}/month={m}": rows(f"{y}-{m:02d}-11", "ree") for y, m in months}
    publish_frames(lake, DEMAND_HOURLY, frames, settings=lake_settings)
    monkeypatch.setenv("LAKE_ROOT", str(lake_settings.lake_root))
    monkeypatch.setattr(cli.console, "width", 200)
    result = CliRunner().invoke(app, ["status", "--no-count-raw"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if "demand_hourly" in line and "│" in line]
    assert "│ 60 " in line and "│ 1,200 " in line  # 60 partitions of 20 hours, thousands separated
