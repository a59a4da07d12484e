"""`datalake deploy smoke`'s control flow against moto's server, over HTTP.

What is real here: the smoke run's code and its boto3 calls, moto's CloudFormation, S3, Secrets
Manager, RDS, EC2, ELBv2, CloudWatch Logs and Glue (job definitions), the SAMPLE REE landing (the
real client and raw writer, writing to moto's S3), and HTTP to two loopback servers.

What stands in, each named for what it replaces, because moto cannot do it:
- MotoStackDeployer: moto's change sets give stacks no outputs and it skips Glue, ApiGatewayV2 and
  Secrets Manager resources, so each layer is a stack made with create_stack: the real storage
  template, and for the others small templates with the resources the smoke run reads back (an RDS
  instance, a NAT gateway, an interface endpoint, a load balancer, a launch template, the flow-log
  group) and the outputs it uses;
- GlueRunsStandIn: moto runs neither Glue jobs nor crawlers; the stand-in moves each run and crawl
  through its states and, for a job run that succeeds, writes the run and publish markers the job would;
- AthenaSqlStandIn: moto does not run SQL; it answers the count;
- LambdaInvokeStandIn: moto does not run Lambda code here (no Docker); it answers as the sync does;
- ApiFrontEnd: a loopback HTTP server answering /health, /health/details and /ask as the API does.
Every call goes through RecordingSession, so the tests assert the order of calls across services.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from datalake.deploy import smoke
from datalake.deploy.smoke import SmokeOptions, SmokePorts, SmokeRun, land_ree_sample
from datalake.deploy.stack import DeployError, LayerResult
from datalake.deploy.templates import LAYERS, load_params, load_template
from datalake.settings import Settings, get_settings

ACCOUNT = "123456789012"
PREFIX = "datalake-dev"
DAY = dt.date(2024, 5, 14)
REE_JOB = f"{PREFIX}-ree-to-processed"
#: The run the stand-in job publishes, and its markers (what the sync is invoked on).
RUN, OLDER_RUN = "20240515T030000Z-0a1b2c3d", "20240514T030000Z-99999999"
MARKERS = (
    f"processed/_published/demand_hourly/{RUN}.json",
    f"processed/_published/generation/{RUN}.json",
)
API_KEY = "k3y-for-the-smoke-test"
DEMAND_TOTAL_MWH = 612_345.0


# -- the recording session --------------------------------------------------------------------------


class RecordingClient:
    """A client (moto's or a stand-in) whose operations are logged as ``(service, operation, kwargs)``."""

    def __init__(self, service: str, target: Any, log: list[tuple[str, str, dict[str, Any]]]) -> None:
        self._service, self._target, self._log = service, target, log

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if name.startswith(("get_paginator", "get_waiter")) or not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._log.append((self._service, name, kwargs))
            return attribute(*args, **kwargs)

        return call


class RecordingSession:
    """What the smoke run takes as its boto3 session: moto's clients, or a stand-in per service."""

    def __init__(self, real: boto3.session.Session, stand_ins: dict[str, Any], log: list) -> None:
        self.real, self.stand_ins, self.log = real, stand_ins, log
        self.region_name = real.region_name

    def client(self, service: str, **kwargs: Any) -> RecordingClient:
        target = self.stand_ins.get(service) or self.real.client(service, **kwargs)
        return RecordingClient(service, target, self.log)


def _error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "StandIn")


# -- stand-ins where moto cannot run code ------------------------------------------------------------


