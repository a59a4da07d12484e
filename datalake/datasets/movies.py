"""The processed movie tables (TMDB API extracts and the Kaggle TMDB 5000 file): one spec each.

``movies`` holds one row per movie and source (``tmdb``, ``sample`` or ``kaggle``): the newest
valid extraction of the movie from that source. The bridge tables hold that same extraction's
genres, keywords, production companies and people (the director(s) and the top-billed cast),
so a movie's rows in every table come from one extraction. ``source`` is in each bridge table's
key too: a movie landed from the Kaggle file and from the API keeps both versions apart (the
Kaggle file is a 2017 snapshot; SAMPLE data must never mix with real data).

Partitioning: none. A full TMDB catalogue is about a million movies (a few hundred MB of
Parquet), and the Kaggle file 4,803; a partition per ``release_year`` would hold a few hundred
rows each, could not hold a movie with no release date (``release_year`` NULL), and would move
a movie between partitions whenever TMDB corrects its date. The files are sorted by
``release_date`` (the time column), so their row-group statistics let DuckDB and Athena skip
the years a query does not ask for. The warehouse indexes serve the usual questions: top
grossing of a year (``release_year, revenue_usd``), movies by a director or actor
(``person_name, role``), by genre (``genre_name``) and by keyword (``keyword_name``).
"""

from __future__ import annotations

from datalake.datasets.semantics import (
    Condition,
    Dimension,
    Measure,
    Semantics,
    SourceChoice,
    TimeAxis,
    Words,
)
from datalake.datasets.spec import ColumnSpec, DatasetSpec, QualityRule
from datalake.movies.genres import GENRES

#: Values of every movie table's ``source``: the API, its labelled SAMPLE stand-in, the Kaggle file.
MOVIE_SOURCES = ("tmdb", "sample", "kaggle")
#: TMDB's release statuses (the API's and the Kaggle file's).
RELEASE_STATUSES = ("Rumored", "Planned", "In Production", "Post Production", "Released", "Canceled")
#: The longest films run a few days; anything longer is a unit or typing error.
MAX_RUNTIME_MIN = 10_000
#: The most expensive films cost under USD 0.5 billion and the top grosser earned under 3 billion.
MAX_MONEY_USD = 1e11
#: Cinema starts in the 1870s; TMDB lists planned films a few years ahead.
FIRST_FILM_YEAR, LAST_PLAUSIBLE_YEAR = 1870, 2100

_SOURCE = ColumnSpec("source", "string", False, "tmdb (the API), sample (generated) or kaggle (TMDB 5000)")
_MOVIE_ID = ColumnSpec("movie_id", "bigint", False, "TMDB movie id")
_SOURCE_RULE = QualityRule("source", "allowed_values", allowed=MOVIE_SOURCES)

#: A movie and its bridge tables join on these.
_MOVIE_KEY = ("movie_id", "source")
#: Fewer votes make a rating noise: a film needs this many to be ranked by its rating.
MIN_VOTES_TO_RANK = 1_000
#: Original languages people name (ISO 639-1 -> words); others match by their code.
_LANGUAGES = {
    "en": Words(("inglés",), ("English",)),
    "es": Words(("español", "castellano"), ("Spanish",)),
    "fr": Words(("francés",), ("French",)),
    "de": Words(("alemán",), ("German",)),
    "it": Words(("italiano",), ("Italian",)),
    "ja": Words(("japonés",), ("Japanese",)),
    "zh": Words(("chino", "mandarín"), ("Chinese", "Mandarin")),
    "ko": Words(("coreano",), ("Korean",)),
    "hi": Words(("hindi",), ("Hindi",)),
    "ru": Words(("ruso",), ("Russian",)),
    "pt": Words(("portugués",), ("Portuguese",)),
}

