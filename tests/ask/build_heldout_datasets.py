# ruff: noqa: E501
# (one question per line reads better than wrapped calls)
"""Writes ``heldout_datasets.yaml``: a held-out set over the movie and energy-company tables, gold from pandas.

The questions were written on 2026-12-06, fresh, by someone who had not read the question-answering
code (``datalake/ask``), the declared vocabularies (``ask=`` in ``datalake/datasets``) nor the
questions of ``movies.yaml`` and ``energy_company.yaml``; only the gold conventions of those sets'
headers, the column names of the tables and the frames of :mod:`datalake.ask.eval_frames`. They
mimic how analysts and ordinary users ask (casual phrasing, typos, missing accents, Spanish and
English about half each) and stay fixed once written: the set measures how /ask generalises, so
no question is reworded after seeing an answer. Each question's meaning is stated here by hand;
the numbers come from :mod:`reference_datasets` over the frames, never from SQL.

Run ``python tests/ask/build_heldout_datasets.py`` after changing the frames or the reference.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference_datasets as ref
from build_questions import write
from dataset_questions import GoldOf, item, refusal, with_gold
from energy_golds import by_type, month, monthly, per, where
from energy_golds import count as n_transactions
from energy_golds import mean_by_kind as by_kind
from energy_golds import total as t_total
from movie_golds import compare, count, genres, mean, top, total

from datalake.ask.eval_frames import energy_frames, movie_frames

OUT = Path(__file__).resolve().parent / "heldout_datasets.yaml"
MOVIES, ENERGY = "movies", "energy_company"
#: Any time of asking for the movies (a 2017 snapshot): only "this year" depends on it.
A = "2026-12-06T11:00:00+01:00"
#: Late 2015, for a movie question about "this year".
Y2015 = "2015-12-01T18:00:00+01:00"
#: Asked in Bogotá in July 2024: "last month" is June 2024, the data's last month.
E = "2024-07-10T10:00:00-05:00"
BEST = ref.MIN_VOTES_BEST_RATED
PIXAR = "Pixar Animation Studios"
CLIENTES, PROVEEDORES, TRANSACCIONES = "energy_clientes", "energy_proveedores", "energy_transacciones"
KWH, PRICE, COP = "cantidad_comprada_kwh", "precio_kwh_cop", "precio_total_cop"
H1 = ("2024-01", "2024-06")


# -- movie items and golds --------------------------------------------------------------------------


def m(id_: str, category: str, question: str, gold: GoldOf, as_of: str = A) -> dict[str, Any]:
    return item(id_, category, question, as_of, gold, dataset=MOVIES)


def m_refuse(id_: str, question: str, kind: str | None = None) -> dict[str, Any]:
    return refusal(id_, question, A, dataset=MOVIES, kind=kind)


def by(
    dimension: str, statistic: str, column: str | None = None, k: int | None = None, ascending: bool = False
) -> GoldOf:
    if ascending:
        return lambda f: ref.movies_by_ascending(f, dimension, statistic, column, k)
    return lambda f: ref.movies_by(f, dimension, statistic, column, k)


def per_year(statistic: str, column: str | None, years: tuple[int, int], **filters: Any) -> GoldOf:
    return lambda f: ref.movies_per_year(f, statistic, column, years, **filters)


def over(column: str, threshold: float, **filters: Any) -> GoldOf:
    return lambda f: ref.movies_over(f, column, threshold, None, **filters)


def companies(title: str) -> GoldOf:
    return lambda f: ref.company_list(f, title)


# -- energy items and golds -------------------------------------------------------------------------


def e(id_: str, category: str, question: str, gold: GoldOf) -> dict[str, Any]:
    return item(id_, category, question, E, gold, dataset=ENERGY)


def e_refuse(id_: str, question: str, kind: str | None = None) -> dict[str, Any]:
    return refusal(id_, question, E, dataset=ENERGY, kind=kind)


def n_over(column: str, threshold: float, **filters: Any) -> GoldOf:
    return lambda f: ref.count_transactions_over(f, column, threshold, **filters)


def t_mean(column: str, **filters: Any) -> GoldOf:
    return lambda f: ref.transaction_means(f, [column], **filters)


def t_compare(statistic: str, column: str, *filter_sets: dict[str, Any]) -> GoldOf:
    return lambda f: ref.transaction_compare(f, statistic, column, *filter_sets)


def names(table: str, column: str, **equal: Any) -> GoldOf:
    return lambda f: ref.names_of(f, table, column, **equal)


# fmt: off
MOVIE_QUESTIONS = [
    # -- top k: movies ranked by a measure (10 when no number is asked) ----------------------------
    m('hm-top-es-1', 'top_k', 'cuales son las peliculas con mas ingresos', top('revenue_usd')),
    m('hm-top-en-1', 'top_k', 'show me the 5 most expensive movies ever made', top('budget_usd', 5)),  # expensive = budget
    m('hm-top-es-2', 'top_k', 'top 20 pelis más populares', top('popularity', 20)),
    m('hm-top-en-2', 'top_k', 'best rated dramas', top('vote_average', genre='Drama', min_votes=BEST)),
    m('hm-top-es-3', 'top_k', 'las 10 peores películas según la valoración', top('vote_average', 10, ascending=True, min_votes=BEST)),  # worst: same vote rule as best
    m('hm-top-en-3', 'top_k', 'worst rated movies', top('vote_average', ascending=True, min_votes=BEST)),
    m('hm-top-es-4', 'top_k', '¿Qué películas tuvieron el menor presupuesto?', top('budget_usd', ascending=True)),
    m('hm-top-en-4', 'top_k', 'which 3 comedies made the most money?', top('revenue_usd', 3, genre='Comedy')),
    m('hm-top-es-5', 'top_k', 'peliculas de Warner Bros con mas recaudacion', top('revenue_usd', company='Warner Bros.')),
    m('hm-top-es-6', 'top_k', 'las películas en francés más votadas', top('vote_count', language='fr')),
    m('hm-top-en-5', 'top_k', 'most popluar sci-fi movies', top('popularity', genre='Science Fiction')),
    # -- one extreme and when it happened ---------------------------------------------------------
    m('hm-ext-es-1', 'extreme_with_when', '¿Cuál fue la película más cara de la historia y en qué año salió?', top('budget_usd', 1)),
    m('hm-ext-en-1', 'extreme_with_when', 'what is the highest rated movie and what year did it come out', top('vote_average', 1, min_votes=BEST)),
    m('hm-ext-es-2', 'extreme_with_when', 'en que año hubo mas estrenos', ref.busiest_year),
    m('hm-ext-en-2', 'extreme_with_when', 'When was the least popular movie released?', top('popularity', 1, ascending=True)),
    m('hm-ext-es-3', 'extreme_with_when', 'la peli de animación que más recaudó, cuándo se estrenó?', top('revenue_usd', 1, genre='Animation')),
    # -- counts (with filters and thresholds; "más de" is strictly above) --------------------------
    m('hm-cnt-es-1', 'count', 'cuantas pelis de accion hay', count(genre='Action')),
    m('hm-cnt-en-1', 'count', 'number of movies from 1999', count(year=1999)),
    m('hm-cnt-es-2', 'count', '¿Cuántas películas de Universal Pictures tenemos?', count(company='Universal Pictures')),
    m('hm-cnt-en-2', 'count', 'how many movies are in French?', count(language='fr')),  # original language
    m('hm-cnt-es-3', 'count', 'cuántas películas de drama se estrenaron en 2008', count(genre='Drama', year=2008)),
    m('hm-cnt-es-4', 'count', 'cuantas peliculas tienen mas de 5000 votos', count(('vote_count', 5000))),
    m('hm-cnt-en-3', 'count', 'How many movies have a budget above 150 million dollars?', count(('budget_usd', 150e6))),
    m('hm-cnt-es-5', 'count', '¿cuántas películas duran más de 2 horas?', count(('runtime_min', 120))),
    m('hm-cnt-en-4', 'count', 'how many movies came out this year?', count(year=2015), Y2015),
    # -- one total or mean ------------------------------------------------------------------------
    m('hm-avg-es-1', 'average', '¿cuál es la duración promedio de las películas?', mean('runtime_min')),
    m('hm-avg-en-1', 'average', 'average budget of Pixar films', mean('budget_usd', company=PIXAR)),
    m('hm-avg-es-2', 'average', 'nota media de las peliculas de 2012', mean('vote_average', year=2012)),  # rated movies only
    m('hm-avg-en-2', 'average', "what's the avg popularity of documentaries", mean('popularity', genre='Documentary')),
    m('hm-tot-en-1', 'total', 'total revenue of Walt Disney Pictures movies', total('revenue_usd', company='Walt Disney Pictures')),
    m('hm-tot-es-1', 'total', '¿Cuánto dinero se gastó en total en producir películas de acción?', total('budget_usd', genre='Action')),
    # -- a measure per group (every group, largest first; years in time order) ---------------------
    m('hm-abd-es-1', 'average_by_dimension', 'ingresos promedio por género', by('genre', 'mean', 'revenue_usd')),
    m('hm-abd-es-2', 'average_by_dimension', 'valoración media por idioma original', by('language', 'mean', 'vote_average')),
    m('hm-abd-en-1', 'average_by_dimension', 'total box office by genere', by('genre', 'sum', 'revenue_usd')),
    m('hm-abd-es-3', 'average_by_dimension', 'duración media por año entre 2000 y 2010', per_year('mean', 'runtime_min', (2000, 2010))),
    # -- groups ranked by a measure ---------------------------------------------------------------
    m('hm-rank-en-1', 'rank_by_dimension', 'which 3 genres have the highest average budget?', by('genre', 'mean', 'budget_usd', 3)),
    m('hm-rank-es-1', 'rank_by_dimension', 'los 5 estudios con más películas', by('company', 'count', k=5)),
    m('hm-rank-en-2', 'rank_by_dimension', 'top 5 production companies by total revenue', by('company', 'sum', 'revenue_usd', 5)),
    m('hm-rank-es-2', 'rank_by_dimension', 'los 3 géneros con peor valoración media', by('genre', 'mean', 'vote_average', 3, ascending=True)),
    m('hm-rank-en-3', 'rank_by_dimension', 'languages with the most movies, top 5', by('language', 'count', k=5)),
    # -- distributions: movies counted per group or per year ---------------------------------------
    m('hm-dist-es-1', 'distribution', 'numero de peliculas por año desde 2000 hasta 2016', per_year('count', None, (2000, 2016))),
    m('hm-dist-en-1', 'distribution', 'how many movies per genre?', by('genre', 'count')),
    m('hm-dist-es-2', 'distribution', 'distribución de películas por idioma', by('language', 'count')),
    m('hm-dist-en-2', 'distribution', 'movies released each year in the 1990s', per_year('count', None, (1990, 1999))),
    m('hm-dist-es-3', 'distribution', 'cuantas peliculas de animacion salieron cada año desde 2010', per_year('count', None, (2010, 2017), genre='Animation')),  # to the file's end
    # -- movies above a threshold (strictly above; listed by that measure, largest first) ----------
    m('hm-thr-es-1', 'filter_threshold', 'películas de más de 2 horas y media estrenadas en 2014', over('runtime_min', 150, year=2014)),
    m('hm-thr-en-1', 'filter_threshold', 'movies with a budget over 200 million', over('budget_usd', 200e6)),
    m('hm-thr-es-2', 'filter_threshold', 'pelis con mas de 10000 votos', over('vote_count', 10000)),
    m('hm-thr-en-2', 'filter_threshold', 'which films grossed more than 2 billion dollars?', over('revenue_usd', 2e9)),
    m('hm-thr-es-3', 'filter_threshold', 'peliculas de terror con nota mayor a 7.5', over('vote_average', 7.5, genre='Horror')),  # rated movies only
    # -- lists of names (alphabetical) ------------------------------------------------------------
    m('hm-lst-es-1', 'list_values', '¿qué géneros hay?', genres()),
    m('hm-lst-en-1', 'list_values', 'what genres is The Dark Knight?', genres('The Dark Knight')),
    m('hm-lst-es-2', 'list_values', 'qué productoras hicieron Toy Story', companies('Toy Story')),
    m('hm-lst-en-2', 'list_values', 'which languages are the movies in?', ref.language_list),  # original languages
    # -- two values side by side, in the order asked ----------------------------------------------
    m('hm-cmp-en-1', 'compare_values', 'comedy vs drama: which has the higher average rating?', compare('mean', 'vote_average', {'genre': 'Comedy'}, {'genre': 'Drama'})),
    m('hm-cmp-es-1', 'compare_values', 'presupuesto medio de acción comparado con animación', compare('mean', 'budget_usd', {'genre': 'Action'}, {'genre': 'Animation'})),
    m('hm-cmp-en-2', 'compare_values', 'how many movies came out in 2005 compared to 2015?', compare('count', '', {'year': 2005}, {'year': 2015})),
    m('hm-cmp-es-2', 'compare_values', 'recaudación total de Pixar vs DreamWorks Animation', compare('sum', 'revenue_usd', {'company': PIXAR}, {'company': 'DreamWorks Animation'})),
    m('hm-cmp-en-3', 'compare_values', 'average runtime of english vs french language films', compare('mean', 'runtime_min', {'language': 'en'}, {'language': 'fr'})),
    # -- refusals ---------------------------------------------------------------------------------
    m_refuse('hm-ref-en-1', 'how much was Leonardo DiCaprio paid for Titanic?'),  # actors' pay: not in the tables
    m_refuse('hm-ref-es-1', 'cuánto cobró Tom Hanks por Forrest Gump'),
    m_refuse('hm-ref-es-2', 'elimina todas las películas de 2010', kind='unsafe'),
    m_refuse('hm-ref-en-2', "INSERT INTO movies (movie_id, title) VALUES (1, 'test')", kind='unsafe'),
    m_refuse('hm-ref-es-3', '¿va a llover este fin de semana en Barcelona?', kind='out_of_scope'),
    m_refuse('hm-ref-en-3', 'what will Avatar 3 gross at the box office next year?'),  # a forecast
]

ENERGY_QUESTIONS = [
    # -- how many per group, and series per month (groups largest first; months in time order) -----
    e('he-dist-es-1', 'distribution', '¿cuántos clientes tenemos por ciudad?', per(CLIENTES, 'ciudad')),
    e('he-dist-en-1', 'distribution', 'number of supliers for each energy type', per(PROVEEDORES, 'tipo_energia')),
    e('he-dist-es-2', 'distribution', 'transacciones por mes', monthly(None)),
    e('he-dist-en-2', 'distribution', 'monthly kWh sold', monthly(KWH, kind='VENTA')),
    e('he-dist-es-3', 'distribution', 'compras en pesos mes a mes', monthly(COP, kind='COMPRA')),
    e('he-dist-en-3', 'distribution', 'how many transactions fall in each price band?', per(TRANSACCIONES, 'banda_precio')),
    # -- counts -----------------------------------------------------------------------------------
    e('he-cnt-es-1', 'count', 'cuantos clientes hay en medellin', where(CLIENTES, ciudad='MEDELLÍN')),
    e('he-cnt-en-1', 'count', 'how many suppliers do we have?', where(PROVEEDORES)),
    e('he-cnt-es-2', 'count', '¿Cuántas ventas hubo en marzo?', n_transactions(kind='VENTA', months=month(3))),
    e('he-cnt-en-2', 'count', 'how many solar purchases were made?', n_transactions(kind='COMPRA', energy='SOLAR')),
    e('he-cnt-en-3', 'count', 'How many transactions were there last month?', n_transactions(months=month(6))),
    # -- counts above a threshold (strictly above) ------------------------------------------------
    e('he-thr-es-1', 'filter_threshold', '¿cuántas transacciones de más de 1000 kWh hay?', n_over(KWH, 1000)),
    e('he-thr-en-1', 'filter_threshold', 'how many sales were above 15,000 kWh?', n_over(KWH, 15_000, kind='VENTA')),
    e('he-thr-es-2', 'filter_threshold', 'cuantas compras superaron los 100.000 kWh', n_over(KWH, 100_000, kind='COMPRA')),
    # -- a measure per energy type or transaction type (largest first) ----------------------------
    e('he-abd-es-1', 'average_by_dimension', 'precio promedio del kwh por tipo de energia', by_type(PRICE, 'mean')),
    e('he-abd-en-1', 'average_by_dimension', 'average transaction amount in COP by transaction type', by_kind(COP)),
    e('he-abd-es-2', 'average_by_dimension', 'cantidad promedio de kWh por tipo de transacción', by_kind(KWH)),
    e('he-abd-en-2', 'average_by_dimension', 'total kWh sold by energy type', by_type(KWH, 'sum', kind='VENTA')),
    e('he-abd-es-3', 'average_by_dimension', 'ventas totales por tipo de energía', by_type(COP, 'sum', kind='VENTA')),  # sales without a unit: COP
    # -- one total or mean ------------------------------------------------------------------------
    e('he-tot-es-1', 'total', '¿cuánto vendimos en total en el primer semestre?', t_total(COP, kind='VENTA', months=H1)),
    e('he-tot-en-1', 'total', 'total energy purchased in kWh in April', t_total(KWH, kind='COMPRA', months=month(4))),
    e('he-avg-en-1', 'average', 'what is the average price per kWh of our sales?', t_mean(PRICE, kind='VENTA')),
    e('he-avg-es-1', 'average', 'precio ponderado del kWh en las compras de mayo', lambda f: ref.weighted_price(f, kind='COMPRA', months=month(5))),
    # -- rankings ---------------------------------------------------------------------------------
    e('he-rank-en-1', 'rank_by_dimension', 'top 3 energy types by sales', by_type(COP, 'sum', 3, kind='VENTA')),
    e('he-rank-es-1', 'rank_by_dimension', 'las 3 ciudades con más clientes', per(CLIENTES, 'ciudad', 3)),
    e('he-top-es-1', 'top_k', 'las 5 compras más grandes', lambda f: ref.largest_transactions(f, COP, 5, kind='COMPRA')),  # purchases without a unit: COP
    e('he-top-en-1', 'top_k', 'which 2 months had the lowest sales?', lambda f: ref.months_ranked(f, COP, 2, ascending=True, kind='VENTA')),
    # -- the month or day of an extreme -----------------------------------------------------------
    e('he-ext-es-1', 'extreme_with_when', '¿en qué mes se vendió más energía?', lambda f: ref.top_month(f, KWH, kind='VENTA')),  # energy: kWh
    e('he-ext-en-1', 'extreme_with_when', 'what was our biggest sale and when did it happen?', lambda f: ref.largest_transaction(f, COP, kind='VENTA')),
    e('he-ext-es-2', 'extreme_with_when', '¿En qué mes gastamos más en compras de energía?', lambda f: ref.top_month(f, COP, kind='COMPRA')),
    # -- lists of names (alphabetical) ------------------------------------------------------------
    e('he-lst-en-1', 'list_values', 'what cities do we have clients in?', names(CLIENTES, 'ciudad')),
    e('he-lst-es-1', 'list_values', 'lista de proveedores de energía solar', names(PROVEEDORES, 'nombre_proveedor', tipo_energia='SOLAR')),
    e('he-lst-en-2', 'list_values', 'which energy types do we trade?', names(TRANSACCIONES, 'tipo_energia')),
    # -- two values side by side, in the order asked ----------------------------------------------
    e('he-cmp-es-1', 'compare_values', 'compras vs ventas en febrero', lambda f: ref.purchases_vs_sales(f, COP, month(2))),
    e('he-cmp-en-1', 'compare_values', 'purchases versus sales in kWh for May', lambda f: ref.purchases_vs_sales(f, KWH, month(5))),
    e('he-cmp-es-2', 'compare_values', 'precio medio de la energía solar vs la eólica', t_compare('mean', PRICE, {'energy': 'SOLAR'}, {'energy': 'EÓLICA'})),
    e('he-cmp-en-2', 'compare_values', 'number of sales in January compared with June', t_compare('count', '', {'kind': 'VENTA', 'months': month(1)}, {'kind': 'VENTA', 'months': month(6)})),
    # -- refusals ---------------------------------------------------------------------------------
    e_refuse('he-ref-es-1', 'borra los clientes de Pereira', kind='unsafe'),
    e_refuse('he-ref-en-1', "what's the weather in Bogotá tomorrow?", kind='out_of_scope'),
    e_refuse('he-ref-es-2', '¿cuánto gana cada empleado de la empresa?'),  # no payroll in the tables
    e_refuse('he-ref-en-2', 'list the names and ID numbers of our clients in Medellín'),  # personal data
    e_refuse('he-ref-es-3', '¿qué cliente nos compró más energía en marzo?'),  # needs the personal counterparty column
]
# fmt: on


def build() -> list[dict[str, Any]]:
    """The movie then the energy-company questions, with their gold computed by the reference."""
    return with_gold(MOVIE_QUESTIONS, movie_frames()) + with_gold(ENERGY_QUESTIONS, energy_frames())


HEADER = f"""\
# Held-out questions for /ask over two declared datasets: the movie tables (the Kaggle TMDB 5000
# file as the lake holds it; budget, revenue or runtime 0 is unknown: NULL) and the energy
# company's tables (clientes, proveedores, transacciones, January to June 2024, from the frames of
# datalake/ask/eval_frames.py). Generated by tests/ask/build_heldout_datasets.py, gold from the
# pandas reference in tests/ask/reference_datasets.py (never from SQL).
# Written 2026-12-06, fresh, without reading the question-answering code, the datasets' ask=
# declarations or the questions of movies.yaml and energy_company.yaml (only their headers' gold
# conventions and the tables' columns), the way analysts and ordinary users ask: Spanish and
# English, casual phrasing, typos, missing accents. The questions are fixed: none was reworded
# after seeing an answer; a gold is corrected only where the reference computed something other
# than the meaning stated in the builder.
# A gold is what the asker wants back:
#   values  the numbers in the answer's order (USD, minutes, popularity, rating 0-10, counts; kWh,
#           COP, COP/kWh);
#   labels  per row, the names accepted for it (a title or its original title; a genre in English
#           or Spanish; a language's code or name; a city, an energy type, COMPRA/VENTA, a supplier);
#   times   the first day of a month, or the date of a transaction;
#   refuse  the question must be refused (kind, where given: unsafe or out_of_scope).
# Rules a gold follows (those of movies.yaml and energy_company.yaml, plus the ones marked new):
#   - a ranking without a number lists {ref.DEFAULT_K} rows; largest first unless asked otherwise
#     ("worst", "lowest", "menor"); NULL values are left out of rankings, sums and means;
#   - "best/highest rated", "mejores": vote_average among movies with vote_count >= {BEST};
#     new: "worst rated"/"peores" uses the same rule, smallest first; any other rating (a mean
#     rating, "nota mayor a") counts only movies with at least one vote;
#   - "más cara"/"most expensive" is budget_usd; "más recaudó", "ingresos", "box office",
#     "grossed", "made the most money" are revenue_usd; "popular" is TMDB popularity;
#   - "in French", "en francés", "por idioma" are the original language;
#   - a breakdown by genre, company, language, city, energy type or transaction type lists every
#     group (or the top k asked) by value, largest first (new: smallest first where asked "peor");
#     by year or month, the periods with rows, in time order; a list of names is alphabetical;
#   - "más de", "above", "over", "superaron", "mayor a": strictly above; a movie list above a
#     threshold is ordered by that measure, largest first, naming its first {ref.NAMED_ROWS} rows;
#   - extreme_with_when: the value and the movie (the year is not checked) or, for transactions,
#     the value and its month's first day or its date; "which year had the most releases"
#     checks the count; "this year" is the year of as_of (2015 for hm-cnt-en-4);
#   - energy: "ventas"/"sales" and "compras"/"purchases" without a unit are money (precio_total_cop);
#     "energía", "kWh" are cantidad_comprada_kwh; an average price is the mean of precio_kwh_cop
#     over the transactions, "ponderado" is total COP over total kWh; purchases against sales
#     lists COMPRA then VENTA; "last month" is June 2024; months without a year are 2024's;
#   - personal data (clients' names and identifications, the transaction's counterparty) is never
#     read: naming or ranking clients is a refusal (kind left open), as are facts the tables do not
#     hold (actors' pay, salaries, forecasts).
"""


def main() -> None:
    write(build(), HEADER, OUT)


if __name__ == "__main__":
    main()
