"""Demand series loading and the rolling-origin backtest, on small synthetic series."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from datalake.catalog.crawler import LocalCrawler
from datalake.catalog.local import LocalCatalog
from datalake.errors import DataValidationError
from datalake.forecasting.backtest import (
    LookaheadError,
    SeasonalNaive,
    TsoDayAhead,
    WeeklyDelta,
    baselines,
    check_no_lookahead,
    day_ahead_targets,
    format_backtest,
    next_hour_origins,
    run_backtest,
)
from datalake.forecasting.data import DemandSeries, choose_sources, load_series
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

MADRID = "Europe/Madrid"
# March to mid-November 2024: both daylight-saving changes (31 March, 27 October) inside.
FIRST_HOUR = pd.Timestamp("2024-03-01 00:00", tz="UTC")
HOURS = 24 * 260


def synthetic(noise_mw: float = 300.0, seed: int = 7) -> DemandSeries:
    """Daily sine plus a weekday profile plus noise, with a TSO forecast that is actual plus noise."""
    index = pd.date_range(FIRST_HOUR, periods=HOURS, freq="h", tz="UTC", name="ts_utc")
    local = index.tz_convert(MADRID)
    rng = np.random.default_rng(seed)
    weekday = np.array([1.0, 1.02, 1.03, 1.03, 1.0, 0.9, 0.8])[local.weekday]
    daily = 1 + 0.15 * np.sin(2 * np.pi * (local.hour - 8) / 24)
    demand = 30_000 * weekday * daily + rng.normal(0, noise_mw, HOURS)
    tso = demand + rng.normal(0, 400, HOURS)
    return DemandSeries(
        pd.Series(demand, index=index, name="demand_mw"),
        pd.Series(tso, index=index, name="tso_forecast_mw"),
        "synthetic test series",
    )


def weekly_periodic() -> DemandSeries:
    """A series that repeats exactly every 168 hours (in UTC)."""
    index = pd.date_range(FIRST_HOUR, periods=HOURS, freq="h", tz="UTC", name="ts_utc")
    phase = np.arange(HOURS) % 168
    demand = 28_000 + 4_000 * np.sin(2 * np.pi * phase / 24) + 30 * phase
    return DemandSeries(pd.Series(demand, index=index, name="demand_mw"), None, "weekly periodic")


class Oracle:
    """Cheats: returns the actual values of the target hours."""

    def forecast(self, history, origins, horizon_h):
        values = history.reindex(
            pd.DatetimeIndex([o + pd.Timedelta(hours=h) for o in origins for h in range(horizon_h)])
        ).to_numpy()
        point = values.reshape(len(origins), horizon_h)
        return np.repeat(point[..., None], 3, axis=-1)


class Banded:
    """Honest probabilistic forecaster: weekly naive +-band, and NaN on one chosen hour."""

    def __init__(self, band_mw: float, blind_hour: pd.Timestamp | None = None) -> None:
        self.band_mw = band_mw
        self.blind_hour = blind_hour

    def forecast(self, history, origins, horizon_h):
        p50 = SeasonalNaive(168).forecast(history, origins, horizon_h)[..., 1]
        if self.blind_hour is not None:
            starts = pd.DatetimeIndex(origins)
            steps = (self.blind_hour - starts) // pd.Timedelta(hours=1)
            for row, step in enumerate(steps):
                if 0 <= step < horizon_h:
                    p50[row, step] = np.nan
        return np.stack([p50 - self.band_mw, p50, p50 + self.band_mw], axis=-1)


# -- origins and targets -------------------------------------------------------------------------------


def test_next_hour_origins_follow_madrid_days_across_both_changes() -> None:
    spring = next_hour_origins(dt.date(2024, 3, 31), dt.date(2024, 3, 31))
    autumn = next_hour_origins(dt.date(2024, 10, 27), dt.date(2024, 10, 27))
    assert len(spring) == 23 and len(autumn) == 25
    assert spring[0] == pd.Timestamp("2024-03-30 23:00", tz="UTC")
    assert autumn[-1] == pd.Timestamp("2024-10-27 22:00", tz="UTC")
    assert len(next_hour_origins(dt.date(2024, 3, 1), dt.date(2024, 3, 31))) == 31 * 24 - 1


def test_day_ahead_origin_is_noon_madrid_the_day_before_and_horizons_come_from_utc() -> None:
    targets = day_ahead_targets(dt.date(2024, 3, 30), dt.date(2024, 4, 1))
    spans = targets.groupby("day")["h"].agg(["min", "max", "size"])
    assert spans.loc[dt.date(2024, 3, 30)].tolist() == [13, 36, 24]
    assert spans.loc[dt.date(2024, 3, 31)].tolist() == [13, 35, 23]
    assert spans.loc[dt.date(2024, 4, 1)].tolist() == [13, 36, 24]
    autumn = day_ahead_targets(dt.date(2024, 10, 27), dt.date(2024, 10, 27))
    assert autumn["h"].tolist() == list(range(13, 38))
    for row in targets.itertuples():
        local = row.origin.tz_convert(MADRID)
        assert (local.date(), local.hour) == (row.day - dt.timedelta(days=1), 12)
        assert row.target == row.origin + pd.Timedelta(hours=row.h - 1)
        assert row.target.tz_convert(MADRID).date() == row.day


# -- baselines ----------------------------------------------------------------------------------------


def test_seasonal_naive_uses_the_latest_known_value_at_the_same_phase() -> None:
    series = synthetic()
    y = series.demand_mw
    origin = pd.Timestamp("2024-04-10 11:00", tz="UTC")
    out = SeasonalNaive(24).forecast(y, [origin], 50)
    assert out.shape == (1, 50, 3)
    for h in (1, 24, 25, 48, 49, 50):
        target = origin + pd.Timedelta(hours=h - 1)
        back = 24 * int(np.ceil(h / 24))
        assert out[0, h - 1, 1] == y[target - pd.Timedelta(hours=back)]
        assert target - pd.Timedelta(hours=back) < origin
    assert (out[..., 0] == out[..., 2]).all()


def test_weekly_delta_and_tso_baselines() -> None:
    series = synthetic()
    y, tso = series.demand_mw, series.tso_forecast_mw
    origin = pd.Timestamp("2024-05-05 17:00", tz="UTC")
    hour = pd.Timedelta(hours=1)
    delta = WeeklyDelta().forecast(y, [origin], 3)
    assert delta[0, 0, 1] == pytest.approx(y[origin - hour] + y[origin - 168 * hour] - y[origin - 169 * hour])
    assert np.isnan(delta[0, 1:, :]).all()  # next hour only
    out = TsoDayAhead(tso).forecast(y, [origin], 3)
    assert out[0, :, 1].tolist() == tso[origin : origin + 2 * hour].tolist()


def test_baselines_give_nan_without_history() -> None:
    series = synthetic()
    early = series.demand_mw.index[20]
    for method in baselines(series)[:3]:
        assert np.isnan(method.forecast(series.demand_mw, [early], 1)[0, 0, 1]), method.name


def test_perturbing_values_at_or_after_each_origin_changes_no_baseline_forecast() -> None:
    series = synthetic()
    y = series.demand_mw
    origins = y.index[400:3000:97]
    for method in baselines(series):
        clean = method.forecast(y, origins, 40)
        for i, origin in enumerate(origins):
            scrambled = y.where(y.index < origin, y * 3 + 5_000)
            again = method.forecast(scrambled, [origin], 40)
            np.testing.assert_array_equal(again[0], clean[i], err_msg=f"{method.name} at {origin}")
        check_no_lookahead(method, y, origins, 40, method.name)


def test_a_forecaster_that_reads_the_target_hour_is_caught() -> None:
    series = synthetic()
    with pytest.raises(LookaheadError, match=r"cheat: its forecast from origin"):
        run_backtest(series, Oracle(), dt.date(2024, 4, 1), dt.date(2024, 4, 7), model_name="cheat")


# -- the backtest ------------------------------------------------------------------------------------


def test_exactly_weekly_series_is_forecast_perfectly_by_the_weekly_baselines() -> None:
    report = run_backtest(weekly_periodic(), None, dt.date(2024, 4, 1), dt.date(2024, 4, 14))
    next_hour = report["tasks"]["next_hour"]["methods"]
    assert set(next_hour) == {"seasonal_naive_24", "seasonal_naive_168", "weekly_delta"}
    assert next_hour["seasonal_naive_168"]["mape_pct"] == pytest.approx(0, abs=1e-9)
    assert next_hour["weekly_delta"]["mae_mw"] == pytest.approx(0, abs=1e-6)
    assert next_hour["seasonal_naive_24"]["mape_pct"] > 1
    assert "weekly_delta" not in report["tasks"]["day_ahead"]["methods"]


def test_report_scores_every_method_on_the_same_hours() -> None:
    series = synthetic()
    blind = pd.Timestamp("2024-04-03 10:00", tz="UTC")
    y = series.demand_mw.copy()
    y[pd.Timestamp("2024-04-05 12:00", tz="UTC")] = np.nan  # one missing actual
    series = DemandSeries(y, series.tso_forecast_mw, series.description)
    report = run_backtest(series, Banded(1_000.0, blind), dt.date(2024, 4, 1), dt.date(2024, 4, 10))
    json.dumps(report)  # JSON-able as is

    window = report["window"]
    assert window["hours"] == 240 and window["hours_without_actual"] == 1
    task = report["tasks"]["next_hour"]
    assert task["origins"] == 240 and task["hours_with_actual"] == 239
    # Not scored: the missing actual (12:00), the hour the model is blind to, and the hours whose
    # baseline needs the missing value: weekly delta at 13:00, seasonal naive 24 a day later.
    assert task["hours_scored"] == 236
    methods = task["methods"]
    assert list(methods) == [
        "model",
        "seasonal_naive_24",
        "seasonal_naive_168",
        "weekly_delta",
        "tso_day_ahead",
    ]
    assert {m["n"] for m in methods.values()} == {236}
    assert methods["model"]["n_available"] == 238 and methods["seasonal_naive_168"]["n_available"] == 239
    # The model's median is the weekly naive: same point metrics on the same hours.
    for key in ("mape_pct", "mae_mw", "rmse_mw"):
        assert methods["model"][key] == pytest.approx(methods["seasonal_naive_168"][key])
    assert 0 < methods["model"]["coverage_p10_p90_pct"] < 100
    assert methods["seasonal_naive_168"]["coverage_p10_p90_pct"] is None
    assert methods["weekly_delta"]["mape_pct"] < methods["seasonal_naive_168"]["mape_pct"]

    day_ahead = report["tasks"]["day_ahead"]
    assert day_ahead["origins"] == 10 and day_ahead["horizon_h"] == [13, 36]
    # Day ahead, seasonal naive 24 reaches 48 h back for 12:00 UTC (h = 27): 7 April loses it.
    assert day_ahead["hours"] == 240 and day_ahead["hours_scored"] == 237


def test_coverage_counts_actuals_inside_the_band() -> None:
    series = synthetic(noise_mw=0.0)
    start, end = dt.date(2024, 5, 6), dt.date(2024, 5, 12)
    wide = run_backtest(series, Banded(1e6), start, end)["tasks"]["day_ahead"]["methods"]["model"]
    assert wide["coverage_p10_p90_pct"] == 100.0
    narrow = run_backtest(series, Banded(1e-9), start, end)["tasks"]["day_ahead"]["methods"]["model"]
    # The series repeats its weekday profile exactly in local time outside DST changes.
    assert narrow["coverage_p10_p90_pct"] == 100.0 and narrow["mape_pct"] == pytest.approx(0, abs=1e-9)


def test_day_ahead_task_spans_the_autumn_change() -> None:
    report = run_backtest(synthetic(), Banded(500.0), dt.date(2024, 10, 26), dt.date(2024, 10, 28))
    day_ahead = report["tasks"]["day_ahead"]
    assert day_ahead["horizon_h"] == [13, 37] and day_ahead["hours"] == 24 + 25 + 24
    assert report["window"]["hours"] == 73


def test_format_backtest_renders_a_row_per_task_and_method() -> None:
    report = run_backtest(synthetic(), Banded(800.0), dt.date(2024, 4, 1), dt.date(2024, 4, 3))
    text = format_backtest(report)
    lines = text.splitlines()
    assert lines[2].split() == [
        "task",
        "method",
        "MAPE",
        "%",
        "MAE",
        "MW",
        "RMSE",
        "MW",
        "cover",
        "%",
        "n",
        "avail",
    ]
    rows = [line.split() for line in lines if line.startswith(("next_hour", "day_ahead"))]
    assert [row[:2] for row in rows] == [
        ["next_hour", "model"],
        ["next_hour", "seasonal_naive_24"],
        ["next_hour", "seasonal_naive_168"],
        ["next_hour", "weekly_delta"],
        ["next_hour", "tso_day_ahead"],
        ["day_ahead", "model"],
        ["day_ahead", "seasonal_naive_24"],
        ["day_ahead", "seasonal_naive_168"],
        ["day_ahead", "tso_day_ahead"],
    ]
    assert rows[1][5] == "-" and rows[0][5] != "-"  # coverage only for the quantile model
    assert len({len(line) for line in lines[2:4]}) == 1


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (dt.date(2024, 4, 2), dt.date(2024, 4, 1), "start", "after end"),
        (dt.date(2024, 3, 7), dt.date(2024, 3, 10), "start", r"start on 2024-03-09 or later"),
        (dt.date(2024, 11, 1), dt.date(2024, 11, 30), "end", "series ends"),
    ],
)
def test_window_is_checked(start: dt.date, end: dt.date, field: str, message: str) -> None:
    with pytest.raises(DataValidationError, match=message) as caught:
        run_backtest(synthetic(), None, start, end)
    assert caught.value.field == field


def test_first_start_with_enough_history_is_accepted() -> None:
    report = run_backtest(synthetic(), None, dt.date(2024, 3, 9), dt.date(2024, 3, 9))
    assert report["tasks"]["next_hour"]["hours_scored"] == 24


def test_wrong_forecast_shape_and_taken_names_are_refused() -> None:
    class Flat:
        def forecast(self, history, origins, horizon_h):
            return np.zeros((len(origins), horizon_h))

    with pytest.raises(DataValidationError, match=r"flat: forecast has shape"):
        run_backtest(synthetic(), Flat(), dt.date(2024, 4, 1), dt.date(2024, 4, 2), "flat", leak_checks=0)
    with pytest.raises(DataValidationError) as caught:
        run_backtest(synthetic(), Banded(1.0), dt.date(2024, 4, 1), dt.date(2024, 4, 2), "weekly_delta")
    assert caught.value.field == "model_name"


# -- DemandSeries and load_series --------------------------------------------------------------------


def hourly_frame(hours: int = 48, start: str = "2024-01-01 00:00") -> pd.DataFrame:
    ts = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    return pd.DataFrame({"ts_utc": ts, "demand_mw": 25_000 + 100.0 * np.arange(hours)})


def test_demand_series_refuses_an_irregular_or_naive_index() -> None:
    index = pd.date_range("2024-01-01", periods=5, freq="h", tz="UTC", name="ts_utc")
    with pytest.raises(DataValidationError, match="regular"):
        DemandSeries(pd.Series(1.0, index=index.delete(2)), None, "x")
    with pytest.raises(DataValidationError, match="UTC"):
        DemandSeries(pd.Series(1.0, index=index.tz_localize(None)), None, "x")


def test_parquet_input_becomes_a_regular_series_with_missing_hours(tmp_path: Path) -> None:
    frame = hourly_frame().drop(index=[5, 6])
    frame.loc[10, "demand_mw"] = np.nan
    frame["ts_utc"] = frame["ts_utc"].dt.tz_convert(MADRID)  # any zone is fine when it is explicit
    path = tmp_path / "demand.parquet"
    frame.to_parquet(path)
    series = load_series(path)
    assert series.hours == 48 and series.missing_hours == 3
    assert series.demand_mw.index.name == "ts_utc" and str(series.demand_mw.index.tz) == "UTC"
    assert series.start == pd.Timestamp("2024-01-01 00:00", tz="UTC")
    assert series.tso_forecast_mw is None
    assert "Parquet" in series.description and not series.is_sample


def test_csv_input_with_offsets_and_a_tso_column(tmp_path: Path) -> None:
    path = tmp_path / "demand.csv"
    path.write_text(
        "ts_utc,demand_mw,tso_forecast_mw\n"
        "2024-03-31T00:00:00+01:00,25000,25100\n"
        "2024-03-31T01:00:00+01:00,24000,\n"
        "2024-03-31T03:00:00+02:00,24500,24400\n"
        "2024-03-31T02:00:00Z,24600,24700\n"
    )
    series = load_series(str(path))
    assert series.start == pd.Timestamp("2024-03-30 23:00", tz="UTC")
    assert series.demand_mw.tolist() == [25000.0, 24000.0, 24500.0, 24600.0] and series.missing_hours == 0
    assert series.tso_forecast_mw is not None and np.isnan(series.tso_forecast_mw.iloc[1])


def test_naive_timestamps_are_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "naive.csv"
    path.write_text("ts_utc,demand_mw\n2024-01-01 00:00:00,25000\n2024-01-01 01:00:00,25100\n")
    with pytest.raises(DataValidationError, match="without a UTC offset") as caught:
        load_series(path)
    assert caught.value.field == "ts_utc"
    parquet = tmp_path / "naive.parquet"
    hourly_frame().assign(ts_utc=lambda f: f["ts_utc"].dt.tz_localize(None)).to_parquet(parquet)
    with pytest.raises(DataValidationError, match="no time zone") as caught:
        load_series(parquet)
    assert caught.value.field == "ts_utc"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda f: pd.concat([f, f.iloc[[3]]]), "ts_utc", "repeated hour"),
        (lambda f: f.assign(ts_utc=f["ts_utc"] + pd.Timedelta(minutes=30)), "ts_utc", "not on the hour"),
        (
            lambda f: f.assign(demand_mw=f["demand_mw"].astype(str).where(f.index != 4, "n/a")),
            "demand_mw",
            "not numbers",
        ),
        (lambda f: f.assign(demand_mw=f["demand_mw"].where(f.index != 4, -5.0)), "demand_mw", "not positive"),
        (lambda f: f.drop(columns="demand_mw"), None, "missing column"),
    ],
)
def test_malformed_inputs_are_refused(tmp_path: Path, change, field: str | None, message: str) -> None:
    path = tmp_path / "bad.parquet"
    change(hourly_frame()).to_parquet(path)
    with pytest.raises(DataValidationError, match=message) as caught:
        load_series(path)
    assert caught.value.field == (field or str(path))


def test_several_files_later_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    hourly_frame(48).to_parquet(first)
    hourly_frame(24, "2024-01-02 12:00").assign(demand_mw=1.0).to_parquet(second)
    series = load_series([first, second])
    assert series.hours == 60
    assert series.demand_mw.iloc[35] == 25_000 + 3_500 and series.demand_mw.iloc[36:].eq(1.0).all()
    assert any("12 hour(s) present in several files" in note for note in series.notes)


def test_sample_files_are_labelled_and_never_mixed_with_real_ones(tmp_path: Path) -> None:
    sample, real = tmp_path / "sample.parquet", tmp_path / "real.parquet"
    hourly_frame(48).assign(source="sample", region="national").to_parquet(sample)
    hourly_frame(24, "2024-01-02 12:00").assign(source="entsoe", region="national").to_parquet(real)
    assert load_series(sample).is_sample
    mixed = load_series([sample, real])
    assert not mixed.is_sample and mixed.hours == 24
    assert any("dropped SAMPLE (generated) file(s) ['sample.parquet']" in note for note in mixed.notes)


def test_exactly_one_input_and_a_known_format(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="exactly one") as caught:
        load_series()
    assert caught.value.field == "input_path"
    with pytest.raises(DataValidationError, match="exactly one"):
        load_series(tmp_path / "a.csv", table="demand_hourly")
    other = tmp_path / "other.csv"
    other.write_text("when,load\n2024-01-01T00:00Z,1\n")
    with pytest.raises(DataValidationError, match="ts_utc and demand_mw columns"):
        load_series(other)
    with pytest.raises(DataValidationError, match="region"):
        load_series(other, region="catalonia")


def test_entsoe_export_text_loads(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        '"Time (CET)","Day-ahead Total Load Forecast [MW] - BZN|ES","Actual Total Load [MW] - BZN|ES"\n'
        '"27.10.2024 01:00 - 27.10.2024 02:00","25000","25100"\n'
        '"27.10.2024 02:00 - 27.10.2024 03:00","24000","N/A"\n'
        '"27.10.2024 02:00 - 27.10.2024 03:00","23000","23100"\n'
        '"27.10.2024 03:00 - 27.10.2024 04:00","22000","22100"\n'
    )
    series = load_series(path)
    assert series.hours == 4 and series.missing_hours == 1
    assert series.tso_forecast_mw is not None and series.tso_forecast_mw.tolist() == [
        25000,
        24000,
        23000,
        22000,
    ]
    assert series.start == pd.Timestamp("2024-10-26 23:00", tz="UTC")


# -- sources: preference and the lake's table -------------------------------------------------------


def sourced_rows() -> pd.DataFrame:
    ts = pd.date_range("2024-01-01", periods=4, freq="h", tz="UTC")
    rows = [
        (ts[0], "ree", 100.0, np.nan),
        (ts[0], "entsoe", 101.0, 99.0),
        (ts[0], "sample", 5.0, 5.0),
        (ts[1], "entsoe", 111.0, 110.0),
        (ts[1], "sample", 5.0, 5.0),
        (ts[2], "sample", 5.0, 5.0),
        (ts[3], "ree", 130.0, 131.0),
    ]
    return pd.DataFrame(rows, columns=["ts_utc", "source", "demand_mw", "tso_forecast_mw"])


def test_source_preference_and_sample_never_mixed() -> None:
    chosen, notes = choose_sources(sourced_rows())
    assert chosen["ts_utc"].dt.hour.tolist() == [0, 1, 3]  # the sample-only hour is gone
    assert chosen["source"].tolist() == ["ree", "entsoe", "ree"]
    assert chosen["demand_mw"].tolist() == [100.0, 111.0, 130.0]
    # The forecast comes from the preferred source that has one.
    assert chosen["tso_forecast_mw"].tolist() == [99.0, 110.0, 131.0]
    assert any("dropped 3 SAMPLE" in note for note in notes)
    only_sample, _ = choose_sources(sourced_rows().query("source == 'sample'"))
    assert only_sample["source"].eq("sample").all() and len(only_sample) == 3
    with pytest.raises(DataValidationError) as caught:
        choose_sources(sourced_rows().replace({"source": {"ree": "esios"}}))
    assert caught.value.field == "source"


def write_demand_table(settings: Settings, rows: pd.DataFrame) -> None:
    store = LocalObjectStore(settings.lake_root)
    rows = rows.assign(
        local_date=rows["ts_utc"].dt.tz_convert(MADRID).dt.date,
        region="national",
        extracted_at=pd.Timestamp("2024-02-01", tz="UTC"),
    )
    store.replace_partition("processed/demand_hourly", "year=2024/month=1", {"part-0.parquet": rows})
    LocalCrawler(store, LocalCatalog(store)).crawl("processed", settings.processed_database)


def test_table_input_through_the_query_port(lake_settings: Settings) -> None:
    write_demand_table(lake_settings, sourced_rows())
    series = load_series(table="demand_hourly", settings=lake_settings)
    assert series.demand_mw.tolist()[:2] == [100.0, 111.0] and np.isnan(series.demand_mw.iloc[2])
    assert series.missing_hours == 1 and not series.is_sample
    assert "table demand_hourly (region national, source ree+entsoe)" in series.description
    assert any("SAMPLE" in note for note in series.notes)
    with pytest.raises(DataValidationError, match="no rows for region"):
        load_series(table="demand_hourly", settings=lake_settings, region="peninsular")
    with pytest.raises(DataValidationError) as caught:
        load_series(table="demand_hourly; DROP", settings=lake_settings)
    assert caught.value.field == "table"


def test_sample_only_table_is_labelled(lake_settings: Settings) -> None:
    write_demand_table(lake_settings, sourced_rows().query("source == 'sample'"))
    series = load_series(table="demand_hourly", settings=lake_settings)
    assert series.is_sample and "SAMPLE" in series.description
    report = run_backtest(
        DemandSeries(synthetic().demand_mw, None, series.description),
        None,
        dt.date(2024, 4, 1),
        dt.date(2024, 4, 1),
    )
    assert report["series"]["sample"] and "WARNING: SAMPLE" in format_backtest(report)
