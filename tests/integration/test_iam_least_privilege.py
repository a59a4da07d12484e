"""Issue 15, findings 6 and 7: least privilege, tested against the code paths.

Each Lambda handler runs with its real event JSON and the environment its template gives it, against
the moto server holding realistic lake contents, while every AWS call it makes is recorded. Each
call becomes the IAM requests AWS would authorize (``datalake.deploy.iam_calls``), joined by what
the Lambda service does with the role (logs, dead-letter queue, VPC network interfaces), and all are
evaluated against the role's policy as rendered from the template: every request must be allowed,
and every grant must be used by some request.

The API (finding 7) runs the same way, through its real services on the aws runtime: /health/details
(DescribeEndpoint, the Glue catalog, the database secret), /forecast (InvokeEndpoint) and /ask (the
reader's secret), checked against both API roles, the EC2 host's and the Lambda's.

moto answers every call whatever the policy says (its own IAM mode resolves resources only for S3,
SQS, IAM and STS and ignores conditions), so the verdict comes from the evaluator, not from moto.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

import httpx
import pandas as pd
import pytest
import requests
from loopback import loopback_server
from processed_fixtures import publish_frames
from psycopg.conninfo import conninfo_to_dict
from tmdb_fixtures import Answer, serve, transport_answer

from datalake import aws
from datalake.catalog.glue import GlueCatalog
from datalake.catalog.processed import spec_table
from datalake.datasets import DEMAND_HOURLY
from datalake.datasets.energy_company import TRANSACCIONES
from datalake.deploy.iam_calls import AwsCall, recording_aws_calls
from datalake.deploy.iam_check import (
    Bindings,
    RoleReport,
    TemplateRenderer,
    check_role,
    deployment_bindings,
    function_role,
    lambda_functions,
    lambda_platform_requests,
    requests_of_calls,
    role_policy,
)
from datalake.deploy.templates import REPO_ROOT, load_template
from datalake.settings import Settings, get_settings
from datalake.sources.eia_sample import SAMPLE_API_KEY as EIA_SAMPLE_API_KEY
from datalake.sources.eia_sample import SampleTransport as EiaSampleTransport
from datalake.sources.energy_company_sample import generate_drops
from datalake.sources.open_meteo_sample import SampleTransport as OpenMeteoSampleTransport
from datalake.sources.ree_sample import SampleTransport
from datalake.sources.registry import SOURCES
from datalake.sources.tmdb_sample import SAMPLE_TOKEN
from datalake.sources.tmdb_sample import SampleTransport as TmdbSampleTransport
from datalake.warehouse import EmbeddedPostgres

pytest_plugins = ["warehouse_fixtures"]

ACCOUNT = "123456789012"  # moto's account: the ARNs it answers carry it
REGION = "eu-west-1"
API_KEY = "iam-check-api-key-0123456789"


@dataclass
class Deployment:
    """The moto account as the stacks would leave it, and the bindings that render the templates."""

    settings: Settings
    moto_server: str
    database_secret_arn: str
    reader_secret_arn: str
    api_key_secret_arn: str
    lake_root: Path
    tmdb_secret_arn: str = ""
    eia_secret_arn: str = ""

    def bindings(self, layer: str, **parameters: str) -> Bindings:
        """What ``datalake deploy --env dev`` would give ``layer``, with what AWS assigns bound here."""
        return deployment_bindings(
            "dev",
            layer,
            account=ACCOUNT,
            region=REGION,
            parameters={"ReaderSecretArn": self.reader_secret_arn, **parameters},
            exports={
                "datalake-dev-DatabaseSecretArn": self.database_secret_arn,
                "datalake-dev-PrivateSubnetIds": "subnet-0a,subnet-0b",
                "datalake-dev-AppSecurityGroupId": "sg-0app",
            },
            resources={
                "ApiKeySecret": self.api_key_secret_arn,
                "TmdbSecret": self.tmdb_secret_arn,
                "EiaSecret": self.eia_secret_arn,
            },
        )

    def bucket(self, kind: str) -> str:
        return self.bindings("ingestion").exports[f"datalake-dev-{kind}BucketName"]


@pytest.fixture
def deployment(
    moto_settings: Settings, moto_server: str, embedded_pg: EmbeddedPostgres, tmp_path: Path
) -> Deployment:
    """Buckets, secrets, Glue jobs and databases and the forecast endpoint, named as the stacks name them."""
    settings = moto_settings
    secrets = aws.client("secretsmanager", settings=settings)
    database = conninfo_to_dict(embedded_pg.url)
    database_secret = {
        "username": database.get("user", "postgres"),
        "password": "trusted-locally",
        "host": database["host"],
        "port": int(database.get("port", 5432)),
        "dbname": database.get("dbname", "postgres"),
    }
    password = secrets.get_random_password(PasswordLength=40, ExcludePunctuation=True)["RandomPassword"]
    deployment = Deployment(
        settings=settings,
        moto_server=moto_server,
        database_secret_arn=secrets.create_secret(
            Name="datalake/dev/database", SecretString=json.dumps(database_secret)
        )["ARN"],
        reader_secret_arn=secrets.create_secret(
            Name="datalake-dev-reader",
            SecretString=json.dumps({"username": "datalake_reader", "password": password}),
        )["ARN"],
        api_key_secret_arn=secrets.create_secret(
            Name="datalake/dev/api-key", SecretString=json.dumps({"api_key": API_KEY})
        )["ARN"],
        lake_root=tmp_path / "lake",
        # The stack creates it empty; the operator puts the read-access token in (here the SAMPLE's).
        tmdb_secret_arn=secrets.create_secret(
            Name="TmdbSecret-dev", SecretString=json.dumps({"read_access_token": SAMPLE_TOKEN})
        )["ARN"],
        # Likewise the EIA key (the SAMPLE API's, which it checks as EIA does).
        eia_secret_arn=secrets.create_secret(
            Name="EiaSecret-dev", SecretString=json.dumps({"api_key": EIA_SAMPLE_API_KEY})
        )["ARN"],
    )
    s3 = aws.client("s3", settings=settings)
    for kind in ("Lake", "Landing", "Artifacts"):
        s3.create_bucket(
            Bucket=deployment.bucket(kind), CreateBucketConfiguration={"LocationConstraint": REGION}
        )
    exports = deployment.bindings("ingestion").exports
    glue = aws.client("glue", settings=settings)
    jobs = load_template("transforms")["Resources"]
    # Every Glue job of the transforms layer (one per registered source), as its export names it.
    for logical_id, job in jobs.items():
        if job["Type"] != "AWS::Glue::Job":
            continue
        execution = job["Properties"].get("ExecutionProperty", {"MaxConcurrentRuns": 1})
        glue.create_job(
            Name=exports[f"datalake-dev-{logical_id}Name"],
            Role=f"arn:aws:iam::{ACCOUNT}:role/datalake-dev-glue-jobs",
            Command={"Name": "glueetl", "ScriptLocation": "s3://artifacts/code/check/glue_jobs/job.py"},
            ExecutionProperty={"MaxConcurrentRuns": int(execution["MaxConcurrentRuns"])},
        )
    processed = exports["datalake-dev-ProcessedDatabaseName"]
    glue.create_database(DatabaseInput={"Name": processed})
    glue.create_database(DatabaseInput={"Name": exports["datalake-dev-EnergyProcessedDatabaseName"]})
    # The table as the jobs register it (from its dataset spec) before any run is published.
    GlueCatalog(settings=settings).put_table(
        spec_table(DEMAND_HOURLY, processed, f"s3://{deployment.bucket('Lake')}/processed/demand_hourly/")
    )
    sagemaker = aws.client("sagemaker", settings=settings)
    sagemaker.create_model(
        ModelName="forecaster",
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/datalake-dev-sagemaker",
        PrimaryContainer={
            "Image": "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.6-cpu-py312"
        },
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="forecaster-v1",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "forecaster",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    # Named as params/<env>.json names it for the ml and api layers.
    endpoint = deployment.bindings("api").parameters["EndpointName"]
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName="forecaster-v1")
    return deployment


# -- running a handler as its function would -----------------------------------------------------------


def function_of(template: dict[str, Any], bundle: str) -> str:
    """The function whose code is ``lambda/<bundle>.zip``."""
    [function] = [
        name
        for name, props in lambda_functions(template).items()
        if str(props["Code"]["S3Key"]).endswith(f"/lambda/{bundle}.zip")
        or props["Code"]["S3Key"] == {"Fn::Sub": f"code/${{CodeVersion}}/lambda/{bundle}.zip"}
    ]
    return function


def use_function_environment(
    monkeypatch: pytest.MonkeyPatch,
    renderer: TemplateRenderer,
    function: str,
    deployment: Deployment,
    **extra: str,
) -> None:
    """The environment the template gives the function, pointed at moto and a scratch /tmp."""
    variables = renderer.render(lambda_functions(renderer.template)[function]["Environment"]["Variables"])
    for name, value in {**variables, **extra}.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("LAKE_ROOT", str(deployment.lake_root))  # the template's /tmp/lake
    monkeypatch.setenv("AWS_ENDPOINT_URL", deployment.settings.aws_endpoint_url or "")
    monkeypatch.setenv("AWS_REGION", REGION)
    get_settings.cache_clear()


#: Statements only a failure uses, so no scenario here reaches them: {function: {Sid: why}}.
FAILURE_PATH_GRANTS: dict[str, dict[str, str]] = {
    "IngestCsvFunction": {
        "AbortFailedMultipartCopies": "a multipart copy that fails aborts its parts (boto3's managed copy)"
    },
}


@dataclass
class LambdaRun:
    """What one handler did: its function, the recorded calls and its answers."""

    layer: str
    function: str
    renderer: TemplateRenderer
    calls: list[AwsCall]
    answers: list[Any]

    def report(self) -> RoleReport:
        policy = role_policy(self.renderer, function_role(self.renderer.template, self.function))
        requests = requests_of_calls(self.calls, ACCOUNT) + lambda_platform_requests(
            self.renderer, self.function
        )
        return check_role(policy, requests, exempt=FAILURE_PATH_GRANTS.get(self.function))

    def operations(self) -> set[str]:
        return {f"{c.service}.{c.operation}" for c in self.calls}


@dataclass
class Harness:
    """Runs handlers in the deployment as their functions would, with the test's fixtures at hand."""

    deployment: Deployment
    monkeypatch: pytest.MonkeyPatch
    load_lambda: Callable[[str], ModuleType]
    event_json: Callable[[str], dict]
    ree_api: str
    embedded_pg: EmbeddedPostgres
    tmp_path: Path

    def run(
        self, bundle: str, invocations: list[tuple[dict[str, str], dict[str, Any]]], **extra_env: str
    ) -> LambdaRun:
        """Invoke a handler once per ``(template parameters, event)``, recording its AWS calls.

        A handler that raises is recorded too (a failed invocation still made its calls); the
        error is kept in ``answers``.
        """
        template = load_template("ingestion")
        function = function_of(template, bundle)
        handler = self.load_lambda(bundle)
        calls: list[AwsCall] = []
        answers: list[Any] = []
        renderer = TemplateRenderer(template, self.deployment.bindings("ingestion"), "ingestion")
        for parameters, event in invocations:
            renderer = TemplateRenderer(
                template, self.deployment.bindings("ingestion", **parameters), "ingestion"
            )
            use_function_environment(self.monkeypatch, renderer, function, self.deployment, **extra_env)
            with recording_aws_calls() as recorded:
                try:
                    answers.append(handler.lambda_handler(copy.deepcopy(event), None))
                except Exception as error:  # the calls made before the failure still count
                    answers.append(error)
            calls += recorded
        return LambdaRun("ingestion", function, renderer, calls, answers)


