"""TMDB raw files -> movie records -> the movie tables: pure DataFrame -> DataFrame functions.

Two raw shapes become one: a **record** per movie extraction (:data:`RECORDS`), whose ``details``
is the body of ``GET /movie/{id}?append_to_response=keywords,credits`` as TMDB sends it
(:data:`DETAILS`, the fields the tables use):

- an API extract (``raw/tmdb/movie/.../*.jsonl``): one envelope per line
  (``movie_id``, ``extracted_at``, ``source``, ``status`` ``ok``/``gone``, ``details``), parsed with
  ``from_json``; a ``gone`` envelope is a tombstone;
- the Kaggle TMDB 5000 movies file (``raw/tmdb/kaggle/.../*.csv``): one row per movie, read by
  Spark's CSV reader; its JSON-in-text columns (``genres``, ``keywords``, ``production_companies``)
  are parsed with ``from_json`` into the same shape, without credits;
- the Kaggle credits file beside it (``movie_id, title, cast, crew``): one **credits record** per
  movie (``status`` :data:`CREDITS_STATUS`, ``details`` holding only ``id`` and ``credits``, cut
  to the directors and the top-billed cast as the API extractor cuts them). A credits record is
  never a movie: the newest one of each movie stands beside the newest movie record, and
  :func:`people_rows` takes a Kaggle movie's people from it (credits of a movie the tables do not
  hold are left out: :func:`credits_without_movie` counts them).

Everything runs on Spark's own functions; no Python runs per row. A record with a ``problem``
(unparsable line, no id, an impossible date, a negative runtime, ...) is quarantined with it;
the tables are built from the newest valid record of each (movie, source)
(:func:`latest_records`), and a tombstone that is the newest removes the movie from every table.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from datalake.datasets.movies import MOVIE_COMPANIES, MOVIE_GENRES, MOVIE_KEYWORDS, MOVIE_PEOPLE, MOVIES
from datalake.sources.tmdb_kaggle import KAGGLE_COLUMNS, KAGGLE_CREDITS_COLUMNS
from datalake.sources.tmdb_raw import DEFAULT_TOP_CAST
from datalake.transforms import quality

#: Sub-folders of ``raw/tmdb``: API extracts (JSON Lines) and the Kaggle file as landed.
MOVIE_FOLDER, KAGGLE_FOLDER = "movie", "kaggle"
PROBLEM = "problem"
#: The ``status`` of a credits record (a Kaggle credits row): people for a movie, not a movie.
CREDITS_STATUS = "credits"

_NAMED = T.ArrayType(T.StructType([T.StructField("id", T.LongType()), T.StructField("name", T.StringType())]))
_CAST = T.StructType(
    [
        T.StructField("id", T.LongType()),
        T.StructField("name", T.StringType()),
        T.StructField("order", T.IntegerType()),
    ]
)
_CREW = T.StructType(
    [
        T.StructField("id", T.LongType()),
        T.StructField("name", T.StringType()),
        T.StructField("job", T.StringType()),
    ]
)
#: The fields of a TMDB details body the tables read (numbers as TMDB types them).
DETAILS = T.StructType(
    [
        T.StructField("id", T.LongType()),
        T.StructField("title", T.StringType()),
        T.StructField("original_title", T.StringType()),
        T.StructField("original_language", T.StringType()),
        T.StructField("release_date", T.StringType()),
        T.StructField("runtime", T.DoubleType()),
        T.StructField("budget", T.LongType()),
        T.StructField("revenue", T.LongType()),
        T.StructField("popularity", T.DoubleType()),
        T.StructField("vote_average", T.DoubleType()),
        T.StructField("vote_count", T.LongType()),
        T.StructField("status", T.StringType()),
        T.StructField("overview", T.StringType()),
        T.StructField("belongs_to_collection", T.StructType([T.StructField("id", T.LongType())])),
        T.StructField("genres", _NAMED),
        T.StructField("production_companies", _NAMED),
        T.StructField("keywords", T.StructType([T.StructField("keywords", _NAMED)])),
        T.StructField(
            "credits",
            T.StructType(
                [T.StructField("cast", T.ArrayType(_CAST)), T.StructField("crew", T.ArrayType(_CREW))]
            ),
        ),
    ]
)
#: Numeric fields of ``details`` whose text must parse (a string where TMDB sends a number is a problem).
_NUMBERS = ("id", "runtime", "budget", "revenue", "popularity", "vote_average", "vote_count")
_ENVELOPE = T.StructType(
    [
        T.StructField("movie_id", T.LongType()),
        T.StructField("extracted_at", T.StringType()),
        T.StructField("source", T.StringType()),
        T.StructField("status", T.StringType()),
        T.StructField("details", DETAILS),
        T.StructField("_corrupt", T.StringType()),
    ]
)
#: The numbers of an envelope line as their JSON text, whatever their type: what a number check
#: quotes when TMDB sent something that is not a number (one parse for every check of a line).
_NUMBER_TEXTS = T.StructType(
    [
        T.StructField("movie_id", T.StringType()),
        T.StructField("details", T.StructType([T.StructField(name, T.StringType()) for name in _NUMBERS])),
        T.StructField("_corrupt", T.StringType()),
    ]
)
#: One movie extraction (an envelope line or a Kaggle row), or one file that could not be read.
RECORDS = T.StructType(
    [
        T.StructField("path", T.StringType()),
        T.StructField("line_number", T.LongType()),
        T.StructField("raw_record", T.StringType()),
        T.StructField(PROBLEM, T.StringType()),
        T.StructField("movie_id", T.LongType()),
        T.StructField("source", T.StringType()),
        T.StructField("extracted_at", T.TimestampType()),
        T.StructField("status", T.StringType()),
        T.StructField("details", DETAILS),
    ]
)
#: The tiebreak between records of one movie extracted at the same moment (reruns pick the same).
TIEBREAK = ("path", "line_number", "raw_record")


def _problems(*checks: tuple[Column, Column]) -> Column:
    """``(failed, message)`` pairs -> the messages of the failed ones joined by ``; `` (null if none)."""
    joined = F.concat_ws(
        "; ", *(F.when(F.coalesce(failed, F.lit(False)), message) for failed, message in checks)
    )
    return F.when(joined != "", joined)


def _quoted(column: Column) -> Column:
    return F.format_string("'%s'", column)


def _release_date(text: Column) -> Column:
    """``YYYY-MM-DD`` -> a date; null for an empty text, and for an impossible day (``2015-02-30``).

    ``make_date`` rather than ``to_date``: Spark 3's parser raises on texts its legacy parser read
    differently (an impossible day among them) instead of returning null.
    """
    parts = [F.regexp_extract(text, r"^(\d{4})-(\d{2})-(\d{2})$", i).cast("int") for i in (1, 2, 3)]
    return F.when(text.rlike(r"^\d{4}-\d{2}-\d{2}$"), F.make_date(*parts))


def movie_columns(records: DataFrame) -> DataFrame:
    """Records -> the same plus the ``movies`` columns from ``details`` (a 0 budget, revenue or runtime
    is unknown: NULL); the movie's release status is ``movie_status`` beside the record's ``status``."""
    d = F.col("details")
    release = _release_date(F.trim(d["release_date"]))
    return records.select(
        "*",
        F.col("movie_id").alias("_movie_id"),
        F.nullif(F.trim(d["title"]), F.lit("")).alias("title"),
        F.nullif(F.trim(d["original_title"]), F.lit("")).alias("original_title"),
        F.nullif(F.trim(d["original_language"]), F.lit("")).alias("original_language"),
        release.alias("release_date"),
        F.year(release).alias("release_year"),
        F.nullif(d["runtime"], F.lit(0.0)).cast("int").alias("runtime_min"),
        F.nullif(d["budget"], F.lit(0)).alias("budget_usd"),
        F.nullif(d["revenue"], F.lit(0)).alias("revenue_usd"),
        d["popularity"].alias("popularity"),
        d["vote_average"].alias("vote_average"),
        d["vote_count"].cast("int").alias("vote_count"),
        F.nullif(F.trim(d["status"]), F.lit("")).alias("movie_status"),
        d["belongs_to_collection"]["id"].alias("collection_id"),
        F.nullif(d["overview"], F.lit("")).alias("overview"),
    ).drop("_movie_id")


def _movie_problems(records: DataFrame, checks: Sequence[tuple[Column, Column]]) -> DataFrame:
    """Records with ``problem`` set from ``checks``, then (for ``ok`` records) the ``movies`` rules."""
    d = F.col("details")
    date_text = F.trim(d["release_date"])
    checks = [
        *checks,
        (F.col("status").isin("ok") & d.isNull(), F.lit("status ok but no details")),
        (
            d["id"].isNotNull() & (d["id"] != F.col("movie_id")),
            F.format_string("details.id %s is not movie_id %s", d["id"], F.col("movie_id")),
        ),
        (
            (date_text != "") & _release_date(date_text).isNull(),
            F.concat(F.lit("release_date: not a date "), _quoted(date_text)),
        ),
        (
            d["runtime"] != F.floor(d["runtime"]),
            F.concat(F.lit("runtime: not whole minutes "), _quoted(d["runtime"])),
        ),
        *(
            (F.exists(array, lambda entry: entry["id"].isNull()), F.lit(f"{name}: an entry has no id"))
            for name, array in (
                ("genres", d["genres"]),
                ("keywords", d["keywords"]["keywords"]),
                ("production_companies", d["production_companies"]),
                ("credits.cast", d["credits"]["cast"]),
                ("credits.crew", d["credits"]["crew"]),
            )
        ),
    ]
    found = F.concat_ws("; ", F.col(PROBLEM), _problems(*checks))
    flagged = records.withColumn(PROBLEM, F.when(found != "", found))
    typed = (
        movie_columns(flagged)
        .withColumnRenamed("status", "_record_status")
        .withColumnRenamed("movie_status", "status")
    )
    # The movies rules, on the extractions that would become movie rows (a tombstone has no details).
    rules = quality.with_reasons(typed, MOVIES).withColumn(
        quality.REASON, F.when(F.col("_record_status") == "ok", F.col(quality.REASON))
    )
    problem = F.concat_ws("; ", F.col(PROBLEM), F.col(quality.REASON))
    return rules.select(
        *(F.col(f.name) for f in RECORDS.fields if f.name not in (PROBLEM, "status")),
        F.when(problem != "", problem).alias(PROBLEM),
        F.col("_record_status").alias("status"),
    ).select(*RECORDS.fieldNames())


def envelope_records(documents: DataFrame) -> DataFrame:
    """API extracts (``path``, ``content``: a JSON Lines file each) -> one :data:`RECORDS` row per line.

    Blank lines are skipped. A file with no line becomes one record with a ``problem`` (so every
    file ends in the tables or in quarantine). A line gets a ``problem`` when it is not a JSON
    object, has no ``movie_id``, an ``extracted_at`` that is not an ISO 8601 time, a ``source``
    other than ``tmdb``/``sample``, a ``status`` other than ``ok``/``gone``, a number TMDB sent as
    something else, an impossible ``release_date`` or a value outside the ``movies`` rules.
    """
    lines = documents.select(
        "path",
        F.posexplode_outer(F.split(F.col("content"), "\n")).alias("_index", "_line"),
    ).select(
        "path",
        (F.col("_index") + 1).cast("long").alias("line_number"),
        F.rtrim(F.col("_line")).alias("raw_record"),
    )
    lines = lines.filter(F.col("raw_record").isNull() | (F.trim("raw_record") != ""))
    # A file with no non-blank line: one record saying so (posexplode_outer keeps the file).
    files = lines.groupBy("path").agg(F.count("raw_record").alias("_lines"))
    empty = files.filter(F.col("_lines") == 0).select(
        "path", F.lit(None).cast("long").alias("line_number"), F.lit(None).cast("string").alias("raw_record")
    )
    lines = lines.filter(F.col("raw_record").isNotNull()).unionByName(empty)
    parsed = lines.withColumn(
        "_e",
        F.from_json("raw_record", _ENVELOPE, {"columnNameOfCorruptRecord": "_corrupt", "mode": "PERMISSIVE"}),
    ).withColumn(
        "_t",
        F.from_json(
            "raw_record", _NUMBER_TEXTS, {"columnNameOfCorruptRecord": "_corrupt", "mode": "PERMISSIVE"}
        ),
    )
    e, texts = F.col("_e"), F.col("_t")
    extracted = F.col("_e.extracted_at").cast("timestamp")
    number_checks = [
        (
            texts["details"][name].isNotNull() & e["details"][name].isNull(),
            F.concat(F.lit(f"details.{name}: not a number "), _quoted(texts["details"][name])),
        )
        for name in _NUMBERS
    ]
    # Not JSON at all: its numbers read as text (a schema every JSON object fits) fail too. A line
    # whose only fault is a wrong type is JSON, and its check below says which field.
    not_json = F.col("raw_record").isNotNull() & (
        ~F.trim("raw_record").startswith("{") | texts.isNull() | texts["_corrupt"].isNotNull()
    )
    checks = [
        (F.col("raw_record").isNull(), F.lit("empty file: no JSON line")),
        (not_json, F.lit("not a JSON object (unparsable line)")),
        (
            ~not_json & F.col("raw_record").isNotNull() & e["movie_id"].isNull(),
            F.when(texts["movie_id"].isNull(), F.lit("no movie_id")).otherwise(
                F.concat(F.lit("movie_id: not a number "), _quoted(texts["movie_id"]))
            ),
        ),
        (
            ~not_json & F.col("raw_record").isNotNull() & extracted.isNull(),
            F.concat(
                F.lit("extracted_at: not an ISO 8601 time "),
                _quoted(F.coalesce(e["extracted_at"], F.lit(""))),
            ),
        ),
        (
            ~not_json
            & F.col("raw_record").isNotNull()
            & ~F.coalesce(e["source"].isin("tmdb", "sample"), F.lit(False)),
            F.concat(F.lit("source: not tmdb or sample "), _quoted(F.coalesce(e["source"], F.lit("")))),
        ),
        (
            ~not_json
            & F.col("raw_record").isNotNull()
            & ~F.coalesce(e["status"].isin("ok", "gone"), F.lit(False)),
            F.concat(F.lit("status: not ok or gone "), _quoted(F.coalesce(e["status"], F.lit("")))),
        ),
        *number_checks,
    ]
    records = parsed.select(
        "path",
        "line_number",
        "raw_record",
        F.lit(None).cast("string").alias(PROBLEM),
        e["movie_id"].alias("movie_id"),
        e["source"].alias("source"),
        extracted.alias("extracted_at"),
        e["status"].alias("status"),
        F.when(e["status"] == "ok", e["details"]).alias("details"),
        "_e",
        "_t",
    )
    return _movie_problems(records, checks)


def kaggle_records(rows: DataFrame) -> DataFrame:
    """Kaggle TMDB 5000 rows (its CSV columns as text, ``path``, ``extracted_at``) -> :data:`RECORDS`.

    Each row is an ``ok`` extraction with ``source`` ``kaggle``, its ``details`` built in the API's
    shape (the JSON-in-text columns parsed with ``from_json``; no credits, no collection). A number
    or a JSON column that does not parse is a ``problem``.
    """
    numbers = {
        "id": "long",
        "runtime": "double",
        "budget": "long",
        "revenue": "long",
        "popularity": "double",
        "vote_average": "double",
        "vote_count": "long",
    }
    text = {name: F.nullif(F.trim(F.col(name)), F.lit("")) for name in KAGGLE_COLUMNS}
    typed = {name: text[name].cast(kind) for name, kind in numbers.items()}
    named = {name: F.from_json(text[name], _NAMED) for name in ("genres", "keywords", "production_companies")}
    details = F.struct(
        typed["id"].alias("id"),
        text["title"].alias("title"),
        text["original_title"].alias("original_title"),
        text["original_language"].alias("original_language"),
        F.coalesce(text["release_date"], F.lit("")).alias("release_date"),
        *(
            typed[name].alias(name)
            for name in ("runtime", "budget", "revenue", "popularity", "vote_average", "vote_count")
        ),
        text["status"].alias("status"),
        F.col("overview").alias("overview"),
        F.lit(None).cast(DETAILS["belongs_to_collection"].dataType).alias("belongs_to_collection"),
        named["genres"].alias("genres"),
        named["production_companies"].alias("production_companies"),
        F.struct(named["keywords"].alias("keywords")).alias("keywords"),
        F.lit(None).cast(DETAILS["credits"].dataType).alias("credits"),
    )
    checks = [
        (text["id"].isNull(), F.lit("no id")),
        *(
            (
                text[name].isNotNull() & typed[name].isNull(),
                F.concat(F.lit(f"{name}: not a number "), _quoted(text[name])),
            )
            for name in numbers
        ),
        *(
            (text[name].isNotNull() & named[name].isNull(), F.lit(f"{name}: not a JSON list of {{id, name}}"))
            for name in named
        ),
    ]
    records = rows.select(
        "path",
        F.lit(None).cast("long").alias("line_number"),
        F.to_json(F.struct(*(F.col(c) for c in KAGGLE_COLUMNS))).alias("raw_record"),
        _problems(*checks).alias(PROBLEM),
        typed["id"].alias("movie_id"),
        F.lit("kaggle").alias("source"),
        F.col("extracted_at"),
        F.lit("ok").alias("status"),
        details.alias("details"),
    )
    return _movie_problems(records, [])


def kaggle_credit_records(rows: DataFrame, top_cast: int = DEFAULT_TOP_CAST) -> DataFrame:
    """Kaggle credits rows (text columns, ``path``, ``extracted_at``) -> :data:`RECORDS`.

    Each row is a credits record (``status`` :data:`CREDITS_STATUS`, ``source`` ``kaggle``) whose
    ``details`` has the ``id`` and the ``credits`` in the API's shape, cut as
    :func:`datalake.sources.tmdb_raw.trim_credits` cuts an extract: the crew whose job is
    Director and the first ``top_cast`` cast members by ``order``. A ``movie_id`` that is not a
    number, or a ``cast``/``crew`` cell that is not a JSON list of people, is a ``problem``;
    a person without an ``id`` is one too (:func:`_movie_problems`).
    """
    text = {name: F.nullif(F.trim(F.col(name)), F.lit("")) for name in KAGGLE_CREDITS_COLUMNS}
    movie_id = text["movie_id"].cast("long")
    cast = F.from_json(text["cast"], T.ArrayType(_CAST))
    crew = F.from_json(text["crew"], T.ArrayType(_CREW))
    # Billing order first (a missing order last, as trim_credits does); struct order breaks ties.
    by_order = F.sort_array(
        F.transform(
            cast, lambda m: F.struct(F.coalesce(m["order"], F.lit(1_000_000)).alias("_k"), m.alias("_m"))
        )
    )
    top = F.transform(F.slice(by_order, 1, max(top_cast, 0)), lambda s: s["_m"])
    directors = F.filter(crew, lambda m: m["job"] == "Director")
    details = F.struct(
        *(
            (movie_id if f.name == "id" else F.struct(top.alias("cast"), directors.alias("crew")))
            .cast(f.dataType)
            .alias(f.name)
            if f.name in ("id", "credits")
            else F.lit(None).cast(f.dataType).alias(f.name)
            for f in DETAILS.fields
        )
    )
    checks = [
        (text["movie_id"].isNull(), F.lit("no movie_id")),
        (
            text["movie_id"].isNotNull() & movie_id.isNull(),
            F.concat(F.lit("movie_id: not a number "), _quoted(text["movie_id"])),
        ),
        *(
            (text[name].isNotNull() & parsed.isNull(), F.lit(f"{name}: not a JSON list of people"))
            for name, parsed in (("cast", cast), ("crew", crew))
        ),
    ]
    records = rows.select(
        "path",
        F.lit(None).cast("long").alias("line_number"),
        F.to_json(F.struct(*(F.col(c) for c in KAGGLE_CREDITS_COLUMNS))).alias("raw_record"),
        _problems(*checks).alias(PROBLEM),
        movie_id.alias("movie_id"),
        F.lit("kaggle").alias("source"),
        F.col("extracted_at"),
        F.lit(CREDITS_STATUS).alias("status"),
        details.alias("details"),
    )
    return _movie_problems(records, [])


def rejected_files(files: DataFrame, reason: Column) -> DataFrame:
    """Files that could not be read at all (``path``) -> one :data:`RECORDS` row each with ``reason``."""
    return files.select(
        "path",
        F.lit(None).cast("long").alias("line_number"),
        F.lit(None).cast("string").alias("raw_record"),
        reason.alias(PROBLEM),
        *(F.lit(None).cast(f.dataType).alias(f.name) for f in RECORDS.fields[4:]),
    )


def latest_records(records: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Valid records -> (the newest of each movie and source, the superseded ones with a ``reason``).

    The newest by ``extracted_at`` wins, a tombstone (``gone``) included: its movie then has no row
    in any table (:func:`movie_rows` and the bridge builders take only ``ok`` winners). Credits
    records are ranked apart: the newest credits of a movie stand beside its newest extraction.
    """
    # A credits record competes only with the movie's other credits records.
    marked = records.withColumn("_credits", F.coalesce(F.col("status") == CREDITS_STATUS, F.lit(False)))
    latest, superseded = quality.latest_per_key(
        marked, ["movie_id", "source", "_credits"], "extracted_at", tiebreak=TIEBREAK
    )
    return latest.drop("_credits"), superseded.drop("_credits")


