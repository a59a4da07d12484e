"""The energy company's raw CSV drops -> one row per data line, with Spark's text reader and functions.

Each file is read line by line by Spark's text reader, so a big drop is split across tasks (and
Glue workers) instead of being one task holding one huge value. What must be known of a whole
file before its lines are parsed is found cheaply:

- on the driver, from the file's first bytes (:data:`HEAD_BYTES`): its entity, delimiter, header
  and which line holds the header (``datalake.sources.energy_company.read_scan``, the landing's
  own decision);
- by a first pass of the executors over the lines, aggregated per file: any line over the limit,
  any line that is not UTF-8 (the file is then Latin-1) or that Latin-1 cannot be, and the line
  count of each file block (which numbers the lines; see :func:`_numbered_lines`).

A file those facts reject (rare) is scanned whole on the driver, streamed, so its reason is
word for word the landing's. The lines of accepted files are decoded with the file's charset,
split into cells by ``from_csv`` (quotes and doubled quotes as Python's csv reads them) and named
after the file's header. ``line_number`` is the physical line in the file (1-based, lines split
on ``\\n``), as before for every record on one line. A quoted field that spans lines cannot be
read line by line: each of its lines is quarantined with that reason (line-based reading is what
lets a file be split across tasks).

Python runs only where Spark has no function: the driver's look at each file's head, and NFC
normalisation of lines of the (rare) files that hold combining accents (``_nfc``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from datalake.sources.energy_company import Reading, Rejected, read_scan
from datalake.sources.text_scan import read_chunks, scan_chunks
from datalake.storage.base import ObjectStore
from datalake.storage.paths import partition_date, raw_partition_name
from datalake.transforms.quality import RAW_PARTITION

#: How much of each file the driver reads to learn how to read it (the header is in there).
HEAD_BYTES = 1 << 16
PROBLEM = "problem"
LATIN1, UTF8 = "ISO-8859-1", "UTF-8"
# Latin-1 viewed bytes: C1 controls or a UTF-8 lead+continuation pair mean "not Latin-1" (text_scan).
_NOT_LATIN1 = "[\\x{80}-\\x{9f}]|[\\x{c2}-\\x{f4}][\\x{80}-\\x{bf}]"
# UTF-8 bytes of combining marks U+0300-U+036F (viewed as Latin-1): text NFC would change.
_COMBINING_UTF8 = "\\x{cc}[\\x{80}-\\x{bf}]|\\x{cd}[\\x{80}-\\x{af}]"


@dataclass(frozen=True)
class Drop:
    """One raw file: how to read it, or the problem that makes it unreadable."""

    key: str
    uri: str
    landed: dt.date | None
    reading: Reading | None = None
    problem: str | None = None
    #: 1-based line of the header (the first line with text).
    header_line: int = 1
    #: The whole file fit in the head, so the head's decision is final.
    whole: bool = False
    preview: bytes = b""


def _header_line(head: bytes, encoding: str) -> int:
    """The 1-based number of the first line with text (as ``read_scan`` finds the header)."""
    for number, raw in enumerate(head.split(b"\n"), start=1):
        text = raw.decode("utf-8-sig" if encoding == "utf-8" and number == 1 else encoding, "replace")
        if text.strip():
            return number
    return 1


def _decide(store: ObjectStore, key: str, max_line_bytes: int, head: bytes | None = None) -> Drop:
    """A file's reading from its head (``head`` given) or from a streamed scan of all of it."""
    uri, landed = store.uri(key), partition_date(key)
    whole = head is None
    if whole:
        with store.open_read(key) as stream:
            scan = scan_chunks(read_chunks(stream), max_line_bytes, digest=False)
            preview = scan.sample
    else:
        preview = head
        complete = len(head) < HEAD_BYTES
        # Cut at the last newline: a character cut at the head's end is not an encoding error.
        scan = scan_chunks(
            [head if complete else head[: head.rfind(b"\n") + 1]], max_line_bytes, digest=False
        )
        whole = complete
    try:
        reading = read_scan(scan)
    except Rejected as rejection:
        if not whole:
            return _decide(store, key, max_line_bytes)  # the exact reason needs the whole file
        return Drop(key, uri, landed, problem=f"unreadable drop: {rejection}", preview=preview)
    if landed is None:
        problem = "raw file is not under year=/month=/day=/ (the landing date)"
        return Drop(key, uri, landed, problem=problem, preview=preview)
    return Drop(key, uri, landed, reading, None, _header_line(preview, reading.encoding), whole, preview)


