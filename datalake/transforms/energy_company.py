"""The energy company's raw CSV drops -> typed, normalised rows of clientes, proveedores and transacciones.

Pure DataFrame -> DataFrame functions; ``datalake.pipelines.energy_company`` checks, deduplicates
and writes what they return. Raw files are read line by line with Spark's text reader and parsed
with Spark's functions (``datalake.transforms.csv_drops``), deciding each file's reading as the
landing Lambda did when it accepted them (``datalake.sources.energy_company.read_scan``).

Normalisation: text is NFC (in the parser), trimmed, single-spaced and upper case; cities and
energy types are matched without accents to their canonical spelling (``BOGOTA`` -> ``BOGOTÁ``);
identification numbers keep their digits only; tipo_identificacion keeps its letters (``C.C.``
-> ``CC``). Numbers take a decimal point or a decimal comma (``1.234,5`` and ``1,234.5`` too).
Counterparties are compared on the accent-free upper-case name.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from functools import reduce

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from datalake.datasets.energy_company import (
    BANDAS_PRECIO,
    CIUDAD_ALIAS,
    CIUDADES,
    CLIENTES,
    ENTITIES,
    PROVEEDORES,
    TIPOS_ENERGIA,
    TRANSACCIONES,
)
from datalake.sources.energy_company import fold
from datalake.storage.base import ObjectStore
from datalake.transforms.csv_drops import PROBLEM, read_drops, rows_schema
from datalake.transforms.expressions import literal_map
from datalake.transforms.quality import RAW_PARTITION, ParseCheck

#: Every column any entity's header names, in a stable order.
SOURCE_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(c for s in ENTITIES.values() for c in s.source_columns))
ROWS = rows_schema(SOURCE_FIELDS)
_ACCENTED, _PLAIN = "ÁÀÂÄÉÈÊËÍÌÎÏÓÒÔÖÚÙÛÜÑ", "AAAAEEEEIIIIOOOOUUUUN"
#: What Java's ``\s`` matches, beside a single space (and two spaces in a row).
_IRREGULAR_SPACE = ("  ", "\t", "\n", "\x0b", "\f", "\r")
# \z, not $: Java's $ also matches before a final line terminator (\r, U+2028, ...), and to_date
# then fails the whole job on the unparsed terminator instead of giving null.
_DATE_FORMATS = ((r"^\d{4}-\d{1,2}-\d{1,2}\z", "yyyy-M-d"), (r"^\d{1,2}/\d{1,2}/\d{4}\z", "d/M/yyyy"))


def drops_to_rows(
    spark: SparkSession,
    store: ObjectStore,
    keys: Sequence[str],
    max_line_bytes: int,
    raw_prefix: str | None = None,
) -> DataFrame:
    """Raw CSV drops at ``keys`` -> one ``ROWS`` row per data line (``datalake.transforms.csv_drops``).

    A file that cannot be read becomes one row with ``entity`` null and its ``problem``. With
    ``raw_prefix``, each row also names its raw partition (``_raw_partition``).
    """
    rows = read_drops(spark, store, keys, max_line_bytes, SOURCE_FIELDS, raw_prefix)
    return rows.select(*ROWS.fieldNames(), *([RAW_PARTITION] if raw_prefix is not None else []))


def clean_text(column: str | Column) -> Column:
    """Trimmed, single-spaced, upper case; null when nothing is left."""
    value = F.col(column) if isinstance(column, str) else column
    # Most values hold no run of spaces nor any other of the whitespace ``\s`` stands for: those
    # skip the regular expression (a Java string made of each value, and one made back).
    irregular = reduce(operator.or_, (value.contains(space) for space in _IRREGULAR_SPACE))
    single_spaced = F.when(irregular, F.regexp_replace(value, r"\s+", " ")).otherwise(value)
    text = F.upper(F.trim(single_spaced))
    return F.when(text != "", text)


def fold_text(column: str | Column) -> Column:
    """Upper case without accents: the key names, cities and energy types are compared on."""
    return unaccented(clean_text(column))


def unaccented(column: str | Column) -> Column:
    """:func:`fold_text` of text :func:`clean_text` already cleaned (typed rows): the accents only.

    Cleaning again is not free: upper-casing a name with an accent makes a Java string of it, and
    folding ten million typed names took 10 s with it, 3.6 s without.
    """
    text = F.col(column) if isinstance(column, str) else column
    # As many characters as bytes: plain ASCII, with no accent to fold (translate makes a Java string).
    return F.when(F.length(text) == F.octet_length(text), text).otherwise(
        F.translate(text, _ACCENTED, _PLAIN)
    )


def canonical(column: str, values: tuple[str, ...], aliases: dict[str, str] | None = None) -> Column:
    """The canonical spelling whose folded form matches; else the cleaned text as it came.

    The spellings drops use most (:func:`written_spellings`) are looked up as they come first:
    trimming, upper-casing and folding every value of a column with five distinct values was a
    sixth of typing ten million transactions.
    """
    pairs = _folded_pairs(values, aliases)
    lookup = literal_map(pairs)
    as_written = written_spellings(values, aliases)
    direct = literal_map(as_written)
    return F.coalesce(direct[F.col(column)], lookup[fold_text(column)], clean_text(column))


def _folded_pairs(values: tuple[str, ...], aliases: dict[str, str] | None) -> dict[str, str]:
    """Folded form -> canonical value, for the values and the (already folded) aliases."""
    return {fold(v): v for v in values} | (aliases or {})


def written_spellings(values: tuple[str, ...], aliases: dict[str, str] | None = None) -> dict[str, str]:
    """Spelling as written -> canonical value, for the canonical values and aliases in upper, lower
    and title case, with and without accents: each folds to its value's key (:func:`canonical`)."""
    spellings: dict[str, str] = {}
    for key, value in _folded_pairs(values, aliases).items():
        for written in (value, key):
            for spelling in (written, written.upper(), written.lower(), written.title()):
                if fold(spelling) == key and spelling == " ".join(spelling.split()):
                    spellings[spelling] = value
    return spellings