def _present(latest: DataFrame) -> DataFrame:
    return latest.filter(F.col("status") == "ok")


def movie_rows(latest: DataFrame) -> DataFrame:
    """The newest records -> ``movies`` rows (tombstoned movies left out)."""
    typed = movie_columns(_present(latest).drop("status"))
    return typed.withColumnRenamed("movie_status", "status").select(*MOVIES.column_names)


def _named_rows(latest: DataFrame, array: Column, id_name: str, name_name: str) -> DataFrame:
    entries = _present(latest).select("movie_id", "source", F.explode(array).alias("_e"))
    rows = entries.select(
        "movie_id",
        F.col("_e.id").alias(id_name),
        F.nullif(F.trim("_e.name"), F.lit("")).alias(name_name),
        "source",
    )
    # TMDB lists an entry once; a repeat would break the key, so the first name (by name) is kept.
    window = Window.partitionBy("movie_id", "source", id_name).orderBy(F.col(name_name).asc_nulls_last())
    return rows.withColumn("_n", F.row_number().over(window)).filter("_n = 1").drop("_n")


def genre_rows(latest: DataFrame) -> DataFrame:
    """The newest records -> ``movie_genres`` rows."""
    return _named_rows(latest, F.col("details.genres"), "genre_id", "genre_name").select(
        *MOVIE_GENRES.column_names
    )


