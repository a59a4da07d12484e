"""The movie classifier's SageMaker scripts, run locally as the container runs them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from movie_fixtures import synthetic_tables, write_kaggle_credits, write_kaggle_csv

from datalake.errors import DataValidationError
from datalake.movies.tables import read_kaggle_csv

REPO = Path(__file__).resolve().parents[2]
FILM = {
    "title": "Nueva",
    "budget_usd": 2e7,
    "runtime_min": 100,
    "genres": ["Comedia"],
    "release_date": "2027-03-05",
}


def load_script(name: str, path: Path | None = None) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"sm_movies_{name}", path or REPO / "sagemaker" / f"{name}.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_kaggle_csv_round_trip_keeps_films_and_bridges(tmp_path: Path) -> None:
    tables = synthetic_tables(films=60)
    read = read_kaggle_csv(write_kaggle_csv(tables, tmp_path / "movies.csv"))
    assert len(read.movies) == 60 and len(read.genres) == len(tables.genres)
    assert read.people.empty and (read.movies["source"] == "kaggle").all()


def test_a_credits_csv_in_the_channel_is_told_apart_by_its_header_and_read(tmp_path: Path) -> None:
    train = load_script("movie_success_train")
    tables = synthetic_tables(films=60)
    channel = tmp_path / "train"
    channel.mkdir()
    movies = write_kaggle_csv(tables, channel / "tmdb_5000_movies.csv")
    # "tmdb_5000_credits.csv" sorts before the movies file: the header, not the name, tells them apart.
    credits = write_kaggle_credits(
        tables.movies["movie_id"].to_numpy()[:50], channel / "tmdb_5000_credits.csv"
    )
    assert train.channel_files(channel) == (movies, credits)
    assert train.csv_file(channel) == movies
    assert train.channel_files(movies) == (movies, credits)  # a file channel: its sibling
    read = read_kaggle_csv(*train.channel_files(channel))
    assert read.people.loc[read.people["role"] == "director", "movie_id"].nunique() == 50
    credits.unlink()
    assert train.channel_files(channel) == (movies, None)


def test_hyperparameters_are_years_and_unknown_ones_refused() -> None:
    train = load_script("movie_success_train")
    assert train.hyperparameters(["--train-end", "2012"], {"SM_HPS": '{"validation_start": "2008"}'}) == {
        "train_end": 2012,
        "validation_start": 2008,
    }
    with pytest.raises(DataValidationError, match="epochs: unknown hyperparameter"):
        train.hyperparameters(["--epochs", "3"], {})
    with pytest.raises(DataValidationError, match="train_end: 'soon' is not a year"):
        train.hyperparameters(["--train_end", "soon"], {})


@pytest.mark.slow  # trains a model (about 20 s)
def test_train_writes_a_servable_model_dir_and_the_handlers_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = tmp_path / "input" / "data" / "train"
    channel.mkdir(parents=True)
    write_kaggle_csv(synthetic_tables(), channel / "tmdb_movies.csv")
    model_dir, output_dir = tmp_path / "model", tmp_path / "output"
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(channel))
    monkeypatch.setenv("SM_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("SM_OUTPUT_DATA_DIR", str(output_dir))
    monkeypatch.setenv("SM_HPS", json.dumps({"validation_start": "2006"}))
    report = load_script("movie_success_train").main(["--train_end", "2010"])
    files = {p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()}
    assert {"model.joblib", "metrics.json", "code/inference.py", "code/datalake/movies/serving.py"} <= files
    saved = json.loads((output_dir / "evaluation.json").read_text())
    assert saved["test"]["model"]["roc_auc"] == report["test"]["model"]["roc_auc"] > 0.7

    # The packaged inference.py is the movie handler, and it serves from the model directory.
    inference = load_script("inference_packaged", model_dir / "code" / "inference.py")
    model = inference.model_fn(str(model_dir))
    films = inference.input_fn(json.dumps([FILM, {**FILM, "title": "Otra"}]).encode(), "application/json")
    body, content_type = inference.output_fn(inference.predict_fn(films, model), "application/json")
    answers = json.loads(body)["predictions"]
    assert content_type == "application/json" and [a["title"] for a in answers] == ["Nueva", "Otra"]
    assert all(0 <= a["success_probability"] <= 1 for a in answers)
    with pytest.raises(inference.InferenceError) as refused:
        inference.input_fn(json.dumps({**FILM, "genres": ["Telenovela"]}), "application/json")
    assert refused.value.status_code == 400 and refused.value.field == "movies[0].genres[0]"
    with pytest.raises(inference.InferenceError) as wrong_type:
        inference.input_fn("x", "text/csv")
    assert wrong_type.value.status_code == 415


@pytest.mark.slow  # trains twice (about 30 s)
def test_cli_trains_on_a_kaggle_csv_and_keeps_the_champion_on_a_tie(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from datalake.cli import app
    from datalake.settings import get_settings

    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    csv = write_kaggle_csv(synthetic_tables(first_year=1996, last_year=2015), tmp_path / "movies.csv")
    runner = CliRunner()
    first = runner.invoke(app, ["train", "movie-success", "--input", str(csv)])
    assert first.exit_code == 0, first.output
    assert "PROMOTED (first model" in first.output and "logistic_baseline" in first.output
    second = runner.invoke(app, ["train", "movie-success", "--input", str(csv)])
    assert second.exit_code == 0, second.output
    assert "not promoted" in second.output and "champion v" in second.output
    both = runner.invoke(app, ["train", "movie-success", "--input", str(csv), "--table", "movies"])
    assert both.exit_code != 0 and "not both" in both.output
