"""Benchmark comparison: the energy company job's result (raw CSV drops -> three tables) as DuckDB SQL.

Not library code: the lake has one energy company transform (``datalake.transforms.energy_company``
on Spark). This query exists so ``benchmarks/energy_company.py`` can time the same result in DuckDB;
``tests/integration/test_energy_company.py`` checks both give identical rows and counts.

Same reading of each drop (``datalake.sources.energy_company.sniff``), same normalisation, checks,
deduplication, price bands and counterparty flags as ``datalake.transforms.energy_company`` and
``datalake.pipelines.energy_company`` (full rebuild mode), so both engines write the same rows;
the test checks it. It works on local folders, writes the processed Parquet and reports counts,
and writes no quarantine files.
"""

# ruff: noqa: E501  (SQL fragments read better whole than wrapped)
from __future__ import annotations

from pathlib import Path

import duckdb

from datalake.datasets.energy_company import (
    CIUDAD_ALIAS,
    CIUDADES,
    CLIENTES,
    ENTITIES,
    MAX_PLAUSIBLE_PRICE_COP_KWH,
    MAX_PLAUSIBLE_QUANTITY_KWH,
    PROVEEDORES,
    TIPOS_ENERGIA,
    TIPOS_IDENTIFICACION,
    TIPOS_TRANSACCION,
    TRANSACCIONES,
)
from datalake.sources.energy_company import Rejected, fold, sniff
from datalake.storage.paths import is_hidden

_LANDED = r"year=(\d{4})/month=(\d{2})/day=(\d{2})/"


def _text(column: str) -> str:
    return f"nullif(upper(trim(regexp_replace({column}, '\\s+', ' ', 'g'))), '')"


def _fold(column: str) -> str:
    return f"strip_accents({_text(column)})"


def _canonical(column: str, values: tuple[str, ...], aliases: dict[str, str] | None = None) -> str:
    pairs = {fold(v): v for v in values} | (aliases or {})
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in sorted(pairs.items()))
    return f"coalesce(CASE {_fold(column)} {cases} END, {_text(column)})"


def _number(column: str) -> str:
    text = f"regexp_replace(upper({column}), '[\\s$]|COP', '', 'g')"
    return (
        f"CASE WHEN regexp_full_match({text}, '[-+]?\\d+(\\.\\d+)?') THEN TRY_CAST({text} AS DOUBLE) "
        f"WHEN regexp_full_match({text}, '[-+]?\\d+,\\d+') THEN TRY_CAST(replace({text}, ',', '.') AS DOUBLE) "
        f"WHEN regexp_full_match({text}, '[-+]?\\d{{1,3}}(\\.\\d{{3}})+,\\d+') "
        f"THEN TRY_CAST(replace(replace({text}, '.', ''), ',', '.') AS DOUBLE) "
        f"WHEN regexp_full_match({text}, '[-+]?\\d{{1,3}}(,\\d{{3}})+(\\.\\d+)?') "
        f"THEN TRY_CAST(replace({text}, ',', '') AS DOUBLE) END"
    )


def _date(column: str) -> str:
    text = f"trim({column})"
    return (
        f"CASE WHEN regexp_full_match({text}, '\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}') "
        f"THEN CAST(try_strptime({text}, '%Y-%m-%d') AS DATE) "
        f"WHEN regexp_full_match({text}, '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}') "
        f"THEN CAST(try_strptime({text}, '%d/%m/%Y') AS DATE) END"
    )


def _unparsable(column: str, parsed: str, what: str) -> str:
    return f"CASE WHEN trim({column}) <> '' AND ({parsed}) IS NULL THEN '{column}: {what} ''' || trim({column}) || '''' END"


def _in(column: str, allowed: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{v}'" for v in allowed)
    message = f"{column} not in {list(allowed)}".replace("'", "''")
    return f"CASE WHEN {column} IS NOT NULL AND {column} NOT IN ({listed}) THEN '{message}' END"


def _null(column: str) -> str:
    return f"CASE WHEN {column} IS NULL THEN '{column} is null' END"


def _varchar_columns(names: tuple[str, ...]) -> str:
    return "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in names) + "}"


