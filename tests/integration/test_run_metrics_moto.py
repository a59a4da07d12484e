"""On the aws runtime a processing run's end publishes its run metrics to CloudWatch (moto server):
the source's data age read from S3 and the Glue catalog, and the run's seconds, in the namespace
the stack's IAM grant names, with the Source dimension the alarms and the dashboard select by."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from processed_fixtures import demand_day, publish_frames

from datalake import aws
from datalake.catalog.glue import GlueCatalog
from datalake.datasets import DEMAND_HOURLY
from datalake.pipelines.freshness import (
    DATA_AGE_METRIC,
    RUN_SECONDS_METRIC,
    SOURCE_DIMENSION,
    record_run_metrics,
)
from datalake.runs import RunReport
from datalake.settings import Settings
from datalake.sources.registry import REE
from datalake.storage.s3 import S3ObjectStore


def test_a_run_on_aws_publishes_its_sources_age_and_its_seconds(moto_settings: Settings) -> None:
    settings = moto_settings.model_copy(update={"metrics_namespace": "datalake/test"})
    aws.client("s3", settings=settings).create_bucket(
        Bucket=settings.lake_bucket, CreateBucketConfiguration={"LocationConstraint": settings.aws_region}
    )
    aws.client("glue", settings=settings).create_database(DatabaseInput={"Name": settings.processed_database})
    store = S3ObjectStore(settings.lake_bucket, settings=settings)
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date()
    frame: pd.DataFrame = demand_day(yesterday.isoformat(), 25_000.0, hours=20)
    partition = f"year={yesterday.year}/month={yesterday.month}"
    publish_frames(
        store, DEMAND_HOURLY, {partition: frame}, catalog=GlueCatalog(settings=settings), settings=settings
    )

    report = RunReport(job="ree_to_processed")
    record_run_metrics(REE, report, 41.5, settings, store=store)

    assert "metrics_error" not in report.details, report.details
    assert report.details["metrics_namespace"] == "datalake/test"
    age = report.details["freshness"]["age_hours"]
    assert report.details["freshness"]["newest"] == yesterday.isoformat() and 24 <= age < 48
    cloudwatch = aws.client("cloudwatch", settings=settings)
    listed = cloudwatch.list_metrics(Namespace="datalake/test")["Metrics"]
    assert {(m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"])) for m in listed} == {
        (DATA_AGE_METRIC, ((SOURCE_DIMENSION, "ree"),)),
        (RUN_SECONDS_METRIC, ((SOURCE_DIMENSION, "ree"),)),
    }
    now = dt.datetime.now(dt.UTC)
    [point] = cloudwatch.get_metric_statistics(
        Namespace="datalake/test",
        MetricName=DATA_AGE_METRIC,
        Dimensions=[{"Name": SOURCE_DIMENSION, "Value": "ree"}],
        StartTime=now - dt.timedelta(hours=1),
        EndTime=now + dt.timedelta(minutes=5),
        Period=3600,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert point["Maximum"] == age
