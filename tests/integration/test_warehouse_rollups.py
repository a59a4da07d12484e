"""The warehouse's daily rollup of demand_hourly (datalake.warehouse.rollups) on the real embedded
PostgreSQL: it equals the hours it sums, picked per hour as /ask picks, after every kind of load,
and /ask reads it for questions about whole days with the same answers as the hours give."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg import sql

from datalake.ask import ask
from datalake.ask.evaluation import load_warehouse
from datalake.datasets import DEMAND_HOURLY, DEMAND_SOURCE_PREFERENCE
from datalake.errors import DataValidationError
from datalake.settings import Settings
from datalake.warehouse.scope import partition_scope
from datalake.warehouse.sync import replace_rows, upsert_frame

pytest_plugins = ["warehouse_fixtures"]
pytestmark = pytest.mark.integration

Conn = psycopg.Connection[Any]
MADRID = "Europe/Madrid"


def hours(first_day: str, days: int, source: str, region: str = "national", seed: int = 0) -> pd.DataFrame:
    """Hourly rows of one source over whole Madrid days (23 or 25 hours on the clock changes)."""
    start = pd.Timestamp(first_day)
    end = (start + pd.Timedelta(days=days)).tz_localize(MADRID)
    moments = pd.date_range(start.tz_localize(MADRID), end, freq="h", inclusive="left")
    rng = np.random.default_rng(seed)
    demand = np.round(28_000 + 6_000 * rng.random(len(moments)), 1)
    return pd.DataFrame(
        {
            "ts_utc": moments.tz_convert("UTC"),
            "local_date": moments.date,
            "region": region,
            "demand_mw": demand,
            "source": source,
            "tso_forecast_mw": np.round(demand * 1.01, 1),
            "extracted_at": pd.Timestamp("2025-01-02", tz="UTC"),
        }
    )


def expected_days(frame: pd.DataFrame) -> pd.DataFrame:
    """The rollup computed by pandas: per hour and tier (sample or not), the preferred source
    having the value, then summed per day."""
    rank = {source: number for number, source in enumerate(DEMAND_SOURCE_PREFERENCE)}
    rows = frame.assign(sample=frame["source"] == "sample", rank=frame["source"].map(rank))
    parts = []
    for column, stem in (("demand_mw", "demand"), ("tso_forecast_mw", "tso_forecast")):
        picked = (
            rows.dropna(subset=[column])
            .sort_values("rank")
            .drop_duplicates(["region", "ts_utc", "sample"])
            .groupby(["local_date", "region", "sample"])[column]
            .agg(["sum", "count"])
            .rename(columns={"sum": f"{stem}_mwh", "count": f"{stem}_hours"})
        )
        parts.append(picked)
    days = rows.groupby(["local_date", "region", "sample"]).size().rename("rows").to_frame()
    out = days.join(parts, how="left").drop(columns="rows")
    for stem in ("demand", "tso_forecast"):
        out[f"{stem}_hours"] = out[f"{stem}_hours"].fillna(0).astype(int)
    return out.sort_index()


def stored_days(conn: Conn, schema: str) -> pd.DataFrame:
    cursor = conn.execute(
        sql.SQL(
            "SELECT local_date, region, sample, demand_mwh, demand_hours, tso_forecast_mwh,"
            " tso_forecast_hours FROM {}.demand_daily"
        ).format(sql.Identifier(schema))
    )
    columns = [c.name for c in cursor.description or ()]
    frame = pd.DataFrame(cursor.fetchall(), columns=columns)
    return frame.set_index(["local_date", "region", "sample"]).sort_index()


def assert_rollup_matches(conn: Conn, schema: str, frame: pd.DataFrame) -> None:
    expected, stored = expected_days(frame), stored_days(conn, schema)
    assert list(stored.index) == list(expected.index)
    for column in expected.columns:
        if column.endswith("_hours"):
            assert stored[column].tolist() == expected[column].tolist(), column
        else:
            np.testing.assert_allclose(
                stored[column].astype(float), expected[column].astype(float), rtol=1e-12
            )


def mixed_sources() -> pd.DataFrame:
    """March 2024 (with the clock change): REE everywhere but a gap, ENTSO-E over it, a sample
    month and a peninsular region, forecasts missing for some hours."""
    ree = hours("2024-03-01", 31, "ree", seed=1)
    ree = ree[~ree["local_date"].isin([dt.date(2024, 3, 10), dt.date(2024, 3, 11)])]
    entsoe = hours("2024-03-09", 5, "entsoe", seed=2)
    entsoe.loc[entsoe.index[:30], "tso_forecast_mw"] = np.nan
    peninsular = hours("2024-03-01", 31, "ree", region="peninsular", seed=3)
    sample = hours("2024-03-01", 31, "sample", seed=4)
    return pd.concat([ree, entsoe, peninsular, sample], ignore_index=True)


def test_the_rollup_sums_the_preferred_source_of_each_hour_per_day(pg_conn: Conn, pg_schema: str) -> None:
    frame = mixed_sources()
    upsert_frame(pg_conn, DEMAND_HOURLY, frame, schema=pg_schema)
    assert_rollup_matches(pg_conn, pg_schema, frame)
    stored = stored_days(pg_conn, pg_schema)
    # The 31 March has 23 hours; on the 10th only ENTSO-E has the day, so it is counted once.
    national = stored.xs(("national", False), level=("region", "sample"))
    assert national.loc[dt.date(2024, 3, 31), "demand_hours"] == 23
    assert national.loc[dt.date(2024, 3, 10), "demand_hours"] == 24
    assert national.loc[dt.date(2024, 3, 9), "demand_hours"] == 24  # both sources, REE picked
    assert national.loc[dt.date(2024, 3, 9), "tso_forecast_hours"] == 24  # ENTSO-E's gaps do not matter


def test_a_replaced_partition_and_a_later_upsert_recompute_only_their_days(
    pg_conn: Conn, pg_schema: str
) -> None:
    february = hours("2024-02-01", 29, "ree", seed=5)
    march = hours("2024-03-01", 31, "ree", seed=6)
    upsert_frame(pg_conn, DEMAND_HOURLY, pd.concat([february, march], ignore_index=True), schema=pg_schema)

    # March re-synced without its last week and with new values: the rollup follows, February stays.
    new_march = hours("2024-03-01", 24, "ree", seed=7)
    result = replace_rows(
        pg_conn,
        DEMAND_HOURLY,
        new_march,
        partition_scope(DEMAND_HOURLY, "year=2024/month=03"),
        schema=pg_schema,
    )
    assert result.deleted == 7 * 24 - 1  # the clock change took an hour from the 31st
    assert_rollup_matches(pg_conn, pg_schema, pd.concat([february, new_march], ignore_index=True))

    # An upsert of a few hours of a day (an ENTSO-E day filling nothing, a REE revision) recomputes that day.
    revised = new_march[new_march["local_date"] == dt.date(2024, 3, 5)].head(3).copy()
    revised["demand_mw"] += 1_000.0
    upsert_frame(pg_conn, DEMAND_HOURLY, revised, schema=pg_schema)
    everything = pd.concat([february, new_march], ignore_index=True).set_index(["ts_utc", "region", "source"])
    everything.update(revised.set_index(["ts_utc", "region", "source"]))
    assert_rollup_matches(pg_conn, pg_schema, everything.reset_index())


def test_a_failed_load_leaves_the_table_and_its_rollup_as_they_were(pg_conn: Conn, pg_schema: str) -> None:
    good = hours("2024-03-01", 3, "ree", seed=8)
    upsert_frame(pg_conn, DEMAND_HOURLY, good, schema=pg_schema)
    before = stored_days(pg_conn, pg_schema)
    bad = hours("2024-03-02", 2, "ree", seed=9)
    bad.loc[bad.index[5], "demand_mw"] = "lots"
    with pytest.raises(DataValidationError, match="demand_mw"):
        upsert_frame(pg_conn, DEMAND_HOURLY, bad, schema=pg_schema)
    pd.testing.assert_frame_equal(stored_days(pg_conn, pg_schema), before)


def test_a_warehouse_loaded_before_the_rollup_gets_every_day_at_its_next_load(
    pg_conn: Conn, pg_schema: str
) -> None:
    old = hours("2024-01-01", 40, "ree", seed=10)
    upsert_frame(pg_conn, DEMAND_HOURLY, old, schema=pg_schema)
    pg_conn.execute(sql.SQL("DROP TABLE {}.demand_daily").format(sql.Identifier(pg_schema)))
    one_more_day = hours("2024-02-10", 1, "ree", seed=11)
    upsert_frame(pg_conn, DEMAND_HOURLY, one_more_day, schema=pg_schema)
    assert_rollup_matches(pg_conn, pg_schema, pd.concat([old, one_more_day], ignore_index=True))


def test_a_table_created_again_drops_the_days_of_the_one_before(pg_conn: Conn, pg_schema: str) -> None:
    upsert_frame(pg_conn, DEMAND_HOURLY, hours("2023-06-01", 10, "ree", seed=12), schema=pg_schema)
    pg_conn.execute(sql.SQL("DROP TABLE {}.demand_hourly").format(sql.Identifier(pg_schema)))
    fresh = hours("2024-03-01", 2, "ree", seed=13)
    upsert_frame(pg_conn, DEMAND_HOURLY, fresh, schema=pg_schema)
    assert_rollup_matches(pg_conn, pg_schema, fresh)


def test_ask_reads_days_for_whole_days_and_hours_otherwise_with_the_same_answers(
    pg_settings: Settings, pg_conn: Conn, pg_schema: str, role_name: str
) -> None:
    from datalake.ask import WarehouseExecutor

    frame = mixed_sources()
    load_warehouse(pg_conn, {"demand_hourly": frame}, pg_schema)
    settings = pg_settings.model_copy(update={"reader_role": role_name})
    with_days = WarehouseExecutor(settings, schema=pg_schema, ensure_role=True)
    hours_only = WarehouseExecutor(settings, schema=pg_schema, ensure_role=True)
    hours_only.daily_demand_table = None
    as_of = dt.datetime(2024, 4, 2, 12, tzinfo=dt.UTC)
    by_days = {
        "demanda media de marzo de 2024": "demand_daily",
        "total demand in March 2024 by week": "demand_daily",
        "¿qué día de marzo de 2024 tuvo más demanda?": "demand_daily",
        "average demand by weekday in March 2024": "demand_daily",
        "demanda media de la península en marzo de 2024": "demand_daily",
        "peak demand in March 2024": "demand_hourly",  # an hour
        "demanda media del 9 de marzo de 2024 por la mañana": "demand_hourly",  # part of a day
        "average demand on 9 March 2024 between 10:00 and 14:00": "demand_hourly",
    }
    for question, table in by_days.items():
        answer = ask(question, as_of, settings=settings, executor=with_days)
        assert f"FROM {table}" in answer.sql, (question, answer.sql)
        assert answer.rows and answer.rows[0][-1] is not None, question
        hourly = ask(question, as_of, settings=settings, executor=hours_only)
        assert "demand_daily" not in hourly.sql
        assert answer.columns == hourly.columns and len(answer.rows) == len(hourly.rows), question
        for row, hourly_row in zip(answer.rows, hourly.rows, strict=True):
            for value, hourly_value in zip(row, hourly_row, strict=True):
                if isinstance(value, float):
                    assert value == pytest.approx(hourly_value, rel=1e-9), question
                else:
                    assert value == hourly_value, question
        assert answer.answer == hourly.answer, question

    # A warehouse without its rollup yet (never synced since) still answers, from the hours.
    pg_conn.execute(sql.SQL("DROP TABLE {}.demand_daily").format(sql.Identifier(pg_schema)))
    answer = ask("demanda media de marzo de 2024", as_of, settings=settings, executor=with_days)
    assert "demand_daily" not in answer.sql and answer.rows[0][0] == pytest.approx(
        frame[(frame.region == "national") & (frame.source != "sample")]
        .sort_values("source", key=lambda s: s.map({"ree": 0, "entsoe": 1}))
        .drop_duplicates("ts_utc")["demand_mw"]
        .mean()
    )
