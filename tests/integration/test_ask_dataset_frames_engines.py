"""The movie and energy-company evaluation frames load into both engines and read back the same:
the lake (published as jobs publish, beside the crawled electricity tables) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
from psycopg import sql

from datalake.ask.eval_frames import KAGGLE_MOVIES_CSV, energy_frames, movie_frames
from datalake.ask.evaluation import load_lake, load_warehouse, sample_frames
from datalake.catalog.local import LocalCatalog
from datalake.catalog.processed import processed_database
from datalake.datasets import DATASETS
from datalake.runtime import query_engine
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

pytest_plugins = ["warehouse_fixtures"]
pytestmark = pytest.mark.skipif(
    not KAGGLE_MOVIES_CSV.is_file(), reason=f"the Kaggle TMDB file is not at {KAGGLE_MOVIES_CSV}"
)

#: One aggregate per table, written once for both engines (standard SQL).
CHECKS = {
    "movies": (
        "SELECT COUNT(*), COUNT(budget_usd), SUM(revenue_usd), COUNT(release_date), MAX(release_year) FROM {}"
    ),
    "movie_genres": "SELECT COUNT(*), COUNT(DISTINCT genre_name) FROM {}",
    "movie_keywords": "SELECT COUNT(*), COUNT(DISTINCT keyword_id) FROM {}",
    "movie_companies": "SELECT COUNT(*), COUNT(DISTINCT company_id) FROM {}",
    "energy_clientes": "SELECT COUNT(*), COUNT(DISTINCT ciudad) FROM {}",
    "energy_proveedores": "SELECT COUNT(*), COUNT(DISTINCT tipo_energia) FROM {}",
    "energy_transacciones": (
        "SELECT COUNT(*), ROUND(CAST(SUM(precio_total_cop) AS NUMERIC), 2), "
        "COUNT(DISTINCT fecha_transaccion), SUM(CASE WHEN contraparte_conocida THEN 1 ELSE 0 END) FROM {}"
    ),
}


def expected(frames: dict[str, pd.DataFrame], name: str) -> list[Any]:
    frame = frames[name]
    if name == "movies":
        return [
            len(frame),
            int(frame["budget_usd"].count()),
            int(frame["revenue_usd"].sum()),
            int(frame["release_date"].notna().sum()),
            int(frame["release_year"].max()),
        ]
    if name == "energy_transacciones":
        return [
            len(frame),
            round(float(frame["precio_total_cop"].sum()), 2),
            frame["fecha_transaccion"].nunique(),
            int(frame["contraparte_conocida"].sum()),
        ]
    second = {
        "movie_genres": "genre_name",
        "movie_keywords": "keyword_id",
        "movie_companies": "company_id",
        "energy_clientes": "ciudad",
        "energy_proveedores": "tipo_energia",
    }[name]
    return [len(frame), frame[second].nunique()]


def numbers(row: Any) -> list[Any]:
    return [round(float(cell), 2) if not isinstance(cell, int) else cell for cell in row]


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {**movie_frames(), **energy_frames()}


def test_the_frames_read_back_from_the_lake_beside_the_electricity_tables(
    tmp_path: Path, frames: dict[str, pd.DataFrame]
) -> None:
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=tmp_path)  # type: ignore[call-arg]
    electricity = sample_frames()
    load_lake(settings, {**electricity, **frames})
    for name, statement in CHECKS.items():
        spec = DATASETS[name]
        engine = query_engine(settings, database=processed_database(spec, settings))
        got = engine.query(statement.format(spec.table_name)).iloc[0].tolist()
        assert numbers(got) == numbers(expected(frames, name)), name
    demand = query_engine(settings).query("SELECT COUNT(*) FROM demand_hourly").iloc[0, 0]
    assert demand == len(electricity["demand_hourly"])
    # The transactions are partitioned by year and month, as the job writes them.
    partitions = query_engine(settings, database=settings.energy_processed_database).query(
        "SELECT year, month, COUNT(*) AS n FROM transacciones GROUP BY 1, 2 ORDER BY 1, 2"
    )
    assert partitions[["year", "month"]].values.tolist() == [[2024, m] for m in range(1, 7)]
    # Loading again into the same lake leaves one table per dataset: the published tables'
    # run folders and markers never become tables of their own.
    load_lake(settings, {**electricity, **energy_frames()})
    catalog = LocalCatalog(LocalObjectStore(tmp_path))
    assert sorted(catalog.list_tables(settings.processed_database)) == sorted(
        ["demand_hourly", "generation", "movies", "movie_genres", "movie_keywords", "movie_companies"]
    )
    assert sorted(catalog.list_tables(settings.energy_processed_database)) == [
        "clientes",
        "proveedores",
        "transacciones",
    ]


def test_the_frames_read_back_from_postgresql(
    pg_conn: psycopg.Connection[Any], pg_schema: str, frames: dict[str, pd.DataFrame]
) -> None:
    load_warehouse(pg_conn, frames, pg_schema)
    for name, statement in CHECKS.items():
        table = sql.Identifier(pg_schema, DATASETS[name].warehouse_table or name)
        got = pg_conn.execute(sql.SQL(statement).format(table)).fetchone()
        assert numbers(got) == numbers(expected(frames, name)), name
