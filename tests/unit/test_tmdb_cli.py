"""`datalake ingest tmdb` and `tmdb-changes` on the SAMPLE TMDB: progress, a summary line, resumable runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from datalake.cli import app
from datalake.runs import list_runs
from datalake.settings import get_settings
from datalake.sources.tmdb_raw import MOVIE_RAW_PREFIX
from datalake.sources.tmdb_sample import catalogue
from datalake.storage.local import LocalObjectStore


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalObjectStore:
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("TMDB_CHUNK_SIZE", "40")
    get_settings.cache_clear()
    return LocalObjectStore(tmp_path / "lake")


def test_ingest_tmdb_sample_is_capped_by_limit_and_resumes(lake: LocalObjectStore) -> None:
    runner = CliRunner()
    args = ["ingest", "tmdb", "--sample", "--limit", "100", "--export-date", "2026-12-04"]
    first = runner.invoke(app, args, terminal_width=200)
    assert first.exit_code == 0, first.output
    total = len(catalogue().export_ids)
    assert f"100 of {total} ids done, {total - 100} left (run it again to resume)" in first.output
    assert first.output.count("tmdb backfill 2026-12-04: ") >= 3  # progress: the export, then each chunk
    second = runner.invoke(app, [*args[:-4], "--export-date", "2026-12-04"], terminal_width=200)
    assert second.exit_code == 0, second.output
    assert f"{total} of {total} ids done" in second.output and "left" not in second.output.splitlines()[-1]
    lines = [line for key in lake.list_keys(MOVIE_RAW_PREFIX) for line in lake.get_bytes(key).splitlines()]
    assert len(lines) == total
    newest, oldest = list_runs(lake, "ingest_tmdb_backfill_sample")
    assert (oldest.rows_in, newest.rows_in) == (100, total - 100)
    assert oldest.balanced and newest.balanced and newest.details["done"]


def test_ingest_tmdb_changes_sample_prints_its_window(lake: LocalObjectStore) -> None:
    result = CliRunner().invoke(app, ["ingest", "tmdb-changes", "--sample"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "page 1/" in result.output and " changed, " in result.output and "gone) in " in result.output
    [run] = list_runs(lake, "ingest_tmdb_daily_sample")
    assert run.balanced and run.rows_in == run.details["changed"] > 0


def test_the_help_names_both_commands_and_their_options() -> None:
    runner = CliRunner()
    ingest = runner.invoke(app, ["ingest", "--help"], terminal_width=200).output
    assert "tmdb " in ingest and "tmdb-changes" in ingest
    tmdb = runner.invoke(app, ["ingest", "tmdb", "--help"], terminal_width=200).output
    assert all(option in tmdb for option in ("--limit", "--sample", "--export-date"))