#: What /ask may ask of the movies (genres and companies through their bridge tables).
MOVIE_SEMANTICS = Semantics(
    subject="movies",
    entity=Words(
        (
            "película",
            "películas",
            "peli",
            "pelis",
            "film",
            "filmes",
            "cinta",
            "cintas",
            "títulos",
            "estrenos",
        ),
        ("movie", "movies", "film", "films", "picture", "pictures", "titles", "releases"),
    ),
    entity_names=Words(("película", "películas"), ("movie", "movies")),
    # "taquilla"/"box office" is the revenue measure; "estrenos"/"releases" are the rows.
    subject_words=Words(("cine", "estreno"), ("cinema",)),
    examples=Words(
        ("¿Top 10 películas mejor valoradas?", "¿Rating promedio por género?"),
        ("Top 10 best rated movies", "Average rating by genre"),
    ),
    key=_MOVIE_KEY,
    label="title",
    order="popularity",
    row_limit=10,
    source=SourceChoice("source", ("tmdb", "kaggle", "sample")),
    time=TimeAxis(
        "release_date", "release_year", Words(("año", "años", "estreno"), ("year", "years", "release"))
    ),
    measures=(
        Measure(
            "budget",
            "budget_usd",
            "USD",
            Words(
                ("presupuesto", "coste", "costo", "inversión", "gastó", "gastaron", "costó producir"),
                ("budget", "cost", "costs", "spent making", "spent on making", "cost to make"),
            ),
            superlatives=Words(("más caras", "más cara", "más costosas"), ("most expensive",)),
            least=Words(
                ("más baratas", "más barata", "de menor presupuesto"), ("cheapest", "least expensive")
            ),
        ),
        Measure(
            "revenue",
            "revenue_usd",
            "USD",
            Words(
                ("recaudación", "ingresos", "taquilla", "recaudaron", "recaudó", "ganancias brutas"),
                ("revenue", "box office", "gross", "grossing", "grossed", "earnings", "earned"),
            ),
            superlatives=Words(
                ("más taquilleras", "más taquillera", "ganaron más dinero", "ganó más dinero"),
                ("highest grossing", "top grossing", "made the most money", "earned the most"),
            ),
        ),
        Measure(
            "profit",
            "revenue_usd - budget_usd",
            "USD",
            Words(("beneficio", "beneficios", "ganancia", "rentables"), ("profit", "profits", "profitable")),
            superlatives=Words(("más rentables", "más rentable"), ("most profitable",)),
        ),
        Measure(
            "rating",
            "vote_average",
            "/10",
            Words(
                (
                    "valoración",
                    "valoradas",
                    "valorada",
                    "rating",
                    "nota",
                    "puntuación",
                    "calificación",
                    "calificadas",
                    "puntuadas",
                ),
                ("rating", "rated", "score", "scores", "ratings"),
            ),
            aggregations=("avg", "max", "min"),
            superlatives=Words(
                ("mejores", "mejor", "mejor valoradas", "mejor puntuadas"), ("best", "top rated")
            ),
            least=Words(("peores", "peor", "peor valoradas"), ("worst", "worst rated", "lowest rated")),
            when=Condition("vote_count > 0", "con votos", "with votes"),
            ranked_when=Condition(
                f"vote_count >= {MIN_VOTES_TO_RANK}",
                f"que tienen al menos {MIN_VOTES_TO_RANK:,} votos".replace(",", "."),
                f"with at least {MIN_VOTES_TO_RANK:,} votes",
            ),
        ),
        Measure(
            "popularity",
            "popularity",
            "",
            Words(
                ("popularidad", "populares", "popular", "famosas", "famosa", "conocidas", "vistas"),
                ("popularity", "popular", "famous", "best known", "well known"),
            ),
            aggregations=("avg", "max", "min"),
        ),
        Measure(
            "runtime",
            "runtime_min",
            "min",
            Words(
                ("duración", "duran", "dura", "minutos"),
                ("runtime", "length", "duration", "minutes", "lasts", "lasting"),
            ),
            aggregations=("avg", "max", "min", "sum"),
            superlatives=Words(("más largas", "más larga", "largas"), ("longest", "long")),
            least=Words(("más cortas", "más corta", "cortas"), ("shortest", "short")),
        ),
        Measure(
            "votes",
            "vote_count",
            "",
            Words(("votos", "votadas", "votada"), ("votes", "voted")),
            aggregations=("sum", "avg", "max", "min"),
        ),
    ),
    dimensions=(
        Dimension(
            "genre",
            "genre_name",
            Words(
                ("género", "géneros", "categoría", "categorías"),
                ("genre", "genres", "category", "categories"),
            ),
            values={english: Words((spanish,), (english,)) for english, spanish in GENRES.values()}
            | {
                "Science Fiction": Words(
                    ("ciencia ficción", "sci fi"), ("Science Fiction", "sci fi", "scifi")
                ),
                "Horror": Words(("terror", "miedo", "horror"), ("Horror", "scary")),
                "Thriller": Words(("suspense", "thriller", "suspenso"), ("Thriller",)),
                "War": Words(("bélica", "guerra", "bélicas"), ("War",)),
                "Animation": Words(("animación", "animadas", "dibujos animados"), ("Animation", "animated")),
                "Romance": Words(("romance", "románticas", "romántica"), ("Romance", "romantic")),
                "Comedy": Words(("comedia", "comedias"), ("Comedy", "comedies")),
                "Documentary": Words(("documental", "documentales"), ("Documentary", "documentaries")),
                "Family": Words(("familia", "familiares", "familiar"), ("Family",)),
                "Music": Words(("música", "musical", "musicales"), ("Music", "musical", "musicals")),
            },
            table="movie_genres",
            join=_MOVIE_KEY,
        ),
        Dimension(
            "language",
            "original_language",
            Words(("idioma", "idiomas", "lengua"), ("language", "languages")),
            values=_LANGUAGES,
        ),
        Dimension(
            "company",
            "company_name",
            Words(
                ("productora", "productoras", "estudio", "estudios", "compañía", "compañías"),
                (
                    "company",
                    "companies",
                    "studio",
                    "studios",
                    "production company",
                    "production companies",
                    "producers",
                ),
            ),
            table="movie_companies",
            join=_MOVIE_KEY,
            open=True,
        ),
        Dimension("status", "status", Words(("estado de producción",), ("release status",))),
    ),
)

