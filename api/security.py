"""The optional API key (``X-API-Key``) and the per-client rate limit of a public deployment."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from datalake.errors import ConfigurationError
from datalake.settings import Settings

logger = logging.getLogger(__name__)

API_KEY_HEADER = "X-API-Key"


class ApiKeyGuard:
    """Knows the expected API key (from ``API_KEY`` or, on AWS, Secrets Manager) and checks one.

    The secret is read once per process (per Lambda container), on the first request that
    needs it. With neither ``API_KEY`` nor ``API_KEY_SECRET_ARN`` set, every request passes.

    Parameters
    ----------
    settings
        ``api_key`` / ``api_key_secret_arn``, and the region and endpoint of the client.
    boto3_session
        For the Secrets Manager client (tests pass one aimed at moto).
    """

    def __init__(self, settings: Settings, boto3_session: Any | None = None) -> None:
        self.settings = settings
        self._boto3_session = boto3_session
        self._key: bytes | None = None
        self._loaded = False
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether requests need a key."""
        plain = self.settings.api_key
        return bool(self.settings.api_key_secret_arn) or bool(plain and plain.get_secret_value())

    def expected(self) -> bytes | None:
        """The key requests must carry; None when the API is open.

        Raises
        ------
        ConfigurationError
            The secret cannot be read or holds no key (the API then refuses, it never opens up).
        """
        if self._loaded:
            return self._key
        with self._lock:
            if not self._loaded:
                self._key = self._resolve()
                self._loaded = True
        return self._key

    def _resolve(self) -> bytes | None:
        arn = self.settings.api_key_secret_arn
        if arn:
            return _key_from_secret(arn, self.settings, self._boto3_session).encode()
        plain = self.settings.api_key.get_secret_value() if self.settings.api_key else ""
        return plain.encode() if plain else None

    def is_valid(self, provided: str | None) -> bool:
        """Whether ``provided`` is the key (constant-time compare); True when the API is open."""
        expected = self.expected()
        if expected is None:
            return True
        if not provided:
            return False
        return hmac.compare_digest(provided.encode(), expected)


def _key_from_secret(arn: str, settings: Settings, boto3_session: Any | None) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    from datalake import aws

    try:
        payload = aws.client("secretsmanager", boto3_session, settings).get_secret_value(SecretId=arn)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise ConfigurationError(
            f"cannot read the API key secret: {code}",
            hint="check API_KEY_SECRET_ARN and the role's secretsmanager:GetSecretValue",
        ) from None
    except BotoCoreError as error:
        raise ConfigurationError(f"cannot read the API key secret: {error}") from None
    text = str(payload.get("SecretString") or "").strip()
    if text.startswith("{"):
        try:
            text = str(json.loads(text).get("api_key") or "").strip()
        except (ValueError, AttributeError):
            text = ""
    if not text:
        raise ConfigurationError("the API key secret is empty (expected the key, or JSON with api_key)")
    return text


def client_identity(api_key: str | None, client_host: str | None) -> str:
    """The rate limit's key: a digest of a valid API key, else the client's address."""
    if api_key:
        return "key:" + hashlib.sha256(api_key.encode()).hexdigest()[:16]
    return "ip:" + (client_host or "unknown")


class RateLimiter:
    """A token bucket per client: ``per_minute`` requests a minute, bursts up to that many.

    In memory, per process: with several uvicorn workers (or hosts) each allows the rate on
    its own, so the limit is per worker. ``API_RATE_LIMIT_BACKEND=postgres``
    (:class:`api.services.rate_limits.PostgresRateLimiter`) shares one bucket per client
    between them; API Gateway throttling or WAF rate rules in front limit before the app.

    Parameters
    ----------
    per_minute
        Sustained requests a minute per client; also the burst size.
    clock
        Seconds, monotonic (tests pass a fake).
    max_clients
        Buckets kept; full buckets (idle clients) are dropped past this.
    """

    def __init__(
        self, per_minute: int, clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, client: str) -> float | None:
        """Take a token for ``client``: None when allowed, else the seconds until the next token."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                if len(self._buckets) > self.max_clients:
                    self._prune(now)
                return None
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        full_after = self.capacity / self.rate
        for key, (_, then) in list(self._buckets.items()):
            if now - then >= full_after:
                del self._buckets[key]


def retry_after_header(seconds: float) -> str:
    """A Retry-After value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
