"""POST /predict/sales through FastAPI's TestClient against a real local MLflow store whose champion
is a small model trained on three synthetic stores: one row, a batch, the CSV upload, 422s naming
the field, closed days, the 503 without a champion, the champion cache and /health/details."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_fixtures import fake_services
from fastapi.testclient import TestClient

from api.main import create_app
from api.services.sales import StoreSalesService
from datalake.sales.predict import MAX_ROWS, LoadedModel, load_alias
from datalake.settings import Settings

#: A Monday after the synthetic history (2023-01-01 + 420 days) ends.
HEADER = "store_id,date,promo,state_holiday,school_holiday\n"
ROW = {"store_id": 2, "date": "2024-02-26", "promo": True, "state_holiday": "0", "school_holiday": False}


def _client(settings: Settings, tmp_path: Path, service: StoreSalesService | None = None) -> TestClient:
    services = fake_services(settings, tmp_path)
    # No warehouse here: the log is tested against PostgreSQL in tests/integration.
    services.sales = service or StoreSalesService(settings, None)
    return TestClient(create_app(settings, services))


@pytest.fixture
def client(champion_lake: Settings, tmp_path: Path) -> Iterator[TestClient]:
    with _client(champion_lake, tmp_path) as test_client:
        yield test_client


def test_one_row_gets_sales_version_and_alias(client: TestClient, champion_lake: Settings) -> None:
    response = client.post("/predict/sales", json=ROW)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_alias"] == "champion"
    assert body["model_version"] == load_alias("champion", champion_lake).version
    (prediction,) = body["predictions"]
    assert prediction["store_id"] == 2 and prediction["date"] == "2024-02-26"
    assert not prediction["closed"]
    # Store 2 sells about 7,000 a day (x1.1 on Mondays, x1.25 with a promo) in the synthetic data.
    assert 5_000 < prediction["predicted_sales"] < 15_000


def test_a_batch_answers_each_row_in_order_and_a_closed_day_predicts_zero(client: TestClient) -> None:
    rows = [
        ROW,
        {**ROW, "store_id": 3, "promo": False},
        {**ROW, "date": "2024-02-27", "open": False},
        {**ROW, "store_id": 1, "state_holiday": 0, "open": True},
    ]
    for body in (rows, {"rows": rows}):
        response = client.post("/predict/sales", json=body)
        assert response.status_code == 200, response.text
        predictions = response.json()["predictions"]
        assert [(p["store_id"], p["date"]) for p in predictions] == [
            (2, "2024-02-26"), (3, "2024-02-26"), (2, "2024-02-27"), (1, "2024-02-26"),
        ]  # fmt: skip
        assert [p["closed"] for p in predictions] == [False, False, True, False]
        assert predictions[2]["predicted_sales"] == 0.0
        assert all(p["predicted_sales"] > 0 for i, p in enumerate(predictions) if i != 2)
    # The same row alone and in a batch gets the same answer.
    alone = client.post("/predict/sales", json=ROW).json()["predictions"][0]
    assert alone == predictions[0]


def test_a_csv_upload_as_a_file_or_a_body_matches_the_json_answer(client: TestClient) -> None:
    csv_text = (
        "school_holiday,store_id,date,promo,state_holiday,open,ignored\n"  # columns by name, any order
        "0,2,2024-02-26,1,0,,x\n"
        "1,3,2024-02-27,0,a,1,y\n"
        "0,2,2024-02-27,1,0,0,z\n"
    )
    json_rows = [
        ROW,
        {"store_id": 3, "date": "2024-02-27", "promo": False, "state_holiday": "a", "school_holiday": True},
        {**ROW, "date": "2024-02-27", "open": False},
    ]
    expected = client.post("/predict/sales", json=json_rows).json()
    for path in ("/predict/sales", "/predict/sales/csv"):
        upload = client.post(path, files={"file": ("days.csv", csv_text, "text/csv")})
        assert upload.status_code == 200, (path, upload.text)
        assert upload.json() == expected
    raw = client.post("/predict/sales/csv", content=csv_text, headers={"Content-Type": "text/csv"})
    assert raw.status_code == 200, raw.text
    assert raw.json() == expected
    # The Rossmann files' own header names work too.
    rossmann = "Store,Date,Promo,StateHoliday,SchoolHoliday,Open\n2,2024-02-26,1,0,0,1\n"
    answer = client.post("/predict/sales/csv", files={"file": ("test.csv", rossmann, "text/csv")})
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"] == expected["predictions"][:1]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**ROW, "store_id": 99}, "rows.0.store_id"),
        ({**ROW, "date": "2024-02-30"}, "rows.0.date"),
        ({**ROW, "state_holiday": "z"}, "rows.0.state_holiday"),
        ({"rows": [ROW, {**ROW, "date": "2024-02-30"}]}, "rows.1.date"),
        ([ROW, ROW, {**ROW, "store_id": 1234}], "rows.2.store_id"),
        ({key: value for key, value in ROW.items() if key != "promo"}, "rows.0.promo"),
    ],
)
def test_a_bad_row_is_422_naming_the_field(client: TestClient, body: object, field: str) -> None:
    response = client.post("/predict/sales", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    ("csv_text", "field"),
    [
        (HEADER + "2,2024-02-26,1,0,0\n2,2024-02-30,1,0,0\n", "rows.1.date"),
        (HEADER + "77,2024-02-26,1,0,0\n", "rows.0.store_id"),
        (HEADER + "2,2024-02-26,1,x,0\n", "rows.0.state_holiday"),
        ("store_id,date,promo,school_holiday\n2,2024-02-26,1,0\n", "file.state_holiday"),
        (HEADER, "rows"),
        (HEADER + "2," + "9" * 200_000 + ",1,0,0\n", "file"),  # a field over csv's size limit
    ],
)  # fmt: skip
def test_a_bad_csv_is_422_naming_the_row_and_field(client: TestClient, csv_text: str, field: str) -> None:
    response = client.post("/predict/sales", files={"file": ("days.csv", csv_text, "text/csv")})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_more_than_ten_thousand_rows_is_a_json_422(client: TestClient) -> None:
    too_many = client.post("/predict/sales", json=[ROW] * (MAX_ROWS + 1))
    assert too_many.status_code == 422 and too_many.json()["detail"]
    csv_text = HEADER + "2,2024-02-26,1,0,0\n" * (MAX_ROWS + 1)
    upload = client.post("/predict/sales", files={"file": ("days.csv", csv_text, "text/csv")})
    assert upload.status_code == 422 and upload.json()["field"] == "rows"
    # Exactly the limit is served (and fits the body limit of /predict/sales).
    full = client.post("/predict/sales", json={"rows": [ROW] * MAX_ROWS})
    assert full.status_code == 200, full.text[:300]
    assert len(full.json()["predictions"]) == MAX_ROWS


def test_no_champion_yet_is_503_saying_how_to_train_one_and_health_says_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Loading the other lake's champion exported its store as MLFLOW_TRACKING_URI (mlflow does).
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    empty = Settings(
        _env_file=None, lake_root=tmp_path / "empty-lake", db_connect_timeout_s=1, mlflow_tracking_uri=None
    )
    with _client(empty, tmp_path) as client:
        response = client.post("/predict/sales", json=ROW)
        assert response.status_code == 503, response.text
        assert "sales-retrain" in response.json()["hint"]
        csv_text = HEADER + "2,2024-02-26,1,0,0\n"
        upload = client.post("/predict/sales", content=csv_text, headers={"Content-Type": "text/csv"})
        assert upload.status_code == 503
        check = client.get("/health/details").json()["readiness"]["checks"]["store_sales"]
    assert check["champion"] == "absent" and check["version"] is None
    assert "sales-retrain" in check["hint"]


def test_health_details_reports_the_champion_version(client: TestClient, champion_lake: Settings) -> None:
    response = client.get("/health/details")
    assert response.status_code == 200, response.text
    check = response.json()["readiness"]["checks"]["store_sales"]
    assert check["ok"] and check["champion"] == "present"
    assert check["version"] == load_alias("champion", champion_lake).version


def test_the_champion_is_loaded_once_and_rechecked_only_after_the_refresh_time(
    champion_lake: Settings, tmp_path: Path
) -> None:
    real = load_alias("champion", champion_lake)
    calls: list[str] = []
    now = [0.0]
    versions = iter([real.version, real.version, "moved"])

    def load() -> LoadedModel:
        calls.append("check")
        return LoadedModel(real.model, next(versions), "champion")

    settings = champion_lake.model_copy(update={"api_refresh_s": 30.0})
    service = StoreSalesService(settings, None, load_champion=load, clock=lambda: now[0])
    with _client(settings, tmp_path, service) as client:
        for _ in range(3):
            assert client.post("/predict/sales", json=ROW).json()["model_version"] == real.version
        assert len(calls) == 1
        now[0] = 31.0
        assert client.post("/predict/sales", json=ROW).json()["model_version"] == real.version
        now[0] = 62.0
        # The alias moved: the next answer comes from the new version.
        assert client.post("/predict/sales", json=ROW).json()["model_version"] == "moved"
    assert len(calls) == 3


def test_the_api_imports_without_scikit_learn_and_answers_503(tmp_path: Path) -> None:
    """The API Lambda's layer has no scikit-learn: the app must still import, and the route say why."""
    script = f"""
import sys
sys.modules["sklearn"] = None  # import sklearn now raises ModuleNotFoundError
from fastapi.testclient import TestClient
from api.main import create_app
from datalake.settings import Settings
settings = Settings(_env_file=None, lake_root={str(tmp_path / "lake")!r}, db_connect_timeout_s=1)
with TestClient(create_app(settings)) as client:
    response = client.post("/predict/sales", json={ROW!r})
assert "datalake.sales.model" not in sys.modules
print(response.status_code, response.json()["detail"])
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env={**os.environ}
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("503 sklearn") and "is not installed here" in done.stdout, done.stdout
