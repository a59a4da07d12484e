"""Benchmark comparison: the REData job's result (raw documents -> demand_hourly, generation) in DuckDB SQL.

Not library code: the lake has one REData transform (``datalake.transforms.ree`` on Spark). This
query exists so ``benchmarks/pipeline.py`` can time the same result in DuckDB;
``tests/integration/test_duckdb_ree_transform.py`` checks both give identical rows and counts.

Same reading of the envelope as ``datalake.sources.ree.parse_values``, same typing and problems as
``datalake.transforms.ree``, same quality rules (SQL generated from the dataset specs), dedup and
Parquet layout as ``finish_dataset`` / ``write_processed``. It works on local folders and reports
counts; it writes no quarantine files.

Unreadable documents are recognised by structure (not JSON, not an object, ``included`` not a list
of objects), so their quarantine reason differs from the Python error text Spark records.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow as pa

from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.datasets.spec import DatasetSpec, QualityRule
from datalake.sources.ree import REAL_LABEL
from datalake.sources.sample import MADRID, SAMPLE_LABEL
from datalake.storage.base import parquet_bytes
from datalake.storage.paths import hive_path, is_hidden
from datalake.transforms.ree import _NAME, DEMAND_SERIES

# Python's named groups ``(?P<name>...)`` are RE2 syntax too, so the file-name rule is shared.
_FILE_NAME = _NAME.pattern
# A stamp that ``datetime.fromisoformat`` reads as aware: date, time, then Z or a UTC offset.
_AWARE_STAMP = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$"
_NUMBER_TYPES = "('UBIGINT', 'BIGINT', 'HUGEINT', 'DOUBLE')"
#: Where process_raw_ree quarantines rows of no known dataset (and how its report names them).
UNREADABLE_SOURCE = "ree_unreadable"

_DOCUMENTS = f"""
CREATE TEMP TABLE documents AS
SELECT f.path, f.extracted_at, t.doc,
       nullif(regexp_extract(f.path, '{_FILE_NAME}', 1), '') AS dataset,
       nullif(regexp_extract(f.path, '{_FILE_NAME}', 2), '') AS region,
       CASE WHEN json_valid(t.content)
             AND json_type(t.doc) = 'OBJECT'
             AND coalesce(json_type(t.doc, '$.included'), 'NULL') IN ('ARRAY', 'NULL')
             AND list_has_all(['OBJECT'], coalesce(json_type(t.doc, '$.included[*]'), []))
            THEN CASE WHEN t.doc->>'$.data.meta.sample' = 'true'
                           AND json_type(t.doc, '$.data.meta.sample') = 'BOOLEAN'
                      THEN '{SAMPLE_LABEL}' ELSE '{REAL_LABEL}' END
       END AS source
FROM (SELECT filename, content, CASE WHEN json_valid(content) THEN content::JSON END AS doc
      FROM read_text($paths)) AS t
JOIN files AS f ON f.path = t.filename
"""

# One row per value entry, walking composite series (``attributes.content``) as parse_values does.
_ENTRIES = """
CREATE TEMP TABLE entries AS
WITH RECURSIVE series(path, series) AS (
    SELECT path, unnest(json_extract(doc, '$.included[*]'))
    FROM documents WHERE source IS NOT NULL AND dataset IS NOT NULL
    UNION ALL
    SELECT path, unnest(json_extract(series, '$.attributes.content[*]')) FROM series
)
SELECT path,
       series->>'$.id' AS series_id,
       series->>'$.attributes.title' AS series_title,
       series->>'$.attributes.type' AS series_kind,
       unnest(json_extract(series, '$.attributes.values[*]')) AS entry