def parse_number(column: str) -> Column:
    """A double from ``1234.5``, ``1234,5``, ``1.234,5`` or ``1,234.5`` (spaces, ``$``, ``COP`` ignored).

    A lone comma is a decimal comma (the Colombian way); null when the text is none of these.

    Most values are plain decimals (``702.9``), which Spark's cast reads as the patterns below
    would: a value that starts and ends with a digit, holds no exponent or hex mark, and casts, is
    cast without the regular expressions (two per value were a fifth of typing transactions).
    """
    raw = F.col(column)
    plain = (
        _digit_first_and_last(raw)
        & ~raw.contains("e")
        & ~raw.contains("E")
        & ~raw.contains("x")
        & ~raw.contains("X")
    )
    return F.coalesce(F.when(plain, raw.cast("double")), _parse_number_text(column))


def _digit_first_and_last(text: Column) -> Column:
    """Whether ``text`` starts and ends with an ASCII digit (the casts' shortcuts: nothing to trim,
    no sign, no trailing ``d``/``f``/``T``)."""
    return F.substring(text, 1, 1).between("0", "9") & F.substring(text, -1, 1).between("0", "9")


def _parse_number_text(column: str) -> Column:
    """:func:`parse_number` by its patterns, for every value."""
    text = F.regexp_replace(F.upper(F.col(column)), r"[\s$]|COP", "")
    dot_thousands = r"^[-+]?\d{1,3}(\.\d{3})+,\d+$"
    comma_thousands = r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$"
    normalised = (
        F.when(text.rlike(r"^[-+]?\d+(\.\d+)?$"), text)
        .when(text.rlike(r"^[-+]?\d+,\d+$"), F.regexp_replace(text, ",", "."))
        .when(text.rlike(dot_thousands), F.regexp_replace(F.regexp_replace(text, r"\.", ""), ",", "."))
        .when(text.rlike(comma_thousands), F.regexp_replace(text, ",", ""))
    )
    return normalised.cast("double")


