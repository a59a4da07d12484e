"""/ask before any electricity data is published: a refusal that says what to run, never a 500."""

from __future__ import annotations

from pathlib import Path

import pytest

from datalake.ask import AskRefusal, ask
from datalake.settings import Settings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("question", "language", "words"),
    [
        ("Generation by technology last month", "en", "no electricity data in the lake yet"),
        ("What was the peak demand yesterday?", "en", "datalake transform ree"),
        ("¿Cuál fue la demanda máxima ayer?", "es", "Todavía no hay datos de electricidad"),
    ],
)
def test_an_electricity_question_on_an_empty_lake_is_refused_as_no_data(
    tmp_path: Path, question: str, language: str, words: str
) -> None:
    settings = Settings(_env_file=None, lake_runtime="local", lake_root=tmp_path / "lake", ask_engine="lake")
    with pytest.raises(AskRefusal) as caught:
        ask(question, settings=settings)
    assert caught.value.kind == "no_data"
    assert caught.value.language == language
    assert words in caught.value.reason