FROM series
"""

# Typed entries: an entry that cannot be read keeps a problem worded as parse_values words it.
_VALUES = f"""
CREATE TEMP TABLE value_rows AS
WITH grains AS (
    -- A series with more than one value in a document makes it hourly (as in _rows_of).
    SELECT path, CASE WHEN max(n) > 1 THEN 'hour' ELSE 'day' END AS time_grain
    FROM (SELECT path, series_id, count(*) AS n FROM entries GROUP BY path, series_id)
    GROUP BY path
),
read AS (
    SELECT e.*, json_type(entry) = 'OBJECT' AS is_object,
           entry->>'$.datetime' AS stamp,
           CASE WHEN json_type(entry, '$.datetime') = 'VARCHAR' THEN '''' || (entry->>'$.datetime') || ''''
                ELSE coalesce(entry->>'$.datetime', 'None') END AS stamp_repr,
           CASE WHEN regexp_full_match(entry->>'$.datetime', '{_AWARE_STAMP}')
                THEN timezone('UTC', try_cast(entry->>'$.datetime' AS TIMESTAMPTZ)) END AS ts_utc,
           CASE WHEN json_type(entry, '$.value') IN {_NUMBER_TYPES}
                THEN (entry->>'$.value')::DOUBLE END AS value,
           CASE WHEN json_type(entry, '$.percentage') IN {_NUMBER_TYPES}
                THEN (entry->>'$.percentage')::DOUBLE END AS percentage
    FROM entries AS e
)
SELECT d.path, d.dataset, d.region, d.extracted_at, d.source, g.time_grain,
       r.series_title, r.series_kind, entry::VARCHAR AS raw_record,
       CASE WHEN is_object THEN ts_utc END AS ts_utc,
       CASE WHEN is_object THEN value END AS value,
       CASE WHEN is_object THEN percentage END AS percentage,
       CASE WHEN NOT is_object THEN 'value entry is not an object: ' || entry::VARCHAR
            ELSE nullif(concat_ws('; ',
                CASE WHEN ts_utc IS NOT NULL THEN NULL
                     WHEN try_cast(stamp AS TIMESTAMP) IS NOT NULL
                          THEN 'datetime ' || stamp_repr || ' has no UTC offset'
                     ELSE 'datetime ' || stamp_repr || ' is not ISO 8601' END,
                CASE WHEN value IS NOT NULL THEN NULL
                     WHEN coalesce(json_type(entry, '$.value'), 'NULL') = 'NULL' THEN 'value is missing'
                     WHEN json_type(entry, '$.value') = 'VARCHAR'
                          THEN 'value ''' || (entry->>'$.value') || ''' is not a number'
                     ELSE 'value ' || (entry->>'$.value') || ' is not a number' END), '')
       END AS problem
FROM read AS r JOIN documents AS d USING (path) JOIN grains AS g USING (path)
UNION ALL BY NAME
-- One row per document that yields no entries, so every file is counted once at least.
SELECT path, dataset, region, extracted_at,
       CASE WHEN source IS NULL THEN 'unreadable REData document: not a JSON object with a list of series'
            WHEN dataset IS NULL THEN 'file name is not ree-<dataset>-<geo>-<date>.json'
            ELSE 'document holds no values' END AS problem
FROM documents WHERE path NOT IN (SELECT path FROM entries)
"""


def _local_date(ts: str) -> str:
    return f"CAST(timezone('{MADRID.key}', timezone('UTC', {ts})) AS DATE)"


_DEMAND = f"""
CREATE TEMP TABLE typed_demand_hourly AS
SELECT ts_utc, {_local_date("ts_utc")} AS local_date, region,
       -- Hourly energy in MWh over one hour is the mean power in MW.
       value AS demand_mw, source, NULL::DOUBLE AS tso_forecast_mw, extracted_at,
       year({_local_date("ts_utc")}) AS year, month({_local_date("ts_utc")}) AS month, raw_record,
       CASE WHEN problem IS NOT NULL THEN problem
            WHEN series_title <> '{DEMAND_SERIES}' THEN 'not the demand series: ' || series_title
            WHEN time_grain <> 'hour' THEN 'demand is hourly; this document is not' END AS problem
FROM value_rows WHERE dataset = 'demand'
"""

_GENERATION = f"""
CREATE TEMP TABLE typed_generation AS
SELECT ts_utc, {_local_date("ts_utc")} AS local_date, time_grain, region,
       series_title AS technology, series_kind AS technology_group, value AS energy_mwh,
       percentage AS share, source, extracted_at, year({_local_date("ts_utc")}) AS year, raw_record, problem
FROM value_rows WHERE dataset = 'generation'
"""


def _literal(value: object) -> str:
    if isinstance(value, float):
        # repr keeps every digit, and CAST reads 'inf' too.
        return f"CAST('{value!r}' AS DOUBLE)"
    return "'" + str(value).replace("'", "''") + "'"


def rule_failure_sql(rule: QualityRule) -> str:
    """A SQL condition true when a row breaks ``rule``, as ``quality._failure`` checks it in Spark.

    Parameters
    ----------
    rule
        A rule from ``DatasetSpec.effective_rules()``.

    Returns
    -------
    str
        A boolean SQL expression over the rule's column.
    """
    column = f'"{rule.column}"'
    if rule.kind == "not_null":
        return f"{column} IS NULL"
    if rule.kind == "range":
        low = _literal(float("-inf") if rule.min_value is None else float(rule.min_value))
        high = _literal(float("inf") if rule.max_value is None else float(rule.max_value))
        # NaN sorts above every number, so BETWEEN would not catch it; Spark's rule rejects it.
        return f"({column} IS NOT NULL AND (isnan({column}) OR {column} NOT BETWEEN {low} AND {high}))"
    allowed = ", ".join(_literal(value) for value in rule.allowed)
    return f"({column} IS NOT NULL AND CAST({column} AS VARCHAR) NOT IN ({allowed}))"


def reason_sql(spec: DatasetSpec) -> str:
    """SQL for ``reason``: every broken rule's reason joined by ``; ``, NULL when the row is valid."""
    messages = [
        f"CASE WHEN {rule_failure_sql(rule)} THEN {_literal(rule.reason)} END"
        for rule in spec.effective_rules()
    ]
    return f"nullif(concat_ws('; ', {', '.join(messages)}), '')" if messages else "NULL"


def _finish(con: duckdb.DuckDBPyConnection, spec: DatasetSpec, out_dir: Path) -> dict:
    """Check, deduplicate and write one dataset's typed rows; counts and reasons, like finish_dataset."""
    keys = ", ".join(f'"{key}"' for key in spec.primary_key)
    con.execute(f"""
        CREATE TEMP TABLE flagged_{spec.name} AS
        SELECT *, coalesce(problem, {reason_sql(spec)}) AS reason FROM typed_{spec.name}
    """)
    con.execute(f"""
        CREATE TEMP TABLE ranked_{spec.name} AS
        SELECT *, row_number() OVER (
            -- Ties (same key, same moment) go to the smallest raw record so re-runs agree; Spark's
            -- raw record is the flattened row's JSON, ours the entry's, so twins may differ.
            PARTITION BY {keys} ORDER BY extracted_at DESC NULLS LAST, raw_record
        ) AS _rank
        FROM flagged_{spec.name} WHERE reason IS NULL
    """)
    superseded_reason = (
        f"superseded by a newer revision (by extracted_at) of the same {', '.join(spec.primary_key)}"
    )
    reasons = dict(
        con.execute(f"""
            SELECT reason, count(*) FROM flagged_{spec.name} WHERE reason IS NOT NULL GROUP BY reason
            UNION ALL
            SELECT {_literal(superseded_reason)}, count(*) FROM ranked_{spec.name} WHERE _rank > 1
            HAVING count(*) > 0
        """).fetchall()
    )
    partitions = [f'"{p.name}"' for p in spec.partition_by]
    order = ", ".join(f'"{c}"' for c in dict.fromkeys([spec.time_column, *spec.primary_key]) if c)
    columns = ", ".join(f'"{c}"' for c in spec.column_names)
    schema = spec.arrow_schema()
    written = []
    for values in con.execute(
        f"SELECT DISTINCT {', '.join(partitions)} FROM ranked_{spec.name} WHERE _rank = 1 ORDER BY ALL"
    ).fetchall():
        where = " AND ".join(f"{name} = ?" for name in partitions)
        result = con.sql(
            f"SELECT {columns} FROM ranked_{spec.name} WHERE _rank = 1 AND {where} ORDER BY {order}",
            params=list(values),
        ).arrow()
        # Newer DuckDB returns a RecordBatchReader here, older versions a Table.
        table = result.read_all() if isinstance(result, pa.RecordBatchReader) else result
        names = [p.name for p in spec.partition_by]
        path = out_dir / spec.name / hive_path(dict(zip(names, values, strict=True))) / "part-00000.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        # The same writer as the object stores, so both engines' files differ only in their rows.
        path.write_bytes(parquet_bytes(table.cast(schema)))
        written.append(str(path))
    rows_out = con.execute(f"SELECT count(*) FROM ranked_{spec.name} WHERE _rank = 1").fetchone()[0]
    return {
        "rows_out": rows_out,
        "rows_quarantined": sum(reasons.values()),
        "reasons": reasons,
        "files": written,
    }


def raw_files(raw_dir: Path) -> list[tuple[str, int]]:
    """Every ``*.json`` under ``raw_dir`` (hidden paths skipped, as Spark does) with its mtime in ms."""
    found = []
    for path in sorted(raw_dir.rglob("*.json")):
        if path.is_file() and not is_hidden(str(path.relative_to(raw_dir))):
            # Spark's file_modification_time comes from Hadoop in whole milliseconds.
            found.append((str(path), os.stat(path).st_mtime_ns // 1_000_000))
    return found


def transform_ree_duckdb(raw_dir: Path | str, out_dir: Path | str, threads: int | None = None) -> dict:
    """Run the REData transform in DuckDB: raw documents -> processed Parquet, and the counts.

    Parameters
    ----------
    raw_dir
        Folder of raw documents (``raw/ree`` or ``raw/ree_sample`` of a local lake); every
        ``*.json`` below it is read.
    out_dir
        Processed zone root: files go to ``<out_dir>/<dataset>/year=/[month=/]part-00000.parquet``,
        one sorted file per partition (an existing one is overwritten).
    threads
        DuckDB worker threads; DuckDB's default (all cores) when None.

    Returns
    -------
    dict
        ``rows_in`` (value entries plus one per document without entries), ``rows_out``,
        ``rows_quarantined`` (``rows_in == rows_out + rows_quarantined``), ``files`` read,
        ``<dataset>_rows_out``, ``quarantine_reasons`` (``"<dataset>: <reason>"`` -> count, as
        the Spark run report has them) and ``keys_written`` (Parquet paths).
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    files = raw_files(raw_dir)
    result: dict = {"rows_in": 0, "rows_out": 0, "rows_quarantined": 0, "files": len(files)}
    result.update({"quarantine_reasons": {}, "keys_written": []})
    if not files:
        return result
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        paths, millis = zip(*files, strict=True)
        listing = pa.table({"path": paths, "extracted_at": pa.array(millis, pa.timestamp("ms"))})
        con.register("files", listing)
        con.execute(_DOCUMENTS, {"paths": list(paths)})
        for statement in (_ENTRIES, _VALUES, _DEMAND, _GENERATION):
            con.execute(statement)
        result["rows_in"] = con.execute("SELECT count(*) FROM value_rows").fetchone()[0]
        for spec in (DEMAND_HOURLY, GENERATION):
            done = _finish(con, spec, out_dir)
            result[f"{spec.name}_rows_out"] = done["rows_out"]
            result["rows_out"] += done["rows_out"]
            result["rows_quarantined"] += done["rows_quarantined"]
            result["quarantine_reasons"].update({f"{spec.name}: {r}": n for r, n in done["reasons"].items()})
            result["keys_written"] += done["files"]
        # Rows of no known dataset are quarantined apart, as unreadable_rows and process_documents do.
        stray = con.execute(
            "SELECT problem, count(*) FROM value_rows"
            " WHERE dataset IS NULL OR dataset NOT IN ('demand', 'generation') GROUP BY problem"
        ).fetchall()
        result["rows_quarantined"] += sum(n for _, n in stray)
        result["quarantine_reasons"].update({f"{UNREADABLE_SOURCE}: {r}": n for r, n in stray})
    return result