class GlueRunsStandIn:
    """Glue job runs and crawls (moto keeps only their definitions): each look moves a run or crawl
    one state on; a successful job run writes the day's run and its publish markers, as the job would.
    Everything else (get_job: the job's workers) is moto's."""

    def __init__(self, moto_glue: Any, s3: Any, lake_bucket: str, outcome: str = "SUCCEEDED") -> None:
        self.moto, self.s3, self.bucket, self.outcome = moto_glue, s3, lake_bucket, outcome
        self.runs: dict[str, list[str]] = {}
        self.crawls: dict[str, list[str]] = {}
        self.crawl_started: dict[str, dt.datetime] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.moto, name)

    def start_job_run(self, JobName: str, Arguments: dict[str, str]) -> dict[str, str]:
        run_id = f"jr_{len(self.runs) + 1:04d}"
        self.runs[run_id] = ["RUNNING", self.outcome]
        return {"JobRunId": run_id}

    def get_job_run(self, JobName: str, RunId: str) -> dict[str, Any]:
        states = self.runs[RunId]
        state = states.pop(0) if len(states) > 1 else states[0]
        if state == "SUCCEEDED" and not states[1:]:
            # The run's files, then its publish markers (an older run's marker too: only the newest
            # of each dataset is synced).
            for key in (
                f"processed/demand_hourly/_runs/{RUN}/year={DAY.year}/month={DAY.month}/part-00000.parquet",
                f"processed/generation/_runs/{RUN}/year={DAY.year}/part-00000.parquet",
            ):
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"PAR1 stand-in PAR1")
            for key in (*MARKERS, f"processed/_published/demand_hourly/{OLDER_RUN}.json"):
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=b'{"partitions": []}')
        run = {"Id": RunId, "JobName": JobName, "JobRunState": state, "ExecutionTime": 95}
        if state == "FAILED":
            run["ErrorMessage"] = "ModuleNotFoundError: No module named 'datalake'"
        return {"JobRun": run}

    def start_crawler(self, Name: str) -> dict[str, Any]:
        if self.crawls.get(Name, ["READY"])[0] == "RUNNING":
            raise _error("CrawlerRunningException", f"{Name} is running")
        self.crawls[Name] = ["RUNNING", "READY"]
        self.crawl_started[Name] = dt.datetime.now(dt.UTC)
        return {}

    def get_crawler(self, Name: str) -> dict[str, Any]:
        states = self.crawls[Name]
        state = states.pop(0) if len(states) > 1 else states[0]
        crawler = {"Name": Name, "State": state}
        if state == "READY":
            crawler["LastCrawl"] = {"Status": "SUCCEEDED", "StartTime": self.crawl_started[Name]}
        return {"Crawler": crawler}


class AthenaSqlStandIn:
    """Athena's SQL (moto runs none): RUNNING, then SUCCEEDED with the count of the day's rows."""

    def __init__(self, count: int) -> None:
        self.count, self.looks = count, 0

    def start_query_execution(self, **kwargs: Any) -> dict[str, str]:
        return {"QueryExecutionId": "q-0001"}

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        self.looks += 1
        return {"QueryExecution": {"Status": {"State": "RUNNING" if self.looks == 1 else "SUCCEEDED"}}}

    def get_query_results(self, QueryExecutionId: str) -> dict[str, Any]:
        rows = [{"Data": [{"VarCharValue": "hours"}]}, {"Data": [{"VarCharValue": str(self.count)}]}]
        return {"ResultSet": {"Rows": rows}}


class LambdaInvokeStandIn:
    """The sync Lambda (moto cannot run it without Docker): the summary its handler returns."""

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:
        records = json.loads(Payload)["Records"]
        summary = {
            "keys": len(records),
            "runs": [{"job": "sync_demand_hourly", "status": "succeeded", "rows_in": 48, "rows_out": 48}],
        }
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(summary).encode())}


