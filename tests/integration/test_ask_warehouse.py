"""/ask on the real (embedded) PostgreSQL as the read-only reader role: the question set passes,
and both engines (warehouse and lake) give the same answers."""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import partial
from typing import Any

import pandas as pd
import psycopg
import pytest
from psycopg import sql

from datalake.ask import AskRefusal, WarehouseExecutor, ask
from datalake.ask.evaluation import (
    evaluate,
    load_questions,
    load_warehouse,
    sample_frames,
    scratch_lake,
)
from datalake.ask.periods import MADRID, day_text
from datalake.datasets import GENERATION
from datalake.errors import QueryError
from datalake.settings import Settings

pytest_plugins = ["warehouse_fixtures"]


def _same_rows(left: list[list[Any]], right: list[list[Any]]) -> bool:
    if len(left) != len(right):
        return False
    for row_a, row_b in zip(left, right, strict=True):
        for a, b in zip(row_a, row_b, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                if a is None or b is None or not math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6):
                    return False
            elif a != b:
                return False
    return True


def loaded_reader(
    frames: dict[str, Any],
    pg_settings: Settings,
    pg_conn: psycopg.Connection[Any],
    pg_schema: str,
    role_name: str,
) -> tuple[Settings, WarehouseExecutor]:
    """``frames`` in ``pg_schema``, and the reader-role executor (with its settings) over them."""
    load_warehouse(pg_conn, frames, pg_schema)
    settings = pg_settings.model_copy(update={"reader_role": role_name})
    return settings, WarehouseExecutor(settings, schema=pg_schema, ensure_role=True)


def test_question_set_on_the_warehouse_matches_the_lake(
    pg_settings: Settings, pg_conn: psycopg.Connection[Any], pg_schema: str, role_name: str
) -> None:
    frames = sample_frames()
    settings, warehouse = loaded_reader(frames, pg_settings, pg_conn, pg_schema, role_name)
    questions = load_questions()

    report = evaluate(questions, partial(ask, settings=settings, executor=warehouse))
    assert report.accuracy >= 0.95, report.format()

    with scratch_lake(frames) as lake:
        differences = []
        by_days = 0
        for item in questions:
            as_of = dt.datetime.fromisoformat(item["as_of"])
            try:
                on_warehouse = ask(item["question"], as_of, settings=settings, executor=warehouse)
            except AskRefusal as refusal:
                with pytest.raises(AskRefusal) as on_lake:
                    ask(item["question"], as_of, settings=settings, executor=lake)
                assert on_lake.value.reason == refusal.reason
                continue
            on_lake_result = ask(item["question"], as_of, settings=settings, executor=lake)
            assert on_warehouse.engine == "warehouse" and on_lake_result.engine == "lake"
            # The warehouse reads its daily rollup where days answer; the lake always reads hours.
            by_days += "FROM demand_daily" in on_warehouse.sql
            if on_warehouse.columns != on_lake_result.columns or not _same_rows(
                on_warehouse.rows, on_lake_result.rows
            ):
                differences.append((item["id"], on_warehouse.rows[:3], on_lake_result.rows[:3]))
            # Sums in another order can round the last printed digit differently; the words may not differ.
            elif re.sub(r"\d", "#", on_warehouse.answer) != re.sub(r"\d", "#", on_lake_result.answer):
                differences.append((item["id"], on_warehouse.answer, on_lake_result.answer))
        assert differences == []
        assert by_days >= 10, f"only {by_days} answers came from the daily rollup"

        # A period with no data says which days the data does cover, on both engines.
        hours = frames["demand_hourly"]
        local = pd.to_datetime(hours.loc[hours.region == "national", "ts_utc"], utc=True).dt.tz_convert(
            MADRID
        )
        first, last = local.min().date(), local.max().date()
        after = dt.datetime.combine(last + dt.timedelta(days=30), dt.time(12), MADRID)
        for executor in (warehouse, lake):
            empty = ask("demanda máxima de ayer", after, settings=settings, executor=executor)
            assert empty.answer.endswith(
                f"Los datos disponibles van del {day_text(first, 'es', weekday=False)} "
                f"al {day_text(last, 'es', weekday=False)}."
            ), empty.answer
            english = ask("peak demand yesterday", after, settings=settings, executor=executor)
            assert english.answer.endswith(f"covers {first.day} {first:%B %Y} to {last.day} {last:%B %Y}.")


def test_the_reader_cannot_write_stack_statements_or_run_long(
    pg_settings: Settings, pg_conn: psycopg.Connection[Any], pg_schema: str, role_name: str
) -> None:
    pg_conn.execute(
        sql.SQL("CREATE TABLE {}.demand_hourly (demand_mw double precision)").format(
            sql.Identifier(pg_schema)
        )
    )
    pg_conn.execute(sql.SQL("INSERT INTO {}.demand_hourly VALUES (1.0)").format(sql.Identifier(pg_schema)))
    settings = pg_settings.model_copy(update={"reader_role": role_name, "ask_statement_timeout_ms": 200})
    reader = WarehouseExecutor(settings, schema=pg_schema, ensure_role=True)

    assert reader.run("SELECT demand_mw FROM demand_hourly") == (["demand_mw"], [[1.0]])
    assert reader.run("SELECT current_user AS who")[1] == [[role_name]]
    # Even SQL the guard would refuse meets the database's own walls: role, read-only, protocol, timeout.
    with pytest.raises(QueryError, match=r"permission denied|read-only"):
        reader.run("DELETE FROM demand_hourly")
    with pytest.raises(QueryError, match=r"multiple commands|prepared statement"):
        reader.run("SELECT 1; DROP TABLE demand_hourly")
    with pytest.raises(QueryError, match="statement timeout"):
        reader.run("SELECT pg_sleep(2)")
    count = pg_conn.execute(
        sql.SQL("SELECT count(*) FROM {}.demand_hourly").format(sql.Identifier(pg_schema))
    ).fetchone()
    assert count == (1,)