MOVIES = DatasetSpec(
    name="movies",
    description="Movies from TMDB: one row per movie and source, its newest extraction.",
    columns=(
        _MOVIE_ID,
        ColumnSpec("title", "string", False, "Title (in the language TMDB was asked for)"),
        ColumnSpec("original_title", "string", True, "Title in the original language"),
        ColumnSpec("original_language", "string", True, "ISO 639-1 code of the original language"),
        ColumnSpec("release_date", "date", True, "Release date; NULL when unknown"),
        ColumnSpec("release_year", "int", True, "Year of release_date"),
        ColumnSpec("runtime_min", "int", True, "Running time, minutes; NULL when unknown (TMDB's 0)"),
        ColumnSpec("budget_usd", "bigint", True, "Budget, USD; NULL when unknown (TMDB's 0)"),
        ColumnSpec("revenue_usd", "bigint", True, "Worldwide box-office revenue, USD; NULL when unknown (0)"),
        ColumnSpec(
            "popularity", "double", True, "TMDB popularity score at extraction (not comparable over time)"
        ),
        ColumnSpec("vote_average", "double", True, "Mean user rating, 0-10, at extraction"),
        ColumnSpec("vote_count", "int", True, "Number of user ratings at extraction"),
        ColumnSpec("status", "string", True, "Release status (Released, Post Production, Rumored, ...)"),
        ColumnSpec("collection_id", "bigint", True, "TMDB collection (franchise) id; NULL when none"),
        ColumnSpec("overview", "string", True, "Plot summary"),
        _SOURCE,
        ColumnSpec(
            "extracted_at", "timestamp", False, "When TMDB answered (Kaggle: when the file landed), UTC"
        ),
    ),
    primary_key=("movie_id", "source"),
    time_column="release_date",
    warehouse_table="movies",
    # ``source``: every /ask question first finds the preferred source present, one lookup each
    # (datalake.ask.kinds.source_pick).
    indexes=(("release_year", "revenue_usd"), ("original_language",), ("source",)),
    askable=True,
    ask=MOVIE_SEMANTICS,
    quality_rules=(
        QualityRule("runtime_min", "range", 0, MAX_RUNTIME_MIN),
        QualityRule("budget_usd", "range", 0, MAX_MONEY_USD),
        QualityRule("revenue_usd", "range", 0, MAX_MONEY_USD),
        QualityRule("vote_average", "range", 0.0, 10.0),
        QualityRule("vote_count", "range", 0, None),
        QualityRule("popularity", "range", 0.0, None),
        QualityRule("release_year", "range", FIRST_FILM_YEAR, LAST_PLAUSIBLE_YEAR),
        QualityRule("status", "allowed_values", allowed=RELEASE_STATUSES),
        _SOURCE_RULE,
    ),
    source="tmdb",
)

