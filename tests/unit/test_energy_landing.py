"""Energy company CSV drops: routing by header, every rejection reason, the Lambda (local and S3), the CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datalake import aws
from datalake.cli import app
from datalake.pipelines.ingest import land_energy_drops
from datalake.pipelines.trigger import raw_prefix_jobs, raw_prefix_of
from datalake.settings import Settings, get_settings
from datalake.storage.local import LocalObjectStore

LANDED = dt.datetime(2024, 6, 3, 7, 42, tzinfo=dt.UTC)
DAY = "year=2024/month=06/day=03"

CLIENTES = "tipo_identificacion;identificacion;nombre;ciudad\nCC;1.020.304;José Pérez;Bogotá\n"
PROVEEDORES = "nombre_proveedor,tipo_energia,fecha_registro\nVientos del Norte,eólica,2020-01-15\n"
# Columns in another order, spaces and capitals in the header: recognised all the same.
TRANSACCIONES = (
    "Tipo Transaccion,nombre_cliente_proveedor,tipo_energia,cantidad_comprada_kwh,precio_kwh_cop,"
    "fecha_transaccion\nventa,José Pérez,solar,120.5,640,2024-06-02\n"
)


def keyed(name: str, data: bytes) -> str:
    """A drop's name in raw or rejected: its stem, the first 16 hex digits of its SHA-256, ``.csv``."""
    return f"{name.removesuffix('.csv')}.{hashlib.sha256(data).hexdigest()[:16]}.csv"


def land(settings: Settings, files: dict[str, bytes]):
    landing = LocalObjectStore(settings.lake_root / "landing")
    for name, data in files.items():
        landing.put_bytes(name, data)
    return land_energy_drops([(name, LANDED) for name in files], settings=settings)


@pytest.mark.parametrize(
    ("entity", "name", "data"),
    [
        # A misleading name: the header decides, not the name.
        ("clientes", "proveedores_latin1.csv", CLIENTES.encode("latin-1")),
        ("proveedores", "extract-a.csv", PROVEEDORES.encode("utf-8")),
        ("transacciones", "extract-b.csv", b"\xef\xbb\xbf" + TRANSACCIONES.encode("utf-8")),
    ],
)
def test_each_entity_lands_unchanged_at_its_own_prefix(lake_settings, entity, name, data) -> None:
    report = land(lake_settings, {name: data})
    key = f"raw/energy_company/{entity}/{DAY}/{keyed(name, data)}"
    lake = LocalObjectStore(lake_settings.lake_root)
    assert lake.list_keys("raw") == [key]
    assert lake.get_bytes(key) == data
    assert (report.rows_in, report.rows_out, report.details["accepted"]) == (1, 1, {entity: 1})
    assert lake.exists(f"landing/{name}")  # landing keeps the original


def test_the_same_drop_landed_again_is_found_not_copied_and_a_changed_one_lands_beside_it(
    lake_settings,
) -> None:
    lake = LocalObjectStore(lake_settings.lake_root)
    first = land(lake_settings, {"clientes.csv": CLIENTES.encode()})
    [key] = lake.list_keys("raw")
    os.utime(lake_settings.lake_root / key, (0, 0))
    again = land(lake_settings, {"clientes.csv": CLIENTES.encode()})
    # Not copied again: its time stays, so the incremental transform has nothing new to read.
    assert (lake_settings.lake_root / key).stat().st_mtime == 0
    assert (again.rows_out, again.details["accepted"], again.details["already_landed"]) == (
        1,
        {"clientes": 1},
        1,
    )
    assert "already_landed" not in first.details and again.keys_written == first.keys_written == [key]
    changed = (CLIENTES + "CC;5.060.708;Ana Gómez;Cali\n").encode()
    later = land(lake_settings, {"clientes.csv": changed})
    assert "already_landed" not in later.details
    assert lake.list_keys("raw") == sorted(
        [key, f"raw/energy_company/clientes/{DAY}/{keyed('clientes.csv', changed)}"]
    )


def test_delimiter_and_encoding_are_detected() -> None:
    from datalake.sources.energy_company import sniff

    latin = sniff(CLIENTES.encode("latin-1"), 10_000)
    utf8 = sniff(PROVEEDORES.encode("utf-8"), 10_000)
    assert (latin.entity, latin.delimiter, latin.encoding) == ("clientes", ";", "latin-1")
    assert (utf8.entity, utf8.delimiter, utf8.encoding) == ("proveedores", ",", "utf-8")
    assert "José Pérez" in latin.text


LONG_LINE = "tipo_identificacion,identificacion,nombre,ciudad\nCC,1," + "x" * 2_000 + ",Cali\n"


