"""boto3 sessions and clients that honour the lake's settings (region, endpoint override)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from datalake.settings import Settings, get_settings


def session(settings: Settings | None = None) -> boto3.session.Session:
    """A boto3 session in the configured region."""
    settings = settings or get_settings()
    return boto3.session.Session(region_name=settings.aws_region)


def client(
    service: str,
    boto3_session: boto3.session.Session | None = None,
    settings: Settings | None = None,
    **config: Any,
) -> Any:
    """A client for ``service`` that honours ``AWS_ENDPOINT_URL`` (moto, seaweedfs, LocalStack)."""
    settings = settings or get_settings()
    boto3_session = boto3_session or session(settings)
    retries = config.pop("retries", {"max_attempts": 5, "mode": "standard"})
    return boto3_session.client(
        service,
        endpoint_url=settings.aws_endpoint_url,
        region_name=boto3_session.region_name or settings.aws_region,
        config=Config(retries=retries, **config),
    )
