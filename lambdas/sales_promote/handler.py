"""Lambda: a finished sales training job -> move the MLflow aliases (evaluate and promote).

The state machine's ``EvaluateAndPromote`` state invokes it synchronously with
``{"training_job_name": ..., "model_artifacts": "s3://.../model.tar.gz", "execution_arn": ...}``
(:class:`datalake.sales_aws.PromoteEvent`); it reads the job's ``evaluation.json`` from the archive
and promotes the challenger only when it beats the champion. An error fails the state, whose
catch-all publishes to the alerts topic.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake import aws
from datalake.sales_aws import mlflow_registry, run_promote

logger = Logger(service="sales_promote")


def lambda_handler(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    outcome = run_promote(event, aws.client("s3"), mlflow_registry())
    logger.info("sales promotion", extra=outcome)
    return outcome
