"""Alerts of the local runtime: a JSON message posted to an incoming webhook (Slack, Teams).

On AWS the alarms publish to the ``<project>-<env>-alerts`` SNS topic (cloudformation/monitoring.yaml);
locally ``datalake run daily`` posts ``{"text": ...}``, the shape both Slack's and Teams' incoming
webhooks take, to ``ALERT_WEBHOOK_URL`` when a source fails. Such a URL carries its credential in its
path (``https://hooks.slack.com/services/T…/B…/<token>``), so it is held as a secret and only its
scheme and host are ever shown: in logs, run reports and error messages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr


def redact_url(url: str) -> str:
    """``scheme://host[:port]/…``: the URL without its path, query and user info (the credential)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme or '?'}://{host}{port}/…"


def _scrubbed(text: str, url: str) -> str:
    """``text`` with the URL, and any piece of its path or query, replaced by the redacted form."""
    parts = urlsplit(url)
    text = text.replace(url, redact_url(url))
    for secret in (parts.path, parts.query, parts.username, parts.password):
        if secret and len(secret) > 1:
            text = text.replace(secret, "/…")
    return text


@dataclass(frozen=True)
class AlertDelivery:
    """What became of one alert: where it went (redacted), the HTTP status, or why it did not arrive."""

    target: str
    delivered: bool
    status: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """One line for a summary."""
        if self.delivered:
            return f"alert posted to {self.target} (HTTP {self.status})"
        return f"alert NOT delivered to {self.target}: {self.error}"


def post_alert(url: SecretStr | str, text: str, *, timeout_s: float = 10.0) -> AlertDelivery:
    """POST ``{"text": text}`` to an incoming webhook; never raises.

    A webhook that is down, slow or refuses the message is reported in the result, so that an alert
    that cannot be sent never breaks the run it is about.

    Parameters
    ----------
    url
        The webhook (a secret: only :func:`redact_url` of it is ever shown).
    text
        The message.
    timeout_s
        Give up after this long (connecting, sending or waiting for the answer).

    Returns
    -------
    AlertDelivery
        ``delivered`` for a 2xx answer.
    """
    plain = url.get_secret_value() if isinstance(url, SecretStr) else url
    target = redact_url(plain)
    try:
        answer = httpx.post(plain, json={"text": text}, timeout=timeout_s, follow_redirects=False)
    except (httpx.HTTPError, ValueError) as error:  # ValueError: a URL httpx cannot use
        reason = _scrubbed(f"{type(error).__name__}: {error}", plain)
        return AlertDelivery(target, False, error=reason)
    if not answer.is_success:
        body = _scrubbed(answer.text.strip()[:200], plain)
        return AlertDelivery(
            target, False, answer.status_code, f"HTTP {answer.status_code}: {body}".rstrip(": ")
        )
    return AlertDelivery(target, True, answer.status_code)


def publish_alert_sns(topic_arn: str, subject: str, text: str, *, sns: Any) -> AlertDelivery:
    """Publish an alert to the alerts SNS topic (the AWS runtime's channel); never raises.

    Parameters
    ----------
    topic_arn
        The ``<project>-<env>-alerts`` topic (cloudformation/monitoring.yaml's ``AlertsTopic``).
    subject, text
        The message (SNS subjects are at most 100 characters: longer ones are cut).
    sns
        A boto3 SNS client (passed in: fakes over mocks).

    Returns
    -------
    AlertDelivery
        ``delivered`` with the topic as its target, or the client's error.
    """
    target = f"sns:{topic_arn.rsplit(':', 1)[-1]}"
    try:
        sns.publish(TopicArn=topic_arn, Subject=subject[:100], Message=text)
    except Exception as error:  # botocore's ClientError, endpoint and credential errors alike
        return AlertDelivery(target, False, error=f"{type(error).__name__}: {error}")
    return AlertDelivery(target, True, 200)
