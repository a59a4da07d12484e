"""Incremental runs on local[1]: after raw changes, a run reads only what changed and its tables
equal, row for row, a full run from scratch over the same raw in a fresh lake.

REE (SAMPLE documents, with the October DST day) and the energy company (SAMPLE drops, a
re-landed day, a day landed out of order, a deleted drop) each get: a first (full) run, raw
changes, an incremental run checked against a fresh full run, a run that fails and leaves the
ledger as it was, and ``full=True``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import SparkSession
from spark_fixtures import local_spark

from datalake.catalog.local import LocalCatalog
from datalake.catalog.processed import current_partitions, read_current
from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.datasets.energy_company import CLIENTES, PROVEEDORES, TRANSACCIONES
from datalake.datasets.spec import DatasetSpec
from datalake.pipelines.ledger import ledger_key
from datalake.pipelines.source_jobs import process_source
from datalake.runs import RunReport, record_run
from datalake.settings import get_settings
from datalake.sources import ree
from datalake.sources.energy_company_sample import generate_drops
from datalake.sources.energy_landing import land_drops
from datalake.sources.ree_sample import sample_client
from datalake.sources.registry import get_source
from datalake.storage.local import LocalObjectStore

pytestmark = pytest.mark.slow

REE_JOB, ENERGY_JOB = "ree_to_processed", "energy_company_to_processed"
ENERGY_RAW = "raw/energy_company"
ENERGY_SPECS = (CLIENTES, PROVEEDORES, TRANSACCIONES)


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = local_spark("tests-incremental", "local[1]")
    yield session
    session.stop()


class Boom(RuntimeError):
    """What the progress callback raises to kill a run part-way through its writes."""


def dies_after(lines: int):
    """A progress callback that kills the run at its ``lines + 1``-th line (the first is the plan;
    the next ones come as partitions are written)."""
    said: list[str] = []

    def progress(line: str) -> None:
        said.append(line)
        if len(said) > lines:
            raise Boom(f"killed after: {said[-2]}")

    return progress


def tables(
    store: LocalObjectStore, specs: tuple[DatasetSpec, ...]
) -> dict[str, tuple[list[str], pd.DataFrame]]:
    """Each table's partition paths and its rows (every column), sorted by primary key."""
    out = {}
    settings, catalog = get_settings(), LocalCatalog(store)
    for spec in specs:
        # What readers see: the partitions the catalog points at, never a superseded run folder.
        partitions = sorted(p.path for p in current_partitions(catalog, store, spec, settings))
        rows = read_current(store, catalog, spec, settings)[spec.column_names]
        rows = rows.sort_values(list(spec.primary_key)).reset_index(drop=True)
        out[spec.name] = (partitions, rows)
    return out


def assert_same_tables(incremental: LocalObjectStore, fresh: LocalObjectStore, specs) -> None:
    mine, theirs = tables(incremental, specs), tables(fresh, specs)
    for name in mine:
        assert mine[name][0] == theirs[name][0], f"{name}: partitions differ"
        pd.testing.assert_frame_equal(mine[name][1], theirs[name][1], check_exact=True, obj=name)
        assert len(mine[name][1]) > 0


def fresh_copy_of_raw(store: LocalObjectStore, raw_prefix: str, root: Path) -> LocalObjectStore:
    """A new lake holding only the same raw files (modification times kept: REE reads them)."""
    shutil.copytree(store.path(raw_prefix), root / raw_prefix, copy_function=shutil.copy2)
    return LocalObjectStore(root)


# -- REE ---------------------------------------------------------------------------------------


def backfill(store: LocalObjectStore, start: dt.date, end: dt.date) -> None:
    with sample_client() as client:
        for dataset in ("demand", "generation"):
            ree.backfill(client, store, dataset, start, end, refresh=True, prefix=ree.SAMPLE_RAW_PREFIX)


def run_ree(spark, store, *, full: bool = False, progress=None) -> RunReport:
    with record_run(REE_JOB, store) as report:
        process_source(get_source("ree"), spark, store, ree.SAMPLE_RAW_PREFIX, report, progress, full=full)
    return report


def partition(dataset: str, day: dt.date) -> str:
    return f"{dataset}/year={day.year:04d}/month={day.month:02d}/day={day.day:02d}"


