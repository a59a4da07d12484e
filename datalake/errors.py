"""The lake's exceptions: each names what failed and why, so the CLI and API can say it in one line."""

from __future__ import annotations


class LakeError(Exception):
    """Base class for every error the lake raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class ConfigurationError(LakeError):
    """A setting or a prerequisite (Java, a free port) is missing or wrong."""


class ObjectNotFoundError(LakeError, KeyError):
    """An object store key does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownDatasetError(LakeError, KeyError):
    """A dataset name that has no spec."""

    def __str__(self) -> str:
        return str(self.args[0])


class CatalogNotFoundError(LakeError):
    """A database or table is not in the catalog."""


class SchemaConflictError(LakeError):
    """A crawl found a column whose type cannot evolve into the catalogued one."""

    def __init__(self, message: str, conflicts: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.conflicts = conflicts


class QueryError(LakeError):
    """A query failed in the engine; carries the engine's message and the SQL that was sent."""

    def __init__(self, message: str, sql: str, engine: str) -> None:
        super().__init__(f"{engine} query failed: {message}\nSQL: {sql}")
        self.engine_message = message
        self.sql = sql
        self.engine = engine


class WarehouseUnavailableError(LakeError):
    """PostgreSQL cannot be reached or started."""


class ForecastUnavailableError(LakeError):
    """A demand forecast cannot be made now: no champion is trained, no recent demand to forecast
    from, or the model failed (the API's 503: try later, not the caller's fault)."""


class DataValidationError(LakeError, ValueError):
    """Input data breaks its dataset spec; names the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class SourceError(LakeError):
    """An external source refused or failed a request; names the status, the URL and the source's own words.

    ``status`` is None when no HTTP answer came back (timeout, connection error).
    ``retryable`` says whether trying again later could help (429, 5xx, timeouts).
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        detail: str | None = None,
        retryable: bool = False,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.detail = detail
        self.retryable = retryable
        self.attempts = attempts


class IncompleteRunError(LakeError, RuntimeError):
    """A scheduled run finished with part of its work undone (days that failed, ids left for later).

    Its written files stay; the Lambda invocation fails so that its retries, its dead-letter queue
    and its alarms see it, and ``datalake run daily`` reports the source as failed.
    """


class SparkJVMExitedError(LakeError):
    """Spark's JVM ended while a job ran (out of memory, killed): the job cannot go on."""


class ModelUnavailableError(LakeError):
    """A hosted model (/ask's text-to-SQL model) did not answer: timeout, rate limit, server error.

    The API answers 503 with the reason; ``retry_after_s`` is the server's Retry-After when it
    sent one.
    """

    def __init__(self, message: str, *, retry_after_s: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after_s = retry_after_s
