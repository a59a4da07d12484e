"""POST /predict through FastAPI's TestClient: one film, lists, 422s naming the field, 503 without a
model, and the endpoint backend against the real SageMaker inference handler."""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_fixtures import fake_services
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient
from movie_fixtures import synthetic_tables

from api.main import create_app
from api.services.movies import MovieSuccessService
from datalake.errors import ObjectNotFoundError
from datalake.movies.evaluation import YearSplit, fit_model
from datalake.movies.model import MovieSuccessModel
from datalake.settings import Settings

pytestmark = pytest.mark.slow  # the module trains a small model first (about 15 s)

FILM = {
    "title": "Luz de invierno",
    "budget_usd": 60_000_000,
    "runtime_min": 118,
    "genres": ["Acción", "Animación"],
    "original_language": "es",
    "release_date": "2027-07-16",
    "production_companies": ["Studio 1"],
    "director": "Director 3",
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> MovieSuccessModel:
    model, _ = fit_model(synthetic_tables(), YearSplit(2006, 2010))
    model.version = "v-movies-test"
    return model


def _client(tmp_path: Path, load) -> TestClient:  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, lake_root=tmp_path / "lake", db_connect_timeout_s=1)
    services = fake_services(settings, tmp_path)
    services.movies = MovieSuccessService(settings, None, load_champion=load)
    return TestClient(create_app(settings, services))


@pytest.fixture
def client(tmp_path: Path, trained: MovieSuccessModel) -> Iterator[TestClient]:
    with _client(tmp_path, lambda _dest: trained) as test_client:
        yield test_client


def test_one_film_in_spanish_genres_gets_probability_verdict_threshold_version_and_factors(
    client: TestClient, trained: MovieSuccessModel
) -> None:
    response = client.post("/predict", json=FILM)
    assert response.status_code == 200, response.text
    body = response.json()
    assert 0 <= body["success_probability"] <= 1
    assert body["success"] == (body["success_probability"] >= body["threshold"])
    assert body["threshold"] == round(trained.threshold, 4) and body["model_version"] == "v-movies-test"
    assert isinstance(body["factors"], list) and len(body["factors"]) <= 3
    # Studio 1 succeeds in the synthetic history: its track record pushes towards success.
    studio_film = client.post("/predict/movie-success", json=FILM).json()
    other = client.post("/predict", json={**FILM, "production_companies": ["Studio 3"]}).json()
    assert studio_film["success_probability"] > other["success_probability"]


def test_a_list_and_the_movies_form_answer_each_film_in_order(client: TestClient) -> None:
    films = [
        FILM,
        {**FILM, "title": "Otra", "genres": ["Drama"]},
        {**FILM, "title": "Tercera", "genres": ["Horror"]},
    ]
    for body in (films, {"movies": films}):
        response = client.post("/predict", json=body)
        assert response.status_code == 200, response.text
        assert [p["title"] for p in response.json()["predictions"]] == ["Luz de invierno", "Otra", "Tercera"]


def test_unknown_genre_is_422_listing_the_known_ones(client: TestClient) -> None:
    response = client.post("/predict", json={**FILM, "genres": ["Acción", "Telenovela"]})
    assert response.status_code == 422
    text = response.text
    assert "genres" in text and "Telenovela" in text and "Science Fiction (Ciencia ficción)" in text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"budget_usd": -5}, "budget_usd"),
        ({"release_date": "next summer"}, "release_date"),
        ({"title": ""}, "title"),
        ({"revenue_usd": 1e9}, "revenue_usd"),
    ],
)
def test_bad_fields_are_422_naming_the_field(client: TestClient, change: dict, field: str) -> None:
    response = client.post("/predict", json={**FILM, **change})
    assert response.status_code == 422
    assert field in response.text


def test_more_than_a_thousand_films_is_422(client: TestClient) -> None:
    response = client.post("/predict", json=[FILM] * 1001)
    assert response.status_code == 422