def _read(connection: duckdb.DuckDBPyConnection, raw_dir: Path, max_line_bytes: int) -> dict[str, int]:
    """Create a ``src_<entity>`` view per entity over its files (read as text); returns rows per entity."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for path in sorted(
        p for p in raw_dir.rglob("*") if p.is_file() and not is_hidden(str(p.relative_to(raw_dir)))
    ):
        try:
            sniffed = sniff(path.read_bytes(), max_line_bytes)
        except Rejected:
            continue  # the Spark job quarantines these as unreadable; the benchmark data has none
        groups.setdefault((sniffed.entity, sniffed.delimiter, sniffed.encoding), []).append(str(path))
    counts = {}
    for entity, spec in ENTITIES.items():
        selects = [
            f"SELECT *, CAST(make_date(CAST(regexp_extract(filename, '{_LANDED}', 1) AS INT), "
            f"CAST(regexp_extract(filename, '{_LANDED}', 2) AS INT), "
            f"CAST(regexp_extract(filename, '{_LANDED}', 3) AS INT)) AS DATE) AS fecha_carga "
            f"FROM read_csv({files!r}, delim = '{delimiter}', encoding = '{encoding}', header = true, "
            f"all_varchar = true, filename = true, quote = '\"', "
            f"columns = {_varchar_columns(spec.source_columns)})"
            for (name, delimiter, encoding), files in groups.items()
            if name == entity
        ]
        empty = ", ".join(f"NULL::VARCHAR AS {c}" for c in spec.source_columns)
        body = (
            " UNION ALL BY NAME ".join(selects)
            or f"SELECT {empty}, NULL AS filename, NULL::DATE AS fecha_carga WHERE false"
        )
        connection.execute(f"CREATE OR REPLACE TEMP TABLE src_{entity} AS {body}")
        counts[entity] = connection.execute(f"SELECT count(*) FROM src_{entity}").fetchone()[0]
    return counts


def _checked(connection: duckdb.DuckDBPyConnection, entity: str, typed: str, reasons: list[str]) -> None:
    """``chk_<entity>``: the typed rows with ``reason`` (null when valid)."""
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE chk_{entity} AS SELECT *, nullif(concat_ws('; ', {', '.join(reasons)}), '') "
        f"AS reason FROM ({typed})"
    )


def transform_energy_company_duckdb(raw_dir: Path, out_dir: Path, max_line_bytes: int = 1_048_576) -> dict:
    """Run the transform over every drop under ``raw_dir``; write ``<out_dir>/<entity>/`` Parquet.

    Returns
    -------
    dict
        ``rows_in``, ``rows_out``, ``rows_quarantined`` and ``<entity>_rows_out``.
    """
    connection = duckdb.connect(":memory:")
    counts = _read(connection, raw_dir, max_line_bytes)
    ident = "nullif(regexp_replace(upper(tipo_identificacion), '[^A-Z]', '', 'g'), '')"
    _checked(
        connection,
        "clientes",
        f"SELECT fecha_carga, identificacion AS raw_id, {ident} AS tipo_identificacion, "
        f"nullif(regexp_replace(identificacion, '[^0-9]', '', 'g'), '') AS identificacion, "
        f"{_text('nombre')} AS nombre, {_canonical('ciudad', CIUDADES, CIUDAD_ALIAS)} AS ciudad, "
        f"concat_ws(';', tipo_identificacion, identificacion, nombre, ciudad) AS raw_record FROM src_clientes",
        [
            "CASE WHEN trim(raw_id) <> '' AND identificacion IS NULL THEN 'identificacion: has no digits ''' || trim(raw_id) || '''' END",
            "CASE WHEN coalesce(trim(raw_id), '') = '' THEN 'identificacion is null' END",
            _null("nombre"),
            _null("ciudad"),
            _null("tipo_identificacion"),
            _in("tipo_identificacion", TIPOS_IDENTIFICACION),
        ],
    )
    _checked(
        connection,
        "proveedores",
        f"SELECT fecha_carga, fecha_registro AS raw_fecha, {_text('nombre_proveedor')} AS nombre_proveedor, "
        f"{_canonical('tipo_energia', TIPOS_ENERGIA)} AS tipo_energia, {_date('fecha_registro')} AS fecha_registro, "
        f"concat_ws(',', nombre_proveedor, tipo_energia, fecha_registro) AS raw_record FROM src_proveedores",
        [
            _unparsable("raw_fecha", "fecha_registro", "not a date").replace("raw_fecha:", "fecha_registro:"),
            "CASE WHEN coalesce(trim(raw_fecha), '') = '' THEN 'fecha_registro is null' END",
            _null("nombre_proveedor"),
            _null("tipo_energia"),
            _in("tipo_energia", TIPOS_ENERGIA),
        ],
    )
    key = ", ".join(TRANSACCIONES.source_columns)
    _checked(
        connection,
        "transacciones",
        f"SELECT *, sha256(concat_ws('|', {key})) AS transaccion_id, year(fecha_transaccion) AS year, "
        f"month(fecha_transaccion) AS month FROM (SELECT fecha_carga, cantidad_comprada_kwh AS raw_q, "
        f"precio_kwh_cop AS raw_p, fecha_transaccion AS raw_f, {_text('tipo_transaccion')} AS tipo_transaccion, "
        f"{_text('nombre_cliente_proveedor')} AS nombre_cliente_proveedor, "
        f"{_canonical('tipo_energia', TIPOS_ENERGIA)} AS tipo_energia, "
        f"{_number('cantidad_comprada_kwh')} AS cantidad_comprada_kwh, {_number('precio_kwh_cop')} AS precio_kwh_cop, "
        f"{_date('fecha_transaccion')} AS fecha_transaccion, "
        f"concat_ws(',', {key}) AS raw_record FROM src_transacciones)",
        [
            _unparsable("raw_q", "cantidad_comprada_kwh", "unparsable number").replace(
                "raw_q:", "cantidad_comprada_kwh:"
            ),
            _unparsable("raw_p", "precio_kwh_cop", "unparsable number").replace("raw_p:", "precio_kwh_cop:"),
            _unparsable("raw_f", "fecha_transaccion", "not a date").replace("raw_f:", "fecha_transaccion:"),
            *(
                f"CASE WHEN coalesce(trim({raw}), '') = '' THEN '{col} is null' END"
                for raw, col in (
                    ("raw_q", "cantidad_comprada_kwh"),
                    ("raw_p", "precio_kwh_cop"),
                    ("raw_f", "fecha_transaccion"),
                )
            ),
            _null("tipo_transaccion"),
            _null("nombre_cliente_proveedor"),
            _null("tipo_energia"),
            _in("tipo_transaccion", TIPOS_TRANSACCION),
            _in("tipo_energia", TIPOS_ENERGIA),
            f"CASE WHEN NOT cantidad_comprada_kwh BETWEEN 0 AND {MAX_PLAUSIBLE_QUANTITY_KWH} THEN 'cantidad out of range' END",
            f"CASE WHEN NOT precio_kwh_cop BETWEEN 0 AND {MAX_PLAUSIBLE_PRICE_COP_KWH} THEN 'precio out of range' END",
        ],
    )
    # Masters: newest values per key, dated by the first drop that carried them; transactions: first arrival.
    for entity, spec in (("clientes", CLIENTES), ("proveedores", PROVEEDORES)):
        values = ", ".join(c for c in spec.column_names if c != "fecha_carga")
        keys = ", ".join(spec.primary_key)
        connection.execute(
            f"CREATE OR REPLACE TEMP TABLE out_{entity} AS SELECT {values}, first_seen AS fecha_carga FROM ("
            f"SELECT *, min(fecha_carga) OVER (PARTITION BY {values}) AS first_seen, row_number() OVER "
            f"(PARTITION BY {keys} ORDER BY fecha_carga DESC, raw_record) AS rank FROM chk_{entity} "
            f"WHERE reason IS NULL) WHERE rank = 1"
        )
    connection.execute(
        "CREATE OR REPLACE TEMP TABLE dedup AS SELECT * EXCLUDE (rank) FROM (SELECT *, row_number() OVER "
        "(PARTITION BY transaccion_id ORDER BY fecha_carga, raw_record) AS rank FROM chk_transacciones "
        "WHERE reason IS NULL) WHERE rank = 1"
    )
    connection.execute(
        """
        CREATE OR REPLACE TEMP TABLE out_transacciones AS
        WITH cuts AS (
            SELECT tipo_energia, quantile_cont(precio_kwh_cop, [1.0 / 3, 2.0 / 3]) AS q FROM dedup GROUP BY 1
        ), known AS (
            SELECT DISTINCT strip_accents(nombre) AS name, 'VENTA' AS tipo FROM out_clientes
            UNION SELECT DISTINCT strip_accents(nombre_proveedor), 'COMPRA' FROM out_proveedores
        )
        SELECT d.transaccion_id, d.tipo_transaccion, d.nombre_cliente_proveedor, d.tipo_energia,
               d.cantidad_comprada_kwh, d.precio_kwh_cop,
               round(d.cantidad_comprada_kwh * d.precio_kwh_cop, 2) AS precio_total_cop,
               CASE WHEN d.precio_kwh_cop <= c.q[1] THEN 'económico'
                    WHEN d.precio_kwh_cop <= c.q[2] THEN 'promedio' ELSE 'costoso' END AS banda_precio,
               d.fecha_transaccion, k.name IS NOT NULL AS contraparte_conocida, d.fecha_carga, d.year, d.month
        FROM dedup AS d JOIN cuts AS c USING (tipo_energia)
        LEFT JOIN known AS k ON k.name = strip_accents(d.nombre_cliente_proveedor) AND k.tipo = d.tipo_transaccion
        """
    )
    result = {"rows_in": sum(counts.values()), "rows_out": 0}
    for entity, spec in ENTITIES.items():
        target = out_dir / entity
        target.mkdir(parents=True, exist_ok=True)
        partition = ", PARTITION_BY (year, month), OVERWRITE_OR_IGNORE" if spec.partition_by else ""
        destination = str(target if spec.partition_by else target / "part-00000.parquet")
        connection.execute(f"COPY out_{entity} TO '{destination}' (FORMAT parquet{partition})")
        rows = connection.execute(f"SELECT count(*) FROM out_{entity}").fetchone()[0]
        result[f"{entity}_rows_out"] = rows
        result["rows_out"] += rows
    # Every row read is checked bad, superseded, or out: what is not out was quarantined.
    result["rows_quarantined"] = result["rows_in"] - result["rows_out"]
    connection.close()
    return result
