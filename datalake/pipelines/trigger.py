"""New raw objects -> start the Glue job that processes their raw prefix, once per prefix.

Raw ObjectCreated events wait in the start-transform queue, whose batches ``lambdas/start_transform``
hands to :func:`start_transforms` (through :func:`datalake.pipelines.queued.start_transform_batch`).
A job processes a whole raw prefix, so one run per (job, prefix) is enough however many objects one
batch carries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError

from datalake import aws
from datalake.errors import LakeError
from datalake.runs import as_utc
from datalake.settings import Settings, get_settings
from datalake.sources.registry import raw_prefix_sources


def raw_prefix_jobs() -> dict[str, str]:
    """Raw prefix -> the Settings field naming the Glue job that processes it, from the source registry.

    A source with several prefixes (REE's ``raw/ree`` and ``raw/ree_sample``) has one job, whose
    MaxConcurrentRuns allows a run per prefix (tests/unit/test_source_registry.py checks it).
    """
    return {prefix: source.job_setting for prefix, source in raw_prefix_sources().items()}


# A run in these states has not yet finished listing its input, or is about to.
ACTIVE_RUN_STATES = frozenset({"STARTING", "RUNNING", "WAITING"})


@dataclass(frozen=True)
class StartedRun:
    """A job run this invocation started."""

    job: str
    raw_prefix: str
    job_run_id: str


@dataclass(frozen=True)
class CoveredRun:
    """A prefix whose new objects an already active run will pick up, so nothing was started."""

    job: str
    raw_prefix: str
    job_run_id: str

    @property
    def reason(self) -> str:
        return f"covered by run {self.job_run_id}"


@dataclass(frozen=True)
class BusyJob:
    """A prefix whose job is at its concurrency limit with no active run that will see the new objects."""

    job: str
    raw_prefix: str
    newest_event: dt.datetime


@dataclass
class TriggerReport:
    """What one batch of raw objects led to."""

    started: list[StartedRun] = field(default_factory=list)
    covered: list[CoveredRun] = field(default_factory=list)
    busy: list[BusyJob] = field(default_factory=list)
    ignored: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary (the Lambda's return value and log line)."""
        return {
            "started": [asdict(run) for run in self.started],
            "covered": [{**asdict(run), "reason": run.reason} for run in self.covered],
            "busy": [
                {"job": b.job, "raw_prefix": b.raw_prefix, "newest_event": b.newest_event.isoformat()}
                for b in self.busy
            ],
            "ignored": self.ignored,
        }


class TransformBusyError(LakeError):
    """A job could not start and no active run covers the new objects; try again later.

    ``report`` holds everything the batch did, including the runs it did start.
    """

    hint = (
        "The queue delivers the message again after its visibility timeout, until the job is free; "
        "raise the job's MaxConcurrentRuns if messages reach the dead-letter queue."
    )

    def __init__(self, report: TriggerReport) -> None:
        names = ", ".join(f"{b.job} ({b.raw_prefix})" for b in report.busy)
        super().__init__(f"Glue job(s) already running and not covering the new objects: {names}")
        self.report = report


class GlueJobRuns(Protocol):
    """The two Glue calls the trigger makes (a boto3 Glue client has them; tests pass a small fake)."""

    def start_job_run(self, *, JobName: str, Arguments: dict[str, str]) -> dict[str, Any]: ...

    def get_paginator(self, operation_name: str) -> Any: ...


def raw_prefix_of(key: str) -> str | None:
    """The raw prefix (``raw/<source>``) a key lands under, or None when no job processes it.

    Parameters
    ----------
    key
        An object key, already URL-decoded.

    Returns
    -------
    str or None
        One of :func:`raw_prefix_jobs`' keys, or None for keys outside the raw zone or of an
        unknown source.
    """
    parts = key.split("/", 2)
    if len(parts) < 3 or parts[0] != "raw" or not parts[2]:
        return None
    prefix = f"raw/{parts[1]}"
    return prefix if prefix in raw_prefix_sources() else None


def start_transforms(
    objects: Iterable[tuple[str, dt.datetime]],
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
    glue: GlueJobRuns | None = None,
) -> TriggerReport:
    """Start one Glue run per (job, raw prefix) for new raw objects.

    When Glue refuses a start with ``ConcurrentRunsExceededException``, an active run (STARTING,
    RUNNING or WAITING) of that job on the same prefix that started after the newest object's
    event time will list those objects itself, so the prefix counts as covered. Every prefix is
    tried before failing, so a retry finds the runs this call did start and counts them as covered.

    Parameters
    ----------
    objects
        ``(key, event_time)`` pairs: URL-decoded keys and the S3 event times (naive times are UTC).
        Keys outside a known raw prefix are counted as ignored.
    settings
        Lake settings (job names, region, endpoint); the process-wide ones when None.
    boto3_session
        Session for the Glue client; a new one in the configured region when None.
    glue
        The Glue client to use; one from ``boto3_session`` and ``settings`` when None.

    Returns
    -------
    TriggerReport
        The runs started, the prefixes covered by active runs, and the ignored key count.

    Raises
    ------
    TransformBusyError
        When a job is at its concurrency limit and no active run covers the new objects. The
        error carries the report.
    botocore.exceptions.ClientError
        Any other Glue error (a missing job, denied access), at once.
    """
    settings = settings or get_settings()
    jobs = raw_prefix_jobs()
    report = TriggerReport()
    newest: dict[tuple[str, str], dt.datetime] = {}  # insertion order: first seen, first started
    for key, event_time in objects:
        prefix = raw_prefix_of(key)
        if prefix is None:
            report.ignored += 1
            continue
        group = (getattr(settings, jobs[prefix]), prefix)
        event_time = as_utc(event_time)
        newest[group] = max(newest.get(group, event_time), event_time)
    if not newest:
        return report

    glue = glue or aws.client("glue", boto3_session, settings)
    for (job, prefix), latest in newest.items():
        try:
            response = glue.start_job_run(JobName=job, Arguments={"--raw_prefix": prefix})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConcurrentRunsExceededException":
                raise
            run_id = _covering_run(glue, job, prefix, latest)
            if run_id is None:
                report.busy.append(BusyJob(job, prefix, latest))
            else:
                report.covered.append(CoveredRun(job, prefix, run_id))
            continue
        report.started.append(StartedRun(job, prefix, response["JobRunId"]))
    if report.busy:
        raise TransformBusyError(report)
    return report


def _covering_run(glue: GlueJobRuns, job: str, raw_prefix: str, newest_event: dt.datetime) -> str | None:
    """Id of an active run of ``job`` on ``raw_prefix`` that started after ``newest_event``."""
    # GetJobRuns documents no order, so read every page rather than stop at the first old run.
    for page in glue.get_paginator("get_job_runs").paginate(JobName=job):
        for run in page.get("JobRuns", []):
            if (
                run.get("JobRunState") in ACTIVE_RUN_STATES
                and (run.get("Arguments") or {}).get("--raw_prefix") == raw_prefix
                and as_utc(run["StartedOn"]) > newest_event
            ):
                return run["Id"]
    return None
