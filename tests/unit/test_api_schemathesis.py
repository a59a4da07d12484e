"""schemathesis against /openapi.json: generated requests to every operation, no server error.

The app runs in-process (ASGI) with /ask, the model and the warehouse replaced by fakes, so
what is tested is the API layer: validation, errors, middleware and the documented shapes.
(schemathesis's own pytest plugin does not run on pytest 9, so this drives its Hypothesis
strategies directly.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_fixtures import fake_services
from hypothesis import HealthCheck, given, settings
from movie_fixtures import synthetic_tables
from sales_fixtures import synthetic_sales, synthetic_stores
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from api.services.movies import MovieSuccessService
from api.services.sales import StoreSalesService
from datalake.movies.evaluation import YearSplit, fit_model
from datalake.sales.dataset import build_feature_dataset
from datalake.sales.predict import LoadedModel
from datalake.sales.retrain import fit_challenger
from datalake.settings import Settings

#: The readiness probes try the (absent) database on every call: slow here, tested elsewhere.
SKIPPED = {("GET", "/health"), ("GET", "/health/ready"), ("GET", "/health/details")}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> schemathesis.BaseSchema:
    root: Path = tmp_path_factory.mktemp("schemathesis")
    lake = Settings(_env_file=None, lake_root=root / "lake", db_connect_timeout_s=1)
    services = fake_services(lake, root)
    # /predict serves a small trained model (without one it answers 503 by design).
    model, _ = fit_model(synthetic_tables(films=200), YearSplit(2006, 2010))
    services.movies = MovieSuccessService(lake, None, load_champion=lambda _dest: model)
    # /predict/sales too (stores 1-3; the registry round trip is tested in test_api_predict_sales).
    sales = build_feature_dataset(synthetic_sales(stores=3, days=300), synthetic_stores(3))
    sales_model = LoadedModel(fit_challenger(sales, {"max_iter": 20, "max_leaf_nodes": 15}), "1", "champion")
    services.sales = StoreSalesService(lake, None, load_champion=lambda: sales_model)
    app = create_app(lake, services)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def run_operation(strategy: Any, seen: set[int]) -> None:
    """Generated requests to one operation; every response checked against the schema."""

    @given(case=strategy)
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def run(case: schemathesis.Case) -> None:
        response = case.call()
        seen.add(response.status_code)
        case.validate_response(response, checks=CHECKS)

    run()


def test_every_operation_answers_generated_requests_without_server_errors(
    api_schema: schemathesis.BaseSchema,
) -> None:
    tested: list[str] = []
    statuses: dict[str, set[int]] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue

        run_operation(operation.as_strategy(), statuses.setdefault(label, set()))
        tested.append(label)
    assert {
        "POST /ask",
        "POST /ask-text",
        "GET /ask",
        "POST /ask-visual",
        "GET /forecast",
        "GET /historical-predictions",
    } <= set(tested)
    assert "POST /predict" in tested and "POST /predict/movie-success" in tested
    assert 422 in statuses["POST /predict"]
    # The happy path of /predict is its documented examples: generated genres are rarely known names.
    assert 422 in statuses["POST /predict/sales"] and 200 in statuses["POST /predict/sales"]
    for path in ("/predict", "/predict/movie-success", "/predict/sales"):
        operation = api_schema[path]["POST"]
        examples = operation.definition.raw["requestBody"]["content"]["application/json"]["examples"]
        assert examples, path
        for name, example in examples.items():
            case = operation.Case(body=example["value"], media_type="application/json")
            response = case.call()
            assert response.status_code == 200, (path, name, response.text)
            case.validate_response(response, checks=CHECKS)
    # Generated data reached both the happy path and the validation of each operation.
    assert 200 in statuses["GET /forecast"] and 422 in statuses["GET /forecast"]
    assert 422 in statuses["POST /ask"]
    assert all(code < 500 for codes in statuses.values() for code in codes), statuses
