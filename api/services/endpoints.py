"""A SageMaker endpoint called with JSON: the one place that maps its failures to HTTP errors.

/forecast (the demand forecaster), /predict (the movie-success classifier) and /predict/sales (the
store-sales regressor) call an endpoint this way when they run on AWS without the model's libraries
in the process (the API Lambda's layer has neither torch nor scikit-learn nor MLflow).
"""

from __future__ import annotations

import json
from typing import Any

from api.errors import ServiceUnavailableError, UpstreamError
from datalake.errors import DataValidationError, LakeError
from datalake.settings import Settings


def serving_backend(choice: str, endpoint_name: str | None, settings: Settings) -> str:
    """``local`` or ``endpoint`` for a backend setting (``auto``: the endpoint on AWS when one is named)."""
    if choice != "auto":
        return choice
    if settings.lake_runtime == "aws" and (endpoint_name or "").strip():
        return "endpoint"
    return "local"


class JsonEndpoint:
    """``InvokeEndpoint`` with a JSON body and a JSON answer, and ``DescribeEndpoint`` for /health.

    Parameters
    ----------
    name
        The endpoint's name; empty means none is configured (every call is a 503).
    settings
        For the AWS clients (region, endpoint overrides).
    what
        How errors name it ("forecast endpoint", "movie-success endpoint").
    hint
        What to set when no endpoint is configured (the setting's environment variable).
    client
        A ``sagemaker-runtime`` client; built from ``boto3_session`` and settings on first use.
    boto3_session
        For the clients built here.
    client_errors
        The model validates what the API cannot (the store-sales model knows its stores): a 400 from
        it whose JSON body names a ``field`` is the caller's error, raised as
        :class:`~datalake.errors.DataValidationError` (a 422) instead of a 502.
    """

    def __init__(
        self,
        name: str | None,
        settings: Settings,
        *,
        what: str,
        hint: str,
        client: Any | None = None,
        boto3_session: Any | None = None,
        client_errors: bool = False,
    ) -> None:
        self.name = (name or "").strip()
        self.settings = settings
        self.what = what
        self.hint = hint
        self._client = client
        self._boto3_session = boto3_session
        self.client_errors = client_errors

    @property
    def label(self) -> str:
        """``<what> <name>``, as errors say it."""
        return f"{self.what} {self.name}"

    def runtime(self) -> Any:
        """The ``sagemaker-runtime`` client (few retries: a caller is waiting)."""
        if self._client is None:
            from datalake import aws

            # The endpoint's own timeout is 60 s at most; API Gateway gives up at 29 s.
            self._client = aws.client(
                "sagemaker-runtime",
                self._boto3_session,
                self.settings,
                retries={"max_attempts": 2, "mode": "standard"},
                read_timeout=30,
            )
        return self._client

    def invoke(self, payload: Any) -> Any:
        """Send ``payload`` as JSON; the answer parsed from JSON.

        Raises
        ------
        ServiceUnavailableError
            No endpoint is configured, or it does not exist, is not in service, throttles, or
            cannot be reached (503).
        UpstreamError
            The model container failed, or its answer is not JSON (502).
        """
        from botocore.exceptions import BotoCoreError, ClientError

        if not self.name:
            raise ServiceUnavailableError(f"no {self.what} configured", hint=f"set {self.hint}")
        try:
            response = self.runtime().invoke_endpoint(
                EndpointName=self.name,
                ContentType="application/json",
                Accept="application/json",
                Body=json.dumps(payload, default=str).encode(),
            )
            body = response["Body"].read()
        except ClientError as error:
            info = error.response.get("Error", {})
            code, message = info.get("Code", "error"), info.get("Message", "")
            if code == "ModelError":
                refused = self._refused_input(error.response)
                if refused is not None:
                    raise refused from None
                raise UpstreamError(
                    f"{self.label}: the model failed "
                    f"({error.response.get('OriginalStatusCode', '?')}): {message[:300]}"
                ) from None
            raise ServiceUnavailableError(f"{self.label} unavailable: {code}: {message[:300]}") from None
        except BotoCoreError as error:
            raise ServiceUnavailableError(f"{self.label} unreachable: {error}") from None
        try:
            return json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise UpstreamError(f"{self.label} answered something that is not JSON") from None

    def _refused_input(self, response: dict[str, Any]) -> DataValidationError | None:
        """The model's 400 naming a field, as a DataValidationError; None for any other failure."""
        if not self.client_errors or str(response.get("OriginalStatusCode")) != "400":
            return None
        try:
            body = json.loads(response.get("OriginalMessage") or "")
        except (TypeError, ValueError):
            return None
        if not isinstance(body, dict) or not isinstance(body.get("field"), str):
            return None
        reason = body.get("reason") or str(body.get("error", "")).removeprefix(f"{body['field']}: ")
        return DataValidationError(body["field"], str(reason))

    def status(self) -> str:
        """The endpoint's ``EndpointStatus`` (``InService``, ``Creating``, ...).

        Raises
        ------
        ServiceUnavailableError
            When it cannot be described (missing, no permission, unreachable).
        """
        from botocore.exceptions import BotoCoreError, ClientError

        from datalake import aws

        try:
            client = aws.client("sagemaker", self._boto3_session, self.settings, retries={"max_attempts": 1})
            return str(client.describe_endpoint(EndpointName=self.name)["EndpointStatus"])
        except (ClientError, BotoCoreError) as error:
            raise ServiceUnavailableError(f"cannot describe {self.label}: {error}") from None

    def readiness(self) -> dict[str, Any]:
        """What /health/details reports of a model served here: the endpoint and its status.

        Raises
        ------
        ServiceUnavailableError
            When it cannot be described.
        LakeError
            When it exists but is not ``InService``.
        """
        status = self.status()
        if status != "InService":
            raise LakeError(f"{self.label} is {status}")
        return {"backend": "endpoint", "endpoint": self.name, "status": status}
