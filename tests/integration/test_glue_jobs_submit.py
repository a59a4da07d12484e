"""Issue 15, findings 4 and 5: each Glue job, run by spark-submit the way Glue runs it.

What Glue gets is what runs: the packaged script (glue/<job>.py), the package as the packaged
zip on ``--py-files`` (the template's ``--extra-py-files``), the template's DefaultArguments plus
the ``--JOB_*`` arguments Glue adds, and a master chosen by the launcher, not by the job (the
job must take that session: finding 5). Python workers import the package from the zip for
``mapInPandas``, and a stand-in for Glue 5.0's Python (tests/integration/glue_env/sitecustomize.py)
lets every process import only the standard library, Glue 5.0's documented modules, the packaged
requirements and ``datalake`` from a zip, as on Glue. Each run works on a tiny local lake.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyspark
import pytest
from energy_fixtures import land_fixed_day
from owid_fixtures import as_xlsx, current_shape, subset_2020
from tmdb_landing import land_tmdb_raw

from datalake.deploy.glue_rules import GLUE_RUNTIME_DISTRIBUTIONS
from datalake.deploy.package import (
    GLUE_CODE_KEY,
    build_glue_code,
    build_glue_scripts,
    canonical_name,
    glue_provided_modules,
    glue_requirements,
)
from datalake.deploy.templates import load_template
from datalake.settings import Settings
from datalake.sources import entsoe, ree
from datalake.sources.ree_sample import sample_client
from datalake.sources.registry import GLUE_SCRIPT, SOURCES
from datalake.spark import class_archive_path
from datalake.spark_archive import archive_java_options
from datalake.storage.local import LocalObjectStore

pytestmark = pytest.mark.slow

SPARK_SUBMIT = Path(pyspark.__file__).parent / "bin" / "spark-submit"
GLUE_ENV = Path(__file__).with_name("glue_env")
#: What the CloudFormation intrinsics in DefaultArguments resolve to in this stand-in account.
RESOLVED = {
    "AWS::Region": "eu-west-1",
    "ArtifactsBucket": "datalake-dev-artifacts",
    "CodeVersion": "test",
    "Project": "datalake",
    "Env": "dev",
}
DAY = dt.date(2024, 6, 3)
#: The launcher's JVMs map Spark's classes from this machine's archive, as local runs do (none on Glue).
LAUNCHER_CLASS_ARCHIVE = archive_java_options(class_archive_path())
TRANSFORMS = load_template("transforms")


def resolve(value: Any) -> str:
    """A DefaultArguments value as Glue would see it once CloudFormation resolved it."""
    if isinstance(value, str):
        return value
    if "Ref" in value:  # a pseudo parameter, or a parameter left at its default
        return RESOLVED.get(value["Ref"]) or str(TRANSFORMS["Parameters"][value["Ref"]]["Default"])
    if "Fn::ImportValue" in value:
        return "datalake-dev-lake"
    template = value["Fn::Sub"][0] if isinstance(value["Fn::Sub"], list) else value["Fn::Sub"]
    for name, resolved in RESOLVED.items():
        template = template.replace(f"${{{name}}}", resolved)
    return template


def glue_argv(source: str, overrides: dict[str, str]) -> list[str]:
    """The arguments Glue passes a run of the job of ``source`` (``--source NAME``): ``--JOB_*``,
    the job's DefaultArguments, then the run's own arguments (which win)."""
    [job] = [
        r["Properties"]
        for r in TRANSFORMS["Resources"].values()
        if r["Type"] == "AWS::Glue::Job" and r["Properties"]["DefaultArguments"].get("--source") == source
    ]
    assert resolve(job["Command"]["ScriptLocation"]).endswith(f"/glue/{GLUE_SCRIPT}")
    arguments = {name: resolve(value) for name, value in job["DefaultArguments"].items()} | overrides
    argv = ["--JOB_ID", "j_test", "--JOB_RUN_ID", "jr_test", "--JOB_NAME", resolve(job["Name"])]
    for name, value in arguments.items():
        argv += [name, value]
    return argv


def allowed_import_names() -> list[str]:
    """Top-level modules Glue 5.0 plus the packaged requirements make importable."""
    distributions = (
        set(glue_provided_modules())
        | GLUE_RUNTIME_DISTRIBUTIONS
        | {canonical_name(line.split("==")[0]) for line in glue_requirements()}
    )
    names = [
        name
        for name, owners in importlib.metadata.packages_distributions().items()
        if {canonical_name(o) for o in owners} & distributions
    ]
    return sorted([*names, "datalake"])


def land_ree(settings: Settings) -> dict[str, str]:
    store = LocalObjectStore(settings.lake_root)
    with sample_client() as client:
        for dataset in ("demand", "generation"):
            ree.backfill(client, store, dataset, DAY, DAY, prefix=ree.SAMPLE_RAW_PREFIX)
    return {"--raw_prefix": ree.SAMPLE_RAW_PREFIX}


def land_entsoe(settings: Settings) -> dict[str, str]:
    """One day of an ENTSO-E Total Load export (CET hours, a day without a clock change)."""
    day, next_day = DAY.strftime("%d.%m.%Y"), (DAY + dt.timedelta(days=1)).strftime("%d.%m.%Y")
    rows = [
        f'"{day} {h:02d}:00 - {next_day if h == 23 else day} {(h + 1) % 24:02d}:00",'
        f'"{26000 + 100 * h}","{25500 + 100 * h}"'
        for h in range(24)
    ]
    header = '"Time (CET)","Day-ahead Total Load Forecast [MW] - BZN|ES","Actual Total Load [MW] - BZN|ES"'
    export = settings.lake_root.parent / "Total Load - Day Ahead _ Actual_2024.csv"
    export.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    entsoe.ingest_files(LocalObjectStore(settings.lake_root), [export])
    return {}


def land_energy_company(settings: Settings) -> dict[str, str]:
    land_fixed_day(settings)
    return {}


def land_tmdb(settings: Settings) -> dict[str, str]:
    land_tmdb_raw(LocalObjectStore(settings.lake_root), settings.lake_root.parent)
    return {}


def land_eia(settings: Settings) -> dict[str, str]:
    """A week of the SAMPLE EIA prices through the real client (WTI, Brent, Henry Hub)."""
    from datalake.pipelines.eia_ingest import ingest_eia

    now = dt.datetime.combine(DAY + dt.timedelta(days=30), dt.time(12), dt.UTC)
    ingest_eia(DAY, DAY + dt.timedelta(days=6), sample=True, now=now, settings=settings)
    return {"--raw_prefix": "raw/eia_sample"}


def land_owid(settings: Settings) -> dict[str, str]:
    """A 2020-shaped CSV, the same rows in the current shape, and an XLSX, landed as drops."""
    from datalake.pipelines.ingest import land_energy_drops

    data = subset_2020(("Spain", "World"), (2018, 2019))
    files = {"owid-2020.csv": data, "owid-current.csv": current_shape(data), "owid.xlsx": as_xlsx(data)}
    landing = LocalObjectStore(settings.lake_root / "landing")
    for name, body in files.items():
        landing.put_bytes(name, body)
    moment = dt.datetime.combine(DAY, dt.time(8), dt.UTC)
    land_energy_drops([(name, moment) for name in files], settings=settings)
    return {}


def land_store_sales(settings: Settings) -> dict[str, str]:
    """Three days of the shared Rossmann sales of stores 1-5 (a workbook) and store.csv, landed as drops."""
    from store_sales_fixtures import STORE_CSV, sales_xlsx, shared_bytes, shared_sales

    from datalake.pipelines.ingest import land_energy_drops

    files = {
        "rossmann-sales.xlsx": sales_xlsx(shared_sales(range(1, 6), 3)),
        "store.csv": shared_bytes(STORE_CSV),
    }
    landing = LocalObjectStore(settings.lake_root / "landing")
    for name, body in files.items():
        landing.put_bytes(name, body)
    moment = dt.datetime.combine(DAY, dt.time(8), dt.UTC)
    land_energy_drops([(name, moment) for name in files], settings=settings)
    return {}


def land_realtime(settings: Settings) -> dict[str, str]:
    """A micro-batch of three transactions and their outcomes, as the stream processor writes it."""
    from realtime_fixtures import land_batch

    land_batch(LocalObjectStore(settings.lake_root), dt.datetime.combine(DAY, dt.time(9), dt.UTC))
    return {}


def land_weather(settings: Settings) -> dict[str, str]:
    """Two days of the SAMPLE Open-Meteo archive and a forecast issue, through the real client."""
    from datalake.pipelines.weather_ingest import ingest_weather_archive, ingest_weather_forecast

    issued = dt.datetime.combine(DAY + dt.timedelta(days=2), dt.time(10), dt.UTC)
    ingest_weather_archive(DAY, DAY + dt.timedelta(days=1), sample=True, now=issued, settings=settings)
    ingest_weather_forecast(issued, sample=True, settings=settings)
    return {}


#: Sources whose transforms run Python on the executors (mapInPandas), so workers import datalake.
PYTHON_ON_EXECUTORS = {"entsoe", "owid", "store_sales", "weather"}

JOBS: dict[str, tuple[Callable[[Settings], dict[str, str]], tuple[str, ...]]] = {
    "ree": (land_ree, ("processed/demand_hourly", "processed/generation")),
    "entsoe": (land_entsoe, ("processed/demand_hourly",)),
    "energy_company": (
        land_energy_company,
        ("processed/energy_company/clientes", "processed/energy_company/transacciones"),
    ),
    "tmdb": (land_tmdb, ("processed/movies", "processed/movie_genres")),
    "eia": (land_eia, ("processed/energy_prices_daily",)),
    "owid": (land_owid, ("processed/world_energy", "processed/world_energy_indicators")),
    "store_sales": (land_store_sales, ("processed/store_sales_daily", "processed/stores")),
    "realtime": (land_realtime, ("processed/portfolio_events",)),
    "weather": (
        land_weather,
        ("processed/weather_hourly", "processed/weather_national_hourly", "processed/weather_daily"),
    ),
}


def spark_submit(
    source: str, tmp_path: Path, overrides: dict[str, str], allowed: list[str]
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    """Run the packaged job script for ``source`` as Glue would, in the Glue 5.0 stand-in; returns
    the process and where each process imported ``datalake`` from."""
    artifacts = tmp_path / "artifacts"
    build_glue_scripts(artifacts)
    build_glue_code(artifacts)
    log = tmp_path / "datalake-imports.jsonl"
    events = tmp_path / "spark-events"
    events.mkdir()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK", "SPARK", "LAKE_"))},
        "PYTHONPATH": str(GLUE_ENV),  # only the stand-in: neither the repo nor the worktree
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "GLUE_ENV_ALLOWED": json.dumps(allowed),
        "GLUE_ENV_LOG": str(log),
        # The lake is a local folder here; Glue's job arguments say aws, the environment wins.
        "LAKE_RUNTIME": "local",
        "LAKE_ROOT": str(tmp_path / "lake"),
    }
    command = [
        str(SPARK_SUBMIT),
        # The launcher's settings (Glue's own on Glue): the job must keep them.
        "--master", "local[2]",
        "--driver-memory", "1g",
        "--conf", "spark.driver.host=127.0.0.1",
        "--conf", "spark.driver.bindAddress=127.0.0.1",
        "--conf", "spark.ui.enabled=false",
        # A launcher sizes the shuffle to its cores, as local sessions do (datalake.spark.session_plan):
        # Spark's default of 200 gave each shuffle of a few rows 200 tasks on two cores (the TMDB run
        # took 205 s instead of 61 s). The driver JVM lives for one short job: C1 alone compiles
        # less than it saves, and it maps Spark's classes from the archive `datalake doctor` built
        # when there is one (job semantics are unchanged either way).
        "--conf", "spark.sql.shuffle.partitions=4",
        "--conf", f"spark.driver.defaultJavaOptions=-XX:TieredStopAtLevel=1 {LAUNCHER_CLASS_ARCHIVE}",
        "--conf", "spark.eventLog.enabled=true",
        "--conf", f"spark.eventLog.dir={events.as_uri()}",
        "--py-files", str(artifacts / GLUE_CODE_KEY),
        str(artifacts / "glue" / GLUE_SCRIPT),
        *glue_argv(source, overrides),
    ]  # fmt: skip
    process = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    imports = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
    return process, imports


def spark_properties(tmp_path: Path) -> dict[str, str]:
    """The Spark properties the run's context started with (its event log's environment update)."""
    [event_log] = (tmp_path / "spark-events").iterdir()
    for line in event_log.read_text().splitlines():
        event = json.loads(line)
        if event["Event"] == "SparkListenerEnvironmentUpdate":
            return event["Spark Properties"]
    raise AssertionError(f"no environment update in {event_log}")


def test_every_registered_source_has_a_glue_run_here() -> None:
    assert set(JOBS) == set(SOURCES)


@pytest.mark.parametrize("source", sorted(JOBS))
def test_finding_4_every_glue_job_runs_under_spark_submit_as_glue_runs_it(
    source: str, tmp_path: Path
) -> None:
    land, outputs = JOBS[source]
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=tmp_path / "lake")
    overrides = land(settings)
    process, imports = spark_submit(source, tmp_path, overrides, allowed_import_names())
    # The job's own lines (stdout) and the end of Spark's log (stderr), which would bury them.
    tail = f"{process.stdout[-3000:]}\n--- stderr ---\n{process.stderr[-1500:]}"
    assert process.returncode == 0, tail
    lines = process.stdout.splitlines()
    report = json.loads("\n".join(lines[lines.index("{") :]))
    assert report["status"] == "succeeded" and report["rows_out"] > 0, report
    store = LocalObjectStore(settings.lake_root)
    for location in outputs:
        assert [k for k in store.list_keys(location, include_hidden=True) if k.endswith(".parquet")], (
            f"{source}: nothing in {location}"
        )
    # Everything that imported datalake took it from the zip; where the job runs Python on the
    # executors (ENTSO-E's mapInPandas), a worker did so besides the driver. REE and the energy
    # company's transforms are Spark functions only (issue 16), so only their driver imports it.
    if source in PYTHON_ON_EXECUTORS:
        assert len({i["pid"] for i in imports}) >= 2, imports
    assert all(".zip" in (i["origin"] or "") for i in imports), imports
    # Finding 5: the job took the launcher's session (local[2] here, Glue's cluster on Glue), not
    # a local[*] one with its own driver heap and loopback address.
    properties = spark_properties(tmp_path)
    assert properties["spark.master"] == "local[2]" and properties["spark.driver.memory"] == "1g"


def test_finding_4_the_glue_stand_in_refuses_a_module_glue_lacks(tmp_path: Path) -> None:
    """Without httpx among the installed modules (as the old GlueExtraModules left it), the REE
    job fails where Glue would: the stand-in is not a pass-through."""
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=tmp_path / "lake")
    overrides = land_ree(settings)
    allowed = [name for name in allowed_import_names() if name != "httpx"]
    process, _imports = spark_submit("ree", tmp_path, overrides, allowed)
    assert process.returncode != 0
    assert "No module named 'httpx'" in process.stdout + process.stderr
