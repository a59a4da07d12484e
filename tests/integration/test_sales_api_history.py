"""POST /predict/sales logged to the embedded PostgreSQL, and /historical-predictions?model=store-sales
listing the predictions with their error once store_sales_daily (as `datalake sync` mirrors it) has
the day's sales. The champion is a quick model on three synthetic stores in a real local MLflow store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sales_fixtures import synthetic_sales, synthetic_stores

from api.main import create_app
from api.services import Services
from datalake.sales import etl
from datalake.sales.etl import run_sales_etl
from datalake.sales.retrain import retrain_sales_model
from datalake.settings import Settings

pytest_plugins = ["warehouse_fixtures"]
QUICK = {"max_iter": 40, "max_leaf_nodes": 15, "learning_rate": 0.2}
ROW = {"store_id": 2, "date": "2024-02-26", "promo": True, "state_holiday": "0", "school_holiday": False}
_TABLES = ("sales_predictions", "store_sales_daily")


@pytest.fixture
def settings(
    pg_settings: Settings, pg_conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    # The warehouse is shared by the session's tests: leave no table of ours behind.
    for table in _TABLES:
        pg_conn.execute(f"DROP TABLE IF EXISTS {table}")
    # mlflow exports the last store used as MLFLOW_TRACKING_URI, which pg_settings may have read.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    pg_settings = pg_settings.model_copy(update={"mlflow_tracking_uri": None})
    tables = (synthetic_sales(stores=3, days=420), synthetic_stores(3))
    monkeypatch.setattr(etl, "read_rossmann_files", lambda folder: tables)
    run_sales_etl(pg_settings, files=Path("synthetic"), progress=lambda _: None)
    assert retrain_sales_model(pg_settings, params=QUICK, progress=lambda _: None)["details"]["promoted"]
    yield pg_settings
    for table in _TABLES:
        pg_conn.execute(f"DROP TABLE IF EXISTS {table}")


def test_predictions_are_logged_and_listed_with_their_error_once_sales_arrive(
    settings: Settings, pg_conn: psycopg.Connection[Any]
) -> None:
    rows = [ROW, {**ROW, "store_id": 3}, {**ROW, "date": "2024-02-27", "open": False}]
    with TestClient(create_app(settings, Services.from_settings(settings))) as client:
        answer = client.post("/predict/sales", json={"rows": rows})
        assert answer.status_code == 200, answer.text
        predicted = answer.json()["predictions"][0]["predicted_sales"]
        before = client.get("/historical-predictions", params={"model": "store-sales"})
        assert before.status_code == 200, before.text
        assert before.json()["total"] == 3 and before.json()["summary"]["with_actual"] == 0
        # The day's sales arrive (the warehouse sync mirrors store_sales_daily) for store 2 only.
        pg_conn.execute(
            "CREATE TABLE store_sales_daily (store_id int, date date, sales bigint, open boolean)"
        )
        pg_conn.execute("INSERT INTO store_sales_daily VALUES (2, '2024-02-26', 8000, true)")
        page = client.get("/historical-predictions", params={"model": "store-sales"})
        scored = client.get("/historical-predictions", params={"model": "store-sales", "has_actual": True})
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 3 and body["next_offset"] is None
    items = {(item["store_id"], item["date"]): item for item in body["items"]}
    hit = items[(2, "2024-02-26")]
    assert hit["actual_sales"] == 8000 and hit["predicted_sales"] == predicted
    assert hit["error"] == pytest.approx(predicted - 8000, abs=0.01)
    assert hit["ape_pct"] == pytest.approx(abs(predicted - 8000) / 8000 * 100, abs=0.01)
    assert hit["model_alias"] == "champion" and hit["promo"] is True
    assert items[(3, "2024-02-26")]["actual_sales"] is None and items[(3, "2024-02-26")]["error"] is None
    closed = items[(2, "2024-02-27")]
    assert closed["closed"] is True and closed["predicted_sales"] == 0
    assert body["summary"]["with_actual"] == 1
    assert body["summary"]["rmspe"] == pytest.approx(abs(predicted - 8000) / 8000, abs=1e-4)
    assert scored.json()["total"] == 1
    assert pg_conn.execute("SELECT count(*) FROM sales_predictions").fetchone() == (3,)
