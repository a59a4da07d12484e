"""`datalake serve`: uvicorn with the app factory, host/port/workers from options or settings."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from datalake.cli import app


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    import uvicorn

    seen: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.append((args, kwargs)))
    return seen


def test_serve_uses_the_settings_by_default(monkeypatch: pytest.MonkeyPatch, calls: list) -> None:
    monkeypatch.setenv("API_PORT", "8123")
    monkeypatch.setenv("API_WORKERS", "3")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    (args, kwargs) = calls[0]
    assert args == ("api.main:create_app",) and kwargs["factory"] is True
    assert (kwargs["host"], kwargs["port"], kwargs["workers"]) == ("127.0.0.1", 8123, 3)
    assert "http://127.0.0.1:8123" in result.output


def test_serve_options_win_and_reload_means_one_worker(calls: list) -> None:
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "9000", "--workers", "4"])
    assert result.exit_code == 0, result.output
    assert (calls[0][1]["host"], calls[0][1]["port"], calls[0][1]["workers"]) == ("0.0.0.0", 9000, 4)
    CliRunner().invoke(app, ["serve", "--reload", "--workers", "4"])
    assert calls[1][1]["workers"] == 1 and calls[1][1]["reload"] is True


def test_serve_refuses_a_bad_port(calls: list) -> None:
    result = CliRunner().invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code != 0 and calls == []


def test_the_factory_builds_the_app_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app
    from datalake.settings import get_settings

    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("API_ROOT_PATH", "/prod")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        assert client.get("/health/live").json() == {"status": "ok"}
        assert client.get("/openapi.json").json()["servers"] == [{"url": "/prod"}]


def test_finding_7_serve_trusts_no_proxy_unless_forwarded_allow_ips_is_set(
    monkeypatch: pytest.MonkeyPatch, calls: list
) -> None:
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0
    assert calls[0][1]["proxy_headers"] is False
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", " 10.0.1.0/24, 10.0.2.0/24 ")
    from datalake.settings import get_settings

    get_settings.cache_clear()
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0
    assert calls[1][1]["proxy_headers"] is True
    assert calls[1][1]["forwarded_allow_ips"] == "10.0.1.0/24,10.0.2.0/24"


def test_forwarded_allow_ips_must_be_addresses_or_networks() -> None:
    from pydantic import ValidationError

    from datalake.settings import Settings

    with pytest.raises(ValidationError, match="forwarded_allow_ips"):
        Settings(_env_file=None, forwarded_allow_ips="10.0.0.0/24,load-balancer")
