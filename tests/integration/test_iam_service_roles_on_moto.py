"""Issue 15, finding 6: the service roles' requests, held to the code that makes them.

``datalake.deploy.iam_roles`` checks the Glue job, SageMaker and Athena roles from the templates
alone, with requests derived from each job's definition and the code's contract. Here the code
runs on moto while every AWS call is recorded, and two things are asserted for each service:
the role (rendered from its template) allows what the run did and nothing it grants goes unused,
and what the run did is what the static check derives (so ``deploy check`` cannot drift from the
code).

- Glue jobs: each job script runs as Glue starts it (its DefaultArguments, a raw prefix the trigger
  passes), with its driver's S3 and Glue calls going to moto. Spark cannot reach s3:// here, so the
  session reads a local copy of the bucket and writes to it (the files then put in moto, as Glue's
  S3 filesystem would), and every s3:// path the job hands Spark is recorded; those reads and writes
  become the requests Glue's S3 filesystem makes (``spark_read_requests``, ``spark_write_requests``).
- SageMaker: ``sagemaker/launch.py all`` trains, registers and deploys; the jobs and models it passes
  the execution role for give the role's requests; the serving code's secret lookup is recorded.
- Athena: the lake engine's query through awswrangler; the API roles are denied all of it (/ask
  uses the warehouse on AWS).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
import requests
from energy_fixtures import CLIENTES_CSV, LANDED, land_fixed_day
from processed_fixtures import demand_day, publish_frames
from tmdb_landing import land_tmdb_raw

from datalake import aws
from datalake.catalog.glue import GlueCatalog
from datalake.datasets import DEMAND_HOURLY
from datalake.datasets.weather import WEATHER_NATIONAL_HOURLY
from datalake.deploy.iam_calls import recording_aws_calls
from datalake.deploy.iam_check import (
    TemplateRenderer,
    check_role,
    function_role,
    glue_job_platform_requests,
    lambda_functions,
    requests_of_calls,
    role_policy,
)
from datalake.deploy.iam_glue import (
    glue_job_data_requests,
    spark_read_requests,
    spark_write_requests,
    trigger_raw_prefixes,
)
from datalake.deploy.iam_policy import Request, resource_matches
from datalake.deploy.iam_roles import athena_query_calls, lake_athena_catalog, stand_in_bindings
from datalake.deploy.iam_sagemaker import (
    LAUNCHER_JOB_NAME,
    LAUNCHER_MANIFEST,
    LAUNCHER_SALES_VERSION,
    LAUNCHER_VERSION,
    MOVIE_LAUNCHER_JOB_NAME,
    MOVIE_TRAINING_CSV,
    launcher_role_requests,
    movie_success_launcher_requests,
    role_requests_of_calls,
    sales_launcher_requests,
)
from datalake.deploy.templates import REPO_ROOT, load_template
from datalake.models.archive import pack_model_dir, unpack_model_archive
from datalake.runs import RunReport
from datalake.settings import Settings, get_settings
from datalake.sources import entsoe, ree
from datalake.sources.energy_landing import land_drops
from datalake.sources.ree_sample import sample_client
from datalake.sources.tmdb_kaggle import KAGGLE_PREFIX
from datalake.storage.local import LocalObjectStore
from datalake.storage.paths import join_key

ACCOUNT = "123456789012"  # moto's account, and the stand-in bindings'
REGION = "eu-west-1"
DAY = dt.date(2024, 6, 3)


def covers(pattern: Request, request: Request) -> bool:
    """Whether a derived request (its resource and ``s3:prefix`` as patterns) covers one a run made."""
    if pattern.action.lower() != request.action.lower() or not resource_matches(
        pattern.resource, request.resource
    ):
        return False
    expected, actual = pattern.context_values("s3:prefix"), request.context_values("s3:prefix")
    if expected is None or actual is None:
        return expected is None and actual is None
    return any(resource_matches(e, a) for e in expected for a in actual)


def uncovered(patterns: list[Request], made: list[Request]) -> list[str]:
    return [
        f"{r.action} {r.resource} {dict(r.context)} [{r.why}]"
        for r in made
        if not any(covers(p, r) for p in patterns)
    ]


def make_bucket(settings: Settings, bucket: str) -> None:
    aws.client("s3", settings=settings).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )


def keys_under(settings: Settings, bucket: str, prefix: str) -> list[str]:
    """Every key under a prefix (called outside any recording: the harness's own look)."""
    pages = (
        aws.client("s3", settings=settings)
        .get_paginator("list_objects_v2")
        .paginate(Bucket=bucket, Prefix=prefix)
    )
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


# -- Glue jobs ---------------------------------------------------------------------------------------


class MirroredReader:
    """A DataFrameReader whose s3:// paths read a local copy of the bucket, each path recorded."""

    def __init__(self, reader: Any, translate: Callable[[Any], Any]) -> None:
        self._reader, self._translate = reader, translate

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._reader, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attribute(
                *(self._translate(a) for a in args), **{k: self._translate(v) for k, v in kwargs.items()}
            )
            return (
                MirroredReader(result, self._translate)
                if type(result).__name__ == "DataFrameReader"
                else result
            )

        return call


class MirroredSession:
    """The job's Spark session, reading ``s3://<bucket>/`` from a local copy (no S3 connector here)."""

    def __init__(self, session: Any, bucket: str, mirror: Path) -> None:
        self._session, self._bucket, self._mirror = session, bucket, mirror
        self.read_paths: list[str] = []

    def _translate(self, value: Any) -> Any:
        if isinstance(value, list | tuple):  # readers take a list of paths too
            return type(value)(self._translate(v) for v in value)
        if isinstance(value, str) and value.startswith(f"s3://{self._bucket}/"):
            key = value.removeprefix(f"s3://{self._bucket}/")
            self.read_paths.append(key)
            return f"file://{self._mirror / key}"  # Hadoop takes "=" as it is, unescaped
        return value

    @property
    def read(self) -> MirroredReader:
        return MirroredReader(self._session.read, self._translate)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class MirroredWrites:
    """Spark's writes of ``s3://<bucket>/`` go to the local copy, then to moto, as Glue's S3
    filesystem would put them; each path written is recorded."""

    def __init__(self, bucket: str, mirror: Path, s3: Any) -> None:
        self.bucket, self.mirror, self.s3 = bucket, mirror, s3
        self.write_paths: list[str] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from pyspark.sql.readwriter import DataFrameWriter

        real_parquet = DataFrameWriter.parquet
        writes = self

        def parquet(writer: Any, path: str, *args: Any, **kwargs: Any) -> None:
            if not path.startswith(f"s3://{writes.bucket}/"):
                return real_parquet(writer, path, *args, **kwargs)
            key = path.removeprefix(f"s3://{writes.bucket}/").rstrip("/")
            writes.write_paths.append(key)
            folder = writes.mirror / key
            real_parquet(writer, f"file://{folder}", *args, **kwargs)
            for file in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".crc")):
                relative = file.relative_to(writes.mirror).as_posix()
                writes.s3.put_object(Bucket=writes.bucket, Key=relative, Body=file.read_bytes())
            return None

        monkeypatch.setattr(DataFrameWriter, "parquet", parquet)


