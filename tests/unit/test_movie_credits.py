"""The Kaggle credits file: directors and top cast fill ``people`` on every Kaggle path.

The real movies file is in /work/shared/data; its credits file is not (SOURCES.md), so the
credits here are synthetic (:func:`movie_fixtures.credits_for`), written for real movie ids.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from movie_fixtures import CREDITS_DIRECTORS, credits_for, write_kaggle_credits

from datalake.errors import DataValidationError
from datalake.movies import history
from datalake.movies.features import build_features
from datalake.movies.tables import (
    KAGGLE_CREDITS_NAME,
    MovieTables,
    is_kaggle_credits,
    kaggle_credits_path,
    people_summary,
    read_kaggle_csv,
)
from datalake.sources.tmdb_raw import DEFAULT_TOP_CAST

# The shared data beside the checkout (../shared/data): a missing file fails, it is never skipped.
KAGGLE_FILE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tmdb" / "tmdb_5000_movies.csv"


def real_subset(folder: Path, films: int = 400) -> tuple[Path, list[int]]:
    """Every k-th film of the real movies file released 1995-2016, as a movies CSV in ``folder``."""
    raw = pd.read_csv(KAGGLE_FILE)
    years = pd.to_datetime(raw["release_date"], errors="coerce").dt.year
    chosen = raw[years.between(1995, 2016)].sort_values("id")
    chosen = chosen.iloc[:: max(len(chosen) // films, 1)].head(films)
    path = folder / "movies.csv"
    chosen.to_csv(path, index=False)
    return path, [int(i) for i in chosen["id"]]


@pytest.fixture(scope="module")
def subset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[int]]:
    folder = tmp_path_factory.mktemp("kaggle")
    movies, ids = real_subset(folder)
    # Credits for all but the last ten films, plus three films the movies file does not have.
    credits = write_kaggle_credits([*ids[:-10], 1, 2, 3], folder / "credits.csv")
    return movies, credits, ids


@pytest.fixture(scope="module")
def tables(subset: tuple[Path, Path, list[int]]) -> MovieTables:
    movies, credits, _ = subset
    return read_kaggle_csv(movies, credits)


def test_people_are_the_directors_and_the_top_billed_cast_by_order(
    subset: tuple[Path, Path, list[int]], tables: MovieTables
) -> None:
    _, _, ids = subset
    people = tables.people
    assert set(people["movie_id"]) == set(ids[:-10])  # unknown ids left out, films without credits none
    two_directors = next(i for i in ids[:-10] if i % 7 == 0)
    for movie_id in (ids[0], two_directors):
        cast, crew = credits_for(movie_id)
        rows = people[people["movie_id"] == movie_id]
        directors = rows[rows["role"] == "director"]
        expected = {(p["id"], p["name"]) for p in crew if p["job"] == "Director"}
        assert set(zip(directors["person_id"], directors["person_name"], strict=True)) == expected
        assert directors["cast_order"].isna().all()
        # The first DEFAULT_TOP_CAST entries by order, one row per actor at their higher billing.
        top = sorted(cast, key=lambda p: p["order"])[:DEFAULT_TOP_CAST]
        best: dict[int, int] = {}
        for p in top:
            best[p["id"]] = min(best.get(p["id"], p["order"]), p["order"])
        billed = rows[rows["role"] == "cast"]
        assert dict(zip(billed["person_id"], billed["cast_order"], strict=True)) == best
        assert len(billed) == DEFAULT_TOP_CAST - 1  # the actor billed twice is one row
    assert len(people[(people["movie_id"] == two_directors) & (people["role"] == "director")]) == 2
    assert "Synthetic Producer" not in set(people["person_name"])


def test_credits_of_unknown_films_are_counted_in_a_log_line(
    subset: tuple[Path, Path, list[int]], caplog: pytest.LogCaptureFixture
) -> None:
    movies, credits, _ = subset
    with caplog.at_level(logging.INFO, logger="datalake.movies.tables"):
        read_kaggle_csv(movies, credits)
    assert "credits.csv: credits of 3 film(s) not in the movies file left out" in caplog.text


def test_a_credits_file_beside_the_movies_file_is_read_and_none_means_no_people(
    subset: tuple[Path, Path, list[int]], tmp_path: Path
) -> None:
    movies, credits, ids = subset
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "tmdb_5000_movies.csv").write_bytes(movies.read_bytes())
    assert kaggle_credits_path(alone / "tmdb_5000_movies.csv") is None
    without = read_kaggle_csv(alone / "tmdb_5000_movies.csv")
    assert without.people.empty and "credits: none" in people_summary(without)
    (alone / KAGGLE_CREDITS_NAME).write_bytes(credits.read_bytes())
    assert kaggle_credits_path(alone / "tmdb_5000_movies.csv") == alone / KAGGLE_CREDITS_NAME
    beside = read_kaggle_csv(alone / "tmdb_5000_movies.csv")
    assert beside.people["movie_id"].nunique() == len(ids) - 10
    assert people_summary(beside).startswith(
        f"credits: {len(ids) - 10:,} of {len(ids):,} films have a director"
    )
    assert is_kaggle_credits(credits) and not is_kaggle_credits(movies)
    with pytest.raises(DataValidationError, match="no credits file at"):
        kaggle_credits_path(movies, tmp_path / "missing.csv")


def test_bad_credits_are_refused_naming_the_file_row_and_field(
    subset: tuple[Path, Path, list[int]], tmp_path: Path
) -> None:
    movies, credits, _ = subset
    good = pd.read_csv(credits)
    broken = good.copy()
    broken.loc[2, "cast"] = '[{"id": 1, "name": "x"'
    broken.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataValidationError, match=r"bad\.csv: not a JSON list") as error:
        read_kaggle_csv(movies, tmp_path / "bad.csv")
    assert error.value.field == "cast[row 2]"
    no_id = good.copy()
    no_id.loc[4, "crew"] = '[{"job": "Director", "name": "Nobody"}]'
    no_id.to_csv(tmp_path / "noid.csv", index=False)
    with pytest.raises(DataValidationError, match=r"noid\.csv: a person needs an 'id'") as error:
        read_kaggle_csv(movies, tmp_path / "noid.csv")
    assert error.value.field == "crew[row 4][0]"
    good.drop(columns=["crew"]).to_csv(tmp_path / "nocrew.csv", index=False)
    with pytest.raises(DataValidationError, match=r"nocrew\.csv is not a Kaggle TMDB credits file") as error:
        read_kaggle_csv(movies, tmp_path / "nocrew.csv")
    assert error.value.field == "crew"


def test_director_and_cast_features_come_from_earlier_films_only(tables: MovieTables) -> None:
    features = build_features(tables, history.events(tables))
    credited = features.index.isin(tables.people["movie_id"])
    assert (features.loc[credited, "has_director"] == 1).all()
    assert (features.loc[~credited, "has_director"] == 0).all()
    assert features.loc[credited, "cast_count"].between(1, DEFAULT_TOP_CAST).all()
    assert (features["director_films_max"] > 0).sum() > len(features) / 2  # eight directors, many films
    assert features["director_rate_max"].notna().sum() > 0 and features["cast_rate_max"].notna().sum() > 0
    # director_films_max is, per film, the most EARLIER films (strictly before its date) of one of
    # its directors: counted here by brute force from the tables.
    dates = tables.movies.set_index("movie_id")["release_date"]
    directed = tables.people[tables.people["role"] == "director"][["movie_id", "person_name"]]
    directed = directed.join(dates, on="movie_id")
    for movie_id, rows in directed.groupby("movie_id"):
        at = dates[movie_id]
        earlier = [
            int((directed.loc[directed["person_name"] == name, "release_date"] < at).sum())
            for name in rows["person_name"]
        ]
        assert features.loc[movie_id, "director_films_max"] == max(earlier), movie_id


def test_later_films_outcomes_never_change_an_earlier_films_people_features(tables: MovieTables) -> None:
    features = build_features(tables, history.events(tables))
    cut = pd.Timestamp("2008-01-01")
    later = tables.movies["release_date"] >= cut
    changed = tables.movies.copy()
    rng = np.random.default_rng(3)
    for column in ("revenue_usd", "vote_average", "vote_count", "budget_usd"):
        changed.loc[later, column] = rng.permutation(changed.loc[later, column].to_numpy())
    other = MovieTables(changed, *list(tables.frames().values())[1:])
    again = build_features(other, history.events(other))
    earlier_ids = tables.movies.loc[~later, "movie_id"]
    people_columns = [c for c in features.columns if c.startswith(("director_", "cast_"))]
    pd.testing.assert_frame_equal(
        features.loc[earlier_ids, people_columns], again.loc[earlier_ids, people_columns]
    )
    # ...while the later films' own track records may move (the check above could fail).
    later_ids = tables.movies.loc[later, "movie_id"]
    assert not features.loc[later_ids, people_columns].equals(again.loc[later_ids, people_columns])


def test_synthetic_directors_recur_across_years(tables: MovieTables) -> None:
    directed = tables.people[tables.people["role"] == "director"].join(
        tables.movies.set_index("movie_id")["release_year"], on="movie_id"
    )
    spans = directed.groupby("person_name")["release_year"].agg(["min", "max", "size"])
    assert set(spans.index) == set(CREDITS_DIRECTORS)
    assert (spans["max"] - spans["min"] >= 10).all() and (spans["size"] >= 20).all()


@pytest.mark.slow  # trains a model on 400 real films (about 20 s)
def test_cli_trains_with_credits_and_says_how_many_films_have_a_director(
    subset: tuple[Path, Path, list[int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from datalake.cli import app
    from datalake.settings import get_settings

    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    movies, credits, ids = subset
    runner = CliRunner()
    result = runner.invoke(app, ["train", "movie-success", "--input", str(movies), "--credits", str(credits)])
    assert result.exit_code == 0, result.output
    assert "+ credits credits.csv" in result.output
    assert f"credits: {len(ids) - 10:,} of {len(ids):,} films have a director" in result.output
    assert "PROMOTED (first model" in result.output
    alone = runner.invoke(app, ["train", "movie-success", "--credits", str(credits)])
    assert alone.exit_code != 0 and "--credits goes with --input" in alone.output