@pytest.fixture
def harness(
    deployment: Deployment,
    monkeypatch: pytest.MonkeyPatch,
    load_lambda: Callable[[str], ModuleType],
    event_json: Callable[[str], dict],
    ree_api: str,
    embedded_pg: EmbeddedPostgres,
    tmp_path: Path,
) -> Harness:
    return Harness(deployment, monkeypatch, load_lambda, event_json, ree_api, embedded_pg, tmp_path)


def s3_event(
    template: dict[str, Any], bucket: str, keys: list[str], event_time: str | None = None
) -> dict[str, Any]:
    """The recorded S3 event with one record per key (URL-encoded, as S3 sends them)."""
    records = []
    for key in keys:
        record = copy.deepcopy(template["Records"][0])
        record["s3"]["bucket"]["name"] = bucket
        record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
        record["s3"]["object"]["key"] = quote_plus(key, safe="/")
        if event_time:
            record["eventTime"] = event_time
        records.append(record)
    return {"Records": records}


@pytest.fixture
def ree_api() -> Iterator[str]:
    """REData on loopback: the sample generator's answers over real HTTP (the non-sample code path)."""
    transport = SampleTransport()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer = transport.handle_request(httpx.Request("GET", f"http://ree.invalid{self.path}"))
            document = json.loads(answer.read())
            # Played as the real API: without the generator's label, which keeps it out of raw/ree.
            meta = document.get("data", {}).get("meta", {})
            for label in ("sample", "source_label", "generator", "seed"):
                meta.pop(label, None)
            body = json.dumps(document).encode()
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("content-type", "application/json"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            return None

    with loopback_server(Handler) as url:
        yield url


def demand_frame(day: str, demand_mw: float) -> pd.DataFrame:
    hours = pd.date_range(f"{day}T00:00Z", periods=24, freq="h")
    return pd.DataFrame(
        {
            "ts_utc": hours,
            "local_date": hours.tz_convert("Europe/Madrid").date,
            "region": "national",
            "demand_mw": demand_mw,
            "source": "ree",
            "tso_forecast_mw": None,
            "extracted_at": pd.Timestamp("2024-04-02T06:00Z"),
        }
    ).astype({"tso_forecast_mw": "float64"})


#: The runs processed_lake publishes (March's marker is what the sync events announce).
MARCH_RUN, APRIL_RUN = "20240402T061509Z-0e7bb46c", "20240402T061510Z-5f1c2a9d"
MARCH_MARKER = f"processed/_published/demand_hourly/{MARCH_RUN}.json"
#: An energy company table's publish (its database is the other one the sync reads).
SALES_MARKER = f"processed/_published/{TRANSACCIONES.name}/{MARCH_RUN}.json"


def processed_lake(deployment: Deployment) -> None:
    """Two published partitions of demand_hourly (the sync's input): files in the lake bucket, the
    catalog (moto's Glue) pointing at them, a publish marker per run."""
    from datalake.storage.s3 import S3ObjectStore

    exports = deployment.bindings("ingestion").exports
    settings = deployment.settings.model_copy(
        update={
            "processed_database": exports["datalake-dev-ProcessedDatabaseName"],
            "energy_processed_database": exports["datalake-dev-EnergyProcessedDatabaseName"],
        }
    )
    store = S3ObjectStore(deployment.bucket("Lake"), settings=settings)
    for run, month, day, demand_mw in (
        (MARCH_RUN, 3, "2024-03-05", 25_000.0),
        (APRIL_RUN, 4, "2024-04-01", 26_000.0),
    ):
        frames = {f"year=2024/month={month}": demand_frame(day, demand_mw)}
        publish_frames(store, DEMAND_HOURLY, frames, run, GlueCatalog(settings=settings), settings)
    sale = pd.DataFrame(
        {
            "transaccion_id": ["a1"],
            "tipo_transaccion": ["VENTA"],
            "nombre_cliente_proveedor": ["Ana"],
            "tipo_energia": ["SOLAR"],
            "cantidad_comprada_kwh": [100.0],
            "precio_kwh_cop": [500.0],
            "precio_total_cop": [50_000.0],
            "banda_precio": ["promedio"],
            "fecha_transaccion": [dt.date(2024, 6, 1)],
            "contraparte_conocida": [True],
            "fecha_carga": [dt.date(2024, 6, 2)],
        }
    )
    frames = {"year=2024/month=6": sale}
    publish_frames(store, TRANSACCIONES, frames, MARCH_RUN, GlueCatalog(settings=settings), settings)


def drop_public_demand_table(embedded_pg: EmbeddedPostgres) -> None:
    import psycopg

    with psycopg.connect(embedded_pg.url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS public.demand_hourly, public.energy_transacciones")


# -- the scenarios: each handler's realistic paths ----------------------------------------------------


def ree_daily_runs(h: Harness) -> LambdaRun:
    event = h.event_json("eventbridge_scheduled_daily.json")
    # REE_SAMPLE comes from the stack's ReeSample parameter: both values are deployable.
    # Twice each: the second run fetches the same answers again and compares them with raw.
    invocations = [(p, event) for p in ({"ReeSample": "false"}, {"ReeSample": "true"}) for _ in range(2)]
    run = h.run("ree_daily", invocations, REE_BASE_URL=h.ree_api)
    written = [(a["details"]["written"], a["details"]["unchanged"]) for a in run.answers]
    assert written == [(12, 0), (0, 12)] * 2, run.answers
    return run


def ree_backfill_runs(h: Harness) -> LambdaRun:
    event = h.event_json("ree_backfill.json")
    invocations = [
        (parameters, body)
        for parameters in ({"ReeSample": "false"}, {"ReeSample": "true"})
        # Writes, skips what is there, fetches again and finds it unchanged.
        for body in (event, event, {**event, "refresh": True})
    ]
    run = h.run("ree_backfill", invocations, REE_BASE_URL=h.ree_api)
    counts = [tuple(a["details"][n] for n in ("written", "skipped", "unchanged")) for a in run.answers]
    assert counts == [(4, 0, 0), (0, 4, 0), (0, 0, 4)] * 2, run.answers
    return run


def ingest_csv_runs(h: Harness) -> LambdaRun:
    landing = h.deployment.bucket("Landing")
    s3 = aws.client("s3", settings=h.deployment.settings)
    drops = h.tmp_path / "drops"
    generate_drops(drops, 200, dt.date(2024, 6, 3))
    keys = []
    for path in sorted(drops.iterdir()):
        key = f"extractos/{path.name}"
        s3.put_object(Bucket=landing, Key=key, Body=path.read_bytes())
        keys.append(key)
    # The recorded event's own drop, and one that is not a CSV at all (rejected, with its reason).
    [clientes] = [path for path in drops.iterdir() if path.name.startswith("clientes")]
    s3.put_object(Bucket=landing, Key="extractos/clientes 2024-06-03.csv", Body=clientes.read_bytes())
    s3.put_object(Bucket=landing, Key="extractos/notas.csv", Body=b"\x00\x01\x02 not a csv \xff\xfe")
    # OWID's drops share the landing: one lands in raw/owid/, one (a header alone) in rejected/owid/.
    s3.put_object(Bucket=landing, Key="owid/energy.csv", Body=b"country,year,iso_code\nSpain,2019,ESP\n")
    s3.put_object(Bucket=landing, Key="owid/header-only.csv", Body=b"country,year,iso_code\n")
    owid = ["owid/energy.csv", "owid/header-only.csv"]
    # Rossmann's drops too: one lands in raw/store_sales/, one (a header alone) in rejected/store_sales/.
    sales_header = b"Store,DayOfWeek,Date,Sales,Customers,Open,Promo,StateHoliday,SchoolHoliday\n"
    s3.put_object(
        Bucket=landing, Key="rossmann/sales.csv", Body=sales_header + b"1,3,2024-07-31,5263,555,1,1,0,1\n"
    )
    s3.put_object(Bucket=landing, Key="rossmann/header-only.csv", Body=sales_header)
    owid += ["rossmann/sales.csv", "rossmann/header-only.csv"]
    template = h.event_json("s3_landing_object_created.json")
    event = s3_event(
        template,
        landing,
        ["extractos/clientes 2024-06-03.csv", *keys, "extractos/notas.csv", *owid],
        template["Records"][0]["eventTime"],
    )
    # The same event twice (S3 delivers at least once): the second finds every accepted drop landed.
    run = h.run("ingest_csv", [({}, event), ({}, event)])
    summary, again = run.answers
    assert isinstance(summary, dict), summary
    assert summary["rows_out"] == len(keys) + 3 and summary["rows_quarantined"] == 3, summary
    assert summary["details"]["accepted"]["owid_energy"] == 1, summary
    assert summary["details"]["accepted"]["store_sales_sales"] == 1, summary
    assert "already_landed" not in summary["details"], summary
    assert again["details"]["already_landed"] == summary["rows_out"] == again["rows_out"], again
    return run


def start_transform_runs(h: Harness) -> LambdaRun:
    lake = h.deployment.bucket("Lake")
    template = h.event_json("s3_raw_object_created.json")
    keys = [
        "raw/ree/demand/year=2024/month=01/day=01/ree-demand-national-2024-01-01.json",
        "raw/ree_sample/demand/year=2024/month=01/day=01/ree-demand-national-2024-01-01.json",
        "raw/entsoe/total_load/year=2024/month=01/day=01/entsoe-total-load-2024-01-01.csv",
        "raw/energy_company/clientes/year=2024/month=06/day=03/clientes_2024-06-03.csv",
        "raw/tmdb/movie/year=2024/month=06/day=03/details-daily-550-0.jsonl",
        "raw/eia/petroleum-pri-spt/year=2024/month=06/day=03/eia-petroleum-pri-spt-2024-06-03-fetched-2024-06-04.json",
        "raw/eia_sample/petroleum-pri-spt/year=2024/month=06/day=03/eia-petroleum-pri-spt-2024-06-03-fetched-2024-06-04.json",
        "raw/owid/energy/year=2024/month=06/day=03/owid-energy-data.0123456789abcdef.csv",
        "raw/store_sales/sales/year=2024/month=06/day=03/rossmann-sales.0123456789abcdef.xlsx",
        "raw/realtime/transactions/year=2024/month=06/day=03/shardId-000000000000-1-3.jsonl",
        "raw/weather/forecast/year=2024/month=06/day=03/open-meteo-forecast-madrid-issued-20240603T120000Z.json",
    ]
    # Every registered source's job is started: a grant for one the test leaves out would read as unused.
    assert {key.split("/")[1] for key in keys} >= {s.name for s in SOURCES.values()}
    event = s3_event(template, lake, keys, "2024-01-02T05:30:41.118Z")
    # Runs stay STARTING, so the second event finds each job at its limit and looks for a covering run.
    transition = {"model_name": "glue::job_run", "transition": {"progression": "manual", "times": 10**6}}
    requests.post(
        f"{h.deployment.moto_server}/moto-api/state-manager/set-transition", json=transition, timeout=10
    )
    try:
        run = h.run("start_transform", [({}, event), ({}, event)])
    finally:
        requests.post(
            f"{h.deployment.moto_server}/moto-api/state-manager/unset-transition",
            json={"model_name": "glue::job_run"},
            timeout=10,
        )
    first, second = run.answers
    assert isinstance(first, dict) and len(first["started"]) == len(keys), first
    # Every job is at its limit the second time: each prefix is covered by the run the first started.
    assert isinstance(second, dict) and (len(second["started"]), len(second["covered"])) == (0, len(keys)), (
        second
    )
    return run


def sync_warehouse_runs(h: Harness) -> LambdaRun:
    processed_lake(h.deployment)
    drop_public_demand_table(h.embedded_pg)
    event = s3_event(
        h.event_json("s3_processed_object_created.json"),
        h.deployment.bucket("Lake"),
        [
            MARCH_MARKER,
            SALES_MARKER,
            "quarantine/demand_hourly/run_date=2024-04-02/0e7bb46c8e28/part-00000.parquet",
        ],
    )
    run = h.run("sync_warehouse", [({}, event), ({}, event)])
    first, second = run.answers
    assert not isinstance(first, Exception), first
    assert first["runs"][0]["inserted"] == 24 and second["runs"][0]["partitions_skipped"] == 1, run.answers
    return run


@contextmanager
def tmdb_api() -> Iterator[dict[str, str]]:
    """The SAMPLE TMDB over real HTTP on loopback, played as the API (the non-sample path)."""
    with serve(transport_answer(TmdbSampleTransport())) as server:
        yield {"TMDB_BASE_URL": f"{server.url}/3", "TMDB_EXPORT_BASE_URL": f"{server.url}/p/exports"}


def tmdb_daily_runs(h: Harness) -> LambdaRun:
    event = h.event_json("eventbridge_scheduled_tmdb_daily.json")
    # Twice per TmdbSample value: the first run finds no state, the second reads it.
    invocations = [(p, event) for p in ({"TmdbSample": "false"}, {"TmdbSample": "true"}) for _ in range(2)]
    with tmdb_api() as api:
        run = h.run("tmdb_daily", invocations, **api)
    assert all(isinstance(a, dict) and a["written"] > 100 for a in run.answers), run.answers
    return run


def tmdb_backfill_runs(h: Harness) -> LambdaRun:
    settings = h.deployment.settings
    function = "datalake-dev-tmdb-backfill"
    # moto's Lambda without Docker answers the asynchronous self-invoke (202) without running it.
    requests.post(
        f"{h.deployment.moto_server}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10
    )
    try:
        role = aws.client("iam", settings=settings).create_role(
            RoleName=function, AssumeRolePolicyDocument="{}"
        )
        aws.client("lambda", settings=settings).create_function(
            FunctionName=function,
            Runtime="python3.11",
            Role=role["Role"]["Arn"],
            Handler="handler.lambda_handler",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        )
        first, later = h.event_json("tmdb_backfill.json"), h.event_json("tmdb_backfill_continue.json")
        invocations = [
            (p, e) for p in ({"TmdbSample": "false"}, {"TmdbSample": "true"}) for e in (first, later)
        ]
        with tmdb_api() as api:
            run = h.run(
                "tmdb_backfill", invocations, AWS_LAMBDA_FUNCTION_NAME=function, TMDB_CHUNK_SIZE="50", **api
            )
    finally:
        requests.post(
            f"{h.deployment.moto_server}/moto-api/config", json={"lambda": {"use_docker": True}}, timeout=10
        )
    # One chunk per invocation without a context; each queues its continuation.
    assert [(a["attempted"], a["next_event"]["limit"]) for a in run.answers] == [(50, 70), (50, 20)] * 2, (
        run.answers
    )
    return run


def eia_daily_runs(h: Harness) -> LambdaRun:
    event = h.event_json("eventbridge_scheduled_eia_daily.json")
    # Twice per EiaSample value: the first run lists empty day folders and writes, the second
    # reads each day's newest extraction and, finding it unchanged, writes only its run report.
    invocations = [(p, event) for p in ({"EiaSample": "false"}, {"EiaSample": "true"}) for _ in range(2)]
    sample = transport_answer(EiaSampleTransport())

    def as_the_api(path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Answer:
        # The SAMPLE's prices played as the real API (without its label), for the EiaSample=false path:
        # the raw writer refuses labelled rows under raw/eia.
        reply = sample(path, query, headers)
        doc = json.loads(reply.body)
        doc.pop("sample", None)
        return Answer(reply.status, json.dumps(doc).encode(), reply.headers)

    with serve(as_the_api) as server:
        run = h.run("eia_daily", invocations, EIA_BASE_URL=f"{server.url}/v2")
    assert [a["files_written"] for a in run.answers] == [22, 0, 22, 0], run.answers
    return run


def weather_daily_runs(h: Harness) -> LambdaRun:
    event = h.event_json("eventbridge_scheduled_weather_daily.json")
    # Once per WeatherSample value: Open-Meteo (the SAMPLE's answers played as the real API, without
    # their label) and the SAMPLE itself; each writes a file per location and its run report only.
    issued = dt.datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    # Twice each: a retried invocation finds its own forecasts and compares them with raw.
    invocations = [
        (p, event) for p in ({"WeatherSample": "false"}, {"WeatherSample": "true"}) for _ in range(2)
    ]
    sample = transport_answer(OpenMeteoSampleTransport(clock=lambda: issued))

    def as_the_api(path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Answer:
        reply = sample(path, query, headers)
        envelopes = json.loads(reply.body)
        for envelope in envelopes if isinstance(envelopes, list) else [envelopes]:
            envelope.pop("sample", None)
        return Answer(reply.status, json.dumps(envelopes).encode(), reply.headers)

    with serve(as_the_api) as server:
        run = h.run("weather_daily", invocations, OPEN_METEO_FORECAST_URL=f"{server.url}/v1/forecast")
    written = [(a["files_written"], a["files_unchanged"]) for a in run.answers]
    assert written == [(5, 0), (0, 5)] * 2, run.answers
    return run


SCENARIOS: dict[str, Callable[[Harness], LambdaRun]] = {
    "ree_daily": ree_daily_runs,
    "ree_backfill": ree_backfill_runs,
    "ingest_csv": ingest_csv_runs,
    "start_transform": start_transform_runs,
    "sync_warehouse": sync_warehouse_runs,
    "tmdb_daily": tmdb_daily_runs,
    "tmdb_backfill": tmdb_backfill_runs,
    "eia_daily": eia_daily_runs,
    "weather_daily": weather_daily_runs,
}


#: Functions of other layers, whose roles their own layer's tests check: {bundle: where}.
OTHER_LAYERS = {
    # mlops layer: its S3 read and MLflow alias calls against SalesPromoteRole, both ways.
    "sales_promote": (
        "tests/unit/test_mlops_template.py::test_the_promote_role_allows_its_calls_and_nothing_else"
    ),
    # realtime layer: each role against its code's calls, both ways.
    "tx_ingestor": (
        "tests/unit/test_realtime_template.py::test_each_realtime_role_allows_its_calls_and_nothing_else"
    ),
    "stream_processor": (
        "tests/unit/test_realtime_template.py::test_each_realtime_role_allows_its_calls_and_nothing_else"
    ),
    "trade_advisor": (
        "tests/unit/test_realtime_template.py::test_each_realtime_role_allows_its_calls_and_nothing_else"
    ),
    "price_collector": (
        "tests/unit/test_realtime_template.py::test_each_realtime_role_allows_its_calls_and_nothing_else"
    ),
}


def test_every_lambda_folder_has_a_least_privilege_scenario() -> None:
    folders = {path.name for path in (REPO_ROOT / "lambdas").iterdir() if (path / "handler.py").is_file()}
    assert folders == set(SCENARIOS) | set(OTHER_LAYERS)
    for where in OTHER_LAYERS.values():
        path, name = where.split("::")
        assert f"def {name}(" in (REPO_ROOT / path).read_text(encoding="utf-8"), where


@pytest.mark.parametrize("bundle", sorted(SCENARIOS))
def test_finding_6_each_lambda_handler_needs_exactly_its_roles_grants(bundle: str, harness: Harness) -> None:
    run = SCENARIOS[bundle](harness)
    assert run.calls, f"{bundle}: no AWS call was recorded"
    report = run.report()
    assert report.ok, report.summary()


# -- finding 7: the API's calls, against both API roles ----------------------------------------------

#: Statements used outside the app's own requests, and by whom.
API_HOST_EXEMPT = {"FetchTheWheel": "the host's boot script downloads the wheel (aws s3 cp), not the app"}


def endpoint_answer(hours: int) -> dict[str, Any]:
    """What the forecast endpoint's inference script answers (moto answers whatever is queued)."""
    stamps = pd.date_range("2024-03-06 00:00", periods=hours, freq="h", tz="UTC")
    return {
        "model_version": "v20240301T020000-3fa2c1",
        "data_cutoff": "2024-03-05T23:00:00+00:00",
        "origin": "2024-03-06T00:00:00+00:00",
        "horizon_hours": hours,
        "missing_hours_filled": 0,
        "points": [
            {
                "ts_utc": stamp.isoformat(),
                "ts_local": stamp.tz_convert("Europe/Madrid").isoformat(),
                "p10_mw": 24_000.0,
                "p50_mw": 25_000.0,
                "p90_mw": 26_000.0,
            }
            for stamp in stamps
        ],
    }


def movie_answer(title: str) -> dict[str, Any]:
    """What the movie-success endpoint answers for one film (its handler's response shape)."""
    prediction = {
        "title": title,
        "release_date": "2027-07-16",
        "success_probability": 0.42,
        "success": True,
        "threshold": 0.21,
        "model_version": "v20261205T072226-a689fd",
        "factors": [{"factor": "budget", "effect": -0.06, "direction": "against success"}],
    }
    return {"predictions": [prediction]}


#: What the store-sales endpoint answers for apigw_http_v2_post_predict_sales.json (an open day and a
#: closed one).
SALES_ANSWER = {
    "predictions": [
        {"store_id": 1, "date": "2024-06-03", "predicted_sales": 5123.4, "closed": False},
        {"store_id": 1, "date": "2024-06-02", "predicted_sales": 0.0, "closed": True},
    ],
    "model_version": "7",
    "model_alias": "champion",
}


def http_api_event(
    template: dict[str, Any], path: str, query: dict[str, str], headers: dict[str, str]
) -> dict[str, Any]:
    """The recorded HTTP API (v2) event, for another path on the $default stage the template deploys."""
    event = copy.deepcopy(template)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = "&".join(f"{k}={quote_plus(v)}" for k, v in query.items())
    event["queryStringParameters"] = query or None
    event["headers"] = {**event["headers"], **headers}
    event["requestContext"]["stage"] = "$default"
    return event


#: The token /ask's model backend reads from its secret, and a question the parser does not understand
#: (parser+hf sends it to the model).
HF_TOKEN = "hf_iam_check_token"
MODEL_QUESTION = "¿cuántas filas peninsulares hay en 2024?"
MODEL_SQL = "SELECT COUNT(*) AS n FROM demand_hourly"


@contextmanager
def chat_completions(sql: str) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback stand-in for Hugging Face's router (an OpenAI-compatible chat-completions server)
    that answers every request with ``sql``; yields its URL and the requests it received."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            received.append({"path": self.path, "authorization": self.headers.get("Authorization"), **body})
            message = {"role": "assistant", "content": f"```sql\n{sql}\n```"}
            payload = json.dumps(
                {
                    "id": "chatcmpl-iam",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model"),
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            return None

    with loopback_server(Handler) as url:
        yield url, received


@pytest.mark.parametrize("ask_backend", ["parser", "parser+hf"])
def test_finding_7_health_forecast_and_ask_are_allowed_to_both_api_roles_and_nothing_more(
    harness: Harness, ask_backend: str
) -> None:
    deployment, event_json = harness.deployment, harness.event_json
    # The warehouse as a sync leaves it: demand_hourly loaded and the reader's password set.
    processed_lake(deployment)
    drop_public_demand_table(harness.embedded_pg)
    sync = event_json("s3_processed_object_created.json")
    sync = s3_event(sync, deployment.bucket("Lake"), [MARCH_MARKER])
    [synced] = harness.run("sync_warehouse", [({}, sync)]).answers
    assert not isinstance(synced, Exception), synced
    response = requests.post(
        f"{deployment.moto_server}/moto-api/static/sagemaker/endpoint-results",
        json={
            "account_id": ACCOUNT,
            "region": REGION,
            "results": [
                {"Body": json.dumps(endpoint_answer(6)), "ContentType": "application/json"},
                {"Body": json.dumps(movie_answer("Luz de invierno")), "ContentType": "application/json"},
                {"Body": json.dumps(SALES_ANSWER), "ContentType": "application/json"},
            ],
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text

    template = load_template("api")
    # The model backend as a stack turns it on: AskBackend and the token's secret (HfTokenSecretArn);
    # the router is stood in for by a loopback server (ASK_HF_BASE_URL, which the template never sets).
    parameters, model_env = {}, {}
    hf_secret_arn = ""
    if ask_backend != "parser":
        secrets = aws.client("secretsmanager", settings=deployment.settings)
        hf_secret_arn = secrets.create_secret(Name="datalake/dev/hf-token", SecretString=HF_TOKEN)["ARN"]
        parameters = {"AskBackend": ask_backend, "HfTokenSecretArn": hf_secret_arn}
    renderer = TemplateRenderer(template, deployment.bindings("api", **parameters), "api")
    with chat_completions(MODEL_SQL) as (model_url, model_requests):
        if ask_backend != "parser":
            model_env = {"ASK_HF_BASE_URL": model_url}
        use_function_environment(harness.monkeypatch, renderer, "ApiFunction", deployment, **model_env)
        calls, answers = invoke_the_api(harness)
    bodies = {path: json.loads(answer["body"]) for path, answer in answers.items()}
    # The parser alone refuses the model question as not understood (422); parser+hf answers it.
    expected = {
        **dict.fromkeys(answers, 200),
        "/ask (model question)": 422 if ask_backend == "parser" else 200,
    }
    assert {path: a["statusCode"] for path, a in answers.items()} == expected, bodies
    checks = bodies["/health/details"]["readiness"]["checks"]
    assert checks["model"]["ok"] and checks["model"]["status"] == "InService", checks
    assert checks["catalog"]["ok"] and "demand_hourly" in checks["catalog"]["tables"], checks
    assert checks["database"]["ok"], checks
    assert {"sagemaker.DescribeEndpoint", "glue.GetTables", "sagemaker-runtime.InvokeEndpoint"} <= {
        f"{c.service}.{c.operation}" for c in calls
    }
    # /predict went to the movie-success endpoint the template names (the Lambda has no scikit-learn).
    assert bodies["/predict"]["success_probability"] == 0.42, bodies["/predict"]
    # /predict/sales went to the store-sales endpoint (no scikit-learn nor MLflow there either).
    assert bodies["/predict/sales"] == SALES_ANSWER, bodies["/predict/sales"]
    invoked = {c.params["EndpointName"] for c in calls if c.operation == "InvokeEndpoint"}
    assert invoked == {
        "datalake-dev-demand-forecast",
        "datalake-dev-movie-success",
        "datalake-dev-store-sales",
    }, invoked
    # The model question: the parser alone refuses it and never calls the model; parser+hf reads the
    # token from the secret the template names and sends it with the question.
    token_reads = [
        c for c in calls if c.operation == "GetSecretValue" and c.params["SecretId"] == hf_secret_arn
    ]
    if ask_backend == "parser":
        assert model_requests == [] and not token_reads
        assert not any(s.sid == "ReadHfToken" for s in role_policy(renderer, "ApiHostRole").statements)
    else:
        assert len(token_reads) == 1, calls
        [request] = model_requests
        assert request["authorization"] == f"Bearer {HF_TOKEN}"
        assert bodies["/ask (model question)"]["engine"].startswith("hf:"), bodies["/ask (model question)"]

    requests_made = requests_of_calls(calls, ACCOUNT)
    function = check_role(
        role_policy(renderer, function_role(template, "ApiFunction")),
        requests_made + lambda_platform_requests(renderer, "ApiFunction"),
    )
    # The EC2 host runs the same app (same code, same calls) under its own role.
    host = check_role(role_policy(renderer, "ApiHostRole"), requests_made, exempt=API_HOST_EXEMPT)
    assert function.ok and host.ok, f"{function.summary()}\n{host.summary()}"


def invoke_the_api(harness: Harness) -> tuple[list[AwsCall], dict[str, dict[str, Any]]]:
    """/health/details, /forecast, /ask (one question the parser answers, one it does not), /predict
    and /predict/sales through the Lambda handler, recording every AWS call."""
    event_json = harness.event_json
    from api.lambda_handler import build_handler

    handler = build_handler()
    recorded = event_json("apigw_http_v2_get_ask.json")
    key = {"x-api-key": API_KEY}
    as_of = "2024-03-06T12:00:00+01:00"
    invocations = {
        "/health/details": http_api_event(recorded, "/health/details", {}, key),
        "/forecast": http_api_event(recorded, "/forecast", {"hours": "6"}, key),
        "/ask": http_api_event(
            recorded, "/ask", {"q": "What was the demand yesterday?", "as_of": as_of}, key
        ),
        "/ask (model question)": http_api_event(recorded, "/ask", {"q": MODEL_QUESTION, "as_of": as_of}, key),
        "/predict": http_api_event(event_json("apigw_http_v2_post_predict.json"), "/predict", {}, key),
        "/predict/sales": http_api_event(
            event_json("apigw_http_v2_post_predict_sales.json"), "/predict/sales", {}, key
        ),
    }
    answers = {}
    try:
        with recording_aws_calls() as calls:
            for path, event in invocations.items():
                answers[path] = handler(event, None)
    finally:
        handler.app.state.services.close()  # the container's pools: other tests drop their tables
    return list(calls), answers