OWID_DROP = (
    b"country,year,iso_code,primary_energy_consumption\n"
    b"Spain,2019,ESP,1589.265\nWorld,2019,OWID_WRL,162194.29\n"
)

#: Days of the Rossmann sales drop: more than the sales split's validation and test windows (84
#: days), so the job (--features true) writes the features dataset too.
STORE_SALES_DAYS = 90
#: A Rossmann sales drop (two stores, STORE_SALES_DAYS days, closed on Sundays) and its stores.
STORE_SALES_DROPS = {
    "sales.csv": b"Store,DayOfWeek,Date,Sales,Customers,Open,Promo,StateHoliday,SchoolHoliday\n"
    + "".join(
        f"{store},{day.isoweekday()},{day.isoformat()},{0 if day.isoweekday() == 7 else 5000 + 37 * n},"
        f"{0 if day.isoweekday() == 7 else 500 + n},{int(day.isoweekday() != 7)},{n // 7 % 2},0,0\n"
        for store in (1, 2)
        for n, day in enumerate(dt.date(2024, 5, 3) + dt.timedelta(days=i) for i in range(STORE_SALES_DAYS))
    ).encode(),
    "store.csv": b"Store,StoreType,Assortment,CompetitionDistance,CompetitionOpenSinceMonth,"
    b"CompetitionOpenSinceYear,Promo2,Promo2SinceWeek,Promo2SinceYear,PromoInterval\n"
    b'1,c,a,1270,9,2008,0,,,\n2,a,a,570,11,2007,1,13,2010,"Jan,Apr,Jul,Oct"\n',
}