def parse_date(column: str) -> Column:
    """A date from ``YYYY-MM-DD`` or ``DD/MM/YYYY``; null for anything else or an impossible day.

    Most values are ISO days (``2024-06-03``), which Spark's cast reads as the patterns below
    would: ten characters, dashes fifth and eighth, a digit first and last, and a cast that
    succeeds (every other character is then a digit) skip the two regular expressions and the
    date formatter.
    """
    raw = F.col(column)
    iso_day = (
        (F.length(raw) == 10)
        & (F.substring(raw, 5, 1) == "-")
        & (F.substring(raw, 8, 1) == "-")
        & _digit_first_and_last(raw)
    )
    return F.coalesce(F.when(iso_day, raw.cast("date")), _parse_date_text(column))


def _parse_date_text(column: str) -> Column:
    """:func:`parse_date` by its patterns, for every value."""
    text = F.trim(F.col(column))
    parsed = None
    for pattern, fmt in _DATE_FORMATS:
        parsed = (F.when if parsed is None else parsed.when)(text.rlike(pattern), F.to_date(text, fmt))
    return parsed


def unparsable(column: str, what: str) -> ParseCheck:
    """A parse check on ``column``: its source text (``raw_<column>``) was given, yet the value is null."""
    raw = F.trim(F.col(f"raw_{column}"))
    failed = F.coalesce((raw != "") & F.col(column).isNull(), F.lit(False))
    return column, failed, F.concat(F.lit(f"{column}: {what} "), F.format_string("'%s'", raw))


_KEEP = ("path", "line_number", "raw_record", "fecha_carga", PROBLEM)


def clientes_rows(rows: DataFrame) -> tuple[DataFrame, list[ParseCheck]]:
    """Typed ``clientes`` rows (with the raw columns kept as ``raw_*``) and their parse checks."""
    typed = rows.filter(F.col("entity") == "clientes").select(
        *_KEEP,
        F.col("identificacion").alias("raw_identificacion"),
        F.nullif(F.regexp_replace(F.upper(F.col("tipo_identificacion")), "[^A-Z]", ""), F.lit("")).alias(
            "tipo_identificacion"
        ),
        F.nullif(F.regexp_replace(F.col("identificacion"), "[^0-9]", ""), F.lit("")).alias("identificacion"),
        clean_text("nombre").alias("nombre"),
        canonical("ciudad", CIUDADES, CIUDAD_ALIAS).alias("ciudad"),
    )
    return typed, [unparsable("identificacion", "has no digits")]


def proveedores_rows(rows: DataFrame) -> tuple[DataFrame, list[ParseCheck]]:
    """Typed ``proveedores`` rows and their parse checks."""
    typed = rows.filter(F.col("entity") == "proveedores").select(
        *_KEEP,
        F.col("fecha_registro").alias("raw_fecha_registro"),
        clean_text("nombre_proveedor").alias("nombre_proveedor"),
        canonical("tipo_energia", TIPOS_ENERGIA).alias("tipo_energia"),
        parse_date("fecha_registro").alias("fecha_registro"),
    )
    return typed, [unparsable("fecha_registro", "not a date")]


