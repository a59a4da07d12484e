"""Issue 15, finding 5: on Glue a job takes the session Glue's launcher configured (its workers), and
forces neither ``local[*]`` nor a loopback driver; locally it still builds a local session.

The session builder is observed through a recording stand-in with SparkSession.builder's chained
interface, so the Glue path is checked without awsglue or a cluster; the real Glue-style launch
(spark-submit choosing the master) runs in tests/integration/test_glue_jobs_submit.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from datalake.deploy.templates import load_template
from datalake.settings import Settings
from datalake.sources.registry import SOURCES
from datalake.spark import QUICK_JIT_OPTION, SESSION_CONF, get_spark, glue_started, spark_runtime
from datalake.spark_archive import archive_java_options, archive_path

LOCAL_ONLY_KEYS = {"spark.master", "spark.driver.host", "spark.driver.bindAddress", "spark.driver.memory"}


class RecordingConf:
    def __init__(self, calls: list[tuple[Any, ...]]) -> None:
        self.calls = calls

    def set(self, key: str, value: str) -> None:
        self.calls.append(("conf.set", key, value))


class RecordingContext:
    def __init__(self, calls: list[tuple[Any, ...]]) -> None:
        self.calls = calls

    def setLogLevel(self, level: str) -> None:
        self.calls.append(("setLogLevel", level))


class RecordingSession:
    def __init__(self, calls: list[tuple[Any, ...]]) -> None:
        self.conf = RecordingConf(calls)
        self.sparkContext = RecordingContext(calls)


class RecordingBuilder:
    """SparkSession.builder's chained calls, recorded in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def appName(self, name: str) -> RecordingBuilder:
        self.calls.append(("appName", name))
        return self

    def master(self, master: str) -> RecordingBuilder:
        self.calls.append(("master", master))
        return self

    def config(self, key: str, value: str) -> RecordingBuilder:
        self.calls.append(("config", key, value))
        return self

    def getOrCreate(self) -> RecordingSession:
        self.calls.append(("getOrCreate",))
        return RecordingSession(self.calls)

    def before_create(self) -> list[tuple[Any, ...]]:
        return self.calls[: self.calls.index(("getOrCreate",))]


@pytest.fixture
def clean_spark_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPARK_LOCAL_IP", raising=False)
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    monkeypatch.delenv("SPARK_RUNTIME", raising=False)


