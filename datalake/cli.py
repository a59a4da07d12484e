"""The ``datalake`` command."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from datalake import runtime
from datalake.errors import LakeError
from datalake.runs import RunReport
from datalake.settings import Settings, get_settings
from datalake.sources.registry import SOURCES

if TYPE_CHECKING:
    from datalake.deploy.smoke import SmokeReport
    from datalake.pipelines.freshness import SourceStatus

app = typer.Typer(
    help="An analytics lake for Spanish energy data: local by default, AWS with LAKE_RUNTIME=aws.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
ingest_app = typer.Typer(help="Land source data in the raw zone (what the extractor Lambdas do on AWS).")
app.add_typer(ingest_app, name="ingest")
db_app = typer.Typer(help="The serving PostgreSQL: embedded under the lake root unless DATABASE_URL is set.")
app.add_typer(db_app, name="db")
# Progress lines carry their time, not the source file and line that logged them (--verbose does).
console = Console(log_path=False)
err_console = Console(stderr=True)


@app.callback()
def _options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the source file and line of each progress line.")
    ] = False,
) -> None:
    console._log_render.show_path = verbose


class Zone(StrEnum):
    raw = "raw"
    processed = "processed"
    all = "all"


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def print_frame(frame: pd.DataFrame, title: str | None = None, max_rows: int = 50) -> None:
    """A DataFrame as a rich table for people (numbers formatted), cut at ``max_rows`` with a note."""
    from datalake.formatting import format_cell

    table = RichTable(title=title, show_lines=False)
    columns = [str(column) for column in frame.columns]
    for column, dtype in zip(columns, frame.dtypes, strict=True):
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        table.add_column(Text(column), overflow="fold", justify="right" if numeric else "left")
    for row in frame.head(max_rows).itertuples(index=False):
        # Text, not markup: a cell holding "[/bold]" or "[link=...]" is data, shown as typed.
        table.add_row(*(Text(format_cell(v, c)) for v, c in zip(row, columns, strict=True)))
    console.print(table)
    if len(frame) > max_rows:
        console.print(f"[dim]… {len(frame) - max_rows} more rows[/dim]")


@app.command()
def crawl(zone: Annotated[Zone, typer.Argument(help="Which zone to catalog.")] = Zone.all) -> None:
    """Catalog the lake: crawl the raw zone (find tables, infer schemas, register new partitions);
    bring the published processed tables in line with their dataset specs (the jobs register the
    processed tables and partitions when they publish)."""
    from datalake.pipelines.lake import crawl_zones

    reports = crawl_zones([zone.value] if zone != Zone.all else ["raw", "processed"], progress=console.log)
    for report in reports:
        table = RichTable(title=f"{report.zone} zone -> {report.database}")
        for column in (
            "table",
            "format",
            "files",
            "status",
            "partitions",
            "new partitions",
            "columns added",
        ):
            table.add_column(column)
        for found in report.tables:
            table.add_row(
                found.name,
                found.format,
                str(found.files),
                found.status,
                str(found.partitions_total),
                str(found.partitions_added),
                ", ".join(found.columns_added + [f"{c} (widened)" for c in found.columns_widened]) or "-",
            )
        console.print(table)
        if report.skipped_files:
            console.print(f"[yellow]skipped {len(report.skipped_files)} file(s) of unknown format[/yellow]")
    for report in reports:
        report.raise_for_conflicts()


@app.command()
def query(
    sql: Annotated[
        str | None, typer.Argument(help="One SQL statement in the Athena (Trino) dialect.")
    ] = None,
    named: Annotated[
        str | None,
        typer.Option(
            "--named",
            help="Run a named query (datalake/query/named/NAME.sql) in the energy company's processed "
            "database instead, e.g. clients_per_city.",
        ),
    ] = None,
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            "-f",
            help="Output format. csv escapes text cells starting with = + - @ (a spreadsheet "
            "formula) with a leading '.",
        ),
    ] = OutputFormat.table,
    max_rows: Annotated[int, typer.Option(help="Rows to show in table format.")] = 50,
) -> None:
    """Query the lake: DuckDB locally, Athena on AWS. Unqualified tables are in the processed database."""
    from datalake.query.named_queries import named_query_sql

    if (sql is None) == (named is None):
        raise typer.BadParameter("give either SQL or --named NAME")
    settings = get_settings()
    database = settings.energy_processed_database if named else None
    engine = runtime.query_engine(settings, database=database)
    frame = engine.query(named_query_sql(named) if named else sql or "")
    if output == OutputFormat.csv:
        from datalake.query.export import frame_to_csv

        sys.stdout.write(frame_to_csv(frame))
    elif output == OutputFormat.json:
        sys.stdout.write(frame.to_json(orient="records", date_format="iso", force_ascii=False) + "\n")
    else:
        print_frame(frame, max_rows=max_rows)
        console.print(f"[dim]{len(frame)} row(s) from {engine.name}[/dim]")


@app.command()
def sync(
    datasets: Annotated[
        list[str] | None, typer.Argument(help="Processed datasets to load; all with data when omitted.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Reload partitions even when unchanged.")] = False,
) -> None:
    """Mirror processed partitions not yet synced into PostgreSQL (each replaced in one transaction)."""
    from datalake.pipelines.lake import sync_all, sync_dataset

    if datasets:
        reports = [sync_dataset(name, progress=console.log, force=force) for name in datasets]
    else:
        reports = sync_all(progress=console.log, force=force)
    for report in reports:
        details = report.details
        console.print(
            f"{report.details['table']}: {report.rows_in} rows read, {details['inserted']} inserted, "
            f"{details['updated']} updated, {details['deleted']} deleted, {details['unchanged']} unchanged, "
            f"{details['partitions_skipped']} partition(s) already in sync"
        )
    if not reports:
        console.print("nothing to sync: no processed datasets yet")


@app.command()
def status(
    count_raw: Annotated[
        bool,
        typer.Option(
            "--count-raw/--no-count-raw",
            help="Count the raw tables' rows too (reads every raw file: seconds on a year of SAMPLE data).",
        ),
    ] = True,
) -> None:
    """Tables, partitions, row counts, the latest runs, and each source's last success and freshness."""
    from datalake.pipelines.lake import lake_status

    snapshot = lake_status(count_raw=count_raw)
    console.print(f"runtime [bold]{snapshot['runtime']}[/bold]   lake {snapshot['lake']}")
    tables = RichTable(title="catalog")
    for column in ("database", "table", "format", "partitions", "rows", "location"):
        tables.add_column(column)
    for row in snapshot["tables"]:
        tables.add_row(
            row["database"],
            row["table"],
            row["format"],
            f"{row['partitions']:,}",
            f"{row['rows']:,}" if isinstance(row["rows"], int) else str(row["rows"]),
            row["location"],
        )
    console.print(tables)
    runs = RichTable(title="latest run of each job")
    for column in ("job", "started (UTC)", "status", "in", "out", "quarantined", "seconds"):
        runs.add_column(column)
    for run in snapshot["runs"]:
        runs.add_row(
            run.job,
            run.started_at[:19].replace("T", " "),
            run.status,
            f"{run.rows_in:,}",
            f"{run.rows_out:,}",
            f"{run.rows_quarantined:,}",
            f"{run.timings_s['total']:,.1f}" if "total" in run.timings_s else "",
        )
    console.print(runs)
    console.print(_sources_table(snapshot["sources"]))
    console.print(f"warehouse: {snapshot['warehouse']}")


def _sources_table(statuses: list[SourceStatus]) -> RichTable:
    """Each source's last success, newest data and whether it is stale (age against its expected lag)."""
    table = RichTable(title="sources: last success and freshness")
    for column in ("source", "schedule", "last success (UTC)", "newest data", "age", "expected", "fresh"):
        table.add_column(column, justify="right" if column in ("age", "expected") else "left")
    for status in statuses:
        reading = status.freshness
        last = status.last_success[:16].replace("T", " ") if status.last_success else "never"
        if status.last_run_status not in (None, "succeeded"):
            last += f" (last run {status.last_run_status})"
        if reading is None:
            newest, age, expected, verdict = "-", "-", "-", Text("no expectation", style="dim")
        else:
            newest = reading.newest[:19].replace("T", " ") if reading.newest else "none"
            age = "-" if reading.age_hours is None else f"{reading.age_hours:,.1f} h"
            expected = f"{reading.expected_lag_hours} h"
            verdict = Text("STALE", style="bold red") if reading.stale else Text("fresh", style="green")
        table.add_row(status.source, ", ".join(status.scheduled) or "-", last, newest, age, expected, verdict)
    return table


def _pairs_table(title: str, headers: tuple[str, str], pairs: dict[str, str]) -> RichTable:
    """A two-column table of names and lines (the demo's predictions and answers)."""
    table = RichTable(title=title)
    for header in headers:
        table.add_column(header)
    for name, line in pairs.items():
        table.add_row(name, line)
    return table


