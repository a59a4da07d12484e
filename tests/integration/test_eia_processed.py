"""The eia source on Spark (local[1]): raw day files -> energy_prices_daily, through ``transform("eia")``.

One session and one lake serve the module, built by four runs:

1. full, raw/eia: the recorded WTI/Brent and Henry Hub rows (extracted on 29 September), rows that
   cannot be prices (text, missing, out of range, wrong unit, a month, not an object), three files
   that are not the client's, and a SAMPLE file put under the real prefix;
2. incremental: a revision of WTI on 1 September extracted a day later lands beside the first;
3. incremental with nothing new;
4. raw/eia_sample: a week of the SAMPLE generator through the real client, beside the real rows.

Then the table is synced into the embedded PostgreSQL (its ``date`` column included) and read back.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
from processed_fixtures import published

from datalake.datasets.prices import ENERGY_PRICES_DAILY
from datalake.pipelines.eia_ingest import ingest_eia
from datalake.pipelines.lake import sync_dataset, transform
from datalake.runs import RunReport
from datalake.settings import Settings
from datalake.sources.eia import EiaFetch, raw_key, write_fetch
from datalake.storage.local import LocalObjectStore

pytest_plugins = ["warehouse_fixtures"]
pytestmark = pytest.mark.slow

EIA_API = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eia_api"
T1 = dt.datetime(2026, 9, 29, 19, 9, 40, tzinfo=dt.UTC)
T2 = T1 + dt.timedelta(days=1)
BAD = {
    "value 'NA' is not a number": 1,
    "value is missing": 1,
    "price outside [-100.0, 500.0]": 1,
    "units '$/GAL' are not RBRTE's USD/bbl": 1,
    "period 2026-08 is not a day (YYYY-MM-DD)": 1,
    "row is not a JSON object: not a row": 1,
    "source sample is not what raw/eia holds (eia)": 1,
}
UNREADABLE = {
    "unreadable EIA file: not a JSON object": 1,
    "no datalake.route: not written by datalake.sources.eia": 1,
    "the file holds no rows": 1,
}


def recorded(name: str) -> Any:
    path = EIA_API / name
    if not path.exists():
        pytest.skip(f"recorded EIA shape {path} is not on this machine (../shared/data is optional)")
    return json.loads(path.read_text())


def fetch_of(doc: dict[str, Any], route: str, rows: list[Any] | None = None) -> EiaFetch:
    rows = doc["response"]["data"] if rows is None else rows
    envelope = {"response": {"dateFormat": "YYYY-MM-DD", "frequency": "daily"}, "request": doc["request"]}
    series = tuple(sorted({r["series"] for r in rows if isinstance(r, dict)}))
    return EiaFetch(
        route, series, dt.date(2026, 8, 1), dt.date(2026, 9, 30), rows, len(rows), 1, "u", envelope
    )


def land_first_extraction(store: LocalObjectStore) -> None:
    spt = recorded("petroleum_pri_spt_data_daily_wti_brent_shape.json")
    wti, brent = spt["response"]["data"][3], spt["response"]["data"][2]  # 31 August
    bad = [
        {**wti, "period": "2026-08-28", "value": "NA"},
        {**brent, "period": "2026-08-28", "value": None},
        {**wti, "period": "2026-08-27", "value": "9999"},
        {**brent, "period": "2026-08-27", "units": "$/GAL"},
        {**wti, "period": "2026-08"},
        "not a row",
    ]
    write_fetch(store, fetch_of(spt, "petroleum/pri/spt", spt["response"]["data"] + bad), T1)
    gas = recorded("natural_gas_pri_fut_data_daily_henry_hub_recorded_trimmed.json")
    write_fetch(store, fetch_of(gas, "natural-gas/pri/fut"), T1)
    folder = "raw/eia/petroleum-pri-spt/year=2026/month=09/day=02"
    store.put_bytes(f"{folder}/broken.json", b'{"response": {"data": [')
    store.put_bytes(f"{folder}/foreign.json", json.dumps(spt).encode())
    empty = store.get_json(raw_key("petroleum/pri/spt", dt.date(2026, 9, 1), T1.date()))
    empty["response"]["data"] = []
    store.put_json(f"{folder}/empty.json", empty)
    sample = {
        **empty,
        "sample": True,
        "response": {**empty["response"], "data": [{**wti, "period": "2026-09-02"}]},
    }
    store.put_json(f"{folder}/sample.json", sample)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, list[RunReport]]:
    # transform() starts the session the settings say (local[1]); the JVM goes with the module.
    root = tmp_path_factory.mktemp("eia") / "lake"
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=root, spark_master="local[1]")
    store = LocalObjectStore(root)
    land_first_extraction(store)
    first = transform("eia", settings=settings)
    spt = recorded("petroleum_pri_spt_data_daily_wti_brent_shape.json")
    revised = [dict(r) for r in spt["response"]["data"]]
    revised[1]["value"] = "91.45"  # WTI, 1 September
    write_fetch(store, fetch_of(spt, "petroleum/pri/spt", revised), T2)
    second = transform("eia", settings=settings)
    third = transform("eia", settings=settings)
    ingest_eia(dt.date(2026, 8, 31), dt.date(2026, 9, 4), sample=True, now=T2, settings=settings)
    fourth = transform("eia", "raw/eia_sample", settings=settings)
    return settings, [first, second, third, fourth]


def prices(settings: Settings) -> pd.DataFrame:
    frame = published(LocalObjectStore(settings.lake_root), ENERGY_PRICES_DAILY)
    return frame.sort_values(["source", "date", "series_id"]).reset_index(drop=True)


def test_runs_balance_and_quarantine_each_bad_row_with_its_reason(lake) -> None:
    _settings, (first, second, third, fourth) = lake
    assert all(r.status == "succeeded" and r.balanced for r in (first, second, third, fourth))
    assert (first.rows_in, first.rows_out, first.rows_quarantined) == (17, 7, 10)
    reasons = first.details["quarantine_reasons"]
    assert {k.split(": ", 1)[1]: v for k, v in reasons.items() if k.startswith("energy_prices_daily")} == BAD
    assert {
        k.split(": ", 1)[1]: v for k, v in reasons.items() if k.startswith("eia_unreadable")
    } == UNREADABLE
    # The revision's run recomputed 1 September (and its neighbours) only; the third found nothing new.
    assert second.details["mode"] == "incremental" and second.rows_in < first.rows_in
    assert third.rows_in == 0 and third.details["raw_partitions_changed"] == []


def test_prices_are_typed_named_and_in_their_units(lake) -> None:
    settings, _reports = lake
    real = prices(settings).query("source == 'eia'")
    rows = [
        (str(r.date)[:10], r.series_id, r.series_name, r.product, r.area, r.price, r.unit)
        for r in real.itertuples()
    ]
    assert rows == [
        ("2026-08-31", "RBRTE", "Brent", "crude oil", "Europe", 95.57, "USD/bbl"),
        ("2026-08-31", "RWTC", "WTI", "crude oil", "Cushing, OK", 90.88, "USD/bbl"),
        ("2026-09-01", "RBRTE", "Brent", "crude oil", "Europe", 96.02, "USD/bbl"),
        ("2026-09-01", "RWTC", "WTI", "crude oil", "Cushing, OK", 91.45, "USD/bbl"),  # the revision won
        ("2026-09-16", "RNGWHHD", "Henry Hub", "natural gas", "Henry Hub, LA", 3.0, "USD/MMBtu"),
        ("2026-09-21", "RNGWHHD", "Henry Hub", "natural gas", "Henry Hub, LA", 2.93, "USD/MMBtu"),
        ("2026-09-22", "RNGWHHD", "Henry Hub", "natural gas", "Henry Hub, LA", 2.9, "USD/MMBtu"),
    ]
    # extracted_at is when the client fetched the rows: the revision's is a day later.
    wti = real.query("series_id == 'RWTC'").set_index(
        real.query("series_id == 'RWTC'")["date"].astype(str).str[:10]
    )
    assert pd.Timestamp(wti.loc["2026-09-01", "extracted_at"]).tz_localize(None) == pd.Timestamp(
        "2026-09-30 19:09:40"
    )
    assert pd.Timestamp(wti.loc["2026-08-31", "extracted_at"]).tz_localize(None) == pd.Timestamp(
        "2026-09-29 19:09:40"
    )


def test_history_stays_in_raw_and_the_older_revision_is_quarantined_as_superseded(lake) -> None:
    settings, (_first, second, _third, _fourth) = lake
    store = LocalObjectStore(settings.lake_root)
    day = store.list_keys("raw/eia/petroleum-pri-spt/year=2026/month=09/day=01")
    assert [k.rsplit("-fetched-", 1)[1] for k in day] == ["2026-09-29.json", "2026-09-30.json"]
    superseded = {k: v for k, v in second.details["quarantine_reasons"].items() if "superseded" in k}
    assert sum(superseded.values()) == 2  # the older WTI and Brent rows of 1 September


def test_sample_rows_sit_beside_the_real_ones_labelled_sample(lake) -> None:
    settings, (*_runs, fourth) = lake
    table = prices(settings)
    sample = table.query("source == 'sample'")
    assert fourth.rows_out == len(sample) == 15  # 5 business days x 3 series
    assert set(sample["series_name"]) == {"WTI", "Brent", "Henry Hub"}
    assert len(table.query("source == 'eia'")) == 7  # the sample's run kept the real rows


def test_the_table_syncs_into_postgresql(lake, tmp_path, embedded_pg) -> None:
    settings, _reports = lake
    shutil.copytree(settings.lake_root, tmp_path / "lake")
    settings = settings.model_copy(update={"lake_root": tmp_path / "lake", "database_url": embedded_pg.url})
    with psycopg.connect(embedded_pg.url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS energy_prices_daily CASCADE")
    first = sync_dataset("energy_prices_daily", settings)
    again = sync_dataset("energy_prices_daily", settings, force=True)
    assert first.details["inserted"] == 22 and again.details["unchanged"] == 22
    with psycopg.connect(embedded_pg.url) as conn:
        spread = conn.execute(
            "SELECT b.price - w.price FROM energy_prices_daily w "
            "JOIN energy_prices_daily b USING (date, source) "
            "WHERE w.series_id = 'RWTC' AND b.series_id = 'RBRTE' AND source = 'eia' ORDER BY date"
        ).fetchall()
    assert [round(s, 2) for (s,) in spread] == [4.69, 4.57]
