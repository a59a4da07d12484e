"""CSV drops read line by line by Spark (files split across tasks) give what Python's csv reading gives."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession
from spark_fixtures import local_spark

from datalake.datasets.energy_company import TRANSACCIONES
from datalake.pipelines.ledger import list_raw_partitions
from datalake.pipelines.processing import RAW_PARTITION, with_raw_partition
from datalake.sources.energy_company import Rejected, read_rows, sniff
from datalake.storage.local import LocalObjectStore
from datalake.storage.paths import join_key
from datalake.transforms.csv_drops import HEAD_BYTES, read_drops
from datalake.transforms.energy_company import SOURCE_FIELDS

DAY = "year=2024/month=06/day=03"
HEADER = ",".join(TRANSACCIONES.source_columns)


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = local_spark("tests-csv-drops", "local[2]")
    # Small splits: each file below is read by several tasks, as a big drop is on a cluster.
    session.conf.set("spark.sql.files.maxPartitionBytes", str(16 * 1024))
    yield session
    session.conf.unset("spark.sql.files.maxPartitionBytes")
    session.stop()


def transacciones(rows: int, late_line: str) -> bytes:
    """A drop over several splits: blank lines, empty cells, a short row, quotes, then ``late_line``."""
    lines = [HEADER]
    for n in range(rows):
        lines.append(f'VENTA,"Perez, Ana {n}",Solar,{n}.5,"1.234,5",2024-06-0{n % 9 + 1}')
        if n == 10:
            lines.append("")
        if n == 20:
            lines.append(",,,,,")
        if n == 30:
            lines.append("COMPRA,solo tres,Solar")
    lines.append(late_line)
    return ("\r\n".join(lines) + "\n").encode("latin-1" if "Á" in late_line else "utf-8")


def python_rows(data: bytes) -> dict[int, tuple[str, list[str]]]:
    """What the whole-file Python reading makes of a drop: line -> (raw record, cells)."""
    return {line: (raw, cells) for line, raw, cells in read_rows(sniff(data, 1_048_576))}


def spark_rows(spark: SparkSession, store: LocalObjectStore, keys: list[str]) -> dict[str, dict[int, dict]]:
    rows = read_drops(spark, store, keys, 1_048_576, SOURCE_FIELDS).collect()
    out: dict[str, dict[int, dict]] = {}
    for row in rows:
        out.setdefault(row["path"].rsplit("/", 1)[-1], {})[row["line_number"]] = row.asDict()
    return out


@pytest.mark.slow
def test_lines_split_across_tasks_keep_their_numbers_cells_and_encoding(spark, tmp_path) -> None:
    store = LocalObjectStore(tmp_path)
    # Latin-1, and the first accented byte comes after the head the driver reads.
    latin1 = transacciones(3000, "COMPRA,ÁRBOL S.A.,Eólica,1,2,2024-06-01")
    assert len(latin1) > 2 * HEAD_BYTES and max(latin1[:HEAD_BYTES]) < 0x80
    # UTF-8 with decomposed accents (NFD), which the reading composes (NFC).
    nfd = unicodedata.normalize("NFD", "COMPRA,José Núñez,Eólica,1,2,2024-06-01")
    utf8 = transacciones(3000, nfd)
    keys = []
    for name, data in (("latin1.csv", latin1), ("nfd.csv", utf8)):
        keys.append(f"raw/energy_company/transacciones/{DAY}/{name}")
        store.put_bytes(keys[-1], data)

    got = spark_rows(spark, store, keys)

    for name, data in (("latin1.csv", latin1), ("nfd.csv", utf8)):
        expected = python_rows(data)
        rows = got[name]
        assert sorted(rows) == sorted(expected)  # same lines, blank ones skipped in both
        for line, (raw, cells) in expected.items():
            row = rows[line]
            assert row["entity"] == "transacciones" and str(row["fecha_carga"]) == "2024-06-03"
            if len(cells) != 6:
                assert row["problem"] == f"line {line}: {len(cells)} field(s), the header has 6"
                continue
            assert row["problem"] is None and row["raw_record"] == raw, line
            assert [row[c] for c in HEADER.split(",")] == cells, line
    assert got["latin1.csv"][max(got["latin1.csv"])]["nombre_cliente_proveedor"] == "ÁRBOL S.A."
    assert got["nfd.csv"][max(got["nfd.csv"])]["nombre_cliente_proveedor"] == "José Núñez"
    assert got["nfd.csv"][max(got["nfd.csv"])]["nombre_cliente_proveedor"] != nfd.split(",")[1]


#: Lines whose bytes decide a file's encoding facts, each placed after the head the driver reads.
#: The facts' cheap tests (character vs byte counts, bytes 0xCC/0xCD) must decide as the regular
#: expressions over every line did: the outcome is the whole-file Python reading's.
LATE_BYTES = {
    # Latin-1 symbols that are lone UTF-8 continuation bytes (N°, ¿): not UTF-8, so Latin-1.
    "continuation_only": b"COMPRA,N\xb0 1 \xbfS\xed?,Solar,1,2,2024-06-01",
    # Latin-1 capitals I-grave and I-acute are the bytes that start a combining mark's UTF-8.
    "grave_capitals": b"COMPRA,\xccTALO \xcdCARO,Solar,1,2,2024-06-01",
    # A valid UTF-8 line in a file whose head is Latin-1 (its first data line says so).
    "utf8_after_latin1": "COMPRA,José Núñez,Eólica,1,2,2024-06-01".encode(),
    # A C1 control byte: Latin-1 cannot be it, UTF-8 neither.
    "c1_control": b"COMPRA,Ana \x85 P\xe9rez,Solar,1,2,2024-06-01",
    # A combining acute accent (NFD) in a UTF-8 file: composed, as the whole-file reading does.
    "nfd_utf8": unicodedata.normalize("NFD", "COMPRA,Íñigo Ruíz,Eólica,1,2,2024-06-01").encode(),
}


@pytest.mark.slow
def test_encoding_facts_found_after_the_head_decide_as_the_whole_file_reading(spark, tmp_path) -> None:
    store = LocalObjectStore(tmp_path)
    files: dict[str, bytes] = {}
    for name, late in LATE_BYTES.items():
        first = b"VENTA,PE\xd1A,Solar,1,2,2024-06-01" if name in ("utf8_after_latin1", "c1_control") else b""
        body = [HEADER.encode(), *([first] if first else [])]
        body += [f"VENTA,Ana {n},Solar,{n}.5,2,2024-06-01".encode() for n in range(2500)]
        files[f"{name}.csv"] = b"\n".join([*body, late]) + b"\n"
        assert len(files[f"{name}.csv"]) > HEAD_BYTES
    keys = []
    for name, data in files.items():
        keys.append(f"raw/energy_company/transacciones/{DAY}/{name}")
        store.put_bytes(keys[-1], data)

    rows = read_drops(spark, store, keys, 1_048_576, SOURCE_FIELDS).collect()

    got: dict[str, dict[int, dict]] = {}
    for row in rows:
        got.setdefault(row["path"].rsplit("/", 1)[-1], {})[row["line_number"]] = row.asDict()
    outcomes = {}
    for name, data in files.items():
        try:
            expected = python_rows(data)
        except Rejected as rejection:
            assert set(got[name]) == {0}, name
            assert got[name][0]["problem"] == f"unreadable drop: {rejection}", name
            outcomes[name.removesuffix(".csv")] = "rejected"
            continue
        assert sorted(got[name]) == sorted(expected), name
        last = max(expected)
        assert got[name][last]["raw_record"] == expected[last][0], name
        assert got[name][last]["nombre_cliente_proveedor"] == expected[last][1][1], name
        outcomes[name.removesuffix(".csv")] = expected[last][1][1]
    # What each case tests: the reading the facts lead to, not only agreement.
    assert outcomes["continuation_only"] == "N° 1 ¿Sí?"
    assert outcomes["grave_capitals"] == "ÌTALO ÍCARO"
    assert outcomes["nfd_utf8"] == "Íñigo Ruíz"
    assert outcomes["c1_control"] == "rejected"


def test_a_quoted_field_spanning_lines_is_quarantined_line_by_line(spark, tmp_path) -> None:
    store = LocalObjectStore(tmp_path)
    data = (HEADER + '\nVENTA,"Ana\nPérez",Solar,1,2,2024-06-01\nVENTA,Luis,Solar,1,2,2024-06-01\n').encode()
    key = f"raw/energy_company/transacciones/{DAY}/multi.csv"
    store.put_bytes(key, data)

    rows = spark_rows(spark, store, [key])["multi.csv"]

    assert sorted(rows) == [2, 3, 4]
    for line in (2, 3):
        assert rows[line]["problem"].startswith(f"line {line}: an unclosed quote")
        assert rows[line]["tipo_transaccion"] is None
    assert rows[4]["problem"] is None and rows[4]["nombre_cliente_proveedor"] == "Luis"


def test_unreadable_files_keep_the_landing_reason(spark, tmp_path) -> None:
    store = LocalObjectStore(tmp_path)
    long_line = (HEADER + "\n" + "x" * 200_000 + "\n").encode()
    cases = {
        "binary.csv": b"\x00\x01\x02" * 100,
        "header.csv": b"a,b,c\n1,2,3\n",
        "long.csv": long_line,
    }
    keys = []
    for name, data in cases.items():
        keys.append(f"raw/energy_company/transacciones/{DAY}/{name}")
        store.put_bytes(keys[-1], data)
    keys.append("raw/energy_company/transacciones/undated.csv")
    store.put_bytes(keys[-1], (HEADER + "\nVENTA,Luis,Solar,1,2,2024-06-01\n").encode())

    rows = read_drops(spark, store, keys, 100_000, SOURCE_FIELDS).collect()

    problems = {row["path"].rsplit("/", 1)[-1]: row["problem"] for row in rows}
    assert len(rows) == 4 and all(row["line_number"] == 0 and row["entity"] is None for row in rows)
    assert problems["binary.csv"].startswith("unreadable drop: binary")
    assert problems["header.csv"].startswith("unreadable drop: missing_header")
    assert problems["long.csv"] == (
        f"unreadable drop: line_too_long: line 2 (byte offset {len(HEADER) + 1}) has 200,000 bytes; "
        "the limit is 100,000 (csv_max_line_bytes)"
    )
    assert problems["undated.csv"] == "raw file is not under year=/month=/day=/ (the landing date)"


@pytest.mark.parametrize("delimiter", [";", ","])
def test_lines_without_quotes_are_split_as_the_csv_parser_reads_them(spark, tmp_path, delimiter) -> None:
    """Unquoted lines take the split path, quoted ones the CSV parser: the same cells either way."""
    d = delimiter
    lines = [
        d.join(TRANSACCIONES.source_columns),
        f"VENTA{d}{d}Solar{d}1{d}2{d}2024-06-01",  # an empty cell, no quote: split
        f'VENTA{d}""{d}Solar{d}1{d}2{d}2024-06-01',  # a quoted empty cell: the parser
        f'VENTA{d}"Ana"{d}{d}1{d}2{d}2024-06-01',  # quoted, with an empty cell: the parser
        f" VENTA{d}Luis{d}Solar{d}1{d}2{d}2024-06-01",  # starts with a space, not blank
        f"{d}{d} {d}{d}{d}",  # blank: skipped
        f"  {d}\t",  # blank, and not as wide as the header: skipped
        f"VENTA{d}Luis{d}Solar",  # three fields
        f"VENTA{d}Luis{d}Solar{d}1{d}2{d}2024-06-01{d}extra",  # seven
        f"9{d}Luis{d}Solar{d}1{d}2{d}2024-06-01",  # starts with a digit
    ]
    data = ("\r\n".join(lines) + "\r\n").encode()
    key = f"raw/energy_company/transacciones/{DAY}/split.csv"
    store = LocalObjectStore(tmp_path)
    store.put_bytes(key, data)

    rows = spark_rows(spark, store, [key])["split.csv"]

    expected = python_rows(data)
    assert sorted(rows) == sorted(expected) == [2, 3, 4, 5, 8, 9, 10]
    for line, (raw, cells) in expected.items():
        row = rows[line]
        if len(cells) != 6:
            assert row["problem"] == f"line {line}: {len(cells)} field(s), the header has 6"
            assert row["raw_record"] == lines[line - 1]
            continue
        assert row["problem"] is None and row["raw_record"] == raw, line
        # The parser reads an empty cell, quoted or not, as null: split lines do the same.
        assert [row[c] if row[c] is not None else "" for c in TRANSACCIONES.source_columns] == cells
    assert rows[2]["nombre_cliente_proveedor"] is None and rows[4]["tipo_energia"] is None
    assert rows[3]["nombre_cliente_proveedor"] is None
    assert rows[5]["tipo_transaccion"] == " VENTA" and rows[10]["tipo_transaccion"] == "9"


def test_each_row_names_its_raw_partition_as_the_ledger_and_the_path_do(spark, tmp_path) -> None:
    # Folders a URI escapes or a URL decoding would change: a space, a plus, a percent, accents.
    store = LocalObjectStore(tmp_path)
    folders = ["transacciones/year=2024/month=06/day=03", "odd name/a+b/100%/año", ""]
    keys = []
    for n, folder in enumerate(folders):
        keys.append(join_key("raw/energy_company", folder, f"drop{n}.csv"))
        store.put_bytes(keys[-1], (HEADER + "\nVENTA,Luis,Solar,1,2,2024-06-01\n").encode())
    keys.append("raw/energy_company/odd name/a+b/broken.csv")  # unreadable: no header
    store.put_bytes(keys[-1], b"a,b\n1,2\n")

    rows = read_drops(spark, store, keys, 1_048_576, SOURCE_FIELDS, "raw/energy_company")

    named = {(r["path"], r[RAW_PARTITION]) for r in rows.select("path", RAW_PARTITION).collect()}
    assert {name for _path, name in named} == set(list_raw_partitions(store, "raw/energy_company"))
    from_paths = with_raw_partition(rows.drop(RAW_PARTITION), "raw/energy_company")
    assert {
        (r["path"], r[RAW_PARTITION]) for r in from_paths.select("path", RAW_PARTITION).collect()
    } == named
