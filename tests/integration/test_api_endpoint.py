"""/forecast through a SageMaker endpoint (``sagemaker-runtime`` InvokeEndpoint), and the API key
from Secrets Manager, against the moto server.

moto's InvokeEndpoint answers whatever was queued for it (or a fixed non-JSON body) and never
looks at the request, so what we send is checked with a recording fake client, and moto's
default answer must be refused (502), not passed through.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest
import requests
from api_fixtures import FakeAsk, FakePredictions, RecordingRuntime
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

from api.main import create_app
from api.security import ApiKeyGuard
from api.services import Services, health
from api.services.db import Database
from api.services.forecasts import ForecastService
from api.services.movies import MovieSuccessService
from datalake.settings import Settings

ENDPOINT = "datalake-demand-forecast"


def endpoint_answer(hours: int, version: str = "v20240601T020000-3fa2c1") -> dict[str, Any]:
    stamps = pd.date_range("2024-06-10 00:00", periods=hours, freq="h", tz="UTC")
    points = [
        {
            "ts_utc": stamp.isoformat(),
            "ts_local": stamp.tz_convert("Europe/Madrid").isoformat(),
            "p10_mw": 24_000.0 + h,
            "p50_mw": 25_000.0 + h,
            "p90_mw": 26_000.0 + h,
        }
        for h, stamp in enumerate(stamps)
    ]
    return {
        "model_version": version,
        "data_cutoff": "2024-06-09T23:00:00+00:00",
        "origin": "2024-06-10T00:00:00+00:00",
        "horizon_hours": hours,
        "missing_hours_filled": 0,
        "points": points,
    }


def build(
    settings: Settings, *, endpoint_client: Any = None, predictions: Any = None
) -> tuple[Services, Any]:
    forecasts = ForecastService(settings, None, endpoint_client=endpoint_client)
    services = Services(
        settings=settings,
        database=Database(settings, url="postgresql://nobody@127.0.0.1:9/none"),
        forecasts=forecasts,
        predictions=predictions or FakePredictions(),
        api_keys=ApiKeyGuard(settings),
        ask=FakeAsk(),
    )
    return services, create_app(settings, services)


def queue_endpoint_results(moto_server: str, *bodies: tuple[str, str]) -> None:
    response = requests.post(
        f"{moto_server}/moto-api/static/sagemaker/endpoint-results",
        json={
            "account_id": "123456789012",
            "region": "eu-west-1",
            "results": [
                {"Body": body, "ContentType": content_type, "InvokedProductionVariant": "AllTraffic"}
                for body, content_type in bodies
            ],
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def endpoint_settings(moto_settings: Settings) -> Settings:
    # The aws runtime with FORECAST_ENDPOINT set: "auto" picks the endpoint.
    settings = moto_settings.model_copy(update={"forecast_endpoint": ENDPOINT, "db_connect_timeout_s": 1})
    assert settings.api_forecast_backend == "auto"
    return settings


def test_forecast_comes_from_the_endpoint_through_moto(endpoint_settings: Settings, moto_server: str) -> None:
    queue_endpoint_results(moto_server, (json.dumps(endpoint_answer(6)), "application/json"))
    predictions = FakePredictions()
    services, app = build(endpoint_settings, predictions=predictions)
    assert services.forecasts.backend == "endpoint"
    with TestClient(app) as client:
        response = client.get("/forecast", params={"hours": 6})
    assert response.status_code == 200
    body = response.json()
    assert body["served_by"] == f"endpoint:{ENDPOINT}" and body["model_version"] == "v20240601T020000-3fa2c1"
    assert [p["p50_mw"] for p in body["points"]] == [25_000.0 + h for h in range(6)]
    assert predictions.logged[0]["served_by"] == f"endpoint:{ENDPOINT}"
    assert services.forecasts.stats["endpoint_calls"] == 1


def test_an_endpoint_answer_that_is_not_a_forecast_is_a_502(
    endpoint_settings: Settings, moto_server: str
) -> None:
    # Nothing queued: moto answers its fixed placeholder ("body", "content_type").
    _, app = build(endpoint_settings)
    with TestClient(app) as client:
        response = client.get("/forecast", params={"hours": 3})
    assert response.status_code == 502
    assert "not JSON" in response.json()["detail"]
    queue_endpoint_results(moto_server, (json.dumps(endpoint_answer(2)), "application/json"))
    with TestClient(app) as client:
        short = client.get("/forecast", params={"hours": 4})
    assert short.status_code == 502 and "2 points for 4 hours" in short.json()["detail"]


def client_error(code: str, message: str, status: int = 400, **extra: Any) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, **extra}, "InvokeEndpoint")


def test_the_endpoint_gets_the_serving_contract_request(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        lake_root=tmp_path / "lake",
        api_forecast_backend="endpoint",
        forecast_endpoint=ENDPOINT,
        api_refresh_s=60,
    )
    runtime = RecordingRuntime(endpoint_answer(48))
    _, app = build(settings, endpoint_client=runtime)
    with TestClient(app) as client:
        first = client.get("/forecast", params={"days": 2})
        second = client.get("/forecast", params={"days": 2})
    assert first.status_code == second.status_code == 200 and first.json() == second.json()
    assert len(runtime.requests) == 1  # the answer is kept for API_REFRESH_S
    request = runtime.requests[0]
    assert request["EndpointName"] == ENDPOINT
    assert request["ContentType"] == "application/json" and request["Accept"] == "application/json"
    assert json.loads(request["Body"]) == {"horizon_hours": 48}


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [
        (
            client_error("ModelError", "Received client error (400)", OriginalStatusCode=400),
            502,
            "model failed",
        ),
        (client_error("ValidationError", "Endpoint datalake-demand-forecast not found."), 503, "not found"),
        (client_error("ThrottlingException", "Rate exceeded"), 503, "Rate exceeded"),
    ],
)
def test_endpoint_errors_become_502_or_503(
    tmp_path: Path, error: ClientError, status: int, words: str
) -> None:
    settings = Settings(
        _env_file=None,
        lake_root=tmp_path / "lake",
        api_forecast_backend="endpoint",
        forecast_endpoint=ENDPOINT,
    )
    _, app = build(settings, endpoint_client=RecordingRuntime(error))
    with TestClient(app) as client:
        response = client.get("/forecast")
    assert response.status_code == status and words in response.json()["detail"]


def test_health_reports_the_endpoint_status(endpoint_settings: Settings) -> None:
    sagemaker = boto3.client(
        "sagemaker", endpoint_url=endpoint_settings.aws_endpoint_url, region_name=endpoint_settings.aws_region
    )
    _, app = build(endpoint_settings)
    with TestClient(app) as client:
        missing = client.get("/health/details").json()["readiness"]["checks"]["model"]
        assert missing["ok"] is False and ENDPOINT in missing["error"]
        role = "arn:aws:iam::123456789012:role/datalake-sagemaker"
        sagemaker.create_model(
            ModelName="forecaster",
            ExecutionRoleArn=role,
            PrimaryContainer={
                "Image": "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.6-cpu-py312"
            },
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName="forecaster-config",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "forecaster",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
        )
        sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="forecaster-config")
        found = client.get("/health/details").json()["readiness"]["checks"]["model"]
    assert found["ok"] is True and found["status"] == "InService" and found["endpoint"] == ENDPOINT


@pytest.fixture
def secret_arn(moto_settings: Settings) -> Iterator[str]:
    client = boto3.client(
        "secretsmanager", endpoint_url=moto_settings.aws_endpoint_url, region_name=moto_settings.aws_region
    )
    arn = client.create_secret(
        Name="datalake/api-key", SecretString=json.dumps({"api_key": "k-from-secrets"})
    )["ARN"]
    yield arn


def test_api_key_from_secrets_manager(moto_settings: Settings, secret_arn: str) -> None:
    settings = moto_settings.model_copy(update={"api_key_secret_arn": secret_arn, "api_key": None})
    _, app = build(settings)
    with TestClient(app) as client:
        assert client.get("/ask", params={"q": "demanda"}).status_code == 401
        assert (
            client.get("/ask", params={"q": "demanda"}, headers={"X-API-Key": "k-from-secrets"}).status_code
            == 200
        )
        assert client.get("/health/live").status_code == 200


def test_an_unreadable_key_secret_fails_closed(moto_settings: Settings) -> None:
    missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:datalake/none-AbCdEf"
    settings = moto_settings.model_copy(update={"api_key_secret_arn": missing})
    _, app = build(settings)
    with TestClient(app) as client:
        response = client.get("/ask", params={"q": "demanda"}, headers={"X-API-Key": "anything"})
    assert response.status_code == 503 and "API key secret" in response.json()["detail"]


def test_an_endpoint_answer_with_bad_fields_is_a_502(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        lake_root=tmp_path / "lake",
        api_forecast_backend="endpoint",
        forecast_endpoint=ENDPOINT,
    )
    answer = endpoint_answer(24)
    answer["points"][5]["p50_mw"] = "lots"
    _, app = build(settings, endpoint_client=RecordingRuntime(answer))
    with TestClient(app) as client:
        response = client.get("/forecast")
    assert response.status_code == 502 and "points.5.p50_mw" in response.json()["detail"]


# -- /predict on the movie-success endpoint ---------------------------------------------------------

MOVIE_ENDPOINT = "datalake-movie-success"
FILM = {"title": "Luz de invierno", "budget_usd": 4e7, "genres": ["Acción"], "release_date": "2027-07-16"}


def movie_answer(*titles: str, probability: float = 0.42) -> dict[str, Any]:
    return {
        "predictions": [
            {
                "title": title,
                "release_date": "2027-07-16",
                "success_probability": probability,
                "success": probability >= 0.21,
                "threshold": 0.21,
                "model_version": "v20261205T072226-a689fd",
                "factors": [{"factor": "budget", "effect": -0.06, "direction": "against success"}],
            }
            for title in titles
        ]
    }


def movie_app(settings: Settings, runtime: Any = None) -> tuple[Services, Any]:
    services, app = build(settings)
    services.movies = MovieSuccessService(settings, None, endpoint_client=runtime)
    return services, app


def test_predict_comes_from_the_movie_endpoint_through_moto(
    moto_settings: Settings, moto_server: str
) -> None:
    # The aws runtime with MOVIE_SUCCESS_ENDPOINT set: "auto" picks the endpoint.
    settings = moto_settings.model_copy(update={"movie_success_endpoint": MOVIE_ENDPOINT})
    assert settings.api_predict_backend == "auto"
    queue_endpoint_results(moto_server, (json.dumps(movie_answer("Luz de invierno")), "application/json"))
    services, app = movie_app(settings)
    assert services.movies is not None and services.movies.backend == "endpoint"
    with TestClient(app) as client:
        served = client.post("/predict", json=FILM)
        # moto answers a body it has seen with the same result, and a new body with its
        # fixed placeholder once the queue is empty: that is not a prediction.
        again = client.post("/predict", json=FILM)
        placeholder = client.post("/predict", json={**FILM, "title": "Otra"})
    assert served.status_code == 200, served.text
    assert served.json()["success_probability"] == 0.42 and served.json()["model_version"].startswith("v2026")
    assert again.json() == served.json()
    assert placeholder.status_code == 502 and "movie-success endpoint" in placeholder.json()["detail"]


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [
        (movie_answer("Luz de invierno", "Otra"), 502, "2 predictions for 1 films"),
        ({"predictions": "none"}, 502, "no predictions for 1 films"),
        (movie_answer("Luz de invierno", probability=1.7), 502, "predictions.0.success_probability"),
        (movie_answer("Another Film"), 502, "for 'Another Film'"),
        (
            client_error("ModelError", "Received client error (400)", OriginalStatusCode=400),
            502,
            "model failed",
        ),
        (client_error("ValidationError", "Endpoint datalake-movie-success not found."), 503, "not found"),
    ],
)
def test_a_bad_or_failed_movie_endpoint_is_a_502_or_503(
    tmp_path: Path, answer: Any, status: int, words: str
) -> None:
    settings = Settings(
        _env_file=None,
        lake_root=tmp_path / "lake",
        api_predict_backend="endpoint",
        movie_success_endpoint=MOVIE_ENDPOINT,
    )
    _, app = movie_app(settings, RecordingRuntime(answer))
    with TestClient(app) as client:
        response = client.post("/predict", json=FILM)
    assert response.status_code == status and words in response.json()["detail"], response.text


def test_no_movie_endpoint_configured_is_a_503_naming_the_setting(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, lake_root=tmp_path / "lake", api_predict_backend="endpoint")
    _, app = movie_app(settings, RecordingRuntime())
    with TestClient(app) as client:
        response = client.post("/predict", json=FILM)
    assert response.status_code == 503 and "MOVIE_SUCCESS_ENDPOINT" in response.text


def test_health_details_report_the_movie_endpoint_without_holding_up_readiness(
    moto_settings: Settings,
) -> None:
    settings = moto_settings.model_copy(
        update={"movie_success_endpoint": MOVIE_ENDPOINT, "db_connect_timeout_s": 1}
    )
    _, app = movie_app(settings)
    with TestClient(app) as client:
        checks = client.get("/health/details").json()["readiness"]["checks"]
    movie = checks["movie_success"]
    assert movie["ok"] is False and MOVIE_ENDPOINT in movie["error"]
    assert "movie_success" not in health.REQUIRED