def test_ree_incremental_run_equals_a_full_run_and_reads_only_the_days_around_changes(
    spark, tmp_path
) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    backfill(store, dt.date(2024, 9, 30), dt.date(2024, 9, 30))  # a month of its own, deleted below
    backfill(store, dt.date(2024, 10, 20), dt.date(2024, 10, 20))  # far from every change: never read
    backfill(store, dt.date(2024, 10, 26), dt.date(2024, 10, 28))  # 10-27: the 25-hour day
    first = run_ree(spark, store)
    assert first.details["mode"] == "full" and first.balanced
    assert "year=2024/month=9" in tables(store, (DEMAND_HOURLY,))["demand_hourly"][0]

    # A revision of the DST day (a newer extraction, one value changed), a new day, a deleted
    # file and a whole deleted day.
    revised = ree.raw_key("demand", dt.date(2024, 10, 27), "national", prefix=ree.SAMPLE_RAW_PREFIX)
    doc = store.get_json(revised)
    doc["included"][0]["attributes"]["values"][3]["value"] += 111.0
    store.put_json(revised, doc)
    backfill(store, dt.date(2024, 10, 30), dt.date(2024, 10, 30))
    store.delete(
        [ree.raw_key("generation", dt.date(2024, 10, 28), "peninsular", prefix=ree.SAMPLE_RAW_PREFIX)]
    )
    store.delete_prefix(f"{ree.SAMPLE_RAW_PREFIX}/demand/year=2024/month=09")
    store.delete_prefix(f"{ree.SAMPLE_RAW_PREFIX}/generation/year=2024/month=09")

    report = run_ree(spark, store)
    details = report.details
    assert details["mode"] == "incremental" and report.balanced
    assert details["raw_partitions_changed"] == sorted(
        [
            partition("demand", dt.date(2024, 10, 27)),
            partition("demand", dt.date(2024, 10, 30)),
            partition("generation", dt.date(2024, 10, 28)),
            partition("generation", dt.date(2024, 10, 30)),
        ]
    )
    assert details["raw_partitions_deleted"] == [
        partition("demand", dt.date(2024, 9, 30)),
        partition("generation", dt.date(2024, 9, 30)),
    ]
    # The changed days and every raw day within a day of a recomputed day; never 10-20.
    read_days = [dt.date(2024, 10, d) for d in (26, 27, 28, 30)]
    assert details["raw_partitions_read"] == sorted(
        partition(dataset, day) for dataset in ("demand", "generation") for day in read_days
    )
    assert details["raw_partitions_skipped"] == 6  # 10-20 and 10-26 (both), demand 10-28, generation 10-27
    assert details["demand_hourly_rows_carried_over"] == 2 * 24  # 10-20, both regions

    fresh = fresh_copy_of_raw(store, ree.SAMPLE_RAW_PREFIX, tmp_path / "fresh")
    assert run_ree(spark, fresh).details["mode"] == "full"
    assert_same_tables(store, fresh, (DEMAND_HOURLY, GENERATION))
    demand = tables(store, (DEMAND_HOURLY,))["demand_hourly"]
    assert "year=2024/month=9" not in demand[0]  # the emptied month is gone
    autumn = demand[1][demand[1]["local_date"] == dt.date(2024, 10, 27)]
    assert len(autumn) == 2 * 25

    # Nothing changed: nothing is read or written.
    idle = run_ree(spark, store)
    assert idle.details["raw_partitions_read"] == [] and idle.rows_in == 0 and idle.keys_written == []

    # --full reads everything again and gives the same tables.
    full = run_ree(spark, store, full=True)
    assert full.details["mode"] == "full" and full.details["raw_partitions_read_count"] == 10
    assert_same_tables(store, fresh, (DEMAND_HOURLY, GENERATION))


def test_ree_run_that_fails_leaves_the_ledger_and_the_next_run_redoes_the_work(spark, tmp_path) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    backfill(store, dt.date(2024, 3, 30), dt.date(2024, 3, 31))  # 03-31: the 23-hour day
    run_ree(spark, store)
    ledger = store.get_bytes(ledger_key(REE_JOB, ree.SAMPLE_RAW_PREFIX))
    backfill(store, dt.date(2024, 4, 1), dt.date(2024, 4, 1))
    revised = ree.raw_key("generation", dt.date(2024, 3, 31), "national", prefix=ree.SAMPLE_RAW_PREFIX)
    doc = store.get_json(revised)
    store.put_json(revised, doc)  # the same values, extracted again: a newer extracted_at

    with pytest.raises(Boom):
        run_ree(spark, store, progress=dies_after(2))
    assert store.get_bytes(ledger_key(REE_JOB, ree.SAMPLE_RAW_PREFIX)) == ledger

    redo = run_ree(spark, store)
    assert redo.details["mode"] == "incremental"
    assert redo.details["raw_partitions_changed"] == sorted(
        [
            partition("demand", dt.date(2024, 4, 1)),
            partition("generation", dt.date(2024, 3, 31)),
            partition("generation", dt.date(2024, 4, 1)),
        ]
    )
    fresh = fresh_copy_of_raw(store, ree.SAMPLE_RAW_PREFIX, tmp_path / "fresh")
    run_ree(spark, fresh)
    assert_same_tables(store, fresh, (DEMAND_HOURLY, GENERATION))
    spring = tables(store, (DEMAND_HOURLY,))["demand_hourly"][1]
    assert len(spring[spring["local_date"] == dt.date(2024, 3, 31)]) == 2 * 23


# -- energy company ----------------------------------------------------------------------------


def land_sample(
    store: LocalObjectStore, tmp_path: Path, extract: dt.date, landed: dt.date, seed: int
) -> None:
    """A day of SAMPLE drops (120 transactions), landed in raw on ``landed`` as the S3 event would."""
    landing = LocalObjectStore(tmp_path / f"landing-{landed}-{seed}")
    generate_drops(landing.root, 120, extract, seed=seed)
    at = dt.datetime.combine(landed, dt.time(8), dt.UTC)
    with record_run("ingest_energy_company", store) as report:
        drops = [(key, at) for key in landing.list_keys()]
        land_drops(landing, store, drops, report, max_line_bytes=1_048_576, max_bytes=1 << 30)
    assert report.rows_out == 3


