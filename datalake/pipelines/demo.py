"""The offline demo: every source on SAMPLE data, every model trained quickly, the answers printed.

``datalake demo`` (``make demo``) is the first thing a newcomer runs. It needs nothing beyond the
installed project and Java: each source's data is generated (labelled SAMPLE) and goes through
the same client, landing, Spark job, crawl and sync the scheduled runs use; each model is trained
on the lake's tables with a small, stated budget; the summary ends with a prediction from every
model, a week of demand forecast and a few ``/ask`` answers.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from datalake import runtime
from datalake.errors import LakeError
from datalake.forecasting.data import DemandSeries
from datalake.pipelines.lake import Progress, _quiet, crawl_zones, sync_all, transform
from datalake.runs import RunReport
from datalake.settings import Settings, get_settings

DEMO_QUERIES: dict[str, str] = {
    "Total national demand in the last full week (Mon-Sun) of the sample, MWh": (
        "SELECT min(local_date) AS week_start, max(local_date) AS week_end, "
        "round(sum(demand_mw)) AS demand_mwh FROM demand_hourly "
        "WHERE region = 'national' AND local_date >= date_add('day', -7, "
        "date_trunc('week', (SELECT max(local_date) FROM demand_hourly))) "
        "AND local_date < date_trunc('week', (SELECT max(local_date) FROM demand_hourly))"
    ),
    "Peak national hour of the year (Madrid time)": (
        "SELECT CAST(ts_utc AT TIME ZONE 'Europe/Madrid' AS varchar) AS peak_hour_madrid, demand_mw "
        "FROM demand_hourly "
        "WHERE region = 'national' AND year(local_date) = 2024 ORDER BY demand_mw DESC LIMIT 1"
    ),
    "WTI and Brent by month, USD/bbl (EIA SAMPLE prices)": (
        "SELECT CAST(date_trunc('month', date) AS date) AS month, "
        "round(avg(CASE WHEN series_id = 'RWTC' THEN price END), 2) AS wti_usd_bbl, "
        "round(avg(CASE WHEN series_id = 'RBRTE' THEN price END), 2) AS brent_usd_bbl "
        "FROM energy_prices_daily WHERE source = 'sample' GROUP BY 1 ORDER BY 1"
    ),
    "Renewable share of national generation by month": (
        "SELECT month(local_date) AS month, round(100 * sum(CASE WHEN technology_group = 'Renovable' "
        "THEN energy_mwh ELSE 0 END) / sum(CASE WHEN technology_group <> 'total' THEN energy_mwh END), 1) "
        "AS renewable_pct FROM generation WHERE region = 'national' AND year(local_date) = 2024 "
        "GROUP BY 1 ORDER BY 1"
    ),
}


#: Energy company named queries the demo answers (datalake/query/named/).
DEMO_NAMED_QUERIES = {
    "Energy company: clients per city": "clients_per_city",
    "Energy company: top 10 clients by spend, COP": "top_clients_by_spend",
}
#: Transactions in the demo's day of energy company drops.
DEMO_ENERGY_ROWS = 5_000


def _land_sample_drops(day: dt.date, settings: Settings) -> RunReport:
    """Generate the SAMPLE file drops into the local landing folder and land them, as S3 events would.

    One day of the energy company's extracts, the OWID energy file and its codebook, and the
    Rossmann-shaped sales and store files: the landing tells them apart by their headers.
    """
    from datalake.pipelines.ingest import land_energy_drops
    from datalake.sources.energy_company_sample import generate_drops
    from datalake.sources.owid_sample import generate_owid_drops
    from datalake.sources.store_sales_sample import generate_store_sales_drops

    landing = settings.lake_root / runtime.LOCAL_BUCKET_DIRS["landing"]
    generate_drops(landing, DEMO_ENERGY_ROWS, day)
    generate_owid_drops(landing)
    generate_store_sales_drops(landing, stores=DEMO_STORES)
    return land_energy_drops(settings=settings)


#: Stores in the demo's SAMPLE sales (two years of days each).
DEMO_STORES = 20


def run_demo(
    start: dt.date, days: int, settings: Settings | None = None, console: Any = None
) -> dict[str, Any]:
    """The offline demo on labelled SAMPLE data; returns each step's time and what it found.

    Backfill ``days`` of generated REData responses through the real client and raw writer,
    transform with Spark, land and transform one day of the energy company's SAMPLE CSV drops,
    the SAMPLE TMDB export and the SAMPLE EIA prices of the same days, crawl, sync to PostgreSQL,
    then run one daily increment (the day after the backfill, as EventBridge would). Then the
    models: the movie-success classifier, a quick forecaster (a few epochs; skipped with the
    reason when the backfill is too short for one) with a week's forecast, and the USD/COP
    buy/sell signal, each with one prediction; and the example queries and ``/ask`` answers.

    Parameters
    ----------
    start, days
        The first local day of the REE and EIA backfill, and how many days it spans.
    settings
        Lake settings; the process-wide ones when None.
    console
        A rich console for progress lines (quiet when None).

    Returns
    -------
    dict
        ``steps`` (seconds per step), ``answers`` (title -> DataFrame), ``asked`` (question ->
        answer sentence or refusal), ``predictions`` (model -> one line), ``forecast`` (the week's
        daily summary DataFrame, or None with ``forecast_skipped``), ``line`` (one-line summary).
    """
    from zoneinfo import ZoneInfo

    from datalake.forecasting.data import load_series
    from datalake.pipelines.daily import run_daily
    from datalake.pipelines.ingest import ingest_ree
    from datalake.query.named_queries import run_named_query
    from datalake.sources.eia import SAMPLE_RAW_PREFIX as EIA_SAMPLE_RAW_PREFIX
    from datalake.sources.ree import SAMPLE_RAW_PREFIX
    from datalake.spark import check_java

    settings = settings or get_settings()
    log: Progress = console.log if console is not None else _quiet
    check_java()  # fail before writing anything when Spark cannot start
    end = start + dt.timedelta(days=days - 1)
    steps: dict[str, float] = {}

    def step(name: str, action: Callable[[], Any]) -> Any:
        log(f"[{len(steps) + 1}/{DEMO_STEPS}] {name}")
        began = time.perf_counter()
        result = action()
        steps[name] = round(time.perf_counter() - began, 1)
        log(f"      {name}: {steps[name]:,.1f} s")
        return result

    ingest = step(
        f"backfill SAMPLE REData {start}..{end}",
        lambda: ingest_ree(start, end, sample=True, settings=settings, progress=_quiet),
    )
    log(f"      {ingest.details['written']:,} files written, {ingest.details['skipped']:,} already there")
    job = step("transform (Spark)", lambda: transform("ree", SAMPLE_RAW_PREFIX, settings, log))
    log(f"      {job.rows_in:,} values in, {job.rows_out:,} out, {job.rows_quarantined:,} quarantined")
    drops = step(
        "SAMPLE drops landed: one day of the energy company, world energy (OWID), store sales",
        lambda: _land_sample_drops(end, settings),
    )
    log(
        f"      {drops.details.get('accepted', {})} accepted "
        f"({drops.details.get('already_landed', 0):,} already landed), {drops.rows_quarantined:,} rejected"
    )
    for source, title in (
        ("energy_company", "energy company"),
        ("owid", "world energy"),
        ("store_sales", "store sales"),
    ):
        run = step(f"{title}: transform (Spark)", lambda source=source: transform(source, settings=settings))
        log(f"      {run.rows_in:,} rows in, {run.rows_out:,} out, {run.rows_quarantined:,} quarantined")
    films = step("movies: SAMPLE TMDB export backfilled", lambda: _backfill_sample_movies(settings))
    log(f"      {films.rows_out:,} movie records landed in raw/tmdb/movie/")
    movies = step("movies: transform (Spark)", lambda: transform("tmdb", settings=settings))
    log(
        f"      {movies.rows_in:,} records in, {movies.rows_out:,} out, "
        f"{movies.rows_quarantined:,} quarantined"
    )
    prices = step(
        f"EIA: SAMPLE daily prices backfilled {start}..{end}",
        lambda: _backfill_sample_prices(start, end, settings),
    )
    log(f"      {prices.rows_in:,} prices received, {len(prices.keys_written):,} day files landed")
    energy_prices = step(
        "EIA: transform (Spark)", lambda: transform("eia", EIA_SAMPLE_RAW_PREFIX, settings, log)
    )
    log(
        f"      {energy_prices.rows_in:,} prices in, {energy_prices.rows_out:,} out, "
        f"{energy_prices.rows_quarantined:,} quarantined"
    )
    weather = step(
        f"weather: SAMPLE Open-Meteo archive {start}..{end + dt.timedelta(days=1)} and a forecast issue",
        lambda: _land_sample_weather(start, end, settings),
    )
    log(
        f"      {weather.rows_out:,} hours landed: {len(weather.keys_written):,} files written, "
        f"{weather.details.get('files_unchanged', 0):,} unchanged"
    )
    weather_run = step(
        "weather: transform (Spark)", lambda: transform("weather", settings=settings, progress=log)
    )
    log(
        f"      {weather_run.rows_in:,} hours in, {weather_run.rows_out:,} out, "
        f"{weather_run.rows_quarantined:,} quarantined"
    )
    step(
        "crawl raw and processed",
        lambda: [r.raise_for_conflicts() for r in crawl_zones(["raw", "processed"], settings, log)],
    )
    step("sync to PostgreSQL", lambda: sync_all(settings, log))
    midnight = dt.datetime.combine(end + dt.timedelta(days=2), dt.time(0), ZoneInfo("Europe/Madrid"))
    daily = step(
        f"daily increment (as at {midnight.isoformat()})",
        # REE's schedule alone: the movies path above already ran TMDB's extract and transform.
        lambda: run_daily(midnight, True, settings, log, sources=["ree"]),
    )
    if daily.failures:
        raise LakeError(f"the daily increment failed: {daily.report.error}")
    predictions: dict[str, str] = {}
    trained = step("movies: success classifier trained", lambda: _train_movie_success(settings))
    log(f"      {trained['line']}")
    predictions["movie-success"] = trained["line"]
    week = step(
        f"forecaster: quick training ({DEMO_FORECAST_EPOCHS} epochs) and a week's forecast",
        lambda: quick_forecast(load_series(table="demand_hourly", settings=settings), settings, log),
    )
    log(f"      {week['line']}")
    predictions["demand forecaster"] = week["line"]
    sales = step("store sales: features, a quick retrain and a prediction", lambda: _train_sales(settings))
    log(f"      {sales['line']}")
    predictions["store-sales"] = sales["line"]
    signal = step("USD/COP buy/sell signal trained", lambda: _train_fx_signal(settings))
    log(f"      {signal['line']}")
    predictions["fx-signal"] = signal["line"]
    engine = runtime.query_engine(settings)
    answers = step(
        "example queries",
        lambda: (
            {title: engine.query(sql) for title, sql in DEMO_QUERIES.items()}
            | {title: run_named_query(name, settings) for title, name in DEMO_NAMED_QUERIES.items()}
        ),
    )
    asked = step(
        f"/ask: {len(DEMO_QUESTIONS)} questions in Spanish and English",
        lambda: _ask(settings, midnight),
    )
    synced = [run for lake_step in daily.lake_steps if lake_step.name == "sync" for run in lake_step.runs]
    line = (
        f"{ingest.rows_in:,} sample files requested, {job.rows_out:,} rows processed, "
        f"{job.rows_quarantined:,} quarantined; daily increment synced "
        f"{sum(r.details['inserted'] for r in synced):,} new rows; {len(predictions)} models predicted, "
        f"{sum(1 for a in asked.values() if not a.startswith('refused'))}/{len(asked)} questions answered; "
        f"{sum(steps.values()):,.0f} s in all"
    )
    return {
        "answers": answers,
        "asked": asked,
        "steps": steps,
        "ingest": ingest,
        "job": job,
        "daily": daily,
        "movies": movies,
        "movie_prediction": trained["prediction"],
        "predictions": predictions,
        "forecast": week["days"],
        "forecast_skipped": week["skipped"],
        "line": line,
    }


#: The demo's steps, for its progress lines.
DEMO_STEPS = 22
#: The quick forecaster's budget: stated in the step's name, far below a real training's.
DEMO_FORECAST_EPOCHS = 2
#: Days of demand the quick forecaster needs: two weeks of context, then training, validation
#: and test windows of two weeks each, and two days of horizon.
DEMO_FORECAST_MIN_DAYS = 14 + 3 * 14 + 2
#: The /ask questions the demo answers in-process, across datasets and both languages.
DEMO_QUESTIONS: tuple[str, ...] = (
    "¿Cuál fue la demanda máxima la semana pasada?",
    "What was the average WTI price last week?",
    "¿Cuántas películas de acción hay?",
    "Which city has the most clients?",
    "Which country consumed the most primary energy in 2022?",
    "¿Qué temperatura hizo ayer en Madrid?",
)


def quick_forecast(series: DemandSeries, settings: Settings, log: Progress = _quiet) -> dict[str, Any]:
    """Train a small forecaster for a few epochs on ``series`` and forecast the week after it.

    The split is the demo's own (the default one wants a year of test and validation): the last
    two weeks test, the two before validate, the rest trains. Too short a series skips the step
    with the reason, rather than training on nothing.

    Returns
    -------
    dict
        ``line`` (one line for people), ``days`` (the week by local day: lowest p10, mean p50 and
        highest p90, MW; None when skipped) and ``skipped`` (the reason, or None).
    """
    import tempfile

    from datalake.forecasting import serving
    from datalake.forecasting.config import ForecastConfig
    from datalake.forecasting.pipeline import Split, train_forecaster

    last = (series.end.tz_convert("Europe/Madrid") + pd.Timedelta(hours=1)).date() - dt.timedelta(days=1)
    first = series.start.tz_convert("Europe/Madrid").date()
    days = (last - first).days + 1
    if days < DEMO_FORECAST_MIN_DAYS:
        reason = (
            f"skipped: {days} days of SAMPLE demand, the quick forecaster needs {DEMO_FORECAST_MIN_DAYS} "
            "(run `datalake demo --days 366`)"
        )
        return {"line": reason, "days": None, "skipped": reason}
    test_start = last - dt.timedelta(days=13)
    split = Split(test_start - dt.timedelta(days=14), test_start, last)
    config = ForecastConfig(
        max_epochs=DEMO_FORECAST_EPOCHS, samples_per_epoch=1024, d_model=32, n_layers=2, patience=2
    )
    trained = train_forecaster(series, config, split, settings=settings, progress=log, show_bar=False)
    details = trained["details"]
    scores = details["challenger_scores"]
    with tempfile.TemporaryDirectory() as scratch:
        served = serving.load_champion(Path(scratch), settings)
        answer = serving.forecast(served, series.demand_mw, 7 * 24)
    points = pd.DataFrame(answer["points"])
    points["day"] = points["ts_local"].str[:10]
    summary = (
        points.groupby("day")
        .agg(p10_mw=("p10_mw", "min"), p50_mw=("p50_mw", "mean"), p90_mw=("p90_mw", "max"))
        .round()
        .astype(int)
        .reset_index()
        .rename(columns={"p10_mw": "lowest p10 MW", "p50_mw": "mean p50 MW", "p90_mw": "highest p90 MW"})
    )
    line = (
        f"{details['version']} ({'promoted' if details['promoted'] else 'not promoted'}): day-ahead MAPE "
        f"{scores['day_ahead_mape_pct']:.2f} % on the last two weeks after {details['training']['epochs']} "
        f"epochs; next week's mean demand {points['p50_mw'].mean():,.0f} MW"
    )
    return {"line": line, "days": summary, "skipped": None}


def _train_sales(settings: Settings) -> dict[str, Any]:
    """Features from the processed SAMPLE sales, a challenger against the champion, one prediction.

    The trees fit on one thread: on two cores shared with the JVM that is ten times faster than
    the default pool (measured 2.9 s against 33.7 s).
    """
    from threadpoolctl import threadpool_limits

    from datalake.sales.etl import run_sales_etl
    from datalake.sales.predict import predict_sales
    from datalake.sales.retrain import retrain_sales_model

    etl = run_sales_etl(settings, progress=_quiet)["details"]
    with threadpool_limits(1):
        trained = retrain_sales_model(settings, progress=_quiet)["details"]
        day = dt.date.fromisoformat(str(etl["split_dates"]["test_end"])[:10]) + dt.timedelta(days=1)
        rows = [
            {
                "store_id": 1,
                "date": day.isoformat(),
                "promo": True,
                "state_holiday": "0",
                "school_holiday": False,
            }
        ]
        [predicted] = predict_sales(rows, settings=settings)["predictions"]
    sold = f"store 1 on {day} with a promo: {predicted['predicted_sales']:,.0f} sales"
    if not trained.get("trained", True):  # a re-run on the same features: the champion answers
        return {"line": f"{trained['decision']}; {sold}", "prediction": predicted}
    champion = trained.get("rmspe_test_champion")
    line = (
        f"version {trained['version']} ({'promoted' if trained['promoted'] else 'not promoted'}): "
        f"test RMSPE {trained['rmspe_test']:.3f} against a baseline of {trained['rmspe_baseline']:.3f}"
        + (f" and a champion of {champion:.3f}" if champion is not None else "")
        + f"; {sold}"
    )
    return {"line": line, "prediction": predicted}


def _train_fx_signal(settings: Settings) -> dict[str, Any]:
    """Train the buy/sell signal (the shared TRM history when present, else SAMPLE) and advise once."""
    import tempfile

    from datalake.fxsignal.series import load_history
    from datalake.fxsignal.serving import advise, load_champion
    from datalake.fxsignal.training import train_fx_signal

    rates = load_history("auto")
    description = f"{rates.attrs['source']} {rates.index[0].date()}..{rates.index[-1].date()}"
    details = train_fx_signal(rates, description, settings=settings)["details"]
    holdout = details["evaluation"]["holdout"]
    with tempfile.TemporaryDirectory() as scratch:
        advice = advise(load_champion(Path(scratch), settings), rates.iloc[-90:])
    line = (
        f"{details['version']} on {description}: holdout accuracy {holdout['accuracy']:.1%}, net P&L "
        f"{holdout['net_pnl_pct']:,.2f} % after costs; on {advice['as_of']} at "
        f"{advice['rate_cop_per_usd']:,.2f} COP/USD: {advice['signal']}"
    )
    return {"line": line, "advice": advice}


def _ask(settings: Settings, as_of: dt.datetime) -> dict[str, str]:
    """Each demo question's answer sentence, or its refusal with the reason (never an exception).

    ``as_of`` is the demo's "now" (the daily increment's run), so "last week" is the data's.
    """
    from datalake.ask import AskRefusal, ask

    answered: dict[str, str] = {}
    for question in DEMO_QUESTIONS:
        try:
            answered[question] = ask(question, as_of, settings=settings).answer
        except AskRefusal as refusal:
            answered[question] = f"refused ({refusal.kind}): {refusal.reason}"
    return answered


#: The film the demo predicts (the API's documented example).
DEMO_FILM = {
    "title": "Luz de invierno",
    "budget_usd": 40_000_000,
    "runtime_min": 118,
    "genres": ["Acción", "Aventura"],
    "original_language": "es",
    "release_date": dt.date(2027, 7, 16),
    "keywords": ["sequel", "based on novel"],
    "production_companies": ["Warner Bros."],
}


def _land_sample_weather(start: dt.date, end: dt.date, settings: Settings) -> RunReport:
    """The SAMPLE Open-Meteo archive through the day after the backfill, and one forecast issued the
    next morning (10:00 UTC, as the weather_daily Lambda), so "ayer" has weather at the demo's "now"."""
    from datalake.pipelines.weather_ingest import ingest_weather_archive, ingest_weather_forecast

    issued = dt.datetime.combine(end + dt.timedelta(days=2), dt.time(10), dt.UTC)
    archive, _summary = ingest_weather_archive(
        start, end + dt.timedelta(days=1), sample=True, now=issued, settings=settings
    )
    forecast, _summary = ingest_weather_forecast(issued, sample=True, settings=settings)
    archive.rows_out += forecast.rows_out
    archive.keys_written += forecast.keys_written
    archive.details["files_unchanged"] = archive.details.get("files_unchanged", 0) + forecast.details.get(
        "files_unchanged", 0
    )
    return archive


