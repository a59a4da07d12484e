"""Issue 14, findings 10-12: big drops, same-named drops, and names or links that used to vanish."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tracemalloc
from pathlib import Path

import pytest

from datalake.errors import ObjectNotFoundError
from datalake.runs import RunReport
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

LANDED = dt.datetime(2024, 6, 3, 7, 42, tzinfo=dt.UTC)
DAY = "year=2024/month=06/day=03"
HEADER = (
    "tipo_transaccion,nombre_cliente_proveedor,tipo_energia,cantidad_comprada_kwh,precio_kwh_cop,"
    "fecha_transaccion\n"
)
ROW = "venta,José Pérez Gómez,eólica,120.5,640,2024-06-02\n".encode()
MiB = 1 << 20


class UnreadableLanding(LocalObjectStore):
    """A landing folder whose objects may be described but never read: any read fails the test."""

    def get_bytes(self, key: str) -> bytes:
        raise AssertionError(f"{key} was read")

    def open_read(self, key: str, version: str | None = None):  # type: ignore[override]
        raise AssertionError(f"{key} was opened")


def land(settings: Settings, landing: LocalObjectStore, keys: list[str]):
    """``land_drops`` over ``keys`` with the settings' limits; returns (outcomes, report)."""
    from datalake.sources.energy_landing import land_drops

    report = RunReport("test_landing")
    outcomes = land_drops(
        landing,
        LocalObjectStore(settings.lake_root),
        [(key, LANDED) for key in keys],
        report,
        max_line_bytes=settings.csv_max_line_bytes,
        max_bytes=settings.landing_max_bytes,
    )
    return outcomes, report


def reason_records(lake: LocalObjectStore) -> list[dict]:
    return [lake.get_json(k) for k in lake.list_keys("rejected") if k.endswith(".reason.json")]