class ApiFrontEnd:
    """A loopback server answering as the deployed API does without a model: /health 503, the
    details (behind the key) with the database up, /ask (behind the key) with the day's total."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None, Any]] = []
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                key = self.headers.get("X-API-Key")
                front.requests.append(("GET", self.path, key, None))
                if self.path in ("/health", "/health/ready"):
                    self._answer(503, {"status": "unavailable"})
                elif self.path == "/health/details" and key == API_KEY:
                    checks = {"database": {"ok": True}, "model": {"ok": False, "error": "no endpoint"}}
                    self._answer(200, {"status": "degraded", "readiness": {"ready": False, "checks": checks}})
                else:
                    self._answer(401, {"detail": "missing or wrong X-API-Key"})

            def do_POST(self) -> None:
                key = self.headers.get("X-API-Key")
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                front.requests.append(("POST", self.path, key, body))
                if self.path == "/ask" and key == API_KEY:
                    self._answer(
                        200,
                        {"answer": "612.345 MWh", "columns": ["demand_mwh"], "rows": [[DEMAND_TOTAL_MWH]]},
                    )
                else:
                    self._answer(401, {"detail": "missing or wrong X-API-Key"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- stand-in for the change-set deploy ----------------------------------------------------------------


def _marker(layer: str) -> dict[str, Any]:
    return {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Name": f"/smoke-test/{layer}", "Type": "String", "Value": layer},
    }


def _vpc(prefix: str, cidr: str) -> dict[str, Any]:
    return {
        f"{prefix}Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": f"{cidr}.0.0/16"}},
        **{
            f"{prefix}Subnet{zone.upper()}": {
                "Type": "AWS::EC2::Subnet",
                "Properties": {
                    "VpcId": {"Ref": f"{prefix}Vpc"},
                    "CidrBlock": f"{cidr}.{i}.0/24",
                    "AvailabilityZone": f"eu-west-1{zone}",
                },
            }
            for i, zone in enumerate("ab")
        },
    }


class MotoStackDeployer:
    """What `deploy stack` would create, as moto can hold it (see the module docstring)."""

    def __init__(
        self, moto: boto3.session.Session, endpoint: str, api_urls: tuple[str, str], log: list
    ) -> None:
        self.cfn = moto.client("cloudformation", endpoint_url=endpoint)
        self.log = log
        secret = moto.client("secretsmanager", endpoint_url=endpoint).create_secret(
            Name="smoke-test-api-key", SecretString=json.dumps({"api_key": API_KEY})
        )
        glue = moto.client("glue", endpoint_url=endpoint)
        glue.create_job(
            Name=REE_JOB,
            Role=f"arn:aws:iam::{ACCOUNT}:role/glue",
            Command={"Name": "glueetl", "ScriptLocation": "s3://x/glue/to_processed.py"},
            GlueVersion="5.0",
            WorkerType="G.1X",
            NumberOfWorkers=2,
            Timeout=60,
        )
        outputs = {
            "catalog": {
                "RawDatabaseName": "datalake_dev_raw",
                "ProcessedDatabaseName": "datalake_dev_processed",
                "AthenaWorkGroupName": PREFIX,
            },
            "transforms": {"ReeJobName": REE_JOB},
            "ingestion": {"SyncWarehouseFunctionName": f"{PREFIX}-sync-warehouse"},
            "ml": {"EndpointName": f"{PREFIX}-demand-forecast"},
            "api": {"ApiUrl": api_urls[0], "Ec2ApiUrl": api_urls[1], "ApiKeySecretArn": secret["ARN"]},
        }
        resources: dict[str, dict[str, Any]] = {
            "network": {
                **_vpc("", "10.40"),
                "NatIp": {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}},
                "NatGateway": {
                    "Type": "AWS::EC2::NatGateway",
                    "Properties": {
                        "SubnetId": {"Ref": "SubnetA"},
                        "AllocationId": {"Fn::GetAtt": ["NatIp", "AllocationId"]},
                    },
                },
                "SecretsManagerEndpoint": {
                    "Type": "AWS::EC2::VPCEndpoint",
                    "Properties": {
                        "VpcId": {"Ref": "Vpc"},
                        "ServiceName": "com.amazonaws.eu-west-1.secretsmanager",
                        "VpcEndpointType": "Interface",
                        "SubnetIds": [{"Ref": "SubnetA"}, {"Ref": "SubnetB"}],
                    },
                },
                "FlowLogGroup": {
                    "Type": "AWS::Logs::LogGroup",
                    "DeletionPolicy": "Retain",
                    "Properties": {"LogGroupName": f"/smoke-test/{PREFIX}-flow-logs"},
                },
            },
            "warehouse": {
                "Database": {
                    "Type": "AWS::RDS::DBInstance",
                    "Properties": {
                        "DBInstanceClass": "db.t4g.micro",
                        "Engine": "postgres",
                        "AllocatedStorage": "20",
                        "MasterUsername": "datalake_admin",
                        "MasterUserPassword": "stand-in-password",
                    },
                }
            },
            "api": {
                **_vpc("Api", "10.50"),
                "LoadBalancer": {
                    "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                    "Properties": {"Subnets": [{"Ref": "ApiSubnetA"}, {"Ref": "ApiSubnetB"}]},
                },
                "ApiLaunchTemplate": {
                    "Type": "AWS::EC2::LaunchTemplate",
                    "Properties": {
                        "LaunchTemplateData": {"InstanceType": "t3.small", "ImageId": "ami-12345678"}
                    },
                },
            },
        }
        self.templates: dict[str, dict[str, Any]] = {
            layer: {
                "Resources": resources.get(layer) or {"Marker": _marker(layer)},
                "Outputs": {k: {"Value": v} for k, v in outputs.get(layer, {}).items()},
            }
            for layer in LAYERS
            if layer != "storage"
        }
        self.templates["storage"] = load_template("storage")

    def __call__(self, layer: str, code_version: str | None) -> LayerResult:
        self.log.append(("deploy", layer, {"code_version": code_version}))
        name = f"{PREFIX}-{layer}"
        existing = [s for s in self.cfn.list_stacks()["StackSummaries"] if s["StackName"] == name]
        action = "unchanged" if any(s["StackStatus"] != "DELETE_COMPLETE" for s in existing) else "create"
        if action == "create":
            parameters = [{"ParameterKey": "Env", "ParameterValue": "dev"}] if layer == "storage" else []
            self.cfn.create_stack(
                StackName=name, TemplateBody=json.dumps(self.templates[layer]), Parameters=parameters
            )
        [stack] = self.cfn.describe_stacks(StackName=name)["Stacks"]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return LayerResult(layer, name, action, outputs=outputs)


# -- fixtures -----------------------------------------------------------------------------------------


class FakeClock:
    """Time that passes only when the run sleeps, so waiting costs nothing."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fronts() -> Iterator[tuple[ApiFrontEnd, ApiFrontEnd]]:
    gateway, balancer = ApiFrontEnd(), ApiFrontEnd()
    yield gateway, balancer
    gateway.close()
    balancer.close()


