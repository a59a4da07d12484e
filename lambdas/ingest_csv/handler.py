"""Lambda: a drop lands (S3 ObjectCreated) -> a copy in raw/energy_company/, raw/owid/ (an OWID CSV
or XLSX) or raw/store_sales/ (Rossmann's sales or stores), told by its header, or in rejected/ with why."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake.aws import s3_event_object
from datalake.errors import DataValidationError
from datalake.pipelines.ingest import land_energy_drops
from datalake.settings import get_settings

logger = Logger(service="ingest_csv")


@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext | None) -> dict[str, Any]:
    landing_bucket = get_settings().landing_bucket
    drops = []
    for record in event.records:
        if record.s3.bucket.name != landing_bucket:
            # A notification wired to another bucket would read the wrong objects; say so, drop nothing.
            raise DataValidationError(
                "Records[].s3.bucket.name",
                f"{record.s3.bucket.name!r} is not LANDING_BUCKET {landing_bucket!r}",
            )
        # The event time dates the drop.
        drops.append(s3_event_object(record))
    report = land_energy_drops(drops)
    summary = {k: v for k, v in report.to_dict().items() if k != "timings_s"}
    logger.info("csv drops landed", extra=summary)
    return summary