@app.command()
def demo(
    days: Annotated[int, typer.Option(min=2, max=3660, help="Days of SAMPLE data to backfill.")] = 366,
    start: Annotated[str, typer.Option(help="First local day (YYYY-MM-DD) of the backfill.")] = "2024-01-01",
) -> None:
    """Offline tour on generated SAMPLE data: every source through Spark, crawl and sync; every model
    trained quickly with one prediction; /ask answers; how to browse it."""
    import datetime as dt
    import os

    # One OpenMP thread for the small tree models: on 2 cores shared with Spark's JVM, OpenMP's
    # spinning threads made the movie classifier's fit take 112 s instead of 7 s.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # Many short Spark jobs on small SAMPLE data: the JVM's quick compiler finishes them sooner.
    os.environ.setdefault("SPARK_QUICK_JIT", "true")
    get_settings.cache_clear()

    from datalake.pipelines.demo import run_demo

    summary = run_demo(dt.date.fromisoformat(start), days, console=console)
    # The processed tables' rows; counting the raw JSON would read its 4,000 files again (7 s).
    status(count_raw=False)
    for title, frame in summary["answers"].items():
        print_frame(frame, title=f"{title} (SAMPLE data)", max_rows=12)
    if summary["forecast"] is not None:
        print_frame(summary["forecast"], title="Next week's national demand by day (quick SAMPLE forecaster)")
    console.print(
        _pairs_table(
            "one prediction from each model (SAMPLE data)", ("model", "prediction"), summary["predictions"]
        )
    )
    console.print(
        _pairs_table("/ask, answered in-process (SAMPLE data)", ("question", "answer"), summary["asked"])
    )
    steps = RichTable(title="demo steps")
    steps.add_column("step")
    steps.add_column("seconds", justify="right")
    for name, seconds in summary["steps"].items():
        steps.add_row(name, f"{seconds:,.1f}")
    console.print(steps)
    console.print(f"[bold green]demo finished[/bold green]: {summary['line']}")
    settings = get_settings()
    console.print(
        f"Browse it: `make serve` starts the API at http://{settings.api_host}:{settings.api_port}/docs "
        'and the web app at http://127.0.0.1:8501; `datalake ask "..."` asks from the terminal.',
        markup=False,
    )


run_app = typer.Typer(help="Chained runs, as the schedules and S3 triggers run them on AWS.")
app.add_typer(run_app, name="run")


def _source_help() -> str:
    """The registered sources, their raw prefixes and options (the transform command's epilog)."""
    lines = ["Sources (datalake/sources/registry.py):"]
    for source in SOURCES.values():
        options = "".join(f"; --{o.name}: {o.help}" for o in source.options)
        lines.append(
            f"- {source.name}: {source.description} (raw: {', '.join(source.raw_prefixes)}{options})"
        )
    return "\n\n".join(lines)


def _option_arguments(extra: list[str]) -> dict[str, str]:
    """``--NAME value`` / ``--NAME=value`` pairs after the known options -> ``{NAME: value}``."""
    given: dict[str, str] = {}
    rest = list(extra)
    while rest:
        flag = rest.pop(0)
        if not flag.startswith("--") or len(flag) < 3:
            raise typer.BadParameter(f"{flag!r}: expected a source option as --NAME value")
        name, has_value, value = flag[2:].partition("=")
        if not has_value:
            if not rest or rest[0].startswith("--"):
                raise typer.BadParameter(f"--{name}: needs a value")
            value = rest.pop(0)
        given[name.replace("-", "_")] = value
    return given


@app.command(
    "transform",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    epilog=_source_help(),
)
def transform_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help=f"A registered source: {', '.join(SOURCES)}.")],
    raw_prefix: Annotated[
        str | None,
        typer.Option(help="One of the source's raw prefixes (or a folder below one); its first by default."),
    ] = None,
    full: Annotated[
        bool, typer.Option(help="Reprocess every raw file, ignoring what earlier runs processed.")
    ] = False,
) -> None:
    """Run a source's Glue job logic locally on Spark: raw files -> processed tables (+ quarantine).

    A source's own options follow as --NAME value, as on its Glue job (listed below).
    """
    from datalake.errors import ConfigurationError
    from datalake.pipelines.lake import transform
    from datalake.sources.registry import UnknownSourceError, get_source

    try:
        spec = get_source(source)
        prefix = spec.check_raw_prefix(raw_prefix)
        options = spec.parse_options(_option_arguments(ctx.args))
    except (UnknownSourceError, ConfigurationError) as error:
        raise typer.BadParameter(str(error)) from None
    report = transform(spec.name, prefix, progress=console.log, full=full, **options)
    _print_report(report)
    for reason, count in sorted(report.details.get("quarantine_reasons", {}).items()):
        console.print(f"  quarantined {count}: {reason}")


@run_app.command("daily")
def run_daily_command(
    sample: Annotated[bool, typer.Option(help="Use the SAMPLE generators instead of the live APIs.")] = False,
    now: Annotated[str | None, typer.Option(help="Pretend it is this ISO time (default: now).")] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="Only this source's scheduled Lambda (repeatable); all by default."),
    ] = None,
    extract_only: Annotated[
        bool, typer.Option(help="Only the scheduled Lambdas' steps: no transform, crawl or sync (no Spark).")
    ] = False,
) -> None:
    """Run every scheduled source's daily step (its Lambda's work), then transform, crawl and sync.

    One source failing never stops the others. The summary lists each source's outcome, the run
    report (_runs/run_daily/) records it, and a failure posts an alert to ALERT_WEBHOOK_URL when set;
    the exit status is 1 when a source failed.
    """
    import datetime as dt

    from datalake.errors import ConfigurationError
    from datalake.pipelines.daily import DailySteps, SourceOutcome, run_daily, scheduled_steps

    moment = dt.datetime.fromisoformat(now) if now else dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise typer.BadParameter("--now needs a UTC offset, e.g. 2025-01-02T00:00+01:00")
    try:
        scheduled_steps(source)
    except ConfigurationError as error:
        raise typer.BadParameter(f"{error} ({error.hint})", param_hint="--source") from None
    run = run_daily(
        moment, sample, progress=console.log, sources=source, steps=None if extract_only else DailySteps()
    )
    table = RichTable(title=f"daily run at {moment.isoformat(timespec='minutes')}")
    figures = ("extracted", "rows processed", "quarantined", "seconds")
    for column in ("source", "Lambda", "status", "runs", *figures, "why"):
        table.add_column(column, justify="right" if column in figures else "left")
    for outcome in (*run.outcomes, *run.lake_steps):
        # The extract counts what its Lambda counts (files, ids); the processing runs count rows.
        if isinstance(outcome, SourceOutcome):
            function, where, extract, processed = (
                outcome.function,
                outcome.step,
                outcome.runs[:1],
                outcome.runs[1:],
            )
        else:
            function, where, extract, processed = "-", outcome.name, [], outcome.runs
        table.add_row(
            outcome.name,
            function,
            Text(outcome.status, style="red" if outcome.failed else "green"),
            ", ".join(dict.fromkeys(r.job for r in outcome.runs)) or "-",
            f"{sum(r.rows_out for r in extract):,}" if extract else "-",
            f"{sum(r.rows_out for r in processed):,}" if processed else "-",
            f"{sum(r.rows_quarantined for r in outcome.runs):,}",
            f"{outcome.seconds:,.1f}",
            Text(f"{where}: {outcome.error}" if outcome.failed else ""),
        )
    console.print(table)
    if run.alert is not None:
        console.print(run.alert.line(), markup=False, highlight=False)
    failed = len(run.failures)
    console.print(
        f"{len(run.outcomes) - sum(o.failed for o in run.outcomes)} of {len(run.outcomes)} source(s) "
        f"succeeded{f', {failed} step(s) failed' if failed else ''}; run report {run.report_uri}",
        markup=False,
        highlight=False,
    )
    if failed:
        raise typer.Exit(1)


@run_app.command("sales-etl")
def run_sales_etl_command(
    files: Annotated[
        Path | None,
        typer.Option(
            "--files",
            help="A folder with the Rossmann drops (rossmann-sales.xlsx, store.csv) to read directly; "
            "default: transform the store_sales source's drops, then read its processed tables.",
        ),
    ] = None,
    stores: Annotated[
        str | None, typer.Option(help="Only these stores, comma-separated (quick runs), e.g. 1,2,3.")
    ] = None,
) -> None:
    """Store sales ETL: processed tables -> features (a versioned dataset in the lake) -> MLflow."""
    from datalake.sales.etl import run_sales_etl

    subset = [int(s) for s in stores.split(",")] if stores else None
    details = run_sales_etl(files=files, stores_subset=subset, progress=console.log)["details"]
    console.print(
        f"sales-etl: features {details['dataset_version']} ({details['rows']:,} rows: "
        f"{details['rows_train']:,} train, {details['rows_test']:,} test from "
        f"{details['split_dates']['test_start']} to {details['split_dates']['test_end']}); "
        f"MLflow run {details['mlflow_run_id']}",
        markup=False,
        highlight=False,
    )


@run_app.command("sales-retrain")
def run_sales_retrain_command(
    dataset_version: Annotated[
        str | None, typer.Option(help="The features version to train on (default: the latest).")
    ] = None,
    search: Annotated[
        str,
        typer.Option(
            help="none, or optuna: search the parameters on the validation window (the six weeks "
            "before the test window) first, then train with the best."
        ),
    ] = "none",
    budget_s: Annotated[
        float, typer.Option("--budget-s", min=0, help="Seconds the search may start trials for.")
    ] = 120.0,
) -> None:
    """Store sales retraining: a challenger vs the champion on the last six weeks; promote the better."""
    from datalake.sales.retrain import retrain_sales_model
    from datalake.sales.search import SEARCHES

    if search not in SEARCHES:
        console.print(f"--search: expected one of {', '.join(SEARCHES)}, got {search!r}", markup=False)
        raise typer.Exit(2)
    details = retrain_sales_model(
        dataset_version=dataset_version, progress=console.log, search=search, budget_s=budget_s
    )["details"]
    if details.get("trained"):
        champion = details["rmspe_test_champion"]
        console.print(
            f"sales-retrain: version {details['version']} "
            f"{'PROMOTED' if details['promoted'] else 'not promoted'} ({details['decision']}); "
            f"test RMSPE {details['rmspe_test']:.4f}"
            + (f", champion {champion:.4f}" if champion is not None else "")
            + f", baseline {details['rmspe_baseline']:.4f}; trained in {details['train_seconds']} s",
            markup=False,
            highlight=False,
        )
    else:
        console.print(f"sales-retrain: {details['decision']}", markup=False, highlight=False)