class Rehearsal:
    """A smoke run against moto with the stand-ins, and everything it recorded."""

    def __init__(
        self, settings: Settings, fronts: tuple[ApiFrontEnd, ApiFrontEnd], glue_outcome: str
    ) -> None:
        self.settings = settings
        self.log: list[tuple[str, str, dict[str, Any]]] = []
        self.lines: list[str] = []
        self.moto = boto3.session.Session(region_name="eu-west-1")
        endpoint = settings.aws_endpoint_url
        self.s3 = self.moto.client("s3", endpoint_url=endpoint)
        self.cfn = self.moto.client("cloudformation", endpoint_url=endpoint)
        self.lake = f"{PREFIX}-lake-{ACCOUNT}"
        self.deployer = MotoStackDeployer(self.moto, endpoint, (fronts[0].url, fronts[1].url), self.log)
        self.glue = GlueRunsStandIn(
            self.moto.client("glue", endpoint_url=endpoint), self.s3, self.lake, glue_outcome
        )
        self.session = RecordingSession(
            self.moto,
            {"glue": self.glue, "athena": AthenaSqlStandIn(48), "lambda": LambdaInvokeStandIn()},
            self.log,
        )
        self.clock = FakeClock()

    def package(self, bucket: str) -> str:
        self.log.append(("package", bucket, {}))
        return "0123456789ab"

    def land(self, bucket: str, day: dt.date) -> list[str]:
        self.log.append(("land", bucket, {"day": day}))
        return land_ree_sample(bucket, day, self.settings)

    def ports(self) -> SmokePorts:
        return SmokePorts(
            boto3_session=self.session,
            http=httpx.Client(timeout=10),
            deploy_layer=self.deployer,
            package=self.package,
            land_sample=self.land,
            sleep=self.clock.sleep,
            clock=self.clock,
        )

    def run(self, **options: Any) -> smoke.SmokeReport:
        run = SmokeRun(
            load_params("dev"),
            self.ports(),
            self.settings,
            SmokeOptions(env="dev", day=DAY, poll_s=5, **options),
            self.lines.append,
        )
        return run.run()

    def events(self) -> list[tuple[str, str]]:
        """The milestones of the log, in order: deploys, packaging, landing, and the calls that act."""
        acting = {
            ("glue", "start_job_run"), ("glue", "start_crawler"), ("athena", "start_query_execution"),
            ("lambda", "invoke"), ("cloudformation", "delete_stack"),
        }  # fmt: skip
        events = []
        for service, operation, kwargs in self.log:
            if service in ("deploy", "package", "land"):
                events.append((service, operation))
            elif (service, operation) in acting:
                target = kwargs.get("StackName") or kwargs.get("Name") or kwargs.get("JobName") or ""
                events.append((f"{service}.{operation}", str(target)))
        return events

    def stacks(self) -> set[str]:
        return {
            s["StackName"]
            for s in self.cfn.list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"
        }

    def buckets(self) -> set[str]:
        return {b["Name"] for b in self.s3.list_buckets()["Buckets"]}