def keyword_rows(latest: DataFrame) -> DataFrame:
    """The newest records -> ``movie_keywords`` rows."""
    return _named_rows(latest, F.col("details.keywords.keywords"), "keyword_id", "keyword_name").select(
        *MOVIE_KEYWORDS.column_names
    )


def company_rows(latest: DataFrame) -> DataFrame:
    """The newest records -> ``movie_companies`` rows."""
    return _named_rows(latest, F.col("details.production_companies"), "company_id", "company_name").select(
        *MOVIE_COMPANIES.column_names
    )


def _credits_of_present(latest: DataFrame) -> DataFrame:
    """The newest credits records of movies present in the tables (same movie and source)."""
    credits = latest.filter(F.col("status") == CREDITS_STATUS)
    return credits.join(_present(latest).select("movie_id", "source"), ["movie_id", "source"], "left_semi")


def credits_without_movie(latest: DataFrame) -> DataFrame:
    """The newest credits records whose movie the tables do not hold (left out of ``movie_people``)."""
    credits = latest.filter(F.col("status") == CREDITS_STATUS)
    return credits.join(_present(latest).select("movie_id", "source"), ["movie_id", "source"], "left_anti")


def people_rows(latest: DataFrame) -> DataFrame:
    """The newest records -> ``movie_people``: each crew member whose job is Director, and the cast.

    The credits are the extraction's own (API) or the movie's newest credits record (Kaggle). The
    cast is as extracted (the extractor keeps the top-billed); an actor credited twice (two
    characters) keeps the higher billing.
    """
    present = _present(latest).unionByName(_credits_of_present(latest))
    directors = present.select(
        "movie_id",
        "source",
        F.explode(F.filter("details.credits.crew", lambda m: m["job"] == "Director")).alias("_p"),
    ).select(
        "movie_id",
        F.col("_p.id").alias("person_id"),
        F.col("_p.name").alias("person_name"),
        F.lit("director").alias("role"),
        F.lit(None).cast("int").alias("cast_order"),
        "source",
    )
    cast = present.select("movie_id", "source", F.explode("details.credits.cast").alias("_p")).select(
        "movie_id",
        F.col("_p.id").alias("person_id"),
        F.col("_p.name").alias("person_name"),
        F.lit("cast").alias("role"),
        F.col("_p.order").alias("cast_order"),
        "source",
    )
    people = directors.unionByName(cast)
    window = Window.partitionBy("movie_id", "source", "role", "person_id").orderBy(
        F.col("cast_order").asc_nulls_last(), F.col("person_name").asc_nulls_last()
    )
    first = people.withColumn("_n", F.row_number().over(window)).filter("_n = 1").drop("_n")
    return first.select(*MOVIE_PEOPLE.column_names)


#: Each movie table's builder (newest records -> its rows), in the order the job writes them.
BUILDERS = {
    MOVIES.name: movie_rows,
    MOVIE_GENRES.name: genre_rows,
    MOVIE_KEYWORDS.name: keyword_rows,
    MOVIE_COMPANIES.name: company_rows,
    MOVIE_PEOPLE.name: people_rows,
}