# -- rankings of technologies ---------------------------------------------------------------------

RANK_AS_OF = dt.datetime.fromisoformat("2024-04-17T14:30:00+02:00")  # "ayer" is 16 April 2024


def ranking_frames() -> dict[str, pd.DataFrame]:
    """Three hours of 16 April 2024 with every trap a ranking must step around.

    REE hourly rows win; the same day's REE daily row, ENTSO-E's hourly rows and the sample rows
    must not count; pumping (negative) and REE's "total" row neither; a name no ranked technology
    lists ("Almacenamiento") is ranked on its own.
    """
    hours = pd.date_range("2024-04-16 10:00", periods=3, freq="h", tz="Europe/Madrid").tz_convert("UTC")
    ree = {
        "Eólica": ("Renovable", 100.0),
        "Solar fotovoltaica": ("Renovable", 50.0),
        "Ciclo combinado": ("No-Renovable", 80.0),
        "Residuos renovables": ("Renovable", 5.0),
        "Almacenamiento": ("No-Renovable", 7.0),
        "Turbinación bombeo": ("No-Renovable", -30.0),
        "Generación total": ("total", 242.0),
    }
    rows = [(ts, "hour", name, group, value, "ree") for ts in hours for name, (group, value) in ree.items()]
    rows += [(ts, "hour", "Wind Onshore", "Renovable", 999.0, "entsoe") for ts in hours]
    rows += [(ts, "hour", "Eólica", "Renovable", 12_345.0, "sample") for ts in hours]
    midnight = pd.Timestamp("2024-04-16", tz="Europe/Madrid").tz_convert("UTC")
    rows.append((midnight, "day", "Eólica", "Renovable", 2_400.0, "ree"))
    generation = pd.DataFrame(
        rows, columns=["ts_utc", "time_grain", "technology", "technology_group", "energy_mwh", "source"]
    ).assign(
        region="national",
        share=None,
        extracted_at=pd.Timestamp("2024-04-17", tz="UTC"),
        local_date=lambda f: f["ts_utc"].dt.tz_convert("Europe/Madrid").dt.date,
    )
    demand = sample_frames()["demand_hourly"].head(0)
    return {"demand_hourly": demand, "generation": generation[list(GENERATION.column_names)]}


def test_technology_rankings_on_the_warehouse_count_each_hour_once(
    pg_settings: Settings, pg_conn: psycopg.Connection[Any], pg_schema: str, role_name: str
) -> None:
    frames = ranking_frames()
    settings, warehouse = loaded_reader(frames, pg_settings, pg_conn, pg_schema, role_name)
    on_warehouse = partial(ask, as_of=RANK_AS_OF, settings=settings, executor=warehouse)

    mix = on_warehouse("generación por tecnología ayer")
    by_key = {row[0]: row for row in mix.rows}
    energy = {key: row[mix.columns.index("generation_mwh")] for key, row in by_key.items()}
    assert energy == {
        "wind": 300.0,
        "combined_cycle": 240.0,
        "solar_pv": 150.0,
        "Almacenamiento": 21.0,
        "waste": 15.0,
    }
    assert list(energy) == ["wind", "combined_cycle", "solar_pv", "Almacenamiento", "waste"]
    assert math.isclose(sum(row[mix.columns.index("share")] for row in mix.rows), 1.0)
    assert [row[1] for row in mix.rows][:3] == ["Eólica", "Ciclo combinado", "Solar fotovoltaica"]
    assert mix.chart["kind"] == "bar" and mix.chart["orientation"] == "horizontal"
    assert "1) eólica, 300,0 MWh (41,3 %)" in mix.answer and "Total: 726,0 MWh" in mix.answer
    # The same rules as the total: the ranking adds up to the day's generation.
    total = on_warehouse("generación total ayer")
    assert total.rows[0][0] == sum(energy.values())

    renewable = on_warehouse("¿Qué renovable generó menos ayer?")
    assert [row[0] for row in renewable.rows] == ["waste"]
    assert renewable.answer.startswith("La tecnología renovable que menos generó en España ayer")
    english = on_warehouse("Which technology had the largest share yesterday?")
    assert english.rows[0][:2] == ["wind", "Wind"] and "41.3% of all generation" in english.answer

    with scratch_lake(frames) as lake:
        for question in ("generación por tecnología ayer", "top 2 renewables yesterday by share"):
            on_lake = ask(question, RANK_AS_OF, settings=settings, executor=lake)
            assert on_lake.columns == on_warehouse(question).columns
            assert _same_rows(on_lake.rows, on_warehouse(question).rows)
