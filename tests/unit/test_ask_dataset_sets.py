"""The movie and energy-company question sets: committed YAML = what the builders write, gold that an
independent recount (Python's csv and json modules, plain loops) agrees with, and frames shaped
as the processed tables."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from datalake.ask.eval_frames import KAGGLE_MOVIES_CSV, energy_frames, movie_frames
from datalake.ask.evaluation import check, load_questions
from datalake.datasets import DATASETS

ASK_TESTS = Path(__file__).resolve().parents[1] / "ask"
MOVIES_YAML = ASK_TESTS / "movies.yaml"
ENERGY_YAML = ASK_TESTS / "energy_company.yaml"
needs_kaggle = pytest.mark.skipif(
    not KAGGLE_MOVIES_CSV.is_file(), reason=f"the Kaggle TMDB file is not at {KAGGLE_MOVIES_CSV}"
)
#: Questions the movie set must hold word for word.
REQUIRED_MOVIE_QUESTIONS = (
    "¿Películas de mayor presupuesto de 2023?",
    "Top 5 géneros por popularidad",
    "¿Cuántas películas de comedia hay?",
    "¿Top 10 películas mejor valoradas?",
    "¿Rating promedio por género?",
    "¿Películas con presupuesto mayor a 100M?",
    "¿Distribución de películas por año?",
    "¿Qué géneros están disponibles?",
    "dime las películas más famosas de este año",
)


@pytest.fixture(scope="module")
def builders() -> Iterator[tuple[ModuleType, ModuleType]]:
    sys.path.insert(0, str(ASK_TESTS))
    try:
        import build_energy
        import build_movies

        yield build_movies, build_energy
    finally:
        sys.path.remove(str(ASK_TESTS))


def by_id(path: Path) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in load_questions(path)}


@needs_kaggle
def test_the_movie_builder_writes_the_committed_set(builders: tuple[ModuleType, ModuleType]) -> None:
    assert builders[0].build() == load_questions(MOVIES_YAML)  # regenerate with tests/ask/build_movies.py


def test_the_energy_builder_writes_the_committed_set(builders: tuple[ModuleType, ModuleType]) -> None:
    assert builders[1].build() == load_questions(ENERGY_YAML)  # regenerate with tests/ask/build_energy.py


@pytest.mark.parametrize(
    ("path", "dataset", "least"), [(MOVIES_YAML, "movies", 60), (ENERGY_YAML, "energy_company", 30)]
)
def test_each_set_is_large_bilingual_and_complete(path: Path, dataset: str, least: int) -> None:
    questions = load_questions(path)
    assert len(questions) >= least and len({q["id"] for q in questions}) == len(questions)
    assert {q["dataset"] for q in questions} == {dataset}
    assert all({"id", "category", "question", "as_of", "gold"} <= set(q) for q in questions)
    english = sum("-en-" in q["id"] for q in questions)
    assert 0.35 <= english / len(questions) <= 0.65
    refusals = [q for q in questions if q["category"] == "refusal"]
    assert len(refusals) >= 4 and all(q["gold"].get("refuse") is True for q in refusals)
    answered = [q for q in questions if q["category"] != "refusal"]
    assert all(q["gold"].get("values") is not None or q["gold"].get("labels") for q in answered)


def test_the_movie_set_asks_the_required_questions_in_both_languages() -> None:
    questions = load_questions(MOVIES_YAML)
    texts = {q["question"] for q in questions}
    assert set(REQUIRED_MOVIE_QUESTIONS) <= texts
    categories = Counter(q["category"] for q in questions)
    for category in ("top_k", "rank_by_dimension", "count", "average_by_dimension", "distribution"):
        assert categories[category] >= 3, category
    items = by_id(MOVIES_YAML)
    assert items["m-top-es-1"]["gold"] == {"values": []}  # 2023 is after the file's last release
    assert items["m-top-es-6"]["as_of"].startswith("2016-")
    for es, en in (
        ("m-top-es-2", "m-top-en-2"),
        ("m-rank-es-1", "m-rank-en-1"),
        ("m-abd-es-1", "m-abd-en-1"),
    ):
        assert items[es]["gold"] == items[en]["gold"]


# -- independent recounts ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kaggle_rows() -> list[dict[str, str]]:
    if not KAGGLE_MOVIES_CSV.is_file():
        pytest.skip(f"the Kaggle TMDB file is not at {KAGGLE_MOVIES_CSV}")
    with KAGGLE_MOVIES_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def genres_of(row: dict[str, str]) -> list[str]:
    return [entry["name"] for entry in json.loads(row["genres"] or "[]")]


def test_movie_gold_agrees_with_a_recount_of_the_csv(kaggle_rows: list[dict[str, str]]) -> None:
    items = by_id(MOVIES_YAML)
    comedies = sum("Comedy" in genres_of(row) for row in kaggle_rows)
    assert items["m-cnt-es-1"]["gold"]["values"] == [comedies]

    of_2015 = sorted(
        (int(row["budget"]), row["title"]) for row in kaggle_rows if row["release_date"].startswith("2015-")
    )
    biggest = [budget for budget, _ in reversed(of_2015) if budget > 0][:10]
    assert items["m-top-es-2"]["gold"]["values"] == biggest
    assert items["m-top-es-2"]["gold"]["labels"][0] == [of_2015[-1][1]]

    over_100m = sorted(
        (int(row["budget"]) for row in kaggle_rows if int(row["budget"]) > 100_000_000), reverse=True
    )
    assert items["m-flt-es-1"]["gold"]["values"] == over_100m
    assert items["m-cnt-es-5"]["gold"]["values"] == [len(over_100m)]

    rated_dramas = [
        float(r["vote_average"]) for r in kaggle_rows if "Drama" in genres_of(r) and int(r["vote_count"]) > 0
    ]
    drama = items["m-cmp-es-1"]["gold"]["values"][0]
    assert drama == pytest.approx(sum(rated_dramas) / len(rated_dramas), abs=1e-6)

    per_year = Counter(row["release_date"][:4] for row in kaggle_rows if row["release_date"])
    assert items["m-dist-es-1"]["gold"]["values"] == [per_year[year] for year in sorted(per_year)]

    best = sorted(
        ((float(r["vote_average"]), r["title"]) for r in kaggle_rows if int(r["vote_count"]) >= 1000),
        reverse=True,
    )
    assert items["m-top-es-4"]["gold"]["values"] == [rating for rating, _ in best[:10]]
    assert best[0][1] in items["m-top-es-4"]["gold"]["labels"][0]

    genres = sorted({name for row in kaggle_rows for name in genres_of(row)})
    listed = items["m-list-es-1"]["gold"]["labels"]
    assert len(listed) == len(genres) and all(name in row for name, row in zip(genres, listed, strict=True))


def test_energy_gold_agrees_with_a_recount_in_plain_python() -> None:
    frames = energy_frames()
    items = by_id(ENERGY_YAML)
    cities = Counter(frames["energy_clientes"]["ciudad"])
    ranked = cities.most_common()
    assert items["e-dist-es-1"]["gold"]["values"] == [count for _, count in ranked]
    assert [labels[0] for labels in items["e-dist-es-1"]["gold"]["labels"]] == [city for city, _ in ranked]
    suppliers = Counter(frames["energy_proveedores"]["tipo_energia"])
    assert items["e-dist-es-3"]["gold"]["values"] == sorted(suppliers.values(), reverse=True)

    march = {"COMPRA": 0.0, "VENTA": 0.0}
    kwh = {"COMPRA": [], "VENTA": []}
    for row in frames["energy_transacciones"].itertuples():
        kwh[row.tipo_transaccion].append(row.cantidad_comprada_kwh)
        if row.fecha_transaccion.month == 3:
            march[row.tipo_transaccion] += row.precio_total_cop
    assert items["e-cmp-es-1"]["gold"]["values"] == pytest.approx([march["COMPRA"], march["VENTA"]], abs=1e-4)
    means = {kind: sum(values) / len(values) for kind, values in kwh.items()}
    assert items["e-abd-es-1"]["gold"]["values"] == pytest.approx([means["COMPRA"], means["VENTA"]], abs=1e-6)
    assert [labels[0] for labels in items["e-abd-es-1"]["gold"]["labels"]] == ["COMPRA", "VENTA"]


def test_rankings_the_energy_set_asks_have_no_ties() -> None:
    for item in load_questions(ENERGY_YAML):
        if item["category"] in ("distribution", "rank_by_dimension", "average_by_dimension"):
            values = item["gold"]["values"]
            assert len(set(values)) == len(values), item["id"]
            assert all(len(labels) <= 4 for labels in item["gold"]["labels"])


# -- frames -----------------------------------------------------------------------------------------


@needs_kaggle
def test_movie_frames_are_the_lake_tables_of_the_kaggle_file() -> None:
    frames = movie_frames()
    assert set(frames) == {"movies", "movie_genres", "movie_keywords", "movie_companies"}
    for name, frame in frames.items():
        assert list(frame.columns) == DATASETS[name].column_names
        assert set(frame["source"]) == {"kaggle"}
        assert not frame.duplicated(list(DATASETS[name].primary_key)).any(), name
    movies = frames["movies"]
    assert len(movies) == 4803 and movies["movie_id"].is_unique
    # TMDB's 0 is unknown: NULL, never 0.
    for column in ("budget_usd", "revenue_usd", "runtime_min"):
        assert (movies[column].dropna() > 0).all() and movies[column].isna().any()
    avatar = movies.set_index("title").loc["Avatar"]
    assert avatar["release_date"] == dt.date(2009, 12, 10) and avatar["release_year"] == 2009
    assert avatar["budget_usd"] == 237_000_000
    assert frames["movie_genres"]["genre_name"].nunique() == 20


def test_energy_frames_are_deterministic_varied_and_shaped_as_the_processed_tables() -> None:
    frames = energy_frames()
    again = energy_frames()
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, again[name])
        assert list(frame.columns) == DATASETS[name].column_names
        assert not frame.duplicated(list(DATASETS[name].primary_key)).any(), name
    sales = frames["energy_transacciones"]
    months = pd.to_datetime(sales["fecha_transaccion"]).dt.strftime("%Y-%m")
    assert sorted(months.unique()) == [f"2024-0{m}" for m in range(1, 7)]
    assert set(sales["tipo_transaccion"]) == {"COMPRA", "VENTA"}
    assert sales["tipo_energia"].nunique() == 5 and frames["energy_clientes"]["ciudad"].nunique() >= 5
    assert (
        sales["precio_total_cop"] - sales["cantidad_comprada_kwh"] * sales["precio_kwh_cop"]
    ).abs().max() < 0.01
    assert set(sales["banda_precio"]) == {"económico", "promedio", "costoso"}
    # Sales to unknown clients are flagged; every purchase is from a listed supplier.
    unknown = sales[~sales["contraparte_conocida"]]
    assert len(unknown) > 0 and set(unknown["tipo_transaccion"]) == {"VENTA"}


def test_an_empty_answer_matches_an_empty_gold_and_nothing_else() -> None:
    def result(rows: list[list[Any]]) -> SimpleNamespace:
        return SimpleNamespace(
            interpretation={"value_column": "budget_usd"},
            columns=["title", "budget_usd"],
            rows=rows,
            chart={},
        )

    assert check(result([]), {"values": []}) == (True, "")
    assert not check(result([["Spectre", 245_000_000]]), {"values": []})[0]
