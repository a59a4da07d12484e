"""A pandas reference for the gold of the movie and energy-company question sets (no SQL).

It reads the frames of :mod:`datalake.ask.eval_frames` directly and answers each question's
meaning, written by hand in ``build_movies.py`` and ``build_energy.py``, with the rules stated
in those sets' headers:

- a ranking lists its rows by value (largest first unless asked otherwise), NULL values left
  out; where values tie, every name of the tied group is accepted at each of its positions;
- a breakdown by a category (genre, city, energy type) lists every group by value, largest
  first; a breakdown by time (year, month) lists the periods in time order;
- a list of names (genres, companies, cities) is in alphabetical order of the table's value;
- a rating is ``vote_average`` of movies with at least one vote (``vote_count = 0`` is "no
  rating", not 0); "best rated" also needs ``vote_count >= 1000``;
- budget, revenue and runtime unknown (NULL, TMDB's 0) are left out of sums and means.

Each function returns ``{"values": [...]}`` plus ``labels`` (accepted names per row) or ``times``
where the asker wants them back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

Frames = dict[str, pd.DataFrame]
Gold = dict[str, list[Any]]

#: TMDB's English genre names -> the names a Spanish answer may use.
GENRE_NAMES: dict[str, tuple[str, ...]] = {
    "Action": ("Acción",),
    "Adventure": ("Aventura",),
    "Animation": ("Animación",),
    "Comedy": ("Comedia",),
    "Crime": ("Crimen",),
    "Documentary": ("Documental",),
    "Drama": ("Drama",),
    "Family": ("Familia", "Familiar"),
    "Fantasy": ("Fantasía",),
    "Foreign": ("Extranjera", "Extranjero"),
    "History": ("Historia", "Histórica"),
    "Horror": ("Terror",),
    "Music": ("Música", "Musical"),
    "Mystery": ("Misterio",),
    "Romance": ("Romance", "Romántica"),
    "Science Fiction": ("Ciencia ficción", "Ciencia-ficción"),
    "TV Movie": ("Película de TV", "Telefilme"),
    "Thriller": ("Suspense", "Suspenso"),
    "War": ("Bélica", "Guerra"),
    "Western": ("Western", "Oeste"),
}
#: ISO 639-1 codes of the languages a question ranks -> their names in both languages.
LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("English", "inglés"),
    "fr": ("French", "francés"),
    "es": ("Spanish", "español"),
    "de": ("German", "alemán"),
    "zh": ("Chinese", "chino"),
}
#: Canonical energy types -> other names an answer may use.
ENERGY_TYPE_NAMES: dict[str, tuple[str, ...]] = {
    "EÓLICA": ("wind",),
    "HIDROELÉCTRICA": ("hydro", "hydroelectric", "hidráulica"),
    "SOLAR": (),
    "TÉRMICA": ("thermal",),
    "NUCLEAR": (),
}
TRANSACTION_NAMES: dict[str, tuple[str, ...]] = {
    "COMPRA": ("compras", "purchase", "purchases"),
    "VENTA": ("ventas", "sale", "sales"),
}
#: Rows a ranking lists when the question names no number.
DEFAULT_K = 10
#: Votes a movie needs to count among the "best rated".
MIN_VOTES_BEST_RATED = 1000
#: How many leading rows of a long filtered list carry their names in the gold.
NAMED_ROWS = 10


# -- shared helpers ---------------------------------------------------------------------------------


def _names(key: Any, translations: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    text = str(key)
    return [text, *(translations or {}).get(text, ())]


def ranked(
    values: pd.Series,
    names: dict[Any, list[str]],
    k: int | None,
    ascending: bool = False,
    named: int | None = None,
) -> Gold:
    """The top ``k`` of ``values`` (index: a key), NULLs left out, and the names accepted per row.

    A row's accepted names are those of every key whose value equals that row's (a tie may come
    in any order, and may be cut at ``k`` either way); ``named`` limits the rows given names.
    """
    values = values.dropna()
    order = sorted(values.items(), key=lambda kv: (kv[1] if ascending else -kv[1], str(kv[0])))
    top = order[: k or len(order)]
    ties: dict[float, list[str]] = {}
    for key, value in order:
        ties.setdefault(float(value), []).extend(names[key])
    labels = [list(dict.fromkeys(ties[float(value)])) for _, value in top[: named or len(top)]]
    gold: Gold = {"values": [_number(v) for _, v in top]}
    return gold | ({"labels": labels} if labels else {})


def _number(value: Any) -> int | float:
    """Whole numbers (counts, USD, minutes) as integers; others rounded to 6 decimals (the checker's
    tolerance is 1e-6)."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    number = float(value)
    return int(number) if number.is_integer() else round(number, 6)