def test_no_model_trained_yet_is_503_saying_how_to_train(tmp_path: Path) -> None:
    def missing(_dest: Path) -> MovieSuccessModel:
        raise ObjectNotFoundError(
            "no movie_success model trained yet: run `datalake train movie-success` first"
        )

    with _client(tmp_path, missing) as test_client:
        response = test_client.post("/predict", json=FILM)
    assert response.status_code == 503
    assert "datalake train movie-success" in response.json()["detail"]


def test_a_thousand_films_fit_the_predict_body_limit(client: TestClient) -> None:
    films = [{**FILM, "title": f"Film {n}", "keywords": ["sequel", "based on novel"]} for n in range(1000)]
    response = client.post("/predict", json=films)
    assert response.status_code == 200, response.text[:300]
    assert len(response.json()["predictions"]) == 1000


class HandlerRuntime:
    """A sagemaker-runtime client whose endpoint is the movie model's real inference handler.

    It runs ``sagemaker/movie_success_inference.py`` as the inference toolkit does (``input_fn``,
    ``predict_fn``, ``output_fn`` on the request's body and headers), so the API's request and
    the handler's answer meet the same contract as on SageMaker. A handler error becomes the
    ``ModelError`` SageMaker raises, with the container's status.
    """

    def __init__(self, model: MovieSuccessModel) -> None:
        path = Path(__file__).resolve().parents[2] / "sagemaker" / "movie_success_inference.py"
        spec = importlib.util.spec_from_file_location("sm_movie_inference_for_api", path)
        assert spec and spec.loader
        self.handler = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.handler)
        self.model = model
        self.requests: list[dict[str, Any]] = []

    def invoke_endpoint(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        try:
            films = self.handler.input_fn(request["Body"], request["ContentType"])
            body, content_type = self.handler.output_fn(
                self.handler.predict_fn(films, self.model), request["Accept"]
            )
        except self.handler.InferenceError as error:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ModelError",
                        "Message": f"Received client error ({error.status_code})",
                    },
                    "OriginalStatusCode": error.status_code,
                    "OriginalMessage": error.message,
                },
                "InvokeEndpoint",
            ) from None
        return {"Body": io.BytesIO(body.encode()), "ContentType": content_type}


def test_the_endpoint_backend_serves_what_the_in_process_model_serves(
    tmp_path: Path, trained: MovieSuccessModel
) -> None:
    films = [FILM, {**FILM, "title": "Otra", "genres": ["Drama"], "keywords": ["sequel"]}]
    with _client(tmp_path, lambda _dest: trained) as local:
        expected = local.post("/predict", json=films).json()
    settings = Settings(
        _env_file=None,
        lake_root=tmp_path / "lake",
        api_predict_backend="endpoint",
        movie_success_endpoint="datalake-movie-success",
    )
    runtime = HandlerRuntime(trained)
    services = fake_services(settings, tmp_path)

    def no_model(_dest: Path) -> MovieSuccessModel:
        raise AssertionError("the endpoint backend must not load the model in-process")

    services.movies = MovieSuccessService(settings, None, load_champion=no_model, endpoint_client=runtime)
    assert services.movies.backend == "endpoint"
    with TestClient(create_app(settings, services)) as client:
        one = client.post("/predict", json=films[0])
        several = client.post("/predict", json=films)
        unknown = client.post("/predict", json={**FILM, "genres": ["Telenovela"]})
    assert one.status_code == several.status_code == 200, several.text
    assert several.json() == expected and one.json() == expected["predictions"][0]
    assert len(runtime.requests) == 2  # the 422 is the API's own: it never reached the endpoint
    assert unknown.status_code == 422 and "Telenovela" in unknown.text
    request = runtime.requests[1]
    assert request["EndpointName"] == "datalake-movie-success"
    assert [film["title"] for film in json.loads(request["Body"])["movies"]] == ["Luz de invierno", "Otra"]