@run_app.command("lambda")
def run_lambda_command(
    name: Annotated[str, typer.Argument(help="A folder of lambdas/: sync_warehouse, start_transform, ...")],
    event: Annotated[
        Path, typer.Argument(help="The event JSON, e.g. tests/events/sqs_processed_object_created.json")
    ],
) -> None:
    """Call a Lambda handler with an event JSON, as AWS would; print what it returns."""
    from datalake.lambdas import invoke

    console.print_json(json.dumps(invoke(name, event), default=str))


def _print_report(report: RunReport) -> None:
    console.print(
        f"{report.job}: {report.status}, {report.rows_in:,} in, {report.rows_out:,} out, "
        f"{report.rows_quarantined:,} quarantined, {len(report.keys_written):,} keys, "
        f"{report.timings_s.get('total', 0):.1f}s"
    )


@ingest_app.command("ree")
def ingest_ree_command(
    start: Annotated[str, typer.Option(help="First local day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option(help="Last local day, YYYY-MM-DD (included).")],
    dataset: Annotated[
        list[str] | None, typer.Option(help="demand and/or generation; both by default.")
    ] = None,
    sample: Annotated[
        bool, typer.Option(help="Generated SAMPLE responses, offline, under raw/ree_sample.")
    ] = False,
    refresh: Annotated[bool, typer.Option(help="Fetch again days already in raw.")] = False,
) -> None:
    """Backfill Red Eléctrica REData days (one JSON file per dataset, region and local day)."""
    import datetime as dt

    from datalake.pipelines.ingest import ingest_ree
    from datalake.sources.ree import REE_DATASETS

    report = ingest_ree(
        dt.date.fromisoformat(start),
        dt.date.fromisoformat(end),
        dataset or list(REE_DATASETS),
        sample=sample,
        refresh=refresh,
        progress=console.log,
    )
    _print_report(report)
    for failure in report.details["failed"]:
        err_console.print(f"[yellow]failed[/yellow] {failure}")


@ingest_app.command("tmdb-csv")
def ingest_tmdb_csv_command(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="The Kaggle TMDB 5000 CSVs: tmdb_5000_movies.csv and, optionally, tmdb_5000_credits.csv "
            "(told apart by their headers; the credits fill movie_people)."
        ),
    ],
) -> None:
    """Land the Kaggle TMDB 5000 movies (and credits) CSVs unchanged in raw/tmdb/kaggle/ (then transform)."""
    from datalake.pipelines.ingest import ingest_tmdb_csv

    report = ingest_tmdb_csv(files, progress=console.log)
    _print_report(report)


@ingest_app.command("entsoe-csv")
def ingest_entsoe_command(
    files: Annotated[list[Path], typer.Argument(help="ENTSO-E Total Load exports or the Kaggle energy CSV.")],
    allow_swapped: Annotated[
        bool, typer.Option(help="Land a file that looks day/month swapped (the public Kaggle defect).")
    ] = False,
) -> None:
    """Land ENTSO-E hourly load (with the TSO day-ahead forecast) in raw, one CSV per local day."""
    from datalake.pipelines.ingest import ingest_entsoe

    report = ingest_entsoe(files, allow_swapped=allow_swapped, progress=console.log)
    _print_report(report)
    for file_report in report.details.get("files", []):
        console.print(
            f"  {file_report['path']}: {file_report['format']}, {file_report['hours']} hours, "
            f"problems {file_report['problems'] or '{}'}, dropped {file_report['dropped'] or '{}'}"
        )


@ingest_app.command("landing")
def ingest_landing_command(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files to drop in landing/ and land now (an upload to the landing bucket on AWS); "
            "none: every drop waiting in landing/."
        ),
    ] = None,
) -> None:
    """Land the CSV/XLSX drops in landing/ (what the ingest_csv Lambda does per S3 event).

    Each file goes where its header says: the energy company's entities to
    raw/energy_company/<entity>/year=/month=/day=/<stem>.<digest>.csv, Our World in Data's energy
    data and codebook (CSV or XLSX, either column set) to raw/owid/<energy|codebook>/..., Rossmann's
    store sales and stores to raw/store_sales/<sales|stores>/..., or to rejected/ with a
    .reason.json record. Landing keeps the originals.
    """
    from datalake.pipelines.ingest import land_energy_drops, land_files

    report = land_files(files, progress=console.log) if files else land_energy_drops(progress=console.log)
    _print_landing(report)


@ingest_app.command("owid")
def ingest_owid_command(
    url: Annotated[
        list[str] | None,
        typer.Option(help="A file to fetch (repeatable); OWID_ENERGY_URL and OWID_CODEBOOK_URL by default."),
    ] = None,
) -> None:
    """Fetch OWID's published energy dataset and codebook, and land them (then: transform owid)."""
    from datalake.pipelines.ingest import ingest_owid

    _print_landing(ingest_owid(url, progress=console.log))


def _print_landing(report: RunReport) -> None:
    accepted = report.details.get("accepted", {})
    rejected = report.details.get("rejected", {})
    _print_report(report)
    console.print(
        f"{report.rows_in} file(s): {report.rows_out} accepted "
        f"({', '.join(f'{entity} {n}' for entity, n in sorted(accepted.items())) or 'none'}), "
        f"{report.rows_quarantined} rejected "
        f"({', '.join(f'{reason} {n}' for reason, n in sorted(rejected.items())) or 'none'})"
    )
    from datalake.sources.drop_names import printable

    for rejection in report.details.get("rejections", []):
        # Names and details as text, escaped: a drop's name may hold terminal control characters.
        line = (
            f"  rejected {printable(rejection['source_key'])}: {rejection['reason']}: {rejection['detail']}"
        )
        console.print(Text(printable(line)))


@ingest_app.command("tmdb")
def ingest_tmdb_command(
    limit: Annotated[
        int | None,
        typer.Option(min=0, help="Most movie ids this run takes (a trial); all that are left by default."),
    ] = None,
    sample: Annotated[
        bool, typer.Option(help='The labelled SAMPLE TMDB, offline (lines say source "sample").')
    ] = False,
    export_date: Annotated[
        str | None,
        typer.Option(
            help="The daily ID export to work through (YYYY-MM-DD); the newest complete one by default."
        ),
    ] = None,
) -> None:
    """Backfill TMDB movies from the daily ID export into raw/tmdb/movie/, in checkpointed chunks.

    Resumable: the checkpoint (_checkpoints/tmdb_backfill/) keeps where the export's backfill
    stands, so running it again goes on from there. Credentials come from TMDB_READ_ACCESS_TOKEN,
    TMDB_API_KEY or TMDB_SECRET_ARN.
    """
    import datetime as dt

    from datalake.pipelines.tmdb_ingest import ingest_tmdb_backfill

    report, summary = ingest_tmdb_backfill(
        dt.date.fromisoformat(export_date) if export_date else None,
        limit=limit,
        sample=sample,
        progress=console.log,
    )
    _print_report(report)
    left = summary.total_ids - summary.next_index
    console.print(
        f"tmdb backfill of export {summary.export_date}: {summary.written:,} movies written "
        f"({summary.gone:,} gone) in {len(summary.keys)} file(s); {summary.next_index:,} of "
        f"{summary.total_ids:,} ids done"
        + ("" if summary.done else f", {left:,} left (run it again to resume)")
    )


@ingest_app.command("tmdb-changes")
def ingest_tmdb_changes_command(
    sample: Annotated[
        bool, typer.Option(help='The labelled SAMPLE TMDB, offline (lines say source "sample").')
    ] = False,
) -> None:
    """Fetch again the TMDB movies changed since the last successful run (/movie/changes, at most 14 days).

    What the tmdb_daily Lambda does on its schedule; a movie that now answers 404 is written as a
    tombstone (status "gone").
    """
    import datetime as dt

    from datalake.pipelines.tmdb_ingest import ingest_tmdb_daily

    report, summary = ingest_tmdb_daily(dt.datetime.now(dt.UTC), sample=sample, progress=console.log)
    _print_report(report)
    missed = f"; {summary.days_missed} day(s) were past the 14-day window" if summary.days_missed else ""
    console.print(
        f"tmdb changes {summary.start}..{summary.end}: {summary.changed:,} changed, {summary.written:,} "
        f"written ({summary.gone:,} gone) in {len(summary.keys)} file(s){missed}"
        + (" (resumed an unfinished window)" if summary.resumed else "")
    )


@ingest_app.command("eia")
def ingest_eia_command(
    start: Annotated[
        str | None,
        typer.Option(help="First day, YYYY-MM-DD; each route's first available day by default (a backfill)."),
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Last day, YYYY-MM-DD (included); today (UTC) by default.")
    ] = None,
    sample: Annotated[
        bool,
        typer.Option(help="Generated SAMPLE prices through the same client, offline, under raw/eia_sample."),
    ] = False,
    refresh: Annotated[
        bool, typer.Option(help="Fetch again the years the backfill checkpoint has done.")
    ] = False,
) -> None:
    """Fetch EIA daily spot prices (EIA_SERIES: WTI, Brent, Henry Hub) into raw/eia/<route>/, a file a day.

    Resumable: finished years are kept in _checkpoints/eia_backfill/, so running it again goes on
    from there. The key comes from EIA_API_KEY or EIA_SECRET_ARN and never shows in any output.
    """
    import datetime as dt

    from datalake.pipelines.eia_ingest import ingest_eia, summary_lines

    try:
        first = dt.date.fromisoformat(start) if start else None
        last = dt.date.fromisoformat(end) if end else None
    except ValueError as error:
        raise typer.BadParameter(f"--start/--end: {error} (expected YYYY-MM-DD)") from None
    if first and last and last < first:
        raise typer.BadParameter(f"--end {last} is before --start {first}")
    report, summary = ingest_eia(first, last, sample=sample, refresh=refresh, progress=console.log)
    _print_report(report)
    for line in summary_lines(summary):
        console.print(line, markup=False, highlight=False)
    for failure in summary.failed:
        err_console.print(
            f"[yellow]failed[/yellow] {failure['route']} {failure['start']}..{failure['end']}: ", end=""
        )
        err_console.print(failure["reason"], markup=False, highlight=False)


