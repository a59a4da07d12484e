"""`datalake deploy smoke` without AWS: what it asks before spending money, the names and the event it
derives from the templates and the handlers. Its control flow runs against moto in
tests/integration/test_deploy_smoke_moto.py."""

from __future__ import annotations

import datetime as dt

import pytest
from aws_lambda_powertools.utilities.data_classes import S3Event
from typer.testing import CliRunner

from datalake.aws import s3_event_object
from datalake.cli import app
from datalake.deploy import smoke
from datalake.deploy.smoke import SmokeOptions, SmokeRun, s3_notification
from datalake.deploy.templates import load_params, load_template
from datalake.errors import ConfigurationError
from datalake.settings import Settings


def test_smoke_asks_before_creating_billable_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    reached: list[str] = []
    monkeypatch.setattr(smoke, "aws_ports", lambda *args: reached.append("aws") or pytest.fail("no AWS yet"))
    result = CliRunner().invoke(app, ["deploy", "smoke", "--env", "dev"], input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    assert "This deploys every layer of datalake-dev in eu-west-1" in result.output
    assert reached == []


def test_delete_retained_needs_teardown() -> None:
    result = CliRunner().invoke(app, ["deploy", "smoke", "--delete-retained", "--yes"])
    assert isinstance(result.exception, ConfigurationError)
    assert str(result.exception) == "--delete-retained needs --teardown"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_smoke_crawls_the_raw_zone_by_the_name_catalog_yaml_gives_it(env: str) -> None:
    run = SmokeRun(load_params(env), None, Settings(_env_file=None), SmokeOptions(env=env))  # type: ignore[arg-type]
    assert run.crawler_names() == [f"datalake-{env}-raw"]
    crawlers = load_template("catalog")["Resources"]
    assert crawlers["RawCrawler"]["Properties"]["DatabaseName"] == {"Ref": "RawDatabase"}
    # The processed zone has no crawler: the jobs register what they publish.
    assert not any(
        r["Properties"]["DatabaseName"] in ({"Ref": "ProcessedDatabase"}, {"Ref": "EnergyProcessedDatabase"})
        for r in crawlers.values()
        if r["Type"] == "AWS::Glue::Crawler"
    )


def test_the_sync_event_is_an_s3_notification_the_handler_reads_back() -> None:
    keys = ["processed/demand_hourly/year=2024/month=5/part-00000.parquet", "processed/a b/x=1/part.parquet"]
    when = dt.datetime(2024, 5, 15, 3, 4, 5, tzinfo=dt.UTC)
    event = S3Event(s3_notification("datalake-dev-lake-1", keys, when))
    read = [s3_event_object(record) for record in event.records]
    assert read == [(key, when) for key in keys]
    assert {record.s3.bucket.name for record in event.records} == {"datalake-dev-lake-1"}


def test_the_day_defaults_to_yesterday_in_madrid() -> None:
    run = SmokeRun(load_params("dev"), None, Settings(_env_file=None), SmokeOptions())  # type: ignore[arg-type]
    assert run.day == dt.datetime.now(smoke.MADRID).date() - dt.timedelta(days=1)
    sql = SmokeRun(
        load_params("dev"),
        None,
        Settings(_env_file=None),
        SmokeOptions(day=dt.date(2024, 3, 31)),  # type: ignore[arg-type]
    ).demand_count_sql()
    assert sql == (
        "SELECT count(*) AS hours FROM demand_hourly WHERE year = 2024 AND month = 3 "
        "AND local_date = DATE '2024-03-31' AND source = 'sample'"
    )
