"""Weather ingest runs: ``datalake ingest weather-csv`` (the observation file), ``datalake ingest
weather`` (Open-Meteo's archive) and the weather_daily Lambda (Open-Meteo's forecast, with its issue
time), each leaving a run report under ``_runs/``.

No Spark here: the Lambda imports this module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from datalake import runtime
from datalake.errors import DataValidationError, IncompleteRunError
from datalake.runs import RunReport, record_run
from datalake.settings import Settings, get_settings
from datalake.sources import open_meteo
from datalake.sources.drop_names import name_problem, safe_name
from datalake.storage.paths import date_partition_key, join_key
from datalake.weather.frames import read_observations_csv
from datalake.weather.locations import configured_locations

Progress = Callable[[str], None]
#: Where the observation file lands unchanged, under the UTC day it landed.
OBSERVATIONS_PREFIX = join_key(open_meteo.RAW_PREFIX, "observations_file")


def observations_key(file_name: str, digest: str, landed_on: dt.date) -> str:
    """``raw/weather/observations_file/year=/month=/day=/<stem>.<digest>.<suffix>``: the same file
    landed on the same day writes the same key; another version of it lands beside it."""
    name = safe_name(file_name)
    stem, dot, suffix = name.partition(".")
    return date_partition_key(OBSERVATIONS_PREFIX, landed_on, f"{stem}.{digest[:12]}{dot}{suffix}")


def ingest_weather_csv(
    path: str | os.PathLike[str],
    *,
    landed_at: dt.datetime | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Check the shared hourly observation file and land it unchanged in raw (then: transform weather).

    The file is read with :func:`datalake.weather.frames.read_observations_csv`, so what lands is
    known to be readable and the run says what the transform will make of it: ``rows_in`` data
    lines, ``rows_out`` lines whose values reach ``weather_hourly`` (repeated hours merged into one
    row included), ``rows_quarantined`` lines rejected with their reasons (``details["rejected"]``;
    the transform quarantines them with their line and text).

    Raises
    ------
    DataValidationError
        A file that is not ``.csv``/``.csv.gz``, whose name cannot land, or that lacks a column:
        nothing lands.
    """
    settings = settings or get_settings()
    source = Path(path)
    problem = name_problem(source.name)
    if problem or not source.name.lower().endswith((".csv", ".csv.gz")):
        raise DataValidationError("file", f"{source.name}: {problem or 'not a .csv or .csv.gz file'}")
    locations = configured_locations(settings.weather_locations)
    store = runtime.object_store("lake", settings)
    with record_run("ingest_weather_csv", store, file=str(source)) as report:
        try:
            read = read_observations_csv(source, locations=locations)
        except ValueError as error:
            raise DataValidationError("file", str(error)) from None
        content = source.read_bytes()
        landed_at = landed_at or dt.datetime.now(dt.UTC)
        key = observations_key(
            source.name, hashlib.sha256(content).hexdigest(), landed_at.astimezone(dt.UTC).date()
        )
        store.put_bytes(key, content, content_type="text/csv")
        frame = read.frame
        report.rows_out = len(frame) + read.duplicates_merged
        report.rows_quarantined = len(read.rejected)
        report.rows_in = report.rows_out + report.rows_quarantined
        report.keys_written.append(key)
        report.details.update(
            key=key,
            bytes=len(content),
            hours=len(frame),
            locations=int(frame["location"].nunique()),
            first_hour=frame["ts_utc"].min().isoformat() if len(frame) else None,
            last_hour=frame["ts_utc"].max().isoformat() if len(frame) else None,
            file_duplicates_merged=read.duplicates_merged,
            values_blanked=read.values_blanked,
            rejected=read.rejected["reason"].value_counts().to_dict(),
            rejected_lines=read.rejected["line"].head(50).tolist(),
        )
        if progress:
            progress(f"{source.name}: landed at {key} ({len(content) / 1e6:,.1f} MB)")
    return report


# -- Open-Meteo -------------------------------------------------------------------------------------