def inspect_drops(store: ObjectStore, keys: Sequence[str], max_line_bytes: int) -> list[Drop]:
    """How to read each file, from its first :data:`HEAD_BYTES` bytes (the driver reads only those)."""
    drops = []
    for key in keys:
        with store.open_read(key) as stream:
            head = stream.read(HEAD_BYTES)
        drops.append(_decide(store, key, max_line_bytes, head))
    return drops


def _drop_at(path: str, by_key: dict[str, Drop]) -> Drop:
    """The drop whose store key ends ``path`` (a key's segments are matched whole)."""
    parts = path.split("/")
    for start in range(len(parts)):
        drop = by_key.get("/".join(parts[start:]))
        if drop is not None:
            return drop
    raise KeyError(f"{path}: no drop of this run has that key")


def _plain(path: str) -> str:
    """A file URI as a comparable path (Spark writes ``file:/x``, pathlib ``file:///x``)."""
    return unquote(re.sub(r"^file:(//)?", "", path))


def _lines(spark: SparkSession, uris: Sequence[str]) -> DataFrame:
    """Every line of the files (split on ``\\n`` only, ``\\r`` kept) as raw bytes, with its file block."""
    return (
        spark.read.option("lineSep", "\n")
        .text(list(uris))
        .select(
            F.col("_metadata.file_path").alias("_file"),
            F.col("_metadata.file_block_start").alias("_block"),
            # A string cast to binary keeps the bytes as read, whatever the file's encoding.
            F.col("value").cast("binary").alias("_bytes"),
            # Placed right on the scan: consecutive within a block, so it numbers the block's lines.
            F.monotonically_increasing_id().alias("_id"),
        )
    )


def _block_facts(lines: DataFrame, max_line_bytes: int) -> list[T.Row]:
    """Per file block: line count, first id, and the whole-file facts (the executors' first pass).

    The regular expressions over a line's Latin-1 view run only where a cheaper test cannot
    answer (they were two thirds of this pass): a valid UTF-8 line is "not Latin-1" exactly when
    it holds a non-ASCII character (each is a lead byte and a continuation byte), which its
    character and byte counts tell; a combining mark's UTF-8 starts with byte 0xCC or 0xCD.
    """
    latin1 = F.decode("_bytes", LATIN1)
    bytes_ = F.col("_bytes")
    # A column of its own, so the per-line UTF-8 round trip is computed once for both facts.
    flagged = lines.select(
        "_file",
        "_block",
        "_id",
        "_bytes",
        (F.encode(F.decode("_bytes", UTF8), UTF8) != bytes_).alias("_not_utf8"),
    )
    non_ascii = F.length(bytes_.cast("string")) != F.octet_length(bytes_)
    not_latin1 = F.when(F.col("_not_utf8"), latin1.rlike(_NOT_LATIN1)).otherwise(non_ascii)
    may_combine = F.contains(bytes_, F.lit(bytearray(b"\xcc"))) | F.contains(
        bytes_, F.lit(bytearray(b"\xcd"))
    )
    combining = F.when(may_combine, latin1.rlike(_COMBINING_UTF8)).otherwise(F.lit(False))
    return (
        flagged.groupBy("_file", "_block")
        .agg(
            F.count(F.lit(1)).alias("lines"),
            F.min("_id").alias("first_id"),
            F.max((F.length("_bytes") > max_line_bytes).cast("int")).alias("long_line"),
            F.max(F.col("_not_utf8").cast("int")).alias("not_utf8"),
            F.max(not_latin1.cast("int")).alias("not_latin1"),
            F.max(combining.cast("int")).alias("combining"),
        )
        .collect()
    )


