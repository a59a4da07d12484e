"""`datalake ui`: streamlit run on the app, on localhost, pointed at the API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from datalake.cli import app
from ui.launch import APP, streamlit_command, streamlit_environment


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def call(command: list[str], env: dict[str, str]) -> int:
        seen.append({"command": command, "env": env})
        return 0

    monkeypatch.setattr(subprocess, "call", call)
    return seen


def test_ui_runs_streamlit_on_localhost_over_the_settings_api(
    monkeypatch: pytest.MonkeyPatch, started: list[dict[str, Any]]
) -> None:
    monkeypatch.delenv("API_BASE_URL", raising=False)
    monkeypatch.setenv("API_PORT", "8123")
    from datalake.settings import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["ui"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    (run,) = started
    command = run["command"]
    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(APP)]
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.port") + 1] == "8501"
    assert run["env"]["API_BASE_URL"] == "http://127.0.0.1:8123"
    assert "http://127.0.0.1:8501" in result.output


def test_ui_options_win(monkeypatch: pytest.MonkeyPatch, started: list[dict[str, Any]]) -> None:
    monkeypatch.setenv("API_BASE_URL", "http://env-api:1")
    result = CliRunner().invoke(app, ["ui", "--port", "9001", "--api-url", "http://api.example:8000"])
    assert result.exit_code == 0, result.output
    assert started[0]["env"]["API_BASE_URL"] == "http://api.example:8000"
    assert started[0]["command"][started[0]["command"].index("--server.port") + 1] == "9001"
    assert CliRunner().invoke(app, ["ui", "--port", "70000"]).exit_code != 0


def test_the_environment_makes_the_repository_importable_and_keeps_the_key() -> None:
    env = streamlit_environment("http://127.0.0.1:8000", {"API_KEY": "k", "PYTHONPATH": "/elsewhere"})
    repo = str(Path(APP).parents[1])
    assert env["PYTHONPATH"].split(":") == [repo, "/elsewhere"]
    assert env["API_KEY"] == "k" and env["API_BASE_URL"] == "http://127.0.0.1:8000"
    assert "--server.headless" in streamlit_command("127.0.0.1", 8501)


def test_a_key_from_the_settings_reaches_the_app_unless_the_environment_has_one() -> None:
    assert streamlit_environment("http://a", {}, api_key="from-dotenv")["API_KEY"] == "from-dotenv"
    assert streamlit_environment("http://a", {"API_KEY": "env"}, api_key="from-dotenv")["API_KEY"] == "env"
    assert "API_KEY" not in streamlit_environment("http://a", {}, api_key=None)
