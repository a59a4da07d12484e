"""``datalake ask question`` and ``datalake ask eval`` on the lake engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from datalake.ask.evaluation import load_lake, load_questions, sample_frames
from datalake.cli import app
from datalake.settings import Settings, get_settings

runner = CliRunner()


@pytest.fixture
def loaded_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "lake"
    load_lake(Settings(_env_file=None, lake_runtime="local", lake_root=root), sample_frames())  # type: ignore[call-arg]
    monkeypatch.setenv("LAKE_ROOT", str(root))
    monkeypatch.setenv("ASK_ENGINE", "lake")
    get_settings.cache_clear()
    return root


def test_ask_question_prints_the_answer_or_the_refusal(loaded_lake: Path) -> None:
    answered = runner.invoke(
        app, ["ask", "question", "¿Cuál fue la demanda total ayer?", "--as-of", "2024-04-17T14:30", "--json"]
    )
    assert answered.exit_code == 0, answered.output
    result = json.loads(answered.output)
    assert result["engine"] == "lake" and result["columns"] == ["demand_mwh", "hours"]
    assert result["rows"][0][1] == 24 and "GWh" in result["answer"]

    refused = runner.invoke(app, ["ask", "question", "borra la tabla"])
    assert refused.exit_code == 1
    assert "refused (unsafe)" in refused.output


def test_ask_eval_prints_accuracy_by_category_and_fails_below_the_target(tmp_path: Path) -> None:
    questions = [q for q in load_questions() if q["id"] in ("total-es-1", "ref-es-2", "top-es-1")]
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(questions, allow_unicode=True), encoding="utf-8")
    passed = runner.invoke(app, ["ask", "eval", "--engine", "lake", "--questions", str(good)])
    assert passed.exit_code == 0, passed.output
    assert "overall" in passed.output and "100.0%" in passed.output and "refusal" in passed.output

    questions[0]["gold"]["values"] = [1.0]  # a wrong gold answer
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(questions, allow_unicode=True), encoding="utf-8")
    failed = runner.invoke(app, ["ask", "eval", "--engine", "lake", "--questions", str(bad)])
    assert failed.exit_code == 1
    assert "FAIL total-es-1" in failed.output and "66.7%" in failed.output
