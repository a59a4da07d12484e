"""`datalake ingest tmdb-csv`: the Kaggle TMDB 5000 files (movies, credits) land unchanged; others refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datalake.cli import app
from datalake.errors import DataValidationError
from datalake.runs import list_runs
from datalake.settings import get_settings
from datalake.sources.tmdb_kaggle import (
    CREDITS_FILE,
    KAGGLE_COLUMNS,
    MOVIES_FILE,
    check_kaggle_header,
    kaggle_file_kind,
    land_kaggle_file,
)
from datalake.storage.local import LocalObjectStore

# The shared data beside the checkout (../shared/data): a missing file fails, it is never skipped.
KAGGLE_FILE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tmdb" / "tmdb_5000_movies.csv"
HEADER = (
    "budget,genres,homepage,id,keywords,original_language,original_title,overview,popularity,"
    "production_companies,production_countries,release_date,revenue,runtime,spoken_languages,"
    "status,tagline,title,vote_average,vote_count"
)
ROW = (
    '237000000,"[{""id"": 28, ""name"": ""Action""}]",http://x,19995,'
    '"[{""id"": 1463, ""name"": ""culture clash""}]",'
    'en,Avatar,"A marine, on Pandora.",150.437577,"[{""name"": ""Ingenious Film Partners"", ""id"": 289}]",'
    "[],2009-12-10,2787965087,162,[],Released,Enter the World of Pandora.,Avatar,7.2,11800"
)
CREDITS_HEADER = "movie_id,title,cast,crew"
CREDITS_ROW = (
    '19995,Avatar,"[{""cast_id"": 242, ""character"": ""Jake Sully"", '
    '""credit_id"": ""5602a8a7c3a3685532001c9a"", '
    '""gender"": 2, ""id"": 65731, ""name"": ""Sam Worthington"", ""order"": 0}]",'
    '"[{""credit_id"": ""52fe48009251416c750aca23"", ""department"": ""Directing"", ""gender"": 2, '
    '""id"": 2710, ""job"": ""Director"", ""name"": ""James Cameron""}]"'
)


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalObjectStore:
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    get_settings.cache_clear()
    return LocalObjectStore(tmp_path / "lake")


def test_the_kaggle_header_is_accepted_and_a_missing_column_is_named() -> None:
    assert check_kaggle_header(HEADER + "\n" + ROW, "movies.csv")[:3] == ["budget", "genres", "homepage"]
    assert set(KAGGLE_COLUMNS) <= set(HEADER.split(","))
    with pytest.raises(DataValidationError, match=r"movies\.csv .* no 'keywords' column") as error:
        check_kaggle_header(HEADER.replace("keywords,", "") + "\n", "movies.csv")
    assert error.value.field == "keywords"


def test_a_file_lands_byte_for_byte_under_its_landing_day(lake: LocalObjectStore, tmp_path: Path) -> None:
    small = tmp_path / "tmdb_5000_movies.csv"
    small.write_bytes((HEADER + "\r\n" + ROW + "\r\n").encode())
    at = dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))  # 01:30 UTC on the 5th
    landed = land_kaggle_file(lake, small, at)
    assert landed.key == "raw/tmdb/kaggle/year=2026/month=12/day=05/tmdb_5000_movies.csv"
    assert lake.get_bytes(landed.key) == small.read_bytes() and landed.size_bytes == small.stat().st_size
    # The same file landed again the same day writes the same key.
    assert land_kaggle_file(lake, small, at).key == landed.key
    assert lake.list_keys("raw") == [landed.key]


def test_cli_refuses_another_csv_naming_the_column_and_lands_nothing(
    lake: LocalObjectStore, tmp_path: Path
) -> None:
    other = tmp_path / "prices.csv"
    other.write_text("date,price\n2026-01-01,3.5\n")
    result = CliRunner().invoke(app, ["ingest", "tmdb-csv", str(other)])
    assert result.exit_code != 0
    assert isinstance(result.exception, DataValidationError)
    assert "prices.csv is not a Kaggle TMDB 5000 file" in str(result.exception)
    assert result.exception.field == "id"
    # A credits file without its crew column is named as a credits file missing 'crew'.
    credits = tmp_path / "tmdb_5000_credits.csv"
    credits.write_text("movie_id,title,cast\n19995,Avatar,[]\n")
    result = CliRunner().invoke(app, ["ingest", "tmdb-csv", str(credits)])
    assert result.exit_code != 0 and result.exception.field == "crew"
    assert "the credits file has movie_id, cast, crew" in str(result.exception)
    assert lake.list_keys("raw") == []


def test_the_credits_file_is_told_by_its_header_and_lands_beside_the_movies(
    lake: LocalObjectStore, tmp_path: Path
) -> None:
    assert kaggle_file_kind(HEADER.split(",")) == MOVIES_FILE
    assert kaggle_file_kind(CREDITS_HEADER.split(",")) == CREDITS_FILE
    assert kaggle_file_kind(["movie_id", "cast"]) is None
    movies, credits = tmp_path / "tmdb_5000_movies.csv", tmp_path / "tmdb_5000_credits.csv"
    movies.write_text(HEADER + "\n" + ROW + "\n")
    credits.write_text(CREDITS_HEADER + "\n" + CREDITS_ROW + "\n")
    result = CliRunner().invoke(app, ["ingest", "tmdb-csv", str(movies), str(credits)])
    assert result.exit_code == 0, result.output
    keys = lake.list_keys("raw/tmdb/kaggle")
    assert sorted(Path(k).name for k in keys) == ["tmdb_5000_credits.csv", "tmdb_5000_movies.csv"]
    assert len({Path(k).parent for k in keys}) == 1  # one landing day: one partition
    [credits_key] = [k for k in keys if k.endswith("credits.csv")]
    assert lake.get_bytes(credits_key) == credits.read_bytes()


def test_cli_lands_the_real_kaggle_file_unchanged(lake: LocalObjectStore) -> None:
    result = CliRunner().invoke(app, ["ingest", "tmdb-csv", str(KAGGLE_FILE)])
    assert result.exit_code == 0, result.output
    [key] = lake.list_keys("raw/tmdb/kaggle")
    assert key.endswith("/tmdb_5000_movies.csv")
    assert lake.get_bytes(key) == KAGGLE_FILE.read_bytes()
    [run] = list_runs(lake, "ingest_tmdb_csv")
    assert run.status == "succeeded" and run.details["bytes_landed"] == KAGGLE_FILE.stat().st_size
