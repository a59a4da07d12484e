"""Athena adapter: lake SQL through awswrangler, with failures raised as QueryError."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import awswrangler as wr
import boto3
import pandas as pd
from botocore.exceptions import ClientError

from datalake import aws
from datalake.errors import QueryError
from datalake.query.base import QueryEngine, render
from datalake.settings import Settings, get_settings

#: awswrangler endpoint settings the lake's SQL path goes through (Athena, results in S3,
#: the Glue catalog it may consult, STS for the default results bucket).
_ENDPOINT_KEYS = ("athena_endpoint_url", "s3_endpoint_url", "glue_endpoint_url", "sts_endpoint_url")


class _EndpointOverride:
    """Points awswrangler's clients at one endpoint while any query needs it.

    awswrangler keeps endpoints in one process-wide config. Queries for the same endpoint
    share the override; one for another endpoint waits until they finish. The config is
    restored when the last one leaves, so nothing outside a query sees the change.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._url: str | None = None
        self._users = 0
        self._saved: dict[str, str | None] = {}

    @contextlib.contextmanager
    def __call__(self, endpoint_url: str | None) -> Iterator[None]:
        if endpoint_url is None:
            yield
            return
        with self._cond:
            while self._users and self._url != endpoint_url:
                self._cond.wait()
            if not self._users:
                self._saved = {key: getattr(wr.config, key) for key in _ENDPOINT_KEYS}
                for key in _ENDPOINT_KEYS:
                    setattr(wr.config, key, endpoint_url)
                self._url = endpoint_url
            self._users += 1
        try:
            yield
        finally:
            with self._cond:
                self._users -= 1
                if not self._users:
                    for key, value in self._saved.items():
                        setattr(wr.config, key, value)
                    self._url = None
                    self._cond.notify_all()


_wrangler_endpoints = _EndpointOverride()


class AthenaEngine(QueryEngine):
    """SQL over the Glue catalog with Amazon Athena.

    Parameters
    ----------
    settings
        Lake settings; the region, ``AWS_ENDPOINT_URL``, workgroup and results prefix
        come from here.
    boto3_session
        Session for every AWS call; a session in the configured region when omitted.
    database
        Database that unqualified table names resolve in; ``settings.processed_database``
        when omitted.
    workgroup
        Athena workgroup; ``settings.athena_workgroup`` when omitted.
    s3_output
        ``s3://`` prefix for result files; ``settings.athena_output`` when omitted, and the
        workgroup's own result location when that is unset too.
    """

    name = "athena"
    dialect = "athena"

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        boto3_session: boto3.session.Session | None = None,
        database: str | None = None,
        workgroup: str | None = None,
        s3_output: str | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.boto3_session = boto3_session or aws.session(self.settings)
        self.database = database or self.settings.processed_database
        self.workgroup = workgroup or self.settings.athena_workgroup
        self.s3_output = s3_output or self.settings.athena_output

    def query(self, sql: str) -> pd.DataFrame:
        """Run one Athena-dialect statement and return its rows.

        Parameters
        ----------
        sql
            One statement in the Athena (Trino) dialect. Unqualified table names resolve
            in the engine's database.

        Returns
        -------
        pandas.DataFrame
            The result rows, typed from Athena's column metadata.

        Raises
        ------
        QueryError
            When the SQL does not parse (before anything is sent), when Athena reports the
            query FAILED or CANCELLED, when an AWS call is refused, or when the result file
            is missing. It carries Athena's message and the SQL that was sent.
        """
        statement = render(sql, self.dialect)
        try:
            with _wrangler_endpoints(self.settings.aws_endpoint_url):
                frame = wr.athena.read_sql_query(
                    statement,
                    database=self.database,
                    workgroup=self.workgroup,
                    s3_output=self.s3_output,
                    # CTAS would create and drop a Glue table per query; plain SELECT reads
                    # the CSV result Athena writes anyway.
                    ctas_approach=False,
                    boto3_session=self.boto3_session,
                )
        except wr.exceptions.QueryFailed as error:
            raise QueryError(_message(error, "query failed"), statement, self.name) from error
        except wr.exceptions.QueryCancelled as error:
            raise QueryError(_message(error, "query was cancelled"), statement, self.name) from error
        except wr.exceptions.NoFilesFound as error:
            # Athena reported success but its result file is gone: no rows is not an answer.
            raise QueryError(
                f"result file missing: {_message(error, 'no result file')}", statement, self.name
            ) from error
        except ClientError as error:
            raise QueryError(str(error), statement, self.name) from error
        if not isinstance(frame, pd.DataFrame):  # chunked reads are not asked for; be sure
            raise QueryError("awswrangler returned no DataFrame", statement, self.name)
        return frame


def _message(error: Exception, fallback: str) -> str:
    # awswrangler raises with Athena's StateChangeReason, which may be None.
    text = str(error)
    return fallback if text in ("", "None") else text