def _client(
    sample: bool, given: open_meteo.OpenMeteoClient | None, settings: Settings, now: dt.datetime
) -> AbstractContextManager[open_meteo.OpenMeteoClient]:
    """The caller's client (left open), the SAMPLE one (its today is the run's), or the real API's."""
    if given is not None:
        return nullcontext(given)
    if sample:
        from datalake.sources.open_meteo_sample import sample_client

        return sample_client(clock=lambda: now)
    return open_meteo.client_from_settings(settings)


@contextmanager
def _run(
    job: str,
    sample: bool,
    client: open_meteo.OpenMeteoClient | None,
    settings: Settings,
    now: dt.datetime,
    **details: str,
) -> Iterator[tuple[RunReport, open_meteo.OpenMeteoClient]]:
    store = runtime.object_store("lake", settings)
    with (
        record_run(f"{job}_sample" if sample else job, store, **details) as report,
        _client(sample, client, settings, now) as api,
    ):
        yield report, api


def _finish(report: RunReport, summary: open_meteo.WeatherIngestSummary) -> None:
    """in = out = hours landed: an archive day of nulls only (not in the archive yet) holds no value
    and is not landed, counted in ``details["days_empty"]`` beside ``hours_received``."""
    report.rows_in = report.rows_out = summary.hours_written
    report.keys_written = list(summary.keys)
    report.details.update({k: v for k, v in summary.to_dict().items() if k != "keys"})


def ingest_weather_forecast(
    now: dt.datetime,
    *,
    sample: bool = False,
    client: open_meteo.OpenMeteoClient | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> tuple[RunReport, open_meteo.WeatherIngestSummary]:
    """Fetch the forecast of every location and land it with ``now`` as its issue time.

    What the weather_daily Lambda does (``now`` is its schedule's time, so a retried invocation
    writes the same keys). ``WEATHER_FORECAST_DAYS`` days ahead, from 00:00 UTC today.
    """
    settings = settings or get_settings()
    locations = configured_locations(settings.weather_locations)
    with _run("ingest_weather_daily", sample, client, settings, now, issued_at=now.isoformat()) as (
        report,
        api,
    ):
        store = runtime.object_store("lake", settings)
        summary = open_meteo.fetch_forecast(
            api, store, locations, now, days=settings.weather_forecast_days, progress=progress
        )
        _finish(report, summary)
    return report, summary


def ingest_weather_archive(
    start: dt.date,
    end: dt.date,
    *,
    sample: bool = False,
    now: dt.datetime | None = None,
    client: open_meteo.OpenMeteoClient | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> tuple[RunReport, open_meteo.WeatherIngestSummary]:
    """Fetch ``start..end`` of every location from Open-Meteo's archive, a month per request."""
    settings = settings or get_settings()
    now = now or dt.datetime.now(dt.UTC)
    locations = configured_locations(settings.weather_locations)
    details = {"start": start.isoformat(), "end": end.isoformat()}
    with _run("ingest_weather_archive", sample, client, settings, now, **details) as (report, api):
        store = runtime.object_store("lake", settings)
        summary = open_meteo.fetch_archive(api, store, locations, start, end, now, progress=progress)
        _finish(report, summary)
    return report, summary


def weather_daily_step(
    now: dt.datetime, *, sample: bool, settings: Settings, progress: Progress | None = None
) -> RunReport:
    """What the weather_daily Lambda does on its schedule, for ``datalake run daily``.

    Raises
    ------
    IncompleteRunError
        When fewer forecast files landed than there are locations (the Lambda fails the same way).
    """
    report, summary = ingest_weather_forecast(now, sample=sample, settings=settings, progress=progress)
    raise_for_missing_locations(summary)
    return report


def raise_for_missing_locations(summary: open_meteo.WeatherIngestSummary) -> None:
    """Fail a forecast run that landed fewer files than locations (the files written stay).

    A location whose forecast was already stored unchanged (a retried invocation) is landed.
    """
    landed = summary.files_written + summary.files_unchanged
    if landed < len(summary.locations):
        raise IncompleteRunError(f"weather forecast: {landed} of {len(summary.locations)} location(s) landed")
