"""boto3 sessions and clients that honour the lake's settings (region, endpoint override)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import boto3
from botocore.config import Config

from datalake.settings import Settings, get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord


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


class _EndpointSession(boto3.session.Session):
    """A session whose clients and resources default to one endpoint (moto, LocalStack).

    Third-party SDKs (the SageMaker SDK) build their own clients from a session and never pass
    ``endpoint_url``; this is how ``AWS_ENDPOINT_URL`` reaches them too. It shares the botocore
    session of ``base``: same (refreshing) credentials, same registered event hooks.
    """

    def __init__(self, endpoint_url: str, base: boto3.session.Session, region_name: str) -> None:
        self._endpoint_url = endpoint_url
        super().__init__(botocore_session=base._session, region_name=region_name)

    def _setup_loader(self) -> None:
        # ``base`` already put boto3's data path on the shared loader.
        self._loader = self._session.get_component("data_loader")

    def _register_default_handlers(self) -> None:
        # ``base`` registered boto3's handlers on the shared botocore session; registering them
        # twice makes every later S3 client fail ("Cannot inject class attribute upload_file").
        pass

    def client(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("endpoint_url") is None and len(args) < 6:  # 6th positional is endpoint_url
            kwargs["endpoint_url"] = self._endpoint_url
        return super().client(*args, **kwargs)

    def resource(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("endpoint_url") is None and len(args) < 6:
            kwargs["endpoint_url"] = self._endpoint_url
        return super().resource(*args, **kwargs)


def routed_session(
    settings: Settings | None = None, boto3_session: boto3.session.Session | None = None
) -> boto3.session.Session:
    """A session for SDKs that create their own clients, routed to ``AWS_ENDPOINT_URL`` when set.

    Parameters
    ----------
    settings
        Lake settings (region, endpoint override); the process-wide ones when omitted.
    boto3_session
        Session whose credentials and event hooks to keep; a new one in the configured region
        when omitted.

    Returns
    -------
    boto3.session.Session
        ``boto3_session`` itself when no endpoint override is set, otherwise a session sharing its
        botocore session (credentials, event hooks) whose clients all default to the override.
    """
    settings = settings or get_settings()
    boto3_session = boto3_session or session(settings)
    if not settings.aws_endpoint_url:
        return boto3_session
    return _EndpointSession(
        settings.aws_endpoint_url, boto3_session, boto3_session.region_name or settings.aws_region
    )


def s3_event_object(record: S3EventRecord) -> tuple[str, dt.datetime]:
    """The object key and event time (UTC) of one S3 ObjectCreated record."""
    # S3 event keys arrive URL-encoded ("year%3D2024" and "+" for spaces); eventTime is UTC ISO 8601.
    return unquote_plus(record.s3.get_object.key), dt.datetime.fromisoformat(record.event_time)


def secret_string(
    arn: str,
    label: str,
    setting: str,
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
) -> str:
    """The text of a Secrets Manager secret; errors name the secret and the setting, never a value.

    Raises
    ------
    ConfigurationError
        When the secret cannot be read (its error code, or the client's error).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from datalake.errors import ConfigurationError

    try:
        return str(
            client("secretsmanager", boto3_session, settings).get_secret_value(SecretId=arn)["SecretString"]
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise ConfigurationError(
            f"cannot read {label} secret {arn}: {code}",
            hint=f"check {setting} and the role's secretsmanager:GetSecretValue",
        ) from None
    except (BotoCoreError, KeyError) as exc:
        raise ConfigurationError(
            f"cannot read {label} secret {arn}: {exc}", hint=f"check {setting}"
        ) from None