@ingest_app.command("weather-csv")
def ingest_weather_csv_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="The hourly observation file (weather_features_2015_2017.csv.gz format: dt_iso, city_name, "
            "temp in K, humidity, wind_speed in m/s, clouds_all)."
        ),
    ],
) -> None:
    """Check the observed-weather file and land it unchanged in raw/weather/observations_file/ (then:
    transform weather). Rejected lines are listed with their reasons; the transform quarantines them."""
    from datalake.pipelines.weather import summary_lines
    from datalake.pipelines.weather_ingest import ingest_weather_csv

    report = ingest_weather_csv(file, progress=console.log)
    _print_report(report)
    for line in summary_lines(report):
        console.print(line, markup=False, highlight=False)


@ingest_app.command("weather")
def ingest_weather_command(
    start: Annotated[
        str | None, typer.Option(help="First UTC day of history (Open-Meteo archive), YYYY-MM-DD.")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Last UTC day of history (included), YYYY-MM-DD.")] = None,
    sample: Annotated[
        bool, typer.Option(help='The labelled SAMPLE Open-Meteo, offline (rows say source "sample").')
    ] = False,
) -> None:
    """Fetch Open-Meteo weather for WEATHER_LOCATIONS: with --start/--end the archive (history, a
    file per location and day), without them the forecast of the next days, stored with its issue
    time (what the weather_daily Lambda does)."""
    import datetime as dt

    from datalake.pipelines.weather_ingest import ingest_weather_archive, ingest_weather_forecast

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if start is None and end is None:
        report, summary = ingest_weather_forecast(now, sample=sample, progress=console.log)
    else:
        try:
            first = dt.date.fromisoformat(start or "")
            last = dt.date.fromisoformat(end) if end else now.date()
        except ValueError as error:
            raise typer.BadParameter(f"--start/--end: {error} (expected YYYY-MM-DD)") from None
        if last < first:
            raise typer.BadParameter(f"--end {last} is before --start {first}")
        report, summary = ingest_weather_archive(first, last, sample=sample, now=now, progress=console.log)
    _print_report(report)
    console.print(
        f"open-meteo {summary.api}: {summary.hours_received:,} hours for "
        f"{len(summary.locations)} location(s) in {summary.requests} request(s), "
        f"{summary.files_written} file(s) written"
        + (f", {summary.days_empty} day(s) not in the archive yet" if summary.days_empty else ""),
        markup=False,
        highlight=False,
    )
    for failure in summary.failed:
        err_console.print(f"failed {failure['start']}..{failure['end']}: {failure['reason']}", markup=False)


generate_app = typer.Typer(help="Write realistic SAMPLE source extracts for demos and benchmarks.")
app.add_typer(generate_app, name="generate")


@generate_app.command("energy-company")
def generate_energy_company_command(
    rows: Annotated[
        int, typer.Option(min=1, max=10_000_000, help="Transactions to write (up to 10 million).")
    ] = 10_000,
    out: Annotated[Path, typer.Option(help="Folder to write the CSV drops to.")] = Path("landing"),
    day: Annotated[str, typer.Option(help="The extract's date (YYYY-MM-DD).")] = "2024-06-03",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same files.")] = 7,
    dirty_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of dirty rows (spacing, case, bad numbers...).")
    ] = 0.02,
) -> None:
    """Write clientes, proveedores and transacciones CSV extracts (streamed: 10 M rows need little memory)."""
    import datetime as dt

    from datalake.sources.energy_company_sample import generate_drops

    summary = generate_drops(
        out, rows, dt.date.fromisoformat(day), seed=seed, dirty_share=dirty_share, progress=console.log
    )
    for path, count in summary.items():
        console.print(f"wrote {path}: {count:,} rows")


@generate_app.command("owid")
def generate_owid_command(
    out: Annotated[Path, typer.Option(help="Folder to write the two CSV drops to.")] = Path("landing"),
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same files.")] = 17,
    first_year: Annotated[int, typer.Option(help="First year of every place.")] = 2000,
    last_year: Annotated[int, typer.Option(help="Last year of every place.")] = 2023,
) -> None:
    """Write a SAMPLE Our World in Data energy file and its codebook (current OWID column format)."""
    from datalake.sources.owid_sample import generate_owid_drops

    for path in generate_owid_drops(out, seed=seed, first_year=first_year, last_year=last_year):
        console.print(f"wrote {path}: {sum(1 for _ in path.open(encoding='utf-8')) - 1:,} rows")


@generate_app.command("store-sales")
def generate_store_sales_command(
    out: Annotated[Path, typer.Option(help="Folder to write the two CSV drops to.")] = Path("landing"),
    stores: Annotated[int, typer.Option(min=1, max=5_000, help="Stores to generate.")] = 20,
    start: Annotated[str, typer.Option(help="First day of the sales (YYYY-MM-DD).")] = "2022-08-01",
    end: Annotated[str, typer.Option(help="Last day of the sales (YYYY-MM-DD).")] = "2024-07-31",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same files.")] = 23,
    dirty_rows: Annotated[
        int,
        typer.Option(min=0, help="Dirty rows to inject (sales on a closed day, negative, unknown store)."),
    ] = 0,
) -> None:
    """Write SAMPLE Rossmann drops: daily sales (train.csv's columns) and store attributes (store.csv's)."""
    import datetime as dt

    from datalake.sources.store_sales_sample import generate_store_sales_drops

    paths = generate_store_sales_drops(
        out,
        stores,
        dt.date.fromisoformat(start),
        dt.date.fromisoformat(end),
        seed=seed,
        dirty_rows=dirty_rows,
    )
    for path in paths:
        console.print(f"wrote {path}: {sum(1 for _ in path.open(encoding='utf-8')) - 1:,} rows")


forecast_app = typer.Typer(help="The hourly demand forecaster: train, backtest, predict, plot.")
app.add_typer(forecast_app, name="forecast")
InputOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--input", help="ENTSO-E/Kaggle CSV, or Parquet/CSV with ts_utc and demand_mw (repeatable)."
    ),
]
TableOption = Annotated[str | None, typer.Option("--table", help="A lake table, e.g. demand_hourly.")]
WeatherFileOption = Annotated[
    Path | None,
    typer.Option(
        "--weather",
        help="Hourly weather observations in the shared Kaggle format (weather_features_*.csv.gz): "
        "the population-weighted national temperature becomes covariates.",
    ),
]
WeatherTableOption = Annotated[
    str | None,
    typer.Option("--weather-table", help="The lake's weather_national_hourly table instead of --weather."),
]


def _weather(path: Path | None, table: str | None):  # type: ignore[no-untyped-def]
    """The WeatherHistory of --weather or --weather-table, or None when neither is given."""
    from datalake.forecasting.weather import read_weather_file, read_weather_table

    if path is not None and table is not None:
        raise typer.BadParameter("give --weather FILE or --weather-table, not both", param_hint="--weather")
    if path is None and table is None:
        return None
    weather = read_weather_file(path) if path is not None else read_weather_table(str(table))
    console.log(f"weather: {weather.description}, {weather.start:%Y-%m-%d} .. {weather.end:%Y-%m-%d}")
    return weather


def _series(input_paths: list[Path] | None, table: str | None):  # type: ignore[no-untyped-def]
    from datalake.forecasting.data import load_series

    if bool(input_paths) == bool(table):
        raise typer.BadParameter("give exactly one of --input FILE or --table demand_hourly")
    series = load_series(input_paths or None, table)
    console.log(f"series: {series.description}, {series.hours} hours, {series.missing_hours} missing")
    return series


@forecast_app.command("train")
def forecast_train(
    input_paths: InputOption = None,
    table: TableOption = None,
    epochs: Annotated[int | None, typer.Option(help="Most epochs (early stopping may end sooner).")] = None,
    weather_file: WeatherFileOption = None,
    weather_table: WeatherTableOption = None,
) -> None:
    """Train a challenger, backtest it and the champion on the same window, promote the better.

    With --weather or --weather-table the challenger is the weather model (temperature
    covariates and the regional holiday calendar), judged with the realistic forecast error.
    """
    import dataclasses

    from datalake.forecasting.config import WEATHER_MODEL, ForecastConfig
    from datalake.forecasting.pipeline import train_forecaster

    weather = _weather(weather_file, weather_table)
    config = WEATHER_MODEL if weather is not None else ForecastConfig()
    if epochs is not None:
        config = dataclasses.replace(config, max_epochs=epochs)
    report = train_forecaster(_series(input_paths, table), config, weather=weather)
    details = report["details"]
    console.print(
        f"forecast_train: {details['version']} {'PROMOTED' if details['promoted'] else 'not promoted'} "
        f"({details['decision']}); trained {details['training']['epochs']} epochs in "
        f"{details['training']['seconds']} s, {details['training']['stopped']}"
    )
    for name, scores in (
        ("challenger", details["challenger_scores"]),
        ("champion", details["champion_scores"]),
    ):
        if scores:
            console.print(
                f"  {name}: next-hour MAPE {scores['next_hour_mape_pct']:.3f} % "
                f"(p10-p90 coverage {scores['next_hour_coverage_p10_p90_pct']:.1f} %), "
                f"day-ahead MAPE {scores['day_ahead_mape_pct']:.3f} % "
                f"(coverage {scores['day_ahead_coverage_p10_p90_pct']:.1f} %)"
            )
    for task, methods in details["baselines"].items():
        console.print(
            f"  baselines {task}: "
            + ", ".join(f"{method} {scores['mape_pct']:.3f} %" for method, scores in methods.items())
        )


train_app = typer.Typer(help="Train models other than the forecaster (champion/challenger in the registry).")
app.add_typer(train_app, name="train")


