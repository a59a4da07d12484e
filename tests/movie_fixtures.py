"""Small synthetic movie tables (the processed tables' columns) for the classifier's tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from datalake.movies.tables import MovieTables, normalise

GENRE_POOL = (("Action", 28), ("Drama", 18), ("Comedy", 35), ("Horror", 27), ("Animation", 16))


def synthetic_tables(
    films: int = 400, seed: int = 7, first_year: int = 1996, last_year: int = 2015
) -> MovieTables:
    """Films whose success depends on their studio and genre, with directors and cast.

    Studio 1 and Animation succeed more often; the outcome columns (revenue, votes, popularity)
    follow from a hidden quality, so a model can learn from pre-release columns alone.
    """
    rng = np.random.default_rng(seed)
    ids = np.arange(1, films + 1)
    years = rng.integers(first_year, last_year + 1, films)
    days = rng.integers(0, 360, films)
    release = pd.to_datetime([f"{y}-01-01" for y in years]) + pd.to_timedelta(days, unit="D")
    studio = rng.integers(1, 4, films)
    genre = rng.integers(0, len(GENRE_POOL), films)
    director = rng.integers(1, 15, films)
    quality = rng.normal(0, 0.6, films) + (studio == 1) * 2.0 - (studio == 3) * 1.0 + (genre == 4) * 0.8
    budget = rng.choice([5e6, 2e7, 6e7, 1.2e8], films)
    revenue = budget * np.exp(0.7 + 0.8 * quality + rng.normal(0, 0.3, films))
    movies = pd.DataFrame(
        {
            "movie_id": ids,
            "title": [f"Film {i}" for i in ids],
            "original_title": [f"Film {i}" for i in ids],
            "original_language": "en",
            "release_date": release,
            "release_year": years,
            "runtime_min": rng.integers(80, 160, films).astype(float),
            "budget_usd": budget,
            "revenue_usd": revenue,
            "popularity": np.exp(quality),
            "vote_average": np.clip(6.0 + 0.8 * quality, 1, 10).round(1),
            "vote_count": rng.integers(20, 5000, films),
            "status": "Released",
            "collection_id": None,
            "overview": "",
            "source": "sample",
            "extracted_at": pd.Timestamp("2026-12-01T06:00Z"),
        }
    )
    genres = pd.DataFrame(
        {
            "movie_id": ids,
            "genre_id": [GENRE_POOL[g][1] for g in genre],
            "genre_name": [GENRE_POOL[g][0] for g in genre],
        }
    )
    companies = pd.DataFrame(
        {"movie_id": ids, "company_id": studio, "company_name": [f"Studio {s}" for s in studio]}
    )
    keywords = pd.DataFrame(
        {"movie_id": ids, "keyword_id": genre + 100, "keyword_name": [f"kw{g}" for g in genre]}
    )
    people = pd.DataFrame(
        {
            "movie_id": ids,
            "person_id": director + 1000,
            "person_name": [f"Director {d}" for d in director],
            "role": "director",
            "cast_order": None,
        }
    )
    return normalise(
        {"movies": movies, "genres": genres, "keywords": keywords, "companies": companies, "people": people}
    )


def write_kaggle_csv(tables: MovieTables, path: Path) -> Path:
    """The tables in the Kaggle file's shape (JSON-in-text bridge columns), for the CSV paths."""

    def as_json(bridge: pd.DataFrame, id_column: str, name_column: str) -> pd.Series:
        return bridge.groupby("movie_id")[[id_column, name_column]].apply(
            lambda rows: json.dumps(
                [{"id": int(i), "name": n} for i, n in zip(rows[id_column], rows[name_column], strict=True)]
            )
        )

    movies = tables.movies.set_index("movie_id")
    frame = pd.DataFrame(
        {
            "budget": movies["budget_usd"].fillna(0),
            "genres": as_json(tables.genres, "genre_id", "genre_name"),
            "id": movies.index,
            "keywords": as_json(tables.keywords, "keyword_id", "keyword_name"),
            "original_language": movies["original_language"],
            "original_title": movies["original_title"],
            "overview": movies["overview"],
            "popularity": movies["popularity"],
            "production_companies": as_json(tables.companies, "company_id", "company_name"),
            "release_date": movies["release_date"].dt.strftime("%Y-%m-%d"),
            "revenue": movies["revenue_usd"].fillna(0),
            "runtime": movies["runtime_min"],
            "status": movies["status"],
            "title": movies["title"],
            "vote_average": movies["vote_average"],
            "vote_count": movies["vote_count"],
        }
    ).fillna({"genres": "[]", "keywords": "[]", "production_companies": "[]"})
    frame.to_csv(path, index=False)
    return path


#: Director names the synthetic credits reuse across years, so that track records form.
CREDITS_DIRECTORS = tuple(f"Synthetic Director {n}" for n in range(1, 9))
#: Actor names the synthetic credits reuse (each film credits seven of them).
CREDITS_ACTORS = tuple(f"Synthetic Actor {n}" for n in range(1, 21))


def credits_for(movie_id: int) -> tuple[list[dict], list[dict]]:
    """Deterministic Kaggle-format (cast, crew) of one film: a handful of people reused across films.

    The crew has a producer and the director (a second director when ``movie_id % 7 == 0``); the
    cast has seven entries (billing ``order`` 0..6) listed out of billing order, and the
    second-billed actor is billed again at 3 (a second character), as TMDB lists people with two
    roles: the top five by billing are four people.
    """
    director = movie_id % len(CREDITS_DIRECTORS)
    crew = [
        {"credit_id": f"c{movie_id}p", "department": "Production", "gender": 0, "id": 9000,
         "job": "Producer", "name": "Synthetic Producer"},
        {"credit_id": f"c{movie_id}d", "department": "Directing", "gender": 2, "id": 5000 + director,
         "job": "Director", "name": CREDITS_DIRECTORS[director]},
    ]  # fmt: skip
    if movie_id % 7 == 0:
        second = (director + 1) % len(CREDITS_DIRECTORS)
        crew.append(
            {"credit_id": f"c{movie_id}e", "department": "Directing", "gender": 1, "id": 5000 + second,
             "job": "Director", "name": CREDITS_DIRECTORS[second]}
        )  # fmt: skip
    actors = [(movie_id * 3 + k) % len(CREDITS_ACTORS) for k in range(6)]
    # Billing 0..6; the second-billed actor is billed again at 3 (a second character).
    billed = [
        (7000 + a, CREDITS_ACTORS[a], order) for order, a in enumerate([*actors[:3], actors[1], *actors[3:]])
    ]
    listed = billed[3:] + billed[:3]  # not in billing order: the reader must sort by ``order``
    cast = [
        {"cast_id": n, "character": f"Role {order}", "credit_id": f"c{movie_id}a{n}", "gender": 0,
         "id": person_id, "name": name, "order": order}
        for n, (person_id, name, order) in enumerate(listed)
    ]  # fmt: skip
    return cast, crew


def write_kaggle_credits(movie_ids: list[int] | np.ndarray, path: Path, titles: dict | None = None) -> Path:
    """A Kaggle-format credits CSV (``movie_id,title,cast,crew``) of :func:`credits_for` each film."""
    rows = []
    for movie_id in movie_ids:
        cast, crew = credits_for(int(movie_id))
        title = (titles or {}).get(int(movie_id), f"Film {movie_id}")
        rows.append(
            {"movie_id": int(movie_id), "title": title, "cast": json.dumps(cast), "crew": json.dumps(crew)}
        )
    pd.DataFrame(rows, columns=["movie_id", "title", "cast", "crew"]).to_csv(path, index=False)
    return path