def run_energy(spark, store, *, full=False, day=None, progress=None) -> RunReport:
    with record_run(ENERGY_JOB, store) as report:
        process_source(
            get_source("energy_company"), spark, store, ENERGY_RAW, report, progress, day=day, full=full
        )
    return report


def test_energy_incremental_run_equals_a_full_run_after_relanded_late_and_deleted_drops(
    spark, tmp_path
) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    june = [dt.date(2024, 6, d) for d in (1, 2, 3)]
    land_sample(store, tmp_path, june[0], june[0], seed=1)
    land_sample(store, tmp_path, june[1], june[1], seed=2)
    first = run_energy(spark, store)
    assert first.details["mode"] == "full" and first.balanced

    # June 3 lands; June 1 is landed again with another extract; June 2's extract lands again,
    # late, under an older landing day (May 31), so its first arrival moves back; June 2's
    # clients drop is deleted, so its clients now come from the May 31 copy alone.
    land_sample(store, tmp_path, june[2], june[2], seed=3)
    land_sample(store, tmp_path, june[0], june[0], seed=4)
    land_sample(store, tmp_path, june[1], dt.date(2024, 5, 31), seed=2)
    [clientes_june_2] = store.list_keys(f"{ENERGY_RAW}/{partition('clientes', june[1])}")
    store.delete([clientes_june_2])

    report = run_energy(spark, store)
    details = report.details
    assert details["mode"] == "incremental" and report.balanced
    entities = ("clientes", "proveedores", "transacciones")
    expected = {partition(e, d) for e in entities for d in (june[0], june[2], dt.date(2024, 5, 31))}
    assert details["raw_partitions_changed"] == sorted(expected)
    assert details["raw_partitions_deleted"] == [partition("clientes", june[1])]
    assert details["raw_partitions_read"] == sorted(expected)  # parsed: only the changed drops
    assert details["raw_partitions_skipped"] == 2  # June 2's proveedores and transacciones
    assert details["rows_carried_over"] > 0

    fresh = fresh_copy_of_raw(store, ENERGY_RAW, tmp_path / "fresh")
    from_scratch = run_energy(spark, fresh)
    assert from_scratch.details["mode"] == "full"
    assert_same_tables(store, fresh, ENERGY_SPECS)
    loaded = tables(store, (TRANSACCIONES,))["energy_transacciones"][1]["fecha_carga"]
    # June 2's transactions first arrived (landed) on May 31 now: none keeps June 2.
    assert (loaded == dt.date(2024, 5, 31)).sum() > 0 and (loaded == june[1]).sum() == 0

    # The day mode: June 2 read again (unchanged) changes nothing.
    again = run_energy(spark, store, day=june[1])
    assert again.details["raw_partitions_read"] == [
        partition("proveedores", june[1]),
        partition("transacciones", june[1]),
    ]
    assert again.balanced and not [k for k in again.keys_written if k.startswith("processed/")]
    assert_same_tables(store, fresh, ENERGY_SPECS)

    full = run_energy(spark, store, full=True)
    assert full.details["mode"] == "full" and full.details["raw_partitions_read_count"] == 11
    assert full.rows_in == from_scratch.rows_in
    assert_same_tables(store, fresh, ENERGY_SPECS)


def test_energy_run_that_fails_leaves_the_ledger_and_the_next_run_redoes_the_work(spark, tmp_path) -> None:
    store = LocalObjectStore(tmp_path / "lake")
    land_sample(store, tmp_path, dt.date(2024, 6, 1), dt.date(2024, 6, 1), seed=1)
    run_energy(spark, store)
    ledger = store.get_bytes(ledger_key(ENERGY_JOB, ENERGY_RAW))
    land_sample(store, tmp_path, dt.date(2024, 6, 2), dt.date(2024, 6, 2), seed=2)

    with pytest.raises(Boom):
        run_energy(spark, store, progress=dies_after(2))
    assert store.get_bytes(ledger_key(ENERGY_JOB, ENERGY_RAW)) == ledger
    # The failed run died after writing a verdict to its scratch folder (kept_rows.spill).
    assert any("/scratch=" in k for k in store.list_keys("_state", include_hidden=True))

    redo = run_energy(spark, store)
    assert redo.details["raw_partitions_changed_count"] == 3 and redo.balanced
    fresh = fresh_copy_of_raw(store, ENERGY_RAW, tmp_path / "fresh")
    run_energy(spark, fresh)
    assert_same_tables(store, fresh, ENERGY_SPECS)
    # Only the kept rows the ledger points at remain (the failed run's are removed).
    kept_runs = {k.split("/")[4] for k in store.list_keys("_state", include_hidden=True) if "/part=" in k}
    assert len(kept_runs) == 2
    # No run's scratch folder outlives the next successful run.
    assert not [k for k in store.list_keys("_state", include_hidden=True) if "/scratch=" in k]
