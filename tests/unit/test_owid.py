"""OWID energy drops without Spark: both column sets, XLSX, the landing's routing and refusals, the fetch."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path

import httpx
import pytest
from owid_fixtures import (
    CODEBOOK,
    DATA_2020,
    as_xlsx,
    current_columns,
    current_shape,
    shared_bytes,
    subset_2020,
    table,
)
from tmdb_fixtures import Answer, serve
from typer.testing import CliRunner

from datalake.cli import app
from datalake.datasets.owid import BY_NAME, INDICATORS, KEY_COLUMNS, RENAMED_COLUMNS
from datalake.errors import SourceError
from datalake.pipelines.ingest import ingest_owid, land_energy_drops
from datalake.pipelines.owid import describe
from datalake.runs import RunReport
from datalake.settings import Settings, get_settings
from datalake.sources.energy_company import Rejected
from datalake.sources.owid import fetch_owid, parse_file, read_header
from datalake.sources.xlsx import WorkbookError, read_xlsx_rows, write_xlsx
from datalake.storage.local import LocalObjectStore

LANDED = dt.datetime(2024, 6, 3, 7, 42, tzinfo=dt.UTC)
DAY = "year=2024/month=06/day=03"
PLACES = ("Spain", "World", "Kosovo", "Czechia", "Other Asia & Pacific", "Saint Helena")
YEARS = range(1979, 2020)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def cells_by_place(data: bytes) -> dict[tuple[str, str], dict[str, str]]:
    """Each row's non-empty cells under its current name, read with Python's csv module alone."""
    header, *rows = table(data)
    names = [RENAMED_COLUMNS.get(name, name) for name in header]
    return {
        (row[names.index("country")].strip(), row[names.index("year")]): {
            n: v.strip() for n, v in zip(names, row, strict=True) if v.strip()
        }
        for row in rows
    }


def parsed_by_place(data: bytes) -> dict[tuple[str, str], dict[str, str]]:
    return {(r.cells["country"], r.cells["year"]): r.cells for r in parse_file(data).rows}


# -- the schema against the shared codebook ------------------------------------------------------------


def test_the_indicators_and_units_are_the_current_codebooks() -> None:
    codebook = {row[0]: row[2] for row in table(shared_bytes(CODEBOOK))[1:]}
    indicators = {name: unit for name, unit in codebook.items() if name not in KEY_COLUMNS}
    assert {name: i.unit.codebook for name, i in BY_NAME.items()} == indicators
    # The 2020 file's columns are the key, the indicators and one renamed column: nothing else.
    header_2020 = table(shared_bytes(DATA_2020))[0]
    assert set(header_2020) - set(codebook) == set(RENAMED_COLUMNS)
    # Every indicator column names its unit once (a TWh change keeps its _twh).
    assert BY_NAME["coal_consumption"].column == "coal_consumption_twh"
    assert BY_NAME["coal_cons_change_twh"].column == "coal_cons_change_twh"
    assert BY_NAME["renewables_share_energy"].column == "renewables_share_energy_pct"
    assert len({i.column for i in INDICATORS}) == len(INDICATORS) == 127


# -- reading by header name ----------------------------------------------------------------------------


def test_the_2020_header_maps_its_renamed_column_and_leaves_the_new_ones_null() -> None:
    header = read_header(table(shared_bytes(DATA_2020))[0])
    assert header.kind == "energy" and header.unknown == ()
    assert header.renamed == (("fossil_cons_per_capita", "fossil_elec_per_capita"),)
    # The 14 columns added since 2020, less the one the rename fills.
    assert len(header.missing) == 13 and "electricity_demand" in header.missing
    assert "fossil_elec_per_capita" in header.columns


def test_the_whole_2020_file_reads_as_pythons_csv_module_reads_it() -> None:
    data = shared_bytes(DATA_2020)
    parsed = parse_file(data)
    assert (parsed.format, len(parsed.rows)) == ("csv", 10_158)
    assert all(row.problem is None for row in parsed.rows)
    assert parsed_by_place(data) == cells_by_place(data)


def test_the_current_column_set_in_another_order_with_a_bom_reads_the_same_values() -> None:
    old = subset_2020(PLACES, YEARS)
    new = current_shape(old)
    assert new.startswith(b"\xef\xbb\xbf") and table(new)[0] == current_columns()
    header = parse_file(new).header
    assert header.renamed == () and header.missing == () and header.unknown == ()
    assert parsed_by_place(new) == parsed_by_place(old)
    spain = parsed_by_place(new)[("Spain", "2019")]
    assert spain["fossil_elec_per_capita"] == cells_by_place(old)[("Spain", "2019")]["fossil_elec_per_capita"]


def test_an_xlsx_drop_reads_the_same_values_as_its_csv() -> None:
    data = subset_2020(PLACES, YEARS)
    parsed = parse_file(as_xlsx(data))
    assert parsed.format == "xlsx" and len(parsed.rows) == len(table(data)) - 1
    from_csv = parsed_by_place(data)
    for place, cells in parsed_by_place(as_xlsx(data)).items():
        assert cells.keys() == from_csv[place].keys()
        for name, text in cells.items():
            # Numbers come back as the workbook stores them (1589.265, 1e-05): the same doubles.
            expected = from_csv[place][name]
            assert text == expected or float(text) == float(expected), (place, name, text, expected)


def test_an_unknown_column_is_ignored_and_named_and_a_repeated_one_refused() -> None:
    header = read_header(["Country", " year ", "iso_code", "coal_consumption", "new_thing"])
    assert header.columns == ("country", "year", "iso_code", "coal_consumption", None)
    assert header.unknown == ("new_thing",)
    with pytest.raises(Rejected) as refused:
        read_header(["country", "year", "iso_code", "fossil_cons_per_capita", "fossil_elec_per_capita"])
    assert refused.value.reason == "wrong_header" and "fossil_elec_per_capita" in refused.value.detail
    with pytest.raises(Rejected) as refused:
        read_header(["tipo_identificacion", "identificacion", "nombre", "ciudad"])
    assert refused.value.reason == "missing_header"


def test_a_row_with_another_cell_count_carries_its_problem() -> None:
    rows = parse_file(
        b"country,year,iso_code,coal_consumption\nSpain,2019,ESP,1.5\nSpain,2018,ESP,1,2\n"
    ).rows
    assert rows[0].problem is None and rows[0].cells["coal_consumption"] == "1.5"
    assert (
        rows[1].problem == "line 3: 5 field(s), the header has 4"
        and rows[1].raw_record == "Spain,2018,ESP,1,2"
    )


# -- XLSX ------------------------------------------------------------------------------------------------


def test_the_xlsx_reader_reads_a_workbook_excel_wrote() -> None:
    """A real workbook (shared strings, sparse rows) against the CSV of the same table."""
    shared = DATA_2020.parents[1] / "retail_rossmann"
    workbook, text = shared / "rossmann-store.xlsx", shared / "store.csv"
    if not (workbook.is_file() and text.is_file()):
        pytest.skip(f"{workbook} and {text} are not on this machine")
    rows = [cells for _n, cells in read_xlsx_rows(workbook.read_bytes(), max_unpacked_bytes=50_000_000)]
    expected = list(csv.reader(io.StringIO(text.read_text(encoding="utf-8"))))
    assert len(rows) == len(expected) == 1_116
    for got, want in zip(rows, expected, strict=True):
        padded = [c or "" for c in got] + [""] * (len(want) - len(got))
        assert padded == want


def test_a_workbook_that_is_a_bomb_or_declares_entities_is_refused() -> None:
    book = write_xlsx([["country", "year", "iso_code"], ["Spain", 2019, "ESP"]])
    with pytest.raises(WorkbookError, match="unpack to"):
        list(read_xlsx_rows(book, max_unpacked_bytes=100))
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as source, zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            body = source.read(name)
            if name == "xl/sharedStrings.xml" or name == "xl/workbook.xml":
                body = body.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaa">]>', 1)
            target.writestr(name, body)
    with pytest.raises(WorkbookError, match="DOCTYPE"):
        list(read_xlsx_rows(buffer.getvalue(), max_unpacked_bytes=1_000_000))


# -- the landing -----------------------------------------------------------------------------------------


def land(settings: Settings, files: dict[str, bytes]):
    landing = LocalObjectStore(settings.lake_root / "landing")
    for name, data in files.items():
        landing.put_bytes(name, data)
    return land_energy_drops([(name, LANDED) for name in files], settings=settings)


def test_owid_drops_land_unchanged_by_kind_and_format(lake_settings: Settings) -> None:
    old = subset_2020(PLACES, YEARS)
    files = {
        "owid-energy-data.csv": old,
        "energy current.csv": current_shape(old),
        "owid-energy-data.xlsx": as_xlsx(old),
        "codebook.csv": shared_bytes(CODEBOOK),
    }
    report = land(lake_settings, files)
    lake = LocalObjectStore(lake_settings.lake_root)
    expected = {
        f"raw/owid/energy/{DAY}/owid-energy-data.{digest(old)}.csv": old,
        f"raw/owid/energy/{DAY}/energy current.{digest(files['energy current.csv'])}.csv": files[
            "energy current.csv"
        ],
        f"raw/owid/energy/{DAY}/owid-energy-data.{digest(files['owid-energy-data.xlsx'])}.xlsx": files[
            "owid-energy-data.xlsx"
        ],
        f"raw/owid/codebook/{DAY}/codebook.{digest(files['codebook.csv'])}.csv": files["codebook.csv"],
    }
    assert sorted(lake.list_keys("raw")) == sorted(expected)
    assert all(lake.get_bytes(key) == data for key, data in expected.items())
    assert report.balanced and report.details["accepted"] == {"owid_energy": 3, "owid_codebook": 1}
    # Landing the same drops again writes the same keys.
    land(lake_settings, files)
    assert sorted(lake.list_keys("raw")) == sorted(expected)


@pytest.mark.parametrize(
    ("reason", "name", "data", "words"),
    [
        ("empty", "header-only.csv", b"iso_code,country,year,coal_consumption\n", "no data rows"),
        ("empty", "header-only.xlsx", write_xlsx([["iso_code", "country", "year"]]), "no data rows"),
        ("missing_header", "other.xlsx", write_xlsx([["Store", "Sales"], [1, 5263]]), "neither"),
        (
            "wrong_header",
            "twice.csv",
            b"country,year,iso_code,fossil_cons_per_capita,fossil_elec_per_capita\nSpain,2019,ESP,1,1\n",
            "named twice",
        ),
        ("line_too_long", "long.csv", b"country,year,iso_code\nSpain,2019," + b"x" * 2_000 + b"\n", "line 2"),
    ],
)
def test_an_owid_drop_that_cannot_be_read_is_rejected_with_its_reason(
    lake_settings: Settings, reason: str, name: str, data: bytes, words: str
) -> None:
    settings = lake_settings.model_copy(update={"csv_max_line_bytes": 1_024})
    report = land(settings, {name: data})
    lake = LocalObjectStore(settings.lake_root)
    [record_key] = [k for k in lake.list_keys("rejected") if k.endswith(".reason.json")]
    assert record_key.startswith(f"rejected/owid/{DAY}/")
    record = lake.get_json(record_key)
    assert record["reason"] == reason and words in record["detail"], record
    assert lake.get_bytes(record["copy"]) == data  # nothing is lost
    assert lake.list_keys("raw") == [] and report.details["rejected"] == {reason: 1}


def test_a_broken_workbook_is_rejected_as_one(lake_settings: Settings) -> None:
    book = write_xlsx([["iso_code", "country", "year"], ["ESP", "Spain", 2019]])
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.namelist():
            target.writestr(item, b"<sheetData><row" if item.endswith("sheet1.xml") else source.read(item))
    report = land(lake_settings, {"broken.xlsx": buffer.getvalue()})
    assert report.details["rejected"] == {"bad_workbook": 1}
    assert "not well-formed" in report.details["rejections"][0]["detail"]


def test_the_landing_lambda_routes_an_owid_drop(tmp_path: Path, monkeypatch, load_lambda, event_json) -> None:
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    data = current_shape(subset_2020(("Spain",), (2019,)))
    # The recorded event's key: the header decides, not the name.
    LocalObjectStore(tmp_path / "lake" / "landing").put_bytes("extractos/clientes 2024-06-03.csv", data)
    summary = load_lambda("ingest_csv").lambda_handler(event_json("s3_landing_object_created.json"), None)
    assert summary["details"]["accepted"] == {"owid_energy": 1}
    [key] = LocalObjectStore(tmp_path / "lake").list_keys("raw")
    assert key.startswith("raw/owid/energy/") and key.endswith(f"clientes 2024-06-03.{digest(data)}.csv")


def test_the_cli_drops_and_lands_files(lake_settings: Settings, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKE_ROOT", str(lake_settings.lake_root))
    get_settings.cache_clear()
    data = subset_2020(("Spain",), (2018, 2019))
    (tmp_path / "energy.xlsx").write_bytes(as_xlsx(data))
    (tmp_path / "bad.csv").write_bytes(b"country,year,iso_code\n")
    result = CliRunner().invoke(
        app, ["ingest", "landing", str(tmp_path / "energy.xlsx"), str(tmp_path / "bad.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "2 file(s): 1 accepted (owid_energy 1), 1 rejected (empty 1)" in result.output
    assert "rejected bad.csv: empty: an OWID energy header and no data rows" in result.output
    [key] = LocalObjectStore(lake_settings.lake_root).list_keys("raw")
    assert key.startswith("raw/owid/energy/year=") and key.endswith(".xlsx")


# -- the fetch ---------------------------------------------------------------------------------------


def test_the_published_files_are_fetched_over_http_and_landed(lake_settings: Settings) -> None:
    data, codebook = subset_2020(("Spain", "World"), (2019,)), shared_bytes(CODEBOOK)
    files = {"/energy-data/owid-energy-data.csv": data, "/energy-data/owid-energy-codebook.csv": codebook}
    with serve(
        lambda path, _q, _h: Answer(200, files[path]) if path in files else Answer(404, b"")
    ) as server:
        server.play_first("/energy-data/owid-energy-data.csv", Answer(503, b"busy"))  # retried
        urls = [f"{server.url}{path}" for path in files]
        with httpx.Client(timeout=5) as client:
            report = ingest_owid(urls, settings=lake_settings, client=client)
        assert server.paths("/energy-data/owid-energy-data.csv") == ["/energy-data/owid-energy-data.csv"] * 2
        lake = LocalObjectStore(lake_settings.lake_root)
        assert report.details["accepted"] == {"owid_energy": 1, "owid_codebook": 1}
        assert lake.get_bytes("landing/owid/owid-energy-data.csv") == data
        raw = {k.split("/")[2]: lake.get_bytes(k) for k in lake.list_keys("raw/owid")}
        assert raw == {"energy": data, "codebook": codebook}
        with httpx.Client(timeout=5) as client, pytest.raises(SourceError) as failed:
            fetch_owid(
                lake, [f"{server.url}/gone.csv"], client=client, max_bytes=10**6, sleep=lambda _s: None
            )
        assert failed.value.status == 404 and "/gone.csv: HTTP 404" in str(failed.value)


def test_an_unreachable_or_oversized_file_fails_naming_the_url(lake_settings: Settings) -> None:
    store = LocalObjectStore(lake_settings.lake_root / "landing")
    with httpx.Client(timeout=2) as client, pytest.raises(SourceError) as failed:
        fetch_owid(store, ["http://127.0.0.1:9/owid.csv"], client=client, max_bytes=10, sleep=lambda _s: None)
    assert "unreachable" in str(failed.value) and failed.value.attempts == 3
    with (
        serve(lambda _p, _q, _h: Answer(200, b"x" * 100)) as server,
        httpx.Client(timeout=5) as client,
        pytest.raises(SourceError, match="over 10 bytes"),
    ):
        fetch_owid(store, [f"{server.url}/big.csv"], client=client, max_bytes=10)
    assert store.list_keys() == []


# -- the summary -------------------------------------------------------------------------------------------


def test_the_run_summary_formats_figures_with_their_units() -> None:
    report = RunReport("owid_to_processed", run_id="r", rows_in=10_288, rows_out=10_286, rows_quarantined=2)
    report.details.update(
        files=2,
        world_energy_rows=10_158,
        places=243,
        aggregates=22,
        years=[1965, 2019],
        world_energy_indicators_rows=545_517,
        world_energy_codebook_rows=130,
        values={"in": 545_519, "out": 545_517, "quarantined": 2},
        headline={
            "Spain": {
                "year": 2019,
                "primary_energy_consumption_twh": 1589.265,
                "renewables_share_energy_pct": 16.968,
            },
            "World": {
                "year": 2019,
                "primary_energy_consumption_twh": 162194.29,
                "renewables_share_energy_pct": None,
            },
        },
    )
    line = describe(report)
    assert "10,288 row(s) read from 2 file(s)" in line and "world_energy 10,158 rows" in line
    assert "243 countries and regions, 22 of them aggregates, 1965-2019" in line
    assert "545,517 values" in line and "2 value(s) quarantined" in line
    assert line.endswith(
        "World 2019: primary energy 162,194.3 TWh. "
        "Spain 2019: primary energy 1,589.3 TWh, renewables 17.0 % of primary energy"
    )
