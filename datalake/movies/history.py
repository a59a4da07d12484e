"""Track records as of a date: what the lake knew about a company, keyword or person before a release.

For every entity (a production company, a keyword, the director, a cast member, a collection)
two event streams are kept:

- *appearances*: each earlier film of the entity, known the day it was released;
- *outcomes*: each earlier labelled film's success and log revenue/budget, known only
  ``OUTCOME_LAG_DAYS`` after its release (box office takes months to settle).

A film released on day ``d`` sees appearances before ``d`` and outcomes known before ``d``:
strictly earlier, so films released the same day never see each other, and a film never sees
itself or anything later. The same function serves training (every film as of its own date)
and prediction (a new film against the events the model was trained with).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from datalake.movies.label import outcomes
from datalake.movies.tables import MovieTables

#: Days after release before a film's revenue and rating count as known.
OUTCOME_LAG_DAYS = 180
#: Pseudo-films of the global success rate mixed into each entity's rate (smoothing).
PRIOR_WEIGHT = 5.0
#: The base rate assumed before any outcome is known (about the labelled share of successes).
NO_HISTORY_RATE = 0.4
#: Entity kinds, and the bridge column naming each entity.
KINDS = ("company", "keyword", "director", "cast", "collection", "franchise")
EVENT_COLUMNS = ("kind", "entity", "at", "appearance", "labelled", "success", "log_roi")


def entities(tables: MovieTables) -> pd.DataFrame:
    """One row per (movie, entity): ``movie_id``, ``kind``, ``entity`` (a string key)."""
    parts = [
        _entity_frame(tables.companies, "company", "company_id", "company_name"),
        _entity_frame(tables.keywords, "keyword", "keyword_id", "keyword_name"),
    ]
    people = tables.people
    for role, kind in (("director", "director"), ("cast", "cast")):
        chosen = people[people["role"] == role]
        parts.append(_entity_frame(chosen, kind, "person_id", "person_name"))
    collections = tables.movies[["movie_id", "collection_id"]].dropna()
    parts.append(_entity_frame(collections, "collection", "collection_id", None))
    # Titles stand in for collections where none is recorded (the Kaggle file): "Iron Man 2"
    # follows "Iron Man", "Saw III" follows "Saw".
    stems = tables.movies["title"].map(title_stem)
    parts.append(pd.DataFrame({"movie_id": tables.movies["movie_id"], "kind": "franchise", "entity": stems}))
    return pd.concat(parts, ignore_index=True).drop_duplicates()


_SEQUEL_TAIL = re.compile(r"\b(part\s+)?([0-9]+|ii|iii|iv|v|vi)\s*$")


def title_stem(title: object) -> str | None:
    """A franchise key from a title: before any colon, without a sequel number or a leading article."""
    if not isinstance(title, str) or not title.strip():
        return None
    text = _SEQUEL_TAIL.sub("", title.lower().split(":")[0].strip())
    text = re.sub(r"^(the|a)\s+", "", text.strip())
    words = text.split()[:3]
    return " ".join(words) or None


def _entity_frame(frame: pd.DataFrame, kind: str, id_column: str, name_column: str | None) -> pd.DataFrame:
    # Named entities are keyed by their folded name, so a request naming "Pixar" meets the
    # history of the company TMDB lists with an id; the id stands in where the name is missing.
    keys = frame[id_column].astype("string").str.replace(r"\.0$", "", regex=True)
    if name_column is not None:
        names = frame[name_column].astype("string").str.strip().str.lower()
        keys = names.where(names.notna() & (names != ""), "id:" + keys)
    return pd.DataFrame(
        {"movie_id": frame["movie_id"].astype("int64"), "kind": kind, "entity": keys}
    ).dropna()


def events(tables: MovieTables) -> pd.DataFrame:
    """The appearance and outcome events of every film in ``tables`` (the model keeps these).

    Returns
    -------
    pandas.DataFrame
        ``kind``, ``entity``, ``at`` (when the event became known), ``appearance`` (1 for an
        appearance, 0 for an outcome), ``labelled``, ``success``, ``log_roi`` (outcome rows
        only). The kind ``all`` with entity ``*`` carries every film (the global base rate).
    """
    movies = tables.movies[["movie_id", "release_date"]].dropna(subset=["release_date"])
    known = outcomes(tables.movies).set_index("movie_id")
    links = pd.concat(
        [entities(tables), pd.DataFrame({"movie_id": movies["movie_id"], "kind": "all", "entity": "*"})],
        ignore_index=True,
    ).merge(movies, on="movie_id")
    appearances = links.assign(appearance=1, labelled=0.0, success=0.0, log_roi=0.0)
    result = links.join(known[["labelled", "success", "log_roi"]], on="movie_id")
    result = result[result["labelled"]]
    outcome_rows = result.assign(
        release_date=result["release_date"] + pd.Timedelta(days=OUTCOME_LAG_DAYS),
        appearance=0,
        labelled=1.0,
    )
    stream = pd.concat([appearances, outcome_rows], ignore_index=True).rename(columns={"release_date": "at"})
    return stream[list(EVENT_COLUMNS)].reset_index(drop=True)


def as_of(queries: pd.DataFrame, stream: pd.DataFrame) -> pd.DataFrame:
    """Each query's totals over the events of its entity known strictly before the query's date.

    Parameters
    ----------
    queries
        ``movie_id``, ``kind``, ``entity``, ``at`` (the film's release date).
    stream
        Events from :func:`events`.

    Returns
    -------
    pandas.DataFrame
        The queries with ``films`` (earlier appearances), ``labelled``, ``successes`` and
        ``log_roi_sum`` (over outcomes known before ``at``).
    """
    q = queries[["movie_id", "kind", "entity", "at"]].copy()
    q["order"] = 0  # a query sorts before any event of the same day: strictly earlier only
    e = stream.copy()
    e["order"] = 1
    merged = pd.concat([q, e], ignore_index=True)
    merged = merged.sort_values(["kind", "entity", "at", "order"], kind="mergesort")
    for column in ("appearance", "labelled", "success", "log_roi"):
        merged[column] = merged[column].fillna(0.0).astype("float64")
    grouped = merged.groupby(["kind", "entity"], sort=False)
    totals = grouped[["appearance", "labelled", "success", "log_roi"]].cumsum()
    merged[["films", "labelled", "successes", "log_roi_sum"]] = totals.to_numpy()
    answered = merged[merged["order"] == 0]
    return answered[["movie_id", "kind", "entity", "at", "films", "labelled", "successes", "log_roi_sum"]]


def history_features(tables: MovieTables, stream: pd.DataFrame) -> pd.DataFrame:
    """Per film and entity kind: how many earlier films, and how they did, as of its release.

    Parameters
    ----------
    tables
        The films to describe (their bridges name their entities).
    stream
        What was known: :func:`events` of the training tables (which may include these films;
        as-of dating keeps each film from seeing itself or later ones).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``movie_id``: for each kind, ``<kind>_films_max`` (most earlier films of any
        one of its entities), ``<kind>_known`` (entities with an earlier known outcome),
        ``<kind>_rate_max`` / ``<kind>_rate_mean`` (smoothed earlier success rate) and
        ``<kind>_log_roi_mean`` and ``<kind>_evidence`` (summed log-odds shift); plus
        ``prior_rate`` (the global rate then).
    """
    movies = tables.movies[["movie_id", "release_date"]].rename(columns={"release_date": "at"})
    links = entities(tables).merge(movies, on="movie_id")
    globals_ = as_of(movies.assign(kind="all", entity="*"), stream).set_index("movie_id")
    prior_rate = (globals_["successes"] / globals_["labelled"].where(globals_["labelled"] > 0)).fillna(
        NO_HISTORY_RATE
    )
    answered = as_of(links, stream)
    answered = answered.join(prior_rate.rename("prior_rate"), on="movie_id")
    answered["rate"] = (answered["successes"] + PRIOR_WEIGHT * answered["prior_rate"]) / (
        answered["labelled"] + PRIOR_WEIGHT
    )
    answered["log_roi_mean"] = answered["log_roi_sum"] / answered["labelled"].where(answered["labelled"] > 0)
    answered["known"] = (answered["labelled"] > 0).astype("float64")
    # Naive-Bayes style evidence: how far each entity's smoothed rate sits from the prior, in log-odds.
    base = answered["prior_rate"].clip(0.05, 0.95)
    rate = answered["rate"].clip(0.01, 0.99)
    answered["evidence"] = np.log(rate / (1 - rate)) - np.log(base / (1 - base))
    frame = pd.DataFrame(index=pd.Index(tables.movies["movie_id"].to_numpy(), name="movie_id"))
    frame["prior_rate"] = prior_rate.reindex(frame.index).to_numpy()
    for kind in KINDS:
        part = answered[answered["kind"] == kind].groupby("movie_id")
        frame[f"{kind}_films_max"] = part["films"].max().reindex(frame.index).fillna(0.0)
        frame[f"{kind}_known"] = part["known"].sum().reindex(frame.index).fillna(0.0)
        # An entity with no known outcome says nothing: its rate is the prior, left out of max/mean.
        informed = answered[(answered["kind"] == kind) & (answered["labelled"] > 0)].groupby("movie_id")
        frame[f"{kind}_rate_max"] = informed["rate"].max().reindex(frame.index)
        frame[f"{kind}_rate_mean"] = informed["rate"].mean().reindex(frame.index)
        frame[f"{kind}_log_roi_mean"] = informed["log_roi_mean"].mean().reindex(frame.index)
        frame[f"{kind}_evidence"] = informed["evidence"].sum().reindex(frame.index).fillna(0.0)
    return frame.astype("float64")