def land_raw(lake: Path) -> None:
    """One day of each source's raw files, as their extractors and landing leave them."""
    store = LocalObjectStore(lake)
    with sample_client() as client:
        for dataset in ("demand", "generation"):
            ree.backfill(client, store, dataset, DAY, DAY, prefix=ree.SAMPLE_RAW_PREFIX)
    day, next_day = DAY.strftime("%d.%m.%Y"), (DAY + dt.timedelta(days=1)).strftime("%d.%m.%Y")
    rows = [
        f'"{day} {h:02d}:00 - {next_day if h == 23 else day} {(h + 1) % 24:02d}:00",'
        f'"{26000 + 100 * h}","{25500 + 100 * h}"'
        for h in range(24)
    ]
    header = '"Time (CET)","Day-ahead Total Load Forecast [MW] - BZN|ES","Actual Total Load [MW] - BZN|ES"'
    export = lake.parent / "Total Load - Day Ahead _ Actual_2024.csv"
    export.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    entsoe.ingest_files(store, [export])
    land_fixed_day(Settings(_env_file=None, lake_runtime="local", lake_root=lake))
    land_tmdb_raw(store, lake.parent)
    # An OWID drop (the current column order), landed through the shared landing.
    landing = LocalObjectStore(lake.parent / "owid-landing")
    landing.put_bytes("owid-energy-data.csv", OWID_DROP)
    for name, body in STORE_SALES_DROPS.items():  # Rossmann's drops take the same landing
        landing.put_bytes(name, body)
    land_drops(
        landing,
        store,
        [("owid-energy-data.csv", LANDED), *((name, LANDED) for name in STORE_SALES_DROPS)],
        RunReport("land"),
        max_line_bytes=10_000,
        max_bytes=10**6,
    )
    # A week of EIA's SAMPLE prices through the real client and raw writer.
    from datalake.pipelines.eia_ingest import ingest_eia

    first = dt.date(2024, 6, 3)
    ingest_eia(
        first,
        first + dt.timedelta(days=6),
        sample=True,
        now=dt.datetime(2024, 7, 3, 12, tzinfo=dt.UTC),
        settings=Settings(_env_file=None, lake_runtime="local", lake_root=lake),
    )
    # A day of the SAMPLE Open-Meteo archive and a forecast issue, through the real client and writer.
    from datalake.pipelines.weather_ingest import ingest_weather_archive, ingest_weather_forecast

    weather = Settings(_env_file=None, lake_runtime="local", lake_root=lake, weather_forecast_days=1)
    issued = dt.datetime(2024, 6, 4, 10, tzinfo=dt.UTC)
    ingest_weather_archive(first, first, sample=True, now=issued, settings=weather)
    ingest_weather_forecast(issued, sample=True, settings=weather)
    # A micro-batch of transactions and their outcomes, as the stream processor writes it.
    from realtime_fixtures import land_batch

    land_batch(store, dt.datetime(2024, 6, 3, 9, tzinfo=dt.UTC))


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"glue_{name}", REPO_ROOT / "glue_jobs" / name)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: A client added in a later clientes drop: the clientes table changes.
NEW_CLIENT = "CC;7.654.321;Nuevo Cliente;Cali\n".encode("latin-1")
NEW_CLIENT_DROP = {"clientes_20240604.csv": CLIENTES_CSV + NEW_CLIENT}

#: The runs: (job, arguments the run adds, raw prefix withdrawn before it, drops landed before it).
#: The trigger passes --raw_prefix; a --full run after a withdrawal rewrites the tables from what
#: raw is left, switching the partitions that changed and unpublishing those left without rows.
GLUE_RUNS: tuple[tuple[str, dict[str, str], str | None, dict[str, bytes] | None], ...] = (
    ("ReeJob", {"--raw_prefix": ree.SAMPLE_RAW_PREFIX}, None, None),
    ("EntsoeJob", {}, None, None),
    ("EnergyCompanyJob", {}, None, None),
    # API envelopes and a Kaggle file: the movie tables (unpartitioned) and the job's kept records.
    ("TmdbJob", {}, None, None),
    # OWID's drop: its three unpartitioned tables and its kept rows.
    ("OwidJob", {}, None, None),
    # Rossmann's drops: store_sales_daily (partitioned by year), stores and its kept rows.
    ("StoreSalesJob", {}, None, None),
    # A week of SAMPLE EIA prices: energy_prices_daily, partitioned by the days they are about.
    ("EiaJob", {"--raw_prefix": "raw/eia_sample"}, None, None),
    # The stream processor's micro-batch: portfolio_events (partitioned by day) and its kept rows.
    ("RealtimeJob", {}, None, None),
    # Open-Meteo's SAMPLE archive day and forecast: the three weather tables and the job's kept rows.
    ("WeatherJob", {}, None, None),
    # A later clientes drop: the unpartitioned clientes table is switched (UpdateTable).
    ("EnergyCompanyJob", {}, None, NEW_CLIENT_DROP),
    # Without the providers the purchases change: their partitions are switched.
    ("EnergyCompanyJob", {"--full": "true"}, "raw/energy_company/proveedores/", None),
    # Without the transactions drop their partitions have no rows left: they leave the catalog.
    ("EnergyCompanyJob", {"--full": "true"}, "raw/energy_company/transacciones/", None),
    # Without REE's generation files the generation partitions leave the catalog too.
    (
        "ReeJob",
        {"--raw_prefix": ree.SAMPLE_RAW_PREFIX, "--full": "true"},
        f"{ree.SAMPLE_RAW_PREFIX}/generation/",
        None,
    ),
)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from spark_fixtures import local_spark

    session = local_spark("iam-service-roles", "local[2]", "1g")
    yield session
    session.stop()