def _file_table(
    spark: SparkSession,
    drops: dict[str, Drop],
    facts: list[T.Row],
    fields: Sequence[str],
    raw_prefix: str | None,
) -> DataFrame:
    """Per (file, block): where its lines start, the file's reading and raw partition, as a small
    frame to broadcast."""
    rows, before = [], 0
    previous = None
    for fact in sorted(facts, key=lambda f: (f["_file"], f["_block"])):
        before = 0 if fact["_file"] != previous else before
        previous = fact["_file"]
        drop = drops[fact["_file"]]
        assert drop.reading is not None
        header = drop.reading.header
        rows.append(
            (
                fact["_file"],
                fact["_block"],
                fact["first_id"] - before,  # line number = _id - this + 1
                drop.uri,
                drop.reading.entity,
                drop.reading.delimiter,
                LATIN1 if drop.reading.encoding == "latin-1" else UTF8,
                len(header),
                drop.header_line,
                drop.landed,
                None if raw_prefix is None else raw_partition_name(drop.key, raw_prefix),
                *(header.index(name) if name in header else None for name in fields),
            )
        )
        before += fact["lines"]
    schema = T.StructType(
        [
            T.StructField("_file", T.StringType()),
            T.StructField("_block", T.LongType()),
            T.StructField("_origin", T.LongType()),
            T.StructField("path", T.StringType()),
            T.StructField("entity", T.StringType()),
            T.StructField("_delimiter", T.StringType()),
            T.StructField("_charset", T.StringType()),
            T.StructField("_width", T.IntegerType()),
            T.StructField("_header_line", T.IntegerType()),
            T.StructField("fecha_carga", T.DateType()),
            T.StructField(RAW_PARTITION, T.StringType()),
            *(T.StructField(f"_at_{name}", T.IntegerType()) for name in fields),
        ]
    )
    return spark.createDataFrame(rows, schema)


@F.pandas_udf(T.StringType())
def _nfc(text: pd.Series) -> pd.Series:
    """NFC, as the whole-file reading did: only files with combining accents pass through here."""
    return text.map(lambda value: None if value is None else unicodedata.normalize("NFC", value))


def _with_cells(framed: DataFrame, widths: set[tuple[str, int]]) -> DataFrame:
    """Add ``_cells`` (the line's cells), ``_ok`` (their count is the header's) and ``_joined``.

    A line with no quote (nor a NUL, which the CSV parser reads as a comment mark)
    is its cells joined by the delimiter, so it is split on the delimiter: a tenth of the cost of
    the CSV parser (``from_csv``), which only the lines holding a quote go through. Split cells
    keep an empty cell as ``""`` where the parser gives null (for ``""`` too); :func:`_data_rows`
    makes them null.

    ``from_csv`` runs once per line, in a column of its own per delimiter and width: written
    inside the expressions that read its fields, Spark would parse the line once per field.
    """
    combos = sorted(widths)
    options = {"quote": '"', "escape": '"', "columnNameOfCorruptRecord": "_bad"}
    plain = ~F.col("_text").contains('"') & ~F.col("_text").contains("\x00")
    # A column of its own (computed once per line), dropped with the parses below.
    framed = framed.withColumn("_unquoted", plain)
    for index, (delimiter, width) in enumerate(combos):
        schema = ", ".join([*(f"c{i} STRING" for i in range(width)), "_bad STRING"])
        when = (F.col("_delimiter") == delimiter) & (F.col("_width") == width)
        parsed = F.from_csv(F.col("_text"), schema, {**options, "sep": delimiter})
        split = F.split(F.col("_text"), re.escape(delimiter), -1)
        framed = framed.withColumns(
            {
                f"_parsed{index}": F.when(when & ~F.col("_unquoted"), parsed),
                f"_split{index}": F.when(when & F.col("_unquoted"), split),
            }
        )
    cells = ok = joined = None
    for index, (delimiter, width) in enumerate(combos):
        parsed, split = F.col(f"_parsed{index}"), F.col(f"_split{index}")
        values = [parsed[f"c{i}"] for i in range(width)]
        raw = F.concat_ws(delimiter, *(F.coalesce(v, F.lit("")) for v in values))
        for here, these, fits, text in (
            (parsed.isNotNull(), F.array(*values), parsed["_bad"].isNull(), raw),
            (split.isNotNull(), split, F.size(split) == width, F.col("_text")),
        ):
            cells = (F.when if cells is None else cells.when)(here, these)
            ok = (F.when if ok is None else ok.when)(here, fits)
            joined = (F.when if joined is None else joined.when)(here, text)
    assert cells is not None and ok is not None and joined is not None
    parsed_columns = ["_unquoted"] + [
        f"_{kind}{index}" for index in range(len(combos)) for kind in ("parsed", "split")
    ]
    return framed.withColumns({"_cells": cells, "_ok": ok, "_joined": joined}).drop(*parsed_columns)


