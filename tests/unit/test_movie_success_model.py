"""The movie success classifier: no post-release feature, as-of history, the label, the time split."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn
from movie_fixtures import synthetic_tables

from datalake.errors import ConfigurationError
from datalake.movies import history
from datalake.movies.evaluation import YearSplit, fit_model
from datalake.movies.features import FEATURE_COLUMNS, POST_RELEASE_COLUMNS, build_features
from datalake.movies.label import outcomes
from datalake.movies.model import (
    MODEL_FILE,
    SPLINE_COLUMNS,
    UNUSED_COLUMNS,
    MovieSuccessModel,
    additive_pipeline,
    classifier_pipeline,
)
from datalake.movies.tables import MovieTables

SPLIT = YearSplit(validation_start=2006, train_end=2010)


@pytest.fixture(scope="module")
def tables() -> MovieTables:
    return synthetic_tables()


@pytest.fixture(scope="module")
def trained(tables: MovieTables) -> tuple[MovieSuccessModel, dict]:
    return fit_model(tables, SPLIT)


def test_no_feature_is_a_post_release_signal() -> None:
    names = " ".join(FEATURE_COLUMNS)
    for column in POST_RELEASE_COLUMNS:
        assert column not in FEATURE_COLUMNS
    for word in ("revenue", "popularity", "vote", "rating"):
        assert word not in names, f"a feature mentions {word}"


@pytest.mark.slow  # trains a model (module fixture, about 15 s)
def test_shuffling_post_release_columns_of_the_predicted_films_changes_nothing(
    tables: MovieTables, trained: tuple[MovieSuccessModel, dict]
) -> None:
    model, _ = trained
    recent = tables.subset(tables.movies.loc[tables.movies["release_year"] >= 2011, "movie_id"])
    before = model.probabilities(model.features(recent))
    shuffled = recent.movies.copy()
    rng = np.random.default_rng(1)
    for column in POST_RELEASE_COLUMNS:
        shuffled[column] = rng.permutation(shuffled[column].to_numpy())
    after = model.probabilities(model.features(MovieTables(shuffled, *list(recent.frames().values())[1:])))
    np.testing.assert_array_equal(before, after)


def test_history_sees_only_outcomes_known_before_release(tables: MovieTables) -> None:
    stream = history.events(tables)
    first = tables.movies.sort_values("release_date").iloc[0]
    features = build_features(tables, stream)
    # The earliest film has no earlier film: no track record at all.
    assert features.loc[first["movie_id"], "company_films_max"] == 0
    assert np.isnan(features.loc[first["movie_id"], "company_rate_max"])
    # Two films of one studio released the same day never see each other.
    twin = tables.movies.iloc[[0]].assign(movie_id=999_001)
    twin_tables = MovieTables(
        pd.concat([tables.movies.iloc[[0]], twin]),
        tables.genres.iloc[0:0],
        tables.keywords.iloc[0:0],
        pd.DataFrame(
            {"movie_id": [tables.movies.iloc[0]["movie_id"], 999_001], "company_id": 5, "company_name": "X"}
        ),
        tables.people.iloc[0:0],
    )
    seen = build_features(twin_tables, history.events(twin_tables))
    assert list(seen["company_films_max"]) == [0.0, 0.0]


def test_an_outcome_counts_only_after_the_lag(tables: MovieTables) -> None:
    movies = tables.movies.iloc[[0, 1]].copy()
    movies["movie_id"] = [1, 2]
    movies["release_date"] = pd.to_datetime(["2000-01-01", "2000-03-01"])
    companies = pd.DataFrame({"movie_id": [1, 2], "company_id": 9, "company_name": "Same"})
    empty = tables.genres.iloc[0:0]
    pair = MovieTables(movies, empty, tables.keywords.iloc[0:0], companies, tables.people.iloc[0:0])
    features = build_features(pair, history.events(pair))
    # The second film knows the first was made (films) but not yet how it did (lag 180 days).
    assert features.loc[2, "company_films_max"] == 1
    assert features.loc[2, "company_known"] == 0
    later = MovieTables(
        movies.assign(release_date=pd.to_datetime(["2000-01-01", "2001-01-01"])),
        *list(pair.frames().values())[1:],
    )
    assert build_features(later, history.events(later)).loc[2, "company_known"] == 1


def test_label_needs_twice_the_budget_and_a_rating_of_six() -> None:
    movies = pd.DataFrame(
        {
            "movie_id": [1, 2, 3, 4, 5],
            "budget_usd": [1e7, 1e7, 1e7, np.nan, 1e7],
            "revenue_usd": [2e7, 3e7, 1.9e7, 5e7, 5e7],
            "vote_average": [6.0, 5.9, 8.0, 7.0, 7.0],
            "vote_count": [100, 100, 100, 100, 3],
        }
    )
    result = outcomes(movies)
    assert result["labelled"].tolist() == [True, True, True, False, False]
    assert result["success"].tolist()[:3] == [1.0, 0.0, 0.0]


@pytest.mark.slow  # trains a model (module fixture, about 15 s)
def test_model_learns_the_planted_signal_and_beats_the_logistic_baseline_on_later_years(
    trained: tuple[MovieSuccessModel, dict],
) -> None:
    _, report = trained
    test = report["test"]
    assert test["model"]["roc_auc"] > 0.75
    assert test["model"]["roc_auc"] > test["logistic_baseline"]["roc_auc"]
    assert test["majority_baseline"]["roc_auc"] == 0.5
    assert report["counts"]["test"] > 0 and report["counts"]["train"] > report["counts"]["test"]
    assert 0.1 <= report["validation"]["model"]["threshold"] <= 0.9


@pytest.mark.slow  # trains a model (module fixture, about 15 s)
def test_saved_model_predicts_the_same(
    tmp_path, tables: MovieTables, trained: tuple[MovieSuccessModel, dict]
) -> None:
    model, _ = trained
    loaded = MovieSuccessModel.load(model.save(tmp_path / "model"))
    features = model.features(tables.subset([1, 2, 3]))
    np.testing.assert_allclose(loaded.probabilities(features), model.probabilities(features))
    factors = loaded.factors(features)
    assert len(factors) == 3 and all(isinstance(f, list) for f in factors)


@pytest.mark.slow  # trains a model (module fixture, about 15 s)
def test_a_model_saved_by_another_scikit_learn_is_refused_by_name(
    tmp_path, trained: tuple[MovieSuccessModel, dict]
) -> None:
    model, _ = trained
    model_dir = model.save(tmp_path / "model")
    saved = joblib.load(model_dir / MODEL_FILE)
    assert saved["sklearn_version"] == sklearn.__version__
    joblib.dump({**saved, "sklearn_version": "0.24.2"}, model_dir / MODEL_FILE)
    with pytest.raises(ConfigurationError, match=r"scikit-learn 0\.24\.2 .*scikit-learn==0\.24\.2"):
        MovieSuccessModel.load(model_dir)


@pytest.mark.slow  # trains a model (module fixture, about 15 s)
def test_the_classifier_averages_trees_and_the_additive_model_and_ignores_the_month(
    tables: MovieTables, trained: tuple[MovieSuccessModel, dict]
) -> None:
    model, _ = trained
    features = model.features(tables.subset(tables.movies["movie_id"].head(40)))
    blend = model.pipeline.named_steps["blend"]
    kept = model.pipeline.named_steps["drop_empty"].transform(features[list(FEATURE_COLUMNS)])
    assert not set(UNUSED_COLUMNS) & set(kept.columns)
    # Soft voting: the probability is the plain mean of the two models' probabilities.
    parts = [blend.named_estimators_[name].predict_proba(kept)[:, 1] for name in ("trees", "additive")]
    np.testing.assert_allclose(model.probabilities(features), np.mean(parts, axis=0))
    # The release month is left out: moving every film to another month changes nothing.
    moved = features.assign(release_month=(features["release_month"] % 12) + 1)
    np.testing.assert_array_equal(model.probabilities(features), model.probabilities(moved))


def test_additive_model_bends_only_the_spline_columns_and_skips_absent_ones() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["log_budget_usd", "runtime_min", "genre_count"])
    frame.loc[::7, "runtime_min"] = np.nan
    # A U-shaped effect of budget: a straight line cannot separate it, the spline can.
    success = (frame["log_budget_usd"].abs() > 0.8).astype(int)
    fitted = additive_pipeline(c=10.0).fit(frame, success)
    columns = fitted.named_steps["columns"]
    smooth = columns.transformers_[0]
    assert smooth[0] == "smooth" and list(smooth[2]) == ["log_budget_usd", "runtime_min"]
    assert set(smooth[2]) <= set(SPLINE_COLUMNS)
    assert list(columns.transformers_[1][2]) == ["genre_count"]
    assert fitted.score(frame, success) > 0.9
    straight = classifier_pipeline().named_steps["blend"].named_estimators["additive"]
    assert straight.named_steps["logistic"].C < 1  # the shipped model is strongly regularised


def test_lake_tables_are_read_one_source_at_a_time() -> None:
    """The Kaggle snapshot and the SAMPLE TMDB share movie ids: a mixed read would join them."""
    import pandas as pd

    from datalake.errors import DataValidationError
    from datalake.movies.tables import one_source

    frames = {
        "movies": pd.DataFrame({"movie_id": [1, 1, 2], "source": ["kaggle", "sample", "sample"]}),
        "genres": pd.DataFrame({"movie_id": [1, 1], "source": ["kaggle", "sample"], "genre_id": [28, 35]}),
    }
    picked = one_source(frames)
    assert list(picked["movies"]["source"]) == ["kaggle"] and list(picked["genres"]["genre_id"]) == [28]
    sample = one_source(frames, "sample")
    assert sorted(sample["movies"]["movie_id"]) == [1, 2] and list(sample["genres"]["genre_id"]) == [35]
    with pytest.raises(DataValidationError, match="tmdb"):
        one_source(frames, "tmdb")