@train_app.command("movie-success")
def train_movie_success_command(
    table: Annotated[
        str | None,
        typer.Option("--table", help="Train on the lake's processed movie tables (movies + bridges)."),
    ] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input", help="Train on a Kaggle-format TMDB movies CSV instead.")
    ] = None,
    credits_file: Annotated[
        Path | None,
        typer.Option(
            "--credits",
            help="The Kaggle credits CSV (movie_id,title,cast,crew) for --input: directors and top cast. "
            "Default: tmdb_5000_credits.csv beside the --input file, when there is one.",
        ),
    ] = None,
) -> None:
    """Train the movie success classifier, score the champion on the same years, promote the better."""
    from datalake.movies.evaluation import format_report
    from datalake.movies.tables import kaggle_credits_path, people_summary, read_kaggle_csv, read_lake_tables
    from datalake.movies.training import train_movie_success

    if input_file is not None and table is not None:
        raise typer.BadParameter("give --table or --input, not both", param_hint="--input")
    if credits_file is not None and input_file is None:
        raise typer.BadParameter(
            "--credits goes with --input (the Kaggle movies CSV)", param_hint="--credits"
        )
    if table not in (None, "movies"):
        raise typer.BadParameter(
            f"{table!r}: the classifier trains on the 'movies' table", param_hint="--table"
        )
    if input_file is not None:
        credits_path = kaggle_credits_path(input_file, credits_file)
        tables = read_kaggle_csv(input_file, credits_path)
        description = f"Kaggle CSV {input_file.name}" + (
            f" + credits {credits_path.name}" if credits_path else " (no credits file)"
        )
    else:
        tables, description = read_lake_tables(), "processed movies tables"
    console.print(f"training movie_success on {description}: {len(tables.movies):,} films")
    console.print(people_summary(tables))
    details = train_movie_success(tables, description)["details"]
    console.print(format_report(details["evaluation"]))
    champion = details["champion_scores"]
    if champion:
        console.print(
            f"champion {details['champion_before']} on the same test years: "
            f"ROC-AUC {champion['roc_auc']:.3f}, "
            f"PR-AUC {champion['pr_auc']:.3f}, F1 {champion['f1']:.3f}, Brier {champion['brier']:.3f}"
        )
    console.print(
        f"movie_success_train: {details['version']} {'PROMOTED' if details['promoted'] else 'not promoted'} "
        f"({details['decision']})"
    )


@train_app.command("fx-signal")
def train_fx_signal_command(
    source: Annotated[
        str,
        typer.Option(help="auto (the shared TRM export when present, else SAMPLE), trm, spot_m5 or sample."),
    ] = "auto",
    input_file: Annotated[
        Path | None,
        typer.Option("--input", help="A TRM export CSV or 5-minute spot .csv.gz instead of --source."),
    ] = None,
) -> None:
    """Train the USD/COP buy/sell signal, score the champion on the same holdout, promote the better."""
    from datalake.fxsignal.series import load_history, read_channel
    from datalake.fxsignal.training import train_fx_signal

    rates = read_channel(input_file) if input_file is not None else load_history(source)
    description = f"{rates.attrs['source']} {rates.index[0].date()}..{rates.index[-1].date()}"
    console.print(f"training fx_signal on {description}: {len(rates):,} daily rates")
    details = train_fx_signal(rates, description)["details"]
    holdout = details["evaluation"]["holdout"]
    console.print(
        f"holdout {details['evaluation']['holdout_start']}..{details['evaluation']['holdout_end']}: "
        f"accuracy {holdout['accuracy']:.3f}, net P&L {holdout['net_pnl_pct']:.2f} % after costs"
    )
    console.print(
        f"fx_signal_train: {details['version']} {'PROMOTED' if details['promoted'] else 'not promoted'} "
        f"({details['decision']})"
    )


