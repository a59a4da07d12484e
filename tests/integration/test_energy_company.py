"""The energy company lake on local[1]: transforms, quarantine, idempotency, crawl, named queries, sync.

One Spark session and one processed lake (the fixed day in tests/energy_fixtures.py) serve the
module; the tests that change the lake work on a copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from energy_fixtures import (
    DROPS,
    EXPECTED_OUT,
    EXPECTED_QUARANTINED,
    LANDED,
    TRANSACCIONES_CSV,
    land_fixed_day,
)
from processed_fixtures import published, published_digests
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from spark_fixtures import local_spark

from datalake.datasets.energy_company import (
    CIUDAD_ALIAS,
    CIUDADES,
    CLIENTES,
    PROVEEDORES,
    TIPOS_ENERGIA,
    TRANSACCIONES,
)
from datalake.errors import LakeError
from datalake.pipelines.lake import crawl_zones, sync_dataset, transform
from datalake.query.named_queries import named_query_names, run_named_query
from datalake.runs import RunReport
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore
from datalake.transforms.energy_company import (
    _parse_date_text,
    canonical,
    clean_text,
    fold_text,
    parse_date,
    parse_number,
    unaccented,
    with_counterparty_flag,
    written_spellings,
)

pytest_plugins = ["warehouse_fixtures"]


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = local_spark("tests-energy", "local[1]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory) -> tuple[Settings, RunReport]:
    """The fixed day landed, transformed and crawled once for the module."""
    root = tmp_path_factory.mktemp("energy") / "lake"
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=root, spark_master="local[1]")
    landed = land_fixed_day(settings)
    assert landed.details["accepted"] == {"clientes": 1, "proveedores": 1, "transacciones": 1}
    report = transform("energy_company", settings=settings)
    for crawl in crawl_zones(["raw", "processed"], settings):
        crawl.raise_for_conflicts()
    return settings, report


def table(settings: Settings, entity: str) -> pd.DataFrame:
    spec = next(s for s in (CLIENTES, PROVEEDORES, TRANSACCIONES) if s.table_name == entity)
    return published(LocalObjectStore(settings.lake_root), spec)


def processed_checksums(settings: Settings) -> dict[str, list[str]]:
    """The bytes of every current processed file, per partition (file names change each run)."""
    return published_digests(LocalObjectStore(settings.lake_root))


def copy_of(settings: Settings, tmp_path: Path) -> Settings:
    shutil.copytree(settings.lake_root, tmp_path / "lake")
    return settings.model_copy(update={"lake_root": tmp_path / "lake"})


def test_counts_balance_and_match_the_construction(lake) -> None:
    settings, report = lake
    assert report.status == "succeeded" and report.balanced
    assert report.rows_in == sum(EXPECTED_OUT.values()) + sum(EXPECTED_QUARANTINED.values())
    for entity, expected in EXPECTED_OUT.items():
        assert report.details[f"{entity}_rows_out"] == expected == len(table(settings, entity))
    reasons = report.details["quarantine_reasons"]
    for entity, expected in EXPECTED_QUARANTINED.items():
        assert sum(n for r, n in reasons.items() if r.startswith(f"{entity}: ")) == expected, entity
    assert reasons["transacciones: cantidad_comprada_kwh: unparsable number 'abc'"] == 1
    assert reasons["transacciones: cantidad_comprada_kwh outside [0.0, 100000000.0]"] == 1
    assert reasons["transacciones: tipo_transaccion not in ['COMPRA', 'VENTA']"] == 1
    assert reasons["transacciones: fecha_transaccion: not a date '2024-02-30'"] == 1
    assert reasons["clientes: identificacion: has no digits 'abc'"] == 1
    assert reasons["clientes: identificacion is null"] == 1
    assert reasons["clientes: tipo_identificacion is null"] == 1
    assert reasons["clientes: tipo_identificacion not in ['CC', 'NIT', 'CE']"] == 1
    assert reasons["proveedores: fecha_registro: not a date '2020-13-45'"] == 1
    quarantined = LocalObjectStore(settings.lake_root).read_parquet("quarantine/energy_company/transacciones")
    assert len(quarantined) == EXPECTED_QUARANTINED["transacciones"]
    assert "venta,Anne Martin,solar,abc,500,2024-06-01" in set(quarantined["raw_record"])


def test_text_identifications_and_cities_are_normalised(lake) -> None:
    settings, _ = lake
    clientes = table(settings, "clientes").set_index("identificacion")
    assert list(clientes.columns) == [c for c in CLIENTES.column_names if c != "identificacion"]
    assert clientes.loc["1020304", ["tipo_identificacion", "nombre", "ciudad"]].tolist() == [
        "CC",
        "JOSÉ PÉREZ",
        "BOGOTÁ",
    ]
    assert clientes.loc["556677", ["tipo_identificacion", "nombre", "ciudad"]].tolist() == [
        "CC",
        "MARÍA LÓPEZ",
        "BOGOTÁ",
    ]
    assert (
        clientes.loc["9001234567", "ciudad"] == "MEDELLÍN"
        and clientes.loc["778899", "tipo_identificacion"] == "CE"
    )
    assert set(clientes["fecha_carga"]) == {LANDED.date()}
    proveedores = table(settings, "proveedores").set_index("nombre_proveedor")
    assert list(proveedores.columns) == [c for c in PROVEEDORES.column_names if c != "nombre_proveedor"]
    assert proveedores.loc["VIENTOS DEL NORTE", "tipo_energia"] == "EÓLICA"
    assert proveedores.loc["HIDRO ANDES", "fecha_registro"] == dt.date(2019, 3, 15)
    assert "ÁTOMO VERDE" in proveedores.index


def test_derived_columns_bands_and_counterparty_flags(lake) -> None:
    settings, _ = lake
    tx = table(settings, "transacciones")
    assert list(tx.columns[: len(TRANSACCIONES.column_names)]) == TRANSACCIONES.column_names
    tx = tx.set_index("nombre_cliente_proveedor")
    assert tx.loc["INDUSTRIAS ANDINAS S.A.", ["precio_kwh_cop", "precio_total_cop"]].tolist() == [
        700.5,
        210150.0,
    ]
    # EÓLICA prices 200, 600, 700.5 -> one per band; SOLAR 300, 400, 450, 500 -> cuts at 400 and 450.
    bands = tx["banda_precio"].to_dict()
    assert bands == {
        "VIENTOS DEL NORTE": "económico",
        "MARIA LOPEZ": "promedio",
        "INDUSTRIAS ANDINAS S.A.": "costoso",
        "SOL CARIBE": "económico",
        "PROVEEDOR FANTASMA": "económico",
        "CLIENTE DESCONOCIDO": "promedio",
        "JOSÉ PEREZ": "costoso",
    }
    unknown = sorted(tx.index[~tx["contraparte_conocida"]])
    assert unknown == ["CLIENTE DESCONOCIDO", "PROVEEDOR FANTASMA"]  # flagged, not quarantined
    assert tx.loc["MARIA LOPEZ", "fecha_transaccion"] == dt.date(2024, 6, 2)  # DD/MM/YYYY read
    assert tx["transaccion_id"].is_unique and tx["transaccion_id"].str.fullmatch("[0-9a-f]{64}").all()


EXPECTED_ANSWERS = {
    "clients_per_city": [["BOGOTÁ", 2], ["CALI", 1], ["MEDELLÍN", 1]],
    "suppliers_per_energy_type": [
        ["SOLAR", 2],
        ["EÓLICA", 1],
        ["HIDROELÉCTRICA", 1],
        ["NUCLEAR", 1],
        ["TÉRMICA", 1],
    ],
    "avg_kwh_price_per_transaction_type": [
        ["COMPRA", 3, 3500 / 3, 300.0, 1_000_000.0],
        ["VENTA", 4, 115.0, 562.625, 294_650.0],
    ],
    "monthly_purchases_vs_sales": [
        ["2024-05-01", "EÓLICA", 1000.0, 0.0, 200_000.0, 0.0],
        ["2024-05-01", "SOLAR", 2000.0, 100.0, 600_000.0, 50_000.0],
        ["2024-06-01", "EÓLICA", 0.0, 350.0, 0.0, 240_150.0],
        ["2024-06-01", "SOLAR", 500.0, 10.0, 200_000.0, 4_500.0],
    ],
    "top_clients_by_spend": [
        ["INDUSTRIAS ANDINAS S.A.", 210_150.0, 300.0, 1],
        ["JOSÉ PEREZ", 50_000.0, 100.0, 1],
        ["MARIA LOPEZ", 30_000.0, 50.0, 1],
    ],
    "unknown_counterparties": [
        ["2024-06-01", "COMPRA", "PROVEEDOR FANTASMA", "SOLAR", 500.0, 200_000.0],
        ["2024-06-02", "VENTA", "CLIENTE DESCONOCIDO", "SOLAR", 10.0, 4_500.0],
    ],
}


def _plain(value):
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return str(value)[:10]
    return value.item() if hasattr(value, "item") else value


@pytest.mark.parametrize("name", sorted(EXPECTED_ANSWERS))
def test_named_query_answers_are_known_by_construction(lake, name) -> None:
    settings, _ = lake
    rows = [[_plain(v) for v in row] for row in run_named_query(name, settings).itertuples(index=False)]
    assert _close(rows, EXPECTED_ANSWERS[name])


def _close(rows: list[list], expected: list[list]) -> bool:
    assert len(rows) == len(expected), rows
    for got, want in zip(rows, expected, strict=True):
        assert len(got) == len(want), got
        for g, w in zip(got, want, strict=True):
            assert g == (pytest.approx(w) if isinstance(w, float) else w), (got, want)
    return True


def test_every_named_query_is_tested_and_unknown_names_are_listed(lake) -> None:
    settings, _ = lake
    assert named_query_names() == sorted(EXPECTED_ANSWERS)
    with pytest.raises(LakeError, match=r"unknown named query 'nope'.*clients_per_city"):
        run_named_query("nope", settings)


def test_crawl_catalogs_the_energy_databases_apart(lake) -> None:
    from datalake import runtime

    settings, _ = lake
    catalog = runtime.catalog(settings)
    assert catalog.list_tables("energy_processed_db") == ["clientes", "proveedores", "transacciones"]
    assert catalog.list_tables("energy_raw_db") == ["clientes", "proveedores", "transacciones"]
    assert not any("energy" in t for t in catalog.list_tables(settings.raw_database))
    tx = catalog.get_table("energy_processed_db", "transacciones")
    assert [k.name for k in tx.partition_keys] == ["year", "month"]
    raw = catalog.get_table("energy_raw_db", "clientes")
    assert [c.name for c in raw.columns] == list(CLIENTES.source_columns)  # the ; Latin-1 header, read
    assert (raw.parameters["delimiter"], raw.parameters["encoding"]) == (";", "latin-1")
    engine = runtime.query_engine(settings)
    names = engine.query("SELECT nombre FROM energy_raw_db.clientes WHERE identificacion = '1.020.304'")
    assert names["nombre"].tolist() == ["  josé   pérez "]  # raw as it landed, accents decoded


@pytest.mark.slow
def test_the_same_drops_again_change_nothing_downstream(lake, tmp_path) -> None:
    settings = copy_of(lake[0], tmp_path)
    before = processed_checksums(settings)
    first = lake[1]
    # The same three files land again the next day (a new raw copy each) and the job reruns:
    # incremental, it parses only the new day's drops.
    land_fixed_day(settings, LANDED + dt.timedelta(days=1))
    rerun = transform("energy_company", settings=settings)
    assert rerun.balanced and processed_checksums(settings) == before
    assert rerun.details["mode"] == "incremental" and rerun.rows_in == first.rows_in
    assert rerun.details["transacciones_rows_out"] == 0  # the first arrivals (the first day) win
    assert rerun.details["rows_carried_over"] == EXPECTED_OUT["transacciones"]
    # --full parses both days again: the same tables.
    full = transform("energy_company", settings=settings, full=True)
    assert full.balanced and processed_checksums(settings) == before
    assert full.details["mode"] == "full" and full.rows_in == 2 * first.rows_in
    assert full.details["transacciones_rows_out"] == EXPECTED_OUT["transacciones"]
    # The daily mode: only the new day's drops, read again.
    daily = transform("energy_company", day=(LANDED + dt.timedelta(days=1)).date(), settings=settings)
    assert daily.balanced and processed_checksums(settings) == before
    assert daily.rows_in == first.rows_in
    assert daily.details["rows_carried_over"] == EXPECTED_OUT["transacciones"]  # the first copies win
    # The first day again in daily mode: its transactions are still the first arrivals.
    same_day = transform("energy_company", day=LANDED.date(), settings=settings)
    assert same_day.balanced and same_day.details["transacciones_rows_out"] == EXPECTED_OUT["transacciones"]
    assert processed_checksums(settings) == before


def test_processed_tables_sync_into_postgresql(lake, tmp_path, embedded_pg) -> None:
    settings = copy_of(lake[0], tmp_path).model_copy(update={"database_url": embedded_pg.url})
    for spec in (CLIENTES, PROVEEDORES, TRANSACCIONES):
        first = sync_dataset(spec.name, settings)
        again = sync_dataset(spec.name, settings, force=True)
        assert first.details["inserted"] == EXPECTED_OUT[spec.table_name]
        assert again.details["unchanged"] == EXPECTED_OUT[spec.table_name]
    with psycopg.connect(embedded_pg.url) as conn:
        known = conn.execute(
            "SELECT count(*) FROM energy_transacciones WHERE contraparte_conocida"
        ).fetchone()
        cities = conn.execute("SELECT ciudad, count(*) FROM energy_clientes GROUP BY 1 ORDER BY 1").fetchall()
    assert known == (5,) and cities == [("BOGOTÁ", 2), ("CALI", 1), ("MEDELLÍN", 1)]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_every_fixed_drop_is_in_raw_unchanged(lake) -> None:
    settings, _ = lake
    store = LocalObjectStore(settings.lake_root)
    for name, data in DROPS.items():
        entity = name.split("_")[0]
        (key,) = store.list_keys(f"raw/energy_company/{entity}/year=2024/month=06/day=03")
        assert store.get_bytes(key) == data and key.endswith(f"/{name[:-4]}.{sha256(data)[:16]}.csv")


def test_the_duckdb_twin_writes_the_same_rows(lake, tmp_path) -> None:
    from benchmarks.duckdb_energy_company import transform_energy_company_duckdb

    settings, report = lake
    counts = transform_energy_company_duckdb(settings.lake_root / "raw" / "energy_company", tmp_path / "duck")
    assert (counts["rows_in"], counts["rows_out"], counts["rows_quarantined"]) == (
        report.rows_in,
        report.rows_out,
        report.rows_quarantined,
    )
    twin = LocalObjectStore(tmp_path / "duck")
    for spec in (CLIENTES, PROVEEDORES, TRANSACCIONES):
        spark_rows = table(settings, spec.table_name)[spec.column_names]
        duck_rows = twin.read_parquet(spec.table_name)[spec.column_names]
        key = list(spec.primary_key)
        pd.testing.assert_frame_equal(
            spark_rows.sort_values(key).reset_index(drop=True).astype(str),
            duck_rows.sort_values(key).reset_index(drop=True).astype(str),
        )


def test_finding_11_two_same_named_drops_of_one_day_are_both_read_and_deduped(spark, tmp_path) -> None:
    from benchmarks.duckdb_energy_company import transform_energy_company_duckdb

    settings = Settings(
        _env_file=None, lake_runtime="local", lake_root=tmp_path / "lake", spark_master="local[1]"
    )
    land_fixed_day(settings)
    # The same file name again that day: the morning's rows plus one new sale.
    second = TRANSACCIONES_CSV + b"venta,Anne Martin,solar,7,500,2024-06-01\n"
    assert land_fixed_day(settings, drops={"transacciones_20240603.csv": second}).rows_out == 1
    store = LocalObjectStore(settings.lake_root)
    assert [store.get_bytes(k) for k in store.list_keys("raw/energy_company/transacciones")] in (
        [TRANSACCIONES_CSV, second],
        [second, TRANSACCIONES_CSV],
    )
    report = transform("energy_company", settings=settings)
    assert report.balanced and report.details["files"] == 4
    # Both files are read; the repeated rows are the same transactions (transaccion_id), kept once.
    assert report.details["transacciones_rows_out"] == EXPECTED_OUT["transacciones"] + 1
    assert len(table(settings, "transacciones")) == EXPECTED_OUT["transacciones"] + 1
    reasons = report.details["quarantine_reasons"]
    quarantined = sum(n for r, n in reasons.items() if r.startswith("transacciones: "))
    assert quarantined == EXPECTED_QUARANTINED["transacciones"] + TRANSACCIONES_CSV.count(b"\n") - 1
    twin = transform_energy_company_duckdb(settings.lake_root / "raw" / "energy_company", tmp_path / "duck")
    assert (twin["rows_in"], twin["rows_out"], twin["rows_quarantined"]) == (
        report.rows_in,
        report.rows_out,
        report.rows_quarantined,
    )


@pytest.mark.parametrize(
    ("values", "aliases"), [(TIPOS_ENERGIA, None), (CIUDADES, CIUDAD_ALIAS)], ids=["tipo_energia", "ciudad"]
)
def test_spellings_looked_up_as_written_get_what_trimming_and_folding_gives(spark, values, aliases) -> None:
    # A leading space defeats the as-written lookup, so the padded copy goes the folding way.
    spellings = written_spellings(values, aliases)
    assert len(spellings) >= 4 * len(values)
    frame = spark.createDataFrame([(s,) for s in spellings], "spelling string").withColumn(
        "padded", F.concat(F.lit(" "), "spelling")
    )
    got = frame.select(
        "spelling",
        canonical("spelling", values, aliases).alias("as_written"),
        canonical("padded", values, aliases).alias("folded"),
    ).collect()
    assert {row["spelling"]: row["as_written"] for row in got} == spellings
    assert all(row["as_written"] == row["folded"] for row in got), [r for r in got if r[1] != r[2]]


def _number_by_its_patterns(value: str | None) -> float | None:
    """parse_number's documented reading, in Python (Java's \\s and \\d are ASCII classes)."""
    if value is None:
        return None
    text = re.sub(r"[ \t\n\x0b\f\r$]|COP", "", value.upper())
    if re.fullmatch(r"[-+]?[0-9]+(\.[0-9]+)?", text):
        return float(text)
    if re.fullmatch(r"[-+]?[0-9]+,[0-9]+", text):
        return float(text.replace(",", "."))
    if re.fullmatch(r"[-+]?[0-9]{1,3}(\.[0-9]{3})+,[0-9]+", text):
        return float(text.replace(".", "").replace(",", "."))
    if re.fullmatch(r"[-+]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?", text):
        return float(text.replace(",", ""))
    return None


def test_numbers_read_by_the_cast_shortcut_or_the_patterns_are_the_documented_ones(spark) -> None:
    # Plain decimals take Spark's cast; everything else the patterns: random texts over the
    # characters either reading cares about, and the forms a cast reads that the patterns do not.
    chosen = random.Random(16)
    alphabet = "0123456789.,+-eExXdDf $COPN\t"
    values = ["".join(chosen.choices(alphabet, k=chosen.randint(0, 9))) for _ in range(4000)]
    values += ["702.9", "1.234,5", "1,234.5", "$ 1.234 COP", "1e5", "1E5", ".5", "5.", "0x1p3", "1d", "1f"]
    values += ["Infinity", "NaN", "inf", " 12 ", "12\t", "+5", "-5.25", "1_000", "١٢", "00012.50", None]
    frame = spark.createDataFrame([(v,) for v in values], "value string")
    got = [row["number"] for row in frame.select(parse_number("value").alias("number")).collect()]
    wrong = [
        (v, g, _number_by_its_patterns(v))
        for v, g in zip(values, got, strict=True)
        if g != _number_by_its_patterns(v)
    ]
    assert not wrong, wrong[:10]
    assert sum(g is not None for g in got) > 300  # enough texts read as numbers to mean something


def test_dates_read_by_the_cast_shortcut_are_the_ones_the_patterns_read(spark) -> None:
    # ISO days take Spark's cast; the rest the patterns. Day-like texts (random days, some
    # impossible, with a character changed, dropped or added over the characters either reading
    # cares about: the cast stops at a space or a T, takes a sign and trims), and the edge forms.
    chosen = random.Random(23)
    alphabet = "0123456789--/ T+\t"

    def day_like() -> str:
        text = f"{chosen.randint(0, 2100):04d}-{chosen.randint(0, 13):02d}-{chosen.randint(0, 32):02d}"
        text = text.replace("-0", "-", chosen.randint(0, 2))  # one-digit months and days
        for _ in range(chosen.choice([0, 0, 1, 2])):
            at = chosen.randrange(len(text) + 1)
            text = (
                text[:at] + chosen.choice(["", chosen.choice(alphabet)]) + text[at + chosen.randint(0, 1) :]
            )
        return text

    values = [day_like() for _ in range(6000)]
    values += [
        f"{y:04d}-{m:02d}-{d:02d}"
        for y in (1, 999, 2024, 9999)
        for m in (0, 1, 2, 12, 13)
        for d in (0, 1, 29, 30, 31, 32)
    ]
    values += [
        "2024-06-03",
        "2024-6-3",
        "03/06/2024",
        "0000-01-01",
        "2024-06-3T",
        "2024-06-03T1",
        "+024-06-03",
    ]
    values += [" 2024-06-03", "2024-06-03 ", "2024-06- 3", "2024-06-3 ", "2024-02-29", "2023-02-29", None]
    frame = spark.createDataFrame([(v,) for v in values], "value string")
    got = frame.select(
        "value",
        parse_date("value").cast("string").alias("shortcut"),
        _parse_date_text("value").cast("string").alias("patterns"),
    ).collect()
    wrong = [row for row in got if row["shortcut"] != row["patterns"]]
    assert not wrong, wrong[:10]
    read = {row["value"]: row["shortcut"] for row in got}
    assert read["2024-06-03"] == read["03/06/2024"] == read["2024-6-3"] == "2024-06-03"
    assert read["2023-02-29"] is None and read["2024-02-29"] == "2024-02-29"
    assert sum(row["shortcut"] is not None for row in got) > 300  # enough dates to mean something


def test_a_date_ending_in_a_line_terminator_is_not_a_date_and_fails_no_job(spark) -> None:
    # Java's $ matched before the terminator, and to_date then threw on the text after the day.
    values = ["2024-06-03\r", "2024-06-03\u2028", "03/06/2024\u0085", "2024-6-3\r\n", "2024-06-03"]
    frame = spark.createDataFrame([(v,) for v in values], "value string")
    got = [row["day"] for row in frame.select(parse_date("value").cast("string").alias("day")).collect()]
    assert got == [None, None, None, None, "2024-06-03"]


def test_typed_names_are_folded_by_their_accents_alone_as_raw_ones_are_folded_whole(spark) -> None:
    names = ["José Pérez", "  maría   ÁLVAREZ ", "ÑOÑO S.A.S.", "Ana\tLucía", "plain", "", None, "ÜBER Ç"]
    frame = spark.createDataFrame([(n,) for n in names], "name string")
    got = frame.select(
        fold_text("name").alias("whole"), unaccented(clean_text("name")).alias("typed")
    ).collect()
    assert [row["whole"] for row in got] == [row["typed"] for row in got]
    assert got[0]["typed"] == "JOSE PEREZ" and got[1]["typed"] == "MARIA ALVAREZ"
    # Typed rows (names cleaned when typed) are matched across accents, and by side of the deal.
    clientes = spark.createDataFrame([("JOSÉ PÉREZ",)], "nombre string")
    proveedores = spark.createDataFrame([("ENERGÍA DEL SUR",)], "nombre_proveedor string")
    deals = [
        ("JOSE PEREZ", "VENTA"),
        ("JOSE PEREZ", "COMPRA"),
        ("ENERGIA DEL SUR", "COMPRA"),
        (None, "VENTA"),
    ]
    transacciones = spark.createDataFrame(deals, "nombre_cliente_proveedor string, tipo_transaccion string")
    flagged = with_counterparty_flag(transacciones, clientes, proveedores).collect()
    assert {
        (r["nombre_cliente_proveedor"], r["tipo_transaccion"], r["contraparte_conocida"]) for r in flagged
    } == {
        ("JOSE PEREZ", "VENTA", True),
        ("JOSE PEREZ", "COMPRA", False),
        ("ENERGIA DEL SUR", "COMPRA", True),
        (None, "VENTA", False),
    }