@pytest.fixture
def rehearsal(moto_settings: Settings, fronts: tuple[ApiFrontEnd, ApiFrontEnd]) -> Rehearsal:
    return Rehearsal(moto_settings, fronts, "SUCCEEDED")


# -- tests --------------------------------------------------------------------------------------------


def test_smoke_runs_every_step_in_order_and_tears_down_what_it_created(
    rehearsal: Rehearsal, fronts: tuple[ApiFrontEnd, ApiFrontEnd]
) -> None:
    report = rehearsal.run(teardown=True)

    assert [(r.step, r.status) for r in report.results] == [(step, "ok") for step in smoke.STEPS], (
        report.results
    )
    assert report.failure_line() is None
    stacks = [f"{PREFIX}-{layer}" for layer in LAYERS]
    assert (
        rehearsal.events()
        == [
            ("deploy", "storage"),
            ("package", f"{PREFIX}-artifacts-{ACCOUNT}"),  # after storage: the code goes in its bucket
            *[("deploy", layer) for layer in LAYERS[1:]],
            ("land", rehearsal.lake),
            ("glue.start_job_run", REE_JOB),
            ("glue.start_crawler", f"{PREFIX}-raw"),
            ("athena.start_query_execution", ""),
            ("lambda.invoke", ""),
            *[("cloudformation.delete_stack", name) for name in reversed(stacks)],
        ]
    )
    calls = {(s, o): kw for s, o, kw in rehearsal.log}
    # Every layer after storage got the packaged code version.
    assert [kw["code_version"] for s, o, kw in rehearsal.log if s == "deploy"] == [None] + [
        "0123456789ab"
    ] * (len(stacks) - 1)
    # The SAMPLE day really landed (moto's S3, through the real REE client and raw writer).
    raw = rehearsal.s3.list_objects_v2(Bucket=rehearsal.lake, Prefix="raw/ree_sample/")["Contents"]
    assert raw and all("year=2024/month=05/day=14/" in o["Key"] for o in raw)
    assert calls[("glue", "start_job_run")]["Arguments"] == {"--raw_prefix": "raw/ree_sample"}
    query = calls[("athena", "start_query_execution")]
    assert query["WorkGroup"] == PREFIX and query["QueryExecutionContext"] == {
        "Database": "datalake_dev_processed"
    }
    assert (
        "local_date = DATE '2024-05-14'" in query["QueryString"]
        and "year = 2024 AND month = 5" in query["QueryString"]
    )
    invoked = calls[("lambda", "invoke")]
    assert invoked["FunctionName"] == f"{PREFIX}-sync-warehouse"
    records = json.loads(invoked["Payload"])["Records"]
    assert {r["s3"]["bucket"]["name"] for r in records} == {rehearsal.lake}
    assert sorted(r["s3"]["object"]["key"] for r in records) == sorted(MARKERS)
    # Both front ends: /health without the key, the details and /ask with it, asked about the day.
    for front in fronts:
        public = [r for r in front.requests if r[1] == "/health"]
        assert public and all(key is None for _, _, key, _ in public)
        assert ("GET", "/health/details", API_KEY, None) in front.requests
        asks = [body for method, path, key, body in front.requests if path == "/ask" and key == API_KEY]
        assert asks and all(
            body == {"question": "total demand yesterday", "as_of": "2024-05-15T12:00:00"} for body in asks
        )
    api = next(r for r in report.results if r.step == "api")
    assert (
        "API Gateway: /health 503, serving; readiness waits for model: no endpoint, /ask 612,345"
        in api.detail
    )
    assert any("plain HTTP" in line for line in rehearsal.lines)
    # The cost rows come from the stacks' resources and the Glue job.
    costs = {(row.layer, row.resource): row.what for row in report.costs}
    assert costs[("warehouse", "Database")].startswith("db.t4g.micro, 20 GB")
    assert costs[("network", "NatGateway")].startswith("NAT gateway nat-")
    assert costs[("network", "SecretsManagerEndpoint")].startswith(
        "interface endpoint com.amazonaws.eu-west-1.secretsmanager"
    )
    assert costs[("api", "LoadBalancer")].startswith("application load balancer")
    assert costs[("api", "ApiLaunchTemplate")] == "API host instance type t3.small"
    assert costs[("transforms", "ReeJob")].startswith(f"{REE_JOB}: 2 × G.1X = 2 DPU")
    assert any("no SageMaker endpoint" in line for line in rehearsal.lines)
    # Teardown: every stack gone; what the real templates retain is listed and still there.
    assert not rehearsal.stacks() & set(stacks)
    retained = {str(r) for r in report.retained}
    buckets = {f"{PREFIX}-{kind}-{ACCOUNT}" for kind in ("landing", "lake", "artifacts", "access-logs")}
    assert {r.physical_id for r in report.retained if r.kind == "AWS::S3::Bucket"} == buckets
    assert buckets <= rehearsal.buckets()
    assert any(text.startswith("final snapshot of RDS instance") for text in retained)
    assert any(r.resource == "FlowLogGroup" for r in report.retained)
    assert sum(line.startswith("  retained: ") for line in rehearsal.lines) == len(report.retained)
    # Each step printed its progress and timing.
    for number, step in enumerate(smoke.STEPS, 1):
        assert any(line.startswith(f"[{number}/9] {step}: ok in ") for line in rehearsal.lines), step