@pytest.mark.parametrize(
    ("reason", "data", "detail_words"),
    [
        ("empty", b"", "no text"),
        ("empty", b"nombre_proveedor;tipo_energia;fecha_registro\n\n", "no data rows"),
        ("binary", b"PK\x03\x04\x00\x00\x08\x00" + bytes(range(256)) * 4, "NUL"),
        # Valid UTF-8 "ó" (c3 b3) next to a lone Latin-1 "á" (e1): neither encoding reads it right.
        (
            "encoding",
            "nombre_proveedor,tipo_energia,fecha_registro\nEnergía,".encode() + b"e\xe1lica,x\n",
            "UTF-8",
        ),
        ("line_too_long", LONG_LINE.encode(), "line 2"),
        ("missing_header", b"CC;123;Ana;Cali\nCC;124;Luis;Cali\n", "no known column"),
        ("wrong_header", b"tipo_identificacion;identificacion;nombre;pais\nCC;1;Ana;CO\n", "['ciudad']"),
    ],
)
def test_every_rejection_keeps_the_file_and_says_why(lake_settings, reason, data, detail_words) -> None:
    settings = lake_settings.model_copy(update={"csv_max_line_bytes": 1_024})
    report = land(settings, {"drop.csv": data})
    lake = LocalObjectStore(settings.lake_root)
    key = f"rejected/energy_company/{DAY}/{keyed('drop.csv', data)}"
    assert lake.get_bytes(key) == data  # nothing is lost
    why = lake.get_json(f"{key}.reason.json")
    assert why["reason"] == reason and detail_words in why["detail"]
    assert (why["source_key"], why["landed_at"]) == ("drop.csv", LANDED.isoformat())
    assert lake.list_keys("raw") == []
    assert report.balanced and report.rows_quarantined == 1 and report.details["rejected"] == {reason: 1}


def test_landing_the_same_drop_twice_writes_the_same_key(lake_settings) -> None:
    for _ in range(2):
        land(lake_settings, {"clientes.csv": CLIENTES.encode()})
    assert LocalObjectStore(lake_settings.lake_root).list_keys("raw") == [
        f"raw/energy_company/clientes/{DAY}/{keyed('clientes.csv', CLIENTES.encode())}"
    ]


def test_lambda_on_the_local_runtime(tmp_path: Path, monkeypatch, load_lambda, event_json) -> None:
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    LocalObjectStore(tmp_path / "lake" / "landing").put_bytes(
        "extractos/clientes 2024-06-03.csv", CLIENTES.encode()
    )
    summary = load_lambda("ingest_csv").lambda_handler(event_json("s3_landing_object_created.json"), None)
    assert summary["details"]["accepted"] == {"clientes": 1} and summary["status"] == "succeeded"
    assert LocalObjectStore(tmp_path / "lake").list_keys("raw") == [
        f"raw/energy_company/clientes/{DAY}/{keyed('clientes 2024-06-03.csv', CLIENTES.encode())}"
    ]


def test_lambda_against_s3_in_the_moto_server(moto_settings, monkeypatch, load_lambda, event_json) -> None:
    monkeypatch.setenv("LAKE_RUNTIME", "aws")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_settings.aws_endpoint_url or "")
    get_settings.cache_clear()
    s3 = aws.client("s3", settings=moto_settings)
    for bucket in (moto_settings.landing_bucket, moto_settings.lake_bucket):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(
        Bucket=moto_settings.landing_bucket, Key="extractos/clientes 2024-06-03.csv", Body=b"\x00\x01binary"
    )
    summary = load_lambda("ingest_csv").lambda_handler(event_json("s3_landing_object_created.json"), None)
    assert summary["details"]["rejected"] == {"binary": 1}
    name = keyed("clientes 2024-06-03.csv", b"\x00\x01binary")
    listed = s3.list_objects_v2(Bucket=moto_settings.lake_bucket, Prefix="rejected/")["Contents"]
    assert sorted(o["Key"] for o in listed) == [
        f"rejected/energy_company/{DAY}/{name}",
        f"rejected/energy_company/{DAY}/{name}.reason.json",
    ]


def test_cli_lands_whatever_sits_in_landing_and_summarises(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    landing = LocalObjectStore(tmp_path / "lake" / "landing")
    landing.put_bytes("a.csv", CLIENTES.encode())
    landing.put_bytes("b.csv", TRANSACCIONES.encode())
    landing.put_bytes("c.csv", b"")
    stamp = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC).timestamp()
    for name in ("a.csv", "b.csv", "c.csv"):
        os.utime(landing.path(name), (stamp, stamp))  # the landing date is the file's time
    result = CliRunner().invoke(app, ["ingest", "landing"])
    assert result.exit_code == 0, result.output
    assert "3 file(s): 2 accepted (clientes 1, transacciones 1), 1 rejected (empty 1)" in result.output
    lake = LocalObjectStore(tmp_path / "lake")
    assert lake.exists(
        f"raw/energy_company/transacciones/year=2024/month=06/day=01/{keyed('b.csv', TRANSACCIONES.encode())}"
    )


def test_raw_energy_objects_start_the_energy_glue_job() -> None:
    assert (
        raw_prefix_of("raw/energy_company/clientes/year=2024/month=06/day=03/a.csv") == "raw/energy_company"
    )
    assert getattr(Settings(_env_file=None), raw_prefix_jobs()["raw/energy_company"]) == (
        "datalake-energy-company-to-processed"
    )


def test_query_named_refuses_unknown_names_listing_the_known_ones(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    unknown = CliRunner().invoke(app, ["query", "--named", "nope"])
    assert unknown.exit_code != 0
    assert "unknown named query 'nope'" in str(unknown.exception)
    assert "clients_per_city" in str(unknown.exception) and "unknown_counterparties" in str(unknown.exception)
    both = CliRunner().invoke(app, ["query", "SELECT 1", "--named", "clients_per_city"])
    assert both.exit_code != 0 and "either SQL or --named" in both.output
