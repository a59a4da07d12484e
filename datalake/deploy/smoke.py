"""``datalake deploy smoke``: rehearse a real deploy end to end in an AWS account, then report.

The steps, in order, each timed and printed as it goes:

1. ``deploy``: every layer (``deploy stack``'s change sets), packaging the code after the storage
   layer unless a code version is given;
2. ``land``: one local day of SAMPLE REE data into the real lake bucket (``raw/ree_sample/``);
3. ``transform``: the REE Glue job on that prefix (the run the S3 trigger started, or a new one),
   waited for;
4. ``crawl``: the raw crawler, waited for (the job registered the processed tables and partitions
   it published);
5. ``query``: Athena counts the day's SAMPLE rows of ``demand_hourly`` (more than 0);
6. ``sync``: the sync Lambda invoked on the newest publish markers of the processed tables, then
   the API's ``/ask`` reads
   the day's total from the warehouse;
7. ``api``: ``/health`` (public), ``/health/details`` and ``/ask`` (with the API key) on both front
   ends, API Gateway (``ApiUrl``) and the EC2 host's load balancer (``Ec2ApiUrl``);
8. ``cost``: the cost-relevant resources the stacks run (database class, NAT gateways, load
   balancer, interface endpoints, the API host, the SageMaker endpoint, Glue DPUs);
9. ``teardown`` (``--teardown``): the stacks this run created, in reverse order; what their
   templates retain is listed, and deleted only with ``--delete-retained``. Stacks that existed
   before the run are never deleted. It runs after a failed step too, so a failed rehearsal does not
   leave a lake running.

The run stops at the first failed step and says which and why in one line. AWS is reached through
:class:`SmokePorts` (a boto3 session, an HTTP client, and the deploy, package and landing
functions), so the control flow is tested against moto with stand-ins where moto cannot run code
(Glue jobs, crawlers, Athena SQL, Lambda invocations).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from botocore.exceptions import ClientError, WaiterError

from datalake import aws
from datalake.deploy.host_ready import API_KEY_HEADER, probe
from datalake.deploy.smoke_resources import (
    CostRow,
    RetainedResource,
    cost_rows,
    delete_retained,
    retained_resources,
    stack_resources,
)
from datalake.deploy.stack import LayerResult, failed_events, stack_status
from datalake.deploy.templates import LAYERS, load_template, stack_name
from datalake.errors import LakeError
from datalake.publishing import PUBLISHED_PREFIX
from datalake.settings import Settings

Progress = Callable[[str], None]
MADRID = ZoneInfo("Europe/Madrid")
#: The raw prefix the SAMPLE REE data lands under (the REE Glue job's ``--raw_prefix``).
SAMPLE_PREFIX = "raw/ree_sample"
#: The crawler of the zone the REE job reads (logical id in catalog.yaml); the job itself registers
#: what it writes in the processed database.
SMOKE_CRAWLERS = ("RawCrawler",)
#: The question /ask answers from the warehouse for the landed day (asked as of the next noon).
ASK_QUESTION = "total demand yesterday"
GLUE_FAILED_STATES = frozenset({"FAILED", "ERROR", "TIMEOUT", "STOPPED", "EXPIRED"})
ATHENA_FAILED_STATES = frozenset({"FAILED", "CANCELLED"})
STEPS = ("deploy", "land", "transform", "crawl", "query", "sync", "api", "cost", "teardown")


class StepFailed(LakeError):
    """A step failed; the message is the one-line reason the summary shows."""


@dataclass
class SmokePorts:
    """Where the run reaches AWS and the API.

    Attributes
    ----------
    boto3_session
        Every AWS client comes from it (through :func:`datalake.aws.client`, so ``AWS_ENDPOINT_URL``
        is honoured).
    http
        Calls the two API front ends.
    deploy_layer
        ``(layer, code_version) -> LayerResult``: :func:`datalake.deploy.stack.deploy_layer`.
    package
        ``artifacts bucket -> code version``: :func:`datalake.deploy.package.package`.
    land_sample
        ``(lake bucket, day) -> raw keys written``: :func:`land_ree_sample`.
    """

    boto3_session: Any
    http: httpx.Client
    deploy_layer: Callable[[str, str | None], LayerResult]
    package: Callable[[str], str]
    land_sample: Callable[[str, dt.date], list[str]]
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))


@dataclass(frozen=True)
class SmokeOptions:
    """What to rehearse and how long to wait for each thing."""

    env: str = "dev"
    day: dt.date | None = None  # default: yesterday in Madrid
    code_version: str | None = None  # given: no packaging
    teardown: bool = False
    delete_retained: bool = False
    poll_s: float = 15.0
    glue_timeout_s: float = 3600.0
    crawl_timeout_s: float = 1800.0
    query_timeout_s: float = 600.0
    api_timeout_s: float = 600.0


@dataclass(frozen=True)
class StepResult:
    """One row of the summary."""

    step: str
    status: str  # ok, failed, skipped
    seconds: float
    detail: str


@dataclass
class SmokeReport:
    """The summary: each step's result, the cost rows, what teardown kept, and the first failure."""

    results: list[StepResult] = field(default_factory=list)
    costs: list[CostRow] = field(default_factory=list)
    retained: list[RetainedResource] = field(default_factory=list)
    retained_deleted: bool = False
    kept_stacks: list[str] = field(default_factory=list)

    @property
    def failed(self) -> StepResult | None:
        return next((r for r in self.results if r.status == "failed"), None)

    @property
    def passed(self) -> bool:
        return self.failed is None

    def failure_line(self) -> str | None:
        """``smoke failed at step 'x': why``, or None when every step passed."""
        failed = self.failed
        return f"smoke failed at step '{failed.step}': {failed.detail}" if failed else None


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return first if isinstance(error, StepFailed) else f"{type(error).__name__}: {first}"