def test_smoke_stops_at_the_first_failed_step_says_which_and_why_and_still_tears_down(
    moto_settings: Settings, fronts: tuple[ApiFrontEnd, ApiFrontEnd], monkeypatch: pytest.MonkeyPatch
) -> None:
    rehearsal = Rehearsal(moto_settings, fronts, "FAILED")
    monkeypatch.setattr(smoke, "aws_ports", lambda env, params, settings, progress: rehearsal.ports())
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setenv("AWS_ENDPOINT_URL", str(moto_settings.aws_endpoint_url))  # the command's settings
    get_settings.cache_clear()
    result = CliRunner().invoke(
        smoke_cli(),
        ["deploy", "smoke", "--env", "dev", "--day", "2024-05-14", "--teardown", "--yes", "--poll", "5"],
    )

    assert result.exit_code == 1, result.output
    line = (
        "smoke failed at step 'transform': Glue run jr_0001 of datalake-dev-ree-to-processed FAILED: "
        "ModuleNotFoundError: No module named 'datalake'"
    )
    # The console may wrap long lines (its width is fixed when it is made, whatever COLUMNS says later).
    assert line in " ".join(result.output.split())
    for step, status in [("deploy", "ok"), ("land", "ok"), ("transform", "failed"), ("crawl", "skipped"),
                         ("query", "skipped"), ("sync", "skipped"), ("api", "skipped"), ("cost", "skipped"),
                         ("teardown", "ok")]:  # fmt: skip
        assert any(row.split()[:2] == ["│", step] and status in row for row in result.output.splitlines()), (
            step
        )
    events = rehearsal.events()
    assert ("glue.start_crawler", f"{PREFIX}-raw") not in events  # nothing after the failure ran...
    assert not [e for e in events if e[0] in ("athena.start_query_execution", "lambda.invoke")]
    assert not [r for f in fronts for r in f.requests]
    # ...but the teardown did, in reverse order, so a failed rehearsal leaves no lake running.
    deleted = [target for event, target in events if event == "cloudformation.delete_stack"]
    assert deleted == [f"{PREFIX}-{layer}" for layer in reversed(LAYERS)]


def test_without_teardown_the_summary_names_the_stacks_left_running(rehearsal: Rehearsal) -> None:
    report = rehearsal.run()
    teardown = report.results[-1]
    assert (teardown.step, teardown.status) == ("teardown", "skipped")
    assert teardown.detail == "--teardown not given; stacks created: " + ", ".join(
        f"{PREFIX}-{layer}" for layer in LAYERS
    )
    assert {f"{PREFIX}-{layer}" for layer in LAYERS} <= rehearsal.stacks()
    assert report.passed