def transacciones_rows(rows: DataFrame) -> tuple[DataFrame, list[ParseCheck]]:
    """Typed ``transacciones`` rows with ``transaccion_id``, ``year`` and ``month``, and parse checks.

    ``transaccion_id`` is the SHA-256 of every source column after normalisation, so the same
    transaction in two drops (or twice in one) has one id.
    """
    typed = rows.filter(F.col("entity") == "transacciones").select(
        *_KEEP,
        *(
            F.col(c).alias(f"raw_{c}")
            for c in ("cantidad_comprada_kwh", "precio_kwh_cop", "fecha_transaccion")
        ),
        clean_text("tipo_transaccion").alias("tipo_transaccion"),
        clean_text("nombre_cliente_proveedor").alias("nombre_cliente_proveedor"),
        canonical("tipo_energia", TIPOS_ENERGIA).alias("tipo_energia"),
        parse_number("cantidad_comprada_kwh").alias("cantidad_comprada_kwh"),
        parse_number("precio_kwh_cop").alias("precio_kwh_cop"),
        parse_date("fecha_transaccion").alias("fecha_transaccion"),
    )
    typed = typed.withColumns(
        {
            "transaccion_id": F.sha2(
                F.concat_ws("|", *(F.col(c).cast("string") for c in TRANSACCIONES.source_columns)), 256
            ),
            "year": F.year("fecha_transaccion"),
            "month": F.month("fecha_transaccion"),
        }
    )
    return typed, [
        unparsable("cantidad_comprada_kwh", "unparsable number"),
        unparsable("precio_kwh_cop", "unparsable number"),
        unparsable("fecha_transaccion", "not a date"),
    ]


def with_derived_columns(transacciones: DataFrame, clientes: DataFrame, proveedores: DataFrame) -> DataFrame:
    """Add ``precio_total_cop`` (COP, to the cent), ``banda_precio`` and ``contraparte_conocida``.

    Apply to the checked, deduplicated batch: the price bands are relative to it.
    """
    total = F.round(F.col("cantidad_comprada_kwh") * F.col("precio_kwh_cop"), 2)
    return with_counterparty_flag(
        with_price_band(transacciones.withColumn("precio_total_cop", total)), clientes, proveedores
    )


def with_price_band(transacciones: DataFrame) -> DataFrame:
    """Add ``banda_precio``: the tercile of ``precio_kwh_cop`` within its ``tipo_energia``, in this batch.

    The cut points are the exact 1/3 and 2/3 percentiles (linear interpolation) of the batch's
    prices per energy type: at or below the first is ``económico``, at or below the second
    ``promedio``, above it ``costoso``. Bands are relative to the batch processed, not absolute.
    """
    cuts = transacciones.groupBy("tipo_energia").agg(
        F.expr("percentile(precio_kwh_cop, array(1.0D / 3, 2.0D / 3))").alias("_cuts")
    )
    cheap, average, dear = BANDAS_PRECIO
    band = (
        F.when(F.col("precio_kwh_cop") <= F.col("_cuts")[0], cheap)
        .when(F.col("precio_kwh_cop") <= F.col("_cuts")[1], average)
        .otherwise(dear)
    )
    return (
        transacciones.join(F.broadcast(cuts), "tipo_energia").withColumn("banda_precio", band).drop("_cuts")
    )


def with_counterparty_flag(
    transacciones: DataFrame, clientes: DataFrame, proveedores: DataFrame
) -> DataFrame:
    """Add ``contraparte_conocida``: a VENTA's client is in clientes, a COMPRA's supplier in proveedores.

    Names are compared upper case without accents, so ``José Pérez`` matches ``JOSE PEREZ``. The
    three frames are typed rows (:data:`BUILDERS`): their names are already cleaned (:func:`clean_text`).
    """
    known = (
        clientes.select(unaccented("nombre").alias("_name"), F.lit("VENTA").alias("tipo_transaccion"))
        .unionByName(
            proveedores.select(
                unaccented("nombre_proveedor").alias("_name"), F.lit("COMPRA").alias("tipo_transaccion")
            )
        )
        .distinct()
        .withColumn("_known", F.lit(True))
    )
    return (
        transacciones.withColumn("_name", unaccented("nombre_cliente_proveedor"))
        .join(F.broadcast(known), ["_name", "tipo_transaccion"], "left")
        .withColumn("contraparte_conocida", F.coalesce(F.col("_known"), F.lit(False)))
        .drop("_name", "_known")
    )


#: Entity -> the builder of its typed rows.
BUILDERS = {
    CLIENTES.table_name: clientes_rows,
    PROVEEDORES.table_name: proveedores_rows,
    TRANSACCIONES.table_name: transacciones_rows,
}