def _backfill_sample_prices(start: dt.date, end: dt.date, settings: Settings) -> RunReport:
    from datalake.pipelines.eia_ingest import ingest_eia

    report, _summary = ingest_eia(start, end, sample=True, settings=settings)
    return report


def _backfill_sample_movies(settings: Settings) -> RunReport:
    from datalake.pipelines.tmdb_ingest import ingest_tmdb_backfill

    report, _summary = ingest_tmdb_backfill(sample=True, settings=settings)
    return report


def _train_movie_success(settings: Settings) -> dict[str, Any]:
    """Train on the lake's SAMPLE movie tables, promote if better, and predict :data:`DEMO_FILM`."""
    import tempfile

    from datalake.movies import serving
    from datalake.movies.tables import read_lake_tables
    from datalake.movies.training import train_movie_success

    tables = read_lake_tables(settings=settings, source="sample")
    details = train_movie_success(tables, "SAMPLE movie tables", settings=settings)["details"]
    scores = details["evaluation"]["test"]["model"]
    with tempfile.TemporaryDirectory() as scratch:
        model = serving.load_champion(Path(scratch), settings)
        film = {**DEMO_FILM, "genres": serving.canonical_genres(list(DEMO_FILM["genres"]))}
        [prediction] = serving.predict_films(model, [film])
    line = (
        f"{len(tables.movies):,} films; challenger ROC-AUC {scores['roc_auc']:.3f} "
        f"({'promoted' if details['promoted'] else 'not promoted'}); {prediction['title']!r} "
        f"({prediction['release_date']}): {prediction['success_probability']:.0%} chance of success"
    )
    return {"line": line, "prediction": prediction}