def alphabetical(
    names: Iterable[str], translations: dict[str, tuple[str, ...]] | None = None
) -> list[list[str]]:
    """Names in alphabetical order, each row accepting its names in any language.

    Collations disagree on case and spaces ("TV Movie" sorts before "Thriller" byte by byte,
    after it in a dictionary order): where the two orders differ, a row accepts both names.
    """
    distinct = sorted(set(names))
    dictionary = sorted(distinct, key=lambda name: (name.casefold().replace(" ", ""), name))
    return [
        list(dict.fromkeys([*_names(first, translations), *_names(second, translations)]))
        for first, second in zip(distinct, dictionary, strict=True)
    ]


def values_only(values: Iterable[Any]) -> Gold:
    return {"values": [_number(v) for v in values]}


# -- movies -----------------------------------------------------------------------------------------


def movie_rows(
    frames: Frames,
    *,
    year: int | None = None,
    years: tuple[int, int] | None = None,
    genre: str | None = None,
    company: str | None = None,
    language: str | None = None,
    title: str | None = None,
    min_votes: int | None = None,
) -> pd.DataFrame:
    """The movies matching every filter given (a genre or company by its exact table name)."""
    movies = frames["movies"]
    keep = pd.Series(True, index=movies.index)
    if year is not None:
        keep &= movies["release_year"] == year
    if years is not None:
        keep &= movies["release_year"].between(*years)
    if genre is not None:
        genres = frames["movie_genres"]
        keep &= movies["movie_id"].isin(genres.loc[genres["genre_name"] == genre, "movie_id"])
    if company is not None:
        companies = frames["movie_companies"]
        keep &= movies["movie_id"].isin(companies.loc[companies["company_name"] == company, "movie_id"])
    if language is not None:
        keep &= movies["original_language"] == language
    if title is not None:
        keep &= movies["title"] == title
    if min_votes is not None:
        keep &= movies["vote_count"] >= min_votes
    return movies[keep.fillna(False).astype(bool)]


def _measure(rows: pd.DataFrame, column: str) -> pd.Series:
    """The column as floats; a rating only where the movie has votes."""
    values = rows[column].astype("Float64")
    if column == "vote_average":
        values = values.where(rows["vote_count"] > 0)
    return values.astype("float64")


def _title_names(rows: pd.DataFrame) -> dict[Any, list[str]]:
    return {
        movie_id: list(dict.fromkeys(n for n in (title, original) if isinstance(n, str)))
        for movie_id, title, original in zip(
            rows["movie_id"], rows["title"], rows["original_title"], strict=True
        )
    }


def top_movies(
    frames: Frames, column: str, k: int = DEFAULT_K, ascending: bool = False, **filters: Any
) -> Gold:
    """The ``k`` movies with the largest (smallest) ``column`` among those matching ``filters``."""
    rows = movie_rows(frames, **filters)
    values = pd.Series(_measure(rows, column).to_numpy(), index=rows["movie_id"])
    return ranked(values, _title_names(rows), k, ascending)


def movies_over(
    frames: Frames, column: str, threshold: float, order_by: str | None = None, **filters: Any
) -> Gold:
    """Every movie with ``column`` strictly above ``threshold``, by ``order_by`` (``column``) descending.

    Values are ``order_by``'s; the first :data:`NAMED_ROWS` rows carry their accepted titles.
    """
    rows = movie_rows(frames, **filters)
    rows = rows[_measure(rows, column) > threshold]
    values = pd.Series(_measure(rows, order_by or column).to_numpy(), index=rows["movie_id"])
    return ranked(values, _title_names(rows), None, named=NAMED_ROWS)