def _cell(value: Column) -> Column:
    """A cell as the CSV parser gives it: an empty cell (quoted or not) is null."""
    return F.when(value != "", value)


def _data_rows(
    lines: DataFrame, files: DataFrame, fields: Sequence[str], widths: set[tuple[str, int]], nfc: bool
) -> DataFrame:
    """The data lines of accepted files, decoded, split into cells and named after the header."""
    joined = lines.join(F.broadcast(files), ["_file", "_block"])
    # A UTF-8 file's lines are valid UTF-8 (the first pass found no line that is not, or the file
    # was read as Latin-1 or rejected), so its bytes are its text as they are: decoding them made a
    # Java string of every line and encoded it back.
    text = F.when(F.col("_charset") == LATIN1, F.decode("_bytes", LATIN1)).otherwise(
        F.col("_bytes").cast("string")
    )
    # The \r of a \r\n line end, cut without a regular expression (one per line is measurable).
    text = F.when(text.endswith("\r"), text.substr(F.lit(1), F.length(text) - 1)).otherwise(text)
    framed = joined.select(
        "*",
        (F.col("_id") - F.col("_origin") + 1).alias("line_number"),
        (_nfc(text) if nfc else text).alias("_text"),
    ).filter(F.col("line_number") > F.col("_header_line"))
    framed = _with_cells(framed, widths)
    # Blank lines are skipped, as Python's csv reading did: every cell blank, or (a line whose
    # cells do not match the header) nothing but spaces, quotes and delimiters.
    residue = F.regexp_replace(F.regexp_replace("_text", '(?U)[\\s"]', ""), F.col("_delimiter"), "")
    # A blank line has nothing but spaces, quotes and delimiters, so that cheap test runs first:
    # Spark pushes this filter into the join with the file table, where every mention of the
    # cells parses the line again, so they are looked at only for the rare lines that pass it.
    # Cheaper still, a line that starts with a letter or digit (nearly every data line) is not blank.
    first = F.substring("_text", 1, 1)
    starts_with_text = first.between("0", "9") | first.between("A", "Z") | first.between("a", "z")
    blank = (
        F.when(starts_with_text, F.lit(False))
        .when(residue != "", F.lit(False))
        .when(F.col("_ok"), ~F.concat_ws("", "_cells").rlike("(?U)\\S"))
        .otherwise(F.lit(True))
    )
    framed = framed.filter(~blank)
    line = F.col("line_number").cast("string")
    # Most lines have no quote at all: the count is only taken for those that do.
    quotes = F.length("_text") - F.length(F.regexp_replace("_text", '"', ""))
    odd_quotes = F.col("_text").contains('"') & (quotes % 2 == 1)
    fields_found = F.size(F.expr('split(_text, concat(_delimiter, \'(?=(?:[^"]*"[^"]*")*[^"]*$)\'), -1)'))
    problem = F.when(
        odd_quotes,
        F.concat(
            F.lit("line "),
            line,
            F.lit(
                ": an unclosed quote (a quoted field spanning lines is not read; "
                "each line is checked on its own)"
            ),
        ),
    ).when(
        ~F.col("_ok"),
        F.concat(
            F.lit("line "),
            line,
            F.lit(": "),
            fields_found.cast("string"),
            F.lit(" field(s), the header has "),
            F.col("_width").cast("string"),
        ),
    )
    usable = problem.isNull()
    return framed.select(
        "path",
        RAW_PARTITION,
        "entity",
        "fecha_carga",
        "line_number",
        F.when(F.col("_ok"), F.col("_joined")).otherwise(F.col("_text")).alias("raw_record"),
        problem.alias(PROBLEM),
        *(F.when(usable, _cell(F.col("_cells")[F.col(f"_at_{name}")])).alias(name) for name in fields),
    )


def rows_schema(fields: Sequence[str]) -> T.StructType:
    """The rows :func:`read_drops` gives: where each line came from, the line, its problem, and
    one string column per name in ``fields``."""
    return T.StructType(
        [
            T.StructField("path", T.StringType()),
            T.StructField("entity", T.StringType()),
            T.StructField("fecha_carga", T.DateType()),
            T.StructField("line_number", T.LongType()),
            T.StructField("raw_record", T.StringType()),
            T.StructField(PROBLEM, T.StringType()),
            *(T.StructField(name, T.StringType()) for name in fields),
        ]
    )