def write_big_drop(path: Path, size: int, tail: bytes) -> None:
    """A valid transacciones drop of about ``size`` bytes whose last line is ``tail``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = ROW * (MiB // len(ROW))
    with path.open("wb") as handle:
        handle.write(HEADER.encode())
        for _ in range(size // len(block)):
            handle.write(block)
        handle.write(tail)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


# -- finding 10: big drops ------------------------------------------------------------------


def test_finding_10_big_drop_rejected_too_large(lake_settings: Settings) -> None:
    settings = lake_settings.model_copy(update={"landing_max_bytes": 4_096})
    landing = UnreadableLanding(settings.lake_root / "landing")
    # Bytes the content checks would call binary: the reason must come from the size alone.
    garbage = b"\x00\xff" * 3_000
    landing.path("big.csv").parent.mkdir(parents=True)
    landing.path("big.csv").write_bytes(garbage)
    (outcome,), report = land(settings, landing, ["big.csv"])
    assert (outcome.accepted, outcome.reason) == (False, "too_large")
    assert "6,000 bytes" in outcome.detail and "LANDING_MAX_BYTES" in outcome.detail
    lake = LocalObjectStore(settings.lake_root)
    (record,) = reason_records(lake)
    assert record["reason"] == "too_large" and record["bytes"] == 6_000
    assert (record["source_key"], record["landed_at"]) == ("big.csv", LANDED.isoformat())
    assert lake.list_keys("raw") == []
    assert not any(garbage[:64] in lake.get_bytes(k) for k in lake.list_keys("rejected"))  # not copied
    assert report.rows_quarantined == 1 and report.details["rejected"] == {"too_large": 1}


def test_finding_10_the_limit_is_a_setting_with_an_env_var(monkeypatch) -> None:
    assert Settings(_env_file=None).landing_max_bytes == 256 * MiB
    monkeypatch.setenv("LANDING_MAX_BYTES", "1000000")
    assert Settings(_env_file=None).landing_max_bytes == 1_000_000
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    assert "LANDING_MAX_BYTES=268435456" in example


@pytest.mark.parametrize(
    ("tail", "reason", "detail_words"),
    [
        # Valid UTF-8 all along (accents included), then one Latin-1 "á" on the last line.
        (b"venta,Ana,solar,1,2,2024-06-02,e\xe1lica\n", "encoding", "invalid byte 0xe1"),
        (b"venta,Ana,solar,1,2," + b"x" * (2 * MiB) + b"\n", "line_too_long", "has 2,097,172 bytes"),
        (b"venta,Ana,solar,1,2,2024-06-02\n", None, None),
    ],
    ids=["bad-encoding-at-the-end", "long-line-at-the-end", "valid"],
)
def test_finding_10_streamed_checks_find_a_bad_end_in_bounded_memory(
    lake_settings: Settings, tail: bytes, reason: str | None, detail_words: str | None
) -> None:
    size = 32 * MiB
    landing = LocalObjectStore(lake_settings.lake_root / "landing")
    write_big_drop(landing.path("big.csv"), size, tail)
    tracemalloc.start()
    try:
        (outcome,), _ = land(lake_settings, landing, ["big.csv"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size / 16, f"peak {peak:,} bytes for a {size:,}-byte drop"  # whole-file reading: ~5x
    assert outcome.reason == reason
    if reason:
        assert detail_words in outcome.detail, outcome.detail
    if reason == "line_too_long":
        lines = 1 + (size // (len(ROW) * (MiB // len(ROW)))) * (MiB // len(ROW)) + 1
        assert f"line {lines} " in outcome.detail, outcome.detail
    # Accepted or rejected, the copy is the landed bytes, unchanged.
    lake = LocalObjectStore(lake_settings.lake_root)
    assert sha256_of(lake.path(outcome.key)) == sha256_of(landing.path("big.csv"))


# Small drops cut at every position: the verdict must not depend on where chunks end.
CHUNKED_CASES = [
    ("utf-8 with BOM", b"\xef\xbb\xbf" + HEADER.encode() + ROW, None, "utf-8"),
    ("latin-1", HEADER.encode() + ROW.decode().encode("latin-1"), None, "latin-1"),
    ("crlf, blanks", b"\r\n \r\n" + HEADER.replace("\n", "\r\n").encode() + b"\r\n" + ROW, None, "utf-8"),
    ("header only", b"\n" + HEADER.encode() + b"  \n\n", "empty", None),
    ("mixed encodings", HEADER.encode() + ROW + b"venta,Ana,e\xe1lica,1,2,x\n", "encoding", None),
    ("c1 controls", HEADER.encode() + b"venta,\x93Ana\x94,solar,1,2,x\n\xe9", "encoding", None),
    ("cut mid-character", HEADER.encode() + ROW + "ó".encode()[:1], "encoding", None),
    ("long last line", HEADER.encode() + b"x" * 1_100, "line_too_long", None),
    ("whitespace only", b" \r\n\t\n", "empty", None),
]


@pytest.mark.parametrize(
    ("name", "data", "reason", "encoding"), CHUNKED_CASES, ids=[c[0] for c in CHUNKED_CASES]
)
def test_finding_10_chunk_boundaries_do_not_change_the_verdict(name, data, reason, encoding) -> None:
    from datalake.sources.energy_company import Rejected, read_scan
    from datalake.sources.text_scan import scan_chunks

    def verdict(chunk_bytes: int) -> tuple[str | None, str | None, str | None]:
        chunks = [data[i : i + chunk_bytes] for i in range(0, len(data), chunk_bytes)]
        scan = scan_chunks(chunks, max_line_bytes=1_024)
        assert scan.size == len(data) and scan.sha256 == hashlib.sha256(data).hexdigest()
        try:
            reading = read_scan(scan)
        except Rejected as rejection:
            return rejection.reason, None, rejection.detail
        return None, reading.encoding, reading.entity

    whole = verdict(len(data) or 1)
    assert whole[0] == reason and (encoding is None or whole[1] == encoding), whole
    for chunk_bytes in (1, 2, 3, 5, 7, 64):
        assert verdict(chunk_bytes) == whole, chunk_bytes


# -- finding 11: same-named drops -----------------------------------------------------------

CLIENTES_A = "tipo_identificacion;identificacion;nombre;ciudad\nCC;1.020.304;José Pérez;Bogotá\n".encode()
CLIENTES_B = "tipo_identificacion;identificacion;nombre;ciudad\nCC;556677;María López;Cali\n".encode()


def digest16(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def test_finding_11_same_named_drops_on_the_same_day_are_both_kept(lake_settings: Settings) -> None:
    landing = LocalObjectStore(lake_settings.lake_root / "landing")
    lake = LocalObjectStore(lake_settings.lake_root)
    # Two extracts under one name, the second replacing the first in landing, on one day.
    for data in (CLIENTES_A, CLIENTES_B):
        landing.put_bytes("extractos/clientes.csv", data)
        land(lake_settings, landing, ["extractos/clientes.csv"])
    folder = f"raw/energy_company/clientes/{DAY}"
    kept = {f"{folder}/clientes.{digest16(CLIENTES_A)}.csv": CLIENTES_A}
    kept[f"{folder}/clientes.{digest16(CLIENTES_B)}.csv"] = CLIENTES_B
    assert {k: lake.get_bytes(k) for k in lake.list_keys("raw")} == kept
    # The same drop again (a redelivered event, a re-upload) writes the same key: nothing new.
    (again,), _ = land(lake_settings, landing, ["extractos/clientes.csv"])
    assert again.key == f"{folder}/clientes.{digest16(CLIENTES_B)}.csv"
    assert lake.list_keys("raw") == sorted(kept)


def test_finding_11_same_named_rejections_are_both_kept(lake_settings: Settings) -> None:
    landing = LocalObjectStore(lake_settings.lake_root / "landing")
    lake = LocalObjectStore(lake_settings.lake_root)
    bad = [b"CC;1;Ana;Cali\n", b"CC;2;Luis;Cali\n"]  # no header, either of them
    for data in bad:
        landing.put_bytes("drop.csv", data)
        land(lake_settings, landing, ["drop.csv"])
    copies = [k for k in lake.list_keys("rejected") if not k.endswith(".reason.json")]
    assert sorted(lake.get_bytes(k) for k in copies) == sorted(bad)
    assert [k.rsplit("/", 1)[1] for k in copies] == sorted(f"drop.{digest16(d)}.csv" for d in bad)
    assert all(lake.get_json(f"{k}.reason.json")["reason"] == "missing_header" for k in copies)


# -- finding 12: names and links ------------------------------------------------------------

SECRET = b"root:x:0:0:TOP-SECRET-not-for-the-lake:/root:/bin/bash\n"
VALID = CLIENTES_A


def walk_files(root: Path) -> list[Path]:
    """Every regular file under ``root``, links not followed."""
    found = []
    for folder, _, names in os.walk(root):
        found += [
            Path(folder) / n
            for n in names
            if (Path(folder) / n).is_file() and not os.path.islink(Path(folder) / n)
        ]
    return found


def test_finding_12_every_landing_file_is_accepted_or_rejected_with_its_reason(
    lake_settings: Settings, tmp_path: Path
) -> None:
    from datalake.pipelines.ingest import land_energy_drops

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_bytes(SECRET)
    (outside / "folder").mkdir()
    (outside / "folder" / "clientes.csv").write_bytes(SECRET)
    landing = lake_settings.lake_root / "landing"
    landing.mkdir(parents=True)
    regular = {
        "_x.csv": "bad_name",
        ".hidden.csv": "bad_name",
        "..x.csv": "bad_name",
        "a\\b.csv": "bad_name",
        "ctl\x01.csv": "bad_name",
        "esc\x1b[31m.csv": "bad_name",
        "rtl\u202ecsv.exe": "bad_name",
        "ok.csv": None,
        "_archive/ok.csv": None,  # a hidden folder: the name that lands is ok.csv
    }
    for name, _ in regular.items():
        (landing / name).parent.mkdir(parents=True, exist_ok=True)
        (landing / name).write_bytes(VALID)
    os.symlink(outside / "passwd", landing / "link.csv")
    os.symlink(outside / "folder", landing / "linkdir")
    os.symlink(outside / "missing.csv", landing / "dangling.csv")
    os.symlink(outside, landing / "through")  # and a drop reached through a linked folder
    os.mkfifo(landing / "pipe.csv")
    (landing / os.fsdecode(b"bad\xff.csv")).write_bytes(VALID)  # a name that is not UTF-8
    expected = regular | {
        "link.csv": "symlink",
        "linkdir": "symlink",
        "dangling.csv": "symlink",
        "through": "symlink",
        "pipe.csv": "not_a_file",
        os.fsdecode(b"bad\xff.csv"): "bad_name",
    }
    report = land_energy_drops(settings=lake_settings)
    assert report.balanced and report.rows_in == len(expected)
    assert report.rows_out == 2 and report.details["accepted"] == {"clientes": 2}
    lake = LocalObjectStore(lake_settings.lake_root)
    records = {r["source_key"]: r for r in reason_records(lake)}
    shown = {
        k.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"): v
        for k, v in expected.items()
    }
    assert {k: r["reason"] for k, r in records.items()} == {k: v for k, v in shown.items() if v}
    assert "control character U+0001" in records["ctl\x01.csv"]["detail"]
    assert "backslash" in records["a\\b.csv"]["detail"] and "starts with '_'" in records["_x.csv"]["detail"]
    # Nothing was read through a link, so the target's bytes are nowhere in the lake.
    assert not any(SECRET in path.read_bytes() for path in walk_files(lake_settings.lake_root))
    # Rejected unread: no copy, and no key made of the odd name.
    assert all(r["copy"] is None for r in records.values())
    assert all(k.isprintable() and "\\" not in k for k in lake.list_keys("rejected"))


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("extractos/", "folder"),
        ("a/../clientes.csv", "'..'"),
        ("a//clientes.csv", "empty"),
        ("/clientes.csv", "empty"),
        ("./clientes.csv", "'.'"),
        ("x/_clientes.csv", "starts with '_'"),
        ("x/clientes\r.csv", "U+000D"),
        ("x/clientes\x85.csv", "U+0085"),
    ],
)
def test_finding_12_event_keys_of_every_shape_get_a_reason(
    lake_settings: Settings, key: str, words: str
) -> None:
    landing = LocalObjectStore(lake_settings.lake_root / "landing")
    (outcome,), report = land(lake_settings, landing, [key])
    assert outcome.reason == "bad_name" and words in outcome.detail, outcome.detail
    (record,) = reason_records(LocalObjectStore(lake_settings.lake_root))
    assert (record["reason"], record["source_key"]) == ("bad_name", key)
    assert report.details["rejected"] == {"bad_name": 1}


def test_finding_12_the_cli_prints_odd_names_escaped(lake_settings: Settings, monkeypatch) -> None:
    from typer.testing import CliRunner

    from datalake.cli import app
    from datalake.settings import get_settings

    monkeypatch.setenv("LAKE_ROOT", str(lake_settings.lake_root))
    get_settings.cache_clear()
    landing = lake_settings.lake_root / "landing"
    landing.mkdir(parents=True)
    (landing / "esc\x1b]0;owned\x07.csv").write_bytes(VALID)
    result = CliRunner().invoke(app, ["ingest", "landing"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "1 rejected (bad_name 1)" in result.output


def test_finding_12_the_local_store_never_reads_through_a_link(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_bytes(SECRET)
    store = LocalObjectStore(tmp_path / "landing")
    store.put_bytes("ok.csv", VALID)
    os.symlink(tmp_path / "outside" / "secret.csv", store.path("link.csv"))
    os.symlink(tmp_path / "outside", store.path("folder"))
    os.mkfifo(store.path("pipe.csv"))
    assert store.list_keys() == ["folder", "link.csv", "ok.csv", "pipe.csv"]
    kinds = {
        k: store.describe(k).kind for k in ("ok.csv", "link.csv", "folder", "folder/secret.csv", "pipe.csv")
    }
    assert kinds == {
        "ok.csv": "file",
        "link.csv": "link",
        "folder": "link",
        "folder/secret.csv": "link",
        "pipe.csv": "other",
    }
    for key in ("link.csv", "folder/secret.csv"):
        with pytest.raises(OSError, match=r"link|Too many levels"):
            store.open_read(key)
    with pytest.raises(ObjectNotFoundError, match="not a regular file"):
        store.open_read("pipe.csv")  # refused at once, not left waiting for a writer
    with store.open_read("ok.csv") as stream:
        assert stream.read() == VALID
