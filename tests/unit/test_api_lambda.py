"""The Lambda handler: Mangum with API Gateway REST (v1) and HTTP API (v2) events, behind a /prod stage."""

from __future__ import annotations

import base64
import copy
import importlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from api_fixtures import FakeAsk, FakePredictions, fake_services
from mangum import Mangum
from PIL import Image

from api.lambda_handler import build_handler
from api.main import create_app
from datalake.settings import Settings

CONTEXT = SimpleNamespace(
    aws_request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    function_name="datalake-api",
    memory_limit_in_mb=1024,
    invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:datalake-api",
)


@pytest.fixture
def services_and_handler(tmp_path: Path) -> tuple[Any, Mangum]:
    settings = Settings(
        _env_file=None, lake_root=tmp_path / "lake", api_root_path="/prod", db_connect_timeout_s=1
    )
    services = fake_services(settings, tmp_path, ask=FakeAsk(), predictions=FakePredictions())
    return services, build_handler(settings, create_app(settings, services))


@pytest.fixture
def handler(services_and_handler: tuple[Any, Mangum]) -> Mangum:
    return services_and_handler[1]


def body_of(response: dict[str, Any]) -> bytes:
    raw = response["body"]
    return base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()


@pytest.mark.parametrize("event_file", ["apigw_rest_v1_get_docs.json", "apigw_http_v2_get_docs.json"])
def test_docs_behind_the_stage_load_the_staged_schema(
    handler: Mangum, event_json: Callable[[str], dict], event_file: str
) -> None:
    response = handler(event_json(event_file), CONTEXT)
    assert response["statusCode"] == 200
    page = body_of(response).decode()
    # The browser is on /prod/docs: the schema must be fetched from /prod/openapi.json.
    assert "'/prod/openapi.json'" in page


def test_v2_openapi_under_the_stage_names_the_stage_as_server(
    handler: Mangum, event_json: Callable[[str], dict]
) -> None:
    response = handler(event_json("apigw_http_v2_get_openapi.json"), CONTEXT)
    assert response["statusCode"] == 200
    spec = json.loads(body_of(response))
    assert spec["servers"] == [{"url": "/prod"}]
    assert "/forecast" in spec["paths"] and "/prod/forecast" not in spec["paths"]


def test_v1_openapi_without_the_stage_in_the_path(handler: Mangum, event_json: Callable[[str], dict]) -> None:
    event = event_json("apigw_rest_v1_get_docs.json")
    event["path"] = "/openapi.json"
    event["pathParameters"] = {"proxy": "openapi.json"}
    event["requestContext"]["path"] = "/prod/openapi.json"
    response = handler(event, CONTEXT)
    assert response["statusCode"] == 200
    assert json.loads(body_of(response))["servers"] == [{"url": "/prod"}]


def test_v1_post_ask(handler: Mangum, event_json: Callable[[str], dict]) -> None:
    response = handler(event_json("apigw_rest_v1_post_ask.json"), CONTEXT)
    assert response["statusCode"] == 200
    body = json.loads(body_of(response))
    assert body["language"] == "es" and body["rows"] == [[31245.0]]
    assert response["headers"]["content-type"] == "application/json"


def test_v2_get_ask_with_query_string(
    services_and_handler: tuple[Any, Mangum], event_json: Callable[[str], dict]
) -> None:
    services, handler = services_and_handler
    response = handler(event_json("apigw_http_v2_get_ask.json"), CONTEXT)
    assert response["statusCode"] == 200
    assert json.loads(body_of(response))["language"] == "en"
    question, as_of = services.ask.calls[-1]
    assert question == "What was the demand yesterday?" and as_of.isoformat() == "2024-06-10T12:00:00+02:00"


def test_v2_ask_visual_png_comes_back_base64(handler: Mangum, event_json: Callable[[str], dict]) -> None:
    response = handler(event_json("apigw_http_v2_post_ask_visual.json"), CONTEXT)
    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is True
    assert response["headers"]["content-type"] == "image/png"
    assert Image.open(io.BytesIO(body_of(response))).format == "PNG"


def test_v1_forecast_is_logged_as_coming_through_api_gateway(
    services_and_handler: tuple[Any, Mangum], event_json: Callable[[str], dict]
) -> None:
    services, handler = services_and_handler
    response = handler(event_json("apigw_rest_v1_get_forecast.json"), CONTEXT)
    assert response["statusCode"] == 200
    assert len(json.loads(body_of(response))["points"]) == 24
    assert services.predictions.logged[-1]["request_source"] == "apigateway"


def test_errors_through_api_gateway_are_json(handler: Mangum, event_json: Callable[[str], dict]) -> None:
    event = event_json("apigw_http_v2_get_ask.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/prod/nope"
    missing = handler(event, CONTEXT)
    assert missing["statusCode"] == 404 and json.loads(body_of(missing)) == {"detail": "Not Found"}
    big = event_json("apigw_rest_v1_post_ask.json")
    big["body"] = json.dumps({"question": "demanda " * 4000})
    big["headers"]["content-length"] = str(len(big["body"].encode()))
    too_large = handler(big, CONTEXT)
    assert too_large["statusCode"] == 413 and json.loads(body_of(too_large))["field"] == "body"


def test_the_app_and_its_services_outlive_invocations(
    services_and_handler: tuple[Any, Mangum], event_json: Callable[[str], dict]
) -> None:
    services, handler = services_and_handler
    event = event_json("apigw_rest_v1_get_forecast.json")
    for _ in range(3):
        assert handler(copy.deepcopy(event), CONTEXT)["statusCode"] == 200
    # One champion load and one history read for the container, not one per invocation.
    assert services.forecasts.stats["model_loads"] == 1 and services.forecasts.stats["history_reads"] == 1
    assert handler.lifespan == "off"


def test_module_handler_is_built_at_import_with_the_stage_setting(
    monkeypatch: pytest.MonkeyPatch, event_json: Callable[[str], dict]
) -> None:
    monkeypatch.setenv("API_ROOT_PATH", "staging/")
    from datalake.settings import get_settings

    get_settings.cache_clear()
    import api.lambda_handler as module

    module = importlib.reload(module)
    assert isinstance(module.handler, Mangum)
    assert module.handler.config["api_gateway_base_path"] == "/staging"
    event = event_json("apigw_http_v2_get_docs.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/staging/docs"
    event["requestContext"]["stage"] = "staging"
    response = module.handler(event, CONTEXT)
    assert response["statusCode"] == 200 and "'/staging/openapi.json'" in body_of(response).decode()
