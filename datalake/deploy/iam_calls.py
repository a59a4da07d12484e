"""The AWS calls code makes, recorded, and the IAM authorizations each one needs.

:func:`recording_aws_calls` records every botocore API call made in the process while it is
active; :func:`requests_for` turns one recorded call into the IAM requests AWS would authorize
(action, resource ARN, condition keys), following the Service Authorization Reference. An
operation without a rule here is refused (:class:`UnmappedCallError`): the check never guesses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from sqlglot import exp

from datalake.deploy.iam_policy import Request
from datalake.errors import ConfigurationError

#: Response fields kept with a recorded call (the ARN a call by name resolved to, the id of what it
#: started or created, which later calls name); bodies are not.
_KEPT_RESPONSE_FIELDS = ("ARN", "Name", "QueryExecutionId", "ModelPackageArn", "TrainingJobArn")


class UnmappedCallError(ConfigurationError):
    """An API call whose IAM authorization this module does not know; add a rule for it."""


@dataclass(frozen=True)
class AwsCall:
    """One botocore API call as the code made it.

    Attributes
    ----------
    service
        botocore's service name (``s3``, ``glue``, ``sagemaker-runtime``).
    operation
        The API operation (``GetObject``).
    params
        The parameters the code passed.
    region
        The client's region.
    status
        The HTTP status of the answer (None when no answer came).
    error_code
        The error code of a failed call (``NoSuchKey``, ``404``...), or the exception's name when
        no answer came (``EndpointConnectionError``); None on success.
    response
        A few identifying fields of a successful answer (``ARN``, ``Name``).
    """

    service: str
    operation: str
    params: Mapping[str, Any]
    region: str
    status: int | None = None
    error_code: str | None = None
    response: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        outcome = f" -> {self.error_code}" if self.error_code else ""
        return f"{self.service}.{self.operation}({_brief(self.params)}){outcome}"


def _brief(params: Mapping[str, Any]) -> str:
    shown = {
        k: v
        for k, v in params.items()
        if k
        in (
            "Bucket",
            "Key",
            "Prefix",
            "SecretId",
            "JobName",
            "DatabaseName",
            "Name",
            "EndpointName",
            "CopySource",
        )
    }
    return ", ".join(f"{k}={v!r}" for k, v in shown.items())


@contextmanager
def recording_aws_calls() -> Iterator[list[AwsCall]]:
    """Record every botocore API call made in this process until the block ends.

    It wraps ``BaseClient._make_api_call``, the one path every client call takes (paginators,
    waiters, the S3 transfer manager, SDKs that build their own sessions), and forwards each call
    unchanged. Event hooks would miss clients of sessions created elsewhere, which the code under
    test does on its own.

    Yields
    ------
    list of AwsCall
        Appended to as calls finish, in completion order (thread-safe).
    """
    calls: list[AwsCall] = []
    lock = threading.Lock()
    original: Callable[..., Any] = BaseClient._make_api_call

    def record(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        meta = client.meta
        base = {
            "service": meta.service_model.service_name,
            "operation": operation,
            "params": dict(params),
            "region": meta.region_name or "",
        }
        try:
            answer = original(client, operation, params)
        except ClientError as error:
            with lock:
                calls.append(
                    AwsCall(
                        **base,
                        status=error.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
                        error_code=str(error.response.get("Error", {}).get("Code")),
                    )
                )
            raise
        except Exception as error:  # never answered (no connection, bad parameters): it was still made
            with lock:
                calls.append(AwsCall(**base, error_code=type(error).__name__))
            raise
        kept = {k: answer[k] for k in _KEPT_RESPONSE_FIELDS if isinstance(answer.get(k), str)}
        status = answer.get("ResponseMetadata", {}).get("HTTPStatusCode")
        with lock:
            calls.append(AwsCall(**base, status=status, response=kept))
        return answer

    BaseClient._make_api_call = record  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


# -- the authorization map --------------------------------------------------------------------------


def _s3_bucket(partition: str, bucket: str) -> str:
    return f"arn:{partition}:s3:::{bucket}"


def _s3_object(partition: str, bucket: str, key: str) -> str:
    return f"arn:{partition}:s3:::{bucket}/{key}"


def _copy_source(params: Mapping[str, Any]) -> tuple[str, str]:
    source = params["CopySource"]
    if isinstance(source, Mapping):
        return str(source["Bucket"]), str(source["Key"])
    bucket, _, key = str(source).lstrip("/").partition("/")
    return bucket, key.split("?versionId=", 1)[0]


def _s3_requests(call: AwsCall, partition: str, why: str) -> list[Request]:
    params, op = call.params, call.operation
    bucket = str(params.get("Bucket", ""))
    if op in ("ListObjectsV2", "ListObjects"):
        # s3:prefix is a condition key only when the request names a prefix.
        context = {
            k: str(params[p])
            for k, p in (("s3:prefix", "Prefix"), ("s3:delimiter", "Delimiter"), ("s3:max-keys", "MaxKeys"))
            if p in params
        }
        return [Request("s3:ListBucket", _s3_bucket(partition, bucket), context, why)]
    if op == "HeadBucket":
        return [Request("s3:ListBucket", _s3_bucket(partition, bucket), {}, why)]
    if op in ("GetObject", "HeadObject"):
        requests = [Request("s3:GetObject", _s3_object(partition, bucket, params["Key"]), {}, why)]
        if call.status == 404:
            # S3 answers "no such key" only to a caller that may list the bucket; anyone else gets
            # 403 AccessDenied, which code that tells missing from present cannot take for "absent".
            # That implicit check is not a listing: it carries no s3:prefix, so a prefix-scoped
            # ListBucket grant does not count.
            requests.append(
                Request(
                    "s3:ListBucket",
                    _s3_bucket(partition, bucket),
                    {},
                    f"{why} answered 404 (without s3:ListBucket S3 answers 403)",
                )
            )
        return requests
    if op in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        requests = [Request("s3:PutObject", _s3_object(partition, bucket, params["Key"]), {}, why)]
        if "ACL" in params or any(k.startswith("Grant") for k in params):
            requests.append(Request("s3:PutObjectAcl", _s3_object(partition, bucket, params["Key"]), {}, why))
        if "Tagging" in params:
            requests.append(
                Request("s3:PutObjectTagging", _s3_object(partition, bucket, params["Key"]), {}, why)
            )
        return requests
    if op == "AbortMultipartUpload":
        return [Request("s3:AbortMultipartUpload", _s3_object(partition, bucket, params["Key"]), {}, why)]
    if op in ("CopyObject", "UploadPartCopy"):
        source_bucket, source_key = _copy_source(params)
        return [
            Request(
                "s3:GetObject", _s3_object(partition, source_bucket, source_key), {}, f"{why} (copy source)"
            ),
            Request("s3:PutObject", _s3_object(partition, bucket, params["Key"]), {}, why),
        ]
    if op == "DeleteObject":
        return [Request("s3:DeleteObject", _s3_object(partition, bucket, params["Key"]), {}, why)]
    if op == "DeleteObjects":
        return [
            Request("s3:DeleteObject", _s3_object(partition, bucket, item["Key"]), {}, why)
            for item in params["Delete"]["Objects"]
        ]
    if op == "GetBucketLocation":
        return [Request("s3:GetBucketLocation", _s3_bucket(partition, bucket), {}, why)]
    raise UnmappedCallError(f"no IAM rule for s3.{op}", hint="add it to datalake/deploy/iam_calls.py")


def _glue_requests(call: AwsCall, partition: str, account: str, why: str) -> list[Request]:
    params, op = call.params, call.operation
    action = f"glue:{op}"
    base = f"arn:{partition}:glue:{call.region}:{account}"
    if op in ("StartJobRun", "GetJobRuns", "GetJobRun", "GetJob", "BatchStopJobRun"):
        return [Request(action, f"{base}:job/{params['JobName']}", {}, why)]
    catalog = f"{base}:catalog"
    if op == "GetDatabase":
        return [Request(action, r, {}, why) for r in (catalog, f"{base}:database/{params['Name']}")]
    database = params.get("DatabaseName")
    if database is None:
        raise UnmappedCallError(f"no IAM rule for glue.{op}", hint="add it to datalake/deploy/iam_calls.py")
    tables_of = f"{base}:table/{database}"
    if op == "GetTables":
        # Listing tables needs every table of the database (Glue's documented ARNs for GetTables).
        tables = [f"{tables_of}/*"]
    elif op in _GLUE_TABLE_OPERATIONS:
        tables = [f"{tables_of}/{params.get('TableName') or params['Name']}"]
    elif op in ("CreateTable", "UpdateTable"):
        tables = [f"{tables_of}/{params['TableInput']['Name']}"]
    else:
        raise UnmappedCallError(f"no IAM rule for glue.{op}", hint="add it to datalake/deploy/iam_calls.py")
    return [Request(action, r, {}, why) for r in (catalog, f"{base}:database/{database}", *tables)]


#: Glue operations on one table (named by ``TableName``, or ``Name`` for GetTable/DeleteTable).
_GLUE_TABLE_OPERATIONS = frozenset(
    {
        "GetTable",
        "DeleteTable",
        "GetPartitions",
        "GetPartition",
        "CreatePartition",
        "BatchCreatePartition",
        "BatchGetPartition",
        "BatchDeletePartition",
        "UpdatePartition",
        "BatchUpdatePartition",
        "DeletePartition",
    }
)


def _secret_arn(call: AwsCall) -> str:
    arn = call.response.get("ARN") or str(call.params["SecretId"])
    if not arn.startswith("arn:"):
        raise UnmappedCallError(
            f"{call}: a secret named {arn!r} has no known ARN (the call failed before answering one)",
            hint="pass secrets by ARN, as the templates do",
        )
    return arn


def requests_for(
    call: AwsCall,
    account: str,
    partition: str = "aws",
    *,
    athena: AthenaCatalog | None = None,
    query_workgroups: Mapping[str, str] | None = None,
) -> list[Request]:
    """The IAM requests AWS authorizes for one recorded call.

    Parameters
    ----------
    call
        The recorded API call.
    account
        The account that owns the resources (Glue, SageMaker and SSM ARNs carry it).
    partition
        ``aws``, ``aws-cn``, ``aws-us-gov``.
    athena
        Where the tables a query reads are and where each workgroup writes results: Athena reads
        and writes them with the caller's credentials, so ``StartQueryExecution`` needs it.
    query_workgroups
        ``{query execution id: workgroup}`` of the queries the recording started (calls on a
        query name only its id; IAM authorizes them on its workgroup).

    Returns
    -------
    list of Request
        Every authorization the call needs; all must be allowed. Empty for calls IAM does not
        authorize (``sts:GetCallerIdentity``).

    Raises
    ------
    UnmappedCallError
        For an operation this module has no rule for.
    """
    why = str(call)
    service, op, region = call.service, call.operation, call.region
    if service == "s3":
        return _s3_requests(call, partition, why)
    if service == "glue":
        return _glue_requests(call, partition, account, why)
    if service == "athena":
        return _athena_requests(call, account, partition, athena, query_workgroups or {}, why)
    if service == "secretsmanager" and op in ("GetSecretValue", "DescribeSecret"):
        return [Request(f"secretsmanager:{op}", _secret_arn(call), {}, why)]
    if service in ("sagemaker", "sagemaker-runtime") and op in ("DescribeEndpoint", "InvokeEndpoint"):
        # SageMaker ARNs carry the resource name in lower case.
        name = str(params_name(call, "EndpointName")).lower()
        return [
            Request(
                f"sagemaker:{op}", f"arn:{partition}:sagemaker:{region}:{account}:endpoint/{name}", {}, why
            )
        ]
    if service == "lambda" and op == "Invoke":
        # FunctionName may be a name, a partial ARN or a full ARN (a qualifier is authorized on the function).
        name = params_name(call, "FunctionName").split(":function:")[-1].split(":")[0]
        return [
            Request(
                "lambda:InvokeFunction", f"arn:{partition}:lambda:{region}:{account}:function:{name}", {}, why
            )
        ]
    if service == "ssm" and op in ("GetParameter", "GetParameters"):
        names = [call.params["Name"]] if op == "GetParameter" else list(call.params["Names"])
        return [
            Request(
                f"ssm:{op}", f"arn:{partition}:ssm:{region}:{account}:parameter/{str(n).lstrip('/')}", {}, why
            )
            for n in names
        ]
    if service == "cloudwatch" and op == "PutMetricData":
        return [metric_data_request(params_name(call, "Namespace"), why)]
    if service == "sts" and op == "GetCallerIdentity":
        return []  # answered to any valid credentials; IAM policies cannot deny it
    raise UnmappedCallError(f"no IAM rule for {service}.{op}", hint="add it to datalake/deploy/iam_calls.py")


def metric_data_request(namespace: str, why: str) -> Request:
    """``cloudwatch:PutMetricData`` into ``namespace``: no resource-level permissions, so IAM
    scopes it by the ``cloudwatch:namespace`` condition key alone."""
    return Request("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": namespace}, why)


def params_name(call: AwsCall, field_name: str) -> str:
    """A required parameter of a call, with an error naming the call when it is absent."""
    if field_name not in call.params:
        raise UnmappedCallError(f"{call}: no {field_name} parameter")
    return str(call.params[field_name])


# -- Athena ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AthenaCatalog:
    """What Athena looks up for a query, in place of the live Glue catalog and workgroup.

    Athena reads the catalog and the tables' files, and writes the results, with the caller's own
    credentials (forward access sessions), so a query needs those grants besides ``athena:*``.

    Attributes
    ----------
    table_locations
        ``{(database, table): "s3://bucket/prefix/"}`` of every table a query may read.
    partitioned
        The ``(database, table)`` pairs with partition keys (Athena lists their partitions).
    workgroup_outputs
        ``{workgroup: "s3://bucket/prefix/"}``: the result location a workgroup enforces.
    """

    table_locations: Mapping[tuple[str, str], str]
    partitioned: frozenset[tuple[str, str]] = frozenset()
    workgroup_outputs: Mapping[str, str] = field(default_factory=dict)


#: Athena operations on one query, authorized on the workgroup it ran in.
_ATHENA_QUERY_OPERATIONS = frozenset(
    {"GetQueryExecution", "GetQueryResults", "StopQueryExecution", "GetQueryRuntimeStatistics"}
)
#: Athena operations that name their workgroup (or run in ``primary`` when they do not).
_ATHENA_WORKGROUP_OPERATIONS = frozenset({"GetWorkGroup", "ListQueryExecutions", "ListNamedQueries"})


def _split_s3_uri(uri: str, where: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise UnmappedCallError(f"{where}: {uri!r} is not an s3:// location")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _athena_requests(
    call: AwsCall,
    account: str,
    partition: str,
    athena: AthenaCatalog | None,
    query_workgroups: Mapping[str, str],
    why: str,
) -> list[Request]:
    params, op = call.params, call.operation
    if op in _ATHENA_QUERY_OPERATIONS:
        query = str(params["QueryExecutionId"])
        if query not in query_workgroups:
            raise UnmappedCallError(
                f"{call}: query {query} was not started in this recording (its workgroup is unknown)"
            )
        workgroup = query_workgroups[query]
    elif op in _ATHENA_WORKGROUP_OPERATIONS or op == "StartQueryExecution":
        workgroup = str(params.get("WorkGroup") or "primary")
    else:
        raise UnmappedCallError(f"no IAM rule for athena.{op}", hint="add it to datalake/deploy/iam_calls.py")
    arn = f"arn:{partition}:athena:{call.region}:{account}:workgroup/{workgroup}"
    requests = [Request(f"athena:{op}", arn, {}, why)]
    if op == "StartQueryExecution":
        if athena is None:
            raise UnmappedCallError(
                f"{call}: Athena reads the tables and writes the results with the caller's credentials",
                hint="pass an AthenaCatalog with the tables' locations and the workgroups' outputs",
            )
        requests += athena_query_requests(call, workgroup, athena, account, partition)
    return requests


def athena_query_requests(
    call: AwsCall, workgroup: str, athena: AthenaCatalog, account: str, partition: str = "aws"
) -> list[Request]:
    """What Athena does with the caller's credentials to run one ``StartQueryExecution``.

    Parameters
    ----------
    call
        The recorded ``StartQueryExecution`` (its ``QueryString``, ``QueryExecutionContext`` and
        ``ResultConfiguration``; the answer's ``QueryExecutionId`` names the result file).
    workgroup
        The workgroup it ran in.
    athena
        Table locations and the workgroups' enforced result locations.
    account, partition
        Of the catalog's ARNs.

    Returns
    -------
    list of Request
        For each table the SQL reads: ``glue:GetDatabase`` and ``glue:GetTable`` (and
        ``glue:GetPartitions`` when partitioned) on the catalog, its database and the table, and
        ``s3:GetBucketLocation``, ``s3:ListBucket`` (its prefix) and ``s3:GetObject`` (its files)
        on its location; for the results, ``s3:GetBucketLocation`` and ``s3:PutObject`` of
        ``<output>/<query id>.csv`` and its ``.metadata``.

    Raises
    ------
    UnmappedCallError
        For SQL that does not parse, a table ``athena`` does not know, or no result location.
    """
    params, why = call.params, f"Athena runs {call} as the caller"
    context = params.get("QueryExecutionContext") or {}
    default_database = str(context.get("Database") or "default")
    try:
        tree = sqlglot.parse_one(str(params["QueryString"]), read="athena")
    except sqlglot.errors.ParseError as error:
        raise UnmappedCallError(f"{call}: the SQL does not parse ({error})") from None
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    tables = sorted(
        {
            (table.db or default_database, table.name)
            for table in tree.find_all(exp.Table)
            if table.db or table.name not in ctes
        }
    )
    base = f"arn:{partition}:glue:{call.region}:{account}"
    requests: list[Request] = []
    for database, table in tables:
        location = athena.table_locations.get((database, table))
        if location is None:
            raise UnmappedCallError(f"{call}: no location known for table {database}.{table}")
        catalog = [f"{base}:catalog", f"{base}:database/{database}", f"{base}:table/{database}/{table}"]
        actions = ["glue:GetDatabase", "glue:GetTable"]
        if (database, table) in athena.partitioned:
            actions.append("glue:GetPartitions")
        requests += [
            Request(action, arn, {}, f"{why} (reads {database}.{table})")
            for action in actions
            for arn in (catalog[:2] if action == "glue:GetDatabase" else catalog)
        ]
        bucket, prefix = _split_s3_uri(location, f"{database}.{table}")
        prefix = prefix if prefix.endswith("/") else f"{prefix}/"
        reads = f"{why} (the files of {database}.{table})"
        requests += [
            Request("s3:GetBucketLocation", _s3_bucket(partition, bucket), {}, reads),
            Request("s3:ListBucket", _s3_bucket(partition, bucket), {"s3:prefix": prefix}, reads),
            Request("s3:GetObject", _s3_object(partition, bucket, f"{prefix}*"), {}, reads),
        ]
    output = athena.workgroup_outputs.get(workgroup) or (params.get("ResultConfiguration") or {}).get(
        "OutputLocation"
    )
    if not output:
        raise UnmappedCallError(f"{call}: workgroup {workgroup} has no known result location")
    bucket, prefix = _split_s3_uri(str(output), f"workgroup {workgroup}")
    query = call.response.get("QueryExecutionId") or "<query-id>"
    result = f"{prefix.rstrip('/')}/{query}.csv".lstrip("/")
    writes = f"{why} (writes the results)"
    requests.append(Request("s3:GetBucketLocation", _s3_bucket(partition, bucket), {}, writes))
    requests += [
        Request("s3:PutObject", _s3_object(partition, bucket, key), {}, writes)
        for key in (result, f"{result}.metadata")
    ]
    return requests