@forecast_app.command("backtest")
def forecast_backtest(
    start: Annotated[str, typer.Option(help="First Europe/Madrid day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option(help="Last Europe/Madrid day, YYYY-MM-DD.")],
    input_paths: InputOption = None,
    table: TableOption = None,
    model: Annotated[
        str, typer.Option(help="'champion', 'none' (baselines only) or a model directory.")
    ] = "champion",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    weather_file: WeatherFileOption = None,
    weather_table: WeatherTableOption = None,
    weather_error: Annotated[
        str,
        typer.Option(
            help="Weather for the hours after each origin: 'none' (the observation: a perfect forecast, "
            "the optimistic bound) or 'realistic' (plus a seeded temperature error growing with the "
            "horizon, 1.5 °C at 30 h; see docs/forecaster.md)."
        ),
    ] = "none",
    error_plot: Annotated[
        Path | None,
        typer.Option(
            help="Also write a PNG of the day-ahead error by hour of day and by month (model, TSO)."
        ),
    ] = None,
) -> None:
    """Rolling-origin backtest: next hour and day ahead (12:00 Madrid on D-1), model vs baselines.

    A weather model needs --weather or --weather-table; the backtest reads its observations
    (kind observed) and adds the --weather-error.
    """
    import datetime as dt
    import tempfile

    from datalake.forecasting.backtest import format_backtest, run_backtest
    from datalake.forecasting.forecaster import TransformerForecaster
    from datalake.forecasting.serving import load_champion

    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError as error:
        raise typer.BadParameter(f"--start/--end: {error}") from None
    from datalake.forecasting.weather import weather_error as error_model

    if weather_error not in ("none", "realistic"):
        raise typer.BadParameter("'none' or 'realistic'", param_hint="--weather-error")
    series = _series(input_paths, table)
    weather = _weather(weather_file, weather_table)
    with tempfile.TemporaryDirectory() as scratch:
        forecaster, name = None, "model"
        if model == "champion":
            served = load_champion(Path(scratch))
            forecaster, name = served.forecaster, f"champion {served.version}"
        elif model != "none":
            forecaster, name = TransformerForecaster.load(Path(model)), Path(model).name
        if forecaster is not None and forecaster.needs_weather:
            if weather is None:
                raise typer.BadParameter(
                    f"{name} forecasts with weather: give --weather FILE or --weather-table",
                    param_hint="--weather",
                )
            errors = error_model(weather_error, seed=forecaster.config.seed)  # type: ignore[arg-type]
            forecaster = forecaster.with_weather(weather.with_error(errors))
        report = run_backtest(series, forecaster, first, last, name)
        if error_plot is not None:
            from datalake.forecasting.backtest import TsoDayAhead, day_ahead_errors
            from datalake.forecasting.plot import plot_error_profile

            compared = {} if forecaster is None else {name: forecaster}
            if series.tso_forecast_mw is not None:
                compared["tso_day_ahead"] = TsoDayAhead(series.tso_forecast_mw)
            errors = day_ahead_errors(series, compared, first, last)
            plot_error_profile(errors, error_plot, f"Day-ahead MAPE {first} .. {last}")
            console.log(f"wrote {error_plot}")
        report["weather"] = (
            None if weather is None else {"source": weather.description, "error": weather_error}
        )
    if as_json:
        console.print_json(json.dumps(report, default=str))
    else:
        # Pre-formatted text: no rich markup ("[p10, p90]") and no wrapping at the terminal width.
        console.print(format_backtest(report), markup=False, soft_wrap=True)


ModelOption = Annotated[str, typer.Option(help="'champion' or a model directory.")]
DaysOption = Annotated[int, typer.Option(min=1, max=14, help="Days ahead (1-14).")]
HoursOption = Annotated[
    int | None, typer.Option(min=1, max=336, help="Hours ahead instead of --days (1 = the next hour).")
]


def _forecast_now(  # type: ignore[no-untyped-def]
    model: str, input_paths: list[Path] | None, table: str | None, horizon_hours: int, weather=None
):
    """(history, answer): forecast after the newest hour of --input/--table, else of the warehouse.

    A weather champion reads ``weather`` (stored forecasts), else its fallback answers.
    """
    import tempfile

    from datalake.forecasting import serving
    from datalake.forecasting.data import load_recent

    with tempfile.TemporaryDirectory() as scratch:
        if model == "champion":
            served = serving.load_champion(Path(scratch))
        else:
            served = serving.load_served_model(Path(model))
    if input_paths or table:
        history = _series(input_paths, table).demand_mw
    else:
        series = load_recent(served.history_hours)
        console.log(f"history: {series.description}")
        history = series.demand_mw
    answer = serving.forecast(served, history, horizon_hours, weather)
    if answer.get("weather_note"):
        console.log(answer["weather_note"])
    return history, answer


@forecast_app.command("predict")
def forecast_predict(
    days: DaysOption = 1,
    hours: HoursOption = None,
    input_paths: InputOption = None,
    table: TableOption = None,
    model: ModelOption = "champion",
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Forecast hourly demand (p10/p50/p90) after the newest data: the warehouse's, or --input/--table."""
    _, answer = _forecast_now(model, input_paths, table, hours or days * 24)
    if as_json:
        console.print_json(json.dumps(answer))
        return
    table_out = RichTable(
        title=f"demand forecast, model {answer['model_version']}, data up to {answer['data_cutoff']} (UTC)"
    )
    for column in ("hour (Europe/Madrid)", "p10 MW", "p50 MW", "p90 MW"):
        table_out.add_column(column, justify="right" if "MW" in column else "left")
    for point in answer["points"]:
        table_out.add_row(
            point["ts_local"][:16].replace("T", " "),
            f"{point['p10_mw']:,.0f}",
            f"{point['p50_mw']:,.0f}",
            f"{point['p90_mw']:,.0f}",
        )
    console.print(table_out)
    console.print(f"{len(answer['points'])} hours from {answer['origin']}")


@forecast_app.command("plot")
def forecast_plot(
    output: Annotated[Path, typer.Option(help="PNG to write.")] = Path("forecast.png"),
    days: DaysOption = 2,
    hours: HoursOption = None,
    history_days: Annotated[int, typer.Option(min=1, help="Days of history before the forecast.")] = 7,
    input_paths: InputOption = None,
    table: TableOption = None,
    model: ModelOption = "champion",
    weather_file: WeatherFileOption = None,
    weather_table: WeatherTableOption = None,
) -> None:
    """Write a PNG: recent history, the forecast and its p10-p90 band (and the temperature).

    With --weather or --weather-table the national temperature is drawn on a second axis;
    --weather-table also gives a weather model its stored forecasts (a file holds only
    observations, which a live forecast never uses: the fallback answers then).
    """
    from datalake.forecasting.plot import plot_forecast

    weather = _weather(weather_file, weather_table)
    history, answer = _forecast_now(model, input_paths, table, hours or days * 24, weather)
    temperature, label = None, "national temperature"
    if weather is not None:
        origin = pd.Timestamp(answer["origin"])
        ahead = pd.date_range(origin, periods=answer["horizon_hours"], freq="h")
        temperature = weather.observed_c[weather.observed_c.index < origin]
        if weather.mode == "issued":
            try:
                given = pd.Series(weather.known_at(origin, ahead), index=ahead)
                temperature, label = (
                    pd.concat([temperature, given]),
                    "temperature (forecast after the origin)",
                )
            except LakeError as error:
                console.log(f"no stored temperature forecast to draw: {error}")
        else:
            temperature = weather.observed_c
            label = "temperature (observed)"
    path = plot_forecast(history, answer, output, history_days, temperature, label)
    console.print(
        f"wrote {path} ({answer['horizon_hours']} h from {answer['origin']}, model {answer['model_version']})"
    )


mlflow_app = typer.Typer(
    help="MLflow experiments and registry (SQLite under the lake root unless MLFLOW_TRACKING_URI)."
)
app.add_typer(mlflow_app, name="mlflow")


@mlflow_app.command("ui")
def mlflow_ui_command(
    host: Annotated[str, typer.Option(help="Interface the UI listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port of the UI.")] = 5000,
) -> None:
    """Open the MLflow UI on the lake's tracking store (runs until interrupted)."""
    from datalake import tracking

    settings = get_settings()
    console.print(f"MLflow UI on http://{host}:{port} for {tracking.tracking_uri(settings)}", markup=False)
    process = tracking.start_ui(settings, host, port)
    try:
        raise typer.Exit(process.wait())
    except KeyboardInterrupt:
        process.terminate()
        process.wait()


@app.command()
def doctor(
    rebuild_class_archive: Annotated[
        bool, typer.Option(help="Build Spark's class-data archive again even when it is there.")
    ] = False,
) -> None:
    """Check what the lake needs on this machine (Java 17 for Spark), and build Spark's class-data
    archive once (local JVMs map Spark's classes from it and start sooner; SPARK_CLASS_ARCHIVE=false
    skips it)."""
    import subprocess

    from datalake.spark import check_java, class_archive_path
    from datalake.spark_archive import ensure_archive

    version = check_java()
    console.print(f"java {version}: ok")
    wanted = class_archive_path() if get_settings().spark_class_archive else None
    if wanted is None:
        return
    try:
        path, seconds = ensure_archive(wanted, rebuild=rebuild_class_archive)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        # Only a speed-up: Spark loads its classes from the jars without it.
        console.print(
            f"[yellow]Spark class-data archive not built ({error}); JVMs start without it[/]", soft_wrap=True
        )
        return
    size = f"{path.stat().st_size / 2**20:,.0f} MiB"
    built = f"built in {seconds:.1f} s" if seconds is not None else "ok"
    # One line, however narrow the terminal: a wrapped path cannot be copied (CI logs are 80 wide).
    console.print(f"Spark class-data archive: {built} ({size}, {path})", soft_wrap=True)


@db_app.command("start")
def db_start() -> None:
    """Start the embedded PostgreSQL (no-op when running or when DATABASE_URL is set)."""
    from datalake.warehouse.server import EmbeddedPostgres

    settings = get_settings()
    if settings.database_url:
        console.print("DATABASE_URL is set; nothing to start")
        return
    url = EmbeddedPostgres(settings.pg_data_dir).start()
    console.print(f"started: {url}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL cleanly."""
    from datalake.warehouse.server import EmbeddedPostgres

    stopped = EmbeddedPostgres(get_settings().pg_data_dir).stop()
    console.print("stopped" if stopped else "not running")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (starting the embedded server if needed)."""
    from datalake.warehouse.connection import database_url

    print(database_url(get_settings()))


@db_app.command("status")
def db_status() -> None:
    """Whether the embedded server runs, its pid, URL and data directory."""
    from datalake.warehouse.connection import describe_target
    from datalake.warehouse.server import EmbeddedPostgres

    settings = get_settings()
    if settings.database_url:
        console.print(f"external database: {describe_target(settings.database_url)}")
        return
    console.print_json(json.dumps(EmbeddedPostgres(settings.pg_data_dir).status(), default=str))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default: API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65_535, help="TCP port (default: API_PORT).")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="uvicorn worker processes (default: API_WORKERS).")
    ] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development; one worker).")] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the API (/ask, /forecast, /ask-visual, /historical-predictions, /health, /docs) on uvicorn.

    X-Forwarded-For is trusted only from FORWARDED_ALLOW_IPS (the load balancer's networks).
    """
    import uvicorn

    from api.server import APP, uvicorn_options

    settings = get_settings()
    host = host or settings.api_host
    port = port or settings.api_port
    workers = 1 if reload else (workers or settings.api_workers)
    console.print(f"serving on http://{host}:{port} ({workers} worker(s)); docs at /docs")
    if settings.forwarded_allow_ips:
        console.print(f"client addresses from X-Forwarded-For sent by {settings.forwarded_allow_ips}")
    uvicorn.run(
        APP,
        **uvicorn_options(
            settings, host=host, port=port, workers=workers, reload=reload, log_level=log_level
        ),
    )


@app.command("ui")
def ui_command(
    host: Annotated[str, typer.Option(help="Interface the web app listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65_535, help="TCP port of the web app.")] = 8501,
    api_url: Annotated[
        str | None,
        typer.Option(help="The API's base URL (default: API_BASE_URL, else http://API_HOST:API_PORT)."),
    ] = None,
) -> None:
    """Run the web app (Streamlit) over the API: ask, forecast, dashboards, movies, sales, status.

    It calls the API only (start it with `datalake serve`); API_KEY is sent when set.
    """
    import os
    import subprocess

    from ui.launch import streamlit_command, streamlit_environment

    settings = get_settings()
    api = api_url or os.environ.get("API_BASE_URL") or f"http://{settings.api_host}:{settings.api_port}"
    console.print(f"web app on http://{host}:{port} over the API at {api}", markup=False)
    try:
        # The app reads its environment only: a key set in .env (the settings) is handed over.
        key = settings.api_key.get_secret_value() if settings.api_key else None
        env = streamlit_environment(api, api_key=key)
        raise typer.Exit(subprocess.call(streamlit_command(host, port), env=env))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


ask_app = typer.Typer(help="Questions in Spanish or English answered from the data (what /ask does).")
app.add_typer(ask_app, name="ask")


class AskEngine(StrEnum):
    warehouse = "warehouse"
    lake = "lake"


class EvalEngine(StrEnum):
    lake = "lake"
    warehouse = "warehouse"
    both = "both"


class AskBackend(StrEnum):
    parser = "parser"
    hf = "hf"
    parser_hf = "parser+hf"


@ask_app.command("question")
def ask_question(
    question: Annotated[str, typer.Argument(help="The question, e.g. '¿Cuál fue la demanda total ayer?'.")],
    as_of: Annotated[
        str | None, typer.Option(help="Pretend it is this ISO time (Madrid time without an offset).")
    ] = None,
    engine: Annotated[AskEngine | None, typer.Option(help="warehouse or lake (default: ASK_ENGINE).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole result as JSON.")] = False,
) -> None:
    """Answer one question (exit status 1 when it is refused, with the reason and suggestions)."""
    import datetime as dt

    from datalake.ask import AskRefusal, ask
    from datalake.ask.future import champion_forecaster
    from datalake.timebounds import is_date_arithmetic_error, is_supported_year, year_range_reason

    try:
        moment = dt.datetime.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(f"--as-of: not an ISO time: {as_of!r}") from None
    if moment is not None and not is_supported_year(moment):
        raise typer.BadParameter(f"--as-of: {year_range_reason(moment.year)}")
    try:
        settings = get_settings()
        result = ask(
            question,
            moment,
            settings=settings,
            engine=engine.value if engine else None,
            forecaster=champion_forecaster(settings),  # loaded only for a question about the future
        )
    except AskRefusal as refusal:
        err_console.print(f"[yellow]refused ({refusal.kind}):[/yellow] {refusal.reason}")
        for suggestion in refusal.suggestions:
            err_console.print(f"  - {suggestion}")
        raise typer.Exit(1) from None
    except (OverflowError, ValueError) as error:
        if not is_date_arithmetic_error(error):
            raise
        err_console.print(f"[red]a date in the question is out of range:[/red] {error}")
        raise typer.Exit(1) from None
    if as_json:
        console.print_json(result.model_dump_json())
        return
    console.print(result.answer)
    console.print(f"[dim]{result.engine}: {result.sql}[/dim]")
    if result.rows and len(result.rows) > 1:
        print_frame(pd.DataFrame(result.rows, columns=result.columns))


@ask_app.command("eval")
def ask_eval(
    engine: Annotated[EvalEngine, typer.Option(help="Engine(s) to evaluate on.")] = EvalEngine.lake,
    questions: Annotated[
        list[Path] | None,
        typer.Option(
            help="Question set; repeat for several (default: every set in tests/ask: electricity, "
            "generalisation, movies, energy company)."
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="Warehouse: this PostgreSQL (owner URL; a scratch schema), not a temporary one."),
    ] = None,
    min_accuracy: Annotated[float, typer.Option(min=0, max=1, help="Exit non-zero below this.")] = 0.95,
    backend: Annotated[
        AskBackend,
        typer.Option(
            help="Who writes the SQL: the parser, hf (the model of ASK_MODEL_ID for every question; "
            "needs HF_TOKEN) or parser+hf (the model for what the parser does not understand)."
        ),
    ] = AskBackend.parser,
) -> None:
    """Load the fixed evaluation datasets into a scratch lake and/or PostgreSQL and score the question sets:
    accuracy by dataset and by kind; each dataset must reach --min-accuracy."""
    from functools import partial

    from datalake.ask import ask
    from datalake.ask.evaluation import (
        EVALUATION_SETS,
        evaluate,
        frames_for,
        load_questions,
        scratch_lake,
        scratch_warehouse,
    )
    from datalake.ask.fallback import hf_token

    # The backend is this option's, whatever ASK_BACKEND says.
    settings = get_settings().model_copy(update={"ask_backend": backend.value})
    if backend != AskBackend.parser and not settings.ask_hf_base_url and not hf_token(settings):
        err_console.print(
            f"error: --backend {backend.value} calls {settings.ask_model_id} on Hugging Face and needs "
            "HF_TOKEN (or HF_TOKEN_SECRET_ARN); none is set",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)
    items = [item for path in (questions or EVALUATION_SETS) for item in load_questions(path)]
    frames = frames_for(items)
    engines = ["lake", "warehouse"] if engine == EvalEngine.both else [engine.value]
    worst, worst_name = 1.0, ""
    for name in engines:
        scratch = scratch_lake(frames) if name == "lake" else scratch_warehouse(frames, url=database_url)
        with scratch as executor:
            report = evaluate(items, partial(ask, settings=settings, executor=executor))
        console.print(f"[bold]{name}[/bold] ({backend.value}): {len(items)} questions")
        console.print(report.format(), markup=False, highlight=False)
        for dataset, accuracy in report.dataset_accuracy().items():
            if accuracy < worst:
                worst, worst_name = accuracy, f"{dataset} on the {name}"
    if worst < min_accuracy:
        err_console.print(f"accuracy {worst:.1%} ({worst_name}) is below {min_accuracy:.0%}")
        raise typer.Exit(1)


deploy_app = typer.Typer(help="Package the code and deploy the CloudFormation layers (cloudformation/).")
app.add_typer(deploy_app, name="deploy")


@deploy_app.command("package")
def deploy_package(
    env: Annotated[
        str | None, typer.Option(help="Read the artifacts bucket from this env's storage stack.")
    ] = None,
    bucket: Annotated[str | None, typer.Option(help="Artifacts bucket (default: ARTIFACTS_BUCKET).")] = None,
    dependencies: Annotated[
        bool, typer.Option(help="Build the third-party Lambda layer (pip, for Linux x86_64).")
    ] = True,
) -> None:
    """Build the Lambda zips, layers, core wheel, Glue scripts and SageMaker code; upload them."""
    from datalake.deploy.package import package
    from datalake.deploy.stack import bucket_from_storage_stack

    if bucket is None and env is not None:
        bucket = bucket_from_storage_stack(env)
    manifest = package(bucket, with_dependencies=dependencies, progress=console.log)
    console.print(
        f"packaged code version [bold]{manifest['code_version']}[/bold]: "
        f"{len(manifest['uploaded'])} file(s) in s3://{manifest['bucket']}/code/{manifest['code_version']}/"
    )


@deploy_app.command("stack")
def deploy_stack(
    env: Annotated[str, typer.Option(help="Parameter set: cloudformation/params/<env>.json.")] = "dev",
    layer: Annotated[
        list[str] | None, typer.Option(help="Only this layer (repeatable); all, in order, by default.")
    ] = None,
    code_version: Annotated[
        str | None, typer.Option(help="CodeVersion of the packaged code (default: the last package).")
    ] = None,
) -> None:
    """Create or update the layers' stacks through change sets; print the changes and the outputs."""
    from datalake.deploy.stack import deploy_layers

    results = deploy_layers(env, layer or None, code_version, progress=console.log)
    for result in results:
        table = RichTable(title=f"{result.stack} ({result.action})")
        table.add_column("output")
        table.add_column("value", overflow="fold")
        for key, value in sorted(result.outputs.items()):
            table.add_row(key, value)
        console.print(table)
    console.print(f"{len(results)} layer(s) deployed")


@deploy_app.command("monitoring")
def deploy_monitoring(
    check: Annotated[
        bool, typer.Option("--check", help="Only say whether the file is up to date (exit 1 when not).")
    ] = False,
) -> None:
    """Write cloudformation/monitoring.yaml from the source registry: the alerts topic, each scheduled
    Lambda's Errors and dead-letter alarms, each source's freshness alarm, the operations dashboard."""
    from datalake.deploy.monitoring import TEMPLATE, monitoring_template, render, write_template

    if check:
        current = TEMPLATE.is_file() and TEMPLATE.read_text(encoding="utf-8") == render(monitoring_template())
        console.print(f"{TEMPLATE.name}: {'up to date' if current else 'OUT OF DATE (run without --check)'}")
        if not current:
            raise typer.Exit(1)
        return
    changed = write_template()
    template = monitoring_template()
    alarms = [n for n, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"]
    console.print(
        f"{TEMPLATE.name}: {'written' if changed else 'unchanged'}, {len(alarms)} alarms "
        f"({', '.join(alarms)}) and the operations dashboard"
    )


@deploy_app.command("check")
def deploy_check(
    env: Annotated[str, typer.Option(help="Parameter set: cloudformation/params/<env>.json.")] = "dev",
    checkov: Annotated[
        Path | None,
        typer.Option(help="checkov executable (default: DEPLOY_CHECKOV); relative to the repository root."),
    ] = None,
    skip_checkov: Annotated[bool, typer.Option(help="Do not run checkov (a machine without it).")] = False,
    skip: Annotated[list[str] | None, typer.Option(help="Skip this rule family (repeatable).")] = None,
    manifest: Annotated[
        Path | None, typer.Option(help="Package manifest to check (default: build/deploy/manifest.json).")
    ] = None,
) -> None:
    """Every static rule, cfn-lint and checkov over the templates, env's parameters and the package.

    Each failure names the file, the resource and the rule; the exit status is 1 on any finding.
    """
    from datalake.deploy.check import RULE_DOCS, CheckInputs, run_check
    from datalake.deploy.linters import missing_checkov_message
    from datalake.deploy.package import MANIFEST
    from datalake.deploy.templates import REPO_ROOT
    from datalake.errors import ConfigurationError

    checkov_path = None
    if not skip_checkov and "checkov" not in (skip or []):
        checkov_path = checkov or get_settings().deploy_checkov
        checkov_path = checkov_path if checkov_path.is_absolute() else REPO_ROOT / checkov_path
        if not checkov_path.is_file():
            raise ConfigurationError(missing_checkov_message(checkov_path))
    inputs = CheckInputs.load(env, manifest or MANIFEST, checkov_path)
    packaged = f"code version {inputs.code_version}" if inputs.code_version else "no package yet"
    console.print(f"deploy check --env {env} ({packaged})", markup=False, highlight=False)
    report = run_check(inputs, skip=skip or [], progress=console.log)
    for result in report.results:
        if result.findings:
            console.print(f"\n{result.name}: {len(result.findings)} finding(s)", style="bold", markup=False)
            for finding in result.findings:
                console.print(f"  {finding}", markup=False, highlight=False)
        if result.error:
            console.print(f"\n{result.name} could not run: {result.error}", style="bold red", markup=False)
    documented = sorted(rule for rule in report.rule_counts() if rule in RULE_DOCS)
    if documented:
        console.print("\nrules broken:", style="bold")
        for rule in documented:
            console.print(f"  {rule}: {RULE_DOCS[rule][0]} ({RULE_DOCS[rule][1]})", markup=False)
    for note in report.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    table = RichTable(title=f"deploy check --env {env}")
    for column in ("family", "status", "findings", "seconds", "detail"):
        table.add_column(column)
    for result in report.results:
        table.add_row(
            result.name,
            result.status,
            str(len(result.findings)),
            f"{result.seconds:.1f}",
            Text(result.skipped or result.error or ""),
        )
    console.print(table)
    verdict = "passed" if report.passed else "FAILED"
    console.print(
        f"{verdict}: {len(report.findings)} finding(s) from {len(report.results)} rule families "
        f"in {report.seconds:.1f} s",
        markup=False,
    )
    if not report.passed:
        raise typer.Exit(1)


@deploy_app.command("smoke")
def deploy_smoke(
    env: Annotated[str, typer.Option(help="Parameter set: cloudformation/params/<env>.json.")] = "dev",
    day: Annotated[
        str | None, typer.Option(help="Local day of SAMPLE data to land, YYYY-MM-DD (default: yesterday).")
    ] = None,
    teardown: Annotated[
        bool, typer.Option(help="Delete the stacks this run created (reverse order), even after a failure.")
    ] = False,
    delete_retained: Annotated[
        bool, typer.Option(help="With --teardown: also delete the buckets, secrets, logs and snapshots kept.")
    ] = False,
    code_version: Annotated[
        str | None, typer.Option(help="Deploy this uploaded CodeVersion instead of packaging the code.")
    ] = None,
    poll: Annotated[float, typer.Option(help="Seconds between two looks at a run, crawl or query.")] = 15.0,
    glue_timeout: Annotated[float, typer.Option(help="Seconds to wait for the Glue job run.")] = 3600.0,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before creating billable resources.")] = (
        False
    ),
) -> None:
    """Rehearse a deploy in your AWS account: deploy, land a SAMPLE day, Glue job, crawl, Athena,
    sync, /health and /ask on both API front ends, the cost-relevant resources; with --teardown, removes
    the stacks it created.

    Stops at the first failed step (teardown still runs with --teardown); exit status 1 then.
    """
    import datetime as dt

    from datalake.deploy.smoke import SmokeOptions, SmokeRun, aws_ports
    from datalake.deploy.templates import load_params
    from datalake.errors import ConfigurationError

    if delete_retained and not teardown:
        raise ConfigurationError("--delete-retained needs --teardown")
    params = load_params(env)
    settings = get_settings().model_copy(update={"aws_region": params["region"]})
    if not yes:
        typer.confirm(
            f"This deploys every layer of {params['project']}-{env} in {params['region']} (billable while it "
            "runs: see docs/deploy.md, 'Rehearse a deploy'), lands SAMPLE data and runs Glue, crawlers, "
            f"Athena and the API{'; then tears down what it created' if teardown else ''}. Continue?",
            abort=True,
        )
    options = SmokeOptions(
        env=env,
        day=dt.date.fromisoformat(day) if day else None,
        code_version=code_version,
        teardown=teardown,
        delete_retained=delete_retained,
        poll_s=poll,
        glue_timeout_s=glue_timeout,
    )
    progress = console.log
    run = SmokeRun(params, aws_ports(env, params, settings, progress), settings, options, progress)
    report = run.run()
    _print_smoke(report)
    if not report.passed:
        raise typer.Exit(1)


def _print_smoke(report: SmokeReport) -> None:
    """The cost rows, what teardown kept, the summary table and the failure line."""
    if report.costs:
        costs = RichTable(title="cost-relevant resources")
        for column in ("layer", "resource", "type", "what"):
            costs.add_column(column, overflow="fold")
        for row in report.costs:
            costs.add_row(row.layer, row.resource, row.kind, Text(row.what))
        console.print(costs)
    if report.retained and not report.retained_deleted:
        console.print(
            "kept after the teardown (--delete-retained deletes them; docs/deploy.md says how by hand):"
        )
        for resource in report.retained:
            console.print(f"  {resource}", markup=False, highlight=False)
    summary = RichTable(title="deploy smoke")
    for column in ("step", "status", "seconds", "detail"):
        summary.add_column(column, overflow="fold")
    for result in report.results:
        summary.add_row(result.step, result.status, f"{result.seconds:.0f}", Text(result.detail))
    console.print(summary)
    line = report.failure_line()
    if line:
        err_console.print(line, markup=False, highlight=False)
    else:
        console.print("smoke passed", markup=False)


stream_app = typer.Typer(help="The real-time streams: locally an fsync'd log per stream under the lake root.")
app.add_typer(stream_app, name="stream")
simulate_app = typer.Typer(help="Drive the real-time path with simulated users (issue 21).")
app.add_typer(simulate_app, name="simulate")


def _consume_table(title: str, by_stream: dict[str, object], seconds: float) -> RichTable:
    """Per-stream counts of a consumer run (what the stream processor did)."""
    table = RichTable(title=title)
    figures = ("records", "applied", "rejected", "duplicate", "poison", "prices", "records/s")
    table.add_column("stream")
    for column in figures:
        table.add_column(column, justify="right")
    for name, outcome in by_stream.items():
        counts = [getattr(outcome, column) for column in figures[:-1]]
        rate = counts[0] / seconds if seconds > 0 else 0.0
        table.add_row(name, *(f"{count:,}" for count in counts), f"{rate:,.0f}")
    return table


def _advise_on_prices(stream_port: object, settings: Settings) -> None:
    """The trade advisor over the new price events (its own checkpoint), as its Lambda on AWS."""
    from datalake.fxsignal.serving import MODEL_NAME
    from datalake.models import model_registry
    from datalake.realtime.advisor import advisor_dependencies, consume_prices

    if model_registry(settings, name=MODEL_NAME).champion() is None:
        console.print(
            "trade advisor: no fx_signal champion yet (`datalake train fx-signal`): price events kept, "
            "advice starts once one is promoted",
            markup=False,
        )
        return
    outcomes = consume_prices(stream_port, **advisor_dependencies(settings))  # type: ignore[arg-type]
    advised = [o for o in outcomes if o.signal]
    console.print(
        f"trade advisor: {sum(o.price_events for o in outcomes):,} price event(s), "
        + (
            f"latest signal {advised[-1].signal} ({advised[-1].as_of}, model {advised[-1].model_version}); "
            if advised
            else "no advice; "
        )
        + f"{sum(len(o.published) for o in outcomes):,} notification(s) published, "
        f"{sum(len(o.rate_limited) for o in outcomes):,} rate-limited",
        markup=False,
        highlight=False,
    )


@stream_app.command("run")
def stream_run_command(
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep consuming new records until interrupted (Ctrl-C).")
    ] = False,
    stream: Annotated[
        list[str] | None,
        typer.Option(
            "--stream", help="Only this stream (repeatable): transactions, prices; both by default."
        ),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Records per batch (default REALTIME_BATCH_SIZE).", min=1, max=10_000)
    ] = None,
) -> None:
    """Run the stream processor over the streams: raw micro-batches to the lake, transactions to the
    portfolios, poison records to the dead letters; checkpoint after each batch.

    Without --follow it stops once every shard is caught up. A run killed at any moment loses
    nothing and applies nothing twice: the next run goes on from the last checkpoint.
    """
    import contextlib
    import threading

    from datalake.realtime.events import PRICES_STREAM, STREAMS
    from datalake.realtime.processor import CONSUMER, consume

    settings = get_settings()
    names = tuple(stream or STREAMS)
    unknown = [name for name in names if name not in STREAMS]
    if unknown:
        raise typer.BadParameter(
            f"unknown stream {unknown[0]!r}; one of {', '.join(STREAMS)}", param_hint="--stream"
        )
    interrupted = threading.Event()

    def progress(name: str, outcome: object) -> None:
        records = getattr(outcome, "records", 0)
        if follow and records:
            console.log(f"{name}: {records:,} record(s)", markup=False, highlight=False)

    stream_port = runtime.stream(settings)
    # Locally one processor per consumer name at a time (Lambda's event source mapping is one on AWS).
    lease = getattr(stream_port, "exclusive", None)
    try:
        with lease(CONSUMER) if lease is not None else contextlib.nullcontext():
            summary = consume(
                stream_port,
                lake=runtime.object_store("lake", settings),
                portfolios=runtime.portfolio_store(settings),
                dead_letters=runtime.dead_letters(settings),
                streams=names,
                batch_size=batch_size or settings.realtime_batch_size,
                follow=follow,
                stop=interrupted.is_set,
                on_batch=progress,
            )
    except KeyboardInterrupt:
        console.print("interrupted: the last checkpoint stands; a new run goes on from there", markup=False)
        raise typer.Exit(130) from None
    console.print(_consume_table("stream processor", dict(summary.by_stream), summary.seconds))
    if PRICES_STREAM in names:
        _advise_on_prices(stream_port, settings)
    total = summary.total
    console.print(
        f"{total.records:,} record(s) in {summary.batches:,} batch(es), {summary.seconds:,.1f} s"
        f"{f'; {summary.retries:,} batch(es) retried' if summary.retries else ''}",
        markup=False,
        highlight=False,
    )


@simulate_app.command("trading")
def simulate_trading_command(
    users: Annotated[int, typer.Option(help="Simulated users.", min=1, max=1_000_000)] = 100,
    rate: Annotated[str, typer.Option(help="Transactions per second, e.g. 200/s.")] = "100/s",
    seconds: Annotated[float, typer.Option(help="How long to post transactions.", min=0.1)] = 10.0,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Replay the accepted transactions and compare with the stored portfolios; "
            "exit 1 unless nothing was lost or applied twice.",
        ),
    ] = False,
    seed: Annotated[
        int | None, typer.Option(help="Random seed of the generated users' choices and amounts.")
    ] = None,
) -> None:
    """Post simulated buys and sells (ingest -> stream -> processor -> portfolios), a share of them
    retried with the same idempotency key, and report throughput and ingest-to-portfolio latency."""
    import contextlib

    from datalake.realtime.processor import CONSUMER
    from datalake.realtime.simulate import parse_rate, simulate_trading

    try:
        per_second = parse_rate(rate)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--rate") from None
    settings = get_settings()
    stream_port = runtime.stream(settings)
    lease = getattr(stream_port, "exclusive", None)  # its processor is the stream's one consumer
    with lease(CONSUMER) if lease is not None else contextlib.nullcontext():
        result = simulate_trading(
            users=users,
            rate=per_second,
            seconds=seconds,
            stream=stream_port,
            lake=runtime.object_store("lake", settings),
            portfolios=runtime.portfolio_store(settings),
            dead_letters=runtime.dead_letters(settings),
            check=verify,
            seed=seed,
            batch_size=settings.realtime_batch_size,
            progress=console.log,
        )
    console.print(_consume_table(f"simulation {result.run}", dict(result.consumed.by_stream), result.seconds))
    console.print(
        f"{result.posts:,} posts ({len({e.event_id for e in result.accepted}):,} distinct transactions) "
        f"in {result.seconds:,.1f} s: {result.throughput_per_s:,.0f} transactions/s; ingest -> portfolio "
        f"latency p50 {result.latency_percentile_ms(0.5):,.1f} ms, "
        f"p99 {result.latency_percentile_ms(0.99):,.1f} ms",
        markup=False,
        highlight=False,
    )
    if result.report is not None:
        console.print(result.report.line(), markup=False, highlight=False)
        for example in result.report.examples:
            err_console.print(f"  {example}", markup=False, highlight=False)
        if not result.report.ok:
            if result.report.mismatched:
                err_console.print(
                    f"{result.report.mismatched:,} balance(s) or status(es) differ from the replay",
                    markup=False,
                )
            raise typer.Exit(1)


def main() -> None:
    """Console entry point: lake errors become one line (and a hint), exit status 2."""
    try:
        app()
    except LakeError as error:
        err_console.print(f"[bold red]error:[/bold red] {error}")
        if error.hint:
            err_console.print(f"[yellow]fix:[/yellow] {error.hint}")
        sys.exit(2)


if __name__ == "__main__":
    main()