def test_stacks_that_existed_before_are_kept_and_retained_data_deleted_only_when_asked(
    rehearsal: Rehearsal,
) -> None:
    # The storage and network layers were deployed before the rehearsal.
    rehearsal.deployer("storage", None)
    rehearsal.deployer("network", "0123456789ab")
    rehearsal.log.clear()

    report = rehearsal.run(teardown=True, delete_retained=True)

    assert report.passed, report.failure_line()
    deploy = report.results[0]
    assert "unchanged: storage, network" in deploy.detail
    assert report.kept_stacks == [f"{PREFIX}-storage", f"{PREFIX}-network"]
    assert {f"{PREFIX}-storage", f"{PREFIX}-network"} <= rehearsal.stacks()
    deleted = [target for event, target in rehearsal.events() if event == "cloudformation.delete_stack"]
    assert deleted == [
        f"{PREFIX}-{layer}" for layer in reversed(LAYERS) if layer not in ("storage", "network")
    ]
    # Only what the deleted stacks retained is touched: the database's snapshots, not the kept
    # network's flow logs or the kept storage's buckets (the SAMPLE data stays in the lake bucket).
    assert [r.resource for r in report.retained] == ["Database"]
    assert any(line.startswith("  deleted 0 snapshot(s) of ") for line in rehearsal.lines)
    assert rehearsal.lake in rehearsal.buckets()
    logs = rehearsal.moto.client("logs", endpoint_url=rehearsal.settings.aws_endpoint_url)
    assert logs.describe_log_groups(logGroupNamePrefix="/smoke-test/")["logGroups"]


def test_delete_retained_empties_and_deletes_the_buckets_and_log_groups_the_run_created(
    rehearsal: Rehearsal,
) -> None:
    report = rehearsal.run(teardown=True, delete_retained=True)

    assert report.passed, report.failure_line()
    buckets = {f"{PREFIX}-{kind}-{ACCOUNT}" for kind in ("landing", "lake", "artifacts", "access-logs")}
    assert not buckets & rehearsal.buckets()  # the lake bucket held the SAMPLE data: emptied first
    assert any(
        line.startswith(f"  deleted bucket {rehearsal.lake} (") and "(0 object" not in line
        for line in rehearsal.lines
    )
    logs = rehearsal.moto.client("logs", endpoint_url=rehearsal.settings.aws_endpoint_url)
    assert logs.describe_log_groups(logGroupNamePrefix="/smoke-test/")["logGroups"] == []


def smoke_cli() -> Any:
    from datalake.cli import app

    return app


def test_a_failed_layer_stops_the_run_with_cloudformations_reason_and_what_it_created_goes(
    rehearsal: Rehearsal,
) -> None:
    deploy = rehearsal.deployer

    def warehouse_fails(layer: str, code_version: str | None) -> LayerResult:
        if layer == "warehouse":  # what deploy_layer raises when the stack rolls back (moto never does)
            raise DeployError(
                f"create of {PREFIX}-warehouse failed (ROLLBACK_COMPLETE)",
                [
                    (
                        "Database",
                        "AWS::RDS::DBInstance",
                        "CREATE_FAILED",
                        "Cannot find version 16.4 for postgres",
                    )
                ],
            )
        return deploy(layer, code_version)

    rehearsal.deployer = warehouse_fails  # type: ignore[assignment]
    report = rehearsal.run(teardown=True)

    assert report.failure_line() == (
        f"smoke failed at step 'deploy': DeployError: create of {PREFIX}-warehouse failed (ROLLBACK_COMPLETE)"
    )
    assert (
        "  Database (AWS::RDS::DBInstance) CREATE_FAILED: Cannot find version 16.4 for postgres"
        in rehearsal.lines
    )
    assert [r.status for r in report.results] == ["failed"] + ["skipped"] * 7 + ["ok"]
    deleted = [target for event, target in rehearsal.events() if event == "cloudformation.delete_stack"]
    assert deleted == [f"{PREFIX}-catalog", f"{PREFIX}-network", f"{PREFIX}-storage"]
