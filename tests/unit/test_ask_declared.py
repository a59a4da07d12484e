"""/ask over the declared semantic layer: movies and the energy company answered from declarations.

The movie answers run on the real Kaggle TMDB 5000 file (read by the project's Kaggle reader) in a
real DuckDB; gold values are recomputed with pandas from the same frames, independently of the SQL.
The energy company answers run on small deterministic tables whose counts are known by hand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from ask_fixtures import DuckExecutor

from datalake.ask import declared, guard
from datalake.ask.errors import AskRefusal
from datalake.ask.guard import guard_sql
from datalake.ask.kinds import KINDS
from datalake.ask.service import ask
from datalake.datasets import DATASETS, ask_datasets
from datalake.datasets.movies import MIN_VOTES_TO_RANK
from datalake.datasets.semantics import Dimension, Measure, Semantics, TimeAxis, Words
from datalake.datasets.spec import ColumnSpec, DatasetSpec
from datalake.movies.tables import read_kaggle_csv
from datalake.settings import Settings

pytestmark = pytest.mark.unit

KAGGLE_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tmdb" / "tmdb_5000_movies.csv"
SETTINGS = Settings(_env_file=None)
AS_OF = dt.datetime(2016, 6, 1, 12)


@pytest.fixture(scope="module")
def movies() -> dict[str, pd.DataFrame]:
    tables = read_kaggle_csv(KAGGLE_CSV)
    frames = {"movies": tables.movies, "movie_genres": tables.genres, "movie_companies": tables.companies}
    return {name: frame.assign(source="kaggle") for name, frame in frames.items()}


@pytest.fixture(scope="module")
def movie_lake(movies: dict[str, pd.DataFrame]) -> DuckExecutor:
    return DuckExecutor(movies)


def energy_frames() -> dict[str, pd.DataFrame]:
    # 6 clients in Bogotá, 4 in Cali, 2 in Medellín; suppliers 3 SOLAR, 1 EÓLICA; March has 3
    # purchases (100 kWh each at 500 COP) and 2 sales (50 kWh at 800 COP), April one sale.
    clientes = pd.DataFrame(
        {
            "tipo_identificacion": ["CC"] * 8 + ["NIT"] * 4,
            "identificacion": [str(1000 + i) for i in range(12)],
            "nombre": [f"CLIENTE {i}" for i in range(12)],
            "ciudad": ["BOGOTÁ"] * 6 + ["CALI"] * 4 + ["MEDELLÍN"] * 2,
            "fecha_carga": dt.date(2024, 3, 1),
        }
    )
    proveedores = pd.DataFrame(
        {
            "nombre_proveedor": ["SOL 1", "SOL 2", "SOL 3", "VIENTO"],
            "tipo_energia": ["SOLAR", "SOLAR", "SOLAR", "EÓLICA"],
            "fecha_registro": dt.date(2023, 1, 1),
            "fecha_carga": dt.date(2024, 3, 1),
        }
    )
    kinds = ["COMPRA"] * 3 + ["VENTA"] * 3
    kwh = [100.0] * 3 + [50.0] * 3
    price = [500.0] * 3 + [800.0] * 3
    transacciones = pd.DataFrame(
        {
            "transaccion_id": [f"t{i}" for i in range(6)],
            "tipo_transaccion": kinds,
            "nombre_cliente_proveedor": ["SOL 1", "SOL 2", "VIENTO", "CLIENTE 1", "CLIENTE 2", "CLIENTE 3"],
            "tipo_energia": ["SOLAR", "SOLAR", "EÓLICA", "SOLAR", "EÓLICA", "SOLAR"],
            "cantidad_comprada_kwh": kwh,
            "precio_kwh_cop": price,
            "precio_total_cop": [k * p for k, p in zip(kwh, price, strict=True)],
            "banda_precio": "promedio",
            "fecha_transaccion": [dt.date(2024, 3, d) for d in (1, 2, 3, 4, 5)] + [dt.date(2024, 4, 1)],
            "fecha_carga": dt.date(2024, 4, 2),
        }
    )
    return {
        "energy_clientes": clientes,
        "energy_proveedores": proveedores,
        "energy_transacciones": transacciones,
    }


@pytest.fixture(scope="module")
def energy_lake() -> DuckExecutor:
    return DuckExecutor(energy_frames())


def by_value(films: pd.DataFrame, column: str) -> pd.DataFrame:
    """Largest first, ties by title (the answers' order)."""
    return films.sort_values([column, "title"], ascending=[False, True])


def answer(question: str, executor: DuckExecutor, as_of: dt.datetime = AS_OF) -> Any:
    return ask(question, as_of, settings=SETTINGS, executor=executor)


# -- the declarations ---------------------------------------------------------------------------------


def test_every_declared_column_exists_and_is_readable_by_ask() -> None:
    declared_tables = [spec for spec in ask_datasets() if spec.ask is not None]
    subjects = {spec.ask.subject for spec in declared_tables}  # type: ignore[union-attr]
    assert subjects == {"movies", "energy_company", "energy_prices", "world_energy", "portfolio", "weather"}
    by_name = {spec.name: spec for spec in ask_datasets()}
    for spec in declared_tables:
        semantics = spec.ask
        assert semantics is not None
        for dimension in semantics.dimensions:
            home = by_name[dimension.table] if dimension.table else spec
            if dimension.personal:
                assert (
                    dimension.column in home.column_names and dimension.column not in home.public_column_names
                )
                continue
            assert dimension.column in home.public_column_names, (spec.name, dimension.key)
            assert all(column in home.public_column_names for column in dimension.join)
        for measure in semantics.measures:
            # Every column a measure reads is public (the guard would refuse the query otherwise).
            sql = f"SELECT {measure.expression} AS v FROM {spec.name}"
            guard_sql(sql, "duckdb", max_limit=10)


def test_a_declaration_that_names_a_missing_column_fails_its_check() -> None:
    base = DATASETS["movies"]
    broken = dataclasses.replace(base.ask, label="no_such_column")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no_such_column"):
        dataclasses.replace(base, ask=broken).check_semantics()
    with pytest.raises(ValueError, match="not askable"):
        dataclasses.replace(base, askable=False).check_semantics()


def test_the_guard_allows_exactly_the_askable_tables_and_never_a_personal_column() -> None:
    names = {n for spec in ask_datasets() for n in (spec.name, spec.warehouse_table) if n}
    assert (
        {"movies", "movie_genres", "energy_transacciones", "energy_clientes"}
        <= names
        <= set(guard.ALLOWED_TABLES)
    )
    for probe in (
        "SELECT nombre FROM energy_clientes",
        "SELECT nombre_cliente_proveedor FROM energy_transacciones",
    ):
        with pytest.raises(Exception, match="not allowed"):
            guard_sql(probe, "duckdb", max_limit=10)


# -- the movie questions of the issue, verbatim -----------------------------------------------------------


def test_the_biggest_budgets_of_a_year_and_of_a_year_with_no_films(
    movie_lake: DuckExecutor, movies: dict[str, pd.DataFrame]
) -> None:
    films = movies["movies"]
    result = answer("¿Películas de mayor presupuesto de 2015?", movie_lake)
    # Ties (two films of USD 175 M) are listed by title.
    expected = by_value(films[films.release_year == 2015], "budget_usd").head(10)
    assert [r[0] for r in result.rows] == expected.title.tolist()
    assert [r[1] for r in result.rows] == expected.budget_usd.tolist()
    assert result.interpretation["kind"] == "rows" and "USD" in result.answer and "2015" in result.answer
    empty = answer("¿Películas de mayor presupuesto de 2023?", movie_lake, dt.datetime(2024, 4, 17, 12))
    assert empty.rows == [] and "No hay películas" in empty.answer and "2023" in empty.answer
    assert "Los datos disponibles van del" in empty.answer and "2017" in empty.answer  # what there is
    assert answer("Highest budget movies of 2015", movie_lake).rows == result.rows
    with pytest.raises(AskRefusal) as future:  # asked in 2016, 2023 is a forecast nobody makes here
        answer("¿Películas de mayor presupuesto de 2023?", movie_lake)
    assert future.value.kind == "out_of_scope"


def test_top_genres_by_popularity_and_average_rating_by_genre(
    movie_lake: DuckExecutor, movies: dict[str, pd.DataFrame]
) -> None:
    joined = movies["movie_genres"].merge(movies["movies"], on=["movie_id", "source"])
    popularity = joined.groupby("genre_name").popularity.mean().sort_values(ascending=False)
    result = answer("Top 5 géneros por popularidad", movie_lake)
    assert [r[0] for r in result.rows] == popularity.index[:5].tolist()
    assert [r[1] for r in result.rows] == pytest.approx(popularity.iloc[:5].tolist())
    assert result.chart["kind"] == "bar" and result.chart["x"] == "genre"
    assert [r[0] for r in answer("top 5 genres by popularity", movie_lake).rows] == popularity.index[
        :5
    ].tolist()

    rated = joined[joined.vote_count > 0].groupby("genre_name").vote_average.mean()
    result = answer("¿Rating promedio por género?", movie_lake)
    got = {r[0]: r[1] for r in result.rows}
    assert got == pytest.approx(rated.to_dict()) and len(got) == 20
    assert "Drama" in result.answer and "/10" in result.answer


def test_counting_comedies_and_listing_genres(
    movie_lake: DuckExecutor, movies: dict[str, pd.DataFrame]
) -> None:
    comedies = movies["movie_genres"].query("genre_name == 'Comedy'").movie_id.nunique()
    for question in (
        "¿Cuántas películas de comedia hay?",
        "how many comedy movies are there",
        "cuantas pelis de comdia hay",
    ):
        result = answer(question, movie_lake)
        assert result.rows == [[comedies]], question
    assert (
        f"{comedies:,}".replace(",", ".") in answer("¿Cuántas películas de comedia hay?", movie_lake).answer
    )

    result = answer("¿Qué géneros están disponibles?", movie_lake)
    assert [r[0] for r in result.rows] == sorted(movies["movie_genres"].genre_name.unique())
    assert "Acción" in result.answer and "Ciencia ficción" in result.answer
    english = answer("Which genres are available?", movie_lake)
    assert english.rows == result.rows and "Science Fiction" in english.answer


def test_best_rated_state_their_minimum_votes(
    movie_lake: DuckExecutor, movies: dict[str, pd.DataFrame]
) -> None:
    films = movies["movies"]
    expected = (
        films[films.vote_count >= MIN_VOTES_TO_RANK]
        .sort_values(["vote_average", "title"], ascending=[False, True])
        .head(10)
    )
    result = answer("¿Top 10 películas mejor valoradas?", movie_lake)
    assert [r[0] for r in result.rows] == expected.title.tolist()
    assert "1.000 votos" in result.answer
    assert "1,000 votes" in answer("top 10 best rated movies", movie_lake).answer


def test_a_budget_threshold_counts_and_lists_the_films(
    movie_lake: DuckExecutor, movies: dict[str, pd.DataFrame]
) -> None:
    films = movies["movies"]
    over = films[films.budget_usd > 100e6]
    for question in ("¿Películas con presupuesto mayor a 100M?", "movies with a budget over $100 million",
                     "peliculas con presupuesto de mas de 100.000.000"):  # fmt: skip
        result = answer(question, movie_lake)
        assert result.rows[0][3] == len(over), question  # every film past the line is counted
        assert [r[0] for r in result.rows] == by_value(over, "budget_usd").title.tolist()  # and listed
        assert result.answer.count("M USD") == 11  # the line and the first ten named
    counted = answer("¿Cuántas películas tienen un presupuesto superior a 100 millones?", movie_lake)
    assert counted.rows == [[len(over)]]


def test_distribution_by_year_is_a_series_in_year_order(
    movie_lake: DuckExecutor, movies: dict[str, pd.DataFrame]
) -> None:
    per_year = movies["movies"].dropna(subset=["release_year"]).groupby("release_year").movie_id.nunique()
    result = answer("¿Distribución de películas por año?", movie_lake)
    assert [r[0] for r in result.rows] == per_year.index.astype(int).tolist()
    assert [r[1] for r in result.rows] == per_year.tolist()
    assert result.chart["x"] == "year" and result.chart["y"] == "n"


def test_the_most_famous_of_this_year_read_the_year_of_the_question(
    movie_lake: DuckExecutor, movies: dict[str, pd.DataFrame]
) -> None:
    films = movies["movies"]
    expected = films[films.release_year == 2016].nlargest(10, "popularity").title.tolist()
    result = answer("dime las películas más famosas de este año", movie_lake)
    assert [r[0] for r in result.rows] == expected and "2016" in result.answer
    assert [r[0] for r in answer("the most famous movies this year", movie_lake).rows] == expected


def test_every_statement_that_ran_passed_the_guard(movie_lake: DuckExecutor) -> None:
    for statement in movie_lake.statements:
        assert guard_sql(statement, "duckdb", max_limit=SETTINGS.ask_max_rows) == statement


# -- the energy company ----------------------------------------------------------------------------------


def test_clients_per_city_and_suppliers_per_energy_type(energy_lake: DuckExecutor) -> None:
    for question in (
        "¿Cuántos clientes hay por ciudad?",
        "clients per city",
        "numero de clientes por ciudad",
    ):
        result = answer(question, energy_lake)
        assert result.rows == [["BOGOTÁ", 6], ["CALI", 4], ["MEDELLÍN", 2]], question
        assert result.interpretation["dataset"] == "energy_clientes"
    assert "Bogotá: 6 clientes" in answer("¿Cuántos clientes hay por ciudad?", energy_lake).answer
    for question in ("¿Cuántos proveedores hay por tipo de energía?", "suppliers per energy type"):
        result = answer(question, energy_lake)
        assert result.rows == [["SOLAR", 3], ["EÓLICA", 1]], question
        assert result.interpretation["dataset"] == "energy_proveedores"


def test_average_kwh_and_price_per_transaction_type(energy_lake: DuckExecutor) -> None:
    result = answer("average kWh and price per transaction type", energy_lake)
    rows = {r[0]: r[1:] for r in result.rows}
    assert rows == {"COMPRA": [100.0, 500.0, 3], "VENTA": [50.0, 800.0, 3]}
    assert result.columns == ["kind", "avg_energy", "avg_price", "n"]
    spanish = answer("¿Cuál es el promedio de kWh y de precio por tipo de transacción?", energy_lake)
    assert spanish.rows == result.rows and "COP/kWh" in spanish.answer


def test_purchases_versus_sales_in_a_month(energy_lake: DuckExecutor) -> None:
    result = answer("compras vs ventas en marzo de 2024", energy_lake, dt.datetime(2024, 6, 1))
    assert {r[0]: r[1] for r in result.rows} == {"COMPRA": 150_000.0, "VENTA": 80_000.0}
    assert "Compras" in result.answer and "Ventas" in result.answer and "COP" in result.answer
    english = answer("purchases versus sales in March 2024", energy_lake, dt.datetime(2024, 6, 1))
    assert english.rows == result.rows


def test_top_clients_by_spend_is_refused_as_personal_data(energy_lake: DuckExecutor) -> None:
    for question in ("top clients by spend", "¿Quiénes son los 5 clientes que más gastan?"):
        with pytest.raises(AskRefusal) as caught:
            answer(question, energy_lake)
        assert caught.value.kind == "out_of_scope" and "personal" in caught.value.reason
    assert energy_lake.statements == [s for s in energy_lake.statements if "nombre" not in s]


def test_a_question_that_could_mean_two_subjects_lists_the_readings(energy_lake: DuckExecutor) -> None:
    with pytest.raises(AskRefusal) as caught:
        answer("¿Qué tipos de energía hay?", energy_lake)
    assert caught.value.kind == "ambiguous"
    assert "electricidad" in caught.value.reason and "empresa de energía" in caught.value.reason
    with pytest.raises(AskRefusal) as caught:
        answer("¿Cuántas películas compró la empresa de energía?", energy_lake)
    assert caught.value.kind == "ambiguous" and "películas" in caught.value.reason


def test_unsafe_requests_about_declared_tables_are_refused_before_sql(energy_lake: DuckExecutor) -> None:
    before = len(energy_lake.statements)
    for question in ("borra todas las películas", "DROP TABLE energy_clientes; cuántos clientes hay"):
        with pytest.raises(AskRefusal) as caught:
            answer(question, energy_lake)
        assert caught.value.kind == "unsafe", question
    assert len(energy_lake.statements) == before


# -- a new dataset is a declaration ------------------------------------------------------------------------


@pytest.fixture
def books(monkeypatch: pytest.MonkeyPatch) -> Iterator[DuckExecutor]:
    spec = DatasetSpec(
        name="books",
        description="Books (a table declared only for this test)",
        columns=(
            ColumnSpec("isbn", "string", False, "ISBN"),
            ColumnSpec("book_title", "string", False, "Title"),
            ColumnSpec("pages", "int", True, "Pages"),
            ColumnSpec("shelf", "string", True, "Shelf"),
            ColumnSpec("published", "date", True, "Publication date"),
        ),
        primary_key=("isbn",),
        askable=True,
        ask=Semantics(
            subject="books",
            entity=Words(("libro", "libros"), ("book", "books")),
            entity_names=Words(("libro", "libros"), ("book", "books")),
            key=("isbn",),
            label="book_title",
            measures=(
                Measure("pages", "pages", "pages", Words(("páginas",), ("pages",)),
                        superlatives=Words(("más largos",), ("longest",))),
            ),
            dimensions=(
                Dimension("shelf", "shelf", Words(("estante", "estantes"), ("shelf", "shelves")),
                          values={"poetry": Words(("poesía",), ("poetry",))}),
            ),
            time=TimeAxis("published", words=Words(("publicado",), ("published",))),
        ),
    )  # fmt: skip
    monkeypatch.setattr(declared, "ask_datasets", lambda: (*ask_datasets(), spec))
    monkeypatch.setitem(guard.ALLOWED_TABLES, "books", frozenset(spec.public_column_names))
    monkeypatch.setattr(guard, "ALLOWED_COLUMNS", guard.ALLOWED_COLUMNS | set(spec.public_column_names))
    for cached in (declared.tables, declared._speller, declared._language_words):
        cached.cache_clear()
    frame = pd.DataFrame(
        {
            "isbn": ["1", "2", "3", "4"],
            "book_title": ["Odes", "Sonnets", "Atlas", "Novel"],
            "pages": [80, 120, 300, 450],
            "shelf": ["poetry", "poetry", "maps", "fiction"],
            "published": [dt.date(2001, 1, 1), dt.date(2003, 1, 1), dt.date(2003, 5, 1), dt.date(2010, 1, 1)],
        }
    )
    yield DuckExecutor({"books": frame})
    for cached in (declared.tables, declared._speller, declared._language_words):
        cached.cache_clear()


def test_a_new_table_is_answerable_from_its_declaration_alone(books: DuckExecutor) -> None:
    assert answer("¿Cuántos libros de poesía hay?", books).rows == [[2]]
    assert answer("how many books per shelf", books).rows == [["poetry", 2], ["fiction", 1], ["maps", 1]]
    assert [r[0] for r in answer("los 2 libros más largos", books).rows] == ["Novel", "Atlas"]
    assert answer("average pages of books published in 2003", books).rows[0][0] == 210.0
    assert {k.name for k in KINDS} >= {"values", "count", "group", "rows", "total", "personal"}
    assert json.dumps(answer("libros por estante", books).chart)  # a chart a client can draw


# -- values only the data knows ---------------------------------------------------------------------------


def test_companies_and_titles_are_read_from_the_data(
    movie_lake: DuckExecutor, movies: dict[str, pd.DataFrame]
) -> None:
    companies = movies["movie_companies"]
    pixar = companies[companies.company_name == "Pixar Animation Studios"].movie_id.nunique()
    assert answer("cuántas películas produjo Pixar", movie_lake).rows == [[pixar]]  # the one company so named
    films = movies["movies"].set_index("title")
    versus = answer("¿Recaudó más Avatar o Titanic?", movie_lake)
    assert [r[:2] for r in versus.rows] == [
        ["Avatar", films.loc["Avatar", "revenue_usd"]],
        ["Titanic", films.loc["Titanic", "revenue_usd"]],
    ]  # in the order named
    knight = films.loc["The Dark Knight Rises", "movie_id"]
    bridge = movies["movie_genres"]
    genres = sorted(bridge[bridge.movie_id == knight].genre_name)
    assert [r[0] for r in answer("what genres is The Dark Knight Rises?", movie_lake).rows] == genres
    # Capitalised words that are the parser's own ("Top", "Drama") or numbers are not looked up.
    assert answer("Top 10 Drama movies by budget", movie_lake).interpretation["filters"] == {
        "genre": ["Drama"]
    }


@pytest.mark.slow
def test_the_dataset_sets_reach_their_target_on_the_lake() -> None:
    from functools import partial

    from datalake.ask.evaluation import (
        ENERGY_COMPANY_PATH,
        HELDOUT_DATASETS_PATH,
        MOVIES_PATH,
        evaluate,
        frames_for,
        load_questions,
        scratch_lake,
    )

    items = [*load_questions(MOVIES_PATH), *load_questions(ENERGY_COMPANY_PATH)]
    items += load_questions(HELDOUT_DATASETS_PATH)
    with scratch_lake(frames_for(items)) as executor:
        report = evaluate(items, partial(ask, settings=SETTINGS, executor=executor))
    accuracy = report.dataset_accuracy()
    print(report.format())
    assert set(accuracy) == {"movies", "energy_company"}
    assert min(accuracy.values()) >= 0.97, accuracy


# -- kinds a held-out set found missing (2026-12-06) ----------------------------------------------------

JUNE_2024 = dt.datetime(2024, 6, 1, 12)


def test_a_value_names_the_rows_it_ranks_and_a_transaction_is_named_by_its_date(
    energy_lake: DuckExecutor,
) -> None:
    result = answer("las 2 ventas más grandes", energy_lake, JUNE_2024)
    assert [str(r[0])[:10] for r in result.rows] == ["2024-03-04", "2024-03-05"]  # ties: earliest first
    assert [r[1] for r in result.rows] == [40_000.0, 40_000.0]
    biggest = answer("what was our biggest purchase?", energy_lake, JUNE_2024)
    assert len(biggest.rows) == 1 and biggest.rows[0][1] == 50_000.0


def test_a_declared_price_is_answered_and_the_price_of_electricity_stays_out_of_scope(
    energy_lake: DuckExecutor,
) -> None:
    result = answer("precio promedio del kwh por tipo de energia", energy_lake, JUNE_2024)
    assert sorted(r[0] for r in result.rows) == ["EÓLICA", "SOLAR"]
    with pytest.raises(AskRefusal) as refused:
        answer("¿cuál es el precio de la luz hoy?", energy_lake, JUNE_2024)
    assert refused.value.kind == "out_of_scope"
    with pytest.raises(AskRefusal) as weather:
        answer("what's the weather in Bogotá tomorrow?", energy_lake, JUNE_2024)
    assert weather.value.kind == "out_of_scope"


def test_a_future_period_of_a_declared_table_is_refused_not_answered_empty(energy_lake: DuckExecutor) -> None:
    with pytest.raises(AskRefusal) as refused:
        answer("¿cuántas compras habrá el mes que viene?", energy_lake, JUNE_2024)
    assert refused.value.kind == "out_of_scope" and "previsiones" in refused.value.reason


def test_a_threshold_in_hours_is_the_runtime_and_orders_the_list(
    movie_lake: DuckExecutor, movies: dict[str, pd.DataFrame]
) -> None:
    films = movies["movies"]
    long = films[films.runtime_min > 150]
    result = answer("películas de más de 2 horas y media", movie_lake)
    assert result.rows[0][3] == len(long)
    assert [r[1] for r in result.rows] == sorted(long.runtime_min, reverse=True)[: len(result.rows)]


def test_decades_and_open_ranges_are_periods() -> None:
    from datalake.ask.timeexpr import extract_times

    as_of = dt.datetime(2024, 4, 17, 12, tzinfo=dt.UTC)
    spans = {
        text: [
            (p.start.date().isoformat(), p.end.date().isoformat())
            for p in extract_times(text, as_of, "en").periods
        ]
        for text in (
            "movies of the 1990 s",
            "en los anos 80",
            "peliculas desde 2010",
            "demanda desde 2023 hasta 2024",
        )
    }
    assert spans == {
        "movies of the 1990 s": [("1990-01-01", "2000-01-01")],
        "en los anos 80": [("1980-01-01", "1990-01-01")],
        "peliculas desde 2010": [("2010-01-01", "2024-04-18")],  # to the day asked
        "demanda desde 2023 hasta 2024": [("2023-01-01", "2025-01-01")],  # a range stays a range
    }


def test_a_day_and_month_without_a_year_is_the_latest_such_day() -> None:
    """ "15/04" alone once raised IndexError (no year group) instead of reading a date."""
    from datalake.ask.timeexpr import extract_times

    as_of = dt.datetime(2024, 4, 17, 12, tzinfo=dt.UTC)
    for text in ("demanda del 15/04", "demanda el 15/04 a las 10"):
        times = extract_times(text, as_of, "es")
        assert [p.start.date() for p in times.periods] == [dt.date(2024, 4, 15)] and times.problem is None


def test_both_languages_declare_the_same_time_words() -> None:
    """Each language module names every slot and rule of the time expressions (a missing one would
    only fail at import, in whichever process read it first)."""
    from datalake.ask.words import en, es

    # (Day parts differ by design: Spanish "tarde" runs to 20:00, English has afternoon and evening.)
    for table in ("TIME", "RELATIVE_PERIODS", "SEASONS", "HOLIDAYS", "TIME_NAMES"):
        assert set(getattr(es, table)) == set(getattr(en, table)), table