class SmokeRun:
    """One rehearsal: the steps over the ports, in order, stopping at the first failure.

    Parameters
    ----------
    params
        ``load_params(env)``: project, region and per-layer parameters.
    settings
        Region and endpoint for the clients (the params file's region should match).
    """

    def __init__(
        self,
        params: Mapping[str, Any],
        ports: SmokePorts,
        settings: Settings,
        options: SmokeOptions,
        progress: Progress = print,
    ) -> None:
        self.params = params
        self.ports = ports
        self.settings = settings
        self.options = options
        self.progress = progress
        self.day = options.day or (dt.datetime.now(MADRID).date() - dt.timedelta(days=1))
        self.outputs: dict[str, dict[str, str]] = {}
        self.created: list[str] = []  # layers whose stack did not exist before this run
        self.existing: list[str] = []
        self.raw_keys: list[str] = []
        self.landed_at: dt.datetime | None = None
        self._api_key: str | None = None
        self.report = SmokeReport()

    # -- plumbing ---------------------------------------------------------------------------------

    def client(self, service: str, **config: Any) -> Any:
        return aws.client(service, self.ports.boto3_session, self.settings, **config)

    def stack(self, layer: str) -> str:
        return stack_name(self.params["project"], self.options.env, layer)

    def output(self, layer: str, key: str) -> str:
        value = self.outputs.get(layer, {}).get(key)
        if not value:
            raise StepFailed(f"stack {self.stack(layer)} has no {key} output")
        return value

    def wait(self, what: str, timeout_s: float, look: Callable[[], tuple[bool, str]]) -> str:
        """Call ``look`` every ``poll_s`` until it says done; print each new state with the time."""
        start = self.ports.clock()
        last = None
        while True:
            done, state = look()
            elapsed = self.ports.clock() - start
            if state != last:
                self.progress(f"  {what}: {state} ({elapsed:.0f} s)")
                last = state
            if done:
                return state
            if elapsed + self.options.poll_s > timeout_s:
                raise StepFailed(f"{what} still {state} after {timeout_s:.0f} s")
            self.ports.sleep(self.options.poll_s)

    # -- the run ------------------------------------------------------------------------------------

    def run(self) -> SmokeReport:
        """Every step in order; after a failure the rest are skipped, but teardown still runs."""
        steps: Sequence[tuple[str, Callable[[], str]]] = [
            ("deploy", self.deploy),
            ("land", self.land),
            ("transform", self.transform),
            ("crawl", self.crawl),
            ("query", self.query),
            ("sync", self.sync),
            ("api", self.api),
            ("cost", self.cost),
        ]
        for number, (name, step) in enumerate(steps, 1):
            if self.report.failed:
                self.report.results.append(StepResult(name, "skipped", 0.0, "an earlier step failed"))
                continue
            self._run_step(number, name, step)
        if self.options.teardown:
            self._run_step(len(steps) + 1, "teardown", self.teardown)
        else:
            left = ", ".join(self.stack(layer) for layer in LAYERS if layer in self.created) or "none"
            self.report.results.append(
                StepResult("teardown", "skipped", 0.0, f"--teardown not given; stacks created: {left}")
            )
        return self.report

    def _run_step(self, number: int, name: str, step: Callable[[], str]) -> None:
        self.progress(f"[{number}/{len(STEPS)}] {name}")
        start = self.ports.clock()
        try:
            detail, status = step(), "ok"
        except Exception as error:  # any failure ends the run with its one-line reason
            detail, status = _one_line(error), "failed"
            more = str(error).strip().splitlines()[1:]  # a deploy's failed resources, one per line
            hint = getattr(error, "hint", None)
            for line in [*more, *([f"fix: {hint}"] if hint else [])]:
                self.progress(f"  {line.strip()}")
        seconds = self.ports.clock() - start
        self.progress(f"[{number}/{len(STEPS)}] {name}: {status} in {seconds:.0f} s: {detail}")
        self.report.results.append(StepResult(name, status, seconds, detail))

    # -- 1. deploy ----------------------------------------------------------------------------------

    def deploy(self) -> str:
        cfn = self.client("cloudformation")
        for layer in LAYERS:
            if stack_status(cfn, self.stack(layer)) not in (None, "REVIEW_IN_PROGRESS"):
                self.existing.append(layer)
        if self.existing:
            self.progress(f"  existing stacks (updated, never torn down): {', '.join(self.existing)}")
        actions: dict[str, list[str]] = {}
        version = self.options.code_version
        for layer in LAYERS:
            if layer != "storage" and version is None:
                bucket = self.output("storage", "ArtifactsBucketName")
                self.progress(f"  packaging the code into s3://{bucket}/code/")
                version = self.ports.package(bucket)
            if layer not in self.existing:
                self.created.append(layer)  # before the call: a failed create is torn down too
            start = self.ports.clock()
            result = self.ports.deploy_layer(layer, None if layer == "storage" else version)
            self.outputs[layer] = dict(result.outputs)
            actions.setdefault(result.action, []).append(layer)
            self.progress(f"  {result.stack}: {result.action} ({self.ports.clock() - start:.0f} s)")
        done = "; ".join(f"{action}: {', '.join(layers)}" for action, layers in actions.items())
        return f"{len(LAYERS)} layers ({done}), code version {version}"

    # -- 2. land ------------------------------------------------------------------------------------

    def land(self) -> str:
        bucket = self.output("storage", "LakeBucketName")
        self.landed_at = self.ports.now()
        self.raw_keys = list(self.ports.land_sample(bucket, self.day))
        if not self.raw_keys:
            raise StepFailed(f"no SAMPLE raw object landed for {self.day}")
        return f"{len(self.raw_keys)} raw object(s) for {self.day} under s3://{bucket}/{SAMPLE_PREFIX}/"

    # -- 3. transform -------------------------------------------------------------------------------

    def transform(self) -> str:
        from datalake.pipelines.trigger import TransformBusyError, start_transforms

        job = self.output("transforms", "ReeJobName")
        settings = self.settings.model_copy(update={"ree_glue_job": job})
        landed_at = self.landed_at or self.ports.now()
        objects = [(key, landed_at) for key in self.raw_keys]
        deadline = self.ports.clock() + self.options.glue_timeout_s
        while True:  # the trigger's own rule: start a run, or use an active one that will see the objects
            try:
                started = start_transforms(objects, settings, self.ports.boto3_session)
                break
            except TransformBusyError:
                if self.ports.clock() + self.options.poll_s > deadline:
                    raise StepFailed(f"{job} stayed at its concurrency limit with older runs") from None
                self.progress(f"  {job} is busy with runs that started before the landing; waiting")
                self.ports.sleep(self.options.poll_s)
        if not (started.started or started.covered):
            raise StepFailed(
                f"no Glue run for the landed keys (none under a known raw prefix: {self.raw_keys[:3]})"
            )
        run = (started.started or started.covered)[0]
        how = "started" if started.started else "started by the S3 trigger"
        glue = self.client("glue")
        details: dict[str, Any] = {}

        def look() -> tuple[bool, str]:
            details.update(glue.get_job_run(JobName=job, RunId=run.job_run_id)["JobRun"])
            state = details["JobRunState"]
            if state in GLUE_FAILED_STATES:
                raise StepFailed(
                    f"Glue run {run.job_run_id} of {job} {state}: {details.get('ErrorMessage', 'no message')}"
                )
            return state == "SUCCEEDED", state

        self.wait(f"Glue run {run.job_run_id} ({how})", self.options.glue_timeout_s, look)
        return f"{job} run {run.job_run_id} ({how}) SUCCEEDED in {details.get('ExecutionTime', '?')} s"

    # -- 4. crawl -----------------------------------------------------------------------------------

    def crawler_names(self) -> list[str]:
        """The raw crawler's name as catalog.yaml gives it for this env."""
        catalog = load_template("catalog")["Resources"]
        names = []
        for logical_id in SMOKE_CRAWLERS:
            name = catalog[logical_id]["Properties"]["Name"]
            text = name["Fn::Sub"] if isinstance(name, dict) else name
            names.append(
                text.replace("${Project}", self.params["project"]).replace("${Env}", self.options.env)
            )
        return names

    def crawl(self) -> str:
        glue = self.client("glue")
        names = self.crawler_names()
        requested = self.ports.now()
        for name in names:
            try:
                glue.start_crawler(Name=name)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "CrawlerRunningException":
                    raise
                # A crawl that began before the job finished may miss its partitions: let it end,
                # then crawl again.
                self.wait(
                    f"crawler {name} (already running)", self.options.crawl_timeout_s, self._crawled(name)
                )
                glue.start_crawler(Name=name)
        finished = []
        for name in names:
            self.wait(f"crawler {name}", self.options.crawl_timeout_s, self._crawled(name, requested))
            last = glue.get_crawler(Name=name)["Crawler"].get("LastCrawl", {})
            if last.get("Status") != "SUCCEEDED":
                raise StepFailed(
                    f"crawler {name} {last.get('Status')}: {last.get('ErrorMessage', 'no message')}"
                )
            finished.append(f"{name} SUCCEEDED")
        return ", ".join(finished)

    def _crawled(self, name: str, since: dt.datetime | None = None) -> Callable[[], tuple[bool, str]]:
        glue = self.client("glue")

        def look() -> tuple[bool, str]:
            crawler = glue.get_crawler(Name=name)["Crawler"]
            state = crawler["State"]
            started = crawler.get("LastCrawl", {}).get("StartTime")
            # READY after our start: its LastCrawl is ours (a minute of slack for clock skew).
            ours = since is None or (started is not None and started >= since - dt.timedelta(minutes=1))
            return state == "READY" and ours, state

        return look

    # -- 5. query -----------------------------------------------------------------------------------

    def demand_count_sql(self) -> str:
        """The day's SAMPLE demand rows, pruned to the day's year/month partition."""
        day = self.day
        return (
            "SELECT count(*) AS hours FROM demand_hourly "
            f"WHERE year = {day.year} AND month = {day.month} "
            f"AND local_date = DATE '{day.isoformat()}' AND source = 'sample'"
        )

    def query(self) -> str:
        athena = self.client("athena")
        database = self.output("catalog", "ProcessedDatabaseName")
        workgroup = self.output("catalog", "AthenaWorkGroupName")
        execution = athena.start_query_execution(
            QueryString=self.demand_count_sql(),
            QueryExecutionContext={"Database": database},
            WorkGroup=workgroup,
        )["QueryExecutionId"]

        def look() -> tuple[bool, str]:
            status = athena.get_query_execution(QueryExecutionId=execution)["QueryExecution"]["Status"]
            state = status["State"]
            if state in ATHENA_FAILED_STATES:
                raise StepFailed(f"Athena query {execution} {state}: {status.get('StateChangeReason', '')}")
            return state == "SUCCEEDED", state

        self.wait(f"Athena query {execution}", self.options.query_timeout_s, look)
        rows = athena.get_query_results(QueryExecutionId=execution)["ResultSet"]["Rows"]
        count = int(rows[1]["Data"][0]["VarCharValue"]) if len(rows) > 1 else 0
        if count <= 0:
            raise StepFailed(
                f"Athena counted {count} SAMPLE demand rows for {self.day} in {database}.demand_hourly"
            )
        return f"{count} SAMPLE demand_hourly rows for {self.day} in {database} (workgroup {workgroup})"

    # -- 6. sync ------------------------------------------------------------------------------------

    def processed_keys(self, bucket: str) -> list[str]:
        """The publish markers of the newest runs of demand_hourly and generation (what the sync's
        queue is notified of: each names the partitions its run switched in the catalog)."""
        s3 = self.client("s3")
        keys = []
        for dataset in ("demand_hourly", "generation"):
            prefix = f"{PUBLISHED_PREFIX}/{dataset}/"
            markers = [
                o["Key"]
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
                for o in page.get("Contents", [])
                if o["Key"].endswith(".json")
            ]
            keys += sorted(markers)[-1:]  # run ids sort by their start time
        return keys

    def sync(self) -> str:
        bucket = self.output("storage", "LakeBucketName")
        function = self.output("ingestion", "SyncWarehouseFunctionName")
        keys = self.processed_keys(bucket)
        if not keys:
            raise StepFailed(f"no publish marker in s3://{bucket}/{PUBLISHED_PREFIX}/ after the transform")
        lam = self.client("lambda", read_timeout=900, retries={"max_attempts": 1, "mode": "standard"})
        answer = lam.invoke(
            FunctionName=function,
            InvocationType="RequestResponse",
            Payload=json.dumps(s3_notification(bucket, keys, self.ports.now())).encode(),
        )
        payload = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            error = payload or {}
            raise StepFailed(
                f"{function}: {error.get('errorType', 'error')}: {error.get('errorMessage', '')}"
            )
        runs = (payload or {}).get("runs", [])
        failed = [run for run in runs if run.get("status") != "succeeded"]
        if not runs or failed:
            raise StepFailed(f"{function} synced nothing or failed: {json.dumps(failed or payload)[:300]}")
        total = self.ask_total(self.output("api", "ApiUrl"))
        synced = ", ".join(f"{run.get('job')} {run.get('rows_out', '?')} rows" for run in runs)
        return f"{function}: {synced}; /ask reads {total} from the warehouse"

    # -- 7. api -------------------------------------------------------------------------------------

    def api_key(self) -> str:
        if self._api_key is None:
            arn = self.output("api", "ApiKeySecretArn")
            secret = self.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
            self._api_key = json.loads(secret)["api_key"]
        return self._api_key

    def _get(self, url: str, key: str | None) -> tuple[int | None, Any]:
        try:
            response = self.ports.http.get(url, headers={API_KEY_HEADER: key} if key else {})
        except httpx.HTTPError:
            return None, None
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    def ask_total(self, base_url: str) -> str:
        """``/ask`` the day's total demand (as of the next noon); the answer's first value, > 0."""
        as_of = dt.datetime.combine(self.day + dt.timedelta(days=1), dt.time(12)).isoformat()
        response = self.ports.http.post(
            f"{base_url.rstrip('/')}/ask",
            json={"question": ASK_QUESTION, "as_of": as_of},
            headers={API_KEY_HEADER: self.api_key()},
        )
        if response.status_code != 200:
            raise StepFailed(f"{base_url}/ask answered {response.status_code}: {response.text[:200]}")
        body = response.json()
        values = [v for row in body.get("rows", []) for v in row if isinstance(v, int | float)]
        if not values or values[0] <= 0:
            raise StepFailed(f"{base_url}/ask found no demand for {self.day}: {body.get('answer', '')}")
        return f"{values[0]:,.0f}"

    def api(self) -> str:
        fronts = {
            "API Gateway": self.output("api", "ApiUrl"),
            "load balancer": self.output("api", "Ec2ApiUrl"),
        }
        key = self.api_key()
        said = []
        for front, base in fronts.items():
            base = base.rstrip("/")
            if base.startswith("http://"):
                self.progress(
                    f"  {front}: {base} is plain HTTP (no certificate): the key travels in clear text"
                )

            def public(base: str = base) -> tuple[bool, str]:
                status, body = self._get(f"{base}/health", None)
                return status in (200, 503) and isinstance(body, dict), f"/health {status}"

            health = self.wait(f"{front} {base}", self.options.api_timeout_s, public)
            verdict = probe(base, key, get=self._get)
            if not verdict.serving:
                raise StepFailed(f"{front} ({base}) does not serve: {verdict.reason}")
            status, _ = self._get(f"{base}/health/details", key)
            if status != 200:
                raise StepFailed(f"{front} ({base}) /health/details answered {status} with the API key")
            total = self.ask_total(base)
            said.append(f"{front}: {health}, {verdict.reason}, /ask {total}")
        return "; ".join(said)

    # -- 8. cost ------------------------------------------------------------------------------------

    def cost(self) -> str:
        stacks = {layer: self.stack(layer) for layer in LAYERS if layer in self.outputs}
        jobs = {
            key.removesuffix("Name"): value
            for key, value in self.outputs.get("transforms", {}).items()
            if key.endswith("JobName")
        }
        self.report.costs = cost_rows(self.client, stacks, jobs)
        for row in self.report.costs:
            self.progress(f"  {row.layer}.{row.resource} ({row.kind}): {row.what}")
        if not any(row.kind == "AWS::SageMaker::Endpoint" for row in self.report.costs):
            self.progress("  no SageMaker endpoint (ml.ModelDataUrl is empty)")
        return f"{len(self.report.costs)} cost-relevant resource(s)"

    # -- 9. teardown --------------------------------------------------------------------------------

    def teardown(self) -> str:
        cfn = self.client("cloudformation")
        self.report.kept_stacks = [self.stack(layer) for layer in LAYERS if layer in self.existing]
        deleted = []
        for layer in reversed(LAYERS):  # an export cannot go while a later stack imports it
            if layer not in self.created:
                continue
            name = self.stack(layer)
            if stack_status(cfn, name) is None:
                continue
            resources = stack_resources(cfn, name)
            self.report.retained += retained_resources(layer, load_template(layer), resources)
            start = self.ports.clock()
            cfn.delete_stack(StackName=name)
            try:
                cfn.get_waiter("stack_delete_complete").wait(
                    StackName=name,
                    WaiterConfig={"Delay": max(int(self.options.poll_s), 1), "MaxAttempts": 240},
                )
            except WaiterError:
                reasons = "; ".join(f"{r[0]}: {r[3]}" for r in failed_events(cfn, name)) or "no reason given"
                raise StepFailed(f"deleting {name} failed: {reasons}") from None
            self.progress(f"  {name}: deleted ({self.ports.clock() - start:.0f} s)")
            deleted.append(name)
        self.report.retained_deleted = self.options.delete_retained
        for resource in self.report.retained:
            if self.options.delete_retained:
                self.progress(f"  {delete_retained(self.client, resource)}")
            else:
                self.progress(f"  retained: {resource}")
        if self.report.kept_stacks:
            self.progress(f"  kept (they existed before this run): {', '.join(self.report.kept_stacks)}")
        fate = "deleted" if self.options.delete_retained else "listed, kept"
        return (
            f"deleted {len(deleted)} stack(s); {len(self.report.retained)} retained resource(s) {fate}; "
            f"{len(self.report.kept_stacks)} pre-existing stack(s) kept"
        )


