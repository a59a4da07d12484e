"""Shared fixtures. Tests are marked by folder: unit/, integration/, e2e/."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from datalake.settings import Settings

# One OpenMP thread per test process (and the processes it starts: the demo's CLI): with two
# xdist workers on two cores, scikit-learn's histogram gradient boosting spun OpenMP threads that
# waited on each other. test_movie_success_lake.py took 129 s with the default, 12 s with one.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# The forecaster's and movie classifier's copies of their training runs in MLflow cost a SQLite
# store per lake (seconds of migrations); the tests that check them turn it on in their Settings.
os.environ.setdefault("MLFLOW_TRACK_TRAINING", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        for marker in ("unit", "integration", "e2e"):
            if marker in parts:
                item.add_marker(getattr(pytest.mark, marker))
    # The slow tests first (in their order): with several workers, the long ones then overlap
    # each other and the short ones fill the gaps, instead of one long test running alone at the end.
    # (--dist loadfile hands out whole modules in this order only with --no-loadscope-reorder, as
    # the Makefile runs it; by default xdist reorders the modules by their number of tests.)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


#: A driver JVM is kept for the next module only with the default 4 GB heap (a module's
#: ``get_spark(..., "1g")`` must not leave the next one a small heap) ...
_KEPT_JVM_MIN_HEAP = 3 * 2**30
#: ... and only while its live heap, with no context left, stays small (about 100 MiB measured).
_KEPT_JVM_MAX_LIVE_HEAP = 2**30


@pytest.fixture(autouse=True, scope="module")
def _fresh_spark_context_per_module() -> Iterator[None]:
    """Each test module that used Spark leaves no session behind: the next one starts a fresh context.

    Stopping the context drops everything a module's jobs left in the driver (cached frames,
    plans, broadcasts, status), which in one shared 4 GB heap made later Spark tests several
    times slower. The JVM itself stays, warm (its classes loaded, its code compiled): six Spark
    modules in one process took 305 CPU-s on a kept JVM against 575 with a fresh JVM each.
    A JVM started with a smaller heap, or holding more than a little after its context stopped,
    is ended instead (:func:`datalake.spark.stop_jvm`).
    """
    yield
    if "pyspark" not in sys.modules:
        return
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    from datalake.spark import stop_jvm

    gateway = SparkContext._gateway
    if gateway is None:
        return
    runtime = gateway.jvm.java.lang.Runtime.getRuntime()
    if runtime.maxMemory() < _KEPT_JVM_MIN_HEAP:
        stop_jvm()
        return
    session = SparkSession._instantiatedSession
    if session is not None and session._sc._jsc is not None:
        session.stop()
    if SparkContext._active_spark_context is not None:
        SparkContext._active_spark_context.stop()
    gateway.jvm.java.lang.System.gc()
    if runtime.totalMemory() - runtime.freeMemory() > _KEPT_JVM_MAX_LIVE_HEAP:
        stop_jvm()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test reads the developer's .env or real AWS credentials, or the settings a test before it cached.

    The cache is cleared after each test too: a module-scoped fixture is set up before this
    function-scoped one, and found the previous test's settings still cached (a Lambda's
    template environment with PROCESSED_DATABASE=datalake_dev_processed, say), so the jobs it
    ran published under another database than the one its own settings named.
    """
    for name in list(os.environ):
        if name.startswith(("LAKE_", "AWS_", "DATABASE_", "ATHENA_")):
            monkeypatch.delenv(name, raising=False)
    # mlflow.set_tracking_uri writes MLFLOW_TRACKING_URI into os.environ: an earlier test's store
    # must not become a later test's setting.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.chdir(tmp_path)
    from datalake.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def lake_settings(tmp_path: Path) -> Settings:
    """Local-runtime settings with a fresh lake root."""
    return Settings(_env_file=None, lake_runtime="local", lake_root=tmp_path / "lake")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A real moto server over HTTP on loopback; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_settings(moto_server: str, tmp_path: Path) -> Iterator[Settings]:
    """AWS-runtime settings pointed at the moto server, reset between tests."""
    import requests

    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    yield Settings(
        _env_file=None,
        lake_runtime="aws",
        lake_root=tmp_path / "lake",
        aws_endpoint_url=moto_server,
        aws_region="eu-west-1",
    )


@pytest.fixture
def load_lambda() -> Callable[[str], ModuleType]:
    """Load ``lambdas/<name>/handler.py`` as a module (the folders are not a package)."""

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(
            f"lambda_{name}", REPO / "lambdas" / name / "handler.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def event_json() -> Callable[[str], dict]:
    """A recorded event from ``tests/events/``."""
    return lambda name: json.loads((REPO / "tests" / "events" / name).read_text())
