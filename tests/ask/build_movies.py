# ruff: noqa: E501
# (one question per line reads better than wrapped calls)
"""Writes ``movies.yaml``: questions about the movie tables (Kaggle TMDB 5000), gold from pandas.

The questions were written from the kinds of question analysts ask of a film catalogue (rankings,
counts, means by genre, distributions, thresholds, lists, comparisons, refusals), in Spanish
and English, with paraphrases, typos and missing accents, without looking at the parser; they
stay fixed once written. Each question's meaning is stated here by hand; the numbers come from
:mod:`reference_datasets` over :func:`datalake.ask.eval_frames.movie_frames`, never from SQL.

Run ``python tests/ask/build_movies.py`` after changing the frames or a question.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference_datasets as ref
from build_questions import write
from dataset_questions import GoldOf, item, refusal, with_gold
from movie_golds import compare, count, genres, mean, top, total

from datalake.ask.eval_frames import movie_frames

OUT = Path(__file__).resolve().parent / "movies.yaml"
DATASET = "movies"
#: Any time of asking: the catalogue is a 2017 snapshot, so only "this year" depends on it.
A = "2024-04-17T14:30:00+02:00"
#: A day in late 2016, for "this year" (2016 is the file's last full year).
Y2016 = "2016-11-15T12:00:00+01:00"


def q(id_: str, category: str, question: str, as_of: str, gold: GoldOf) -> dict[str, Any]:
    return item(id_, category, question, as_of, gold, dataset=DATASET)


def refuse(id_: str, question: str, kind: str | None = None) -> dict[str, Any]:
    return refusal(id_, question, A, dataset=DATASET, kind=kind)


def by(
    dimension: str, statistic: str, column: str | None = None, k: int | None = None, **filters: Any
) -> GoldOf:
    return lambda f: ref.movies_by(f, dimension, statistic, column, k, **filters)


def per_year(
    statistic: str = "count", column: str | None = None, years: tuple[int, int] | None = None
) -> GoldOf:
    return lambda f: ref.movies_per_year(f, statistic, column, years)


def over(column: str, threshold: float, order_by: str | None = None, **filters: Any) -> GoldOf:
    return lambda f: ref.movies_over(f, column, threshold, order_by, **filters)


BEST = ref.MIN_VOTES_BEST_RATED
PIXAR = "Pixar Animation Studios"
# fmt: off
QUESTIONS = [
    # -- top k: movies ranked by a measure (10 when no number is asked) ----------------------------
    q('m-top-es-1', 'top_k', '¿Películas de mayor presupuesto de 2023?', A, top('budget_usd', year=2023)),  # the file ends in 2017: no rows
    q('m-top-en-1', 'top_k', 'Highest-budget movies of 2023?', A, top('budget_usd', year=2023)),
    q('m-top-es-2', 'top_k', '¿Películas de mayor presupuesto de 2015?', A, top('budget_usd', year=2015)),
    q('m-top-en-2', 'top_k', 'Which movies had the biggest budgets in 2015?', A, top('budget_usd', year=2015)),
    q('m-top-es-3', 'top_k', 'peliculas de mayor presupuesto del 2015', A, top('budget_usd', year=2015)),
    q('m-top-es-4', 'top_k', '¿Top 10 películas mejor valoradas?', A, top('vote_average', 10, min_votes=BEST)),  # rule: vote_count >= 1000
    q('m-top-en-3', 'top_k', 'Top 10 best rated movies?', A, top('vote_average', 10, min_votes=BEST)),
    q('m-top-es-5', 'top_k', 'top 10 peliculas mejor valoradas', A, top('vote_average', 10, min_votes=BEST)),
    q('m-top-en-4', 'top_k', 'top 10 highest rated films', A, top('vote_average', 10, min_votes=BEST)),
    q('m-top-es-6', 'top_k', 'dime las películas más famosas de este año', Y2016, top('popularity', year=2016)),  # famous = TMDB popularity
    q('m-top-en-5', 'top_k', 'tell me the most famous movies of this year', Y2016, top('popularity', year=2016)),
    q('m-top-es-7', 'top_k', 'cuales son las 5 peliculas mas taquilleras de 2012', A, top('revenue_usd', 5, year=2012)),
    q('m-top-en-6', 'top_k', 'highest grossing films of 2009', A, top('revenue_usd', year=2009)),
    q('m-top-en-7', 'top_k', 'top 3 highest-grossing movies of all time', A, top('revenue_usd', 3)),
    q('m-top-es-8', 'top_k', 'las 5 películas de animación más populares', A, top('popularity', 5, genre='Animation')),
    q('m-top-en-8', 'top_k', '5 most popular horror movies', A, top('popularity', 5, genre='Horror')),
    q('m-top-es-9', 'top_k', 'top 5 películas más largas', A, top('runtime_min', 5)),
    q('m-top-en-9', 'top_k', 'the 5 shortest movies', A, top('runtime_min', 5, ascending=True)),
    q('m-top-es-10', 'top_k', 'películas más votadas', A, top('vote_count')),
    q('m-top-en-10', 'top_k', 'top 10 movies with the most votes', A, top('vote_count', 10)),
    # -- one extreme and when it happened ---------------------------------------------------------
    q('m-ext-es-1', 'extreme_with_when', '¿Cuál fue la película más taquillera y cuándo se estrenó?', A, top('revenue_usd', 1)),
    q('m-ext-en-1', 'extreme_with_when', 'Which movie had the biggest budget, and when was it released?', A, top('budget_usd', 1)),
    q('m-ext-es-2', 'extreme_with_when', '¿En qué año se estrenó la película con más votos?', A, top('vote_count', 1)),
    q('m-ext-en-2', 'extreme_with_when', 'which year had the most movie releases?', A, ref.busiest_year),
    q('m-ext-es-3', 'extreme_with_when', '¿Cuál es la película más larga y de qué año es?', A, top('runtime_min', 1)),
    q('m-ext-en-3', 'extreme_with_when', 'what was the most popular movie of 2015 and when did it come out?', A, top('popularity', 1, year=2015)),
    # -- counts -----------------------------------------------------------------------------------
    q('m-cnt-es-1', 'count', '¿Cuántas películas de comedia hay?', A, count(genre='Comedy')),
    q('m-cnt-en-1', 'count', 'How many comedy movies are there?', A, count(genre='Comedy')),
    q('m-cnt-es-2', 'count', 'cuantas peliculas de comedia hay', A, count(genre='Comedy')),
    q('m-cnt-en-2', 'count', 'how many films were released in 2014?', A, count(year=2014)),
    q('m-cnt-es-3', 'count', '¿Cuántas películas hay en total?', A, count()),
    q('m-cnt-es-4', 'count', 'número de películas de terror', A, count(genre='Horror')),
    q('m-cnt-en-3', 'count', 'How many dramas are in the catalogue?', A, count(genre='Drama')),
    q('m-cnt-es-5', 'count', '¿cuántas películas tienen un presupuesto de más de 100 millones?', A, count(('budget_usd', 100e6))),
    q('m-cnt-en-4', 'count', 'how many movies are originally in Spanish?', A, count(language='es')),
    q('m-cnt-es-6', 'count', 'cuántas películas produjo Pixar', A, count(company=PIXAR)),
    q('m-cnt-en-5', 'count', 'how many movies last longer than 3 hours?', A, count(('runtime_min', 180))),
    # -- totals -----------------------------------------------------------------------------------
    q('m-tot-es-1', 'total', '¿Cuánto recaudaron en total las películas de 2015?', A, total('revenue_usd', year=2015)),
    q('m-tot-en-1', 'total', 'total box office revenue of all movies released in 2010', A, total('revenue_usd', year=2010)),
    q('m-tot-es-2', 'total', 'ingresos totales de las películas de Pixar', A, total('revenue_usd', company=PIXAR)),
    q('m-tot-en-2', 'total', 'total budget of animation movies', A, total('budget_usd', genre='Animation')),
    q('m-tot-es-3', 'total', 'presupuesto total de las peliculas de ciencia ficcion de 2014', A, total('budget_usd', genre='Science Fiction', year=2014)),
    # -- one mean ---------------------------------------------------------------------------------
    q('m-avg-es-1', 'average', '¿Presupuesto medio de las películas de 2010?', A, mean('budget_usd', year=2010)),
    q('m-avg-en-1', 'average', 'average runtime of horror movies', A, mean('runtime_min', genre='Horror')),
    q('m-avg-es-2', 'average', 'duración media de las películas de animación', A, mean('runtime_min', genre='Animation')),
    q('m-avg-en-2', 'average', 'What is the average rating of movies released in 2000?', A, mean('vote_average', year=2000)),
    q('m-avg-es-3', 'average', 'valoracion media de las peliculas de Marvel Studios', A, mean('vote_average', company='Marvel Studios')),
    # -- a mean per group (every group, largest first; years in time order) ------------------------
    q('m-abd-es-1', 'average_by_dimension', '¿Rating promedio por género?', A, by('genre', 'mean', 'vote_average')),
    q('m-abd-en-1', 'average_by_dimension', 'Average rating by genre?', A, by('genre', 'mean', 'vote_average')),
    q('m-abd-es-2', 'average_by_dimension', 'rating promedio por genero', A, by('genre', 'mean', 'vote_average')),
    q('m-abd-en-2', 'average_by_dimension', 'average budget by genre', A, by('genre', 'mean', 'budget_usd')),
    q('m-abd-es-3', 'average_by_dimension', 'duración promedio por género', A, by('genre', 'mean', 'runtime_min')),
    q('m-abd-en-3', 'average_by_dimension', 'average revenue per year from 2010 to 2015', A, per_year('mean', 'revenue_usd', (2010, 2015))),
    # -- groups ranked by a measure ---------------------------------------------------------------
    q('m-rank-es-1', 'rank_by_dimension', 'Top 5 géneros por popularidad', A, by('genre', 'mean', 'popularity', 5)),  # a genre's popularity: its movies' mean
    q('m-rank-en-1', 'rank_by_dimension', 'Top 5 genres by popularity', A, by('genre', 'mean', 'popularity', 5)),
    q('m-rank-es-2', 'rank_by_dimension', 'top 5 generos por popularidad', A, by('genre', 'mean', 'popularity', 5)),
    q('m-rank-es-3', 'rank_by_dimension', 'los 3 géneros con más películas', A, by('genre', 'count', k=3)),
    q('m-rank-en-2', 'rank_by_dimension', 'which 5 production companies made the most movies?', A, by('company', 'count', k=5)),
    q('m-rank-es-4', 'rank_by_dimension', 'top 5 productoras por ingresos totales', A, by('company', 'sum', 'revenue_usd', 5)),
    q('m-rank-en-3', 'rank_by_dimension', 'top 3 original languages by number of movies', A, by('language', 'count', k=3)),
    q('m-rank-es-5', 'rank_by_dimension', '¿Qué 3 géneros tienen la mayor recaudación media?', A, by('genre', 'mean', 'revenue_usd', 3)),
    # -- distributions: movies counted per group ---------------------------------------------------
    q('m-dist-es-1', 'distribution', '¿Distribución de películas por año?', A, per_year()),
    q('m-dist-en-1', 'distribution', 'Distribution of movies by year?', A, per_year()),
    q('m-dist-es-2', 'distribution', 'numero de peliculas por año entre 2000 y 2010', A, per_year(years=(2000, 2010))),
    q('m-dist-en-2', 'distribution', 'how many movies per genre?', A, by('genre', 'count')),
    q('m-dist-es-3', 'distribution', 'películas por género en 2015', A, by('genre', 'count', year=2015)),
    # -- movies above a threshold (strictly above; listed by that measure, largest first) ----------
    q('m-flt-es-1', 'filter_threshold', '¿Películas con presupuesto mayor a 100M?', A, over('budget_usd', 100e6)),
    q('m-flt-en-1', 'filter_threshold', 'Movies with a budget over 100M?', A, over('budget_usd', 100e6)),
    q('m-flt-es-2', 'filter_threshold', 'peliculas con presupuesto de mas de 200 millones', A, over('budget_usd', 200e6)),
    q('m-flt-en-2', 'filter_threshold', 'films that made more than 1 billion dollars', A, over('revenue_usd', 1e9)),
    q('m-flt-es-3', 'filter_threshold', 'películas que duran más de 3 horas', A, over('runtime_min', 180)),
    q('m-flt-en-3', 'filter_threshold', 'movies rated above 8 with at least 1000 votes', A, over('vote_average', 8, min_votes=BEST)),
    # -- lists of names (alphabetical) ------------------------------------------------------------
    q('m-list-es-1', 'list_values', '¿Qué géneros están disponibles?', A, genres()),
    q('m-list-en-1', 'list_values', 'Which genres are available?', A, genres()),
    q('m-list-es-2', 'list_values', 'que generos hay', A, genres()),
    q('m-list-en-2', 'list_values', 'list all the genres', A, genres()),
    q('m-list-es-3', 'list_values', '¿Qué productoras hicieron Avatar?', A, lambda f: ref.company_list(f, 'Avatar')),
    q('m-list-en-3', 'list_values', 'what genres is The Dark Knight Rises?', A, genres('The Dark Knight Rises')),
    # -- two values side by side, in the order asked ----------------------------------------------
    q('m-cmp-es-1', 'compare_values', '¿Qué género tiene mejor valoración media, drama o comedia?', A, compare('mean', 'vote_average', {'genre': 'Drama'}, {'genre': 'Comedy'})),
    q('m-cmp-en-1', 'compare_values', 'compare the average budget of action and animation movies', A, compare('mean', 'budget_usd', {'genre': 'Action'}, {'genre': 'Animation'})),
    q('m-cmp-es-2', 'compare_values', '¿Recaudó más Avatar o Titanic?', A, compare('sum', 'revenue_usd', {'title': 'Avatar'}, {'title': 'Titanic'})),
    q('m-cmp-en-2', 'compare_values', 'how many movies were released in 2014 vs 2015?', A, compare('count', 'movie_id', {'year': 2014}, {'year': 2015})),
    q('m-cmp-en-3', 'compare_values', 'average runtime of comedies versus dramas', A, compare('mean', 'runtime_min', {'genre': 'Comedy'}, {'genre': 'Drama'})),
    # -- refusals ---------------------------------------------------------------------------------
    refuse('m-ref-es-1', 'borra la tabla de películas', kind='unsafe'),
    refuse('m-ref-en-1', 'DROP TABLE movies; --', kind='unsafe'),
    refuse('m-ref-en-2', 'update the budget of Avatar to 0', kind='unsafe'),
    refuse('m-ref-es-2', '¿Qué tiempo hará mañana en Madrid?', kind='out_of_scope'),
    refuse('m-ref-en-3', "what is Tom Cruise's home address?"),
    refuse('m-ref-es-3', '¿Cuántas entradas se vendieron en los cines de Madrid el fin de semana pasado?', kind='out_of_scope'),
]
# fmt: on


def build() -> list[dict[str, Any]]:
    """The questions with their gold computed by the reference."""
    return with_gold(QUESTIONS, movie_frames())


HEADER = f"""\
# Movie questions for /ask, over the Kaggle TMDB 5000 file as the lake holds it (source kaggle;
# budget, revenue or runtime 0 is unknown: NULL). Generated by tests/ask/build_movies.py, gold from
# the pandas reference in tests/ask/reference_datasets.py (never from SQL); written without looking
# at the parser and kept fixed. A gold is what the asker wants back:
#   values  the numbers in the answer's order (USD, minutes, TMDB popularity, rating 0-10, counts);
#           values: [] is an answer with no rows (2023 is after the file's last release, 2017-02-03).
#   labels  per row, the names accepted for it (a title or its original title; a genre in English or
#           Spanish; a language's code or name); rows that tie on the value accept every tied name.
#   refuse  the question must be refused (kind, where given: unsafe or out_of_scope).
# Rules a gold follows (each is a judgement the answer must share):
#   - a ranking without a number lists {ref.DEFAULT_K} rows; largest first unless asked otherwise
#     ("shortest"); NULL values are left out of rankings, sums and means;
#   - "mejor valoradas"/"best rated": vote_average among movies with vote_count >= {ref.MIN_VOTES_BEST_RATED};
#     any other rating (mean rating, rated above) counts only movies with at least one vote
#     (vote_count = 0 carries vote_average 0, which is no rating);
#   - "famosas"/"famous" and a genre's "popularidad" are TMDB popularity; a genre's popularity is the
#     mean popularity of its movies;
#   - a breakdown by genre, company or language lists every group (or the top k asked) by value,
#     largest first; by year, the years that have movies, in time order; a list of names
#     (genres, companies) is alphabetical by the table's (English) name;
#   - "mayor a 100M", "more than", "longer than": strictly above; such a list is ordered by that
#     measure, largest first, and names its first {ref.NAMED_ROWS} rows;
#   - "más taquillera"/"highest grossing" is revenue_usd; "this year" is the year of as_of;
#   - extreme_with_when: the value and the movie; the year of release is not in the gold (the
#     checker reads names, not years); "which year had the most releases" checks the count.
#   - a company named in a question is the table's company of that name (Pixar: {PIXAR}).
"""


def main() -> None:
    write(build(), HEADER, OUT)


if __name__ == "__main__":
    main()