MOVIE_GENRES = DatasetSpec(
    name="movie_genres",
    description="Genres of each movie (its newest extraction), one row per movie, source and genre.",
    columns=(
        _MOVIE_ID,
        ColumnSpec("genre_id", "bigint", False, "TMDB genre id (28 Action, 18 Drama, ...)"),
        ColumnSpec("genre_name", "string", True, "Genre name in English"),
        _SOURCE,
    ),
    primary_key=("movie_id", "source", "genre_id"),
    warehouse_table="movie_genres",
    indexes=(("genre_name",),),
    quality_rules=(_SOURCE_RULE,),
    askable=True,
    source="tmdb",
)

MOVIE_KEYWORDS = DatasetSpec(
    name="movie_keywords",
    description="TMDB keywords of each movie (its newest extraction), one row per movie, source and keyword.",
    columns=(
        _MOVIE_ID,
        ColumnSpec("keyword_id", "bigint", False, "TMDB keyword id"),
        ColumnSpec("keyword_name", "string", True, "Keyword (based on novel or book, dystopia, ...)"),
        _SOURCE,
    ),
    primary_key=("movie_id", "source", "keyword_id"),
    warehouse_table="movie_keywords",
    indexes=(("keyword_name",),),
    quality_rules=(_SOURCE_RULE,),
    source="tmdb",
)

MOVIE_COMPANIES = DatasetSpec(
    name="movie_companies",
    description=(
        "Production companies of each movie (its newest extraction), one row per movie, source and company."
    ),
    columns=(
        _MOVIE_ID,
        ColumnSpec("company_id", "bigint", False, "TMDB company id"),
        ColumnSpec("company_name", "string", True, "Company name"),
        _SOURCE,
    ),
    primary_key=("movie_id", "source", "company_id"),
    warehouse_table="movie_companies",
    indexes=(("company_name",),),
    quality_rules=(_SOURCE_RULE,),
    askable=True,
    source="tmdb",
)

MOVIE_PEOPLE = DatasetSpec(
    name="movie_people",
    description=(
        "Director(s) and top-billed cast of each movie (its newest API extraction; the Kaggle file "
        "has no credits), one row per movie, source, role and person."
    ),
    columns=(
        _MOVIE_ID,
        ColumnSpec("person_id", "bigint", False, "TMDB person id"),
        ColumnSpec("person_name", "string", True, "The person's credited name"),
        ColumnSpec("role", "string", False, "director or cast"),
        ColumnSpec(
            "cast_order", "int", True, "Billing order of a cast member (0 = top billed); NULL for directors"
        ),
        _SOURCE,
    ),
    primary_key=("movie_id", "source", "role", "person_id"),
    warehouse_table="movie_people",
    indexes=(("person_name", "role"),),
    quality_rules=(QualityRule("role", "allowed_values", allowed=("director", "cast")), _SOURCE_RULE),
    source="tmdb",
)

#: Every movie table, the movies first.
MOVIE_TABLES = (MOVIES, MOVIE_GENRES, MOVIE_KEYWORDS, MOVIE_COMPANIES, MOVIE_PEOPLE)