@pytest.mark.slow
def test_finding_6_glue_jobs_need_exactly_what_the_static_check_derives_and_the_role_grants(
    moto_settings: Settings, spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transforms = TemplateRenderer(
        load_template("transforms"), stand_in_bindings("dev", "transforms"), "transforms"
    )
    bucket = transforms.bindings.exports["datalake-dev-LakeBucketName"]
    make_bucket(moto_settings, bucket)
    lake = tmp_path / "landed"
    land_raw(lake)
    s3 = aws.client("s3", settings=moto_settings)
    raw = [p for p in (lake / "raw").rglob("*") if p.is_file()]
    assert {p.relative_to(lake).parts[1] for p in raw} == {
        "ree_sample",
        "entsoe",
        "energy_company",
        "tmdb",
        "owid",
        "store_sales",
        "eia_sample",
        "realtime",
        "weather",
    }
    for path in raw:
        s3.put_object(Bucket=bucket, Key=path.relative_to(lake).as_posix(), Body=path.read_bytes())

    # The stacks create the processed databases the jobs publish to (moto skips Glue resources).
    exports = transforms.bindings.exports
    databases = {
        "PROCESSED_DATABASE": exports["datalake-dev-ProcessedDatabaseName"],
        "ENERGY_PROCESSED_DATABASE": exports["datalake-dev-EnergyProcessedDatabaseName"],
    }
    glue = aws.client("glue", settings=moto_settings)
    for database in databases.values():
        glue.create_database(DatabaseInput={"Name": database})
    # Glue's job arguments name the settings; the environment (moto, the local session) wins.
    for name, value in {
        **databases,
        "LAKE_RUNTIME": "aws",
        "LAKE_BUCKET": bucket,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": moto_settings.aws_endpoint_url or "",
        "SPARK_RUNTIME": "local",
        "LAKE_ROOT": str(tmp_path / "scratch"),
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    prefixes = trigger_raw_prefixes(
        TemplateRenderer(load_template("ingestion"), stand_in_bindings("dev", "ingestion"), "ingestion")
    )
    made: dict[str, list[Request]] = {}
    for job, extra, withdrawn, drops in GLUE_RUNS:
        if drops:
            before = {p for p in (lake / "raw").rglob("*") if p.is_file()}
            later = LANDED + dt.timedelta(days=1)
            land_fixed_day(Settings(_env_file=None, lake_runtime="local", lake_root=lake), later, drops)
            for path in {p for p in (lake / "raw").rglob("*") if p.is_file()} - before:
                s3.put_object(Bucket=bucket, Key=path.relative_to(lake).as_posix(), Body=path.read_bytes())
        if withdrawn:
            gone = keys_under(moto_settings, bucket, withdrawn)
            assert gone, f"nothing to withdraw under {withdrawn}"
            for key in gone:
                s3.delete_object(Bucket=bucket, Key=key)
        if job == "EntsoeJob":
            # demand_hourly as an older spec registered it (a column fewer): the publish updates it.
            older = GlueCatalog(settings=moto_settings).get_table(
                databases["PROCESSED_DATABASE"], "demand_hourly"
            )
            GlueCatalog(settings=moto_settings).put_table(older.with_columns(older.columns[:-1]))
        # Spark reads a copy of the bucket as it is when the run starts (processed files included).
        mirror = tmp_path / "mirror"
        shutil.rmtree(mirror, ignore_errors=True)
        objects = keys_under(moto_settings, bucket, "")
        for key in objects:
            (mirror / key).parent.mkdir(parents=True, exist_ok=True)
            (mirror / key).write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        session = MirroredSession(spark, bucket, mirror)
        monkeypatch.setattr("datalake.spark.job_session", lambda _name, _settings, s=session: s)
        writes = MirroredWrites(bucket, mirror, s3)
        writes.install(monkeypatch)
        props = transforms.resources[job]["Properties"]
        arguments = {k: str(v) for k, v in transforms.render(props["DefaultArguments"]).items()} | extra
        script = str(transforms.render(props["Command"]["ScriptLocation"])).rsplit("/", 1)[-1]
        argv = [script, "--JOB_NAME", str(transforms.render(props["Name"]))]
        for flag, value in arguments.items():
            argv += [flag, value]
        with recording_aws_calls() as calls:
            status = load_script(script).main(argv)
        assert status == 0, f"{job} {extra} failed"
        # The driver's calls: S3 (listing runs, markers, retention), the catalog switch and, at the
        # end, the run metrics. The harness's own uploads of Spark's files (EMRFS's puts) are among
        # the S3 calls.
        assert {call.service for call in calls} == {"s3", "glue", "cloudwatch"}, {
            f"{c.service}.{c.operation}" for c in calls
        }
        assert session.read_paths, f"{job}: Spark read nothing"
        assert writes.write_paths, f"{job}: Spark wrote nothing"
        reads = [
            request
            for path in session.read_paths
            for request in spark_read_requests(
                bucket,
                path,
                f"{job} reads {path}",
                objects=[k for k in objects if k.startswith(f"{path.rstrip('/')}/")],
            )
        ]
        written = [
            request
            for path in writes.write_paths
            for request in spark_write_requests(bucket, path, f"{job} writes {path}")
        ]
        made.setdefault(job, []).extend(requests_of_calls(calls, ACCOUNT) + reads + written)
        get_settings.cache_clear()

    # What the runs did is what the static check derives from each job's definition...
    for job, requests_made in made.items():
        derived = glue_job_data_requests(transforms, job, prefixes)
        assert not uncovered(derived, requests_made), (job, uncovered(derived, requests_made))
    # ...and the role allows all of it (with what Glue does around the scripts), granting nothing more.
    everything = [r for job, rs in made.items() for r in (*rs, *glue_job_platform_requests(transforms, job))]
    report = check_role(role_policy(transforms, "GlueJobRole"), everything)
    assert report.ok, report.summary()
    # The store-sales job (--features true) wrote the features dataset: Spark's parts, then the manifest.
    lake_arn = f"arn:aws:s3:::{bucket}/"
    features = {
        r.resource.removeprefix(lake_arn) for r in made["StoreSalesJob"] if r.action == "s3:PutObject"
    }
    assert any(re.fullmatch(r"features/store_sales/version=\w+/features/\*", k) for k in features), features
    assert any(re.fullmatch(r"features/store_sales/version=\w+/manifest\.json", k) for k in features), (
        features
    )
    # The ENTSO-E run brought demand_hourly's definition back to its spec.
    table = GlueCatalog(settings=moto_settings).get_table(databases["PROCESSED_DATABASE"], "demand_hourly")
    assert [c.name for c in table.columns] == DEMAND_HOURLY.column_names
    # The --day run read the processed tables back from their published run folders, wrote new runs
    # and switched the catalog: the master tables' locations, the transactions' touched partitions.
    lake = f"arn:aws:s3:::{bucket}/"
    day_run = {(r.action, r.resource.removeprefix(lake)) for r in made["EnergyCompanyJob"]}
    assert any(
        action == "s3:GetObject" and key.startswith("processed/energy_company/clientes/_runs/")
        for action, key in day_run
    )
    base = f"arn:aws:glue:{REGION}:{ACCOUNT}:table/{databases['ENERGY_PROCESSED_DATABASE']}"
    assert ("glue:UpdateTable", f"{base}/clientes") in day_run
    assert ("glue:BatchUpdatePartition", f"{base}/transacciones") in day_run
    assert ("glue:BatchDeletePartition", f"{base}/transacciones") in day_run
    # The withdrawn transactions and generation left the catalog: readers see no rows of them.
    for database, table in (
        (databases["ENERGY_PROCESSED_DATABASE"], "transacciones"),
        (databases["PROCESSED_DATABASE"], "generation"),
    ):
        assert glue.get_partitions(DatabaseName=database, TableName=table)["Partitions"] == [], table
    current = glue.get_partitions(DatabaseName=databases["PROCESSED_DATABASE"], TableName="demand_hourly")
    assert current["Partitions"]
    assert all("/demand_hourly/_runs/" in p["StorageDescriptor"]["Location"] for p in current["Partitions"])


# -- SageMaker ---------------------------------------------------------------------------------------

ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@pytest.fixture(scope="module")
def launch() -> ModuleType:
    try:
        import sagemaker.train  # noqa: F401
    except ImportError:
        pytest.fail("the SageMaker SDK is missing: pip install -e '.[dev]' (sagemaker>=3,<4)", pytrace=False)
    spec = importlib.util.spec_from_file_location("sagemaker_launch", REPO_ROOT / "sagemaker" / "launch.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclasses.dataclass
class SageMakerAccount:
    """The dev ml stack's stand-ins on moto: its buckets and the SageMaker execution role."""

    session: Any
    bindings: Any
    lake: str
    artifacts: str
    role: str


def sagemaker_account(moto_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> SageMakerAccount:
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")  # iam:SimulatePrincipalPolicy: not in moto
    session = boto3.session.Session(region_name=REGION)
    bindings = stand_in_bindings("dev", "ml")
    lake = bindings.exports["datalake-dev-LakeBucketName"]
    artifacts = bindings.exports["datalake-dev-ArtifactsBucketName"]
    for bucket in (lake, artifacts):
        make_bucket(moto_settings, bucket)
    role = aws.client("iam", session, moto_settings).create_role(
        RoleName="datalake-dev-sagemaker", AssumeRolePolicyDocument=json.dumps(ROLE_TRUST)
    )["Role"]["Arn"]
    return SageMakerAccount(session, bindings, lake, artifacts, role)


def write_job_model(session: Any, settings: Settings, model: Path) -> None:
    """After each CreateTrainingJob, put ``model`` packed where the job would (moto never runs one)."""

    def write(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        job = parsed["TrainingJobArn"].rsplit("/", 1)[1]
        key = f"sagemaker/training/{job}/output/model.tar.gz"
        aws.client("s3", session, settings).put_object(
            Bucket=settings.artifacts_bucket, Key=key, Body=pack_model_dir(model)
        )

    session.events.register("after-call.sagemaker.CreateTrainingJob", write)


def national_weather_day(day: str) -> Any:
    """One observed day of ``weather_national_hourly`` (24 hours, issued_at empty)."""
    import pandas as pd

    hours = pd.date_range(day, periods=24, freq="h", tz="UTC")
    return pd.DataFrame(
        {
            "ts_utc": hours,
            "kind": "observed",
            "issued_at": pd.Series(pd.NaT, index=range(24), dtype="datetime64[ns, UTC]"),
            **{c: 20.0 for c in ("temperature_c", "apparent_temperature_c", "relative_humidity_pct")},
            **{c: 10.0 for c in ("wind_speed_kmh", "cloud_cover_pct", "shortwave_radiation_wm2")},
            "locations_reporting": 5,
        }
    )


def test_finding_6_the_sagemaker_role_allows_what_the_launcher_passes_it_for_as_the_static_check_derives(
    launch: ModuleType, moto_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = sagemaker_account(moto_settings, monkeypatch)
    session, ml_bindings, role = account.session, account.bindings, account.role
    exports = ml_bindings.exports
    lake, artifacts = account.lake, account.artifacts
    secret = aws.client("secretsmanager", session, moto_settings).create_secret(
        Name="datalake/dev/database",
        SecretString=json.dumps(
            {"username": "u", "password": "p", "host": "db", "port": 5432, "dbname": "lake"}
        ),
    )["ARN"]
    endpoint = ml_bindings.parameters["EndpointName"]
    settings = moto_settings.model_copy(
        update={
            "lake_bucket": lake,
            "artifacts_bucket": artifacts,
            "sagemaker_role_arn": role,
            "database_secret_arn": secret,
            # The model reads the private warehouse, so it runs in the VPC (as ml.yaml's does).
            "sagemaker_subnet_ids": "subnet-0aaa,subnet-0bbb",
            "sagemaker_security_group_ids": "sg-0app",
            "forecast_endpoint": endpoint,
            "model_package_group": "datalake-dev-demand-forecaster",
        }
    )
    from datalake.storage.s3 import S3ObjectStore

    # A published demand_hourly: the launcher's manifest names its current files.
    aws.client("glue", session, settings).create_database(DatabaseInput={"Name": settings.processed_database})
    frames = {"year=2024/month=6": demand_day("2024-06-03", 25_000.0)}
    publish_frames(
        S3ObjectStore(lake, settings=settings),
        DEMAND_HOURLY,
        frames,
        None,
        GlueCatalog(settings=settings),
        settings,
    )
    # And a published weather_national_hourly: `--weather-channel lake` writes a manifest of it.
    publish_frames(
        S3ObjectStore(lake, settings=settings),
        WEATHER_NATIONAL_HOURLY,
        {"year=2024/month=6": national_weather_day("2024-06-03")},
        None,
        GlueCatalog(settings=settings),
        settings,
    )

    # What a real job writes (moto never runs train.py).
    model = tmp_path / "job-model"
    (model / "code").mkdir(parents=True, exist_ok=True)
    (model / "config.json").write_text('{"context_hours": 336}')
    (model / "code" / "inference.py").write_text("# packed by train.py\n")
    write_job_model(session, settings, model)
    with recording_aws_calls() as calls:
        summary = launch.main(["all", "--no-logs", "--weather-channel", "lake"], settings, session)
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
        for c in aws.client("sagemaker", session, settings).describe_training_job(
            TrainingJobName=summary["training"]["job_name"]
        )["InputDataConfig"]
    }
    assert channels["weather"].startswith(f"s3://{lake}/processed/weather_national_hourly/_manifests/")
    # The serving code's own call with the role: the warehouse's credentials (load_recent's first step).
    monkeypatch.setenv("DATABASE_SECRET_ARN", secret)
    from datalake.warehouse.connection import database_url

    with recording_aws_calls() as serving:
        database_url(settings, boto3_session=session)

    made = role_requests_of_calls(calls, role, ACCOUNT, objects=lambda b, p: keys_under(settings, b, p))
    assert {r.action for r in made} >= {
        "s3:GetObject",
        "s3:PutObject",
        "ecr:BatchGetImage",
        "logs:PutLogEvents",
    }
    # The model's environment names the secret, so the derived requests foresee the serving code's call.
    served = requests_of_calls(serving, ACCOUNT)
    assert [(r.action, r.resource) for r in served] == [("secretsmanager:GetSecretValue", secret)]
    assert not uncovered(made, served)

    # The launcher did what the static check derives from its defaults (job name and version aside)...
    def wildcard(text: str) -> str:
        return (
            text.replace(LAUNCHER_JOB_NAME, "*")
            .replace(LAUNCHER_VERSION, "*")
            .replace(LAUNCHER_MANIFEST, "*")
        )

    derived = [
        Request(r.action, wildcard(r.resource), {k: wildcard(str(v)) for k, v in r.context.items()}, r.why)
        for r in launcher_role_requests(
            lake, artifacts, endpoint, REGION, ACCOUNT, database_secret_arn=secret
        )
    ]
    assert not uncovered(derived, made + served), uncovered(derived, made + served)
    assert not [f"{d.action} {d.resource}" for d in derived if not any(covers(d, r) for r in made + served)]
    # ...and the role, rendered with this account's secret, allows it.
    bindings = dataclasses.replace(ml_bindings, exports={**exports, "datalake-dev-DatabaseSecretArn": secret})
    ml = TemplateRenderer(load_template("ml"), bindings, "ml")
    policy = role_policy(ml, "SageMakerExecutionRole")
    denied = [f"{r.action} {r.resource}" for r in made + served if not policy.decide(r).allowed]
    assert not denied, denied


def test_the_sagemaker_role_allows_what_the_movie_launcher_passes_it_for_as_the_static_check_derives(
    launch: ModuleType, moto_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = sagemaker_account(moto_settings, monkeypatch)
    endpoint = "datalake-dev-movie-success"
    settings = moto_settings.model_copy(
        update={
            "lake_bucket": account.lake,
            "artifacts_bucket": account.artifacts,
            "sagemaker_role_arn": account.role,
            "movie_success_endpoint": endpoint,
            "model_package_group": "datalake-dev-demand-forecaster",
        }
    )
    # The Kaggle file where `datalake ingest tmdb-csv` lands it: the training channel.
    channel_key = join_key(KAGGLE_PREFIX, MOVIE_TRAINING_CSV)
    aws.client("s3", account.session, settings).put_object(
        Bucket=account.lake, Key=channel_key, Body=b"id,title\n1,A\n"
    )
    model = tmp_path / "movie-model"
    (model / "code").mkdir(parents=True)
    (model / "model.joblib").write_bytes(b"stand-in")
    (model / "metrics.json").write_text('{"roc_auc": 0.68}')
    (model / "code" / "inference.py").write_text("# packed by movie_success_train.py\n")
    write_job_model(account.session, settings, model)
    channel = f"s3://{account.lake}/{channel_key}"
    with recording_aws_calls() as calls:
        summary = launch.main(
            ["all", "--model", "movie-success", "--channel", channel, "--no-logs"], settings, account.session
        )
    assert summary["deployment"]["endpoint_name"] == endpoint  # from MOVIE_SUCCESS_ENDPOINT
    made = role_requests_of_calls(
        calls, account.role, ACCOUNT, objects=lambda b, p: keys_under(settings, b, p)
    )
    assert ("s3:GetObject", f"arn:aws:s3:::{account.lake}/{channel_key}") in {
        (r.action, r.resource) for r in made
    }
    assert not any(r.action.startswith("secretsmanager:") for r in made)  # no warehouse: no secret

    def wildcard(text: str) -> str:
        return text.replace(MOVIE_LAUNCHER_JOB_NAME, "*").replace(LAUNCHER_VERSION, "*")

    derived = [
        Request(r.action, wildcard(r.resource), {k: wildcard(str(v)) for k, v in r.context.items()}, r.why)
        for r in movie_success_launcher_requests(account.lake, account.artifacts, endpoint, REGION, ACCOUNT)
    ]
    assert not uncovered(derived, made), uncovered(derived, made)
    assert not [f"{d.action} {d.resource}" for d in derived if not any(covers(d, r) for r in made)]
    ml = TemplateRenderer(load_template("ml"), account.bindings, "ml")
    policy = role_policy(ml, "SageMakerExecutionRole")
    denied = [f"{r.action} {r.resource}" for r in made if not policy.decide(r).allowed]
    assert not denied, denied


def test_the_sagemaker_role_allows_what_the_store_sales_deploy_passes_it_for_as_the_static_check_derives(
    launch: ModuleType, moto_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datalake.sales import predict
    from datalake.sales.hosting import archive_key

    account = sagemaker_account(moto_settings, monkeypatch)
    settings = moto_settings.model_copy(
        update={
            "lake_bucket": account.lake,
            "artifacts_bucket": account.artifacts,
            "sagemaker_role_arn": account.role,
            "sales_endpoint": "datalake-dev-store-sales",
        }
    )

    class StandIn:  # the MLflow champion's model (its own tests train real ones)
        def save(self, folder: Path) -> Path:
            (folder / "model.joblib").write_bytes(b"stand-in")
            return folder / "model.joblib"

    champion = predict.LoadedModel(StandIn(), LAUNCHER_SALES_VERSION, "champion")  # type: ignore[arg-type]
    monkeypatch.setattr(predict, "load_alias", lambda alias, settings=None: champion)
    with recording_aws_calls() as calls:
        summary = launch.main(["deploy", "--model", "store-sales"], settings, account.session)
    deployment = summary["deployment"]
    assert deployment["endpoint_name"] == "datalake-dev-store-sales"  # from SALES_ENDPOINT
    assert deployment["version"] == LAUNCHER_SALES_VERSION
    sagemaker = aws.client("sagemaker", account.session, settings)
    container = sagemaker.describe_model(ModelName=deployment["model_name"])["PrimaryContainer"]
    key = archive_key(LAUNCHER_SALES_VERSION)
    assert container["ModelDataUrl"] == f"s3://{account.artifacts}/{key}"
    packed = aws.client("s3", account.session, settings).get_object(Bucket=account.artifacts, Key=key)
    with tempfile.TemporaryDirectory() as scratch:
        files = unpack_model_archive(packed["Body"].read(), Path(scratch))
        assert json.loads((files / "version.json").read_text())["version"] == LAUNCHER_SALES_VERSION
        assert (files / "code" / "inference.py").read_text() == (
            REPO_ROOT / "sagemaker" / "sales_inference.py"
        ).read_text()

    made = role_requests_of_calls(
        calls, account.role, ACCOUNT, objects=lambda b, p: keys_under(settings, b, p)
    )
    derived = sales_launcher_requests(account.artifacts, "datalake-dev-store-sales", REGION, ACCOUNT)
    assert not uncovered(derived, made), uncovered(derived, made)
    assert not [f"{d.action} {d.resource}" for d in derived if not any(covers(d, r) for r in made)]
    ml = TemplateRenderer(load_template("ml"), account.bindings, "ml")
    policy = role_policy(ml, "SageMakerExecutionRole")
    denied = [f"{r.action} {r.resource}" for r in made if not policy.decide(r).allowed]
    assert not denied, denied


# -- Athena ------------------------------------------------------------------------------------------


def test_finding_6_the_api_roles_are_denied_the_lake_engines_athena_queries(
    moto_settings: Settings, moto_server: str
) -> None:
    """/ask runs on the warehouse on AWS: the API's environment leaves ASK_ENGINE at ``warehouse``,
    and neither API role may run the queries the lake engine (Athena) would make."""
    catalog = TemplateRenderer(load_template("catalog"), stand_in_bindings("dev", "catalog"), "catalog")
    workgroup = catalog.render(catalog.resources["AthenaWorkGroup"]["Properties"])
    output = workgroup["WorkGroupConfiguration"]["ResultConfiguration"]["OutputLocation"]
    exports = catalog.bindings.exports
    make_bucket(moto_settings, exports["datalake-dev-ArtifactsBucketName"])
    aws.client("athena", settings=moto_settings).create_work_group(
        Name=workgroup["Name"],
        Configuration={
            "ResultConfiguration": {"OutputLocation": output},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    rows = [{"Data": [{"VarCharValue": "n"}]}, {"Data": [{"VarCharValue": "24"}]}]
    answer = requests.post(
        f"{moto_server}/moto-api/static/athena/query-results",
        json={
            "account_id": ACCOUNT,
            "region": REGION,
            "results": [
                {
                    "rows": rows,
                    "column_info": [{"Name": "n", "Label": "n", "Type": "bigint", "Nullable": "UNKNOWN"}],
                }
            ],
        },
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    database = exports["datalake-dev-ProcessedDatabaseName"]
    settings = moto_settings.model_copy(
        update={"athena_workgroup": workgroup["Name"], "processed_database": database}
    )
    from datalake.query.athena import AthenaEngine

    with recording_aws_calls() as calls:
        frame = AthenaEngine(settings=settings).query("SELECT count(*) AS n FROM demand_hourly")
    assert int(frame.iloc[0, 0]) == 24
    athena = lake_athena_catalog(
        exports["datalake-dev-LakeBucketName"],
        {(database, "demand_hourly"): DEMAND_HOURLY},
        {workgroup["Name"]: output},
    )
    made = requests_of_calls(calls, ACCOUNT, athena=athena)
    [start] = [c for c in calls if c.operation == "StartQueryExecution"]
    # The static check's model of the engine's calls is the recorded sequence.
    modelled = athena_query_calls(start.params["QueryString"], database, workgroup["Name"], output, REGION)
    assert [(c.service, c.operation) for c in modelled] == [(c.service, c.operation) for c in calls]
    query = str(start.response["QueryExecutionId"])
    assert sorted((r.action, r.resource.replace(query, "q")) for r in made) == sorted(
        (r.action, r.resource.replace("00000000-0000-0000-0000-000000000000", "q"))
        for r in requests_of_calls(modelled, ACCOUNT, athena=athena)
    )
    assert {"athena:StartQueryExecution", "glue:GetPartitions", "s3:PutObject"} <= {r.action for r in made}

    api = TemplateRenderer(load_template("api"), stand_in_bindings("dev", "api"), "api")
    variables = api.render(lambda_functions(api.template)["ApiFunction"]["Environment"]["Variables"])
    assert variables.get("ASK_ENGINE", Settings(_env_file=None).ask_engine) == "warehouse"
    for role in (function_role(api.template, "ApiFunction"), "ApiHostRole"):
        policy = role_policy(api, role)
        athena_requests = [
            r for r in made if r.action.startswith("athena:") or "athena-results" in r.resource
        ]
        allowed = [f"{r.action} {r.resource}" for r in athena_requests if policy.decide(r).allowed]
        assert athena_requests and not allowed, (role, allowed)