def s3_notification(bucket: str, keys: Sequence[str], when: dt.datetime) -> dict[str, Any]:
    """An S3 ObjectCreated notification for ``keys``, as the sync Lambda accepts when invoked directly."""
    from urllib.parse import quote_plus

    time_text = when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "eventTime": time_text,
                "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key, safe="/")}},
            }
            for key in keys
        ]
    }


def land_ree_sample(bucket: str, day: dt.date, settings: Settings) -> list[str]:
    """Land one local day of SAMPLE REE responses (every dataset) in ``bucket``'s raw zone.

    The real client and raw writer, offline (the SAMPLE transport), writing to S3; ``refresh`` so a
    second rehearsal of the same day lands again (and triggers the Glue job again).

    Raises
    ------
    StepFailed
        When the ingest run did not succeed.
    """
    from datalake.pipelines.ingest import ingest_ree

    lake = settings.model_copy(update={"lake_runtime": "aws", "lake_bucket": bucket})
    report = ingest_ree(day, day, sample=True, refresh=True, settings=lake)
    if report.status != "succeeded":
        raise StepFailed(f"landing SAMPLE data failed: {report.error or report.details.get('failed')}")
    return list(report.keys_written)


def aws_ports(env: str, params: Mapping[str, Any], settings: Settings, progress: Progress) -> SmokePorts:
    """The ports of a real rehearsal: boto3 from the environment's credentials, httpx, the deploy
    and package functions, the SAMPLE landing."""
    from datalake.deploy.package import package
    from datalake.deploy.stack import deploy_layer

    session = aws.session(settings)

    def deploy(layer: str, version: str | None) -> LayerResult:
        return deploy_layer(layer, env, dict(params), version, settings, session, progress)

    def package_code(bucket: str) -> str:
        return package(bucket, settings=settings, boto3_session=session, progress=progress)["code_version"]

    return SmokePorts(
        boto3_session=session,
        http=httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0)),
        deploy_layer=deploy,
        package=package_code,
        land_sample=lambda bucket, day: land_ree_sample(bucket, day, settings),
    )