def _unreadable_rows(
    spark: SparkSession, drops: Sequence[Drop], fields: Sequence[str], raw_prefix: str | None
) -> DataFrame:
    """One row per file that cannot be read: line 0, its first bytes, and the reason."""
    schema = T.StructType([*rows_schema(fields).fields, T.StructField(RAW_PARTITION, T.StringType())])
    rows = [
        (
            d.uri,
            None,
            None,
            0,
            d.preview[:2000].decode("latin-1"),
            d.problem,
            *(None for _ in fields),
            None if raw_prefix is None else raw_partition_name(d.key, raw_prefix),
        )
        for d in drops
    ]
    return spark.createDataFrame(rows, schema)


def read_drops(
    spark: SparkSession,
    store: ObjectStore,
    keys: Sequence[str],
    max_line_bytes: int,
    fields: Sequence[str],
    raw_prefix: str | None = None,
) -> DataFrame:
    """One row per data line of the CSV drops at ``keys``, or one per file that cannot be read.

    Parameters
    ----------
    spark
        The session.
    store
        Where the files are.
    keys
        The files to read.
    max_line_bytes
        The longest line accepted (``csv_max_line_bytes``); a file with a longer one is unreadable.
    fields
        Every column name a header may hold: one output column each (null where a file has none).
    raw_prefix
        Where the files' raw partitions start: ``_raw_partition`` names each row's
        (:func:`~datalake.storage.paths.raw_partition_name` of its file's key, set once per file;
        computed from each row's path it was a tenth of the parse); null when None.

    Returns
    -------
    DataFrame
        ``path``, ``entity`` (null for an unreadable file), ``fecha_carga`` (the landing date),
        ``line_number`` (1-based physical line; 0 for an unreadable file), ``raw_record`` (the
        cells joined by the delimiter; the line itself when its cells do not match the header),
        ``problem`` (null when the line is usable), one string column per name in ``fields``, and
        ``_raw_partition``.
    """
    drops = inspect_drops(store, keys, max_line_bytes)
    readable = {d.uri: d for d in drops if d.reading is not None}
    rejected = [d for d in drops if d.reading is None]
    parts: list[DataFrame] = []
    if readable:
        # pathlib writes "=" as %3D in a file URI; Hadoop paths take it as it is.
        lines = _lines(spark, [unquote(uri) for uri in readable])
        facts = _block_facts(lines, max_line_bytes)
        by_file: dict[str, list[T.Row]] = {}
        for fact in facts:
            by_file.setdefault(_plain(fact["_file"]), []).append(fact)
        # Spark names a file by the path it read (s3:// on Glue, a file path here, a mirror of the
        # bucket in tests): each file is matched by its store key, the tail of that path.
        by_key = {d.key: d for d in readable.values()}
        accepted: dict[str, Drop] = {}
        kept_facts, combining = [], set()
        for plain, file_facts in by_file.items():
            drop = _drop_at(plain, by_key)
            assert drop.reading is not None
            seen = {
                name: any(f[name] for f in file_facts) for name in ("long_line", "not_utf8", "not_latin1")
            }
            suspect = seen["long_line"] or (
                seen["not_utf8"] and (drop.reading.encoding == "utf-8" or seen["not_latin1"])
            )
            if suspect and not drop.whole:
                drop = _decide(store, drop.key, max_line_bytes)  # what the whole file says, word for word
            if drop.reading is None:
                rejected.append(drop)
                continue
            accepted[file_facts[0]["_file"]] = drop
            kept_facts += file_facts
            if any(f["combining"] for f in file_facts):
                combining.add(file_facts[0]["_file"])
        if accepted:
            files = _file_table(spark, accepted, kept_facts, fields, raw_prefix)
            widths = {(d.reading.delimiter, len(d.reading.header)) for d in accepted.values() if d.reading}
            if combining:
                # NFC needs Python (Spark has no Unicode normalisation): only these files' lines go there.
                marked = F.col("_file").isin(sorted(combining))
                parts.append(_data_rows(lines.filter(marked), files, fields, widths, nfc=True))
                parts.append(_data_rows(lines.filter(~marked), files, fields, widths, nfc=False))
            else:
                parts.append(_data_rows(lines, files, fields, widths, nfc=False))
    if rejected or not parts:
        parts.append(_unreadable_rows(spark, rejected, fields, raw_prefix))
    result = parts[0]
    for part in parts[1:]:
        result = result.unionByName(part)
    return result
