"""/predict/sales on the API Lambda (issue 20): the store-sales champion served from a SageMaker
endpoint. The packed model and ``sagemaker/sales_inference.py`` answer as the in-process model does;
the API's endpoint backend gives the same answers, the same 422 naming the field, and needs neither
scikit-learn nor MLflow in its process (the Lambda's layers have neither)."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from api_fixtures import fake_services
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

from api.main import create_app
from api.services.sales import StoreSalesService
from datalake.errors import DataValidationError
from datalake.models.archive import pack_model_dir, unpack_model_archive
from datalake.sales.hosting import VERSION_FILE, load_packed, package_champion
from datalake.sales.predict import load_alias, predict_sales
from datalake.settings import Settings

REPO = Path(__file__).resolve().parents[2]
ROW = {"store_id": 2, "date": "2024-02-26", "promo": True, "state_holiday": "0", "school_holiday": False}
ROWS = [ROW, {**ROW, "store_id": 3, "promo": False}, {**ROW, "date": "2024-02-27", "open": False}]
ENDPOINT = "datalake-dev-store-sales"


def load_handler(code: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("sales_inference_packed", code / "inference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def packed(champion_lake: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The champion packed as ``launch.py deploy --model store-sales`` packs it, through the archive."""
    scratch = tmp_path_factory.mktemp("packed")
    model_dir = package_champion(scratch / "model", load_alias("champion", champion_lake))
    return unpack_model_archive(pack_model_dir(model_dir), scratch / "unpacked")


