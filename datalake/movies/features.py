"""The pre-release feature frame: only what is known before a film opens.

Allowed: budget, runtime, genres, original language, release month/year/weekday, how many
keywords, companies and credited people, whether it belongs to a collection, and the track
records (:mod:`datalake.movies.history`) of its companies, keywords, director, cast and
collection built from EARLIER films only. Never features: revenue, votes, rating, popularity
(``POST_RELEASE_COLUMNS``); they only define the label. A test checks the list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from datalake.movies.genres import GENRE_NAMES
from datalake.movies.history import KINDS, history_features
from datalake.movies.tables import MovieTables

#: Known only after release: never a feature (they may define the label).
POST_RELEASE_COLUMNS = ("revenue_usd", "popularity", "vote_average", "vote_count")
#: Languages with a column of their own; any other is "other".
LANGUAGES = ("en", "fr", "es", "de", "hi", "ja", "zh", "it", "ko", "cn", "ru")

BASE_FEATURES = (
    "log_budget_usd",
    "budget_known",
    "runtime_min",
    "release_year",
    "release_month",
    "release_weekday",
    "keyword_count",
    "company_count",
    "cast_count",
    "has_director",
    "in_collection",
    "genre_count",
)
GENRE_FEATURES = tuple(f"genre_{name.lower().replace(' ', '_')}" for name in GENRE_NAMES)
LANGUAGE_FEATURES = tuple(f"language_{code}" for code in (*LANGUAGES, "other"))
HISTORY_STATS = ("films_max", "known", "rate_max", "rate_mean", "log_roi_mean", "evidence")
HISTORY_FEATURES = ("prior_rate", *(f"{kind}_{stat}" for kind in KINDS for stat in HISTORY_STATS))
FEATURE_COLUMNS = BASE_FEATURES + GENRE_FEATURES + LANGUAGE_FEATURES + HISTORY_FEATURES
#: The logistic-regression baseline's features (budget, runtime, genres, month), as the issue states it.
BASELINE_FEATURES = ("log_budget_usd", "budget_known", "runtime_min", "release_month", *GENRE_FEATURES)


def _count(bridge: pd.DataFrame, index: pd.Index) -> np.ndarray:
    return bridge.groupby("movie_id").size().reindex(index).fillna(0).to_numpy(dtype="float64")


def build_features(tables: MovieTables, stream: pd.DataFrame) -> pd.DataFrame:
    """The feature frame of every film in ``tables``, in :data:`FEATURE_COLUMNS` order.

    Parameters
    ----------
    tables
        The films (movies and bridges). Their post-release columns are never read.
    stream
        What was known before each release: :func:`datalake.movies.history.events` of the
        training films (a trained model carries its own).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``movie_id``; float columns, NaN where unknown (the model handles gaps).
    """
    movies = tables.movies.set_index("movie_id")
    index = movies.index
    released = pd.to_datetime(movies["release_date"])
    budget = movies["budget_usd"].astype("float64")
    frame = pd.DataFrame(index=index)
    frame["log_budget_usd"] = np.log10(budget.where(budget > 0))
    frame["budget_known"] = budget.gt(0).astype("float64")
    frame["runtime_min"] = movies["runtime_min"].astype("float64").where(lambda r: r > 0)
    frame["release_year"] = released.dt.year.astype("float64")
    frame["release_month"] = released.dt.month.astype("float64")
    frame["release_weekday"] = released.dt.weekday.astype("float64")
    frame["keyword_count"] = _count(tables.keywords, index)
    frame["company_count"] = _count(tables.companies, index)
    frame["cast_count"] = _count(tables.people[tables.people["role"] == "cast"], index)
    frame["has_director"] = (_count(tables.people[tables.people["role"] == "director"], index) > 0).astype(
        "float64"
    )
    frame["in_collection"] = movies["collection_id"].notna().astype("float64")
    genres = tables.genres.assign(genre_name=tables.genres["genre_name"].astype("string"))
    frame["genre_count"] = _count(genres, index)
    for name, column in zip(GENRE_NAMES, GENRE_FEATURES, strict=True):
        having = set(genres.loc[genres["genre_name"] == name, "movie_id"])
        frame[column] = index.isin(having).astype("float64")
    language = movies["original_language"].astype("string").str.lower().fillna("")
    for code in LANGUAGES:
        frame[f"language_{code}"] = (language == code).astype("float64").to_numpy()
    frame["language_other"] = (~language.isin(LANGUAGES)).astype("float64").to_numpy()
    history = history_features(tables, stream)
    frame = frame.join(history[list(HISTORY_FEATURES)])
    return frame[list(FEATURE_COLUMNS)].astype("float64")
