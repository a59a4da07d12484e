"""``datalake run daily``: every scheduled source's daily step, as its schedule and the triggers run it.

On AWS each scheduled Lambda (:func:`datalake.sources.registry.scheduled_lambdas`) runs on its
EventBridge schedule, the raw files it lands start its source's Glue job, and the publishes are
synced into PostgreSQL. Locally this runs the same chain: each scheduled Lambda's ``daily`` step,
then its source's transform for every raw prefix the step wrote (what the S3 trigger would start),
then one crawl and one sync. A source that fails (its step raises, or a run ends other than
succeeded) is recorded and the others go on. The ``run_daily`` run report lists each source's
outcome; when one failed it is marked failed, and an alert goes to ``ALERT_WEBHOOK_URL`` if set.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from datalake import runtime
from datalake.alerts import AlertDelivery, post_alert
from datalake.errors import ConfigurationError, IncompleteRunError, LakeError
from datalake.pipelines.lake import crawl_zones, sync_all, transform
from datalake.pipelines.trigger import raw_prefix_of
from datalake.runs import RunReport, failure_reason, record_run, report_key
from datalake.settings import Settings, get_settings
from datalake.sources import registry
from datalake.sources.registry import SourceLambda, SourceSpec

Progress = Callable[[str], None]
#: The run report of ``datalake run daily`` (``_runs/run_daily/``).
RUN_NAME = "run_daily"


def _quiet(_message: str) -> None:
    return None


class DailyRunFailed(LakeError):
    """At least one source (or a lake step) of a daily run failed; the others ran."""


@dataclass
class StepOutcome:
    """What one step of a daily run did (a lake-wide step: the crawl, the sync).

    Attributes
    ----------
    name
        The step (for a source's steps: the source).
    status
        ``succeeded`` or ``failed``.
    error
        Why it failed, in one line (:func:`datalake.runs.failure_reason`).
    seconds
        Its wall time.
    runs
        The run reports it produced, in order (a failed run's own report is in ``_runs/``).
    """

    name: str
    status: str = "succeeded"
    error: str | None = None
    seconds: float = 0.0
    runs: list[RunReport] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status != "succeeded"

    def to_dict(self) -> dict[str, Any]:
        """Its record in the daily run report: the outcome and each run by job and id."""
        return {
            **{k: v for k, v in asdict(self).items() if k != "runs"},
            "runs": [
                {
                    "job": r.job,
                    "run_id": r.run_id,
                    "status": r.status,
                    "rows_in": r.rows_in,
                    "rows_out": r.rows_out,
                    "rows_quarantined": r.rows_quarantined,
                }
                for r in self.runs
            ],
        }


@dataclass
class SourceOutcome(StepOutcome):
    """What one scheduled Lambda's daily step, and its source's transforms, did.

    ``name`` is the source; ``function`` its scheduled Lambda; ``step`` where it failed
    (``extract``, ``transform raw/ree``), None when it did not.
    """

    function: str = ""
    step: str | None = None

    @property
    def source(self) -> str:
        return self.name


@dataclass
class DailyRun:
    """A daily run: each source's outcome, the lake steps, its report and the alert sent (if any)."""

    now: dt.datetime
    outcomes: list[SourceOutcome]
    lake_steps: list[StepOutcome]
    report: RunReport
    report_uri: str
    alert: AlertDelivery | None = None

    @property
    def failures(self) -> list[StepOutcome]:
        return [o for o in (*self.outcomes, *self.lake_steps) if o.failed]


@dataclass(frozen=True)
class DailySteps:
    """What follows a source's extract, as the S3 triggers chain it on AWS (replaceable in tests).

    Attributes
    ----------
    transform
        ``(source name, raw prefix, settings, progress) -> RunReport``: its Glue job's logic.
    crawl
        ``(settings, progress)``: catalog the raw and processed zones.
    sync
        ``(settings, progress) -> list[RunReport]``: mirror the new publishes into PostgreSQL.
    """

    transform: Callable[[str, str, Settings, Progress], RunReport] = transform
    crawl: Callable[[Settings, Progress], Any] = lambda settings, progress: [
        report.raise_for_conflicts() for report in crawl_zones(["raw", "processed"], settings, progress)
    ]
    sync: Callable[[Settings, Progress], list[RunReport]] = lambda settings, progress: sync_all(
        settings, progress
    )


def scheduled_steps(names: Sequence[str] | None = None) -> list[tuple[SourceSpec, SourceLambda]]:
    """The scheduled Lambdas to run: every registered one, or those of the sources ``names``.

    Raises
    ------
    ConfigurationError
        For a name that is not a registered source with a scheduled Lambda.
    """
    steps = registry.scheduled_lambdas()
    if not names:
        return steps
    scheduled = {source.name for source, _function in steps}
    unknown = [name for name in names if name not in scheduled]
    if unknown:
        raise ConfigurationError(
            f"no scheduled Lambda for source {', '.join(unknown)}",
            hint=f"sources with a daily step: {', '.join(sorted(scheduled)) or 'none'}",
        )
    return [(source, function) for source, function in steps if source.name in names]


def written_prefixes(source: SourceSpec, keys: Iterable[str]) -> list[str]:
    """The source's raw prefixes among ``keys`` (what the S3 trigger starts a job run for)."""
    found = {raw_prefix_of(key) for key in keys}
    return [prefix for prefix in source.raw_prefixes if prefix in found]


def _check(report: RunReport) -> RunReport:
    """A run that ended other than succeeded fails its source (an unbalanced run lost records)."""
    if report.status != "succeeded":
        raise IncompleteRunError(f"{report.job} ended {report.status} (run {report.run_id})")
    return report


def run_source(
    source: SourceSpec,
    function: SourceLambda,
    now: dt.datetime,
    sample: bool,
    settings: Settings,
    progress: Progress,
    steps: DailySteps | None,
) -> SourceOutcome:
    """One scheduled Lambda's daily step and its source's transforms; a failure is returned, not raised.

    ``steps`` None runs the extract alone (no Spark, no transform).
    """
    assert function.daily is not None  # scheduled_lambdas() holds only those with one
    outcome = SourceOutcome(source.name, function=function.name)
    began = time.perf_counter()
    step = "extract"
    try:
        progress(f"{source.name}: {function.name} ({function.description})")
        extract = _check(function.daily(now, sample=sample, settings=settings, progress=progress))
        outcome.runs.append(extract)
        for prefix in written_prefixes(source, extract.keys_written) if steps else []:
            step = f"transform {prefix}"
            outcome.runs.append(_check(steps.transform(source.name, prefix, settings, progress)))
    except Exception as error:  # one source failing never stops the others
        outcome.status, outcome.step, outcome.error = "failed", step, failure_reason(error)
        progress(f"{source.name}: FAILED at {step}: {outcome.error}")
    outcome.seconds = round(time.perf_counter() - began, 3)
    return outcome


def _lake_step(name: str, action: Callable[[], Any]) -> StepOutcome:
    step = StepOutcome(name)
    began = time.perf_counter()
    try:
        result = action()
        step.runs = [r for r in result or [] if isinstance(r, RunReport)]
    except Exception as error:  # the sources' data stands; the failure is reported
        step.status, step.error = "failed", failure_reason(error)
    step.seconds = round(time.perf_counter() - began, 3)
    return step


def alert_text(run: DailyRun, settings: Settings) -> str:
    """The alert's message: which sources failed where and why, the others' outcome, the report."""
    failures = run.failures
    lines = [
        f"datalake daily run at {run.now.isoformat(timespec='minutes')} ({settings.lake_runtime} runtime): "
        f"{len(failures)} of {len(run.outcomes) + len(run.lake_steps)} step(s) failed"
    ]
    for outcome in run.outcomes:
        if outcome.failed:
            lines.append(f"- {outcome.source} ({outcome.function}) FAILED at {outcome.step}: {outcome.error}")
        else:
            lines.append(f"- {outcome.source} ({outcome.function}) succeeded in {outcome.seconds:,.1f} s")
    lines += [f"- {step.name} FAILED: {step.error}" for step in run.lake_steps if step.failed]
    lines.append(f"run report: {run.report_uri}")
    return "\n".join(lines)


def run_daily(
    now: dt.datetime,
    sample: bool = False,
    settings: Settings | None = None,
    progress: Progress = _quiet,
    *,
    sources: Sequence[str] | None = None,
    steps: DailySteps | None = DailySteps(),  # a frozen dataclass of functions: safe to share
) -> DailyRun:
    """Run every scheduled source's daily step (or those of ``sources``), each isolated from the others.

    Parameters
    ----------
    now
        The schedule's time (timezone-aware): each step gets it as its Lambda gets its event's.
    sample
        The labelled SAMPLE generators, offline, instead of the live APIs.
    settings
        Lake settings; the process-wide ones when None. ``ALERT_WEBHOOK_URL`` is read from them.
    progress
        Called with a line per step.
    sources
        Only these sources' scheduled Lambdas; all of them when None.
    steps
        What follows each extract (transform), and the crawl and sync after all of them; None
        runs the extracts alone, as the Lambdas do.

    Returns
    -------
    DailyRun
        Never raises for a failed source: its outcome, the ``run_daily`` report (marked failed when
        any step failed, with the reasons) and the alert's delivery say it.

    Raises
    ------
    ConfigurationError
        For a naive ``now`` or a source without a scheduled Lambda.
    """
    if now.tzinfo is None:
        raise ConfigurationError("now needs a UTC offset")
    settings = settings or get_settings()
    selected = scheduled_steps(sources)
    store = runtime.object_store("lake", settings)
    outcomes: list[SourceOutcome] = []
    lake_steps: list[StepOutcome] = []
    names = [source.name for source, _function in selected]
    run: DailyRun | None = None
    try:
        with record_run(RUN_NAME, store, now=now.isoformat(), sample=sample, sources=names) as report:
            for source, function in selected:
                outcomes.append(run_source(source, function, now, sample, settings, progress, steps))
            transformed = any(len(o.runs) > 1 for o in outcomes)
            if steps is not None and transformed:
                lake_steps.append(_lake_step("crawl", lambda: steps.crawl(settings, progress)))
                lake_steps.append(_lake_step("sync", lambda: steps.sync(settings, progress)))
            report.rows_in = len(outcomes)
            report.rows_out = sum(not o.failed for o in outcomes)
            report.rows_quarantined = sum(o.failed for o in outcomes)
            report.keys_written = [key for o in outcomes for r in o.runs for key in r.keys_written]
            report.details["outcomes"] = [o.to_dict() for o in outcomes]
            report.details["lake_steps"] = [s.to_dict() for s in lake_steps]
            run = DailyRun(now, outcomes, lake_steps, report, store.uri(report_key(report)))
            if run.failures:
                if settings.alert_webhook_url is not None:
                    run.alert = post_alert(
                        settings.alert_webhook_url,
                        alert_text(run, settings),
                        timeout_s=settings.alert_webhook_timeout_s,
                    )
                    report.details["alert"] = run.alert.to_dict()
                    progress(run.alert.line())
                failed = "; ".join(f"{o.name}: {o.error}" for o in run.failures)
                raise DailyRunFailed(f"{len(run.failures)} failed: {failed}")
    except DailyRunFailed:
        pass  # recorded as the run's reason; each outcome says what failed
    assert run is not None
    return run