def count_movies(frames: Frames, over: tuple[str, float] | None = None, **filters: Any) -> Gold:
    """How many movies match (and have ``over[0] > over[1]`` when given)."""
    rows = movie_rows(frames, **filters)
    if over is not None:
        rows = rows[_measure(rows, over[0]) > over[1]]
    return values_only([len(rows)])


def movie_statistic(frames: Frames, statistic: str, column: str, **filters: Any) -> float:
    values = _measure(movie_rows(frames, **filters), column).dropna()
    return float(values.sum() if statistic == "sum" else values.mean())


def movie_total(frames: Frames, column: str, **filters: Any) -> Gold:
    return values_only([movie_statistic(frames, "sum", column, **filters)])


def movie_mean(frames: Frames, column: str, **filters: Any) -> Gold:
    return values_only([movie_statistic(frames, "mean", column, **filters)])


def movie_compare(frames: Frames, statistic: str, column: str, *filter_sets: dict[str, Any]) -> Gold:
    """One statistic per filter set, in the order asked (``count`` counts the movies)."""
    values = [
        len(movie_rows(frames, **f))
        if statistic == "count"
        else movie_statistic(frames, statistic, column, **f)
        for f in filter_sets
    ]
    return values_only(values)


def _with_dimension(frames: Frames, dimension: str, rows: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Movie rows joined to their genre or company (one row per movie and group), and the key column."""
    if dimension == "genre":
        return rows.merge(frames["movie_genres"][["movie_id", "genre_name"]], on="movie_id"), "genre_name"
    if dimension == "company":
        return rows.merge(
            frames["movie_companies"][["movie_id", "company_name"]], on="movie_id"
        ), "company_name"
    if dimension == "language":
        return rows[rows["original_language"].notna()], "original_language"
    raise ValueError(dimension)


def movies_by(
    frames: Frames,
    dimension: str,
    statistic: str,
    column: str | None = None,
    k: int | None = None,
    **filters: Any,
) -> Gold:
    """Per genre, company or language: movies counted, or ``column`` summed or averaged; by value."""
    values, names = _movie_groups(frames, dimension, statistic, column, **filters)
    return ranked(values, names, k)


def movies_by_ascending(
    frames: Frames,
    dimension: str,
    statistic: str,
    column: str | None = None,
    k: int | None = None,
    **filters: Any,
) -> Gold:
    """As :func:`movies_by`, smallest first ("the genres with the worst mean rating")."""
    values, names = _movie_groups(frames, dimension, statistic, column, **filters)
    return ranked(values, names, k, ascending=True)


def _movie_groups(
    frames: Frames, dimension: str, statistic: str, column: str | None, **filters: Any
) -> tuple[pd.Series, dict[Any, list[str]]]:
    """Per group of ``dimension``: the statistic's value, and each group's accepted names."""
    joined, key = _with_dimension(frames, dimension, movie_rows(frames, **filters))
    if statistic == "count":
        values = joined.groupby(key)["movie_id"].nunique()
    else:
        measure = joined.assign(_v=_measure(joined, column or ""))
        grouped = measure.groupby(key)["_v"]
        values = grouped.sum(min_count=1) if statistic == "sum" else grouped.mean()
    translations = {"genre": GENRE_NAMES, "language": LANGUAGE_NAMES}.get(dimension)
    return values, {group: _names(group, translations) for group in values.index}


def movies_per_year(
    frames: Frames,
    statistic: str = "count",
    column: str | None = None,
    years: tuple[int, int] | None = None,
    **filters: Any,
) -> Gold:
    """Per release year with movies (time order): movies counted or ``column`` averaged.

    ``filters`` (a genre, a company, ...) are those of :func:`movie_rows`.
    """
    rows = movie_rows(frames, years=years, **filters)
    rows = rows[rows["release_year"].notna()]
    if statistic == "count":
        values = rows.groupby("release_year")["movie_id"].count()
    else:
        values = rows.assign(_v=_measure(rows, column or "")).groupby("release_year")["_v"].mean()
    return values_only(values.sort_index().tolist())


def busiest_year(frames: Frames) -> Gold:
    """The largest number of movies released in one year (the year itself is the answer's label)."""
    counts = movie_rows(frames).groupby("release_year")["movie_id"].count()
    return values_only([counts.max()])


def genre_list(frames: Frames, title: str | None = None) -> Gold:
    """Every genre (of one movie when ``title`` is given), alphabetical by the table's English name."""
    genres = frames["movie_genres"]
    if title is not None:
        genres = genres[genres["movie_id"].isin(movie_rows(frames, title=title)["movie_id"])]
    return {"labels": alphabetical(genres["genre_name"].dropna(), GENRE_NAMES)}


def company_list(frames: Frames, title: str) -> Gold:
    """The production companies of a movie, alphabetical."""
    companies = frames["movie_companies"]
    names = companies.loc[
        companies["movie_id"].isin(movie_rows(frames, title=title)["movie_id"]), "company_name"
    ]
    return {"labels": alphabetical(names.dropna())}


def language_list(frames: Frames) -> Gold:
    """Every original language of the movies (ISO 639-1 code, or its name), alphabetical by code."""
    return {"labels": alphabetical(frames["movies"]["original_language"].dropna(), LANGUAGE_NAMES)}


# -- energy company ---------------------------------------------------------------------------------


def transactions(
    frames: Frames,
    *,
    kind: str | None = None,
    months: tuple[str, str] | None = None,
    energy: str | None = None,
    band: str | None = None,
    known: bool | None = None,
) -> pd.DataFrame:
    """Transactions of a kind (COMPRA/VENTA), in ``months`` (first, last: ``YYYY-MM``, inclusive)."""
    rows = frames["energy_transacciones"]
    keep = pd.Series(True, index=rows.index)
    if kind is not None:
        keep &= rows["tipo_transaccion"] == kind
    if months is not None:
        month = pd.to_datetime(rows["fecha_transaccion"]).dt.strftime("%Y-%m")
        keep &= month.between(*months)
    if energy is not None:
        keep &= rows["tipo_energia"] == energy
    if band is not None:
        keep &= rows["banda_precio"] == band
    if known is not None:
        keep &= rows["contraparte_conocida"] == known
    return rows[keep]


def count_by(frames: Frames, table: str, column: str, k: int | None = None) -> Gold:
    """Rows of ``table`` per value of ``column``, largest first."""
    counts = frames[table].groupby(column).size()
    return ranked(counts, {key: _names(key, ENERGY_TYPE_NAMES) for key in counts.index}, k)


def count_where(frames: Frames, table: str, **equal: Any) -> Gold:
    rows = frames[table]
    for column, value in equal.items():
        rows = rows[rows[column] == value]
    return values_only([len(rows)])


def count_transactions(frames: Frames, **filters: Any) -> Gold:
    return values_only([len(transactions(frames, **filters))])


def transaction_mean_by_kind(frames: Frames, column: str) -> Gold:
    """The mean of ``column`` per transaction kind, largest first."""
    means = frames["energy_transacciones"].groupby("tipo_transaccion")[column].mean()
    return ranked(means, {key: _names(key, TRANSACTION_NAMES) for key in means.index}, None)


def transaction_means(frames: Frames, columns: list[str], **filters: Any) -> Gold:
    """Means of several columns over the same transactions, in the order asked."""
    rows = transactions(frames, **filters)
    return values_only([rows[column].mean() for column in columns])


def weighted_price(frames: Frames, **filters: Any) -> Gold:
    """COP per kWh over the transactions: total paid over total energy."""
    rows = transactions(frames, **filters)
    return values_only([rows["precio_total_cop"].sum() / rows["cantidad_comprada_kwh"].sum()])


def transaction_total(frames: Frames, column: str, **filters: Any) -> Gold:
    return values_only([transactions(frames, **filters)[column].sum()])


def purchases_vs_sales(frames: Frames, column: str, months: tuple[str, str]) -> Gold:
    """Purchases then sales (the order asked) summed over ``column`` in ``months``."""
    return values_only(
        [transactions(frames, kind=kind, months=months)[column].sum() for kind in ("COMPRA", "VENTA")]
    )


def by_energy_type(
    frames: Frames, column: str, statistic: str = "sum", k: int | None = None, **filters: Any
) -> Gold:
    """Per energy type: ``column`` summed or averaged over the transactions, largest first."""
    grouped = transactions(frames, **filters).groupby("tipo_energia")[column]
    values = grouped.sum() if statistic == "sum" else grouped.mean()
    return ranked(values, {key: _names(key, ENERGY_TYPE_NAMES) for key in values.index}, k)


def monthly(frames: Frames, column: str | None, **filters: Any) -> Gold:
    """Per month in time order: ``column`` summed (transactions counted when None), with month starts."""
    rows = transactions(frames, **filters)
    month = pd.to_datetime(rows["fecha_transaccion"]).dt.to_period("M").dt.start_time.dt.strftime("%Y-%m-%d")
    grouped = rows.groupby(month)
    values = grouped.size() if column is None else grouped[column].sum()
    return {"values": [_number(v) for v in values.sort_index()], "times": sorted(values.index)}


def top_month(frames: Frames, column: str, **filters: Any) -> Gold:
    """The month with the largest ``column`` sum: its value and its first day."""
    series = monthly(frames, column, **filters)
    best = max(range(len(series["values"])), key=lambda i: series["values"][i])
    return {"values": [series["values"][best]], "times": [series["times"][best]]}


def largest_transaction(frames: Frames, column: str, **filters: Any) -> Gold:
    """The single largest transaction by ``column``: its value and its date."""
    rows = transactions(frames, **filters).sort_values([column, "fecha_transaccion"], ascending=[False, True])
    top = rows.iloc[0]
    return {"values": [_number(top[column])], "times": [str(top["fecha_transaccion"])]}


def names_of(frames: Frames, table: str, column: str, **equal: Any) -> Gold:
    """The distinct values of ``column`` (alphabetical), optionally where other columns equal values."""
    rows = frames[table]
    for name, value in equal.items():
        rows = rows[rows[name] == value]
    return {"labels": alphabetical(rows[column], ENERGY_TYPE_NAMES)}


def count_transactions_over(frames: Frames, column: str, threshold: float, **filters: Any) -> Gold:
    """How many transactions have ``column`` strictly above ``threshold``."""
    rows = transactions(frames, **filters)
    return values_only([int((rows[column] > threshold).sum())])


def transaction_compare(frames: Frames, statistic: str, column: str, *filter_sets: dict[str, Any]) -> Gold:
    """One statistic (``count``, ``sum`` or ``mean`` of ``column``) per filter set, in the order asked."""
    values = []
    for filters in filter_sets:
        rows = transactions(frames, **filters)
        if statistic == "count":
            values.append(len(rows))
        else:
            values.append(rows[column].sum() if statistic == "sum" else rows[column].mean())
    return values_only(values)


def largest_transactions(frames: Frames, column: str, k: int, **filters: Any) -> Gold:
    """The ``k`` largest transactions by ``column``: their values and dates, largest first."""
    rows = transactions(frames, **filters).sort_values([column, "fecha_transaccion"], ascending=[False, True])
    top = rows.head(k)
    return {
        "values": [_number(v) for v in top[column]],
        "times": [str(day) for day in top["fecha_transaccion"]],
    }


def months_ranked(
    frames: Frames, column: str | None, k: int, ascending: bool = False, **filters: Any
) -> Gold:
    """The ``k`` months with the largest (smallest) ``column`` sum, with each month's first day."""
    series = monthly(frames, column, **filters)
    pairs = sorted(
        zip(series["values"], series["times"], strict=True),
        key=lambda pair: (pair[0] if ascending else -pair[0], pair[1]),
    )[:k]
    return {"values": [value for value, _ in pairs], "times": [time for _, time in pairs]}
