"""Run reports: every run leaves a small JSON record of its counts, timings and keys."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from datalake.storage.base import ObjectStore
from datalake.storage.paths import join_key

RUNS_PREFIX = "_runs"
#: A failed run's reason is one line of at most this many characters (a Java stack trace is not a reason).
MAX_REASON_CHARS = 500


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_last_start = dt.datetime.min.replace(tzinfo=dt.UTC)


def run_start_time() -> str:
    """Now, to the microsecond, strictly later than this process's previous run start.

    Run reports sort by this stamp; two runs started within one clock tick (milliseconds on some
    hosts) would otherwise sort by their random ids, and "newest first" would be a coin toss.
    """
    global _last_start
    now = utc_now()
    _last_start = max(now, _last_start + dt.timedelta(microseconds=1))
    return _last_start.isoformat(timespec="microseconds")


def as_utc(moment: dt.datetime) -> dt.datetime:
    """The same instant in UTC; a naive time is taken as UTC (S3 event times are), not the host's zone."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


@dataclass
class RunReport:
    """What one run did. ``rows_in == rows_out + rows_quarantined`` for a balanced run."""

    job: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started_at: str = field(default_factory=run_start_time)
    finished_at: str | None = None
    status: str = "running"
    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    keys_written: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_out + self.rows_quarantined

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Time a step; repeated steps add up."""
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.timings_s[step] = round(self.timings_s.get(step, 0.0) + elapsed, 3)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "balanced": self.balanced}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> RunReport:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in doc.items() if k in known})


def failure_reason(error: BaseException) -> str:
    """One line saying why a run failed: the error's type and the line of its message that says why.

    A Py4J error's message opens with "An error occurred while calling o46.getResult." and names the
    Java exception on a line of its own (": java.lang.OutOfMemoryError: Java heap space"), followed by
    its stack trace: that exception line is the reason.

    Parameters
    ----------
    error
        What ended the run.

    Returns
    -------
    str
        ``"<ErrorType>: <reason>"``, without line breaks, at most :data:`MAX_REASON_CHARS` long.
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    java_exception = next((line[1:].strip() for line in lines if line.startswith(": ")), None)
    text = java_exception or (lines[0] if lines else "")
    reason = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 3] + "..."


def report_key(report: RunReport) -> str:
    stamp = report.started_at.replace(":", "").replace("-", "").split("+")[0]
    return join_key(RUNS_PREFIX, report.job, f"{stamp}-{report.run_id}.json")


@contextmanager
def record_run(job: str, store: ObjectStore, **details: Any) -> Iterator[RunReport]:
    """Yield a report to fill in; it is written when the block ends, failed or not.

    A failed run is marked ``failed`` with a one-line reason (:func:`failure_reason`), and the
    error goes on to the caller, so a job that fails exits non-zero.

    A run whose counts do not balance is marked ``unbalanced``: a record went missing.
    """
    report = RunReport(job=job, details=dict(details))
    start = time.perf_counter()
    try:
        yield report
    except BaseException as error:
        report.status = "failed"
        report.error = failure_reason(error)
        raise
    else:
        report.status = "succeeded" if report.balanced else "unbalanced"
    finally:
        report.finished_at = utc_now().isoformat(timespec="seconds")
        report.timings_s["total"] = round(time.perf_counter() - start, 3)
        store.put_json(report_key(report), report.to_dict())


def latest_runs(store: ObjectStore) -> list[RunReport]:
    """The newest run report of each job, newest first (a busy job does not hide the others)."""
    keys = [k for k in store.list_keys(RUNS_PREFIX, include_hidden=True) if k.endswith(".json")]
    newest: dict[str, str] = {}
    for key in keys:
        job = key[len(RUNS_PREFIX) + 1 :].rsplit("/", 1)[0]
        if key.rsplit("/", 1)[-1] > newest.get(job, "/").rsplit("/", 1)[-1]:
            newest[job] = key
    ordered = sorted(newest.values(), key=lambda k: k.rsplit("/", 1)[-1], reverse=True)
    return [RunReport.from_dict(store.get_json(k)) for k in ordered]


def list_runs(store: ObjectStore, job: str | None = None, limit: int = 20) -> list[RunReport]:
    """The newest run reports first, optionally of one job."""
    keys = store.list_keys(join_key(RUNS_PREFIX, job or ""), include_hidden=True)
    keys = sorted((k for k in keys if k.endswith(".json")), key=lambda k: k.rsplit("/", 1)[-1], reverse=True)
    return [RunReport.from_dict(store.get_json(k)) for k in keys[:limit]]
