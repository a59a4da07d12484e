"""The Athena adapter through awswrangler against a real moto server.

moto does not run SQL: it answers each query with the next result injected through its
``/moto-api/static/athena/query-results`` API, writes that result as the query's CSV file
(only when the output bucket exists), and every query SUCCEEDS. So the tests inject the
rows they expect, and make FAILED/CANCELLED states by rewriting moto's GetQueryExecution
answer in a botocore event handler: the rest of the path (awswrangler, HTTP, moto) is real.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import awswrangler as wr
import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from datalake import aws
from datalake.errors import QueryError
from datalake.query.athena import AthenaEngine
from datalake.query.base import render
from datalake.settings import Settings

RESULTS_BUCKET = "athena-results"
S3_OUTPUT = f"s3://{RESULTS_BUCKET}/lake/"
MOTO_ACCOUNT = "123456789012"
SQL = "select zone, demand_mw, ts_utc from demand where day = date '2024-01-01' order by zone"


def inject(moto_server: str, columns: dict[str, str], rows: list[list[str | None]]) -> None:
    """Queue one Athena result in moto; like real Athena, the first row repeats the header."""

    def row(values: list[str | None]) -> dict[str, Any]:
        return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}

    body = {
        "account_id": MOTO_ACCOUNT,
        "region": "eu-west-1",
        "results": [
            {
                "rows": [row(list(columns)), *(row(r) for r in rows)],
                "column_info": [
                    {"Name": name, "Label": name, "Type": kind, "Nullable": "UNKNOWN"}
                    for name, kind in columns.items()
                ],
            }
        ],
    }
    response = requests.post(f"{moto_server}/moto-api/static/athena/query-results", json=body, timeout=10)
    assert response.status_code == 201, response.text


@pytest.fixture
def session(moto_settings: Settings) -> boto3.session.Session:
    """The session the engine uses; tests hook botocore events on it."""
    return aws.session(moto_settings)


@pytest.fixture
def engine(moto_settings: Settings, session: boto3.session.Session) -> AthenaEngine:
    aws.client("s3", settings=moto_settings).create_bucket(
        Bucket=RESULTS_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return AthenaEngine(settings=moto_settings, boto3_session=session, s3_output=S3_OUTPUT)


def executions(settings: Settings) -> list[dict[str, Any]]:
    """Every query moto received, with what it was sent."""
    athena = aws.client("athena", settings=settings)
    ids = athena.list_query_executions()["QueryExecutionIds"]
    return [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]


def test_injected_rows_come_back_as_a_typed_frame(
    engine: AthenaEngine, moto_server: str, moto_settings: Settings
) -> None:
    before = {key: getattr(wr.config, key) for key in ("athena_endpoint_url", "s3_endpoint_url")}
    inject(
        moto_server,
        {"zone": "varchar", "demand_mw": "double", "ts_utc": "timestamp"},
        [["ES", "28123.5", "2024-01-01 00:00:00.000"], ["PT", None, "2024-01-01 01:00:00.000"]],
    )
    frame = engine.query(SQL)

    assert list(frame.columns) == ["zone", "demand_mw", "ts_utc"]
    assert frame["zone"].tolist() == ["ES", "PT"]
    assert frame["demand_mw"].iloc[0] == pytest.approx(28123.5)
    assert frame["demand_mw"].isna().tolist() == [False, True]
    assert str(frame["ts_utc"].dtype).startswith("datetime64")
    # What reached "Athena": the rendered SQL, in the processed database and the workgroup.
    (sent,) = executions(moto_settings)
    assert sent["Query"] == render(SQL, "athena")
    assert sent["QueryExecutionContext"]["Database"] == "datalake_processed"
    assert sent["WorkGroup"] == "primary"
    assert sent["ResultConfiguration"]["OutputLocation"].startswith(S3_OUTPUT)
    # The endpoint override lasted only for the query.
    assert {key: getattr(wr.config, key) for key in before} == before


def test_database_and_workgroup_can_be_chosen(
    moto_settings: Settings, session: boto3.session.Session, moto_server: str
) -> None:
    aws.client("s3", settings=moto_settings).create_bucket(
        Bucket=RESULTS_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    aws.client("athena", settings=moto_settings).create_work_group(
        Name="lake", Configuration={"ResultConfiguration": {"OutputLocation": S3_OUTPUT}}
    )
    inject(moto_server, {"n": "bigint"}, [["3"]])
    raw = AthenaEngine(
        settings=moto_settings, boto3_session=session, database="datalake_raw", workgroup="lake"
    )
    frame = raw.query("SELECT count(*) AS n FROM loads")
    assert frame["n"].tolist() == [3]
    (sent,) = executions(moto_settings)
    assert sent["QueryExecutionContext"]["Database"] == "datalake_raw"
    assert sent["WorkGroup"] == "lake"
    # No s3_output given: the workgroup's result location is used.
    assert sent["ResultConfiguration"]["OutputLocation"].startswith(S3_OUTPUT)


def test_a_result_file_that_never_appears_is_an_error_not_an_empty_frame(
    engine: AthenaEngine, moto_settings: Settings
) -> None:
    # Nothing injected: moto "succeeds" but writes no result file.
    with pytest.raises(QueryError) as caught:
        engine.query(SQL)
    assert "result file missing" in caught.value.engine_message
    assert caught.value.sql == render(SQL, "athena")
    assert len(executions(moto_settings)) == 1


def make_query_end(state: str, reason: str | None) -> Callable[..., None]:
    def rewrite(parsed: dict[str, Any], **_: Any) -> None:
        status = parsed["QueryExecution"]["Status"]
        status["State"] = state
        if reason is not None:
            status["StateChangeReason"] = reason

    return rewrite


@pytest.mark.parametrize(
    ("state", "reason", "expected"),
    [
        ("FAILED", "COLUMN_NOT_FOUND: line 1:8: Column 'zone' cannot be resolved", "COLUMN_NOT"),
        ("CANCELLED", "Query cancelled by user", "Query cancelled by user"),
        ("CANCELLED", None, "query was cancelled"),
    ],
)
def test_failed_or_cancelled_query_raises_with_reason_and_sql(
    engine: AthenaEngine,
    session: boto3.session.Session,
    moto_server: str,
    moto_settings: Settings,
    state: str,
    reason: str | None,
    expected: str,
) -> None:
    # Rows are queued too, so a wrongly "successful" read would have data to return.
    inject(moto_server, {"zone": "varchar"}, [["ES"]])
    session.events.register("after-call.athena.GetQueryExecution", make_query_end(state, reason))
    with pytest.raises(QueryError) as caught:
        engine.query(SQL)
    error = caught.value
    assert expected in error.engine_message
    assert error.sql == render(SQL, "athena")
    assert error.engine == "athena"
    assert expected in str(error) and error.sql in str(error)
    assert len(executions(moto_settings)) == 1  # the query did reach moto


def test_refused_aws_call_becomes_query_error(engine: AthenaEngine, session: boto3.session.Session) -> None:
    def refuse(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "InvalidRequestException", "Message": "Database x not found"}},
            "StartQueryExecution",
        )

    session.events.register("before-call.athena.StartQueryExecution", refuse)
    with pytest.raises(QueryError) as caught:
        engine.query(SQL)
    assert "InvalidRequestException" in caught.value.engine_message
    assert "Database x not found" in caught.value.engine_message
    assert caught.value.sql == render(SQL, "athena")


def test_malformed_sql_raises_before_any_call(
    engine: AthenaEngine,
    session: boto3.session.Session,
    moto_server: str,
    moto_settings: Settings,
) -> None:
    sent: list[str] = []
    session.events.register("before-send", lambda request, **_: sent.append(request.url))
    with pytest.raises(QueryError) as caught:
        engine.query("SELEC 1 FROM")
    assert caught.value.sql == "SELEC 1 FROM"
    assert caught.value.engine == "athena"
    assert caught.value.engine_message
    assert sent == []
    assert executions(moto_settings) == []
    # Control: the hook does see the requests of a query that parses.
    inject(moto_server, {"one": "integer"}, [["1"]])
    assert engine.query("SELECT 1 AS one")["one"].tolist() == [1]
    assert sent