@pytest.fixture
def awsglue_importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ``awsglue`` package on the path, as on Glue's driver (a real, empty package)."""
    (tmp_path / "awsglue").mkdir()
    (tmp_path / "awsglue" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_finding_5_glue_session_forces_no_local_master_or_loopback(clean_spark_environment: None) -> None:
    import os

    builder = RecordingBuilder()
    get_spark("ree_to_processed", "local[*]", "4g", runtime="glue", builder=builder)
    before = builder.before_create()
    assert not [c for c in before if c[0] == "master"], before
    configured = {c[1]: c[2] for c in before if c[0] == "config"}
    assert not LOCAL_ONLY_KEYS & set(configured), configured
    assert "127.0.0.1" not in repr(builder.calls) and "local[" not in repr(builder.calls)
    # The driver's environment is Glue's: no loopback address, no Python of this machine for workers.
    assert "SPARK_LOCAL_IP" not in os.environ and "PYSPARK_PYTHON" not in os.environ
    # The lake's semantics still hold on Glue's session (runtime settings, set after it exists).
    after = builder.calls[builder.calls.index(("getOrCreate",)) + 1 :]
    assert {(key, value) for _, key, value in [c for c in after if c[0] == "conf.set"]} == set(
        SESSION_CONF.items()
    )
    assert ("setLogLevel", "ERROR") not in after


def test_finding_5_local_session_is_still_local_and_loopback(clean_spark_environment: None) -> None:
    builder = RecordingBuilder()
    get_spark("tests", "local[2]", "2g", runtime="local", builder=builder)
    before = builder.before_create()
    assert ("master", "local[2]") in before
    configured = {c[1]: c[2] for c in before if c[0] == "config"}
    assert configured["spark.driver.host"] == configured["spark.driver.bindAddress"] == "127.0.0.1"
    assert configured["spark.driver.memory"] == "2g"
    # A session that runs job after job keeps a bounded history, or its heap fills with it.
    assert int(configured["spark.sql.ui.retainedExecutions"]) <= 100
    assert int(configured["spark.ui.retainedStages"]) <= 100
    assert "TieredStopAtLevel" not in configured["spark.driver.extraJavaOptions"]


def test_quick_jit_adds_the_quick_compiler_option_to_the_local_jvms_only(
    clean_spark_environment: None,
) -> None:
    builder = RecordingBuilder()
    get_spark("tests", "local[2]", "2g", runtime="local", builder=builder, quick_jit=True)
    configured = {c[1]: c[2] for c in builder.before_create() if c[0] == "config"}
    for key in ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions"):
        assert configured[key].split() == [
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:+UseParallelGC",
            QUICK_JIT_OPTION,
        ]
    glue = RecordingBuilder()
    get_spark("job", "local[*]", "4g", runtime="glue", builder=glue, quick_jit=True)
    assert not [c for c in glue.before_create() if c[0] == "config"]


def test_offheap_memory_is_a_local_setting_and_zero_keeps_execution_memory_in_the_heap(
    clean_spark_environment: None,
) -> None:
    def configured(**kwargs: Any) -> dict[str, str]:
        builder = RecordingBuilder()
        get_spark("tests", "local[2]", "2g", builder=builder, **kwargs)
        return {c[1]: c[2] for c in builder.before_create() if c[0] == "config"}

    local = configured(runtime="local", offheap_memory="3g")
    assert local["spark.memory.offHeap.enabled"] == "true"
    assert local["spark.memory.offHeap.size"] == "3g"
    assert local["spark.driver.memory"] == "2g"  # the heap stays what was asked
    assert not {key for key in configured(runtime="local", offheap_memory="0") if "offHeap" in key}
    # Glue sizes its own workers: nothing of this reaches its session.
    assert not configured(runtime="glue", offheap_memory="3g")
    assert Settings(_env_file=None).spark_offheap_memory == "2g"
    with pytest.raises(ValueError, match="spark_offheap_memory"):
        Settings(_env_file=None, spark_offheap_memory="lots")


def test_finding_5_runtime_comes_from_the_settings_and_glue_is_detected(
    clean_spark_environment: None, awsglue_importable: None
) -> None:
    glue_argv = ["to_processed.py", "--JOB_ID", "j_1", "--JOB_RUN_ID", "jr_1", "--JOB_NAME", "ree"]
    assert glue_started(glue_argv)
    assert not glue_started(["to_processed.py", "--raw_prefix", "raw/ree"])
    auto = Settings(_env_file=None)
    assert spark_runtime(auto, glue_argv) == "glue"
    assert spark_runtime(auto, ["job.py"]) == "local"
    # An explicit setting wins over detection both ways.
    assert spark_runtime(Settings(_env_file=None, spark_runtime="local"), glue_argv) == "local"
    assert spark_runtime(Settings(_env_file=None, spark_runtime="glue"), ["job.py"]) == "glue"


def test_finding_5_without_awsglue_a_job_run_id_alone_is_not_glue(clean_spark_environment: None) -> None:
    assert not glue_started(["job.py", "--JOB_RUN_ID", "jr_1"])


def test_finding_5_glue_jobs_ask_for_glues_session() -> None:
    jobs = [
        r["Properties"]
        for r in load_template("transforms")["Resources"].values()
        if r["Type"] == "AWS::Glue::Job"
    ]
    assert len(jobs) == len(SOURCES)  # one job per registered source
    for job in jobs:
        assert job["DefaultArguments"]["--spark_runtime"] == "glue", job["Name"]
    # ...which resolve_args turns into SPARK_RUNTIME, the setting job_session reads.
    assert "spark_runtime" in Settings.model_fields


def test_a_class_archive_that_exists_is_mapped_by_local_jvms_only(
    clean_spark_environment: None, tmp_path: Path
) -> None:
    def configured(runtime: str, archive: Path) -> dict[str, str]:
        builder = RecordingBuilder()
        get_spark("tests", "local[2]", "2g", runtime=runtime, builder=builder, class_archive=archive)  # type: ignore[arg-type]
        return {c[1]: c[2] for c in builder.before_create() if c[0] == "config"}

    archive = tmp_path / "spark-classes.jsa"
    # Not built yet: the JVM loads its classes from the jars, as without an archive.
    assert "SharedArchiveFile" not in configured("local", archive)["spark.driver.extraJavaOptions"]
    archive.write_bytes(b"archive")
    options = configured("local", archive)["spark.driver.extraJavaOptions"].split()
    assert options[:2] == ["-XX:+ExitOnOutOfMemoryError", "-XX:+UseParallelGC"]
    # Mapped, and quiet: an archive another JDK build wrote only means no sharing, never a warning.
    assert options[2:] == [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
    assert not configured("glue", archive)
    # Spark splits its option string on spaces: such a path is not passed at all.
    spaced = tmp_path / "a folder" / "spark-classes.jsa"
    spaced.parent.mkdir()
    spaced.write_bytes(b"archive")
    assert archive_java_options(spaced) == ""


def test_the_archive_is_named_after_the_java_and_pyspark_it_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first, second = tmp_path / "jdk-a" / "java", tmp_path / "jdk-b" / "java"
    for java in (first, second):
        java.parent.mkdir()
        java.write_bytes(b"#!java")
    path = archive_path(str(first))
    assert path.parent == tmp_path / "cache" / "datalake" and path.suffix == ".jsa"
    assert archive_path(str(first)) == path  # the same install, the same archive
    assert archive_path(str(second)) != path  # another JDK: another archive, never a stale one
    link = tmp_path / "java-link"
    link.symlink_to(first)
    assert archive_path(str(link)) == path  # named after the binary a link leads to


def test_job_sessions_take_the_archive_setting(
    clean_spark_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datalake.spark as spark_module

    seen: list[Any] = []
    monkeypatch.setattr(
        spark_module, "get_spark", lambda *args, **kwargs: seen.append(kwargs["class_archive"])
    )
    monkeypatch.setattr(spark_module, "java_binary", lambda: "/usr/bin/java")
    monkeypatch.setattr(
        spark_module, "archive_path", lambda java: Path(f"/cache/{java.rsplit('/', 1)[1]}.jsa")
    )
    spark_module.job_session("job", Settings(_env_file=None, spark_runtime="local"))
    spark_module.job_session(
        "job", Settings(_env_file=None, spark_runtime="local", spark_class_archive=False)
    )
    spark_module.job_session("job", Settings(_env_file=None, spark_runtime="glue"))
    assert seen == [Path("/cache/java.jsa"), None, None]