class SageMakerRuntime:
    """A ``sagemaker-runtime`` client that runs the packed handlers in process, failing as SageMaker
    does: a handler's error is a ``ModelError`` with the original status and body."""

    def __init__(self, model_dir: Path, answer: Any = None) -> None:
        self.handler = load_handler(model_dir / "code")
        self.model = self.handler.model_fn(str(model_dir))
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    def invoke_endpoint(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        handler = self.handler
        try:
            rows = handler.input_fn(params["Body"], params["ContentType"])
            body, _ = handler.output_fn(handler.predict_fn(rows, self.model), params["Accept"])
        except handler.InferenceError as error:
            raise ClientError(
                {
                    "Error": {"Code": "ModelError", "Message": "Received client error"},
                    "OriginalStatusCode": error.status_code,
                    "OriginalMessage": error.message,
                },
                "InvokeEndpoint",
            ) from None
        if self.answer is not None:
            body = json.dumps(self.answer)
        return {"Body": io.BytesIO(body.encode()), "ContentType": "application/json"}


def test_the_packed_model_answers_as_the_in_process_champion(champion_lake: Settings, packed: Path) -> None:
    version = json.loads((packed / VERSION_FILE).read_text())
    champion = load_alias("champion", champion_lake)
    assert version == {"model": "store-sales", "version": champion.version, "alias": "champion"}
    assert {"inference.py", "sales_inference.py", "requirements.txt"} <= {
        p.name for p in (packed / "code").iterdir()
    }
    handler = load_handler(packed / "code")
    model = handler.model_fn(str(packed))
    answer, content_type = handler.output_fn(
        handler.predict_fn(handler.input_fn(json.dumps({"rows": ROWS}), "application/json"), model),
        "application/json",
    )
    assert content_type == "application/json"
    assert json.loads(answer) == predict_sales(ROWS, champion)
    assert json.loads(answer)["predictions"][2] == {
        "store_id": 2, "date": "2024-02-27", "predicted_sales": 0.0, "closed": True,
    }  # fmt: skip


def test_the_handler_names_the_bad_field_and_refuses_other_media(packed: Path) -> None:
    handler = load_handler(packed / "code")
    model = handler.model_fn(str(packed))
    with pytest.raises(handler.InferenceError) as refused:
        handler.predict_fn(
            handler.input_fn(json.dumps([ROW, {**ROW, "store_id": 99}]), "application/json"), model
        )
    assert refused.value.status_code == 400 and refused.value.field == "rows[1].store_id"
    assert json.loads(refused.value.message)["reason"] == "unknown store 99"
    with pytest.raises(handler.InferenceError) as media:
        handler.input_fn("store_id,date\n", "text/csv")
    assert media.value.status_code == 415
    with pytest.raises(handler.InferenceError) as accept:
        handler.output_fn({}, "text/csv")
    assert accept.value.status_code == 406
    with pytest.raises(DataValidationError, match=r"has no version\.json"):
        load_packed(packed / "code")  # the answers could not say which version made them


def endpoint_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_sales_backend": "endpoint", "sales_endpoint": ENDPOINT})


@pytest.fixture
def clients(
    champion_lake: Settings, packed: Path, tmp_path: Path
) -> Iterator[tuple[TestClient, TestClient, Any]]:
    """(in-process API, endpoint API, the endpoint's stand-in)."""
    runtime = SageMakerRuntime(packed)
    local_services = fake_services(champion_lake, tmp_path / "local")
    local_services.sales = StoreSalesService(champion_lake, None)
    settings = endpoint_settings(champion_lake)
    remote_services = fake_services(settings, tmp_path / "remote")
    remote_services.sales = StoreSalesService(settings, None, endpoint_client=runtime)
    with (
        TestClient(create_app(champion_lake, local_services)) as local,
        TestClient(create_app(settings, remote_services)) as remote,
    ):
        yield local, remote, runtime


def test_the_endpoint_backend_answers_as_the_in_process_one(clients) -> None:
    local, remote, runtime = clients
    for body in (ROW, ROWS, {"rows": ROWS}):
        here, there = local.post("/predict/sales", json=body), remote.post("/predict/sales", json=body)
        assert there.status_code == here.status_code == 200, there.text
        assert there.json() == here.json()
    assert [c["EndpointName"] for c in runtime.calls] == [ENDPOINT] * 3
    [sent] = json.loads(runtime.calls[0]["Body"])["rows"]
    assert {name: sent[name] for name in ROW} == ROW  # the validated row, as JSON
    csv = "store_id,date,promo,state_holiday,school_holiday\n2,2024-02-26,1,0,0\n"
    upload = remote.post("/predict/sales", content=csv, headers={"content-type": "text/csv"})
    assert upload.status_code == 200 and upload.json()["predictions"] == here.json()["predictions"][:1]


def test_a_row_the_endpoint_refuses_is_the_same_422_naming_the_field(clients) -> None:
    local, remote, _runtime = clients
    body = [ROW, {**ROW, "store_id": 99}]
    here, there = local.post("/predict/sales", json=body), remote.post("/predict/sales", json=body)
    assert here.status_code == there.status_code == 422, there.text
    assert there.json() == here.json() and "rows.1.store_id" in there.text


def test_a_bad_endpoint_answer_is_a_502_and_no_endpoint_a_503(
    champion_lake: Settings, packed: Path, tmp_path: Path
) -> None:
    settings = endpoint_settings(champion_lake)
    one_short = {"predictions": [], "model_version": "1", "model_alias": "champion"}
    services = fake_services(settings, tmp_path)
    services.sales = StoreSalesService(settings, None, endpoint_client=SageMakerRuntime(packed, one_short))
    with TestClient(create_app(settings, services)) as client:
        response = client.post("/predict/sales", json=ROW)
    assert response.status_code == 502 and "0 predictions for 1 rows" in response.text
    unnamed = settings.model_copy(update={"sales_endpoint": None})
    services = fake_services(unnamed, tmp_path / "none")
    services.sales = StoreSalesService(unnamed, None)
    with TestClient(create_app(unnamed, services)) as client:
        response = client.post("/predict/sales", json=ROW)
    assert response.status_code == 503 and "SALES_ENDPOINT" in response.text


def test_auto_picks_the_endpoint_on_aws_only_when_one_is_named(champion_lake: Settings) -> None:
    aws = champion_lake.model_copy(update={"lake_runtime": "aws", "sales_endpoint": ENDPOINT})
    assert StoreSalesService(aws, None).backend == "endpoint"
    assert StoreSalesService(aws.model_copy(update={"sales_endpoint": None}), None).backend == "local"
    assert (
        StoreSalesService(champion_lake.model_copy(update={"sales_endpoint": ENDPOINT}), None).backend
        == "local"
    )


LAMBDA_LIKE = r"""
import importlib.abc, io, json, sys

class NoModelLibraries(importlib.abc.MetaPathFinder):
    # The API Lambda's layers: no scikit-learn, no MLflow.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("sklearn", "mlflow", "joblib"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoModelLibraries())
from api.services.sales import StoreSalesService
from datalake.settings import Settings

class Runtime:
    def invoke_endpoint(self, **params):
        rows = json.loads(params["Body"])["rows"]
        answer = {"model_version": "7", "model_alias": "champion", "predictions": [
            {"store_id": r["store_id"], "date": r["date"], "predicted_sales": 1234.5, "closed": False}
            for r in rows]}
        return {"Body": io.BytesIO(json.dumps(answer).encode())}

settings = Settings(_env_file=None, lake_runtime="aws", sales_endpoint="s", db_connect_timeout_s=1)
service = StoreSalesService(settings, None, endpoint_client=Runtime())
answer = service.predict([{"store_id": 2, "date": "2024-02-26", "promo": True,
                           "state_holiday": "0", "school_holiday": False}])
print(json.dumps([answer["model_version"], answer["predictions"][0]["predicted_sales"],
                  any(m.split(".")[0] in ("sklearn", "mlflow") for m in sys.modules)]))
"""


def test_the_endpoint_backend_needs_neither_scikit_learn_nor_mlflow() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LAMBDA_LIKE],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == ["7", 1234.5, False]
